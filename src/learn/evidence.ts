/**
 * What a client's leaving says about the client: which of its limits it met, and how long
 * that limit is. Clients leave for a handful of reasons, whatever program they are, and
 * each reason is a limit a pacing can keep inside or not:
 *
 * - `silence`: it waited too long for a byte (a read timeout, or a wait for the first
 *   line): it left during a longer silence than any it had sat through. A pacing whose
 *   first delay and longest gap are shorter holds it.
 * - `verdict`: it left as soon as it read its first pieces: it took them for an answer it
 *   did not like (medusa matches a pattern within 0.3 s). The later the first byte, the
 *   longer it stays.
 * - `line`: it left mid-line while bytes were coming, having waited for that line over
 *   3 s since the one before ended: an alarm on reading a line. Whole lines, each well
 *   within the alarm, hold it.
 * - `lines`: it left at a line's end after many lines (OpenSSH reads 1,024 lines before
 *   a version string, paramiko 100), or after a few, having spoken: it took the last for
 *   the reply to what it said. Fewer lines a minute hold it longer.
 * - `time`: none of these: it stopped at a time of its own (hydra's 32 s on ssh). No
 *   pacing changes that.
 *
 * A leaving the tarpit caused (a stop, `--max-lifetime`) or only noticed later says
 * nothing of the client's limits, and gives no evidence.
 *
 * @module
 */
import type { Departure } from "../engine/events.ts";
import type { Pacing } from "../../protocols/protocol.ts";

/** Why a client left, as its departure shows it. */
export type Limit = "silence" | "verdict" | "line" | "lines" | "time";

/** A limit a client met, and its measure: seconds, or lines for `lines`. */
export interface Evidence {
  /** Which limit. */
  readonly limit: Limit;
  /** Its measure: seconds of silence, of a line, since its first byte, or in all; or lines. */
  readonly value: number;
}

/** A client that left within this of a piece left because of what it read. */
const soonAfterMs = 1_000;

/** A client that left this soon after its first pieces, and lines, took them for an answer. */
const firstLines = 2, firstPieces = 2;

/** Many lines: a client leaving at a line's end after these many counts lines. */
const manyLines = 20;

/** A line that took this long counts as a line the client gave up on. */
const slowLineMs = 3_000;

/**
 * The limit a departure shows, or undefined when it shows none: the tarpit closed the
 * client, or noticed its leaving only later.
 *
 * @example
 * ```ts
 * import { evidenceOf } from "./evidence.ts";
 * const departure = {
 *   heldMs: 5_000, aliveMs: 5_000, leftBy: "closed" as const, bytes: 0, lines: 0, pieces: 0,
 *   profileLines: 0, profilePieces: 0,
 *   silenceMs: 5_000, longestGapMs: 0, lineBytes: 0, lineMs: 0, profile: 0, profileSinceMs: 0,
 *   greetedMs: Infinity, answeredMs: Infinity, counted: false,
 * };
 * evidenceOf(departure); // { limit: "silence", value: 5 }
 * ```
 */
export function evidenceOf(departure: Departure): Evidence | undefined {
  const { leftBy, heldMs, bytes, lines, silenceMs, longestGapMs, lineBytes, lineMs } = departure;
  if (leftBy !== "closed" && leftBy !== "reset") return undefined;
  if (bytes === 0) return { limit: "silence", value: heldMs / 1000 };
  if (silenceMs >= soonAfterMs && silenceMs > longestGapMs) {
    return { limit: "silence", value: silenceMs / 1000 };
  }
  if (silenceMs < soonAfterMs && lines >= manyLines && lineBytes === 0) {
    return { limit: "lines", value: lines };
  }
  // The first pieces of its profile: one moved to whole lines that leaves at the first
  // judged it, as one given them from the start would have. Not one whose first pieces
  // ended a line dripped before its move: it read that line under both.
  const { profileLines, profilePieces } = departure;
  if (
    silenceMs < soonAfterMs && profileLines < firstLines && profilePieces <= firstPieces &&
    !endedLineBegunBefore(departure)
  ) {
    return { limit: "verdict", value: silenceMs / 1000 };
  }
  // It spoke after an earlier piece, and left as a line ended: it took that line for the
  // reply to what it said, as a tool that reads a line a step does, and would have taken
  // any line that came as soon.
  if (silenceMs < soonAfterMs && lineBytes === 0 && departure.greetedMs < heldMs - silenceMs) {
    return { limit: "lines", value: lines };
  }
  if (lineBytes > 0 && lineMs >= slowLineMs) return { limit: "line", value: lineMs / 1000 };
  return { limit: "time", value: heldMs / 1000 };
}

