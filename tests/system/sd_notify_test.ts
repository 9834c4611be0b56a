/**
 * sd_notify as a Type=notify service does it: the real program under
 * systemd-socket-activate, with NOTIFY_SOCKET naming a receiver that stands in for
 * systemd's (an abstract address, which the program's own permissions cover).
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { connect, lines, receive } from "../support/net.ts";
import { peer, socketActivated, wholeLines } from "../support/tarpyt.ts";
import { needing } from "../support/tools.ts";
import { notifySocketPath } from "../../src/systemd/sd_notify.ts";

async function notifyReceiver(): Promise<{ name: string; receiver: ReturnType<typeof peer> }> {
  const name = `tarpyt-test-${crypto.randomUUID()}`;
  const receiver = peer("notify", name);
  await receiver.waitFor(/bound @/);
  return { name, receiver };
}

Deno.test(needing(["python3"], {
  name: "READY=1 comes after the socket is served, STATUS counts clients, STOPPING=1 at the end",
  fn: async () => {
    const { name, receiver } = await notifyReceiver();
    await using _receiver = receiver;
    await using tarpyt = await socketActivated(["127.0.0.1"], wholeLines(), {
      env: { NOTIFY_SOCKET: `@${name}` },
    });
    const [ready] = await receiver.waitFor(/notify: READY=1/);
    assertEquals(ready, "notify: READY=1");
    const conn = await connect(tarpyt.addresses[0]);
    try {
      await receiver.waitFor(
        /notify: STATUS=1 clients held now, 1 trapped since start, [1-9]\d* bytes sent/,
      );
    } finally {
      conn.close();
    }
    const stopping = receiver.mark();
    assertEquals((await tarpyt.stop()).code, 0);
    // Sent before it exited, but the receiver prints it in its own time.
    await receiver.waitFor(/notify: STOPPING=1\n/, { since: stopping });
    assertMatch(tarpyt.output, /TOTALS connects=1 /);
  },
}));

Deno.test(needing(["python3"], {
  name: "a notify socket the program may not write is reported once, and the tarpit serves on",
  fn: async () => {
    const path = await Deno.makeTempFile({ prefix: "tarpyt-notify-" });
    try {
      await using tarpyt = await socketActivated(["127.0.0.1"], wholeLines(), {
        env: { NOTIFY_SOCKET: path },
      });
      const reader = await receive(tarpyt.addresses[0], lines(3));
      assert(!reader.closed, reader.text);
      const warnings = tarpyt.output.match(/NOTIFY_FAILED socket=.*/g) ?? [];
      assertEquals(warnings.length, 1, tarpyt.output);
      assertMatch(String(warnings[0]), /not permitted.*\/run\/systemd\/notify/);
    } finally {
      await Deno.remove(path);
    }
  },
}));

Deno.test("an abstract NOTIFY_SOCKET (@name) is addressed with a leading NUL", () => {
  assertEquals(notifySocketPath("@x/y"), "\0x/y");
  assertEquals(notifySocketPath("/run/systemd/notify"), "/run/systemd/notify");
});

Deno.test(needing(["python3"], {
  name: "with WATCHDOG_USEC set, WATCHDOG=1 keeps coming; for another pid, never",
  fn: async () => {
    const { name, receiver } = await notifyReceiver();
    await using _receiver = receiver;
    await using tarpyt = await socketActivated(["127.0.0.1"], wholeLines(), {
      env: { NOTIFY_SOCKET: `@${name}`, WATCHDOG_USEC: "2000000" },
    });
    await receiver.waitFor(/notify: WATCHDOG=1/, { times: 3 });
    await tarpyt.stop();
    const other = await notifyReceiver();
    await using _other = other.receiver;
    await using quiet = await socketActivated(["127.0.0.1"], wholeLines(), {
      env: { NOTIFY_SOCKET: `@${other.name}`, WATCHDOG_USEC: "2000000", WATCHDOG_PID: "1" },
    });
    await other.receiver.waitFor(/notify: READY=1/);
    // A new STATUS= comes at a 5 s refresh, five heartbeats on: had the watchdog been on,
    // it would have been pinged by then.
    const conn = await connect(quiet.addresses[0]);
    try {
      await other.receiver.waitFor(/notify: STATUS=1 clients held now/, { timeoutMs: 10_000 });
    } finally {
      conn.close();
    }
    assert(!/WATCHDOG/.test(other.receiver.output), other.receiver.output);
  },
}));

Deno.test(needing(["python3"], {
  name: "a notify socket stalled 3 s with its queue full costs those pings, never the later ones",
  fn: async () => {
    const name = `tarpyt-test-${crypto.randomUUID()}`;
    await using receiver = peer("notify", name, "3");
    await receiver.waitFor(/bound @/);
    await using tarpyt = await socketActivated(["127.0.0.1"], wholeLines(), {
      env: { NOTIFY_SOCKET: `@${name}`, WATCHDOG_USEC: "2000000" },
    });
    await receiver.waitFor(/^resumed$/m);
    const after = receiver.mark();
    // Pinged every second: three more pings come in a few seconds, on a new socket.
    await receiver.waitFor(/notify: WATCHDOG=1/, { times: 3, since: after, timeoutMs: 10_000 });
    assertEquals(tarpyt.status, undefined, "still running");
    const reader = await receive(tarpyt.addresses[0], lines(1));
    assert(!reader.closed);
  },
}));

Deno.test(needing(["python3"], {
  name:
    "a stop with systemd's queue full for good still ends at once: STOPPING=1 waits 100 ms at most",
  fn: async () => {
    const name = `tarpyt-test-${crypto.randomUUID()}`;
    await using receiver = peer("notify", name, "forever");
    await receiver.waitFor(/bound @/);
    await using tarpyt = await socketActivated(["127.0.0.1"], wholeLines(), {
      env: { NOTIFY_SOCKET: `@${name}` },
    });
    await receiver.waitFor(/^stalled$/m);
    const started = performance.now();
    tarpyt.child.kill("SIGTERM");
    const exited = await tarpyt.exitsWithin(5_000);
    const seconds = (performance.now() - started) / 1000;
    assert(exited, "a stop must not wait for systemd");
    assertEquals(tarpyt.status?.code, 0);
    assert(seconds < 2, `the stop took ${seconds} s`);
    assertMatch(tarpyt.output, /TOTALS connects=0 /);
  },
}));
