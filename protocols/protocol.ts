/**
 * What a protocol module is: a named iterator of lines, and how fast they drip. A
 * protocol knows nothing about sockets or time; the engine asks for the next line when a
 * client is due one, sends it in pieces of a byte or a few, a piece a tick, and drops the
 * iterator when the client leaves, so a protocol holds nothing that needs closing.
 *
 * The iterator is synchronous: a line is computed, never awaited. An async generator
 * per client, with a promise per line, costs far more memory (`deno task bench`
 * measures a client's cost).
 *
 * A line is a string of bytes: each character is one byte (char codes 0 to 255, written
 * as latin1), so text protocols yield ASCII text ending in CRLF and binary ones (SSH
 * packets, telnet commands) yield `\xFF`-style characters. An empty string sends
 * nothing that tick. A line may hold one {@link headEnd} mark: the bytes before it go in
 * one piece. When the iterator is done, the client has had all it will get.
 *
 * Every protocol's module comment lists what its clients take as a verdict (success,
 * failure, the end of a greeting) with the RFC rule, and the module never completes one:
 * a client that gets no verdict keeps waiting.
 *
 * @module
 */

/**
 * Marks the end of a line's head: a reply code or a command that some clients look for
 * in the first bytes they receive, and that the engine therefore sends in one piece. The
 * mark itself is not sent (it is no byte: char code 256).
 */
export const headEnd = "\u0100";

/**
 * How a protocol's lines are paced when no flag says otherwise, chosen by measuring the
 * clients that speak it (`deno task bench-clients`).
 */
export interface Pacing {
  /** Silence before the first piece: at most {@link longestSilenceMs}. */
  readonly firstDelayMs: number;
  /** Time between two pieces. */
  readonly delayMs: number;
  /** How much every delay, the first included, varies either way. */
  readonly jitterMs: number;
  /** Bytes in a piece; 0 sends whole lines, as endlessh does. */
  readonly pieceSize: number;
  /** The longest line, CRLF included. */
  readonly maxLineLength: number;
}

/**
 * A pacing that learning may give a client instead of its protocol's default, with a name
 * for logs and metrics. Which one holds a client longest depends on the client: one that
 * waits only seconds for a first line needs an early one, one with an alarm on a whole
 * line needs whole lines, one that waits for ever is held as well by the cheapest.
 */
export interface Profile extends Pacing {
  /** `early`, `lines`, `spaced`, `slow`, `slow-drip`. */
  readonly name: string;
}

/**
 * The longest first delay: a client whose leaving cannot be seen is sent nothing at most
 * this long, and once a protocol has nothing left to send and its client can no longer be
 * watched, the client is closed this long after.
 */
export const longestSilenceMs = 60_000;

/**
 * The default's drip from the first second: for clients that wait only seconds for a
 * first byte (scanners' brute-force scripts wait 5 to 10 s).
 *
 * @example
 * ```ts
 * import { earlyDrip, serverFirstPacing } from "./protocol.ts";
 * earlyDrip(serverFirstPacing).firstDelayMs; // 1000
 * ```
 */
export function earlyDrip(pacing: Pacing): Profile {
  return { ...pacing, name: "early", firstDelayMs: 1_000 };
}

/**
 * Whole lines every 3 s ± 1, from the first second: for clients with an alarm on a whole
 * line or response (a line dripped a byte every 2 s can take a minute), and at a third of
 * a drip's writes.
 *
 * The many-line profiles' jitters span a second, two and four either side of 3, 7 and
 * 16 s, so their turns fall on grids of those (src/engine/pacing_clock.ts, `gridFor`):
 * a tarpit holding a tool's few connections wakes at most once a grid step for them,
 * and a wakeup costs the runtime far more than the writes it makes (`deno task
 * bench-campaign` measures CPU per held client-second).
 *
 * @example
 * ```ts
 * import { wholeLines, serverFirstPacing } from "./protocol.ts";
 * wholeLines(serverFirstPacing).pieceSize; // 0
 * ```
 */
export function wholeLines(pacing: Pacing): Profile {
  return {
    ...pacing,
    name: "lines",
    firstDelayMs: 1_000,
    delayMs: 3_000,
    jitterMs: 1_000,
    pieceSize: 0,
  };
}

