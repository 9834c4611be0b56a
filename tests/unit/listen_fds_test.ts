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

Deno.test("LISTEN_FDNAMES is read in linear time: eight times the names take about as long as eight reads", () => {
  const env = (count: number) => ({
    LISTEN_FDS: String(count),
    LISTEN_PID: "42",
    LISTEN_FDNAMES: Array.from({ length: count }, (_, i) => `s${i}`).join(":"),
  });
  const [few, many] = [env(3_000), env(24_000)];
  assertEquals(passedSockets(many, 42).at(-1), { fd: 3 + 24_000 - 1, name: "s23999" });
  // CPU time, not wall time: a busy machine takes the CPU away from a test, not adds to it.
  const cpuOf = (work: () => void): number => {
    const before = process.cpuUsage();
    work();
    const { user, system } = process.cpuUsage(before);
    return (user + system) / 1000;
  };
  // The same names read as eight lists of 3,000 and as one of 24,000, every result kept
  // alive in both: the runtime's collector, which copies what is alive, then costs both
  // alike (with the units' small young generation it made the one large list cost three
  // times eight small ones). Interleaved, and the fastest of each kept.
  let small = Infinity, large = Infinity;
  for (let run = 0; run < 15; run++) {
    const kept: unknown[] = [];
    small = Math.min(
      small,
      cpuOf(() => {
        for (let i = 0; i < 8; i++) kept.push(passedSockets(few, 42));
      }),
    );
    large = Math.min(large, cpuOf(() => kept.push(passedSockets(many, 42))));
  }
  // Linear takes as long, quadratic 8x: between the two, with room for a busy machine.
  if (large / small > 4) throw new Error(`${small} ms for 8 x 3,000 names, ${large} ms for 24,000`);
});
