/**
 * Clients that vanish without FIN or RST, as when their host is switched off. Each test
 * runs the tarpit and one client (from 127.0.0.5) in a network namespace of their own,
 * lets a line through, then routes 127.0.0.5 to a blackhole: the client hears nothing
 * more and so sends nothing more. Only TCP's own timers can notice: retransmission for
 * data in flight, keepalive (60 s idle) for a connection with nothing to send.
 *
 * (Dropping packets with a zero-length qdisc instead looks like local congestion to the
 * kernel, which then retries keepalive probes without counting them.)
 *
 * Needs root for `unshare -n` and `tc`, as the container test does; `.ci/run` runs the
 * suite as root.
 */
import { assert, assertMatch } from "../support/assert.ts";
import { peerArgv, tarpytArgv, wholeLines } from "../support/tarpyt.ts";
import { RunningProcess } from "../support/process.ts";
import { needing } from "../support/tools.ts";

/** The tarpit alone in a new network namespace, with these TCP settings there. */
function isolatedTarpit(sysctls: string[], args: string[]): RunningProcess {
  const setup = `ip link set lo up && sysctl -qw ${sysctls.join(" ")} && exec "$@"`;
  return new RunningProcess([
    "unshare",
    "-n",
    "bash",
    "-c",
    setup,
    "-",
    ...tarpytArgv(["--listen", "127.0.0.1:0", ...args]),
  ]);
}

/** A client in the tarpit's namespace that reads nothing, as a patient attacker. */
async function clientOf(tarpyt: RunningProcess): Promise<RunningProcess> {
  const [line] = await tarpyt.waitFor(/address=127\.0\.0\.1:\d+/);
  const port = line.split(":").at(-1)!;
  const client = new RunningProcess([
    "nsenter",
    `--net=/proc/${tarpyt.child.pid}/ns/net`,
    ...peerArgv("noread", "127.0.0.1", port, "65536", "1", "127.0.0.5"),
  ]);
  await client.waitFor(/connected/);
  await tarpyt.waitFor(/ ACCEPT /);
  return client;
}

/** From now on, nothing the tarpit sends reaches the client. */
async function pullTheCable(tarpyt: RunningProcess): Promise<void> {
  const ip = await new Deno.Command("nsenter", {
    args: [
      `--net=/proc/${tarpyt.child.pid}/ns/net`,
      ..."ip route add blackhole 127.0.0.5/32 table local".split(" "),
    ],
  }).output();
  assert(ip.success, new TextDecoder().decode(ip.stderr));
}

Deno.test(needing(["root", "python3", "ip"], {
  name: "a client that vanishes while lines are due is closed once TCP stops retransmitting",
  fn: async () => {
    // tcp_retries2=4 gives up after seconds instead of 15 minutes.
    await using tarpyt = isolatedTarpit(["net.ipv4.tcp_retries2=4"], wholeLines("300ms"));
    await using _client = await clientOf(tarpyt);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await pullTheCable(tarpyt);
    const [close] = await tarpyt.waitFor(/CLOSE .*bytes=\d+/, { timeoutMs: 60_000 });
    // Lines got through before the cable was pulled; then retransmissions ran out.
    assert(Number(/bytes=(\d+)/.exec(close)?.[1]) > 0, close);
  },
}));

Deno.test(needing(["root", "python3", "ip"], {
  name:
    "a silent client that vanishes is found dead by keepalive, as it happens, before its next line",
  fn: async () => {
    // The first line comes after 1 s and gets through. Keepalive starts after 60 s idle;
    // here it then gives up after 2 probes 1 s apart. The tarpit learns of it only when
    // it next writes: it never reads. Nothing else is sent until 71 s, when that line
    // finds the connection dead. Without keepalive it would be queued and retransmitted
    // for 15 minutes instead.
    await using tarpyt = isolatedTarpit(
      ["net.ipv4.tcp_keepalive_intvl=1", "net.ipv4.tcp_keepalive_probes=2"],
      ["--first-delay", "1s", "--delay", "70s", "--jitter", "0s", "--piece-size", "0"],
    );
    await using _client = await clientOf(tarpyt);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await pullTheCable(tarpyt);
    const started = Date.now();
    const [close] = await tarpyt.waitFor(/CLOSE [^\n]*/, { timeoutMs: 100_000 });
    const seconds = (Date.now() - started) / 1000;
    // Idle 60 s, then two probes a second apart: found at about 63 s, its next line due at 71 s.
    assert(seconds > 60 && seconds < 69, `closed ${seconds} s after the cable was pulled`);
    assertMatch(close, /time=6\d\.\d{3} bytes=\d+ left=reset /);
  },
}));
