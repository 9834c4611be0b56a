/**
 * Learning from departures: each source (an IPv4 address or an IPv6 /64) gets the pacing
 * profile expected to hold its clients longest, and of those that hold them equally long,
 * the cheapest. Attackers repeat themselves: a brute-forcer opens many connections from
 * one address, and a botnet runs one program from many. So what held one client of a
 * source, or of a program named by its first bytes, is what the next one gets.
 *
 * Each departure is an observation of two things. The hold of the profile the client had:
 * the mean of those is what a profile tried on a source is judged by. And, where its
 * leaving shows one, the limit the client met (src/learn/evidence.ts), from which
 * `holdFor` tells what every other profile would have held that client: a profile not yet
 * tried is judged by the mean of those. Averaged over clients, one client unlike its
 * source's others (a banner grab before a brute force) weighs as one client. A client
 * held to the horizon counts as held by every profile of its kind (dripped or whole
 * lines) whose silences it sat through. Of profiles expected to hold as long, the
 * cheaper (fewer writes a second) wins, so a client that waits for ever anyway is held by
 * the slowest; a profile tried gets the benefit of the doubt in proportion to how little
 * it was tried ({@link optimism}), so a bad hold or two does not rule it out.
 *
 * A source whose clients left at a silence gets its first byte no sooner than it must:
 * just within the shortest silence they left at ({@link withinSilence}), on whichever
 * profile would send it sooner. A client that reads on is held either way; one that
 * judges its first bytes (medusa matches a greeting within 0.3 s) stays as long as they
 * take to come, so trying a profile on it costs little of what the default held.
 *
 * Three levels answer, the most specific that knows something: the source; the program
 * its first bytes named; the protocol, for first contacts, by what every profile would
 * have held the clients seen so far (the default until any left). A source's clients
 * that name a program are a source of their own, one per program (`#slotOf`): one
 * address runs programs that want contrary pacings. What a source costs is fixed
 * (`SourceTable`), and the table keeps the sources seen most recently.
 *
 * @module
 */
import type { Departure } from "../engine/events.ts";
import type { Pacer, PacerChoice } from "../engine/pacer.ts";
import type { Family } from "../metrics/exposition.ts";
import type { Profile } from "../../protocols/protocol.ts";
import {
  endedLineBegunBefore,
  type Evidence,
  evidenceOf,
  firstSilence,
  holdFor,
  type Limit,
  longestGap,
  soonestFirst,
} from "./evidence.ts";
import { familyByLeaving, familyNames, knownLimitOf, nameByFirstBytes } from "./families.ts";
import { SourceTable } from "./source_table.ts";

/**
 * How long a hold counts for: a client held this long by a profile has been held by it as
 * well as any, counts so once, and goes on with the cheapest profile of the same kind
 * (dripped or whole lines) whose silences it sat through, or tries a cheaper one. What
 * profiles differ in shows within a minute of one: a silence within its longest gap, a
 * verdict at its first lines. A limit of the client's own time (curl's 120 s for a reply)
 * is met under any profile, so moving before it loses nothing; and how a moved client
 * leaves is learned until its new profile has held it a horizon. A longer horizon only
 * keeps clients longer on the pricier profile they began with.
 */
export const horizonMs = 60_000;

/**
 * The benefit of the doubt a profile gets, as a share of the longest hold its source is
 * expected to get (the horizon, for one that some profile holds), shrinking with how
 * often it was tried (UCB1's bonus): a profile that did badly once, perhaps on a client
 * unlike the source's others, is tried again now and then, less often the more it fails,
 * so no source locks into a worse one and the choice stays deterministic.
 */
export const optimism = 0.2;

/** Sources kept, by default: a few megabytes in all. */
export const sourcesKept = 65_536;

/**
 * A program with this many clients held at once is a crowd: one of them tries a cheaper
 * profile from its first piece, not from the first horizon, since what the trial shows
 * moves the rest a horizon sooner and it risks one client of that many.
 */
export const crowd = 16;

