/**
 * The log's vocabulary, in one place: every event TarPyt writes, at which level, with
 * which fields, whether it may be dropped when stderr lags, and what it means. The
 * README's table of events is checked against {@link logEvents} and against lines the
 * program really wrote by tests/system/docs_test.ts, and `tarpyt report` reads the events
 * by these names.
 *
 * The engine's events ({@link TarpitEvent}) become lines here: endlessh's `ACCEPT`,
 * `CLOSE` and `TOTALS`, so that fail2ban and CrowdSec parsers written for endlessh keep
 * working, and TarPyt's own for what endlessh does not say.
 *
 * @module
 */
import { type TarpitEvent, unhandled } from "../engine/events.ts";
import { spareFds } from "../runtime/fd_limit.ts";
import type { Totals } from "../stats/trap_stats.ts";
import type { LogFields, Logger, LogLevel } from "./logger.ts";

/** What the README says of an event. */
interface EventDoc {
  readonly level: LogLevel;
  /** Its fields, in the order they are written. */
  readonly fields: readonly string[];
  /** When it is written. */
  readonly when: string;
  /**
   * `kept` lines are never dropped when stderr lags (warnings and errors never are);
   * `latest` ones are kept too, but a newer one replaces one still waiting.
   */
  readonly keep?: "kept" | "latest";
}

/** Every event TarPyt logs. */
export const logEvents = {
  LISTEN: {
    level: "info",
    fields: ["fd", "name", "from", "address"],
    when: "a tarpit socket is served (`fd` and `name` when passed, `from` otherwise)",
  },
  METRICS: {
    level: "info",
    fields: ["fd", "name", "from", "address"],
    when: "a metrics socket is served",
  },
  START: {
    level: "info",
    fields: [
      "version",
      "protocol",
      "pacing",
      "first-delay",
      "delay",
      "jitter",
      "piece-size",
      "max-line-length",
      "max-clients",
      "max-per-ip",
      "max-lifetime",
    ],
    when: "serving has begun",
    keep: "kept",
  },
  ACCEPT: {
    level: "info",
    fields: ["host", "port", "fd", "n"],
    when: "a client is trapped; `n` is held/max",
  },
  CLOSE: {
    level: "info",
    fields: ["host", "port", "fd", "time", "bytes", "left", "family"],
    when: "a client left or was closed after `time` seconds, having taken `bytes`; `left` " +
      "says how it was seen to go, `family` what its leaving looks like",
  },
  FULL: {
    level: "warning",
    fields: ["n", "times"],
    when: "all `--max-clients` are held; new clients wait in the backlog. At most every 10 s",
  },
  FILE_LIMIT: {
    level: "error",
    fields: ["n", "times"],
    when: "out of file descriptors (accept() failed, or a check found none to spare); new " +
      "clients wait in the backlog. At most every 10 s",
  },
  ACCEPT_FAILED: {
    level: "error",
    fields: ["code", "times"],
    when: "accept() failed with `code`, another error than running out of files. At most " +
      "every 10 s",
  },
  REFUSE: {
    level: "debug",
    fields: ["host", "port", "held"],
    when: "an address that holds `--max-per-ip` clients connected again, and was closed",
  },
  GONE: {
    level: "debug",
    fields: [],
    when: "a client reset before it was accepted",
  },
  ERROR: {
    level: "debug",
    fields: ["host", "port", "code"],
    when: "a write failed: how a client was found gone, just before its `CLOSE`",
  },
  STATS: {
    level: "info",
    fields: ["clients", "connects", "seconds", "bytes", "top"],
    when: "on SIGUSR2 or SIGHUP, and at shutdown",
    keep: "latest",
  },
  TOTALS: {
    level: "info",
    fields: ["connects", "seconds", "bytes"],
    when: "at shutdown, after `STATS`",
    keep: "kept",
  },
  NOTIFY_FAILED: {
    level: "warning",
    fields: ["socket", "times"],
    when: "a message to systemd's notify socket failed `times` times; later ones are still " +
      "sent. At most every 10 s",
  },
  LOG_DROPPED: {
    level: "warning",
    fields: ["lines", "cause"],
    when: "`lines` info lines were dropped: stderr's reader was behind (`stalled`), or more " +
      "came at once than the queue holds (`burst`)",
  },
} as const satisfies Record<string, EventDoc>;

/** The name of a logged event. */
export type EventName = keyof typeof logEvents;

/** Where log lines are queued: a `LogQueue` (log_queue.ts). */
export interface LineQueue {
  /** Queues `line`; see `LogQueue.write` for `keep` and `key`. */
  write(line: string, keep?: boolean, key?: string): void;
}

