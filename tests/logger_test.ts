import { assertEquals } from "./assert.ts";
import { createLogger } from "../src/logger.ts";

Deno.test("under journald each line carries its syslog priority and no timestamp", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", journal: true, write: (line) => lines.push(line) });
  log.error("e");
  log.warning("w");
  log.info("i");
  log.debug("d");
  assertEquals(lines, ["<3>e", "<4>w", "<6>i", "<7>d"]);
});

Deno.test("elsewhere each line starts with an ISO time, as endlessh's do", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    journal: false,
    write: (line) => lines.push(line),
    now: () => 0,
  });
  log.info("ACCEPT host=::1 port=1 fd=1 n=1/2");
  assertEquals(lines, ["1970-01-01T00:00:00.000Z ACCEPT host=::1 port=1 fd=1 n=1/2"]);
});

Deno.test("a level hides the levels below it", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "warning", journal: true, write: (line) => lines.push(line) });
  log.info("hidden");
  log.debug("hidden");
  log.warning("shown");
  assertEquals(lines, ["<4>shown"]);
  assertEquals([log.enabled("error"), log.enabled("info")], [true, false]);
});
