/**
 * A trapped client held as the runtime's own TCP handle, with no `node:net` Socket
 * around it.
 *
 * A Socket is a full duplex stream: readable and writable state, buffers, an event
 * emitter. The tarpit reads nothing and writes one short line at a time, so it needs
 * none of that. Held bare, a client costs less than the runtime's own floor, a server
 * that only holds `pauseOnConnect` Sockets (`deno task bench` measures both side by side).
 *
 * Writes go through the handle's `writeLatin1String(req, line)` with a `WriteWrap`
 * request, as `node:net` does: the write either completes at once, or is left to the
 * runtime and completes later with `req.oncomplete(status)`.
 *
 * A peer is watched with the handle's own reads, `readStart()` and `onread`, as
 * `node:net` reads: `useUserBuffer(buffer)` makes every read land in one small buffer
 * shared by all clients, so watching allocates nothing per read, and `readStop()` ends it.
 * A peer that closes its end is a read of `UV_EOF`; one that resets, a read of
 * `ECONNRESET`. The tests named in transport.ts exercise every path against the real
 * runtime.
 *
 * @module
 */
import process from "node:process";
import { getSystemErrorName } from "node:util";
import { denoVersion } from "./flags.ts";
import { plainAddress } from "../text/address.ts";

/** The slice of the runtime's TCP handle a trapped client needs. */
export interface ClientHandle {
  /** Fills `out` with the peer's address and port; a negative errno when it has gone. */
  getpeername(out: { address?: string; port?: number }): number;
  /** `delaySeconds` of idle time before the first probe. */
  setKeepAlive(enable: boolean, delaySeconds: number): number;
  /**
   * Writes `data` as latin1 with `req`: a negative errno when it failed; whether it is still
   * under way is in the stream binding's state ({@link LineWriter.write} reads it).
   */
  writeLatin1String(req: object, data: string): number;
  /** Closes the connection and releases the handle; no `onread` comes after. */
  close(): void;
  /** Makes every read land in `buffer`, at most its length at a time. */
  useUserBuffer(buffer: Uint8Array): unknown;
  /** Starts reading: `onread` is called for every read, its size or error in the binding's state. */
  readStart(): number;
  /** Stops reading. */
  readStop(): number;
  /** Called with the handle as `this` after each read. */
  onread?: (this: ClientHandle) => void;
}

interface StreamBinding {
  WriteWrap: new () => WriteRequest;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
  kReadBytesOrError: number;
}

interface WriteRequest {
  owner: unknown;
  done: ((owner: unknown, error?: string) => void) | undefined;
  oncomplete: (this: WriteRequest, status: number) => void;
}

/** The runtime's node stream binding: write requests, and the state of the last read or write. */
const stream: StreamBinding = streamBinding();

/** A write that the runtime took but has not finished: its outcome comes later. */
export const writePending = 1;

/**
 * The peer's address and port, or undefined when the peer has already reset the
 * connection: the kernel then answers `getpeername(2)` with `ENOTCONN`. A connect scan
 * (`nmap -sT`) does that as soon as the handshake completes, before it is accepted.
 *
 * @example
 * ```ts ignore
 * const peer = peerOf(handle);
 * if (peer === undefined) handle.close(); // nobody left to trap
 * ```
 */
export function peerOf(handle: ClientHandle): { address: string; port: number } | undefined {
  const out = peerName;
  out.address = out.port = undefined;
  if (handle.getpeername(out) < 0 || out.address === undefined) return undefined;
  return { address: plainAddress(out.address), port: out.port ?? 0 };
}

/** What getpeername(2) fills, one for every call: it is read at once. */
const peerName: { address?: string; port?: number } = {};

/**
 * Writes lines to client handles; one per transport, so that every write shares one
 * completion function and most writes reuse one request.
 *
 * @example
 * ```ts ignore
 * const writer = new LineWriter();
 * const result = writer.write(handle, "hello\r\n", client, (client, error) => {
 *   if (error !== undefined) drop(client); // the peer left: EPIPE, ECONNRESET
 * });
 * // 0: written; writePending: see the callback; < 0: failed at once (a negative errno)
 * ```
 */
export class LineWriter {
  readonly #binding = stream;
  /**
   * A request the runtime no longer holds: a write that completed at once, the common
   * case, leaves its request free for the next one, so most writes allocate none.
   */
  #spare: WriteRequest | undefined;

  /** Writes `line` (one character per byte); see the class example for the result. */
  write<T>(
    handle: ClientHandle,
    line: string,
    owner: T,
    done: (owner: T, error?: string) => void,
  ): number {
    const req = this.#spare ?? new this.#binding.WriteWrap();
    this.#spare = undefined;
    req.owner = owner;
    req.done = done as (owner: unknown, error?: string) => void;
    req.oncomplete = completeWrite;
    const status = handle.writeLatin1String(req, line);
    if (status >= 0 && this.#binding.streamBaseState[this.#binding.kLastWriteWasAsync]) {
      return writePending; // the runtime holds the request until it calls oncomplete
    }
    req.owner = req.done = undefined;
    this.#spare = req;
    return status < 0 ? status : 0;
  }
}

function completeWrite(this: WriteRequest, status: number): void {
  const { owner, done } = this;
  this.owner = this.done = undefined;
  done?.(owner, status < 0 ? getSystemErrorName(status) : undefined);
}

/** The runtime's read-size-or-error of the last read, as `onread` sees it. */
export function lastReadResult(): number {
  return stream.streamBaseState[stream.kReadBytesOrError];
}

function streamBinding(): StreamBinding {
  const binding: unknown = (process as unknown as { binding(name: string): unknown })
    .binding("stream_wrap");
  if (
    typeof binding === "object" && binding !== null &&
    "WriteWrap" in binding && typeof binding.WriteWrap === "function" &&
    "streamBaseState" in binding && binding.streamBaseState instanceof Int32Array &&
    "kLastWriteWasAsync" in binding && typeof binding.kLastWriteWasAsync === "number" &&
    "kReadBytesOrError" in binding && typeof binding.kReadBytesOrError === "number"
  ) {
    return binding as StreamBinding;
  }
  // The binary bundles the Deno it was tested with; only running the source on another
  // Deno can get here.
  throw new Error(
    `this Deno (${Deno.version.deno}) has no node stream_wrap binding with WriteWrap; ` +
      `run TarPyt on Deno ${denoVersion}, the version it is tested on`,
  );
}
