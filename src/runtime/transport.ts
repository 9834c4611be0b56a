/**
 * The engine's {@link Transport} on Deno: listening sockets are `node:net` servers,
 * connections are the runtime's bare TCP handles.
 *
 * Everything TarPyt relies on that Deno does not document lives in this directory, and
 * only here. Each is proved by a test against the real runtime, so a Deno
 * upgrade that changes one fails that test rather than the tarpit:
 *
 * | internal | used in | proved by |
 * | --- | --- | --- |
 * | `server._handle`: `onconnection(status)`, `accept(handle)`, pausing by not accepting | accept_loop.ts | abuse_test.ts "past --max-clients new clients wait in the backlog" |
 * | `_handle.listen()` re-arms a listener the runtime stopped polling (full, EMFILE) | accept_loop.ts | abuse_test.ts "kernel backlog to overflow", file_limit_test.ts (both) |
 * | a handle made with `new handle.constructor(0)` may be reused after `EAGAIN` | accept_loop.ts | churn_test.ts |
 * | native accept swallows `EMFILE`; `/dev/null` tells | fd_limit.ts | abuse_test.ts "more clients than open files" |
 * | TCP handle `getpeername(out)` fails once the peer reset | client_handle.ts | abuse_test.ts "resets while waiting", "resets after it was accepted" |
 * | TCP handle `setKeepAlive(on, seconds)` | client_handle.ts | vanish_test.ts (as root) |
 * | `process.binding("stream_wrap")`: `WriteWrap`, `kLastWriteWasAsync`, `writeLatin1String` | client_handle.ts | abuse_test.ts "clients that never read", socket_activation_test.ts "ACCEPT and CLOSE lines" |
 * | a closed handle's native memory is freed only by V8's full collection, `gc()` | closed_handles.ts | churn_test.ts |
 * | `gc({ flavor: "last-resort" })` gives back the pages a full collection keeps for reuse | closed_handles.ts | closed_handles_test.ts "a last-resort collection" |
 * | `node:net` `listen({ fd })` adopts a passed socket as it is | listeners.ts | socket_activation_test.ts |
 * | with `--jitless` V8 maps no writable code, so it runs under `MemoryDenyWriteExecute=`; with its JIT it cannot start there | flags.ts (the `tarpyt` task's V8 flags) | v8_flags_test.ts, systemd_boot_test.ts "a V8 with its JIT cannot start" |
 * | a resizable `ArrayBuffer` grown at once has its pages committed only as they are written | zeroed.ts (the learner's table, the engine's client table and pacing clock) | zeroed_test.ts (both) |
 *
 * They were verified on the Deno named by `denoVersion` in `deno.json` (read by
 * flags.ts), which the tests and CI run on and the release binary bundles.
 *
 * @module
 */
import type { Server } from "node:net";
import { getSystemErrorName } from "node:util";
import type {
  Admission,
  Gate,
  Peer,
  PeerWatch,
  Transport,
  WriteOutcome,
} from "../engine/transport.ts";
import { acceptLoop } from "./accept_loop.ts";
import { type ClientHandle, LineWriter, peerOf, writePending } from "./client_handle.ts";
import { ArrivalBursts, ClosedHandleCollector } from "./closed_handles.ts";
import { canOpenAnotherFile } from "./fd_limit.ts";
import { PeerWatcher } from "./peer_watch.ts";

/**
 * Connections as bare runtime handles (see client_handle.ts), on `node:net` servers.
 *
 * @example
 * ```ts ignore
 * import { DenoTransport } from "./transport.ts";
 * import { fullCollection, memoryReducingCollection } from "./closed_handles.ts";
 * const transport = new DenoTransport(fullCollection(), memoryReducingCollection());
 * // new Tarpit({ transport, ... }).serve(server);
 * ```
 */
export class DenoTransport implements Transport<ClientHandle, Server> {
  readonly #writer = new LineWriter();
  readonly #watcher = new PeerWatcher<unknown>();
  readonly #closedHandles: ClosedHandleCollector;
  readonly #arrivals: ArrivalBursts;
  /** Connections accepted and not yet closed. */
  #open = 0;

  /**
   * `collectGarbage` is V8's full collection: only it frees closed handles' memory;
   * `giveBackMemory` collects all it can and gives back what a burst of arrivals left.
   */
  constructor(collectGarbage: () => void, giveBackMemory: () => void) {
    this.#closedHandles = new ClosedHandleCollector(collectGarbage);
    this.#arrivals = new ArrivalBursts(giveBackMemory);
  }

  serve(server: Server, admission: Admission<ClientHandle>): Gate {
    // accept_loop.ts takes over accepting; what errors the server still emits are the
    // listener's, and unhandled they would end the process.
    server.on(
      "error",
      (error: Error & { code?: string }) => admission.failed(error.code ?? error.message),
    );
    const { resume } = acceptLoop(server, {
      hasRoom: () => admission.hasRoom(),
      admit: (handle) => {
        this.#arrivals.arrived(++this.#open);
        admission.admit(handle);
      },
      failed: (code) => admission.failed(code),
    });
    return { resume, close: () => server.close() };
  }

  localPort(server: Server): number {
    const address = server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  peer(handle: ClientHandle): Peer | undefined {
    return peerOf(handle);
  }

  watch<O>(handle: ClientHandle, owner: O, watch: PeerWatch<O>): void {
    this.#watcher.watch(handle, owner, watch as PeerWatch<unknown>);
  }

  keepAlive(handle: ClientHandle, ms: number): void {
    handle.setKeepAlive(true, ms / 1000);
  }

  write<O>(
    handle: ClientHandle,
    bytes: string,
    owner: O,
    written: (owner: O, error?: string) => void,
  ): WriteOutcome {
    const status = this.#writer.write(handle, bytes, owner, written);
    if (status < 0) return { gone: getSystemErrorName(status) };
    return status === writePending ? "pending" : "sent";
  }

  close(handle: ClientHandle): void {
    handle.close();
    this.#closedHandles.closed(--this.#open);
  }

  outOfDescriptors(): boolean {
    return !canOpenAnotherFile();
  }
}