/**
 * Whether a client moved to another profile left at a line its old profile began: its new
 * profile's first pieces, fewer than a line takes, ended a line. Dripped, the shortest
 * line is more pieces than {@link firstPieces}; whole, a line is a piece. How long the new
 * profile held it says nothing of that profile: most of the line came before.
 *
 * @example
 * ```ts
 * import { endedLineBegunBefore } from "./evidence.ts";
 * const moved = { profileLines: 1, profilePieces: 2, profileSinceMs: 60_000 };
 * endedLineBegunBefore(moved); // true
 * endedLineBegunBefore({ ...moved, profilePieces: 1 }); // false: a whole line
 * ```
 */
export function endedLineBegunBefore(
  departure: Pick<Departure, "profileLines" | "profilePieces" | "profileSinceMs">,
): boolean {
  const { profileLines, profilePieces, profileSinceMs } = departure;
  return profileSinceMs > 0 && profileLines > 0 && profilePieces > profileLines &&
    profilePieces <= firstPieces;
}

/**
 * How long `pacing` would hold a client whose limits are `known` (seconds, lines for
 * `lines`; undefined when not known), capped at `horizonSeconds`: until the first limit the
 * pacing runs into.
 *
 * @example
 * ```ts
 * import { holdFor } from "./evidence.ts";
 * const drip = { firstDelayMs: 22_000, delayMs: 2_000, jitterMs: 1_000, pieceSize: 1, maxLineLength: 32 };
 * holdFor(drip, { silence: 5 }, 300); // 5: it leaves before the first byte
 * holdFor({ ...drip, firstDelayMs: 1_000 }, { silence: 5 }, 300); // 300
 * ```
 */
export function holdFor(
  pacing: Pacing,
  known: Readonly<Partial<Record<Limit, number>>>,
  horizonSeconds: number,
): number {
  const first = firstSilence(pacing), gap = longestGap(pacing);
  // A line of average length takes this long: pieces of a line, a tick each.
  const meanLine = pacing.maxLineLength / 2;
  const lineSeconds = pacing.pieceSize === 0
    ? 0
    : Math.ceil(meanLine / pacing.pieceSize) * pacing.delayMs / 1000;
  const secondsPerLine = pacing.pieceSize === 0 ? pacing.delayMs / 1000 : lineSeconds;
  let seconds = horizonSeconds;
  const { silence, verdict, line, lines, time } = known;
  if (silence !== undefined) {
    if (first >= silence) seconds = Math.min(seconds, silence);
    else if (gap >= silence) seconds = Math.min(seconds, first + silence);
  }
  // One that judges its first bytes stays as long as they take to come: on average the
  // first delay, not the longest it may be drawn.
  if (verdict !== undefined) seconds = Math.min(seconds, pacing.firstDelayMs / 1000 + verdict);
  // An alarm on a line runs from the end of the line before (or the connect) to its end:
  // the first delay and the first line, then a gap and a line.
  if (line !== undefined) {
    const firstLine = first + lineSeconds;
    const laterLine = pacing.pieceSize === 0 ? gap : lineSeconds + gap;
    if (firstLine >= line) seconds = Math.min(seconds, line);
    else if (laterLine >= line) seconds = Math.min(seconds, firstLine + line);
  }
  if (lines !== undefined) seconds = Math.min(seconds, first + lines * secondsPerLine);
  if (time !== undefined) seconds = Math.min(seconds, time);
  return seconds;
}

/**
 * The longest a client of `pacing` waits for its first piece, in seconds.
 *
 * @example
 * ```ts
 * import { firstSilence } from "./evidence.ts";
 * firstSilence({ firstDelayMs: 22_000, delayMs: 2_000, jitterMs: 1_000, pieceSize: 1, maxLineLength: 32 }); // 23
 * ```
 */
export function firstSilence(pacing: Pacing): number {
  return (pacing.firstDelayMs + firstJitterMs(pacing)) / 1000;
}

/**
 * The soonest a client of `pacing` may get its first piece, in seconds: its jitter's
 * earliest draw.
 *
 * @example
 * ```ts
 * import { soonestFirst } from "./evidence.ts";
 * soonestFirst({ firstDelayMs: 22_000, delayMs: 2_000, jitterMs: 1_000, pieceSize: 1, maxLineLength: 32 }); // 21
 * ```
 */
export function soonestFirst(pacing: Pacing): number {
  return (pacing.firstDelayMs - firstJitterMs(pacing)) / 1000;
}

/** How far a first delay may be drawn either way: its jitter, at most half the delay. */
function firstJitterMs(pacing: Pacing): number {
  return Math.min(pacing.jitterMs, pacing.firstDelayMs / 2);
}

/**
 * The longest a client of `pacing` waits between two pieces, in seconds.
 *
 * @example
 * ```ts
 * import { longestGap } from "./evidence.ts";
 * longestGap({ firstDelayMs: 22_000, delayMs: 2_000, jitterMs: 1_000, pieceSize: 1, maxLineLength: 32 }); // 3
 * ```
 */
export function longestGap(pacing: Pacing): number {
  return (pacing.delayMs + pacing.jitterMs) / 1000;
}
