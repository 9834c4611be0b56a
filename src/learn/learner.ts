/**
 * Learning from departures: each source (an IPv4 address or an IPv6 /64) gets the pacing
 * profile that has held its clients longest, and of those that hold them equally long,
 * the cheapest. Attackers repeat themselves: a brute-forcer opens many connections from
 * one address, and a botnet runs one program from many. So what held one client of a
 * source, or of a program named by its first bytes, is what the next one gets.
 *
 * Each departure is an observation of the profile the client had: how long it held, and,
 * where its leaving shows one, which of its limits it met (src/learn/evidence.ts). A
 * profile not yet tried on a source is judged by those limits: one whose first delay or
 * longest gap is past the silence a client gave up at is expected to lose it there, one
 * that sends whole lines keeps a client that gave up on a long line. Of two profiles that
 * both hold to the horizon, the cheaper (fewer writes a second) wins, so a client that
 * waits for ever anyway is held by the slowest. A small share of the clients of sources
 * seen to leave get a profile at random, so no source locks into a worse one.
 *
 * Three levels answer, the most specific that knows something: the source; the program
 * its first bytes named; the protocol, for first contacts (the default profile until
 * others have done better). What a source costs is fixed (`SourceTable`), and the table
 * keeps the sources seen most recently.
 *
 * @module
 */
import type { Departure } from "../engine/events.ts";
import type { Pacer } from "../engine/pacer.ts";
import type { Family } from "../metrics/exposition.ts";
import type { Profile } from "../../protocols/protocol.ts";
import { evidenceOf, holdFor, type Limit, limits } from "./evidence.ts";
import { familyByLeaving, familyNames, nameByFirstBytes } from "./families.ts";
import { SourceTable } from "./source_table.ts";

/**
 * How long a hold counts for: a client held this long by a profile has been held by it as
 * well as any, counts so once, and goes on with the cheapest profile expected to hold it
 * as long. Clients that leave at a limit of their own mostly meet it sooner (the longest
 * in `deno task bench-clients` is curl's 120 s reply timeout); one that leaves later
 * under the cheaper profile teaches its source what that profile holds.
 */
export const horizonMs = 120_000;

/** The share of clients, of sources seen to leave, given a profile at random. */
export const exploreShare = 0.1;

/** Sources kept, by default: a few megabytes in all. */
export const sourcesKept = 65_536;

/** Observations a mean weighs as equals before it starts to follow the newest. */
const memory = 8;

/** What a level knows: a mean hold and a count per profile, and limits met. */
interface Level {
  readonly means: Float32Array;
  readonly counts: Uint8Array;
  readonly limits: Float32Array;
}

function newLevel(profiles: number): Level {
  return {
    means: new Float32Array(profiles).fill(NaN),
    counts: new Uint8Array(profiles),
    limits: new Float32Array(limits.length).fill(NaN),
  };
}

/** How a {@link Learner} is set up. */
export interface LearnerOptions {
  /** The protocol's name, for family names and metric labels. */
  readonly protocol: string;
  /** The profiles a client may get: the first is the default. */
  readonly profiles: readonly Profile[];
  /** Whether to learn; when not, every client gets the default, and families are named. */
  readonly learn: boolean;
  /** Makes the random choices repeatable, for tests; `Math.random` when not given. */
  readonly seed?: number;
  /** How many sources are kept. */
  readonly capacity?: number;
  /** The share of clients given a profile at random; {@link exploreShare} when not given. */
  readonly explore?: number;
}

/**
 * The engine's {@link Pacer}, learning per source.
 *
 * @example
 * ```ts
 * import { Learner } from "./learner.ts";
 * import { protocols } from "../../protocols/mod.ts";
 * const { pacing, alternatives } = protocols.smtp;
 * const learner = new Learner({
 *   protocol: "smtp", profiles: [{ ...pacing, name: "default" }, ...alternatives], learn: true, seed: 1,
 * });
 * learner.choose("203.0.113.7", undefined); // 0, the default, for a first contact
 * ```
 */
