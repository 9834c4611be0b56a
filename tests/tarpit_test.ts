/**
 * The engine alone, on an in-memory transport and a fake clock: admission, pacing,
 * leaving and trouble, each to the millisecond and the same on any machine. The
 * integration tests prove the same against real sockets; these prove the rules.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { FakeClock } from "./fake_clock.ts";
import type { TarpitEvent } from "../src/engine/events.ts";
import {
  keepAliveMs,
  peerCheckMs,
  Tarpit,
  type TarpitOptions,
  type TrappedClient,
  troubleReportMs,
} from "../src/engine/tarpit.ts";
import type { Admission, Gate, Peer, Transport, WriteOutcome } from "../src/engine/transport.ts";
import { headEnd, longestSilenceMs, type Protocol } from "../protocols/protocol.ts";

/** A connection in memory: what it was sent, and how it behaves. */
class Connection {
  received = "";
  closed = false;
  keepAliveMs = 0;
  /** The peer has reset: its address is gone and writes fail. */
  reset = false;
  /** The peer does not read: writes are left pending until {@link MemoryTransport.drain}. */
  stalled = false;
  pending: { bytes: string; owner: TrappedClient<Connection> } | undefined;
  constructor(readonly host: string, readonly port: number) {}
}

/** A listener in memory: connections wait in its backlog until admitted. */
class Listener {
  readonly backlog: Connection[] = [];
  admission: Admission<Connection> | undefined;
  resumes = 0;
  closed = false;
  constructor(readonly port: number) {}
}

class MemoryTransport implements Transport<Connection, Listener, TrappedClient<Connection>> {
  written: (owner: TrappedClient<Connection>, error: string | undefined) => void = () => {};
  files = true;
  /** The connections still open, by the count the engine gave at each close. */
  openAtLastClose = -1;

  serve(listener: Listener, admission: Admission<Connection>): Gate {
    listener.admission = admission;
    return {
      resume: () => {
        listener.resumes++;
        this.acceptWaiting(listener);
      },
      close: () => listener.closed = true,
    };
  }

  /** What the runtime does when connections arrive: accept while there is room. */
  acceptWaiting(listener: Listener): void {
    while (listener.backlog.length > 0 && listener.admission?.hasRoom()) {
      listener.admission.admit(listener.backlog.shift()!);
    }
  }

  localPort(listener: Listener): number {
    return listener.port;
  }

  peer(connection: Connection): Peer | undefined {
    return connection.reset ? undefined : { address: connection.host, port: connection.port };
  }

  keepAlive(connection: Connection, ms: number): void {
    connection.keepAliveMs = ms;
  }

  write(connection: Connection, bytes: string, owner: TrappedClient<Connection>): WriteOutcome {
    assert(connection.pending === undefined, "a write while one is pending");
    if (connection.reset) return { gone: "ECONNRESET" };
    if (connection.stalled) {
      connection.pending = { bytes, owner };
      return "pending";
    }
    connection.received += bytes;
    return "sent";
  }

  /** The kernel takes a stalled connection's pending piece, or fails it. */
  drain(connection: Connection, error?: string): void {
    const { bytes, owner } = connection.pending!;
    connection.pending = undefined;
    if (error === undefined) connection.received += bytes;
    this.written(owner, error);
  }

  close(connection: Connection, open: number): void {
    assert(!connection.closed, "closed twice");
    connection.closed = true;
    this.openAtLastClose = open;
  }

  canOpenAnotherFile(): boolean {
    return this.files;
  }
}

/** A protocol whose first line has a head, then `rest` more lines of "xy\r\n". */
function testProtocol(rest = Infinity): Protocol {
  return {
    name: "test",
    summary: "test lines",
    minLineLength: 4,
    pacing: { firstDelayMs: 0, delayMs: 0, jitterMs: 0, pieceSize: 0, maxLineLength: 0 },
    *lines(): Generator<string, void, undefined> {
      yield `220-${headEnd}ab\r\n`;
      for (let i = 0; i < rest; i++) yield "xy\r\n";
    },
  };
}

/** A tarpit on one listener, and what drives and watches it. */
interface Setup {
  readonly clock: FakeClock;
  readonly transport: MemoryTransport;
  readonly events: TarpitEvent[];
  readonly tarpit: Tarpit<Connection, Listener>;
  /** Its listener, on port 22. */
  readonly listener: Listener;
  /** A connection arrives from `host`. */
  connect(host?: string, port?: number): Connection;
  /** The events' types, in order. */
  types(): string[];
}

