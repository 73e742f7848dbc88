#!/usr/bin/env bash
# scripts/deb.sh [OUTDIR]: build smtpc's Debian packages from debian/ with
# Debian's own tools, then check them with lintian.
#
#   make deb              (installs the build and deb groups of
#                          scripts/packages first)
#   scripts/deb.sh DIR    the packages in DIR (default: build-deb/)
#
# The source tree (what git tracks, plus new files it does not ignore; the
# whole tree outside git) is copied to OUTDIR/src and built there with
# `dpkg-buildpackage -b`, so the tree itself gets no debian/tmp, obj-*
# or ../*.deb.  The .deb files, the .changes and .buildinfo land in OUTDIR.
# DEB_BUILD_OPTIONS is passed on (default: parallel=<cores>; add nocheck to
# skip the unit tests).  Exit status: dpkg-buildpackage's, else lintian's
# (1 when it reports an error or a warning).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build-deb}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

for tool in dpkg-buildpackage dh lintian fakeroot; do
    command -v "$tool" >/dev/null ||
        { echo "deb: $tool missing: scripts/deps.sh build deb installs it" >&2; exit 1; }
done

rm -rf "$OUT/src" "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo
mkdir "$OUT/src"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z -c -o --exclude-standard) |
        (cd "$ROOT" && while IFS= read -r -d '' f; do
            [ -e "$f" ] && printf '%s\0' "$f"
        done) |
        tar -C "$ROOT" --null -T - -cf - | tar -C "$OUT/src" -xf -
else
    tar -C "$ROOT" --exclude='./build' --exclude='./build-*' -cf - . | tar -C "$OUT/src" -xf -
fi

export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc 2>/dev/null || echo 2)}
echo "deb: dpkg-buildpackage -b in $OUT/src (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
(cd "$OUT/src" && dpkg-buildpackage -b -us -uc)

changes=$(ls "$OUT"/smtpc_*.changes)
echo "deb: built"
ls -l "$OUT"/*.deb
echo "deb: lintian $changes"
lintian --fail-on error,warning "$changes"
echo "deb: lintian reports no error or warning"
