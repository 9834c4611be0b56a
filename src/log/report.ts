/**
 * `tarpyt report`: what a log says, at a glance. Reads TarPyt's own log lines, text or
 * JSON, as stderr wrote them or as `journalctl -o short-iso` prints them, from stdin (so
 * the binary needs no file permission), and sums them up: the busiest sources, the
 * attackers' time wasted, connections per protocol, sources and time per family of
 * clients, clusters of departures no family matched, and a chart of trapped clients over
 * time as SVG.
 *
 * Lines it does not recognise are counted and skipped. A log is input from outside, and
 * may be hostile: memory stays bounded whatever its size (lines past 64 KiB are skipped;
 * the sources, processes, protocols, families and clusters kept are capped, the busiest
 * kept, and so are the sources counted per family; the chart's points are merged two
 * into one as they pile up), values that are not plausible (negative, infinite, years
 * away) are skipped, and text from the log has its control characters escaped before it
 * reaches a terminal or the SVG.
 *
 * @module
 */
import type { EventName } from "./vocabulary.ts";
import { plainAddress } from "../text/address.ts";
import { escapeControl } from "../text/escape.ts";

/** Longer lines are no TarPyt line: they are skipped, unread. */
const longestLogLine = 64 * 1024;

/** Sources kept at once; when full, the busiest half stays. */
export const sourcesKept = 50_000;

/** Processes, protocol names and families kept; a log has few of each. */
const processesKept = 10_000, protocolsKept = 100, familiesKept = 100;

/** Machines kept: a fleet's. */
const hostsKept = 10_000;

/** Sources counted per family or cluster: past it, "more than". */
const sourcesCounted = 10_000;

/** Clusters of departures kept; when full, the biggest half stays. */
const clustersKept = 1_000;

/** Chart points kept: past twice this, neighbours are merged, keeping the higher count. */
export const chartPoints = 5_000;

/** Series (machine and protocol) drawn, and points kept of each, as {@link chartPoints}. */
const seriesKept = 48, seriesPoints = 1_000;

/** Bins of the histogram of time held: 0.1 s to 10^6 s, 4 a decade, the last open. */
export const histogramBins = 28;

/** The latest time a log line may carry: `Date` can show it, not a millisecond after. */
export const latestTime = 8.64e15;

/**
 * The longest a client can have been trapped, in seconds, when the log does not say when
 * its tarpit started: a year. When it does, no longer than the tarpit has run.
 */
const longestTrappedSeconds = 366 * 86_400;

/** One source address's share. */
export interface SourceTotals {
  /** Connections from it. */
  connections: number;
  /** Seconds its connections were held. */
  seconds: number;
}

/** What a family of clients, or a cluster of departures, adds up to. */
export interface GroupTotals {
  /** Distinct sources, counted up to {@link sourcesCounted}. */
  readonly sources: Set<string>;
  /** Connections closed. */
  connections: number;
  /** Seconds they were held. */
  seconds: number;
}

/** What {@link summarizeLog} found. */
export interface LogReport {
  /** Each source address's share; past a cap, only the busiest are kept. */
  readonly sources: Map<string, SourceTotals>;
  /** Connections per protocol; past a cap, new protocols count as `other`. */
  readonly protocols: Map<string, number>;
  /** Connections accepted (`ACCEPT` lines). */
  connections: number;
  /** Seconds attackers were held, in all. */
  seconds: number;
  /** Bytes sent, in all. */
  bytes: number;
  /** Lines that were not TarPyt's or not valid, and were left out. */
  skipped: number;
  /** Trapped clients over time: [epoch ms, clients held] after each ACCEPT or CLOSE. */
  readonly held: [number, number][];
  /**
   * The same per machine and protocol (keyed `machine protocol`, the machine empty where
   * the log does not say): [epoch ms, clients held] after each change; past a cap, new
   * pairs are drawn as `other` of their machine.
   */
  readonly series: Map<string, [number, number][]>;
  /**
   * Connections by time held, in {@link histogramBins} bins, 4 a decade from 0.1 s: in
   * all, and per family.
   */
  readonly heldFor: { readonly all: Uint32Array; readonly families: Map<string, Uint32Array> };
  /** Whether sources were dropped to stay within {@link sourcesKept}. */
  sourcesCapped: boolean;
  /** Per family `CLOSE` named; past a cap, new families count as `other`. */
  readonly families: Map<string, GroupTotals>;
  /**
   * Departures no family matched, that left on their own (`closed`, `reset`), by protocol
   * and time held to two significant digits (`ftp 7.0`): a limit of a program not yet
   * in the family table shows as one cluster.
   */
  readonly unknownClusters: Map<string, GroupTotals>;
  /**
   * Per machine, where the log says (`hostname` in JSON, the host column of `journalctl -o
   * short-iso`): a fleet's journals merged; past a cap, new machines count as `other`.
   */
  readonly hosts: Map<string, GroupTotals>;
}

