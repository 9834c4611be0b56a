/**
 * Every protocol beyond ssh, http and smtp, against the real clients that speak it: curl,
 * OpenSSH, telnet and Python's client libraries. Each client must end up stuck:
 * connected, receiving legal data, no error, still waiting when the test ends.
 */
import { assertEquals, assertMatch, assertNotMatch } from "./assert.ts";
import {
  type ActivatedTarpyt,
  peer,
  programEnv,
  receive,
  RunningProcess,
  socketActivated,
  sshArgv,
} from "./harness.ts";
import { needing } from "./tools.ts";

function activated(
  protocol: string,
  delay = "100ms",
  extra: string[] = [],
): Promise<ActivatedTarpyt> {
  return socketActivated(["127.0.0.1"], ["--protocol", protocol, "--delay", delay, ...extra]);
}

/**
 * A Python client library (tests/peers.py `held`) that has received `times` matches of
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
  name: "pop3: curl and poplib get the dripped +OK greeting, then wait for a reply forever",
  fn: async () => {
    // 512 ticks of 10 ms: the whole greeting arrives in seconds.
    await using tarpyt = await activated("pop3", "10ms");
    await using client = curl(url("pop3", tarpyt));
    const [greeting] = await client.waitFor(/< \+OK [^\n]*/);
    assertEquals(greeting.trimEnd().length, "< ".length + 510);
    await client.waitFor(/> CAPA/);
    await using poplib = await pythonClient("pop3", tarpyt, /got sending USER/, 1);
    assertMatch(poplib.output, /^got a line of 510 bytes: b'\+OK /m);
    assertEquals(client.status, undefined, "curl must still be waiting for its CAPA reply");
  },
}));

Deno.test(needing(["python3", "curl"], {
  name: "imap: curl and imaplib get untagged * OK lines and never their tagged reply",
  fn: async () => {
    await using tarpyt = await activated("imap");
    await using client = curl(url("imap", tarpyt));
    await client.waitFor(/> A001 CAPABILITY/);
    await client.waitFor(/< \* OK [^\n]*/, { times: 5 });
    await using _imaplib = await pythonClient("imap", tarpyt, /^got b'\* OK /m, 5);
    assertEquals(client.status, undefined, "curl must still be waiting");
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
    await using rfc854 = await pythonClient("telnet", tarpyt, /^got b'[\x20-\x7e]+\\r\\n'$/m, 5);
    assertMatch(rfc854.output, /IAC WILL 1/); // ECHO, RFC 857
    assertMatch(rfc854.output, /IAC WILL 3/); // SUPPRESS-GO-AHEAD, RFC 858
    await client.waitFor(/\r?\n/, { times: 8 });
    assertNotMatch(client.output, /login:|Connection closed/);
    assertEquals(client.status, undefined, "telnet must still be connected");
  },
}));

Deno.test(needing(["python3", "ssh"], {
  name: "ssh-ignore holds OpenSSH past its 1024-line limit with SSH_MSG_IGNORE after KEXINIT",
  fn: async () => {
    await using tarpyt = await activated("ssh-ignore", "10ms");
    await using ssh = new RunningProcess(sshArgv("127.0.0.1", tarpyt.addresses[0].port, "-vvv"));
    await ssh.waitFor(/expecting SSH2_MSG_KEX_ECDH_REPLY/);
    await ssh.waitFor(/Received SSH2_MSG_IGNORE/, { times: 1100, timeoutMs: 60_000 });
    assertMatch(ssh.output, /Remote protocol version 2\.0, remote software version OpenSSH_9\.6p1/);
    assertEquals(ssh.status, undefined, "ssh must still be waiting for the key exchange");
    assertNotMatch(ssh.output, /Connection closed|banner exchange|invalid/);
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
  name: "http-chunked: curl and urllib read body chunks that never end",
  fn: async () => {
    await using tarpyt = await activated("http-chunked");
    await using client = curl(url("http", tarpyt));
    await client.waitFor(/< Transfer-Encoding: chunked/);
    // curl prints the chunks' data after the empty line that ends the header section.
    await client.waitFor(/\r?\n< \r?\n[\s\S]*[A-Za-z0-9]{20,}/);
    await using urllib = await pythonClient("urllib", tarpyt, /^got body \d+ bytes$/m, 5);
    assertMatch(urllib.output, /got status 200/);
    assertEquals(client.status, undefined, "curl must still be reading the body");
  },
}));

Deno.test(needing(["python3"], {
  name:
    "banner drips the VNC version a byte a tick; the client answers and waits for the next step",
  fn: async () => {
    await using tarpyt = await activated("banner");
    await using rfb = await pythonClient("rfb", tarpyt, /^got 12 bytes .*$/m, 1);
    const steps = rfb.output.match(/^got \d+ bytes .*$/gm) ?? [];
    assertEquals(steps.length, 12, rfb.output);
    assertEquals(steps.at(-1), "got 12 bytes b'RFB 003.008\\n'");
  },
}));

Deno.test(needing(["python3"], {
  name: "--banner takes escapes: a MySQL-like greeting arrives byte for byte",
  fn: async () => {
    await using tarpyt = await activated("banner", "10ms", [
      "--banner",
      "\\x4a\\x00\\x00\\x00\\x0a5.7.42\\x00",
    ]);
    const expected = "\x4a\0\0\0\x0a5.7.42\0";
    const reader = await receive(tarpyt.addresses[0], (r) => r.text.length >= expected.length);
    assertEquals(reader.text, expected);
  },
}));