/** A tarpit on one listener (port 22), with every event kept. */
function setUp(options: Partial<TarpitOptions<Connection, Listener>> = {}): Setup {
  const clock = new FakeClock();
  const transport = new MemoryTransport();
  const events: TarpitEvent[] = [];
  const tarpit = new Tarpit<Connection, Listener>({
    protocol: testProtocol(),
    firstDelayMs: 5_000,
    delayMs: 1_000,
    jitterMs: 0,
    pieceSize: 1,
    maxClients: 10,
    maxPerIp: 10,
    maxLineLength: 32,
    banner: "",
    maxLifetimeMs: 0,
    transport,
    onEvent: (event) => events.push(event),
    clock,
    ...options,
  });
  const listener = new Listener(22);
  tarpit.serve(listener);
  const connect = (host = "192.0.2.1", port = 40_000 + events.length): Connection => {
    const connection = new Connection(host, port);
    listener.backlog.push(connection);
    transport.acceptWaiting(listener);
    return connection;
  };
  const types = () => events.map((event) => event.type);
  return { clock, transport, events, tarpit, listener, connect, types };
}

Deno.test("a client hears nothing until the first delay, then the head whole, then a byte a delay", () => {
  const { clock, connect } = setUp();
  const client = connect();
  clock.advance(4_999);
  assertEquals(client.received, "");
  clock.advance(1);
  assertEquals(client.received, "220-");
  clock.advance(999);
  assertEquals(client.received, "220-");
  clock.advance(1);
  assertEquals(client.received, "220-a");
  clock.advance(4_000);
  assertEquals(client.received, "220-ab\r\nx");
});

Deno.test("TCP keepalive is set only where a client may go as long without a piece", () => {
  const often = setUp({ delayMs: keepAliveMs - 1_000, jitterMs: 999 }).connect();
  const seldom = setUp({ delayMs: keepAliveMs - 1_000, jitterMs: 1_000 }).connect();
  assertEquals([often.keepAliveMs, seldom.keepAliveMs], [0, keepAliveMs]);
});

Deno.test("the events say who came, what they got and how long they stayed", () => {
  const { clock, connect, events, tarpit } = setUp({ maxClients: 3 });
  const client = connect("198.51.100.7", 50_000);
  clock.advance(7_000);
  client.reset = true;
  clock.advance(1_000);
  assert(client.closed);
  const [serve, accept, close, ...rest] = events;
  assertEquals(serve, { type: "serve", localPort: 22 });
  assert(accept.type === "accept" && close.type === "close");
  const { host, port, id, localPort } = accept.client;
  assertEquals([host, port, id, localPort], ["198.51.100.7", 50_000, 1, 22]);
  assertEquals([accept.held, accept.max], [1, 3]);
  assertEquals(close.client, accept.client);
  // Its writes at 5, 6 and 7 s were taken; the one at 8 s found it gone.
  assertEquals([close.trappedMs, close.bytes, close.error], [8_000, 6, "ECONNRESET"]);
  assertEquals(rest, []);
  assertEquals(tarpit.held(), new Map());
});

Deno.test("a peer that reset before it was admitted is closed at once and holds no slot", () => {
  const { connect, listener, transport, types, tarpit } = setUp({ maxClients: 1 });
  const gone = new Connection("192.0.2.9", 1);
  gone.reset = true;
  listener.backlog.push(gone);
  transport.acceptWaiting(listener);
  assert(gone.closed);
  const next = connect();
  assertEquals(types(), ["serve", "gone", "accept"]);
  assertEquals(tarpit.held().get(22)?.held, 1);
  assert(!next.closed);
});

Deno.test("a peer that resets after it was admitted is closed at its peer check, with no byte sent", () => {
  const { clock, connect, events } = setUp({ firstDelayMs: 60_000 });
  const client = connect();
  client.reset = true;
  clock.advance(peerCheckMs - 1);
  assert(!client.closed);
  clock.advance(1);
  assert(client.closed);
  const close = events.at(-1)!;
  assert(close.type === "close");
  assertEquals([close.trappedMs, close.bytes, close.error], [peerCheckMs, 0, undefined]);
});

Deno.test("an address holding --max-per-ip clients has its next ones refused; others still come in", () => {
  const { connect, events, types, tarpit } = setUp({ maxPerIp: 2 });
  connect("192.0.2.1");
  connect("192.0.2.1");
  const third = connect("192.0.2.1", 3);
  const other = connect("192.0.2.2");
  assert(third.closed);
  assert(!other.closed);
  assertEquals(types(), ["serve", "accept", "accept", "refuse", "accept"]);
  assertEquals(events[3], {
    type: "refuse",
    host: "192.0.2.1",
    port: 3,
    localPort: 22,
    fromHost: 2,
  });
  assertEquals(tarpit.held().get(22)?.held, 3);
});

