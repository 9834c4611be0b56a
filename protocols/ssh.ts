/**
 * ssh: endless lines before the version string.
 *
 * RFC 4253 4.2: "The server MAY send other lines of data before sending the version
 * string. Each line SHOULD be terminated by a Carriage Return and Line Feed. Such lines
 * MUST NOT begin with 'SSH-'". A client keeps reading, waiting for `SSH-2.0-...`, which
 * never comes. OpenSSH rejects a line holding a NUL or a lone CR ("banner line contains
 * invalid characters") and gives up after 1024 lines, so lines here are printable ASCII
 * only, and at a 10 s delay those 1024 lines last close to three hours.
 *
 * @module
 */
import { endlessLines, printableAscii, type Protocol, randomInt, randomText } from "./protocol.ts";

/**
 * One pre-banner line: 1 to `maxLineLength - 2` printable characters, then CRLF, never
 * starting with `SSH-`.
 *
 * @example
 * ```ts
 * import { sshPreBannerLine } from "./ssh.ts";
 * sshPreBannerLine(32); // e.g. "k2#Q~ a;Zm\r\n"
 * ```
 */
export function sshPreBannerLine(maxLineLength: number): string {
  const text = randomText(randomInt(1, maxLineLength - 2), printableAscii);
  // RFC 4253 4.2: such lines MUST NOT begin with "SSH-".
  return (text.startsWith("SSH-") ? "x" + text.slice(1) : text) + "\r\n";
}

/**
 * The ssh tarpit's lines: {@link sshPreBannerLine} forever.
 *
 * @example
 * ```ts
 * import { sshPreBannerLines } from "./ssh.ts";
 * for (const line of sshPreBannerLines({ maxLineLength: 32, banner: "" })) {
 *   console.log(line.trimEnd());
 *   break;
 * }
 * ```
 */
export const sshPreBannerLines: Protocol["lines"] = endlessLines(sshPreBannerLine);

/** The ssh protocol for the registry. */
export const ssh: Protocol = {
  name: "ssh",
  summary: "endless random lines before the version string (RFC 4253 4.2)",
  minLineLength: 3,
  lines: sshPreBannerLines,
};
