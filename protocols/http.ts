/**
 * http: an interim `100 Continue` response whose header fields never end.
 *
 * RFC 9110 15.2: "A client MUST be able to parse one or more 1xx responses received prior
 * to a final response, even if the client does not expect one", and a 1xx response ends
 * at the end of its header section; RFC 9110 5.4 sets no limit on the number or length of
 * header fields. So a client reads field after field of an interim response, waiting for
 * its end and then for the final response. Names are tokens (RFC 9110 5.1) and values
 * visible characters (5.5), drawn from letters and digits.
 *
 * Verdicts: a final status (2xx and 3xx read as a login, 401 and 403 as a refusal) and
 * the end of its header section, after which a client acts on it; neither is ever sent.
 * The interim status line is complete but decides nothing, and arrives a byte at a time
 * under every pacing learning gives (`dripAlternatives`): hydra looks for `HTTP/1.` in
 * what one read returns, and medusa takes a whole one for a login.
 *
 * @module
 */
import {
  alphanumeric,
  dripAlternatives,
  endlessLines,
  type Protocol,
  randomInt,
  randomText,
  serverFirstPacing,
} from "./protocol.ts";

/** The status line of an interim response, which every client skips (RFC 9110 15.2). */
export const httpContinueLine = "HTTP/1.1 100 Continue\r\n";

/** `X-` + name + `: ` + value + CRLF, with at least one character each of name and value. */
const fieldOverhead = "X-: \r\n".length;

/** The shortest {@link httpHeaderLine}: `X-a: b\r\n`. */
const httpFieldMinLength: number = fieldOverhead + 2;

/**
 * One header field line of 8 to `maxLineLength` bytes: `X-<name>: <value>\r\n`.
 *
 * @example
 * ```ts
 * import { httpHeaderLine } from "./http.ts";
 * httpHeaderLine(32); // e.g. "X-q3Zt: P0aaF1\r\n"
 * ```
 */
export function httpHeaderLine(maxLineLength: number): string {
  const textLength = randomInt(2, maxLineLength - fieldOverhead);
  const nameLength = randomInt(1, textLength - 1);
  return `X-${randomText(nameLength, alphanumeric)}: ${
    randomText(textLength - nameLength, alphanumeric)
  }\r\n`;
}

/**
 * The http tarpit's lines: {@link httpContinueLine}, then {@link httpHeaderLine} forever.
 */
const httpEndlessInterimFields: Protocol["lines"] = endlessLines(httpHeaderLine, [
  httpContinueLine,
]);

/**
 * Python's http.client stops at 100 fields whatever their length, curl at 300 KiB of
 * them: the longest fields hold both the longest.
 */
const httpPacing = { ...serverFirstPacing, maxLineLength: 255 };

/** The http protocol for the registry. */
export const http: Protocol = {
  name: "http",
  summary: "HTTP/1.1 100 Continue, then header fields without end (RFC 9110 15.2, 5.4)",
  verdicts: [/HTTP\/1\.[01] [2-5]\d\d/, /\r\n\r\n/],
  minLineLength: httpFieldMinLength,
  pacing: httpPacing,
  alternatives: dripAlternatives(httpPacing),
  lines: httpEndlessInterimFields,
};
