/**
 * Prometheus text exposition (format 0.0.4) of what the tarpit counted.
 *
 * The `endlessh_*` families carry endlessh-go's names and `local_port` label, so its
 * published Grafana dashboard works unchanged; `tarpyt_*` adds what it lacks. No series
 * is labelled with a client address: the number of series is fixed by the number of
 * listening ports, whatever the number of attackers.
 *
 * @module
 */
import {
  type PortFigures,
  type TrappedHistogram,
  trappedSecondsBuckets,
} from "../stats/trap_stats.ts";

type Labels = Readonly<Record<string, string>>;

/** One metric family: its samples, each a label set and a value. */
interface Family {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly help: string;
  readonly samples: readonly (readonly [suffix: string, labels: Labels, value: number])[];
}

/** What the tarpit has caught, as the metrics show it. */
export interface TrapFigures {
  /** Each listening port's counts. */
  readonly ports: readonly PortFigures[];
  /** How long closed clients were held. */
  readonly histogram: TrappedHistogram;
  /** `--max-clients`. */
  readonly maxClients: number;
  /** `--protocol`. */
  readonly protocol: string;
}

/** The process's own figures: its memory, as `Deno.memoryUsage()` reports it, and its log. */
export type ProcessFigures = Pick<Deno.MemoryUsage, "rss" | "heapUsed"> & {
  /** Log lines dropped because stderr could not keep up (see log_queue.ts). */
  readonly droppedLogLines: number;
};

/**
 * The exposition text for `figures`.
 *
 * @example
 * ```ts
 * import { metricsText } from "./metrics.ts";
 * import { TrappedHistogram } from "../stats/trap_stats.ts";
 * const ports = [{ localPort: 22, opened: 1, closed: 0, refused: 0, held: 1, bytes: 9, trappedMs: 5 }];
 * const figures = { ports, histogram: new TrappedHistogram(), maxClients: 4096, protocol: "ssh" };
 * const text = metricsText(figures, "0.1.0", { ...Deno.memoryUsage(), droppedLogLines: 0 });
 * ```
 */
export function metricsText(
  figures: TrapFigures,
  version: string,
  process: ProcessFigures,
): string {
  const { ports, histogram, protocol } = figures;
  const perPort = (value: (port: PortFigures) => number) =>
    ports.map((port) => ["", { local_port: String(port.localPort) }, value(port)] as const);
  let cumulative = 0;
  const buckets = trappedSecondsBuckets.map((le, i) => {
    cumulative += histogram.counts[i];
    return ["_bucket", { protocol, le: String(le) }, cumulative] as const;
  });
  const families: Family[] = [
    {
      name: "endlessh_client_open_count_total",
      type: "counter",
      help: "Clients accepted.",
      samples: perPort((p) => p.opened),
    },
    {
      name: "endlessh_client_closed_count_total",
      type: "counter",
      help: "Clients that left or were closed.",
      samples: perPort((p) => p.closed),
    },
    {
      name: "endlessh_sent_bytes_total",
      type: "counter",
      help: "Bytes sent to clients.",
      samples: perPort((p) => p.bytes),
    },
    {
      name: "endlessh_trapped_time_seconds_total",
      type: "counter",
      help: "Time clients have spent trapped, those still held included.",
      samples: perPort((p) => p.trappedMs / 1000),
    },
    {
      name: "tarpyt_clients_refused_total",
      type: "counter",
      help: "Connections closed on arrival because their address held --max-per-ip clients.",
      samples: ports.map((p) => ["", { protocol, local_port: String(p.localPort) }, p.refused]),
    },
    {
      name: "tarpyt_clients",
      type: "gauge",
      help: "Clients held now.",
      samples: ports.map((p) => ["", { protocol, local_port: String(p.localPort) }, p.held]),
    },
    {
      name: "tarpyt_clients_max",
      type: "gauge",
      help: "Clients that can be held at once (--max-clients).",
      samples: [["", { protocol }, figures.maxClients]],
    },
    {
      name: "tarpyt_client_trapped_seconds",
      type: "histogram",
      help: "How long clients that left were trapped.",
      samples: [
        ...buckets,
        ["_bucket", { protocol, le: "+Inf" }, histogram.count],
        ["_sum", { protocol }, histogram.sumSeconds],
        ["_count", { protocol }, histogram.count],
      ],
    },
    {
      // Both, so that growth can be told apart: the JavaScript heap, or native memory.
      name: "process_resident_memory_bytes",
      type: "gauge",
      help: "Resident set size.",
      samples: [["", {}, process.rss]],
    },
    {
      name: "tarpyt_heap_used_bytes",
      type: "gauge",
      help: "JavaScript heap in use (V8), garbage not yet collected included.",
      samples: [["", {}, process.heapUsed]],
    },
    {
      name: "tarpyt_log_lines_dropped_total",
      type: "counter",
      help: "Log lines dropped because stderr could not keep up.",
      samples: [["", {}, process.droppedLogLines]],
    },
    {
      name: "tarpyt_info",
      type: "gauge",
      help: "The running version and protocol.",
      samples: [["", { version, protocol }, 1]],
    },
  ];
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
