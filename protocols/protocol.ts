/**
 * What a protocol module is: a named generator of lines. A protocol knows nothing about
 * sockets or time; the engine asks for the next line when a client is due one, writes
 * it, and stops the generator when the client leaves.
 *
 * The generator is synchronous: a line is computed, never awaited. An async generator
 * per client, with a promise per line, was measured (10,000 clients, one line a second)
 * at about 5,600 bytes of memory per client against 2,700 for a synchronous one; the
 * socket alone costs 2,400.
 *
 * A line is a string of bytes: each character is one byte (char codes 0 to 255, written
 * as latin1), so text protocols yield ASCII text ending in CRLF and binary ones (SSH
 * packets, telnet commands) yield `\xFF`-style characters. An empty string sends
 * nothing that tick: the client is left waiting in silence.
 *
 * @module
 */

/** What every protocol's line generator is given. */
export interface LineOptions {
  /** The longest line to produce, in bytes, CRLF included. */
  readonly maxLineLength: number;
  /** The bytes `--banner` gives, for protocols that drip a banner. */
  readonly banner: string;
}

/** A tarpit protocol, registered by name in `protocols/mod.ts`. */
export interface Protocol {
  /** The `--protocol` value and the unit name part: `tarpyt-<name>@.socket`. */
  readonly name: string;
  /** One line for `--help`: what the client sees, and the rule that permits it. */
  readonly summary: string;
  /** The shortest `maxLineLength` the protocol can honour. */
  readonly minLineLength: number;
  /** Its own `--max-line-length` default, where the global 32 would trap clients less long. */
  readonly defaultMaxLineLength?: number;
  /**
   * The lines one client is sent, one per tick, for as long as it stays.
   *
   * @example
   * ```ts
   * import { protocols } from "./mod.ts";
   * const lines = protocols.ssh.lines({ maxLineLength: 32, banner: "" });
   * const first = lines.next(); // { value: "...\r\n", done: false }
   * ```
   */
  lines(options: LineOptions): Generator<string, void, undefined>;
}

/**
 * A protocol's `lines`: the `opening` lines once, then `line(maxLineLength)` forever.
 *
 * @example
 * ```ts
 * import { endlessLines } from "./protocol.ts";
 * const lines = endlessLines((max) => "x".repeat(max - 2) + "\r\n", ["hello\r\n"]);
 * ```
 */
export function endlessLines(
  line: (maxLineLength: number) => string,
  opening: readonly string[] = [],
): Protocol["lines"] {
  return function* ({ maxLineLength }: LineOptions): Generator<string, void, undefined> {
    yield* opening;
    for (;;) yield line(maxLineLength);
  };
}

/**
 * A random integer in `[min, max]`. Tarpit lines need to look random, not be unpredictable,
 * so `Math.random` is enough and costs no system call.
 *
 * @example
 * ```ts
 * import { randomInt } from "./protocol.ts";
 * const length = randomInt(3, 32);
 * ```
 */
export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** Letters and digits: legal in every text field of every protocol here. */
export const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Printable ASCII, space (0x20) to tilde (0x7E): no NUL, CR, LF or other control byte. */
export const printableAscii: string = Array.from(
  { length: 0x7f - 0x20 },
  (_, i) => String.fromCharCode(0x20 + i),
).join("");

/**
 * `length` characters drawn at random from `alphabet`.
 *
 * @example
 * ```ts
 * import { alphanumeric, randomText } from "./protocol.ts";
 * randomText(8, alphanumeric); // e.g. "q3ZtP0aa"
 * ```
 */
export function randomText(length: number, alphabet: string): string {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
  return text;
}

/**
 * One continuation line of a multiline reply, `<code>-<text>\r\n`, of 7 to
 * `maxLineLength` bytes. SMTP (RFC 5321 4.2.1) and FTP (RFC 959 4.2) share this shape: the
 * reply ends only at a line starting `<code> `, which a tarpit never sends.
 *
 * @example
 * ```ts
 * import { replyContinuationLine } from "./protocol.ts";
 * replyContinuationLine("220", 32); // e.g. "220-k2#Q~ a;Zm\r\n"
 * ```
 */
export function replyContinuationLine(code: string, maxLineLength: number): string {
  const room = maxLineLength - `${code}-\r\n`.length;
  return `${code}-${randomText(randomInt(1, room), printableAscii)}\r\n`;
}

/** The shortest {@link replyContinuationLine}: `220-x\r\n`. */
export const replyContinuationMinLength = "220-x\r\n".length;
