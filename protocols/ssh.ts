/**
 * ssh: endless lines before the version string.
 *
 * RFC 4253 4.2: "The server MAY send other lines of data before sending the version
 * string. Each line SHOULD be terminated by a Carriage Return and Line Feed. Such lines
 * MUST NOT begin with 'SSH-'". A client keeps reading, waiting for `SSH-2.0-...`, which
 * never comes.
 *
 * Verdicts: the version string ends the identification (RFC 4253 4.2); no line here
 * starts with `SSH-`, so none is one.
 *
 * Clients' own limits, which set the pacing: OpenSSH reads at most 1024 such lines and
 * rejects one holding a NUL or a lone CR ("banner line contains invalid characters"), so
 * lines are printable ASCII; paramiko reads at most 100 and gives each line after the
 * first 2 s (its transport.py, `_check_banner`), so a byte comes at least every 1.6 s;
 * Go's x/crypto/ssh reads at most 255 bytes in all, so bytes come one at a time.
 *
 * @module
 */
import {
  endlessLines,
  printableAscii,
  type Protocol,
  randomInt,
  randomText,
  slowLines,
  wholeLines,
} from "./protocol.ts";

/**
 * One pre-banner line: 1 to `maxLineLength - 2` printable characters, then CRLF, never
 * starting with `SSH-`.
 */
function sshPreBannerLine(maxLineLength: number): string {
  return preBannerLineOf(randomText(randomInt(1, maxLineLength - 2), printableAscii));
}

/**
 * The pre-banner line that carries `text`: CRLF-terminated and, as RFC 4253 4.2 requires
 * ("Such lines MUST NOT begin with 'SSH-'"), with a leading `SSH-` made `xSH-`.
 *
 * @example
 * ```ts
 * import { preBannerLineOf } from "./ssh.ts";
 * preBannerLineOf("SSH-2.0-x"); // "xSH-2.0-x\r\n"
 * ```
 */
export function preBannerLineOf(text: string): string {
  return (text.startsWith("SSH-") ? "x" + text.slice(1) : text) + "\r\n";
}

/**
 * The ssh tarpit's lines: {@link sshPreBannerLine} forever.
 */
const sshPreBannerLines: Protocol["lines"] = endlessLines(sshPreBannerLine);

/**
 * SSH clients wait for the server's identification: paramiko 15 s for the first line,
 * then 2 s for each next one, so the first byte comes after a second and the others 0.8
 * to 1.6 s apart.
 */
export const sshPacing: Protocol["pacing"] = {
  firstDelayMs: 1_000,
  delayMs: 1_200,
  jitterMs: 400,
  pieceSize: 1,
  maxLineLength: 32,
};

/** The ssh protocol for the registry. */
export const ssh: Protocol = {
  name: "ssh",
  summary: "endless random lines before the version string (RFC 4253 4.2)",
  verdicts: [/(^|\n)SSH-/],
  minLineLength: 3,
  pacing: sshPacing,
  alternatives: [wholeLines(sshPacing), slowLines(sshPacing)],
  lines: sshPreBannerLines,
};
