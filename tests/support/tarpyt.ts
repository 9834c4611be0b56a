/**
 * Starting the real program for tests and benches, the way systemd starts it, and the
 * helper programs beside it (tests/support/peers.py, tests/support/load.py).
 *
 * The program is `$TARPYT_BIN` when set (a compiled binary), else `deno run` with the
 * exact flags of the `tarpyt` task (src/runtime/flags.ts): the tests exercise what ships.
 *
 * @module
 */
import { runtimeFlags } from "../../src/runtime/flags.ts";
import { programEnv, RunningProcess } from "./process.ts";
import { type Address, freePort, untilListening } from "./net.ts";

const root = new URL("../..", import.meta.url).pathname;
const support = new URL(".", import.meta.url).pathname;

/** The command line that runs TarPyt with `args`. */
export function tarpytArgv(args: readonly string[]): string[] {
  const bin = Deno.env.get("TARPYT_BIN");
  if (bin) return [bin, ...args];
  return [Deno.execPath(), "run", ...runtimeFlags, `${root}main.ts`, ...args];
}

/**
 * `flag` with V8's JIT: `--jitless` taken out of a `--v8-flags=` list, anything else as it is.
 * The units' `MemoryDenyWriteExecute=` forbids the JIT; benches measure what that costs, and
 * tests prove why the flag is there.
 */
export function withJit(flag: string): string {
  return flag.replace("--jitless,", "");
}

/**
 * Whether `TARPYT_BIN` is a compiled binary (an ELF file), not a script that runs the
 * source, such as the slow-start wrapper the harness is proven with.
 */
export function compiledBinary(): boolean {
  const bin = Deno.env.get("TARPYT_BIN");
  if (!bin) return false;
  const file = Deno.openSync(bin);
  try {
    const magic = new Uint8Array(4);
    file.readSync(magic);
    return new TextDecoder().decode(magic) === "\x7fELF";
  } finally {
    file.close();
  }
}

/**
 * Flags that send whole lines every `delay`, the first after `delay`: the engine's pacing
 * without its drip, for tests whose subject is not the pacing.
 */
export function wholeLines(delay = "100ms"): string[] {
  return ["--first-delay", delay, "--delay", delay, "--jitter", "0s", "--piece-size", "0"];
}

/** Flags that drip a byte every `delay`, the first after `delay`: the protocols' pacing, faster. */
export function dripping(delay = "10ms"): string[] {
  return ["--first-delay", delay, "--delay", delay, "--jitter", "0s"];
}

/**
 * The load generator, tests/support/load.py, with its mode and arguments: `read HOST PORT
 * N` holds N clients that read everything; `churn`, `soak` and `storm` are described in
 * the file. Unbuffered, so its progress lines arrive as they are printed.
 */
export function loadArgv(mode: string, ...args: (string | number)[]): string[] {
  return ["python3", "-u", `${support}load.py`, mode, ...args.map(String)];
}

/** The command line of a helper client written in Python (tests/support/peers.py). */
export function peerArgv(...args: string[]): string[] {
  return ["python3", "-u", `${support}peers.py`, ...args];
}

/** A helper client written in Python, for what Deno's sockets cannot do. */
export function peer(...args: string[]): RunningProcess {
  return new RunningProcess(peerArgv(...args));
}

/** OpenSSH as a tarpit's client: no config, no keys, no prompts. */
export function sshArgv(host: string, port: number, verbosity = "-v"): string[] {
  return [
    "ssh",
    verbosity,
    "-F",
    "/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-p",
    String(port),
    `tarpit@${host}`,
    "true",
  ];
}

/** TarPyt started with listening sockets passed as systemd passes them; stopped when disposed. */
export class ActivatedTarpyt extends RunningProcess {
  /** `host:port` for each socket, in fd order. */
  readonly addresses: Address[] = [];
}

/** How {@link socketActivated} makes the sockets, as a `.socket` unit's settings would. */
export interface ActivationOptions {
  /** `FileDescriptorName=` of each socket, in order. */
  readonly fdNames?: readonly string[];
  /** Added to {@link programEnv}. */
  readonly env?: Readonly<Record<string, string>>;
  /** `SendBuffer=`, in bytes; the kernel's default when not given. */
  readonly sendBuffer?: number;
  /** `Backlog=`. */
  readonly backlog?: number;
  /**
   * Wait for the program's START line (true, the default), or only until its first socket
   * accepts connections, for a program that logs below info.
   */
  readonly waitForStart?: boolean;
}

/**
 * Starts TarPyt with a listening socket on a free port of each host, passed from fd 3 on
 * with `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES`, as systemd starts a service of a
 * `.socket` unit; returns once the program says it serves them (its START line, so the
 * program must log at info level), so that no test depends on how long start-up takes.
 * `peers.py activate` binds the sockets and execs the program.
 */
