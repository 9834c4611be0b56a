/**
 * `tarpyt report --svg`: a log summed up as a picture. One panel per machine (one in all
 * when the log names none) draws the clients held over time, stacked by protocol, with
 * time and count axes and a legend; a last panel draws how long connections were held,
 * on a log scale, each bar marked with the family most of its departures had, so the
 * clusters a tool's own limit makes stand out.
 *
 * Everything drawn is bounded by what the report keeps (src/log/report.ts), and all text
 * from the log is escaped for XML.
 *
 * @module
 */
import { histogramBins, humanDuration, latestTime, type LogReport } from "./report.ts";
import { escapeControl } from "../text/escape.ts";

const width = 800;
const margin = { left: 60, right: 140, top: 34, bottom: 34 };
const panelHeight = 220;
/** Panels drawn at most: a fleet's busiest machines; the rest are summed in the text report. */
const panelsDrawn = 12;
/** Samples across a panel: a step series is read at each. */
const samples = 200;
/** Colors of the protocols, in order of their share: distinct, and readable on white. */
const palette = [
  "#c0392b",
  "#2980b9",
  "#27ae60",
  "#8e44ad",
  "#d35400",
  "#16a085",
  "#7f8c8d",
  "#f1c40f",
  "#2c3e50",
  "#e84393",
  "#6ab04c",
  "#0abde3",
];
const histogramColor = "#34495e";

/**
 * The report as an SVG picture.
 *
 * @example
 * ```ts
 * import { summarizeLog } from "./report.ts";
 * import { reportSvg } from "./report_svg.ts";
 * const svg = reportSvg(await summarizeLog(["2026-11-24T16:25:30.000Z ACCEPT host=192.0.2.1 port=1 fd=1 n=1/9"]));
 * svg.startsWith("<svg"); // true
 * ```
 */
export function reportSvg(report: LogReport): string {
  const machines = machinesOf(report).slice(0, panelsDrawn);
  const protocols = protocolsOf(report);
  const color = (protocol: string) => palette[protocols.indexOf(protocol) % palette.length];
  const times = [...report.series.values()].flatMap((points) => points.map(([t]) => t));
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = Math.max(times.length ? Math.max(...times) : 0, t0 + 1);
  const height = (machines.length + 1) * panelHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>TarPyt: trapped clients over time</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  machines.forEach((machine, i) => {
    parts.push(heldPanel(report, machine, i * panelHeight, [t0, t1], protocols, color));
  });
  parts.push(histogramPanel(report, machines.length * panelHeight));
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** The machines of the report's series, the busiest first. */
function machinesOf(report: LogReport): string[] {
  const peak = new Map<string, number>();
  for (const [key, points] of report.series) {
    const machine = key.slice(0, key.lastIndexOf(" "));
    const most = points.reduce((max, [, n]) => Math.max(max, n), 0);
    peak.set(machine, Math.max(peak.get(machine) ?? 0, most));
  }
  const machines = [...peak].sort((a, b) => b[1] - a[1]).map(([machine]) => machine);
  return machines.length ? machines : [""];
}

/** The protocols of the report's series, the most connected first. */
function protocolsOf(report: LogReport): string[] {
  const names = new Set(
    [...report.series.keys()].map((key) => key.slice(key.lastIndexOf(" ") + 1)),
  );
  return [...names].sort((a, b) =>
    (report.protocols.get(b) ?? 0) - (report.protocols.get(a) ?? 0) || a.localeCompare(b)
  );
}

/** The clients held at `time` by a step series: the last point at or before it. */
function valueAt(points: readonly [number, number][], time: number): number {
  let value = 0;
  for (const [t, n] of points) {
    if (t > time) break;
    value = n;
  }
  return value;
}

/** A panel of clients held on `machine` over [t0, t1], stacked by protocol. */
function heldPanel(
  report: LogReport,
  machine: string,
  top: number,
  [t0, t1]: [number, number],
  protocols: readonly string[],
  color: (protocol: string) => string,
): string {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = panelHeight - margin.top - margin.bottom;
  const times = Array.from({ length: samples + 1 }, (_, i) => t0 + (t1 - t0) * i / samples);
  const stacks = protocols.map((protocol) => {
    const points = [...(report.series.get(`${machine} ${protocol}`) ?? [])]
      .sort((a, b) => a[0] - b[0]);
    return { protocol, values: times.map((t) => valueAt(points, t)) };
  }).filter(({ values }) => values.some((n) => n > 0));
  const totals = times.map((_, i) => stacks.reduce((sum, { values }) => sum + values[i], 0));
  const most = niceCeiling(Math.max(1, ...totals));
  const x = (i: number) => margin.left + plotWidth * i / samples;
  const y = (n: number) => top + margin.top + plotHeight * (1 - n / most);
  const parts: string[] = [];
  const title = machine === "" ? "clients trapped" : `${xml(machine)}: clients trapped`;
  parts.push(
    `<text x="${margin.left}" y="${top + 20}" font-weight="bold">${title} (most: ${
      Math.max(0, ...totals)
    }); ${report.connections} connections, ${humanDuration(report.seconds)} wasted</text>`,
  );
  // Stacked areas, bottom up: each protocol between the ones below and itself.
  const below = times.map(() => 0);
  for (const { protocol, values } of stacks) {
    const upper = values.map((n, i) => below[i] + n);
    const outline = [
      ...upper.map((n, i) => `${x(i).toFixed(1)},${y(n).toFixed(1)}`),
      ...below.map((n, i) => `${x(i).toFixed(1)},${y(n).toFixed(1)}`).reverse(),
    ];
    parts.push(
      `<polygon fill="${color(protocol)}" fill-opacity="0.85" points="${outline.join(" ")}"/>`,
    );
    upper.forEach((n, i) => below[i] = n);
  }
  parts.push(...axes(top, plotWidth, plotHeight));
  for (const n of [0, most / 2, most]) {
    parts.push(
      `<line x1="${margin.left - 4}" y1="${y(n).toFixed(1)}" x2="${margin.left}" y2="${
        y(n).toFixed(1)
      }" stroke="black"/>`,
      `<text x="${margin.left - 8}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${n}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const at = margin.left + plotWidth * i / 4;
    const baseline = top + panelHeight - margin.bottom;
    parts.push(
      `<line x1="${at}" y1="${baseline}" x2="${at}" y2="${baseline + 4}" stroke="black"/>`,
      `<text x="${at}" y="${baseline + 16}" text-anchor="${
        i === 0 ? "start" : i === 4 ? "end" : "middle"
      }">${timeLabel(t0 + (t1 - t0) * i / 4)}</text>`,
    );
  }
  stacks.forEach(({ protocol }, i) => {
    const ly = top + margin.top + 16 * i;
    parts.push(
      `<rect x="${width - margin.right + 12}" y="${ly}" width="10" height="10" fill="${
        color(protocol)
      }"/>`,
      `<text x="${width - margin.right + 28}" y="${ly + 9}">${xml(protocol)}</text>`,
    );
  });
  return parts.join("\n");
}

