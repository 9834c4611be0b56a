/**
 * The engine: admits clients, drips their protocol's lines, notices when they leave.
 * It knows nothing of any protocol beyond `Protocol.lines()` and the head mark a line may
 * carry, nothing of sockets beyond its {@link Transport} port, and nothing of time beyond
 * its {@link Clock}. What it does, it reports as {@link TarpitEvent}s.
 *
 * A client's life: it is admitted while there is room and its address holds fewer than
 * `maxPerIp`; a second later its peer is checked (one that reset is closed then, without
 * a byte sent); its first piece comes after the first delay; then a piece every delay, a
 * byte or a few of the current line, until it leaves. When its protocol has nothing more
 * to send, it is closed after {@link longestSilenceMs}: only a write can tell that a
 * client left.
 *
 * The accept policy, in one place ({@link Tarpit.hasRoom}): take clients while fewer
 * than `maxClients` are held; when full, pause, and resume as soon as one leaves.
 *
 * What a client costs is its connection in the runtime plus one small record: the
 * protocol's line iterator, the line being sent and how far, and the pacing clock's
 * links. No timer, closure or listener is made per client, and a tick of one byte
 * allocates nothing: the byte is a one-character string, which V8 keeps cached.
 *
 * Bounds under abuse:
 * - nothing is ever read: a flooding client fills its own kernel buffers, not ours;
 * - at most one piece waits in user space per client: a client that does not read is
 *   skipped until the kernel has taken what it was given;
 * - at most `maxClients` are held, at most `maxPerIp` from one address;
 * - trouble is reported at most once per {@link troubleReportMs} each.
 *
 * @module
 */
import type { LineOptions, Protocol } from "../../protocols/mod.ts";
import { longestSilenceMs } from "../../protocols/protocol.ts";
import type { ClientRef, TarpitEvent } from "./events.ts";
import { type Clock, laneDelays, type Paced, PacingClock, realTime } from "./pacing_clock.ts";
import { type LineCursor, nextPiece } from "./pieces.ts";
import type { Gate, Transport } from "./transport.ts";

/** How a {@link Tarpit} treats its clients: the command line's flags, checked. */
export interface TrapPolicy {
  /** The lines each client is sent, and their default pacing. */
  readonly protocol: Protocol;
  /** Silence before a client's first piece, at most {@link longestSilenceMs}. */
  readonly firstDelayMs: number;
  /** Time between two pieces. */
  readonly delayMs: number;
  /** How much each delay, the first included, varies either way. */
  readonly jitterMs: number;
  /** Bytes in a piece; 0 sends each line whole. */
  readonly pieceSize: number;
  /** Clients held at once; past it, new ones wait in the kernel's backlog. */
  readonly maxClients: number;
  /** Clients one source address may hold; more from it are closed on arrival. */
  readonly maxPerIp: number;
  /** The longest line, CRLF included. */
  readonly maxLineLength: number;
  /** `--banner`, for protocols that drip one. */
  readonly banner: string;
  /** 0 holds a client until it leaves. */
  readonly maxLifetimeMs: number;
}

/** A {@link Tarpit}'s policy, and what it runs on. */
export interface TarpitOptions<C, L> extends TrapPolicy {
  /** The network, through its port. */
  readonly transport: Transport<C, L, TrappedClient<C>>;
  /** Receives every event, in order. */
  readonly onEvent: (event: TarpitEvent) => void;
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
 * A new client's peer is checked this soon after it was accepted: one that reset right
 * after the handshake, as connect scans and churning bots do, is closed then instead of
 * holding a slot and memory until its first piece fails.
 */
export const peerCheckMs = 1_000;

/**
 * Idle time before TCP keepalive probes: reaps peers that vanished without FIN or RST
 * while nothing was in flight. Only a connection left idle this long needs it, so it is
 * set only where the delay can be this long: a piece sooner keeps the connection from
 * ever being idle that long (in flight, retransmission finds a vanished peer), and
 * setting it costs system calls on every accept.
 */
export const keepAliveMs = 60_000;

/** How often each kind of trouble (full, out of files, accept failing) is reported. */
export const troubleReportMs = 10_000;

/** The pacing clock's lane groups: what a client waits for. */
const peerCheckGroup = 0, firstPieceGroup = 1, pieceGroup = 2, silenceGroup = 3;

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
  /** The line being sent, and the index of its next byte. */
  line = "";
  offset = 0;
  /** A client just admitted, with the lines its protocol makes for it. */
  constructor(
    readonly connection: C,
    readonly lines: Iterator<string, void, undefined>,
    readonly host: string,
    readonly port: number,
    readonly id: number,
    readonly localPort: number,
    readonly connectedAt: number,
  ) {}
}

