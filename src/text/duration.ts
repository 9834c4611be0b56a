/**
 * Durations as people write them on a command line: `500ms`, `10s`, `2m`, `1h`.
 *
 * @module
 */

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `500ms`, `10s`, `1.5s`, `2m` or `1h` into milliseconds.
 * A bare number is refused: endlessh counts milliseconds and tarssh seconds, so a unit is
 * the only way to be sure what was meant.
 *
 * @returns the duration in whole milliseconds, or `undefined` when the text is not one
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("2m"); // 120000
 * parseDuration("10"); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * unitMs[match[2]]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * Formats milliseconds in the largest unit that keeps the value whole.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(120_000); // "2m"
 * formatDuration(1_500); // "1500ms"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  for (const unit of ["h", "m", "s"]) {
    if (ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`;
  }
  return `${ms}ms`;
}
