/**
 * `deno task bench [--only lines,accepts,storm,flood] [--seconds S]`: TarPyt beside endlessh on
 * a realistic load, in one run, with ratios.
 *
 * Both run as in production. TarPyt logs at `info` as under systemd (`JOURNAL_STREAM` set:
 * each line starts with its priority and carries no time, which journald adds), endlessh
 * with `-v` (its ACCEPT and CLOSE lines); the bench reads both logs as journald would.
 * Clients read everything they are sent (tests/support/load.py read), as real ones do.
 *
 * - **lines**: N clients, a line every D, TarPyt paced as endlessh paces (`ssh`,
 *   `--piece-size 0`, `--first-delay D --delay D --jitter 0s`, lines up to 32 bytes); run at
 *   10,000 x 1 s and 19,000 x 10 s. Idle RSS and private dirty memory
 *   (/proc/PID/smaps_rollup), memory per client above idle, CPU per line received, lines
 *   received over lines due in the window (whole delays, from between two bursts of lines),
 *   time to connect everyone, startup (spawn to listening); beside TarPyt with V8's JIT
 *   (what `MemoryDenyWriteExecute=` and `--jitless` cost) and the runtime's floor
 *   (bench/floor_server.ts: the same accepts, peer watch and writes with no engine, same V8
 *   flags).
 * - **accepts**: connections arriving at 5,000 a second for 10 s, each reset after
 *   100 ms (tests/support/load.py storm): CPU per accepted client, from before the load until every
 *   client's CLOSE is logged, so accepting, logging and closing are all counted; beside the
 *   floor, which accepts, watches, writes once a delay and closes a client that left. A
 *   rate every server keeps up with, so each accepts every connection before its reset and
 *   none waits for a SYN retransmit; the storm below is the one that saturates.
 * - **storm**: a scan storm, 10,000 connections a second for 30 s, each held 1 s and
 *   reset: CPU as a share of one core, connects that failed, clients accepted and logged.
 * - **flood**: TarPyt alone (endlessh reads nothing): 4,096 clients that each send an SSH
 *   version line and 64 KiB at once, beside 4,096 that send nothing: the most resident
 *   memory (VmHWM) and the heap while their first bytes are kept (the second before each
 *   client's pacing is chosen) and after; what the Warning in the README bounds.
 *
 * The loader is Python on the same machine: where it cannot reach a rate, the table says
 * the rate it reached. The fd limit here is 20,000 a process, so N tops out near 19,000.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  cpuSeconds,
  privateDirtyBytes,
  programEnv,
  rssBytes,
  RunningProcess,
  stopAllOnSignal,
} from "../tests/support/process.ts";
import { floorServerArgv, readingClients, sleep } from "./support.ts";
import { freePort, heapUsedBytes, untilListening } from "../tests/support/net.ts";
import { loadArgv, tarpytArgv, withJit } from "../tests/support/tarpyt.ts";
import { runtimeFlags } from "../src/runtime/flags.ts";

stopAllOnSignal();

const { values } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string", default: "lines,accepts,storm,flood" },
    seconds: { type: "string", default: "30" },
  },
});
const only = new Set(values.only.split(","));
const windowSeconds = Number(values.seconds);
if (!(windowSeconds > 0 && windowSeconds % 10 === 0)) {
  // Clients connect within seconds, so their lines every 10 s come in bursts: a window
  // of whole delays sees every client's share.
  console.error(`bench: --seconds ${values.seconds}: give a multiple of 10`);
  Deno.exit(2);
}

const endlessh = ["/usr/bin/endlessh", "/usr/sbin/endlessh"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});

/** A server to measure: its command line for a port and a delay, and what it logs. */
interface Server {
  readonly name: string;
  readonly argv: (port: number, delayMs: number, maxClients: number) => string[];
  readonly env?: Record<string, string>;
}

const tarpyt: Server = {
  name: "TarPyt",
  argv: (port, delayMs, maxClients) =>
    tarpytArgv([
      "--listen",
      `127.0.0.1:${port}`,
      "--protocol",
      "ssh",
      "--piece-size",
      "0",
      "--first-delay",
      `${delayMs}ms`,
      "--delay",
      `${delayMs}ms`,
      "--jitter",
      "0s",
      "--max-line-length",
      "32",
      "--max-clients",
      String(maxClients),
      "--max-per-ip",
      String(maxClients),
    ]),
  // As under systemd: journald stamps the time.
  env: { JOURNAL_STREAM: "0:0" },
};

