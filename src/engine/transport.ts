/**
 * The engine's port to the network: what the tarpit needs of connections and listeners,
 * and nothing of how the runtime provides it. `src/runtime/transport.ts` implements it
 * on Deno's internals; the engine's tests implement it in memory.
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
 * How a write ended: the kernel took the bytes at once, or will say later (through
 * {@link Transport.written}), or the peer is gone.
 */
export type WriteOutcome = "sent" | "pending" | Gone;

/** What a listener asks of the engine as connections arrive. */
export interface Admission<C> {
  /** Whether another client may be taken now; when not, they wait in the kernel. */
  hasRoom(): boolean;
  /** Takes a new connection, which has read nothing and never will. */
  admit(connection: C): void;
  /** accept() failed with this error, such as `EMFILE`. */
  failed(code: string): void;
}

/** A listener being served. */
export interface Gate {
  /** Re-arms the listener and takes the connections waiting while there is room. */
  resume(): void;
  /** Stops accepting for good. */
  close(): void;
}

/**
 * Connections of type `C` on listeners of type `L`: one per tarpit. The owner of a
 * pending write (`O`) is handed back when it completes.
 */
export interface Transport<C, L, O> {
  /** Starts accepting on `listener`, asking `admission` about each connection. */
  serve(listener: L, admission: Admission<C>): Gate;
  /** The port a listener serves, which its clients' counters are filed under. */
  localPort(listener: L): number;
  /** The connection's peer, or undefined when it has reset since it connected. */
  peer(connection: C): Peer | undefined;
  /** Lets TCP probe an idle connection after `ms`, so that a vanished peer is noticed. */
  keepAlive(connection: C, ms: number): void;
  /** Writes `bytes` (one character a byte); see {@link WriteOutcome}. */
  write(connection: C, bytes: string, owner: O): WriteOutcome;
  /** Closes a connection; `open` connections remain. */
  close(connection: C, open: number): void;
  /** Whether the process can open another file: a runtime's accept() may fail silently. */
  canOpenAnotherFile(): boolean;
  /** Called when a pending write completes: with the error's name if the peer is gone. */
  written: (owner: O, error: string | undefined) => void;
}
