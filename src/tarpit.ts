/**
 * The engine: holds clients, drips their lines, notices when they leave. It knows
 * nothing of any protocol beyond `Protocol.lines()` and the head mark a line may carry.
 *
 * A client's life: it is accepted; a second later its peer is checked (one that reset
 * is closed then, without a byte sent); its first piece comes after the first delay; then
 * a piece every delay, each a byte or a few of the current line, until it leaves. When
 * its protocol has nothing more to send, it is closed after {@link longestSilenceMs}.
 *
 * What a client costs is what the runtime's handle for its connection costs (no
 * `node:net` Socket: see client_handle.ts), plus one small record: the record holds the
 * protocol's line generator, the line being sent and how far, and the pacing clock's
 * links. No timer, closure or listener is made per client, and a tick of one byte
 * allocates nothing: the byte is a one-character string, which V8 keeps cached.
 *
 * Bounds under abuse:
 * - nothing is ever read: a flooding client fills its own kernel buffers, not ours;
 * - at most one piece waits in user space per client: a client that does not read is
 *   skipped until the kernel has taken what we gave it;
 * - at most `maxClients` are held; past that, accepting pauses (see accept_loop.ts);
 * - running out of file descriptors is reported once per interval (see fd_limit.ts).
 *
 * @module
 */
import type { Server } from "node:net";
import { getSystemErrorName } from "node:util";
import type { LineOptions, Protocol } from "../protocols/mod.ts";
import { longestSilenceMs } from "../protocols/protocol.ts";
import { type LineCursor, nextPiece } from "./pieces.ts";
import type { Logger } from "./logger.ts";
import { type AcceptGate, acceptLoop } from "./accept_loop.ts";
import { type Clock, laneDelays, type Paced, PacingClock, realTime } from "./pacing_clock.ts";
import { PortStats, TopTalkers, TrappedHistogram } from "./trap_stats.ts";
import { spareFds } from "./fd_limit.ts";
import { ClosedHandleCollector } from "./closed_handles.ts";
import { type ClientHandle, LineWriter, peerOf, writePending } from "./client_handle.ts";

/** How a {@link Tarpit} treats its clients. */
export interface TarpitOptions {
  readonly protocol: Protocol;
  /** Silence before a client's first piece, at most {@link longestSilenceMs}. */
  readonly firstDelayMs: number;
  /** Time between two pieces. */
  readonly delayMs: number;
  /** How much each delay, the first included, varies either way. */
  readonly jitterMs: number;
  /** Bytes in a piece; 0 sends each line whole. */
  readonly pieceSize: number;
  readonly maxClients: number;
  /** Clients one source address may hold; more from it are closed on arrival. */
  readonly maxPerIp: number;
  readonly maxLineLength: number;
  /** `--banner`, for protocols that drip one. */
  readonly banner: string;
  /** 0 holds a client until it leaves. */
  readonly maxLifetimeMs: number;
  readonly log: Logger;
  /**
   * Whether the process can open another file, asked by {@link Tarpit.keepAccepting}: when
   * it cannot, the runtime's accept fails, silently (see fd_limit.ts). Always yes when
   * not given.
   */
  readonly canOpenAnotherFile?: () => boolean;
  /**
   * A full garbage collection, run once enough connections have closed: only that frees
   * their native memory (see closed_handles.ts). None when not given.
   */
  readonly collectGarbage?: () => void;
  /** The time and timer pieces are paced by; real time when not given. */
  readonly clock?: Clock;
}

/** What the tarpit has done, in endlessh's terms. */
export interface TarpitTotals {
  /** Clients accepted since start. */
  readonly connects: number;
  /** Clients held now. */
  readonly clientsNow: number;
  /** Bytes given to clients since start. */
  readonly bytesSent: number;
  /** Time all clients, gone and present, have spent trapped. */
  readonly trappedMs: number;
}

/** Everything a {@link Tarpit} has counted; see {@link Tarpit.stats}. */
export interface TarpitStats {
  readonly ports: readonly PortStats[];
  readonly histogram: TrappedHistogram;
  readonly talkers: TopTalkers;
  readonly maxClients: number;
  readonly protocol: string;
}

/** Slots of the busiest-sources table: bounded, whatever the number of attackers. */
export const topTalkerSlots = 100;

/**
 * A new client's peer is checked this soon after it was accepted: one that reset right
 * after the handshake, as connect scans and churning bots do, is closed then instead of
 * holding a slot and memory until its first piece fails.
 */
export const peerCheckMs = 1_000;

