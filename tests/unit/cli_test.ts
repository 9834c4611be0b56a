import { assert, assertEquals, assertMatch, assertThrows } from "../support/assert.ts";
import {
  type Command,
  helpText,
  parseCommandLine,
  type TarpitConfig,
  UsageError,
} from "../../src/cli/cli.ts";
import { flags } from "../../src/cli/flags.ts";
import { formatDuration, parseDuration } from "../../src/text/duration.ts";
import { runtimeFlags } from "../../src/runtime/flags.ts";
import { protocols } from "../../protocols/mod.ts";

const noEnv = () => undefined;

function config(args: string[], env: Record<string, string> = {}): TarpitConfig {
  const command: Command = parseCommandLine(args, (name) => env[name]);
  assert(command.kind === "run");
  return command.config;
}

Deno.test("defaults: ssh's own pacing, 4096 clients, no lifetime", () => {
  const c = config([]);
  assertEquals(
    [c.protocol.name, c.maxClients, c.maxLifetimeMs],
    ["ssh", 4096, 0],
  );
  assertEquals(
    [
      c.pacing.firstDelayMs,
      c.pacing.delayMs,
      c.pacing.jitterMs,
      c.pacing.pieceSize,
      c.pacing.maxLineLength,
    ],
    [1_000, 1_200, 400, 1, 32],
  );
  assertEquals(c.logLevel, "info");
  assertEquals(c.listen, []);
  assertEquals(c.maxPerIp, 32);
});

/**
 * The README's pacing table, written out: what each protocol does when no flag says
 * otherwise (first delay, delay, jitter in ms; piece size; line length).
 */
const shippedPacing: Readonly<Record<string, readonly number[]>> = {
  ssh: [1_000, 1_200, 400, 1, 32],
  "ssh-ignore": [1_000, 1_200, 400, 1, 32],
  http: [22_000, 2_000, 1_000, 1, 255],
  "http-1xx": [22_000, 2_000, 1_000, 1, 32],
  "http-status": [22_000, 2_000, 1_000, 1, 32],
  smtp: [22_000, 2_000, 1_000, 1, 32],
  ftp: [22_000, 2_000, 1_000, 1, 32],
  telnet: [22_000, 2_000, 1_000, 1, 32],
  pop3: [22_000, 2_000, 1_000, 1, 32],
  imap: [22_000, 2_000, 1_000, 1, 32],
  irc: [55_000, 2_000, 1_000, 1, 32],
  banner: [22_000, 2_000, 1_000, 1, 32],
  tls: [1_000, 2_000, 1_000, 1, 4],
};

Deno.test("each protocol paces as the README says, and flags and variables override it", () => {
  assertEquals(Object.keys(shippedPacing), Object.keys(protocols));
  for (const [name, expected] of Object.entries(shippedPacing)) {
    const { pacing } = config(["--protocol", name]);
    assertEquals(
      [
        pacing.firstDelayMs,
        pacing.delayMs,
        pacing.jitterMs,
        pacing.pieceSize,
        pacing.maxLineLength,
      ],
      expected,
      name,
    );
  }
  const pacing = (args: string[], env: Record<string, string> = {}) => config(args, env).pacing;
  assertEquals(pacing(["--protocol", "http", "--max-line-length", "40"]).maxLineLength, 40);
  assertEquals(pacing(["--protocol", "http"], { TARPYT_MAX_LINE_LENGTH: "20" }).maxLineLength, 20);
  assertEquals(pacing(["--protocol", "smtp", "--piece-size", "0"]).pieceSize, 0);
  assertEquals(pacing(["--protocol", "smtp"], { TARPYT_FIRST_DELAY: "5s" }).firstDelayMs, 5_000);
});

