/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for the metrics tests:
 * it throws on anything a scraper could misread.
 *
 * @module
 */

/** One sample: metric name, labels, value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The families' types and every sample, in order. */
export interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const metricName = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const labelPair = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const sampleLine = new RegExp(`^(${metricName})(?:\\{(.*)\\})? (\\S+)$`);
const suffixes = ["_bucket", "_sum", "_count"];

/** Parses `text`, checking HELP/TYPE order, names, labels, values and histograms. */
export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      if (!new RegExp(`^${metricName}$`).test(name)) throw new Error(`bad name: ${line}`);
      if (kind === "HELP") helped.add(name);
      else if (/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) types.set(name, rest);
      else throw new Error(`bad type: ${line}`);
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = "", valueText] = match;
    const family = types.has(name)
      ? name
      : suffixes.map((s) => name.endsWith(s) ? name.slice(0, -s.length) : "").find((f) =>
        types.get(f) === "histogram"
      );
    if (!family) throw new Error(`sample before its # TYPE: ${line}`);
    if (!helped.has(family)) throw new Error(`no # HELP for ${family}`);
    if (types.get(family) === "counter" && !name.endsWith("_total")) {
      throw new Error(`a counter's name must end in _total: ${name}`);
    }
    const labels: Record<string, string> = {};
    const pairs = new RegExp(`${labelPair}(,|$)`, "y");
    while (pairs.lastIndex < labelText.length) {
      const pair = pairs.exec(labelText);
      if (!pair) throw new Error(`bad labels: ${line}`);
      if (pair[1] in labels) throw new Error(`label twice: ${line}`);
      labels[pair[1]] = pair[2].replace(/\\(.)/g, (_, c) => c === "n" ? "\n" : c);
    }
    const value = Number(valueText);
    if (Number.isNaN(value) && valueText !== "NaN") throw new Error(`bad value: ${line}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`series twice: ${line}`);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  checkHistograms(types, samples);
  return { types, samples };
}

function checkHistograms(types: ReadonlyMap<string, string>, samples: readonly Sample[]): void {
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const buckets = samples.filter((s) => s.name === `${family}_bucket`);
    const les = buckets.map((b) => b.labels.le === "+Inf" ? Infinity : Number(b.labels.le));
    for (let i = 1; i < buckets.length; i++) {
      if (!(les[i] > les[i - 1])) throw new Error(`${family}: le not ascending`);
      if (buckets[i].value < buckets[i - 1].value) throw new Error(`${family}: not cumulative`);
    }
    const count = samples.find((s) => s.name === `${family}_count`)?.value;
    if (les.at(-1) !== Infinity || buckets.at(-1)?.value !== count) {
      throw new Error(`${family}: the +Inf bucket must equal _count`);
    }
  }
}

/** The value of the one sample named `name` whose labels include `labels`. */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  return exposition.samples.find((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )?.value;
}
