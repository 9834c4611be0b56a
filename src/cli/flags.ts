/**
 * Every flag of `tarpyt` in one table: its name, its variable, its default, its check and
 * its help, each written once. `--help`, the parser and the README's options block
 * (kept equal by tests/system/docs_test.ts) all come from {@link flags}.
 *
 * A flag wins over its variable. A default the user did not choose follows the values
 * they did choose: `--delay 200ms` alone scales the protocol's jitter with it, `--jitter
 * 5s` alone stretches the delay. Only values the user chose can contradict each other.
 *
 * @module
 */
import { formatDuration, parseDuration } from "../text/duration.ts";
import { logFormats, logLevels } from "../log/logger.ts";
import { protocols } from "../../protocols/mod.ts";
import { longestSilenceMs, type Protocol } from "../../protocols/protocol.ts";
import { isIPv4, isIPv6 } from "node:net";

/** A bad flag, value or variable; its message is the one line to show. */
export class UsageError extends Error {
  /** The error's name, as stack traces and tests see it. */
  override name = "UsageError";
}

/** An address to bind, as `--listen` gives it, for running without systemd. */
export interface ListenAddress {
  /** The host to bind: an IPv4 or IPv6 address. */
  readonly host: string;
  /** 0 binds a free port, which the startup log names. */
  readonly port: number;
}

/** A flag's text and where it came from (`--delay` or `TARPYT_DELAY`), for messages. */
export interface Given {
  /** The flag or variable that gave it, or the flag when it is the default. */
  readonly source: string;
  /** The text. */
  readonly text: string;
}

/** What a flag's default and check may look at: the values read before it. */
export interface Context {
  /** The protocol (`--protocol`, read first). */
  readonly protocol: Protocol;
  /** The text the user gave for `name`, by flag or variable; undefined when not chosen. */
  chosen(name: string): string | undefined;
  /** The milliseconds of a duration flag read before this one. */
  ms(name: "first-delay" | "delay" | "jitter"): number;
}

/** One flag. */
export interface Flag<T> {
  /** Its environment variable. */
  readonly env: string;
  /** What its value looks like in `--help`: `DURATION`, `N`. */
  readonly value: string;
  /** One line for `--help`. */
  readonly help: string;
  /** The default as `--help` shows it: a value, `per protocol`, or nothing. */
  readonly shown: string;
  /** The default's text, given what was read before it. */
  readonly fallback: (context: Context) => string;
  /** The value of `given`, or a {@link UsageError} naming its source. */
  readonly check: (given: Given, context: Context) => T;
  /** Whether the flag may repeat (its variable then holds a list). */
  readonly multiple?: true;
}

/** Infers a flag's value type. */
function flag<T>(spec: Flag<T>): Flag<T> {
  return spec;
}

/** The longest line any protocol may be asked for: the SSH pre-banner limit of RFC 4253 4.2. */
export const longestLine = 255;

/** The longest `--banner`: at 10 s a byte, over 11 hours. */
const longestBanner = 4096;

const perProtocol = "per protocol";

/** The flags that set a pacing, and so fix it: learning picks among the protocol's own. */
const pacingFlags = ["first-delay", "delay", "jitter", "piece-size", "max-line-length"] as const;

