/**
 * Starting the real program for tests, the way systemd starts it, and stopping it.
 *
 * The program is `$TARPYT_BIN` when set (a compiled binary), else `deno run` with the
 * exact flags of the `tarpyt` task (src/runtime/flags.ts): the tests exercise what ships.
 *
 * @module
 */
import { runtimeFlags } from "../src/runtime/flags.ts";

const root = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

/** The command line that runs TarPyt with `args`. */
export function tarpytArgv(args: readonly string[]): string[] {
  const bin = Deno.env.get("TARPYT_BIN");
  if (bin) return [bin, ...args];
  return [Deno.execPath(), "run", ...runtimeFlags, `${root}main.ts`, ...args];
}

/**
 * The runtime's floor for the benchmarks (bench/floor_server.ts), with TarPyt's V8 flags,
 * listening on 127.0.0.1:`port`; writing a line to each client every `delayMs` if given.
 */
export function floorServerArgv(port: number, delayMs?: number): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-net",
    ...runtimeFlags.filter((flag) => flag.startsWith("--v8-flags=")),
    `${root}bench/floor_server.ts`,
    String(port),
    ...(delayMs === undefined ? [] : [String(delayMs)]),
  ];
}

/**
 * The load generator, bench/load.py, with its mode and arguments: `read HOST PORT N` holds
 * N clients that read everything, `churn`, `soak` and `storm` are described in the file.
 * Unbuffered, so its progress lines arrive as they are printed.
 */
export function loadArgv(mode: string, ...args: (string | number)[]): string[] {
  return ["python3", "-u", `${root}bench/load.py`, mode, ...args.map(String)];
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

/** Environment for the program: no update check, no colour, nothing else inherited. */
export const programEnv: Readonly<Record<string, string>> = {
  DENO_NO_UPDATE_CHECK: "1",
  NO_COLOR: "1",
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? "/root",
};

/** A port nobody listens on now (the caller retries if another test takes it first). */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Waits `ms` milliseconds: a benchmark's settling time or measurement window. Tests wait
 * for events instead.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `clients` clients of 127.0.0.1:`port` that read everything they are sent
 * (bench/load.py read), once every one is connected; they stop when it is disposed.
 *
 * @throws when one could not connect (the load is stopped first)
 */
export async function readingClients(port: number, clients: number): Promise<RunningProcess> {
  const load = new RunningProcess(loadArgv("read", "127.0.0.1", port, clients));
  try {
    const [held] = await load.waitFor(/held \d+|failed \d+: .*/, { timeoutMs: 120_000 });
    if (held.startsWith("failed")) throw new Error(`bench/load.py read: ${held}`);
    return load;
  } catch (error) {
    await load[Symbol.asyncDispose]();
    throw error;
  }
}

/** A process whose stderr is collected, stopped at the end of the test. */
export class RunningProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #output = "";
  #waiters = new Set<() => void>();
  readonly #done: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | undefined;

  /**
   * @param argv the command line
   * @param env its whole environment
   * @param stdin "piped" keeps its input open (and unused) until it is stopped
   */
  constructor(
    argv: readonly string[],
    env: Record<string, string> = programEnv,
    stdin: "null" | "piped" = "null",
  ) {
    this.child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env,
      clearEnv: true,
      stdin,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        this.#output += decoder.decode(chunk, { stream: true });
        for (const wake of this.#waiters) wake();
      }
    };
    const streams = Promise.all([collect(this.child.stdout), collect(this.child.stderr)]);
    this.#done = streams.then(() => this.child.status).then((status) => {
      this.#status = status;
      for (const wake of this.#waiters) wake();
      return status;
    });
  }

  /** Everything printed so far, stdout and stderr interleaved. */
  get output(): string {
    return this.#output;
  }

  /** The exit status, once exited. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Where the output ends now: pass it as `since` to wait only for what comes after. */
  mark(): number {
    return this.#output.length;
  }

  /**
   * Waits until the output matches `pattern` `times` times, counting only output after
   * `since` (a {@link mark}); the timeout only bounds a failing wait.
   */
  async waitFor(
    pattern: RegExp,
    { times = 1, timeoutMs = 20_000, since = 0 } = {},
  ): Promise<string[]> {
    const global = new RegExp(pattern.source, pattern.flags.replace("g", "") + "g");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matches = [...this.#output.slice(since).matchAll(global)].map((m) => m[0]);
      if (matches.length >= times) return matches;
      if (this.#status !== undefined || Date.now() > deadline) {
        throw new Error(
          `waited for ${times} x ${pattern} in vain (${
            this.#status ? `exited ${this.#status.code}` : "timeout"
          }); output:\n${this.#output}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 100);
        this.#waiters.add(wake);
      });
    }
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (this.#status === undefined) {
      try {
        this.child.kill(signal);
      } catch { /* exited meanwhile */ }
    }
    return await this.#done;
  }

  /** Waits for the exit without signalling. */
  exited(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  /** Whether the process exits within `ms` milliseconds (it is not signalled). */
  async exitsWithin(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => timer = setTimeout(resolve, ms, false));
    const exited = await Promise.race([this.#done.then(() => true), late]);
    clearTimeout(timer);
    return exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const timer = setTimeout(() => this.stop("SIGKILL"), 10_000);
    await this.stop();
    clearTimeout(timer);
  }
}

/** TarPyt started with listening sockets passed as systemd passes them; stopped when disposed. */
export class ActivatedTarpyt extends RunningProcess {
  /** `host:port` for each socket, in fd order. */
  readonly addresses: { hostname: string; port: number }[] = [];
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
}

/**
 * Starts TarPyt with a listening socket on a free port of each host, passed from fd 3 on
 * with `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES`, as systemd starts a service of a
 * `.socket` unit; returns once the program says it serves them (its START line, so the
 * program must log at info level), so that no test depends on how long start-up takes.
 * `tests/peers.py activate` binds the sockets and execs the program.
 */
export async function socketActivated(
  hosts: readonly string[],
  args: readonly string[],
  { fdNames, env = {}, sendBuffer, backlog }: ActivationOptions = {},
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
    await tarpyt.waitFor(/ START /);
  } catch (error) {
    await tarpyt.stop("SIGKILL");
    throw error;
  }
  return tarpyt;
}

