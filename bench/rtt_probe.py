#!/usr/bin/python3
"""bench/rtt_probe.py - the time of one SMTP round trip to a server.

    rtt_probe.py HOST:PORT [COUNT]

Reads the greeting, sends EHLO, then COUNT (default 20) NOOP commands one at
a time, each waiting for its reply, and prints one JSON line:
{"rtt_ms": median, "min_ms": ..., "max_ms": ...}.  Through bench/delay_proxy.py
this is the unit that "round trips per message" is counted in: it holds the
proxy's delay both ways plus what the proxy and the server add to one
command/reply exchange.
"""
import json
import socket
import statistics
import sys
import time


def read_reply(f):
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("rtt_probe: connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return line


def main():
    host, _, port = sys.argv[1].rpartition(":")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    s = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"EHLO rtt-probe\r\n")
    read_reply(f)
    times = []
    for _ in range(count):
        t = time.perf_counter()
        s.sendall(b"NOOP\r\n")
        read_reply(f)
        times.append((time.perf_counter() - t) * 1000.0)
    s.sendall(b"QUIT\r\n")
    try:
        read_reply(f)
    except SystemExit:
        pass
    s.close()
    print(json.dumps({"rtt_ms": round(statistics.median(times), 3),
                      "min_ms": round(min(times), 3),
                      "max_ms": round(max(times), 3), "count": count}))


if __name__ == "__main__":
    main()
