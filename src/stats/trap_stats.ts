/**
 * What the tarpit has caught, kept in fixed-size structures: one record per listening
 * port, one histogram, and a bounded table of the busiest source addresses. Nothing
 * grows with the number of attackers, so neither metrics nor memory can be blown up by
 * connecting from many addresses.
 *
 * @module
 */
import { type TarpitEvent, unhandled } from "../engine/events.ts";
import type { HeldOnPort } from "../engine/tarpit.ts";
import type { Family } from "../metrics/exposition.ts";

/** The busiest-sources table's slots: bounded, whatever the number of attackers. */
const topTalkerSlots = 100;

/** Counters for one listening port: endlessh-go's `local_port` label. */
interface PortCounts {
  opened: number;
  closed: number;
  refused: number;
  /** Bytes and time of the clients that have left; the engine knows the rest. */
  closedBytes: number;
  closedTrappedMs: number;
}

/** What one listening port has done, those held now included. */
export interface PortFigures {
  /** The port clients connected to. */
  readonly localPort: number;
  /** Clients accepted. */
  readonly opened: number;
  /** Clients that left or were closed. */
  readonly closed: number;
  /** Connections closed on arrival: their address already held `--max-per-ip`. */
  readonly refused: number;
  /** Clients held now. */
  readonly held: number;
  /** Bytes the kernel took for clients, gone and present. */
  readonly bytes: number;
  /** Time clients, gone and present, have spent trapped. */
  readonly trappedMs: number;
}

/** The whole tarpit's figures, in endlessh's terms. */
export interface Totals {
  /** Clients accepted since start. */
  readonly connects: number;
  /** Clients held now. */
  readonly clientsNow: number;
  /** Bytes given to clients since start. */
  readonly bytesSent: number;
  /** Time all clients, gone and present, have spent trapped. */
  readonly trappedMs: number;
}

/**
 * Counts the engine's events: what the clients that left add up to, per port, with the
 * histogram of how long they stayed and the busiest sources. What the clients held now
 * add up to comes from the engine when asked (`Tarpit.held()`), so nothing is counted
 * per piece sent.
 *
 * @example
 * ```ts
 * import { TrapStats } from "./trap_stats.ts";
 * const stats = new TrapStats();
 * stats.record({ type: "serve", localPort: 22 });
 * stats.record({
 *   type: "accept",
 *   client: { host: "203.0.113.7", port: 40000, id: 1, localPort: 22, source: "203.0.113.7" },
 *   held: 1,
 *   max: 4096,
 * });
 * stats.totals(new Map()).connects; // 1
 * ```
 */
export class TrapStats {
  readonly #ports = new Map<number, PortCounts>();
  /** How long closed clients were held. */
  readonly histogram = new TrappedHistogram();
  /** The source addresses with the most connections. */
  readonly talkers = new TopTalkers(topTalkerSlots);

  /** Counts one event. */
  record(event: TarpitEvent): void {
    switch (event.type) {
      case "serve":
        this.#port(event.localPort);
        break;
      case "accept":
        this.#port(event.client.localPort).opened++;
        this.talkers.add(event.client.host);
        break;
      case "close": {
        const port = this.#port(event.client.localPort);
        const { bytes, heldMs } = event.departure;
        port.closed++;
        port.closedBytes += bytes;
        port.closedTrappedMs += heldMs;
        this.histogram.observe(heldMs / 1000);
        break;
      }
      case "refuse":
        this.#port(event.localPort).refused++;
        break;
      case "gone":
      case "full":
      case "file-limit":
      case "accept-failed":
        break;
      default:
        unhandled(event);
    }
  }

  /**
   * The metric families of what was counted: endlessh-go's names and `local_port` label,
   * so its Grafana dashboard works unchanged, and TarPyt's own.
   *
   * @param held the engine's `held()`
   * @param protocol `--protocol`, a label
   * @param maxClients `--max-clients`
   */
  families(held: ReadonlyMap<number, HeldOnPort>, protocol: string, maxClients: number): Family[] {
    const ports = this.ports(held);
    const perPort = (value: (port: PortFigures) => number) =>
      ports.map((port) => ["", { local_port: String(port.localPort) }, value(port)] as const);
    const perProtocolPort = (value: (port: PortFigures) => number) =>
      ports.map((port) =>
        ["", { protocol, local_port: String(port.localPort) }, value(port)] as const
      );
    const { histogram } = this;
    let cumulative = 0;
    const buckets = trappedSecondsBuckets.map((le, i) => {
      cumulative += histogram.counts[i];
      return ["_bucket", { protocol, le: String(le) }, cumulative] as const;
    });
    return [
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
        help: "Connections closed on arrival because their source held --max-per-ip clients.",
        samples: perProtocolPort((p) => p.refused),
      },
      {
        name: "tarpyt_clients",
        type: "gauge",
        help: "Clients held now.",
        samples: perProtocolPort((p) => p.held),
      },
      {
        name: "tarpyt_clients_max",
        type: "gauge",
        help: "Clients that can be held at once (--max-clients).",
        samples: [["", { protocol }, maxClients]],
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
    ];
  }

