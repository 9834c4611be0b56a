/**
 * Naming what a client runs: by what it sent first, where it speaks first (an SSH version
 * string, an HTTP User-Agent), else by how it left (src/learn/evidence.ts), matched
 * against the families `deno task bench-campaign` measured of real clients. A client that
 * matches none is `unknown`; the names form a fixed set, so a metric labelled by family
 * has a bounded number of series.
 *
 * Only the first bytes a client sent are looked at, at most 255, once, and matched by
 * prefix, line by line; they are never parsed, and never kept past the match.
 *
 * @module
 */
import type { Evidence, Limit } from "./evidence.ts";

/** A family of clients, known by how they leave. */
interface Family {
  /** Its name, as CLOSE lines and metrics show it. */
  readonly name: string;
  /** The limit they meet, and the range of its measure. */
  readonly limit: Limit;
  readonly min: number;
  readonly max: number;
  /** The protocols it is seen on; every one when not given. */
  readonly protocols?: readonly string[];
}

/** Protocols whose server speaks first, and HTTP. */
const serverFirst = [
  "http",
  "http-1xx",
  "http-status",
  "smtp",
  "ftp",
  "telnet",
  "pop3",
  "imap",
  "irc",
  "banner",
];

/**
 * Families by how they leave, from `deno task bench-campaign`'s ground truth (each entry
 * names the clients it was measured on). The first that matches names a departure.
 */
const families: readonly Family[] = [
  // Clients that wait 20 s for a reply: medusa (READ_WAIT_TIME, src/medusa-net.h); nmap's
  // pop3-brute, whose comm.tryssl waits its timeout of 10 s to connect plus as long again
  // for the greeting (nselib/comm.lua, get_timeouts).
  { name: "read-timeout-20s", limit: "silence", min: 19.5, max: 21, protocols: serverFirst },
  // hydra's -w, 32 s, is libssh's whole connect timeout on ssh (hydra-ssh.c).
  { name: "hydra", limit: "time", min: 31.5, max: 36, protocols: ["ssh", "ssh-ignore"] },
  // hydra-irc.c ends at the first bytes it reads unless they hold a 001 welcome.
  { name: "hydra", limit: "verdict", min: 0, max: 1, protocols: ["irc"] },
  // OpenSSH reads at most 1,024 lines before a version string (SSH_MAX_PRE_BANNER_LINES).
  { name: "openssh", limit: "lines", min: 1_000, max: 1_030, protocols: ["ssh"] },
  // Brute-force scripts that wait 5 s for a reply: nmap's ftp- and ssh-brute, Python
  // clients made with timeout=5.
  { name: "read-timeout-5s", limit: "silence", min: 4.5, max: 6.5 },
  // ... or 10 s: nmap's imap-brute, and telnet-brute (its 5 s twice, by comm.tryssl);
  // patator's ftp_, smtp_, pop_ and imap_login.
  { name: "read-timeout-10s", limit: "silence", min: 9.5, max: 11.5 },
  // An alarm on a whole line or response: asyncio's wait_for(readline(), 30), swaks.
  { name: "line-alarm-30s", limit: "line", min: 28, max: 33 },
  // curl gives a mail server's reply 120 s (CURLOPT_SERVER_RESPONSE_TIMEOUT).
  { name: "curl", limit: "time", min: 118, max: 123, protocols: ["smtp", "ftp", "pop3", "imap"] },
];

/** Names by the first bytes a client sends: a prefix of one of its first lines. */
const firstBytes:
  readonly (readonly [protocols: readonly string[], prefix: string, name: string])[] = [
    [["ssh", "ssh-ignore"], "SSH-2.0-libssh_", "libssh"], // hydra, and others built on libssh
    [["ssh", "ssh-ignore"], "SSH-2.0-libssh2_", "libssh2"], // medusa, nmap's ssh-brute
    [["ssh", "ssh-ignore"], "SSH-2.0-paramiko_", "paramiko"], // patator, Python scripts
    [["ssh", "ssh-ignore"], "SSH-2.0-OpenSSH_", "openssh"],
    [["ssh", "ssh-ignore"], "SSH-2.0-Go", "go"],
    [["ssh", "ssh-ignore"], "SSH-2.0-AsyncSSH_", "asyncssh"],
    [["ssh", "ssh-ignore"], "SSH-2.0-JSCH", "jsch"],
    [["ssh", "ssh-ignore"], "SSH-2.0-PuTTY", "putty"],
    [["ssh", "ssh-ignore"], "SSH-2.0-Nmap", "nmap"],
    [["http", "http-1xx", "http-status"], "User-Agent: Mozilla/4.0 (Hydra)", "hydra"],
    [["http", "http-1xx", "http-status"], "User-Agent: curl/", "curl"],
    [["http", "http-1xx", "http-status"], "User-Agent: Wget/", "wget"],
    [["http", "http-1xx", "http-status"], "User-Agent: python-requests/", "python-requests"],
    [["http", "http-1xx", "http-status"], "User-Agent: Python-urllib/", "python-urllib"],
    [["http", "http-1xx", "http-status"], "User-Agent: Go-http-client/", "go"],
    [["http", "http-1xx", "http-status"], "User-Agent: gobuster/", "gobuster"],
    [["http", "http-1xx", "http-status"], "User-Agent: Fuzz Faster U Fool", "ffuf"],
    [["http", "http-1xx", "http-status"], "User-Agent: Wfuzz/", "wfuzz"],
    [["http", "http-1xx", "http-status"], "User-Agent: WhatWeb/", "whatweb"],
    [["http", "http-1xx", "http-status"], "User-Agent: Mozilla/5.0 (compatible; Nmap", "nmap"],
    [["http", "http-1xx", "http-status"], "User-Agent: Nikto", "nikto"],
    [["http", "http-1xx", "http-status"], "User-Agent: zgrab/", "zgrab"],
    [["http", "http-1xx", "http-status"], "User-Agent: masscan/", "masscan"],
    // A TLS handshake record (RFC 8446 5.1: content type 22, legacy version 3.x) on a
    // plaintext protocol: a scanner trying TLS after no greeting came (nmap's comm.tryssl),
    // or a client set for TLS on the wrong port.
    [[...serverFirst, "ssh", "ssh-ignore"], "\x16\x03", "tls"],
  ];

