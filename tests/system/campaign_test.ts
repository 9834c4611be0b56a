/**
 * Learning against fixed pacing, on a client fixed pacing loses: a brute-force script
 * whose library waits 5 s for a reply (Python's ftplib made with timeout=5, as nmap's
 * ftp-brute waits), trying one password after another. Fixed pacing's 22 s opening
 * silence loses every connection at 5 s; learning holds it by its third. And a script
 * that retries over TLS when no greeting came, as nmap's scripts do: the silence that
 * lost its plain text holds its TLS handshake, which any greeting would end. And medusa
 * on http, run again as a bot does: what its first run's silence teaches never hands it a
 * whole status line, which it takes for a login, and its bytes come just within the wait
 * its first run left at.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  type CampaignFiles,
  campaigns,
  runCampaign,
  writeCampaignFiles,
} from "../support/campaigns.ts";
import { RunningProcess } from "../support/process.ts";
import { listening } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";

const capSeconds = 40;

/** Runs `test` with the campaigns' files in a directory of its own, removed after. */
async function withFiles(
  test: (files: CampaignFiles, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tarpyt-campaign-test-" });
  try {
    await test(await writeCampaignFiles(dir), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test(needing(["python3"], {
  name:
    "a script that waits 5 s a reply: fixed pacing loses each connection, learning holds its third",
  fn: () =>
    withFiles(async (files) => {
      const script = campaigns.find((c) => c.tool === "python ftplib-5")!;
      const [fixed, learn] = await Promise.all([
        runCampaign(script, ["--pacing", "fixed"], files, capSeconds, 1),
        runCampaign(script, ["--pacing", "learn"], files, capSeconds, 1),
      ]);
      const report = [fixed, learn].map((side, i) =>
        `${i ? "learn" : "fixed"}: ${
          side.connections.map((c) => `${c.seconds}/${c.left}`).join(" ")
        }`
      ).join("\n");
      // Fixed: one after another, each gone at its 5 s timeout.
      assert(fixed.connections.length >= 5, report);
      assert(fixed.connections.slice(0, 4).every((c) => c.seconds < 6), report);
      // Learning: the first is lost as under fixed pacing; by the third, one is held on.
      const held = learn.connections.at(-1)!;
      assert(learn.connections.length <= 3, report);
      assert(held.seconds > capSeconds - 15 && held.left === "shutdown", report);
      assert(!fixed.falseSuccess && !learn.falseSuccess, report);
    }),
}));

Deno.test(needing(["python3"], {
  name:
    "a script that tries TLS after no greeting: its handshake meets silence, its plain text bytes",
  fn: () =>
    withFiles(async (_, dir) => {
      const tryssl = campaigns.find((c) => c.tool === "python tryssl-5")!;
      const [process, address] = await listening(["--protocol", "pop3", "--pacing", "learn"]);
      await using tarpit = process;
      // Two passwords: two attempts.
      const passwords = `${dir}/two-passwords`;
      await Deno.writeTextFile(passwords, "123456\npassword\n");
      await using script = new RunningProcess(
        tryssl.argv(address.port, { users: passwords, passwords }),
      );
      await script.waitFor(/^done$/m, { timeoutMs: 60_000 });
      const attempts = script.output.match(/^attempt \d+: .*$/gm) ?? [];
      const [first = "", second = ""] = attempts;
      const report = `${script.output}\n${tarpit.output}`;
      // The first: no greeting in 5 s, then a TLS handshake, met by silence until its own
      // 5 s ran out. A greeting would have ended it at once ("SSLError").
      assertMatch(first, /TimeoutError/, report);
      const closes = await tarpit.waitFor(/ CLOSE [^\n]*/, { times: 3 });
      assertMatch(closes[1], / bytes=0 [^\n]*family=tls/, report);
      // The second: the plain text's silence taught its source to greet at once.
      assertMatch(second, /no login over plain text/, report);
      assertEquals(attempts.length, 2, report);
    }),
}));

Deno.test(needing(["medusa"], {
  name:
    "medusa on http, run again: learning never hands it a whole status line, its false login, and holds it nearly as long",
  fn: () =>
    withFiles(async (files) => {
      const medusa = campaigns.find((c) => c.protocol === "http" && c.tool === "medusa")!;
      const result = await runCampaign(medusa, ["--pacing", "learn"], files, 120, 2);
      const report = `${result.runs.join(" s, ")} s: ${result.lastWords}`;
      // Its first run leaves at its 20 s wait for a reply; the next is given bytes sooner,
      // but just within that wait: medusa leaves 0.3 s after bytes that match nothing.
      assertEquals(result.runs.length, 2, report);
      assert(!result.falseSuccess, report);
      const [first, second] = result.runs;
      assert(second >= 0.8 * first, report);
    }),
}));