/** Where a test's client connects; {@link ActivatedTarpyt.addresses} are these. */
export type Address = { readonly hostname: string; readonly port: number };

/**
 * A connection's reader that waits for what it is told to expect, not for a time: the
 * read left pending by one wait carries over to the next, so no data is lost between
 * them.
 */
export class ConnReader {
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(65_536);
  readonly #decoder = new TextDecoder("latin1");
  #pending: Promise<number | null> | undefined;
  /** Everything received so far, one character per byte. */
  text = "";
  /** Whether the server closed the connection. */
  closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Reads until `done()` holds or the server closes; throws after `timeoutMs`, which
   * only bounds a failing wait.
   */
  async until(done: (reader: ConnReader) => boolean, timeoutMs = 20_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this) && !this.closed) {
      if (!await this.#readOnce(deadline - Date.now())) {
        throw new Error(`waited ${timeoutMs} ms in vain; got ${JSON.stringify(this.text)}`);
      }
    }
    return this;
  }

  /** Reads whatever comes within `ms` milliseconds (to show that nothing does). */
  async for(ms: number): Promise<this> {
    const deadline = Date.now() + ms;
    while (!this.closed && await this.#readOnce(deadline - Date.now()));
    return this;
  }

  /** One read, or false when `ms` ran out first (the read stays pending for the next). */
  async #readOnce(ms: number): Promise<boolean> {
    if (ms <= 0) return false;
    // Closing the connection ends a pending read with an error: that is a close too.
    this.#pending ??= this.#conn.read(this.#buffer).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => timer = setTimeout(resolve, ms, "timeout"));
    const n = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (n === "timeout") return false;
    this.#pending = undefined;
    if (n === null) this.closed = true;
    else this.text += this.#decoder.decode(this.#buffer.subarray(0, n));
    return true;
  }
}

