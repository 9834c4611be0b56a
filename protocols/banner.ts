/**
 * banner: any server-first protocol without a module of its own, stuttered.
 *
 * For ports such as VNC (`RFB 003.008\n`, RFC 6143 7.1.1) or MySQL, whose clients wait for
 * the server to speak first: this drips `--banner` one byte a tick, so a 12-byte VNC
 * banner takes two minutes at 10 s a byte, then sends nothing. TCP guarantees only the
 * order of bytes, never how they are split (RFC 9293 3.8.6), so every client must accept
 * a banner that arrives one byte at a time.
 *
 * @module
 */
import type { LineOptions, Protocol } from "./protocol.ts";

/**
 * The banner tarpit's ticks: one byte of the banner each, then silence.
 *
 * @example
 * ```ts
 * import { bannerOneByteATick } from "./banner.ts";
 * const ticks = bannerOneByteATick({ maxLineLength: 32, banner: "RFB 003.008\n" });
 * ticks.next().value; // "R"
 * ```
 */
export function* bannerOneByteATick(
  { banner }: LineOptions,
): Generator<string, void, undefined> {
  for (const byte of banner) yield byte;
  for (;;) yield "";
}

/** The banner protocol for the registry. */
export const banner: Protocol = {
  name: "banner",
  summary: "--banner, one byte a tick, then silence (any server-first protocol)",
  minLineLength: 1,
  lines: bannerOneByteATick,
};