/** Every value flag, in `--help` order, which is also the order they are read in. */
export const flags = {
  protocol: flag({
    env: "TARPYT_PROTOCOL",
    value: "NAME",
    help: `what to speak: ${Object.keys(protocols).join(", ")}; --banner makes it banner`,
    shown: "ssh",
    fallback: ({ chosen }) => chosen("banner") === undefined ? "ssh" : "banner",
    check: (given) => oneOf(given, protocols),
  }),
  "first-delay": flag({
    env: "TARPYT_FIRST_DELAY",
    value: "DURATION",
    help: `silence before a client's first byte, at most ${formatDuration(longestSilenceMs)}`,
    shown: perProtocol,
    fallback: ({ protocol }) => formatDuration(protocol.pacing.firstDelayMs),
    check: (given) => duration(given, 0, longestSilenceMs),
  }),
  delay: flag({
    env: "TARPYT_DELAY",
    value: "DURATION",
    help: "time between two pieces to one client (500ms, 10s, 2m)",
    shown: perProtocol,
    fallback: ({ protocol, chosen }) => {
      const { delayMs, jitterMs } = protocol.pacing;
      const jitter = parseDuration(chosen("jitter") ?? "");
      if (jitter === undefined || jitter < delayMs) return formatDuration(delayMs);
      // Only --jitter was chosen: the delay stretches to keep the protocol's proportion.
      const stretched = jitterMs > 0 ? Math.ceil(jitter * delayMs / jitterMs) : 2 * jitter;
      return formatDuration(Math.max(stretched, jitter + 1));
    },
    check: (given) => duration(given, 10, 86_400_000),
  }),
  jitter: flag({
    env: "TARPYT_JITTER",
    value: "DURATION",
    help: "vary each delay by up to this much either way; less than --delay",
    shown: perProtocol,
    fallback: ({ protocol, ms }) => {
      // The protocol's jitter, in proportion to the delay: --delay alone scales it.
      const { delayMs, jitterMs } = protocol.pacing;
      const delay = ms("delay");
      return formatDuration(Math.min(delay - 1, Math.round(jitterMs * delay / delayMs)));
    },
    check: (given, { ms }) => duration(given, 0, ms("delay") - 1),
  }),
  "piece-size": flag({
    env: "TARPYT_PIECE_SIZE",
    value: "N",
    help: "bytes sent each tick; 0 sends whole lines, as endlessh does",
    shown: perProtocol,
    fallback: ({ protocol }) => String(protocol.pacing.pieceSize),
    check: (given) => integer(given, 0, longestLine),
  }),
  "max-clients": flag({
    env: "TARPYT_MAX_CLIENTS",
    value: "N",
    help: "clients held at once; past it, new ones wait in the kernel's backlog",
    shown: "4096",
    fallback: () => "4096",
    check: (given) => integer(given, 1, 1_000_000),
  }),
  "max-per-ip": flag({
    env: "TARPYT_MAX_PER_IP",
    value: "N",
    help: "clients one IPv4 address or IPv6 /64 may hold at once; past it, its new ones " +
      "are closed at once",
    shown: "32",
    fallback: () => "32",
    check: (given) => integer(given, 1, 1_000_000),
  }),
  "max-line-length": flag({
    env: "TARPYT_MAX_LINE_LENGTH",
    value: "N",
    help: `longest line in bytes, CRLF included, up to ${longestLine}`,
    shown: perProtocol,
    fallback: ({ protocol }) => String(protocol.pacing.maxLineLength),
    check: (given, { protocol }) => integer(given, protocol.minLineLength, longestLine),
  }),
  pacing: flag({
    env: "TARPYT_PACING",
    value: "MODE",
    help: "learn (each source gets the profile that held its clients longest, and of those " +
      "the cheapest) or fixed (every client the protocol's default, or the flags above); " +
      "a pacing flag above makes it fixed",
    shown: "learn",
    fallback: ({ chosen }) =>
      pacingFlags.some((name) => chosen(name) !== undefined) ? "fixed" : "learn",
    check: (given, { chosen }) => {
      const mode = oneOf(given, { learn: "learn", fixed: "fixed" } as const);
      const fixing = pacingFlags.find((name) => chosen(name) !== undefined);
      if (mode === "learn" && fixing !== undefined) {
        throw new UsageError(
          `${given.source}: learn contradicts --${fixing}, which fixes the pacing; drop one`,
        );
      }
      return mode;
    },
  }),
  banner: flag({
    env: "TARPYT_BANNER",
    value: "TEXT",
    help: "for --protocol banner: the bytes it drips, one a tick; escapes \\r \\n \\t \\\\ \\xHH",
    shown: "RFB 003.008\\n",
    fallback: () => "RFB 003.008\\n",
    check: (given, { protocol, chosen }) => {
      if (chosen("banner") !== undefined && protocol.name !== "banner") {
        throw new UsageError(
          `${given.source}: only the banner protocol sends a banner, not ${protocol.name}; drop one`,
        );
      }
      return bannerBytes(given);
    },
  }),
  "max-lifetime": flag({
    env: "TARPYT_MAX_LIFETIME",
    value: "DURATION",
    help: "close a client held this long; 0s holds it until it leaves",
    shown: "0s",
    fallback: () => "0s",
    check: (given) => duration(given, 0, Number.MAX_SAFE_INTEGER),
  }),
  "log-level": flag({
    env: "TARPYT_LOG_LEVEL",
    value: "LEVEL",
    help: `${logLevels.join(", ")}; info logs every ACCEPT and CLOSE`,
    shown: "info",
    fallback: () => "info",
    check: (given) => oneOf(given, Object.fromEntries(logLevels.map((l) => [l, l]))),
  }),
  "log-format": flag({
    env: "TARPYT_LOG_FORMAT",
    value: "FORMAT",
    help: "text (endlessh's lines) or json (one object a line)",
    shown: "text",
    fallback: () => "text",
    check: (given) => oneOf(given, Object.fromEntries(logFormats.map((f) => [f, f]))),
  }),
  "metrics-listen": flag({
    env: "TARPYT_METRICS_LISTEN",
    value: "HOST:PORT",
    help: "serve Prometheus metrics here (GET /metrics); under systemd, pass a socket " +
      "named metrics (FileDescriptorName=metrics) instead",
    shown: "",
    fallback: () => "",
    check: (given) => given.text === "" ? undefined : listenAddress(given),
  }),
  listen: flag({
    env: "TARPYT_LISTEN",
    value: "HOST:PORT",
    help: "bind and serve this address (repeatable; [::1]:2222 for IPv6) " +
      "instead of or beside the sockets systemd passes",
    shown: "",
    fallback: () => "",
    check: (given) => listenAddress(given),
    multiple: true,
  }),
} as const;

