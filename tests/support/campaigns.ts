/**
 * Campaigns: real attack tools and scripts run as attackers run them, with a list of
 * passwords, their default parallelism, and again when they finish, as a bot retrying a
 * host does. `deno task bench-campaign` runs each against a tarpit with fixed pacing and
 * one that learns, side by side; tests/system/campaign_test.ts runs one in CI.
 *
 * Each campaign names the family its departures should be given (src/learn/families.ts)
 * where the family table has one for it, and the limit it leaves at where that is its
 * own, with where its source sets it.
 *
 * @module
 */
import {
  type BruteForcer,
  curlLimit,
  type HardLimit,
  hydra as hydraOn,
  medusa as medusaOn,
  ncrack as ncrackOn,
} from "./clients.ts";
import { programEnv, RunningProcess } from "./process.ts";
import { loadArgv, tarpytArgv } from "./tarpyt.ts";
import type { Need, Tool } from "./tools.ts";

const support = new URL(".", import.meta.url).pathname;

/** The files a campaign's tools read: a user list and a password list. */
export interface CampaignFiles {
  readonly users: string;
  readonly passwords: string;
}

/** A tool, or a script, attacking one protocol. */
export interface Campaign {
  readonly protocol: string;
  readonly tool: string;
  readonly needs: readonly Need[];
  /** One run of it against 127.0.0.1:`port`. */
  argv(port: number, files: CampaignFiles): string[];
  /** Output that says it believes it logged in. */
  readonly success: RegExp;
  /**
   * The families its departures may rightly be named, where the family table has them: one
   * for each limit its source sets on a connection.
   */
  readonly families?: readonly string[];
  /**
   * Whether it retries a connection that got no greeting over TLS (nmap's scripts, by
   * nselib/comm.lua's `tryssl`): those connections are to be named `tls`.
   */
  readonly triesTls?: boolean;
  /** A limit of its own no pacing can outlast, with where its source sets it. */
  readonly limit?: HardLimit;
  /** Whether it is hundreds of bots at once, which the bench runs apart from the rest. */
  readonly crowd?: boolean;
}

/** The passwords every campaign tries: the most common, as bots' lists begin. */
export const passwords: readonly string[] = [
  "123456",
  "password",
  "admin",
  "root",
  "12345678",
  "qwerty",
  "123456789",
  "12345",
  "1234",
  "111111",
  "1234567",
  "dragon",
  "123123",
  "baseball",
  "abc123",
  "football",
  "monkey",
  "letmein",
  "696969",
  "shadow",
];

/** Writes the user and password lists into `dir`. */
export async function writeCampaignFiles(dir: string): Promise<CampaignFiles> {
  const files = { users: `${dir}/users.txt`, passwords: `${dir}/passwords.txt` };
  await Deno.writeTextFile(files.users, "root\n");
  await Deno.writeTextFile(files.passwords, passwords.join("\n") + "\n");
  return files;
}

/**
 * A brute-forcer of the scoreboard (tests/support/clients.ts) trying the campaign's
 * passwords, its departures to be named `families`.
 */
function bruteForce(client: BruteForcer, families?: readonly string[]): Campaign {
  const { protocol, name, needs, success, limit } = client;
  return {
    protocol,
    tool: name,
    needs,
    argv: (port, { passwords }) => client.argv(port, 0, passwords),
    success,
    families,
    limit,
  };
}

/** hydra against `protocol`: libssh on ssh, and named by its requests on http and irc. */
function hydra(protocol: string): Campaign {
  const named = protocol === "http" || protocol === "irc";
  return bruteForce(
    hydraOn(protocol),
    protocol === "ssh" ? ["libssh"] : named ? ["hydra"] : undefined,
  );
}

/** medusa against `protocol`: libssh2 on ssh, and its 20 s wait on the server-first ones. */
function medusa(protocol: string): Campaign {
  const unnamed = protocol === "http" || protocol === "tls";
  return bruteForce(
    medusaOn(protocol),
    protocol === "ssh" ? ["libssh2"] : unnamed ? undefined : ["read-timeout-20s"],
  );
}

/** ncrack against `protocol`. */
function ncrack(protocol: string): Campaign {
  return bruteForce(ncrackOn(protocol));
}

