"""Load for TarPyt's benchmarks (bench/bench.ts, bench/soak.ts, bench/churn.ts).

  hold HOST PORT COUNT
      open COUNT connections from loopback sources 127.0.0.2-201 and hold them without
      reading; print "held N" once all are open (or "failed N: error" at the first
      failure). The tarpit's lines pile up in kernel buffers, as with a patient attacker.
  read HOST PORT COUNT [HELLO]
      as hold, but read everything the tarpit sends, as real clients do, having sent
      HELLO and CRLF first if given (an SSH client's version string); on SIGUSR1 print
      "lines N", the lines (newlines) received so far.
  flood HOST PORT COUNT KB
      as hold, but each connection first sends an SSH version line and then KB kilobytes
      of junk, as far as the kernel takes them; print "flooded N BYTES" once all are
      open and have sent what they could.
  churn HOST PORT RATE SECONDS
      connect and close again at RATE connections a second for SECONDS, from loopback
      sources 127.0.0.2-201; prints a JSON summary.
  ghosts HOST PORT RATE SECONDS
      as churn, but each closes its end normally (FIN), as a bot that gives up does, from
      128 loopback sources; prints a JSON summary.
  storm HOST PORT RATE SECONDS HOLD SOURCES
      a scan storm: connect at RATE connections a second for SECONDS, from SOURCES
      loopback addresses (127.1.0.1 up), keep each HOLD seconds without reading, then
      reset it, as connect scanners do; prints a JSON summary.
  impatient HOST PORT COUNT SOURCES TIMEOUT
      a botnet of impatient clients: COUNT connections from SOURCES loopback addresses
      (127.1.0.1 up) that read what they get and give up after TIMEOUT seconds without a
      byte, as a read timeout does; each that gives up, or is closed, connects again from
      its address, as a bot retrying its target does. Runs until stopped.
  soak HOST PORT CLIENTS CHURN SECONDS STALE
      hold CLIENTS connections that read what they get; each second close CHURN of them
      and open CHURN new ones. At the end print a JSON summary: how many were lost (closed
      by the server, not by us), how many could not connect, and how many went STALE
      seconds without a byte.
"""
import collections
import json
import random
import selectors
import signal
import socket
import sys
import time


