/**
 * What only the benchmarks need: the runtime's floor beside TarPyt, a measurement window,
 * and a crowd of reading clients.
 *
 * @module
 */
import { runtimeFlags } from "../src/runtime/flags.ts";
import { RunningProcess } from "../tests/support/process.ts";
import { loadArgv } from "../tests/support/tarpyt.ts";

const here = new URL(".", import.meta.url).pathname;

/**
 * The runtime's floor (bench/floor_server.ts), with TarPyt's V8 flags, listening on
 * 127.0.0.1:`port`; writing a line to each client every `delayMs` if given.
 */
export function floorServerArgv(port: number, delayMs?: number): string[] {
  return [
    Deno.execPath(),
    "run",
    "--allow-net",
    ...runtimeFlags.filter((flag) => flag.startsWith("--v8-flags=")),
    `${here}floor_server.ts`,
    String(port),
    ...(delayMs === undefined ? [] : [String(delayMs)]),
  ];
}

/** Waits `ms` milliseconds: a benchmark's settling time or measurement window. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `clients` clients of 127.0.0.1:`port` that read everything they are sent
 * (tests/support/load.py read), once every one is connected; they stop when it is disposed.
 *
 * @throws when one could not connect (the load is stopped first)
 */
export async function readingClients(port: number, clients: number): Promise<RunningProcess> {
  const load = new RunningProcess(loadArgv("read", "127.0.0.1", port, clients));
  try {
    const [held] = await load.waitFor(/held \d+|failed \d+: .*/, { timeoutMs: 120_000 });
    if (held.startsWith("failed")) throw new Error(`load.py read: ${held}`);
    return load;
  } catch (error) {
    await load[Symbol.asyncDispose]();
    throw error;
  }
}