/**
 * A source's clients that left at a silence of S seconds get their first byte by this
 * share of S at the latest, and as late as that: clients of one program wait alike but not
 * to the millisecond (one counts from its connect, another from its first read).
 */
export const withinSilence = 0.9;

/** The most a count of observations holds: its byte's largest value. */
const mostCounted = 255;

/** Observations a mean weighs as equals before it starts to follow the newest. */
const memory = 8;

/**
 * What a level knows, per profile: the mean hold of the clients given it and how many
 * (`tried`); the mean of what it would have held every client seen and how many (`seen`).
 */
interface Level {
  readonly held: Float32Array;
  readonly tried: Uint8Array;
  readonly wouldHold: Float32Array;
  readonly seen: Uint8Array;
}

function newLevel(profiles: number): Level {
  return {
    held: new Float32Array(profiles).fill(NaN),
    tried: new Uint8Array(profiles),
    wouldHold: new Float32Array(profiles).fill(NaN),
    seen: new Uint8Array(profiles),
  };
}

/**
 * Adds `value` to the running mean at `at` of `means`, counted in `counts`. A count that
 * would pass {@link mostCounted} halves them all: counts that stopped growing would stop
 * the benefit of the doubt from shrinking for the profile tried most, and a profile tried
 * less would never be tried again.
 */
function addTo(means: Float32Array, counts: Uint8Array, at: number, value: number): void {
  if (counts[at] === mostCounted) counts.forEach((count, i) => counts[i] = (count + 1) >> 1);
  const n = counts[at] + 1;
  counts[at] = n;
  const mean = means[at];
  means[at] = Number.isNaN(mean) ? value : mean + (value - mean) / Math.min(n, memory);
}

/** Adds each of `values` to the running mean at its index of `means`. */
function addEach(means: Float32Array, counts: Uint8Array, values: readonly number[]): void {
  values.forEach((value, at) => addTo(means, counts, at, value));
}

/**
 * The limits a client that met `evidence` is known to have: that one, those its program
 * `name` has ({@link knownLimitOf}): a TLS client that left at a silence would have left
 * at any greeting too; and the shortest `silence` its source's clients left at, seconds
 * (NaN for none), which the source's profiles already send their first byte within.
 */
function limitsOf(
  evidence: Evidence,
  name?: string,
  silence = NaN,
): Partial<Record<Limit, number>> {
  const known: Partial<Record<Limit, number>> = { [evidence.limit]: evidence.value };
  const own = name === undefined ? undefined : knownLimitOf(name);
  if (own !== undefined) known[own.limit] = Math.min(known[own.limit] ?? Infinity, own.value);
  if (!Number.isNaN(silence)) known.silence = Math.min(known.silence ?? Infinity, silence);
  return known;
}

