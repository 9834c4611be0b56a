/**
 * `deno task churn [--rate R] [--seconds S]`: clients that connect and close at once, R a
 * second for S seconds (10,000 a second for 60 s by default), then quiet. Prints
 * what the tarpit did and a verdict:
 * - it is still running, and every connection got through;
 * - while quiet afterwards it spends under 1% of a core (the accept loop does not spin);
 * - its RSS comes back to within 10% of its idle value.
 *
 * "Idle" is measured twice. Cold: just started, before any connection. Warm: after 200
 * connect-and-close cycles and a quiet spell, which is what a tarpit in service is. The
 * first connections page in the executable's code for accepting and closing (about 2 MB,
 * file-backed and shared, never grown by more connections), so the verdict is against
 * the warm figure; both are printed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpuSeconds, rssBytes, RunningProcess, stopAllOnSignal } from "../tests/support/process.ts";
import { freePort, heapUsedBytes } from "../tests/support/net.ts";
import { churn, tarpytArgv } from "../tests/support/tarpyt.ts";
import { sleep } from "./support.ts";

stopAllOnSignal();

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rate: { type: "string", default: "10000" },
    seconds: { type: "string", default: "60" },
    processes: { type: "string", default: "4" },
  },
});
const [rate, seconds, processes] = [values.rate, values.seconds, values.processes].map(Number);

const port = freePort();
const metricsPort = freePort();
await using tarpyt = new RunningProcess(tarpytArgv([
  "--listen",
  `127.0.0.1:${port}`,
  "--log-level",
  "warning",
  "--max-per-ip",
  "1000000",
  "--metrics-listen",
  `127.0.0.1:${metricsPort}`,
]));
await sleep(1_500);
const pid = tarpyt.child.pid;
const coldRss = await rssBytes(pid);

await churn(port, 100, 2, processes); // warm-up
await sleep(12_000); // past the 10 s delay: any client still held has had its line fail
const idleRss = await rssBytes(pid);
const idleAnon = await rssBytes(pid, "RssAnon");
const idleHeap = await heapUsedBytes(metricsPort);
const cpuBefore = await cpuSeconds(pid);
const summaries = await churn(port, rate, seconds, processes);
const busyCpu = (await cpuSeconds(pid)) - cpuBefore;
const peakRss = await rssBytes(pid);
await sleep(10_000); // quiet
const quietBefore = await cpuSeconds(pid);
await sleep(5_000);
const quietCpuShare = ((await cpuSeconds(pid)) - quietBefore) / 5;
const afterRss = await rssBytes(pid);
const afterAnon = await rssBytes(pid, "RssAnon");
const afterHeap = await heapUsedBytes(metricsPort);
const connections = summaries.reduce((sum, s) => sum + s.connections, 0);
const failed = summaries.reduce((sum, s) => sum + s.failed, 0);
const running = tarpyt.status === undefined;
const allThrough = failed === 0;
const rssBack = afterRss <= idleRss * 1.1;
const quiet = quietCpuShare < 0.01;
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
console.log(
  `connections: ${connections} in ${seconds} s (${
    (connections / seconds).toFixed(0)
  }/s), ${failed} failed`,
);
console.log(
  `tarpit CPU while churning: ${(busyCpu / seconds * 100).toFixed(0)}% of a core, ${
    (busyCpu * 1e6 / connections).toFixed(1)
  } us per connection`,
);
console.log(
  `RSS: cold ${mb(coldRss)} MB, idle ${mb(idleRss)} MB, after churning ${mb(peakRss)} MB, ` +
    `15 s later ${mb(afterRss)} MB (private: idle ${mb(idleAnon)} MB, 15 s later ${
      mb(afterAnon)
    } MB)`,
);
console.log(
  `JavaScript heap: idle ${mb(idleHeap)} MB, 15 s after churning ${mb(afterHeap)} MB ` +
    "(the rest of RSS is native memory)",
);
console.log(`CPU while quiet afterwards: ${(quietCpuShare * 100).toFixed(2)}% of a core`);
console.log(
  `verdict: ${running && allThrough && rssBack && quiet ? "PASS" : "FAIL"} (running ${running}, ` +
    `every connect got through ${allThrough}, RSS within 10% of idle ${rssBack}, quiet ${quiet})`,
);
