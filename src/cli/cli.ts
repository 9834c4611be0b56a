/**
 * The command line: which command was asked for, the checked configuration of the tarpit
 * (from the flags in flags.ts and their `TARPYT_*` variables), and `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatDuration } from "../text/duration.ts";
import type { LogFormat, LogLevel } from "../log/logger.ts";
import { protocols } from "../../protocols/mod.ts";
import type { Pacing, Protocol } from "../../protocols/protocol.ts";
import { type FlagName, flags, type ListenAddress, readFlags, UsageError } from "./flags.ts";

export { type ListenAddress, UsageError } from "./flags.ts";

/** Everything the tarpit needs to run, checked. */
export interface TarpitConfig {
  /** What it speaks: `--protocol`. */
  readonly protocol: Protocol;
  /** How its clients are paced: the protocol's defaults, or the flags' values. */
  readonly pacing: Pacing;
  /** Whether each source's clients get the profile that held them best (`--pacing learn`). */
  readonly learn: boolean;
  /** `--max-clients`. */
  readonly maxClients: number;
  /** `--max-per-ip`: clients one IPv4 address or IPv6 /64 may hold. */
  readonly maxPerIp: number;
  /** `--banner`, as bytes. */
  readonly banner: string;
  /** `--max-lifetime`; 0 holds a client until it leaves. */
  readonly maxLifetimeMs: number;
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
 * if (command.kind === "run") console.log(command.config.pacing.delayMs); // 1200
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
  const read = readFlags(values, env);
  return {
    kind: "run",
    config: {
      protocol: read.protocol,
      pacing: {
        firstDelayMs: read["first-delay"],
        delayMs: read.delay,
        jitterMs: read.jitter,
        pieceSize: read["piece-size"],
        maxLineLength: read["max-line-length"],
      },
      learn: read.pacing === "learn",
      maxClients: read["max-clients"],
      maxPerIp: read["max-per-ip"],
      banner: read.banner,
      maxLifetimeMs: read["max-lifetime"],
      logLevel: read["log-level"] as LogLevel,
      logFormat: read["log-format"] as LogFormat,
      listen: read.listen,
      metricsListen: read["metrics-listen"],
    },
  };
}

/** parseArgs' options, from the table: every flag takes a value. */
const parseArgsOptions = {
  ...Object.fromEntries(
    Object.entries(flags).map(([name, spec]) => [
      name,
      { type: "string", ...("multiple" in spec ? { multiple: true } : {}) },
    ]),
  ) as Record<FlagName, { type: "string"; multiple?: true }>,
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

interface ParsedFlags {
  readonly values: Partial<Record<FlagName, string | string[]>> & {
    readonly help?: boolean;
    readonly version?: boolean;
  };
}

function parseFlags(args: readonly string[]): ParsedFlags {
  try {
    return parseArgs({
      args: [...args],
      options: parseArgsOptions,
      strict: true,
      allowPositionals: false,
    }) as ParsedFlags;
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
  if (execPath !== undefined) checkExecPath("--exec-path", execPath);
  for (const name of parsed.positionals) {
    if (!Object.hasOwn(protocols, name)) {
      throw new UsageError(
        `systemd print: "${name}" is not one of ${Object.keys(protocols).join(", ")}`,
      );
    }
  }
  return {
    kind: "systemd-print",
    protocols: parsed.positionals.length ? parsed.positionals : Object.keys(protocols),
    execPath,
  };
}

/**
 * Refuses a path that `ExecStart=` would read as something else: a relative path, or one
 * with a space, a quote, a backslash or a control character. (`%` is written `%%`.)
 *
 * @throws {UsageError} naming `source`
 * @example
 * ```ts
 * import { checkExecPath } from "./cli.ts";
 * checkExecPath("--exec-path", "/usr/local/bin/tarpyt"); // fine
 * ```
 */
export function checkExecPath(source: string, path: string): void {
  // deno-lint-ignore no-control-regex -- control characters are what it refuses
  if (!/^\/[^\s"'\\\x00-\x1f\x7f-\x9f]*$/.test(path)) {
    throw new UsageError(
      `${source}: "${path}" must be an absolute path without spaces, quotes or control ` +
        "characters (install the binary as /usr/local/bin/tarpyt, or give --exec-path)",
    );
  }
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
  const rows = Object.entries(flags).map(([name, spec]) => {
    const shown = spec.shown ? ` [${spec.shown}]` : "";
    return `  --${name} ${spec.value}\n      ${spec.help}${shown}  (${spec.env})`;
  });
  const width = Math.max(...Object.keys(protocols).map((name) => name.length));
  const protocolRows = Object.values(protocols).flatMap((p) => {
    const { firstDelayMs, delayMs, jitterMs, pieceSize, maxLineLength } = p.pacing;
    const learning = p.alternatives.map((profile) => profile.name).join(", ");
    return [
      `  ${p.name.padEnd(width)} ${p.summary}`,
      `  ${" ".repeat(width)} first byte after ${formatDuration(firstDelayMs)}, then ${
        pieceSize === 0 ? "a line" : `${pieceSize} byte`
      } every ${formatDuration(delayMs)}, each delay ± ${
        formatDuration(jitterMs)
      }; lines up to ${maxLineLength} bytes; learning may also try ${learning}`,
    ];
  });
  return [
    "tarpyt: a network tarpit. Holds attackers' connections open by sending legal, useless",
    "lines a byte at a time, never finishing anything they wait for; it reads at most",
    "4 KiB of what a client sends, and looks only at its first bytes.",
    "",
    "Usage: tarpyt [--protocol NAME] [--delay DURATION] [options] [--listen HOST:PORT]...",
    `       ${systemdUsage}`,
    `       ${reportUsage}`,
    "",
    "Under systemd it serves the sockets of its .socket unit (LISTEN_FDS); without it,",
    "give --listen. Every option can also be set by the variable in parentheses; a",
    "default you do not set follows the values you do (--delay alone scales --jitter).",
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
