/**
 * Misbehaving clients against the real program: each costs bounded memory and CPU and
 * never stops the tarpit from serving everyone else.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { connect, connectReader, ConnReader, fetchText, lines, receive } from "../support/net.ts";
import { cpuSeconds, procFile, rssBytes, RunningProcess } from "../support/process.ts";
import { listening, peer, socketActivated, tarpytArgv, wholeLines } from "../support/tarpyt.ts";
import { parseExposition, sampleValue } from "../support/prometheus_text.ts";
import { needing } from "../support/tools.ts";

const fast = wholeLines();
const mib = 1024 * 1024;

/** Bytes the process has read through read(2) and friends, from /proc/PID/io. */
async function bytesRead(pid: number): Promise<number> {
  return Number(/rchar: (\d+)/.exec(await procFile(pid, "io"))![1]);
}

Deno.test(needing(["python3"], {
  name: "a client flooding 100 MB is back-pressured by the kernel: nothing read, no growth",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], fast);
    const [address] = tarpyt.addresses;
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
    await receive(address, lines(1)); // other clients are still served
  },
}));

Deno.test(needing(["python3"], {
  name: "clients that never read make the server hold at most one line each in user space",
  fn: async () => {
    // Like a .socket unit with SendBuffer=4096: the kernel takes little, so without the
    // one-pending-write bound every tick would queue another line in user space for each
    // of these clients. A client that reads counts the ticks; memory is judged once it
    // has had enough of them, however fast the machine is.
    await using tarpyt = await socketActivated(
      ["127.0.0.1"],
      [...wholeLines("10ms"), "--max-line-length", "255", "--max-per-ip", "200"],
      { sendBuffer: 4096 },
    );
    const [address] = tarpyt.addresses;
    const pid = tarpyt.child.pid;
    await using _stuck = peer("noread", "127.0.0.1", String(address.port), "4096", "150");
    await _stuck.waitFor(/connected 150/);
    await tarpyt.waitFor(/ACCEPT .* n=150\//);
    // Let the kernel buffers fill first: they are not ours to count.
    await receive(address, lines(50));
    const before = await rssBytes(pid, "RssAnon");
    await receive(address, lines(400));
    const growth = await rssBytes(pid, "RssAnon") - before;
    // Unbounded, 150 clients x 400 ticks of a WriteWrap and a line of 3 to 255 bytes is
    // 60,000 writes waiting: many times the bound.
    assert(growth < 8 * mib, `private memory grew by ${growth} bytes in 400 ticks`);
  },
}));

Deno.test(needing(["python3"], {
  name: "200 clients resetting at once are all released and the tarpit keeps serving",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], [...fast, "--max-per-ip", "200"]);
    const [address] = tarpyt.addresses;
    await using resets = peer("reset", "127.0.0.1", String(address.port), "200", "1.5");
    await tarpyt.waitFor(/ACCEPT .* n=200\/4096/);
    await resets.waitFor(/reset 200/);
    await tarpyt.waitFor(/ CLOSE host=/, { times: 200 });
    const afterResets = tarpyt.mark();
    const reader = await receive(address, lines(1));
    assertEquals(reader.closed, false);
    await tarpyt.waitFor(/ACCEPT .* n=1\/4096/, { since: afterResets });
  },
}));

Deno.test(needing(["python3"], {
  name: "past --max-clients new clients wait in the backlog, then are served as others leave",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], [...fast, "--max-clients", "2"]);
    const [address] = tarpyt.addresses;
    const clients: [Deno.Conn, ConnReader][] = [];
    for (let i = 0; i < 4; i++) clients.push(await connectReader(address));
    const [first, second, third, fourth] = clients.map(([, reader]) => reader);
    try {
      await Promise.all([first.until(lines(1)), second.until(lines(1))]);
      await tarpyt.waitFor(/FULL n=2\/2/);
      assertEquals(tarpyt.output.match(/ ACCEPT /g)?.length, 2, "clients 3 and 4 wait");

      // A slot frees: client 3, which waited in the backlog, gets in and is served.
      clients[0][0].close();
      await third.until(lines(1));
      await tarpyt.waitFor(/ACCEPT .* fd=3 n=2\/2/);
      assertEquals([fourth.text, tarpyt.output.match(/ ACCEPT /g)?.length], ["", 3]);
      // Another frees: client 4 was still waiting, not turned away, and gets in now.
      clients[1][0].close();
      await fourth.until(lines(1));
      assertEquals(fourth.closed, false, "client 4 still waited");
    } finally {
      for (const [conn] of clients.slice(2)) conn.close();
    }
  },
}));

