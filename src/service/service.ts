/**
 * The service: the tarpit as systemd runs it, on whatever ports it is given. It builds the
 * engine, routes its events to the counters, the log and the pacer, keeps the listeners
 * accepting and systemd informed, answers the metrics, and stops cleanly. It touches no
 * socket, signal or timer of its own: `src/commands/run.ts` hands it Deno's, and the unit
 * tests (tests/unit/service_test.ts) an in-memory transport, a fake clock and a fake
 * notify socket.
 *
 * A heartbeat ({@link heartbeatMs}, or half the watchdog's interval if shorter) checks
 * for file descriptors and re-arms every listener (a runtime may stop accepting on one
 * silently; a client leaving re-arms them too), pings systemd's watchdog at half its
 * interval, and refreshes `STATUS=` when it changed. A wakeup costs an idle tarpit far
 * more than the work in it (`deno task bench-pacing` prints an idle tarpit's CPU), so the
 * heartbeat is rare. Nothing waits on systemd (see src/systemd/sd_notify.ts): a stalled
 * PID 1 costs messages, never the heartbeat.
 *
 * @module
 */
import type { Pacing, Protocol } from "../../protocols/protocol.ts";
import type { TarpitEvent } from "../engine/events.ts";
import type { Pacer } from "../engine/pacer.ts";
import type { Clock } from "../engine/pacing_clock.ts";
import { Tarpit, troubleReportMs } from "../engine/tarpit.ts";
import type { Transport } from "../engine/transport.ts";
import type { LogFields, Logger } from "../log/logger.ts";
import { logEvent, logStats, logTotals, tarpitEventLogger } from "../log/vocabulary.ts";
import { exposition, type Family } from "../metrics/exposition.ts";
import { type Totals, TrapStats } from "../stats/trap_stats.ts";
import { type DatagramSocket, Notifier } from "../systemd/sd_notify.ts";
import { formatDuration } from "../text/duration.ts";

/**
 * The heartbeat's interval, at most: how long a client waits for a listener the runtime
 * stopped polling for a reason no departure ended, and how often `STATUS=` is refreshed.
 */
export const heartbeatMs = 5_000;

/**
 * How long a stop waits for the log's next write to complete: a reader that keeps up gets
 * every line, however many; a stalled one holds the stop this long (and at most ten times
 * it in all, within systemd's TimeoutStopSec=).
 */
const stopLogFlushMs = 1_000;

/** How long a stop waits for `STOPPING=1` to be sent. */
export const stopNotifyFlushMs = 100;

/** How many of the busiest sources a STATS line names. */
const statsTopTalkers = 5;

