/**
 * imap: a greeting, then untagged status responses that never end.
 *
 * RFC 9051 7.1: an untagged `* OK` response "indicates an information-only message", and
 * a server may send untagged responses at any time (RFC 9051 5.3: the client "MUST be
 * prepared to accept any response at all times"). After the `* OK` greeting the client
 * sends a command and waits for its tagged reply; it gets `* OK` lines instead, forever.
 *
 * @module
 */
import { endlessLines, printableAscii, type Protocol, randomInt, randomText } from "./protocol.ts";

/**
 * One untagged status line, `* OK <text>\r\n`, of 8 to `maxLineLength` bytes. The text
 * never starts with `[`, which would open a response code.
 *
 * @example
 * ```ts
 * import { imapUntaggedOkLine } from "./imap.ts";
 * imapUntaggedOkLine(32); // e.g. "* OK k2#Q~ a;Zm\r\n"
 * ```
 */
export function imapUntaggedOkLine(maxLineLength: number): string {
  const text = randomText(randomInt(1, maxLineLength - "* OK \r\n".length), printableAscii);
  return `* OK ${text.startsWith("[") ? "x" + text.slice(1) : text}\r\n`;
}

/**
 * The imap tarpit's lines: {@link imapUntaggedOkLine} forever; the first is the greeting.
 *
 * @example
 * ```ts
 * import { imapEndlessUntaggedLines } from "./imap.ts";
 * const lines = imapEndlessUntaggedLines({ maxLineLength: 32, banner: "" });
 * lines.next().value?.startsWith("* OK "); // true
 * ```
 */
export const imapEndlessUntaggedLines: Protocol["lines"] = endlessLines(imapUntaggedOkLine);

/** The imap protocol for the registry. */
export const imap: Protocol = {
  name: "imap",
  summary: "a * OK greeting, then endless untagged * OK lines (RFC 9051 7.1)",
  minLineLength: "* OK x\r\n".length,
  lines: imapEndlessUntaggedLines,
};
