#!/usr/bin/python3
"""A scripted SMTP server for the smtpc CLI tests: answers what it is told.

  cli_script_server.py --port-file F --log L [--host H] RULES...

Each RULE is VERB=REPLY: when a command line starts with VERB (case-
insensitive; "GREETING" is the banner, "*" any other command) the server
sends REPLY with "\\n" standing for CRLF (so multi-line replies and extra
lines can be scripted), "CLOSE" closes the connection, "HANG" stops
answering.  Unlisted commands get "250 OK"; DATA gets "354 go" and, when
its reply is a 354, the message is read up to CRLF.CRLF, then answered by
the "." rule.  A rule
VERB#N=REPLY applies to the Nth VERB only (counted over all connections),
e.g. ".#2=CLOSE" hangs up after the second message instead of answering.
Everything received is appended to the log file L, so a test can prove
what was (not) sent.  One connection at a time; runs until killed.
"""

import argparse
import os
import socket
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1", choices=("127.0.0.1", "::1"))
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("rules", nargs="*")
    a = p.parse_args()
    rules = {"GREETING": "220 script.test ESMTP", "DATA": "354 go",
             ".": "250 2.0.0 queued", "QUIT": "221 bye",
             "EHLO": "250-script.test\n250 8BITMIME"}
    for r in a.rules:
        k, _, v = r.partition("=")
        rules[k.upper()] = v

    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.host, 0))
    srv.listen(4)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, a.port_file)
    log = open(a.log, "ab", buffering=0)

    seen = {}
    sent = [""]  # the last reply sent

    def reply(conn, key):
        seen[key] = seen.get(key, 0) + 1
        v = rules.get("%s#%d" % (key, seen[key]))
        if v is None:
            v = rules.get(key)
        if v is None:
            v = rules.get("*", "250 OK")
        if v == "CLOSE":
            return False
        if v == "HANG":
            time.sleep(3600)
        conn.sendall(v.replace("\\n", "\r\n").encode() + b"\r\n")
        sent[0] = v
        return True

    while True:
        conn, _ = srv.accept()
        log.write(b"--- connection\n")
        buf = b""
        in_data = False
        try:
            if not reply(conn, "GREETING"):
                conn.close()
                continue
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                log.write(chunk)
                buf += chunk
                alive = True
                while alive:
                    if in_data:
                        end = buf.find(b"\r\n.\r\n")
                        if end < 0 and buf.startswith(b".\r\n"):
                            end, skip = 0, 3
                        elif end >= 0:
                            skip = end + 5
                        else:
                            break
                        buf = buf[skip:]
                        in_data = False
                        alive = reply(conn, ".")
                        continue
                    nl = buf.find(b"\r\n")
                    if nl < 0:
                        break
                    line, buf = buf[:nl], buf[nl + 2:]
                    verb = line.split(b" ", 1)[0].split(b":", 1)[0].decode("latin-1").upper()
                    if line.upper().startswith(b"MAIL FROM"):
                        verb = "MAIL"
                    elif line.upper().startswith(b"RCPT TO"):
                        verb = "RCPT"
                    known = verb in rules or any(k.startswith(verb + "#") for k in rules)
                    alive = reply(conn, verb if known else "*")
                    if verb == "DATA" and alive and sent[0].startswith("354"):
                        in_data = True
                    if verb == "QUIT":
                        alive = False
                if not alive:
                    break
        except OSError:
            pass
        conn.close()


if __name__ == "__main__":
    main()