/** A connection to `address` with its reader; closing it is the caller's. */
export async function connectReader(address: Address): Promise<[Deno.Conn, ConnReader]> {
  const conn = await Deno.connect(address);
  return [conn, new ConnReader(conn)];
}

/**
 * Connects, waits until `done()` holds for what arrived (or the server closes), then
 * closes.
 */
export async function receive(
  address: Address,
  done: (reader: ConnReader) => boolean,
): Promise<ConnReader> {
  const [conn, reader] = await connectReader(address);
  try {
    return await reader.until(done);
  } finally {
    conn.close();
  }
}

/** `done` for {@link ConnReader.until}: at least `n` CRLF-ended lines arrived. */
export const lines = (n: number) => (reader: ConnReader): boolean =>
  (reader.text.match(/\r\n/g) ?? []).length >= n;

/** The command line of a helper client written in Python (tests/peers.py). */
export function peerArgv(...args: string[]): string[] {
  return ["python3", "-u", `${root}tests/peers.py`, ...args];
}

/** A helper client written in Python, for what Deno's sockets cannot do. */
export function peer(...args: string[]): RunningProcess {
  return new RunningProcess(peerArgv(...args));
}

/**
 * A file of `/proc/PID/`, read with cat: Deno asks for --allow-all to read another
 * process's /proc files itself.
 */
export async function procFile(pid: number, name: string): Promise<string> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/${name}`] }).output();
  return new TextDecoder().decode(stdout);
}

/** Waits until something accepts connections on 127.0.0.1:`port`; throws after `timeoutMs`. */
export async function untilListening(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** The JavaScript heap in use, from the `tarpyt_heap_used_bytes` of a metrics endpoint. */
export async function heapUsedBytes(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^tarpyt_heap_used_bytes (\S+)$/m.exec(text)?.[1]);
}

/** CPU time a process has used, user and system, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  // /proc/PID/stat: fields 14 and 15 are utime and stime, in ticks of USER_HZ (100).
  const fields = (await procFile(pid, "stat")).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Resident memory of a process, in bytes: all of it, or only its private (anonymous) part,
 * without the pages of the executable and libraries it has touched.
 */
export async function rssBytes(pid: number, part: "VmRSS" | "RssAnon" = "VmRSS"): Promise<number> {
  const status = await procFile(pid, "status");
  return Number(new RegExp(`${part}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
}

/**
 * Memory only this process has written to (`Private_Dirty` of /proc/PID/smaps_rollup): what
 * it costs beyond the pages of its executable, which other processes may share.
 */
export async function privateDirtyBytes(pid: number): Promise<number> {
  const rollup = await procFile(pid, "smaps_rollup");
  return Number(/Private_Dirty:\s+(\d+) kB/.exec(rollup)?.[1]) * 1024;
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
  for (
    const [hostname, port] of [["127.0.0.1", ports[0]], ["::1", ports[0]], [
      "127.0.0.1",
      ports[1],
    ]] as const
  ) {
    const conn = await Deno.connect({ hostname, port });
    await new Promise((resolve) => setTimeout(resolve, 250));
    conn.close();
  }
  await tarpyt.waitFor(/CLOSE/, { times: 3 });
  await tarpyt.stop();
  return tarpyt.output;
}

/** The output of a command that ran to its end. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, with `stdin` as its input, and collects its output. */
export async function run(
  argv: readonly string[],
  stdin?: string,
  env?: Readonly<Record<string, string>>,
): Promise<Ran> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    ...(env ? { env: { ...env }, clearEnv: true } : {}),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
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

/** TarPyt serving a free loopback port, with its metrics on `--metrics-listen`. */
export class MetricsTarpyt extends RunningProcess {
  constructor(readonly metricsPort: number = freePort()) {
    super(tarpytArgv(["--listen", "127.0.0.1:0", "--metrics-listen", `127.0.0.1:${metricsPort}`]));
  }

  /** `http://127.0.0.1:PORT`, once the program has started. */
  async metricsBase(): Promise<string> {
    await this.waitFor(/START /);
    return `http://127.0.0.1:${this.metricsPort}`;
  }
}