def connect(host, port, n, timeout=None, sources=None):
    conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if sources is None:
        conn.bind(("127.0.0.%d" % (2 + n % 200), 0))
    else:
        i = n % sources
        conn.bind(("127.1.%d.%d" % (i // 250, 1 + i % 250), 0))
    conn.settimeout(timeout)
    conn.connect((host, port))
    conn.settimeout(None)
    return conn


def hold(host, port, count):
    conns = []
    try:
        for i in range(int(count)):
            conns.append(connect(host, int(port), i))
    except OSError as error:
        print("failed %d: %s" % (len(conns), error), flush=True)
    else:
        print("held %d" % len(conns), flush=True)
    while True:
        time.sleep(3600)


def read(host, port, count, hello=""):
    selector = selectors.DefaultSelector()
    lines = 0
    signal.signal(signal.SIGUSR1, lambda *_: print("lines %d" % lines, flush=True))
    try:
        for i in range(int(count)):
            conn = connect(host, int(port), i)
            if hello:
                conn.sendall(hello.encode() + b"\r\n")
            conn.setblocking(False)
            selector.register(conn, selectors.EVENT_READ)
    except OSError as error:
        print("failed %d: %s" % (i, error), flush=True)
    else:
        print("held %s" % count, flush=True)
    while True:
        for key, _ in selector.select():
            try:
                data = key.fileobj.recv(65536)
                if not data:
                    selector.unregister(key.fileobj)
                lines += data.count(b"\n")
            except (BlockingIOError, ConnectionResetError):
                pass


def flood(host, port, count, kilobytes):
    conns, sent = [], 0
    junk = b"SSH-2.0-libssh_0.10.6\r\n" + b"x" * (1024 * int(kilobytes))
    try:
        for i in range(int(count)):
            conn = connect(host, int(port), i)
            conn.setblocking(False)
            try:
                sent += conn.send(junk)
            except BlockingIOError:
                pass
            conns.append(conn)
    except OSError as error:
        print("failed %d: %s" % (len(conns), error), flush=True)
    else:
        print("flooded %d %d" % (len(conns), sent), flush=True)
    while True:
        time.sleep(3600)


def churn(host, port, rate, seconds, reset=True, sources=200):
    rate, seconds = float(rate), float(seconds)
    start = time.monotonic()
    done = failed = 0
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate)
        while done + failed < due and time.monotonic() - start < seconds:
            try:
                # A full listen backlog drops SYNs, retried after 1 s and 3 s: a connect
                # still waiting after 5 s failed, and the load does not hang on it.
                conn = connect(host, int(port), done % sources, timeout=5)
                if reset:
                    # SO_LINGER 0: close with RST, leaving no TIME_WAIT to run out of ports.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                conn.close()
                done += 1
            except OSError:
                failed += 1
        time.sleep(0.001)
    elapsed = time.monotonic() - start
    print(json.dumps({"connections": done, "failed": failed, "per_second": done / elapsed}))


def ghosts(host, port, rate, seconds):
    churn(host, port, rate, seconds, reset=False, sources=128)


def storm(host, port, rate, seconds, hold, sources):
    port, rate, seconds, hold, sources = int(port), float(rate), float(seconds), float(hold), int(sources)
    held = collections.deque()
    start = time.monotonic()
    done = failed = 0
    while True:
        now = time.monotonic() - start
        if now >= seconds:
            break
        due = int(now * rate)
        while done + failed < due:
            try:
                # A tarpit that stopped accepting leaves SYNs unanswered: a failure after 1 s.
                conn = connect(host, port, done, timeout=1, sources=sources)
                # SO_LINGER 0: close with RST, leaving no TIME_WAIT to run out of ports.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                held.append((now + hold, conn))
                done += 1
            except OSError:
                failed += 1
            if (done + failed) % 256 == 0:
                break
        now = time.monotonic() - start
        while held and held[0][0] <= now:
            held.popleft()[1].close()
        time.sleep(0.0005)
    while held:
        held.popleft()[1].close()
    elapsed = time.monotonic() - start
    print(json.dumps({"connections": done, "failed": failed, "per_second": done / elapsed}))


def impatient(host, port, count, sources, timeout):
    selector = selectors.DefaultSelector()
    timeout = float(timeout)
    last_data = {}

    def open_from(n):
        try:
            conn = connect(host, int(port), n, timeout=5, sources=int(sources))
        except OSError:
            return
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ, n)
        last_data[conn] = time.monotonic()

    def give_up(conn, n):
        selector.unregister(conn)
        del last_data[conn]
        conn.close()
        open_from(n)

    for n in range(int(count)):
        open_from(n)
    while True:
        for key, _ in selector.select(0.2):
            try:
                data = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                last_data[key.fileobj] = time.monotonic()
            else:
                give_up(key.fileobj, key.data)
        now = time.monotonic()
        for conn, at in list(last_data.items()):
            if now - at >= timeout:
                give_up(conn, selector.get_key(conn).data)


def soak(host, port, clients, churn_per_second, seconds, stale):
    port, clients, churn_per_second = int(port), int(clients), int(churn_per_second)
    seconds, stale = float(seconds), float(stale)
    selector = selectors.DefaultSelector()
    last_data = {}
    opened = closed_by_us = lost = failed = 0

    def open_one():
        nonlocal opened, failed
        try:
            # A tarpit that stopped accepting leaves SYNs unanswered: a failure after 5 s.
            conn = connect(host, port, opened, timeout=5)
        except OSError:
            failed += 1
            return
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ)
        last_data[conn] = time.monotonic()
        opened += 1

    for _ in range(clients):
        open_one()
    print("held %d" % clients, flush=True)
    start = next_churn = time.monotonic()
    stale_seen = 0
    while time.monotonic() - start < seconds:
        for key, _ in selector.select(timeout=0.2):
            conn = key.fileobj
            try:
                data = conn.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                data = b"" if conn in last_data else None
            if data is None:
                continue
            if not data:  # the server closed it: a client lost
                lost += 1
                selector.unregister(conn)
                del last_data[conn]
                conn.close()
                open_one()
                continue
            last_data[conn] = time.monotonic()
        now = time.monotonic()
        if now >= next_churn:
            next_churn += 1
            for conn in random.sample(list(last_data), min(churn_per_second, len(last_data))):
                selector.unregister(conn)
                del last_data[conn]
                conn.close()
                closed_by_us += 1
                open_one()
            stale_seen = max(stale_seen, sum(1 for t in last_data.values() if now - t > stale))
    print(json.dumps({
        "opened": opened,
        "closed_by_us": closed_by_us,
        "lost": lost,
        "failed": failed,
        "most_stale_at_once": stale_seen,
        "held_at_end": len(last_data),
    }), flush=True)


if __name__ == "__main__":
    modes = {
        "hold": hold, "read": read, "flood": flood, "churn": churn, "ghosts": ghosts,
        "storm": storm, "impatient": impatient, "soak": soak,
    }
    modes[sys.argv[1]](*sys.argv[2:])
