/**
 * `tarpyt report` on real logs: what a person reads, and the SVG chart.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { programEnv, run } from "../support/process.ts";
import { peerArgv, tarpytArgv, trappedLog } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";
import { chartPoints, humanDuration, summarizeLog } from "../../src/log/report.ts";

/**
 * Runs `tarpyt report ARGS` with `input` on stdin; with `heapMiB`, under a V8 heap of that
 * size, which a report that keeps more than it should cannot live in.
 */
async function report(input: string, args: string[] = [], heapMiB?: number): Promise<string> {
  const env = heapMiB === undefined
    ? programEnv
    : { ...programEnv, DENO_V8_FLAGS: `--max-old-space-size=${heapMiB}` };
  const { code, stdout, stderr } = await run(tarpytArgv(["report", ...args]), input, env);
  assertEquals(code, 0, stderr.slice(0, 2_000));
  return stdout;
}

Deno.test("report reads a real text log: sources, time wasted, protocol counts", async () => {
  const log = await trappedLog("text");
  const seconds = [...log.matchAll(/CLOSE .* time=(\d+\.\d+)/g)].reduce(
    (s, m) => s + Number(m[1]),
    0,
  );
  const text = await report(log);
  assertMatch(text, /^connections: 3 from 2 addresses\n/);
  assertMatch(text, new RegExp(`attackers' time wasted: \\S+ \\(${seconds.toFixed(0)} s\\)`));
  assertMatch(text, /per protocol:\n {2}ssh +3\n/);
  assertMatch(text, /top 10 sources:\n.*\n {2}127\.0\.0\.1 +2 +\d+s\n {2}::1 +1 +\d+s\n/);
});

