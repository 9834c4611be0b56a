/**
 * The runtime's floor for issue 7: a server that only listens with `pauseOnConnect` and
 * holds what it accepts, nothing else. `bench/bench.ts` runs it beside TarPyt, with the
 * same V8 flags, so TarPyt's cost per client can be read against it in one run.
 *
 * `deno run --allow-net bench/floor_server.ts PORT`
 *
 * @module
 */
import { createServer, type Socket } from "node:net";

const held = new Set<Socket>();
createServer({ pauseOnConnect: true }, (socket) => held.add(socket))
  .listen({ host: "127.0.0.1", port: Number(Deno.args[0]) });
