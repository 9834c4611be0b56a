/**
 * `deno task bench-pacing [--clients N] [--seconds S] [--only PROTOCOL]`: what each protocol's dripping
 * costs, at its default pacing, beside ssh sent in whole lines every 10 s as endlessh
 * sends them. For each, N clients that read everything (tests/support/load.py read) are held,
 * and once the first pieces flow, the tarpit's CPU time is measured over S seconds:
 * CPU per client-second is that time divided by N x S, CPU per tick that time divided by
 * the pieces due, and bytes per client is RSS above idle divided by N, beside the
 * runtime's floor (bench/floor_server.ts) holding as many, and beside the CPU a tarpit
 * holding nobody takes a second. All run at once, each in its own process; CPU time is
 * per process, so they do not share it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpuSeconds, rssBytes, RunningProcess, stopAllOnSignal } from "../tests/support/process.ts";
import { floorServerArgv, readingClients, sleep } from "./support.ts";
import { cpuOf } from "../tests/support/campaigns.ts";
import { freePort, untilListening } from "../tests/support/net.ts";
import { tarpytArgv } from "../tests/support/tarpyt.ts";
import { protocols } from "../protocols/mod.ts";
import { formatDuration } from "../src/text/duration.ts";

stopAllOnSignal();

const { values } = parseArgs({
  args: Deno.args,
  options: {
    clients: { type: "string", default: "1000" },
    seconds: { type: "string", default: "20" },
    only: { type: "string" },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);

interface Run {
  readonly label: string;
  readonly args: readonly string[];
  readonly firstDelayMs: number;
  /** The mean time between two pieces. */
  readonly delayMs: number;
}

const allRuns: Run[] = [
  ...Object.values(protocols).map((p) => ({
    label: p.name,
    args: ["--protocol", p.name, "--pacing", "fixed"],
    firstDelayMs: p.pacing.firstDelayMs + p.pacing.jitterMs,
    delayMs: p.pacing.delayMs,
  })),
  {
    label: "ssh, whole lines every 10 s",
    args: [
      "--protocol",
      "ssh",
      "--first-delay",
      "1s",
      "--delay",
      "10s",
      "--jitter",
      "0s",
      "--piece-size",
      "0",
    ],
    firstDelayMs: 1_000,
    delayMs: 10_000,
  },
];

/** `--only ssh` measures ssh alone (both of its rows), without the others' load. */
const runs = values.only ? allRuns.filter((run) => run.args[1] === values.only) : allRuns;

async function measure(run: Run): Promise<string[]> {
  const port = freePort();
  await using tarpit = new RunningProcess(tarpytArgv([
    ...run.args,
    "--listen",
    `127.0.0.1:${port}`,
    "--log-level",
    "warning",
    "--max-per-ip",
    String(clients),
  ]));
  await untilListening(port);
  await sleep(1_000);
  const pid = tarpit.child.pid;
  const idle = await rssBytes(pid);
  await using _load = await readingClients(port, clients);
  await sleep(run.firstDelayMs + 5_000);
  const before = await cpuSeconds(pid);
  await sleep(seconds * 1_000);
  const cpu = await cpuSeconds(pid) - before;
  const rss = await rssBytes(pid);
  const { pieceSize, delayMs, jitterMs } = protocols[run.args[1]].pacing;
  const piece = run.args.includes("--piece-size")
    ? "a line every 10s"
    : `${pieceSize} B every ${formatDuration(delayMs)} ± ${formatDuration(jitterMs)}`;
  const ticks = clients * seconds * 1000 / run.delayMs;
  return [
    run.label,
    piece,
    (cpu * 1e6 / (clients * seconds)).toFixed(2),
    (cpu * 1e6 / ticks).toFixed(1),
    ((rss - idle) / clients).toFixed(0),
  ];
}

/** What the runtime alone costs per client held the way TarPyt holds them. */
async function floorBytesPerClient(): Promise<number> {
  const port = freePort();
  await using floor = new RunningProcess(floorServerArgv(port));
  await untilListening(port);
  await sleep(1_000);
  const idle = await rssBytes(floor.child.pid);
  await using _load = await readingClients(port, clients);
  await sleep(5_000);
  return ((await rssBytes(floor.child.pid)) - idle) / clients;
}

/**
 * What a tarpit holding nobody costs a second: its heartbeat's wakeups. Measured once V8's
 * memory reducer has run its collections after the start, as it does within a minute.
 */
async function idleCpuPerSecond(): Promise<number> {
  const port = freePort();
  await using tarpit = new RunningProcess(tarpytArgv(["--listen", `127.0.0.1:${port}`]));
  await untilListening(port);
  await sleep(60_000);
  // To the nanosecond: over a few beats, /proc/PID/stat's 10 ms ticks would round it to 0.
  const before = await cpuOf(tarpit.child.pid);
  await sleep(seconds * 1_000);
  return (await cpuOf(tarpit.child.pid) - before) / seconds;
}

console.log(`${clients} clients that read, CPU over ${seconds} s once the first pieces flow\n`);
const [floor, idle, ...rows] = await Promise.all([
  floorBytesPerClient(),
  idleCpuPerSecond(),
  ...runs.map(measure),
]);
console.log(
  "| protocol | pacing | CPU us per client-second | CPU us per tick | bytes per client | over the floor |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const row of rows) {
  const over = `${((Number(row.at(-1)) / floor - 1) * 100).toFixed(0)}%`;
  console.log(`| ${[...row, over].join(" | ")} |`);
}
console.log(
  `\nThe floor, bench/floor_server.ts holding ${clients} clients: ${floor.toFixed(0)} B each.`,
);
console.log(`A tarpit holding nobody: ${(idle * 1e6).toFixed(0)} us of CPU a second.`);
