/**
 * A logger of one line per event on stderr, for journald and for people.
 *
 * Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog priority, `<6>`,
 * which journald turns into the entry's priority and strips; journald stamps the time.
 * Elsewhere each line starts with an ISO 8601 time, as endlessh's do, so parsers written
 * for endlessh's `ACCEPT`/`CLOSE` lines keep working on either.
 *
 * @module
 */

/** Log levels, most severe first. */
export const logLevels = ["error", "warning", "info", "debug"] as const;

/** One of {@link logLevels}. */
export type LogLevel = typeof logLevels[number];

const syslogPriority: Readonly<Record<LogLevel, number>> = {
  error: 3,
  warning: 4,
  info: 6,
  debug: 7,
};

/** Writes events at or above a level. */
export interface Logger {
  /** Whether a message at `level` would be written (to skip building it when not). */
  enabled(level: LogLevel): boolean;
  error(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** How {@link createLogger} formats and where it writes. */
export interface LoggerOptions {
  /** The least severe level written. */
  level: LogLevel;
  /** Prefix `<priority>` for journald instead of a timestamp. */
  journal: boolean;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  /** The clock for timestamps; `Date.now` by default. */
  now?: () => number;
}

/**
 * Creates a {@link Logger}.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "info", journal: Deno.env.has("JOURNAL_STREAM") });
 * log.info("ACCEPT host=127.0.0.1 port=40000 fd=1 n=1/4096");
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  const threshold = logLevels.indexOf(options.level);
  const enabled = (level: LogLevel): boolean => logLevels.indexOf(level) <= threshold;
  const at = (level: LogLevel) => (message: string): void => {
    if (!enabled(level)) return;
    const prefix = options.journal
      ? `<${syslogPriority[level]}>`
      : `${new Date(now()).toISOString()} `;
    write(prefix + message);
  };
  return {
    enabled,
    error: at("error"),
    warning: at("warning"),
    info: at("info"),
    debug: at("debug"),
  };
}
