/**
 * Prints the JavaScript heap a held client costs the engine, in bytes: `count` ssh clients
 * (default 20,000) from one source, paced by whole lines on a fake clock and an in-memory
 * transport, held past their first lines; heap in use after full collections, less the
 * transport's own. Run with `--v8-flags=--expose-gc,--jitless`, as the units run V8.
 *
 * @module
 */
import { Tarpit } from "../../src/engine/tarpit.ts";
import { protocols } from "../../protocols/mod.ts";
import { Connection, Listener, MemoryTransport } from "./memory_transport.ts";
import { FakeClock } from "./fake_clock.ts";

declare const gc: () => void;

const count = Number(Deno.args[0] ?? 20_000);
const listener = new Listener(22);
const connections = Array.from({ length: count }, (_, i) => new Connection("192.0.2.1", i));
// What the in-memory transport keeps for each watched connection, which the runtime's
// own handles stand for: measured alone, to be left out.
const watches = connections.map(() => ({ owner: 0, watch: undefined }));
gc();
const withWatches = Deno.memoryUsage().heapUsed;
watches.length = 0;
gc();
const watchBytes = withWatches - Deno.memoryUsage().heapUsed;
const used = (): number => Deno.memoryUsage().heapUsed + Deno.memoryUsage().external;
const before = used();
const clock = new FakeClock();
const transport = new MemoryTransport();
const tarpit = new Tarpit<Connection, Listener>({
  protocol: protocols.ssh,
  profiles: [{
    firstDelayMs: 10_000,
    delayMs: 10_000,
    jitterMs: 0,
    pieceSize: 0,
    maxLineLength: 32,
  }],
  maxClients: count,
  maxPerIp: count,
  banner: "",
  maxLifetimeMs: 0,
  transport,
  onEvent: () => {},
  clock,
});
tarpit.serve(listener);
listener.backlog.push(...connections);
transport.acceptWaiting(listener);
await clock.advance(25_000);
for (const connection of connections) connection.received = "";
transport.writes.length = 0;
gc();
gc();
const after = used();
console.log(Math.round((after - before - watchBytes) / count));
