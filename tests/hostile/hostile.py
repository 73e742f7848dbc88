"""hostile.py: a scripted SMTP server that misbehaves on purpose.

A Scenario is a script the server plays against one client connection, the
client command line to run, and what must come out: the exit status, the
failing phase, the exact bytes the client sent after the script ended, and
limits on time and memory.  run_scenarios() plays many at once (threads in
this one process: most of them wait on timeouts) and returns the results.

Server steps (functions below return them):

    send(data, split=None, gap=0.0)   bytes to the client; split: offsets
                                      at which to cut them into separate
                                      writes (or "bytes" for one byte per
                                      write), gap: seconds between writes
    reply(text)                       send() with "\\n" turned into CRLF
                                      and a final CRLF
    expect(prefix, stage)             read one command line from the client;
                                      it must start with prefix (any case)
    expect_body(stage)                read a DATA body up to CRLF.CRLF
    expect_bytes(n, stage)            read n bytes
    bdat(answer, last_answer)         read BDAT chunks up to LAST, answering
                                      (answer=None: read one, answer none)
    stall(seconds, read=True)         do nothing (still recording, unless
                                      read=False: then the client's bytes
                                      pile up in the kernel)
    trickle(data, interval)           one byte per interval seconds
    fin()                             half-close: FIN to the client, then
                                      keep recording what it sends
    reset()                           SO_LINGER 0 + close: an RST
    flood(data, limit)                send data again and again until the
                                      client goes away or limit bytes left
    noread(seconds)                   stop reading for a while (with a
                                      tiny receive buffer, set on listen)

Everything the client sends is recorded, per connection, in
OUTDIR/<scenario>.conn<N>.bin; what it sent after the last script step
("the tail") is compared with the scenario's expected tail.  Only
127.0.0.1 / ::1 are ever bound, on a kernel-chosen (high) port.
"""

import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time

CRLF = b"\r\n"


def _b(x):
    return x if isinstance(x, bytes) else x.encode("latin-1")


# ---------------------------------------------------------------- steps

def send(data, split=None, gap=0.0):
    return ("send", _b(data), split, gap)


def reply(text):
    return send(_b(text).replace(b"\n", CRLF) + CRLF)


def expect(prefix, stage=None):
    return ("expect", _b(prefix), stage)


def expect_body(stage="body"):
    return ("body", stage)


def expect_bytes(n, stage="body"):
    return ("bytes", n, stage)


def bdat(answer="250 2.0.0 chunk ok", last_answer="250 2.0.0 queued",
         stage="body"):
    """Reads BDAT chunks up to the LAST one, answering each."""
    return ("bdat", None if answer is None else _b(answer), _b(last_answer),
            stage)


def stall(seconds, read=True):
    return ("stall", seconds, read)


def trickle(data, interval):
    return ("trickle", _b(data), interval)


def fin():
    return ("fin",)


def reset():
    return ("reset",)


def flood(data, limit=64 << 20):
    return ("flood", _b(data), limit)


def noread(seconds):
    return ("noread", seconds)


def mark(stage):
    """Records that the dialogue reached a stage (for messages)."""
    return ("mark", stage)


# ---------------------------------------------------------------- scenario

