/**
 * Out of file descriptors, whatever the cause, the tarpit must start accepting again as
 * soon as there is a descriptor and room: it never stops silently. Each test runs the
 * program under a small `ulimit -n`, as the shipped units run it under LimitNOFILE=.
 */
import { assert } from "../support/assert.ts";
import { connect, connectReader, fetchText, freePort } from "../support/net.ts";
import { loadArgv, peer, tarpytArgv, wholeLines } from "../support/tarpyt.ts";
import { RunningProcess } from "../support/process.ts";
import { needing } from "../support/tools.ts";

/** TarPyt on a free port under `ulimit -n files`, with `args`; its port. */
async function limited(files: number, args: string[]): Promise<[RunningProcess, number]> {
  const argv = tarpytArgv(["--listen", "127.0.0.1:0", ...wholeLines(), ...args]);
  const tarpyt = new RunningProcess([
    "bash",
    "-c",
    `ulimit -n ${files} && exec "$@"`,
    "-",
    ...argv,
  ]);
  const [line] = await tarpyt.waitFor(/address=127\.0\.0\.1:\d+/);
  return [tarpyt, Number(line.split(":").at(-1))];
}

Deno.test(needing(["python3"], {
  name:
    "bursts from an address at its limit that exhaust the descriptors do not stop accepting for good",
  fn: async () => {
    // The shipped ratio, small: 100 clients, 64 spare descriptors. 90 sources hold one
    // client each, and 127.0.0.250, at its --max-per-ip of 1, bursts 80 connects at a
    // time, 8 times: refused, but each burst fills the descriptors first.
    const [started, port] = await limited(164, ["--max-clients", "100", "--max-per-ip", "1"]);
    await using tarpyt = started;
    await using holders = new RunningProcess(loadArgv("read", "127.0.0.1", port, "90"));
    await holders.waitFor(/held 90/);
    await tarpyt.waitFor(/ ACCEPT /, { times: 90 });
    await using bursts = peer("burst", "127.0.0.1", String(port), "127.0.0.250", "80", "1.5", "8");
    await bursts.waitFor(/bursts done/);
    await holders.stop();
    await tarpyt.waitFor(/ CLOSE /, { times: 90 });
    // Every held client has left: a new one must get in.
    const accepted = tarpyt.mark();
    const [conn, reader] = await connectReader({ hostname: "127.0.0.1", port });
    try {
      await tarpyt.waitFor(/ ACCEPT /, { since: accepted, timeoutMs: 5_000 });
      await reader.until((r) => r.text.length > 0);
      assert(!reader.closed);
    } finally {
      conn.close();
    }
  },
}));

Deno.test({
  name: "the metrics socket accepts again once descriptors free up after running out",
  fn: async () => {
    const metricsPort = freePort();
    const [started, port] = await limited(64, [
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
      "--max-per-ip",
      "99",
    ]);
    await using tarpyt = started;
    const clients: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 70; i++) {
        clients.push(await connect({ hostname: "127.0.0.1", port }));
      }
      await tarpyt.waitFor(/ FILE_LIMIT /);
      // A scrape now finds no descriptor: the runtime's accept fails and stops.
      const early = await connect({ hostname: "127.0.0.1", port: metricsPort });
      early.close();
    } finally {
      for (const conn of clients) conn.close();
    }
    await tarpyt.waitFor(/ CLOSE /, { times: 20 });
    const scrape = await fetchText(`http://127.0.0.1:${metricsPort}/metrics`);
    assert(/endlessh_client_open_count_total/.test(scrape));
  },
});