/** The panel of connections by time held, on a log scale, marked with their families. */
function histogramPanel(report: LogReport, top: number): string {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = panelHeight - margin.top - margin.bottom;
  const counts = report.heldFor.all;
  const most = niceCeiling(Math.max(1, ...counts));
  const barWidth = plotWidth / histogramBins;
  const y = (n: number) => top + margin.top + plotHeight * (1 - n / most);
  const parts = [
    `<text x="${margin.left}" y="${top + 20}" font-weight="bold">connections by time held ` +
    `(log scale), marked with their most common family</text>`,
  ];
  for (let bin = 0; bin < histogramBins; bin++) {
    if (counts[bin] === 0) continue;
    const left = margin.left + bin * barWidth;
    parts.push(
      `<rect x="${(left + 1).toFixed(1)}" y="${y(counts[bin]).toFixed(1)}" width="${
        (barWidth - 2).toFixed(1)
      }" height="${(y(0) - y(counts[bin])).toFixed(1)}" fill="${histogramColor}"/>`,
    );
    const family = commonFamily(report, bin);
    if (family !== undefined && counts[bin] >= most / 10) {
      parts.push(
        `<text x="${(left + barWidth / 2).toFixed(1)}" y="${(y(counts[bin]) - 4).toFixed(1)}" ` +
          `text-anchor="middle" font-size="10">${xml(family)}</text>`,
      );
    }
  }
  parts.push(...axes(top, plotWidth, plotHeight));
  for (const n of [0, most / 2, most]) {
    parts.push(
      `<text x="${margin.left - 8}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${n}</text>`,
    );
  }
  // A tick a decade: 4 bins each, from 0.1 s.
  for (let decade = 0; decade * 4 <= histogramBins; decade++) {
    const at = margin.left + decade * 4 * barWidth;
    const baseline = top + panelHeight - margin.bottom;
    const seconds = 10 ** (decade - 1);
    parts.push(
      `<line x1="${at.toFixed(1)}" y1="${baseline}" x2="${at.toFixed(1)}" y2="${
        baseline + 4
      }" stroke="black"/>`,
      `<text x="${at.toFixed(1)}" y="${baseline + 16}" text-anchor="middle">${
        seconds < 1 ? "0.1s" : humanDuration(seconds)
      }</text>`,
    );
  }
  return parts.join("\n");
}

/** The family most departures in `bin` had, if it is one with a name. */
function commonFamily(report: LogReport, bin: number): string | undefined {
  let best: string | undefined, count = 0;
  for (const [family, bins] of report.heldFor.families) {
    if (family !== "unknown" && bins[bin] > count) [best, count] = [family, bins[bin]];
  }
  return best;
}

/** A panel's two axis lines. */
function axes(top: number, plotWidth: number, plotHeight: number): string[] {
  const baseline = top + margin.top + plotHeight;
  return [
    `<line x1="${margin.left}" y1="${baseline}" x2="${margin.left + plotWidth}" y2="${baseline}" ` +
    `stroke="black"/>`,
    `<line x1="${margin.left}" y1="${baseline}" x2="${margin.left}" y2="${top + margin.top}" ` +
    `stroke="black"/>`,
  ];
}

/** The smallest of 1, 2 or 5 times a power of ten at or above `n`: an axis's top. */
function niceCeiling(n: number): number {
  const power = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * power).find((nice) => nice >= n) ?? n;
}

/** `2026-11-24 16:25`: a time on the axis; the last one `Date` shows, past it. */
function timeLabel(time: number): string {
  return new Date(Math.min(time, latestTime)).toISOString().slice(0, 16).replace("T", " ");
}

/** Text from the log, safe in XML: control characters escaped, markup characters too. */
function xml(text: string): string {
  return escapeControl(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}