/** A flag's name, without its dashes. */
export type FlagName = keyof typeof flags;

/** The value a flag's check gives. */
export type FlagValue<K extends FlagName> = ReturnType<(typeof flags)[K]["check"]>;

/** The checked value of every flag. */
export type FlagValues = {
  readonly [K in FlagName]: K extends "listen" ? ListenAddress[] : FlagValue<K>;
};

/**
 * Reads every flag, in table order, from the command line's values (`cli`) and the
 * environment (`env`): a flag wins over its variable, and a flag neither gives takes its
 * default, computed from the values read before it.
 *
 * @throws {UsageError} naming the flag or variable of the first bad value
 * @example
 * ```ts
 * import { readFlags } from "./flags.ts";
 * const values = readFlags({ delay: "200ms" }, () => undefined);
 * values.jitter; // 67: ssh's 1200ms ± 400ms, scaled to the delay chosen
 * ```
 */
export function readFlags(
  cli: Readonly<Partial<Record<FlagName, string | string[]>>>,
  env: (name: string) => string | undefined,
): FlagValues {
  const values: Partial<Record<FlagName, unknown>> = {};
  const texts: Partial<Record<FlagName, Given>> = {};
  for (const name of Object.keys(flags) as FlagName[]) {
    const fromCli = cli[name];
    if (typeof fromCli === "string") texts[name] = { source: `--${name}`, text: fromCli };
    else if (fromCli === undefined) {
      const fromEnv = env(flags[name].env);
      if (fromEnv !== undefined && fromEnv !== "") {
        texts[name] = { source: flags[name].env, text: fromEnv };
      }
    }
  }
  const context: Context = {
    get protocol(): Protocol {
      return values.protocol as Protocol;
    },
    chosen: (name) => name in texts ? texts[name as FlagName]?.text : undefined,
    ms: (name) => values[name] as number,
  };
  for (const name of Object.keys(flags) as FlagName[]) {
    const spec = flags[name] as Flag<unknown>;
    if (name === "listen") {
      const given = Array.isArray(cli.listen)
        ? cli.listen.map((text) => ({ source: "--listen", text }))
        : (texts.listen?.text ?? "").split(/[\s,]+/).filter(Boolean)
          .map((text) => ({ source: flags.listen.env, text }));
      values.listen = given.map((one) => spec.check(one, context));
      continue;
    }
    const given = texts[name] ?? { source: `--${name}`, text: spec.fallback(context) };
    values[name] = spec.check(given, context);
  }
  return values as FlagValues;
}

