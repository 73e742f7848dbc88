#!/usr/bin/python3
"""Writes the seeds of fuzz_tiny (the tiny-vs-full differential target):
fuzz/corpus/fuzz_tiny/seed-*.

    fuzz/make_tiny_seeds.py [CORPUS_DIR]

Each seed is one dialogue in fuzz_tiny.c's input format (see the comment
at the top of fuzz/fuzz_tiny.c) that reaches a sent mail, so the fuzzer
starts deep: AUTH PLAIN, AUTH LOGIN, a refused RCPT and the RSET after
every recipient was refused, a 421, multi-line replies, HELO fallback,
bodies with dots and bare line ends.  Rerun after changing the format.
"""

import os
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_tiny")

# header h0: tls (bits 0-2: 0 none, 1 implicit, 2 opportunistic, 5
# starttls), auth (bits 3-5: 0 none, 1 auto, 2 plain, 3 login), strings
# (bits 6-7: 0 defaults "user"/"secret")
TLS = {"none": 0, "implicit": 1, "opp": 2, "starttls": 5}
AUTH = {"none": 0, "auto": 1, "plain": 2, "login": 3}
# h1: options, PEER_LOOPBACK inverted (0: loopback peer)
OPT_HELO_ONLY = 0x10
OPT_PLAIN_WHEN_UNLISTED = 0x20
# h2: buffer (0: SMTPC_IO_MIN, n >= 4: IO_MIN + 16 (n - 4))


def header(tls="none", auth="none", options=0, buf=0):
    return bytes([TLS[tls] | AUTH[auth] << 3, options, buf])


def crlf(*lines):
    return "".join(l + "\r\n" for l in lines).encode("latin-1")


# ops (low nibble) with their parameter (high nibble)
def raw(data, mode=0):
    """op 1: server bytes, delivered with mode (bit 0 recv_buf, bits 1-3
    piece size)."""
    out = b""
    while data:
        chunk, data = data[:250], data[250:]
        out += bytes([1 | mode << 4, len(chunk)]) + chunk
    return out


def canned(i, mode=0):
    return bytes([0 | mode << 4, i])


SEND_ALL = bytes([4])


def send_k(k):
    return bytes([3 | 1 << 4, k])


def mail_simple(nrcpt=1, null_from=False):
    return bytes([6 | ((nrcpt - 1) | (8 if null_from else 0)) << 4])


def body(data):
    out = b""
    while data:
        chunk, data = data[:250], data[250:]
        out += bytes([7, len(chunk)]) + chunk
    return out


def pattern(p):
    return bytes([8 | p << 4])


BODY_END = bytes([9])
QUIT = bytes([10])


def auto(v=0):
    return bytes([15 | v << 4])


def step(p=0):
    return bytes([14 | p << 4])


GREETING = crlf("220 mx.test ESMTP")
EHLO_AUTH = crlf("250-mx.test", "250-AUTH PLAIN LOGIN",
                 "250-ENHANCEDSTATUSCODES", "250 8BITMIME")
EHLO_OLD = crlf("250-mx.test", "250-AUTH=LOGIN", "250 SIZE 1000")
MAIL_OK = crlf("250 2.1.0 ok")
RCPT_OK = crlf("250 2.1.5 ok")
RCPT_NO = crlf("550 5.1.1 no such user")
DATA_GO = crlf("354 go ahead")
QUEUED = crlf("250 2.0.0 queued as 1234")
BYE = crlf("221 2.0.0 bye")
MSG = b"Subject: s\r\n\r\n.dot line\r\nbare\rcr\nlf\r\n"


def mail(nrcpt, replies_rcpt, body_bytes=MSG, end=QUEUED):
    out = mail_simple(nrcpt) + SEND_ALL + raw(MAIL_OK) + SEND_ALL
    for r in replies_rcpt:
        out += raw(r) + SEND_ALL
    out += raw(DATA_GO) + body(body_bytes) + BODY_END + SEND_ALL + raw(end)
    return out