/**
 * The families of nmap's brute-force scripts. telnet-brute probes the target with
 * `comm.tryssl` and a 5 s timeout, which comm.lua doubles for a read (connect timeout plus
 * request timeout: 10 s); its workers' connections wait 5 s a read (`telnet-brute.timeout`,
 * telnet-brute.nse:41, :179). Only a probe that got a greeting starts the workers.
 */
const nmapFamilies: Readonly<Record<string, readonly string[]>> = {
  ssh: ["libssh2"],
  ftp: ["read-timeout-5s"],
  telnet: ["read-timeout-10s", "read-timeout-5s"],
  pop3: ["read-timeout-20s"],
  imap: ["read-timeout-10s"],
};

/**
 * smtp-brute gives a run two reads of 7 s each, then quits: nselib/comm.lua's request
 * timeout is 6 s plus the connect timeout (`REQUEST_TIMEOUT`, `get_timeouts`; 1 s at least,
 * stdnse.get_timeout), once for the greeting (`opencon`'s `receive`) and once for the reply
 * to EHLO (smtp.lua `query`, `receive_lines`), and smtp-brute.nse's action aborts when EHLO
 * fails (nmap 7.93, smtp-brute.nse:107-110). A greeting that never ends fails it either way.
 */
const nmapSmtpBruteLimit: HardLimit = {
  seconds: 13,
  why: "two reads of comm.lua's 6 s + 1 s request timeout, greeting and EHLO, then " +
    "smtp-brute.nse:110 aborts",
};

/**
 * pop3-brute gives a connection 20 s a read: its connect timeout, 10 s (pop3-brute.nse:50),
 * added to the request timeout of the same 10 s (nselib/comm.lua `get_timeouts`, :43-56).
 * One that got no greeting is retried over TLS (comm.lua `tryssl`), which has the connect
 * timeout, 10 s, for its handshake. A run then ends at its first guess: any reply to `USER`
 * that is not `+OK`, or none within 20 s, is a wrong user name to pop3.lua (`login_user`,
 * :46), which marks the only account invalid (pop3-brute.nse:88-90, nselib/brute.lua:475),
 * and no guess is made after; a greeting that never comes aborts the run
 * (pop3-brute.nse:56). No pacing holds a connection past 40 s, nor a run past the guesses
 * its threads have begun (nmap 7.93).
 */
const nmapPop3BruteLimit: HardLimit = {
  seconds: 9.5,
  why: "20 s a read and 10 s for the TLS retry's handshake (pop3-brute.nse:50, comm.lua:43-56); " +
    "the first reply to USER ends the run (pop3.lua:46, pop3-brute.nse:88-90)",
};

/**
 * nmap's NSE brute-force script for `protocol`, forced to run on any port (`+`); on tls,
 * http-brute, which http.lua sends over TLS once plain text failed (comm.tryssl).
 */
function nmapBrute(protocol: string): Campaign {
  const script = `${protocol === "tls" ? "http" : protocol}-brute`;
  return {
    protocol,
    tool: `nmap ${script}`,
    needs: ["nmap"],
    argv: (port, { users, passwords }) => [
      "nmap",
      "-Pn",
      "-n",
      "-p",
      String(port),
      "--script",
      `+${script}`,
      "--script-args",
      `userdb=${users},passdb=${passwords},unpwdb.timelimit=0`,
      "127.0.0.1",
    ],
    success: /Valid credentials/,
    families: nmapFamilies[protocol],
    triesTls: true,
    limit: protocol === "smtp"
      ? nmapSmtpBruteLimit
      : protocol === "pop3"
      ? nmapPop3BruteLimit
      : undefined,
  };
}

const patatorModules: Readonly<Record<string, string>> = {
  ssh: "ssh_login",
  ftp: "ftp_login",
  smtp: "smtp_login",
  pop3: "pop_login",
  imap: "imap_login",
  telnet: "telnet_login",
};

/** patator's telnet_login: three waits for a prompt, of 20 s in all each, whatever arrives. */
const patatorTelnetLimit: HardLimit = {
  seconds: 59.5,
  why: "telnet_login: three expect()s of timeout=20 s each, banner, root and password " +
    "(patator Telnet_login.execute; telnetlib Telnet.expect waits its timeout in all)",
};

