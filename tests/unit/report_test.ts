/**
 * `tarpyt report`'s reading of logs, line by line: what is counted, what is refused as
 * implausible, and what stays bounded. The system test (tests/system/report_test.ts) runs
 * the real command on real logs.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { reportText, sourcesKept, summarizeLog } from "../../src/log/report.ts";

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, seconds)).toISOString();
const accept = (seconds: number, host: string, tag = "") =>
  `${at(seconds)}${tag} ACCEPT host=${host} port=1 fd=1 n=1/4096`;
const close = (seconds: number, host: string, time: number, tag = "") =>
  `${at(seconds)}${tag} CLOSE host=${host} port=1 fd=1 time=${time.toFixed(3)} bytes=10`;
const start = (seconds: number, protocol: string, tag = "") =>
  `${at(seconds)}${tag} START version=0.1.0 protocol=${protocol}`;
const listen = (seconds: number, socket: string, tag = "") =>
  `${at(seconds)}${tag} LISTEN fd=3 name=${socket} address=[::]:22`;

Deno.test("an IPv4 peer of a dual-stack socket is one address with its plain form", async () => {
  const report = await summarizeLog([
    accept(0, "::ffff:203.0.113.7"),
    accept(1, "203.0.113.7"),
    close(2, "::ffff:203.0.113.7", 2),
  ]);
  assertEquals([...report.sources.keys()], ["203.0.113.7"]);
  assertEquals(report.sources.get("203.0.113.7"), { connections: 2, seconds: 2 });
});

Deno.test("a source seen only in a CLOSE adds its time but is no address that connected", async () => {
  const report = await summarizeLog([start(0, "ssh"), close(5, "198.51.100.9", 4)]);
  assertMatch(reportText(report), /^connections: 0 from 0 addresses\n/);
  assertEquals(report.seconds, 4);
});

Deno.test("a CLOSE longer than its tarpit has run, or than a year, is implausible and skipped", async () => {
  const report = await summarizeLog([
    start(0, "ssh"),
    close(100, "198.51.100.1", 99), // plausible: it ran 100 s
    close(100, "198.51.100.2", 3_153_600_000), // a hundred years
    close(100, "198.51.100.3", 5_000), // longer than the tarpit ran
  ]);
  assertEquals([report.seconds, report.skipped], [99, 2]);
  const noStart = await summarizeLog([close(100, "198.51.100.4", 367 * 86_400)]);
  assertEquals([noStart.seconds, noStart.skipped], [0, 1]);
});

Deno.test("a START resets its process's held count, and so does a new process on the same socket", async () => {
  const killed = await summarizeLog([
    start(0, "ssh"),
    accept(1, "192.0.2.1"),
    accept(2, "192.0.2.2"),
    // killed: no CLOSE lines; the next run starts
    start(10, "ssh"),
    accept(11, "192.0.2.3"),
  ]);
  assertEquals(killed.held.at(-1)?.[1], 1);
  const journal = await summarizeLog([
    listen(0, "tarpyt-ssh@22.socket", " vm tarpyt[101]:"),
    start(0, "ssh", " vm tarpyt[101]:"),
    accept(1, "192.0.2.1", " vm tarpyt[101]:"),
    listen(3, "tarpyt-http@80.socket", " vm tarpyt[303]:"),
    accept(4, "192.0.2.9", " vm tarpyt[303]:"),
    // 101 was killed; 202 serves its socket now
    listen(10, "tarpyt-ssh@22.socket", " vm tarpyt[202]:"),
    start(10, "ssh", " vm tarpyt[202]:"),
    accept(11, "192.0.2.3", " vm tarpyt[202]:"),
  ]);
  assertEquals(journal.held.at(-1)?.[1], 2, "202's client and 303's");
});

Deno.test("protocol names from a log are escaped, and capped", async () => {
  const lines = [start(0, "ssh\x1b[2J"), accept(0, "192.0.2.1")];
  for (let i = 0; i < 300; i++) {
    lines.push(`${at(1)} vm tarpyt[${i}]: START version=0.1.0 protocol=p${i}`);
    lines.push(`${at(2)} vm tarpyt[${i}]: ACCEPT host=192.0.2.1 port=1 fd=1 n=1/4096`);
  }
  const report = await summarizeLog(lines);
  assert(report.protocols.size <= 101, `${report.protocols.size} protocols kept`);
  assertEquals(report.protocols.get("other"), 201);
  const text = reportText(report);
  assert(!text.includes("\x1b"), "no escape reaches the terminal");
  assertMatch(text, /ssh\\x1b\[2J/);
});

Deno.test("sources are capped: a flood of one-time addresses keeps the busiest", async () => {
  const lines = [];
  for (let i = 0; i < 3 * sourcesKept; i++) {
    lines.push(accept(1, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));
  }
  for (let i = 0; i < 50; i++) lines.push(accept(2, "203.0.113.7"));
  const report = await summarizeLog(lines);
  assert(report.sources.size <= sourcesKept, `${report.sources.size} sources kept`);
  assertEquals(report.sources.get("203.0.113.7")?.connections, 50);
  assert(report.sourcesCapped);
});
