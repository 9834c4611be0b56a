/**
 * `deno task bench-clients [--cap S]`: how long each real client stays stuck in each
 * protocol, and what `nmap -sV` calls each port. Prints the README's client table.
 *
 * Each pair runs twice, in parallel with all the others:
 * - at a 10 ms delay, to find the client's own limit (the lines or bytes it reads before
 *   giving up), capped at `--cap` seconds;
 * - at the protocol's default 10 s delay, capped likewise, to catch clients that give up
 *   after a time rather than a count (an idle or response timeout).
 * A client still waiting at the cap counts as stuck. nmap runs once per protocol against
 * the default delay.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { peerArgv, RunningProcess, sshArgv, tarpytArgv } from "../tests/harness.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { cap: { type: "string", default: "180" } },
});
const capSeconds = Number(values.cap);

interface Client {
  readonly protocol: string;
  readonly name: string;
  readonly argv: (port: number) => string[];
  /** Counts what the client received, from its output. */
  readonly received: (output: string) => number;
}

const curlLines = (output: string): number => (output.match(/^< /gm) ?? []).length;
/** peers.py's "got" lines, and the "reply:" lines of smtplib's and http.client's debug output. */
const gotLines = (output: string): number => (output.match(/^(got |reply: )/gm) ?? []).length;
const curl = (protocol: string, scheme: string): Client => ({
  protocol,
  name: "curl",
  argv: (port) => ["curl", "-sv", "--no-buffer", `${scheme}://127.0.0.1:${port}/`],
  received: curlLines,
});
const python = (protocol: string, client: string, name: string): Client => ({
  protocol,
  name,
  argv: (port) => peerArgv("held", client, "127.0.0.1", String(port), String(capSeconds + 5)),
  received: gotLines,
});
const ssh = (protocol: string): Client => ({
  protocol,
  name: "OpenSSH",
  argv: (port) => sshArgv("127.0.0.1", port, "-vvv"),
  received: (output) => (output.match(/banner line \d+:|Received SSH2_MSG_IGNORE/g) ?? []).length,
});

const clients: Client[] = [
  ssh("ssh"),
  ssh("ssh-ignore"),
  curl("http", "http"),
  python("http", "http", "http.client"),
  curl("http-1xx", "http"),
  python("http-1xx", "http", "http.client"),
  curl("http-chunked", "http"),
  python("http-chunked", "urllib", "urllib"),
  curl("smtp", "smtp"),
  python("smtp", "smtp", "smtplib"),
  curl("ftp", "ftp"),
  python("ftp", "ftp", "ftplib"),
  curl("pop3", "pop3"),
  python("pop3", "pop3", "poplib"),
  curl("imap", "imap"),
  python("imap", "imap", "imaplib"),
  python("telnet", "telnet", "telnetlib"),
  python("irc", "irc", "RFC 2812 parser"),
  python("banner", "rfb", "RFB handshake"),
];

/** Starts TarPyt on a free port and returns it with the port it logged. */
async function tarpit(protocol: string, delay: string): Promise<[RunningProcess, number]> {
  const process = new RunningProcess(tarpytArgv([
    "--protocol",
    protocol,
    "--delay",
    delay,
    "--listen",
    "127.0.0.1:0",
  ]));
  const [listen] = await process.waitFor(/LISTEN from=--listen address=127\.0\.0\.1:\d+/);
  return [process, Number(listen.split(":").at(-1))];
}

interface Outcome {
  readonly seconds: number;
  readonly received: number;
  readonly stuck: boolean;
  readonly end: string;
}

async function measure(client: Client, delay: string): Promise<Outcome> {
  const [server, port] = await tarpit(client.protocol, delay);
  await using _server = server;
  const start = performance.now();
  await using running = new RunningProcess(client.argv(port), undefined, "piped");
  const ended = await Promise.race([
    running.exited().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), capSeconds * 1000)),
  ]);
  const seconds = (performance.now() - start) / 1000;
  const pythonEnded = /^ENDED .*/m.exec(running.output)?.[0];
  const lastLines = running.output.trimEnd().split("\n").slice(-2).join(" | ");
  return {
    seconds,
    received: client.received(running.output),
    stuck: !ended || (running.output.includes("STILL WAITING")),
    end: (pythonEnded ?? lastLines).slice(0, 90),
  };
}

async function nmapService(protocol: string): Promise<string> {
  const [server, port] = await tarpit(protocol, "10s");
  await using _server = server;
  await using nmap = new RunningProcess(["nmap", "-sV", "-Pn", "-p", String(port), "127.0.0.1"]);
  await nmap.exited();
  const row = new RegExp(`^${port}/tcp\\s+\\S+\\s+(.*)$`, "m").exec(nmap.output)?.[1];
  return (row ?? "no answer").replace(/\s+/g, " ").trim();
}

const fast = clients.map((client) => measure(client, "10ms"));
const real = clients.map((client) => measure(client, "10s"));
const protocolNames = [...new Set(clients.map((c) => c.protocol))];
const nmap = protocolNames.map(nmapService);

const describe = (o: Outcome, unit: string): string =>
  o.stuck
    ? `stuck at the ${capSeconds} s cap (${o.received} ${unit})`
    : `gave up after ${o.received} ${unit}, ${o.seconds.toFixed(1)} s: ${o.end}`;

console.log("| protocol | client | at 10 ms a line | at 10 s a line |");
console.log("| --- | --- | --- | --- |");
for (const [i, client] of clients.entries()) {
  const [quick, slow] = [await fast[i], await real[i]];
  console.log(
    `| ${client.protocol} | ${client.name} | ${describe(quick, "lines")} | ${
      describe(slow, "lines")
    } |`,
  );
}
console.log("\n| protocol | nmap -sV (10 s delay) |");
console.log("| --- | --- |");
for (const [i, name] of protocolNames.entries()) console.log(`| ${name} | ${await nmap[i]} |`);
