/**
 * A logger of one line per event on stderr, for journald, for people and for programs.
 *
 * An event is a name, fields and an optional message. The text format writes
 * `ACCEPT host=203.0.113.7 port=54208 fd=1 n=1/4096`: endlessh's lines, so fail2ban and
 * CrowdSec parsers written for endlessh keep working. The JSON format writes one object
 * per line with stable keys: `timestamp`, `level`, `event`, the event's fields (numbers
 * as numbers), and `message` when there is one.
 *
 * Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog priority, `<6>`,
 * which journald turns into the entry's priority and strips; journald stamps the time.
 * Elsewhere a text line starts with an ISO 8601 time, as endlessh's do.
 *
 * @module
 */
import { escapeControl, escapeJson } from "../text/escape.ts";

/** Log levels, most severe first. */
export const logLevels = ["error", "warning", "info", "debug"] as const;

/** One of {@link logLevels}. */
export type LogLevel = typeof logLevels[number];

/** How lines are written. */
export const logFormats = ["text", "json"] as const;

/** One of {@link logFormats}. */
export type LogFormat = typeof logFormats[number];

/**
 * An event's fields, in the order they are written. Values hold no spaces; keys are not
 * `timestamp`, `level`, `event` or `message`, which JSON lines use.
 */
export type LogFields = Readonly<Record<string, string | number>>;

const syslogPriority: Readonly<Record<LogLevel, number>> = {
  error: 3,
  warning: 4,
  info: 6,
  debug: 7,
};

/** Writes events at or above a level. */
export interface Logger {
  /** Whether an event at `level` would be written (to skip building it when not). */
  enabled(level: LogLevel): boolean;
  /** Writes `event` with its fields and, after them, a message for people. */
  log(level: LogLevel, event: string, fields?: LogFields, message?: string): void;
}

/** How {@link createLogger} formats and where it writes. */
export interface LoggerOptions {
  /** The least severe level written. */
  level: LogLevel;
  /** `text` (endlessh's) or `json`; text by default. */
  format?: LogFormat;
  /** Prefix `<priority>` for journald instead of a timestamp. */
  journal: boolean;
  /** Where lines go, with the level and event of each; stderr by default. */
  write?: (line: string, level: LogLevel, event: string) => void;
  /** The clock for timestamps; `Date.now` by default. */
  now?: () => number;
  /**
   * The machine's name, which JSON lines carry as `hostname` (`host` is a client's), so
   * a fleet's logs can be told apart.
   */
  hostname?: string;
}

/**
 * Creates a {@link Logger}.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "info", journal: Deno.env.has("JOURNAL_STREAM") });
 * log.log("info", "ACCEPT", { host: "127.0.0.1", port: 40000, fd: 1, n: "1/4096" });
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  const threshold = logLevels.indexOf(options.level);
  const enabled = (level: LogLevel): boolean => logLevels.indexOf(level) <= threshold;
  const json = options.format === "json";
  const { journal, hostname } = options;
  return {
    enabled,
    log(level, event, fields = {}, message): void {
      if (!enabled(level)) return;
      const priority = journal ? `<${syslogPriority[level]}>` : "";
      if (json) {
        const timestamp = new Date(now()).toISOString();
        const head: Record<string, string> = hostname === undefined
          ? { timestamp, level, event }
          : { timestamp, hostname, level, event };
        write(priority + jsonLine(head, fields, message), level, event);
        return;
      }
      // journald stamps the time itself: a text line under it needs none.
      const line = textLine(event, fields, message);
      write(journal ? priority + line : `${new Date(now()).toISOString()} ${line}`, level, event);
    },
  };
}

/** Numbers written as text (`"1.500"`, kept so for the text format) become numbers. */
const decimal = /^-?\d+(\.\d+)?$/;

/** `{"timestamp":...,"level":...,"event":...,fields...,"message":...}`. */
function jsonLine(
  head: Readonly<Record<string, string>>,
  fields: LogFields,
  message: string | undefined,
): string {
  const object: Record<string, string | number> = { ...head };
  for (const [key, value] of Object.entries(fields)) {
    object[key] = typeof value === "string" && decimal.test(value) ? Number(value) : value;
  }
  if (message) object.message = message;
  return escapeJson(JSON.stringify(object));
}

/**
 * `EVENT key=value ... message`. Text from outside (an address, a variable's value) has
 * its control characters escaped: a newline in it would forge a line.
 */
function textLine(event: string, fields: LogFields, message: string | undefined): string {
  let line = event;
  for (const key in fields) {
    const value = fields[key];
    line += ` ${key}=${typeof value === "string" ? escapeControl(value) : value}`;
  }
  return message ? `${line} ${escapeControl(message)}` : line;
}
