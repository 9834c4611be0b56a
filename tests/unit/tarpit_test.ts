/**
 * The engine alone, on an in-memory transport and a fake clock: admission, pacing,
 * leaving and trouble, each to the millisecond and the same on any machine. The system
 * tests prove the same against real sockets; these prove the rules.
 *
 * @module
 */
import { assert, assertEquals } from "../support/assert.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { Connection, Listener, MemoryTransport } from "../support/memory_transport.ts";
import type { Departure, TarpitEvent } from "../../src/engine/events.ts";
import { fixedPacer, type Pacer } from "../../src/engine/pacer.ts";
import {
  decisionMs,
  keepAliveMs,
  probeMs,
  Tarpit,
  type TarpitOptions,
  troubleReportMs,
  wentOnMs,
} from "../../src/engine/tarpit.ts";
import { peerReadLimit } from "../../src/engine/transport.ts";
import { horizonMs as learnerHorizonMs, Learner } from "../../src/learn/learner.ts";
import { profilesOf } from "../support/client_models.ts";
import { headEnd, longestSilenceMs, type Pacing, type Protocol } from "../../protocols/protocol.ts";

/** A protocol whose first line has a head, then `rest` more lines of "xy\r\n". */
function testProtocol(rest = Infinity): Protocol {
  return {
    name: "test",
    summary: "test lines",
    verdicts: [],
    minLineLength: 4,
    pacing: pacing(),
    alternatives: [],
    *lines(): Generator<string, void, undefined> {
      yield `220-${headEnd}ab\r\n`;
      for (let i = 0; i < rest; i++) yield "xy\r\n";
    },
  };
}

