/**
 * The real clients TarPyt is measured against, and the verdict on each run: the common
 * brute-forcers (hydra, medusa, ncrack, patator) for every protocol they speak, beside
 * OpenSSH, curl, paramiko and Python's client libraries, and for tls openssl s_client,
 * GnuTLS's gnutls-cli and Go's crypto/tls and net/http. `deno task bench-clients`
 * prints the scoreboard; tests/system/attack_tools_test.ts holds every hydra and medusa pair to
 * it in CI.
 *
 * A run ends in one of four verdicts:
 * - STUCK: still waiting when the cap ended the run;
 * - HARD LIMIT: it left at a limit of its own that no server can outlast without handing
 *   it a verdict, named with where it is documented;
 * - ESCAPED: it left earlier, and its last words say why;
 * - FALSE SUCCESS: it reported a login: the worst outcome, as it ends the attack.
 *
 * @module
 */
import { peerArgv, sshArgv, tarpytArgv } from "./tarpyt.ts";
import { programEnv, RunningProcess } from "./process.ts";
import type { Need } from "./tools.ts";
import { protocols } from "../../protocols/mod.ts";
import { longestSilenceMs } from "../../protocols/protocol.ts";

/** A client's own limit: the longest any server that never answers can keep it. */
export interface HardLimit {
  /** It leaves no earlier than this after it starts. */
  readonly seconds: number;
  /** What the limit is, and where it is documented. */
  readonly why: string;
}

/** One client against one protocol. */
export interface Client {
  readonly protocol: string;
  readonly name: string;
  /** What it needs installed (tests/support/tools.ts). */
  readonly needs: readonly Need[];
  /**
   * Its command line against the tarpit at 127.0.0.1:`port`. A brute-forcer tries one
   * password, or with `passwordFile`, each of that file's, as a campaign's do.
   */
  argv(port: number, capSeconds: number, passwordFile?: string): string[];
  /** Output that says it believes it logged in. */
  readonly success?: RegExp;
  readonly limit?: HardLimit;
}

/** A client that tries passwords, and says when it believes one worked. */
export interface BruteForcer extends Client {
  readonly success: RegExp;
}

/** The password a brute-forcer tries alone, on the scoreboard. */
const password = "123456";

/**
 * A tool's flags for the passwords it tries: `one` and a password, or `many` and
 * `passwordFile` when given.
 */
function passwordFlags(one: string, many: string, passwordFile?: string): string[] {
  return passwordFile === undefined ? [one, password] : [many, passwordFile];
}

/** medusa's wait for a reply, where it gives up on a tarpit that has not begun one. */
export const medusaLimit: HardLimit = {
  seconds: 19.5,
  why: "READ_WAIT_TIME: medusa waits 20 s for a reply to begin (src/medusa-net.h) and gives a " +
    "begun one 0.3 s to match its pattern (medusaReceiveRegex, src/medusa-net.c)",
};

/** hydra's `-w` on ssh, the longest it waits for the key exchange. */
export const hydraSshLimit: HardLimit = {
  seconds: 31.5,
  why: "-w, 32 s by default (hydra.c WAITTIME): hydra-ssh.c hands it to libssh as its connect " +
    "timeout (SSH_OPTIONS_TIMEOUT)",
};

const ircFirst = protocols.irc.pacing.firstDelayMs - protocols.irc.pacing.jitterMs;

/** hydra on irc: it ends at the first bytes it reads that are no welcome. */
export const hydraIrcLimit: HardLimit = {
  seconds: ircFirst / 1000 - 0.5,
  why: "hydra-irc.c ends at the first bytes it reads unless they hold a 001 welcome; TarPyt " +
    `sends none for ${ircFirst / 1000} s or more, within its ${
      longestSilenceMs / 1000
    } s bound on silence`,
};

/** curl's wait for a reply, whatever protocol it speaks. */
export const curlLimit: HardLimit = {
  seconds: 119,
  why: "CURLOPT_SERVER_RESPONSE_TIMEOUT: curl gives a reply 120 s, however many bytes arrive " +
    "(curl_easy_setopt(3))",
};

const paramikoHandshake: HardLimit = {
  seconds: 15,
  why: "paramiko's Transport.handshake_timeout: 15 s for the key exchange, which begins once " +
    "the version string has arrived (paramiko/transport.py)",
};

/** hydra's service name for each protocol it speaks. */
export const hydraProtocol: Readonly<Record<string, string>> = {
  ssh: "ssh",
  "ssh-ignore": "ssh",
  http: "http-get",
  "http-1xx": "http-get",
  "http-status": "http-get",
  smtp: "smtp",
  ftp: "ftp",
  pop3: "pop3",
  imap: "imap",
  telnet: "telnet",
  irc: "irc",
};

/** medusa's module for each protocol it speaks. */
export const medusaModule: Readonly<Record<string, string>> = {
  ssh: "ssh",
  "ssh-ignore": "ssh",
  http: "http",
  "http-1xx": "http",
  "http-status": "http",
  smtp: "smtp",
  ftp: "ftp",
  pop3: "pop3",
  imap: "imap",
  telnet: "telnet",
};

