/**
 * The engine: admits clients, drips their protocol's lines, notices when they leave.
 * It knows nothing of any protocol beyond `Protocol.lines()` and the head mark a line may
 * carry, nothing of sockets beyond its {@link Transport} port, nothing of time beyond its
 * {@link Clock}, and nothing of how a client's pacing is chosen beyond its {@link Pacer}.
 * What it does, it reports as {@link TarpitEvent}s.
 *
 * A client's life: it is admitted while there is room and its source holds fewer than
 * `maxPerIp`, and its peer is watched from then on (see {@link Transport.watch}), so a
 * client that resets is let go as it happens. One that closes its end (FIN) may have left,
 * or may still read (a half-close): only a write can tell, so it is sent its next piece at
 * once and let go if its peer is gone {@link probeMs} later. A moment after it came
 * ({@link decisionMs}) the pacer picks one of the tarpit's pacing profiles for it,
 * knowing what the client sent first; its first piece comes after that profile's first
 * delay, then a piece every delay, a byte or a few of the current line, until it leaves.
 * When its protocol has nothing more to send it is held in silence while it is watched,
 * and closed after {@link longestSilenceMs} once it is not, since only a write could then
 * tell that it left.
 *
 * The accept policy is {@link Tarpit.hasRoom} and {@link Tarpit.keepAccepting}, with one
 * report for each condition: `full`, `file-limit` (out of descriptors, however it was
 * found) and `accept-failed` (any other error).
 *
 * What a client costs is its connection in the runtime plus one small record: the line
 * iterator, the line being sent and how far, the pacing clock's links and the few times
 * its departure record needs. No timer, closure or listener is made per client, and a
 * tick of one byte allocates nothing: the byte is a one-character string, which V8 keeps
 * cached.
 *
 * Bounds under abuse:
 * - a client's bytes are read only up to `peerReadLimit` in all, into one shared buffer;
 *   past it, a flooding client fills its own kernel buffers, not ours;
 * - at most one piece waits in user space per client: a client that does not read is
 *   skipped until the kernel has taken what it was given;
 * - at most `maxClients` are held, at most `maxPerIp` from one source;
 * - trouble is reported at most once per {@link troubleReportMs} each.
 *
 * @module
 */
import type { LineOptions, Protocol } from "../../protocols/mod.ts";
import { headEnd, longestSilenceMs, type Pacing } from "../../protocols/protocol.ts";
import { sourceOf } from "../text/address.ts";
import type { ClientRef, Departure, LeftBy, TarpitEvent } from "./events.ts";
import { fixedPacer, type Pacer } from "./pacer.ts";
import { type Clock, laneDelays, type Paced, PacingClock, realTime } from "./pacing_clock.ts";
import { type LineCursor, nextPiece } from "./pieces.ts";
import type { Gate, PeerWatch, Transport } from "./transport.ts";

/** How a {@link Tarpit} treats its clients: the command line's flags, checked. */
export interface TrapPolicy {
  /** The lines each client is sent. */
  readonly protocol: Protocol;
  /**
   * The pacings a client may be sent with: the pacer picks one for each client. Each first
   * delay is at most {@link longestSilenceMs}.
   */
  readonly profiles: readonly Pacing[];
  /** Clients held at once; past it, new ones wait in the kernel's backlog. */
  readonly maxClients: number;
  /** Clients one source (an IPv4 address or IPv6 /64) may hold; more are closed on arrival. */
  readonly maxPerIp: number;
  /** `--banner`, for protocols that drip one. */
  readonly banner: string;
  /** 0 holds a client until it leaves. */
  readonly maxLifetimeMs: number;
}

/** A {@link Tarpit}'s policy, and what it runs on. */
export interface TarpitOptions<C, L> extends TrapPolicy {
  /** The network, through its port. */
  readonly transport: Transport<C, L>;
  /** Receives every event, in order. */
  readonly onEvent: (event: TarpitEvent) => void;
  /** Picks each client's profile; the first profile for all when not given. */
  readonly pacer?: Pacer;
  /** The time and timer pieces are paced by; real time when not given. */
  readonly clock?: Clock;
}

/** What the clients held now add up to, on one listening port. */
export interface HeldOnPort {
  /** Clients held. */
  held: number;
  /** Bytes they have taken so far. */
  bytes: number;
  /** Time they have spent trapped so far. */
  trappedMs: number;
}

