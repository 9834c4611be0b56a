/**
 * The engine's port to whatever decides how each client is paced: asked once per client,
 * a moment after it arrived, and told when it leaves. Learning (src/learn/) sits behind
 * it; without learning every client gets the first profile.
 *
 * @module
 */
import type { Departure } from "./events.ts";

/**
 * The pacer's choice for a client: its profile, and a tag the engine keeps with the client
 * and gives back whenever it tells of it, so that the pacer can tell apart clients of one
 * source (a scanner and a brute-forcer on one address) without keeping any of its own.
 */
export interface PacerChoice {
  /** An index into the tarpit's profiles. */
  readonly profile: number;
  /** The pacer's own, opaque to the engine; 0 when it has nothing to say. */
  readonly tag: number;
  /**
   * When the first piece comes (ms after the connect), if later than its profile's first
   * delay: then, to the second and never later, without the profile's jitter. A pacer asks
   * for the latest time a client waits, and jitter could only bring it sooner.
   */
  readonly firstDelayMs?: number;
}

/** Picks each client's pacing profile, and hears how each client did. */
export interface Pacer {
  /** A client held this long counts as held as well as any: it is reported then, once. */
  readonly horizonMs: number;
  /**
   * The profile for a new client from `source`, given the first bytes it sent, if any
   * came before it was asked, and its tag.
   */
  choose(source: string, firstBytes: string | undefined): PacerChoice;
  /**
   * A client from `source`, tagged `tag`, has been held {@link Pacer.horizonMs} by
   * `profile`, having waited at most `longestGapMs` for a piece; returns the profile it
   * goes on with, which may be a cheaper one.
   */
  stayed(source: string, tag: number, profile: number, longestGapMs: number): number;
  /**
   * Grows when the pacer learns what may move clients it told to stay on their profile
   * (a cheaper one held a trial's client to the horizon): each is then asked again.
   */
  readonly news: number;
  /**
   * A client from `source`, tagged `tag`, that `profile` held to the horizon before
   * {@link Pacer.news} last grew; returns the profile it goes on with, as
   * {@link Pacer.stayed} does, without counting its hold again.
   */
  reconsider(source: string, tag: number, profile: number): number;
  /**
   * A client from `source`, tagged `tag`, answered and went on, still there at its next
   * turn (src/engine/tarpit.ts, `#spoke` and `#wentOn`): it took something it was sent
   * for a reply, so what it took before for a greeting, after `profile` had held it
   * `heldMs`, let it make progress. It is held on, but as far as it is concerned it was
   * held only until then.
   */
  answered(source: string, tag: number, profile: number, heldMs: number): void;
  /**
   * A client from `source`, tagged `tag`, left; returns the name of the family it was
   * seen to be.
   */
  departed(source: string, tag: number, departure: Departure): string;
}

/**
 * Every client gets the first profile, and no family is named.
 *
 * @example
 * ```ts
 * import { fixedPacer } from "./pacer.ts";
 * fixedPacer.choose("192.0.2.1", undefined); // { profile: 0, tag: 0 }
 * ```
 */
export const fixedPacer: Pacer = {
  horizonMs: Infinity,
  choose: () => ({ profile: 0, tag: 0 }),
  stayed: (_source, _tag, profile) => profile,
  news: 0,
  reconsider: (_source, _tag, profile) => profile,
  answered: () => {},
  departed: () => "unknown",
};
