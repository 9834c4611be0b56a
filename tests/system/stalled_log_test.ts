/**
 * A log reader that stalls (stderr is a pipe nobody reads) must not stop the tarpit:
 * clients are still served, metrics still answer, SIGTERM still stops it; lines are
 * dropped and counted, and one line says how many once the reader catches up.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { connectReader, fetchText, freePort, untilListening } from "../support/net.ts";
import { loadArgv, tarpytArgv, wholeLines } from "../support/tarpyt.ts";
import { programEnv, RunningProcess, within } from "../support/process.ts";
import { parseExposition, sampleValue } from "../support/prometheus_text.ts";
import { needing } from "../support/tools.ts";

Deno.test(needing(["python3"], {
  name: "a stalled stderr costs log lines, counted, and never the tarpit's service",
  fn: async () => {
    const [port, metricsPort] = [freePort(), freePort()];
    const argv = tarpytArgv([
      "--listen",
      `127.0.0.1:${port}`,
      "--metrics-listen",
      `127.0.0.1:${metricsPort}`,
      "--max-per-ip",
      "100000",
      ...wholeLines(),
    ]);
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: { ...programEnv },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped", // and not read, for now
    }).spawn();
    try {
      await untilListening(port);
      await untilListening(metricsPort);
      // Thousands of ACCEPT lines: far more than the pipe and the queue hold.
      await using crowd = new RunningProcess(loadArgv("read", "127.0.0.1", port, "3000"));
      await crowd.waitFor(/held 3000/);
      // Clients keep coming while nobody reads: once a write has waited a second with the
      // tarpit free to see it end, the reader is behind and lines go. The tarpit serves on.
      const droppedSoFar = async () =>
        sampleValue(
          parseExposition(await fetchText(`http://127.0.0.1:${metricsPort}/metrics`)),
          "tarpyt_log_lines_dropped_total",
        ) ?? 0;
      const until = Date.now() + 20_000;
      let dropped = 0;
      while (dropped === 0 && Date.now() < until) {
        const [conn, reader] = await connectReader({ hostname: "127.0.0.1", port });
        await reader.until((r) => r.text.length > 0);
        conn.close();
        dropped = await droppedSoFar();
      }
      assert(dropped > 0, `dropped ${dropped}`);

      // The reader catches up: the tarpit says how many lines it lost.
      let log = "";
      const decoder = new TextDecoder();
      const reading = (async () => {
        for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
      })();
      const deadline = Date.now() + 20_000;
      while (!/LOG_DROPPED lines=\d+/.test(log) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assertMatch(log, /LOG_DROPPED lines=[1-9]\d* cause=stalled stderr could not keep up/);
      child.kill("SIGTERM");
      assertEquals((await within(20_000, "the stop", child.status)).code, 0);
      await reading;
      assertMatch(log, /TOTALS connects=\d+ /);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
    }
  },
}));