interface Event {
  readonly name: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly time: number | undefined;
  /** The process that wrote it, where the line says (`tarpyt[123]`), and on which machine. */
  readonly process: string;
  /** The machine it came from, where the line says; else empty. */
  readonly machine: string;
}

const isoTime = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\s/;
const processTag = /\s(\S+\[\d+\]):\s/;
/** `journalctl -o short-iso`: the time, the machine, the process. */
const journalHead = /^\S+\s+(\S+)\s+\S+\[\d+\]:\s/;
/** The events a report reads. */
const readEvents = [
  "ACCEPT",
  "CLOSE",
  "START",
  "STATS",
  "TOTALS",
  "FULL",
  "LISTEN",
] as const satisfies readonly EventName[];
const textEvent = new RegExp(`(?:^|\\s)(${readEvents.join("|")})((?: [a-z-]+=\\S*)*)`);

/** Reads one line into an event, or undefined. */
function parseLine(line: string): Event | undefined {
  const time = isoTime.exec(line)?.[1];
  const tag = processTag.exec(line)?.[1] ?? "";
  const journalMachine = journalHead.exec(line)?.[1] ?? "";
  const brace = line.indexOf("{");
  if (brace !== -1 && line.includes('"event":')) {
    try {
      const object = JSON.parse(line.slice(brace)) as Record<string, unknown>;
      const fields = Object.fromEntries(Object.entries(object).map(([k, v]) => [k, String(v)]));
      const machine = fields.hostname ?? journalMachine;
      return {
        name: fields.event,
        fields,
        time: plausibleTime(fields.timestamp ?? time),
        process: `${machine} ${tag}`,
        machine,
      };
    } catch {
      return undefined;
    }
  }
  const match = textEvent.exec(line);
  if (!match) return undefined;
  const fields: Record<string, string> = {};
  for (const pair of match[2].trim().split(" ").filter(Boolean)) {
    const at = pair.indexOf("=");
    fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    name: match[1],
    fields,
    time: plausibleTime(time),
    process: `${journalMachine} ${tag}`,
    machine: journalMachine,
  };
}

/** A time `Date` can show, or undefined. */
function plausibleTime(text: string | undefined): number | undefined {
  const when = text === undefined ? NaN : Date.parse(text);
  return when >= 0 && when < latestTime ? when : undefined;
}

/** A count or a duration from a log: finite, not negative, below `most`; else undefined. */
function plausible(text: string | undefined, most: number): number | undefined {
  const value = Number(text);
  return value >= 0 && value <= most ? value : undefined;
}

/**
 * Sums up log lines.
 *
 * @example
 * ```ts
 * import { summarizeLog } from "./report.ts";
 * const report = await summarizeLog([
 *   "2026-11-24T16:25:29.394Z START version=0.1.0 protocol=ssh delay=10s",
 *   "2026-11-24T16:25:30.000Z ACCEPT host=203.0.113.7 port=54208 fd=1 n=1/4096",
 *   "2026-11-24T16:43:10.390Z CLOSE host=203.0.113.7 port=54208 fd=1 time=1060.390 bytes=4402",
 * ]);
 * report.seconds; // 1060.39
 * ```
 */
