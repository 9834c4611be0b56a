/**
 * What the engine reports: one event per listener served, per client accepted, refused
 * or closed, and for trouble (full, out of file descriptors, accept failing); never one
 * per piece sent. The log (src/log/events.ts) and the counters (src/stats/trap_stats.ts),
 * and so the metrics and systemd's status line, read these and nothing else of the
 * engine's insides.
 *
 * @module
 */

/** A trapped client, as events name it: endlessh's fields. */
export interface ClientRef {
  /** Its address: plain IPv4 for an IPv4 peer of a dual-stack socket. */
  readonly host: string;
  /** Its port. */
  readonly port: number;
  /** endlessh logs the fd; Deno does not expose it, so this is a connection number. */
  readonly id: number;
  /** The port it connected to. */
  readonly localPort: number;
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
  /** A client left, or was closed, after `trappedMs`, having taken `bytes`. */
  | {
    readonly type: "close";
    readonly client: ClientRef;
    readonly trappedMs: number;
    readonly bytes: number;
    /** Why, when it was not the tarpit's choice: the write error that told it. */
    readonly error?: string;
  }
  /** A connection from an address that held `fromHost` clients, the most it may. */
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
  /** accept() failed with `code`, `times` times since the last report. */
  | { readonly type: "accept-failed"; readonly code: string; readonly times: number };