/** patator, whose modules wait 10 s for a reply (20 s for telnet's prompt). */
function patator(protocol: string): Campaign {
  const module = patatorModules[protocol];
  const login = protocol === "telnet"
    ? ["inputs=root\\nFILE0", "prompt_re=login:|Password:"]
    : protocol === "smtp"
    ? ["user=root", "password=FILE0"]
    : ["user=root", "password=FILE0"];
  return {
    protocol,
    tool: `patator ${module}`,
    needs: ["patator"],
    argv: (port, { passwords }) => [
      "patator",
      module,
      "host=127.0.0.1",
      `port=${port}`,
      ...login,
      `0=${passwords}`,
      "--max-retries=0",
    ],
    success: /\|\s*(230|235|\+OK|OK)\s/,
    families: protocol === "ssh"
      ? ["paramiko"]
      : protocol === "telnet"
      ? undefined
      : ["read-timeout-10s"],
    limit: protocol === "telnet" ? patatorTelnetLimit : undefined,
  };
}

/** paramiko's connect(timeout=10): 10 s for the whole negotiation, however it goes. */
const paramikoTimeoutLimit: HardLimit = {
  seconds: 9.5,
  why: "SSHClient.connect hands timeout=10 to Transport.start_client, which gives the banner and " +
    "key exchange that long in all (paramiko 2.12 client.py:421, transport.py:693); the login " +
    "then fails with No existing session (transport.py:1497)",
};

/**
 * Python's ssl with a socket timeout: the timeout is one deadline for the whole handshake,
 * not a wait for each read.
 */
const pythonHandshakeLimit: HardLimit = {
  seconds: 9.5,
  why: "a socket timeout of 10 s is one deadline for the whole TLS handshake: do_handshake " +
    "sets deadline = now + the socket's timeout and waits for each read only what is left " +
    "of it (CPython Modules/_ssl.c, _ssl__SSLSocket_do_handshake_impl)",
};

/** A script of tests/support/scripted.py. */
function scripted(protocol: string, kind: string, family?: string, limit?: HardLimit): Campaign {
  return {
    protocol,
    tool: `python ${kind}`,
    needs: ["python3"],
    argv: (port, { passwords }) => [
      "/usr/bin/python3",
      "-u",
      `${support}scripted.py`,
      kind,
      "127.0.0.1",
      String(port),
      passwords,
    ],
    success: /^LOGGED IN$/m,
    families: family === undefined ? undefined : [family],
    limit,
  };
}

/** curl's connect timeout, which holds the TLS handshake. */
const curlTlsLimit: HardLimit = {
  seconds: 299,
  why: "CURLOPT_CONNECTTIMEOUT, 300 s by default: the connection phase is complete when the TCP " +
    "and TLS handshakes are done (curl_easy_setopt(3), CURLOPT_CONNECTTIMEOUT); exit 28",
};

/**
 * curl trying each password in turn, as a shell loop does; on tls, over https, taking
 * any certificate (`-k`).
 */
function curl(protocol: string): Campaign {
  const overTls = protocol === "tls";
  return {
    protocol,
    tool: "curl",
    needs: ["curl"],
    argv: (port, { passwords }) => [
      "sh",
      "-c",
      'while read -r p; do curl -sk -u "root:$p" "$0://127.0.0.1:$1/"; echo "curl exit $?"; ' +
      'done < "$2"',
      overTls ? "https" : protocol,
      String(port),
      passwords,
    ],
    success: /^curl exit 0$/m,
    // Over TLS its User-Agent is inside the handshake that never ends: nothing names it.
    families: overTls ? undefined : ["curl"],
    limit: overTls ? curlTlsLimit : protocol === "http" ? undefined : curlLimit,
  };
}

/** swaks trying each password with AUTH LOGIN, as a shell loop does. */
const swaks: Campaign = {
  protocol: "smtp",
  tool: "swaks",
  needs: ["swaks"],
  argv: (port, { passwords }) => [
    "sh",
    "-c",
    'while read -r p; do swaks --server "127.0.0.1:$0" --to root@localhost --auth LOGIN ' +
    '--auth-user root --auth-password "$p"; echo "swaks exit $?"; done < "$1"',
    String(port),
    passwords,
  ],
  success: /^swaks exit 0$/m,
  limit: {
    seconds: 29.5,
    why: "--timeout 30 s, an alarm on a whole reply: alarm($G::link{timeout}) around the " +
      "loop reading to a final `ddd ` line (swaks, do_smtp_transaction)",
  },
};

