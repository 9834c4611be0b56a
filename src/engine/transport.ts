/**
 * The engine's port to the network: what the tarpit needs of connections and listeners,
 * and nothing of how the runtime provides it. `src/runtime/transport.ts` implements it
 * on Deno's internals; the engine's tests implement it in memory
 * (`tests/support/memory_transport.ts`).
 *
 * Every callback the transport makes is handed to it with the call it answers, so the
 * port has no state the engine sets on it.
 *
 * @module
 */

/** A peer's address (plain IPv4 for an IPv4 peer of a dual-stack socket) and port. */
export interface Peer {
  /** The peer's address. */
  readonly address: string;
  /** The peer's port. */
  readonly port: number;
}

/** A write that failed because the peer is gone: the error's name (`EPIPE`, `ECONNRESET`). */
export interface Gone {
  /** The error's name. */
  readonly gone: string;
}

/**
 * How a write ended: the kernel took the bytes at once, or will say later (through the
 * `written` callback given with the write), or the peer is gone.
 */
export type WriteOutcome = "sent" | "pending" | Gone;

/** What a listener asks of the engine as connections arrive. */
export interface Admission<C> {
  /** Whether another client may be taken now; when not, they wait in the kernel. */
  hasRoom(): boolean;
  /** Takes a new connection, which nothing has read. */
  admit(connection: C): void;
  /**
   * Accepting failed with this error, such as `EMFILE` when the process is out of file
   * descriptors.
   */
  failed(code: string): void;
}

/** A listener being served. */
export interface Gate {
  /**
   * Re-arms the listener and takes the connections waiting while there is room. Cheap
   * enough to call whenever a client leaves: no system call unless one is waiting.
   */
  resume(): void;
  /** Stops accepting for good. */
  close(): void;
}

/**
 * What a watched peer does, reported for its `owner`: the most the transport reads of a
 * peer is {@link peerReadLimit} bytes, and the engine sees only the first chunk of them.
 */
export interface PeerWatch<O> {
  /** The first bytes the peer sent (one character a byte, at most {@link firstBytesLimit}). */
  sent(owner: O, firstBytes: string): void;
  /** The peer sent something: called for every read, the first included, after `sent`. */
  spoke(owner: O): void;
  /**
   * The peer left while watched: `EOF` when it closed its end, else the error's name
   * (`ECONNRESET`, or `ETIMEDOUT` when keepalive found it vanished).
   */
  left(owner: O, code: string): void;
  /** {@link peerReadLimit} bytes were read: the peer is no longer watched. */
  stopped(owner: O): void;
}

/** The first bytes of a peer handed to the engine: a version string or a request line. */
export const firstBytesLimit = 255;

/**
 * The most bytes read from one peer, ever: enough to see a client's opening (an SSH
 * version and KEXINIT, an HTTP request) and its close after it; past it, reading stops and
 * a flooding client fills its own kernel buffers, as it does when nothing reads it.
 */
export const peerReadLimit = 4096;

/** Connections of type `C` on listeners of type `L`: one per tarpit. */
export interface Transport<C, L> {
  /** Starts accepting on `listener`, asking `admission` about each connection. */
  serve(listener: L, admission: Admission<C>): Gate;
  /** The port a listener serves, which its clients' counters are filed under. */
  localPort(listener: L): number;
  /** The connection's peer, or undefined when it has reset since it connected. */
  peer(connection: C): Peer | undefined;
  /**
   * Watches the peer until it leaves, the connection is closed, or
   * {@link peerReadLimit} bytes were read: reports its first bytes and its leaving.
   */
  watch<O>(connection: C, owner: O, watch: PeerWatch<O>): void;
  /** Lets TCP probe an idle connection after `ms`, so that a vanished peer is noticed. */
  keepAlive(connection: C, ms: number): void;
  /**
   * Writes `bytes` (one character a byte); see {@link WriteOutcome}. A pending write
   * ends with `written(owner)`, or `written(owner, error)` when the peer is gone.
   */
  write<O>(
    connection: C,
    bytes: string,
    owner: O,
    written: (owner: O, error?: string) => void,
  ): WriteOutcome;
  /** Closes a connection; nothing is reported for it after. */
  close(connection: C): void;
  /**
   * Whether the process is out of file descriptors now. A runtime may swallow the
   * `EMFILE` of its own accept(), so this asks the kernel directly, at a cost: called once
   * a heartbeat, not per client.
   */
  outOfDescriptors(): boolean;
}
