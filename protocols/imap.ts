/**
 * imap: a greeting whose line never ends.
 *
 * RFC 9051 7.1: the server greets with an untagged `* OK` and text, and IMAP sets no
 * limit on a response line's length (RFC 9051 4). So this sends `* OK ` and then text a
 * byte at a time, never the CRLF: the client is still reading its greeting.
 *
 * Verdicts: the end of the greeting's line, after which a client sends CAPABILITY or
 * LOGIN; every tagged reply (`OK`, `NO`, `BAD`) and `* BYE`. None is ever sent. The text
 * never starts with `[`, which would open a response code. `* OK ` goes in one piece:
 * hydra looks for `OK` or a `*` in the first bytes it reads.
 *
 * @module
 */
import {
  endlessLines,
  headEnd,
  lineAlternatives,
  type Protocol,
  serverFirstPacing,
  verdictFreeStretch,
} from "./protocol.ts";

/** The greeting's start, sent in one piece. */
const imapGreetingStart = "* OK ";

/**
 * The imap tarpit's pieces: {@link imapGreetingStart}, then the greeting's text in
 * stretches of `maxLineLength` bytes, forever.
 */
const imapUnendedGreeting: Protocol["lines"] = endlessLines(verdictFreeStretch, [
  `${imapGreetingStart}${headEnd}`,
]);

/** The imap protocol for the registry. */
export const imap: Protocol = {
  name: "imap",
  summary: "a * OK greeting whose line never ends (RFC 9051 7.1)",
  verdicts: [/\r\n/, / (NO|BAD) /, /\* BYE/],
  minLineLength: 1,
  pacing: serverFirstPacing,
  alternatives: lineAlternatives(serverFirstPacing),
  lines: imapUnendedGreeting,
};