export async function summarizeLog(
  lines: Iterable<string> | AsyncIterable<string>,
): Promise<LogReport> {
  const report: LogReport = {
    sources: new Map(),
    protocols: new Map(),
    connections: 0,
    seconds: 0,
    bytes: 0,
    skipped: 0,
    held: [],
    series: new Map(),
    heldFor: { all: new Uint32Array(histogramBins), families: new Map() },
    sourcesCapped: false,
    families: new Map(),
    unknownClusters: new Map(),
    hosts: new Map(),
  };
  /** Per process: its machine and protocol, when it started, how many it holds now. */
  const processes = new Map<string, ProcessState>();
  const processOf = (name: string, machine: string) => {
    let known = processes.get(name);
    if (known === undefined) {
      if (processes.size >= processesKept) processes.clear();
      processes.set(name, known = { machine, protocol: "unknown", held: 0 });
    }
    return known;
  };
  /** Which process serves each socket: a new one there means the old one is gone. */
  const servedBy = new Map<string, string>();
  /** Clients held now, in all and per series. */
  let held = 0;
  const seriesHeld = new Map<string, number>();
  /** `process` holds `change` more clients (or fewer) from `time`. */
  const hold = (process: ProcessState, change: number, time: number | undefined): void => {
    process.held += change;
    held += change;
    const key = seriesKeyOf(report.series, process);
    const now = (seriesHeld.get(key) ?? 0) + change;
    seriesHeld.set(key, now);
    if (time === undefined) return;
    report.held.push([time, held]);
    if (report.held.length > 2 * chartPoints) mergeNeighbours(report.held);
    let points = report.series.get(key);
    if (points === undefined) report.series.set(key, points = []);
    points.push([time, now]);
    if (points.length > 2 * seriesPoints) mergeNeighbours(points);
  };
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const event = line.length > longestLogLine ? undefined : parseLine(line);
    if (event === undefined) {
      report.skipped++;
      continue;
    }
    const { name, fields, time, process, machine } = event;
    const writer = processOf(process, machine);
    if (name === "LISTEN") {
      // A process serving a socket another one served: that one has stopped, killed or
      // not, and holds nobody any more.
      const socket = fields.name ?? fields.address ?? "";
      const before = servedBy.get(socket);
      if (before !== undefined && before !== process) {
        const gone = processOf(before, machine);
        hold(gone, -gone.held, time);
      }
      if (servedBy.size >= processesKept) servedBy.clear();
      servedBy.set(socket, process);
    } else if (name === "START") {
      hold(writer, -writer.held, time);
      writer.protocol = fields.protocol ?? "unknown";
      writer.startedAt = time;
    } else if (name === "ACCEPT") {
      sourceOf(report, plainAddress(fields.host ?? "unknown")).connections++;
      report.connections++;
      let protocol = writer.protocol;
      if (!report.protocols.has(protocol) && report.protocols.size >= protocolsKept) {
        protocol = "other";
      }
      report.protocols.set(protocol, (report.protocols.get(protocol) ?? 0) + 1);
      hold(writer, 1, time);
    } else if (name === "CLOSE") {
      const ranFor = writer.startedAt !== undefined && time !== undefined
        ? (time - writer.startedAt) / 1000 + 1
        : longestTrappedSeconds;
      const seconds = plausible(fields.time, Math.min(ranFor, longestTrappedSeconds));
      const bytes = plausible(fields.bytes, Number.MAX_SAFE_INTEGER);
      if (seconds === undefined || bytes === undefined) {
        report.skipped++;
        continue;
      }
      const address = plainAddress(fields.host ?? "unknown");
      sourceOf(report, address).seconds += seconds;
      report.seconds += seconds;
      const family = fields.family ?? "unknown";
      const named = report.families.has(family) || report.families.size < familiesKept
        ? family
        : "other";
      addTo(groupOf(report.families, named), address, seconds);
      const bin = histogramBin(seconds);
      report.heldFor.all[bin]++;
      let perFamily = report.heldFor.families.get(named);
      if (perFamily === undefined) {
        report.heldFor.families.set(named, perFamily = new Uint32Array(histogramBins));
      }
      perFamily[bin]++;
      if (machine !== "") {
        const host = report.hosts.has(machine) || report.hosts.size < hostsKept ? machine : "other";
        addTo(groupOf(report.hosts, host), address, seconds);
      }
      if (family === "unknown" && (fields.left === "closed" || fields.left === "reset")) {
        const cluster = `${writer.protocol} ${twoDigits(seconds)}`;
        if (!report.unknownClusters.has(cluster) && report.unknownClusters.size >= clustersKept) {
          keepBiggestHalf(report.unknownClusters);
        }
        addTo(groupOf(report.unknownClusters, cluster), address, seconds);
      }
      report.bytes += bytes;
      if (writer.held > 0) hold(writer, -1, time);
    }
  }
  return report;
}