Deno.test("full, new clients wait unaccepted; each that leaves lets one in; FULL is said once an interval", () => {
  const { clock, connect, events, listener, types } = setUp({ maxClients: 2 });
  const first = connect();
  connect();
  const waiting = connect();
  assertEquals(types(), ["serve", "accept", "accept", "full"]);
  assertEquals(events[3], { type: "full", held: 2, max: 2, times: 1 });
  assertEquals(listener.backlog, [waiting]);
  clock.advance(5_000); // every client has had its first piece
  first.reset = true;
  clock.advance(1_000); // the write to it fails: it leaves and the one waiting comes in
  assertEquals(listener.backlog, []);
  assertEquals(types().slice(4), ["close", "accept"]);
  // Under churn the tarpit fills again and again: the next report counts the fills.
  for (let i = 0; i < 3; i++) {
    connect();
    waiting.reset = true;
    clock.advance(troubleReportMs / 2);
    waiting.reset = false;
  }
  const fulls = events.filter((event) => event.type === "full");
  assertEquals(fulls.map((event) => event.type === "full" && event.times), [1, 2]);
});

Deno.test("a client that does not read gets no other piece until the kernel takes the last", () => {
  const { clock, connect, transport, events } = setUp({ firstDelayMs: 1_000 });
  const client = connect();
  client.stalled = true;
  clock.advance(1_000);
  assertEquals(client.pending?.bytes, "220-");
  clock.advance(10_000); // ten ticks: the transport asserts no write while one is pending
  transport.drain(client);
  client.stalled = false;
  clock.advance(1_000);
  assertEquals(client.received, "220-a");
  client.stalled = true;
  clock.advance(1_000);
  transport.drain(client, "EPIPE");
  const close = events.at(-1)!;
  assert(close.type === "close");
  // Bytes count once the kernel took them: the failed piece is not counted.
  assertEquals([close.bytes, close.error], [5, "EPIPE"]);
  assert(client.closed);
});

Deno.test("once its protocol has nothing more, a client is closed after the longest silence", () => {
  const { clock, connect, events } = setUp({
    protocol: testProtocol(0),
    firstDelayMs: 1_000,
    pieceSize: 0,
  });
  const client = connect();
  clock.advance(1_000);
  assertEquals(client.received, "220-ab\r\n");
  clock.advance(1_000 + longestSilenceMs - 1);
  assert(!client.closed);
  clock.advance(1);
  assert(client.closed);
  const close = events.at(-1)!;
  assert(close.type === "close");
  assertEquals(close.trappedMs, 2_000 + longestSilenceMs);
});

Deno.test("--max-lifetime closes a client at its first tick past the lifetime", () => {
  const { clock, connect } = setUp({ maxLifetimeMs: 10_000 });
  const client = connect();
  clock.advance(9_999);
  assert(!client.closed);
  clock.advance(1_000);
  assert(client.closed);
});

Deno.test("out of files, keepAccepting says so once an interval and still re-arms every listener", () => {
  const { transport, tarpit, events, listener, clock } = setUp();
  transport.files = false;
  for (let i = 0; i < 12; i++) {
    tarpit.keepAccepting();
    clock.advance(1_000);
  }
  const reports = events.filter((event) => event.type === "file-limit");
  assertEquals(reports, [
    { type: "file-limit", held: 0, max: 10, times: 1 },
    { type: "file-limit", held: 0, max: 10, times: 10 },
  ]);
  assertEquals(listener.resumes, 12);
});

Deno.test("accept failures are reported at most once an interval, with their count", () => {
  const { listener, events, clock } = setUp();
  for (let i = 0; i < 5; i++) listener.admission!.failed("EMFILE");
  clock.advance(troubleReportMs);
  listener.admission!.failed("EMFILE");
  assertEquals(events.filter((event) => event.type === "accept-failed"), [
    { type: "accept-failed", code: "EMFILE", times: 1 },
    { type: "accept-failed", code: "EMFILE", times: 5 },
  ]);
});

Deno.test("held() adds up the clients held now, per listening port", () => {
  const { clock, connect, tarpit, transport } = setUp();
  const other = new Listener(2222);
  tarpit.serve(other);
  connect();
  connect();
  other.backlog.push(new Connection("192.0.2.3", 1));
  transport.acceptWaiting(other);
  clock.advance(6_000);
  assertEquals(
    tarpit.held(),
    new Map([
      [22, { held: 2, bytes: 2 * "220-a".length, trappedMs: 12_000 }],
      [2222, { held: 1, bytes: "220-a".length, trappedMs: 6_000 }],
    ]),
  );
});

Deno.test("shutdown closes every listener and client, each with its close event, and admits no more", () => {
  const { connect, tarpit, listener, types, transport } = setUp();
  const clients = [connect(), connect()];
  tarpit.shutdown();
  assert(listener.closed);
  assert(clients.every((client) => client.closed));
  assertEquals(types(), ["serve", "accept", "accept", "close", "close"]);
  assertEquals(transport.openAtLastClose, 0);
  const late = new Connection("192.0.2.1", 1);
  listener.backlog.push(late);
  transport.acceptWaiting(listener);
  tarpit.keepAccepting();
  assertEquals(listener.backlog, [late]);
});
