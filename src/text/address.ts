/**
 * Client addresses as people and log parsers expect them.
 *
 * @module
 */

/**
 * An IPv4 peer of a dual-stack socket (systemd's `ListenStream=22` listens on `[::]:22`)
 * is reported as `::ffff:a.b.c.d`; it is the host `a.b.c.d`, and limits, logs and
 * metrics must count it as such, as endlessh writes it.
 *
 * @example
 * ```ts
 * import { plainAddress } from "./address.ts";
 * plainAddress("::ffff:203.0.113.7"); // "203.0.113.7"
 * plainAddress("2001:db8::1"); // "2001:db8::1"
 * ```
 */
export function plainAddress(address: string): string {
  if (!address.includes(":")) return address;
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/**
 * Who a client counts as, for `--max-per-ip` and for learning: its IPv4 address, or the
 * /64 network of its IPv6 address, since one IPv6 host is handed a whole /64 and can
 * connect from as many addresses as it likes.
 *
 * @example
 * ```ts
 * import { sourceOf } from "./address.ts";
 * sourceOf("203.0.113.7"); // "203.0.113.7"
 * sourceOf("2001:db8:0:1::42"); // "2001:db8:0:1::/64"
 * ```
 */
export function sourceOf(address: string): string {
  if (!address.includes(":")) return address;
  const hextets = expandIPv6(address);
  if (hextets === undefined) return address;
  return `${hextets.slice(0, 4).map((h) => h.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function expandIPv6(address: string): number[] | undefined {
  const [head, tail, ...rest] = address.split("::");
  if (rest.length > 0) return undefined;
  const groups = (part: string | undefined): number[] =>
    part ? part.split(":").map((hex) => parseInt(hex, 16)) : [];
  const before = groups(head);
  const after = groups(tail);
  const missing = 8 - before.length - after.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const all = [...before, ...Array(tail === undefined ? 0 : missing).fill(0), ...after];
  return all.every((n) => n >= 0 && n <= 0xffff) ? all : undefined;
}
