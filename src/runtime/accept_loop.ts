/**
 * Accepting clients only while there is room, so that a full tarpit leaves new clients
 * waiting in the kernel's listen backlog, as endlessh does, instead of accepting and
 * closing them or spinning.
 *
 * `node:net` has no API to pause accepting, and closing the server would close the
 * socket systemd passed for good. Deno's `node:net` server handle follows libuv: its
 * native side takes pending connections off the kernel queue (at most 128) and calls
 * `handle.onconnection(0)`; JavaScript then takes one with `handle.accept(newHandle)`.
 * This module replaces `onconnection` so it accepts only while `hasRoom()`, and
 * {@link AcceptGate.resume} accepts the waiting ones when room frees up.
 *
 * One more step is needed after a pause. Once `onconnection` has taken nothing, the
 * runtime stops polling the listener: it hands over what it had already taken, then
 * nothing, however long connections wait in the kernel. It stops the same way when its
 * own accept() fails with `EMFILE`, and tells JavaScript nothing. Calling
 * `handle.listen()` again re-arms it without a syscall: no `listen(2)`, the kernel
 * backlog is unchanged, no fd is opened, nothing is allocated. The tests named in
 * transport.ts prove the pause and the recovery against the real runtime.
 *
 * Every accept needs a fresh handle to accept into, and the runtime registers each handle
 * with its event loop when it is made, until it is closed. The handle of an attempt that
 * found the queue empty is therefore kept for the next attempt, not dropped: dropped, it
 * would stay registered for ever, native memory and one more handle the event loop polls
 * on every turn, once per wakeup (`deno task churn` measures what is left behind, and
 * tests/system/churn_test.ts bounds it).
 *
 * @module
 */
import type { Server } from "node:net";
import { getSystemErrorName } from "node:util";
import { denoVersion } from "./flags.ts";
import type { ClientHandle } from "./client_handle.ts";
import { listenBacklog } from "./listeners.ts";

/** What the accept loop asks of the tarpit. */
export interface AcceptHandlers {
  /** Whether another client may be taken now. */
  hasRoom(): boolean;
  /**
   * Takes a new client: the runtime's handle for its connection, which has read nothing
   * and never will (nothing starts reading it), so a flooding client fills its own
   * kernel buffers, not ours.
   */
  admit(handle: ClientHandle): void;
  /** accept() failed, e.g. `EMFILE`; called once per failed attempt. */
  failed(code: string): void;
}

/** Resumes accepting after the tarpit had no room, or the process no file descriptor. */
export interface AcceptGate {
  /** Re-arms the listener, then accepts waiting clients for as long as there is room. */
  resume(): void;
}

/** The slice of Deno's native listening handle this module relies on. */
interface NativeListenHandle {
  onconnection: (status: number) => void;
  accept(client: object): number;
  listen(backlog: number): number;
}

const uvEAGAIN = -11;
const socketHandleType = 0; // TCP/Pipe constructor argument for a connection, not a server

/**
 * Takes over accepting on a listening `server`.
 *
 * @example
 * ```ts
 * import { acceptLoop } from "./accept_loop.ts";
 * import { createServer } from "node:net";
 * import type { ClientHandle } from "./client_handle.ts";
 * const clients = new Set<ClientHandle>();
 * const server = createServer().listen(2222);
 * const gate = acceptLoop(server, {
 *   hasRoom: () => clients.size < 100,
 *   admit: (handle) => clients.add(handle),
 *   failed: (code) => console.error("accept failed:", code),
 * });
 * // when a client leaves: handle.close(); clients.delete(handle); gate.resume();
 * ```
 */
export function acceptLoop(server: Server, handlers: AcceptHandlers): AcceptGate {
  const handle = nativeListenHandle(server);
  const ClientHandle = handle.constructor as new (type: number) => object;

  let unused: object | undefined;
  const acceptWhileRoom = (): void => {
    while (handlers.hasRoom()) {
      const client = unused ?? new ClientHandle(socketHandleType);
      const status = handle.accept(client);
      unused = status === 0 ? undefined : client;
      if (status === uvEAGAIN) return;
      if (status !== 0) return handlers.failed(getSystemErrorName(status));
      handlers.admit(client as ClientHandle);
    }
  };
  handle.onconnection = (status: number): void => {
    if (status !== 0) return handlers.failed(getSystemErrorName(status));
    acceptWhileRoom();
  };
  const resume = (): void => {
    // Only re-arms the runtime's polling: the listening socket keeps its backlog. Were the
    // runtime to call listen(2) again, it would get the one `--listen` asks for.
    handle.listen(listenBacklog);
    acceptWhileRoom();
  };
  return { resume };
}

/**
 * Re-arms the runtime's polling of a listening `server` that accepts the node:net way
 * (the metrics socket): after its own accept() failed with EMFILE, the runtime stops
 * polling it, as it does the tarpit's (see the module comment).
 *
 * @example
 * ```ts ignore
 * setInterval(() => rearmListener(metricsServer), 1_000);
 * ```
 */
export function rearmListener(server: Server): void {
  nativeListenHandle(server).listen(listenBacklog);
}

function nativeListenHandle(server: Server): NativeListenHandle {
  const handle: unknown = (server as unknown as { _handle?: unknown })._handle;
  if (
    typeof handle === "object" && handle !== null &&
    "accept" in handle && typeof handle.accept === "function" &&
    "onconnection" in handle && typeof handle.onconnection === "function" &&
    "listen" in handle && typeof handle.listen === "function"
  ) {
    return handle as NativeListenHandle;
  }
  // The binary bundles the Deno it was tested with; only running the source on another
  // Deno can get here.
  throw new Error(
    `this Deno (${Deno.version.deno}) has no libuv-style listen handle in node:net; ` +
      `run TarPyt on Deno ${denoVersion}, the version it is tested on`,
  );
}
