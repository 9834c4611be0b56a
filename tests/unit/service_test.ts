/**
 * The service on an in-memory transport, a fake clock and a fake notify socket: the
 * heartbeat, the watchdog's rhythm, systemd's messages when PID 1 stalls, the stop, and
 * the metrics it assembles. The system tests prove the same against the real program;
 * these prove the rules to the millisecond.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { Connection, Listener, MemoryTransport } from "../support/memory_transport.ts";
import { parseExposition, sampleValue } from "../support/prometheus_text.ts";
import { createLogger } from "../../src/log/logger.ts";
import {
  heartbeatMs,
  type ServicePorts,
  stopNotifyFlushMs,
  TarpitService,
} from "../../src/service/service.ts";
import type { DatagramSocket } from "../../src/systemd/sd_notify.ts";
import { protocols } from "../../protocols/mod.ts";

/** systemd's notify socket, as the service's notifier sees it. */
class FakeNotifySocket {
  /** Every datagram systemd received, in order, with the time. */
  readonly received: [number, string][] = [];
  /** While set, sends hang, as to a full socket of a stalled PID 1. */
  stalled = false;
  /** While set, sends fail at once. */
  failing: Error | undefined;
  readonly #hanging: (() => void)[] = [];

  constructor(readonly clock: FakeClock) {}

  open = (): DatagramSocket => {
    return {
      send: (bytes) => {
        if (this.failing) return Promise.reject(this.failing);
        const text = new TextDecoder().decode(bytes);
        if (!this.stalled) {
          this.received.push([this.clock.now(), text]);
          return Promise.resolve();
        }
        return new Promise<void>((resolve) =>
          this.#hanging.push(() => {
            this.received.push([this.clock.now(), text]);
            resolve();
          })
        );
      },
      close: () => {},
    };
  };

  /** PID 1 catches up: hanging sends on open sockets are delivered. */
  release(): void {
    this.stalled = false;
    for (const deliver of this.#hanging.splice(0)) deliver();
  }

  /** The lines received with `key=`, and when. */
  sent(key: string): [number, string][] {
    return this.received.flatMap(([at, text]) =>
      text.split("\n").filter((line) => line.startsWith(`${key}=`)).map((line) =>
        [at, line] as [number, string]
      )
    );
  }
}

interface Setup {
  readonly clock: FakeClock;
  readonly transport: MemoryTransport;
  readonly notify: FakeNotifySocket;
  readonly lines: string[];
  readonly service: TarpitService<Connection, Listener>;
  readonly listeners: Listener[];
  rearms: number;
}

function setUp(ports: Partial<ServicePorts<Connection, Listener>> = {}): Setup {
  const clock = new FakeClock();
  const transport = new MemoryTransport();
  const notify = new FakeNotifySocket(clock);
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    journal: true,
    write: (line) => lines.push(line),
  });
  const setup: Setup = {
    clock,
    transport,
    notify,
    lines,
    listeners: [],
    rearms: 0,
    service: undefined as unknown as TarpitService<Connection, Listener>,
  };
  const service = new TarpitService<Connection, Listener>({
    protocol: protocols.ssh,
    profiles: [{
      firstDelayMs: 1_000,
      delayMs: 1_000,
      jitterMs: 0,
      pieceSize: 0,
      maxLineLength: 32,
    }],
    maxClients: 7,
    maxPerIp: 32,
    banner: "",
    maxLifetimeMs: 0,
    version: "9.9.9",
    pacingFields: { delay: "1s" },
  }, {
    transport,
    clock,
    ticker: clock,
    log,
    logSink: {
      flush: () => Promise.resolve(),
      families: () => [
        { name: "test_log_total", type: "counter", help: "T.", samples: [["", {}, 3]] },
      ],
    },
    notifySocket: notify.open,
    notifySocketName: "@test",
    rearmListeners: () => setup.rearms++,
    memory: () => ({ rss: 50e6, heapUsed: 5e6 }),
    ...ports,
  });
  return Object.assign(setup, { service });
}

