#!/usr/bin/python3
"""tls_hostile.py - a scripted SMTP server for smtpc's TLS and OAuth tests.

It plays one SCENARIO on every connection and records exactly what the
client sent, so that a test can assert what did NOT happen (no AUTH, no
MAIL after a downgrade).  It binds 127.0.0.1 or ::1 only.

  tls_hostile.py --scenario NAME --cert C --key K --dir DIR \
                 [--host 127.0.0.1] [--port 0] [--port-file F] [--implicit-tls]
                 [--user U] [--token T]

Files in DIR:
  transcript   every line of every connection, in order:
                 "#N C: <line>"   what the client sent (CRLF removed; bytes
                                  that are not printable ASCII as \\xNN)
                 "#N S: <line>"   what the server sent
                 "#N -- <event>"  connect, "tls up TLSv1.3", "tls failed ...",
                                  "auth-ok MECH ...", "auth-bad ...", "closed"
  N.eml        the message of the N-th DATA, dot-unstuffed, CRLF kept, the
               final CRLF.CRLF removed (as aiosmtpd_server.py stores it)

Scenarios (caps = what EHLO offers; "post" = after TLS):
  no-starttls       pre: AUTH PLAIN LOGIN XOAUTH2, no STARTTLS
  starttls-454      STARTTLS offered, answered "454 4.7.0 TLS not available"
  ehlo-502          EHLO answered 502; HELO accepted (a client that falls
                    back to HELO would go on to MAIL)
  inject            STARTTLS answered "220 Ready" plus "250 ..." lines in the
                    same segment (response injection, CVE-2021-22947 class)
  inject-late       "220 Ready", then 50 ms later a plaintext line, which
                    lands inside the client's TLS handshake
  caps-change       pre: STARTTLS, AUTH CRAM-MD5; post: STARTTLS (again!)
                    and AUTH PLAIN LOGIN.  The client must EHLO again, must
                    not send STARTTLS twice and must pick from the post list
  auth-only-pre     pre: STARTTLS, AUTH PLAIN LOGIN; post: no AUTH at all
  oauth             post: AUTH OAUTHBEARER XOAUTH2 PLAIN; XOAUTH2 and
                    OAUTHBEARER are checked against --user/--token
  oauth-error       post: as oauth, but XOAUTH2/OAUTHBEARER get the RFC 7628
                    error challenge (334 base64 JSON); the client's answer is
                    recorded and then 535 5.7.8 is sent
  oauth-504         post: AUTH OAUTHBEARER XOAUTH2; OAUTHBEARER gets 504,
                    XOAUTH2 works
  oauth-504-all     post: AUTH OAUTHBEARER XOAUTH2; both get 504
  good              pre: STARTTLS; post: AUTH PLAIN LOGIN (a well-behaved
                    server, for comparison)
  ehlo-first        as good, but STARTTLS before EHLO is answered "503 5.5.1
                    Send EHLO first" (smtpc's SMTPC_OPT_STARTTLS_FIRST must
                    fall back to EHLO, then STARTTLS)
With --implicit-tls the connection is TLS from the first byte and the "post"
capabilities are the only ones.
"""

import argparse
import base64
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

LOOPBACK = ("127.0.0.1", "::1")
LINE_MAX = 4096


class Closed(Exception):
    pass


def printable(b):
    out = []
    for c in b:
        if 0x20 <= c < 0x7F and c != 0x5C:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.conn = 0
        self.msgs = 0

    def next_conn(self):
        with self.lock:
            self.conn += 1
            return self.conn

    def next_msg(self):
        with self.lock:
            self.msgs += 1
            return self.msgs

    def write(self, n, kind, text):
        with self.lock:
            with open(self.path, "a") as f:
                f.write("#%d %s %s\n" % (n, kind, text))


