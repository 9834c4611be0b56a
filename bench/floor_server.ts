/**
 * The runtime's floor: a server that accepts the way TarPyt does (bare TCP handles,
 * src/runtime/accept_loop.ts), watches each peer the way TarPyt does, closing it when it
 * leaves (src/runtime/peer_watch.ts), and holds what it accepts; given a delay, it also
 * writes each client one fixed line per delay the way TarPyt writes
 * (src/runtime/client_handle.ts) and closes it once a write fails, collecting closed
 * handles as TarPyt does (src/runtime/closed_handles.ts); paced by one FIFO, as endlessh
 * paces, with no protocol, event or log.
 * `bench/bench.ts` runs it beside TarPyt, with the same V8 flags, so TarPyt's memory and
 * CPU read against the runtime's own in one run.
 *
 * `deno run --allow-net bench/floor_server.ts PORT [DELAY_MS]`
 *
 * @module
 */
import { createServer } from "node:net";
import { acceptLoop } from "../src/runtime/accept_loop.ts";
import { type ClientHandle, LineWriter } from "../src/runtime/client_handle.ts";
import { ClosedHandleCollector, fullCollection } from "../src/runtime/closed_handles.ts";
import { PeerWatcher } from "../src/runtime/peer_watch.ts";
import type { PeerWatch } from "../src/engine/transport.ts";

const [port, delayMs] = [Number(Deno.args[0]), Number(Deno.args[1] ?? 0)];
// Clients in the order their next line is due: all wait the same delay, so appending
// keeps the order (endlessh's FIFO). Two arrays, not an object per entry, so that a line
// allocates nothing here.
const handles: ClientHandle[] = [];
const dueAts: number[] = [];
let head = 0;
const collector = new ClosedHandleCollector(fullCollection());
// Closed, and skipped by the queue when their turn comes, which forgets them then.
const gone = new Set<ClientHandle>();
let open = 0;
const close = (handle: ClientHandle): void => {
  if (gone.has(handle)) return;
  if (delayMs > 0) gone.add(handle);
  handle.close();
  collector.closed(--open);
};
const watcher = new PeerWatcher<ClientHandle>();
const watch: PeerWatch<ClientHandle> = {
  sent: () => {},
  spoke: () => {},
  left: close,
  stopped: () => {},
};
const server = createServer().listen({ host: "127.0.0.1", port });
server.once("listening", () =>
  acceptLoop(server, {
    hasRoom: () => true,
    admit: (handle) => {
      open++;
      watcher.watch(handle, handle, watch);
      if (delayMs === 0) return;
      handles.push(handle);
      dueAts.push(performance.now() + delayMs);
    },
    failed: (code) => console.error(`accept failed: ${code}`),
  }));

if (delayMs > 0) {
  // Twenty turns a delay, each writing to the clients due by then, as TarPyt's pacing
  // clock batches. A client whose write fails has left: it is closed, as TarPyt closes it.
  // A write that fails later closes its client then.
  const writer = new LineWriter();
  const written = (handle: ClientHandle, error?: string): void => {
    if (error !== undefined) close(handle);
  };
  const line = "floor line, 18 B\r\n";
  setInterval(() => {
    const horizon = performance.now() + delayMs / 20;
    while (head < handles.length && dueAts[head] <= horizon) {
      const handle = handles[head], dueAt = dueAts[head];
      head++;
      if (gone.delete(handle)) continue;
      if (writer.write(handle, line, handle, written) < 0) {
        close(handle);
        gone.delete(handle); // not queued again, so nothing comes up to skip it
      } else {
        handles.push(handle);
        dueAts.push(dueAt + delayMs);
      }
    }
    if (head > 4096 && head * 2 > handles.length) {
      handles.splice(0, head);
      dueAts.splice(0, head);
      head = 0;
    }
  }, delayMs / 20);
}