/** What the report knows of a process that writes the log. */
interface ProcessState {
  readonly machine: string;
  protocol: string;
  startedAt?: number;
  held: number;
}

/** The series a process's clients are drawn in: its machine's protocol, or `other`. */
function seriesKeyOf(series: Map<string, unknown>, process: ProcessState): string {
  const key = `${process.machine} ${process.protocol}`;
  return series.has(key) || series.size < seriesKept ? key : `${process.machine} other`;
}

/** The {@link LogReport.heldFor} bin of `seconds`: 4 a decade from 0.1 s, the last open. */
export function histogramBin(seconds: number): number {
  const bin = Math.floor((Math.log10(Math.max(seconds, 0.1)) + 1) * 4);
  return Math.min(bin, histogramBins - 1);
}

function sourceOf(report: LogReport, address: string): SourceTotals {
  let totals = report.sources.get(address);
  if (totals !== undefined) return totals;
  if (report.sources.size >= sourcesKept) {
    // A flood of one-time addresses must not grow memory: keep the busiest half.
    const kept = [...report.sources].sort((a, b) => b[1].connections - a[1].connections)
      .slice(0, sourcesKept / 2);
    report.sources.clear();
    for (const [busy, busyTotals] of kept) report.sources.set(busy, busyTotals);
    report.sourcesCapped = true;
  }
  report.sources.set(address, totals = { connections: 0, seconds: 0 });
  return totals;
}

function groupOf(groups: Map<string, GroupTotals>, key: string): GroupTotals {
  let group = groups.get(key);
  if (group === undefined) {
    groups.set(key, group = { sources: new Set(), connections: 0, seconds: 0 });
  }
  return group;
}

function addTo(group: GroupTotals, address: string, seconds: number): void {
  group.connections++;
  group.seconds += seconds;
  if (group.sources.size < sourcesCounted) group.sources.add(address);
}

function keepBiggestHalf(groups: Map<string, GroupTotals>): void {
  const kept = [...groups].sort((a, b) => b[1].connections - a[1].connections)
    .slice(0, groups.size / 2);
  groups.clear();
  for (const [key, group] of kept) groups.set(key, group);
}

/** `7.0`, `33`, `120`: a time to two significant digits, as a cluster's name. */
function twoDigits(seconds: number): string {
  return seconds < 10 ? seconds.toFixed(1) : String(Number(seconds.toPrecision(2)));
}

/** Halves the chart's points: each pair becomes its first time and its higher count. */
function mergeNeighbours(points: [number, number][]): void {
  let kept = 0;
  for (let i = 0; i < points.length; i += 2) {
    const [time, clients] = points[i];
    points[kept++] = [time, Math.max(clients, points[i + 1]?.[1] ?? 0)];
  }
  points.length = kept;
}

/**
 * The lines of a stream of text, each at most {@link longestLogLine} characters: a longer
 * one is yielded as an empty line's worth of nothing, its pieces dropped as they come,
 * so a line without end costs neither memory nor time.
 *
 * @example
 * ```ts ignore
 * for await (const line of logLines(Deno.stdin.readable)) console.log(line);
 * ```
 */