/**
 * Whole lines every 7 s ± 2, from the first second: for clients that wait about 10 s
 * for each read (scripts made with `timeout=10`, patator's modules), at under half the
 * writes of {@link wholeLines}. The delays of the many-line profiles, 3, 7 and 16 s, grow
 * by about half again over double, so whatever silence a client stands, one of them
 * leaves it no more than that factor short of the slowest pacing it would stand.
 *
 * @example
 * ```ts
 * import { spacedLines, serverFirstPacing } from "./protocol.ts";
 * spacedLines(serverFirstPacing).delayMs; // 7000
 * ```
 */
export function spacedLines(pacing: Pacing): Profile {
  return { ...wholeLines(pacing), name: "spaced", delayMs: 7_000, jitterMs: 2_000 };
}

/**
 * Whole lines every 16 s ± 4, the first after 10 s: for clients that wait for ever anyway,
 * at an eighth of a drip's writes. No gap is longer than the 21 s a client of a
 * server-first protocol has sat through before its first byte, so one held that long may
 * be moved to it.
 *
 * @example
 * ```ts
 * import { slowLines, serverFirstPacing } from "./protocol.ts";
 * slowLines(serverFirstPacing).delayMs; // 16000
 * ```
 */
export function slowLines(pacing: Pacing): Profile {
  return {
    ...wholeLines(pacing),
    name: "slow",
    firstDelayMs: 10_000,
    delayMs: 16_000,
    jitterMs: 4_000,
  };
}

/**
 * The default's first delay and jitter, then a byte every 10 s: for protocols of one line,
 * which whole lines would end at once, and clients that wait for ever. Its first silence
 * is drawn as the default's, so a client the default held has sat through it.
 *
 * @example
 * ```ts
 * import { slowDrip, serverFirstPacing } from "./protocol.ts";
 * slowDrip(serverFirstPacing).pieceSize; // 1
 * ```
 */
export function slowDrip(pacing: Pacing): Profile {
  return { ...pacing, name: "slow-drip", delayMs: 10_000, pieceSize: 1 };
}

/** What every protocol's lines are made for. */
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
  /**
   * What its clients take for a verdict (a success, a refusal, the end of a greeting), as
   * its module comment lists them: none may ever appear in what it sends, which
   * tests/unit/protocols_test.ts checks for every protocol in the registry.
   */
  readonly verdicts: readonly RegExp[];
  /** The shortest `maxLineLength` the protocol can honour. */
  readonly minLineLength: number;
  /** Its defaults for `--first-delay`, `--delay`, `--jitter`, `--piece-size`, `--max-line-length`. */
  readonly pacing: Pacing;
  /** The pacings learning may give a client instead (src/learn/learner.ts). */
  readonly alternatives: readonly Profile[];
  /**
   * The lines one client is sent, in pieces, for as long as it stays.
   *
   * @example
   * ```ts
   * import { protocols } from "./mod.ts";
   * const lines = protocols.ssh.lines({ maxLineLength: 32, banner: "" });
   * const first = lines.next(); // { value: "...\r\n", done: false }
   * ```
   */
  lines(options: LineOptions): IterableIterator<string, void, undefined>;
}

/**
 * A protocol's `lines`: the `opening` lines once, then `line(maxLineLength)` forever.
 * Without an opening there is nothing to remember per client, and its clients share one
 * iterator for each line length: the engine keeps a client's for as long as it stays.
 *
 * The endless lines of all its clients are drawn from one {@link LinePool} per line length.
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
  // Per line length, the iterator of the clients that have no opening, and its pool.
  const shared = new Map<number, EndlessLines>();
  const sharedFor = (maxLineLength: number): EndlessLines => {
    let lines = shared.get(maxLineLength);
    if (lines === undefined) {
      shared.set(maxLineLength, lines = new EndlessLines(new LinePool(line, maxLineLength), []));
    }
    return lines;
  };
  if (opening.length > 0) {
    return ({ maxLineLength }) => new EndlessLines(sharedFor(maxLineLength).pool, opening);
  }
  return ({ maxLineLength }) => sharedFor(maxLineLength);
}

/** Lines a {@link LinePool} makes before it draws from those it made. */
export const linePoolSize = 256;