/** hydra against `protocol`, as root; on tls, its HTTPS mode (`-S`). No restore file. */
export function hydra(protocol: string): BruteForcer {
  const overTls = protocol === "tls";
  const service = overTls ? "http-get" : hydraProtocol[protocol];
  return {
    protocol,
    name: overTls ? "hydra -S" : "hydra",
    needs: ["hydra"],
    argv: (port, _cap, passwordFile) => [
      "hydra",
      "-I",
      ...(overTls ? ["-S"] : []),
      "-l",
      "root",
      ...passwordFlags("-p", "-P", passwordFile),
      "-s",
      String(port),
      "127.0.0.1",
      ...(service === "http-get" ? ["http-get", "/"] : [service]),
    ],
    success: /\b[1-9]\d* valid passwords? found/,
    limit: service === "ssh" ? hydraSshLimit : service === "irc" ? hydraIrcLimit : undefined,
  };
}

/** medusa against `protocol`, as root; on tls, its HTTP module over TLS (`-s`). */
export function medusa(protocol: string): BruteForcer {
  const overTls = protocol === "tls";
  const module = overTls ? "http" : medusaModule[protocol];
  return {
    protocol,
    name: overTls ? "medusa -s" : "medusa",
    needs: ["medusa"],
    argv: (port, _cap, passwordFile) => [
      "medusa",
      ...(overTls ? ["-s"] : []),
      "-h",
      "127.0.0.1",
      "-n",
      String(port),
      "-u",
      "root",
      ...passwordFlags("-p", "-P", passwordFile),
      "-M",
      module,
    ],
    success: /ACCOUNT FOUND/,
    limit: overTls || module === "ssh" ? undefined : medusaLimit,
  };
}

/** The pairs the issue names: hydra and medusa against every protocol they speak. */
export const attackTools: readonly Client[] = [
  ...Object.keys(hydraProtocol).map((protocol) => hydra(protocol)),
  ...Object.keys(medusaModule).map((protocol) => medusa(protocol)),
];

/** curl against `protocol` with a URL of `scheme`. */
function curl(protocol: string, scheme: string): Client {
  const replyTimeout = ["smtp", "ftp", "pop3", "imap"].includes(scheme);
  return {
    protocol,
    name: "curl",
    needs: ["curl"],
    argv: (port) => ["curl", "-sv", "--no-buffer", `${scheme}://127.0.0.1:${port}/`],
    limit: replyTimeout ? curlLimit : undefined,
  };
}

/** A Python client library (tests/support/peers.py `held`), reporting when the cap has passed. */
function python(protocol: string, library: string, name: string): Client {
  return {
    protocol,
    name,
    needs: ["python3"],
    argv: (port, cap) => peerArgv("held", library, "127.0.0.1", String(port), String(cap + 5)),
  };
}

/** paramiko, as SSH brute-forcers written in Python use it. */
function paramiko(protocol: string): Client {
  const login = "import paramiko, sys\nc = paramiko.SSHClient()\n" +
    "c.set_missing_host_key_policy(paramiko.AutoAddPolicy())\n" +
    "c.connect('127.0.0.1', int(sys.argv[1]), 'root', '123456', look_for_keys=False)\n" +
    "print('LOGGED IN')";
  return {
    protocol,
    name: "paramiko",
    needs: ["python3"],
    argv: (port) => ["/usr/bin/python3", "-c", login, String(port)],
    success: /LOGGED IN/,
    limit: protocol === "ssh-ignore"
      ? { seconds: paramikoHandshake.seconds, why: paramikoHandshake.why }
      : undefined,
  };
}

/**
 * ncrack against `protocol` as its module `service` (its own name, unless given), as root;
 * on tls, its https module.
 */
export function ncrack(protocol: string, service = protocol): BruteForcer {
  const overTls = protocol === "tls";
  return {
    protocol,
    name: overTls ? "ncrack https" : "ncrack",
    needs: ["ncrack"],
    argv: (port, _cap, passwordFile) => [
      "ncrack",
      "--user",
      "root",
      ...passwordFlags("--pass", "-P", passwordFile),
      `${overTls ? "https" : service}://127.0.0.1:${port}`,
    ],
    success: /Discovered credentials/,
    limit: overTls ? ncrackTlsLimit : undefined,
  };
}

/** ncrack's wait for a TLS handshake, on https. */
export const ncrackTlsLimit: HardLimit = {
  seconds: 7.5,
  why: "DEFAULT_CONNECT_SSL_TIMEOUT, 8 s for connect() and the TLS handshake together " +
    "(ncrack.cc:167, used at :2562)",
};

/** The TLS modes of the attack tools: hydra -S, medusa -s and ncrack, on HTTPS. */
const tlsAttackTools: readonly Client[] = [
  hydra("tls"),
  medusa("tls"),
  ncrack("tls"),
];