class Scenario:
    """One hostile server script and what the client must do against it.

    exit:      expected exit status (int, or a tuple of allowed ones)
    phase:     expected "phase" of the --json result (None: not checked;
               "" means JSON null; a tuple: any of them)
    error:     regex the JSON "error" must match (None: not checked)
    tail:      bytes the client must send after the script (None: not
               checked; a tuple: any of them)
    max_time:  seconds the client may take at most
    min_time:  seconds it must take at least (a timeout really waited)
    args:      extra smtpc arguments; message: the body on stdin (bytes or
               a file name); env: extra environment; tls: the --tls mode
    check:     optional f(result) -> error string or None
    xfail:     a reason: the scenario shows a known open problem; its
               failure is reported but does not fail the suite as long as
               every failed check matches the regex xfail_match
    rcvbuf:    SO_RCVBUF for the listening socket (small: a server that
               cannot keep up)
    connect_stall: the listening socket's accept queue is kept full, so
               the client's SYN goes unanswered (a connect that hangs)
    """

    def __init__(self, name, steps, exit, phase=None, error=None, tail=None,
                 max_time=None, min_time=0.0, args=(), message=None,
                 env=None, check=None, xfail=None, xfail_match=".",
                 rcvbuf=None, connect_stall=False, tls="none",
                 timeout=2, family="ipv4", rcpts=("rcpt@example.com",)):
        self.name = name
        self.steps = steps
        self.exit = exit if isinstance(exit, tuple) else (exit,)
        self.phase = phase
        self.error = error
        self.tail = tail
        self.timeout = timeout
        self.max_time = max_time if max_time is not None else timeout + 2.5
        self.min_time = min_time
        self.args = list(args)
        self.message = message
        self.env = env or {}
        self.check = check
        self.xfail = xfail
        self.xfail_match = xfail_match
        self.rcvbuf = rcvbuf
        self.family = family
        self.rcpts = list(rcpts)
        self.connect_stall = connect_stall
        self.tls = tls


class Result:
    def __init__(self, sc):
        self.scenario = sc
        self.name = sc.name
        self.exit = None
        self.elapsed = 0.0
        self.maxrss_kb = 0
        self.stdout = b""
        self.stderr = b""
        self.json = None
        self.sent = b""          # everything the client sent
        self.tail = b""          # what it sent after the script
        self.body = b""          # last DATA body read by expect_body
        self.server_errors = []  # the script could not play as written
        self.errors = []         # failed assertions
        self.reached = None      # last stage the script reached


# ---------------------------------------------------------------- server

class _Conn:
    """The server's side of one connection, with a recording buffer."""

    def __init__(self, sock, record_path, deadline):
        self.sock = sock
        self.buf = bytearray()
        self.sent = bytearray()
        self.record = open(record_path, "wb")
        self.deadline = deadline
        self.eof = False
        self.closed = False
        self.stop = threading.Event()  # set when the client has exited
        self.sock.settimeout(0.05)

    def _recv_some(self, wait):
        """Reads what is there within wait seconds; False at EOF/error."""
        if self.eof or self.closed:
            return False
        end = time.monotonic() + wait
        while True:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if time.monotonic() >= end:
                    return True
                continue
            except OSError:
                self.eof = True
                return False
            if not data:
                self.eof = True
                return False
            self.buf += data
            self.sent += data
            self.record.write(data)
            self.record.flush()
            return True

    def read_until(self, pred, limit):
        """Reads until pred(buf) gives a cut index, EOF, or limit s."""
        end = time.monotonic() + limit
        while True:
            cut = pred(self.buf)
            if cut is not None:
                return cut
            if time.monotonic() >= end or self.eof or self.closed:
                return None
            self._recv_some(min(0.2, max(0.0, end - time.monotonic())))

    def write(self, data):
        if self.closed:
            return False
        try:
            self.sock.settimeout(10)
            self.sock.sendall(data)
            return True
        except OSError:
            return False
        finally:
            if not self.closed:
                self.sock.settimeout(0.05)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass
        self.record.close()


def _line_cut(buf):
    i = buf.find(b"\n")
    return None if i < 0 else i + 1


class _BodyCut:
    """Finds the end of a DATA body, scanning each byte once (an 8 MiB body
    arrives in thousands of pieces)."""

    def __init__(self):
        self.seen = 0

    def __call__(self, buf):
        if buf.startswith(b".\r\n"):
            return 3
        i = buf.find(b"\r\n.\r\n", max(0, self.seen - 4))
        self.seen = len(buf)
        return None if i < 0 else i + 5