export async function* logLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let parts: string[] = [];
  let length = 0;
  let tooLong = false;
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    let start = 0;
    for (let end = chunk.indexOf("\n"); end !== -1; end = chunk.indexOf("\n", start)) {
      const piece = chunk.slice(start, end);
      if (tooLong || length + piece.length > longestLogLine) yield "\u0000";
      else yield parts.length ? parts.join("") + piece : piece;
      parts = [];
      length = 0;
      tooLong = false;
      start = end + 1;
    }
    const rest = chunk.slice(start);
    if (tooLong || length + rest.length > longestLogLine) {
      tooLong = true;
      parts = [];
      length = 0;
    } else if (rest) {
      parts.push(rest);
      length += rest.length;
    }
  }
  if (tooLong) yield "\u0000";
  else if (length > 0) yield parts.join("");
}

/** `3d 4h`, `2h 5m`, `42s`: a duration a person reads at once. */
export function humanDuration(seconds: number): string {
  const units: [string, number][] = [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]];
  const parts: string[] = [];
  let left = Math.round(seconds);
  for (const [unit, size] of units) {
    if (left >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(left / size)}${unit}`);
      left %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/**
 * The summary a person reads: totals, connections per protocol, the busiest sources.
 *
 * @param top how many sources to list
 */
export function reportText(report: LogReport, top = 10): string {
  const lines = [
    `connections: ${report.connections} from ${report.sourcesCapped ? "more than " : ""}${
      report.sourcesCapped
        ? sourcesKept
        : [...report.sources.values()].filter((s) => s.connections > 0).length
    } addresses`,
    `attackers' time wasted: ${humanDuration(report.seconds)} (${report.seconds.toFixed(0)} s)`,
    `bytes sent: ${report.bytes}`,
    "",
    "per protocol:",
    ...[...report.protocols].sort((a, b) => b[1] - a[1]).map(([p, n]) =>
      `  ${escapeControl(p).padEnd(14)} ${String(n).padStart(8)}`
    ),
    "",
    `top ${top} sources:`,
    `  ${"address".padEnd(39)} ${"connections".padStart(11)}   time trapped`,
    ...[...report.sources].sort((a, b) => b[1].connections - a[1].connections).slice(0, top)
      .map(([address, s]) =>
        `  ${escapeControl(address).padEnd(39)} ${String(s.connections).padStart(11)}   ${
          humanDuration(s.seconds)
        }`
      ),
  ];
  const sources = (group: GroupTotals): string =>
    `${group.sources.size >= sourcesCounted ? ">" : ""}${group.sources.size}`;
  lines.push(
    "",
    "per family:",
    `  ${"family".padEnd(20)} ${"sources".padStart(8)} ${
      "connections".padStart(11)
    }   time trapped`,
    ...[...report.families].sort((a, b) => b[1].seconds - a[1].seconds).map(([family, g]) =>
      `  ${escapeControl(family).padEnd(20)} ${sources(g).padStart(8)} ${
        String(g.connections).padStart(11)
      }   ${humanDuration(g.seconds)}`
    ),
  );
  if (report.hosts.size > 1) {
    lines.push(
      "",
      "per host:",
      `  ${"host".padEnd(32)} ${"sources".padStart(8)} ${
        "connections".padStart(11)
      }   time trapped`,
      ...[...report.hosts].sort((a, b) => b[1].seconds - a[1].seconds).slice(0, top).map((
        [host, g],
      ) =>
        `  ${escapeControl(host).padEnd(32)} ${sources(g).padStart(8)} ${
          String(g.connections).padStart(11)
        }   ${humanDuration(g.seconds)}`
      ),
    );
  }
  const clusters = [...report.unknownClusters].filter(([, g]) => g.connections >= 3)
    .sort((a, b) => b[1].connections - a[1].connections).slice(0, top);
  if (clusters.length > 0) {
    lines.push(
      "",
      "departures no family matched, by protocol and seconds held (3 or more):",
      ...clusters.map(([cluster, g]) =>
        `  ${escapeControl(cluster).padEnd(24)} ${String(g.connections).padStart(8)} from ${
          sources(g)
        } sources`
      ),
    );
  }
  if (report.skipped > 0) lines.push("", `${report.skipped} lines were not TarPyt's and skipped`);
  return lines.join("\n") + "\n";
}
