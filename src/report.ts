/**
 * `tarpyt report`: what a log says, at a glance. Reads TarPyt's own log lines, text or
 * JSON, as stderr wrote them or as `journalctl -o short-iso` prints them, from stdin (so
 * the binary needs no file permission), and sums them up: the busiest sources, the
 * attackers' time wasted, connections per protocol, and a chart of trapped clients over
 * time as SVG.
 *
 * Lines it does not recognise are counted and skipped.
 *
 * @module
 */
import { plainAddress } from "./address.ts";

/** One source address's share. */
export interface SourceTotals {
  connections: number;
  seconds: number;
}

/** What {@link summarizeLog} found. */
export interface LogReport {
  readonly sources: Map<string, SourceTotals>;
  readonly protocols: Map<string, number>;
  connections: number;
  seconds: number;
  bytes: number;
  skipped: number;
  /** Trapped clients over time: [epoch ms, clients held] after each ACCEPT or CLOSE. */
  readonly held: [number, number][];
}

interface Event {
  readonly name: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly time: number | undefined;
  /** The process that wrote it, where the line says (`tarpyt[123]`). */
  readonly process: string;
}

const isoTime = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\s/;
const processTag = /\s(\S+\[\d+\]):\s/;
const textEvent = /(?:^|\s)(ACCEPT|CLOSE|START|STATS|TOTALS|FULL|LISTEN)((?: [a-z-]+=\S*)*)/;

/** Reads one line into an event, or undefined. */
function parseLine(line: string): Event | undefined {
  const time = isoTime.exec(line)?.[1];
  const process = processTag.exec(line)?.[1] ?? "";
  const brace = line.indexOf("{");
  if (brace !== -1 && line.includes('"event":')) {
    try {
      const object = JSON.parse(line.slice(brace)) as Record<string, unknown>;
      const fields = Object.fromEntries(Object.entries(object).map(([k, v]) => [k, String(v)]));
      const when = Date.parse(fields.timestamp ?? time ?? "");
      return { name: fields.event, fields, time: Number.isNaN(when) ? undefined : when, process };
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
  const when = time === undefined ? NaN : Date.parse(time);
  return { name: match[1], fields, time: Number.isNaN(when) ? undefined : when, process };
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
  };
  const protocolOf = new Map<string, string>();
  let held = 0;
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const event = parseLine(line);
    if (event === undefined) {
      report.skipped++;
      continue;
    }
    const { name, fields, time, process } = event;
    if (name === "START") {
      protocolOf.set(process, fields.protocol ?? "unknown");
    } else if (name === "ACCEPT") {
      const source = sourceOf(report, plainAddress(fields.host ?? "unknown"));
      source.connections++;
      report.connections++;
      const protocol = protocolOf.get(process) ?? "unknown";
      report.protocols.set(protocol, (report.protocols.get(protocol) ?? 0) + 1);
      if (time !== undefined) report.held.push([time, ++held]);
    } else if (name === "CLOSE") {
      const seconds = Number(fields.time) || 0;
      sourceOf(report, plainAddress(fields.host ?? "unknown")).seconds += seconds;
      report.seconds += seconds;
      report.bytes += Number(fields.bytes) || 0;
      if (time !== undefined) report.held.push([time, held = Math.max(0, held - 1)]);
    }
  }
  return report;
}

function sourceOf(report: LogReport, address: string): SourceTotals {
  let totals = report.sources.get(address);
  if (totals === undefined) report.sources.set(address, totals = { connections: 0, seconds: 0 });
  return totals;
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
    `connections: ${report.connections} from ${report.sources.size} addresses`,
    `attackers' time wasted: ${humanDuration(report.seconds)} (${report.seconds.toFixed(0)} s)`,
    `bytes sent: ${report.bytes}`,
    "",
    "per protocol:",
    ...[...report.protocols].sort((a, b) => b[1] - a[1]).map(([p, n]) =>
      `  ${p.padEnd(14)} ${String(n).padStart(8)}`
    ),
    "",
    `top ${top} sources:`,
    `  ${"address".padEnd(39)} ${"connections".padStart(11)}   time trapped`,
    ...[...report.sources].sort((a, b) => b[1].connections - a[1].connections).slice(0, top)
      .map(([address, s]) =>
        `  ${address.padEnd(39)} ${String(s.connections).padStart(11)}   ${
          humanDuration(s.seconds)
        }`
      ),
  ];
  if (report.skipped > 0) lines.push("", `${report.skipped} lines were not TarPyt's and skipped`);
  return lines.join("\n") + "\n";
}

/** An SVG line chart of clients held over time, with its axes labelled. */
export function reportSvg(report: LogReport, width = 800, height = 300): string {
  const margin = { left: 60, right: 20, top: 30, bottom: 40 };
  const points = report.held;
  const t0 = points[0]?.[0] ?? 0;
  const t1 = Math.max(points.at(-1)?.[0] ?? 0, t0 + 1);
  const most = points.reduce((max, [, n]) => Math.max(max, n), 1);
  const x = (t: number): number =>
    margin.left + ((t - t0) / (t1 - t0)) * (width - margin.left - margin.right);
  const y = (n: number): number =>
    height - margin.bottom - (n / most) * (height - margin.top - margin.bottom);
  let path = "";
  let last = 0;
  for (const [t, n] of points) {
    path += `${x(t).toFixed(1)},${y(last).toFixed(1)} ${x(t).toFixed(1)},${y(n).toFixed(1)} `;
    last = n;
  }
  const label = (t: number): string => new Date(t).toISOString().slice(0, 16).replace("T", " ");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>TarPyt: trapped clients over time</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="18">clients trapped (most: ${most}); ` +
    `${report.connections} connections, ${humanDuration(report.seconds)} wasted</text>`,
    `<line x1="${margin.left}" y1="${y(0)}" x2="${width - margin.right}" y2="${
      y(0)
    }" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${y(0)}" x2="${margin.left}" y2="${y(most)}" stroke="black"/>`,
    `<text x="${margin.left - 8}" y="${y(most) + 4}" text-anchor="end">${most}</text>`,
    `<text x="${margin.left - 8}" y="${y(0) + 4}" text-anchor="end">0</text>`,
    `<text x="${margin.left}" y="${height - 12}">${label(t0)}</text>`,
    `<text x="${width - margin.right}" y="${height - 12}" text-anchor="end">${label(t1)}</text>`,
    `<polyline fill="none" stroke="#c0392b" stroke-width="1.5" points="${path.trim()}"/>`,
    `</svg>`,
  ].join("\n") + "\n";
}