Deno.test("a default the user did not choose follows the values chosen: --delay or --jitter alone never fails", () => {
  for (const name of Object.keys(protocols)) {
    const { delayMs, jitterMs } = protocols[name].pacing;
    for (const delay of [10, 100, 200, 1_000, delayMs, 2 * delayMs, 60_000]) {
      const envs: Record<string, string>[] = [{}, { TARPYT_DELAY: `${delay}ms` }];
      for (const env of envs) {
        const args = "TARPYT_DELAY" in env
          ? ["--protocol", name]
          : ["--protocol", name, "--delay", `${delay}ms`];
        const { pacing } = config(args, env);
        assertEquals(pacing.delayMs, delay, name);
        assert(pacing.jitterMs < delay, `${name} --delay ${delay}ms: jitter ${pacing.jitterMs}`);
        // The protocol's proportion of jitter to delay, kept.
        assert(Math.abs(pacing.jitterMs - Math.round(jitterMs * delay / delayMs)) <= 1, name);
      }
    }
    for (const jitter of [0, 100, delayMs, 10 * delayMs]) {
      const { pacing } = config(["--protocol", name, "--jitter", `${jitter}ms`]);
      assertEquals(pacing.jitterMs, jitter, name);
      assert(pacing.delayMs > jitter, `${name} --jitter ${jitter}ms: delay ${pacing.delayMs}`);
    }
  }
  // Both chosen, and contradicting: that is the user's to fix.
  assertThrows(
    () => config(["--delay", "1s", "--jitter", "2s"]),
    UsageError,
    /^--jitter: 2s is out of range; it must be from 0s to 999ms$/,
  );
});

Deno.test("durations accept ms, s, m and h, and refuse bare numbers", () => {
  assertEquals(parseDuration("500ms"), 500);
  assertEquals(parseDuration("10s"), 10_000);
  assertEquals(parseDuration("1.5s"), 1_500);
  assertEquals(parseDuration("2m"), 120_000);
  assertEquals(parseDuration("1h"), 3_600_000);
  for (const bad of ["10", "", "s", "-1s", "1 s", "1d", "1e3ms"]) {
    assertEquals(parseDuration(bad), undefined, bad);
  }
  assertEquals([0, 500, 10_000, 120_000].map(formatDuration), ["0s", "500ms", "10s", "2m"]);
});

Deno.test("flags set every option, --listen repeats, IPv6 in brackets", () => {
  const c = config([
    "--protocol=http",
    "--first-delay",
    "3s",
    "--delay",
    "2s",
    "--jitter",
    "500ms",
    "--piece-size",
    "4",
    "--max-clients",
    "10",
    "--max-line-length",
    "100",
    "--max-lifetime",
    "1h",
    "--log-level",
    "debug",
    "--listen",
    "127.0.0.1:2222",
    "--listen",
    "[::1]:0",
  ]);
  assertEquals(
    [c.protocol.name, c.pacing.delayMs, c.pacing.jitterMs, c.maxClients, c.pacing.maxLineLength],
    ["http", 2_000, 500, 10, 100],
  );
  assertEquals([c.pacing.firstDelayMs, c.pacing.pieceSize, c.maxLifetimeMs], [3_000, 4, 3_600_000]);
  assertEquals(c.logLevel, "debug");
  assertEquals(c.listen, [{ host: "127.0.0.1", port: 2222 }, { host: "::1", port: 0 }]);
});

Deno.test("every option is settable by its TARPYT_ variable, and a flag wins", () => {
  const env = {
    TARPYT_PROTOCOL: "banner",
    TARPYT_FIRST_DELAY: "30s",
    TARPYT_DELAY: "3s",
    TARPYT_JITTER: "1s",
    TARPYT_PIECE_SIZE: "2",
    TARPYT_MAX_CLIENTS: "7",
    TARPYT_MAX_PER_IP: "3",
    TARPYT_MAX_LINE_LENGTH: "40",
    TARPYT_MAX_LIFETIME: "5m",
    TARPYT_LOG_LEVEL: "warning",
    TARPYT_LISTEN: "127.0.0.1:1 [::1]:2,127.0.0.2:3",
    TARPYT_BANNER: "SSH-2.0-x\\r\\n",
    TARPYT_LOG_FORMAT: "json",
    TARPYT_METRICS_LISTEN: "127.0.0.1:9101",
    TARPYT_PACING: "fixed",
  };
  const c = config([], env);
  assertEquals(
    [c.protocol.name, c.pacing.delayMs, c.pacing.jitterMs, c.maxClients, c.pacing.maxLineLength],
    ["banner", 3_000, 1_000, 7, 40],
  );
  assertEquals([c.pacing.firstDelayMs, c.pacing.pieceSize, c.maxLifetimeMs], [30_000, 2, 300_000]);
  assertEquals(c.logLevel, "warning");
  assertEquals(c.listen.map((a) => a.port), [1, 2, 3]);
  assertEquals(c.banner, "SSH-2.0-x\r\n");
  assertEquals(c.maxPerIp, 3);
  assertEquals([c.logFormat, c.metricsListen], ["json", { host: "127.0.0.1", port: 9101 }]);
  assertEquals(c.learn, false);
  assertEquals(Object.keys(env).sort(), Object.values(flags).map((o) => o.env).sort());
  assertEquals(config(["--delay", "2s"], env).pacing.delayMs, 2_000);
});

