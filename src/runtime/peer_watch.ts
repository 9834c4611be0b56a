/**
 * Watching a peer through its connection's own reads, at no cost per read: every read
 * lands in one small buffer shared by all clients, the first is handed on once, and
 * reading stops for good after `peerReadLimit` bytes.
 *
 * The tarpit must know when a client leaves, and a peer that closes its end (FIN) tells
 * only a reader: a write to it still succeeds, and getpeername(2) still answers. Reading
 * until a bound is the one way the runtime offers without `--allow-ffi` (no poll(2) for
 * POLLRDHUP, no TCP_INFO), and it also shows a reset or a keepalive timeout as it happens.
 * The price is the runtime's own state for a handle that reads, measured per client by
 * `deno task bench` (memory per client).
 *
 * @module
 */
import { getSystemErrorName } from "node:util";
import { firstBytesLimit, peerReadLimit, type PeerWatch } from "../engine/transport.ts";
import { type ClientHandle, lastReadResult } from "./client_handle.ts";

/** A handle being watched, with what the watch keeps on it. */
interface WatchedHandle<O> extends ClientHandle {
  /** The engine's client. */
  watchOwner?: O;
  /** Bytes read so far. */
  watchRead?: number;
}

/** Every read of every watched peer lands here, and is looked at before the next. */
const sharedBuffer = new Uint8Array(firstBytesLimit + 1);
const latin1 = new TextDecoder("latin1");

/**
 * Watches handles for one engine: one `onread` function shared by every handle.
 *
 * @example
 * ```ts ignore
 * const watcher = new PeerWatcher();
 * watcher.watch(handle, client, {
 *   sent: (client, firstBytes) => console.log(firstBytes),
 *   spoke: (client) => {},
 *   left: (client, code) => drop(client),
 *   stopped: () => {},
 * });
 * ```
 */
export class PeerWatcher<O> {
  #watch: PeerWatch<O> | undefined;
  readonly #onread: (this: WatchedHandle<O>) => void;

  constructor() {
    const read = (handle: WatchedHandle<O>): void => this.#read(handle, lastReadResult());
    this.#onread = function (this: WatchedHandle<O>): void {
      read(this);
    };
  }

  /** Starts watching `handle` for `owner`; `watch` hears what it does. */
  watch(handle: ClientHandle, owner: O, watch: PeerWatch<O>): void {
    this.#watch = watch;
    const watched = handle as WatchedHandle<O>;
    watched.watchOwner = owner;
    watched.watchRead = 0;
    watched.onread = this.#onread as (this: ClientHandle) => void;
    watched.useUserBuffer(sharedBuffer);
    watched.readStart();
  }

  #read(handle: WatchedHandle<O>, result: number): void {
    const watch = this.#watch;
    const owner = handle.watchOwner as O;
    if (watch === undefined) return;
    if (result < 0) {
      handle.readStop();
      watch.left(owner, getSystemErrorName(result));
      return;
    }
    const before = handle.watchRead ?? 0;
    handle.watchRead = before + result;
    if (before === 0 && result > 0) {
      watch.sent(owner, latin1.decode(sharedBuffer.subarray(0, Math.min(result, firstBytesLimit))));
    }
    if (result > 0) watch.spoke(owner);
    if (before + result >= peerReadLimit) {
      handle.readStop();
      watch.stopped(owner);
    }
  }
}
