/**
 * The log's vocabulary, in one place: every event TarPyt writes, at which level, with
 * which fields, and what it means. The README's table of events is checked against
 * {@link logEvents} by tests/docs_test.ts, and `tarpyt report` reads the events by
 * these names.
 *
 * The engine's events ({@link TarpitEvent}) become lines here: endlessh's `ACCEPT`,
 * `CLOSE` and `TOTALS`, so that fail2ban and CrowdSec parsers written for endlessh keep
 * working, and TarPyt's own for what endlessh does not say.
 *
 * @module
 */
import type { TarpitEvent } from "../engine/events.ts";
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
      "first-delay",
      "delay",
      "jitter",
      "piece-size",
      "max-clients",
      "max-per-ip",
      "max-line-length",
      "max-lifetime",
    ],
    when: "serving has begun",
  },
  ACCEPT: {
    level: "info",
    fields: ["host", "port", "fd", "n"],
    when: "a client is trapped; `n` is held/max",
  },
  CLOSE: {
    level: "info",
    fields: ["host", "port", "fd", "time", "bytes"],
    when: "a client left or was closed after `time` seconds, having taken `bytes`",
  },
  FULL: {
    level: "warning",
    fields: ["n", "times"],
    when: "all `--max-clients` are held; new clients wait in the backlog. At most every 10 s",
  },
  FILE_LIMIT: {
    level: "error",
    fields: ["n", "times"],
    when: "out of file descriptors; new clients wait in the backlog. At most every 10 s",
  },
  ACCEPT_FAILED: {
    level: "error",
    fields: ["code", "times"],
    when: "accept() failed with `code`. At most every 10 s",
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
  },
  TOTALS: {
    level: "info",
    fields: ["connects", "seconds", "bytes"],
    when: "at shutdown, after `STATS`",
  },
  NOTIFY_FAILED: {
    level: "warning",
    fields: ["socket"],
    when: "systemd's notify socket refused a message; notifying stops",
  },
  LOG_DROPPED: {
    level: "warning",
    fields: ["lines"],
    when: "stderr could not keep up and `lines` info lines were dropped",
  },
} as const satisfies Record<string, EventDoc>;

/** The name of a logged event. */
export type EventName = keyof typeof logEvents;

/**
 * Writes `event` at its level.
 *
 * @example
 * ```ts
 * import { logEvent } from "./events.ts";
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "info", journal: false });
 * logEvent(log, "LOG_DROPPED", { lines: 12 }, "stderr could not keep up");
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
 * const onEvent = tarpitEventLogger(log, config.maxClients);
 * onEvent({ type: "gone" }); // "GONE", at debug level
 * ```
 */
export function tarpitEventLogger(log: Logger, maxClients: number): (event: TarpitEvent) => void {
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
          time: seconds(event.trappedMs),
          bytes: event.bytes,
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
          event.code === "EMFILE" || event.code === "ENFILE"
            ? `raise LimitNOFILE= above --max-clients (${maxClients})`
            : undefined,
        );
        return;
      case "serve":
        return; // LISTEN says more: where the socket came from
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