Deno.test("--banner turns escapes into bytes, and text into its UTF-8 bytes", () => {
  const banner = (text: string): string => config(["--banner", text]).banner;
  assertEquals(config([]).banner, "RFB 003.008\n");
  assertEquals(banner("\\x4a\\x00\\xFF\\r\\n\\t\\\\"), "\x4a\x00\xff\r\n\t\\");
  assertEquals(banner("é"), "\xc3\xa9");
});

Deno.test("--banner alone makes the protocol banner; with another protocol chosen, it is an error", () => {
  assertEquals(config(["--banner", "x"]).protocol.name, "banner");
  assertEquals(config([], { TARPYT_BANNER: "x" }).protocol.name, "banner");
  assertEquals(config([]).protocol.name, "ssh");
  assertThrows(
    () => config(["--protocol", "ssh", "--banner", "x"]),
    UsageError,
    /^--banner: only the banner protocol sends a banner, not ssh; drop one$/,
  );
  assertThrows(
    () => config(["--protocol", "smtp"], { TARPYT_BANNER: "x" }),
    UsageError,
    /^TARPYT_BANNER: only the banner protocol sends a banner, not smtp; drop one$/,
  );
});

Deno.test("bad values name the flag or variable and what it accepts", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--delay", "10"], {}, /^--delay: "10" is not a duration; write it like 500ms, 10s or 2m$/],
    [["--delay", "5ms"], {}, /^--delay: 5ms is out of range; it must be from 10ms to 24h$/],
    [
      ["--jitter", "10s", "--delay", "2s"],
      {},
      /^--jitter: 10s is out of range; it must be from 0s to 1999ms$/,
    ],
    [
      ["--first-delay", "61s"],
      {},
      /^--first-delay: 61s is out of range; it must be from 0s to 1m$/,
    ],
    [["--piece-size=-1"], {}, /^--piece-size: "-1" must be a whole number from 0 to 255$/],
    [["--delay", "-1s"], {}, /^--delay: a value cannot start with "-" \(write --delay=VALUE\)$/],
    [["--max-clients", "0"], {}, /^--max-clients: "0" must be a whole number from 1 to 1000000$/],
    [["--max-clients", "1e3"], {}, /^--max-clients: "1e3" must be a whole number/],
    [["--max-per-ip", "0"], {}, /^--max-per-ip: "0" must be a whole number from 1 to 1000000$/],
    [["--max-line-length", "300"], {}, /^--max-line-length: "300" must be .* from 3 to 255$/],
    [["--protocol", "http", "--max-line-length", "7"], {}, /from 8 to 255$/],
    [["--protocol", "gopher"], {}, /^--protocol: "gopher" is not one of ssh, ssh-ignore, http,/],
    [["--first-delay", "1m1s"], {}, /is not a duration/],
    [["--banner", "\\q"], {}, /^--banner: "\\q" is not an escape; use \\r \\n \\t \\\\ or \\xHH$/],
    [["--banner", "\\x4"], {}, /^--banner: "\\x" is not an escape/],
    [["--banner", ""], {}, /^--banner: the banner must be 1 to 4096 bytes$/],
    [["--banner", "x".repeat(4097)], {}, /^--banner: the banner must be 1 to 4096 bytes$/],
    [
      ["--log-level", "loud"],
      {},
      /^--log-level: "loud" is not one of error, warning, info, debug$/,
    ],
    [["--listen", "2222"], {}, /^--listen: "2222" is not HOST:PORT; write it like 127.0.0.1:2222/],
    [["--metrics-listen", "9101"], {}, /^--metrics-listen: "9101" is not HOST:PORT/],
    [["--log-format", "xml"], {}, /^--log-format: "xml" is not one of text, json$/],
    [["--listen", "::1:22"], {}, /is not HOST:PORT/],
    [["--listen", "a:70000"], {}, /is not HOST:PORT/],
    [[], { TARPYT_DELAY: "soon" }, /^TARPYT_DELAY: "soon" is not a duration/],
    [[], { TARPYT_LISTEN: "nowhere" }, /^TARPYT_LISTEN: "nowhere" is not HOST:PORT/],
    [["--bogus"], {}, /^unknown option --bogus \(see --help\)$/],
    [["--max-lifetime", "0.4ms"], {}, /^--max-lifetime: 0.4ms is less than a millisecond/],
    [["--listen", "0:22"], {}, /^--listen: "0" is not an IPv4 address; write 0\.0\.0\.0/],
    [["--listen", "127.1:22"], {}, /^--listen: "127\.1" is not an IPv4 address/],
    [["--listen", "0x0:0"], {}, /^--listen: "0x0" is not an IPv4 address/],
    [["--listen", "localhost:22"], {}, /^--listen: "localhost" is not an IPv4 address/],
    [["--listen", "[::g]:22"], {}, /^--listen: "::g" is not an IPv6 address/],
    [["--listen", "256.0.0.1:22"], {}, /is not an IPv4 address/],
    [["--listen"], {}, /^--listen: needs a value/],
    [["ssh"], {}, /^unexpected argument "ssh": every option is a --flag/],
  ];
  for (const [args, env, pattern] of cases) {
    assertThrows(() => parseCommandLine(args, (name) => env[name]), UsageError, pattern);
  }
});

