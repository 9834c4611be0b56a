/**
 * The command line: flags, their environment variables, their checks, and `--help`.
 *
 * Every flag can also be set by an environment variable (`--max-clients` by
 * `TARPYT_MAX_CLIENTS`), so one unit template can set it per instance; a flag wins over
 * its variable. A bad value is a {@link UsageError} naming the flag or variable and the
 * values it accepts.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatDuration, parseDuration } from "../text/duration.ts";
import { type LogFormat, logFormats, type LogLevel, logLevels } from "../log/logger.ts";
import { protocols } from "../../protocols/mod.ts";
import type { TrapPolicy } from "../engine/tarpit.ts";
import type { ListenAddress } from "../runtime/listeners.ts";
import { longestSilenceMs, type Pacing } from "../../protocols/protocol.ts";

/** Everything the tarpit needs to run, checked: the engine's policy, and the program's. */
export interface TarpitConfig extends TrapPolicy {
  /** The least severe level logged: `--log-level`. */
  readonly logLevel: LogLevel;
  /** `text` (endlessh's lines) or `json`: `--log-format`. */
  readonly logFormat: LogFormat;
  /** Addresses to bind when systemd passes no socket: `--listen`. */
  readonly listen: readonly ListenAddress[];
  /** Where to serve Prometheus metrics, besides a passed socket named `metrics`. */
  readonly metricsListen: ListenAddress | undefined;
}

/** What the command line asks for. */
export type Command =
  | { readonly kind: "run"; readonly config: TarpitConfig }
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "report"; readonly svg: boolean }
  | SystemdPrintCommand;

/** `tarpyt systemd print [--exec-path PATH] [PROTOCOL...]`: the unit templates, as tar. */
export interface SystemdPrintCommand {
  /** Which command this is. */
  readonly kind: "systemd-print";
  /** Every protocol when none is named. */
  readonly protocols: readonly string[];
  /** The binary to start; `undefined` means this one. */
  readonly execPath: string | undefined;
}

/** A bad flag, value or variable; its message is the one line to show. */
export class UsageError extends Error {
  /** The error's name, as stack traces and tests see it. */
  override name = "UsageError";
}

/** The longest line any protocol may be asked for: the SSH pre-banner limit of RFC 4253 4.2. */
export const longestLine = 255;

interface OptionSpec {
  readonly env: string;
  readonly value: string;
  /** The default; none means each protocol has its own (see {@link pacingDefaults}). */
  readonly fallback?: string;
  readonly help: string;
  readonly multiple?: true;
}

