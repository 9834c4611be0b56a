/**
 * irc: server notices that never let registration finish.
 *
 * RFC 2812 3.3.2: a server sends NOTICE messages, and while a client registers, servers
 * send `NOTICE *` lines (the target is `*` until the client has a nick) such as
 * `*** Looking up your hostname`. Registration completes only with the 001 welcome
 * reply (RFC 2812 5.1), which never comes. Lines stay under the 512-byte limit (RFC 2812
 * 2.3) and hold no NUL, CR or LF.
 *
 * Verdicts: the 001 welcome, which ends registration; numeric replies and `ERROR` (a
 * refused password). The text is {@link verdictFreeText}: no digit, no upper case.
 *
 * Pacing: servers often say nothing while they look up the client's host name, and
 * hydra's irc module takes the first bytes it reads for the server's answer, so the
 * first piece comes as late as TarPyt's bound on silence allows.
 *
 * @module
 */
import {
  endlessLines,
  headEnd,
  lineAlternatives,
  longestSilenceMs,
  type Protocol,
  randomInt,
  randomText,
  serverFirstPacing,
  verdictFreeText,
} from "./protocol.ts";

const noticePrefix = "NOTICE * :*** ";

/**
 * One `NOTICE * :*** <text>\r\n` line of 17 to `maxLineLength` bytes; its prefix goes in
 * one piece.
 */
function ircNoticeLine(maxLineLength: number): string {
  const room = maxLineLength - noticePrefix.length - 2;
  return `${noticePrefix}${headEnd}${randomText(randomInt(1, room), verdictFreeText)}\r\n`;
}

/**
 * The irc tarpit's lines: {@link ircNoticeLine} forever.
 */
const ircEndlessNoticeLines: Protocol["lines"] = endlessLines(ircNoticeLine);

/** With its jitter, the first byte comes a few seconds inside the bound. */
const ircPacing = { ...serverFirstPacing, firstDelayMs: longestSilenceMs - 5_000 };

/** The irc protocol for the registry. */
export const irc: Protocol = {
  name: "irc",
  summary: "endless NOTICE * lines before registration ends (RFC 2812 3.3.2)",
  verdicts: [/ 001 /, /\d{3}/, /ERROR/],
  minLineLength: noticePrefix.length + 3,
  pacing: ircPacing,
  alternatives: lineAlternatives(ircPacing),
  lines: ircEndlessNoticeLines,
};
