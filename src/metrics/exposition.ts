/**
 * Prometheus text exposition (format 0.0.4): the families each part of the service
 * counts, written out. Every part owns its families (the trap's counters in
 * src/stats/trap_stats.ts, the log's in src/log/log_queue.ts, the learner's in
 * src/learn/), so adding a metric touches the part that counts it and the README's table.
 *
 * No series is labelled with a client address: the number of series is fixed by the
 * number of listening ports, protocols and families, whatever the number of attackers.
 *
 * @module
 */

/** A sample's labels. */
export type Labels = Readonly<Record<string, string>>;

/** One metric family: its samples, each a name suffix, a label set and a value. */
export interface Family {
  /** Its name. */
  readonly name: string;
  /** Its type. */
  readonly type: "counter" | "gauge" | "histogram";
  /** One line for `# HELP`. */
  readonly help: string;
  /** Its samples: `_bucket`-style suffix (or ""), labels, value. */
  readonly samples: readonly (readonly [suffix: string, labels: Labels, value: number])[];
}

/**
 * The exposition text of `families`.
 *
 * @example
 * ```ts
 * import { exposition } from "./exposition.ts";
 * exposition([{ name: "up", type: "gauge", help: "Up.", samples: [["", {}, 1]] }]);
 * // "# HELP up Up.\n# TYPE up gauge\nup 1\n"
 * ```
 */
export function exposition(families: readonly Family[]): string {
  return families.map(familyText).join("");
}

function familyText({ name, type, help, samples }: Family): string {
  let text = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const [suffix, labels, value] of samples) {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    text += `${name}${suffix}${pairs.length ? `{${pairs.join(",")}}` : ""} ${value}\n`;
  }
  return text;
}

/** Label values escape backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
