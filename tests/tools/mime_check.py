#!/usr/bin/python3
"""mime_check.py [--utf8] MESSAGE OUTDIR: a received message read back by Python's
email package with the default policy, printing the same lines as
mime_check_gmime.c (subject, from/to/cc, part N, tree) and writing each
leaf part's decoded content to OUTDIR/N.  Also fails (exit 1) when the
package reports a defect in any part or header.  --utf8: the message was
sent with SMTPUTF8 (RFC 6532 UTF-8 headers), which the package's bytes
parser still decodes right but reports as UndecodableBytesDefect: that one
defect is then allowed."""
import email
import email.errors
import email.policy
import os
import sys

args = sys.argv[1:]
utf8 = args[0] == "--utf8"
if utf8:
    args = args[1:]
path, outdir = args
with open(path, "rb") as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)

defects = []
leaf = 0
out = []


def walk(part):
    global leaf
    defects.extend((part.get_content_type(), d) for d in part.defects)
    ctype = part.get_content_type()
    if part.is_multipart():
        return ctype + "(" + ",".join(walk(p) for p in part.iter_parts()) + ")"
    fn = part.get_filename()
    out.append("part %d: %s %s" % (leaf, ctype, fn if fn is not None else "-"))
    data = part.get_payload(decode=True) or b""
    with open(os.path.join(outdir, str(leaf)), "wb") as f:
        f.write(data)
    leaf += 1
    return ctype


print("subject: %s" % (msg["subject"] or ""))
for what in ("from", "to", "cc"):
    h = msg[what]
    if h is None:
        continue
    defects.extend((what, d) for d in h.defects)
    for a in h.addresses:
        print("%s: %s <%s>" % (what, a.display_name, a.addr_spec))
t = walk(msg)
for line in out:
    print(line)
print("tree: %s" % t)
for k in msg.keys():
    defects.extend((k, d) for d in msg[k].defects) if hasattr(msg[k], "defects") else None
if utf8:
    defects = [(w, d) for w, d in defects
               if not isinstance(d, email.errors.UndecodableBytesDefect)]
if defects:
    for where, d in defects:
        print("defect in %s: %r" % (where, d), file=sys.stderr)
    sys.exit(1)
