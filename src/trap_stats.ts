/**
 * What the tarpit has caught, kept in fixed-size structures: one record per listening
 * port, one histogram, and a bounded table of the busiest source addresses. Nothing
 * grows with the number of attackers, so neither metrics nor memory can be blown up by
 * connecting from many addresses.
 *
 * @module
 */

/** Counters for one listening port: endlessh-go's `local_port` label. */
export class PortStats {
  opened = 0;
  closed = 0;
  /** Connections closed on arrival: their address already held `--max-per-ip`. */
  refused = 0;
  bytesSent = 0;
  /** Time spent by clients that have left. */
  closedTrappedMs = 0;
  /** The sum of held clients' connect times, so trapped time needs no loop over them. */
  connectedAtSum = 0;

  constructor(readonly localPort: number) {}

  /** Clients held now. */
  get held(): number {
    return this.opened - this.closed;
  }

  /** Time all clients, gone and present, have spent trapped, as of `now`. */
  trappedMs(now: number): number {
    return this.closedTrappedMs + this.held * now - this.connectedAtSum;
  }
}

/** Upper bounds, in seconds, of the trapped-time histogram's buckets: 10 s to a day. */
export const trappedSecondsBuckets = [10, 60, 300, 1_800, 3_600, 21_600, 86_400] as const;

/** How long clients stayed, for those that have left. */
export class TrappedHistogram {
  /** Clients per bucket (not cumulative); the last is over a day. */
  readonly counts: number[] = new Array(trappedSecondsBuckets.length + 1).fill(0);
  sumSeconds = 0;
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
 * `2 x capacity` addresses; when that fills, only the `capacity` most counted stay
 * (a batch prune, so each new address costs O(log capacity) amortised, not a scan: under
 * V8's --jitless a scan per accept was measured to slow accepting by 40%). An address
 * that keeps connecting stays in the table; one that came once is forgotten first.
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

  constructor(readonly capacity: number) {}

  /** Counts one connection from `address`. */
  add(address: string): void {
    this.#counts.set(address, (this.#counts.get(address) ?? 0) + 1);
    if (this.#counts.size < 2 * this.capacity) return;
    const kept = this.top(this.capacity);
    this.#counts.clear();
    for (const [keptAddress, count] of kept) this.#counts.set(keptAddress, count);
  }

  /** The `n` most counted addresses, most first. */
  top(n: number): [address: string, count: number][] {
    return [...this.#counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}
