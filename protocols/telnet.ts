/**
 * telnet: option negotiation, then a login banner that never reaches its prompt.
 *
 * RFC 854: the server speaks first, in the Network Virtual Terminal's printable ASCII
 * with CRLF line ends, and may open with option requests. The first piece offers to echo
 * and to suppress go-ahead (RFC 857, RFC 858), as login servers do, so scanners see a
 * telnet server; after it come banner lines forever, a byte at a time.
 *
 * Verdicts: a login or password prompt (`login:`, `Username:`, `Password:`), after
 * which a client sends credentials; a shell's prompt (a line ending in `$ # > %`, which
 * hydra takes for a login wherever one of those appears); a refusal ("Login incorrect",
 * "invalid"). The banner is {@link verdictFreeText}, which can form none of them, and no
 * byte of it is the IAC byte (255).
 *
 * @module
 */
import {
  endlessLines,
  headEnd,
  lineAlternatives,
  type Protocol,
  randomInt,
  randomText,
  serverFirstPacing,
  verdictFreeText,
} from "./protocol.ts";

/** IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD: RFC 854 commands, RFC 857 and 858 options. */
const telnetOptionOffer = "\xff\xfb\x01\xff\xfb\x03";

/**
 * One banner line: 1 to `maxLineLength - 2` characters of {@link verdictFreeText}, then
 * CRLF.
 */
function telnetBannerLine(maxLineLength: number): string {
  return `${randomText(randomInt(1, maxLineLength - 2), verdictFreeText)}\r\n`;
}

/**
 * The telnet tarpit's lines: {@link telnetOptionOffer} in one piece (clients read the
 * commands three bytes at a time), then banner lines forever.
 */
const telnetBannerLines: Protocol["lines"] = endlessLines(telnetBannerLine, [
  `${telnetOptionOffer}${headEnd}`,
]);

/** The telnet protocol for the registry. */
export const telnet: Protocol = {
  name: "telnet",
  summary: "IAC WILL ECHO, then an endless banner, never a login prompt (RFC 854)",
  verdicts: [/ogin:|sername:|asswor|[/>%$#]|incorrect|invalid|bad /i],
  minLineLength: 3,
  pacing: serverFirstPacing,
  alternatives: lineAlternatives(serverFirstPacing),
  lines: telnetBannerLines,
};
