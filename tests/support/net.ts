/**
 * A test's own end of the network: free ports, connections read until what is expected
 * arrives, and waiting for a listener. Every wait is bounded and fails with a message.
 *
 * @module
 */
import { within } from "./process.ts";

/** Where a test's client connects. */
export type Address = { readonly hostname: string; readonly port: number };

/** A port nobody listens on now (the caller retries if another test takes it first). */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Connects to `address`, failing after `timeoutMs`: a listener whose backlog is full
 * drops the SYN, and the kernel would retry it for minutes.
 */
export function connect(address: Address, timeoutMs = 10_000): Promise<Deno.TcpConn> {
  return within(
    timeoutMs,
    `connect to ${address.hostname}:${address.port}`,
    Deno.connect({ ...address, signal: AbortSignal.timeout(timeoutMs) } as Deno.ConnectOptions),
  );
}

/**
 * A connection's reader that waits for what it is told to expect, not for a time: the
 * read left pending by one wait carries over to the next, so no data is lost between
 * them.
 */
export class ConnReader {
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(65_536);
  readonly #decoder = new TextDecoder("latin1");
  #pending: Promise<number | null> | undefined;
  /** Everything received so far, one character per byte. */
  text = "";
  /** Whether the server closed the connection. */
  closed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Reads until `done()` holds or the server closes; throws after `timeoutMs`, which
   * only bounds a failing wait.
   */
  async until(done: (reader: ConnReader) => boolean, timeoutMs = 20_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this) && !this.closed) {
      if (!await this.#readOnce(deadline - Date.now())) {
        throw new Error(`waited ${timeoutMs} ms in vain; got ${JSON.stringify(this.text)}`);
      }
    }
    return this;
  }

  /**
   * Reads whatever comes within `ms`: a poll inside a loop that waits for an event, never
   * a window to show that nothing comes.
   */
  async readFor(ms: number): Promise<this> {
    const deadline = Date.now() + ms;
    while (!this.closed && await this.#readOnce(deadline - Date.now()));
    return this;
  }

  /** Reads until the server closes the connection; throws after `timeoutMs`. */
  untilClosed(timeoutMs = 20_000): Promise<this> {
    return this.until(() => false, timeoutMs);
  }

  /** One read, or false when `ms` ran out first (the read stays pending for the next). */
  async #readOnce(ms: number): Promise<boolean> {
    if (ms <= 0) return false;
    // Closing the connection ends a pending read with an error: that is a close too.
    this.#pending ??= this.#conn.read(this.#buffer).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => timer = setTimeout(resolve, ms, "timeout"));
    const n = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (n === "timeout") return false;
    this.#pending = undefined;
    if (n === null) this.closed = true;
    else this.text += this.#decoder.decode(this.#buffer.subarray(0, n));
    return true;
  }
}

/** A connection to `address` with its reader; closing it is the caller's. */
export async function connectReader(address: Address): Promise<[Deno.TcpConn, ConnReader]> {
  const conn = await connect(address);
  return [conn, new ConnReader(conn)];
}

/**
 * Connects, waits until `done()` holds for what arrived (or the server closes), then
 * closes.
 */
export async function receive(
  address: Address,
  done: (reader: ConnReader) => boolean,
): Promise<ConnReader> {
  const [conn, reader] = await connectReader(address);
  try {
    return await reader.until(done);
  } finally {
    conn.close();
  }
}

/** `done` for {@link ConnReader.until}: at least `n` CRLF-ended lines arrived. */
export const lines = (n: number) => (reader: ConnReader): boolean =>
  (reader.text.match(/\r\n/g) ?? []).length >= n;

/**
 * Waits until something accepts connections on 127.0.0.1:`port`; throws after `timeoutMs`,
 * a bound against hangs: a runtime starting beside the whole suite on two cores has taken
 * over 5 s.
 */
export async function untilListening(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      (await connect({ hostname: "127.0.0.1", port }, 1_000)).close();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** GETs `url` and returns the body, failing after `timeoutMs`. */
export async function fetchText(url: string, timeoutMs = 10_000): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return await response.text();
}

/** The JavaScript heap in use, from the `tarpyt_heap_used_bytes` of a metrics endpoint. */
export async function heapUsedBytes(metricsPort: number): Promise<number> {
  const text = await fetchText(`http://127.0.0.1:${metricsPort}/metrics`);
  return Number(/^tarpyt_heap_used_bytes (\S+)$/m.exec(text)?.[1]);
}
