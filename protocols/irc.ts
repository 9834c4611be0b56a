/**
 * irc: server notices that never let registration finish.
 *
 * RFC 2812 3.3.2: a server sends NOTICE messages, and while a client registers, servers
 * send `NOTICE *` lines (the target is `*` until the client has a nick) such as
 * `*** Looking up your hostname`. Registration completes only with the 001 welcome
 * reply (RFC 2812 5.1), which never comes. Lines stay under the 512-byte limit (RFC 2812
 * 2.3) and hold no NUL, CR or LF.
 *
 * @module
 */
import { endlessLines, printableAscii, type Protocol, randomInt, randomText } from "./protocol.ts";

const noticePrefix = "NOTICE * :*** ";

/**
 * One `NOTICE * :*** <text>\r\n` line of 17 to `maxLineLength` bytes.
 *
 * @example
 * ```ts
 * import { ircNoticeLine } from "./irc.ts";
 * ircNoticeLine(32); // e.g. "NOTICE * :*** k2#Q~ a;Zm\r\n"
 * ```
 */
export function ircNoticeLine(maxLineLength: number): string {
  const room = maxLineLength - noticePrefix.length - 2;
  return `${noticePrefix}${randomText(randomInt(1, room), printableAscii)}\r\n`;
}

/**
 * The irc tarpit's lines: {@link ircNoticeLine} forever.
 *
 * @example
 * ```ts
 * import { ircEndlessNoticeLines } from "./irc.ts";
 * const lines = ircEndlessNoticeLines({ maxLineLength: 32, banner: "" });
 * lines.next().value?.startsWith("NOTICE * :*** "); // true
 * ```
 */
export const ircEndlessNoticeLines: Protocol["lines"] = endlessLines(ircNoticeLine);

/** The irc protocol for the registry. */
export const irc: Protocol = {
  name: "irc",
  summary: "endless NOTICE * lines before registration ends (RFC 2812 3.3.2)",
  minLineLength: noticePrefix.length + 3,
  lines: ircEndlessNoticeLines,
};
