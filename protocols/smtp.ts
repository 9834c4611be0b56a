/**
 * smtp: a greeting that never ends.
 *
 * RFC 5321 4.2.1: a multiline reply is lines of `220-text`, ended by one `220 text`
 * line; this sends only the first kind. The client must wait for the greeting (RFC 5321
 * 4.3.1) and should wait at least 5 minutes for it (4.5.3.2.1), and every new byte shows
 * it the server is alive. Text is letters, spaces and full stops (RFC 5321 4.2:
 * textstring).
 *
 * Verdicts: the greeting's last line (`220 `, or a refusal such as `554 `), which ends
 * it; and every reply a client waits for after it (`250` to EHLO, `235` or `535` to AUTH),
 * which never comes because the greeting never ends. The first line's `220-` is sent in
 * one piece: hydra looks for `220` in the first bytes it reads.
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
 * One `220-` continuation line of 7 to `maxLineLength` bytes.
 */
function smtpGreetingLine(maxLineLength: number): string {
  return replyContinuationLine("220", maxLineLength);
}

/**
 * The smtp tarpit's lines: {@link smtpGreetingLine} forever.
 */
const smtpEndlessGreetingLines: Protocol["lines"] = endlessLines(smtpGreetingLine);

/** The smtp protocol for the registry. */
export const smtp: Protocol = {
  name: "smtp",
  summary: "an endless multiline 220- greeting (RFC 5321 4.2.1)",
  verdicts: [/(^|\n)\d{3}[ \r]/, /\d{3} /],
  minLineLength: replyContinuationMinLength,
  pacing: serverFirstPacing,
  alternatives: lineAlternatives(serverFirstPacing),
  lines: smtpEndlessGreetingLines,
};