Deno.test("systemd print refuses an --exec-path that would change the unit it is written into", () => {
  for (const path of ["/usr/bin/x\nExecStartPre=/bin/sh", "/opt/my tarpyt", '/x"y', "bin/x"]) {
    assertThrows(
      () => parseCommandLine(["systemd", "print", "--exec-path", path], noEnv),
      UsageError,
      /^--exec-path: [\s\S]* must be an absolute path/,
    );
  }
});

Deno.test("--help lists every option with its variable and every protocol", () => {
  assertEquals(parseCommandLine(["--help"], noEnv).kind, "help");
  assertEquals(parseCommandLine(["-V"], noEnv).kind, "version");
  const help = helpText();
  for (const [name, spec] of Object.entries(flags)) {
    assertMatch(help, new RegExp(`--${name} .*\\n.*\\(${spec.env}\\)`));
  }
  for (const protocol of Object.keys(protocols)) {
    assertMatch(help, new RegExp(`\\n  ${protocol} `));
  }
});

Deno.test("the runtime may read the variables it uses and write only the notify socket", () => {
  const allowEnv = runtimeFlags.find((flag) => flag.startsWith("--allow-env="));
  assert(allowEnv, "the tarpyt task needs --allow-env=");
  const allowed = allowEnv.slice("--allow-env=".length).split(",").sort();
  const needed = [
    "JOURNAL_STREAM",
    "LISTEN_FDNAMES",
    "LISTEN_FDS",
    "LISTEN_PID",
    "NOTIFY_SOCKET",
    "WATCHDOG_PID",
    "WATCHDOG_USEC",
    ...Object.values(flags).map((o) => o.env),
  ].sort();
  assertEquals(allowed, needed);
  assert(runtimeFlags.includes("--no-prompt"));
  assert(!runtimeFlags.some((flag) => /^--allow-(all|run|ffi)|^-A$/.test(flag)));
  // Of the system, only the host's name, which JSON log lines carry.
  assertEquals(
    runtimeFlags.filter((flag) => flag.startsWith("--allow-sys")),
    ["--allow-sys=hostname"],
  );
  // The one file it may read is /dev/null, to notice it is out of file descriptors (see src/runtime/fd_limit.ts).
  assertEquals(
    runtimeFlags.filter((flag) => flag.startsWith("--allow-read")),
    ["--allow-read=/dev/null"],
  );
  // The one file it may write is systemd's notify socket (see src/systemd/sd_notify.ts).
  assertEquals(
    runtimeFlags.filter((flag) => flag.startsWith("--allow-write")),
    ["--allow-write=/run/systemd/notify"],
  );
});
