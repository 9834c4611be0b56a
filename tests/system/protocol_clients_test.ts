/**
 * Every protocol beyond ssh, http and smtp, against the real clients that speak it: curl,
 * OpenSSH, telnet and Python's client libraries, each protocol dripping a byte at a time
 * as it does by default, only faster. Each client must end up stuck: connected, receiving
 * legal data, no error, still waiting when the test ends.
 */
import { assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import {
  type ActivatedTarpyt,
  dripping,
  peer,
  socketActivated,
  sshArgv,
} from "../support/tarpyt.ts";
import { programEnv, RunningProcess } from "../support/process.ts";
import { receive } from "../support/net.ts";
import { needing } from "../support/tools.ts";

/** The tarpit for `protocol`, dripping a byte every 10 ms, with `extra` flags. */
function activated(protocol: string, extra: string[] = []): Promise<ActivatedTarpyt> {
  return socketActivated(["127.0.0.1"], ["--protocol", protocol, ...dripping(), ...extra]);
}

/**
 * A Python client library (tests/support/peers.py `held`) that has received `times` matches of
 * `pattern` and is still waiting; it is stopped with the test.
 */
async function pythonClient(
  client: string,
  tarpyt: ActivatedTarpyt,
  pattern: RegExp,
  times: number,
): Promise<RunningProcess> {
  const python = peer("held", client, "127.0.0.1", String(tarpyt.addresses[0].port), "3600");
  try {
    await python.waitFor(pattern, { times });
    assertNotMatch(python.output, /ENDED/);
    assertEquals(python.status, undefined, `${client} must still be waiting`);
  } catch (error) {
    await python.stop();
    throw error;
  }
  return python;
}

/**
 * A Python client library that has read `minBytes` of what the tarpit sends, the proof
 * coming from a raw reader beside it, and that was still waiting `seconds` after it
 * started: for protocols whose clients print nothing until a line ends, which it never
 * does.
 */
async function stillWaiting(
  client: string,
  tarpyt: ActivatedTarpyt,
  minBytes: number,
  seconds: number,
): Promise<string> {
  const port = String(tarpyt.addresses[0].port);
  await using python = peer("held", client, "127.0.0.1", port, String(seconds));
  const reader = await receive(tarpyt.addresses[0], (r) => r.text.length >= minBytes);
  await python.waitFor(/STILL WAITING|ENDED/);
  assertMatch(python.output, /STILL WAITING/);
  return reader.text;
}

function curl(url: string): RunningProcess {
  return new RunningProcess(["curl", "-sv", "--no-buffer", url]);
}

function url(scheme: string, tarpyt: ActivatedTarpyt): string {
  return `${scheme}://127.0.0.1:${tarpyt.addresses[0].port}/`;
}

Deno.test(needing(["python3", "curl"], {
  name: "ftp: curl and ftplib read 220- lines and still wait for the greeting's end",
  fn: async () => {
    await using tarpyt = await activated("ftp");
    await using client = curl(url("ftp", tarpyt));
    await client.waitFor(/< 220-[^\n]*/, { times: 5 });
    await using ftplib = await pythonClient("ftp", tarpyt, /^got 220-/m, 5);
    assertEquals(client.status, undefined, "curl must still be waiting");
    assertNotMatch(ftplib.output + client.output, /220 /);
  },
}));

Deno.test(needing(["python3", "curl"], {
  name: "pop3: curl and poplib read a +OK greeting that stops 2 octets short of its end",
  fn: async () => {
    await using tarpyt = await activated("pop3");
    await using client = curl(url("pop3", tarpyt));
    // 510 octets of greeting, then nothing more (RFC 2449 4: 512 with the CRLF).
    const text = await stillWaiting("pop3", tarpyt, 510, 8);
    assertMatch(text, /^\+OK [a-z ]{506}$/);
    assertEquals(client.status, undefined, "curl must still be waiting for the greeting's end");
    assertNotMatch(client.output, /< \+OK|> /);
  },
}));

Deno.test(needing(["python3", "curl"], {
  name: "imap: curl and imaplib read a * OK greeting whose line never ends",
  fn: async () => {
    await using tarpyt = await activated("imap");
    await using client = curl(url("imap", tarpyt));
    const text = await stillWaiting("imap", tarpyt, 200, 4);
    assertMatch(text, /^\* OK [a-z ]+$/);
    assertEquals(client.status, undefined, "curl must still be waiting for the greeting");
    assertNotMatch(client.output, /> A001/);
  },
}));

Deno.test(needing(["python3"], {
  name: "irc: a client parsing RFC 2812 lines gets NOTICE * lines and never the 001 welcome",
  fn: async () => {
    await using tarpyt = await activated("irc");
    await using irc = await pythonClient("irc", tarpyt, /^got NOTICE \* :\*\*\* .*$/m, 5);
    assertNotMatch(irc.output, /got 001|unparsable/);
  },
}));

Deno.test(needing(["python3", "telnet"], {
  name:
    "telnet: the telnet client and an RFC 854 client see option offers and banner lines, never login:",
  fn: async () => {
    await using tarpyt = await activated("telnet");
    // telnet quits at the end of its input: give it an input that stays open.
    await using client = new RunningProcess(
      ["telnet", "127.0.0.1", String(tarpyt.addresses[0].port)],
      programEnv,
      "piped",
    );
    await client.waitFor(/Connected to 127\.0\.0\.1/);
    await using rfc854 = await pythonClient("telnet", tarpyt, /^got b'[a-z ]+\\r\\n'$/m, 5);
    assertMatch(rfc854.output, /IAC WILL 1/); // ECHO, RFC 857
    assertMatch(rfc854.output, /IAC WILL 3/); // SUPPRESS-GO-AHEAD, RFC 858
    await client.waitFor(/\r?\n/, { times: 8 });
    assertNotMatch(client.output, /login:|Connection closed/);
    assertEquals(client.status, undefined, "telnet must still be connected");
  },
}));

Deno.test(needing(["python3", "ssh"], {
  name: "ssh holds OpenSSH for 1024 pre-banner lines, its own limit",
  fn: async () => {
    // Whole lines: the subject is how many lines OpenSSH reads, not the drip.
    await using tarpyt = await activated("ssh", ["--piece-size", "0"]);
    await using ssh = new RunningProcess(sshArgv("127.0.0.1", tarpyt.addresses[0].port));
    await ssh.waitFor(/banner line 1023: /, { timeoutMs: 60_000 });
    await ssh.waitFor(/No SSH version received in first 1024 lines/);
  },
}));

Deno.test(needing(["python3", "ssh"], {
  name: "ssh-ignore holds OpenSSH past its 1024-line limit with SSH_MSG_IGNORE after KEXINIT",
  fn: async () => {
    // Whole packets: the subject is how many IGNOREs OpenSSH takes, not the drip.
    await using tarpyt = await activated("ssh-ignore", ["--piece-size", "0"]);
    await using ssh = new RunningProcess(sshArgv("127.0.0.1", tarpyt.addresses[0].port, "-vvv"));
    await ssh.waitFor(/expecting SSH2_MSG_KEX_ECDH_REPLY/);
    await ssh.waitFor(/Received SSH2_MSG_IGNORE/, { times: 1100, timeoutMs: 60_000 });
    assertMatch(ssh.output, /Remote protocol version 2\.0, remote software version OpenSSH_9\.6p1/);
    assertEquals(ssh.status, undefined, "ssh must still be waiting for the key exchange");
    assertNotMatch(ssh.output, /Connection closed|banner exchange|invalid/);
  },
}));

Deno.test(needing(["python3", "ssh"], {
  name: "ssh-ignore dripped a byte at a time: OpenSSH reads the version, KEXINIT and IGNOREs",
  fn: async () => {
    await using tarpyt = await activated("ssh-ignore");
    await using ssh = new RunningProcess(sshArgv("127.0.0.1", tarpyt.addresses[0].port, "-vvv"));
    await ssh.waitFor(/expecting SSH2_MSG_KEX_ECDH_REPLY/);
    await ssh.waitFor(/Received SSH2_MSG_IGNORE/, { times: 3 });
    assertEquals(ssh.status, undefined, "ssh must still be waiting for the key exchange");
  },
}));

Deno.test(needing(["python3", "curl"], {
  name: "http: curl and http.client read header fields of a 100 Continue that never end",
  fn: async () => {
    await using tarpyt = await activated("http", ["--max-line-length", "32"]);
    await using client = curl(url("http", tarpyt));
    await client.waitFor(/< HTTP\/1\.1 100 Continue/);
    await client.waitFor(/< X-[A-Za-z0-9]+: [A-Za-z0-9]+/, { times: 5 });
    await using _http = await pythonClient("http", tarpyt, /reply: 'HTTP\/1\.1 100 Continue/, 1);
    assertEquals(client.status, undefined, "curl must still be waiting");
    assertNotMatch(client.output, /^< \r?$/m);
  },
}));

Deno.test(needing(["python3", "curl"], {
  name:
    "http-1xx: curl and http.client skip 100 Continue after 100 Continue, waiting for a final status",
  fn: async () => {
    await using tarpyt = await activated("http-1xx");
    await using client = curl(url("http", tarpyt));
    await client.waitFor(/< HTTP\/1\.1 100 Continue/, { times: 5 });
    await using _http = await pythonClient("http", tarpyt, /reply: 'HTTP\/1\.1 100 Continue/, 5);
    assertEquals(client.status, undefined, "curl must still be waiting");
  },
}));

Deno.test(needing(["python3", "curl"], {
  name: "http-status: curl and http.client read a status line whose reason phrase never ends",
  fn: async () => {
    await using tarpyt = await activated("http-status");
    await using client = curl(url("http", tarpyt));
    const text = await stillWaiting("http", tarpyt, 200, 4);
    assertMatch(text, /^HTTP\/1\.1 100 [a-z ]+$/);
    assertEquals(client.status, undefined, "curl must still be waiting for the status line");
    assertNotMatch(client.output, /< HTTP/);
  },
}));

Deno.test(needing(["python3"], {
  name: "banner drips the VNC version but its last byte; the client keeps waiting for it",
  fn: async () => {
    await using tarpyt = await activated("banner");
    await using rfb = await pythonClient("rfb", tarpyt, /^got 11 bytes .*$/m, 1);
    assertEquals(rfb.output.match(/^got \d+ bytes .*$/gm)?.at(-1), "got 11 bytes b'RFB 003.008'");
  },
}));

Deno.test(needing(["python3"], {
  name: "--banner takes escapes: a MySQL-like greeting arrives byte for byte, but its last",
  fn: async () => {
    await using tarpyt = await activated("banner", [
      "--banner",
      "\\x4a\\x00\\x00\\x00\\x0a5.7.42\\x00!",
    ]);
    const expected = "\x4a\0\0\0\x0a5.7.42\0"; // all but the last byte, "!"
    const reader = await receive(tarpyt.addresses[0], (r) => r.text.length >= expected.length);
    assertEquals(reader.text, expected);
  },
}));

Deno.test(needing(["python3", "curl", "openssl"], {
  name:
    "tls at its defaults: openssl s_client, curl and Python's ssl wait 60 s in a record that never completes",
  fn: async () => {
    await using tarpyt = await socketActivated(["127.0.0.1"], ["--protocol", "tls"]);
    const address = `127.0.0.1:${tarpyt.addresses[0].port}`;
    await using openssl = new RunningProcess(
      ["openssl", "s_client", "-connect", address, "-msg"],
      programEnv,
      "piped",
    );
    await using curl = new RunningProcess(["curl", "-skv", `https://${address}/`]);
    await using python = peer("held", "tls", "127.0.0.1", String(tarpyt.addresses[0].port), "60");
    // openssl shows what it read: the header of a handshake record of 2^14 bytes.
    await openssl.waitFor(/<<< TLS 1\.\d, RecordHeader \[length 0005\]\n\s+16 03 03 40 00/);
    await curl.waitFor(/Client hello/);
    await python.waitFor(/STILL WAITING|ENDED/, { timeoutMs: 80_000 });
    assertMatch(python.output, /STILL WAITING/);
    for (const client of [openssl, curl]) {
      assertEquals(client.status, undefined, `still waiting after 60 s:\n${client.output}`);
      assertNotMatch(client.output, /alert|error|SSL_ERROR/i);
    }
  },
}));