/** A byte every second, the first after 5 s. */
function pacing(changes: Partial<Pacing> = {}): Pacing {
  return {
    firstDelayMs: 5_000,
    delayMs: 1_000,
    jitterMs: 0,
    pieceSize: 1,
    maxLineLength: 32,
    ...changes,
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
  /** The departure of the last close event. */
  lastDeparture(): Departure;
}

type Options = Partial<TarpitOptions<Connection, Listener>>;

/** A tarpit on one listener (port 22), with every event kept. */
function setUp(options: Options = {}): Setup {
  const clock = new FakeClock();
  const transport = new MemoryTransport();
  const events: TarpitEvent[] = [];
  const tarpit = new Tarpit<Connection, Listener>({
    protocol: testProtocol(),
    profiles: [pacing()],
    maxClients: 10,
    maxPerIp: 10,
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
  const lastDeparture = (): Departure => {
    const close = events.findLast((event) => event.type === "close");
    assert(close?.type === "close", "no close event");
    return close.departure;
  };
  return { clock, transport, events, tarpit, listener, connect, types, lastDeparture };
}

Deno.test("a client hears nothing until the first delay, then the head whole, then a byte a delay", async () => {
  const { clock, connect } = setUp();
  const client = connect();
  await clock.advance(4_999);
  assertEquals(client.received, "");
  await clock.advance(1);
  assertEquals(client.received, "220-");
  await clock.advance(999);
  assertEquals(client.received, "220-");
  await clock.advance(1);
  assertEquals(client.received, "220-a");
  await clock.advance(4_000);
  assertEquals(client.received, "220-ab\r\nx");
});

Deno.test("pieces of --piece-size bytes, or whole lines at 0", async () => {
  const three = setUp({ profiles: [pacing({ pieceSize: 3 })] });
  const a = three.connect();
  await three.clock.advance(8_000);
  // A piece never runs into the next line.
  assertEquals(a.received, "220-ab\r\nxy\r");
  const whole = setUp({ profiles: [pacing({ pieceSize: 0 })] });
  const b = whole.connect();
  await whole.clock.advance(6_000);
  assertEquals(b.received, "220-ab\r\nxy\r\n");
});

Deno.test("jitter spreads each client's pieces between delay - jitter and delay + jitter", async () => {
  const { clock, connect, transport } = setUp({
    profiles: [pacing({ firstDelayMs: 1_000, delayMs: 1_000, jitterMs: 500, pieceSize: 0 })],
    maxClients: 100,
    maxPerIp: 100,
  });
  const clients = Array.from({ length: 40 }, (_, i) => connect("192.0.2.1", i));
  const times = new Map<Connection, number[]>(clients.map((c) => [c, []]));
  const write = transport.write.bind(transport);
  transport.write = (connection, bytes, owner, written) => {
    times.get(connection)!.push(clock.now());
    return write(connection, bytes, owner, written);
  };
  await clock.advance(30_000);
  const gaps = clients.flatMap((c) => times.get(c)!.slice(1).map((t, i) => t - times.get(c)![i]));
  const distinct = new Set(gaps.map((gap) => Math.round(gap / 100)));
  assert(
    Math.min(...gaps) >= 480 && Math.max(...gaps) <= 1_520,
    `gaps ${Math.min(...gaps)}..${Math.max(...gaps)}`,
  );
  // Turns fall on the clock's grid, so that clients share wakeups: a few distinct gaps.
  assert(distinct.size >= 3, `only ${distinct.size} distinct gaps: jitter is not applied`);
});

Deno.test("TCP keepalive is set only where a client may go as long without a piece", async () => {
  const often = setUp({ profiles: [pacing({ delayMs: keepAliveMs - 1_000, jitterMs: 999 })] });
  const seldom = setUp({ profiles: [pacing({ delayMs: keepAliveMs - 1_000, jitterMs: 1_000 })] });
  const late = setUp({
    profiles: [pacing({ firstDelayMs: keepAliveMs - 1_000, jitterMs: 2_000 })],
  });
  const clients = [often.connect(), seldom.connect(), late.connect()];
  for (const { clock } of [often, seldom, late]) await clock.advance(decisionMs);
  assertEquals(clients.map((c) => c.keepAliveMs), [0, keepAliveMs, keepAliveMs]);
});

Deno.test("the events say who came, what they got and how long they stayed", async () => {
  const { clock, connect, events, tarpit } = setUp({ maxClients: 3 });
  const client = connect("198.51.100.7", 50_000);
  await clock.advance(7_500);
  client.resetNow();
  assert(client.closed);
  const [serve, accept, close, ...rest] = events;
  assertEquals(serve, { type: "serve", localPort: 22 });
  assert(accept.type === "accept" && close.type === "close");
  const { host, port, id, localPort, source } = accept.client;
  assertEquals([host, port, id, localPort, source], [
    "198.51.100.7",
    50_000,
    1,
    22,
    "198.51.100.7",
  ]);
  assertEquals([accept.held, accept.max], [1, 3]);
  assertEquals(close.client, accept.client);
  assertEquals(close.error, "ECONNRESET");
  // Its writes at 5, 6 and 7 s were taken: "220-", "a", "b"; it reset mid-line, the first,
  // which it had waited for since it connected.
  assertEquals(close.departure, {
    heldMs: 7_500,
    aliveMs: 7_500,
    leftBy: "reset",
    bytes: 6,
    lines: 0,
    pieces: 3,
    profileLines: 0,
    profilePieces: 3,
    silenceMs: 500,
    longestGapMs: 5_000,
    lineBytes: 6,
    lineMs: 7_500,
    profile: 0,
    profileSinceMs: 0,
    greetedMs: Infinity,
    answeredMs: Infinity,
    counted: false,
  });
  assertEquals(rest, []);
  assertEquals(tarpit.held(), new Map());
});

Deno.test("a client that closed its end and left is let go a moment later, at any pacing: no ghost holds a slot", async () => {
  const { clock, connect, lastDeparture, listener, transport } = setUp({
    profiles: [pacing({ firstDelayMs: 60_000 })],
    maxClients: 1,
  });
  const ghost = connect();
  const waiting = new Connection("192.0.2.2", 1);
  listener.backlog.push(waiting);
  transport.acceptWaiting(listener);
  await clock.advance(3_000);
  ghost.closeEnd();
  assertEquals(
    ghost.received,
    "220-",
    "a write at once: the one way to tell a close from a half-close",
  );
  await clock.advance(probeMs - 1);
  assert(!ghost.closed);
  await clock.advance(1);
  assert(ghost.closed, "let go once the write found it gone, long before its first delay");
  assertEquals([lastDeparture().leftBy, lastDeparture().heldMs], ["closed", 3_000]);
  // As it stood at its FIN: the probe's bytes are not something it waited for.
  assertEquals([lastDeparture().bytes, lastDeparture().silenceMs], [0, 3_000]);
  await clock.advance(0);
  assertEquals(listener.backlog, [], "its slot went to the client waiting");
});

Deno.test("a client that half-closes (sends FIN, reads on) is held and paced on", async () => {
  const { clock, connect } = setUp({ profiles: [pacing({ firstDelayMs: 60_000 })] });
  const client = connect();
  await clock.advance(3_000);
  client.closeEnd(true);
  await clock.advance(probeMs + 3_000);
  assert(!client.closed);
  // The head at once, then a byte a second from the probe on.
  assertEquals(client.received, "220-ab\r");
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

Deno.test("a source holding --max-per-ip clients has its next ones refused; an IPv6 /64 is one source", () => {
  const { connect, events, types, tarpit } = setUp({ maxPerIp: 2 });
  connect("192.0.2.1");
  connect("192.0.2.1");
  const third = connect("192.0.2.1", 3);
  const other = connect("192.0.2.2");
  connect("2001:db8:0:7::1");
  connect("2001:db8:0:7:a::2");
  const sameSlash64 = connect("2001:db8:0:7:ffff::3", 4);
  const otherSlash64 = connect("2001:db8:0:8::1");
  assert(third.closed && sameSlash64.closed);
  assert(!other.closed && !otherSlash64.closed);
  assertEquals(types(), [
    "serve",
    "accept",
    "accept",
    "refuse",
    "accept",
    "accept",
    "accept",
    "refuse",
    "accept",
  ]);
  assertEquals(events[3], {
    type: "refuse",
    host: "192.0.2.1",
    port: 3,
    localPort: 22,
    fromHost: 2,
  });
  assertEquals(tarpit.held().get(22)?.held, 6);
});

Deno.test("full, new clients wait unaccepted; each that leaves lets one in; FULL is said once an interval", async () => {
  const { clock, connect, events, listener, types } = setUp({ maxClients: 2 });
  const first = connect();
  connect();
  const waiting = connect();
  assertEquals(types(), ["serve", "accept", "accept", "full"]);
  assertEquals(events[3], { type: "full", held: 2, max: 2, times: 1 });
  assertEquals(listener.backlog, [waiting]);
  await clock.advance(5_000); // every client has had its first piece
  first.resetNow(); // it leaves, and once that is handled the one waiting comes in
  assertEquals(listener.backlog, [waiting], "not admitted while the engine drops");
  await clock.advance(0);
  assertEquals(listener.backlog, []);
  assertEquals(types().slice(4), ["close", "accept"]);
  // Under churn the tarpit fills again and again: the next report counts the fills.
  let leaving = waiting;
  for (let i = 0; i < 3; i++) {
    const next = connect();
    leaving.resetNow();
    await clock.advance(troubleReportMs / 2);
    leaving = next;
  }
  const fulls = events.filter((event) => event.type === "full");
  assertEquals(fulls.map((event) => event.type === "full" && event.times), [1, 2]);
});

Deno.test("a client that does not read gets no other piece until the kernel takes the last", async () => {
  const { clock, connect, transport, lastDeparture } = setUp({
    profiles: [pacing({ firstDelayMs: 1_000 })],
  });
  const client = connect();
  client.stalled = true;
  await clock.advance(1_000);
  assertEquals(client.pending?.bytes, "220-");
  await clock.advance(10_000); // ten ticks: the transport asserts no write while one is pending
  transport.drain(client);
  client.stalled = false;
  await clock.advance(1_000);
  assertEquals(client.received, "220-a");
  client.stalled = true;
  await clock.advance(1_000);
  transport.drain(client, "EPIPE");
  // Bytes count once the kernel took them: the failed piece is not counted. It was still
  // watched, so the reset that failed the write was seen as it came.
  assertEquals([lastDeparture().bytes, lastDeparture().leftBy], [5, "reset"]);
  assert(client.closed);
});

Deno.test("a client that flooded past the read limit is no longer watched: a failed write says it left before", async () => {
  const { clock, connect, lastDeparture } = setUp({ profiles: [pacing({ firstDelayMs: 1_000 })] });
  const client = connect();
  await clock.advance(500);
  client.send("x".repeat(peerReadLimit));
  await clock.advance(3_500);
  client.reset = true; // unseen: nothing watches it
  assert(!client.closed);
  await clock.advance(1_000);
  assert(client.closed);
  const departure = lastDeparture();
  assertEquals([departure.leftBy, departure.aliveMs, departure.heldMs], ["write", 500, 5_000]);
});

Deno.test("once its protocol has nothing more, a watched client is held in silence; an unwatched one closed after the bound", async () => {
  const setup = setUp({
    protocol: testProtocol(0),
    profiles: [pacing({ firstDelayMs: 1_000, pieceSize: 0 })],
  });
  const { clock, connect, lastDeparture } = setup;
  const watched = connect("192.0.2.1");
  const flooder = connect("192.0.2.2");
  flooder.send("x".repeat(peerReadLimit));
  await clock.advance(2_000);
  assertEquals(watched.received, "220-ab\r\n");
  assertEquals(watched.keepAliveMs, keepAliveMs, "keepalive finds a vanished peer");
  await clock.advance(longestSilenceMs - 1);
  assert(!flooder.closed);
  await clock.advance(1);
  assert(flooder.closed);
  assertEquals([lastDeparture().leftBy, lastDeparture().heldMs], [
    "ended",
    2_000 + longestSilenceMs,
  ]);
  await clock.advance(10 * longestSilenceMs);
  assert(!watched.closed, "held as long as it stays");
  watched.resetNow();
  assertEquals(lastDeparture().leftBy, "reset");
});

Deno.test("--max-lifetime closes a client at its first tick past the lifetime", async () => {
  const { clock, connect, lastDeparture } = setUp({ maxLifetimeMs: 10_000 });
  const client = connect();
  await clock.advance(9_999);
  assert(!client.closed);
  await clock.advance(1_000);
  assert(client.closed);
  assertEquals(lastDeparture().leftBy, "lifetime");
});

Deno.test("out of files, found by accept() or by the check, is one report an interval; listeners are still re-armed", async () => {
  const { transport, tarpit, events, listener, clock } = setUp();
  transport.files = false;
  for (let i = 0; i < 12; i++) {
    tarpit.keepAccepting();
    if (i === 3) listener.admission!.failed("ENFILE");
    await clock.advance(1_000);
  }
  const reports = events.filter((event) => event.type === "file-limit");
  // Ten checks and the one accept() in the ten seconds after the first report.
  assertEquals(reports, [
    { type: "file-limit", held: 0, max: 10, times: 1 },
    { type: "file-limit", held: 0, max: 10, times: 11 },
  ]);
  assertEquals(listener.resumes, 12);
  assertEquals(events.filter((event) => event.type === "accept-failed"), []);
});

Deno.test("other accept failures are reported at most once an interval, with their count", async () => {
  const { listener, events, clock } = setUp();
  for (let i = 0; i < 5; i++) listener.admission!.failed("ENOBUFS");
  await clock.advance(troubleReportMs);
  listener.admission!.failed("ENOBUFS");
  assertEquals(events.filter((event) => event.type === "accept-failed"), [
    { type: "accept-failed", code: "ENOBUFS", times: 1 },
    { type: "accept-failed", code: "ENOBUFS", times: 5 },
  ]);
});

Deno.test("the pacer picks each client's profile a moment after it came, knowing what it sent first, and gets its tag back", async () => {
  const asked: [string, string | undefined][] = [];
  const departed: [string, number, Departure][] = [];
  const pacer: Pacer = {
    ...fixedPacer,
    horizonMs: Infinity,
    stayed: (_source, _tag, profile) => profile,
    choose: (source, firstBytes) => {
      asked.push([source, firstBytes]);
      return firstBytes === undefined ? { profile: 0, tag: 0 } : { profile: 1, tag: 7 };
    },
    departed: (source, tag, departure) => {
      departed.push([source, tag, departure]);
      return "test-family";
    },
  };
  const { clock, connect, events } = setUp({
    profiles: [pacing({ pieceSize: 1 }), pacing({ firstDelayMs: 2_000, pieceSize: 0 })],
    pacer,
  });
  const silent = connect("192.0.2.1");
  const talker = connect("192.0.2.2");
  talker.send("SSH-2.0-libssh_0.10.6\r\n");
  await clock.advance(decisionMs - 1);
  assertEquals(asked, []);
  await clock.advance(1);
  assertEquals(asked, [["192.0.2.1", undefined], ["192.0.2.2", "SSH-2.0-libssh_0.10.6\r\n"]]);
  await clock.advance(1_000);
  assertEquals([silent.received, talker.received], ["", "220-ab\r\n"]);
  talker.resetNow();
  assertEquals(departed.map(([source, tag, d]) => [source, tag, d.profile, d.lines]), [
    ["192.0.2.2", 7, 1, 1],
  ]);
  const close = events.at(-1)!;
  assert(close.type === "close");
  assertEquals(close.family, "test-family");
});

Deno.test("a first piece the pacer asks to come later comes then, to the second, without its profile's jitter", async () => {
  const asked = [17_000, 17_000, 17_000, 17_000, 17_000, 17_000, 17_999, 60_000, 90_000];
  const later = [undefined, ...asked];
  let next = 0;
  const pacer: Pacer = {
    ...fixedPacer,
    choose: () => ({ profile: 0, tag: 0, firstDelayMs: later[next++] }),
  };
  // A profile whose own first piece comes at 2 s, give or take a second.
  const { clock, connect } = setUp({
    profiles: [pacing({ firstDelayMs: 2_000, jitterMs: 1_000 })],
    pacer,
  });
  clock.lateMs = 3; // as real timers do: a wait counted from when a turn fired loses a second
  const clients = later.map((_, i) => connect(`192.0.2.${i + 1}`));
  const firstPieceAt = clients.map(() => -1);
  for (let ms = 0; ms <= 61_000; ms += 100) {
    await clock.advance(100);
    clients.forEach((client, i) => {
      if (firstPieceAt[i] < 0 && client.received !== "") firstPieceAt[i] = clock.now();
    });
  }
  const [own, ...rest] = firstPieceAt;
  assert(own >= 1_000 && own <= 3_100, `its own first piece at ${own} ms`);
  // As asked, every one of them; to the second, never later; and no later than the longest
  // silence a first piece may be: each seen at the first 100 ms step after it came, late
  // by what its timers were.
  assertEquals(rest.map((ms) => Math.floor(ms / 1_000) * 1_000), [
    ...asked.slice(0, 7).map(() => 17_000),
    longestSilenceMs,
    longestSilenceMs,
  ]);
});

Deno.test("a client is reported to the pacer each horizon it stays, with the longest it waited", async () => {
  const stayed: [string, number, number, number][] = [];
  const departed: Departure[] = [];
  const pacer: Pacer = {
    ...fixedPacer,
    horizonMs: 10_000,
    stayed: (source, tag, profile, longestGapMs) => (
      stayed.push([source, profile, longestGapMs, clock.now()]), assertEquals(tag, 3), profile
    ),
    choose: () => ({ profile: 1, tag: 3 }),
    departed: (_, _tag, departure) => (departed.push(departure), "unknown"),
  };
  const { clock, connect } = setUp({ profiles: [pacing(), pacing({ delayMs: 3_000 })], pacer });
  const patient = connect("192.0.2.1");
  const brief = connect("192.0.2.2");
  await clock.advance(9_000);
  brief.resetNow();
  await clock.advance(1_000 - 1);
  assertEquals(stayed, []);
  // Due at its next piece, the first once past the horizon; then each horizon after.
  await clock.advance(3_000);
  assertEquals(stayed, [["192.0.2.1", 1, 5_000, 11_000]]);
  await clock.advance(23_000);
  // Pieces at 5, 8, 11, 14 ... s: told at 11 s, then 23 s, 35 s.
  assertEquals(stayed, [
    ["192.0.2.1", 1, 5_000, 11_000],
    ["192.0.2.1", 1, 5_000, 23_000],
    ["192.0.2.1", 1, 5_000, 35_000],
  ]);
  patient.resetNow();
  assertEquals(stayed.length, 3, "a departure after it was told counts nothing more");
  assertEquals(departed.map((d) => d.heldMs), [9_000, 36_000 - 1]);
  assertEquals(departed.map((d) => d.counted), [false, true], "and its departure says so");
  // The gaps it waited: the first delay, then 3 s ones.
  assertEquals(departed[1].longestGapMs, 5_000);
});

Deno.test("at the horizon the pacer may move a client to a cheaper profile, from its next piece on", async () => {
  const told: [number, number][] = [];
  const departed: Departure[] = [];
  const pacer: Pacer = {
    ...fixedPacer,
    horizonMs: 10_000,
    // Moves a client from the drip to whole lines every 20 s, which then hold it too.
    stayed: (_source, _tag, profile) => (told.push([profile, clock.now()]), 1),
    choose: () => ({ profile: 0, tag: 0 }),
    departed: (_, _tag, departure) => (departed.push(departure), "unknown"),
  };
  const { clock, connect } = setUp({
    profiles: [pacing(), pacing({ delayMs: 20_000, pieceSize: 0 })],
    pacer,
  });
  const client = connect();
  await clock.advance(10_000);
  assertEquals(told, [[0, 10_000]]);
  const at = client.received.length;
  assertEquals(client.received, "220-ab\r\nxy\r\n");
  await clock.advance(19_999);
  assertEquals(client.received.length, at, "nothing for a delay of the new profile");
  await clock.advance(1);
  assertEquals(client.received.slice(at), "xy\r\n", "then a whole line");
  await clock.advance(10_000);
  assertEquals(told, [[0, 10_000], [1, 30_000]], "the new profile is told once it held as long");
  client.resetNow();
  assertEquals([departed[0].profile, departed[0].profileSinceMs], [1, 10_000]);
  // What it was sent on that profile: two whole lines, after 5 pieces of the drip.
  const { pieces, profilePieces, profileLines } = departed[0];
  assertEquals([pieces, profilePieces, profileLines], [7, 2, 2]);
});

Deno.test("a client told to stay is asked again at its next piece once the pacer has news, not a horizon later", async () => {
  const asked: [string, number, number][] = [];
  let news = 0;
  const pacer: Pacer = {
    ...fixedPacer,
    horizonMs: 10_000,
    choose: () => ({ profile: 0, tag: 0 }),
    stayed: (_source, _tag, profile) => (asked.push(["stayed", profile, clock.now()]), profile),
    get news() {
      return news;
    },
    reconsider: (_source, _tag, profile) => (asked.push(["again", profile, clock.now()]), 1),
  };
  const { clock, connect } = setUp({
    profiles: [pacing(), pacing({ delayMs: 20_000, pieceSize: 0 })],
    pacer,
  });
  const client = connect();
  await clock.advance(12_000);
  assertEquals(asked, [["stayed", 0, 10_000]]);
  news++;
  await clock.advance(1_000);
  assertEquals(
    asked,
    [["stayed", 0, 10_000], ["again", 0, 13_000]],
    "asked once, at its next piece",
  );
  const at = client.received.length;
  await clock.advance(19_999);
  assertEquals(client.received.length, at, "then paced by the profile it was given");
  await clock.advance(1);
  assertEquals(asked.slice(2), [["stayed", 1, 33_000]], "and told of once that held it a horizon");
});

Deno.test("a client that closed its end is reported gone before the next client of its source, come as it left, is decided on", async () => {
  const calls: string[] = [];
  const pacer: Pacer = {
    ...fixedPacer,
    horizonMs: Infinity,
    stayed: (_source, _tag, profile) => profile,
    choose: (source) => (calls.push(`choose ${source}`), { profile: 0, tag: 0 }),
    departed: (source) => (calls.push(`departed ${source}`), "unknown"),
  };
  const { clock, connect } = setUp({ pacer });
  const first = connect("192.0.2.1");
  await clock.advance(5_000);
  first.closeEnd();
  connect("192.0.2.1");
  await clock.advance(probeMs);
  assertEquals(calls, ["choose 192.0.2.1", "departed 192.0.2.1", "choose 192.0.2.1"]);
});

Deno.test("a client answers when it speaks after a piece, having spoken after an earlier one", async () => {
  const { clock, connect, lastDeparture } = setUp();
  // It speaks before any piece, then twice after the first (as telnet answers two
  // options), and never after another: no answer.
  const quiet = connect();
  quiet.send("SSH-2.0-x\r\n");
  await clock.advance(5_000);
  quiet.send("\xff\xfd\x01");
  quiet.send("\xff\xfd\x03");
  await clock.advance(2_500);
  quiet.resetNow();
  assertEquals(lastDeparture().answeredMs, Infinity);
  assertEquals(lastDeparture().greetedMs, 5_000);
  // USER after "220-", PASS after three pieces more: it took them for USER's reply.
  const talker = connect();
  await clock.advance(5_000);
  talker.send("USER root\r\n");
  await clock.advance(3_000);
  talker.send("PASS x\r\n");
  await clock.advance(2_500);
  talker.resetNow();
  assertEquals(lastDeparture().answeredMs, 8_000);
  assertEquals(lastDeparture().heldMs, 10_500);
});

/** A pacer that keeps what it is told of answers and departures. */
interface AnswerRecorder {
  readonly pacer: Pacer;
  /** Each answer: source, tag, profile, held ms, and when it was told (by `now`). */
  readonly answered: [string, number, number, number, number][];
  readonly departed: Departure[];
}

/** An {@link AnswerRecorder} that tags every client `tag`, telling time by `now`. */
function answerRecorder(now: () => number, tag = 0): AnswerRecorder {
  const answered: [string, number, number, number, number][] = [];
  const departed: Departure[] = [];
  const pacer: Pacer = {
    ...fixedPacer,
    choose: () => ({ profile: 0, tag }),
    answered: (source, tag, profile, heldMs) =>
      answered.push([source, tag, profile, heldMs, now()]),
    departed: (_, _tag, departure) => (departed.push(departure), "unknown"),
  };
  return { pacer, answered, departed };
}

Deno.test("a client that answers and goes on is told to the pacer at its next turn, held only until it took its greeting; one that answers and leaves is not", async () => {
  const { pacer, answered, departed } = answerRecorder(() => clock.now(), 5);
  const { clock, connect } = setUp({ pacer });
  const talker = connect("192.0.2.7");
  const leaver = connect("192.0.2.8");
  await clock.advance(5_000);
  talker.send("USER root\r\n");
  leaver.send("EHLO x\r\n");
  await clock.advance(3_000);
  assertEquals(answered, []);
  talker.send("PASS x\r\n");
  // Its last words, as its wait for a reply ends mid-line: no progress.
  leaver.send("QUIT\r\n");
  leaver.closeEnd();
  assertEquals(answered, [], "not yet: only a client still there at its next turn went on");
  await clock.advance(1_000);
  // USER answered the first piece, at 5 s: from then on it made progress.
  assertEquals(answered, [["192.0.2.7", 5, 0, 5_000, 9_000]]);
  talker.send("PASS y\r\n");
  await clock.advance(1_000);
  talker.resetNow();
  assertEquals(answered.length, 1, "once");
  assertEquals(
    departed.map((d) => [d.heldMs, d.greetedMs, d.answeredMs]),
    [[8_000, 5_000, Infinity], [10_000, 5_000, 8_000]],
    "the leaver's stay is judged as any other's",
  );
});

Deno.test("a client that answers and waits on, but leaves before its next turn, went on: told as it leaves", async () => {
  const { pacer, answered, departed } = answerRecorder(() => clock.now());
  // Whole lines 10 s apart: its next turn comes long after it answered.
  const { clock, connect } = setUp({
    pacer,
    profiles: [pacing({ delayMs: 10_000, pieceSize: 0 })],
  });
  const waiter = connect("192.0.2.9");
  const quitter = connect("192.0.2.10");
  await clock.advance(5_000);
  waiter.send("USER root\r\n");
  quitter.send("EHLO x\r\n");
  await clock.advance(10_000);
  waiter.send("PASS x\r\n");
  quitter.send("QUIT\r\n");
  // Its last words: it closes as it says them.
  quitter.closeEnd();
  await clock.advance(wentOnMs);
  // The other waited for a reply to PASS a second and more, then gave up.
  waiter.closeEnd();
  await clock.advance(probeMs);
  assertEquals(answered, [["192.0.2.9", 0, 0, 5_000, 16_000 + probeMs]]);
  assertEquals(
    departed.map((d) => [d.heldMs, d.answeredMs]),
    [[15_000, Infinity], [16_000, 15_000]],
  );
});

Deno.test("a client that answered and then sat silent a horizon is stuck again: told to the pacer, and moved", async () => {
  const stayed: [string, number, number][] = [];
  const departed: Departure[] = [];
  const pacer: Pacer = {
    ...fixedPacer,
    horizonMs: 10_000,
    choose: () => ({ profile: 0, tag: 0 }),
    stayed: (source, _tag, profile) => (stayed.push([source, profile, clock.now()]), 1),
    departed: (_, _tag, departure) => (departed.push(departure), "unknown"),
  };
  const { clock, connect } = setUp({
    profiles: [pacing(), pacing({ delayMs: 20_000, pieceSize: 0 })],
    pacer,
  });
  // One answers at 8 s (as hydra sends a user name on telnet) and speaks once more at
  // 12 s; the other answers every second, as a brute-forcer trying passwords does.
  const stuck = connect("192.0.2.1");
  const talker = connect("192.0.2.2");
  await clock.advance(5_000);
  stuck.send("\xff\xfb\x22");
  talker.send("USER root\r\n");
  for (let s = 6; s <= 35; s++) {
    await clock.advance(1_000);
    talker.send("PASS x\r\n");
    if (s === 8) stuck.send("root\r\0");
    if (s === 12) stuck.send("\r\0");
  }
  assertEquals(stayed, [["192.0.2.1", 0, 22_000]], "a horizon after it last spoke, at a piece");
  const at = stuck.received.length;
  await clock.advance(7_000);
  assertEquals(stuck.received.slice(at), "xy\r\n", "then paced by the profile it was given");
  stuck.resetNow();
  talker.resetNow();
  assertEquals(
    departed.map((d) => [d.profile, d.profileSinceMs, d.answeredMs, d.counted]),
    [[1, 22_000, 8_000, true], [0, 0, 6_000, false]],
  );
});

Deno.test("held() adds up the clients held now, per listening port", async () => {
  const { clock, connect, tarpit, transport } = setUp();
  const other = new Listener(2222);
  tarpit.serve(other);
  connect();
  connect();
  other.backlog.push(new Connection("192.0.2.3", 1));
  transport.acceptWaiting(other);
  await clock.advance(6_000);
  assertEquals(
    tarpit.held(),
    new Map([
      [22, { held: 2, bytes: 2 * "220-a".length, trappedMs: 12_000 }],
      [2222, { held: 1, bytes: "220-a".length, trappedMs: 6_000 }],
    ]),
  );
});

Deno.test("full across several listeners: one leaving resumes them all", async () => {
  const { clock, connect, tarpit, transport, listener } = setUp({ maxClients: 1 });
  const other = new Listener(2222);
  tarpit.serve(other);
  const first = connect();
  const waitingHere = new Connection("192.0.2.5", 5);
  const waitingThere = new Connection("192.0.2.6", 6);
  listener.backlog.push(waitingHere);
  other.backlog.push(waitingThere);
  transport.acceptWaiting(listener);
  transport.acceptWaiting(other);
  const resumes = [listener.resumes, other.resumes];
  first.resetNow();
  await clock.advance(0);
  assertEquals([listener.resumes, other.resumes], [resumes[0] + 1, resumes[1] + 1]);
  assertEquals(tarpit.held().size, 1);
});

Deno.test("shutdown closes every listener and client, each with its close event, and admits no more", () => {
  const { connect, tarpit, listener, types, transport, lastDeparture } = setUp();
  const clients = [connect(), connect()];
  tarpit.shutdown();
  assert(listener.closed);
  assert(clients.every((client) => client.closed));
  assertEquals(types(), ["serve", "accept", "accept", "close", "close"]);
  assertEquals(lastDeparture().leftBy, "shutdown");
  const late = new Connection("192.0.2.1", 1);
  listener.backlog.push(late);
  transport.acceptWaiting(listener);
  tarpit.keepAccepting();
  assertEquals(listener.backlog, [late]);
});

/** What tests/support/engine_heap.ts prints for `count` clients: bytes of memory each. */
async function engineBytesPerClient(count: number): Promise<number> {
  const args = [
    "run",
    "--v8-flags=--expose-gc,--jitless",
    new URL("../support/engine_heap.ts", import.meta.url).pathname,
    String(count),
  ];
  const { stdout } = await new Deno.Command(Deno.execPath(), { args }).output();
  return Number(new TextDecoder().decode(stdout));
}

Deno.test("a held client costs the engine a slot of narrow columns, not an object of whole words", async () => {
  // What one more client adds, so that what the engine costs once is left out.
  const [few, many] = [10_000, 30_000];
  const bytes = await Promise.all([few, many].map(engineBytesPerClient));
  const perClient = (bytes[1] * many - bytes[0] * few) / (many - few);
  assert(perClient > 0 && perClient <= 200, `${perClient} bytes a client (${bytes})`);
});

Deno.test("a write that completes after its client left is not taken for the client in its slot now", async () => {
  const { clock, connect, events, transport } = setUp({ maxClients: 1 });
  const first = connect("192.0.2.1");
  first.stalled = true;
  await clock.advance(5_000);
  assert(first.pending !== undefined, "no write pending");
  const { written, owner } = first.pending;
  first.pending = undefined;
  first.closeEnd();
  first.reset = true;
  await clock.advance(1_000);
  assertEquals(events.filter((event) => event.type === "close").length, 1);
  const second = connect("192.0.2.2");
  await clock.advance(4_999);
  written(owner, "ECONNRESET"); // the runtime reports the first client's write at last
  await clock.advance(2);
  assertEquals(second.closed, false);
  assertEquals(second.received, "220-");
  assertEquals(transport.writes.at(-1)?.[0], second);
});

Deno.test("under fixed pacing the engine asks its learner nothing per turn, however long a client stays", async () => {
  const fixed = new Learner({ protocol: "smtp", profiles: profilesOf("smtp"), learn: false });
  let asked = 0;
  const pacer: Pacer = {
    horizonMs: fixed.horizonMs,
    get news() {
      return fixed.news;
    },
    choose: (source, firstBytes) => fixed.choose(source, firstBytes),
    stayed: (source, tag, profile, longestGapMs) => {
      asked++;
      return fixed.stayed(source, tag, profile, longestGapMs);
    },
    reconsider: (source, tag, profile) => {
      asked++;
      return fixed.reconsider(source, tag, profile);
    },
    answered: (source, tag, profile, heldMs) => fixed.answered(source, tag, profile, heldMs),
    departed: (source, tag, departure) => fixed.departed(source, tag, departure),
  };
  const { clock, connect, tarpit, lastDeparture } = setUp({ pacer });
  connect();
  await clock.advance(10 * learnerHorizonMs);
  tarpit.shutdown();
  assertEquals([asked, lastDeparture().counted], [0, false]);
});