/** A periodic timer: real (`setInterval`) or a test's. */
export interface Ticker {
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

/**
 * A {@link Ticker} on `setInterval`.
 *
 * @example
 * ```ts
 * import { realTicker } from "./service.ts";
 * const stop = realTicker.every(1_000, () => console.log("tick"));
 * stop();
 * ```
 */
export const realTicker: Ticker = {
  every(ms: number, tick: () => void): () => void {
    const timer = setInterval(tick, ms);
    return () => clearInterval(timer);
  },
};

/** What the service runs: the command line's choices that are not the runtime's. */
export interface ServiceConfig {
  /** What it speaks. */
  readonly protocol: Protocol;
  /** The pacings clients get; the pacer picks among them. */
  readonly profiles: readonly Pacing[];
  /** `--max-clients`. */
  readonly maxClients: number;
  /** `--max-per-ip`. */
  readonly maxPerIp: number;
  /** `--banner`. */
  readonly banner: string;
  /** `--max-lifetime`. */
  readonly maxLifetimeMs: number;
  /** The program's version, for START and `tarpyt_info`. */
  readonly version: string;
  /** START's fields that describe the pacing. */
  readonly pacingFields: LogFields;
}

/** The log's side of the service. */
export interface LogSink {
  /** Waits until the lines queued are written, while writes complete within `idleMs`. */
  flush(idleMs: number): Promise<void>;
  /** The log's own metric families. */
  families(): Family[];
}

/** What the service runs on. */
export interface ServicePorts<C, L> {
  /** The network. */
  readonly transport: Transport<C, L>;
  /** The time and the pacing timer. */
  readonly clock: Clock;
  /** The heartbeat's timer. */
  readonly ticker: Ticker;
  /** Where events are written. */
  readonly log: Logger;
  /** The log's queue. */
  readonly logSink: LogSink;
  /** Opens a socket to systemd's notify socket; undefined when systemd did not ask. */
  readonly notifySocket?: () => DatagramSocket;
  /** Names systemd's notify socket in NOTIFY_FAILED. */
  readonly notifySocketName?: string;
  /** systemd's watchdog interval (`WATCHDOG_USEC`), in ms; undefined when it is off. */
  readonly watchdogMs?: number;
  /** Picks each client's pacing; the first profile for all when not given. */
  readonly pacer?: Pacer;
  /** More metric families, such as the learner's. */
  readonly families?: () => Family[];
  /**
   * Re-arms the listeners the runtime serves (metrics): at each heartbeat, and as clients
   * leave.
   */
  readonly rearmListeners?: () => void;
  /** The process's memory, as `Deno.memoryUsage()` reports it. */
  readonly memory: () => Pick<Deno.MemoryUsage, "rss" | "heapUsed">;
}

/**
 * The tarpit service.
 *
 * @example
 * ```ts ignore
 * const service = new TarpitService(config, ports);
 * service.serve(listener, { fd: 3, name: "tarpyt-ssh@22.socket", address: "[::]:22" });
 * service.start(); // START, READY=1, and the heartbeat
 * // on SIGUSR2: service.stats(); on SIGTERM: await service.stop(); Deno.exit(0);
 * ```
 */
export class TarpitService<C, L> {
  readonly #config: ServiceConfig;
  readonly #ports: ServicePorts<C, L>;
  readonly #tarpit: Tarpit<C, L>;
  readonly #stats = new TrapStats();
  readonly #notifier: Notifier | undefined;
  #notifyFailures = 0;
  #notifyReportedAt = -Infinity;
  #stopHeartbeat: (() => void) | undefined;
  #stopping: Promise<void> | undefined;