/** The pacing clock's lane groups: what a client waits for. */
const peerCheckGroup = 0, firstPieceGroup = 1, pieceGroup = 2, silenceGroup = 3;

/** Idle time before TCP keepalive probes: reaps peers that vanished without FIN or RST. */
export const keepAliveMs = 60_000;

/** How often an accept() failure such as EMFILE, or FULL, is reported, at most. */
export const acceptFailureReportMs = 10_000;

/**
 * Counts an event that may repeat many times a second (accept failures, refills) and
 * says when to report it: at most once per {@link acceptFailureReportMs}, with how many
 * happened since the last report.
 */
class ReportLimiter {
  #count = 0;
  #reportedAt = -Infinity;

  /** Counts one event; returns the count to report now, or undefined to stay quiet. */
  count(now: number): number | undefined {
    this.#count++;
    if (now - this.#reportedAt < acceptFailureReportMs) return undefined;
    this.#reportedAt = now;
    const count = this.#count;
    this.#count = 0;
    return count;
  }
}

class TrappedClient implements Paced, LineCursor {
  dueAt = 0;
  lane = -1;
  prev: Paced | null = null;
  next: Paced | null = null;
  bytesSent = 0;
  /**
   * The length of a piece the kernel has not taken yet, as when the client does not
   * read: no other is sent until it has. 0 when none waits.
   */
  pendingBytes = 0;
  /** The line being sent, and the index of its next byte. */
  line = "";
  offset = 0;
  constructor(
    readonly handle: ClientHandle,
    /** Its listening port's counters. */
    readonly stats: PortStats,
    readonly lines: Generator<string, void, undefined>,
    readonly host: string,
    readonly port: number,
    /** endlessh logs the fd; Deno does not expose it, so this is a connection number. */
    readonly id: number,
    readonly connectedAt: number,
  ) {}
}

/**
 * A tarpit serving one protocol on any number of listening sockets.
 *
 * @example
 * ```ts
 * import { Tarpit } from "./tarpit.ts";
 * import { protocols } from "../protocols/mod.ts";
 * import { createLogger } from "./logger.ts";
 * import { bindListenAddress } from "./listeners.ts";
 * const tarpit = new Tarpit({
 *   protocol: protocols.ssh, firstDelayMs: 1_000, delayMs: 1_200, jitterMs: 400, pieceSize: 1,
 *   maxClients: 4096, maxPerIp: 32, maxLineLength: 32, banner: "", maxLifetimeMs: 0,
 *   log: createLogger({ level: "info", journal: false }),
 * });
 * tarpit.serve((await bindListenAddress({ host: "127.0.0.1", port: 2222 })).server);
 * // on SIGTERM: const totals = tarpit.shutdown();
 * ```
 */
export class Tarpit {
  readonly #options: TarpitOptions;
  /** One object for every client's generator. */
  readonly #lineOptions: LineOptions;
  readonly #log: Logger;
  readonly #clients = new Set<TrappedClient>();
  /** Clients held per source address; never larger than the clients held. */
  readonly #perAddress = new Map<string, number>();
  readonly #clock: PacingClock<TrappedClient>;
  readonly #servers: Server[] = [];
  readonly #gates: AcceptGate[] = [];
  readonly #writer: LineWriter<TrappedClient>;
  readonly #closedHandles: ClosedHandleCollector;
  readonly #ports = new Map<number, PortStats>();
  readonly #histogram = new TrappedHistogram();
  readonly #talkers = new TopTalkers(topTalkerSlots);
  #nextId = 1;
  #acceptPaused = false;
  // One limiter per event: one kind of trouble must not silence another.
  readonly #fileLimitReports = new ReportLimiter();
  readonly #acceptFailureReports = new ReportLimiter();
  readonly #fullReports = new ReportLimiter();
  #stopping = false;

  constructor(options: TarpitOptions) {
    this.#options = options;
    this.#lineOptions = { maxLineLength: options.maxLineLength, banner: options.banner };
    this.#log = options.log;
    const { firstDelayMs, delayMs, jitterMs } = options;
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
      (client, now, group) => this.#due(client, now, group),
      options.clock ?? realTime(),
    );
    this.#writer = new LineWriter((client, status) => this.#written(client, status));
    this.#closedHandles = new ClosedHandleCollector(options.collectGarbage ?? (() => {}));
  }

