/**
 * What operators see: Prometheus metrics scraped with curl and read strictly, STATS
 * summaries on SIGUSR2, SIGHUP and at shutdown, and JSON log lines.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { parseExposition, sampleValue } from "../support/prometheus_text.ts";
import { connect, connectReader, ConnReader, fetchText, lines, receive } from "../support/net.ts";
import {
  listening,
  MetricsTarpyt,
  peer,
  socketActivated,
  tarpytArgv,
  wholeLines,
} from "../support/tarpyt.ts";
import { run, RunningProcess } from "../support/process.ts";
import { needing } from "../support/tools.ts";

async function scrape(url: string): Promise<{ status: string; body: string }> {
  const { stdout: text } = await run(["curl", "-s", "-i", "--max-time", "5", url]);
  const split = text.indexOf("\r\n\r\n");
  return { status: text.slice(0, text.indexOf("\r\n")), body: text.slice(split + 4) };
}

Deno.test(needing(["python3", "curl"], {
  name: "a passed socket named metrics serves endlessh-go's series per local_port, read strictly",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1", "127.0.0.1"], wholeLines(), {
      fdNames: ["ssh", "metrics"],
    });
    const [trap, metrics] = tarpyt.addresses;
    const kept = await connect(trap);
    await receive(trap, lines(3)); // one client comes and goes
    try {
      await tarpyt.waitFor(/CLOSE host=/);
      const { status, body } = await scrape(`http://127.0.0.1:${metrics.port}/metrics`);
      assertEquals(status, "HTTP/1.1 200 OK");
      const exposition = parseExposition(body);
      const port = { local_port: String(trap.port) };
      assertEquals(sampleValue(exposition, "endlessh_client_open_count_total", port), 2);
      assertEquals(sampleValue(exposition, "endlessh_client_closed_count_total", port), 1);
      assert((sampleValue(exposition, "endlessh_sent_bytes_total", port) ?? 0) > 0);
      assert((sampleValue(exposition, "endlessh_trapped_time_seconds_total", port) ?? 0) > 0.2);
      assertEquals(sampleValue(exposition, "tarpyt_clients", { protocol: "ssh", ...port }), 1);
      assertEquals(sampleValue(exposition, "tarpyt_client_trapped_seconds_count"), 1);
      assertEquals(
        sampleValue(exposition, "tarpyt_client_trapped_seconds_bucket", { le: "10" }),
        1,
      );
      assertEquals(sampleValue(exposition, "tarpyt_info", { protocol: "ssh" }), 1);
      const rss = sampleValue(exposition, "process_resident_memory_bytes") ?? 0;
      const heap = sampleValue(exposition, "tarpyt_heap_used_bytes") ?? 0;
      assert(rss > 10e6 && heap > 1e6 && heap < rss, `rss ${rss}, heap ${heap}`);
      // No series is labelled with a client's address: cardinality is bounded by ports,
      // and by the fixed sets of profiles and families.
      const labelNames = new Set(exposition.samples.flatMap((s) => Object.keys(s.labels)));
      assertEquals([...labelNames].sort(), [
        "family",
        "le",
        "local_port",
        "profile",
        "protocol",
        "version",
      ]);
      assertMatch(tarpyt.output, /METRICS fd=4 name=metrics address=127\.0\.0\.1:\d+/);
    } finally {
      kept.close();
    }
  },
}));

Deno.test(needing(["curl"], {
  name:
    "--metrics-listen answers GET /metrics, 404 elsewhere, 400 to junk, and reads at most 2 KiB",
  fn: async () => {
    await using tarpyt = new MetricsTarpyt();
    const base = await tarpyt.metricsBase();
    assertEquals((await scrape(`${base}/metrics`)).status, "HTTP/1.1 200 OK");
    const root = await scrape(`${base}/`);
    assertEquals(root.status, "HTTP/1.1 200 OK");
    assertMatch(root.body, /^# HELP endlessh_client_open_count_total /);
    assertEquals((await scrape(`${base}/secret`)).status, "HTTP/1.1 404 Not Found");
    const [conn, reader] = await connectReader({ hostname: "127.0.0.1", port: tarpyt.metricsPort });
    try {
      await conn.write(new TextEncoder().encode("x".repeat(3000))); // no end of head, ever
      await reader.until(() => false);
      assertMatch(reader.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert(reader.closed, "the connection is closed after the answer");
    } finally {
      conn.close();
    }
  },
}));

Deno.test("SIGUSR2 and SIGHUP log STATS with the busiest sources; stopping logs STATS, then TOTALS", async () => {
  await using tarpyt = new RunningProcess(
    tarpytArgv(["--listen", "127.0.0.1:0", ...wholeLines("1s")]),
  );
  const [listen] = await tarpyt.waitFor(/LISTEN from=--listen address=127\.0\.0\.1:\d+/);
  const port = Number(listen.split(":").at(-1));
  const conns = await Promise.all(
    [1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  try {
    await tarpyt.waitFor(/ACCEPT /, { times: 3 });
    // One after the other: a STATS line still waiting is replaced by a newer one.
    for (const [i, signal] of (["SIGUSR2", "SIGHUP"] as const).entries()) {
      tarpyt.child.kill(signal);
      await tarpyt.waitFor(/STATS [^\n]*/, { times: i + 1 });
    }
    const stats = await tarpyt.waitFor(/STATS [^\n]*/, { times: 2 });
    for (const line of stats) {
      assertMatch(
        line,
        /^STATS clients=3 connects=3 seconds=\d+\.\d{3} bytes=\d+ top=127\.0\.0\.1\/3$/,
      );
    }
    assertEquals(tarpyt.status, undefined, "SIGHUP and SIGUSR2 do not stop it");
  } finally {
    for (const conn of conns) conn.close();
  }
  await tarpyt.waitFor(/CLOSE /, { times: 3 });
  assertEquals((await tarpyt.stop()).code, 0);
  assertMatch(tarpyt.output, /STATS clients=0 connects=3 [^\n]*\n[^\n]*TOTALS connects=3 /);
});