SEEDS = {
    "auth-plain": header(auth="plain") + raw(GREETING) + SEND_ALL
    + raw(EHLO_AUTH) + SEND_ALL + raw(crlf("235 2.7.0 ok")) + SEND_ALL
    + mail(1, [RCPT_OK]) + QUIT + SEND_ALL + raw(BYE),
    "auth-login": header(auth="login", buf=20) + raw(GREETING) + SEND_ALL
    + raw(EHLO_OLD) + SEND_ALL
    + raw(crlf("334 VXNlcm5hbWU6")) + send_k(3) + SEND_ALL
    + raw(crlf("334 UGFzc3dvcmQ6")) + SEND_ALL + raw(crlf("235 ok"))
    + mail(2, [RCPT_OK, RCPT_OK]) + QUIT + SEND_ALL + raw(BYE),
    "auth-auto-504": header(auth="auto") + raw(GREETING) + SEND_ALL
    + raw(EHLO_AUTH) + SEND_ALL + raw(crlf("504 5.5.4 unknown")) + SEND_ALL
    + raw(crlf("334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 ok"), mode=2)
    + SEND_ALL + mail(1, [RCPT_OK]) + QUIT + SEND_ALL + raw(BYE),
    "rcpt-refused": header() + raw(GREETING) + SEND_ALL + raw(EHLO_AUTH)
    + SEND_ALL + mail(3, [RCPT_OK, RCPT_NO, crlf("251 2.1.5 forwarded")])
    + QUIT + SEND_ALL + raw(BYE),
    "all-refused-rset": header() + raw(GREETING) + SEND_ALL + raw(EHLO_AUTH)
    + SEND_ALL + mail_simple(2) + SEND_ALL + raw(MAIL_OK) + SEND_ALL
    + raw(RCPT_NO) + SEND_ALL + raw(crlf("450 4.2.0 greylisted"))
    + SEND_ALL + raw(crlf("250 2.0.0 reset")) + mail(1, [RCPT_OK])
    + QUIT + SEND_ALL + raw(BYE),
    "tempfail-421": header(auth="plain") + raw(GREETING) + SEND_ALL
    + raw(EHLO_AUTH) + SEND_ALL + raw(crlf("235 ok")) + mail(1, [RCPT_OK])
    + mail_simple(1) + SEND_ALL + raw(crlf("421 4.3.2 going down")),
    "multiline": header() + raw(crlf("220-mx.test", "220 hello"), mode=2)
    + SEND_ALL + raw(EHLO_AUTH, mode=3) + SEND_ALL + mail_simple(1)
    + SEND_ALL + raw(crlf("250-2.1.0 one", "250 2.1.0 two")) + SEND_ALL
    + raw(crlf("250-2.1.5 a", "250 2.1.5 b")) + SEND_ALL
    + raw(crlf("354-x", "354 y")) + pattern(7) + pattern(3) + pattern(4)
    + BODY_END + SEND_ALL + raw(crlf("250-q", "250 2.0.0 done"))
    + QUIT + SEND_ALL + raw(BYE),
    "helo-fallback": header(auth="login", options=OPT_PLAIN_WHEN_UNLISTED)
    + raw(GREETING) + SEND_ALL + raw(crlf("502 5.5.2 no EHLO")) + SEND_ALL
    + raw(crlf("250 hello")) + SEND_ALL + raw(crlf("235 ok")) + SEND_ALL
    + mail(1, [RCPT_OK], b".\r\n..\r\nend") + QUIT + SEND_ALL
    + raw(BYE),
    "message-refused": header(options=OPT_HELO_ONLY, buf=0) + raw(GREETING)
    + SEND_ALL + raw(crlf("250 hi")) + mail(1, [RCPT_OK],
                                            end=crlf("554 5.7.1 spam"))
    + mail(1, [RCPT_OK]) + QUIT + SEND_ALL + raw(BYE),
    "big-body": header(auth="plain") + raw(GREETING) + SEND_ALL
    + raw(EHLO_AUTH) + SEND_ALL + raw(crlf("235 ok")) + SEND_ALL
    + mail_simple(1) + SEND_ALL + raw(MAIL_OK) + SEND_ALL + raw(RCPT_OK)
    + SEND_ALL + raw(DATA_GO) + (pattern(8) + pattern(9) + send_k(200)
                                 + pattern(14) + SEND_ALL) * 3
    + BODY_END + SEND_ALL + raw(QUEUED) + QUIT + SEND_ALL + raw(BYE),
    "auto-server": header(auth="auto") + (step() + auto()) * 12
    + auto(1) + step() * 6,
    # strings from the input (h0 bits 6-7 = 3: user, password): a password
    # of 32 * 100 + 1 bytes does not fit AUTH PLAIN in the send area
    "auth-long-secret": bytes([AUTH["plain"] << 3 | 0xc0, 0, 0, 4])
    + b"user" + bytes([0xfe, 100]) + (step() + auto()) * 4,
    # a user name of 32 * 40 + 1 bytes: AUTH LOGIN goes, its answer not
    "auth-login-long-user": bytes([AUTH["login"] << 3 | 0xc0, 0, 0, 0xfe, 40,
                                   6]) + b"secret" + (step() + auto(1)) * 4,
    # an envelope from the input (op 5): 2 recipients, the second from the
    # input; then one with an 8-bit sender (refused: no SMTPUTF8 here)
    "envelope-input": header() + raw(GREETING) + SEND_ALL + raw(EHLO_AUTH)
    + SEND_ALL + bytes([5, 2, 0x80, 0xe0, 8]) + b"r@z.test"
    + (step() + auto()) * 9 + bytes([5, 0xc1, 0]) + QUIT + SEND_ALL
    + raw(BYE),
}


def main():
    os.makedirs(ROOT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(ROOT, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
