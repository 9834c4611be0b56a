/**
 * Every protocol beyond ssh, http and smtp, against the real clients that speak it: curl,
 * OpenSSH, telnet and Python's client libraries. Each client must end up stuck:
 * connected, receiving legal data, no error, still waiting when the test ends.
 */
import { assert, assertEquals, assertMatch, assertNotMatch } from "./assert.ts";
import {
  type ActivatedTarpyt,
  peer,
  programEnv,
  RunningProcess,
  socketActivated,
  sshArgv,
} from "./harness.ts";

function activated(
  protocol: string,
  delay = "100ms",
  extra: string[] = [],
): Promise<ActivatedTarpyt> {
  return socketActivated(["127.0.0.1"], ["--protocol", protocol, "--delay", delay, ...extra]);
}

/** A Python client library (tests/peers.py `held`), reporting after `seconds`. */
async function pythonClient(
  client: string,
  tarpyt: ActivatedTarpyt,
  seconds: number,
): Promise<string> {
  await using python = peer(
    "held",
    client,
    "127.0.0.1",
    String(tarpyt.addresses[0].port),
    String(seconds),
  );
  await python.waitFor(/STILL WAITING|ENDED/, { timeoutMs: (seconds + 10) * 1000 });
  return python.output;
}

function curl(url: string): RunningProcess {
  return new RunningProcess(["curl", "-sv", "--no-buffer", url]);
}

function url(scheme: string, tarpyt: ActivatedTarpyt): string {
  return `${scheme}://127.0.0.1:${tarpyt.addresses[0].port}/`;
}

Deno.test("ftp: curl and ftplib read 220- lines and still wait for the greeting's end", async () => {
  await using tarpyt = await activated("ftp");
  await using client = curl(url("ftp", tarpyt));
  await client.waitFor(/< 220-[^\n]*/, { times: 5 });
  assertEquals(client.status, undefined, "curl must still be waiting");
  const ftplib = await pythonClient("ftp", tarpyt, 2);
  assert((ftplib.match(/^got 220-/gm) ?? []).length >= 5, ftplib);
  assertMatch(ftplib, /STILL WAITING/);
  assertNotMatch(ftplib + client.output, /220 /);
});

