/**
 * `deno task bench-campaign [--minutes M] [--runs N] [--only REGEX]`: real attack tools
 * and scripts (tests/support/campaigns.ts) run as campaigns, each against a tarpit with
 * fixed pacing and one that learns, side by side, for M minutes (10 by default), the tool
 * run again when it quits, up to N runs (3); the crowds of bots after the rest, by
 * themselves. Prints per campaign and side: runs, connections, the seconds the first,
 * third and last connection were held, held time in all, how long the first run stayed
 * before it quit, the tarpit's CPU per held client-second, departures named with the right
 * family, and the verdict; then the totals the learning is judged by.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Campaign,
  campaigns,
  type Connection,
  cpuOf,
  gate,
  runCampaign,
  type SideResult,
  writeCampaignFiles,
} from "../tests/support/campaigns.ts";
import { RunningProcess, stopAllOnSignal } from "../tests/support/process.ts";
import { tarpytArgv } from "../tests/support/tarpyt.ts";
import { unmet } from "../tests/support/tools.ts";

stopAllOnSignal();

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
    only: { type: "string", default: "" },
  },
});
const capSeconds = Number(values.minutes) * 60;
const maxRuns = Number(values.runs);
const only = new RegExp(values.only);

const sides = [
  { name: "fixed", flags: ["--pacing", "fixed"] },
  { name: "learn", flags: ["--pacing", "learn"] },
] as const;

const dir = await Deno.makeTempDir({ prefix: "tarpyt-bench-campaign-" });
const files = await writeCampaignFiles(dir);
const chosen = campaigns.filter((c) => only.test(`${c.protocol} ${c.tool}`));
const skipped = chosen.filter((c) => unmet(c.needs).length > 0);
const running = chosen.filter((c) => unmet(c.needs).length === 0);
console.log(
  `${running.length} campaigns, ${capSeconds} s each, up to ${maxRuns} runs, ` +
    `fixed and learning side by side${
      skipped.length ? `; not run, for want of a program: ${skipped.map(name).join(", ")}` : ""
    }\n`,
);
// An idle tarpit beside each side's: what a tarpit costs with no client, taken off each.
const idle = await Promise.all(sides.map(async (side) => {
  const tarpit = new RunningProcess(
    tarpytArgv(["--listen", "127.0.0.1:0", ...side.flags]),
  );
  await tarpit.waitFor(/START /);
  return { tarpit, cpu: await cpuOf(tarpit.child.pid), at: performance.now() };
}));
// A hundred runtimes starting at once on a small machine take a minute: a few at a time.
const starting = gate(4);
// Crowds of bots run after the rest, on their own: their bots keep time on the cores the
// tarpits and the other tools use, and beside all of those they fell behind (a bot's 10 s
// read timeout seen at 5 s), which is the harness measuring itself.
const results: SideResult[][] = new Array(running.length);
for (const crowds of [false, true]) {
  const wave = running.flatMap((campaign, i) => (campaign.crowd ?? false) === crowds ? [i] : []);
  await Promise.all(wave.map(async (i) => {
    results[i] = await Promise.all(
      sides.map((side) =>
        runCampaign(running[i], side.flags, files, capSeconds, maxRuns, starting)
      ),
    );
  }));
}
const idleCpuPerSecond = await Promise.all(idle.map(async ({ tarpit, cpu, at }) => {
  const rate = (await cpuOf(tarpit.child.pid) - cpu) / ((performance.now() - at) / 1000);
  await tarpit[Symbol.asyncDispose]();
  return rate;
}));
await Deno.remove(dir, { recursive: true });

function name(campaign: Campaign): string {
  return `${campaign.protocol} ${campaign.tool}`;
}

/** Departures: connections that left on their own, seen as they did. */
function departures(result: SideResult): Connection[] {
  return result.connections.filter((c) => c.left === "closed" || c.left === "reset");
}

/**
 * Departures a family is judged on: those that stayed a second or more. A client that
 * connects and closes at once (a port check, a tool's retry) shows no limit of its own.
 */
function judged(result: SideResult): Connection[] {
  return departures(result).filter((c) => c.seconds >= 1);
}

function heldSeconds(result: SideResult): number {
  return result.connections.reduce((sum, c) => sum + c.seconds, 0);
}

/** Whether the tool was still at it when the cap came. */
function stuck(result: SideResult): boolean {
  return result.runs.reduce((a, b) => a + b, 0) >= capSeconds - 1.5;
}

function verdict(campaign: Campaign, result: SideResult): string {
  if (result.falseSuccess) return "FALSE SUCCESS";
  if (stuck(result)) return "STUCK";
  const limit = campaign.limit;
  // One that closed at once no pacing could have held: a tool quitting closes what it just
  // opened (wfuzz, at its first timeout).
  const left = judged(result);
  if (limit && left.length > 0 && left.every((c) => c.seconds >= limit.seconds)) {
    return "HARD LIMIT";
  }
  return "ESCAPED";
}

