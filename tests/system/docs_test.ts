/**
 * Where the docs copy the code, they must say what the code does: the README's options,
 * protocols, log events and metrics, the Deno version everywhere it is written, and the
 * design page's map of src/.
 *
 * @module
 */
import { assert, assertEquals } from "../support/assert.ts";
import { connect, fetchText } from "../support/net.ts";
import { programEnv } from "../support/process.ts";
import { listening, MetricsTarpyt, peer, wholeLines } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";
import { helpText } from "../../src/cli/cli.ts";
import { logEvents } from "../../src/log/vocabulary.ts";
import { denoVersion } from "../../src/runtime/flags.ts";
import { protocols } from "../../protocols/mod.ts";

const root = new URL("../..", import.meta.url).pathname;
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

Deno.test(needing(["python3"], {
  name: "the lines the program really writes carry the README's fields, in its order",
  fn: async () => {
    const fields = new Map(tableAfter("events").map(([name, , list]) => [name, list]));
    const [started, address] = await listening([
      ...wholeLines(),
      "--log-level",
      "debug",
      "--max-clients",
      "3",
      "--max-per-ip",
      "2",
      "--metrics-listen",
      "127.0.0.1:0",
    ], { ...programEnv, NOTIFY_SOCKET: `@tarpyt-nobody-${crypto.randomUUID()}` });
    await using tarpyt = started;
    const port = String(address.port);
    const peers = [];
    for (const [source, count] of [["127.0.0.1", 3], ["127.0.0.2", 1], ["127.0.0.3", 1]] as const) {
      const next = peer("noread", "127.0.0.1", port, "4096", String(count), source);
      peers.push(next);
      await next.waitFor(/connected/);
    }
    await tarpyt.waitFor(/ (ACCEPT|REFUSE|FULL) /, { times: 5 });
    tarpyt.child.kill("SIGUSR2");
    await tarpyt.waitFor(/ STATS /);
    for (const one of peers) await one.stop();
    await tarpyt.waitFor(/ CLOSE /, { times: 3 });
    await tarpyt.stop();
    const seen = new Set<string>();
    for (const line of tarpyt.output.split("\n")) {
      const match = /^\S+Z ([A-Z_]+)((?: [a-z-]+=\S*)*)/.exec(line);
      if (!match || !fields.has(match[1])) continue;
      seen.add(match[1]);
      const written = match[2].trim().split(" ").filter(Boolean).map((pair) => pair.split("=")[0]);
      const declared = fields.get(match[1])!.split(", ").filter(Boolean);
      // A socket's origin is fd and name when passed, from when bound: the rest are all there.
      const origin = new Set(["fd", "name", "from"]);
      const expected = declared.filter((name) => !origin.has(name) || written.includes(name));
      assertEquals(written, expected, line);
    }
    const events = [
      "LISTEN",
      "METRICS",
      "START",
      "ACCEPT",
      "REFUSE",
      "FULL",
      "CLOSE",
      "ERROR",
      "STATS",
      "TOTALS",
      "NOTIFY_FAILED",
    ];
    for (const event of events) {
      assert(seen.has(event), `no ${event} line was written:\n${tarpyt.output}`);
    }
  },
}));

Deno.test("the README's metrics table is every series the program serves, with its type and labels", async () => {
  await using tarpyt = new MetricsTarpyt();
  const base = await tarpyt.metricsBase();
  // One client comes and goes, so that every family has a sample to show its labels.
  const [listen] = await tarpyt.waitFor(/LISTEN from=--listen address=127\.0\.0\.1:\d+/);
  (await connect({ hostname: "127.0.0.1", port: Number(listen.split(":").at(-1)) })).close();
  await tarpyt.waitFor(/CLOSE host=/);
  const text = await fetchText(`${base}/metrics`);
  const served = [...text.matchAll(/^# TYPE (\S+) (\S+)\n(\S+?)(?:\{(.*?)\})? /gm)].map(
    ([, name, type, , labels]) => [
      name,
      type,
      (labels ?? "").split(",").filter(Boolean).map((pair: string) => pair.split("=")[0]).join(
        ", ",
      ),
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

Deno.test("the README stays an operator's page: at most 250 lines, the rest under docs/", () => {
  const lines = readme.trimEnd().split("\n").length;
  assert(lines <= 250, `README.md has ${lines} lines`);
  for (const [, page] of readme.matchAll(/`(docs\/[\w-]+\.md)`/g)) {
    assert(Deno.statSync(`${root}${page}`).isFile, `README names ${page}, which is missing`);
  }
});