Deno.test("pop3: curl and poplib get the dripped +OK greeting, then wait for a reply forever", async () => {
  // 512 ticks of 10 ms: the whole greeting arrives in about 5 s.
  await using tarpyt = await activated("pop3", "10ms");
  await using client = curl(url("pop3", tarpyt));
  const [greeting] = await client.waitFor(/< \+OK [^\n]*/, { timeoutMs: 20_000 });
  assertEquals(greeting.trimEnd().length, "< ".length + 510);
  await client.waitFor(/> CAPA/);
  const poplib = await pythonClient("pop3", tarpyt, 8);
  assertMatch(poplib, /^got a line of 510 bytes: b'\+OK /m);
  assertMatch(poplib, /got sending USER\nSTILL WAITING/);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assertEquals(client.status, undefined, "curl must still be waiting for its CAPA reply");
});

Deno.test("imap: curl and imaplib get untagged * OK lines and never their tagged reply", async () => {
  await using tarpyt = await activated("imap");
  await using client = curl(url("imap", tarpyt));
  await client.waitFor(/> A001 CAPABILITY/);
  await client.waitFor(/< \* OK [^\n]*/, { times: 5 });
  assertEquals(client.status, undefined, "curl must still be waiting");
  const imaplib = await pythonClient("imap", tarpyt, 2);
  assert((imaplib.match(/^got b'\* OK /gm) ?? []).length >= 5, imaplib);
  assertMatch(imaplib, /STILL WAITING/);
});

Deno.test("irc: a client parsing RFC 2812 lines gets NOTICE * lines and never the 001 welcome", async () => {
  await using tarpyt = await activated("irc");
  const irc = await pythonClient("irc", tarpyt, 2);
  const notices = irc.match(/^got NOTICE \* :\*\*\* .*$/gm) ?? [];
  assert(notices.length >= 5, irc);
  assertNotMatch(irc, /got 001|unparsable/);
  assertMatch(irc, /STILL WAITING/);
});

Deno.test("telnet: the telnet client and telnetlib see option offers and banner lines, never login:", async () => {
  await using tarpyt = await activated("telnet");
  // telnet quits at the end of its input: give it an input that stays open.
  await using client = new RunningProcess(
    ["telnet", "127.0.0.1", String(tarpyt.addresses[0].port)],
    programEnv,
    "piped",
  );
  await client.waitFor(/Connected to 127\.0\.0\.1/);
  const telnetlib = await pythonClient("telnet", tarpyt, 2);
  assertMatch(telnetlib, /IAC WILL 1/); // ECHO, RFC 857
  assertMatch(telnetlib, /IAC WILL 3/); // SUPPRESS-GO-AHEAD, RFC 858
  assert((telnetlib.match(/^got b'[\x20-\x7e]+\\r\\n'$/gm) ?? []).length >= 5, telnetlib);
  assertMatch(telnetlib, /STILL WAITING/);
  assert((client.output.match(/\r?\n/g) ?? []).length >= 8, client.output);
  assertNotMatch(client.output, /login:|Connection closed/);
  assertEquals(client.status, undefined, "telnet must still be connected");
});

Deno.test("ssh-ignore holds OpenSSH past its 1024-line limit with SSH_MSG_IGNORE after KEXINIT", async () => {
  await using tarpyt = await activated("ssh-ignore", "10ms");
  await using ssh = new RunningProcess(sshArgv("127.0.0.1", tarpyt.addresses[0].port, "-vvv"));
  await ssh.waitFor(/expecting SSH2_MSG_KEX_ECDH_REPLY/);
  await ssh.waitFor(/Received SSH2_MSG_IGNORE/, { times: 1100, timeoutMs: 40_000 });
  assertMatch(ssh.output, /Remote protocol version 2\.0, remote software version OpenSSH_9\.6p1/);
  assertEquals(ssh.status, undefined, "ssh must still be waiting for the key exchange");
  assertNotMatch(ssh.output, /Connection closed|banner exchange|invalid/);
});

Deno.test("http-1xx: curl and http.client skip 100 Continue after 100 Continue, waiting for a final status", async () => {
  await using tarpyt = await activated("http-1xx");
  await using client = curl(url("http", tarpyt));
  await client.waitFor(/< HTTP\/1\.1 100 Continue/, { times: 5 });
  assertEquals(client.status, undefined, "curl must still be waiting");
  // A response is up to 5 lines (status, 3 fields, blank): 5 of them take up to 2.5 s.
  const httpClient = await pythonClient("http", tarpyt, 4);
  assert((httpClient.match(/reply: 'HTTP\/1\.1 100 Continue/g) ?? []).length >= 5, httpClient);
  assertMatch(httpClient, /STILL WAITING/);
});

Deno.test("http-chunked: curl and urllib read body chunks that never end", async () => {
  await using tarpyt = await activated("http-chunked");
  await using client = curl(url("http", tarpyt));
  await client.waitFor(/< Transfer-Encoding: chunked/);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const body = client.output.slice(client.output.lastIndexOf("< \r\n") + 4);
  assertMatch(body, /[A-Za-z0-9]{20,}/, "curl prints the chunks' data");
  assertEquals(client.status, undefined, "curl must still be reading the body");
  const urllib = await pythonClient("urllib", tarpyt, 2);
  assertMatch(urllib, /got status 200/);
  assert((urllib.match(/^got body \d+ bytes$/gm) ?? []).length >= 5, urllib);
  assertMatch(urllib, /STILL WAITING/);
});

Deno.test("banner drips the VNC version a byte a tick; the client answers and waits for the next step", async () => {
  await using tarpyt = await activated("banner");
  const rfb = await pythonClient("rfb", tarpyt, 2.5);
  const steps = rfb.match(/^got \d+ bytes .*$/gm) ?? [];
  assertEquals(steps.length, 12, rfb);
  assertEquals(steps.at(-1), "got 12 bytes b'RFB 003.008\\n'");
  assertMatch(rfb, /STILL WAITING/);
});

Deno.test("--banner takes escapes: a MySQL-like greeting arrives byte for byte", async () => {
  await using tarpyt = await activated("banner", "10ms", [
    "--banner",
    "\\x4a\\x00\\x00\\x00\\x0a5.7.42\\x00",
  ]);
  const conn = await Deno.connect(tarpyt.addresses[0]);
  try {
    const expected = [0x4a, 0, 0, 0, 0x0a, ..."5.7.42"].map((b) =>
      typeof b === "number" ? b : b.charCodeAt(0)
    ).concat([0]);
    const got: number[] = [];
    const buffer = new Uint8Array(64);
    while (got.length < expected.length) {
      const n = await conn.read(buffer);
      if (n === null) break;
      got.push(...buffer.subarray(0, n));
    }
    assertEquals(got, expected);
  } finally {
    conn.close();
  }
});
