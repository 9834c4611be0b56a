/**
 * Bad input at start: one clear line naming the problem and what to do, a non-zero
 * exit, and never a stack trace.
 */
import { assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { compiledBinary, listening, peer, tarpytArgv } from "../support/tarpyt.ts";
import { freePort } from "../support/net.ts";
import { programEnv, RunningProcess } from "../support/process.ts";
import { runtimeFlags, version } from "../../src/runtime/flags.ts";
import { protocols } from "../../protocols/mod.ts";
import { needing } from "../support/tools.ts";

async function run(process: RunningProcess): Promise<{ code: number; output: string }> {
  await using p = process;
  const { code } = await p.exited();
  return { code, output: p.output };
}

function assertOneLine(output: string, pattern: RegExp): void {
  assertMatch(output, /^tarpyt: [^\n]+\n$/, "exactly one line");
  assertMatch(output, pattern);
  assertNotMatch(output, /\n\s+at |error: Uncaught|panicked/);
}

Deno.test("a bad flag is one line naming it, exit 2", async () => {
  const { code, output } = await run(new RunningProcess(tarpytArgv(["--delay", "10"])));
  assertEquals(code, 2);
  assertOneLine(output, /--delay: "10" is not a duration; write it like 500ms, 10s or 2m/);
});

Deno.test("a value with a newline is one line too, its control characters escaped", async () => {
  const { code, output } = await run(
    new RunningProcess(tarpytArgv([]), {
      ...programEnv,
      TARPYT_DELAY: "10s\n2026-11-24T16:25:29.394Z ACCEPT host=192.0.2.1 port=1 fd=1 n=1/1",
    }),
  );
  assertEquals(code, 2);
  assertOneLine(output, /^tarpyt: TARPYT_DELAY: "10s\\x0a2026-11-24T16:25:29\.394Z ACCEPT host=/);
});

Deno.test("no socket and no --listen is one line saying how to start, exit 2", async () => {
  const { code, output } = await run(new RunningProcess(tarpytArgv([])));
  assertEquals(code, 2);
  assertOneLine(output, /no socket to serve: .*systemd .socket unit .* --listen HOST:PORT/);
});

Deno.test("LISTEN_FDS that is not a count is refused, exit 1", async () => {
  const { code, output } = await run(
    new RunningProcess(tarpytArgv([]), { ...programEnv, LISTEN_FDS: "three", LISTEN_PID: "1" }),
  );
  assertEquals(code, 1);
  assertOneLine(output, /LISTEN_FDS="three" is not a count of sockets/);
});

Deno.test(needing(["python3"], {
  name: "sockets passed for another pid are refused, exit 1",
  fn: async () => {
    const { code, output } = await run(peer("passfd", "socket", "1", "--", ...tarpytArgv([])));
    assertEquals(code, 1);
    assertOneLine(output, /the sockets in LISTEN_FDS are for pid \d+, not this process/);
  },
}));

for (
  const [kind, why] of [
    ["file", /passed fd 3 \(unknown\) is not a stream socket that can listen/],
    ["udp", /passed fd 3 \(unknown\) is not a stream socket that can listen/],
    ["pipe", /passed fd 3 \(unknown\) is not a socket/],
    ["unix", /passed fd 3 \(unknown\) is a unix socket; the tarpit serves TCP/],
  ] as const
) {
  Deno.test(needing(["python3"], {
    name: `fd 3 being a ${kind} is one line saying so, exit 1`,
    fn: async () => {
      const { code, output } = await run(peer("passfd", kind, "0", "--", ...tarpytArgv([])));
      assertEquals(code, 1);
      assertOneLine(output, why);
    },
  }));
}

Deno.test("a --listen address in use is one line, exit 1", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = taken.addr as Deno.NetAddr;
    const { code, output } = await run(
      new RunningProcess(tarpytArgv(["--listen", `127.0.0.1:${port}`])),
    );
    assertEquals(code, 1);
    assertOneLine(output, new RegExp(`--listen 127\\.0\\.0\\.1:${port}: cannot listen: .*in use`));
  } finally {
    taken.close();
  }
});

Deno.test("an address no interface has is one line, exit 1", async () => {
  const { code, output } = await run(
    new RunningProcess(tarpytArgv(["--listen", "192.0.2.1:2222"])),
  );
  assertEquals(code, 1);
  assertOneLine(output, /--listen 192\.0\.2\.1:2222: cannot listen: no interface has that address/);
});

Deno.test(needing(["root"], {
  name: "a port below 1024 without the privilege is one line pointing at the socket unit, exit 1",
  fn: async () => {
    // In a user namespace of its own, root has no privilege over the host's network.
    const { code, output } = await run(
      new RunningProcess(["unshare", "--user", ...tarpytArgv(["--listen", "127.0.0.1:80"])]),
    );
    assertEquals(code, 1);
    assertOneLine(
      output,
      /--listen 127\.0\.0\.1:80: cannot listen: ports below 1024 need privileges; let systemd bind them/,
    );
  },
}));

Deno.test(needing(["python3"], {
  name: "passed sockets all named metrics leave nothing to trap: one line, exit 2",
  fn: async () => {
    const { code, output } = await run(
      peer("activate", "--fdnames", "metrics", "127.0.0.1:0", "--", ...tarpytArgv([])),
    );
    assertEquals(code, 2);
    assertOneLine(
      output.replace(/^Listening on .*\n/m, ""),
      /no socket to serve: every passed socket is named metrics/,
    );
  },
}));

Deno.test("every protocol starts with --delay alone, below and above its default", async () => {
  const runs = [];
  for (const name of Object.keys(protocols)) {
    for (const delay of ["100ms", "20s"]) {
      runs.push((async () => {
        const [started] = await listening(["--protocol", name, "--delay", delay]);
        await using tarpyt = started;
        const [start] = await tarpyt.waitFor(/ START [^\n]*/);
        assertMatch(start, new RegExp(` protocol=${name} [^\\n]*delay=${delay} `));
      })());
    }
  }
  await Promise.all(runs);
});

Deno.test("--version prints the version, the Deno version and the runtime flags", async () => {
  const { code, output } = await run(new RunningProcess(tarpytArgv(["--version"])));
  assertEquals(code, 0);
  const [first, deno, flags] = output.trimEnd().split("\n");
  assertEquals(first, `tarpyt ${version}`);
  const compiled = compiledBinary() ? ", compiled" : "";
  assertMatch(deno, new RegExp(`^deno 2\\.9\\.6 \\(v8 [^,]+, ${Deno.build.target}${compiled}\\)$`));
  assertEquals(flags, `flags ${runtimeFlags.join(" ")}`);
});

Deno.test({
  name: "run without V8's --expose-gc, it says which flag is missing in one line, exit 70",
  // A compiled binary has its flags built in; the test removes the flag from deno run's.
  ignore: Deno.env.has("TARPYT_BIN"),
  fn: async () => {
    const argv = tarpytArgv(["--listen", `127.0.0.1:${freePort()}`])
      .map((word) => word.replace(",--expose-gc", ""));
    const { code, output } = await run(new RunningProcess(argv));
    assertEquals(code, 70);
    assertOneLine(output, /V8's gc\(\) is missing: run TarPyt with --v8-flags=--expose-gc/);
  },
});
