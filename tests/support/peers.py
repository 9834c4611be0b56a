"""Test peers for TarPyt: real clients and launchers that Deno's own sockets cannot be.

Each subcommand prints one result line on stdout and, where it holds a connection, keeps
holding it until the test kills it.

  held CLIENT HOST PORT SECONDS run a real client library against the tarpit, printing
                                "got ..." for what it receives; after SECONDS, print
                                "STILL WAITING" or how it ended. CLIENT is one of smtp
                                (smtplib), ftp (ftplib), pop3 (poplib), imap (imaplib),
                                telnet (RFC 854, by hand: telnetlib left Python in 3.13),
                                http (http.client), urllib, irc, rfb, tls (ssl)
  flood HOST PORT MB SECONDS    send up to MB megabytes for up to SECONDS; report bytes sent
  noread HOST PORT RCVBUF COUNT [SOURCE]
                                open COUNT connections (from address SOURCE) with a
                                small receive buffer and never read
  reset HOST PORT COUNT HOLD    open COUNT connections, hold HOLD seconds, reset them all
  burst HOST PORT SOURCE COUNT HOLD TIMES
                                TIMES times: open COUNT connections from address SOURCE
                                at once, hold them HOLD seconds, close them; then
                                print "bursts done"
  queue HOST PORT COUNT         start N connects at once, N the smaller of COUNT and
                                net.core.somaxconn (no backlog queues more), and wait
                                (at most 5 s) for their handshakes; print "established E
                                of N retransmitted R", R the connections whose SYN had to
                                be sent again (dropped by a full listen backlog); then
                                hold them
  swarm HOST PORT COUNT          connect COUNT clients at once, as a botnet does; each sends
                                an SSH version line and holds on
  activate [--fdnames A:B] [--sndbuf N] [--backlog N] ADDRESS... -- CMD...
                                listen on each ADDRESS (HOST:PORT or [V6]:PORT; port 0
                                picks a free one) as a .socket unit would, with
                                SendBuffer=N and Backlog=N; print "Listening on ADDRESS
                                as FD." for each; exec CMD with them from fd 3 on, as
                                systemd passes sockets (LISTEN_FDS, LISTEN_PID,
                                LISTEN_FDNAMES)
  passfd KIND PIDOFFSET -- CMD...       exec CMD with fd 3 a file, pipe, udp or unix socket and
                                        LISTEN_PID = own pid + PIDOFFSET
  notify NAME [STALL]            be systemd's notify socket at abstract address @NAME:
                                print each line of each datagram as "notify: KEY=value";
                                with STALL seconds, once READY=1 came, fill the socket's
                                queue and read nothing for that long, as a stalled PID 1
                                (STALL "forever": never read again), printing "stalled"
                                and "resumed"
  pngcolors FILE                 print, as JSON, how many pixels of a PNG (8-bit RGB or RGBA,
                                as rsvg-convert writes) have each colour, "#rrggbb"
  occupy HOST PORT COUNT DRIP   hold COUNT connections that reconnect as soon as they are
                                closed; each sends one byte every DRIP seconds (0: none);
                                print "occupying COUNT", then every second "reconnects N"
"""
import selectors
import fcntl
import ftplib
import http.client
import imaplib
import os
import poplib
import re
import smtplib
import socket
import ssl
import sys
import threading
import time
import urllib.request


def hold_forever():
    sys.stdout.flush()
    while True:
        time.sleep(3600)


def say(text):
    print("got %s" % (text,), flush=True)


def smtp_client(host, port):
    client = smtplib.SMTP(timeout=3600)
    client.set_debuglevel(1)  # prints every reply line to stderr as it arrives
    return client.connect(host, port)


def ftp_client(host, port):
    class LoudFTP(ftplib.FTP):
        def getline(self):
            line = super().getline()
            say(line)
            return line

    return LoudFTP().connect(host, port, timeout=3600)


def pop3_client(host, port):
    class LoudPOP3(poplib.POP3):
        def _getline(self):
            line, octets = super()._getline()
            say("a line of %d bytes: %r" % (len(line), line[:4]))
            return line, octets

    client = LoudPOP3(host, port, timeout=3600)
    say("sending USER")
    return client.user("root")


def imap_client(host, port):
    class LoudIMAP4(imaplib.IMAP4):
        def _get_line(self):
            line = super()._get_line()
            say(line)
            return line

    return LoudIMAP4(host, port, timeout=3600).capabilities