SCENARIOS = {
    # name: (pre-TLS caps, post-TLS caps)
    "no-starttls": (["AUTH PLAIN LOGIN XOAUTH2", "8BITMIME"], None),
    "starttls-454": (["STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"], None),
    "ehlo-502": ([], None),
    "inject": (["STARTTLS", "8BITMIME"], ["AUTH PLAIN LOGIN", "8BITMIME"]),
    "inject-late": (["STARTTLS", "8BITMIME"], ["AUTH PLAIN LOGIN", "8BITMIME"]),
    "caps-change": (["STARTTLS", "AUTH CRAM-MD5", "8BITMIME"],
                    ["STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"]),
    "auth-only-pre": (["STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"],
                      ["8BITMIME"]),
    "oauth": (["STARTTLS"], ["AUTH OAUTHBEARER XOAUTH2 PLAIN", "8BITMIME"]),
    "oauth-error": (["STARTTLS"], ["AUTH OAUTHBEARER XOAUTH2 PLAIN", "8BITMIME"]),
    "oauth-504": (["STARTTLS"], ["AUTH OAUTHBEARER XOAUTH2", "8BITMIME"]),
    "oauth-504-all": (["STARTTLS"], ["AUTH OAUTHBEARER XOAUTH2", "8BITMIME"]),
    "good": (["STARTTLS", "8BITMIME"], ["AUTH PLAIN LOGIN", "8BITMIME"]),
    "ehlo-first": (["STARTTLS", "8BITMIME"], ["AUTH PLAIN LOGIN", "8BITMIME"]),
}