Deno.test(needing(["python3"], {
  name:
    "a tarpit full long enough for its kernel backlog to overflow accepts again as clients leave",
  fn: async () => {
    // The kernel backlog (8) fills behind a full tarpit; new SYNs are then dropped and
    // retried by the clients' kernels. Deno stops polling a listener that was refused, so
    // without re-arming it the tarpit would serve the 40 slots freed below never again.
    await using tarpyt = await socketActivated(
      ["127.0.0.1"],
      [...fast, "--max-clients", "40", "--max-per-ip", "1000"],
      { backlog: 8 },
    );
    const port = String(tarpyt.addresses[0].port);
    await using first = peer("reset", "127.0.0.1", port, "40", "2");
    await tarpyt.waitFor(/ACCEPT .* n=40\/40/);
    await using swarm = peer("swarm", "127.0.0.1", port, "120");
    await swarm.waitFor(/started 120/);
    await first.waitFor(/reset 40/);
    await tarpyt.waitFor(/ CLOSE /, { times: 40 });
    // 40 more must get in: the ones the runtime had taken, the kernel backlog, then
    // retried SYNs (1 s and 3 s after the first).
    await tarpyt.waitFor(/ ACCEPT /, { times: 80 });
    await tarpyt.waitFor(/ACCEPT .* n=40\/40/, { times: 2 });
  },
}));

Deno.test(needing(["python3"], {
  name: "a burst at a full tarpit on --listen waits in the kernel: no SYN is dropped",
  fn: async () => {
    const [tarpyt, address] = await listening([...fast, "--max-clients", "1"]);
    await using _tarpyt = tarpyt;
    const port = String(address.port);
    using _first = await connect(address);
    await tarpyt.waitFor(/ACCEPT .* n=1\/1/);
    // Node's default backlog, 511, would drop the SYNs past it: those connects retry a
    // second later, and again, for as long as the tarpit stays full.
    await using burst = peer("queue", "127.0.0.1", port, "1000");
    const [result] = await burst.waitFor(/established \d+ of \d+ retransmitted \d+/);
    const [established, count, retransmitted] = result.match(/\d+/g)!.map(Number);
    assert(count > 600, `net.core.somaxconn (${count}) is too low to tell a backlog of 511`);
    assertEquals([established, retransmitted], [count, 0], result);
  },
}));

