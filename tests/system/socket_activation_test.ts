/**
 * The real program, started as systemd starts it (the listening sockets passed from fd 3
 * on), driven by real clients that must be left stuck: connected, receiving legal lines,
 * no error, still waiting when the test ends.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { connectReader, freePort, lines, receive } from "../support/net.ts";
import {
  dripping,
  peer,
  socketActivated,
  sshArgv,
  tarpytArgv,
  wholeLines,
} from "../support/tarpyt.ts";
import { programEnv, RunningProcess } from "../support/process.ts";
import { needing } from "../support/tools.ts";

const fast = wholeLines();

/** The port of the first `address=HOST:PORT` a --listen tarpit logs. */
async function listenedPort(tarpyt: RunningProcess): Promise<number> {
  const [line] = await tarpyt.waitFor(/address=\S+:\d+/);
  return Number(line.split(":").at(-1));
}

Deno.test(needing(["python3", "ssh"], {
  name: "ssh -v reads pre-banner lines and is still waiting for the version string",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], ["--protocol", "ssh", ...dripping()]);
    const [{ port }] = tarpyt.addresses;
    await using ssh = new RunningProcess(sshArgv("127.0.0.1", port));
    const banners = await ssh.waitFor(/banner line \d+: [^\n]*/, { times: 8 });
    assertEquals(ssh.status, undefined, "ssh must still be waiting");
    assertMatch(banners[0], /banner line 0: /);
    assert(banners.every((line) => !/banner line \d+: SSH-/.test(line)), banners.join("\n"));
    assert(!/invalid characters|Connection closed|banner exchange/.test(ssh.output), ssh.output);
    await tarpyt.waitFor(/ACCEPT host=127\.0\.0\.1 port=\d+ fd=1 n=1\/4096/);
  },
}));

Deno.test(needing(["python3", "curl"], {
  name: "curl -v gets 100 Continue and header after header, still waiting for a final status",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], [
      "--protocol",
      "http",
      ...dripping(),
      "--max-line-length",
      "32",
    ]);
    const [{ port }] = tarpyt.addresses;
    await using curl = new RunningProcess([
      "curl",
      "-sv",
      "--no-buffer",
      `http://127.0.0.1:${port}/wp-login.php`,
    ]);
    await curl.waitFor(/< HTTP\/1\.1 100 Continue/);
    await curl.waitFor(/< X-[A-Za-z0-9]+: [A-Za-z0-9]+/, { times: 8 });
    assertEquals(curl.status, undefined, "curl must still be waiting");
    assert(!/^< \r?$/m.test(curl.output), "the header section must never end");
  },
}));

Deno.test(needing(["python3"], {
  name: "Python smtplib reads 220- greeting lines and is still waiting",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], [
      "--protocol",
      "smtp",
      ...dripping(),
    ]);
    const [{ port }] = tarpyt.addresses;
    await using smtp = peer("held", "smtp", "127.0.0.1", String(port), "3600");
    await smtp.waitFor(/reply: b'220-[^']*\\r\\n'/, { times: 8 });
    assertEquals(smtp.status, undefined, "smtplib must still be waiting");
    assert(!/reply: b'220 /.test(smtp.output), "the greeting must never end");
  },
}));

Deno.test(needing(["python3"], {
  name: "an IPv6 socket is served like an IPv4 one",
  fn: async () => {
    await using tarpyt = await socketActivated(["::1"], fast);
    const reader = await receive(tarpyt.addresses[0], lines(5));
    assertEquals(reader.closed, false);
    await tarpyt.waitFor(/ACCEPT host=::1 port=\d+/);
  },
}));

Deno.test(needing(["python3"], {
  name: "an IPv4 client of a dual-stack socket is plain IPv4 in the log, as endlessh writes it",
  fn: async () => {
    await using tarpyt = await socketActivated(["::"], fast);
    const { port } = tarpyt.addresses[0];
    await receive({ hostname: "127.0.0.1", port }, lines(1));
    await tarpyt.waitFor(/ACCEPT host=127\.0\.0\.1 port=\d+ /);
    await tarpyt.waitFor(/CLOSE host=127\.0\.0\.1 port=\d+ /);
    assert(!tarpyt.output.includes("::ffff:"), tarpyt.output);
  },
}));

Deno.test(needing(["python3"], {
  name: "one process serves two passed sockets, named by LISTEN_FDNAMES",
  fn: async () => {
    await using tarpyt = await socketActivated(
      ["127.0.0.1", "::1"],
      ["--protocol", "smtp", ...fast],
      { fdNames: ["smtp4", "smtp6"] },
    );
    const readers = await Promise.all(
      tarpyt.addresses.map((address) => receive(address, lines(4))),
    );
    for (const { text } of readers) assertMatch(text, /^(220-[\x20-\x7e]+\r\n){4,}/);
    await tarpyt.waitFor(/LISTEN fd=3 name=smtp4 address=127\.0\.0\.1:\d+/);
    await tarpyt.waitFor(/LISTEN fd=4 name=smtp6 address=\[::1\]:\d+/);
  },
}));

