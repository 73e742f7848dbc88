#!/usr/bin/env bash
# 08_demo_deps: `make demo` needs no package beyond the groups it installs.
#
# `make demo` installs the "build" and "demo" groups of scripts/packages
# (scripts/deps.sh build demo) on a fresh Debian machine.  This runs
# scripts/demo.sh under strace, finds the Debian package of every file it
# executed or opened, and checks that each one is in what a minimal Debian
# root (Essential and Priority: required packages, plus git and make) and
# those groups bring with their dependencies.  A demo that starts to use a
# package no group names (as when its server was not in any list) fails
# here, on a machine that has the package installed.
set -euo pipefail
. "$SMTPC_ROOT/tests/servers/lib.sh"

for tool in strace dpkg-query apt-cache; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (scripts/deps.sh check)"; exit 77; }
done
W=$(harness_tmpdir demo-deps)

# The groups make demo installs, read from the Makefile's own rule.
groups=$(make -s -n -C "$SMTPC_ROOT" deps-demo | sed -n 's/^scripts\/deps\.sh //p')
[ -n "$groups" ] || { echo "FAIL: no deps-demo rule in the Makefile"; exit 1; }
echo "make demo installs the groups: $groups"
# shellcheck disable=SC2086
"$SMTPC_ROOT/scripts/deps.sh" --print $groups >"$W/groups.txt"

# What a fresh machine has before make demo (fresh-debian's minimal root).
dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' |
    awk '$2 == "yes" || $3 == "required" { print $1 }' >"$W/base.txt"
printf '%s\n' git make >>"$W/base.txt"

# Everything these bring in through Depends and Pre-Depends (installed
# packages only: the demo can only have used those).
# shellcheck disable=SC2046
apt-cache depends --recurse --installed --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances \
    $(sort -u "$W/base.txt" "$W/groups.txt") 2>/dev/null |
    awk '/^[^ <]/ { sub(/:.*/, ""); print }' | sort -u >"$W/allowed.txt"
echo "allowed: $(wc -l <"$W/allowed.txt") packages"

# The demo, traced: every successful execve and open.  (LeakSanitizer
# cannot run under ptrace: leaks are the other tests' business.)
if ! strace -f -qq -o /dev/null true 2>"$W/strace.err"; then
    cat "$W/strace.err"
    echo "SKIP: strace cannot trace here"
    exit 77
fi
rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 SMTPC=${SMTPC:-$SMTPC_BUILD/smtpc} \
    strace -f -qq -o "$W/trace" -e trace=execve,open,openat \
    bash "$SMTPC_ROOT/scripts/demo.sh" >"$W/demo.out" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
    cat "$W/demo.out"
    echo "FAIL: the demo exited $rc"
    exit 1
fi
grep -q 'identical to the message sent, byte for byte' "$W/demo.out" ||
    { cat "$W/demo.out"; echo "FAIL: the demo did not show the message arriving"; exit 1; }

# Regular files used, as real paths; compiled Python (__pycache__, made by
# the package's postinst) counts as its source file.  Some files are opened
# only because they are there, and nothing is missing without them: the
# configuration under /etc that a library reads when present (openssl.cnf,
# locale.alias), and the .pth files that Python's site.py runs at start-up,
# whatever the script, with what they load (setuptools' _distutils_hack).
"$HARNESS_PY" - "$W/trace" "$SMTPC_ROOT" "$SMTPC_BUILD" >"$W/files.txt" <<'EOF'
import os, re, sys
trace, skip = sys.argv[1], sys.argv[2:] + ["/proc", "/sys", "/dev", "/tmp", "/run"]
call = re.compile(r'^\d+\s+(?:execve|open|openat)\((?:AT_FDCWD, )?"((?:[^"\\]|\\.)*)".*\)\s+=\s+\d+')
seen = set()
for line in open(trace, errors="replace"):
    m = call.match(line)
    if not m:
        continue
    p = os.path.realpath(m.group(1))
    if not os.path.isfile(p) or any(p == s or p.startswith(s + "/") for s in skip):
        continue
    if (p.startswith("/etc/") or re.search(r'/(site|dist)-packages/[^/]*\.pth$', p)
            or re.search(r'/(site|dist)-packages/_distutils_hack/', p)):
        continue
    m = re.match(r'(.*)/__pycache__/([^./]+)\.[^/]*\.pyc$', p)
    if m:
        p = m.group(1) + "/" + m.group(2) + ".py"
    seen.add(p)
print("\n".join(sorted(seen)))
EOF
echo "the demo used $(wc -l <"$W/files.txt") files"

# Their packages.  Debian 12 merges /usr, but dpkg may know a file by its
# /lib or /bin name: ask for both.
: >"$W/owners.txt"
: >"$W/unowned.txt"
while read -r f; do
    alt=
    case "$f" in
        /usr/bin/*|/usr/sbin/*|/usr/lib/*|/usr/lib64/*) alt=${f#/usr} ;;
    esac
    if ! dpkg-query -S "$f" 2>/dev/null >>"$W/owners.txt" &&
        ! { [ -n "$alt" ] && dpkg-query -S "$alt" 2>/dev/null >>"$W/owners.txt"; }; then
        echo "$f" >>"$W/unowned.txt"
    fi
done <"$W/files.txt"
# "pkg1:amd64, pkg2: /path" -> pkg1 pkg2
sed 's/: \/.*//' "$W/owners.txt" | tr ',' '\n' | sed 's/^ *//; s/:.*//' |
    grep -v '^diversion by' | sort -u >"$W/used.txt"
echo "from $(wc -l <"$W/used.txt") packages: $(tr '\n' ' ' <"$W/used.txt")"

status=0
# The trace must see the server's package, or it proves nothing.
grep -qx python3-aiosmtpd "$W/used.txt" ||
    { echo "FAIL: the trace does not show aiosmtpd (python3-aiosmtpd) being used"; status=1; }
extra=$(comm -23 "$W/used.txt" "$W/allowed.txt")
if [ -n "$extra" ]; then
    echo "FAIL: the demo uses packages that make demo does not install:"
    for p in $extra; do
        echo "  $p, for: $(grep -E "(^|, )$p(:[a-z0-9]+)?(,|:) " "$W/owners.txt" | sed 's/.*: //' | head -3 | tr '\n' ' ')"
    done
    echo "  (add them to a group in scripts/packages that make demo installs)"
    status=1
fi
# Files from no package outside the tree: a fresh machine would not have them.
outside=$(cat "$W/unowned.txt")
if [ -n "$outside" ]; then
    echo "FAIL: the demo uses files no Debian package installed:"
    printf '  %s\n' $outside
    status=1
fi
[ "$status" != 0 ] || echo "PASS: the demo needs only the groups '$groups' of scripts/packages"
exit "$status"
