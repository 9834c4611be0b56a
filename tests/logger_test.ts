import { assertEquals } from "./assert.ts";
import { createLogger, type LoggerOptions } from "../src/logger.ts";

function collect(
  options: Omit<LoggerOptions, "write">,
): [string[], ReturnType<typeof createLogger>] {
  const lines: string[] = [];
  return [lines, createLogger({ now: () => 0, ...options, write: (line) => lines.push(line) })];
}

Deno.test("under journald each line carries its syslog priority and no timestamp", () => {
  const [lines, log] = collect({ level: "debug", journal: true });
  log.log("error", "E");
  log.log("warning", "W");
  log.log("info", "I");
  log.log("debug", "D");
  assertEquals(lines, ["<3>E", "<4>W", "<6>I", "<7>D"]);
});

Deno.test("elsewhere each text line starts with an ISO time and reads as endlessh's", () => {
  const [lines, log] = collect({ level: "info", journal: false });
  log.log("info", "ACCEPT", { host: "::1", port: 1, fd: 1, n: "1/2" });
  log.log("info", "FULL", { n: "2/2" }, "new clients wait");
  assertEquals(lines, [
    "1970-01-01T00:00:00.000Z ACCEPT host=::1 port=1 fd=1 n=1/2",
    "1970-01-01T00:00:00.000Z FULL n=2/2 new clients wait",
  ]);
});

Deno.test("json lines are one object each: timestamp, level, event, fields (numbers as numbers), message", () => {
  const [lines, log] = collect({ level: "info", journal: false, format: "json" });
  log.log("info", "CLOSE", { host: "::1", port: 54208, fd: 1, time: "1.500", bytes: 42 });
  log.log("warning", "FULL", { n: "2/2" }, "new clients wait");
  assertEquals(lines, [
    '{"timestamp":"1970-01-01T00:00:00.000Z","level":"info","event":"CLOSE","host":"::1",' +
    '"port":54208,"fd":1,"time":1.5,"bytes":42}',
    '{"timestamp":"1970-01-01T00:00:00.000Z","level":"warning","event":"FULL","n":"2/2",' +
    '"message":"new clients wait"}',
  ]);
});

Deno.test("a level hides the levels below it", () => {
  const [lines, log] = collect({ level: "warning", journal: true });
  log.log("info", "HIDDEN");
  log.log("debug", "HIDDEN");
  log.log("warning", "SHOWN");
  assertEquals(lines, ["<4>SHOWN"]);
  assertEquals([log.enabled("error"), log.enabled("info")], [true, false]);
});

Deno.test("text from outside cannot forge a line: control characters in fields and messages are escaped", () => {
  const [lines, log] = collect({ level: "info", journal: false });
  log.log("warning", "NOTIFY_FAILED", { socket: "/x\nACCEPT host=192.0.2.1" }, "bad\r\x1b[31m");
  assertEquals(lines, [
    "1970-01-01T00:00:00.000Z NOTIFY_FAILED socket=/x\\x0aACCEPT host=192.0.2.1 bad\\x0d\\x1b[31m",
  ]);
});