/**
 * Lines of one kind and length, made by `line` until there are {@link linePoolSize}, then
 * drawn from those at random. A line drawn again costs no random text, no concatenation
 * and no garbage, and is sent as the one string it was made (`deno task bench --only lines`
 * measures CPU per line). Tarpit lines must look random, not be unpredictable, and each
 * line stands on its own: two clients drawing from one pool, or one drawing a line twice,
 * are sent nothing a line made afresh could not be.
 *
 * @example
 * ```ts
 * import { LinePool } from "./protocol.ts";
 * const pool = new LinePool((max) => "x".repeat(max - 2) + "\r\n", 8);
 * pool.next(); // "xxxxxx\r\n"
 * ```
 */
export class LinePool {
  readonly #lines: string[] = [];

  /** A pool of lines `line(maxLineLength)` makes. */
  constructor(
    readonly line: (maxLineLength: number) => string,
    readonly maxLineLength: number,
  ) {}

  /** A line: a new one while the pool fills, then one of those at random. */
  next(): string {
    const lines = this.#lines;
    if (lines.length < linePoolSize) {
      const made = this.line(this.maxLineLength);
      lines.push(made);
      return made;
    }
    return lines[Math.floor(Math.random() * linePoolSize)];
  }
}

/**
 * {@link endlessLines}' iterator: a plain object, not a generator, since the engine keeps one
 * per client for as long as it stays and a generator's suspended frame takes a few times its
 * memory (`deno task bench` measures memory per client).
 */
class EndlessLines implements IterableIterator<string, void, undefined> {
  #openingSent = 0;

  constructor(readonly pool: LinePool, readonly opening: readonly string[]) {}

  /** The one result it gives, refilled for each line: read at once, as iterators are. */
  readonly #result = { done: false as const, value: "" };

