#!/usr/bin/env bash
# smtpc --batch DIR and -t: the envelope from each message's header fields
# (display names, quoted strings, comments, groups, folded lines, Sender,
# Resent- blocks), Bcc removed from what is sent, every message over ONE
# connection (aiosmtpd's peer port and session count, Postfix's log), each
# delivered byte for byte (aiosmtpd and a real Postfix with PIPELINING and
# CHUNKING), a refused message in the middle that does not stop the others,
# the per-message report on stderr and as JSON Lines, and what happens when
# the connection fails: sent again on a new one when it certainly did not
# arrive, never twice when it may have, and a stop when a fresh connection
# fails at once.
set -euo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"
harness_need_smtpc

W=$(harness_tmpdir batch)
Q=$W/queue
mkdir -p "$Q" "$W/expect"

# ------------------------------------------------------------ the messages
# This script writes 20 message files into Q and, for each, expect/NN.eml (the
# bytes a server must store: Bcc fields gone, CRLF line ends) and
# expect/NN.json (envelope sender, recipients in order, refused or not).
"$PY" - "$Q" "$W/expect" <<'EOF'
import json, os, re, sys
q, ex = sys.argv[1], sys.argv[2]

def norm(b):
    b = re.sub(rb"\r\n|\r|\n", b"\r\n", b)
    return b + b"\r\n" if b and not b.endswith(b"\r\n") else b

# (headers: list of (field text, is_bcc)), body, line end, sender, rcpts
M = []
def msg(headers, body, sender, rcpts, eol="\r\n", refused=False, sep=True):
    M.append((headers, body, eol, sender, rcpts, refused, sep))

msg([("From: a@example.com", 0), ("To: b@example.com", 0), ("Subject: plain", 0)],
    "hello\n", "a@example.com", ["b@example.com"])
msg([("From: \"Doe, John\" <john@example.com>", 0),
     ("To: \"Roe, Jane\" <jane@example.com>, Bob Smith <bob@example.com>", 0),
     ("Subject: display names", 0)],
    "names\n", "john@example.com", ["jane@example.com", "bob@example.com"], eol="\n")
msg([("From: Sales <sales@example.com>", 0),
     ("To: Team: a1@example.com, Bee <b1@example.com>;, c1@example.com", 0),
     ("Cc: undisclosed-recipients:;", 0), ("Subject: groups", 0)],
    "groups\n", "sales@example.com", ["a1@example.com", "b1@example.com", "c1@example.com"])
msg([("From: f@example.com", 0),
     ("To: first@example.com,\r\n second@example.com,\r\n\tThird Person\r\n <third@example.com>", 0),
     ("Cc: \"A Very\r\n Long Name\" <long@example.com>", 0), ("Subject: folded", 0)],
    "folded\n", "f@example.com",
    ["first@example.com", "second@example.com", "third@example.com", "long@example.com"])
msg([("From: (the boss) boss @ example.com (really)", 0),
     ("To: john (John (Johnny) Doe) @ (c) example.com, Jane <(c) jane2@example.com (x)>", 0),
     ("Subject: comments", 0)],
    "comments\n", "boss@example.com", ["john@example.com", "jane2@example.com"])
msg([("From: a@example.com", 0), ("To: visible@example.com", 0),
     ("Bcc: hidden1@example.com,\r\n  Hidden Two <hidden2@example.com>", 1),
     ("Subject: bcc", 0), ("bcc: hidden3@example.com", 1)],
    "bcc\n", "a@example.com",
    ["visible@example.com", "hidden1@example.com", "hidden2@example.com", "hidden3@example.com"])
msg([("From: author1@example.com, author2@example.com", 0),
     ("Sender: Secretary <secretary@example.com>", 0),
     ("To: t7@example.com", 0), ("Subject: sender", 0)],
    "sender\n", "secretary@example.com", ["t7@example.com"])
msg([("Resent-Date: Mon, 2 Feb 2026 10:00:00 +0000", 0),
     ("Resent-From: Forwarder <fwd@example.com>", 0),
     ("Resent-To: newguy@example.com", 0),
     ("Resent-Bcc: newhidden@example.com", 1),
     ("From: original@example.com", 0), ("To: oldguy@example.com", 0),
     ("Subject: resent", 0)],
    "resent\n", "fwd@example.com", ["newguy@example.com", "newhidden@example.com"])