Deno.test(needing(["systemd-socket-activate"], {
  name:
    "under systemd-socket-activate, the first connection starts the program and is served by it",
  fn: async () => {
    // The first connection waits in the socket's backlog while the program starts, as
    // systemd starts a service at its socket's first connection.
    const port = freePort();
    await using activator = new RunningProcess([
      "systemd-socket-activate",
      "-l",
      `127.0.0.1:${port}`,
      ...Object.entries(programEnv).map(([k, v]) => `-E${k}=${v}`),
      ...tarpytArgv(fast),
    ]);
    await activator.waitFor(/Listening on .* as 3\./);
    const reader = await receive({ hostname: "127.0.0.1", port }, lines(2));
    assertEquals(reader.closed, false);
    await activator.waitFor(/ACCEPT host=127\.0\.0\.1 port=\d+ fd=1 n=1\/4096/);
  },
}));

Deno.test("--listen binds its own sockets when systemd passes none", async () => {
  await using tarpyt = new RunningProcess(
    tarpytArgv(["--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--protocol", "smtp", ...fast]),
  );
  const listens = await tarpyt.waitFor(/LISTEN from=--listen address=\S+/, { times: 2 });
  for (const line of listens) {
    const [, host, port] = /address=\[?([^\]]+?)\]?:(\d+)$/.exec(line)!;
    const { text } = await receive({ hostname: host, port: Number(port) }, lines(1));
    assertMatch(text, /^220-/);
  }
});

Deno.test("TARPYT_ variables configure the program as flags do", async () => {
  await using tarpyt = new RunningProcess(tarpytArgv([]), {
    ...programEnv,
    TARPYT_PROTOCOL: "http",
    TARPYT_FIRST_DELAY: "100ms",
    TARPYT_DELAY: "100ms",
    TARPYT_JITTER: "0s",
    TARPYT_PIECE_SIZE: "0",
    TARPYT_LISTEN: "127.0.0.1:0",
  });
  const port = await listenedPort(tarpyt);
  const { text } = await receive({ hostname: "127.0.0.1", port }, lines(2));
  assertMatch(text, /^HTTP\/1\.1 100 Continue\r\nX-/);
  assertMatch(
    tarpyt.output,
    /START version=\S+ protocol=http pacing=fixed first-delay=100ms delay=100ms jitter=0s piece-size=0 /,
  );
});

Deno.test(needing(["python3"], {
  name: "ACCEPT and CLOSE lines keep endlessh's format, with the bytes the client got",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], fast);
    const [conn, reader] = await connectReader(tarpyt.addresses[0]);
    const connectedAt = performance.now();
    const clientPort = (conn.localAddr as Deno.NetAddr).port;
    // Held 1.5 s or more: fifteen lines, one every 100 ms.
    await reader.until(lines(15));
    conn.close();
    const heldSeconds = (performance.now() - connectedAt) / 1000;
    const [close] = await tarpyt.waitFor(
      /CLOSE host=\S+ port=\d+ fd=\d+ time=\d+\.\d{3} bytes=\d+/,
    );
    const timestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /m;
    assertMatch(
      tarpyt.output,
      new RegExp(
        `${timestamp.source}ACCEPT host=127\\.0\\.0\\.1 port=${clientPort} fd=1 n=1/4096$`,
        "m",
      ),
    );
    assertMatch(close, new RegExp(`^CLOSE host=127\\.0\\.0\\.1 port=${clientPort} fd=1 `));
    const bytes = Number(/bytes=(\d+)/.exec(close)![1]);
    // A line may arrive after the client's last read, and the server learns of the close
    // from a failed write, so up to two more lines (32 bytes each at most) may count.
    assert(
      bytes >= reader.text.length && bytes <= reader.text.length + 2 * 32,
      `bytes=${bytes}, client got ${reader.text.length}`,
    );
    // Trapped from its accept to the write that failed after the client left.
    const seconds = Number(/time=(\S+)/.exec(close)![1]);
    assert(
      seconds > heldSeconds - 0.5 && seconds < heldSeconds + 5,
      `${close}, held ${heldSeconds}`,
    );
  },
}));

Deno.test("a new client hears its first byte after the first delay, not after a delay", async () => {
  await using tarpyt = new RunningProcess(
    tarpytArgv([
      "--listen",
      "127.0.0.1:0",
      "--first-delay",
      "2s",
      "--delay",
      "60s",
      "--jitter",
      "0s",
    ]),
  );
  const [conn, reader] = await connectReader({
    hostname: "127.0.0.1",
    port: await listenedPort(tarpyt),
  });
  const connectedAt = performance.now();
  try {
    await reader.until((r) => r.text.length > 0, 30_000);
    const first = performance.now() - connectedAt;
    assert(first >= 1_950 && first < 30_000, `first byte after ${first} ms`);
    assertEquals(reader.text.length, 1, "one byte a tick");
  } finally {
    conn.close();
  }
});

Deno.test(needing(["python3"], {
  name: "SIGTERM closes every client, logs the totals and exits 0",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], fast);
    const clients = await Promise.all([1, 2, 3].map(() => connectReader(tarpyt.addresses[0])));
    await tarpyt.waitFor(/ACCEPT .* n=3\/4096/);
    const status = await tarpyt.stop("SIGTERM");
    assertEquals(status.code, 0);
    assertEquals(tarpyt.output.match(/ CLOSE host=127\.0\.0\.1 /g)?.length, 3);
    assertMatch(tarpyt.output, /TOTALS connects=3 seconds=\d+\.\d{3} bytes=\d+\n$/);
    for (const [conn, reader] of clients) {
      await reader.until(() => false);
      assert(reader.closed, "the client must see the connection closed");
      conn.close();
    }
  },
}));