function serveOne(setup: Setup, port = 22): Listener {
  const listener = new Listener(port);
  setup.listeners.push(listener);
  setup.service.serve(listener, { from: "--listen", address: `127.0.0.1:${port}` });
  return listener;
}

function connect(setup: Setup, listener: Listener, host = "192.0.2.1"): Connection {
  const connection = new Connection(host, 40_000 + listener.backlog.length);
  listener.backlog.push(connection);
  setup.transport.acceptWaiting(listener);
  return connection;
}

Deno.test("READY=1 goes out only after every listener is served, after LISTEN and START", async () => {
  const setup = setUp();
  serveOne(setup, 22);
  serveOne(setup, 2222);
  assertEquals(setup.notify.received, [], "nothing before start()");
  setup.service.start();
  await setup.clock.advance(0);
  assertEquals(setup.notify.received[0], [
    0,
    "READY=1\nSTATUS=0 clients held now, 0 trapped since start, 0 bytes sent",
  ]);
  assertEquals(setup.lines.map((line) => line.split(" ")[0]), [
    "<6>LISTEN",
    "<6>LISTEN",
    "<6>START",
  ]);
  assertMatch(setup.lines[2], /^<6>START version=9\.9\.9 protocol=ssh delay=1s max-clients=7 /);
});

Deno.test("the heartbeat re-arms every listener, whatever happened to READY=1", async () => {
  const setup = setUp();
  const listener = serveOne(setup);
  setup.notify.stalled = true; // READY=1 never arrives
  setup.service.start();
  const resumes = listener.resumes;
  await setup.clock.advance(5 * heartbeatMs);
  assertEquals(listener.resumes - resumes, 5);
  assertEquals(setup.rearms, 5);
});

Deno.test("a client leaving re-arms every listener at once, the runtime's too", async () => {
  const setup = setUp();
  const listener = serveOne(setup);
  setup.service.start();
  const client = connect(setup, listener);
  await setup.clock.advance(1_000);
  const [resumes, rearms] = [listener.resumes, setup.rearms];
  client.resetNow();
  await setup.clock.advance(0);
  assertEquals([listener.resumes - resumes, setup.rearms - rearms], [1, 1]);
});

Deno.test("WATCHDOG=1 comes at least every half interval: never later than WatchdogSec/2", async () => {
  const setup = setUp({ watchdogMs: 30_000 });
  serveOne(setup);
  setup.service.start();
  await setup.clock.advance(120_000);
  const pings = setup.notify.sent("WATCHDOG").map(([at]) => at);
  assertEquals(pings[0], heartbeatMs, "the first heartbeat pings");
  const gaps = pings.slice(1).map((at, i) => at - pings[i]);
  assert(gaps.length >= 7, `${gaps.length} gaps`);
  for (const gap of gaps) assert(gap <= 15_000 && gap > heartbeatMs, `a gap of ${gap} ms`);
});

Deno.test("without WATCHDOG_USEC no ping is sent", async () => {
  const setup = setUp();
  serveOne(setup);
  setup.service.start();
  await setup.clock.advance(60_000);
  assertEquals(setup.notify.sent("WATCHDOG"), []);
});

Deno.test("STATUS= is refreshed each heartbeat when it changed, and not re-sent when it did not", async () => {
  const setup = setUp();
  const listener = serveOne(setup);
  setup.service.start();
  await setup.clock.advance(3 * heartbeatMs);
  assertEquals(setup.notify.sent("STATUS").length, 1, "only READY=1's");
  connect(setup, listener);
  await setup.clock.advance(heartbeatMs);
  const statuses = setup.notify.sent("STATUS").map(([, line]) => line);
  assertEquals(statuses.length, 2);
  assertMatch(statuses[1], /^STATUS=1 clients held now, 1 trapped since start, \d+ bytes sent$/);
});