Deno.test("report reads JSON logs as journalctl -o short-iso prints them, per process and protocol", async () => {
  const json = (await trappedLog("json")).split("\n").filter((l) => l.startsWith("{"));
  // Two processes, as in the journal: the real JSON log, and one smtp tarpit beside it.
  const journal = [
    ...json.map((line) => `2026-11-24T16:25:30+0000 vm tarpyt[101]: ${line}`),
    "2026-11-24T16:25:29+0000 vm tarpyt[202]: START version=0.1.0 protocol=smtp delay=10s",
    "2026-11-24T16:25:31+0000 vm tarpyt[202]: ACCEPT host=203.0.113.7 port=1 fd=1 n=1/4096",
    "2026-11-24T16:25:31+0000 vm sshd[7]: Invalid user admin from 203.0.113.7",
  ];
  const summary = await summarizeLog(journal);
  assertEquals([...summary.protocols].sort(), [["smtp", 1], ["ssh", 3]]);
  assertEquals(summary.connections, 4);
  assertEquals(summary.sources.get("127.0.0.1")?.connections, 2);
  assertEquals(summary.skipped, 1);
  assertMatch(await report(journal.join("\n")), /1 lines were not TarPyt's and skipped/);
});

Deno.test("report --svg draws trapped clients over time as well-formed SVG", async () => {
  const svg = await report(await trappedLog("text"), ["--svg"]);
  const { code, stdout } = await run([
    "python3",
    "-c",
    "import sys, xml.etree.ElementTree as E; print(E.parse(sys.stdin).getroot().tag)",
  ], svg);
  assertEquals([code, stdout.trim()], [0, "{http://www.w3.org/2000/svg}svg"]);
  const areas = [...svg.matchAll(/<polygon [^>]*points="([^"]+)"/g)];
  assertEquals(areas.length, 1, "one protocol, one area");
  const points = areas[0][1].split(" ");
  assert(points.every((p) => /^\d+\.\d,\d+\.\d$/.test(p)), svg);
  assertMatch(svg, /clients trapped \(most: [1-3]\); 3 connections/);
  assertMatch(svg, />ssh<\/text>/, "a legend");
  assertMatch(svg, /connections by time held/, "the histogram");
});

Deno.test(needing(["rsvg-convert", "python3"], {
  name:
    "report --svg of a fleet renders: a panel per host, protocols stacked in their colours, a histogram",
  fn: async () => {
    const line = (host: string, pid: number, second: number, text: string) =>
      `2026-11-24T12:${String(Math.floor(second / 60)).padStart(2, "0")}:${
        String(second % 60).padStart(2, "0")
      }+0000 ${host} tarpyt[${pid}]: ${text}`;
    const log: string[] = [];
    for (
      const [host, pid, protocol, clients] of [
        ["alpha", 1, "ssh", 30],
        ["alpha", 2, "smtp", 10],
        ["beta", 1, "http", 20],
      ] as const
    ) {
      log.push(line(host, pid, 0, `START version=0.1.0 protocol=${protocol}`));
      for (let i = 0; i < clients; i++) {
        log.push(line(host, pid, 1 + i, `ACCEPT host=192.0.2.${i} port=1 fd=${i} n=1/9`));
      }
      for (let i = 0; i < clients; i++) {
        log.push(line(
          host,
          pid,
          600 + i,
          `CLOSE host=192.0.2.${i} port=1 fd=${i} time=${
            599 - i
          }.000 bytes=9 left=closed family=read-timeout-20s`,
        ));
      }
    }
    const svg = await report(log.join("\n"), ["--svg"]);
    const dir = await Deno.makeTempDir({ prefix: "tarpyt-svg-" });
    try {
      await Deno.writeTextFile(`${dir}/report.svg`, svg);
      const rendered = await run(["rsvg-convert", "-o", `${dir}/report.png`, `${dir}/report.svg`]);
      assertEquals(rendered.code, 0, rendered.stderr);
      const colors: Record<string, number> = JSON.parse(
        (await run(peerArgv("pngcolors", `${dir}/report.png`))).stdout,
      );
      const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      /** Pixels within 4 of `target` on each channel: renderers round differently. */
      const pixels = (target: number[]) =>
        Object.entries(colors).filter(([hex]) =>
          rgb(hex).every((c, i) => Math.abs(c - target[i]) <= 4)
        ).reduce((sum, [, n]) => sum + n, 0);
      // Each protocol's area in its own colour, at 85% over white; and the bars.
      const blend = (hex: string) => rgb(hex).map((c) => c * 0.85 + 255 * 0.15);
      const areas = ["#c0392b", "#2980b9", "#27ae60"].map((hex) => pixels(blend(hex)));
      assert(areas.every((n) => n > 1_000), `areas: ${JSON.stringify(areas)}`);
      assert(pixels(rgb("#34495e")) > 500, "the histogram's bars");
      assert(pixels(rgb("#000000")) > 1_000, "axes and text");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    assertEquals([...svg.matchAll(/font-weight="bold">(\w+): clients trapped/g)].map((m) => m[1]), [
      "alpha",
      "beta",
    ]);
    assertMatch(svg, />read-timeout-20s<\/text>/, "the cluster's family marks its bar");
  },
}));

Deno.test("durations read at a glance", () => {
  assertEquals([0, 42, 125, 7_500, 200_000].map(humanDuration), [
    "0s",
    "42s",
    "2m 5s",
    "2h 5m",
    "2d 7h",
  ]);
});

/** The heap a report of any log fits in: its bounds keep it there. */
const heapMiB = 48;

Deno.test("report --svg of a log at the last time a Date can show draws it, exit 0", async () => {
  const line = JSON.stringify({
    timestamp: "+275760-09-13T00:00:00.000Z",
    level: "info",
    event: "ACCEPT",
    host: "192.0.2.1",
    port: 1,
    fd: 1,
    n: "1/1",
  });
  assertMatch(await report(`${line}\n`, ["--svg"]), /^<svg /);
});

Deno.test("report survives a hostile log: endless lines, impossible values, escapes, disorder, floods", async () => {
  const accept = (time: string, host: string) => `${time} ACCEPT host=${host} port=1 fd=1 n=1/4096`;
  const close = (time: string, host: string, seconds: string, bytes = "10") =>
    `${time} CLOSE host=${host} port=1 fd=1 time=${seconds} bytes=${bytes}`;
  // A million addresses: kept whole, they would need far more than the heap allowed below.
  const flood = Array.from(
    { length: 1_000_000 },
    (_, i) => accept("2026-11-24T10:00:00.000Z", `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`),
  );
  const log = [
    // A line without end, as far as anyone waits: kept whole, more than the heap allowed.
    "x".repeat(64 * 1024 * 1024),
    accept("2026-11-24T12:00:00.000Z", "203.0.113.7\x1b[2J"),
    close("2026-11-24T12:00:10.000Z", "203.0.113.7", "Infinity"),
    close("2026-11-24T12:00:10.000Z", "203.0.113.7", "-5"),
    close("2026-11-24T12:00:10.000Z", "203.0.113.7", "5", "-1"),
    accept("+275760-09-13T00:00:00.000Z", "198.51.100.1"),
    close("2026-11-24T11:00:00.000Z", "198.51.100.1", "2"), // earlier than the line before
    ...flood,
  ].join("\n");
  const started = performance.now();
  const text = await report(log, [], heapMiB);
  const seconds = (performance.now() - started) / 1000;
  // About 20 s alone and 70 s beside the rest of the suite on two cores; a pass quadratic in
  // the lines or the addresses would take hours, so a wide bound still catches one.
  assert(seconds < 300, `${seconds} s`);
  assertMatch(text, /^connections: 1000002 from more than 50000 addresses\n/);
  assertMatch(text, /attackers' time wasted: 2s \(2 s\)/);
  assertMatch(text, /203\.0\.113\.7\\x1b\[2J/);
  assert(!text.includes("\x1b"), "no escape reaches the terminal");
  assertMatch(text, /4 lines were not TarPyt's and skipped/);
  const svg = await report(log, ["--svg"], heapMiB);
  const xs = [...svg.matchAll(/(\d+\.\d),\d+\.\d/g)].map((m) => Number(m[1]));
  assert(xs.length > 0 && xs.every((x) => x >= 60 && x <= 660), "every point on the chart");
  assert(xs.length <= 4 * chartPoints + 4, `${xs.length} points: merged as they piled up`);
});
