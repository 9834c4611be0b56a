/**
 * What a protocol module is: a named async generator of lines, each a string of ASCII
 * text ending in CRLF. A protocol knows nothing about sockets or time; the engine asks
 * for the next line when a client is due one, writes it, and stops the generator when
 * the client leaves.
 *
 * @module
 */

/** What every protocol's line generator is given. */
export interface LineOptions {
  /** The longest line to produce, in bytes, CRLF included. */
  readonly maxLineLength: number;
}

/** A tarpit protocol, registered by name in `protocols/mod.ts`. */
export interface Protocol {
  /** The `--protocol` value and the unit name part: `tarpyt-<name>@.socket`. */
  readonly name: string;
  /** One line for `--help`: what the client sees, and the rule that permits it. */
  readonly summary: string;
  /** The shortest `maxLineLength` the protocol can honour. */
  readonly minLineLength: number;
  /**
   * The lines one client is sent, one per tick, for as long as it stays.
   *
   * @example
   * ```ts
   * import { protocols } from "./mod.ts";
   * const lines = protocols.ssh.lines({ maxLineLength: 32 });
   * const first = await lines.next(); // { value: "...\r\n", done: false }
   * ```
   */
  lines(options: LineOptions): AsyncGenerator<string, void, undefined>;
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