/**
 * What programs named by their first bytes stand, from their own sources: evidence about
 * them before any of their clients left. paramiko reads each line before the version
 * string after the first within 2 s (paramiko/transport.py, `_check_banner`), so no
 * pacing with longer gaps holds it, and none is tried on it. A TLS client ends the
 * handshake at the first record it cannot take, and plain text is one (RFC 8446 5: an
 * unexpected record type is an `unexpected_message` alert): only silence holds it.
 */
const knownLimits: ReadonlyMap<string, Evidence> = new Map([
  ["paramiko", { limit: "silence", value: 2 }],
  ["tls", { limit: "verdict", value: 0 }],
]);

/**
 * What the program `name` stands, as its source says, if that is known.
 *
 * @example
 * ```ts
 * import { knownLimitOf } from "./families.ts";
 * knownLimitOf("paramiko"); // { limit: "silence", value: 2 }
 * knownLimitOf("openssh"); // undefined
 * ```
 */
export function knownLimitOf(name: string): Evidence | undefined {
  return knownLimits.get(name);
}

/** Every name a client can be given, `unknown` included: the bounded label set. */
export const familyNames: readonly string[] = [
  ...new Set([...families.map((f) => f.name), ...firstBytes.map(([, , name]) => name)]),
  "unknown",
];

/**
 * The name of what a client of `protocol` runs, from the first bytes it sent, or
 * undefined when they name nothing known (or it sent none).
 *
 * @example
 * ```ts
 * import { nameByFirstBytes } from "./families.ts";
 * nameByFirstBytes("ssh", "SSH-2.0-libssh_0.10.6\r\n"); // "libssh"
 * nameByFirstBytes("http", "GET / HTTP/1.1\r\nUser-Agent: curl/7.88.1\r\n"); // "curl"
 * ```
 */
export function nameByFirstBytes(protocol: string, bytes: string | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  const lines = bytes.split("\n").map((line) => line.trimStart());
  for (const [protocols, prefix, name] of firstBytes) {
    if (!protocols.includes(protocol)) continue;
    if (lines.some((line) => line.startsWith(prefix))) return name;
  }
  return undefined;
}

/**
 * The family of a client of `protocol` that left after `heldSeconds` showing `evidence`,
 * or `unknown`. A family that leaves at a time of its own is known by that time, whatever
 * it was reading then; the others by the limit the leaving showed.
 *
 * @example
 * ```ts
 * import { familyByLeaving } from "./families.ts";
 * familyByLeaving("smtp", { limit: "silence", value: 20.2 }, 20.2); // "read-timeout-20s"
 * familyByLeaving("smtp", { limit: "line", value: 9 }, 120.4); // "curl"
 * familyByLeaving("smtp", undefined, 3); // "unknown"
 * ```
 */
export function familyByLeaving(
  protocol: string,
  evidence: Evidence | undefined,
  heldSeconds: number,
): string {
  if (evidence === undefined) return "unknown";
  for (const family of candidates(protocol, evidence.limit)) {
    const value = family.limit === "time" ? heldSeconds : evidence.value;
    if (value >= family.min && value <= family.max) return family.name;
  }
  return "unknown";
}

/** Per protocol, then per limit a departure showed: the families it may be of, in order. */
const candidatesOf = new Map<string, Map<Limit, readonly Family[]>>();

/**
 * The families a departure from `protocol` that showed `limit` may be of, in the table's
 * order: those of that limit and those known by their time. Made once per pair, since
 * every departure is named and the table is scanned jitless.
 */
function candidates(protocol: string, limit: Limit): readonly Family[] {
  let byLimit = candidatesOf.get(protocol);
  if (byLimit === undefined) candidatesOf.set(protocol, byLimit = new Map());
  let found = byLimit.get(limit);
  if (found === undefined) {
    found = families.filter((f) =>
      (f.limit === limit || f.limit === "time") &&
      (f.protocols === undefined || f.protocols.includes(protocol))
    );
    byLimit.set(limit, found);
  }
  return found;
}
