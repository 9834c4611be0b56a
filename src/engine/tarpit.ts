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
 * What a client costs is its connection in the runtime plus one slot of the tables that
 * hold its state (src/engine/client_table.ts) and the pacing clock's links: the line being
 * sent and how far, its counts and the few times its departure record needs, each in a
 * typed array. No object, timer, closure or listener is made per client, and a tick of one
 * byte allocates nothing: the byte is a one-character string, which V8 keeps cached.
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
import { ClientTable, noLines } from "./client_table.ts";
import type { ClientRef, Departure, LeftBy, TarpitEvent } from "./events.ts";
import { fixedPacer, type Pacer } from "./pacer.ts";
import { type Clock, laneDelays, PacingClock, realTime } from "./pacing_clock.ts";
import { nextPiece } from "./pieces.ts";
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
  /** The clients held, a slot each. */
  readonly #clients: ClientTable<C>;
  /** Clients held per source; never larger than the clients held. */
  readonly #perSource = new Map<string, number>();
  readonly #time: Clock;
  /** Paces the clients by slot. */
  readonly #clock: PacingClock;
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
  /**
   * Bound once: the callbacks handed to the transport with each watch and write, which
   * name the client by its slot's key (`ClientTable.keyOf`).
   */
  readonly #watch: PeerWatch<number>;
  readonly #written: (key: number, error?: string) => void;
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
    this.#clients = new ClientTable(options.maxClients);
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
      options.maxClients,
    );
    const clients = this.#clients;
    this.#watch = {
      sent: (key, firstBytes) => {
        const slot = clients.slotOf(key);
        if (slot !== -1 && clients.lines[slot] === noLines) {
          clients.firstBytes.set(slot, firstBytes);
        }
      },
      spoke: (key) => {
        const slot = clients.slotOf(key);
        if (slot !== -1) this.#spoke(slot);
      },
      left: (key, code) => {
        const slot = clients.slotOf(key);
        if (slot === -1) return;
        if (code === "EOF") this.#closedEnd(slot);
        else this.#drop(slot, "reset", code);
      },
      stopped: (key) => {
        const slot = clients.slotOf(key);
        if (slot !== -1) {
          clients.unwatchedAfter[slot] = this.#time.now() - clients.connectedAt[slot];
        }
      },
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
    const clients = this.#clients;
    const ports = new Map<number, HeldOnPort>();
    for (const slot of clients.slots()) {
      const localPort = clients.localPort[slot];
      let port = ports.get(localPort);
      if (port === undefined) ports.set(localPort, port = { held: 0, bytes: 0, trappedMs: 0 });
      port.held++;
      port.bytes += clients.bytesSent[slot];
      port.trappedMs += now - clients.connectedAt[slot];
    }
    return ports;
  }

  /** Stops accepting and closes every client, each with its `close` event. */
  shutdown(): void {
    this.#stopping = true;
    this.#clock.stop();
    for (const gate of this.#gates) gate.close();
    for (const slot of [...this.#clients.slots()]) this.#drop(slot, "shutdown");
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
    const id = this.#nextId++;
    const clients = this.#clients;
    const slot = clients.take(connection, host, port, source, id, localPort, now);
    this.#clock.schedule(slot, decisionGroup, now);
    const client: ClientRef = { host, port, id, localPort, source };
    this.#emit({ type: "accept", client, held: clients.size, max: this.#options.maxClients });
    transport.watch(connection, clients.keyOf(slot), this.#watch);
  }

  #due(slot: number, now: number, group: number): void {
    const clients = this.#clients;
    const maxLifetimeMs = this.#maxLifetimeMs;
    if (maxLifetimeMs > 0 && now - clients.connectedAt[slot] >= maxLifetimeMs) {
      this.#drop(slot, "lifetime");
      return;
    }
    // Still there, and not closing: a client that closed its end is probed, not going on.
    if (
      clients.answeredMs[slot] !== Infinity && clients.wentOn[slot] === 0 &&
      !clients.closedEnd.has(slot)
    ) {
      this.#wentOn(slot);
    }
    if (group === decisionGroup) {
      this.#decide(slot);
      this.#waitForFirst(slot, now);
    } else if (group > this.#endedGroup) {
      this.#waitForFirst(slot, now);
    } else if (group === this.#endedGroup) {
      this.#creditIfStayed(slot, now);
      // Nothing more to send: while its peer is watched its leaving will be seen, so it
      // is held; once not, only a write could tell, and none will come.
      if (clients.unwatchedAfter[slot] === Infinity) this.#clock.schedule(slot, group, now);
      else this.#drop(slot, "ended");
    } else if (group === probeGroup) {
      if (this.#transport.peer(clients.connection[slot]!) === undefined) {
        this.#drop(slot, "closed");
        return;
      }
      // Still there after a write: it only stopped sending, and reads on.
      clients.closedEnd.delete(slot);
      this.#clock.schedule(slot, tickGroup(clients.profile[slot]), now);
    } else {
      this.#send(slot, now, tickGroup(clients.profile[slot]));
    }
  }

  /**
   * Sends the client its next piece, and schedules it in `group` for its next turn; or,
   * when its protocol has nothing more, in the wait of an ended protocol.
   */
  #send(slot: number, now: number, group: number): void {
    const clients = this.#clients;
    if (this.#creditIfStayed(slot, now) && group !== probeGroup) {
      group = tickGroup(clients.profile[slot]);
    }
    // The kernel has not taken the last piece yet (the client is not reading): do not
    // queue another in user space.
    const piece = clients.pendingBytes[slot] > 0
      ? ""
      : nextPiece(clients, slot, this.#pieceSizes[clients.profile[slot]]);
    const connection = clients.connection[slot]!;
    if (piece === undefined) {
      if (clients.unwatchedAfter[slot] === Infinity) {
        this.#transport.keepAlive(connection, keepAliveMs);
      }
      this.#clock.schedule(slot, this.#endedGroup, now);
      return;
    }
    this.#clock.schedule(slot, group, now);
    if (piece === "") return;
    const outcome = this.#transport.write(connection, piece, clients.keyOf(slot), this.#written);
    if (outcome === "sent") this.#taken(slot, piece.length, now);
    else if (outcome === "pending") clients.pendingBytes[slot] = piece.length;
    else this.#dropAfterWrite(slot, outcome.gone);
  }

  /**
   * The client closed its end (FIN). Whether it left or still reads (a half-close) only a
   * write can tell: it gets its next piece now, its first if need be, and its peer is
   * checked {@link probeMs} later. A protocol that has ended has nothing to write: its
   * client, no longer watched, is closed after the bound on silence.
   */
  #closedEnd(slot: number): void {
    const clients = this.#clients;
    const now = this.#time.now();
    clients.closedEnd.set(slot, departureOf(clients, slot, "closed", now, false));
    clients.unwatchedAfter[slot] = now - clients.connectedAt[slot];
    if (this.#clock.groupOf(slot) === this.#endedGroup) return;
    this.#clock.remove(slot);
    if (clients.lines[slot] === noLines) this.#decide(slot);
    this.#send(slot, now, probeGroup);
  }

  /**
   * Each time the client has been held the pacer's horizon more, since its profile began
   * or since it was last told, tells the pacer, and goes on with the profile it answers: a
   * cheaper one, when it expects that to hold the client as long. A client told to stay
   * is asked again when the pacer has news, not a horizon later. Returns whether the
   * profile changed.
   */
  #creditIfStayed(slot: number, now: number): boolean {
    const pacer = this.#pacer;
    // A pacer that is never told (fixed pacing) is not asked either.
    if (pacer.horizonMs === Infinity) return false;
    const clients = this.#clients;
    const heldMs = now - clients.connectedAt[slot];
    const stayed = heldByProfile(clients, slot, heldMs) >= pacer.horizonMs;
    if (!stayed && (clients.credited[slot] === 0 || clients.news[slot] === pacer.news >>> 0)) {
      return false;
    }
    const source = clients.source[slot], tag = clients.tag[slot];
    const profile = clients.profile[slot];
    let next: number;
    if (stayed) {
      clients.checkedAt[slot] = heldMs;
      next = pacer.stayed(source, tag, profile, clients.longestGapMs[slot]);
    } else {
      next = pacer.reconsider(source, tag, profile);
    }
    clients.news[slot] = pacer.news;
    if (next === profile) {
      clients.credited[slot] = 1;
      return false;
    }
    clients.credited[slot] = 0;
    clients.profile[slot] = next;
    clients.profileSince[slot] = heldMs;
    clients.piecesBeforeProfile[slot] = clients.piecesSent[slot];
    clients.linesBeforeProfile[slot] = clients.linesSent[slot];
    if (this.#needsKeepAlive[next]) {
      this.#transport.keepAlive(clients.connection[slot]!, keepAliveMs);
    }
    return true;
  }

  /**
   * The client answered and is still there: the pacer hears of its progress. That began
   * when it took what it was sent for a greeting: its profile held it until then, or,
   * moved since, until it answered.
   */
  #wentOn(slot: number): void {
    const clients = this.#clients;
    clients.wentOn[slot] = 1;
    const greetedMs = clients.greetedMs[slot], profileSince = clients.profileSince[slot];
    const heldMs = (greetedMs >= profileSince ? greetedMs : clients.answeredMs[slot]) -
      profileSince;
    this.#pacer.answered(clients.source[slot], clients.tag[slot], clients.profile[slot], heldMs);
  }

  /**
   * The client sent something. What it says is never looked at; when it says it is. Its
   * options' replies to one piece (telnet's) are one answer however many reads they take.
   */
  #spoke(slot: number): void {
    const clients = this.#clients;
    const pieces = clients.piecesSent[slot];
    const spokeAtMs = this.#time.now() - clients.connectedAt[slot];
    clients.spokeAtMs[slot] = spokeAtMs;
    const spokeAfterPiece = clients.spokeAfterPiece[slot];
    if (pieces === spokeAfterPiece || clients.answeredMs[slot] !== Infinity) return;
    if (spokeAfterPiece > 0) clients.answeredMs[slot] = spokeAtMs;
    else clients.greetedMs[slot] = spokeAtMs;
    clients.spokeAfterPiece[slot] = pieces;
  }

  /** Picks the client's profile and makes its lines. */
  #decide(slot: number): void {
    const clients = this.#clients;
    const choice = this.#pacer.choose(clients.source[slot], clients.firstBytes.get(slot));
    const { profile, tag } = choice;
    clients.firstBytes.delete(slot);
    clients.profile[slot] = profile;
    clients.tag[slot] = tag;
    clients.lines[slot] = this.#options.protocol.lines(this.#lineOptions[profile]);
    let needsKeepAlive = this.#needsKeepAlive[profile];
    if (choice.firstDelayMs !== undefined) {
      const waitsUntil = Math.min(choice.firstDelayMs, longestSilenceMs);
      clients.waitsUntil[slot] = waitsUntil;
      needsKeepAlive ||= waitsUntil >= keepAliveMs;
    }
    if (needsKeepAlive) this.#transport.keepAlive(clients.connection[slot]!, keepAliveMs);
  }

  /**
   * Schedules the client's first piece: in its profile's first-piece lanes, or, when its
   * pacer asked for it later, at that time to the second, after a wait made in
   * whole-second hops, each the longest of {@link waitStepsMs} that fits what is left.
   */
  #waitForFirst(slot: number, now: number): void {
    const clients = this.#clients;
    const waitsUntil = clients.waitsUntil[slot];
    if (waitsUntil === 0) {
      this.#clock.schedule(slot, firstPieceGroup(clients.profile[slot]), now);
      return;
    }
    // Counted from when this turn was due, as the clock counts the next: a timer that
    // fires late must not make the rest fall short of a whole second, and lose one.
    const restMs = waitsUntil - Math.round(this.#clock.dueAt(slot) - clients.connectedAt[slot]);
    let step = waitStepsMs.length - 1;
    while (step >= 0 && waitStepsMs[step] > restMs) step--;
    if (step >= 0) this.#clock.schedule(slot, this.#endedGroup + 1 + step, now);
    else this.#send(slot, now, tickGroup(clients.profile[slot]));
  }

  /** The kernel took `bytes` of the client's piece. */
  #taken(slot: number, bytes: number, now: number): void {
    const clients = this.#clients;
    // Counted once the kernel took them, as endlessh counts what write(2) returns.
    clients.bytesSent[slot] += bytes;
    clients.piecesSent[slot]++;
    const gapMs = now - clients.lastPieceAt[slot];
    if (gapMs > clients.longestGapMs[slot]) clients.longestGapMs[slot] = gapMs;
    clients.lastPieceAt[slot] = now;
    if (clients.offset[slot] === 0) {
      clients.linesSent[slot]++;
      clients.lineWaitFrom[slot] = now;
    }
  }

  /** A pending write finished: the kernel took the piece, or the peer is gone. */
  #pieceWritten(key: number, error?: string): void {
    const clients = this.#clients;
    const slot = clients.slotOf(key);
    if (slot === -1) return;
    const bytes = clients.pendingBytes[slot];
    clients.pendingBytes[slot] = 0;
    if (error === undefined) this.#taken(slot, bytes, this.#time.now());
    else this.#dropAfterWrite(slot, error);
  }

  /**
   * A write failed. While its peer is watched, the reset that failed it was seen as it
   * came; once not, the client left some time before.
   */
  #dropAfterWrite(slot: number, error: string): void {
    const watched = this.#clients.unwatchedAfter[slot] === Infinity;
    this.#drop(slot, watched ? "reset" : "write", error);
  }

  /** Closes a client's connection and forgets it; `error` says what told it was gone. */
  #drop(slot: number, leftBy: LeftBy, error?: string): void {
    const clients = this.#clients;
    const connection = clients.connection[slot];
    if (connection === undefined) return;
    // Gone from now on, whatever closing it may call back.
    clients.connection[slot] = undefined;
    this.#transport.close(connection);
    const source = clients.source[slot];
    const fromSource = (this.#perSource.get(source) ?? 1) - 1;
    if (fromSource === 0) this.#perSource.delete(source);
    else this.#perSource.set(source, fromSource);
    this.#clock.remove(slot);
    // One that closed its end and was then found gone by a write left when it closed.
    const closed = leftBy === "closed" || leftBy === "reset" || leftBy === "write";
    const closedEnd = closed ? clients.closedEnd.get(slot) : undefined;
    const now = this.#time.now();
    const heldMs = closedEnd === undefined ? now - clients.connectedAt[slot] : closedEnd.heldMs;
    // One that waited on after its answer, and left before its next turn, went on too.
    const answeredMs = clients.answeredMs[slot];
    if (answeredMs !== Infinity && clients.wentOn[slot] === 0 && heldMs - answeredMs >= wentOnMs) {
      this.#wentOn(slot);
    }
    const tag = clients.tag[slot];
    const stayed = clients.credited[slot] === 0 &&
      heldByProfile(clients, slot, heldMs) >= this.#pacer.horizonMs;
    if (stayed) {
      this.#pacer.stayed(source, tag, clients.profile[slot], clients.longestGapMs[slot]);
    }
    const counted = clients.credited[slot] === 1 || stayed;
    const departure = closedEnd === undefined
      ? departureOf(clients, slot, leftBy, now, counted)
      : { ...closedEnd, counted, answeredMs: recordedAnswer(clients, slot) };
    const client: ClientRef = {
      host: clients.host[slot],
      port: clients.port[slot],
      id: clients.id[slot],
      localPort: clients.localPort[slot],
      source,
    };
    clients.release(slot);
    const family = this.#pacer.departed(source, tag, departure);
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
function heldByProfile<C>(clients: ClientTable<C>, slot: number, heldMs: number): number {
  const since = Math.max(clients.profileSince[slot], clients.checkedAt[slot]);
  const answeredMs = clients.answeredMs[slot];
  if (answeredMs === Infinity) return heldMs - since;
  if (clients.unwatchedAfter[slot] !== Infinity) return answeredMs - since;
  return heldMs - Math.max(since, clients.spokeAtMs[slot]);
}

/**
 * The client's departure record, its leaving seen `leftBy` at `now`, `counted` when its
 * pacer was told it stayed.
 */
function departureOf<C>(
  clients: ClientTable<C>,
  slot: number,
  leftBy: LeftBy,
  now: number,
  counted: boolean,
): Departure {
  const heldMs = now - clients.connectedAt[slot];
  const late = leftBy === "write" || leftBy === "ended";
  const line = clients.line[slot], offset = clients.offset[slot];
  // Characters of the line sent so far, less its head mark, which is no byte.
  const sent = offset > 0 && offset < line.length
    ? offset - (line.lastIndexOf(headEnd, offset - 1) >= 0 ? 1 : 0)
    : 0;
  const linesSent = clients.linesSent[slot], piecesSent = clients.piecesSent[slot];
  return {
    heldMs,
    aliveMs: late ? Math.min(heldMs, clients.unwatchedAfter[slot]) : heldMs,
    leftBy,
    bytes: clients.bytesSent[slot],
    lines: linesSent,
    pieces: piecesSent,
    profileLines: linesSent - clients.linesBeforeProfile[slot],
    profilePieces: piecesSent - clients.piecesBeforeProfile[slot],
    silenceMs: now - clients.lastPieceAt[slot],
    longestGapMs: clients.longestGapMs[slot],
    lineBytes: sent,
    lineMs: sent > 0 ? now - clients.lineWaitFrom[slot] : 0,
    profile: clients.profile[slot],
    profileSinceMs: clients.profileSince[slot],
    greetedMs: clients.greetedMs[slot],
    answeredMs: recordedAnswer(clients, slot),
    counted,
  };
}

/** When the client answered, as its departure record says it: only if it went on after. */
function recordedAnswer<C>(clients: ClientTable<C>, slot: number): number {
  return clients.wentOn[slot] === 1 ? clients.answeredMs[slot] : Infinity;
}
