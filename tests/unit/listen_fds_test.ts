import process from "node:process";
import { assertEquals, assertThrows } from "../support/assert.ts";
import { ListenFdsError, passedSockets } from "../../src/systemd/listen_fds.ts";

Deno.test("no LISTEN_FDS means no passed sockets", () => {
  assertEquals(passedSockets({}, 42), []);
});

Deno.test("LISTEN_FDS sockets start at fd 3 and take their LISTEN_FDNAMES", () => {
  assertEquals(passedSockets({ LISTEN_FDS: "1", LISTEN_PID: "42" }, 42), [{
    fd: 3,
    name: "unknown",
  }]);
  assertEquals(
    passedSockets({ LISTEN_FDS: "2", LISTEN_PID: "42", LISTEN_FDNAMES: "ssh4:ssh6" }, 42),
    [{ fd: 3, name: "ssh4" }, { fd: 4, name: "ssh6" }],
  );
});

Deno.test("a socket unit's name with a colon in it (an address instance) names its one socket", () => {
  const env = {
    LISTEN_FDS: "1",
    LISTEN_PID: "42",
    LISTEN_FDNAMES: "tarpyt-ssh@127.0.0.1:22.socket",
  };
  assertEquals(passedSockets(env, 42), [{ fd: 3, name: "tarpyt-ssh@127.0.0.1:22.socket" }]);
  const mismatch = { LISTEN_FDS: "2", LISTEN_PID: "42", LISTEN_FDNAMES: "a:b:c" };
  assertEquals(passedSockets(mismatch, 42).map((s) => s.name), ["unknown", "unknown"]);
});

Deno.test("LISTEN_* variables that do not fit are errors that say what to do", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { LISTEN_FDS: "0", LISTEN_PID: "42" },
      /^LISTEN_FDS="0" is not a count of sockets; start tarpyt from/,
    ],
    [{ LISTEN_FDS: "two", LISTEN_PID: "42" }, /^LISTEN_FDS="two" is not a count/],
    [{ LISTEN_FDS: "1" }, /^LISTEN_FDS is set but LISTEN_PID="" is not a pid/],
    [{ LISTEN_FDS: "1", LISTEN_PID: "x" }, /LISTEN_PID="x" is not a pid/],
    [
      { LISTEN_FDS: "1", LISTEN_PID: "41" },
      /^the sockets in LISTEN_FDS are for pid 41, not this process \(pid 42\)/,
    ],
  ];
  for (const [env, pattern] of cases) {
    assertThrows(() => passedSockets(env, 42), ListenFdsError, pattern);
  }
});

Deno.test("LISTEN_FDNAMES is read in linear time: eight times the names take about eight times as long", () => {
  // CPU time, not wall time: a busy machine takes the CPU away from a test, not adds to it.
  const timeOf = (count: number): number => {
    const names = Array.from({ length: count }, (_, i) => `s${i}`).join(":");
    const before = process.cpuUsage();
    const sockets = passedSockets({
      LISTEN_FDS: String(count),
      LISTEN_PID: "42",
      LISTEN_FDNAMES: names,
    }, 42);
    const { user, system } = process.cpuUsage(before);
    assertEquals(sockets.at(-1), { fd: 3 + count - 1, name: `s${count - 1}` });
    return (user + system) / 1000;
  };
  // Interleaved, and the fastest of each kept: whatever the process does meanwhile (the
  // JIT, a collection) touches both alike.
  let small = Infinity, large = Infinity;
  for (let run = 0; run < 15; run++) {
    small = Math.min(small, timeOf(3_000));
    large = Math.min(large, timeOf(24_000));
  }
  // Linear grows 8x, quadratic 64x: between the two, with room for a busy machine.
  if (large / small > 32) throw new Error(`${small} ms for 3,000 names, ${large} ms for 24,000`);
});