def _play(sc, conn, res, step_limit):
    """Plays the script; returns False when the connection is gone."""
    for st in sc.steps:
        kind = st[0]
        if kind == "send":
            _, data, split, gap = st
            if split == "bytes":
                cuts = list(range(1, len(data)))
            else:
                cuts = sorted(c for c in (split or ()) if 0 < c < len(data))
            pieces, prev = [], 0
            for c in cuts + [len(data)]:
                pieces.append(data[prev:c])
                prev = c
            for i, p in enumerate(pieces):
                if i and gap:
                    time.sleep(gap)
                if not conn.write(p):
                    return False
        elif kind == "expect":
            _, prefix, stage = st
            cut = conn.read_until(_line_cut, step_limit)
            if cut is None:
                res.server_errors.append(
                    "client never sent %r (stage %s); had %r"
                    % (prefix, stage, bytes(conn.buf[:80])))
                return False
            line = bytes(conn.buf[:cut])
            del conn.buf[:cut]
            if not line.upper().startswith(prefix.upper()) or \
                    not line.endswith(CRLF):
                res.server_errors.append(
                    "stage %s: expected %r, client sent %r"
                    % (stage, prefix, line[:120]))
                return False
            res.reached = stage
        elif kind == "body":
            cut = conn.read_until(_BodyCut(), step_limit)
            if cut is None:
                res.server_errors.append("client never ended the body")
                return False
            res.body = bytes(conn.buf[:cut])
            del conn.buf[:cut]
            res.reached = st[1]
        elif kind == "bytes":
            n = st[1]
            cut = conn.read_until(lambda b: n if len(b) >= n else None,
                                  step_limit)
            if cut is None:
                res.server_errors.append("client sent fewer than %d bytes" % n)
                return False
            res.body = bytes(conn.buf[:cut])
            del conn.buf[:cut]
            res.reached = st[2]
        elif kind == "bdat":
            _, answer, last_answer, stage = st
            res.body = b""
            while True:
                cut = conn.read_until(_line_cut, step_limit)
                if cut is None:
                    res.server_errors.append("client never sent BDAT")
                    return False
                line = bytes(conn.buf[:cut])
                del conn.buf[:cut]
                m = re.match(rb"BDAT (\d+)( LAST)?\r\n$", line, re.I)
                if not m:
                    res.server_errors.append("not a BDAT line: %r" % line[:80])
                    return False
                n = int(m.group(1))
                cut = conn.read_until(lambda b: n if len(b) >= n else None,
                                      step_limit)
                if cut is None:
                    res.server_errors.append("BDAT chunk shorter than %d" % n)
                    return False
                res.body += bytes(conn.buf[:cut])
                del conn.buf[:cut]
                if answer is None:
                    break  # read one chunk, leave it unanswered
                if m.group(2):
                    if not conn.write(last_answer + CRLF):
                        return False
                    break
                if not conn.write(answer + CRLF):
                    return False
            res.reached = stage
        elif kind == "stall":
            _, seconds, read = st
            end = time.monotonic() + seconds
            while time.monotonic() < end and not conn.stop.is_set():
                if read:
                    if not conn._recv_some(min(0.2, end - time.monotonic())):
                        time.sleep(min(0.05, max(0, end - time.monotonic())))
                else:
                    time.sleep(min(0.2, max(0, end - time.monotonic())))
        elif kind == "noread":
            conn.stop.wait(st[1])
        elif kind == "trickle":
            _, data, interval = st
            for i in range(len(data)):
                if i and conn.stop.wait(interval):
                    return False
                if not conn.write(data[i:i + 1]):
                    return False
        elif kind == "fin":
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        elif kind == "reset":
            try:
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            except OSError:
                pass
            conn.close()
            return False
        elif kind == "flood":
            _, data, limit = st
            total = 0
            while total < limit:
                if not conn.write(data):
                    break
                total += len(data)
            return False
        elif kind == "mark":
            res.reached = st[1]
        else:
            raise ValueError(kind)
    return True


def _drain(conn):
    """Reads what is still queued in the kernel."""
    while not conn.eof and not conn.closed:
        before = len(conn.sent)
        conn._recv_some(0.05)
        if len(conn.sent) == before:
            return


