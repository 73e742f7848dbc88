#!/usr/bin/python3
"""Byte-exact helpers for reading back what the test servers stored.

  mailtool.py strip-mta  [--crlf] FILE   message from a Postfix Maildir file,
                                         without the trace headers the test MTA
                                         put on top (Return-Path, X-Original-To,
                                         Delivered-To, its own Received)
  mailtool.py strip-sink [--crlf] FILE   message from an smtp-sink dump file,
                                         without smtp-sink's X-* and Received
                                         lines and without the empty line it
                                         appends
  mailtool.py crlf FILE                  FILE with every bare LF made CRLF

Both servers store lines with LF; --crlf turns the result back into the CRLF
form a client sent, so a test can compare with `cmp`.  Output goes to stdout.
"""

import re
import sys

MTA_TRACE = (b"return-path:", b"x-original-to:", b"delivered-to:")


def lines_of(data):
    return data.splitlines(keepends=True)


def header_block(lines, i):
    """Index just past the header field starting at lines[i] (with folds)."""
    j = i + 1
    while j < len(lines) and lines[j][:1] in (b" ", b"\t"):
        j += 1
    return j


def strip_mta(data):
    lines = lines_of(data)
    i = 0
    while i < len(lines) and lines[i].lower().startswith(MTA_TRACE):
        i = header_block(lines, i)
    # The Received: field our Postfix instance added (smtpd writes it first,
    # so it is the topmost one): "... by <myhostname> (Postfix) with ...".
    if i < len(lines) and lines[i].lower().startswith(b"received:"):
        j = header_block(lines, i)
        if re.search(rb"\(Postfix\)", b"".join(lines[i:j])):
            i = j
    return b"".join(lines[i:])


def strip_sink(data):
    lines = lines_of(data)
    i = 0
    while i < len(lines) and lines[i].startswith(b"X-"):
        i = header_block(lines, i)
    if i < len(lines) and lines[i].startswith(b"Received:") \
            and b"(smtp-sink)" in b"".join(lines[i:header_block(lines, i)]):
        i = header_block(lines, i)
    body = lines[i:]
    if body and body[-1] == b"\n":          # smtp-sink appends one empty line
        body = body[:-1]
    return b"".join(body)


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0
    cmd, args = argv[0], argv[1:]
    want_crlf = False
    if args and args[0] == "--crlf":
        want_crlf, args = True, args[1:]
    if len(args) != 1:
        sys.stderr.write("usage: see mailtool.py --help\n")
        return 2
    with open(args[0], "rb") as f:
        data = f.read()
    if cmd == "strip-mta":
        out = strip_mta(data)
    elif cmd == "strip-sink":
        out = strip_sink(data)
    elif cmd == "crlf":
        out, want_crlf = data, True
    else:
        sys.stderr.write("unknown command %r\n" % cmd)
        return 2
    if want_crlf:
        out = crlf(out)
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