msg([("From: a@example.com", 0),
     ("To: \"john doe\"@example.com, \"plain\"@example.com", 0),
     ("Subject: quoted local parts", 0)],
    "quoted\n", "a@example.com", ["\"john doe\"@example.com", "plain@example.com"])
msg([("From: a@example.com", 0), ("To: Nobody <bad@example.com>", 0),
     ("Subject: refused", 0)],
    "refused\n", "a@example.com", ["bad@example.com"], refused=True)
msg([("From: a@example.com", 0), ("To: dots@example.com", 0), ("Subject: dots", 0)],
    ".\n..\n.x\nFrom the body\nbare LF\nbare CR\r.after CR\r\n...\nno final newline",
    "a@example.com", ["dots@example.com"])
msg([("From: a@example.com", 0), ("To: nobody-body@example.com", 0),
     ("Subject: headers only", 0)],
    "", "a@example.com", ["nobody-body@example.com"], sep=False)
msg([("From: a@example.com", 0), ("To: empty@example.com", 0), ("Subject: empty body", 0)],
    "", "a@example.com", ["empty@example.com"])
msg([("From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.com>", 0),
     ("To: =?UTF-8?B?U3RlZmFu?= <stefan@example.com>", 0),
     ("Subject: =?UTF-8?Q?encoded_words?=", 0)],
    "encoded\n", "joerg@example.com", ["stefan@example.com"])
msg([("From: a@example.com", 0),
     ("To: , dup@example.com,, other@example.com,", 0),
     ("Cc: DUP <dup@EXAMPLE.com>, other@example.com", 0),
     ("Bcc: dup@example.com", 1), ("Subject: duplicates", 0)],
    "dups\n", "a@example.com", ["dup@example.com", "other@example.com"])
msg([("from: lower@example.com", 0), ("to: lower-to@example.com", 0),
     ("BCC: lower-bcc@example.com", 1), ("subject: lower case names", 0)],
    "lower\n", "lower@example.com", ["lower-to@example.com", "lower-bcc@example.com"], eol="\n")
msg([("From : spaced@example.com", 0), ("To\t: spaced-to@example.com", 0),
     ("Subject: space before colon", 0)],
    "spaced\n", "spaced@example.com", ["spaced-to@example.com"])
msg([("From: big@example.com", 0), ("To: big-to@example.com", 0), ("Subject: big", 0)],
    "".join("line %06d of a body bigger than every buffer. .\n" % i for i in range(5000)),
    "big@example.com", ["big-to@example.com"])
msg([("From: a@example.com", 0), ("To: undisclosed-recipients:;", 0),
     ("Bcc: only-bcc@example.com", 1), ("Subject: bcc only", 0)],
    "bcc only\n", "a@example.com", ["only-bcc@example.com"])
msg([("Received: from x by y; Mon, 2 Feb 2026 10:00:00 +0000", 0),
     ("From: last@example.com", 0), ("To: last-to@example.com", 0),
     ("X-Folded: one\r\n two\r\n three", 0), ("Subject: last", 0)],
    "last\n", "last@example.com", ["last-to@example.com"])

assert len(M) == 20
for i, (headers, body, eol, sender, rcpts, refused, sep) in enumerate(M, 1):
    name = "%02d.eml" % i
    # Date: and Message-ID: present: smtpc adds neither.
    mid = "Date: Tue, 1 Dec 2026 12:00:00 +0000" + eol + "Message-ID: <msg%02d@batch.test>" % i
    fix = lambda t: t.replace("\r\n", eol) if eol != "\r\n" else t
    lines = [fix(h) for h, _ in headers] + [mid]
    kept = [fix(h) for h, bcc in headers if not bcc] + [mid]
    tail = (eol + body) if sep else ""
    raw = (eol.join(lines) + eol + tail).encode()
    exp = (eol.join(kept) + eol + tail).encode()
    if not sep:
        raw, exp = raw.rstrip(b"\r\n"), exp.rstrip(b"\r\n")
    open(os.path.join(q, name), "wb").write(raw)
    open(os.path.join(ex, name), "wb").write(norm(exp))
    json.dump({"file": name, "from": sender, "rcpts": rcpts, "refused": refused,
               "mid": "<msg%02d@batch.test>" % i},
              open(os.path.join(ex, "%02d.json" % i), "w"))
