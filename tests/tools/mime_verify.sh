# Sourced by integration scripts: a received MIME message read back by two
# independent parsers, Python's email package (mime_check.py) and GMime
# (mime_check_gmime.c), which must agree with each other and with what was
# sent.  Needs fail() and $PY (tests/servers/lib.sh).

# mime_verify_init DIR: builds the GMime checker into DIR; returns 77 when
# GMime is missing.
mime_verify_init() {
    pkg-config --exists gmime-3.0 || { echo "libgmime-3.0-dev missing (scripts/deps.sh)"; return 77; }
    MIME_GM=$1/mime_check_gmime
    cc -O1 -Wall "$SMTPC_ROOT/tests/tools/mime_check_gmime.c" \
        $(pkg-config --cflags --libs gmime-3.0) -o "$MIME_GM" || fail "mime_check_gmime does not build"
}

# mime_verify EML OUTDIR UTF8 SUBJECT FROM TREE FIRST FILE...: EML (CRLF)
# parsed by both; UTF8 (0/1): sent with SMTPUTF8.  Both must give SUBJECT,
# "FROM" as the From line, TREE, and the leaf parts from number FIRST on
# equal, byte for byte, to the FILEs, each named by its base name.  No
# line may pass 998 characters, nor a header line MIME_VERIFY_HEADER_MAX
# (default 998; 78 where every header line is the writer's, not a relay's).
# What each parser saw stays in OUTDIR.python and OUTDIR.gmime, the parts
# in OUTDIR.python.d/N and OUTDIR.gmime.d/N, for the caller's own checks.
mime_verify() {
    local eml=$1 dir=$2 utf8=$3 subject=$4 from=$5 tree=$6 i=$7 tool out f
    shift 7
    [ -s "$eml" ] || fail "no message $eml"
    "$PY" - "$eml" "${MIME_VERIFY_HEADER_MAX:-998}" <<'PYEOF' || fail "a line is too long or not CRLF"
import sys
data = open(sys.argv[1], "rb").read()
width = int(sys.argv[2])
head = data.split(b"\r\n\r\n", 1)[0]
for line in head.split(b"\r\n"):
    if len(line) > width or b"\n" in line or b"\r" in line:
        print("bad header line:", line, file=sys.stderr); sys.exit(1)
for line in data.split(b"\r\n"):
    if len(line) > 998:
        print("line over 998", file=sys.stderr); sys.exit(1)
PYEOF
    for tool in python gmime; do
        out=$dir.$tool
        rm -rf "$out.d"
        mkdir -p "$out.d"
        if [ $tool = python ]; then
            if [ "$utf8" = 1 ]; then
                "$PY" "$SMTPC_ROOT/tests/tools/mime_check.py" --utf8 "$eml" "$out.d" >"$out"
            else
                "$PY" "$SMTPC_ROOT/tests/tools/mime_check.py" "$eml" "$out.d" >"$out"
            fi || fail "$tool: defects in $eml"
        else
            "$MIME_GM" "$eml" "$out.d" >"$out" || fail "$tool could not read $eml"
        fi
        sed 's/^/  '"$tool"': /' "$out"
        grep -qxF "subject: $subject" "$out" || fail "$tool: subject differs"
        grep -qxF "from: $from" "$out" || fail "$tool: From differs"
        grep -qxF "tree: $tree" "$out" || fail "$tool: tree differs"
        local j=$i
        for f in "$@"; do
            grep -qF "part $j: " "$out" && grep "^part $j: " "$out" | grep -qF " $(basename "$f")" ||
                fail "$tool: part $j is not $(basename "$f")"
            cmp "$f" "$out.d/$j" || fail "$tool: part $j differs from $f"
            j=$((j + 1))
        done
    done
    cmp "$dir.python" "$dir.gmime" || fail "Python and GMime read $eml differently"
}