const fmt = (seconds: number | undefined) => seconds === undefined ? "-" : seconds.toFixed(1);

/** The CPU a side's tarpit spent on its clients: its CPU less an idle tarpit's. */
function clientCpu(result: SideResult, side: number): number {
  return Math.max(0, result.cpuSeconds - idleCpuPerSecond[side] * result.windowSeconds);
}

console.log(
  "| protocol | tool | pacing | runs | conns | held s: 1st / 3rd / last | held s | 1st run s | " +
    "CPU us/held s | families | verdict |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
interface Total {
  cpu: number;
  held: number;
  toolCpu: number;
  toolHeld: number;
  named: number;
  departed: number;
  falseSuccess: number;
}
const totals: Total[] = sides.map(() => ({
  cpu: 0,
  held: 0,
  toolCpu: 0,
  toolHeld: 0,
  named: 0,
  departed: 0,
  falseSuccess: 0,
}));
const escaping: { campaign: Campaign; fixed: number; learn: number; thirdOn: string }[] = [];
for (const [i, campaign] of running.entries()) {
  for (const [j, side] of sides.entries()) {
    const result = results[i][j];
    const { connections } = result;
    const held = heldSeconds(result);
    const cpu = clientCpu(result, j);
    const left = judged(result);
    const misnamed = left.filter((c) =>
      !campaign.families?.includes(c.family) && !(campaign.triesTls && c.family === "tls")
    );
    const named = left.length - misnamed.length;
    const total = totals[j];
    total.cpu += cpu;
    total.held += held;
    if (!campaign.tool.includes("bots that wait")) {
      total.toolCpu += cpu;
      total.toolHeld += held;
    }
    if (campaign.families !== undefined) {
      total.named += named;
      total.departed += left.length;
    }
    if (result.falseSuccess) total.falseSuccess++;
    // What the others were named instead, so that a wrong ground truth shows.
    const instead = new Map<string, number>();
    for (const { family } of misnamed) instead.set(family, (instead.get(family) ?? 0) + 1);
    const families = campaign.families === undefined
      ? "-"
      : `${named}/${left.length} ${campaign.families.join(",")}` +
        (instead.size === 0 ? "" : ` (${[...instead].map(([f, n]) => `${n} ${f}`).join(", ")})`);
    console.log(
      `| ${campaign.protocol} | ${campaign.tool} | ${side.name} | ${result.runs.length} | ${connections.length} | ${
        fmt(connections[0]?.seconds)
      } / ${fmt(connections[2]?.seconds)} / ${fmt(connections.at(-1)?.seconds)} | ${
        held.toFixed(0)
      } | ${fmt(result.runs[0])} | ${
        held > 0 ? (cpu / held * 1e6).toFixed(2) : "-"
      } | ${families} | ${verdict(campaign, result)} ${result.lastWords.replaceAll("|", "/")} |`,
    );
  }
  const [fixed, learn] = results[i];
  if (verdict(campaign, fixed) === "ESCAPED") {
    const later = departures(learn).filter((c) => c.n >= 3);
    escaping.push({
      campaign,
      fixed: heldSeconds(fixed),
      learn: heldSeconds(learn),
      thirdOn: later.length === 0
        ? "no 3rd or later connection left"
        : `3rd or later left after ${fmt(Math.min(...later.map((c) => c.seconds)))} s at least`,
    });
  }
}

console.log(
  `\nIdle tarpit: ${
    idleCpuPerSecond.map((rate, j) => `${sides[j].name} ${(rate * 1e3).toFixed(2)} ms/s`).join(", ")
  }, taken off each tarpit's CPU`,
);
console.log("Campaigns that escape fixed pacing: held time, learning against fixed");
for (const { campaign, fixed, learn, thirdOn } of escaping) {
  console.log(
    `  ${name(campaign)}: ${fixed.toFixed(0)} s -> ${learn.toFixed(0)} s (x${
      (learn / Math.max(fixed, 1)).toFixed(1)
    }); learning: ${thirdOn}`,
  );
}
for (const [j, side] of sides.entries()) {
  const t = totals[j];
  const perHeld = (cpu: number, held: number) => (cpu / Math.max(held, 1) * 1e6).toFixed(2);
  console.log(
    `${side.name}: CPU ${perHeld(t.cpu, t.held)} us per held client-second over ${
      t.held.toFixed(0)
    } client-seconds (tools alone: ${perHeld(t.toolCpu, t.toolHeld)} over ${
      t.toolHeld.toFixed(0)
    }); families right ${t.named}/${t.departed} (${
      (100 * t.named / Math.max(t.departed, 1)).toFixed(0)
    }%); false successes ${t.falseSuccess}`,
  );
}
