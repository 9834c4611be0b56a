/**
 * A short `deno task churn`: clients that connect and reset by the tens of thousands must
 * leave no memory behind. It guards what only that bench showed: every accept() that
 * finds nothing must reuse its handle (a dropped one stays registered with the runtime for
 * ever), and closed handles must be collected (only a full collection frees their native
 * memory). Nor must starting: what it leaves behind is given back once started.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { churn, socketActivated } from "../support/tarpyt.ts";
import { privateDirtyBytes, rssBytes, RunningProcess } from "../support/process.ts";
import { freePort, untilListening } from "../support/net.ts";
import { floorServerArgv } from "../../bench/support.ts";
import { needing } from "../support/tools.ts";

const mib = 1024 * 1024;

/** Connect-and-reset at `rate` a second for `seconds`; the connections that got through. */
async function churned(port: number, rate: number, seconds: number): Promise<number> {
  const loads = await churn(port, rate, seconds);
  assertEquals(loads.map((load) => load.failed), [0, 0], "every connection got through");
  return loads.reduce((sum, load) => sum + load.connections, 0);
}

Deno.test(needing(["python3"], {
  name:
    "tens of thousands of connections that reset leave no memory behind: handles reused and collected",
  fn: async () => {
    // As the units pass it: a backlog of 1024 rides out the moments the machine is busy.
    await using tarpyt = await socketActivated(
      ["127.0.0.1"],
      ["--log-level", "warning", "--max-per-ip", "1000000"],
      { backlog: 1024, waitForStart: false },
    );
    const { port } = tarpyt.addresses[0];
    const pid = tarpyt.child.pid;
    await churned(port, 200, 1); // pages in the code that accepts and closes
    const idle = await rssBytes(pid, "RssAnon");
    const connections = await churned(port, 4_000, 10);
    assert(connections >= 20_000, `${connections} connections`);
    const after = await rssBytes(pid, "RssAnon");
    // Leaked or uncollected, each handle keeps hundreds of bytes: tens of megabytes here.
    assert(after - idle < 8 * mib, `private memory grew by ${after - idle} bytes`);
    assertEquals(tarpyt.status, undefined, "still running");
  },
}));

/** The least private memory (`Private_Dirty`) of `pid` over two seconds. */
async function settledPrivateBytes(pid: number): Promise<number> {
  let least = Infinity;
  for (const stopAt = performance.now() + 2_000; performance.now() < stopAt;) {
    least = Math.min(least, await privateDirtyBytes(pid));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return least;
}

Deno.test({
  name: "a tarpit just started keeps about the private memory of the runtime listening alone",
  fn: async () => {
    const floorPort = freePort();
    await using floor = new RunningProcess(floorServerArgv(floorPort));
    await untilListening(floorPort);
    const runtime = await settledPrivateBytes(floor.child.pid);
    await using tarpyt = await socketActivated(["127.0.0.1"], []);
    const started = await settledPrivateBytes(tarpyt.child.pid);
    // What starting leaves behind (modules compiled, flags read) is given back once started.
    assert(
      started < runtime + mib,
      `${started / mib} MiB private, the runtime listening alone ${runtime / mib} MiB`,
    );
  },
});