def _serve(sc, lsock, res, outdir, proc_done, step_limit):
    """Accepts connections until the client exits; plays the script on the
    first, records every one."""
    n = 0
    lsock.settimeout(0.1)
    while not proc_done.is_set():
        try:
            s, _ = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        path = os.path.join(outdir, "%s.conn%d.bin" % (sc.name, n))
        conn = _Conn(s, path, None)
        if n == 0:
            conn.stop = proc_done
            try:
                _play(sc, conn, res, step_limit)
            except Exception as e:  # a bug in the script: report it
                res.server_errors.append("server crashed: %r" % (e,))
            start = len(conn.sent) - len(conn.buf)
            # The tail: whatever the client sends until it is gone.
            while not conn.closed and not conn.eof:
                if proc_done.is_set():
                    # What is already queued in the kernel, then stop.
                    _drain(conn)
                    break
                conn._recv_some(0.1)
            res.sent = bytes(conn.sent)
            res.tail = bytes(conn.sent[start:])
        else:
            # The CLI connects once; a second connection is a bug.
            res.server_errors.append("client opened connection %d" % (n + 1))
        conn.close()
        n += 1


# ---------------------------------------------------------------- client

DEFAULT_MESSAGE = b"Subject: hostile test\r\n\r\nhello\r\n"

_SANITIZER = re.compile(rb"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|"
                        rb"runtime error:|SUMMARY: UndefinedBehavior|"
                        rb"==\d+==ERROR)")


# A command put in front of smtpc (e.g. valgrind) and seconds added to every
# time limit for it; set by run_scenarios.
WRAP = []
SLACK = 0.0
# tests/tools/peak_rss.c (built as build*/peak_rss): runs smtpc and writes its
# peak resident size.  Python cannot measure that itself: a child it starts
# carries Python's own resident size in ru_maxrss, and sampling /proc misses
# the peak of a session that lasts a few milliseconds.  Without it,
# maxrss_kb stays 0 and the memory checks are skipped.
PEAK_RSS = None


def _run_client(sc, smtpc, port, res, workdir):
    host = "[::1]" if sc.family == "ipv6" else "127.0.0.1"
    argv = WRAP + [smtpc, "--server", "%s:%d" % (host, port), "--tls", sc.tls,
            "--timeout", str(sc.timeout), "--json",
            "--from", "sender@example.com"] + sc.args + sc.rcpts
    env = dict(os.environ)
    env.update(sc.env)
    msg = sc.message if sc.message is not None else DEFAULT_MESSAGE
    if isinstance(msg, bytes):
        path = os.path.join(workdir, sc.name + ".msg")
        with open(path, "wb") as f:
            f.write(msg)
        msg = path
    with open(msg, "rb") as stdin, \
            tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        rss_file = os.path.join(workdir, sc.name + ".rss")
        if PEAK_RSS:
            argv = [PEAK_RSS, rss_file] + argv
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err,
                             env=env)
        hard = sc.max_time + SLACK + 20
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > hard:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                res.errors.append("client hung: killed after %.0f s" % hard)
                break
            time.sleep(0.01)
        res.elapsed = time.monotonic() - t0
        if PEAK_RSS:
            try:
                with open(rss_file) as f:
                    res.maxrss_kb = int(f.read())
            except (OSError, ValueError) as e:
                res.errors.append("no peak RSS from %s: %s" % (PEAK_RSS, e))
        res.exit = os.waitstatus_to_exitcode(status)
        p.returncode = res.exit
        out.seek(0)
        err.seek(0)
        res.stdout = out.read()
        res.stderr = err.read()


def _assert(sc, res):
    e = res.errors
    if res.exit is not None and res.exit < 0:
        e.append("client killed by signal %d" % -res.exit)
    if _SANITIZER.search(res.stderr):
        e.append("sanitizer report on stderr")
    if res.exit not in sc.exit:
        e.append("exit %s, expected %s" % (res.exit, "/".join(
            str(x) for x in sc.exit)))
    try:
        res.json = json.loads(res.stdout.decode("utf-8"))
    except ValueError:
        e.append("stdout is not one JSON object: %r" % res.stdout[:200])
    if res.json is not None:
        if sc.phase is not None:
            want = sc.phase if isinstance(sc.phase, tuple) else (sc.phase,)
            want = tuple(w or None for w in want)
            if res.json.get("phase") not in want:
                e.append("phase %r, expected %s" % (
                    res.json.get("phase"), " or ".join(repr(w) for w in want)))
        if sc.error is not None and not re.search(
                sc.error, res.json.get("error") or ""):
            e.append("error %r does not match /%s/" % (res.json.get("error"),
                                                      sc.error))
    if sc.tail is not None:
        tails = sc.tail if isinstance(sc.tail, tuple) else (sc.tail,)
        if res.tail not in tails:
            e.append("client sent %r after the script, expected %s" % (
                res.tail[:200], " or ".join(repr(t) for t in tails)))
    if res.elapsed > sc.max_time + SLACK:
        e.append("took %.2f s, limit %.2f s" % (res.elapsed,
                                                sc.max_time + SLACK))
    if res.elapsed < sc.min_time:
        e.append("took %.2f s, expected at least %.2f s" % (res.elapsed,
                                                           sc.min_time))
    e.extend("server: " + m for m in res.server_errors)
    if sc.check is not None:
        m = sc.check(res)
        if m:
            e.append(m)


