/**
 * http: a `200 OK` status line, then header fields that never end.
 *
 * RFC 9110 5.4: the protocol sets no limit on the number or length of header fields; a
 * client reads fields until the empty line that ends the header section, which never
 * comes. Names are tokens (RFC 9110 5.1) and values visible characters (RFC 9110 5.5);
 * both are drawn from letters and digits, so every line is legal everywhere.
 *
 * @module
 */
import { alphanumeric, endlessLines, type Protocol, randomInt, randomText } from "./protocol.ts";

/** The status line every client gets first. */
export const httpStatusLine = "HTTP/1.1 200 OK\r\n";

/** `X-` + name + `: ` + value + CRLF, with at least one character each of name and value. */
const fieldOverhead = "X-: \r\n".length;

/** The shortest {@link httpHeaderLine}: `X-a: b\r\n`. */
const httpFieldMinLength = fieldOverhead + 2;

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
 * The http tarpit's lines: {@link httpStatusLine}, then {@link httpHeaderLine} forever.
 *
 * @example
 * ```ts
 * import { httpEndlessHeaderLines } from "./http.ts";
 * const lines = httpEndlessHeaderLines({ maxLineLength: 32, banner: "" });
 * lines.next().value; // "HTTP/1.1 200 OK\r\n"
 * ```
 */
export const httpEndlessHeaderLines: Protocol["lines"] = endlessLines(httpHeaderLine, [
  httpStatusLine,
]);

/** The http protocol for the registry. */
export const http: Protocol = {
  name: "http",
  summary: "HTTP/1.1 200 OK, then endless header fields (RFC 9110 5.4)",
  minLineLength: httpFieldMinLength,
  // curl stops at 300 KiB of header section (measured: "Too large response headers:
  // 307219 > 307200"): the shortest fields make the most lines of it, 38,400 of 8 bytes,
  // over 4 days at 10 s a line. http.client stops at 100 fields whatever their length.
  defaultMaxLineLength: httpFieldMinLength,
  lines: httpEndlessHeaderLines,
};
