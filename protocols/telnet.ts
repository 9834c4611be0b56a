/**
 * telnet: option negotiation, then a login banner that never reaches `login:`.
 *
 * RFC 854: the server speaks first, in the Network Virtual Terminal's printable ASCII
 * with CRLF line ends, and may open with option requests. The first tick offers to echo
 * and to suppress go-ahead (RFC 857, RFC 858), as login servers do, so scanners see a
 * telnet server; after it come banner lines forever, and the prompt a password-guessing
 * bot waits for never appears. No line holds the IAC byte (255) by accident: text is
 * printable ASCII only.
 *
 * @module
 */
import { endlessLines, printableAscii, type Protocol, randomInt, randomText } from "./protocol.ts";

/** IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD: RFC 854 commands, RFC 857 and 858 options. */
export const telnetOptionOffer = "\xff\xfb\x01\xff\xfb\x03";

/**
 * One banner line: 1 to `maxLineLength - 2` printable characters, then CRLF.
 *
 * @example
 * ```ts
 * import { telnetBannerLine } from "./telnet.ts";
 * telnetBannerLine(32); // e.g. "k2#Q~ a;Zm\r\n"
 * ```
 */
export function telnetBannerLine(maxLineLength: number): string {
  return `${randomText(randomInt(1, maxLineLength - 2), printableAscii)}\r\n`;
}

/**
 * The telnet tarpit's lines: {@link telnetOptionOffer}, then banner lines forever.
 *
 * @example
 * ```ts
 * import { telnetBannerLines } from "./telnet.ts";
 * const lines = telnetBannerLines({ maxLineLength: 32, banner: "" });
 * lines.next().value; // "\xff\xfb\x01\xff\xfb\x03"
 * ```
 */
export const telnetBannerLines: Protocol["lines"] = endlessLines(telnetBannerLine, [
  telnetOptionOffer,
]);

/** The telnet protocol for the registry. */
export const telnet: Protocol = {
  name: "telnet",
  summary: "IAC WILL ECHO, then an endless banner, never a login prompt (RFC 854)",
  minLineLength: telnetOptionOffer.length,
  lines: telnetBannerLines,
};
