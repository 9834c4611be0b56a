/**
 * The brute-forcers most used against internet-facing hosts, hydra and medusa, against
 * every protocol they speak, at the shipped defaults, all at once for a minute: none may
 * report a login, and none may leave before its own hard limit (tests/support/clients.ts names
 * each, and where it is documented).
 */
import { assert } from "../support/assert.ts";
import { attackTools, trap } from "../support/clients.ts";
import { needing } from "../support/tools.ts";

const capSeconds = 60;

Deno.test(needing(["hydra", "medusa", "python3"], {
  name: `hydra and medusa stay ${capSeconds} s or until their own hard limit, with no false login`,
  fn: async () => {
    const outcomes = await Promise.all(attackTools.map((tool) => trap(tool, capSeconds)));
    const report = attackTools.map((tool, i) => {
      const { verdict, seconds, detail } = outcomes[i];
      return `${tool.name} ${tool.protocol}: ${verdict} at ${seconds.toFixed(1)} s ${detail}`;
    }).join("\n");
    for (const { verdict } of outcomes) {
      assert(verdict === "STUCK" || verdict === "HARD LIMIT", report);
    }
  },
}));
