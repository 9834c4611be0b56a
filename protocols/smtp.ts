/**
 * smtp: a greeting that never ends.
 *
 * RFC 5321 4.2.1: a multiline reply is lines of `220-text`, ended by one `220 text`
 * line; this sends only the first kind. The client must wait for the greeting (RFC 5321
 * 4.3.1) and should wait at least 5 minutes for it (4.5.3.2.1), and every new line
 * shows it the server is alive. Text is printable ASCII (RFC 5321 4.2: textstring).
 *
 * @module
 */
import {
  endlessLines,
  type Protocol,
  replyContinuationLine,
  replyContinuationMinLength,
} from "./protocol.ts";

/**
 * One `220-` continuation line of 7 to `maxLineLength` bytes.
 *
 * @example
 * ```ts
 * import { smtpGreetingLine } from "./smtp.ts";
 * smtpGreetingLine(32); // e.g. "220-k2#Q~ a;Zm\r\n"
 * ```
 */
export function smtpGreetingLine(maxLineLength: number): string {
  return replyContinuationLine("220", maxLineLength);
}

/**
 * The smtp tarpit's lines: {@link smtpGreetingLine} forever.
 *
 * @example
 * ```ts
 * import { smtpEndlessGreetingLines } from "./smtp.ts";
 * const lines = smtpEndlessGreetingLines({ maxLineLength: 32, banner: "" });
 * lines.next().value?.startsWith("220-"); // true
 * ```
 */
export const smtpEndlessGreetingLines: Protocol["lines"] = endlessLines(smtpGreetingLine);

/** The smtp protocol for the registry. */
export const smtp: Protocol = {
  name: "smtp",
  summary: "an endless multiline 220- greeting (RFC 5321 4.2.1)",
  minLineLength: replyContinuationMinLength,
  lines: smtpEndlessGreetingLines,
};
