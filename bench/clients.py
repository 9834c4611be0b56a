"""Open COUNT connections to HOST:PORT from loopback sources 127.0.0.2-201, hold them.

Prints "held N" once all are open (or "failed N: error" at the first failure), then
holds them without reading until killed: the tarpit's lines pile up in kernel buffers,
as they do with a real, patient attacker.
"""
import socket
import sys
import time


def main(host, port, count):
    conns = []
    try:
        for i in range(int(count)):
            conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            conn.bind(("127.0.0.%d" % (2 + i % 200), 0))
            conn.connect((host, int(port)))
            conns.append(conn)
    except OSError as error:
        print("failed %d: %s" % (len(conns), error), flush=True)
    else:
        print("held %d" % len(conns), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(*sys.argv[1:])
