/**
 * Misbehaving clients against the real program: each costs bounded memory and CPU and
 * never stops the tarpit from serving everyone else.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  cpuSeconds,
  peer,
  procFile,
  readConnFor,
  readFor,
  rssBytes,
  RunningProcess,
  socketActivated,
  tarpytArgv,
} from "./harness.ts";

const fast = ["--delay", "100ms"];
const mib = 1024 * 1024;

/** Bytes the process has read through read(2) and friends, from /proc/PID/io. */
async function bytesRead(pid: number): Promise<number> {
  return Number(/rchar: (\d+)/.exec(await procFile(pid, "io"))![1]);
}

Deno.test("a client flooding 100 MB is back-pressured by the kernel: nothing read, no growth", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], fast);
  const [address] = tarpyt.addresses;
  await readFor(address, 300); // starts the program
  const pid = tarpyt.child.pid;
  const rssBefore = await rssBytes(pid);
  const readBefore = await bytesRead(pid);
  await using flood = peer("flood", "127.0.0.1", String(address.port), "100", "3");
  const [sent] = await flood.waitFor(/sent \d+/);
  const sentBytes = Number(sent.split(" ")[1]);
  const readBytes = await bytesRead(pid) - readBefore;
  const growth = await rssBytes(pid) - rssBefore;
  assert(sentBytes > 1 * mib, `the kernel should have taken some data first (${sentBytes})`);
  assert(
    sentBytes < 100 * mib,
    `the flood should have been stopped by back-pressure (${sentBytes})`,
  );
  assert(readBytes < 64 * 1024, `the server read ${readBytes} bytes of ${sentBytes}`);
  assert(growth < 4 * mib, `RSS grew by ${growth} bytes`);
  const { text } = await readFor(address, 400);
  assertMatch(text, /\r\n/, "other clients are still served");
});

/**
 * The tarpit on a listening socket made like a .socket unit's, with `SendBuffer=` (0: the
 * default) and `Backlog=` (peers.py activate), and the port it got.
 */
async function activated(
  sendBuffer: string,
  backlog: string,
  args: string[],
): Promise<{ tarpyt: RunningProcess; port: string }> {
  const tarpyt = peer("activate", sendBuffer, backlog, "127.0.0.1", "0", "--", ...tarpytArgv(args));
  const [listening] = await tarpyt.waitFor(/Listening on 127\.0\.0\.1:\d+/);
  return { tarpyt, port: listening.split(":")[1] };
}

Deno.test("a client that never reads makes the server hold at most one line for it", async () => {
  // Like a .socket unit with SendBuffer=4096: the kernel holds little, so without the
  // one-pending-write bound the server would queue about 25 KB/s in user space.
  const { tarpyt: started, port } = await activated("4096", "128", [
    "--delay",
    "10ms",
    "--max-line-length",
    "255",
  ]);
  await using tarpyt = started;
  await using client = peer("noread", "127.0.0.1", port, "4096");
  await client.waitFor(/connected/);
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  await tarpyt.stop("SIGTERM");
  const bytes = Number(/CLOSE .* bytes=(\d+)/.exec(tarpyt.output)?.[1]);
  // Unbounded: ~400 lines x ~128 bytes = ~50 KB. Bounded: kernel buffers (a few KB
  // each way, doubled by the kernel) plus one line.
  assert(bytes < 24 * 1024, `the server queued ${bytes} bytes for a client that never reads`);
  assert(bytes > 2 * 1024, `the kernel buffers should have filled first (${bytes})`);
});

Deno.test("200 clients resetting at once are all released and the tarpit keeps serving", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [...fast, "--max-per-ip", "200"]);
  const [address] = tarpyt.addresses;
  await using resets = peer("reset", "127.0.0.1", String(address.port), "200", "1.5");
  await tarpyt.waitFor(/ACCEPT .* n=200\/4096/);
  await resets.waitFor(/reset 200/);
  await tarpyt.waitFor(/ CLOSE host=/, { times: 200 });
  const { text, closed } = await readFor(address, 500);
  assertEquals(closed, false);
  assertMatch(text, /\r\n/);
  await tarpyt.waitFor(/ACCEPT .* n=1\/4096/);
});

