/**
 * http-status: a status line whose reason phrase never ends.
 *
 * RFC 9112 4: `status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF`, and
 * the reason phrase is any number of spaces, tabs and visible characters, which "a
 * client SHOULD ignore". So a client reads the phrase until the CRLF that ends the line,
 * which never comes. The code is 100, which decides nothing even for a client that reads
 * it before the line ends (RFC 9110 15.2).
 *
 * Verdicts: a complete status line; none is ever complete. Clients give up only at their
 * own limit on a line's length: Python's http.client at 64 KiB, curl at 100 KiB.
 *
 * @module
 */
import {
  endlessLines,
  lineAlternatives,
  type Protocol,
  serverFirstPacing,
  verdictFreeStretch,
} from "./protocol.ts";

/** The status line's start: version, code and the space before the reason phrase. */
const httpStatusStart = "HTTP/1.1 100 ";

/**
 * The http-status tarpit's pieces: {@link httpStatusStart}, then the reason phrase in
 * stretches of `maxLineLength` bytes, forever.
 */
const httpEndlessReasonPhrase: Protocol["lines"] = endlessLines(verdictFreeStretch, [
  httpStatusStart,
]);

/** The http-status protocol for the registry. */
export const httpStatus: Protocol = {
  name: "http-status",
  summary: "HTTP/1.1 100, then a reason phrase without end (RFC 9112 4)",
  verdicts: [/HTTP\/1\.[01] [2-5]\d\d/, /\r\n/],
  minLineLength: 1,
  pacing: serverFirstPacing,
  alternatives: lineAlternatives(serverFirstPacing),
  lines: httpEndlessReasonPhrase,
};
