/**
 * `deno task bench [--clients N] [--delay-ms MS] [--seconds S]`: what a trapped client
 * costs.
 *
 * For each server (TarPyt; the runtime's floor, bench/floor_server.ts, with TarPyt's V8
 * flags; and endlessh when installed): start it, measure its idle RSS,
 * open N connections from loopback sources (bench/load.py hold) and hold them, let a few
 * delays pass, then measure RSS and the CPU time the server spends over S seconds.
 * Prints user-space bytes per client ((RSS - idle RSS) / N) and CPU microseconds per line
 * sent (CPU time / (N x S / delay)), TarPyt's bytes per client against the floor's, and
 * startup: from spawning the server to its first accepted connection.
 * The fd limit here is 20,000 per process, so N tops out near 19,000.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  cpuSeconds,
  freePort,
  rssBytes,
  RunningProcess,
  tarpytArgv,
  untilListening,
} from "../tests/harness.ts";
import { runtimeFlags } from "../src/runtime/flags.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "10000" },
    "delay-ms": { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
  },
});
const clients = Number(values.clients);
const delayMs = Number(values["delay-ms"]);
const seconds = Number(values.seconds);
const root = new URL("..", import.meta.url).pathname;

interface Server {
  readonly name: string;
  readonly argv: (port: number) => string[];
}

const servers: Server[] = [{
  name: "tarpyt",
  argv: (port) =>
    tarpytArgv([
      "--listen",
      `127.0.0.1:${port}`,
      "--delay",
      `${delayMs}ms`,
      "--max-clients",
      String(clients + 100),
      "--max-per-ip",
      String(clients),
      "--log-level",
      "warning",
    ]),
}, {
  name: "floor",
  argv: (port) => [
    Deno.execPath(),
    "run",
    "--allow-net",
    ...runtimeFlags.filter((flag) => flag.startsWith("--v8-flags=")),
    `${root}bench/floor_server.ts`,
    String(port),
  ],
}];
const endlessh = ["/usr/bin/endlessh", "/usr/sbin/endlessh"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});
if (endlessh) {
  servers.push({
    name: "endlessh",
    argv: (
      port,
    ) => [endlessh, "-4", "-p", String(port), "-d", String(delayMs), "-m", String(clients + 100)],
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(server: Server): Promise<Record<string, string>> {
  const port = freePort();
  const spawnedAt = performance.now();
  await using process = new RunningProcess(server.argv(port));
  await untilListening(port);
  const startupMs = performance.now() - spawnedAt;
  await sleep(1_000);
  const pid = process.child.pid;
  const idleRss = await rssBytes(pid);
  const t0 = performance.now();
  await using holder = new RunningProcess([
    "python3",
    "-u",
    `${root}bench/load.py`,
    "hold",
    "127.0.0.1",
    String(port),
    String(clients),
  ]);
  const [held] = await holder.waitFor(/held \d+|failed \d+: .*/, { timeoutMs: 120_000 });
  const connectSeconds = (performance.now() - t0) / 1000;
  if (held.startsWith("failed")) throw new Error(`${server.name}: ${held}`);
  await sleep(Math.max(3 * delayMs, 3_000));
  const cpuBefore = await cpuSeconds(pid);
  await sleep(seconds * 1_000);
  const cpu = (await cpuSeconds(pid)) - cpuBefore;
  const rss = await rssBytes(pid);
  // The floor writes nothing: its CPU per line is not a cost per line.
  const lines = server.name === "floor" ? NaN : clients * seconds * 1000 / delayMs;
  return {
    server: server.name,
    clients: String(clients),
    "idle RSS MB": (idleRss / 2 ** 20).toFixed(1),
    "RSS MB": (rss / 2 ** 20).toFixed(1),
    "B/client": ((rss - idleRss) / clients).toFixed(0),
    "CPU us/line": (cpu * 1e6 / lines).toFixed(1),
    "connect s": connectSeconds.toFixed(1),
    "startup ms": startupMs.toFixed(0),
  };
}

console.log(`${clients} clients, one line per ${delayMs} ms each, CPU over ${seconds} s\n`);
const rows: Record<string, string>[] = [];
for (const server of servers) {
  try {
    rows.push(await measure(server));
  } catch (error) {
    if (server.name === "tarpyt") throw error;
    console.log(`(${server.name} left out: ${error instanceof Error ? error.message : error})`);
  }
}
const columns = Object.keys(rows[0]);
const width = (c: string) => Math.max(c.length, ...rows.map((r) => r[c].length));
console.log(columns.map((c) => c.padStart(width(c))).join("  "));
for (const row of rows) console.log(columns.map((c) => row[c].padStart(width(c))).join("  "));
const perClient = (name: string) => Number(rows.find((r) => r.server === name)?.["B/client"]);
console.log(
  `\ntarpyt over the floor: ${((perClient("tarpyt") / perClient("floor") - 1) * 100).toFixed(0)}%`,
);
if (!endlessh) console.log("\n(endlessh is not installed: apt-get install endlessh to compare)");