Deno.test("past --max-clients new clients wait in the backlog, then are served as others leave", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [
    ...fast,
    "--max-clients",
    "2",
  ]);
  const [address] = tarpyt.addresses;
  const conns = [];
  for (let i = 0; i < 4; i++) conns.push(await Deno.connect(address));
  try {
    const first = await Promise.all(conns.map((conn) => readConnFor(conn, 700)));
    assertEquals(first.map(({ text }) => text.length > 0), [true, true, false, false]);
    assertEquals(first.map(({ closed }) => closed), [false, false, false, false]);
    assertEquals(tarpyt.output.match(/ ACCEPT /g)?.length, 2);
    assertMatch(tarpyt.output, /FULL n=2\/2/);

    conns[0].close();
    const [second, third, fourth] = await Promise.all(
      conns.slice(1).map((conn) => readConnFor(conn, 700)),
    );
    assert(second.text.length > 0, "client 2 is still served");
    assert(third.text.length > 0, "client 3 took the free slot");
    assertEquals([fourth.text, fourth.closed], ["", false], "client 4 still waits");
    await tarpyt.waitFor(/ACCEPT .* fd=3 n=2\/2/);
    assertEquals(tarpyt.output.match(/ ACCEPT /g)?.length, 3);
    // Full twice within 10 s: reported once, so churn cannot flood the log.
    assertEquals(tarpyt.output.match(/ FULL /g)?.length, 1, tarpyt.output);
  } finally {
    for (const conn of conns.slice(1)) conn.close();
  }
});

Deno.test("a tarpit full long enough for its kernel backlog to overflow accepts again as clients leave", async () => {
  // The kernel backlog (8) fills behind a full tarpit; new SYNs are then dropped and
  // retried by the clients' kernels. Deno stops polling a listener that was refused, so
  // without re-arming it the tarpit would serve the 40 slots freed below never again.
  const { tarpyt: started, port } = await activated("0", "8", [
    ...fast,
    "--max-clients",
    "40",
    "--max-per-ip",
    "1000",
  ]);
  await using tarpyt = started;
  await using first = peer("reset", "127.0.0.1", port, "40", "2");
  await tarpyt.waitFor(/ACCEPT .* n=40\/40/);
  await using swarm = peer("swarm", "127.0.0.1", port, "120");
  await swarm.waitFor(/started 120/);
  await first.waitFor(/reset 40/);
  await tarpyt.waitFor(/ CLOSE /, { times: 40 });
  // 40 more must get in: the ones the runtime had taken, the kernel backlog, then
  // retried SYNs (1 s and 3 s after the first).
  await tarpyt.waitFor(/ ACCEPT /, { times: 80, timeoutMs: 12_000 });
  await tarpyt.waitFor(/ACCEPT .* n=40\/40/, { times: 2 });
});

Deno.test("more clients than open files: the tarpit waits quietly, says so once, and takes clients again as others leave", async () => {
  const argv = tarpytArgv(["--listen", "127.0.0.1:0", "--delay", "200ms", "--max-per-ip", "99"]);
  await using tarpyt = new RunningProcess([
    "bash",
    "-c",
    'ulimit -n 64 && exec "$@"',
    "-",
    ...argv,
  ]);
  const [line] = await tarpyt.waitFor(/address=127\.0\.0\.1:\d+/);
  const address = { hostname: "127.0.0.1", port: Number(line.split(":").at(-1)) };
  const conns = [];
  for (let i = 0; i < 60; i++) conns.push(await Deno.connect(address));
  try {
    await tarpyt.waitFor(/ FILE_LIMIT /);
    const first = await Promise.all(conns.map((conn) => readConnFor(conn, 1_000)));
    const held = first.filter(({ text }) => text.length > 0).length;
    assert(held >= 20 && held < 60, `${held} of 60 clients held under ulimit -n 64`);
    assertEquals(first.filter(({ closed }) => closed).length, 0, "nobody is turned away");
    const cpuBefore = await cpuSeconds(tarpyt.child.pid);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const cpu = await cpuSeconds(tarpyt.child.pid) - cpuBefore;
    assert(cpu < 0.5, `out of files, the tarpit used ${cpu} s of CPU in 2 s: it must not spin`);

    const served = conns.filter((_, i) => first[i].text.length > 0);
    for (const conn of served.slice(0, 10)) conn.close();
    await tarpyt.waitFor(/ ACCEPT /, { times: held + 10 });
    assertEquals(tarpyt.output.match(/ FILE_LIMIT /g)?.length, 1, "reported once per 10 s");
    assertEquals(tarpyt.output.match(/ (FULL|ACCEPT_FAILED) /g), null, tarpyt.output);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // closed above
      }
    }
  }
});

Deno.test("--max-lifetime closes a client held that long", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [
    ...fast,
    "--max-lifetime",
    "350ms",
  ]);
  const [address] = tarpyt.addresses;
  const { text, closed } = await readFor(address, 2_000);
  assertEquals(closed, true);
  assert(text.split("\r\n").length >= 3, JSON.stringify(text));
  await tarpyt.waitFor(/CLOSE .* time=0\.[3-6]\d\d /);
});