  next(): IteratorResult<string, void> {
    this.#result.value = this.#openingSent < this.opening.length
      ? this.opening[this.#openingSent++]
      : this.pool.next();
    return this.#result;
  }

  [Symbol.iterator](): this {
    return this;
  }
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

/** Characters of random text kept per alphabet, which {@link randomText} cuts lines from. */
export const randomTextPoolLength = 8_192;

/** Per alphabet, random text to cut lines from: made once, on first use. */
const randomTextPools = new Map<string, string>();

/**
 * `length` characters drawn at random from `alphabet`: a window at a random place in the
 * alphabet's pool of random text, or drawn one by one when longer than the pool.
 *
 * A window costs one random number and one slice, where drawing costs one of each per
 * character; under V8's `--jitless`, that is most of what making a line costs (`deno task
 * bench` measures CPU per line). Lines must look random, not be unpredictable: a pool of
 * {@link randomTextPoolLength} characters has as many windows of each length, so lines
 * seldom repeat.
 *
 * @example
 * ```ts
 * import { alphanumeric, randomText } from "./protocol.ts";
 * randomText(8, alphanumeric); // e.g. "q3ZtP0aa"
 * ```
 */
export function randomText(length: number, alphabet: string): string {
  let pool = randomTextPools.get(alphabet);
  if (pool === undefined) {
    randomTextPools.set(alphabet, pool = drawText(randomTextPoolLength, alphabet));
  }
  if (length > pool.length) return drawText(length, alphabet);
  const start = Math.floor(Math.random() * (pool.length - length + 1));
  return pool.slice(start, start + length);
}

function drawText(length: number, alphabet: string): string {
  let text = "";
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
  return text;
}

/**
 * Free text that no client can read as a verdict: lower-case letters without b, c, d, f,
 * g, v and w, and a space. It holds no digit, so no reply code ("220 ", " 001 ", "535");
 * no colon or `/ > % $ #`, so no prompt ("login:", "Password:", a shell's `$`); no `.`
 * or `-`, which end a multiline POP3 reply or start `-ERR`; and it cannot spell the words
 * brute-forcers look for ("login", "password", "invalid", "incorrect", "bad", "denied",
 * "failed", "error"; upper case too).
 */
export const verdictFreeText = "aehijklmnopqrstuxyz ";

/**
 * `maxLineLength` characters of {@link verdictFreeText}, with no line end: the next stretch
 * of a line that never ends.
 *
 * @example
 * ```ts
 * import { verdictFreeStretch } from "./protocol.ts";
 * verdictFreeStretch(32); // e.g. "ktp oy.mahzq lrsu joxaein tqlmy "
 * ```
 */
export function verdictFreeStretch(maxLineLength: number): string {
  return randomText(maxLineLength, verdictFreeText);
}

/**
 * One continuation line of a multiline reply, `<code>-<text>\r\n`, of 7 to
 * `maxLineLength` bytes, its code and hyphen a {@link headEnd} head. SMTP (RFC 5321
 * 4.2.1) and FTP (RFC 959 4.2) share this shape: the reply ends only at a line starting
 * `<code> `, which a tarpit never sends.
 *
 * @example
 * ```ts
 * import { replyContinuationLine } from "./protocol.ts";
 * replyContinuationLine("220", 32); // e.g. "220-\u0100ktp oy.ma\r\n"
 * ```
 */
export function replyContinuationLine(code: string, maxLineLength: number): string {
  const room = maxLineLength - `${code}-\r\n`.length;
  return `${code}-${headEnd}${randomText(randomInt(1, room), verdictFreeText)}\r\n`;
}

/**
 * The pacing of protocols whose server speaks first (SMTP, FTP, POP3, IMAP, telnet) and
 * of HTTP. The first piece comes after 21 to 23 s: past medusa's 20 s wait for a reply
 * (READ_WAIT_TIME, medusa's src/medusa-net.h), which otherwise gives up 300 ms after the
 * first byte of anything it cannot match, and inside hydra's 32 s (its -w). Then a byte
 * every 1 to 3 s: it resets the per-read timeout of every client `deno task bench-clients`
 * runs, the shortest being scripts' few seconds.
 */
export const serverFirstPacing: Pacing = {
  firstDelayMs: 22_000,
  delayMs: 2_000,
  jitterMs: 1_000,
  pieceSize: 1,
  maxLineLength: 32,
};

/**
 * The alternatives of a protocol whose lines must come a piece at a time: {@link earlyDrip}
 * and {@link slowDrip} of its default pacing. For protocols of one line, which whole lines
 * would end at once, and for a first line some client takes for an answer when it comes
 * whole: medusa 2.2 looks for a status line in what arrives within 0.3 s of a reply's
 * first bytes (medusaReceiveRegex, src/medusa-net.c) and reports a whole `HTTP/1.1 100
 * Continue` as `ACCOUNT FOUND` (tests/system/campaign_test.ts); dripped, it finds none.
 *
 * @example
 * ```ts
 * import { dripAlternatives, serverFirstPacing } from "./protocol.ts";
 * dripAlternatives(serverFirstPacing).map((profile) => profile.name); // ["early", "slow-drip"]
 * ```
 */
export function dripAlternatives(pacing: Pacing): Profile[] {
  return [earlyDrip(pacing), slowDrip(pacing)];
}

/**
 * The alternatives of a protocol of many lines: {@link earlyDrip}, {@link wholeLines},
 * {@link spacedLines}, {@link slowLines} and {@link slowDrip} of its default pacing. The
 * slow drip is for clients that judge a whole line in one read (hydra finds `HTTP/1.` in
 * http's) and wait for ever on a drip: whole lines end them at once.
 *
 * @example
 * ```ts
 * import { lineAlternatives, serverFirstPacing } from "./protocol.ts";
 * lineAlternatives(serverFirstPacing).map((profile) => profile.name); // ["early", "lines", "spaced", "slow", "slow-drip"]
 * ```
 */
export function lineAlternatives(pacing: Pacing): Profile[] {
  return [
    earlyDrip(pacing),
    wholeLines(pacing),
    spacedLines(pacing),
    slowLines(pacing),
    slowDrip(pacing),
  ];
}

/** The shortest {@link replyContinuationLine}: `220-x\r\n`. */
export const replyContinuationMinLength: number = "220-x\r\n".length;