Deno.test("a stalled notify socket merges what waits into one datagram; pings go on once it drains", async () => {
  const setup = setUp({ watchdogMs: 4_000 });
  serveOne(setup);
  setup.notify.stalled = true;
  setup.service.start(); // READY=1 hangs
  await setup.clock.advance(3_000); // pings wait behind it, merged
  assertEquals(setup.notify.received, []);
  setup.notify.release(); // PID 1 catches up
  await setup.clock.advance(10_000);
  assertEquals(setup.notify.received.slice(0, 2).map(([, text]) => text), [
    "READY=1\nSTATUS=0 clients held now, 0 trapped since start, 0 bytes sent",
    "WATCHDOG=1", // the three pings of the stall, as one
  ]);
  const pings = setup.notify.sent("WATCHDOG").map(([at]) => at);
  // The heartbeat beats at half the watchdog's 4 s, and pings at each beat.
  assert(pings.length >= 6, `${pings.length} pings: each beat after the stall`);
});

Deno.test("a failing notify socket is reported at most every 10 s, with how often, and retried each time", async () => {
  const setup = setUp({ watchdogMs: 2_000 });
  serveOne(setup);
  setup.notify.failing = new Error("Connection refused");
  setup.service.start();
  await setup.clock.advance(25_000);
  const reports = setup.lines.filter((line) => line.includes("NOTIFY_FAILED"));
  assertEquals(reports.length, 3);
  assertMatch(reports[0], /^<4>NOTIFY_FAILED socket=@test times=1 Connection refused$/);
  assertMatch(reports[1], /^<4>NOTIFY_FAILED socket=@test times=10 /);
  setup.notify.failing = undefined;
  await setup.clock.advance(2_000);
  assert(setup.notify.sent("WATCHDOG").length > 0, "pings go out again once it works");
});

Deno.test("stop: STOPPING=1 first, then STATS, every CLOSE and TOTALS; a stalled socket holds it up 100 ms at most", async () => {
  const setup = setUp();
  const listener = serveOne(setup);
  setup.service.start();
  connect(setup, listener, "192.0.2.1");
  connect(setup, listener, "192.0.2.2");
  await setup.clock.advance(3_000);
  setup.notify.stalled = true;
  const started = performance.now();
  const stopping = setup.service.stop();
  assertEquals(setup.service.stop(), stopping, "a second signal joins the first stop");
  await stopping;
  const took = performance.now() - started;
  assert(took < stopNotifyFlushMs + 400, `the stop took ${took} ms`);
  setup.notify.release();
  await setup.clock.advance(0);
  const stopAt = setup.lines.findIndex((line) => line.startsWith("<6>STATS"));
  assertEquals(setup.lines.slice(stopAt).map((line) => line.split(" ")[0]), [
    "<6>STATS",
    "<6>CLOSE",
    "<6>CLOSE",
    "<6>TOTALS",
  ]);
  assertMatch(setup.lines.at(-1)!, /^<6>TOTALS connects=2 seconds=6\.000 bytes=\d+$/);
  assertEquals(setup.notify.sent("STOPPING").length, 1);
});

Deno.test("the metrics assemble every part's families, tarpyt_clients_max at --max-clients", () => {
  const setup = setUp();
  const listener = serveOne(setup, 2222);
  connect(setup, listener);
  const exposition = parseExposition(setup.service.metrics());
  const port = { local_port: "2222" };
  assertEquals(sampleValue(exposition, "endlessh_client_open_count_total", port), 1);
  assertEquals(sampleValue(exposition, "tarpyt_clients", { protocol: "ssh", ...port }), 1);
  assertEquals(sampleValue(exposition, "tarpyt_clients_max", { protocol: "ssh" }), 7);
  assertEquals(sampleValue(exposition, "test_log_total"), 3);
  assertEquals(sampleValue(exposition, "process_resident_memory_bytes"), 50e6);
  assertEquals(sampleValue(exposition, "tarpyt_info", { version: "9.9.9", protocol: "ssh" }), 1);
});
