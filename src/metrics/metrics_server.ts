/**
 * Serves the metrics over HTTP/1.1 on a socket of its own: the passed socket named
 * `metrics`, or `--metrics-listen`. It is the one place TarPyt reads what a peer sends
 * and parses it, so it reads little: at most 2 KiB of request head, within 5 s of the
 * connection (however slowly it drips); it matches the request line against two fixed
 * strings, answers once and closes. Expose it to Prometheus only.
 *
 * At most 8 connections are kept. A newcomer is always taken, and has {@link graceMs} to
 * send its request; past 8, connections older than that are closed, the oldest first. A
 * connection's life depends only on how many came after it, never on what it sends: so a
 * scraper, which sends its request as soon as it is connected, is read and answered
 * before it could be closed, and connections that sit idle, drip bytes, or reconnect as
 * soon as they are closed cannot keep it out. Past {@link hardLimit} open at once, the
 * oldest is closed at once, young or not.
 *
 * @module
 */
import type { Server, Socket } from "node:net";

/** The most of a request head that is read before giving up on it. */
const requestHeadLimit = 2048;

/** A connection is closed this long after it was accepted, whatever it sends. */
const requestDeadlineMs = 5_000;

/** Metrics connections kept: past it, the oldest are closed {@link graceMs} later. */
const maxMetricsConnections = 8;

/**
 * How long a newcomer has to send its request before it may be closed to make room: far
 * longer than a scraper takes, even from a loaded machine, and short enough that
 * connections that reconnect at once meet {@link hardLimit} only in a flood.
 */
const graceMs = 250;

/**
 * The most metrics connections open at once, newcomers in their grace included. They use
 * the tarpit's file descriptors, so they are counted in the units' LimitNOFILE=.
 */
export const hardLimit = 64;

/** An open metrics connection. */
interface Open {
  readonly socket: Socket;
  /** When it was accepted. */
  readonly since: number;
}

/**
 * Answers `GET /metrics` (and `GET /`) on `server` with `body()`; anything else gets 404
 * or 400.
 *
 * @example
 * ```ts ignore
 * serveMetrics(listener.server, () => "# no metrics yet\n");
 * ```
 */
export function serveMetrics(server: Server, body: () => string): void {
  // Oldest first: a Set iterates in insertion order.
  const open = new Set<Open>();
  let trimming = false;
  const trim = (): void => {
    trimming = false;
    const graced = performance.now() - graceMs;
    while (open.size > maxMetricsConnections && evictOne(open, graced));
    if (open.size > maxMetricsConnections) trimLater();
  };
  const trimLater = (): void => {
    if (trimming) return;
    trimming = true;
    setTimeout(trim, graceMs);
  };
  server.on("connection", (socket: Socket) => {
    if (open.size >= hardLimit) evictOne(open, Infinity);
    const connection: Open = { socket, since: performance.now() };
    open.add(connection);
    if (open.size > maxMetricsConnections) trimLater();
    let head = "";
    const deadline = setTimeout(() => socket.destroy(), requestDeadlineMs);
    socket.on("close", () => {
      clearTimeout(deadline);
      open.delete(connection);
    });
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Uint8Array) => {
      head += new TextDecoder().decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1 && head.length < requestHeadLimit) return;
      socket.removeAllListeners("data");
      socket.pause();
      // Answered: no newcomer may cut its answer short.
      open.delete(connection);
      const requestLine = head.slice(0, head.indexOf("\r\n"));
      socket.end(response(requestLine, end !== -1, body));
    });
    socket.resume(); // listeners open sockets paused (tarpit sockets are never read)
  });
}

/** Closes the oldest connection if it was accepted before `before`; whether it did. */
function evictOne(open: Set<Open>, before: number): boolean {
  const victim = open.values().next().value;
  if (victim === undefined || victim.since > before) return false;
  open.delete(victim);
  victim.socket.destroy();
  return true;
}

function response(requestLine: string, complete: boolean, body: () => string): string {
  const target = /^GET (\S+) HTTP\/1\.[01]$/.exec(requestLine)?.[1];
  if (!complete || target === undefined) return reply("400 Bad Request", "text/plain", "");
  if (target !== "/metrics" && target !== "/") return reply("404 Not Found", "text/plain", "");
  return reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", body());
}

function reply(status: string, type: string, text: string): string {
  const length = new TextEncoder().encode(text).length;
  return `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n` +
    `Connection: close\r\n\r\n${text}`;
}