/**
 * A new client's pacing is chosen this soon after it was accepted (or at its first
 * delay, if that is sooner): long enough for a client that speaks first to have sent its
 * opening, which the pacer may read.
 */
export const decisionMs = 1_000;

/**
 * How long after writing to a client that closed its end its peer is checked: a peer
 * that left answers the write with a reset within a round trip; one that only stopped
 * sending reads on.
 */
export const probeMs = 1_000;

/**
 * Idle time before TCP keepalive probes: reaps peers that vanished without FIN or RST
 * while nothing was in flight. Only a connection left idle this long needs it, so it is
 * set only where a client can go this long without a piece (a piece sooner keeps the
 * connection from ever being idle that long: in flight, retransmission finds a vanished
 * peer), as setting it costs system calls.
 */
export const keepAliveMs = 60_000;

/**
 * A client still there this long after its answer went on, even if it left before its
 * next turn: it waited for more. One that leaves as it speaks (smtp-brute's `QUIT` as
 * its wait for a reply ends) closes within a round trip of its last words.
 */
export const wentOnMs = 1_000;

/** How often each kind of trouble (full, out of files, accept failing) is reported. */
export const troubleReportMs = 10_000;

/**
 * The longest a profile leaves a client without a byte: its first delay or a delay, with
 * their jitter, as the pacing clock's lanes make them.
 *
 * @example
 * ```ts
 * import { longestSilence } from "./tarpit.ts";
 * const pacing = { firstDelayMs: 22_000, delayMs: 2_000, jitterMs: 1_000, pieceSize: 1, maxLineLength: 32 };
 * longestSilence(pacing); // 23000
 * ```
 */
export function longestSilence(pacing: Pacing): number {
  return Math.max(...firstPieceDelays(pacing, 0), ...laneDelays(pacing.delayMs, pacing.jitterMs));
}

/** The first-piece lanes of `pacing`, counted from `afterMs` past the arrival. */
function firstPieceDelays(pacing: Pacing, afterMs: number): number[] {
  const restMs = Math.max(0, pacing.firstDelayMs - afterMs);
  return laneDelays(restMs, Math.min(pacing.jitterMs, Math.floor(restMs / 2))).map((ms) =>
    ms + afterMs
  );
}

/** Error codes that mean the process is out of file descriptors. */
const outOfFiles = new Set(["EMFILE", "ENFILE"]);

/**
 * Counts trouble that may repeat many times a second and says when to report it: at
 * most once per {@link troubleReportMs}, with how many times it happened since.
 */
class ReportLimiter {
  #count = 0;
  #reportedAt = -Infinity;

