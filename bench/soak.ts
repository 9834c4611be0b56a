/**
 * `deno task soak [--minutes M] [--clients N] [--churn C] [--max-clients X]`: N patient clients that read
 * what they get, C of them replaced every second, for M minutes (a full run is an
 * hour at several thousand). Samples the tarpit's RSS, and its JavaScript heap from the
 * metrics endpoint, every 10 s, and prints a verdict:
 * - no growth trend: over the second half, the fitted RSS slope adds less than 2% of
 *   the mean RSS per hour (the heap's trend is printed too, to tell a JavaScript leak
 *   from native memory);
 * - no client lost: none closed by the server, none failed to connect, none left 5 delays
 *   without a line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { freePort, heapUsedBytes, untilListening } from "../tests/support/net.ts";
import { loadArgv, tarpytArgv } from "../tests/support/tarpyt.ts";
import { rssBytes, RunningProcess, stopAllOnSignal } from "../tests/support/process.ts";

stopAllOnSignal();

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "60" },
    clients: { type: "string", default: "5000" },
    churn: { type: "string", default: "50" },
    // Just above --clients (say +100) reproduces the accept stall the README describes.
    "max-clients": { type: "string" },
  },
});
const [minutes, clients, churn] = [values.minutes, values.clients, values.churn].map(Number);
const maxClients = Number(values["max-clients"] ?? 2 * clients);
const delaySeconds = 1;

const port = freePort();
const metricsPort = freePort();
await using tarpyt = new RunningProcess(tarpytArgv([
  "--listen",
  `127.0.0.1:${port}`,
  "--delay",
  `${delaySeconds}s`,
  "--log-level",
  "warning",
  "--max-per-ip",
  "1000000",
  "--max-clients",
  String(maxClients),
  "--metrics-listen",
  `127.0.0.1:${metricsPort}`,
]));

await untilListening(port);
await using load = new RunningProcess(
  loadArgv("soak", "127.0.0.1", port, clients, churn, minutes * 60, 5 * delaySeconds),
);
await load.waitFor(/held \d+/, { timeoutMs: 120_000 });
const samples: [number, number][] = [];
const heapSamples: [number, number][] = [];
const start = performance.now();
while (load.status === undefined) {
  const hours = (performance.now() - start) / 3_600_000;
  samples.push([hours, await rssBytes(tarpyt.child.pid)]);
  heapSamples.push([hours, await heapUsedBytes(metricsPort)]);
  await Promise.race([load.exited(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
}
const summaryLine = /^\{"opened".*\}$/m.exec(load.output)?.[0];
if (summaryLine === undefined) {
  console.log(`verdict: FAIL (the load ended without a summary)\n${load.output.slice(-2_000)}`);
  Deno.exit(1);
}
const summary = JSON.parse(summaryLine);

/** Least-squares slope of RSS (bytes) against time (hours). */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
/** The fitted growth over the second half, as a share of its mean per hour. */
function trendPerHour(points: [number, number][]): { mean: number; perHour: number } {
  const half = points.slice(Math.floor(points.length / 2));
  const mean = half.reduce((s, [, y]) => s + y, 0) / half.length;
  return { mean, perHour: slope(half) / mean };
}
const { mean: meanRss, perHour: growthPerHour } = trendPerHour(samples);
const heap = trendPerHour(heapSamples);
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const flat = Math.abs(growthPerHour) < 0.02;
const kept = summary.lost === 0 && summary.failed === 0 && summary.most_stale_at_once === 0;
console.log(
  `${minutes} min, ${clients} clients, ${churn} replaced a second: ${JSON.stringify(summary)}`,
);
console.log(`RSS samples (MB, every 10 s): ${samples.map(([, y]) => mb(y)).join(" ")}`);
console.log(`heap samples (MB): ${heapSamples.map(([, y]) => mb(y)).join(" ")}`);
console.log(
  `second half: RSS mean ${mb(meanRss)} MB, trend ${(growthPerHour * 100).toFixed(2)}% per hour; ` +
    `heap mean ${mb(heap.mean)} MB, trend ${(heap.perHour * 100).toFixed(2)}% per hour`,
);
console.log(
  `verdict: ${flat && kept ? "PASS" : "FAIL"} (flat ${flat}, no client lost ${kept})`,
);
