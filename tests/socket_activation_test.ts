/**
 * The real program, started as systemd starts it (systemd-socket-activate passes the
 * listening socket as fd 3), driven by real clients that must be left stuck: connected,
 * receiving legal lines, no error, still waiting when the test ends.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  peer,
  programEnv,
  readConnFor,
  readFor,
  RunningProcess,
  socketActivated,
  sshArgv,
  tarpytArgv,
} from "./harness.ts";

const fast = ["--delay", "100ms"];

Deno.test("ssh -v reads pre-banner lines and is still waiting for the version string", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [
    "--protocol",
    "ssh",
    ...fast,
  ]);
  const [{ port }] = tarpyt.addresses;
  await using ssh = new RunningProcess(sshArgv("127.0.0.1", port));
  const banners = await ssh.waitFor(/banner line \d+: [^\n]*/, { times: 8 });
  assertEquals(ssh.status, undefined, "ssh must still be waiting");
  assertMatch(banners[0], /banner line 0: /);
  assert(banners.every((line) => !/banner line \d+: SSH-/.test(line)), banners.join("\n"));
  assert(!/invalid characters|Connection closed|banner exchange/.test(ssh.output), ssh.output);
  await tarpyt.waitFor(/ACCEPT host=127\.0\.0\.1 port=\d+ fd=1 n=1\/4096/);
});

Deno.test("curl -v gets 200 OK and header after header, still waiting for the body", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [
    "--protocol",
    "http",
    ...fast,
  ]);
  const [{ port }] = tarpyt.addresses;
  await using curl = new RunningProcess([
    "curl",
    "-sv",
    "--no-buffer",
    `http://127.0.0.1:${port}/wp-login.php`,
  ]);
  await curl.waitFor(/< HTTP\/1\.1 200 OK/);
  const fields = await curl.waitFor(/< X-[A-Za-z0-9]+: [A-Za-z0-9]+/, { times: 8 });
  assertEquals(fields.length >= 8, true);
  assertEquals(curl.status, undefined, "curl must still be waiting");
});

Deno.test("Python smtplib reads 220- greeting lines and is still waiting", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], [
    "--protocol",
    "smtp",
    ...fast,
  ]);
  const [{ port }] = tarpyt.addresses;
  await using smtp = peer("held", "smtp", "127.0.0.1", String(port), "2");
  await smtp.waitFor(/STILL WAITING|ENDED.*/);
  assertMatch(smtp.output, /STILL WAITING/);
  const replies = smtp.output.match(/reply: b'220-[^']*\\r\\n'/g) ?? [];
  assert(replies.length >= 8, `only ${replies.length} 220- lines:\n${smtp.output}`);
  assert(!/reply: b'220 /.test(smtp.output), "the greeting must never end");
});

Deno.test("an IPv6 socket is served like an IPv4 one", async () => {
  await using tarpyt = await socketActivated(["::1"], fast);
  const [address] = tarpyt.addresses;
  const { text, closed } = await readFor(address, 800);
  assertEquals(closed, false);
  assert(text.split("\r\n").length >= 5, JSON.stringify(text));
  await tarpyt.waitFor(/ACCEPT host=::1 port=\d+/);
});

Deno.test("one process serves two passed sockets, named by LISTEN_FDNAMES", async () => {
  await using tarpyt = await socketActivated(
    ["127.0.0.1", "::1"],
    ["--protocol", "smtp", ...fast],
    { fdNames: ["smtp4", "smtp6"] },
  );
  const addresses = tarpyt.addresses;
  const [v4, v6] = await Promise.all(addresses.map((address) => readFor(address, 800)));
  for (const { text } of [v4, v6]) assertMatch(text, /^(220-[\x20-\x7e]+\r\n){4,}/);
  await tarpyt.waitFor(/LISTEN fd=3 name=smtp4 address=127\.0\.0\.1:\d+/);
  await tarpyt.waitFor(/LISTEN fd=4 name=smtp6 address=\[::1\]:\d+/);
});

