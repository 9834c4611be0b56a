/**
 * A bench stopped half-way (Ctrl-C, a CI timeout's SIGTERM) stops what it started: the
 * tarpits it runs and the attack tools it runs against them, each in a session of its own.
 *
 * @module
 */
import { assert } from "../support/assert.ts";
import { run, RunningProcess } from "../support/process.ts";
import { needing } from "../support/tools.ts";

const root = new URL("../..", import.meta.url).pathname;

/** Every process below `pid`, by `ps`: its pid and name. */
async function descendants(pid: number): Promise<Map<number, string>> {
  const parents = new Map<number, number>(), names = new Map<number, string>();
  for (const line of (await run(["ps", "-e", "-o", "pid=,ppid=,comm="])).stdout.split("\n")) {
    const [child, parent, name] = line.trim().split(/\s+/);
    if (name === undefined) continue;
    parents.set(Number(child), Number(parent));
    names.set(Number(child), name);
  }
  const below = new Map<number, string>();
  for (const [child] of parents) {
    for (let up = parents.get(child); up !== undefined && up > 1; up = parents.get(up)) {
      if (up === pid) below.set(child, names.get(child)!);
    }
  }
  return below;
}

/** Whether a process `pid` is still there. */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** Checks `done` every 100 ms until it holds or `timeoutMs` have passed. */
async function polled(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

Deno.test(needing(["curl"], {
  name: "a bench stopped by SIGTERM leaves none of its tarpits or tools running",
  fn: async () => {
    await using bench = new RunningProcess([
      Deno.execPath(),
      "run",
      "--allow-all",
      `${root}bench/campaign.ts`,
      "--minutes",
      "1",
      "--runs",
      "1",
      "--only",
      "^http curl$",
    ]);
    // Both sides' tarpits are up, and each holds a curl.
    let started = new Map<number, string>();
    const curls = () => [...started.values()].filter((name) => name === "curl").length;
    await polled(async () => {
      started = await descendants(bench.child.pid);
      return curls() >= 2 || bench.status !== undefined;
    }, 60_000);
    assert(curls() >= 2, `no curl held under the bench: ${[...started.values()]}\n${bench.output}`);
    await bench.stop("SIGTERM");
    const left = () => [...started].filter(([pid]) => alive(pid));
    await polled(() => Promise.resolve(left().length === 0), 10_000);
    assert(left().length === 0, `still running: ${left().map(([pid, name]) => `${pid} ${name}`)}`);
  },
}));
