/**
 * What the engine reports: one event per listener served, per client accepted, refused
 * or gone, and for trouble (full, out of file descriptors, accept failing); never one per
 * piece sent. The log (src/log/tarpit_lines.ts), the counters (src/stats/trap_stats.ts),
 * and so the metrics and systemd's status line, read these and nothing else of the
 * engine's insides.
 *
 * @module
 */

/** A trapped client, as events name it: endlessh's fields, and its source. */
export interface ClientRef {
  /** Its address: plain IPv4 for an IPv4 peer of a dual-stack socket. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  /** endlessh logs the fd; Deno does not expose it, so this is a connection number. */
  readonly id: number;
  /** The port it connected to. */
  readonly localPort: number;
  /** Who it counts as for `--max-per-ip` and learning: its IPv4 address or IPv6 /64. */
  readonly source: string;
}

/**
 * How a client's leaving was seen:
 * - `closed`: it closed its end (FIN), seen as it happened;
 * - `reset`: it reset, or TCP keepalive found it vanished, seen as it happened;
 * - `write`: a write to it failed, so it left some time before;
 * - `ended`: its protocol had nothing more to send and it could no longer be watched, so
 *   it was closed after the bound on silence, present or not;
 * - `lifetime`: it was closed at `--max-lifetime`, still there;
 * - `shutdown`: the tarpit stopped, with it still there.
 */
export type LeftBy = "closed" | "reset" | "write" | "ended" | "lifetime" | "shutdown";

/**
 * What the engine knows of a client when it leaves: the record learning reads. A departure
 * seen as it happened (`closed`, `reset`) is a time; one noticed later (`write`, `ended`)
 * is known only to lie between `aliveMs` and `heldMs`; one the tarpit caused (`lifetime`,
 * `shutdown`) says only that the client would have stayed at least `heldMs`.
 */
export interface Departure {
  /** From its connect to when its leaving was seen, or to when it was closed. */
  readonly heldMs: number;
  /** Until when it was surely there: `heldMs`, or less when its leaving was noticed late. */
  readonly aliveMs: number;
  /** How its leaving was seen. */
  readonly leftBy: LeftBy;
  /** Bytes the kernel took for it. */
  readonly bytes: number;
  /** Lines it was sent whole. */
  readonly lines: number;
  /** Pieces it was sent. */
  readonly pieces: number;
  /** Lines it was sent whole on its last profile: `lines`, unless the pacer changed it. */
  readonly profileLines: number;
  /** Pieces it was sent on its last profile. */
  readonly profilePieces: number;
  /** Time since its last piece (or since it connected, before the first) at `heldMs`. */
  readonly silenceMs: number;
  /** The longest it waited for a piece before, its first included. */
  readonly longestGapMs: number;
  /** Bytes it had of the line it was being sent; 0 between lines. */
  readonly lineBytes: number;
  /**
   * Time it had waited for that line: since the line before it ended, or since it
   * connected; 0 between lines.
   */
  readonly lineMs: number;
  /** The pacing profile it was sent with last (an index into the protocol's profiles). */
  readonly profile: number;
  /** When, after its connect, that profile began: 0, or when the pacer changed it. */
  readonly profileSinceMs: number;
  /**
   * When, after its connect, it first spoke after a piece: it took what it had been sent
   * by then for a greeting. Infinity if it never did.
   */
  readonly greetedMs: number;
  /**
   * When, after its connect, it answered: spoke after a piece, having spoken after an
   * earlier one, so took something it was sent for a reply; and went on, still there at
   * its next turn. Infinity if it never did, or left at once.
   */
  readonly answeredMs: number;
  /**
   * Whether its last profile had held it the pacer's horizon, and the pacer was told so
   * (`Pacer.stayed`): its hold counted then, and its leaving tells nothing more of it.
   */
  readonly counted: boolean;
}

/** One event of the engine. */
export type TarpitEvent =
  /** A listener is served: its port has counters from now on, clients or not. */
  | { readonly type: "serve"; readonly localPort: number }
  /** A client was taken; `held` of `max` are held now. */
  | {
    readonly type: "accept";
    readonly client: ClientRef;
    readonly held: number;
    readonly max: number;
  }
  /** A client left, or was closed; `family` names what its leaving looks like. */
  | {
    readonly type: "close";
    readonly client: ClientRef;
    readonly departure: Departure;
    /** A client family's name, or `unknown` (see src/learn/families.ts). */
    readonly family: string;
    /** The error that told, when a write or the watch saw it go. */
    readonly error?: string;
  }
  /** A connection from a source that held `fromHost` clients, the most it may. */
  | {
    readonly type: "refuse";
    readonly host: string;
    readonly port: number;
    readonly localPort: number;
    readonly fromHost: number;
  }
  /** A connection that reset while it waited to be accepted. */
  | { readonly type: "gone" }
  /** All slots are held: `times` fills since the last report. */
  | { readonly type: "full"; readonly held: number; readonly max: number; readonly times: number }
  /** No file descriptor to spare: `times` times since the last report. */
  | {
    readonly type: "file-limit";
    readonly held: number;
    readonly max: number;
    readonly times: number;
  }
  /** accept() failed with `code`, another error than running out of files. */
  | { readonly type: "accept-failed"; readonly code: string; readonly times: number };

/**
 * For the `default` of a switch over {@link TarpitEvent}: fails to compile when an event
 * type is left unhandled.
 *
 * @example
 * ```ts
 * import { type TarpitEvent, unhandled } from "./events.ts";
 * function name(event: TarpitEvent): string {
 *   switch (event.type) {
 *     case "serve": case "accept": case "close": case "refuse": case "gone": case "full":
 *     case "file-limit": case "accept-failed":
 *       return event.type;
 *     default:
 *       return unhandled(event);
 *   }
 * }
 * ```
 */
export function unhandled(event: never): never {
  throw new Error(`unhandled event ${JSON.stringify(event)}`);
}