  /** Counts one; returns the count to report now, or undefined to stay quiet. */
  count(now: number): number | undefined {
    this.#count++;
    if (now - this.#reportedAt < troubleReportMs) return undefined;
    this.#reportedAt = now;
    const count = this.#count;
    this.#count = 0;
    return count;
  }
}

/**
 * "Never", as a time after a client's connect: the largest integer V8 keeps in an
 * object's field itself (a small integer). Infinity would take a box of its own in every
 * client's record, as a fraction would (src/runtime/transport.ts lists it).
 */
const never = 2 ** 31 - 1;

/** The time a watched peer stopped being watched: never. */
const watched = never;

/** A client held, with the pacing clock's links and its place in its protocol's lines. */
export class TrappedClient<C> implements Paced, LineCursor, ClientRef {
  dueAt = 0;
  /** The pacing clock's lane it waits in; -1 when not scheduled. */
  lane: number = -1;
  /** The client before it in its lane. */
  prev: Paced | null = null;
  /** The client after it in its lane. */
  next: Paced | null = null;
  /** Bytes the kernel has taken for it so far. */
  bytesSent = 0;
  /**
   * The length of a piece the kernel has not taken yet, as when the client does not
   * read: no other is sent until it has. 0 when none waits.
   */
  pendingBytes = 0;
  /** The lines its protocol makes for it, from when its profile is chosen. */
  lines: Iterator<string, void, undefined> = noLines;
  /** The line being sent, and the index of its next character. */
  line = "";
  offset = 0;
  /** Its pacing profile: an index into the tarpit's profiles. */
  profile = 0;
  /** What the pacer tagged it with, given back to the pacer with it. */
  tag = 0;
  /** Lines sent whole. */
  linesSent = 0;
  /** Pieces the kernel took for it. */
  piecesSent = 0;
  /** When its last piece was sent. */
  lastPieceAt: number;
  /** The longest wait between two of its pieces, or before its first. */
  longestGapMs = 0;
  /**
   * Since when it has waited for the line being sent: when the line before it ended, or
   * when it connected. A client reading a line with an alarm waits that long.
   */
  lineWaitFrom: number;
  /** Since when (ms after its connect) its peer is no longer watched; {@link never} while it is. */
  unwatchedAfter: number = watched;
  /** What it sent first, kept until its profile is chosen. */
  firstBytes: string | undefined = undefined;
  /**
   * Its departure as it stood when it closed its end (FIN), while that is not known to be
   * a half-close: the write that tells must not count as something it got.
   */
  closedEnd: Departure | undefined = undefined;
  /** When (ms after its connect) its profile began: 0, or when the pacer changed it. */
  profileSince = 0;
  /** Pieces it had been sent when its profile began. */
  piecesBeforeProfile = 0;
  /** Lines it had been sent whole when its profile began. */
  linesBeforeProfile = 0;
  /** Pieces it had been sent when it last spoke; 0 until it spoke after one. */
  spokeAfterPiece = 0;
  /**
   * When (ms after its connect) it first spoke after a piece: if it answers, it took
   * what it had been sent then for a greeting. {@link never} until it does.
   */
  greetedMs: number = never;
  /**
   * When (ms after its connect) it answered: spoke after a piece, having spoken after
   * an earlier one. It then took something it was sent for a reply to what it had said,
   * as a brute-forcer that reads any 3 bytes for its answer does. {@link never} until it
   * does.
   */
  answeredMs: number = never;
  /**
   * Whether it went on after its answer, still there at its next turn: only then was the
   * answer progress (a brute-forcer trying password after password on one connection),
   * and the pacer is told. One that leaves at once said its last words (smtp-brute's
   * `QUIT` as its wait for a reply times out), and its stay is judged as any other's.
   */
  wentOn = false;
  /** When (ms after its connect) it last spoke: 0 until it did. */
  spokeAtMs = 0;
  /** Whether the pacer was told its profile held it to the horizon. */
  credited = false;
  /** When (ms after its connect) the pacer was last told it stayed: 0 until then. */
  checkedAt = 0;
  /** The pacer's news when it last chose this client's profile at a horizon. */
  news = 0;
  /**
   * When (ms after its connect) its first piece goes, when its pacer asked for it later
   * than its profile's; 0 otherwise.
   */
  waitsUntil = 0;

  /** A client just admitted. */
  constructor(
    readonly connection: C,
    readonly host: string,
    readonly port: number,
    readonly source: string,
    readonly id: number,
    readonly localPort: number,
    readonly connectedAt: number,
  ) {
    this.lastPieceAt = connectedAt;
    this.lineWaitFrom = connectedAt;
  }
}

const noLines: Iterator<string, void, undefined> = {
  next: () => ({ done: true, value: undefined }),
};

/**
 * A tarpit serving one protocol on any number of listeners.
 *
 * @example
 * ```ts ignore
 * import { Tarpit } from "./tarpit.ts";
 * import { protocols } from "../../protocols/mod.ts";
 * const tarpit = new Tarpit({
 *   protocol: protocols.ssh, profiles: [protocols.ssh.pacing],
 *   maxClients: 4096, maxPerIp: 32, banner: "", maxLifetimeMs: 0,
 *   transport, onEvent: (event) => console.log(event.type),
 * });
 * tarpit.serve(listener);
 * // on a heartbeat: tarpit.keepAccepting(); on SIGTERM: tarpit.shutdown();
 * ```
 */
export class Tarpit<C, L> {
  readonly #options: TarpitOptions<C, L>;
  readonly #transport: Transport<C, L>;
  readonly #emit: (event: TarpitEvent) => void;
  readonly #pacer: Pacer;
  /** One object for each profile's line iterators. */
  readonly #lineOptions: readonly LineOptions[];
  readonly #clients = new Set<TrappedClient<C>>();
  /** Clients held per source; never larger than the clients held. */
  readonly #perSource = new Map<string, number>();
  readonly #time: Clock;
  readonly #clock: PacingClock<TrappedClient<C>>;
  readonly #gates: Gate[] = [];
  #nextId = 1;
  #acceptPaused = false;
  #resumeQueued = false;
  // One limiter per kind: one kind of trouble must not silence another.
  readonly #fullReports = new ReportLimiter();
  readonly #fileLimitReports = new ReportLimiter();
  readonly #acceptFailureReports = new ReportLimiter();
  #stopping = false;
  // Read for every piece: arrays and fields, not lookups in the options.
  readonly #pieceSizes: readonly number[];
  /** Per profile, whether a client may go {@link keepAliveMs} without a piece. */
  readonly #needsKeepAlive: readonly boolean[];
  readonly #maxLifetimeMs: number;
  /** Bound once: the callbacks handed to the transport with each watch and write. */
  readonly #watch: PeerWatch<TrappedClient<C>>;
  readonly #written: (client: TrappedClient<C>, error?: string) => void;
  readonly #endedGroup: number;