/**
 * TarPyt as the units cannot run it: with V8's JIT, which `MemoryDenyWriteExecute=` forbids.
 * Measured to show what the sandbox costs; from source only, since a compiled binary's V8
 * flags are fixed when it is built (it reads no `DENO_V8_FLAGS`: denoland/deno#19808).
 */
const tarpytJit: Server | undefined = Deno.env.get("TARPYT_BIN") ? undefined : {
  ...tarpyt,
  name: "TarPyt, JIT",
  argv: (port, delayMs, maxClients) => tarpyt.argv(port, delayMs, maxClients).map(withJit),
};

const floor: Server = {
  name: "floor",
  argv: (port, delayMs) => floorServerArgv(port, delayMs),
};

const endlesshServer: Server | undefined = endlessh === undefined ? undefined : {
  name: "endlessh",
  argv: (port, delayMs, maxClients) => [
    endlessh,
    "-v",
    "-4",
    "-p",
    String(port),
    "-d",
    String(delayMs),
    "-l",
    "32",
    "-m",
    String(maxClients),
  ],
};

/**
 * A server whose log is read as it comes, as journald reads a service's: its ACCEPT and
 * CLOSE lines counted, and only a tail of it kept, as a storm logs hundreds of thousands.
 */
class Logged extends RunningProcess {
  accepts = 0;
  closes = 0;

  constructor(argv: readonly string[], env: Record<string, string> = {}) {
    super(argv, { ...programEnv, ...env }, "null", {
      tail: 4_000,
      onLine: (line) => {
        if (line.includes("ACCEPT ")) this.accepts++;
        else if (line.includes("CLOSE ")) this.closes++;
      },
    });
  }
}

