#!/usr/bin/python3
"""bench/delay_proxy.py - a TCP proxy on loopback that delays every byte.

    delay_proxy.py --target 127.0.0.1:2525 --delay-ms 20 [--listen 127.0.0.1:0]
                   [--port-file FILE] [--stats FILE]

Each chunk read from one side is written to the other side --delay-ms
milliseconds after it was read, in order, in both directions: a link with a
round-trip time of 2 x delay and (nearly) unlimited bandwidth.  Unlike a
proxy that sleeps before forwarding, a chunk never waits for the previous
chunk's delay, so back-to-back writes stay back to back: what the client
gains by pipelining shows as saved round trips.  netem is not available on
the machines this runs on, hence this.

With --stats, each connection appends one JSON line to FILE once the
client has closed its side (a server may keep its side open; nothing it
sends then can make the client wait):
{"conn": n, "turns": t, "client_flights": f, "c2s_bytes": .., "s2c_bytes": ..,
"seconds": ..}.  A turn is one wait of the client for the server: the
client sends (or closes) after the proxy delivered it server bytes it had
not yet answered.  So the greeting costs a turn, each command/reply
exchange a turn, a pipelined group a single turn, and a TLS handshake one
(TLS 1.3, or a resumed TLS 1.2 session) or two (full TLS 1.2).  The TCP
handshake to the proxy is not delayed and not counted: on a real link a new
connection costs one more round trip.  Turns do not depend on timing or
load, so they are the robust count of round trips; a client that keeps
sending while replies arrive (a large BDAT body) can count extra turns.
A close counts whether it is a FIN or a reset.

The listening port goes to --port-file (written when ready) and to stdout.
Loopback only: --listen and --target must be 127.0.0.1 or ::1.
"""
import argparse
import asyncio
import json
import os
import socket
import sys

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def split_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
    else:
        host, _, port = s.rpartition(":")
    return host, int(port)


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class Turns:
    """Per connection: the client's waits for the server (see the top)."""

    def __init__(self):
        self.turns = 0
        self.client_flights = 0
        self.unanswered = False   # server bytes delivered since the client's last
        self.bytes = {True: 0, False: 0}

    def delivered(self, to_client, n):
        self.bytes[not to_client] += n
        if to_client:
            self.unanswered = True

    def client_event(self, first_of_flight):
        if self.unanswered:
            self.turns += 1
            self.unanswered = False
            self.client_flights += 1
        elif first_of_flight:
            self.client_flights += 1


async def pump(reader, writer, delay, turns=None, to_client=False):
    """Reads from reader; writes each chunk delay seconds after it came."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()
    first = [True]

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    writer.write_eof()
                except (OSError, RuntimeError):
                    pass
                return
            writer.write(data)
            if turns is not None:
                turns.delivered(to_client, len(data))
            await writer.drain()

    task = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(1 << 16)
            if turns is not None and not to_client:
                # Bytes from the client (or its end of stream).
                turns.client_event(first[0])
                first[0] = False
            queue.put_nowait((loop.time() + delay, data if data else None))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        # A reset from the client is its close too: a client that closes
        # with bytes unread (swaks, after the 221, with the server's TLS
        # close_notify in its buffer) resets the connection, and its
        # last wait must count like anyone's.
        if turns is not None and not to_client:
            turns.client_event(first[0])
        task.cancel()
    finally:
        if not task.done():
            task.cancel()


CONN = [0]


async def handle(client_r, client_w, target, delay, stats):
    loop = asyncio.get_running_loop()
    start = loop.time()
    CONN[0] += 1
    conn = CONN[0]
    turns = Turns()
    try:
        server_r, server_w = await asyncio.open_connection(*target)
    except OSError as e:
        print("delay_proxy: cannot reach %s:%d: %s" % (target[0], target[1], e),
              file=sys.stderr)
        client_w.close()
        return
    nodelay(client_w)
    nodelay(server_w)
    to_server = asyncio.ensure_future(pump(client_r, server_w, delay, turns, False))
    to_client = asyncio.ensure_future(pump(server_r, client_w, delay, turns, True))
    await asyncio.gather(to_server, return_exceptions=True)
    if stats:
        line = json.dumps({"conn": conn, "turns": turns.turns,
                           "client_flights": turns.client_flights,
                           "c2s_bytes": turns.bytes[True],
                           "s2c_bytes": turns.bytes[False],
                           "seconds": round(loop.time() - start, 4)})
        with open(stats, "a") as f:
            f.write(line + "\n")
    await asyncio.gather(to_client, return_exceptions=True)
    for w in (client_w, server_w):
        try:
            w.close()
        except OSError:
            pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True, help="HOST:PORT to forward to")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any)")
    ap.add_argument("--delay-ms", type=float, default=20.0, help="one-way delay")
    ap.add_argument("--port-file", help="write the listening port here when ready")
    ap.add_argument("--stats", help="append one JSON line per connection here")
    a = ap.parse_args()

    target = split_hostport(a.target)
    lhost, lport = split_hostport(a.listen)
    if target[0] not in LOOPBACK or lhost not in LOOPBACK:
        ap.error("loopback addresses only")
    delay = a.delay_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, target, delay, a.stats), lhost, lport)
    port = server.sockets[0].getsockname()[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(a.port_file + ".tmp", a.port_file)
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