  /** A tarpit with `options`; it serves nothing until {@link Tarpit.serve} is given a listener. */
  constructor(options: TarpitOptions<C, L>) {
    this.#options = options;
    this.#transport = options.transport;
    this.#emit = options.onEvent;
    this.#pacer = options.pacer ?? fixedPacer;
    this.#time = options.clock ?? realTime();
    const { profiles } = options;
    this.#lineOptions = profiles.map(({ maxLineLength }) => ({
      maxLineLength,
      banner: options.banner,
    }));
    this.#pieceSizes = profiles.map((profile) => profile.pieceSize);
    this.#needsKeepAlive = profiles.map((profile) => longestSilence(profile) >= keepAliveMs);
    this.#maxLifetimeMs = options.maxLifetimeMs;
    const decideAfter = Math.min(decisionMs, ...profiles.map((p) => p.firstDelayMs));
    // Groups: the check after a probe, the decision, each profile's first piece and ticks,
    // then the wait of a client whose protocol has ended. The clock serves the clients due
    // together in this order, so a client found gone is reported before the next client of
    // its source, come as it left, is decided on.
    const groups = [[probeMs], [decideAfter]];
    for (const profile of profiles) {
      groups.push(firstPieceDelays(profile, decideAfter).map((ms) => ms - decideAfter));
      groups.push(laneDelays(profile.delayMs, profile.jitterMs));
    }
    this.#endedGroup = groups.length;
    groups.push([longestSilenceMs]);
    // Then the hops of a wait before a first piece that its pacer asked to come later.
    for (const stepMs of waitStepsMs) groups.push([stepMs]);
    this.#clock = new PacingClock(
      groups,
      Math.min(...profiles.map((profile) => profile.delayMs)),
      // Bound, not wrapped: one call less for every piece.
      this.#due.bind(this),
      this.#time,
    );
    this.#watch = {
      sent: (client, firstBytes) => {
        if (client.lines === noLines) client.firstBytes = firstBytes;
      },
      spoke: (client) => this.#spoke(client),
      left: (client, code) =>
        code === "EOF" ? this.#closedEnd(client) : this.#drop(client, "reset", code),
      stopped: (client) => client.unwatchedAfter = this.#time.now() - client.connectedAt,
    };
    this.#written = this.#pieceWritten.bind(this);
  }

  /** Serves a listener until {@link shutdown}. */
  serve(listener: L): void {
    // Every client of a listener has its port: look it up once, not per accept.
    const localPort = this.#transport.localPort(listener);
    this.#emit({ type: "serve", localPort });
    this.#gates.push(this.#transport.serve(listener, {
      hasRoom: () => this.hasRoom(),
      admit: (connection) => this.#admit(connection, localPort),
      failed: (code) => this.#acceptFailed(code),
    }));
  }

  /**
   * The accept policy: another client may be taken while fewer than `maxClients` are
   * held. When full, accepting pauses (reported as `full`), and the clients that come
   * wait in the kernel's listen backlog until one leaves.
   */
  hasRoom(): boolean {
    if (this.#stopping) return false;
    if (this.#clients.size < this.#options.maxClients) return true;
    if (!this.#acceptPaused) {
      this.#acceptPaused = true;
      // Under churn, every client that leaves lets one in and fills the tarpit again:
      // report at most once per interval, with how often it filled.
      const times = this.#fullReports.count(this.#time.now());
      if (times !== undefined) {
        this.#emit({
          type: "full",
          held: this.#clients.size,
          max: this.#options.maxClients,
          times,
        });
      }
    }
    return false;
  }

  /**
   * Reports `file-limit` when the process is out of descriptors, then re-arms every
   * listener and takes the clients waiting while there is room. A runtime may stop
   * accepting on a listener, silently and for good, once its own accept() failed
   * (EMFILE) or found no room. A client leaving frees both and re-arms the listeners at
   * once; called on a heartbeat, this is the net for whatever else freed them.
   */
  keepAccepting(): void {
    if (this.#stopping || this.#clients.size >= this.#options.maxClients) return;
    if (this.#transport.outOfDescriptors()) this.#acceptFailed("EMFILE");
    for (const gate of this.#gates) gate.resume();
  }

  /**
   * What the clients held now add up to, per listening port: counted on demand, so that
   * nothing is counted per piece.
   */
  held(): Map<number, HeldOnPort> {
    const now = this.#time.now();
    const ports = new Map<number, HeldOnPort>();
    for (const client of this.#clients) {
      let port = ports.get(client.localPort);
      if (port === undefined) {
        ports.set(client.localPort, port = { held: 0, bytes: 0, trappedMs: 0 });
      }
      port.held++;
      port.bytes += client.bytesSent;
      port.trappedMs += now - client.connectedAt;
    }
    return ports;
  }

  /** Stops accepting and closes every client, each with its `close` event. */
  shutdown(): void {
    this.#stopping = true;
    this.#clock.stop();
    for (const gate of this.#gates) gate.close();
    for (const client of [...this.#clients]) this.#drop(client, "shutdown");
  }

  #admit(connection: C, localPort: number): void {
    const transport = this.#transport;
    const peer = transport.peer(connection);
    if (peer === undefined) {
      // Reset while it waited to be accepted: holding it would only cost a slot.
      this.#emit({ type: "gone" });
      transport.close(connection);
      return;
    }
    const { address: host, port } = peer;
    const source = sourceOf(host);
    const fromSource = this.#perSource.get(source) ?? 0;
    if (fromSource >= this.#options.maxPerIp) {
      // One source must not take every slot: its extra connections are closed at once,
      // costing it a handshake and us nothing held.
      this.#emit({ type: "refuse", host, port, localPort, fromHost: fromSource });
      transport.close(connection);
      return;
    }
    this.#perSource.set(source, fromSource + 1);
    const now = this.#time.now();
    const client = new TrappedClient(
      connection,
      host,
      port,
      source,
      this.#nextId++,
      localPort,
      now,
    );
    this.#clients.add(client);
    this.#clock.schedule(client, decisionGroup, now);
    this.#emit({ type: "accept", client, held: this.#clients.size, max: this.#options.maxClients });
    transport.watch(connection, client, this.#watch);
  }

  #due(client: TrappedClient<C>, now: number, group: number): void {
    const maxLifetimeMs = this.#maxLifetimeMs;
    if (maxLifetimeMs > 0 && now - client.connectedAt >= maxLifetimeMs) {
      this.#drop(client, "lifetime");
      return;
    }
    // Still there, and not closing: a client that closed its end is probed, not going on.
    if (client.answeredMs !== never && !client.wentOn && client.closedEnd === undefined) {
      this.#wentOn(client);
    }
    if (group === decisionGroup) {
      this.#decide(client);
      this.#waitForFirst(client, now);
    } else if (group > this.#endedGroup) {
      this.#waitForFirst(client, now);
    } else if (group === this.#endedGroup) {
      this.#creditIfStayed(client, now);
      // Nothing more to send: while its peer is watched its leaving will be seen, so it
      // is held; once not, only a write could tell, and none will come.
      if (client.unwatchedAfter === watched) this.#clock.schedule(client, group, now);
      else this.#drop(client, "ended");
    } else if (group === probeGroup) {
      if (this.#transport.peer(client.connection) === undefined) {
        this.#drop(client, "closed");
        return;
      }
      // Still there after a write: it only stopped sending, and reads on.
      client.closedEnd = undefined;
      this.#clock.schedule(client, tickGroup(client.profile), now);
    } else {
      this.#send(client, now, tickGroup(client.profile));
    }
  }

  /**
   * Sends the client its next piece, and schedules it in `group` for its next turn; or,
   * when its protocol has nothing more, in the wait of an ended protocol.
   */
  #send(client: TrappedClient<C>, now: number, group: number): void {
    if (this.#creditIfStayed(client, now) && group !== probeGroup) {
      group = tickGroup(client.profile);
    }
    // The kernel has not taken the last piece yet (the client is not reading): do not
    // queue another in user space.
    const piece = client.pendingBytes > 0
      ? ""
      : nextPiece(client, this.#pieceSizes[client.profile]);
    if (piece === undefined) {
      if (client.unwatchedAfter === watched) {
        this.#transport.keepAlive(client.connection, keepAliveMs);
      }
      this.#clock.schedule(client, this.#endedGroup, now);
      return;
    }
    this.#clock.schedule(client, group, now);
    if (piece === "") return;
    const outcome = this.#transport.write(client.connection, piece, client, this.#written);
    if (outcome === "sent") this.#taken(client, piece.length, now);
    else if (outcome === "pending") client.pendingBytes = piece.length;
    else this.#dropAfterWrite(client, outcome.gone);
  }

  /**
   * The client closed its end (FIN). Whether it left or still reads (a half-close) only a
   * write can tell: it gets its next piece now, its first if need be, and its peer is
   * checked {@link probeMs} later. A protocol that has ended has nothing to write: its
   * client, no longer watched, is closed after the bound on silence.
   */
  #closedEnd(client: TrappedClient<C>): void {
    const now = this.#time.now();
    client.closedEnd = departureOf(client, "closed", now, false);
    client.unwatchedAfter = now - client.connectedAt;
    if (this.#clock.groupOf(client) === this.#endedGroup) return;
    this.#clock.remove(client);
    if (client.lines === noLines) this.#decide(client);
    this.#send(client, now, probeGroup);
  }

  /**
   * Each time the client has been held the pacer's horizon more, since its profile began
   * or since it was last told, tells the pacer, and goes on with the profile it answers: a
   * cheaper one, when it expects that to hold the client as long. A client told to stay
   * is asked again when the pacer has news, not a horizon later. Returns whether the
   * profile changed.
   */
  #creditIfStayed(client: TrappedClient<C>, now: number): boolean {
    const pacer = this.#pacer;
    const heldMs = now - client.connectedAt;
    let next: number;
    if (heldByProfile(client, heldMs) >= pacer.horizonMs) {
      client.checkedAt = heldMs;
      next = pacer.stayed(client.source, client.tag, client.profile, client.longestGapMs);
    } else if (client.credited && client.news !== pacer.news) {
      next = pacer.reconsider(client.source, client.tag, client.profile);
    } else {
      return false;
    }
    client.news = pacer.news;
    if (next === client.profile) {
      client.credited = true;
      return false;
    }
    client.credited = false;
    client.profile = next;
    client.profileSince = heldMs;
    client.piecesBeforeProfile = client.piecesSent;
    client.linesBeforeProfile = client.linesSent;
    if (this.#needsKeepAlive[next]) this.#transport.keepAlive(client.connection, keepAliveMs);
    return true;
  }

  /**
   * The client answered and is still there: the pacer hears of its progress. That began
   * when it took what it was sent for a greeting: its profile held it until then, or,
   * moved since, until it answered.
   */
  #wentOn(client: TrappedClient<C>): void {
    client.wentOn = true;
    const { greetedMs, answeredMs, profileSince } = client;
    const heldMs = (greetedMs >= profileSince ? greetedMs : answeredMs) - profileSince;
    this.#pacer.answered(client.source, client.tag, client.profile, heldMs);
  }

  /**
   * The client sent something. What it says is never looked at; when it says it is. Its
   * options' replies to one piece (telnet's) are one answer however many reads they take.
   */
  #spoke(client: TrappedClient<C>): void {
    const pieces = client.piecesSent;
    client.spokeAtMs = this.#time.now() - client.connectedAt;
    if (pieces === client.spokeAfterPiece || client.answeredMs !== never) return;
    if (client.spokeAfterPiece > 0) {
      client.answeredMs = client.spokeAtMs;
    } else {
      client.greetedMs = client.spokeAtMs;
    }
    client.spokeAfterPiece = pieces;
  }

  /** Picks the client's profile and makes its lines. */
  #decide(client: TrappedClient<C>): void {
    const choice = this.#pacer.choose(client.source, client.firstBytes);
    const { profile, tag } = choice;
    client.firstBytes = undefined;
    client.profile = profile;
    client.tag = tag;
    client.lines = this.#options.protocol.lines(this.#lineOptions[profile]);
    let needsKeepAlive = this.#needsKeepAlive[profile];
    if (choice.firstDelayMs !== undefined) {
      client.waitsUntil = Math.min(choice.firstDelayMs, longestSilenceMs);
      needsKeepAlive ||= client.waitsUntil >= keepAliveMs;
    }
    if (needsKeepAlive) this.#transport.keepAlive(client.connection, keepAliveMs);
  }

  /**
   * Schedules the client's first piece: in its profile's first-piece lanes, or, when its
   * pacer asked for it later, at that time to the second, after a wait made in
   * whole-second hops, each the longest of {@link waitStepsMs} that fits what is left.
   */
  #waitForFirst(client: TrappedClient<C>, now: number): void {
    if (client.waitsUntil === 0) {
      this.#clock.schedule(client, firstPieceGroup(client.profile), now);
      return;
    }
    // Counted from when this turn was due, as the clock counts the next: a timer that
    // fires late must not make the rest fall short of a whole second, and lose one.
    const restMs = client.waitsUntil - Math.round(client.dueAt - client.connectedAt);
    let step = waitStepsMs.length - 1;
    while (step >= 0 && waitStepsMs[step] > restMs) step--;
    if (step >= 0) this.#clock.schedule(client, this.#endedGroup + 1 + step, now);
    else this.#send(client, now, tickGroup(client.profile));
  }

  /** The kernel took `bytes` of the client's piece. */
  #taken(client: TrappedClient<C>, bytes: number, now: number): void {
    // Counted once the kernel took them, as endlessh counts what write(2) returns.
    client.bytesSent += bytes;
    client.piecesSent++;
    if (now - client.lastPieceAt > client.longestGapMs) {
      client.longestGapMs = now - client.lastPieceAt;
    }
    client.lastPieceAt = now;
    if (client.offset >= client.line.length) {
      client.linesSent++;
      client.lineWaitFrom = now;
    }
  }

  /** A pending write finished: the kernel took the piece, or the peer is gone. */
  #pieceWritten(client: TrappedClient<C>, error?: string): void {
    const bytes = client.pendingBytes;
    client.pendingBytes = 0;
    if (!this.#clients.has(client)) return;
    if (error === undefined) this.#taken(client, bytes, this.#time.now());
    else this.#dropAfterWrite(client, error);
  }

  /**
   * A write failed. While its peer is watched, the reset that failed it was seen as it
   * came; once not, the client left some time before.
   */
  #dropAfterWrite(client: TrappedClient<C>, error: string): void {
    this.#drop(client, client.unwatchedAfter === watched ? "reset" : "write", error);
  }

  /** Closes a client's connection and forgets it; `error` says what told it was gone. */
  #drop(client: TrappedClient<C>, leftBy: LeftBy, error?: string): void {
    if (!this.#clients.delete(client)) return;
    this.#transport.close(client.connection);
    const fromSource = (this.#perSource.get(client.source) ?? 1) - 1;
    if (fromSource === 0) this.#perSource.delete(client.source);
    else this.#perSource.set(client.source, fromSource);
    this.#clock.remove(client);
    // One that closed its end and was then found gone by a write left when it closed.
    const closed = leftBy === "closed" || leftBy === "reset" || leftBy === "write";
    const closedEnd = closed ? client.closedEnd : undefined;
    const now = this.#time.now();
    const heldMs = closedEnd === undefined ? now - client.connectedAt : closedEnd.heldMs;
    // One that waited on after its answer, and left before its next turn, went on too.
    if (
      client.answeredMs !== never && !client.wentOn && heldMs - client.answeredMs >= wentOnMs
    ) {
      this.#wentOn(client);
    }
    const stayed = !client.credited && heldByProfile(client, heldMs) >= this.#pacer.horizonMs;
    if (stayed) this.#pacer.stayed(client.source, client.tag, client.profile, client.longestGapMs);
    const counted = client.credited || stayed;
    // Made whole here, not copied: a record per client, made jitless.
    const departure = closedEnd === undefined
      ? departureOf(client, leftBy, now, counted)
      : { ...closedEnd, counted, answeredMs: recordedAnswer(client) };
    const family = this.#pacer.departed(client.source, client.tag, departure);
    this.#emit({ type: "close", client, departure, family, error });
    if (this.#stopping) return;
    // Its room and its descriptor may be what a listener the runtime stopped polling
    // waits for, full or out of files: re-arming costs no system call.
    this.#acceptPaused = false;
    this.#resumeSoon();
  }

  /**
   * Resumes every listener once the event being handled is done: resuming admits
   * clients, which must not happen while the engine is in the middle of dropping one
   * (from a timer tick, a write's completion or the watch).
   */
  #resumeSoon(): void {
    if (this.#resumeQueued) return;
    this.#resumeQueued = true;
    queueMicrotask(() => {
      this.#resumeQueued = false;
      if (!this.#stopping) { for (const gate of this.#gates) gate.resume(); }
    });
  }

  #acceptFailed(code: string): void {
    const now = this.#time.now();
    if (outOfFiles.has(code)) {
      const times = this.#fileLimitReports.count(now);
      if (times === undefined) return;
      const held = this.#clients.size;
      this.#emit({ type: "file-limit", held, max: this.#options.maxClients, times });
      return;
    }
    const times = this.#acceptFailureReports.count(now);
    if (times !== undefined) this.#emit({ type: "accept-failed", code, times });
  }
}

/** The clock's group of clients a probe was sent to, checked {@link probeMs} after. */
const probeGroup = 0;

/** The clock's group of clients waiting for the pacer's decision. */
const decisionGroup = 1;

/**
 * The hops a wait before a first piece is made of: any wait to the second, in at most
 * one hop of each, so a client waits in a handful of lanes, not one per second.
 */
const waitStepsMs = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

/** The clock's group of clients waiting for their first piece of `profile`. */
function firstPieceGroup(profile: number): number {
  return 2 + 2 * profile;
}

/** The clock's group of clients paced by `profile`'s ticks. */
function tickGroup(profile: number): number {
  return 3 + 2 * profile;
}

/**
 * How long, `heldMs` after its connect, the client's profile has held it as the pacer
 * counts: since the profile began or the pacer was last told. One that answered was held
 * until it answered; but one that has sat silent since, while watched, is stuck again, as
 * hydra on telnet is once it has sent a user name no prompt asked for, and its profile
 * holds it from when it last spoke.
 */
function heldByProfile<C>(client: TrappedClient<C>, heldMs: number): number {
  const since = Math.max(client.profileSince, client.checkedAt);
  if (client.answeredMs === never) return heldMs - since;
  if (client.unwatchedAfter !== watched) return client.answeredMs - since;
  return heldMs - Math.max(since, client.spokeAtMs);
}

/**
 * The client's departure record, its leaving seen `leftBy` at `now`, `counted` when its
 * pacer was told it stayed.
 */
function departureOf<C>(
  client: TrappedClient<C>,
  leftBy: LeftBy,
  now: number,
  counted: boolean,
): Departure {
  const heldMs = now - client.connectedAt;
  const late = leftBy === "write" || leftBy === "ended";
  const { line, offset } = client;
  // Characters of the line sent so far, less its head mark, which is no byte.
  const sent = offset > 0 && offset < line.length
    ? offset - (line.lastIndexOf(headEnd, offset - 1) >= 0 ? 1 : 0)
    : 0;
  return {
    heldMs,
    aliveMs: late ? Math.min(heldMs, client.unwatchedAfter) : heldMs,
    leftBy,
    bytes: client.bytesSent,
    lines: client.linesSent,
    pieces: client.piecesSent,
    profileLines: client.linesSent - client.linesBeforeProfile,
    profilePieces: client.piecesSent - client.piecesBeforeProfile,
    silenceMs: now - client.lastPieceAt,
    longestGapMs: client.longestGapMs,
    lineBytes: sent,
    lineMs: sent > 0 ? now - client.lineWaitFrom : 0,
    profile: client.profile,
    profileSinceMs: client.profileSince,
    greetedMs: asRecorded(client.greetedMs),
    answeredMs: recordedAnswer(client),
    counted,
  };
}

/** When the client answered, as its departure record says it: only if it went on after. */
function recordedAnswer<C>(client: TrappedClient<C>): number {
  return client.wentOn ? asRecorded(client.answeredMs) : Infinity;
}

/** A time kept in a client's record as a departure record says it: "never" is Infinity. */
function asRecorded(ms: number): number {
  return ms === never ? Infinity : ms;
}