  /** A service that serves nothing until {@link serve} and {@link start}. */
  constructor(config: ServiceConfig, ports: ServicePorts<C, L>) {
    this.#config = config;
    this.#ports = ports;
    const logEngineEvent = tarpitEventLogger(ports.log);
    this.#tarpit = new Tarpit({
      ...config,
      transport: ports.transport,
      pacer: ports.pacer,
      clock: ports.clock,
      onEvent: (event: TarpitEvent) => {
        this.#stats.record(event);
        logEngineEvent(event);
        // A departure frees a descriptor the metrics listener may be waiting for.
        if (event.type === "close") ports.rearmListeners?.();
      },
    });
    const { notifySocket } = ports;
    if (notifySocket !== undefined) {
      this.#notifier = new Notifier(notifySocket, (error) => this.#notifyFailed(error));
    }
  }

  /** Serves a tarpit listener, logging where it came from (`LISTEN`). */
  serve(listener: L, origin: LogFields): void {
    this.#tarpit.serve(listener);
    logEvent(this.#ports.log, "LISTEN", origin);
  }

  /** Logs a metrics listener the runtime serves with {@link metrics} (`METRICS`). */
  servingMetrics(origin: LogFields): void {
    logEvent(this.#ports.log, "METRICS", origin);
  }

  /**
   * Says the service has started (`START`), tells systemd it is ready, and starts the
   * heartbeat; call it once every listener is served.
   */
  start(): void {
    const config = this.#config;
    logEvent(this.#ports.log, "START", {
      version: config.version,
      protocol: config.protocol.name,
      ...config.pacingFields,
      "max-clients": config.maxClients,
      "max-per-ip": config.maxPerIp,
      "max-lifetime": formatDuration(config.maxLifetimeMs),
    });
    let status = statusLine(this.totals());
    this.#notifier?.send(`READY=1\nSTATUS=${status}`);
    const { watchdogMs, clock } = this.#ports;
    // Pinged at half the interval, as sd_watchdog_enabled(3) advises: a ping is due once
    // half an interval has passed, less a heartbeat, so none is later than half.
    const beatMs = Math.min(heartbeatMs, (watchdogMs ?? Infinity) / 2);
    const pingEveryMs = watchdogMs === undefined ? undefined : watchdogMs / 2 - beatMs;
    let pingedAt = -Infinity;
    this.#stopHeartbeat = this.#ports.ticker.every(beatMs, () => {
      this.#tarpit.keepAccepting();
      this.#ports.rearmListeners?.();
      const now = clock.now();
      if (pingEveryMs !== undefined && now - pingedAt >= pingEveryMs) {
        pingedAt = now;
        this.#notifier?.send("WATCHDOG=1");
      }
      const next = statusLine(this.totals());
      if (next !== status) this.#notifier?.send(`STATUS=${status = next}`);
    });
  }

  /** What the trap has done so far. */
  totals(): Totals {
    return this.#stats.totals(this.#tarpit.held());
  }

  /** Logs a summary with the busiest sources (`STATS`). */
  stats(): void {
    logStats(this.#ports.log, this.totals(), this.#stats.talkers.top(statsTopTalkers));
  }

  /**
   * Stops: tells systemd (`STOPPING=1`), logs `STATS`, closes every client (each with its
   * `CLOSE`), logs `TOTALS`, and waits a little for the last lines and the message to go
   * out ({@link stopNotifyFlushMs}; the log, while its writes keep completing).
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#notifier?.send("STOPPING=1");
    this.#stopHeartbeat?.();
    this.stats();
    this.#tarpit.shutdown();
    logTotals(this.#ports.log, this.totals());
    // A stalled reader gets a moment, not the power to hold up the stop.
    await Promise.all([
      this.#notifier?.flush(stopNotifyFlushMs),
      this.#ports.logSink.flush(stopLogFlushMs),
    ]);
  }

  /** The Prometheus exposition of everything counted. */
  metrics(): string {
    const config = this.#config;
    const protocol = config.protocol.name;
    const { rss, heapUsed } = this.#ports.memory();
    return exposition([
      ...this.#stats.families(this.#tarpit.held(), protocol, config.maxClients),
      ...(this.#ports.families?.() ?? []),
      ...this.#ports.logSink.families(),
      {
        // Both, so that growth can be told apart: the JavaScript heap, or native memory.
        name: "process_resident_memory_bytes",
        type: "gauge",
        help: "Resident set size.",
        samples: [["", {}, rss]],
      },
      {
        name: "tarpyt_heap_used_bytes",
        type: "gauge",
        help: "JavaScript heap in use (V8), garbage not yet collected included.",
        samples: [["", {}, heapUsed]],
      },
      {
        name: "tarpyt_info",
        type: "gauge",
        help: "The running version and protocol.",
        samples: [["", { version: config.version, protocol }, 1]],
      },
    ]);
  }

  /** A message to systemd failed: said at most once per interval, with how often. */
  #notifyFailed(error: unknown): void {
    this.#notifyFailures++;
    const now = this.#ports.clock.now();
    if (now - this.#notifyReportedAt < troubleReportMs) return;
    this.#notifyReportedAt = now;
    const why = error instanceof Deno.errors.NotCapable
      ? "not permitted: the binary may write only /run/systemd/notify"
      : error instanceof Error
      ? error.message
      : String(error);
    logEvent(
      this.#ports.log,
      "NOTIFY_FAILED",
      { socket: this.#ports.notifySocketName ?? "", times: this.#notifyFailures },
      why,
    );
    this.#notifyFailures = 0;
  }
}

/** What `systemctl status` shows. */
function statusLine(totals: Totals): string {
  return `${totals.clientsNow} clients held now, ${totals.connects} trapped since start, ` +
    `${totals.bytesSent} bytes sent`;
}