Deno.test("--listen binds its own sockets when systemd passes none", async () => {
  await using tarpyt = new RunningProcess(
    tarpytArgv(["--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--protocol", "smtp", ...fast]),
  );
  const listens = await tarpyt.waitFor(/LISTEN from=--listen address=\S+/, { times: 2 });
  for (const line of listens) {
    const [, host, port] = /address=\[?([^\]]+?)\]?:(\d+)$/.exec(line)!;
    const { text } = await readFor({ hostname: host, port: Number(port) }, 500);
    assertMatch(text, /^220-/);
  }
});

Deno.test("TARPYT_ variables configure the program as flags do", async () => {
  await using tarpyt = new RunningProcess(tarpytArgv([]), {
    ...programEnv,
    TARPYT_PROTOCOL: "http",
    TARPYT_DELAY: "100ms",
    TARPYT_LISTEN: "127.0.0.1:0",
  });
  const [line] = await tarpyt.waitFor(/LISTEN from=--listen address=127\.0\.0\.1:\d+/);
  const port = Number(line.split(":").at(-1));
  const { text } = await readFor({ hostname: "127.0.0.1", port }, 500);
  assertMatch(text, /^HTTP\/1\.1 200 OK\r\nX-/);
  assertMatch(tarpyt.output, /START version=\S+ protocol=http delay=100ms/);
});

Deno.test("ACCEPT and CLOSE lines keep endlessh's format, with the bytes the client got", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], fast);
  const [address] = tarpyt.addresses;
  const conn = await Deno.connect(address);
  const { text } = await readConnFor(conn, 700);
  const clientPort = (conn.localAddr as Deno.NetAddr).port;
  conn.close();
  const [close] = await tarpyt.waitFor(/CLOSE host=\S+ port=\d+ fd=\d+ time=\d+\.\d{3} bytes=\d+/);
  const timestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /m;
  assertMatch(
    tarpyt.output,
    new RegExp(
      `${timestamp.source}ACCEPT host=127\\.0\\.0\\.1 port=${clientPort} fd=1 n=1/4096$`,
      "m",
    ),
  );
  const bytes = Number(/bytes=(\d+)/.exec(close)![1]);
  // A line may arrive after the client's last read, and the server learns of the close
  // from a failed write, so up to two more lines (32 bytes each at most) may count.
  assert(
    bytes >= text.length && bytes <= text.length + 2 * 32,
    `bytes=${bytes}, client got ${text.length}`,
  );
  assertMatch(close, new RegExp(`port=${clientPort} fd=1 time=0\\.[6-9]|time=1\\.`));
});

Deno.test("a new client hears its first line within a second, then one line a delay", async () => {
  // Bound by the program itself, so that its startup does not count.
  await using tarpyt = new RunningProcess(tarpytArgv(["--listen", "127.0.0.1:0", "--delay", "2s"]));
  const [listen] = await tarpyt.waitFor(/address=127\.0\.0\.1:\d+/);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(listen.split(":")[1]) });
  const connectedAt = performance.now();
  const giveUp = setTimeout(() => conn.close(), 10_000);
  const arrivals: number[] = [];
  try {
    const buffer = new Uint8Array(1_024);
    while (arrivals.length < 2 && await conn.read(buffer) !== null) {
      arrivals.push(Math.round(performance.now() - connectedAt));
    }
  } finally {
    clearTimeout(giveUp);
    conn.close();
  }
  const [first, second] = arrivals;
  assert(first >= 950 && first < 1_500, `first line after ${first} ms`);
  assert(second - first >= 1_950 && second - first < 2_500, `lines at ${arrivals} ms`);
});

Deno.test("SIGTERM closes every client, logs the totals and exits 0", async () => {
  await using tarpyt = await socketActivated(["127.0.0.1"], fast);
  const [address] = tarpyt.addresses;
  const conns = await Promise.all([1, 2, 3].map(() => Deno.connect(address)));
  await tarpyt.waitFor(/ACCEPT .* n=3\/4096/);
  const status = await tarpyt.stop("SIGTERM");
  assertEquals(status.code, 0);
  assertEquals(tarpyt.output.match(/ CLOSE host=127\.0\.0\.1 /g)?.length, 3);
  assertMatch(tarpyt.output, /TOTALS connects=3 seconds=\d+\.\d{3} bytes=\d+\n$/);
  for (const conn of conns) {
    const { closed } = await readConnFor(conn, 1_000);
    assert(closed, "the client must see the connection closed");
    conn.close();
  }
});