/** OpenSSH trying each password, batch mode, as a shell loop does. */
const openssh: Campaign = {
  protocol: "ssh",
  tool: "OpenSSH",
  needs: ["ssh"],
  argv: (port, { passwords }) => [
    "sh",
    "-c",
    "while read -r p; do ssh -o BatchMode=yes -o StrictHostKeyChecking=no " +
    '-o UserKnownHostsFile=/dev/null -p "$0" root@127.0.0.1 true; echo "ssh exit $?"; ' +
    'done < "$1"',
    String(port),
    passwords,
  ],
  success: /^ssh exit 0$/m,
  families: ["openssh"],
};

/**
 * A web content scanner, trying each password as a path, as it tries the words of any
 * list; `families` names it by its User-Agent.
 */
interface WebScanner {
  readonly tool: Tool;
  argv(url: string, words: string): string[];
  readonly success: RegExp;
  readonly family?: string;
  readonly limit: HardLimit;
}

/**
 * Go's net/http client: a Client.Timeout covers a whole request, headers and all, from
 * before its connect, so a tarpit that accepts late on a loaded machine sees less of it.
 */
const goClientTimeout = "net/http's Client.Timeout, over the whole request to its headers";

const webScanners: readonly WebScanner[] = [
  {
    tool: "gobuster",
    argv: (url, words) => ["gobuster", "dir", "-u", url, "-w", words],
    success: /\(Status: \d+\)/,
    family: "gobuster",
    limit: {
      seconds: 9,
      why: `--timeout 10 s, ${goClientTimeout} (gobuster 3.5 cli/cmd/http.go:25, ` +
        "libgobuster/http.go:81); a first request to the URL that fails ends the run " +
        "(gobusterdir/gobusterdir.go:100-102)",
    },
  },
  {
    tool: "ffuf",
    argv: (url, words) => ["ffuf", "-u", `${url}FUZZ`, "-w", words],
    success: /\[Status: \d+/,
    family: "ffuf",
    limit: {
      seconds: 9,
      why: `-timeout 10 s, ${goClientTimeout} (ffuf 1.1 main.go, the "timeout" flag; ` +
        "pkg/runner/simple.go)",
    },
  },
  {
    tool: "dirb",
    argv: (url, words) => ["dirb", url, words, "-S"],
    success: /\(CODE:\d+/,
    limit: {
      seconds: 49.5,
      why: "CURLOPT_TIMEOUT of TIMEOUT, 50 s, for each whole request (dirb 2.22 " +
        "src/global.h:27, src/get_url.c:54)",
    },
  },
  {
    tool: "wfuzz",
    argv: (url, words) => ["wfuzz", "-w", words, `${url}FUZZ`],
    success: /^\d{9}:\s+[1-5]\d\d /m,
    family: "wfuzz",
    limit: {
      seconds: 89.5,
      why: "req_delay, 90 s, is pycurl's TIMEOUT for a whole request (wfuzz 3.1 facade.py:41, " +
        "externals/reqresp/Request.py:333); one that times out ends the run",
    },
  },
];

/** `scanner` against an http tarpit. */
function webScanner(scanner: WebScanner): Campaign {
  return {
    protocol: "http",
    tool: scanner.tool,
    needs: [scanner.tool],
    argv: (port, { passwords }) => scanner.argv(`http://127.0.0.1:${port}/`, passwords),
    success: scanner.success,
    families: scanner.family === undefined ? undefined : [scanner.family],
    limit: scanner.limit,
  };
}

/**
 * WhatWeb fingerprinting a site, as it is run on every host a scan finds: 30 s a read
 * (`$HTTP_READ_TIMEOUT`, whatweb.rb:75), which TarPyt's first silence stays within.
 */
const whatweb: Campaign = {
  protocol: "http",
  tool: "whatweb",
  needs: ["whatweb"],
  argv: (port) => ["whatweb", `http://127.0.0.1:${port}/`],
  success: /\[\d{3} /,
  families: ["whatweb"],
};

/**
 * Bots that connect and wait, as most of what a tarpit holds does: 1,000 clients from 200
 * sources (127.0.0.2-201) that read all they are sent and never leave; on ssh, they send
 * the version string of Go's SSH library first, as the scanners most often seen do.
 */
function waitingBots(protocol: string): Campaign {
  return {
    protocol,
    tool: "1000 bots that wait",
    needs: ["python3"],
    argv: (port) =>
      loadArgv("read", "127.0.0.1", port, 1_000, ...(protocol === "ssh" ? ["SSH-2.0-Go"] : [])),
    success: /(?!)/, // they never say
    crowd: true,
  };
}

/**
 * A botnet of impatient clients: 500 connections from 500 sources (127.1.0.1 up) that read
 * what they get and give up after 10 s without a byte, as a read timeout does, then connect
 * again from the same address, as a bot retrying its target does.
 */
function impatientBots(protocol: string): Campaign {
  return {
    protocol,
    tool: "500 bots, 10 s a read",
    needs: ["python3"],
    argv: (port) => loadArgv("impatient", "127.0.0.1", port, 500, 500, 10),
    success: /(?!)/, // they never say
    families: ["read-timeout-10s"],
    crowd: true,
  };
}

/** Every campaign, by protocol. */
export const campaigns: readonly Campaign[] = [
  hydra("ssh"),
  medusa("ssh"),
  ncrack("ssh"),
  nmapBrute("ssh"),
  patator("ssh"),
  scripted("ssh", "paramiko-10", "paramiko", paramikoTimeoutLimit),
  scripted("ssh", "asyncssh", "asyncssh"),
  openssh,
  waitingBots("ssh"),
  hydra("ftp"),
  medusa("ftp"),
  ncrack("ftp"),
  nmapBrute("ftp"),
  patator("ftp"),
  scripted("ftp", "ftplib-5", "read-timeout-5s"),
  scripted("ftp", "line-alarm-30", "line-alarm-30s"),
  curl("ftp"),
  hydra("smtp"),
  medusa("smtp"),
  nmapBrute("smtp"),
  patator("smtp"),
  scripted("smtp", "smtplib-10", "read-timeout-10s"),
  scripted("smtp", "line-alarm-30", "line-alarm-30s"),
  swaks,
  curl("smtp"),
  waitingBots("smtp"),
  impatientBots("smtp"),
  hydra("pop3"),
  medusa("pop3"),
  ncrack("pop3"),
  nmapBrute("pop3"),
  patator("pop3"),
  scripted("pop3", "poplib-10", "read-timeout-10s"),
  { ...scripted("pop3", "tryssl-5", "read-timeout-5s"), triesTls: true },
  curl("pop3"),
  hydra("imap"),
  medusa("imap"),
  nmapBrute("imap"),
  patator("imap"),
  scripted("imap", "imaplib-10", "read-timeout-10s"),
  curl("imap"),
  hydra("telnet"),
  medusa("telnet"),
  ncrack("telnet"),
  nmapBrute("telnet"),
  patator("telnet"),
  scripted("telnet", "telnet-prompts"),
  scripted("telnet", "mirai"),
  hydra("http"),
  medusa("http"),
  ncrack("http"),
  nmapBrute("http"),
  scripted("http", "urllib-10", "python-urllib"),
  curl("http"),
  ...webScanners.map(webScanner),
  whatweb,
  impatientBots("http"),
  hydra("irc"),
  nmapBrute("irc"),
  hydra("tls"),
  medusa("tls"),
  ncrack("tls"),
  nmapBrute("tls"),
  scripted("tls", "https-10", undefined, pythonHandshakeLimit),
  curl("tls"),
];

/** One connection of a campaign, from the tarpit's CLOSE line. */
export interface Connection {
  /** Its number, in the order it was accepted. */
  readonly n: number;
  readonly seconds: number;
  readonly left: string;
  readonly family: string;
}

/** What one side of a campaign measured. */
export interface SideResult {
  readonly connections: readonly Connection[];
  /** Runs of the tool started, and seconds each stayed before it quit (or the cap). */
  readonly runs: readonly number[];
  /** Whether it reported a login. */
  readonly falseSuccess: boolean;
  /** The tarpit's CPU time from its start line to the cap, in seconds. */
  readonly cpuSeconds: number;
  /** The seconds that CPU time was measured over. */
  readonly windowSeconds: number;
  /** The tool's last words. */
  readonly lastWords: string;
}

/**
 * A process's CPU time so far, in seconds, to the nanosecond: the sum over its threads of
 * /proc/PID/task/TID/schedstat's first field (/proc/PID/stat counts in 10 ms ticks).
 */
export async function cpuOf(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("sh", {
    args: ["-c", `cat /proc/${pid}/task/*/schedstat`],
  }).output();
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return lines.reduce((sum, line) => sum + Number(line.split(" ")[0]), 0) / 1e9;
}

/** Runs `start`, perhaps only once others have: a bench starts a hundred tarpits a few at a time. */
export type Gate = <T>(start: () => Promise<T>) => Promise<T>;

/** A {@link Gate} that lets `width` starts run at once. */
export function gate(width: number): Gate {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(start: () => Promise<T>): Promise<T> => {
    if (running >= width) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await start();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** How often `text` occurs in `output`. */
function count(output: string, text: string): number {
  return output.split(text).length - 1;
}

/** Stops a process started with setsid and everything in its session. */
async function stopSession(process: RunningProcess): Promise<void> {
  for (const signal of ["TERM", "KILL"]) {
    await new Deno.Command("pkill", { args: [`-${signal}`, "-s", String(process.child.pid)] })
      .output();
    if (await process.exitsWithin(5_000)) return;
  }
}

/**
 * Runs `campaign` against a tarpit of its protocol started with `pacing` flags, for
 * `capSeconds`, the tool again each time it quits, up to `maxRuns` runs.
 */
export async function runCampaign(
  campaign: Campaign,
  pacing: readonly string[],
  files: CampaignFiles,
  capSeconds: number,
  maxRuns: number,
  starting: Gate = (start) => start(),
): Promise<SideResult> {
  const tarpit = await starting(async () => {
    const tarpit = new RunningProcess(
      tarpytArgv(["--protocol", campaign.protocol, "--listen", "127.0.0.1:0", ...pacing]),
      programEnv,
      "null",
      { tail: 4_000_000 },
    );
    await tarpit.waitFor(/START /, { timeoutMs: 60_000 });
    return tarpit;
  });
  await using _stopped = tarpit;
  const [listen] = await tarpit.waitFor(/LISTEN from=--listen address=127\.0\.0\.1:\d+/);
  const port = Number(listen.split(":").at(-1));
  const cpuAtStart = await cpuOf(tarpit.child.pid);
  const cpuFrom = performance.now();
  const home = await Deno.makeTempDir({ prefix: "tarpyt-campaign-" });
  const started = performance.now();
  const deadline = started + capSeconds * 1000;
  const runs: number[] = [];
  let output = "";
  let tool: RunningProcess | undefined;
  try {
    while (runs.length < maxRuns && performance.now() < deadline - 1000) {
      const runStarted = performance.now();
      // A session of its own: the tool's children (patator's processes, a loop's curl) are
      // stopped with it.
      tool = new RunningProcess(
        ["setsid", "sh", "-c", 'cd "$HOME" && exec "$@"', "-", ...campaign.argv(port, files)],
        { ...programEnv, HOME: home },
        "piped",
      );
      const quit = await tool.exitsWithin(deadline - runStarted);
      runs.push((performance.now() - runStarted) / 1000);
      if (!quit) break;
      output += tool.output;
      tool = undefined;
    }
    // Every connection of a tool that quit has left; its last ones are seen within a
    // probe (a second) of their FIN.
    if (tool === undefined) {
      await tarpit.until(
        () => count(tarpit.output, "CLOSE ") >= count(tarpit.output, "ACCEPT "),
        5_000,
      );
    }
    // Measured and stopped before the tool is: its connections still held count as held.
    const cpuSeconds = await cpuOf(tarpit.child.pid) - cpuAtStart;
    const windowSeconds = (performance.now() - cpuFrom) / 1000;
    output += tool?.output ?? "";
    await tarpit.stop();
    const connections = [...tarpit.output.matchAll(
      /CLOSE host=\S+ port=\d+ fd=(\d+) time=([\d.]+) bytes=\d+ left=(\w+) family=(\S+)/g,
    )].map(([, n, seconds, left, family]) => ({
      n: Number(n),
      seconds: Number(seconds),
      left,
      family,
    })).sort((a, b) => a.n - b.n);
    const lastWords = output.trim().split("\n").filter((line) => line.trim() !== "").slice(-2)
      .join(" | ").replace(/\s+/g, " ").slice(0, 120);
    return {
      connections,
      runs,
      falseSuccess: campaign.success.test(output),
      cpuSeconds,
      windowSeconds,
      lastWords,
    };
  } finally {
    if (tool !== undefined) await stopSession(tool);
    await Deno.remove(home, { recursive: true });
  }
}
