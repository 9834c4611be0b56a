/**
 * banner: any server-first protocol without a module of its own, stuttered.
 *
 * For ports such as VNC (`RFB 003.008\n`, RFC 6143 7.1.1) or MySQL, whose clients wait for
 * the server to speak first: this sends `--banner` a byte a tick, all but its last byte.
 * TCP guarantees only the order of bytes, never how they are split (RFC 9293 3.8.6), so
 * every client must accept a banner that arrives one byte at a time, and it waits for the
 * last.
 *
 * Verdicts: the whole banner, after which a client answers and waits for the next step
 * (a VNC client sends its version and reads the security types); it is never whole. Then
 * there is nothing more to send, and the client is closed a minute later (the engine's
 * bound on silence, `longestSilenceMs` in protocol.ts).
 *
 * @module
 */
import {
  dripAlternatives,
  type LineOptions,
  type Protocol,
  serverFirstPacing,
} from "./protocol.ts";

/**
 * The banner tarpit's one line: the banner without its last byte.
 */
function* bannerButItsLastByte(
  { banner }: LineOptions,
): Generator<string, void, undefined> {
  if (banner.length > 1) yield banner.slice(0, -1);
}

/** The banner protocol for the registry. */
export const banner: Protocol = {
  name: "banner",
  summary: "--banner a byte a tick, all but its last byte (any server-first protocol)",
  verdicts: [/RFB 003\.008\n/],
  minLineLength: 1,
  pacing: serverFirstPacing,
  alternatives: dripAlternatives(serverFirstPacing),
  lines: bannerButItsLastByte,
};
