/**
 * ftp: a greeting that never ends.
 *
 * RFC 959 4.2: "a multi-line reply ... the first line will have the reply code followed
 * immediately by a hyphen", and the reply ends only at a line starting with the same
 * code and a space. The client must read the whole 220 greeting before it may send USER
 * (RFC 959 5.4), so it waits through `220-` lines that never end.
 *
 * Verdicts: the greeting's last line (`220 `, or `421`), and the replies to USER and PASS
 * (`331`, `230`, `530`) that come after it; none is ever sent. The first line's `220-` is
 * sent in one piece: hydra wants the first byte it reads to be a `2`.
 *
 * @module
 */
import {
  endlessLines,
  lineAlternatives,
  type Protocol,
  replyContinuationLine,
  replyContinuationMinLength,
  serverFirstPacing,
} from "./protocol.ts";

/**
 * The ftp tarpit's lines: `220-` continuation lines forever.
 */
const ftpEndlessGreetingLines: Protocol["lines"] = endlessLines((max) =>
  replyContinuationLine("220", max)
);

/** The ftp protocol for the registry. */
export const ftp: Protocol = {
  name: "ftp",
  summary: "an endless multiline 220- greeting (RFC 959 4.2)",
  verdicts: [/(^|\n)\d{3}[ \r]/, /\d{3} /],
  minLineLength: replyContinuationMinLength,
  pacing: serverFirstPacing,
  alternatives: lineAlternatives(serverFirstPacing),
  lines: ftpEndlessGreetingLines,
};