/**
 * A tarpit serving one protocol on any number of listeners.
 *
 * @example
 * ```ts ignore
 * import { Tarpit } from "./tarpit.ts";
 * import { protocols } from "../../protocols/mod.ts";
 * const tarpit = new Tarpit({
 *   protocol: protocols.ssh, firstDelayMs: 1_000, delayMs: 1_200, jitterMs: 400, pieceSize: 1,
 *   maxClients: 4096, maxPerIp: 32, maxLineLength: 32, banner: "", maxLifetimeMs: 0,
 *   transport, onEvent: (event) => console.log(event.type),
 * });
 * tarpit.serve(listener);
 * // every second: tarpit.keepAccepting(); on SIGTERM: tarpit.shutdown();
 * ```
 */
export class Tarpit<C, L> {
  readonly #options: TarpitOptions<C, L>;
  readonly #transport: Transport<C, L, TrappedClient<C>>;
  readonly #emit: (event: TarpitEvent) => void;
  /** One object for every client's line iterator. */
  readonly #lineOptions: LineOptions;
  readonly #clients = new Set<TrappedClient<C>>();
  /** Clients held per source address; never larger than the clients held. */
  readonly #perAddress = new Map<string, number>();
  readonly #time: Clock;
  readonly #clock: PacingClock<TrappedClient<C>>;
  readonly #gates: Gate[] = [];
  #nextId = 1;
  #acceptPaused = false;
  // One limiter per kind: one kind of trouble must not silence another.
  readonly #fullReports = new ReportLimiter();
  readonly #fileLimitReports = new ReportLimiter();
  readonly #acceptFailureReports = new ReportLimiter();
  #stopping = false;
  /** Whether a client may go {@link keepAliveMs} without a piece. */
  readonly #needsKeepAlive: boolean;
  // Read for every piece: fields, not lookups in the options.
  readonly #pieceSize: number;
  readonly #maxLifetimeMs: number;