Deno.test("the tarpit keeps running when a client vanishes mid-line", async () => {
  await using tarpyt = new RunningProcess(tarpytArgv(["--listen", "127.0.0.1:0", ...fast]));
  const [line] = await tarpyt.waitFor(/address=127\.0\.0\.1:\d+/);
  const address = { hostname: "127.0.0.1", port: Number(line.split(":").at(-1)) };
  for (let i = 0; i < 20; i++) (await Deno.connect(address)).close();
  await tarpyt.waitFor(/ CLOSE /, { times: 20 });
  assertMatch((await readFor(address, 400)).text, /\r\n/);
});

Deno.test("--max-per-ip: an address past its limit is closed at once, and other addresses still get in", async () => {
  await using tarpyt = await socketActivated(["::"], [...fast, "--max-per-ip", "2"]);
  const { port } = tarpyt.addresses[0];
  const v4 = await Promise.all([1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port })));
  const v6 = await Deno.connect({ hostname: "::1", port });
  try {
    const outcomes = await Promise.all([...v4, v6].map((conn) => readConnFor(conn, 800)));
    const closed = outcomes.map((o) => o.closed);
    assertEquals(closed.filter(Boolean).length, 1, "one of the three IPv4 clients is refused");
    const refused = outcomes.find((o) => o.closed);
    assertEquals(refused?.text, "", "a refused client gets nothing");
    assertEquals(closed[3], false, "::1 is another address and is held");
    assert(outcomes.filter((o) => !o.closed).every((o) => o.text.length > 0));
    assertEquals((tarpyt.output.match(/ACCEPT host=::ffff:127\.0\.0\.1 /g) ?? []).length, 2);
  } finally {
    for (const conn of [...v4, v6]) conn.close();
  }
});

Deno.test("a client that half-closes (sends FIN, keeps reading) is still held and served", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], fast);
  const conn = await Deno.connect(tarpyt.addresses[0]);
  try {
    await conn.closeWrite();
    const { text, closed } = await readConnFor(conn, 800);
    assert(
      text.split("\r\n").length > 3,
      `lines keep coming after our FIN: ${JSON.stringify(text)}`,
    );
    assertEquals(closed, false);
    assertEquals(tarpyt.output.match(/ CLOSE /g), null);
  } finally {
    conn.close();
  }
});

Deno.test("a client that resets while waiting to be accepted is closed at once and takes no slot", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [
    ...fast,
    "--max-clients",
    "1",
    "--log-level",
    "debug",
  ]);
  const [address] = tarpyt.addresses;
  const first = await Deno.connect(address);
  await tarpyt.waitFor(/ACCEPT .* n=1\/1/);
  // A connect scan (nmap -sT) resets as soon as its handshake completes; this one waits
  // behind the full tarpit while it does.
  await using scan = peer("reset", "127.0.0.1", String(address.port), "1", "0.3");
  await scan.waitFor(/reset 1/);
  first.close();
  await tarpyt.waitFor(/ GONE/);
  const next = await Deno.connect(address);
  try {
    const { text, closed } = await readConnFor(next, 500);
    assert(text.length > 0 && !closed, "the slot the reset client would have held is free");
    assertEquals(tarpyt.output.match(/ ACCEPT /g)?.length, 2, tarpyt.output);
    assertEquals(tarpyt.output.match(/ GONE/g)?.length, 1, tarpyt.output);
  } finally {
    next.close();
  }
});

Deno.test("a client that resets after it was accepted holds its slot until its first line, a second, not a delay", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [
    "--delay",
    "60s",
    "--max-clients",
    "1",
  ]);
  const [address] = tarpyt.addresses;
  await using scan = peer("reset", "127.0.0.1", String(address.port), "1", "0.2");
  await tarpyt.waitFor(/ACCEPT .* n=1\/1/);
  await scan.waitFor(/reset 1/);
  // Only a write tells us a peer left: the first line, due after 1 s, fails.
  const [close] = await tarpyt.waitFor(/ CLOSE [^\n]*/, { timeoutMs: 10_000 });
  const seconds = Number(/time=(\S+)/.exec(close)?.[1]);
  assert(seconds >= 0.9 && seconds < 3, close);
  assertMatch(close, / bytes=0$/);
  const next = await Deno.connect(address);
  try {
    await tarpyt.waitFor(/ACCEPT [^\n]* n=1\/1/, { times: 2 });
  } finally {
    next.close();
  }
});