export class Learner implements Pacer {
  readonly horizonMs: number = horizonMs;
  readonly #options: LearnerOptions;
  readonly #profiles: readonly Profile[];
  /** Writes a second of each profile: what it costs per client held. */
  readonly #costs: readonly number[];
  readonly #sources: SourceTable;
  readonly #names = new Map<string, Level>();
  readonly #prior: Level;
  readonly #random: () => number;
  readonly #departures = new Map<string, number>();
  readonly #paced: number[];

  /** A learner with `options`. */
  constructor(options: LearnerOptions) {
    this.#options = options;
    this.#profiles = options.profiles;
    this.#costs = options.profiles.map((profile) => 1_000 / profile.delayMs);
    const count = options.profiles.length;
    // Per source: a mean per profile and each limit; a count per profile and its name.
    this.#sources = new SourceTable(
      options.capacity ?? sourcesKept,
      count + limits.length,
      count + 1,
    );
    this.#prior = newLevel(count);
    this.#random = options.seed === undefined ? Math.random : seeded(options.seed);
    this.#paced = new Array(count).fill(0);
  }

  /** Sources kept now. */
  get sources(): number {
    return this.#sources.size;
  }

  /** What one source costs, in bytes. */
  get bytesPerSource(): number {
    return this.#sources.bytesPerSource;
  }

  choose(source: string, firstBytes: string | undefined): number {
    const slot = this.#sources.slot(source);
    const name = nameByFirstBytes(this.#options.protocol, firstBytes);
    if (name !== undefined) {
      this.#sources.counts[slot * this.#sources.countsPerSource + this.#profiles.length] =
        familyNames.indexOf(name) + 1;
    }
    const profile = this.#options.learn ? this.#pick(slot, name) : 0;
    this.#paced[profile]++;
    return profile;
  }

  stayed(source: string, profile: number): number {
    const slot = this.#sources.slot(source);
    this.#observe(slot, profile, this.horizonMs / 1000);
    if (!this.#options.learn) return profile;
    // Held as well as any: go on with the cheapest that is expected to hold it as long.
    const choice = cheapestOfBest(this.#estimates(slot, this.#nameOf(slot)), this.#costs);
    return this.#costs[choice] < this.#costs[profile] ? choice : profile;
  }

  departed(source: string, departure: Departure): string {
    const slot = this.#sources.slot(source);
    const evidence = evidenceOf(departure);
    const family = this.#nameOf(slot) ?? familyByLeaving(this.#options.protocol, evidence);
    this.#departures.set(family, (this.#departures.get(family) ?? 0) + 1);
    const { leftBy, heldMs, aliveMs, profile, profileSinceMs } = departure;
    // One held to the horizon by its profile was counted when it got there.
    if (heldMs - profileSinceMs >= this.horizonMs) return family;
    if (evidence !== undefined) {
      const at = limits.indexOf(evidence.limit);
      for (const level of this.#levelsOf(slot)) {
        if (level === this.#prior) continue; // a population mixes programs: no limit of one
        const known = level.limits[at];
        if (!(known <= evidence.value)) level.limits[at] = evidence.value;
      }
    }
    // A client whose profile was changed on the way, and that left at a time of its own
    // (or was closed), says nothing of how well its last profile holds.
    if (profileSinceMs > 0 && (evidence === undefined || evidence.limit === "time")) {
      return family;
    }
    const untilMs = leftBy === "write" || leftBy === "ended" ? aliveMs : heldMs;
    this.#observe(slot, profile, (untilMs - profileSinceMs) / 1000);
    return family;
  }

  /** The learner's metric families. */
  families(): Family[] {
    const protocol = this.#options.protocol;
    return [
      {
        name: "tarpyt_learner_sources",
        type: "gauge",
        help: "Sources the learner remembers (IPv4 addresses and IPv6 /64s).",
        samples: [["", { protocol }, this.sources]],
      },
      {
        name: "tarpyt_learner_bytes",
        type: "gauge",
        help: "Memory of the learner's table of sources, which is fixed.",
        samples: [["", { protocol }, this.#sources.capacity * this.bytesPerSource]],
      },
      {
        name: "tarpyt_paced_clients_total",
        type: "counter",
        help: "Clients given each pacing profile.",
        samples: this.#profiles.map((profile, i) =>
          ["", { protocol, profile: profile.name }, this.#paced[i]] as const
        ),
      },
      {
        name: "tarpyt_departures_total",
        type: "counter",
        help: "Clients that left, by the family their first bytes or their leaving showed.",
        samples: [...this.#departures].map(([family, count]) =>
          ["", { protocol, family }, count] as const
        ),
      },
    ];
  }

  /** The profile for a client of the source in `slot`, named `name` by its first bytes. */
  #pick(slot: number, name: string | undefined): number {
    const source = this.#sourceLevel(slot);
    // Only a source seen to leave explores: a first contact, or one every client of which
    // stayed, is paced by what is known, so it is never the worse for a draw.
    const left = source.counts.some((n, p) => n > 0 && source.means[p] < this.horizonMs / 1000);
    const share = this.#options.explore ?? exploreShare;
    if (left && this.#random() < share) {
      return Math.floor(this.#random() * this.#profiles.length);
    }
    return cheapestOfBest(this.#estimates(slot, name), this.#costs);
  }

  /**
   * How long each profile is expected to hold a client of the source in `slot`, named
   * `name`: by the mean of the holds seen, where the most specific level that knows
   * something has seen some; by that level's limits where not; and for a first contact,
   * by the protocol's.
   */
  #estimates(slot: number, name: string | undefined): number[] {
    const source = this.#sourceLevel(slot);
    const named = name === undefined ? undefined : this.#names.get(name);
    const level = [source, named].find((l) => l !== undefined && l.counts.some((n) => n > 0));
    const horizon = this.horizonMs / 1000;
    const known: Partial<Record<Limit, number>> = {};
    if (level !== undefined) {
      limits.forEach((limit, i) => {
        if (!Number.isNaN(level.limits[i])) known[limit] = level.limits[i];
      });
    }
    const basis = level ?? this.#prior;
    return this.#profiles.map((profile, p) => {
      if (basis.counts[p] > 0) return basis.means[p];
      if (level !== undefined) return holdFor(profile, known, horizon);
      // A first contact, where the protocol has no word on this profile yet.
      return p === 0 ? horizon : 0;
    });
  }

  /** Counts a hold of `seconds` with `profile` at every level the source's client is of. */
  #observe(slot: number, profile: number, seconds: number): void {
    const value = Math.min(seconds, this.horizonMs / 1000);
    for (const level of this.#levelsOf(slot)) {
      const n = Math.min(level.counts[profile] + 1, 255);
      level.counts[profile] = n;
      const mean = level.means[profile];
      level.means[profile] = Number.isNaN(mean)
        ? value
        : mean + (value - mean) / Math.min(n, memory);
    }
  }

  /** The levels a client of the source in `slot` belongs to: its source, its program, the protocol. */
  #levelsOf(slot: number): Level[] {
    const levels = [this.#sourceLevel(slot), this.#prior];
    const name = this.#nameOf(slot);
    if (name !== undefined) {
      let named = this.#names.get(name);
      if (named === undefined) this.#names.set(name, named = newLevel(this.#profiles.length));
      levels.push(named);
    }
    return levels;
  }

  /** The source in `slot` as a level: views into the table's arrays. */
  #sourceLevel(slot: number): Level {
    const table = this.#sources, count = this.#profiles.length;
    const floats = slot * table.floatsPerSource, counts = slot * table.countsPerSource;
    return {
      means: table.floats.subarray(floats, floats + count),
      counts: table.counts.subarray(counts, counts + count),
      limits: table.floats.subarray(floats + count, floats + count + limits.length),
    };
  }

  /** The program the source in `slot` was last named, if any. */
  #nameOf(slot: number): string | undefined {
    const table = this.#sources;
    const id = table.counts[slot * table.countsPerSource + this.#profiles.length];
    return id === 0 ? undefined : familyNames[id - 1];
  }
}

/** Of the longest `estimates` (within a tenth), the index of the cheapest by `costs`. */
function cheapestOfBest(estimates: readonly number[], costs: readonly number[]): number {
  const best = Math.max(...estimates);
  let choice = 0;
  for (let p = 0; p < estimates.length; p++) {
    if (estimates[p] < best * 0.9) continue;
    if (estimates[choice] < best * 0.9 || costs[p] < costs[choice]) choice = p;
  }
  return choice;
}

/** A repeatable random number generator (mulberry32) from `seed`. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
