/**
 * Where the docs copy the code, they must say what the code does: the README's options,
 * protocols, log events and metrics, the Deno version everywhere it is written, and the
 * design page's map of src/.
 *
 * @module
 */
import { assert, assertEquals } from "./assert.ts";
import { helpText } from "../src/cli/cli.ts";
import { logEvents } from "../src/log/events.ts";
import { metricsText } from "../src/metrics/metrics.ts";
import { TrappedHistogram } from "../src/stats/trap_stats.ts";
import { denoVersion } from "../src/runtime/flags.ts";
import { protocols } from "../protocols/mod.ts";

const root = new URL("..", import.meta.url).pathname;
const readme = Deno.readTextFileSync(`${root}README.md`);

/** The rows of the markdown table right after `<!-- marker ...-->`, as cells without backticks. */
function tableAfter(marker: string): string[][] {
  const start = readme.indexOf(`<!-- ${marker}`);
  assert(start !== -1, `README has no <!-- ${marker} --> table`);
  const lines = readme.slice(start).split("\n").slice(1).filter((line, i) => i > 0 || line !== "");
  const rows = lines.slice(0, lines.findIndex((line) => !line.startsWith("|")));
  return rows.slice(2).map((row) =>
    row.split("|").slice(1, -1).map((cell) => cell.trim().replaceAll("`", ""))
  );
}

Deno.test("the README's options are --help's, word for word, indentation aside", () => {
  const help = helpText();
  const options = help.slice(help.indexOf("Options:\n") + "Options:\n".length);
  // The README's block is indented less: deno fmt dedents it.
  const block = options.slice(0, options.indexOf("\n  -h, --help")).replace(/^ {2}/gm, "") + "\n";
  const start = readme.indexOf("<!-- options");
  assert(start !== -1, "README has no <!-- options --> block");
  const fenced = readme.slice(readme.indexOf("```\n", start) + 4);
  assertEquals(fenced.slice(0, fenced.indexOf("```")), block);
});

Deno.test("the README's events table is the log's vocabulary: names, levels and fields", () => {
  const documented = tableAfter("events").map(([name, level, fields]) => [name, level, fields]);
  const logged = Object.entries(logEvents).map((
    [name, doc],
  ) => [name, doc.level, doc.fields.join(", ")]);
  assertEquals(documented, logged);
});

Deno.test("the README's metrics table is every series served, with its type and labels", () => {
  const ports = [{
    localPort: 22,
    opened: 1,
    closed: 0,
    refused: 0,
    held: 1,
    bytes: 1,
    trappedMs: 1,
  }];
  const text = metricsText(
    { ports, histogram: new TrappedHistogram(), maxClients: 1, protocol: "ssh" },
    "0.0.0",
    { rss: 1, heapUsed: 1, droppedLogLines: 0 },
  );
  const served = [...text.matchAll(/^# TYPE (\S+) (\S+)\n(\S+?)(?:\{(.*?)\})? /gm)].map(
    ([, name, type, , labels]) => [
      name,
      type,
      (labels ?? "").split(",").filter(Boolean).map((pair) => pair.split("=")[0]).join(", "),
    ],
  );
  assertEquals(tableAfter("metrics"), served);
});

Deno.test("the README's protocols table names every protocol with its default pacing", () => {
  const start = readme.indexOf("| protocol ");
  const rows = readme.slice(start).split("\n").slice(2).filter((line) => line.startsWith("|"));
  const documented = rows.map((row) => {
    const cells = row.split("|").slice(1, -1).map((cell) => cell.trim().replaceAll("`", ""));
    return [cells[0], cells.at(-1)];
  });
  const seconds = (ms: number): string => `${ms / 1000}`;
  const expected = Object.values(protocols).map(({ name, pacing }) => [
    name,
    `${seconds(pacing.firstDelayMs)} s, ${seconds(pacing.delayMs)} s ± ${seconds(pacing.jitterMs)}`,
  ]);
  assertEquals(documented.slice(0, expected.length), expected);
});

Deno.test("the Deno version is deno.json's wherever a command names one", () => {
  for (const file of ["README.md", ".ci/run", ".github/workflows/release.yml"]) {
    const text = Deno.readTextFileSync(`${root}${file}`);
    const named = [...text.matchAll(/deno@([\d.]+)/g)].map(([, version]) => version);
    assert(named.length > 0, `${file} names no deno@ version`);
    assertEquals(new Set(named), new Set([denoVersion]), file);
  }
});

Deno.test("docs/design.md's layout names every module in src/", () => {
  const design = Deno.readTextFileSync(`${root}docs/design.md`);
  const missing: string[] = [];
  for (const folder of Deno.readDirSync(`${root}src`)) {
    for (const file of Deno.readDirSync(`${root}src/${folder.name}`)) {
      if (!design.includes(file.name)) missing.push(`src/${folder.name}/${file.name}`);
    }
  }
  assertEquals(missing, []);
});
