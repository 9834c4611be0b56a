/**
 * `deno task bench-models [--only PROTOCOL] [--connections N]`: how learning does with
 * clients nobody tuned it for. Every model of tests/support/client_models.ts's grid (a
 * wait for a first byte, a read timeout, an alarm on a line and one on the connection,
 * crossed with four ways of judging what arrives) makes N connections one after another
 * against the real engine on a virtual clock: with fixed pacing, with learning, and with
 * each profile alone, which says what the best single pacing would have held it.
 *
 * Printed per protocol, over connections 3 to N (a tool's first two are what learning
 * learns from):
 * - the models fixed pacing lets escape (held under half what the best profile holds), and
 *   how many of them learning holds 2x as long;
 * - the models fixed pacing holds, and how many of them learning holds less;
 * - the worst few either way;
 * - over connections 1 to 10, what trying profiles costs;
 * - writes per held second, fixed and learning.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type ClientModel,
  fromThird,
  modelGrid,
  modelName,
  type ModelRun,
  profilesOf,
  runSides,
  sum,
} from "../tests/support/client_models.ts";
import { protocols } from "../protocols/mod.ts";

/** Stops with a one-line error, as the program does with bad input. */
function fail(message: string): never {
  console.error(`bench-models: ${message}`);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      connections: { type: "string", default: "30" },
    },
  });
} catch (error) {
  fail(JSON.stringify(error instanceof Error ? error.message : String(error)));
}
const { values } = parsed;
const connections = Number(values.connections);
if (!Number.isInteger(connections) || connections < 12) {
  fail("--connections must be a whole number of 12 or more");
}

/** Seconds held per connection from the third on. */
const settled = (run: ModelRun): number => fromThird(run) / (run.heldS.length - 2);

interface Row {
  readonly model: ClientModel;
  readonly fixed: number;
  readonly learn: number;
  readonly best: number;
  readonly bestName: string;
  /** Connections 1-10 held by learning, over fixed pacing's. */
  readonly firstTen: number;
}

const names = values.only === undefined ? ["smtp", "ssh", "http"] : values.only.split(",");
for (const name of names) {
  if (protocols[name] === undefined) fail(`no protocol ${JSON.stringify(name)}`);
  const profiles = profilesOf(name);
  const options = { connections, capS: 300 };
  const rows: Row[] = [];
  const writes = { fixed: 0, learn: 0 }, held = { fixed: 0, learn: 0 };
  const started = performance.now();
  for (const model of modelGrid()) {
    const { fixed, learn, alone: runs } = await runSides(model, name, options);
    const alone = runs.map(settled);
    const best = Math.max(...alone);
    writes.fixed += fixed.writes;
    writes.learn += learn.writes;
    held.fixed += sum(fixed.heldS);
    held.learn += sum(learn.heldS);
    rows.push({
      model,
      fixed: settled(fixed),
      learn: settled(learn),
      best,
      bestName: profiles[alone.indexOf(best)].name,
      firstTen: sum(learn.heldS.slice(0, 10)) / sum(fixed.heldS.slice(0, 10)),
    });
  }
  const escaping = rows.filter((row) => row.fixed < row.best / 2);
  const holding = rows.filter((row) => row.fixed >= row.best / 2);
  const doubled = escaping.filter((row) => row.learn >= 2 * row.fixed);
  const less = holding.filter((row) => row.learn < 0.9 * row.fixed);
  const heldLess = holding.filter((row) => row.learn < row.fixed);
  const firstTen = rows.map((row) => row.firstTen).sort((a, b) => a - b);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const line = (row: Row) =>
    `  ${modelName(row.model).padEnd(28)} fixed ${row.fixed.toFixed(1).padStart(6)} s  learning ` +
    `${row.learn.toFixed(1).padStart(6)} s  best alone ${row.best.toFixed(1).padStart(6)} s ` +
    `(${row.bestName})`;
  console.log(`\n${name}: ${rows.length} models, ${connections} connections each (${seconds} s)`);
  console.log(
    `  escape fixed pacing: ${escaping.length}; held 2x as long by learning: ${doubled.length}` +
      ` (${(100 * doubled.length / Math.max(1, escaping.length)).toFixed(0)}%)`,
  );
  console.log(
    `  held by fixed pacing: ${holding.length}; held less by learning: ${heldLess.length}, ` +
      `of which under 0.9x: ${less.length}`,
  );
  console.log(
    `  connections 1-10, learning / fixed: lowest ${firstTen[0].toFixed(2)}, tenth ` +
      `${firstTen[Math.floor(firstTen.length / 10)].toFixed(2)}, median ` +
      `${firstTen[Math.floor(firstTen.length / 2)].toFixed(2)}`,
  );
  console.log(
    `  writes per held second: fixed ${(writes.fixed / held.fixed).toFixed(3)}, learning ` +
      `${(writes.learn / held.learn).toFixed(3)}`,
  );
  console.log("  escaping, held least by learning against fixed:");
  for (
    const row of escaping.toSorted((a, b) => a.learn / a.fixed - b.learn / b.fixed).slice(0, 5)
  ) {
    console.log(line(row));
  }
  console.log("  held by fixed pacing, held least by learning against fixed:");
  for (const row of holding.toSorted((a, b) => a.learn / a.fixed - b.learn / b.fixed).slice(0, 5)) {
    console.log(line(row));
  }
}
