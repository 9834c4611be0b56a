/**
 * A client that leaves is noticed, in every protocol. One that closes its end is written
 * to at once and let go when the write finds it gone, a second later at most, whatever the
 * pacing; a protocol that has run out of things to send cannot write, so it closes its
 * client after the bound on silence (`longestSilenceMs`). Either way its descriptor, its
 * `--max-clients` slot and its `--max-per-ip` share come back.
 */
import { assert, assertMatch } from "../support/assert.ts";
import { connectReader } from "../support/net.ts";
import { dripping, socketActivated } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";
import { protocols } from "../../protocols/mod.ts";
import { headEnd, longestSilenceMs } from "../../protocols/protocol.ts";

/** Protocols with nothing more to send after their first line. */
const runOutOfLines = new Set(["pop3", "banner"]);

/** All a protocol that runs out of lines sends, with the default banner. */
function everything(name: string): string {
  const lines = protocols[name].lines({ maxLineLength: 32, banner: "RFB 003.008\n" });
  return [...lines].join("").replace(headEnd, "");
}

for (const name of Object.keys(protocols)) {
  const silent = runOutOfLines.has(name);
  Deno.test(needing(["python3"], {
    name: silent
      ? `${name}: its client is closed once it has been sent nothing for the bound on silence`
      : `${name}: a client that closed its end is let go within a second, before its next piece`,
    fn: async () => {
      // One client per address: a client still counted would keep the next one out.
      await using tarpyt = await socketActivated(["127.0.0.1"], [
        "--protocol",
        name,
        ...(silent
          ? dripping("10ms")
          : ["--first-delay", "100ms", "--delay", "1m", "--jitter", "0s"]),
        "--max-per-ip",
        "1",
      ]);
      const [address] = tarpyt.addresses;
      const [conn, reader] = await connectReader(address);
      // A client of a silent protocol leaves once it has had everything: no write follows.
      const awaited = silent ? everything(name).length : 1;
      await reader.until((r) => r.text.length >= awaited);
      conn.close();
      const closedAt = performance.now();
      const [close] = await tarpyt.waitFor(/ CLOSE [^\n]*/, {
        timeoutMs: silent ? longestSilenceMs + 30_000 : 20_000,
      });
      const seconds = (performance.now() - closedAt) / 1000;
      if (silent) {
        // Nothing could tell the tarpit: it waited out the silence.
        assert(seconds > longestSilenceMs / 1000 - 1, `${close} ${seconds} s after it closed`);
        assertMatch(close, / left=ended /);
      } else {
        // Long before its next piece, a minute away.
        assert(seconds < 5, `${close} ${seconds} s after it closed`);
        assertMatch(close, / left=closed /);
      }
      // Its share is back: the same address gets in again.
      const [next, nextReader] = await connectReader(address);
      try {
        await nextReader.until((r) => r.text.length > 0 || r.closed);
        assert(!nextReader.closed, "the address's one slot is free again");
      } finally {
        next.close();
      }
    },
  }));
}
