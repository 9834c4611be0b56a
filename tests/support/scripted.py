"""Brute-force scripts as attackers write them, for `deno task bench-campaign` and its test.

Each tries a login for every password in a file, one connection after another, with a
client library or a socket and the short timeouts such scripts set; a failed or timed-out
attempt moves on to the next password, as `try/except: continue` does. Each attempt
prints one line, "attempt N: ...", and a script that takes what it read for a login
prints "LOGGED IN" (a false success).

  scripted.py KIND HOST PORT PASSWORDFILE

KIND is one of:
  ftplib-5        ftplib.FTP(timeout=5): nmap's ftp-brute waits 5 s the same way
  smtplib-10      smtplib.SMTP(timeout=10), then AUTH LOGIN
  poplib-10       poplib.POP3(timeout=10), then USER and PASS
  imaplib-10      imaplib.IMAP4(timeout=10), then LOGIN
  urllib-10       urllib.request.urlopen(timeout=10) with Basic credentials
  https-10        the same over https, taking any certificate, as bots do
  line-alarm-30   asyncio: wait_for(readline(), 30) for each line of a reply, as bots
                  written on asyncio do, for any server-first line protocol
  telnet-prompts  a socket that reads up to 10 s for "login:", sends the name, reads up
                  to 10 s for "assword:", sends the password, and reads up to 10 s for
                  a shell prompt ("$ ", "# ", "> "), taking one for a login
  mirai           the Mirai scanner's telnet loop: it drops a connection 30 s after the
                  last byte it received (scanner.c), and answers prompts it recognises
  tryssl-5        as nmap's scripts connect (nselib/comm.lua, tryssl): a greeting within
                  5 s over plain text, else over TLS, then a login line; the TLS attempt
                  ends "TimeoutError" if it got no byte, "SSLError" if it got plain text
  paramiko-10     paramiko SSHClient.connect(timeout=10, banner_timeout=10)
  asyncssh        asyncssh.connect with its defaults (login_timeout 120 s)
"""
import asyncio
import base64
import ftplib
import imaplib
import poplib
import smtplib
import socket
import ssl
import sys
import time
import urllib.request


def ftplib_5(host, port, password):
    with ftplib.FTP(timeout=5) as client:
        client.connect(host, port)
        client.login("root", password)


def smtplib_10(host, port, password):
    with smtplib.SMTP(host, port, timeout=10) as client:
        client.ehlo()
        client.login("root", password)


def poplib_10(host, port, password):
    client = poplib.POP3(host, port, timeout=10)
    client.user("root")
    client.pass_(password)


def imaplib_10(host, port, password):
    client = imaplib.IMAP4(host, port, timeout=10)
    client.login("root", password)


def urllib_10(host, port, password, scheme="http", context=None):
    token = base64.b64encode(("root:%s" % password).encode()).decode()
    request = urllib.request.Request(
        "%s://%s:%d/admin" % (scheme, host, port), headers={"Authorization": "Basic " + token}
    )
    urllib.request.urlopen(request, timeout=10, context=context).read()


def unverified_context():
    """A TLS context that takes any certificate, as attack scripts set one up."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def https_10(host, port, password):
    urllib_10(host, port, password, "https", unverified_context())


def line_alarm_30(host, port, password):
    async def attempt():
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                line = await asyncio.wait_for(reader.readline(), 30)
                if not line:
                    raise ConnectionError("closed")
                # A reply ends at a line whose code is followed by a space (RFC 5321 4.2).
                if line[:3].isdigit() and line[3:4] == b" ":
                    break
            writer.write(b"USER root\r\n")
            await writer.drain()
            await asyncio.wait_for(reader.readline(), 30)
        finally:
            writer.close()

    asyncio.run(attempt())


def read_until(conn, patterns, seconds):
    """What arrives within `seconds`, until one of `patterns`, as telnetlib's read_until."""
    conn.settimeout(0.5)
    deadline, data = time.monotonic() + seconds, b""
    while time.monotonic() < deadline and not any(p in data for p in patterns):
        try:
            chunk = conn.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            break
        data += chunk
    return data


def telnet_prompts(host, port, password):
    with socket.create_connection((host, port), timeout=10) as conn:
        read_until(conn, [b"login:"], 10)
        conn.sendall(b"root\r\n")
        read_until(conn, [b"assword:"], 10)
        conn.sendall(password.encode() + b"\r\n")
        reply = read_until(conn, [b"$ ", b"# ", b"> "], 10)
        if any(p in reply for p in [b"$ ", b"# ", b"> "]):
            return "LOGGED IN"
        raise ConnectionError("no prompt")


def mirai(host, port, password):
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.settimeout(1)
        last, data, state = time.monotonic(), b"", "user"
        while True:
            try:
                chunk = conn.recv(4096)
            except socket.timeout:
                chunk = None
            if chunk == b"":
                raise ConnectionError("closed")
            if chunk:
                last, data = time.monotonic(), data + chunk
            if time.monotonic() - last > 30:
                raise TimeoutError("30 s since the last byte")
            if state == "user" and any(p in data.lower() for p in [b"ogin", b"enter", b"sername"]):
                conn.sendall(b"root\r\n")
                data, state = b"", "password"
            elif state == "password" and b"assword" in data.lower():
                conn.sendall(password.encode() + b"\r\n")
                data, state = b"", "shell"
            elif state == "shell" and any(p in data for p in [b"#", b"$", b">", b"%"]):
                return "LOGGED IN"


def tryssl_5(host, port, password):
    try:
        with socket.create_connection((host, port), timeout=5) as conn:
            greeting = conn.recv(4096)
            if greeting:
                conn.sendall(b"USER root\r\n")
                conn.recv(4096)
                raise ConnectionError("no login over plain text")
    except TimeoutError:
        pass
    context = unverified_context()
    with context.wrap_socket(socket.create_connection((host, port), timeout=5)) as conn:
        conn.recv(4096)
    raise ConnectionError("no login over TLS")


def paramiko_10(host, port, password):
    import paramiko

    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        host, port, "root", password, timeout=10, banner_timeout=10, look_for_keys=False,
        allow_agent=False,
    )
    return "LOGGED IN"


def asyncssh_client(host, port, password):
    import asyncssh

    async def attempt():
        async with asyncssh.connect(
            host, port, username="root", password=password, known_hosts=None
        ):
            return "LOGGED IN"

    return asyncio.run(attempt())


KINDS = {
    "ftplib-5": ftplib_5,
    "smtplib-10": smtplib_10,
    "poplib-10": poplib_10,
    "imaplib-10": imaplib_10,
    "urllib-10": urllib_10,
    "https-10": https_10,
    "line-alarm-30": line_alarm_30,
    "telnet-prompts": telnet_prompts,
    "mirai": mirai,
    "tryssl-5": tryssl_5,
    "paramiko-10": paramiko_10,
    "asyncssh": asyncssh_client,
}


def main(argv):
    kind, host, port, password_file = argv[1:5]
    attempt = KINDS[kind]
    with open(password_file) as passwords:
        for n, password in enumerate(line.strip() for line in passwords):
            started = time.monotonic()
            try:
                outcome = attempt(host, int(port), password)
            except Exception as error:  # noqa: BLE001 - a script moves on, whatever failed
                outcome = "%s: %s" % (type(error).__name__, str(error)[:80])
            print("attempt %d: %.1f s %s" % (n + 1, time.monotonic() - started, outcome), flush=True)
            if outcome == "LOGGED IN":
                print("LOGGED IN", flush=True)
                return
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv)