  /** Every port served, with what `held` (the engine's `held()`) adds for its clients. */
  ports(held: ReadonlyMap<number, HeldOnPort>): PortFigures[] {
    return [...this.#ports].map(([localPort, port]) => {
      const now = held.get(localPort);
      return {
        localPort,
        opened: port.opened,
        closed: port.closed,
        refused: port.refused,
        held: port.opened - port.closed,
        bytes: port.closedBytes + (now?.bytes ?? 0),
        trappedMs: port.closedTrappedMs + (now?.trappedMs ?? 0),
      };
    });
  }

  /** The ports' figures added up. */
  totals(held: ReadonlyMap<number, HeldOnPort>): Totals {
    let connects = 0, clientsNow = 0, bytesSent = 0, trappedMs = 0;
    for (const port of this.ports(held)) {
      connects += port.opened;
      clientsNow += port.held;
      bytesSent += port.bytes;
      trappedMs += port.trappedMs;
    }
    return { connects, clientsNow, bytesSent, trappedMs };
  }

  #port(localPort: number): PortCounts {
    let port = this.#ports.get(localPort);
    if (port === undefined) {
      port = { opened: 0, closed: 0, refused: 0, closedBytes: 0, closedTrappedMs: 0 };
      this.#ports.set(localPort, port);
    }
    return port;
  }
}

/** Upper bounds, in seconds, of the trapped-time histogram's buckets: 10 s to a day. */
const trappedSecondsBuckets = [10, 60, 300, 1_800, 3_600, 21_600, 86_400] as const;

/** How long clients stayed, for those that have left. */
export class TrappedHistogram {
  /** Clients per bucket (not cumulative); the last is over a day. */
  readonly counts: number[] = new Array(trappedSecondsBuckets.length + 1).fill(0);
  /** Seconds of every client counted, in all. */
  sumSeconds = 0;
  /** Clients counted. */
  count = 0;

  /** Records one client that stayed `seconds`. */
  observe(seconds: number): void {
    let i = 0;
    while (i < trappedSecondsBuckets.length && seconds > trappedSecondsBuckets[i]) i++;
    this.counts[i]++;
    this.sumSeconds += seconds;
    this.count++;
  }
}

/**
 * The busiest source addresses, in bounded memory: counts are kept for at most
 * `2 x capacity` addresses; when that fills, only the `capacity` most counted stay. The
 * trim finds the least count kept by counting how many addresses have each count, not by
 * sorting the addresses, so each new address costs O(1) amortised: a botnet brings a new
 * address with nearly every connection, and this is paid per accept, where the JIT is off
 * (`deno task bench --only accepts` measures it). An address that keeps connecting stays
 * in the table; one that came once is forgotten first.
 *
 * @example
 * ```ts
 * import { TopTalkers } from "./trap_stats.ts";
 * const talkers = new TopTalkers(100);
 * talkers.add("203.0.113.7");
 * talkers.top(5); // [["203.0.113.7", 1]]
 * ```
 */
export class TopTalkers {
  readonly #counts = new Map<string, number>();

  /** Keeps the `capacity` busiest addresses, and up to as many more between trims. */
  constructor(readonly capacity: number) {}

  /** Counts one connection from `address`. */
  add(address: string): void {
    const counts = this.#counts;
    counts.set(address, (counts.get(address) ?? 0) + 1);
    if (counts.size >= 2 * this.capacity) this.#trim();
  }

  /** Forgets all but the `capacity` most counted addresses; of equals, the first counted stay. */
  #trim(): void {
    const counts = this.#counts;
    const addressesWith = new Map<number, number>();
    counts.forEach((count) => addressesWith.set(count, (addressesWith.get(count) ?? 0) + 1));
    // The least count kept, and how many of the addresses with it stay.
    let least = 0, room = this.capacity;
    for (const count of [...addressesWith.keys()].sort((a, b) => b - a)) {
      least = count;
      const addresses = addressesWith.get(count)!;
      if (addresses >= room) break;
      room -= addresses;
    }
    counts.forEach((count, address) => {
      if (count > least) return;
      if (count === least && room > 0) room--;
      else counts.delete(address);
    });
  }

  /** The `n` most counted addresses, most first. */
  top(n: number): [address: string, count: number][] {
    return [...this.#counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}