  /** A tarpit with `options`; it serves nothing until {@link Tarpit.serve} is given a listener. */
  constructor(options: TarpitOptions<C, L>) {
    this.#options = options;
    this.#transport = options.transport;
    this.#emit = options.onEvent;
    this.#lineOptions = { maxLineLength: options.maxLineLength, banner: options.banner };
    this.#time = options.clock ?? realTime();
    const { firstDelayMs, delayMs, jitterMs } = options;
    this.#needsKeepAlive = Math.max(firstDelayMs, delayMs + jitterMs) >= keepAliveMs;
    this.#pieceSize = options.pieceSize;
    this.#maxLifetimeMs = options.maxLifetimeMs;
    const checkMs = Math.min(peerCheckMs, firstDelayMs);
    const restMs = firstDelayMs - checkMs;
    this.#clock = new PacingClock(
      [
        [checkMs],
        laneDelays(restMs, Math.min(jitterMs, Math.floor(restMs / 2))),
        laneDelays(delayMs, jitterMs),
        [longestSilenceMs],
      ],
      pieceGroup,
      // Bound, not wrapped: one call less for every piece.
      this.#due.bind(this),
      this.#time,
    );
    this.#transport.written = (client, error) => this.#written(client, error);
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
   * Re-arms every listener and takes the clients waiting while there is room; reports,
   * at most once per interval, when out of file descriptors. A runtime may stop
   * accepting on a listener, silently and for good, once its own accept() failed
   * (EMFILE) or found no room: called every second, this lets a waiting client in
   * within a second of there being a descriptor and room, whatever happened before.
   */
  keepAccepting(): void {
    if (this.#stopping) return;
    if (!this.#transport.canOpenAnotherFile()) {
      const times = this.#fileLimitReports.count(this.#time.now());
      if (times !== undefined) {
        this.#emit({
          type: "file-limit",
          held: this.#clients.size,
          max: this.#options.maxClients,
          times,
        });
      }
    }
    if (this.#clients.size >= this.#options.maxClients) return;
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
    for (const client of [...this.#clients]) this.#drop(client);
  }

  #admit(connection: C, localPort: number): void {
    const transport = this.#transport;
    const peer = transport.peer(connection);
    if (peer === undefined) {
      // Reset while it waited to be accepted: holding it would only cost a slot until
      // its first piece failed.
      this.#emit({ type: "gone" });
      transport.close(connection, this.#clients.size);
      return;
    }
    const { address: host, port } = peer;
    const fromHost = this.#perAddress.get(host) ?? 0;
    if (fromHost >= this.#options.maxPerIp) {
      // One address must not take every slot: its extra connections are closed at once,
      // costing it a handshake and us nothing held.
      this.#emit({ type: "refuse", host, port, localPort, fromHost });
      transport.close(connection, this.#clients.size);
      return;
    }
    this.#perAddress.set(host, fromHost + 1);
    const client = new TrappedClient(
      connection,
      this.#options.protocol.lines(this.#lineOptions),
      host,
      port,
      this.#nextId++,
      localPort,
      this.#time.now(),
    );
    this.#clients.add(client);
    if (this.#needsKeepAlive) transport.keepAlive(connection, keepAliveMs);
    this.#clock.schedule(client, peerCheckGroup);
    this.#emit({ type: "accept", client, held: this.#clients.size, max: this.#options.maxClients });
  }

  #due(client: TrappedClient<C>, now: number, group: number): void {
    const maxLifetimeMs = this.#maxLifetimeMs;
    if (
      group === silenceGroup || (maxLifetimeMs > 0 && now - client.connectedAt >= maxLifetimeMs)
    ) {
      this.#drop(client);
      return;
    }
    if (group === peerCheckGroup) {
      // Reset since it was accepted: its first piece would only fail.
      if (this.#transport.peer(client.connection) === undefined) this.#drop(client);
      else this.#clock.schedule(client, firstPieceGroup, now);
      return;
    }
    // The kernel has not taken the last piece yet (the client is not reading): do not
    // queue another in user space.
    const piece = client.pendingBytes > 0 ? "" : nextPiece(client, this.#pieceSize);
    if (piece === undefined) {
      // Nothing more will be sent, so a write can no longer tell that the client left.
      this.#clock.schedule(client, silenceGroup, now);
      return;
    }
    this.#clock.schedule(client, pieceGroup, now);
    if (piece === "") return;
    const outcome = this.#transport.write(client.connection, piece, client);
    if (outcome === "sent") client.bytesSent += piece.length;
    else if (outcome === "pending") client.pendingBytes = piece.length;
    else this.#drop(client, outcome.gone);
  }

  /** A pending write finished: the kernel took the piece, or the peer is gone. */
  #written(client: TrappedClient<C>, error: string | undefined): void {
    const bytes = client.pendingBytes;
    client.pendingBytes = 0;
    // Counted once the kernel took them, as endlessh counts what write(2) returns.
    if (error === undefined) client.bytesSent += bytes;
    else if (this.#clients.has(client)) this.#drop(client, error);
  }

  /** Closes a client's connection and forgets it; `error` says how it was found gone. */
  #drop(client: TrappedClient<C>, error?: string): void {
    if (!this.#clients.delete(client)) return;
    this.#transport.close(client.connection, this.#clients.size);
    const fromHost = (this.#perAddress.get(client.host) ?? 1) - 1;
    if (fromHost === 0) this.#perAddress.delete(client.host);
    else this.#perAddress.set(client.host, fromHost);
    this.#clock.remove(client);
    const trappedMs = this.#time.now() - client.connectedAt;
    this.#emit({ type: "close", client, trappedMs, bytes: client.bytesSent, error });
    if (this.#stopping || !this.#acceptPaused) return;
    this.#acceptPaused = false;
    for (const gate of this.#gates) gate.resume();
  }

  #acceptFailed(code: string): void {
    const times = this.#acceptFailureReports.count(this.#time.now());
    if (times !== undefined) this.#emit({ type: "accept-failed", code, times });
  }
}
