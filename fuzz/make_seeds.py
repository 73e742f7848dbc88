#!/usr/bin/python3
"""Writes the seed corpora: fuzz/corpus/<target>/seed-*.

    fuzz/make_seeds.py [CORPUS_DIR]

Each seed is one well-formed dialogue (or body) in the target's input
format, so the fuzzers start from every feature: STARTTLS, each AUTH
mechanism, PIPELINING, CHUNKING, BINARYMIME, DSN, several mails, refusals
at each step, multi-line and enhanced replies.  Rerun after changing an
input format; the seeds are small and committed.
"""

import base64
import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "corpus")

# config byte (fuzz_reply.c / fuzz_engine.c): tls = b & 3 (0 none,
# 1 starttls, 2 implicit, 3 opportunistic); auth = (b >> 2) & 7 (0 none,
# 1 auto+password, 2 plain, 3 login, 4 cram-md5, 5 xoauth2, 6 oauthbearer,
# 7 auto+token); 0x20 no pipelining, 0x40 no chunking, 0x80 HELO only.
TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT, TLS_OPP = 0, 1, 2, 3
AUTH = {"none": 0, "auto": 1, "plain": 2, "login": 3, "cram": 4,
        "xoauth2": 5, "oauthbearer": 6, "autotoken": 7}


def cfg(tls=TLS_NONE, auth="none", nopipe=False, nochunk=False, helo=False):
    return (tls | AUTH[auth] << 2 | (0x20 if nopipe else 0) |
            (0x40 if nochunk else 0) | (0x80 if helo else 0))


def crlf(*lines):
    return "".join(l + "\r\n" for l in lines).encode("latin-1")


EHLO_FULL = crlf("250-fuzz.test hello", "250-PIPELINING", "250-8BITMIME",
                 "250-SIZE 35882577", "250-SMTPUTF8", "250-DSN",
                 "250-ENHANCEDSTATUSCODES", "250-CHUNKING", "250-BINARYMIME",
                 "250-AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER",
                 "250 REQUIRETLS")
EHLO_TLS = crlf("250-fuzz.test", "250-STARTTLS", "250 PIPELINING")
EHLO_PLAIN = crlf("250-fuzz.test", "250 8BITMIME")
EHLO_AUTH = crlf("250-fuzz.test", "250-AUTH=LOGIN PLAIN",
                 "250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER")
MAIL_OK = crlf("250 2.1.0 ok")
RCPT_OK = crlf("250 2.1.5 ok")
DATA_GO = crlf("354 go ahead")
QUEUED = crlf("250 2.0.0 queued as 1234")
BYE = crlf("221 2.0.0 bye")


def mail_plain(n_rcpt=1):
    return MAIL_OK + RCPT_OK * n_rcpt + DATA_GO + QUEUED


