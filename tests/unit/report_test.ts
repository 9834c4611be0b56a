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

Deno.test("families: sources and time each; departures no family matched, clustered by protocol and time held", async () => {
  const named = (seconds: number, host: string, time: number, family: string, left = "closed") =>
    `${close(seconds, host, time)} left=${left} family=${family}`;
  const report = await summarizeLog([
    start(0, "ftp"),
    named(30, "192.0.2.1", 20.1, "read-timeout-20s"),
    named(50, "192.0.2.1", 20.0, "read-timeout-20s"),
    named(50, "192.0.2.2", 19.8, "read-timeout-20s"),
    named(60, "192.0.2.3", 7.04, "unknown"),
    named(61, "192.0.2.4", 6.98, "unknown"),
    named(62, "192.0.2.4", 7.01, "unknown"),
    named(63, "192.0.2.5", 7.0, "unknown", "shutdown"), // the tarpit closed it: no limit
    named(64, "192.0.2.6", 33.4, "unknown"),
  ]);
  const waited = report.families.get("read-timeout-20s")!;
  assertEquals([waited.sources.size, waited.connections, Math.round(waited.seconds)], [2, 3, 60]);
  assertEquals(report.families.get("unknown")?.connections, 5);
  assertEquals(
    [...report.unknownClusters].map(([key, g]) => [key, g.connections, g.sources.size]),
    [["ftp 7.0", 3, 2], ["ftp 33", 1, 1]],
  );
  const text = reportText(report);
  assertMatch(
    text,
    /per family:\n.*\n {2}unknown\s+4\s+5\s+1m 1s\n {2}read-timeout-20s\s+2\s+3\s+1m\n/,
  );
  assertMatch(text, /no family matched.*\n {2}ftp 7\.0\s+3 from 2 sources\n$/);
  assert(!text.includes("ftp 33"), "a cluster of one is no pattern");
});

Deno.test("families and clusters from a hostile log are capped and escaped", async () => {
  const lines = [start(0, "ftp")];
  for (let i = 0; i < 5_000; i++) {
    lines.push(
      `${close(1, `10.0.${i >> 8}.${i & 255}`, 1 + i / 100)} left=closed family=f${i}\x1b`,
    );
    lines.push(`${close(1, `10.1.${i >> 8}.${i & 255}`, 1 + i)} left=reset family=unknown`);
  }
  const report = await summarizeLog(lines);
  assert(report.families.size <= 101, `${report.families.size} families`);
  assert(report.unknownClusters.size <= 1_000, `${report.unknownClusters.size} clusters`);
  assert(!reportText(report).includes("\x1b"));
});

Deno.test("a fleet's merged journals: time and sources per host, from journalctl's host column or JSON's hostname", async () => {
  const journal = (host: string, pid: number, text: string, second = 20) =>
    `2026-11-24T12:00:${second}+0000 ${host} tarpyt[${pid}]: ${text}`;
  const report = await summarizeLog([
    journal("alpha", 10, "START version=0.1.0 protocol=ssh", 10),
    journal("beta", 10, "START version=0.1.0 protocol=smtp", 15),
    // 8 s: alpha's tarpit has run 10 s; beta's, of the same pid, 5 s.
    journal(
      "alpha",
      10,
      "CLOSE host=192.0.2.1 port=1 fd=1 time=8.000 bytes=1 left=closed family=unknown",
    ),
    journal(
      "beta",
      10,
      "CLOSE host=192.0.2.2 port=1 fd=1 time=4.000 bytes=1 left=closed family=unknown",
    ),
    journal(
      "beta",
      10,
      "CLOSE host=192.0.2.3 port=1 fd=2 time=1.000 bytes=1 left=closed family=unknown",
    ),
    '{"timestamp":"2026-11-24T12:00:06.000Z","hostname":"gamma","level":"info","event":"CLOSE",' +
    '"host":"192.0.2.4","port":1,"fd":1,"time":2,"bytes":1}',
  ]);
  assertEquals(
    [...report.hosts].map(([host, g]) => [host, g.connections, g.seconds, g.sources.size]),
    [["alpha", 1, 8, 1], ["beta", 2, 5, 2], ["gamma", 1, 2, 1]],
  );
  assertMatch(
    reportText(report),
    /per host:\n.*\n {2}alpha\s+1\s+1\s+8s\n {2}beta\s+2\s+2\s+5s\n {2}gamma/,
  );
});
