/**
 * Serves the metrics over HTTP/1.1 on a socket of its own: the passed socket named
 * `metrics`, or `--metrics-listen`. It is the one place TarPyt reads what a peer sends,
 * so it reads little: at most 2 KiB of request head, within 5 s of the connection
 * (however slowly it drips), from at most 8 connections at once; it matches the request
 * line against two fixed strings, answers once and closes. Expose it to Prometheus only.
 *
 * @module
 */
import type { Server, Socket } from "node:net";

/** The most of a request head that is read before giving up on it. */
export const requestHeadLimit = 2048;

/** A connection is closed this long after it was accepted, whatever it sends. */
export const requestDeadlineMs = 5_000;

/**
 * Metrics connections served at once; more are closed as they come. They use the
 * tarpit's file descriptors, so they are counted in the units' LimitNOFILE=.
 */
export const maxMetricsConnections = 8;

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
  server.maxConnections = maxMetricsConnections;
  server.on("connection", (socket: Socket) => {
    let head = "";
    const deadline = setTimeout(() => socket.destroy(), requestDeadlineMs);
    socket.on("close", () => clearTimeout(deadline));
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Uint8Array) => {
      head += new TextDecoder().decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1 && head.length < requestHeadLimit) return;
      socket.removeAllListeners("data");
      socket.pause();
      const requestLine = head.slice(0, head.indexOf("\r\n"));
      socket.end(response(requestLine, end !== -1, body));
    });
    socket.resume(); // listeners open sockets paused (tarpit sockets are never read)
  });
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