EOF
# Not messages: a dotfile, a subdirectory (with a file), a symbolic link.
printf 'From: x@example.com\nTo: dotfile@example.com\n\nno\n' >"$Q/.hidden.eml"
mkdir "$Q/sub"
cp "$Q/01.eml" "$Q/sub/01.eml"
ln -s "$Q/01.eml" "$Q/21-link.eml"

# check_aio JSONOUT CONNS: every expectation against what aiosmtpd stored
# and what smtpc printed as JSON Lines; CONNS sessions in all.
check_aio() {
    "$PY" - "$AIO_DIR" "$W/expect" "$1" "$Q" <<'EOF' || fail "aiosmtpd delivery: see above"
import glob, json, os, sys
aio, ex, out, q = sys.argv[1:5]
stored = {}
for f in glob.glob(os.path.join(aio, "*.json")):
    meta = json.load(open(f))
    body = open(f[:-5] + ".eml", "rb").read()
    mid = [l for l in body.split(b"\r\n") if l.startswith(b"Message-ID: ")]
    assert len(mid) == 1, (f, mid)
    stored.setdefault(mid[0][12:].decode(), []).append((meta, body))
peers = set()
exps = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(ex, "*.json")))]
for e in exps:
    got = stored.get(e["mid"], [])
    if e["refused"]:
        assert got == [], ("refused message stored", e)
        continue
    assert len(got) == 1, ("stored %d times" % len(got), e["file"])
    meta, body = got[0]
    want = open(os.path.join(ex, e["file"]), "rb").read()
    assert body == want, (e["file"], body[:300], want[:300])
    assert meta["mail_from"] == e["from"], (e["file"], meta["mail_from"])
    assert meta["rcpt_tos"] == e["rcpts"], (e["file"], meta["rcpt_tos"], e["rcpts"])
    assert b"Bcc:" not in body and b"bcc:" not in body.lower(), e["file"]
    peers.add(tuple(meta["peer"]))
assert len(stored) == sum(1 for e in exps if not e["refused"]), sorted(stored)
assert len(peers) == 1, ("more than one connection", peers)

lines = open(out).read().splitlines()
objs = [json.loads(l) for l in lines]
assert len(objs) == 21, len(objs)
for o, e in zip(objs, exps):
    assert o["file"] == os.path.join(q, e["file"]), (o["file"], e["file"])
    assert o["connection"] == 1 and o["attempts"] == 1, o
    assert o["from"] == e["from"], o
    assert [r["address"] for r in o["recipients"]] == e["rcpts"], o
    if e["refused"]:
        assert o["status"] == "rejected" and o["exit"] == 69 and o["phase"] == "rcpt", o
        assert o["recipients"][0]["code"] == 550, o
    else:
        assert o["status"] == "ok" and o["exit"] == 0, o
        assert o["queue"].startswith("OK queued as "), o
s = objs[-1]
assert s == {"summary": True, "status": "rejected", "exit": 69, "messages": 20,
             "sent": 19, "failed": 1, "not_sent": 0, "connections": 1}, s
EOF
}

# ------------------------------------------------------------ aiosmtpd
step "aiosmtpd: 20 messages from DIR, envelope from the headers, one connection"
start_cli_aiosmtpd "$W/aio" --reject 'bad@example.com=550 5.1.1 no such user'
S=$(harness_hostport "$AIO_PORT")
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 --batch "$Q" --json
expect_rc 69 "batch with one refused message" "$W/err"
aio_wait_count 19
[ "$(aio_connections)" = 1 ] || fail "aiosmtpd saw $(aio_connections) sessions"
check_aio "$W/out"
# stderr: one line per message (two for the refused one), then the summary.
for i in $(seq -w 1 20); do
    [ "$i" = 10 ] && continue
    grep -Eq "^smtpc: $Q/$i\.eml: sent \(250 2\.0\.0 OK queued as [0-9]+\)\$" "$W/err" \
        || fail "no 'sent' line for $i.eml: $(cat "$W/err")"
done
grep -qx "smtpc: $Q/10.eml: recipient <bad@example.com> refused: 550 5.1.1 no such user" "$W/err" \
    || fail "no refusal warning for 10.eml"
grep -qx "smtpc: $Q/10.eml: no recipient accepted" "$W/err" || fail "no failure line for 10.eml"
grep -qx "smtpc: $Q: 19 sent, 1 failed, 0 not sent; 1 connection" "$W/err" || fail "summary line"
[ "$(wc -l <"$W/err")" = 22 ] || fail "stderr has $(wc -l <"$W/err") lines: $(cat "$W/err")"
grep -q '\.hidden\.eml\|sub/\|21-link' "$W/err" "$W/out" && fail "a dotfile, subdirectory or link was sent"