def telnet_client(host, port):
    # RFC 854: text, with IAC (255) starting a command; WILL/WONT/DO/DONT take an option.
    # Options are refused, as telnetlib did.
    iac, will, wont, do, dont = 255, 251, 252, 253, 254
    verbs = {will: "WILL", wont: "WONT", do: "DO", dont: "DONT"}
    refusal = {will: dont, do: wont}
    conn = socket.create_connection((host, port), timeout=3600)
    pending, line = b"", b""
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            return "EOF"
        pending += chunk
        i = 0
        while i < len(pending):
            byte = pending[i]
            if byte != iac:
                line += bytes([byte])
                i += 1
                if line.endswith(b"\r\n"):
                    say(line)
                    if b"login:" in line:
                        return "login prompt"
                    line = b""
                continue
            if i + 1 >= len(pending):
                break
            command = pending[i + 1]
            if command in verbs:
                if i + 2 >= len(pending):
                    break
                option = pending[i + 2]
                print("IAC %s %d" % (verbs[command], option), flush=True)
                if command in refusal:
                    conn.sendall(bytes([iac, refusal[command], option]))
                i += 3
            else:
                i += 2
        pending = pending[i:]


def http_client(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=3600)
    conn.set_debuglevel(1)  # prints each status line and the fields of each interim response
    conn.request("GET", "/")
    response = conn.getresponse()
    return "final status %d" % response.status


def urllib_client(host, port):
    response = urllib.request.urlopen("http://%s:%d/" % (host, port), timeout=3600)
    say("status %d" % response.status)
    while True:
        body = response.read1(65536)
        if not body:
            return "body ended"
        say("body %d bytes" % len(body))


def irc_client(host, port):
    conn = socket.create_connection((host, port), timeout=3600)
    conn.sendall(b"NICK tarpit\r\nUSER tarpit 0 * :tarpit\r\n")
    # RFC 2812 2.3.1: [":" prefix SPACE] command [params] CRLF
    grammar = re.compile(rb"^(?::(\S+) )?([A-Za-z]+|\d{3})(?: (.*))?$")
    for line in conn.makefile("rb"):
        match = grammar.match(line.rstrip(b"\r\n"))
        if not match:
            return "unparsable line %r" % line
        say("%s %s" % (match.group(2).decode(), match.group(3).decode()))
        if match.group(2) == b"001":
            return "registered"
    return "EOF"


def rfb_client(host, port):
    conn = socket.create_connection((host, port), timeout=3600)
    version = b""
    while len(version) < 12:  # RFC 6143 7.1.1: "RFB xxx.yyy\n"
        byte = conn.recv(12 - len(version))
        if not byte:
            return "EOF in the version"
        version += byte
        say("%d bytes %r" % (len(version), version))
    conn.sendall(version)
    return "security types %r" % conn.recv(1)  # RFC 6143 7.1.2


def tls_client(host, port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = socket.create_connection((host, port), timeout=3600)
    return "handshake done: %s" % context.wrap_socket(conn).version()


def pngcolors(path):
    import json
    import struct
    import zlib

    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    assert depth == 8 and color_type in (2, 6) and interlace == 0, header
    channels = 4 if color_type == 6 else 3
    raw, stride = zlib.decompress(idat), width * channels
    counts, previous = {}, bytearray(stride)
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):  # PNG filters, RFC 2083 6
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for i in range(0, stride, channels):
            key = "#%02x%02x%02x" % (line[i], line[i + 1], line[i + 2])
            counts[key] = counts.get(key, 0) + 1
        previous = line
    print(json.dumps(counts))


def held(client, host, port, seconds):
    run = globals()[client + "_client"]
    outcome = []

    def attempt():
        try:
            outcome.append("ENDED %r" % (run(host, int(port)),))
        except Exception as error:  # noqa: BLE001 - any end is a failure to report
            outcome.append("ENDED %s: %s" % (type(error).__name__, error))

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(float(seconds))
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


def noread(host, port, rcvbuf, count, source=""):
    conns = []
    for _ in range(int(count)):
        conn = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(rcvbuf))
        if source:
            conn.bind((source, 0))
        conn.connect((host, int(port)))
        conns.append(conn)
    print("connected %d" % len(conns), flush=True)
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


def burst(host, port, source, count, hold, times):
    for _ in range(int(times)):
        conns = []
        for _ in range(int(count)):
            conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            conn.bind((source, 0))
            conn.setblocking(False)
            conn.connect_ex((host, int(port)))
            conns.append(conn)
        time.sleep(float(hold))
        for conn in conns:
            conn.close()
    print("bursts done", flush=True)
    hold_forever()


def queue(host, port, count):
    with open("/proc/sys/net/core/somaxconn") as somaxconn:
        count = min(int(count), int(somaxconn.read()))
    selector = selectors.DefaultSelector()
    conns = []
    for _ in range(count):
        conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        conn.setblocking(False)
        conn.connect_ex((host, int(port)))
        selector.register(conn, selectors.EVENT_WRITE)
        conns.append(conn)
    pending, deadline = len(conns), time.monotonic() + 5
    while pending > 0 and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.1):
            selector.unregister(key.fileobj)
            pending -= 1
    # struct tcp_info (linux/tcp.h): tcpi_state is its first byte, tcpi_total_retrans the
    # 32-bit field at offset 100.
    infos = [conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104) for conn in conns]
    established = sum(1 for info in infos if info[0] == 1)
    retransmitted = sum(1 for info in infos if int.from_bytes(info[100:104], "little") > 0)
    print("established %d of %d retransmitted %d" % (established, count, retransmitted))
    hold_forever()


