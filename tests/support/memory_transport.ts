/**
 * The engine's transport in memory: connections that record what they were sent and
 * misbehave on cue (reset, stall, close their end, send first bytes), and listeners whose
 * backlog the test fills. With tests/support/fake_clock.ts it runs the engine and the
 * service to the millisecond, the same on any machine.
 *
 * @module
 */
import type {
  Admission,
  Gate,
  Peer,
  PeerWatch,
  Transport,
  WriteOutcome,
} from "../../src/engine/transport.ts";
import { peerReadLimit } from "../../src/engine/transport.ts";
import type { Departure } from "../../src/engine/events.ts";
import { assert } from "./assert.ts";

/** A connection in memory: what it was sent, and how it behaves. */
export class Connection {
  received = "";
  closed = false;
  keepAliveMs = 0;
  /** The peer has reset: its address is gone and writes fail. */
  reset = false;
  /** The peer does not read: writes are left pending until {@link MemoryTransport.drain}. */
  stalled = false;
  pending:
    | { bytes: string; owner: unknown; written: (owner: unknown, error?: string) => void }
    | undefined;
  /** Bytes the transport read of it. */
  read = 0;
  watch: { owner: unknown; watch: PeerWatch<unknown> } | undefined;

  constructor(readonly host: string, readonly port: number) {}

  /** The peer sends `bytes`, which the watch reads up to its limit. */
  send(bytes: string): void {
    const watched = this.watch;
    if (watched === undefined) return;
    const before = this.read;
    this.read += bytes.length;
    if (before === 0) watched.watch.sent(watched.owner, bytes.slice(0, 255));
    if (bytes.length > 0) watched.watch.spoke(watched.owner);
    if (this.read >= peerReadLimit) {
      this.watch = undefined;
      watched.watch.stopped(watched.owner);
    }
  }

  /**
   * The peer closes its end (FIN): the watch sees it, if it still watches. A peer that
   * left for good answers the next write with a reset; one that `halfCloses` reads on.
   */
  closeEnd(halfCloses = false): void {
    this.closedEnd = halfCloses ? "half" : "full";
    const watched = this.watch;
    this.watch = undefined;
    watched?.watch.left(watched.owner, "EOF");
  }

  /** How the peer closed its end, if it did. */
  closedEnd: "half" | "full" | undefined;

  /** The peer resets: the watch sees it at once; writes fail from now on. */
  resetNow(): void {
    this.reset = true;
    const watched = this.watch;
    this.watch = undefined;
    watched?.watch.left(watched.owner, "ECONNRESET");
  }
}

/** A listener in memory: connections wait in its backlog until admitted. */
export class Listener {
  readonly backlog: Connection[] = [];
  admission: Admission<Connection> | undefined;
  resumes = 0;
  closed = false;
  constructor(readonly port: number) {}
}

/** The engine's {@link Transport} over {@link Connection}s and {@link Listener}s. */
export class MemoryTransport implements Transport<Connection, Listener> {
  /** Whether the process may open another file. */
  files = true;
  /** Every write, in order, as `[connection, bytes]`. */
  readonly writes: [Connection, string][] = [];

  serve(listener: Listener, admission: Admission<Connection>): Gate {
    listener.admission = admission;
    return {
      resume: () => {
        listener.resumes++;
        this.acceptWaiting(listener);
      },
      close: () => listener.closed = true,
    };
  }

  /** What the runtime does when connections arrive: accept while there is room. */
  acceptWaiting(listener: Listener): void {
    while (listener.backlog.length > 0 && listener.admission?.hasRoom()) {
      listener.admission.admit(listener.backlog.shift()!);
    }
  }

  localPort(listener: Listener): number {
    return listener.port;
  }

  peer(connection: Connection): Peer | undefined {
    return connection.reset ? undefined : { address: connection.host, port: connection.port };
  }

  watch<O>(connection: Connection, owner: O, watch: PeerWatch<O>): void {
    connection.watch = { owner, watch: watch as PeerWatch<unknown> };
  }

  keepAlive(connection: Connection, ms: number): void {
    connection.keepAliveMs = ms;
  }

  write<O>(
    connection: Connection,
    bytes: string,
    owner: O,
    written: (owner: O, error?: string) => void,
  ): WriteOutcome {
    assert(connection.pending === undefined, "a write while one is pending");
    this.writes.push([connection, bytes]);
    if (connection.reset) return { gone: "ECONNRESET" };
    if (connection.stalled) {
      connection.pending = {
        bytes,
        owner,
        written: written as (owner: unknown, error?: string) => void,
      };
      return "pending";
    }
    connection.received += bytes;
    // A peer that left answers a write with a reset.
    if (connection.closedEnd === "full") connection.reset = true;
    return "sent";
  }

  /** The kernel takes a stalled connection's pending piece, or fails it. */
  drain(connection: Connection, error?: string): void {
    const { bytes, owner, written } = connection.pending!;
    connection.pending = undefined;
    if (error === undefined) connection.received += bytes;
    written(owner, error);
  }

  close(connection: Connection): void {
    assert(!connection.closed, "closed twice");
    connection.closed = true;
    connection.watch = undefined;
  }

  outOfDescriptors(): boolean {
    return !this.files;
  }
}

/**
 * A departure record for tests: a client that closed after `heldMs`, with `changes`; its
 * lines and pieces all on its last profile unless they say otherwise.
 */
export function departure(heldMs: number, changes: Partial<Departure> = {}): Departure {
  const { lines = 0, pieces = 0 } = changes;
  return {
    heldMs,
    aliveMs: heldMs,
    leftBy: "closed",
    bytes: 0,
    lines,
    pieces,
    profileLines: lines,
    profilePieces: pieces,
    silenceMs: 0,
    longestGapMs: 0,
    lineBytes: 0,
    lineMs: 0,
    profile: 0,
    profileSinceMs: 0,
    greetedMs: Infinity,
    answeredMs: Infinity,
    counted: false,
    ...changes,
  };
}