export async function socketActivated(
  hosts: readonly string[],
  args: readonly string[],
  { fdNames, env = {}, sendBuffer, backlog, waitForStart = true }: ActivationOptions = {},
): Promise<ActivatedTarpyt> {
  const options = [
    ...(fdNames ? ["--fdnames", fdNames.join(":")] : []),
    ...(sendBuffer ? ["--sndbuf", String(sendBuffer)] : []),
    ...(backlog ? ["--backlog", String(backlog)] : []),
  ];
  const addresses = hosts.map((host) => host.includes(":") ? `[${host}]:0` : `${host}:0`);
  const tarpyt = new ActivatedTarpyt(
    peerArgv("activate", ...options, ...addresses, "--", ...tarpytArgv(args)),
    { ...programEnv, ...env },
  );
  try {
    const listening = await tarpyt.waitFor(/Listening on \S+ as \d+\./, { times: hosts.length });
    for (const line of listening) {
      const [, hostname, port] = /on \[?([^\]\s]+?)\]?:(\d+) as/.exec(line)!;
      tarpyt.addresses.push({ hostname, port: Number(port) });
    }
    if (waitForStart) await tarpyt.waitFor(/ START /);
    else await untilListening(tarpyt.addresses[0].port);
  } catch (error) {
    await tarpyt.stop("SIGKILL");
    throw error;
  }
  return tarpyt;
}

/** TarPyt on `--listen 127.0.0.1:0` with `args` (and `env`), once it serves; its port. */
export async function listening(
  args: readonly string[],
  env: Record<string, string> = programEnv,
): Promise<[RunningProcess, Address]> {
  const tarpyt = new RunningProcess(tarpytArgv(["--listen", "127.0.0.1:0", ...args]), env);
  try {
    const [line] = await tarpyt.waitFor(/LISTEN [^\n]*address=127\.0\.0\.1:\d+/);
    return [tarpyt, { hostname: "127.0.0.1", port: Number(line.split(":").at(-1)) }];
  } catch (error) {
    await tarpyt.stop("SIGKILL");
    throw error;
  }
}

/** TarPyt serving a free loopback port, with its metrics on `--metrics-listen`. */
export class MetricsTarpyt extends RunningProcess {
  constructor(readonly metricsPort: number = freePort(), args: readonly string[] = []) {
    super(tarpytArgv([
      "--listen",
      "127.0.0.1:0",
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
      ...args,
    ]));
  }

  /** `http://127.0.0.1:PORT`, once the program has started. */
  async metricsBase(): Promise<string> {
    await this.waitFor(/START /);
    return `http://127.0.0.1:${this.metricsPort}`;
  }
}

/**
 * The log of a short real run: TarPyt on a dual-stack and an IPv4 socket, three clients
 * (127.0.0.1 twice, ::1 once) that each stay 250 ms, then SIGTERM.
 */
export async function trappedLog(format: "text" | "json"): Promise<string> {
  await using tarpyt = new RunningProcess(tarpytArgv([
    "--listen",
    "[::]:0",
    "--listen",
    "127.0.0.1:0",
    ...wholeLines(),
    "--log-format",
    format,
  ]));
  const ports = (await tarpyt.waitFor(/"?address"?[=:]"?\S+:\d+/, { times: 2 }))
    .map((match) => Number(/(\d+)"?$/.exec(match)?.[1]));
  const visits = [["127.0.0.1", ports[0]], ["::1", ports[0]], ["127.0.0.1", ports[1]]] as const;
  for (const [hostname, port] of visits) {
    const conn = await Deno.connect({ hostname, port });
    await new Promise((resolve) => setTimeout(resolve, 250));
    conn.close();
  }
  await tarpyt.waitFor(/CLOSE/, { times: 3 });
  await tarpyt.stop();
  return tarpyt.output;
}

/** What one churning load (tests/support/load.py churn) reports when it ends. */
export interface ChurnSummary {
  /** Connections that were made and closed. */
  readonly connections: number;
  /** Connects that failed. */
  readonly failed: number;
}

/**
 * Clients that connect and reset at once, `perSecond` a second in all for `seconds`,
 * from `processes` loads; what each reported.
 */
export function churn(
  port: number,
  perSecond: number,
  seconds: number,
  processes = 2,
): Promise<ChurnSummary[]> {
  return Promise.all(Array.from({ length: processes }, async () => {
    await using load = new RunningProcess(
      loadArgv("churn", "127.0.0.1", port, perSecond / processes, seconds),
    );
    await load.exited(seconds * 1000 + 60_000);
    const summary = JSON.parse(/\{.*\}/.exec(load.output)?.[0] ?? "{}");
    return { connections: summary.connections ?? 0, failed: summary.failed ?? 0 };
  }));
}