function oneOf<T>({ source, text }: Given, choices: Readonly<Record<string, T>>): T {
  if (Object.hasOwn(choices, text)) return choices[text];
  throw new UsageError(`${source}: "${text}" is not one of ${Object.keys(choices).join(", ")}`);
}

function duration({ source, text }: Given, min: number, max: number): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError(`${source}: "${text}" is not a duration; write it like 500ms, 10s or 2m`);
  }
  if (ms === 0 && /[1-9]/.test(text)) {
    // 0 means "never" for some flags: a value that rounds to it must not.
    throw new UsageError(`${source}: ${text} is less than a millisecond; write 0s or 1ms or more`);
  }
  if (ms < min || ms > max) {
    throw new UsageError(
      `${source}: ${text} is out of range; it must be from ${formatDuration(min)} to ${
        formatDuration(max)
      }`,
    );
  }
  return ms;
}

function integer({ source, text }: Given, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${source}: "${text}" must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/**
 * `--banner` text as a string of bytes: `\r`, `\n`, `\t`, `\\` and `\xHH` escapes give
 * bytes (a shell or a unit file cannot easily carry them raw), and other characters
 * their UTF-8 bytes.
 */
function bannerBytes({ source, text }: Given): string {
  const simple: Record<string, number> = { r: 13, n: 10, t: 9, "\\": 92 };
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") {
      const char = String.fromCodePoint(text.codePointAt(i) ?? 0);
      bytes.push(...new TextEncoder().encode(char));
      i += char.length - 1;
      continue;
    }
    const next = text[++i];
    const hex = /^x([0-9A-Fa-f]{2})/.exec(text.slice(i));
    if (next !== undefined && next in simple) {
      bytes.push(simple[next]);
    } else if (hex) {
      bytes.push(parseInt(hex[1], 16));
      i += 2;
    } else {
      throw new UsageError(
        `${source}: "\\${next ?? ""}" is not an escape; use \\r \\n \\t \\\\ or \\xHH`,
      );
    }
  }
  if (bytes.length === 0 || bytes.length > longestBanner) {
    throw new UsageError(`${source}: the banner must be 1 to ${longestBanner} bytes`);
  }
  return String.fromCharCode(...bytes);
}

/**
 * `HOST:PORT` with an IP address, IPv6 in brackets. Host names are refused: they would
 * bind whatever the resolver says (`0x0` resolves to every interface).
 */
function listenAddress({ source, text }: Given): ListenAddress {
  const match = /^\[([^\]]*)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]*):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65_535) {
    throw new UsageError(
      `${source}: "${text}" is not HOST:PORT; write it like 127.0.0.1:2222 or [::1]:2222`,
    );
  }
  const host = match[1];
  const bracketed = text.startsWith("[");
  if (bracketed ? !isIPv6(host) : !isIPv4(host)) {
    throw new UsageError(
      `${source}: "${host}" is not an IP${bracketed ? "v6" : "v4"} address; write 0.0.0.0 ` +
        "for every interface, or [::] for every IPv6 one",
    );
  }
  return { host, port };
}