Deno.test("Ctrl-C (SIGINT) closes every client, logs STATS and TOTALS, exit 0", async () => {
  const [started, address] = await listening(wholeLines("1s"));
  await using tarpyt = started;
  const conns = [await connect(address), await connect(address)];
  try {
    await tarpyt.waitFor(/ ACCEPT /, { times: 2 });
    assertEquals((await tarpyt.stop("SIGINT")).code, 0);
    assertEquals(tarpyt.output.match(/ CLOSE [^\n]* left=shutdown /g)?.length, 2, tarpyt.output);
    assertMatch(
      tarpyt.output,
      /STATS clients=2 connects=2 [^\n]*\n([^\n]* CLOSE [^\n]*\n){2}[^\n]*TOTALS connects=2 /,
    );
  } finally {
    for (const conn of conns) conn.close();
  }
});

Deno.test({
  name: "--log-format json writes one object a line with the documented keys",
  fn: async () => {
    await using tarpyt = new RunningProcess(tarpytArgv([
      "--listen",
      "127.0.0.1:0",
      ...wholeLines(),
      "--log-format",
      "json",
    ]));
    const [listen] = await tarpyt.waitFor(/"address":"127\.0\.0\.1:\d+"/);
    await receive({ hostname: "127.0.0.1", port: Number(/:(\d+)"/.exec(listen)![1]) }, lines(1));
    await tarpyt.waitFor(/"event":"CLOSE"/);
    assertEquals((await tarpyt.stop()).code, 0);
    const events = tarpyt.output.split("\n").filter((line) => line.startsWith("{")).map((line) =>
      JSON.parse(line)
    );
    assertEquals(
      events.map((e) => e.event),
      ["LISTEN", "START", "ACCEPT", "CLOSE", "STATS", "TOTALS"],
    );
    for (const event of events) {
      assertMatch(event.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assertEquals(event.level, "info");
    }
    const close = events[3];
    assertEquals(Object.keys(close), [
      "timestamp",
      "hostname",
      "level",
      "event",
      "host",
      "port",
      "fd",
      "time",
      "bytes",
      "left",
      "family",
    ]);
    assertEquals([typeof close.port, typeof close.time, typeof close.bytes], [
      "number",
      "number",
      "number",
    ]);
    assertEquals(events[2].n, "1/4096");
  },
});

Deno.test({
  name: "a metrics client is closed 5 s after it connected, however slowly it drips its request",
  fn: async () => {
    await using tarpyt = new MetricsTarpyt();
    await tarpyt.metricsBase();
    const [conn, reader] = await connectReader({ hostname: "127.0.0.1", port: tarpyt.metricsPort });
    const connectedAt = performance.now();
    try {
      // A byte a second would reset an idle timeout for ever.
      const drip = setInterval(
        () => conn.write(new TextEncoder().encode("G")).catch(() => {}),
        1_000,
      );
      try {
        await reader.untilClosed(30_000);
      } finally {
        clearInterval(drip);
      }
      const seconds = (performance.now() - connectedAt) / 1000;
      // The README's 5 s, written out: not the code's constant.
      assert(seconds >= 4.5 && seconds < 10, `closed after ${seconds} s`);
    } finally {
      conn.close();
    }
  },
});

Deno.test({
  name: "at most 8 metrics connections are open: a newcomer closes the oldest",
  fn: async () => {
    await using tarpyt = new MetricsTarpyt();
    await tarpyt.metricsBase();
    const address = { hostname: "127.0.0.1", port: tarpyt.metricsPort };
    const clients: [Deno.TcpConn, ConnReader][] = [];
    try {
      // The README's promise, written out: 8 at once, each closed 5 s after it came.
      for (let i = 0; i < 8; i++) clients.push(await connectReader(address));
      clients.push(await connectReader(address)); // the ninth
      const [first, firstReader] = clients[0];
      await firstReader.untilClosed(4_000);
      assertEquals(firstReader.text, "", "the oldest was closed, unanswered");
      first.close();
      // The other eight were open: each is answered once it asks.
      const request = new TextEncoder().encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
      for (const [conn] of clients.slice(1)) await conn.write(request);
      for (const [, reader] of clients.slice(1)) {
        await reader.untilClosed(4_000);
        assertMatch(reader.text, /^HTTP\/1\.1 200 OK\r\n/);
      }
    } finally {
      for (const [conn] of clients.slice(1)) conn.close();
    }
  },
});

for (const [count, drip] of [[8, "0"], [32, "0"], [32, "0.5"], [80, "0.05"]] as const) {
  Deno.test(needing(["python3"], {
    name: `scrapes get through while ${count} ${
      drip === "0" ? "idle" : "slowly dripping"
    } connections reconnect as soon as they are closed`,
    fn: async () => {
      await using tarpyt = new MetricsTarpyt();
      const base = await tarpyt.metricsBase();
      await using occupiers = peer(
        "occupy",
        "127.0.0.1",
        String(tarpyt.metricsPort),
        String(count),
        drip,
      );
      await occupiers.waitFor(/reconnects \d+/);
      let answered = 0;
      const scrapes = 100;
      for (let i = 0; i < scrapes; i++) {
        try {
          const text = await fetchText(`${base}/metrics`, 5_000);
          if (text.includes("endlessh_client_open_count_total")) answered++;
        } catch { /* counted as failed */ }
      }
      const [reconnects] = (await occupiers.waitFor(/reconnects \d+/, { since: occupiers.mark() }))
        .map((line) => Number(line.split(" ")[1]));
      // Past 8, attackers are closed to make room, and come straight back.
      assert(count === 8 || reconnects > 0, "the attackers were closed and came back");
      assert(answered >= 99, `${answered} of ${scrapes} scrapes answered`);
    },
  }));
}
