/**
 * http-chunked: a `200 OK` whose chunked body never ends.
 *
 * RFC 9112 7.1: a chunked body is chunks of `<size in hex>\r\n<data>\r\n`, ended only by a
 * chunk of size 0, which never comes. Where the endless-headers mode stops clients with a
 * header limit, this one has passed every header check: the client is reading the body.
 *
 * @module
 */
import { alphanumeric, endlessLines, type Protocol, randomInt, randomText } from "./protocol.ts";
import { httpStatusLine } from "./http.ts";

/** The header section: status line, fields, empty line; one line a tick. */
export const httpChunkedHead = [
  httpStatusLine,
  "Content-Type: text/html\r\n",
  "Transfer-Encoding: chunked\r\n",
  "\r\n",
] as const;

/** `1\r\nx\r\n`: the shortest chunk. */
const chunkMinLength = 6;

/**
 * One chunk of 6 to `maxLineLength` bytes, size line and CRLF included.
 *
 * @example
 * ```ts
 * import { httpChunk } from "./http_chunked.ts";
 * httpChunk(32); // e.g. "9\r\nq3ZtP0aaF\r\n"
 * ```
 */
export function httpChunk(maxLineLength: number): string {
  let size = randomInt(1, maxLineLength - chunkMinLength + 1);
  while (size.toString(16).length + size + 4 > maxLineLength) size--;
  return `${size.toString(16)}\r\n${randomText(size, alphanumeric)}\r\n`;
}

/**
 * The http-chunked tarpit's lines: the head, then chunks forever.
 *
 * @example
 * ```ts
 * import { httpEndlessChunkedBody } from "./http_chunked.ts";
 * const lines = httpEndlessChunkedBody({ maxLineLength: 32, banner: "" });
 * lines.next().value; // "HTTP/1.1 200 OK\r\n"
 * ```
 */
export const httpEndlessChunkedBody: Protocol["lines"] = endlessLines(httpChunk, httpChunkedHead);

/** The http-chunked protocol for the registry. */
export const httpChunked: Protocol = {
  name: "http-chunked",
  summary: "200 OK, then a chunked body without end (RFC 9112 7.1)",
  minLineLength: "Transfer-Encoding: chunked\r\n".length,
  lines: httpEndlessChunkedBody,
};