Deno.test({
  name:
    "more clients than open files: the tarpit waits quietly, says so, and takes clients again as others leave",
  fn: async () => {
    const argv = tarpytArgv([
      "--listen",
      "127.0.0.1:0",
      ...wholeLines("200ms"),
      "--max-per-ip",
      "99",
    ]);
    await using tarpyt = new RunningProcess([
      "bash",
      "-c",
      'ulimit -n 64 && exec "$@"',
      "-",
      ...argv,
    ]);
    const [line] = await tarpyt.waitFor(/address=127\.0\.0\.1:\d+/);
    const address = { hostname: "127.0.0.1", port: Number(line.split(":").at(-1)) };
    const clients: [Deno.Conn, ConnReader][] = [];
    for (let i = 0; i < 60; i++) clients.push(await connectReader(address));
    try {
      await tarpyt.waitFor(/ FILE_LIMIT /);
      // Out of files, the runtime's listener has stopped: those accepted by now are all
      // it holds, and each gets its first line.
      const readers = clients.map(([, reader]) => reader);
      const served = () => readers.filter((reader) => reader.text !== "").length;
      const accepted = () => tarpyt.output.match(/ ACCEPT /g)?.length ?? 0;
      const deadline = Date.now() + 20_000;
      while (served() === 0 || served() < accepted()) {
        assert(Date.now() < deadline, `${served()} served of ${accepted()} accepted`);
        await Promise.all(
          readers.filter((reader) => reader.text === "").map((r) => r.readFor(100)),
        );
      }
      const held = accepted();
      assert(held >= 20 && held < 60, `${held} of 60 clients held under ulimit -n 64`);
      assertEquals(readers.filter((reader) => reader.closed).length, 0, "nobody is turned away");
      // Between two FILE_LIMIT reports, 10 s apart, a tarpit that spins would use seconds of
      // CPU; one that waits quietly, hundredths.
      const reported = tarpyt.mark();
      await tarpyt.waitFor(/ FILE_LIMIT /, { since: reported, timeoutMs: 15_000 });
      const cpuBefore = await cpuSeconds(tarpyt.child.pid);
      const startedAt = performance.now();
      await tarpyt.waitFor(/ FILE_LIMIT /, { since: tarpyt.mark(), timeoutMs: 15_000 });
      const cpu = await cpuSeconds(tarpyt.child.pid) - cpuBefore;
      const seconds = (performance.now() - startedAt) / 1000;
      assert(cpu < seconds / 10, `out of files, it used ${cpu} s of CPU in ${seconds} s: it spins`);

      const servedClients = clients.filter(([, reader]) => reader.text !== "");
      for (const [conn] of servedClients.slice(0, 10)) conn.close();
      await tarpyt.waitFor(/ ACCEPT /, { times: held + 10 });
      assertEquals(tarpyt.output.match(/ (FULL|ACCEPT_FAILED) /g), null, tarpyt.output);
    } finally {
      for (const [conn] of clients) {
        try {
          conn.close();
        } catch {
          // closed above
        }
      }
    }
  },
});

Deno.test(needing(["python3"], {
  name: "--max-lifetime closes a client held that long",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], [...fast, "--max-lifetime", "1s"]);
    const reader = await receive(tarpyt.addresses[0], () => false);
    assertEquals(reader.closed, true);
    assert(reader.text.split("\r\n").length >= 3, JSON.stringify(reader.text));
    const [close] = await tarpyt.waitFor(/CLOSE .* time=\S+/);
    assert(Number(/time=(\S+)/.exec(close)?.[1]) >= 1, close);
  },
}));

Deno.test({
  name: "the tarpit keeps running when a client vanishes mid-line",
  fn: async () => {
    await using tarpyt = new RunningProcess(tarpytArgv(["--listen", "127.0.0.1:0", ...fast]));
    const [line] = await tarpyt.waitFor(/address=127\.0\.0\.1:\d+/);
    const address = { hostname: "127.0.0.1", port: Number(line.split(":").at(-1)) };
    for (let i = 0; i < 20; i++) (await connect(address)).close();
    await tarpyt.waitFor(/ CLOSE /, { times: 20 });
    await receive(address, lines(1));
  },
});