/**
 * The logger's `write` for `queue`: warnings, errors and the events marked `keep` are
 * never dropped, and a `latest` one replaces one of its kind still waiting.
 *
 * @example
 * ```ts
 * import { queuedLines } from "./vocabulary.ts";
 * import { LogQueue } from "./log_queue.ts";
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "info", journal: false, write: queuedLines(new LogQueue()) });
 * ```
 */
export function queuedLines(
  queue: LineQueue,
): (line: string, level: LogLevel, event: string) => void {
  const keeps = new Map<string, EventDoc["keep"]>(
    Object.entries(logEvents).map(([event, doc]) => [event, (doc as EventDoc).keep]),
  );
  return (line, level, event) => {
    const keep = keeps.get(event);
    queue.write(
      line,
      keep !== undefined || level === "warning" || level === "error",
      keep === "latest" ? event : undefined,
    );
  };
}

/**
 * Writes `event` at its level.
 *
 * @example
 * ```ts
 * import { logEvent } from "./vocabulary.ts";
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "info", journal: false });
 * logEvent(log, "LOG_DROPPED", { lines: 12, cause: "stalled" }, "stderr could not keep up");
 * ```
 */
export function logEvent(
  log: Logger,
  event: EventName,
  fields?: LogFields,
  message?: string,
): void {
  log.log(logEvents[event].level, event, fields, message);
}

/** endlessh's seconds: `1060.390`. */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * The line-writer for the engine's events: what each becomes in the log.
 *
 * @example
 * ```ts ignore
 * const onEvent = tarpitEventLogger(log);
 * onEvent({ type: "gone" }); // "GONE", at debug level
 * ```
 */
export function tarpitEventLogger(log: Logger): (event: TarpitEvent) => void {
  // Per-client events are most of the log: their fields are built only when written.
  const info = log.enabled("info"), debug = log.enabled("debug");
  return (event) => {
    switch (event.type) {
      case "accept": {
        if (!info) return;
        const { client } = event;
        logEvent(log, "ACCEPT", {
          host: client.host,
          port: client.port,
          fd: client.id,
          n: `${event.held}/${event.max}`,
        });
        return;
      }
      case "close": {
        const { client } = event;
        if (debug && event.error !== undefined) {
          logEvent(log, "ERROR", { host: client.host, port: client.port, code: event.error });
        }
        if (!info) return;
        logEvent(log, "CLOSE", {
          host: client.host,
          port: client.port,
          fd: client.id,
          time: seconds(event.departure.heldMs),
          bytes: event.departure.bytes,
          left: event.departure.leftBy,
          family: event.family,
        });
        return;
      }
      case "refuse":
        if (debug) {
          logEvent(log, "REFUSE", { host: event.host, port: event.port, held: event.fromHost });
        }
        return;
      case "gone":
        if (debug) logEvent(log, "GONE");
        return;
      case "full":
        logEvent(
          log,
          "FULL",
          { n: `${event.held}/${event.max}`, times: event.times },
          "new clients wait in the listen backlog until one leaves",
        );
        return;
      case "file-limit":
        logEvent(
          log,
          "FILE_LIMIT",
          { n: `${event.held}/${event.max}`, times: event.times },
          `out of file descriptors: raise LimitNOFILE= (ulimit -n) above --max-clients + ${spareFds}`,
        );
        return;
      case "accept-failed":
        logEvent(
          log,
          "ACCEPT_FAILED",
          { code: event.code, times: event.times },
          event.code === "ENOBUFS" || event.code === "ENOMEM"
            ? "the kernel is short of memory"
            : undefined,
        );
        return;
      case "serve":
        return; // LISTEN says more: where the socket came from
      default:
        unhandled(event);
    }
  };
}

/**
 * endlessh's summary line, so its log parsers read ours.
 *
 * @example
 * ```ts ignore
 * logTotals(log, stats.totals(tarpit.held())); // TOTALS connects=1 seconds=1060.998 bytes=4402
 * ```
 */
export function logTotals(log: Logger, totals: Totals): void {
  logEvent(log, "TOTALS", {
    connects: totals.connects,
    seconds: seconds(totals.trappedMs),
    bytes: totals.bytesSent,
  });
}

/**
 * A summary on demand: clients now, totals, and the busiest sources as
 * `address/connections`.
 *
 * @example
 * ```ts ignore
 * logStats(log, stats.totals(tarpit.held()), stats.talkers.top(5));
 * ```
 */
export function logStats(
  log: Logger,
  totals: Totals,
  top: readonly (readonly [address: string, count: number])[],
): void {
  logEvent(log, "STATS", {
    clients: totals.clientsNow,
    connects: totals.connects,
    seconds: seconds(totals.trappedMs),
    bytes: totals.bytesSent,
    top: top.map(([address, count]) => `${address}/${count}`).join(",") || "-",
  });
}
