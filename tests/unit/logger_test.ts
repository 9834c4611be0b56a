import { assertEquals } from "../support/assert.ts";
import { departure } from "../support/memory_transport.ts";
import { createLogger, type LoggerOptions } from "../../src/log/logger.ts";
import { tarpitEventLogger } from "../../src/log/vocabulary.ts";
import type { TarpitEvent } from "../../src/engine/events.ts";

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

Deno.test("json lines name the machine, as hostname: a fleet's logs stay apart", () => {
  const [lines, log] = collect({
    level: "info",
    journal: false,
    format: "json",
    hostname: "sensor-7",
  });
  log.log("info", "ACCEPT", { host: "192.0.2.1" });
  assertEquals(lines, [
    '{"timestamp":"1970-01-01T00:00:00.000Z","hostname":"sensor-7","level":"info",' +
    '"event":"ACCEPT","host":"192.0.2.1"}',
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
  log.log("info", "CLOSE", { family: "a\x7fb\x9b2Jc\u2028d\u0085e" });
  assertEquals(lines, [
    "1970-01-01T00:00:00.000Z NOTIFY_FAILED socket=/x\\x0aACCEPT host=192.0.2.1 bad\\x0d\\x1b[31m",
    "1970-01-01T00:00:00.000Z CLOSE family=a\\x7fb\\x9b2Jc\\u2028d\\x85e",
  ]);
});

Deno.test("json lines carry DEL, C1 controls and U+2028 escaped, which JSON.stringify leaves raw", () => {
  const [lines, log] = collect({ level: "info", journal: false, format: "json" });
  log.log("info", "CLOSE", { family: "a\x7fb\x9b2Jc\u2028d\u2029e\x85\n" }, "m\x9b");
  assertEquals(
    lines[0],
    '{"timestamp":"1970-01-01T00:00:00.000Z","level":"info","event":"CLOSE",' +
      '"family":"a\\u007fb\\u009b2Jc\\u2028d\\u2029e\\u0085\\n","message":"m\\u009b"}',
  );
  // deno-lint-ignore no-control-regex -- what must not be there
  assertEquals(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(lines[0]), false);
  assertEquals(JSON.parse(lines[0]).family, "a\x7fb\x9b2Jc\u2028d\u2029e\x85\n");
});

Deno.test("engine events become endlessh's lines, with debug detail only at debug level", () => {
  const client = { host: "203.0.113.7", port: 54208, id: 3, localPort: 22, source: "203.0.113.7" };
  const events: TarpitEvent[] = [
    { type: "serve", localPort: 22 },
    { type: "accept", client, held: 1, max: 4096 },
    { type: "gone" },
    {
      type: "close",
      client,
      departure: departure(1_060_390, { bytes: 4402, leftBy: "reset" }),
      family: "unknown",
      error: "EPIPE",
    },
    { type: "file-limit", held: 1, max: 4096, times: 3 },
    { type: "accept-failed", code: "ENOBUFS", times: 2 },
  ];
  const [info, infoLog] = collect({ level: "info", journal: true });
  const [debug, debugLog] = collect({ level: "debug", journal: true });
  for (const event of events) {
    tarpitEventLogger(infoLog)(event);
    tarpitEventLogger(debugLog)(event);
  }
  assertEquals(info, [
    "<6>ACCEPT host=203.0.113.7 port=54208 fd=3 n=1/4096",
    "<6>CLOSE host=203.0.113.7 port=54208 fd=3 time=1060.390 bytes=4402 left=reset family=unknown",
    "<3>FILE_LIMIT n=1/4096 times=3 out of file descriptors: raise LimitNOFILE= (ulimit -n) " +
    "above --max-clients + 256",
    "<3>ACCEPT_FAILED code=ENOBUFS times=2 the kernel is short of memory",
  ]);
  assertEquals(debug, [
    info[0],
    "<7>GONE",
    "<7>ERROR host=203.0.113.7 port=54208 code=EPIPE",
    ...info.slice(1),
  ]);
});