/** A Go program (tests/support/tls_client.go) using crypto/tls, or net/http's default client. */
function goTls(mode: "tls" | "http"): Client {
  return {
    protocol: "tls",
    name: mode === "tls" ? "Go crypto/tls" : "Go net/http",
    needs: ["go"],
    argv: (port, cap) => [
      "go",
      "run",
      new URL("tls_client.go", import.meta.url).pathname,
      mode,
      "127.0.0.1",
      String(port),
      String(cap + 5),
    ],
    success: /handshake done|ENDED status/,
    limit: mode === "http"
      ? {
        seconds: 9.5,
        why: "DefaultTransport's TLSHandshakeTimeout, 10 s for the whole handshake " +
          "(net/http/transport.go:52 in Go 1.19)",
      }
      : undefined,
  };
}

/** Every client of the scoreboard, the attack tools first. */
export const allClients: readonly Client[] = [
  ...attackTools,
  ...["ssh", "ssh-ignore", "ftp", "telnet", "pop3", "imap", "http"].map((p) =>
    ncrack(p, p === "ssh-ignore" ? "ssh" : p)
  ),
  paramiko("ssh"),
  paramiko("ssh-ignore"),
  {
    protocol: "ssh",
    name: "OpenSSH",
    needs: ["ssh"],
    argv: (port) => sshArgv("127.0.0.1", port, "-v"),
  },
  {
    protocol: "ssh-ignore",
    name: "OpenSSH",
    needs: ["ssh"],
    argv: (port) => sshArgv("127.0.0.1", port, "-v"),
  },
  curl("http", "http"),
  python("http", "http", "http.client"),
  curl("http-1xx", "http"),
  python("http-1xx", "http", "http.client"),
  curl("http-status", "http"),
  python("http-status", "http", "http.client"),
  curl("smtp", "smtp"),
  python("smtp", "smtp", "smtplib"),
  curl("ftp", "ftp"),
  python("ftp", "ftp", "ftplib"),
  curl("pop3", "pop3"),
  python("pop3", "pop3", "poplib"),
  curl("imap", "imap"),
  python("imap", "imap", "imaplib"),
  python("telnet", "telnet", "RFC 854 client"),
  python("irc", "irc", "RFC 2812 parser"),
  python("banner", "rfb", "RFB handshake"),
  ...tlsAttackTools,
  {
    protocol: "tls",
    name: "openssl s_client",
    needs: ["openssl"],
    argv: (port) => ["openssl", "s_client", "-connect", `127.0.0.1:${port}`],
    success: /^New, |Verify return code/m,
  },
  { ...curl("tls", "https"), success: /< HTTP\// },
  python("tls", "tls", "Python ssl"),
  {
    protocol: "tls",
    name: "gnutls-cli",
    needs: ["gnutls-cli"],
    argv: (port) => ["gnutls-cli", "--insecure", "-p", String(port), "127.0.0.1"],
    success: /Handshake was completed/,
  },
  goTls("tls"),
  goTls("http"),
];

/** How one run ended. */
export interface Outcome {
  readonly verdict: "STUCK" | "HARD LIMIT" | "ESCAPED" | "FALSE SUCCESS";
  /** Seconds from its start to its end, or to the cap. */
  readonly seconds: number;
  /** The limit it left at, its last words, or nothing for STUCK. */
  readonly detail: string;
}

/**
 * Runs `client` against a tarpit of its protocol at the shipped defaults, started for it
 * alone, for at most `capSeconds`.
 */
export async function trap(client: Client, capSeconds: number): Promise<Outcome> {
  await using tarpit = new RunningProcess(tarpytArgv([
    "--protocol",
    client.protocol,
    "--listen",
    "127.0.0.1:0",
  ]));
  const [listen] = await tarpit.waitFor(/LISTEN from=--listen address=127\.0\.0\.1:\d+/);
  return await run(client, Number(listen.split(":").at(-1)), capSeconds);
}

/**
 * Runs `client` against 127.0.0.1:`port` for at most `capSeconds`, in a folder of its own
 * that is also its home: hydra and ncrack write restore files there.
 */
export async function run(client: Client, port: number, capSeconds: number): Promise<Outcome> {
  const home = await Deno.makeTempDir({ prefix: "tarpyt-client-" });
  try {
    const started = performance.now();
    await using running = new RunningProcess(
      ["sh", "-c", 'cd "$HOME" && exec "$@"', "-", ...client.argv(port, capSeconds)],
      { ...programEnv, HOME: home },
      "piped",
    );
    const ended = await running.exitsWithin(capSeconds * 1000);
    const seconds = (performance.now() - started) / 1000;
    const output = running.output;
    const lastWords = output.trim().split("\n").filter((line) => !/^\s*$/.test(line)).slice(-2)
      .join(" | ").replace(/\s+/g, " ").slice(0, 160);
    if (client.success?.test(output)) {
      return { verdict: "FALSE SUCCESS", seconds, detail: lastWords };
    }
    if (!ended || /^STILL WAITING$/m.test(output)) return { verdict: "STUCK", seconds, detail: "" };
    if (client.limit && seconds >= client.limit.seconds) {
      return { verdict: "HARD LIMIT", seconds, detail: client.limit.why };
    }
    return { verdict: "ESCAPED", seconds, detail: lastWords };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}