def swarm(host, port, count):
    def connect_and_speak():
        # Speaking first, as ssh and http clients do, matters: a kernel that answered with
        # a SYN cookie while the backlog was full completes the connection only when a
        # data segment is retransmitted. A silent client would stay half-open for ever.
        try:
            conn = socket.create_connection((host, int(port)), timeout=60)
            conn.sendall(b"SSH-2.0-swarm\r\n")
            conns.append(conn)
        except OSError:
            pass

    conns = []
    threads = [threading.Thread(target=connect_and_speak, daemon=True) for _ in range(int(count))]
    for thread in threads:
        thread.start()
    print("started %d" % len(threads))
    hold_forever()


def exec_with_fd3(fd, pid_offset, command):
    if fd != 3:
        os.dup2(fd, 3)  # the copy is inheritable
    os.set_inheritable(3, True)  # Python opens its own fds close-on-exec
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid() + int(pid_offset)))
    os.execvp(command[0], command)


def activate(args, command):
    options = {"--fdnames": "", "--sndbuf": "0", "--backlog": "128"}
    while args and args[0] in options:
        options[args[0]] = args[1]
        args = args[2:]
    sockets = []
    for address in args:
        host, port = address.rsplit(":", 1)
        host = host.strip("[]")
        listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        if int(options["--sndbuf"]) > 0:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(options["--sndbuf"]))
        listener.bind((host, int(port)))
        listener.listen(int(options["--backlog"]))
        sockets.append(listener)
    names = [
        "[%s]:%d" % s.getsockname()[:2] if s.family == socket.AF_INET6 else "%s:%d" % s.getsockname()
        for s in sockets
    ]
    # Out of the way first, so that moving one to fd 3 + i cannot close another.
    high = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 100) for s in sockets]
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i)  # the copy is inheritable
        os.close(fd)
        print("Listening on %s as %d." % (names[i], 3 + i), flush=True)
    if options["--fdnames"]:
        os.environ["LISTEN_FDNAMES"] = options["--fdnames"]
    os.environ.update(LISTEN_FDS=str(len(sockets)), LISTEN_PID=str(os.getpid()))
    os.execvp(command[0], command)


def passfd(kind, pid_offset, command):
    if kind == "file":
        fd = os.open("/etc/hostname", os.O_RDONLY)
    elif kind == "pipe":
        fd = os.pipe()[0]
    elif kind == "udp":
        fd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM).detach()
    elif kind == "unix":
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind("\0tarpyt-test-%d" % os.getpid())
        unix.listen(8)
        fd = unix.detach()
    else:
        fd = socket.create_server(("127.0.0.1", 0)).detach()
    exec_with_fd3(fd, pid_offset, command)


def notify(name, stall=""):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    print("bound @%s" % name, flush=True)
    stalled = not stall
    while True:
        for line in sock.recv(4096).decode().splitlines():
            print("notify: %s" % line, flush=True)
            if line == "READY=1" and not stalled:
                stalled = True
                # Fill the queue, as a local user can, so that every sender must wait.
                filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                filler.setblocking(False)
                try:
                    while True:
                        filler.sendto(b"X=1", "\0" + name)
                except BlockingIOError:
                    pass
                print("stalled", flush=True)
                if stall == "forever":
                    hold_forever()
                time.sleep(float(stall))
                print("resumed", flush=True)


def occupy(host, port, count, drip):
    selector = selectors.DefaultSelector()
    reconnects = 0

    def open_one():
        conn = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        conn.setblocking(False)
        conn.connect_ex((host, int(port)))
        selector.register(conn, selectors.EVENT_READ)
        return conn

    conns = [open_one() for _ in range(int(count))]
    print("occupying %d" % len(conns), flush=True)
    next_drip = time.time() + float(drip) if float(drip) > 0 else None
    next_report = time.time() + 1
    while True:
        for key, _ in selector.select(timeout=0.05):
            conn = key.fileobj
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            if not data:  # closed by the server: come straight back
                selector.unregister(conn)
                conn.close()
                conns.remove(conn)
                conns.append(open_one())
                reconnects += 1
        now = time.time()
        if next_drip is not None and now >= next_drip:
            for conn in conns:
                try:
                    conn.send(b"G")
                except OSError:
                    pass
            next_drip = now + float(drip)
        if now >= next_report:
            print("reconnects %d" % reconnects, flush=True)
            next_report = now + 1


def main(argv):
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    name, args = argv[0], argv[1:]
    if name == "activate":
        activate(args, command)
    elif name == "passfd":
        passfd(*args, command)
    else:
        {
            "held": held,
            "flood": flood,
            "noread": noread,
            "reset": reset,
            "swarm": swarm,
            "queue": queue,
            "burst": burst,
            "notify": notify,
            "occupy": occupy,
            "pngcolors": pngcolors,
        }[name](*args)


if __name__ == "__main__":
    main(sys.argv[1:])