class Session:
    def __init__(self, sock, cfg, log):
        self.sock = sock
        self.cfg = cfg
        self.log = log
        self.n = log.next_conn()
        self.buf = b""
        self.tls = False
        self.authed = False

    # ---- I/O ----
    def ev(self, text):
        self.log.write(self.n, "--", text)

    def send_raw(self, data):
        for line in data.split(b"\r\n"):
            if line:
                self.log.write(self.n, "S:", printable(line))
        self.sock.sendall(data)

    def reply(self, *lines):
        self.send_raw(b"".join(l.encode() + b"\r\n" for l in lines))

    def readline(self):
        while b"\n" not in self.buf:
            if len(self.buf) > LINE_MAX:
                raise Closed("line too long")
            try:
                chunk = self.sock.recv(4096)
            except (ConnectionError, ssl.SSLError, OSError) as e:
                raise Closed(str(e))
            if not chunk:
                if self.buf:
                    self.log.write(self.n, "C:", printable(self.buf) + " [no newline]")
                raise Closed("eof")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        if line.endswith(b"\r"):
            line = line[:-1]
        else:
            self.ev("bare LF from client")
        self.log.write(self.n, "C:", printable(line))
        return line

    def start_tls(self):
        if self.buf:
            # What the client pipelined after STARTTLS would be plaintext
            # accepted as if it came after TLS: record it, refuse it.
            self.ev("client sent %d bytes after STARTTLS before TLS" % len(self.buf))
            raise Closed("client pipelined after STARTTLS")
        try:
            self.sock = self.cfg.ctx.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.ev("tls failed %s" % e)
            raise Closed("tls failed")
        self.tls = True
        self.ev("tls up %s" % self.sock.version())

    # ---- the dialogue ----
    def caps(self):
        pre, post = SCENARIOS[self.cfg.scenario]
        if self.tls and post is not None:
            return post
        return pre

    def run(self):
        self.ev("connect scenario=%s" % self.cfg.scenario)
        if self.cfg.implicit:
            self.start_tls()
        self.reply("220 hostile.smtpc.test ESMTP %s" % self.cfg.scenario)
        while True:
            line = self.readline()
            verb = line.split(b" ", 1)[0].upper().decode("ascii", "replace")
            arg = line[len(verb) + 1:]
            if verb == "EHLO":
                self.ehlo_seen = True
                if self.cfg.scenario == "ehlo-502":
                    self.reply("502 5.5.1 EHLO not implemented")
                    continue
                caps = self.caps()
                lines = ["250-hostile.smtpc.test"] + ["250-" + c for c in caps]
                lines[-1] = "250 " + lines[-1][4:]
                self.reply(*lines)
            elif verb == "HELO":
                self.reply("250 hostile.smtpc.test")
            elif verb == "STARTTLS":
                self.do_starttls()
            elif verb == "AUTH":
                self.do_auth(arg)
            elif verb == "MAIL":
                self.reply("250 2.1.0 OK")
            elif verb == "RCPT":
                self.reply("250 2.1.5 OK")
            elif verb == "DATA":
                self.do_data()
            elif verb in ("RSET", "NOOP"):
                self.reply("250 2.0.0 OK")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("500 5.5.2 unknown command")

    def do_starttls(self):
        s = self.cfg.scenario
        if self.tls or "STARTTLS" not in self.caps():
            self.reply("503 5.5.1 STARTTLS not offered now")
            return
        if s == "ehlo-first" and not getattr(self, "ehlo_seen", False):
            self.reply("503 5.5.1 Send EHLO first")
            return
        if s == "starttls-454":
            self.reply("454 4.7.0 TLS not available due to temporary reason")
            return
        if s == "inject":
            self.send_raw(b"220 2.0.0 Ready to start TLS\r\n"
                          b"250-injected.example\r\n250 AUTH PLAIN\r\n")
        elif s == "inject-late":
            self.reply("220 2.0.0 Ready to start TLS")
            time.sleep(0.05)
            self.send_raw(b"250 injected late\r\n")
        else:
            self.reply("220 2.0.0 Ready to start TLS")
        self.start_tls()

    def do_data(self):
        self.reply("354 End data with <CR><LF>.<CR><LF>")
        data = []
        while True:
            # Read raw lines, keeping their CRLF, without logging each.
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise Closed("eof in DATA")
                self.buf += chunk
            line, _, self.buf = self.buf.partition(b"\n")
            line += b"\n"
            if line == b".\r\n":
                break
            if line.startswith(b"."):
                line = line[1:]
            data.append(line)
        n = self.log.next_msg()
        path = os.path.join(self.cfg.dir, "%d.eml" % n)
        with open(path + ".tmp", "wb") as f:
            f.write(b"".join(data))
        os.rename(path + ".tmp", path)
        self.ev("message %d stored (%d bytes)" % (n, sum(map(len, data))))
        self.reply("250 2.0.0 OK queued as %d" % n)

    # ---- AUTH ----
    def offered(self):
        for c in self.caps():
            if c.startswith("AUTH "):
                return c[5:].split()
        return []

    def initial(self, rest):
        """The initial response, or the answer to an empty 334."""
        if rest:
            return rest
        self.reply("334 ")
        return self.readline()

    def do_auth(self, arg):
        parts = arg.split(b" ", 1)
        mech = parts[0].upper().decode("ascii", "replace")
        rest = parts[1] if len(parts) > 1 else b""
        s = self.cfg.scenario
        if self.authed:
            self.reply("503 5.5.1 already authenticated")
            return
        if mech not in self.offered():
            self.reply("504 5.5.4 mechanism %s not offered" % mech)
            self.ev("auth-bad %s not offered" % mech)
            return
        if s == "oauth-504-all" or (s == "oauth-504" and mech == "OAUTHBEARER"):
            self.reply("504 5.5.4 Unrecognized authentication type")
            self.ev("auth-504 %s" % mech)
            return
        if mech in ("XOAUTH2", "OAUTHBEARER"):
            self.do_oauth(mech, self.initial(rest))
        elif mech == "PLAIN":
            resp = self.initial(rest)
            try:
                _, user, pw = base64.b64decode(resp, validate=True).split(b"\0")
            except Exception:
                self.reply("501 5.5.2 bad PLAIN response")
                return
            self.accept_password(mech, user, pw)
        elif mech == "LOGIN":
            if rest:
                user = base64.b64decode(rest)
            else:
                self.reply("334 VXNlcm5hbWU6")
                user = base64.b64decode(self.readline())
            self.reply("334 UGFzc3dvcmQ6")
            pw = base64.b64decode(self.readline())
            self.accept_password(mech, user, pw)
        else:
            self.reply("504 5.5.4 not implemented here")

    def accept_password(self, mech, user, pw):
        if (user.decode("utf-8", "replace") == self.cfg.user
                and pw.decode("utf-8", "replace") == self.cfg.password):
            self.authed = True
            self.ev("auth-ok %s user=%s" % (mech, self.cfg.user))
            self.reply("235 2.7.0 Authentication successful")
        else:
            self.ev("auth-bad %s wrong credentials" % mech)
            self.reply("535 5.7.8 Authentication credentials invalid")

    def do_oauth(self, mech, resp):
        try:
            raw = base64.b64decode(resp, validate=True)
        except Exception:
            self.ev("auth-bad %s not base64" % mech)
            self.reply("501 5.5.2 not base64")
            return
        fields, user = self.parse_oauth(mech, raw)
        if fields is None:
            self.ev("auth-bad %s malformed %s" % (mech, printable(raw)))
            self.reply("501 5.5.2 malformed %s response" % mech)
            return
        ok = (fields.get("auth") == "Bearer " + self.cfg.token
              and user == self.cfg.user)
        desc = " ".join("%s=%s" % (k, v) for k, v in sorted(fields.items())
                        if k in ("host", "port"))
        if self.cfg.scenario == "oauth-error" or not ok:
            # RFC 7628 3.2.2 / Google's XOAUTH2: the failure comes as a 334
            # challenge holding JSON; the client must answer it (XOAUTH2: an
            # empty line; OAUTHBEARER: the single byte ^A, "AQ==") and then
            # gets the final 535.
            err = {"status": "invalid_token" if mech == "OAUTHBEARER" else "401",
                   "scope": "https://mail.example/",
                   "schemes": "bearer"}
            if mech == "OAUTHBEARER":
                err["openid-configuration"] = "https://idp.example/.well-known/openid-configuration"
            self.ev("auth-challenge %s user=%s %s token-%s" %
                    (mech, user, desc, "ok" if ok else "bad"))
            self.reply("334 " + base64.b64encode(json.dumps(err).encode()).decode())
            answer = self.readline()
            self.ev("auth-challenge-answer %s %r" % (mech, answer.decode("ascii", "replace")))
            self.reply("535 5.7.8 Username and Password not accepted")
            return
        self.authed = True
        self.ev("auth-ok %s user=%s %s" % (mech, user, desc))
        self.reply("235 2.7.0 Accepted")

    @staticmethod
    def parse_oauth(mech, raw):
        """(kvpairs dict, user) or (None, None) when malformed."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, None
        if mech == "XOAUTH2":
            # user=U ^A auth=Bearer T ^A ^A
            if not text.endswith("\x01\x01"):
                return None, None
            kv = dict(p.split("=", 1) for p in text[:-2].split("\x01") if "=" in p)
            if set(kv) != {"user", "auth"}:
                return None, None
            return kv, kv["user"]
        # OAUTHBEARER (RFC 7628 3.1): gs2-header ^A kvpairs ^A
        # gs2-header = "n," ["a=" saslname] ","
        head, sep, tail = text.partition("\x01")
        if not sep or not tail.endswith("\x01\x01") or not head.startswith("n,"):
            return None, None
        gs2 = head[2:]
        if not gs2.endswith(","):
            return None, None
        authzid = gs2[:-1]
        user = None
        if authzid:
            if not authzid.startswith("a="):
                return None, None
            user = authzid[2:].replace("=2C", ",").replace("=3D", "=")
        kv = {}
        for p in tail[:-2].split("\x01"):
            if "=" not in p:
                return None, None
            k, v = p.split("=", 1)
            kv[k] = v
        if "auth" not in kv:
            return None, None
        return kv, user


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_handler(cfg, log):
    class H(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(cfg.timeout)
            s = Session(self.request, cfg, log)
            try:
                s.run()
            except Closed as e:
                s.ev("closed (%s)" % e)
            except (OSError, ssl.SSLError) as e:
                s.ev("closed (%s)" % e)
            else:
                s.ev("closed")
            try:
                s.sock.close()
            except OSError:
                pass
    return H


def main(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1", choices=LOOPBACK)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--implicit-tls", dest="implicit", action="store_true")
    p.add_argument("--user", default="alice@example.org")
    p.add_argument("--password", default="pw")
    p.add_argument("--token", default="ya29.test-token")
    p.add_argument("--timeout", type=float, default=30.0)
    cfg = p.parse_args(argv)
    os.makedirs(cfg.dir, exist_ok=True)
    cfg.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cfg.ctx.load_cert_chain(cfg.cert, cfg.key)
    log = Log(os.path.join(cfg.dir, "transcript"))
    open(log.path, "a").close()

    Server.address_family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
    srv = Server((cfg.host, cfg.port), make_handler(cfg, log))
    port = srv.server_address[1]
    if cfg.port_file:
        with open(cfg.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(cfg.port_file + ".tmp", cfg.port_file)
    print("tls_hostile: scenario %s on %s port %d" % (cfg.scenario, cfg.host, port),
          file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    main(sys.argv[1:])