step "aiosmtpd: the same DIR with --from and RECIPIENTs given: the headers are not used"
n0=$(aio_count)
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 --batch "$Q" \
    --from envelope@example.com over1@example.com over2@example.com
expect_rc 0 "batch with the envelope on the command line" "$W/err"
aio_wait_count $((n0 + 20))
[ "$(aio_connections)" = 2 ] || fail "expected one more session, saw $(aio_connections)"
for k in $(seq $((n0 + 1)) $((n0 + 20))); do
    [ "$(aio_json_get "$k" mail_from)" = envelope@example.com ] || fail "sender of $k"
    [ "$(aio_json_get "$k" rcpt_tos | tr '\n' ' ')" = "over1@example.com over2@example.com " ] \
        || fail "recipients of $k: $(aio_json_get "$k" rcpt_tos)"
    grep -qi '^bcc:' "$AIO_DIR/$k.eml" && fail "Bcc kept in $k"
done
true

# ------------------------------------------------------------ -t
step "-t: recipients from To/Cc/Bcc plus the command line, sender from From, Bcc removed"
printf 'From: "Me, Myself" <me@example.com>\nDate: Tue, 1 Dec 2026 12:00:00 +0000\nMessage-ID: <t@smtpc.test>\nTo: Friends: x1@example.com,\n  "X Two" <x2@example.com>;\nCc: (copy) x3@example.com\nBcc: x4@example.com,\n x5@example.com\nSubject: t\n\nbody\n.\n' \
    >"$W/t.msg"
printf 'From: "Me, Myself" <me@example.com>\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-ID: <t@smtpc.test>\r\nTo: Friends: x1@example.com,\r\n  "X Two" <x2@example.com>;\r\nCc: (copy) x3@example.com\r\nSubject: t\r\n\r\nbody\r\n.\r\n' \
    >"$W/t.expect"
n0=$(aio_count)
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 -t --json \
    extra@example.com x1@example.com <"$W/t.msg"
expect_rc 0 "-t" "$W/err"
[ -s "$W/err" ] && fail "-t: stderr on success: $(cat "$W/err")"
n=$((n0 + 1)); aio_wait_count $n
[ "$(aio_json_get $n mail_from)" = me@example.com ] || fail "-t sender"
[ "$(aio_json_get $n rcpt_tos | tr '\n' ' ')" = \
  "x1@example.com x2@example.com x3@example.com x4@example.com x5@example.com extra@example.com " ] \
    || fail "-t recipients: $(aio_json_get $n rcpt_tos | tr '\n' ' ')"
cmp "$W/t.expect" "$AIO_DIR/$n.eml" || fail "-t: stored bytes differ"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["status"]=="ok" and r["from"]=="me@example.com" and len(r["recipients"])==6 and "file" not in r, r' \
    "$W/out" || fail "-t --json: $(cat "$W/out")"

step "-t with --from: the header sender is not used"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 -t \
    --from override@example.com <"$W/t.msg"
expect_rc 0 "-t --from" "$W/err"
n=$((n + 1)); aio_wait_count $n
[ "$(aio_json_get $n mail_from)" = override@example.com ] || fail "-t --from sender"
cmp "$W/t.expect" "$AIO_DIR/$n.eml" || fail "-t --from: stored bytes differ"

step "-t errors: 65 before connecting"
c0=$(aio_connections)
printf 'From: a@example.com\nSubject: nobody\n\nx\n' >"$W/norcpt.msg"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none -t --json <"$W/norcpt.msg"
expect_rc 65 "-t without recipients" "$W/err"
grep -qx 'smtpc: no recipient: the message has no To:, Cc: or Bcc: address and none was given' \
    "$W/err" || fail "-t no recipient message: $(cat "$W/err")"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["status"]=="data-error" and r["exit"]==65 and r["error"].startswith("no recipient"), r' \
    "$W/out" || fail "-t --json error: $(cat "$W/out")"
