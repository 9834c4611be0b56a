/**
 * Running programs from tests and benches: a process whose output is collected and
 * waited on for events, a command run to its end, and what `/proc` says of a process.
 * Every wait is bounded and fails with a message, so a test that breaks fails instead of
 * hanging.
 *
 * @module
 */

const decoder = new TextDecoder();

/** Environment for the program: no update check, no colour, nothing else inherited. */
export const programEnv: Readonly<Record<string, string>> = {
  DENO_NO_UPDATE_CHECK: "1",
  NO_COLOR: "1",
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? "/root",
};

/**
 * `promise`, or an error naming `what` once `ms` have passed: a wait that fails says so
 * instead of hanging the suite.
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How a {@link RunningProcess} keeps what its process prints. */
export interface OutputOptions {
  /**
   * Keep only the last this many characters: for a process that prints hundreds of
   * thousands of lines, such as a tarpit logging every client of a storm.
   */
  readonly tail?: number;
  /** Called with every whole line printed, as it comes. */
  readonly onLine?: (line: string) => void;
}

/** The processes started here that have not exited: what {@link stopAllOnSignal} stops. */
const running = new Set<Deno.ChildProcess>();

/**
 * Makes SIGINT and SIGTERM stop every process started here, and its process group (a
 * tool started with setsid leads one, with its children), before this program exits: a
 * bench interrupted must not leave its tarpits and tools running. For a program's main
 * module: a test must not listen for signals.
 *
 * @example
 * ```ts ignore
 * import { stopAllOnSignal } from "../tests/support/process.ts";
 * stopAllOnSignal();
 * ```
 */
export function stopAllOnSignal(): void {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    Deno.addSignalListener(signal, () => {
      for (const child of running) {
        try {
          Deno.kill(-child.pid, "SIGTERM");
        } catch {
          try {
            child.kill("SIGTERM");
          } catch { /* exited meanwhile */ }
        }
      }
      Deno.exit(code);
    });
  }
}

/** A process whose stdout and stderr are collected, stopped at the end of the test. */
export class RunningProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #output = "";
  #dropped = 0;
  #waiters = new Set<() => void>();
  readonly #done: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | undefined;

  /**
   * @param argv the command line
   * @param env its whole environment
   * @param stdin "piped" keeps its input open (and unused) until it is stopped
   * @param output what to keep of its output, and who hears each line
   */
  constructor(
    argv: readonly string[],
    env: Record<string, string> = programEnv,
    stdin: "null" | "piped" = "null",
    { tail, onLine }: OutputOptions = {},
  ) {
    this.child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env,
      clearEnv: true,
      stdin,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    running.add(this.child);
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      let rest = "";
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (onLine) {
          const lines = (rest + text).split("\n");
          rest = lines.pop() ?? "";
          for (const line of lines) onLine(line);
        }
        this.#output += text;
        if (tail !== undefined && this.#output.length > 2 * tail) {
          this.#dropped += this.#output.length - tail;
          this.#output = this.#output.slice(-tail);
        }
        for (const wake of this.#waiters) wake();
      }
    };
    const streams = Promise.all([collect(this.child.stdout), collect(this.child.stderr)]);
    this.#done = streams.then(() => this.child.status).then((status) => {
      running.delete(this.child);
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
    return this.#dropped + this.#output.length;
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
    let matches: string[] = [];
    const found = await this.until(() => {
      const after = this.#output.slice(Math.max(0, since - this.#dropped));
      matches = [...after.matchAll(global)].map((m) => m[0]);
      return matches.length >= times;
    }, timeoutMs);
    if (found) return matches;
    throw new Error(
      `waited for ${times} x ${pattern} in vain (${
        this.#status ? `exited ${this.#status.code}` : "timeout"
      }); output:\n${this.#output}`,
    );
  }

  /**
   * Waits until `done()` holds, checked whenever the process prints and every 100 ms;
   * whether it did before `timeoutMs`, or before the process exited.
   */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (done()) return true;
      if (this.#status !== undefined || Date.now() > deadline) return false;
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

  /** Sends `signal` (if still running) and waits for the exit, at most 20 s. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (this.#status === undefined) {
      try {
        this.child.kill(signal);
      } catch { /* exited meanwhile */ }
    }
    return await within(20_000, `${signal} to pid ${this.child.pid}`, this.#done);
  }

  /**
   * Waits for the exit without signalling; fails after `timeoutMs`, with the output, when
   * the process runs on.
   */
  async exited(timeoutMs = 30_000): Promise<Deno.CommandStatus> {
    if (await this.exitsWithin(timeoutMs)) return this.#done;
    throw new Error(`still running after ${timeoutMs} ms; output:\n${this.#output}`);
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
    const timer = setTimeout(() => this.stop("SIGKILL").catch(() => {}), 10_000);
    try {
      await this.stop();
    } catch {
      await this.stop("SIGKILL");
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The output of a command that ran to its end. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end, with `stdin` as its input, and collects its output; kills it
 * and fails after `timeoutMs`.
 */
export async function run(
  argv: readonly string[],
  stdin?: string,
  env?: Readonly<Record<string, string>>,
  timeoutMs = 120_000,
): Promise<Ran> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    ...(env ? { env: { ...env }, clearEnv: true } : {}),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  try {
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const { code, signal, stdout, stderr } = await child.output();
    if (signal === "SIGKILL") {
      throw new Error(`${argv.join(" ")}: still running after ${timeoutMs} ms, killed`);
    }
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A file of `/proc/PID/`, read with cat: Deno asks for --allow-all to read another
 * process's /proc files itself.
 */
export async function procFile(pid: number, name: string): Promise<string> {
  const { stdout } = await new Deno.Command("cat", { args: [`/proc/${pid}/${name}`] }).output();
  return decoder.decode(stdout);
}

/** CPU time a process has used, user and system, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  // /proc/PID/stat: fields 14 and 15 are utime and stime, in ticks of USER_HZ (100).
  const fields = (await procFile(pid, "stat")).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Memory of a process from /proc/PID/status, in bytes: resident (`VmRSS`), its private
 * part without the pages of the executable and libraries (`RssAnon`), or the most it was
 * ever resident (`VmHWM`).
 */
export async function rssBytes(
  pid: number,
  part: "VmRSS" | "RssAnon" | "VmHWM" = "VmRSS",
): Promise<number> {
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
