"""Test peers for TarPyt: real clients and launchers that Deno's own sockets cannot be.

Each subcommand prints one result line on stdout and, where it holds a connection, keeps
holding it until the test kills it.

  smtp HOST PORT SECONDS        smtplib connects; after SECONDS, report whether it still waits
  flood HOST PORT MB SECONDS    send up to MB megabytes for up to SECONDS; report bytes sent
  noread HOST PORT RCVBUF       connect with a small receive buffer and never read
  reset HOST PORT COUNT HOLD    open COUNT connections, hold HOLD seconds, reset them all
  activate SNDBUF HOST PORT -- CMD...   listen like a .socket unit with SendBuffer=SNDBUF
                                        and exec CMD with the socket as fd 3
  passfd KIND PIDOFFSET -- CMD...       exec CMD with fd 3 a file, pipe or udp socket and
                                        LISTEN_PID = own pid + PIDOFFSET
  notify NAME                   be systemd's notify socket at abstract address @NAME:
                                print each line of each datagram as "notify: KEY=value"
"""
import os
import smtplib
import socket
import sys
import threading
import time


def hold_forever():
    sys.stdout.flush()
    while True:
        time.sleep(3600)


def smtp(host, port, seconds):
    client = smtplib.SMTP(timeout=3600)
    client.set_debuglevel(1)  # prints every reply line to stderr as it arrives
    outcome = []

    def greet():
        try:
            outcome.append("ENDED %r" % (client.connect(host, int(port)),))
        except Exception as error:  # noqa: BLE001 - any end is a failure to report
            outcome.append("ENDED %s: %s" % (type(error).__name__, error))

    threading.Thread(target=greet, daemon=True).start()
    time.sleep(float(seconds))
    print(outcome[0] if outcome else "STILL WAITING", flush=True)
    os._exit(0)


def flood(host, port, megabytes, seconds):
    conn = socket.create_connection((host, int(port)))
    conn.settimeout(0.5)
    chunk = b"A" * 65536
    sent, limit = 0, int(megabytes) * 1024 * 1024
    deadline = time.time() + float(seconds)
    while sent < limit and time.time() < deadline:
        try:
            sent += conn.send(chunk)
        except socket.timeout:
            pass
    print("sent %d" % sent)
    hold_forever()


def noread(host, port, rcvbuf):
    conn = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(rcvbuf))
    conn.connect((host, int(port)))
    print("connected %d" % conn.getsockname()[1])
    hold_forever()


def reset(host, port, count, hold):
    conns = [socket.create_connection((host, int(port))) for _ in range(int(count))]
    print("open %d" % len(conns), flush=True)
    time.sleep(float(hold))
    for conn in conns:  # SO_LINGER 0: close() sends RST instead of FIN
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()
    print("reset %d" % len(conns))
    hold_forever()


def exec_with_fd3(fd, pid_offset, command):
    if fd != 3:
        os.dup2(fd, 3)  # the copy is inheritable
    os.set_inheritable(3, True)  # Python opens its own fds close-on-exec
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid() + int(pid_offset)))
    os.execvp(command[0], command)


def activate(sndbuf, host, port, command):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(sndbuf))
    listener.bind((host, int(port)))
    listener.listen(128)
    print("Listening on %s:%d as 3." % (host, listener.getsockname()[1]), flush=True)
    exec_with_fd3(listener.fileno(), 0, command)


def passfd(kind, pid_offset, command):
    if kind == "file":
        fd = os.open("/etc/hostname", os.O_RDONLY)
    elif kind == "pipe":
        fd = os.pipe()[0]
    elif kind == "udp":
        fd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM).detach()
    else:
        fd = socket.create_server(("127.0.0.1", 0)).detach()
    exec_with_fd3(fd, pid_offset, command)


def notify(name):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    print("bound @%s" % name, flush=True)
    while True:
        for line in sock.recv(4096).decode().splitlines():
            print("notify: %s" % line, flush=True)


def main(argv):
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    name, args = argv[0], argv[1:]
    if name == "activate":
        activate(*args, command)
    elif name == "passfd":
        passfd(*args, command)
    else:
        {"smtp": smtp, "flood": flood, "noread": noread, "reset": reset, "notify": notify}[name](
            *args
        )


if __name__ == "__main__":
    main(sys.argv[1:])