/** Every value flag, in `--help` order. */
export const options = {
  protocol: {
    env: "TARPYT_PROTOCOL",
    value: "NAME",
    fallback: "ssh",
    help: `what to speak: ${Object.keys(protocols).join(", ")}`,
  },
  "first-delay": {
    env: "TARPYT_FIRST_DELAY",
    value: "DURATION",
    help: `silence before a client's first byte, at most ${formatDuration(longestSilenceMs)}`,
  },
  delay: {
    env: "TARPYT_DELAY",
    value: "DURATION",
    help: "time between two pieces to one client (500ms, 10s, 2m)",
  },
  jitter: {
    env: "TARPYT_JITTER",
    value: "DURATION",
    help: "vary each delay by up to this much either way; less than --delay",
  },
  "piece-size": {
    env: "TARPYT_PIECE_SIZE",
    value: "N",
    help: "bytes sent each tick; 0 sends whole lines, as endlessh does",
  },
  "max-clients": {
    env: "TARPYT_MAX_CLIENTS",
    value: "N",
    fallback: "4096",
    help: "clients held at once; past it, new ones wait in the kernel's backlog",
  },
  "max-per-ip": {
    env: "TARPYT_MAX_PER_IP",
    value: "N",
    fallback: "32",
    help: "clients one address may hold at once; past it, its new ones are closed at once",
  },
  "max-line-length": {
    env: "TARPYT_MAX_LINE_LENGTH",
    value: "N",
    help: `longest line in bytes, CRLF included, up to ${longestLine}`,
  },
  banner: {
    env: "TARPYT_BANNER",
    value: "TEXT",
    fallback: "RFB 003.008\\n",
    help: "for --protocol banner: the bytes it drips, one a tick; escapes \\r \\n \\t \\\\ \\xHH",
  },
  "max-lifetime": {
    env: "TARPYT_MAX_LIFETIME",
    value: "DURATION",
    fallback: "0s",
    help: "close a client held this long; 0s holds it until it leaves",
  },
  "log-level": {
    env: "TARPYT_LOG_LEVEL",
    value: "LEVEL",
    fallback: "info",
    help: `${logLevels.join(", ")}; info logs every ACCEPT and CLOSE`,
  },
  "log-format": {
    env: "TARPYT_LOG_FORMAT",
    value: "FORMAT",
    fallback: "text",
    help: "text (endlessh's lines) or json (one object a line)",
  },
  "metrics-listen": {
    env: "TARPYT_METRICS_LISTEN",
    value: "HOST:PORT",
    fallback: "",
    help: "serve Prometheus metrics here (GET /metrics); under systemd, pass a socket " +
      "named metrics (FileDescriptorName=metrics) instead",
  },
  listen: {
    env: "TARPYT_LISTEN",
    value: "HOST:PORT",
    help: "bind and serve this address (repeatable; [::1]:2222 for IPv6) " +
      "instead of or beside the sockets systemd passes",
    multiple: true,
  },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof options;

/**
 * Parses the command line and the `TARPYT_*` environment.
 *
 * @param args the arguments after the program name
 * @param env reads an environment variable
 * @throws {UsageError} for an unknown flag or a bad value
 * @example
 * ```ts
 * import { parseCommandLine } from "./cli.ts";
 * const command = parseCommandLine(["--listen", "127.0.0.1:2222"], () => undefined);
 * if (command.kind === "run") console.log(command.config.delayMs); // 10000
 * ```
 */
export function parseCommandLine(
  args: readonly string[],
  env: (name: string) => string | undefined,
): Command {
  if (args[0] === "systemd") return parseSystemdCommand(args.slice(1));
  if (args[0] === "report") return parseReportCommand(args.slice(1));
  const { values } = parseFlags(args);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const given = (
    name: Exclude<OptionName, "listen">,
    fallback: string = (options[name] as OptionSpec).fallback ?? "",
  ): [source: string, text: string] => {
    const flag = values[name];
    if (flag !== undefined) return [`--${name}`, flag];
    const fromEnv = env(options[name].env);
    if (fromEnv !== undefined && fromEnv !== "") return [options[name].env, fromEnv];
    return [`--${name}`, fallback];
  };

  const protocol = oneOf(given("protocol"), protocols);
  const defaults = pacingDefaults(protocol.pacing);
  const firstDelayMs = duration(given("first-delay", defaults["first-delay"]), 0, longestSilenceMs);
  const delayMs = duration(given("delay", defaults.delay), 10, 86_400_000);
  const jitterMs = duration(given("jitter", defaults.jitter), 0, delayMs - 1);
  const pieceSize = integer(given("piece-size", defaults["piece-size"]), 0, longestLine);
  const maxClients = integer(given("max-clients"), 1, 1_000_000);
  const maxPerIp = integer(given("max-per-ip"), 1, 1_000_000);
  const maxLineLength = integer(
    given("max-line-length", defaults["max-line-length"]),
    protocol.minLineLength,
    longestLine,
  );
  const banner = bannerBytes(given("banner"));
  const maxLifetimeMs = duration(given("max-lifetime"), 0, Number.MAX_SAFE_INTEGER);
  const logLevel = oneOf(given("log-level"), Object.fromEntries(logLevels.map((l) => [l, l])));
  const logFormat = oneOf(given("log-format"), Object.fromEntries(logFormats.map((f) => [f, f])));
  const [metricsSource, metricsText] = given("metrics-listen");
  const metricsListen = metricsText ? listenAddress(metricsSource, metricsText) : undefined;
  const listenText = values.listen?.length
    ? values.listen.map((text) => ["--listen", text] as const)
    : (env(options.listen.env) ?? "").split(/[\s,]+/).filter(Boolean)
      .map((text) => [options.listen.env, text] as const);
  const listen = listenText.map(([source, text]) => listenAddress(source, text));

  return {
    kind: "run",
    config: {
      protocol,
      firstDelayMs,
      delayMs,
      jitterMs,
      pieceSize,
      maxClients,
      maxPerIp,
      maxLineLength,
      banner,
      maxLifetimeMs,
      logLevel,
      logFormat,
      listen,
      metricsListen,
    },
  };
}

const flagOptions = {
  protocol: { type: "string" },
  "first-delay": { type: "string" },
  delay: { type: "string" },
  jitter: { type: "string" },
  "piece-size": { type: "string" },
  "max-clients": { type: "string" },
  "max-per-ip": { type: "string" },
  "max-line-length": { type: "string" },
  banner: { type: "string" },
  "max-lifetime": { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "metrics-listen": { type: "string" },
  listen: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

type Flags = ReturnType<
  typeof parseArgs<{ options: typeof flagOptions; strict: true; allowPositionals: false }>
>;

function parseFlags(args: readonly string[]): Flags {
  try {
    return parseArgs({
      args: [...args],
      options: flagOptions,
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    // node:util's messages name the flag but suggest `--` for positionals: say it plainly.
    const message = error instanceof Error ? error.message : String(error);
    const quoted = /'([^' ]*)/.exec(message)?.[1] ?? message;
    if (/argument missing/.test(message)) {
      throw new UsageError(`${quoted}: needs a value (see --help)`);
    }
    if (/ambiguous/.test(message)) {
      // `--delay -1`: node:util takes "-1" for a flag.
      throw new UsageError(`${quoted}: a value cannot start with "-" (write ${quoted}=VALUE)`);
    }
    if (/positional/i.test(message)) {
      throw new UsageError(
        `unexpected argument "${quoted}": every option is a --flag (see --help)`,
      );
    }
    throw new UsageError(`unknown option ${quoted} (see --help)`);
  }
}

const systemdUsage = "tarpyt systemd print [--exec-path PATH] [PROTOCOL...]";
const reportUsage = "journalctl -o short-iso _SYSTEMD_SLICE=tarpyt.slice | tarpyt report [--svg]";

function parseReportCommand(args: readonly string[]): Command {
  if (args.length === 0) return { kind: "report", svg: false };
  if (args.length === 1 && args[0] === "--svg") return { kind: "report", svg: true };
  throw new UsageError(`report: use: ${reportUsage}`);
}

function parseSystemdCommand(args: readonly string[]): SystemdPrintCommand {
  if (args[0] !== "print") {
    throw new UsageError(`systemd: the one subcommand is print; use: ${systemdUsage}`);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: args.slice(1),
      options: { "exec-path": { type: "string" } },
      strict: true,
      allowPositionals: true,
    });
  } catch {
    throw new UsageError(`systemd print: use: ${systemdUsage}`);
  }
  const execPath = parsed.values["exec-path"];
  // deno-lint-ignore no-control-regex -- control characters are what it refuses
  if (execPath !== undefined && !/^\/[^\s"'\\\x00-\x1f\x7f]*$/.test(execPath)) {
    // It is written into ExecStart=: a space, a quote or a newline would change the unit.
    throw new UsageError(
      `--exec-path: "${execPath}" must be an absolute path without spaces, quotes or control characters`,
    );
  }
  for (const name of parsed.positionals) oneOf(["systemd print", name], protocols);
  return {
    kind: "systemd-print",
    protocols: parsed.positionals.length ? parsed.positionals : Object.keys(protocols),
    execPath,
  };
}

/**
 * A protocol's own defaults for the flags that have no global one, as flag values.
 *
 * @example
 * ```ts
 * import { pacingDefaults } from "./cli.ts";
 * import { protocols } from "../../protocols/mod.ts";
 * pacingDefaults(protocols.ssh.pacing).delay; // "1200ms"
 * ```
 */
export function pacingDefaults(pacing: Pacing): Record<
  "first-delay" | "delay" | "jitter" | "piece-size" | "max-line-length",
  string
> {
  return {
    "first-delay": formatDuration(pacing.firstDelayMs),
    delay: formatDuration(pacing.delayMs),
    jitter: formatDuration(pacing.jitterMs),
    "piece-size": String(pacing.pieceSize),
    "max-line-length": String(pacing.maxLineLength),
  };
}

function oneOf<T>([source, text]: [string, string], choices: Readonly<Record<string, T>>): T {
  if (Object.hasOwn(choices, text)) return choices[text];
  throw new UsageError(`${source}: "${text}" is not one of ${Object.keys(choices).join(", ")}`);
}

function duration([source, text]: [string, string], min: number, max: number): number {
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

function integer([source, text]: [string, string], min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${source}: "${text}" must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** The longest `--banner`: at 10 s a byte, over 11 hours. */
export const longestBanner = 4096;

/**
 * `--banner` text as a string of bytes: `\r`, `\n`, `\t`, `\\` and `\xHH` escapes give
 * bytes (a shell or a unit file cannot easily carry them raw), and other characters
 * their UTF-8 bytes.
 */
function bannerBytes([source, text]: [string, string]): string {
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

function listenAddress(source: string, text: string): ListenAddress {
  const match = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]+):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port > 65_535) {
    throw new UsageError(
      `${source}: "${text}" is not HOST:PORT; write it like 127.0.0.1:2222 or [::1]:2222`,
    );
  }
  const host = match[1];
  if (/^[\d.]+$/.test(host) && !/^(\d{1,3}\.){3}\d{1,3}$/.test(host)) {
    // "0" or "127.1" would bind addresses the reader did not see written.
    throw new UsageError(
      `${source}: "${host}" is not an IPv4 address in full; write 0.0.0.0 for every interface`,
    );
  }
  return { host, port };
}

/**
 * The `--help` text.
 *
 * @example
 * ```ts
 * import { helpText } from "./cli.ts";
 * console.log(helpText());
 * ```
 */
export function helpText(): string {
  const rows = Object.entries(options).map(([name, spec]: [string, OptionSpec]) => {
    const fallback = spec.fallback === undefined
      ? name === "listen" ? "" : " [per protocol]"
      : spec.fallback
      ? ` [${spec.fallback}]`
      : "";
    return `  --${name} ${spec.value}\n      ${spec.help}${fallback}  (${spec.env})`;
  });
  const width = Math.max(...Object.keys(protocols).map((name) => name.length));
  const protocolRows = Object.values(protocols).flatMap((p) => {
    const d = pacingDefaults(p.pacing);
    return [
      `  ${p.name.padEnd(width)} ${p.summary}`,
      `  ${" ".repeat(width)} first byte after ${d["first-delay"]}, then ${
        d["piece-size"] === "0" ? "a line" : `${d["piece-size"]} byte`
      } every ${d.delay}, each delay ± ${d.jitter}; lines up to ${d["max-line-length"]} bytes`,
    ];
  });
  return [
    "tarpyt: a network tarpit. Holds attackers' connections open by sending legal, useless",
    "lines a byte at a time, never finishing anything they wait for, and never reads what",
    "they send.",
    "",
    "Usage: tarpyt [--protocol NAME] [--delay DURATION] [options] [--listen HOST:PORT]...",
    `       ${systemdUsage}`,
    `       ${reportUsage}`,
    "",
    "Under systemd it serves the sockets of its .socket unit (LISTEN_FDS); without it,",
    "give --listen. Every option can also be set by the variable in parentheses.",
    "",
    "A client is sent nothing for at most " + formatDuration(longestSilenceMs) +
    ": the tarpit learns that a client",
    "left only when a write to it fails. So when a protocol has nothing more to send",
    "(pop3, banner), its client is closed " + formatDuration(longestSilenceMs) + " later.",
    "",
    "Options:",
    ...rows,
    "  -h, --help     print this and exit",
    "  -V, --version  print the version, the Deno version and the runtime flags, and exit",
    "",
    "systemd print writes the unit templates as a tar archive, with ExecStart= set to",
    "this binary (or --exec-path); install them with:",
    "  tarpyt systemd print | sudo tar -x -v -C /etc/systemd/system",
    "",
    "report reads TarPyt's log lines (text or JSON) on stdin and prints the busiest",
    "sources, the attackers' time wasted and connections per protocol; with --svg, a",
    "chart of trapped clients over time instead.",
    "",
    "Protocols, and how each drips by default:",
    ...protocolRows,
  ].join("\n");
}