def run_one(sc, smtpc, outdir):
    res = Result(sc)
    fam = socket.AF_INET6 if sc.family == "ipv6" else socket.AF_INET
    addr = "::1" if sc.family == "ipv6" else "127.0.0.1"
    lsock = socket.socket(fam, socket.SOCK_STREAM)
    if sc.rcvbuf:
        # Inherited by the accepted socket: a receive window this small
        # makes the client's writes block soon after the server stops
        # reading.
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sc.rcvbuf)
    lsock.bind((addr, 0))
    fillers = []
    if sc.connect_stall:
        # A backlog of 0 holds one connection; with it full (and nothing
        # accepted) Linux drops further SYNs.
        lsock.listen(0)
        for _ in range(3):
            f = socket.socket(fam, socket.SOCK_STREAM)
            f.setblocking(False)
            try:
                f.connect((addr, lsock.getsockname()[1]))
            except (BlockingIOError, InterruptedError):
                pass
            fillers.append(f)
        time.sleep(0.1)
    else:
        lsock.listen(4)
    port = lsock.getsockname()[1]
    done = threading.Event()
    if sc.connect_stall:
        try:
            _run_client(sc, smtpc, port, res, outdir)
        finally:
            for f in fillers:
                f.close()
            lsock.close()
        _assert(sc, res)
        _write_result(sc, res, outdir)
        return res
    step_limit = sc.timeout + 6 + SLACK
    th = threading.Thread(target=_serve, args=(sc, lsock, res, outdir, done,
                                               step_limit), daemon=True)
    th.start()
    try:
        _run_client(sc, smtpc, port, res, outdir)
    finally:
        done.set()
        th.join(30)
        lsock.close()
    if th.is_alive():
        res.errors.append("server thread did not finish")
    _assert(sc, res)
    _write_result(sc, res, outdir)
    return res


def _write_result(sc, res, outdir):
    with open(os.path.join(outdir, sc.name + ".result"), "w") as f:
        f.write("exit %s elapsed %.3f maxrss_kb %d\nerrors %r\n"
                "stdout %r\nstderr %r\ntail %r\n" % (
                    res.exit, res.elapsed, res.maxrss_kb, res.errors,
                    res.stdout, res.stderr, res.tail))


def run_scenarios(scenarios, smtpc, outdir, jobs=8, progress=None,
                  wrap=(), slack=0.0, peak_rss=None):
    """Runs scenarios on jobs threads; returns their Results in order.
    wrap: a command line to run smtpc under (valgrind ...); slack: seconds
    added to every time limit for it; peak_rss: the path of the peak_rss
    tool, to measure memory (see PEAK_RSS)."""
    from concurrent.futures import ThreadPoolExecutor

    global WRAP, SLACK, PEAK_RSS
    WRAP = list(wrap)
    SLACK = slack
    PEAK_RSS = peak_rss

    names = set()
    for sc in scenarios:
        if sc.name in names:
            raise ValueError("duplicate scenario " + sc.name)
        names.add(sc.name)
    results = [None] * len(scenarios)
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(run_one, sc, smtpc, outdir): i
                for i, sc in enumerate(scenarios)}
        from concurrent.futures import as_completed
        for f in as_completed(futs):
            i = futs[f]
            results[i] = f.result()
            if progress:
                progress(results[i])
    return results