/** The lines read by every client of a `read` load so far: it prints them on SIGUSR1. */
async function linesRead(load: RunningProcess): Promise<number> {
  const since = load.mark();
  load.child.kill("SIGUSR1");
  const [line] = await load.waitFor(/lines \d+/, { since, timeoutMs: 5_000 });
  return Number(line.split(" ")[1]);
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Starts `server` on a free port; returns it with its startup time in ms. */
async function start(
  server: Server,
  delayMs: number,
  maxClients: number,
): Promise<[Logged, number, number]> {
  // Free on every address: endlessh binds 0.0.0.0, and the loads' ports linger in TIME_WAIT.
  const port = freePort("0.0.0.0");
  const spawnedAt = performance.now();
  const process = new Logged(server.argv(port, delayMs, maxClients), server.env);
  try {
    await untilListening(port, 10_000);
  } catch (error) {
    await process[Symbol.asyncDispose]();
    throw new Error(`${server.name} did not listen on ${port}: ${error}\n${process.output}`);
  }
  return [process, port, performance.now() - spawnedAt];
}

type Row = Record<string, string>;

/**
 * The first time from `after` that falls midway between two bursts of lines. Each client's
 * lines come a delay apart from its connect, so each delay brings a burst as long as the
 * connecting took. A window that starts and ends there, a whole number of delays long,
 * counts every client's lines alike, however far behind a burst the loader reads. Where the
 * connecting took a delay or more, lines come steadily, and any time will do.
 */
function betweenBursts(
  connectStart: number,
  connectMs: number,
  delayMs: number,
  after: number,
): number {
  if (connectMs >= delayMs) return after;
  const quiet = connectStart + connectMs + (delayMs - connectMs) / 2;
  return quiet + Math.max(0, Math.ceil((after - quiet) / delayMs)) * delayMs;
}

async function linesRun(server: Server, clients: number, delayMs: number): Promise<Row> {
  const [started, port, startupMs] = await start(server, delayMs, clients + 100);
  await using process = started;
  await sleep(1_000);
  const pid = process.child.pid;
  const idleRss = await rssBytes(pid);
  const idleDirty = await privateDirtyBytes(pid);
  const connectStart = performance.now();
  await using load = await readingClients(port, clients);
  const connectMs = performance.now() - connectStart;
  const settled = performance.now() + Math.max(2 * delayMs, 3_000);
  await sleep(betweenBursts(connectStart, connectMs, delayMs, settled) - performance.now());
  const lines0 = await linesRead(load);
  const cpu0 = await cpuSeconds(pid);
  await sleep(windowSeconds * 1_000);
  const cpu = (await cpuSeconds(pid)) - cpu0;
  const lines = (await linesRead(load)) - lines0;
  const rss = await rssBytes(pid);
  const due = clients * windowSeconds * 1000 / delayMs;
  return {
    server: server.name,
    clients: String(clients),
    "line every": `${delayMs / 1000} s`,
    "idle RSS MB": mb(idleRss),
    "idle private MB": mb(idleDirty),
    "RSS MB": mb(rss),
    "B/client": ((rss - idleRss) / clients).toFixed(0),
    "CPU us/line": (cpu * 1e6 / lines).toFixed(1),
    "sent/due": (lines / due).toFixed(3),
    "connect s": (connectMs / 1000).toFixed(1),
    "startup ms": startupMs.toFixed(0),
  };
}

/** What tests/support/load.py storm reports. */
interface StormFigures {
  readonly connections: number;
  readonly failed: number;
  readonly per_second: number;
}

/** A storm's figures, the server's CPU seconds during it and until all closed, and accepts. */
interface StormResult {
  readonly load: StormFigures;
  readonly cpuDuringLoad: number;
  readonly cpuUntilClosed: number;
  readonly accepted: number;
}

/**
 * `rate` connections a second for `seconds`, each reset after `holdSeconds`; CPU from
 * before the load until every accepted client's CLOSE is logged.
 */
async function stormRun(
  server: Server,
  rate: number,
  seconds: number,
  holdSeconds: number,
): Promise<StormResult> {
  // A second's pacing: both learn within seconds that a client left.
  const [started, port] = await start(server, 1_000, 19_000);
  await using process = started;
  await sleep(1_000);
  const pid = process.child.pid;
  const cpu0 = await cpuSeconds(pid);
  const acceptsBefore = process.accepts;
  await using load = new RunningProcess(
    loadArgv("storm", "127.0.0.1", port, rate, seconds, holdSeconds, 5000),
  );
  // Connects the server was too slow to take wait out a SYN retransmit each: a hang guard.
  await load.exited(300_000);
  const output = load.output;
  const figures = JSON.parse(output.trim().split("\n").at(-1)!) as StormFigures;
  const cpuDuringLoad = (await cpuSeconds(pid)) - cpu0;
  if (server === floor) {
    // It logs nothing: its last clients are closed within a delay and a turn.
    await sleep(2_000);
  } else {
    await process.until(() => process.closes >= process.accepts, 30_000);
  }
  return {
    load: figures,
    cpuDuringLoad,
    cpuUntilClosed: (await cpuSeconds(pid)) - cpu0,
    accepted: server === floor
      ? figures.connections - figures.failed
      : process.accepts - acceptsBefore,
  };
}

function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}\n`);
  const columns = Object.keys(rows[0]);
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => r[c].length));
  console.log(`| ${columns.map((c) => c.padEnd(width(c))).join(" | ")} |`);
  console.log(`| ${columns.map((c) => "-".repeat(width(c))).join(" | ")} |`);
  for (const row of rows) {
    console.log(`| ${columns.map((c) => row[c].padEnd(width(c))).join(" | ")} |`);
  }
}

const ratio = (a: string | undefined, b: string | undefined) =>
  a === undefined || b === undefined ? "-" : `${(Number(a) / Number(b)).toFixed(2)}x`;

const compared = [tarpyt, ...(endlesshServer ? [endlesshServer] : [])];
console.log(
  `TarPyt ${runtimeFlags.find((f) => f.startsWith("--v8-flags=")) ?? ""}; ` +
    (endlessh ? `endlessh ${endlessh}` : "endlessh not installed (apt-get install endlessh)"),
);

if (only.has("lines")) {
  for (const [clients, delayMs] of [[10_000, 1_000], [19_000, 10_000]]) {
    const rows: Row[] = [];
    const servers = [...compared, ...(tarpytJit ? [tarpytJit] : []), floor];
    for (const server of servers) rows.push(await linesRun(server, clients, delayMs));
    printTable(
      `lines: ${clients} clients that read, a whole line every ${delayMs / 1000} s, ` +
        `CPU over ${windowSeconds} s`,
      rows,
    );
    const [ours, theirs, base] = [rows[0], rows.find((r) => r.server === "endlessh"), rows.at(-1)];
    const jit = rows.find((r) => r.server === tarpytJit?.name);
    console.log(
      `\nCPU per line, TarPyt / endlessh: ${
        ratio(ours["CPU us/line"], theirs?.["CPU us/line"])
      }, with the JIT: ${ratio(jit?.["CPU us/line"], theirs?.["CPU us/line"])}, ` +
        `floor / endlessh: ${ratio(base?.["CPU us/line"], theirs?.["CPU us/line"])}; ` +
        `memory per client, TarPyt / floor: ${ratio(ours["B/client"], base?.["B/client"])}`,
    );
  }
}

if (only.has("accepts")) {
  const rows: Row[] = [];
  for (const server of [...compared, floor]) {
    const { load, cpuUntilClosed, accepted } = await stormRun(server, 5_000, 10, 0.1);
    rows.push({
      server: server.name,
      "arrived /s": load.per_second.toFixed(0),
      failed: String(load.failed),
      accepted: String(accepted),
      "CPU us/accept": (cpuUntilClosed * 1e6 / accepted).toFixed(1),
    });
  }
  printTable(
    "accepts: connections at 5,000/s for 10 s, each reset after 100 ms, all logged " +
      "(the floor logs nothing)",
    rows,
  );
  const [ours, theirs, base] = [rows[0], rows.find((r) => r.server === "endlessh"), rows.at(-1)];
  console.log(
    `\nCPU per accept, TarPyt / endlessh: ${
      ratio(ours["CPU us/accept"], theirs?.["CPU us/accept"])
    }, floor / endlessh: ${ratio(base?.["CPU us/accept"], theirs?.["CPU us/accept"])}; ` +
      // The floor's share moves with the machine; what TarPyt adds to it is its own.
      `TarPyt / floor: ${ratio(ours["CPU us/accept"], base?.["CPU us/accept"])}`,
  );
}

if (only.has("storm")) {
  const rows: Row[] = [];
  // Not the floor: with clients held a second, it holds two seconds' worth of them, past
  // the fd limit, and it has no --max-clients and no re-arm to live through that.
  for (const server of compared) {
    const { load, cpuDuringLoad, accepted } = await stormRun(server, 10_000, 30, 1);
    rows.push({
      server: server.name,
      "arrived /s": load.per_second.toFixed(0),
      connections: String(load.connections),
      failed: String(load.failed),
      accepted: String(accepted),
      "core %": (cpuDuringLoad / 30 * 100).toFixed(0),
      "CPU us/connection": (cpuDuringLoad * 1e6 / load.connections).toFixed(1),
    });
  }
  printTable("storm: 10,000 connections a second for 30 s, each held 1 s, then reset", rows);
}

if (only.has("flood")) {
  const clients = 4_096;
  const rows: Row[] = [];
  for (const mode of ["hold", "flood"] as const) {
    const metricsPort = freePort();
    const port = freePort();
    // At warning, no line says it listens: the port answering does.
    await using tarpyt = new RunningProcess(tarpytArgv([
      "--listen",
      `127.0.0.1:${port}`,
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
      "--max-clients",
      String(clients + 100),
      "--log-level",
      "warning",
    ]));
    await untilListening(port, 10_000);
    const pid = tarpyt.child.pid;
    await sleep(1_000);
    const idleRss = await rssBytes(pid);
    const idleHeap = await heapUsedBytes(metricsPort);
    const args = mode === "hold" ? [clients] : [clients, 64];
    await using load = new RunningProcess(loadArgv(mode, "127.0.0.1", port, ...args));
    const [done] = await load.waitFor(/(held|flooded|failed) \d+/, { timeoutMs: 120_000 });
    const heapWhileKept = await heapUsedBytes(metricsPort);
    await sleep(3_000);
    const heapAfter = await heapUsedBytes(metricsPort);
    const peak = await rssBytes(pid, "VmHWM");
    rows.push({
      clients: `${clients} ${mode === "hold" ? "silent" : "flooding 64 KiB"}`,
      load: done,
      "idle RSS MB": mb(idleRss),
      "peak RSS MB": mb(peak),
      "peak B/client": ((peak - idleRss) / clients).toFixed(0),
      "heap B/client, first bytes kept": ((heapWhileKept - idleHeap) / clients).toFixed(0),
      "heap B/client, after": ((heapAfter - idleHeap) / clients).toFixed(0),
    });
  }
  printTable("flood: what reading clients' first bytes costs, TarPyt alone", rows);
}