REPLY_SEEDS = {
    # fuzz_reply: [cfg, env] + server bytes after the greeting.
    "plain": (cfg(nopipe=True), 0, EHLO_PLAIN + mail_plain() * 2 + BYE),
    "pipelined": (cfg(), 2, EHLO_FULL.replace(b"250-CHUNKING\r\n", b"")
                  .replace(b"250-AUTH", b"250-X-AUTH") + mail_plain(2) * 2
                  + BYE),
    "chunking": (cfg(), 0x10, EHLO_FULL.replace(b"250-AUTH", b"250-X-AUTH")
                 + MAIL_OK + RCPT_OK + QUEUED + MAIL_OK + RCPT_OK + QUEUED
                 + BYE),
    "starttls": (cfg(TLS_STARTTLS), 0, EHLO_TLS + crlf("220 go ahead")
                 + EHLO_PLAIN + mail_plain() * 2 + BYE),
    "opportunistic-refused": (cfg(TLS_OPP), 0, EHLO_TLS +
                              crlf("454 4.7.0 no TLS") + mail_plain() * 2
                              + BYE),
    "auth-plain": (cfg(auth="plain"), 0, EHLO_AUTH + crlf("235 2.7.0 ok")
                   + mail_plain() * 2 + BYE),
    "auth-login": (cfg(auth="login"), 0, EHLO_AUTH + crlf(
        "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 ok")
        + mail_plain() * 2 + BYE),
    "auth-cram": (cfg(auth="cram"), 0, EHLO_AUTH + crlf(
        "334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=",
        "235 2.7.0 ok") + mail_plain() * 2 + BYE),
    "auth-xoauth2-error": (cfg(auth="xoauth2"), 0, EHLO_AUTH + crlf(
        "334 " + base64.b64encode(b'{"status":"401","schemes":"bearer",'
                                  b'"scope":"https://mail.google.com/"}')
        .decode(), "535 5.7.8 no") + BYE),
    "auth-oauthbearer": (cfg(auth="oauthbearer"), 0, EHLO_AUTH +
                         crlf("235 ok") + mail_plain() * 2 + BYE),
    "auth-auto-504-fallback": (cfg(auth="auto"), 0, EHLO_AUTH + crlf(
        "504 5.5.4 unknown", "235 ok") + mail_plain() * 2 + BYE),
    "ehlo-refused-helo": (cfg(nopipe=True), 0, crlf("502 5.5.2 no EHLO",
                                                    "250 hello")
                          + mail_plain() * 2 + BYE),
    "rcpt-refused": (cfg(nopipe=True), 2, EHLO_PLAIN + MAIL_OK + crlf(
        "550 5.1.1 no such user", "250 ok", "354 go", "250 ok") +
        mail_plain(2) + BYE),
    "all-rcpts-refused": (cfg(), 0, EHLO_TLS.replace(b"250-STARTTLS\r\n", b"")
                          + MAIL_OK + crlf("550 5.1.1 no", "554 5.5.1 no "
                                           "valid recipients", "250 reset")
                          + mail_plain() + BYE),
    "message-refused": (cfg(nopipe=True), 0, EHLO_PLAIN + MAIL_OK + RCPT_OK +
                        DATA_GO + crlf("554 5.7.1 spam") + mail_plain() + BYE),
    "tempfail-421": (cfg(), 0, EHLO_PLAIN + crlf("421 4.3.2 going down")),
    "dsn-utf8": (cfg(), 0xa0, EHLO_FULL.replace(b"250-AUTH", b"250-X-AUTH")
                 .replace(b"250-CHUNKING\r\n", b"") + mail_plain() * 2
                 + BYE),
    "multiline-everything": (cfg(nopipe=True), 0, EHLO_PLAIN + crlf(
        "250-2.1.0 one", "250-2.1.0 two", "250 2.1.0 three",
        "250-a", "250 b", "354-x", "354 y", "250-q", "250 2.0.0 done")
        + mail_plain() + BYE),
    "helo-only": (cfg(helo=True), 0, crlf("250 hi") + mail_plain() * 2 + BYE),
    # The line-count limit: 64 lines pass, the 65th ends the session.
    "ehlo-64-lines": (cfg(), 0, crlf(*["250-CAP%d" % i for i in range(63)],
                                     "250 LAST") + mail_plain() + BYE),
    "ehlo-65-lines": (cfg(), 0, crlf(*["250-CAP%d" % i for i in range(64)],
                                     "250 LAST")),
    "size-limit": (cfg(), 0x40, crlf("250-fuzz", "250 SIZE 100")
                   + mail_plain() + BYE),
}


def engine_program(c, e, server_parts):
    """fuzz_engine: [cfg, env] then ops: feed each part (op 0/1), and
    between parts op 15 ("what the state asks for") a few times."""
    out = bytes([c, e])
    for i, part in enumerate(server_parts):
        while part:
            chunk, part = part[:250], part[250:]
            out += bytes([i & 1, len(chunk)]) + chunk
        body = b"Subject: s\r\n\r\n.x\n"
        out += bytes([15, 15, 15, 9, len(body)]) + body
        out += bytes([15, 15, 7])
    return out