printf 'From: a@example.com\nTo: John Smith\n\nx\n' >"$W/badto.msg"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none -t <"$W/badto.msg"
expect_rc 65 "-t with a bad To:" "$W/err"
grep -qx 'smtpc: To: a name with no <address>' "$W/err" || fail "bad To: message: $(cat "$W/err")"
"$PY" -c 'import sys; sys.stdout.write("From: a@example.com\nTo: b@example.com\nX-Big: " + "x" * 70000 + "\n\nbody\n")' \
    >"$W/bighdr.msg"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none -t <"$W/bighdr.msg"
expect_rc 65 "-t with a 70 kB header" "$W/err"
grep -qx 'smtpc: the header section is larger than 64 KiB' "$W/err" || fail "big header: $(cat "$W/err")"
printf 'To: b@example.com\n\nx\n' >"$W/nofrom.msg"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none -t <"$W/nofrom.msg"
expect_rc 65 "-t without a sender" "$W/err"
grep -q '^smtpc: no sender: ' "$W/err" || fail "-t no sender: $(cat "$W/err")"
[ "$(aio_connections)" = "$c0" ] || fail "-t errors opened a connection"

# ------------------------------------------------------------ files that fail
step "bad message files fail on their own; the others share one connection"
B=$W/badq
mkdir "$B"
printf 'From: a@example.com\nTo: good1@example.com\nMessage-ID: <g1@batch.test>\n\nfine\n' >"$B/a-good.eml"
printf 'From: a@example.com\nTo: b@example.com\n\nbefore\0after\n' >"$B/b-nul.eml"
cp "$W/bighdr.msg" "$B/c-bighdr.eml"
printf 'From: a@example.com\nSubject: no recipient\n\nx\n' >"$B/d-norcpt.eml"
printf 'From: a@example.com\nTo: a@example.com; b@example.com\n\nx\n' >"$B/e-badlist.eml"
printf 'From: a@example.com\nTo: good2@example.com\nMessage-ID: <g2@batch.test>\n\nfine\n' >"$B/f-good.eml"
mkfifo "$B/g-fifo.eml"
c0=$(aio_connections) n0=$(aio_count)
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 --batch "$B" --json
expect_rc 65 "batch with bad files" "$W/err"
aio_wait_count $((n0 + 2))
[ "$(aio_connections)" = $((c0 + 1)) ] || fail "bad files cost a connection"
grep -qx "smtpc: $B/b-nul.eml: the message contains a NUL byte (not allowed in SMTP); not sent" "$W/err" \
    || fail "NUL file: $(cat "$W/err")"
grep -qx "smtpc: $B/c-bighdr.eml: the header section is larger than 64 KiB" "$W/err" || fail "big header file"
grep -q "^smtpc: $B/d-norcpt.eml: no recipient" "$W/err" || fail "no-recipient file"
grep -qx "smtpc: $B/e-badlist.eml: To: expected ',' between addresses" "$W/err" || fail "bad list file"
grep -q 'g-fifo' "$W/err" "$W/out" && fail "a FIFO was taken as a message"
"$PY" - "$W/out" <<'EOF' || fail "--json with bad files: $(cat "$W/out")"
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert [x.get("status") for x in o[:-1]] == ["ok", "data-error", "data-error", "data-error", "data-error", "ok"], o
assert [x.get("connection") for x in o[:-1]] == [1, None, None, None, None, 1], o
assert o[-1] == {"summary": True, "status": "data-error", "exit": 65, "messages": 6,
                 "sent": 2, "failed": 4, "not_sent": 0, "connections": 1}, o[-1]
EOF

step "only bad files: no connection at all"
c0=$(aio_connections)
mkdir "$W/allbad" "$W/empty"
cp "$B/b-nul.eml" "$B/d-norcpt.eml" "$W/allbad/"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --batch "$W/allbad"
expect_rc 65 "only bad files" "$W/err"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --batch "$W/empty" --json
expect_rc 0 "empty DIR" "$W/err"
grep -qx "smtpc: $W/empty: no message to send" "$W/err" || fail "empty DIR: $(cat "$W/err")"
grep -q '"summary":true,"status":"ok","exit":0,"messages":0' "$W/out" || fail "empty DIR json"
[ "$(aio_connections)" = "$c0" ] || fail "a connection without a message to send"

step "usage: --help, --batch with -t, a missing or non-directory DIR"
run_smtpc "$W/out" "$W/err" --help
expect_rc 0 "--help" "$W/err"
for o in '--batch DIR' '-t, --read-recipients' '66 cannot open input'; do
    grep -qF -- "$o" "$W/out" || fail "--help does not mention $o"
