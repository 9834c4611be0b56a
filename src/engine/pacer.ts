/**
 * The engine's port to whatever decides how each client is paced: asked once per client,
 * a moment after it arrived, and told when it leaves. Learning (src/learn/) sits behind
 * it; without learning every client gets the first profile.
 *
 * @module
 */
import type { Departure } from "./events.ts";

/** Picks each client's pacing profile, and hears how each client did. */
export interface Pacer {
  /** A client held this long counts as held as well as any: it is reported then, once. */
  readonly horizonMs: number;
  /**
   * The profile (an index into the tarpit's profiles) for a new client from `source`,
   * given the first bytes it sent, if any came before it was asked.
   */
  choose(source: string, firstBytes: string | undefined): number;
  /**
   * A client from `source` has been held {@link Pacer.horizonMs} by `profile`, having
   * waited at most `longestGapMs` for a piece; returns the profile it goes on with, which
   * may be a cheaper one.
   */
  stayed(source: string, profile: number, longestGapMs: number): number;
  /** A client from `source` left; returns the name of the family it was seen to be. */
  departed(source: string, departure: Departure): string;
}

/**
 * Every client gets the first profile, and no family is named.
 *
 * @example
 * ```ts
 * import { fixedPacer } from "./pacer.ts";
 * fixedPacer.choose("192.0.2.1", undefined); // 0
 * ```
 */
export const fixedPacer: Pacer = {
  horizonMs: Infinity,
  choose: () => 0,
  stayed: (_, profile) => profile,
  departed: () => "unknown",
};
