/**
 * The runtime's floor: a server that accepts the way TarPyt does (bare TCP handles,
 * src/runtime/accept_loop.ts) and holds what it accepts; given a delay, it also writes
 * each client one fixed line per delay the way TarPyt writes (src/runtime/client_handle.ts),
 * with no pacing clock, protocol, event or log. `bench/bench.ts` runs it beside TarPyt,
 * with the same V8 flags, so TarPyt's memory and CPU read against the runtime's own in one
 * run.
 *
 * `deno run --allow-net bench/floor_server.ts PORT [DELAY_MS]`
 *
 * @module
 */
import { createServer } from "node:net";
import { acceptLoop } from "../src/runtime/accept_loop.ts";
import { type ClientHandle, LineWriter } from "../src/runtime/client_handle.ts";

const [port, delayMs] = [Number(Deno.args[0]), Number(Deno.args[1] ?? 0)];
const held: ClientHandle[] = [];
const server = createServer().listen({ host: "127.0.0.1", port });
server.once("listening", () =>
  acceptLoop(server, {
    hasRoom: () => true,
    admit: (handle) => held.push(handle),
    failed: (code) => console.error(`accept failed: ${code}`),
  }));

if (delayMs > 0) {
  // Twenty turns a delay, each writing to the next twentieth of the clients: one line
  // each per delay, batched as TarPyt's pacing clock batches.
  const turns = 20;
  const writer = new LineWriter<undefined>(() => {});
  const line = "floor line, 18 B\r\n";
  let next = 0;
  setInterval(() => {
    const count = Math.ceil(held.length / turns);
    for (let i = 0; i < count && held.length > 0; i++) {
      writer.write(held[next++ % held.length], line, undefined);
    }
  }, delayMs / turns);
}