done
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --batch "$Q" -t
expect_rc 64 "--batch -t" "$W/err"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --batch "$W/no-such-dir" --json
expect_rc 66 "missing DIR" "$W/err"
grep -q "^smtpc: cannot read --batch directory \"$W/no-such-dir\": No such file or directory" "$W/err" \
    || fail "missing DIR: $(cat "$W/err")"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["status"]=="no-input" and r["exit"]==66, r' \
    "$W/out" || fail "missing DIR json: $(cat "$W/out")"
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --batch "$Q/01.eml"
expect_rc 66 "DIR is a file" "$W/err"
[ "$(aio_connections)" = "$c0" ] || fail "a usage error opened a connection"
stop_aiosmtpd

# ------------------------------------------------------------ lost connections
# small DIR with To: addresses; $1.. = recipient of each message
small_queue() {
    local d=$1 i=0 r
    shift
    mkdir -p "$d"
    for r in "$@"; do
        i=$((i + 1))
        printf 'From: s@example.com\nTo: %s\nMessage-ID: <lost%d@batch.test>\nSubject: m%d\n\nbody %d\n' \
            "$r" $i $i $i >"$d/m$i.eml"
    done
}
mid_count() { grep -l "Message-ID: <lost$1@batch.test>" "$AIO_DIR"/*.eml 2>/dev/null | wc -l; }

step "a 421 in the middle: a new connection, the message sent again, the rest sent"
small_queue "$W/l1" ok@example.com ok@example.com ok@example.com once@example.com \
    ok@example.com ok@example.com
start_cli_aiosmtpd "$W/aio2" --reject-once 'once@example.com=421 4.7.0 too many messages'
S=$(harness_hostport "$AIO_PORT")
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 --batch "$W/l1" --json
expect_rc 0 "421 once" "$W/err"
aio_wait_count 6
[ "$(aio_connections)" = 2 ] || fail "expected 2 sessions, saw $(aio_connections)"
for i in 1 2 3 4 5 6; do
    [ "$(mid_count $i)" = 1 ] || fail "message $i stored $(mid_count $i) times"
done
grep -qx "smtpc: $W/l1/m4.eml: server closing the connection during rcpt: 421 4.7.0 too many messages (sending it again on a new connection)" \
    "$W/err" || fail "no retry line: $(cat "$W/err")"
grep -q 'recipient <once@example.com> refused' "$W/err" && fail "a warning for the 421 that was retried"
grep -Eqx "smtpc: $W/l1/m4.eml: sent \(250 2\.0\.0 OK queued as [0-9]+\)" "$W/err" || fail "m4 not reported sent"
"$PY" - "$W/out" <<'EOF' || fail "--json 421 once: $(cat "$W/out")"
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert [x.get("connection") for x in o[:-1]] == [1, 1, 1, 2, 2, 2], o
assert [x.get("attempts") for x in o[:-1]] == [1, 1, 1, 2, 1, 1], o
assert all(x["status"] == "ok" for x in o[:-1]), o
assert o[-1]["connections"] == 2 and o[-1]["sent"] == 6 and o[-1]["exit"] == 0, o[-1]
EOF
stop_aiosmtpd

step "a 421 that comes back on the new connection: stop, the rest not sent (75)"
small_queue "$W/l2" ok@example.com always@example.com ok@example.com ok@example.com
start_cli_aiosmtpd "$W/aio3" --reject 'always@example.com=421 4.3.2 shutting down'
S=$(harness_hostport "$AIO_PORT")
run_smtpc "$W/out" "$W/err" --server "$S" --tls none --timeout 20 --batch "$W/l2" --json
expect_rc 75 "421 always" "$W/err"
aio_wait_count 1
sleep 0.3
[ "$(aio_count)" = 1 ] || fail "stored $(aio_count) messages"
[ "$(aio_connections)" = 2 ] || fail "expected 2 sessions, saw $(aio_connections)"
grep -qx "smtpc: $W/l2/m2.eml: server closing the connection during rcpt: 421 4.3.2 shutting down (failed again)" \
    "$W/err" || fail "no second failure: $(cat "$W/err")"
grep -qx "smtpc: $W/l2/m3.eml: not sent: the batch stopped after a connection failed" "$W/err" \
    || fail "m3 not reported not sent"
grep -qx "smtpc: $W/l2: 1 sent, 1 failed, 2 not sent; 2 connections" "$W/err" || fail "summary: $(cat "$W/err")"
"$PY" - "$W/out" <<'EOF' || fail "--json 421 always: $(cat "$W/out")"
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert [x["exit"] for x in o[:-1]] == [0, 75, 75, 75], o
assert o[1]["attempts"] == 2 and o[1]["code"] == 421, o[1]
assert o[-1] == {"summary": True, "status": "temporary-failure", "exit": 75, "messages": 4,
                 "sent": 1, "failed": 1, "not_sent": 2, "connections": 2}, o[-1]
EOF
stop_aiosmtpd

step "connection lost after the end of a message: never sent twice, the rest goes on"
small_queue "$W/l3" a@example.com b@example.com c@example.com
start_script_server '.#2=CLOSE'
run_smtpc "$W/out" "$W/err" --server "$(harness_hostport "$SCRIPT_PORT")" --tls none \
    --timeout 10 --batch "$W/l3" --json
expect_rc 75 "lost after the dot" "$W/err"
[ "$(grep -c -- '--- connection' "$SCRIPT_LOG")" = 2 ] || fail "expected 2 connections"
[ "$(grep -c 'Subject: m2' "$SCRIPT_LOG")" = 1 ] || fail "message 2 was sent $(grep -c 'Subject: m2' "$SCRIPT_LOG") times"
[ "$(grep -c 'Subject: m3' "$SCRIPT_LOG")" = 1 ] || fail "message 3 not sent once"
grep -q "m2.eml: connection closed by the server during message (it may have been delivered: not sent again)" \
    "$W/err" || fail "m2 line: $(cat "$W/err")"
grep -q "m3.eml: sent (250 2.0.0 queued)" "$W/err" || fail "m3 line: $(cat "$W/err")"
"$PY" -c 'import json,sys; o=[json.loads(l) for l in open(sys.argv[1])]; assert [x.get("connection") for x in o[:-1]]==[1,1,2] and [x["exit"] for x in o[:-1]]==[0,75,0] and o[-1]["connections"]==2, o' \
    "$W/out" || fail "--json lost after the dot: $(cat "$W/out")"
stop_script_server

step "PIPELINING: each envelope follows the message before, each outcome its own"
start_script_server 'EHLO=250-script.test\n250 PIPELINING' '.#2=554 5.7.1 second refused'
run_smtpc "$W/out" "$W/err" --server "$(harness_hostport "$SCRIPT_PORT")" --tls none \
    --timeout 10 --batch "$W/l3" --json
expect_rc 69 "pipelined, second refused" "$W/err"
[ "$(grep -c -- '--- connection' "$SCRIPT_LOG")" = 1 ] || fail "expected 1 connection"
grep -q "m1.eml: sent (250 2.0.0 queued)" "$W/err" || fail "m1 line: $(cat "$W/err")"
grep -q "m2.eml: .*554 5.7.1 second refused" "$W/err" || fail "m2 line: $(cat "$W/err")"
grep -q "m3.eml: sent (250 2.0.0 queued)" "$W/err" || fail "m3 line: $(cat "$W/err")"
"$PY" -c 'import json,sys; o=[json.loads(l) for l in open(sys.argv[1])]; assert [x["exit"] for x in o[:-1]]==[0,69,0] and o[-1]["connections"]==1, o' \
    "$W/out" || fail "--json pipelined: $(cat "$W/out")"
stop_script_server

step "PIPELINING: lost after the end of a message, the next envelope already out"
start_script_server 'EHLO=250-script.test\n250 PIPELINING' '.#2=CLOSE'
run_smtpc "$W/out" "$W/err" --server "$(harness_hostport "$SCRIPT_PORT")" --tls none \
    --timeout 10 --batch "$W/l3" --json
expect_rc 75 "pipelined, lost after the dot" "$W/err"
[ "$(grep -c -- '--- connection' "$SCRIPT_LOG")" = 2 ] || fail "expected 2 connections"
[ "$(grep -c 'Subject: m2' "$SCRIPT_LOG")" = 1 ] || fail "message 2 was sent $(grep -c 'Subject: m2' "$SCRIPT_LOG") times"
[ "$(grep -c 'Subject: m3' "$SCRIPT_LOG")" = 1 ] || fail "message 3 not sent once"
grep -q "m2.eml: connection closed by the server during message (it may have been delivered: not sent again)" \
    "$W/err" || fail "m2 line: $(cat "$W/err")"
grep -q "m3.eml: sent (250 2.0.0 queued)" "$W/err" || fail "m3 line: $(cat "$W/err")"
"$PY" -c 'import json,sys; o=[json.loads(l) for l in open(sys.argv[1])]; assert [x["exit"] for x in o[:-1]]==[0,75,0] and o[-1]["connections"]==2, o' \
    "$W/out" || fail "--json pipelined lost: $(cat "$W/out")"
stop_script_server

step "no server: the first message says why, the others are not sent"
_harness_pick_port
run_smtpc "$W/out" "$W/err" --server "127.0.0.1:$_HARNESS_PORT" --tls none --batch "$W/l3"
expect_rc 75 "connection refused" "$W/err"
grep -qx "smtpc: $W/l3/m1.eml: cannot connect to \"127.0.0.1\" port $_HARNESS_PORT: Connection refused" \
    "$W/err" || fail "refused: $(cat "$W/err")"
grep -qx "smtpc: $W/l3/m3.eml: not sent: the batch stopped, no connection" "$W/err" || fail "m3 refused"

# ------------------------------------------------------------ Postfix
step "Postfix (PIPELINING, CHUNKING): the 20 messages over one connection, byte for byte"
rc=0
start_mta "$W/mta" || rc=$?
if [ "$rc" = 77 ]; then
    echo "Postfix cannot run here: skipping its part"
    echo "ok"
    exit 0
fi
[ "$rc" = 0 ] || fail "start_mta"
run_smtpc "$W/out" "$W/err" --server "$(harness_hostport "$MTA_PORT")" --tls none \
    --timeout 30 --batch "$Q" --json -v
expect_rc 0 "Postfix batch" "$W/err"
grep -q '^< 250.CHUNKING' "$W/err" || fail "Postfix did not offer CHUNKING"
grep -q '^> BDAT [0-9]* LAST' "$W/err" || fail "BDAT not used"
total=$("$PY" -c 'import glob,json,sys; print(sum(len(json.load(open(p))["rcpts"]) for p in glob.glob(sys.argv[1]+"/*.json")))' "$W/expect")
mta_wait_delivery "$total" 60
[ "$(grep -c 'smtpd\[[0-9]*\]: connect from' "$MTA_LOG")" = 1 ] \
    || fail "Postfix saw $(grep -c 'smtpd\[[0-9]*\]: connect from' "$MTA_LOG") connections"
"$PY" - "$W/expect" "$HARNESS_LIB_DIR/mailtool.py" $(mta_messages) <<'EOF' || fail "Postfix delivery: see above"
import glob, json, os, re, subprocess, sys
ex, tool, files = sys.argv[1], sys.argv[2], sys.argv[3:]
got = {}
for f in files:
    raw = open(f, "rb").read()
    head = raw.split(b"\n\n", 1)[0].split(b"\n")
    dto = [l[14:].decode() for l in head if l.startswith(b"Delivered-To: ")][0]
    rp = [l[13:].decode() for l in head if l.startswith(b"Return-Path: ")][0]
    mid = [l[12:].decode() for l in raw.split(b"\n") if l.startswith(b"Message-ID: ")][0]
    body = subprocess.run([sys.executable, tool, "strip-mta", "--crlf", f],
                          check=True, capture_output=True).stdout
    got.setdefault(mid, []).append((dto.lower(), rp, body))
n = 0
for p in sorted(glob.glob(os.path.join(ex, "*.json"))):
    e = json.load(open(p))
    want = open(os.path.join(ex, e["file"]), "rb").read()
    # Postfix's cleanup rewrites the obsolete "Name :" as "Name:" (aiosmtpd
    # above proved that smtpc sent it unchanged).
    head, sep, rest = want.partition(b"\r\n\r\n")
    want = re.sub(rb"(?m)^([!-9;-~]+)[ \t]+:", rb"\1:", head) + sep + rest
    copies = got.get(e["mid"], [])
    assert sorted(c[0] for c in copies) == sorted(r.lower() for r in e["rcpts"]), \
        (e["file"], [c[0] for c in copies], e["rcpts"])
    for dto, rp, body in copies:
        assert rp == "<%s>" % e["from"], (e["file"], rp)
        assert body == want, (e["file"], dto, body[:400], want[:400])
        n += 1
assert n == len(files), (n, len(files))
EOF
echo "ok"
