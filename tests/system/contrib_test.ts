/**
 * contrib/ against the real program: the fail2ban filter on log lines TarPyt wrote, and
 * the Grafana dashboard's and Prometheus config's series against a real scrape.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { parseExposition } from "../support/prometheus_text.ts";
import { MetricsTarpyt, trappedLog } from "../support/tarpyt.ts";
import { run } from "../support/process.ts";
import { needing } from "../support/tools.ts";

const root = new URL("../..", import.meta.url).pathname;
const filter = `${root}contrib/fail2ban/filter.d/tarpyt.conf`;

for (const format of ["text", "json"] as const) {
  Deno.test(needing(["fail2ban-regex"], {
    name: `the fail2ban filter matches every ACCEPT of a real ${format} log and nothing else`,
    fn: async () => {
      const log = await trappedLog(format);
      const accepts = log.split("\n").filter((line) => /ACCEPT/.test(line));
      assertEquals(accepts.length, 3, log);
      assert(log.split("\n").filter(Boolean).length > 8, "the log has other lines to refuse");
      const file = await Deno.makeTempFile({ suffix: ".log" });
      try {
        await Deno.writeTextFile(file, log);
        const { code, stdout, stderr } = await run(["fail2ban-regex", "--out", "ip", file, filter]);
        const banned = stdout.trim().split("\n");
        assertEquals(code, 0, stderr);
        // One address per ACCEPT, in order: an IPv4 client on the dual-stack socket is banned
        // as IPv4; a match on any other line would add an address.
        assertEquals(banned, ["127.0.0.1", "::1", "127.0.0.1"]);
      } finally {
        await Deno.remove(file);
      }
    },
  }));
}

Deno.test(needing(["curl"], {
  name: "every series the Grafana dashboard and the scrape config name is one TarPyt serves",
  fn: async () => {
    await using tarpyt = new MetricsTarpyt();
    const { stdout } = await run(["curl", "-s", `${await tarpyt.metricsBase()}/metrics`]);
    const served = new Set(parseExposition(stdout).types.keys());
    const dashboard = JSON.parse(
      await Deno.readTextFile(`${root}contrib/grafana/tarpyt-dashboard.json`),
    );
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr)
    );
    assert(exprs.length >= 6, "the dashboard has panels");
    for (const expr of exprs) {
      for (const [name] of expr.matchAll(/\b(?:endlessh|tarpyt)_[a-z_]+/g)) {
        const family = name.replace(/_(bucket|sum|count)$/, "");
        assert(served.has(name) || served.has(family), `${name} in "${expr}" is not served`);
      }
    }
    const scrape = await Deno.readTextFile(`${root}contrib/prometheus/tarpyt.yml`);
    assertMatch(scrape, /^ {2}- job_name: tarpyt$/m);
    assertMatch(scrape, /^ {10}- 127\.0\.0\.1:9101$/m);
  },
}));