Deno.test(needing(["python3"], {
  name:
    "--max-per-ip: an address past its limit is closed at once and counted, other addresses get in",
  fn: async () => {
    // One host reaching a dual-stack socket (as ::ffff:127.0.0.1) and an IPv4 one is one
    // address, and its share is counted once.
    await using tarpyt = await socketActivated(
      ["::", "127.0.0.1", "127.0.0.1"],
      [...fast, "--max-per-ip", "2"],
      { fdNames: ["trap6", "trap4", "metrics"] },
    );
    const [dualStack, v4Only, metrics] = tarpyt.addresses;
    const clients: Deno.Conn[] = [];
    const readers: ConnReader[] = [];
    for (
      const [hostname, { port }] of [
        ["127.0.0.1", dualStack],
        ["127.0.0.1", dualStack],
        ["127.0.0.1", v4Only],
        ["::1", dualStack],
      ] as const
    ) {
      const [conn, reader] = await connectReader({ hostname, port });
      clients.push(conn);
      readers.push(await reader.until(() => reader.text !== "")); // one after the other
    }
    try {
      assertEquals(
        readers.map((reader) => reader.closed),
        [false, false, true, false],
        "the third from 127.0.0.1 is refused, ::1 is another address",
      );
      assertEquals(readers[2].text, "", "a refused client gets nothing");
      const exposition = parseExposition(
        await fetchText(`http://127.0.0.1:${metrics.port}/metrics`),
      );
      const refused = (port: number): number | undefined =>
        sampleValue(exposition, "tarpyt_clients_refused_total", { local_port: String(port) });
      assertEquals([refused(dualStack.port), refused(v4Only.port)], [0, 1]);
    } finally {
      for (const conn of clients) conn.close();
    }
  },
}));

Deno.test(needing(["python3"], {
  name:
    "a client that half-closes (sends FIN, keeps reading) is written to at once, found there, and held",
  fn: async () => {
    // Its first line would come after a minute: only the write that tells a close from a
    // half-close sends one sooner.
    await using tarpyt = await socketActivated(["127.0.0.1"], [
      ...wholeLines("100ms"),
      "--first-delay",
      "60s",
    ]);
    const [conn, reader] = await connectReader(tarpyt.addresses[0]);
    try {
      await conn.closeWrite();
      // Past the check a second after the write, lines still come every 100 ms.
      await reader.until(lines(15));
      assertEquals(reader.closed, false);
      assertEquals(tarpyt.output.match(/ CLOSE /g), null);
    } finally {
      conn.close();
    }
  },
}));

Deno.test(needing(["python3"], {
  name: "a client that resets while waiting to be accepted is closed at once and takes no slot",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], [
      ...fast,
      "--max-clients",
      "1",
      "--log-level",
      "debug",
    ]);
    const [address] = tarpyt.addresses;
    const first = await connect(address);
    await tarpyt.waitFor(/ACCEPT .* n=1\/1/);
    // A connect scan (nmap -sT) resets as soon as its handshake completes; this one waits
    // behind the full tarpit while it does.
    await using scan = peer("reset", "127.0.0.1", String(address.port), "1", "0.3");
    await scan.waitFor(/reset 1/);
    first.close();
    await tarpyt.waitFor(/ GONE/);
    const [next, reader] = await connectReader(address);
    try {
      await reader.until(lines(1));
      assertEquals(reader.closed, false, "the slot the reset client would have held is free");
      assertEquals(tarpyt.output.match(/ ACCEPT /g)?.length, 2, tarpyt.output);
      assertEquals(tarpyt.output.match(/ GONE/g)?.length, 1, tarpyt.output);
    } finally {
      next.close();
    }
  },
}));

Deno.test(needing(["python3"], {
  name: "a client that resets after it was accepted is closed as it resets, before any byte",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], [
      "--first-delay",
      "60s",
      "--max-clients",
      "1",
    ]);
    const [address] = tarpyt.addresses;
    await using scan = peer("reset", "127.0.0.1", String(address.port), "1", "0.2");
    await tarpyt.waitFor(/ACCEPT .* n=1\/1/);
    await scan.waitFor(/reset 1/);
    // It resets 0.2 s after it connected; its first byte would come after 60 s.
    const [close] = await tarpyt.waitFor(/ CLOSE [^\n]*/, { timeoutMs: 30_000 });
    const seconds = Number(/time=(\S+)/.exec(close)?.[1]);
    assert(seconds >= 0.15 && seconds < 1, close);
    assertMatch(close, / bytes=0 left=reset /);
    const next = await connect(address);
    try {
      await tarpyt.waitFor(/ACCEPT [^\n]* n=1\/1/, { times: 2 });
    } finally {
      next.close();
    }
  },
}));
