/**
 * `deno task bench-clients [--cap S] [--only PROTOCOL]`: the scoreboard. Every client of tests/support/clients.ts
 * (hydra, medusa, ncrack, paramiko, OpenSSH, curl, Python's client libraries) against a
 * tarpit of its protocol at the shipped defaults, all at once, capped at S seconds (120 by
 * default), each with its verdict: STUCK, HARD LIMIT (named), ESCAPED (with its last
 * words) or FALSE SUCCESS. Then what `nmap -sV` calls each port. Prints the README's
 * client table; a client whose program is missing is listed as not run.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { RunningProcess, stopAllOnSignal } from "../tests/support/process.ts";
import { tarpytArgv } from "../tests/support/tarpyt.ts";
import { allClients, type Outcome, trap } from "../tests/support/clients.ts";
import { unmet } from "../tests/support/tools.ts";
import { protocols } from "../protocols/mod.ts";

stopAllOnSignal();

const { values } = parseArgs({
  args: Deno.args,
  options: { cap: { type: "string", default: "120" }, only: { type: "string" } },
});
const capSeconds = Number(values.cap);
const chosen = values.only === undefined
  ? allClients
  : allClients.filter((client) => client.protocol === values.only);

/** What `nmap -sV` calls a tarpit of `protocol`, at the shipped defaults. */
async function nmapService(protocol: string): Promise<string> {
  await using server = new RunningProcess(
    tarpytArgv(["--protocol", protocol, "--listen", "127.0.0.1:0"]),
  );
  const [listen] = await server.waitFor(/LISTEN from=--listen address=127\.0\.0\.1:\d+/);
  const port = listen.split(":").at(-1)!;
  await using nmap = new RunningProcess(["nmap", "-sV", "-Pn", "-p", port, "127.0.0.1"]);
  await nmap.exited(600_000);
  const row = new RegExp(`^${port}/tcp\\s+\\S+\\s+(.*)$`, "m").exec(nmap.output)?.[1];
  return (row ?? "no answer").replace(/\s+/g, " ").trim();
}

const runs: Promise<Outcome | string>[] = chosen.map((client) => {
  const missing = unmet(client.needs);
  return missing.length
    ? Promise.resolve(`not run: needs ${missing.join(", ")}`)
    : trap(client, capSeconds);
});
const services = unmet(["nmap"]).length
  ? []
  : Object.keys(protocols).filter((name) => values.only === undefined || name === values.only)
    .map((name) => nmapService(name));

console.log(`Each client against the shipped defaults, capped at ${capSeconds} s.\n`);
console.log("| protocol | client | verdict | time | why |");
console.log("| --- | --- | --- | --- | --- |");
const tally = new Map<string, number>();
for (const [i, client] of chosen.entries()) {
  const outcome = await runs[i];
  if (typeof outcome === "string") {
    console.log(`| ${client.protocol} | ${client.name} | - | - | ${outcome} |`);
    continue;
  }
  tally.set(outcome.verdict, (tally.get(outcome.verdict) ?? 0) + 1);
  const time = outcome.verdict === "STUCK"
    ? `${capSeconds} s cap`
    : `${outcome.seconds.toFixed(1)} s`;
  console.log(
    `| ${client.protocol} | ${client.name} | ${outcome.verdict} | ${time} | ${
      outcome.detail.replaceAll("|", "/")
    } |`,
  );
}
console.log(`\n${[...tally].map(([verdict, n]) => `${n} ${verdict}`).join(", ")}`);
if (services.length) {
  console.log("\n| protocol | nmap -sV |");
  console.log("| --- | --- |");
  const named = Object.keys(protocols).filter((name) =>
    values.only === undefined || name === values.only
  );
  for (const [i, name] of named.entries()) {
    console.log(`| ${name} | ${await services[i]} |`);
  }
}
