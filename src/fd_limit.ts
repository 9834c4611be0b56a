/**
 * Noticing that the process is out of file descriptors, so that the tarpit can say so
 * once per interval and take clients again as others leave.
 *
 * Deno 2.9.6's native accept swallows `EMFILE`: nothing reaches JavaScript, and the
 * listener is not polled again (measured with `ulimit -n 64`: 40 clients accepted, then
 * none, even after 20 had left). Nor can the limit be read: Deno asks for `--allow-all`
 * before it reads anything under `/proc/self`. So the tarpit tries to open `/dev/null`
 * after each accept; when that fails, it logs FILE_LIMIT and re-arms the listener as soon
 * as a client leaves.
 *
 * @module
 */

/**
 * Descriptors the service units allow beyond their client count: the runtime's own
 * (about 25 when idle, measured: epoll, eventfd, caches, stdio), the listening sockets,
 * sd_notify and metrics scrapes.
 */
export const spareFds = 64;

/**
 * Whether this process can open one more file now. Opens and closes `/dev/null`, which
 * needs `--allow-read=/dev/null`; any error other than running out of descriptors
 * (`EMFILE`, or `ENFILE` for the whole system) counts as yes.
 *
 * @example
 * ```ts
 * import { canOpenAnotherFile } from "./fd_limit.ts";
 * if (!canOpenAnotherFile()) console.warn("out of file descriptors");
 * ```
 */
export function canOpenAnotherFile(): boolean {
  try {
    Deno.openSync("/dev/null").close();
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code !== "EMFILE" && code !== "ENFILE";
  }
}
