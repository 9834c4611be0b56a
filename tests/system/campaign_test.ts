/**
 * Learning against fixed pacing, on a client fixed pacing loses: a brute-force script
 * whose library waits 5 s for a reply (Python's ftplib made with timeout=5, as nmap's
 * ftp-brute waits), trying one password after another. Fixed pacing's 22 s opening
 * silence loses every connection at 5 s; learning holds it by its third.
 *
 * @module
 */
import { assert } from "../support/assert.ts";
import { campaigns, runCampaign, writeCampaignFiles } from "../support/campaigns.ts";
import { needing } from "../support/tools.ts";

const capSeconds = 40;

Deno.test(needing(["python3"], {
  name:
    "a script that waits 5 s a reply: fixed pacing loses each connection, learning holds its third",
  fn: async () => {
    const script = campaigns.find((c) => c.tool === "python ftplib-5")!;
    const dir = await Deno.makeTempDir({ prefix: "tarpyt-campaign-test-" });
    try {
      const files = await writeCampaignFiles(dir);
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
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
