/**
 * Learning with clients nobody tuned it for: models of tests/support/client_models.ts's
 * grid, each a bot making its connections one after another against the real engine and
 * learner, with fixed pacing and with learning, and with each profile alone.
 * `deno task bench-models` runs the whole grid on more connections.
 *
 * @module
 */
import { assert } from "../support/assert.ts";
import {
  type ClientModel,
  fromThird,
  modelGrid,
  modelName,
  runSides,
  sum,
} from "../support/client_models.ts";

const options = { connections: 12, capS: 120 };

interface Held {
  readonly model: ClientModel;
  readonly fixed: number;
  readonly learn: number;
  readonly best: number;
}

/**
 * What fixed pacing, learning and the best profile alone held each model of the grid on
 * the protocol `name`, from the third connection on.
 */
async function heldOn(name: string): Promise<Held[]> {
  const all: Held[] = [];
  for (const model of modelGrid()) {
    const { fixed, learn, alone } = await runSides(model, name, options);
    const best = Math.max(...alone.map(fromThird));
    all.push({ model, fixed: fromThird(fixed), learn: fromThird(learn), best });
  }
  return all;
}

/** The models listed with what fixed pacing and learning held them. */
const list = (rows: readonly Held[]): string =>
  rows.map(({ model, fixed, learn }) => `${modelName(model)} ${fixed} ${learn}`).join(", ");

// smtp: many lines, sent whole or dripped; http: one status line, dripped, to clients that
// speak first.
for (const name of ["smtp", "http"]) {
  const results = heldOn(name);

  Deno.test(`${name}: a client that escapes fixed pacing is held twice as long from its third connection, whatever its timers`, async () => {
    const all = await results;
    const escaping = all.filter(({ fixed, best }) => fixed < best / 2);
    const short = escaping.filter(({ fixed, learn }) => learn < 2 * fixed);
    assert(escaping.length >= all.length / 3, `${escaping.length} of ${all.length} escape`);
    assert(
      short.length <= escaping.length / 10,
      `${short.length} of ${escaping.length} held under 2x: ${list(short)}`,
    );
  });

  // On http every profile holds what fixed pacing holds (a client that waits out the
  // default's first delay waits out a slow drip's gaps too): only smtp's lines can lose one.
  if (name === "smtp") {
    Deno.test(`${name}: a client fixed pacing holds is held as long, give or take the tenth a cheaper profile may cost`, async () => {
      const holding = (await results).filter(({ fixed, best }) => fixed >= best / 2);
      const less = holding.filter(({ fixed, learn }) => learn < 0.85 * fixed);
      assert(
        less.length === 0,
        `${less.length} of ${holding.length} held under 0.85x: ${list(less)}`,
      );
    });
  }

  Deno.test(`${name}: a client that judges its first bytes loses a tenth of its silence to a try, and is tried once or twice`, async () => {
    const judging = (await results).filter(({ model, fixed, best }) =>
      model.judges === "first-bytes" && fixed >= best / 2
    );
    const fixed = sum(judging.map((row) => row.fixed));
    const learn = sum(judging.map((row) => row.learn));
    // Fixed pacing lets it wait out its silence on each of its ten connections; a try
    // sends its first bytes just within that silence (withinSilence).
    assert(learn >= 0.98 * fixed, `${learn} s against ${fixed} s, over ${judging.length} models`);
  });
}

Deno.test("smtp: a client that takes its second line for the reply and waits for it for ever is kept on the slow drip, though one moved to it mid-line ends that line at its first pieces", async () => {
  // Held to the horizon on the default, a client moves to the slow drip; the line it was
  // reading ends a piece or two later, and it takes it for its reply. That line came mostly
  // under the default, and says nothing of the slow drip, which holds it for minutes.
  const model: ClientModel = {
    firstWaitS: 30,
    readWaitS: 30,
    lineAlarmS: Infinity,
    totalS: Infinity,
    judges: "reply",
  };
  const { fixed, learn } = await runSides(model, "smtp", { connections: 30, capS: 300 });
  const [held, heldFixed] = [fromThird(learn), fromThird(fixed)];
  assert(held >= 2 * heldFixed, `${held} s against fixed pacing's ${heldFixed}: ${learn.heldS}`);
});