  /**
   * Serves a listening socket until {@link shutdown}.
   *
   * @example
   * ```ts ignore
   * tarpit.serve(server);
   * ```
   */
  serve(server: Server): void {
    server.on(
      "error",
      (error: Error) => this.#log.log("error", "LISTENER_ERROR", {}, error.message),
    );
    this.#servers.push(server);
    // Every client of a listening socket has its port: look it up once, not per accept.
    const address = server.address();
    const localPort = typeof address === "object" && address !== null ? address.port : 0;
    let stats = this.#ports.get(localPort);
    if (stats === undefined) this.#ports.set(localPort, stats = new PortStats(localPort));
    const portStats = stats;
    this.#gates.push(acceptLoop(server, {
      hasRoom: () => this.#hasRoom(),
      admit: (handle) => this.#admit(handle, portStats),
      failed: (code) => this.#acceptFailed(code),
    }));
  }

  /**
   * Re-arms every listener and takes the clients waiting while there is room; says so,
   * at most once per interval, when out of file descriptors. The runtime stops accepting
   * on a listener, silently and for good, once its own accept() failed (EMFILE) or found
   * no room: called every second, this lets a waiting client in within a second of there
   * being a descriptor and room, whatever happened before.
   */
  keepAccepting(): void {
    if (this.#stopping) return;
    if (!this.#canOpenAnotherFile()) this.#ranOutOfFiles();
    if (this.#clients.size >= this.#options.maxClients) return;
    for (const gate of this.#gates) gate.resume();
  }

  /** What the tarpit has done so far. */
  totals(): TarpitTotals {
    const now = performance.now();
    let connects = 0, clientsNow = 0, bytesSent = 0, trappedMs = 0;
    for (const port of this.#ports.values()) {
      connects += port.opened;
      clientsNow += port.held;
      bytesSent += port.bytesSent;
      trappedMs += port.trappedMs(now);
    }
    return { connects, clientsNow, bytesSent, trappedMs };
  }

  /**
   * Everything counted, for metrics and summaries: per listening port, the trapped-time
   * histogram of clients that left, and the busiest sources.
   */
  stats(): TarpitStats {
    return {
      ports: [...this.#ports.values()],
      histogram: this.#histogram,
      talkers: this.#talkers,
      maxClients: this.#options.maxClients,
      protocol: this.#options.protocol.name,
    };
  }

  /**
   * Stops accepting, closes every client (each logs its CLOSE line) and returns the
   * totals.
   */
  shutdown(): TarpitTotals {
    this.#stopping = true;
    this.#clock.stop();
    for (const server of this.#servers) server.close();
    for (const client of [...this.#clients]) this.#drop(client);
    return this.totals();
  }

  #hasRoom(): boolean {
    if (this.#stopping) return false;
    if (this.#clients.size < this.#options.maxClients) return true;
    if (!this.#acceptPaused) {
      this.#acceptPaused = true;
      // Under churn, every client that leaves lets one in and fills the tarpit again:
      // report at most once per interval, with how often it filled.
      const times = this.#fullReports.count(performance.now());
      if (times !== undefined) {
        this.#log.log(
          "warning",
          "FULL",
          { n: `${this.#clients.size}/${this.#options.maxClients}`, times },
          "new clients wait in the listen backlog until one leaves",
        );
      }
    }
    return false;
  }

  #admit(handle: ClientHandle, stats: PortStats): void {
    const peer = peerOf(handle);
    if (peer === undefined) {
      // Reset while it waited to be accepted: holding it would only cost us a slot until
      // its first line failed.
      if (this.#log.enabled("debug")) this.#log.log("debug", "GONE", {});
      this.#close(handle);
      return;
    }
    const { address: host, port } = peer;
    const fromHost = this.#perAddress.get(host) ?? 0;
    if (fromHost >= this.#options.maxPerIp) {
      // One address must not take every slot: its extra connections are closed at once,
      // costing it a handshake and us nothing held.
      stats.refused++;
      if (this.#log.enabled("debug")) {
        this.#log.log("debug", "REFUSE", { host, port, held: fromHost });
      }
      this.#close(handle);
      return;
    }
    this.#perAddress.set(host, fromHost + 1);
    const client = new TrappedClient(
      handle,
      stats,
      this.#options.protocol.lines(this.#lineOptions),
      host,
      port,
      this.#nextId++,
      performance.now(),
    );
    this.#clients.add(client);
    stats.opened++;
    stats.connectedAtSum += client.connectedAt;
    this.#talkers.add(client.host);
    handle.setKeepAlive(true, keepAliveMs / 1000);
    this.#clock.schedule(client, peerCheckGroup);
    if (!this.#log.enabled("info")) return; // no fields built for a hidden line
    this.#log.log("info", "ACCEPT", {
      host: client.host,
      port: client.port,
      fd: client.id,
      n: `${this.#clients.size}/${this.#options.maxClients}`,
    });
  }

  #due(client: TrappedClient, now: number, group: number): void {
    const { maxLifetimeMs } = this.#options;
    if (
      group === silenceGroup || (maxLifetimeMs > 0 && now - client.connectedAt >= maxLifetimeMs)
    ) {
      this.#drop(client);
      return;
    }
    if (group === peerCheckGroup) {
      // Reset since it was accepted: its first piece would only fail.
      if (peerOf(client.handle) === undefined) this.#drop(client);
      else this.#clock.schedule(client, firstPieceGroup);
      return;
    }
    // The kernel has not taken the last piece yet (the client is not reading): do not
    // queue another in user space.
    const piece = client.pendingBytes > 0 ? "" : nextPiece(client, this.#options.pieceSize);
    if (piece === undefined) {
      // Nothing more will be sent, so a write can no longer tell that the client left.
      this.#clock.schedule(client, silenceGroup);
      return;
    }
    this.#clock.schedule(client, pieceGroup);
    if (piece === "") return;
    // One character is one byte (protocols/protocol.ts), binary protocols included.
    const status = this.#writer.write(client.handle, piece, client);
    if (status < 0) {
      this.#peerLeft(client, status);
      return;
    }
    if (status === writePending) client.pendingBytes = piece.length;
    else this.#sent(client, piece.length);
  }

  /** A write the runtime finished later: the kernel took the line, or the peer is gone. */
  #written(client: TrappedClient, status: number): void {
    const bytes = client.pendingBytes;
    client.pendingBytes = 0;
    if (status >= 0) this.#sent(client, bytes);
    else if (this.#clients.has(client)) this.#peerLeft(client, status);
  }

  /** Counts bytes the kernel took, as endlessh counts what write(2) returns. */
  #sent(client: TrappedClient, bytes: number): void {
    client.bytesSent += bytes;
    client.stats.bytesSent += bytes;
  }

  /** A write failed (EPIPE, ECONNRESET, ETIMEDOUT): the only way we learn a peer left. */
  #peerLeft(client: TrappedClient, status: number): void {
    if (this.#log.enabled("debug")) {
      this.#log.log("debug", "ERROR", {
        host: client.host,
        port: client.port,
        code: getSystemErrorName(status),
      });
    }
    this.#drop(client);
  }

  /** Closes a client's connection and forgets it. */
  #drop(client: TrappedClient): void {
    if (!this.#clients.delete(client)) return;
    this.#close(client.handle);
    const fromHost = (this.#perAddress.get(client.host) ?? 1) - 1;
    if (fromHost === 0) this.#perAddress.delete(client.host);
    else this.#perAddress.set(client.host, fromHost);
    const { stats } = client;
    stats.closed++;
    // Reset when empty, so float rounding cannot pile up over millions of clients.
    stats.connectedAtSum = stats.held === 0 ? 0 : stats.connectedAtSum - client.connectedAt;
    this.#clock.remove(client);
    client.lines.return();
    const trappedMs = performance.now() - client.connectedAt;
    stats.closedTrappedMs += trappedMs;
    this.#histogram.observe(trappedMs / 1000);
    if (this.#log.enabled("info")) {
      this.#log.log("info", "CLOSE", {
        host: client.host,
        port: client.port,
        fd: client.id,
        time: (trappedMs / 1000).toFixed(3),
        bytes: client.bytesSent,
      });
    }
    if (this.#stopping || !this.#acceptPaused) return;
    this.#acceptPaused = false;
    for (const gate of this.#gates) gate.resume();
  }

  #close(handle: ClientHandle): void {
    handle.close();
    this.#closedHandles.closed(this.#clients.size);
  }

  #canOpenAnotherFile(): boolean {
    return this.#options.canOpenAnotherFile?.() ?? true;
  }

  /** Out of file descriptors: the runtime's accept fails, silently; say so. */
  #ranOutOfFiles(): void {
    const times = this.#fileLimitReports.count(performance.now());
    if (times === undefined) return;
    this.#log.log(
      "error",
      "FILE_LIMIT",
      { n: `${this.#clients.size}/${this.#options.maxClients}`, times },
      `out of file descriptors: raise LimitNOFILE= (ulimit -n) above --max-clients + ${spareFds}`,
    );
  }

  #acceptFailed(code: string): void {
    const times = this.#acceptFailureReports.count(performance.now());
    if (times === undefined) return;
    this.#log.log(
      "error",
      "ACCEPT_FAILED",
      { code, times },
      code === "EMFILE" || code === "ENFILE"
        ? `raise LimitNOFILE= above --max-clients (${this.#options.maxClients})`
        : undefined,
    );
  }
}