/** How a {@link Learner} is set up. */
export interface LearnerOptions {
  /** The protocol's name, for family names and metric labels. */
  readonly protocol: string;
  /** The profiles a client may get: the first is the default. */
  readonly profiles: readonly Profile[];
  /** Whether to learn; when not, every client gets the default, and families are named. */
  readonly learn: boolean;
  /** How many sources are kept. */
  readonly capacity?: number;
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
 *   protocol: "smtp", profiles: [{ ...pacing, name: "default" }, ...alternatives], learn: true,
 * });
 * learner.choose("203.0.113.7", undefined); // { profile: 0, tag: 0 }: the default, for a first contact
 * ```
 */
export class Learner implements Pacer {
  /**
   * The {@link horizonMs} under learning; under fixed pacing never, so that the engine
   * does not count every client's turns toward a hold nothing would learn from.
   */
  readonly horizonMs: number;
  readonly #options: LearnerOptions;
  readonly #profiles: readonly Profile[];
  /** Writes a second of each profile: what it costs per client held. */
  readonly #costs: readonly number[];
  readonly #sources: SourceTable;
  readonly #names = new Map<string, Level>();
  /** Per program named by first bytes, the profile one of its clients is trying. */
  readonly #trials = new Map<string, number>();
  /** Per program named by first bytes, its clients held now. */
  readonly #held = new Map<string, number>();
  readonly #prior: Level;
  readonly #departures = new Map<string, number>();
  readonly #paced: number[];
  /** Under fixed pacing, the one choice for each tag: nothing to make per client. */
  readonly #fixedChoices: readonly PacerChoice[] = Array.from(
    { length: familyNames.length + 1 },
    (_, tag) => ({ profile: 0, tag }),
  );
  /** The soonest any profile sends a first byte. */
  readonly #soonestFirstMs: number;
  #news = 0;

  /** A learner with `options`. */
  constructor(options: LearnerOptions) {
    this.#options = options;
    this.horizonMs = options.learn ? horizonMs : Infinity;
    this.#profiles = options.profiles;
    this.#costs = options.profiles.map((profile) => 1_000 / profile.delayMs);
    const count = options.profiles.length;
    // Per source and profile: two means and their counts; per source, the shortest silence
    // its clients left at, the family its last client showed, and the profile its trial
    // is of.
    this.#sources = new SourceTable(
      options.capacity ?? sourcesKept,
      2 * count + 1,
      2 * count + 2,
    );
    this.#prior = newLevel(count);
    this.#paced = new Array(count).fill(0);
    this.#soonestFirstMs = Math.min(...options.profiles.map((profile) => profile.firstDelayMs));
  }

  /** Sources kept now. */
  get sources(): number {
    return this.#sources.size;
  }

  /** What one source costs, in bytes. */
  get bytesPerSource(): number {
    return this.#sources.bytesPerSource;
  }

  choose(source: string, firstBytes: string | undefined): PacerChoice {
    const name = nameByFirstBytes(this.#options.protocol, firstBytes);
    // The tag names the client's program, so that what it shows is learned for that
    // program even when its source runs others beside it.
    const tag = name === undefined ? 0 : familyNames.indexOf(name) + 1;
    if (!this.#options.learn) {
      this.#paced[0]++;
      return this.#fixedChoices[tag];
    }
    const slot = this.#slotOf(source, name);
    let profile = this.#pick(slot, name);
    if (name !== undefined) {
      const held = (this.#held.get(name) ?? 0) + 1;
      this.#held.set(name, held);
      if (held >= crowd) profile = this.#trial(slot, name, profile) ?? profile;
    }
    this.#paced[profile]++;
    const adapted = this.#profilesOf(slot)[profile];
    // Asked for at the latest its jitter could draw it, which the engine then keeps to.
    return adapted.firstDelayMs > this.#profiles[profile].firstDelayMs
      ? { profile, tag, firstDelayMs: Math.round(firstSilence(adapted) * 1000) }
      : { profile, tag };
  }

  stayed(source: string, tag: number, profile: number, longestGapMs: number): number {
    if (!this.#options.learn) return profile;
    const name = nameOf(tag);
    const slot = this.#slotOf(source, name);
    const horizon = this.horizonMs / 1000;
    // It would have been held as well by a profile whose silences it has sat through; of
    // the others nothing is known.
    const profiles = this.#profilesOf(slot);
    const held = profiles.map((other, p) =>
      p === profile || satThrough(other, profiles[profile], longestGapMs / 1000)
    );
    for (const level of this.#levelsOf(slot, name)) {
      if (level !== this.#prior) addTo(level.held, level.tried, profile, horizon);
      held.forEach((would, p) => {
        if (would) addTo(level.wouldHold, level.seen, p, horizon);
      });
    }
    // Its program's clients told to stay before its trial ended may move now.
    if (this.#endTrial(slot, name, profile) && name !== undefined) this.#news++;
    return this.#goOn(slot, name, profile);
  }

  get news(): number {
    return this.#news;
  }

  reconsider(source: string, tag: number, profile: number): number {
    if (!this.#options.learn) return profile;
    const name = nameOf(tag);
    return this.#goOn(this.#slotOf(source, name), name, profile);
  }

  answered(source: string, tag: number, profile: number, heldMs: number): void {
    if (!this.#options.learn) return;
    // Judged now, not when it leaves: the next clients of its source, and a tool's other
    // connections open meanwhile, must not be given the profile that let it answer
    // because nothing said otherwise yet.
    const name = nameOf(tag);
    this.#judgeAnswer(this.#slotOf(source, name), name, profile, heldMs);
  }

  /**
   * Judges `profile` on the source in `slot`, named `name`, by a client that made
   * progress on it `heldMs` after it began: it held the client only that long.
   */
  #judgeAnswer(slot: number, name: string | undefined, profile: number, heldMs: number): void {
    if (heldMs >= this.horizonMs) return;
    this.#endTrial(slot, name, profile);
    // A client that took a whole line for its reply would have taken one as soon from
    // any profile whose lines come no later than these did: held no longer.
    const profiles = this.#profilesOf(slot);
    const alike = profiles.map((other, p) =>
      p === profile || judgedAsSoon(other, profiles[profile], replyLine)
    );
    for (const level of this.#levelsOf(slot, name)) {
      if (level === this.#prior) continue;
      alike.forEach((answered, p) => {
        if (!answered) return;
        addTo(level.held, level.tried, p, heldMs / 1000);
        // An answer is what the profile does for a brute-forcer, not a client unlike its
        // source's others: believed at once, as if tried as often as a count holds, it
        // leaves the profile no benefit of the doubt.
        level.tried[p] = mostCounted;
      });
    }
  }

  departed(source: string, tag: number, departure: Departure): string {
    const name = nameOf(tag);
    const slot = this.#slotOf(source, name);
    const evidence = evidenceOf(departure);
    const family = this.#familyOf(slot, name, evidence, departure.heldMs / 1000);
    this.#departures.set(family, (this.#departures.get(family) ?? 0) + 1);
    // Fixed pacing has nothing to choose: what a departure says of the profiles would go unread.
    if (!this.#options.learn) return family;
    if (name !== undefined) this.#held.set(name, (this.#held.get(name) ?? 1) - 1);
    // A silence no profile's first byte could have ended says nothing of how long its
    // source's clients wait (a scan that connects and closes).
    if (evidence?.limit === "silence" && evidence.value * 1000 > this.#soonestFirstMs) {
      const at = this.#silenceAt(slot), floats = this.#sources.floats;
      floats[at] = Number.isNaN(floats[at]) ? evidence.value : Math.min(floats[at], evidence.value);
    }
    const { leftBy, aliveMs, profile, profileSinceMs, answeredMs } = departure;
    // One held to the horizon by its profile was counted when it got there.
    if (departure.counted) return family;
    // One that answered on its profile and went on was judged then. One moved since, stuck
    // again after it answered, is judged as any other.
    if (answeredMs !== Infinity && answeredMs >= profileSinceMs) return family;
    // One that spoke after its greeting and left at once at a piece that came after took
    // that piece for the reply to what it said: an answer, and its profile held it only
    // until it spoke. A tool that makes one try a connection leaves so, and is on to its
    // next (nmap's scripts, which without a greeting would have tried again over TLS).
    const { greetedMs, heldMs, silenceMs } = departure;
    if (
      evidence?.limit === "verdict" && greetedMs >= profileSinceMs && heldMs - silenceMs > greetedMs
    ) {
      this.#judgeAnswer(slot, name, profile, greetedMs - profileSinceMs);
      return family;
    }
    // A trial ends with its client, whatever it shows.
    this.#endTrial(slot, name, profile);
    // One that left before any profile could have sent it a byte (a scan that connects and
    // closes) says nothing of how well one holds: counted as a hold of its profile, a port
    // scan would make the source's brute force that follows begin on another.
    if (departure.heldMs < this.#soonestFirstMs) return family;
    // A client whose profile was changed on the way, and that left at a time of its own
    // (or was closed), or at a line its old profile began, says nothing of how well its
    // last profile holds: a slower drip that ends the line a client takes for its reply
    // held it longer than its old profile would have.
    if (
      profileSinceMs > 0 &&
      (evidence === undefined || evidence.limit === "time" || endedLineBegunBefore(departure))
    ) {
      return family;
    }
    const leftMs = leftBy === "write" || leftBy === "ended" ? aliveMs : departure.heldMs;
    const held = Math.max(0, leftMs - profileSinceMs) / 1000;
    // How it left says what would have held it: on the profiles as its source gets them,
    // and as a first contact gets them, for the levels beyond its source. So does how its
    // source's clients left, one program: the shortest silence any left at is a limit of
    // this one too, though its own leaving showed another. Without it nmap's smtp-brute,
    // held by a drip from within its 7 s wait for a greeting to the end of its 7 s wait for
    // a reply, leaves at an alarm on the line, which says the default's silence would have
    // held it as long, and the default, which loses it at 7 s, is tried again.
    const silence = this.#sources.floats[this.#silenceAt(slot)];
    const known = evidence === undefined ? undefined : limitsOf(evidence, name, silence);
    const profiles = this.#profilesOf(slot);
    const here = known && this.#holds(known, profiles);
    const anywhere = known && (profiles === this.#profiles ? here : this.#holds(known));
    const judgedAlike = evidence !== undefined && profileSinceMs === 0
      ? profiles.map((other, p) =>
        p !== profile && judgedAsSoon(other, profiles[profile], evidence)
      )
      : undefined;
    this.#levelsOf(slot, name).forEach((level, i) => {
      // The protocol's level judges by what each profile would have held: which profile
      // its clients were given depended on their sources.
      if (level !== this.#prior) addTo(level.held, level.tried, profile, held);
      const wouldHold = i === 0 ? here : anywhere;
      if (wouldHold === undefined) return;
      addEach(level.wouldHold, level.seen, wouldHold);
      // A client that judged its first bytes at once would have judged any as soon that
      // came no later, and one that left at its Nth line any Nth line: each such profile
      // was tried on it as well. So one verdict counts against them all, and a source
      // that judges what it reads retries none of them for the doubt the others had.
      if (level === this.#prior) return;
      judgedAlike?.forEach((alike, p) => {
        if (alike) addTo(level.held, level.tried, p, wouldHold[p]);
      });
    });
    return family;
  }

  /**
   * The slot of what `source` showed of its clients that its first bytes named `name`
   * (of those named none, when undefined). A source runs more than one program, and
   * they want contrary pacings: nmap's scripts retry a connection that got no greeting
   * with a TLS handshake (nselib/comm.lua, `tryssl`), which the silence that failed the
   * first holds and any greeting ends.
   */
  #slotOf(source: string, name: string | undefined): number {
    return this.#sources.slot(name === undefined ? source : `${source} ${name}`);
  }

  /** The learner's metric families. */
  families(): Family[] {
    const protocol = this.#options.protocol;
    return [
      {
        name: "tarpyt_learner_sources",
        type: "gauge",
        help: "Sources the learner remembers (IPv4 addresses and IPv6 /64s), once more for each " +
          "program their first bytes named.",
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

  /**
   * The profile for a client of the source in `slot`, named `name` by its first bytes:
   * the longest expected hold, each tried profile given the benefit of the doubt. A
   * first contact keeps the default unless another is expected to hold the protocol's
   * clients clearly longer: what it costs is learned on the source.
   */
  #pick(slot: number, name: string | undefined): number {
    const { estimates, tried } = this.#estimates(slot, name);
    if (tried === undefined) {
      const longer = estimates.some((estimate) => estimate > estimates[0] / nearlyAsLong);
      return longer ? cheapestOfBest(estimates, this.#costs) : 0;
    }
    // The doubt is a share of what is at stake: the longest the source's clients are
    // expected to be held. A source held seconds by a limit of its own (smtp-brute's two
    // 7 s reads) would otherwise retry every profile for a doubt longer than its holds.
    const longest = Math.max(...estimates);
    const unit = optimism * longest;
    const spread = Math.log(1 + tried.reduce((sum, n) => sum + n, 0));
    // A profile judged but not tried has one observation's doubt: what it would have held.
    const scores = estimates.map((estimate, p) =>
      tried[p] > 0 || estimate > 0
        ? estimate + unit * Math.sqrt(spread / Math.max(tried[p], 1))
        : estimate
    );
    // A cheaper profile is given for holding nearly as long only when it is expected to,
    // not when it is only hoped to: hope must beat every other profile's outright. nmap's
    // pop3-brute, held longer by early bytes than by the default's silence, was given the
    // slow drip for its doubt and for being cheap, and its run ended with no greeting.
    const enough = nearlyAsLong * longest, top = Math.max(...scores);
    return cheapestOfBest(
      scores.map((score, p) => score === top || estimates[p] >= enough ? score : 0),
      this.#costs,
    );
  }

  /**
   * How long each profile is expected to hold a client of the source in `slot`, named
   * `name`: what it held the source's clients, else its program's, else what it would
   * have held them, else nothing. For a first contact, what it would have held the
   * protocol's clients; the default until one left. With the times each was tried, if
   * the source or its program knew something.
   */
  #estimates(
    slot: number,
    name: string | undefined,
  ): { estimates: number[]; tried: Uint8Array | undefined } {
    const knows = (level: Level | undefined): level is Level =>
      level !== undefined && (level.tried.some((n) => n > 0) || level.seen.some((n) => n > 0));
    const source = this.#sourceLevel(slot);
    const named = name === undefined ? undefined : this.#named(name);
    const levels = [source, named].filter(knows);
    const horizon = this.horizonMs / 1000;
    const prior = this.#prior;
    const fromPrior = (p: number) => prior.seen[p] > 0 ? prior.wouldHold[p] : p === 0 ? horizon : 0;
    if (levels.length === 0) {
      return { estimates: this.#profiles.map((_, p) => fromPrior(p)), tried: undefined };
    }
    // What a profile held, on the source or else on its program; else what it would have
    // held their clients; else what the protocol's prior says, as for a first contact (a
    // crowd's trial can end before any other client of the program is heard of). A
    // profile none of these judged is not chosen.
    const estimates = this.#profiles.map((_, p) => {
      const tried = levels.find((level) => level.tried[p] > 0);
      if (tried !== undefined) return tried.held[p];
      const seen = levels.find((level) => level.seen[p] > 0);
      return seen === undefined ? fromPrior(p) : seen.wouldHold[p];
    });
    const tried = new Uint8Array(this.#profiles.length).map((_, p) =>
      Math.max(...levels.map((level) => level.tried[p]))
    );
    return { estimates, tried };
  }

  /**
   * The profile a client of the source in `slot`, named `name`, held to the horizon by
   * `profile`, goes on with: held as well as any, the cheapest expected to hold it as
   * long, or a trial of a cheaper one.
   */
  #goOn(slot: number, name: string | undefined, profile: number): number {
    const choice = cheapestOfBest(this.#estimates(slot, name).estimates, this.#costs);
    if (this.#costs[choice] < this.#costs[profile]) return choice;
    return this.#trial(slot, name, profile) ?? profile;
  }

  /**
   * A cheaper profile than `profile` to try on a client of the source in `slot`, named
   * `name`, when no other client is trying one for it: the cheapest never given, unless
   * how its clients left says it would lose them. A program's clients are alike, so one
   * tries for its program; a client no first bytes named tries for its source. One at a
   * time risks one client. Tried on a client its profile held to the horizon, or on a
   * newcomer of a {@link crowd}.
   */
  #trial(slot: number, name: string | undefined, profile: number): number | undefined {
    const trying = name === undefined ? this.#sourceTrial(slot) !== 0 : this.#trials.has(name);
    if (trying) return undefined;
    const judge = name === undefined ? this.#sourceLevel(slot) : this.#named(name);
    // What a profile would have held the clients that showed a limit, next to what the
    // client's own profile would have: one that lost them already is no trial.
    const expected = (p: number) => judge.seen[p] > 0 ? judge.wouldHold[p] : this.horizonMs / 1000;
    let trial: number | undefined;
    for (let p = 0; p < this.#profiles.length; p++) {
      if (judge.tried[p] > 0) continue;
      if (this.#costs[p] >= this.#costs[profile]) continue;
      if (expected(p) < expected(profile) * nearlyAsLong) continue;
      if (trial === undefined || this.#costs[p] < this.#costs[trial]) trial = p;
    }
    if (trial === undefined) return undefined;
    if (name === undefined) this.#sources.counts[this.#sourceTrialAt(slot)] = trial + 1;
    else this.#trials.set(name, trial);
    return trial;
  }

  /** Ends the trial a client on `profile` was making, if it was; returns whether it was. */
  #endTrial(slot: number, name: string | undefined, profile: number): boolean {
    if (name === undefined) {
      if (this.#sourceTrial(slot) !== profile + 1) return false;
      this.#sources.counts[this.#sourceTrialAt(slot)] = 0;
      return true;
    }
    if (this.#trials.get(name) !== profile) return false;
    this.#trials.delete(name);
    return true;
  }

  /**
   * The family of a client of the source in `slot`: its program `name`, else what its
   * leaving after `heldSeconds` showed (`evidence`); one whose leaving shows none is
   * named as the source's last that showed one. A source runs one program again and
   * again, and a program shows its limits only under some pacings: medusa shows its 20 s
   * wait when it gets no byte, and leaves at once when it gets bytes it does not like.
   */
  #familyOf(
    slot: number,
    name: string | undefined,
    evidence: Evidence | undefined,
    heldSeconds: number,
  ): string {
    if (name !== undefined) return name;
    const shown = familyByLeaving(this.#options.protocol, evidence, heldSeconds);
    const at = this.#familyAt(slot), counts = this.#sources.counts;
    if (shown !== "unknown") counts[at] = familyNames.indexOf(shown) + 1;
    return counts[at] === 0 ? shown : familyNames[counts[at] - 1];
  }

  /** Where the source in `slot` keeps the family its last client showed, plus one; 0 for none. */
  #familyAt(slot: number): number {
    return (slot + 1) * this.#sources.countsPerSource - 2;
  }

  /** Where the source in `slot` keeps the profile its trial is of, plus one; 0 for none. */
  #sourceTrialAt(slot: number): number {
    return (slot + 1) * this.#sources.countsPerSource - 1;
  }

  #sourceTrial(slot: number): number {
    return this.#sources.counts[this.#sourceTrialAt(slot)];
  }

  /** What each of `profiles` would have held a client whose limits are `known`. */
  #holds(
    known: Readonly<Partial<Record<Limit, number>>>,
    profiles: readonly Profile[] = this.#profiles,
  ): number[] {
    const horizon = this.horizonMs / 1000;
    return profiles.map((profile) => holdFor(profile, known, horizon));
  }

  /**
   * The profiles as a client of the source in `slot` gets them: each first byte as late as
   * within the shortest silence its clients left at, if it would come sooner.
   */
  #profilesOf(slot: number): readonly Profile[] {
    const silence = this.#sources.floats[this.#silenceAt(slot)];
    if (Number.isNaN(silence)) return this.#profiles;
    return this.#profiles.map((profile) => firstByteBy(profile, withinSilence * silence));
  }

  /** Where the source in `slot` keeps the shortest silence its clients left at. */
  #silenceAt(slot: number): number {
    return (slot + 1) * this.#sources.floatsPerSource - 1;
  }

  /**
   * The levels a client of the source in `slot`, running the program `name`, belongs to:
   * its source first, the protocol, its program.
   */
  #levelsOf(slot: number, name: string | undefined): Level[] {
    const levels = [this.#sourceLevel(slot), this.#prior];
    if (name !== undefined) levels.push(this.#named(name));
    return levels;
  }

  /**
   * The level of the program `name`, made on first use knowing what the program's own
   * source says it stands ({@link knownLimitOf}), as if one of its clients had shown it.
   */
  #named(name: string): Level {
    let named = this.#names.get(name);
    if (named === undefined) {
      this.#names.set(name, named = newLevel(this.#profiles.length));
      const known = knownLimitOf(name);
      if (known !== undefined) addEach(named.wouldHold, named.seen, this.#holds(limitsOf(known)));
    }
    return named;
  }

  /** The source in `slot` as a level: views into the table's arrays. */
  #sourceLevel(slot: number): Level {
    const table = this.#sources, count = this.#profiles.length;
    const floats = slot * table.floatsPerSource, counts = slot * table.countsPerSource;
    return {
      held: table.floats.subarray(floats, floats + count),
      tried: table.counts.subarray(counts, counts + count),
      wouldHold: table.floats.subarray(floats + count, floats + 2 * count),
      seen: table.counts.subarray(counts + count, counts + 2 * count),
    };
  }
}

/** The program a tag of {@link Learner.choose} names, if any. */
function nameOf(tag: number): string | undefined {
  return tag === 0 ? undefined : familyNames[tag - 1];
}

/**
 * `profile` with its first byte as late as it may come and still come by `latestS`
 * seconds, however its jitter draws it, in whole seconds; `profile` itself if that is no
 * later than its own. Its latest draw ({@link firstSilence}) is what a client is asked to
 * get it at: the engine sends a first piece asked later without jitter.
 */
function firstByteBy(profile: Profile, latestS: number): Profile {
  if (firstSilence(profile) >= latestS) return profile;
  const firstDelayMs = Math.floor(latestS - profile.jitterMs / 1000) * 1000;
  return firstDelayMs > profile.firstDelayMs ? { ...profile, firstDelayMs } : profile;
}

/** A reply taken from a whole line: the line after the one it spoke to, its second. */
const replyLine: Evidence = { limit: "lines", value: 2 };

/** Holds within this share of the longest count as as long. */
const nearlyAsLong = 0.9;

/** Of the longest `estimates` (within a tenth), the index of the cheapest by `costs`. */
function cheapestOfBest(estimates: readonly number[], costs: readonly number[]): number {
  const enough = Math.max(...estimates) * nearlyAsLong;
  let choice = 0;
  for (let p = 0; p < estimates.length; p++) {
    if (estimates[p] < enough) continue;
    if (estimates[choice] < enough || costs[p] < costs[choice]) choice = p;
  }
  return choice;
}

/**
 * Whether a client held by `own`, whose longest wait for a piece was `waitedS` seconds,
 * has sat through every silence of `other`: its gaps, and its first, unless that first
 * is drawn no later than the first of `own`, which the client sat through whatever it
 * drew (the slow drip keeps the default's first delay). Only of a profile of the same
 * kind: a client that stood a drip has shown nothing of how it takes a whole line (hydra
 * judges http's status line in one read), nor one given whole lines of a line that takes
 * a minute.
 */
function satThrough(other: Profile, own: Profile, waitedS: number): boolean {
  if ((other.pieceSize === 0) !== (own.pieceSize === 0)) return false;
  const noLaterFirst = other.firstDelayMs <= own.firstDelayMs &&
    firstSilence(other) <= firstSilence(own);
  return (noLaterFirst || firstSilence(other) <= waitedS) && longestGap(other) <= waitedS;
}

/**
 * Whether a client that judged what `own` sent it, as `evidence` shows, would have judged
 * what `other` sends as soon. Its first bytes at once (a verdict): those of `other` come
 * no later, drawn at their latest (as a first byte asked later is sent), and hold at
 * least as much; a whole line holds a drip's first byte, and a drip's first byte is not a
 * whole line, which hydra judges where it waits on a drip. Its Nth line: whole lines
 * both, and the Nth of `other` comes no later. A silence before `own` could have sent
 * anything: `other` could not have sent anything by then either, and lost it as soon
 * (the slow drip keeps the default's first silence, so one client that left the default
 * in it tried both).
 */
function judgedAsSoon(other: Profile, own: Profile, evidence: Evidence): boolean {
  if (evidence.limit === "silence") {
    return soonestFirst(own) >= evidence.value && soonestFirst(other) >= evidence.value;
  }
  if (evidence.limit === "verdict") {
    return (own.pieceSize > 0 || other.pieceSize === 0) &&
      firstSilence(other) <= firstSilence(own);
  }
  if (evidence.limit !== "lines" || own.pieceSize > 0 || other.pieceSize > 0) return false;
  const nth = (profile: Profile) =>
    firstSilence(profile) + (evidence.value - 1) * longestGap(profile);
  return nth(other) <= nth(own);
}