def split_replies(b):
    return [l + b"\n" for l in b.split(b"\n") if l]


ENGINE_SEEDS = {
    name: engine_program(c, e if e < 0x80 else e & 0x3f,
                         [crlf("220 fuzz.test ESMTP")] + split_replies(srv))
    for name, (c, e, srv) in REPLY_SEEDS.items()
}
ENGINE_SEEDS["starttls-injection"] = engine_program(
    cfg(TLS_STARTTLS), 0, [crlf("220 fuzz"), EHLO_TLS,
                           crlf("220 go") + crlf("250 injected")])
ENGINE_SEEDS["many-rcpts-pipelined"] = engine_program(
    cfg(), 0x80, [crlf("220 fuzz"), EHLO_TLS.replace(b"STARTTLS", b"DSN"),
                  MAIL_OK + RCPT_OK * 40 + DATA_GO, QUEUED, BYE])
# Op 5 (envelope strings from the input) once READY, then a mail with them.
_strs = b"".join(bytes([len(x)]) + x for x in (
    b"s@x.test", b"r@y.test", b"rfc822;r@y.test", b"id+1=x"))

def _feed(b):
    return bytes([0, len(b)]) + b


ENGINE_SEEDS["envelope-strings"] = (
    bytes([cfg(nopipe=True), 0]) + _feed(crlf("220 fuzz")) + bytes([7])
    + _feed(crlf("250-fuzz", "250 DSN")) + bytes([7, 5]) + _strs
    + bytes([8, 7]) + _feed(MAIL_OK) + bytes([7]) + _feed(RCPT_OK)
    + bytes([7]) + _feed(DATA_GO) + bytes([9, 4]) + b"hi\r\n"
    + bytes([10, 7]) + _feed(QUEUED) + bytes([11, 7]) + _feed(BYE))
ENGINE_SEEDS["bdat-binary"] = engine_program(
    cfg(), 0x08, [crlf("220 fuzz"), EHLO_FULL.replace(b"250-AUTH",
                                                      b"250-X-AUTH"),
                  MAIL_OK + RCPT_OK, crlf("250 chunk"), QUEUED, BYE])


def body_seed(mode, pieces):
    out = bytes([mode])
    for ctl, data in pieces:
        out += bytes([ctl, len(data)]) + data
    return out


BODY_SEEDS = {
    # mode: 1 chunking, 2 binarymime, 4 no pipelining, (mode >> 3) & 3
    # buffer size index.
    "data-dots": body_seed(0, [(0, b"Subject: x\r\n\r\n.dot\r\n"),
                               (1, b".\r\n..\r\n.\n"), (2, b"\r.\r\r\n")]),
    "data-crlf-split": body_seed(8, [(0, b"line\r"), (1, b"\nnext\r"),
                                     (0, b"\r\n"), (2, b".")]),
    "data-small-buffer": body_seed(0, [(6, b"x" * 200 + b"\n." * 20)] * 8),
    "bdat": body_seed(1, [(0, b"Subject: b\r\n\r\nbody\n"), (1, b"\r\n.\r\n"),
                          (3, b"more\r")]),
    "bdat-nopipe": body_seed(5, [(0, b"a\nb\rc\r\n"), (3, b"d" * 250),
                                 (2, b"\r\n.\r\n")]),
    "bdat-binary": body_seed(3 | 16, [(0, bytes(range(256))[:250]),
                                      (1, b"\r\n\r\0\n"), (2, b".\r\n")]),
    "empty": body_seed(0, []),
    "empty-bdat": body_seed(1, []),
    "no-final-newline": body_seed(24, [(0, b"Subject: y\r\n\r\nlast line")]),
}


def write(target, seeds):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


def main():
    write("fuzz_reply", {k: bytes([c, e]) + s
                         for k, (c, e, s) in REPLY_SEEDS.items()})
    write("fuzz_engine", ENGINE_SEEDS)
    write("fuzz_body", BODY_SEEDS)


if __name__ == "__main__":
    main()
