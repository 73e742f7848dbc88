#!/usr/bin/env bash
# scripts/deps.sh: install the Debian packages smtpc's build and tests need.
#
#   scripts/deps.sh            everything (build, tests, test servers)
#   scripts/deps.sh --build    only what `make` needs to build
#   scripts/deps.sh --check    list what is missing, install nothing (exit 1
#                              if something is)
#
# Idempotent: asks dpkg-query what is installed and runs apt-get (update,
# then install) only for what is missing, so a second run does nothing.
# Installing postfix must not leave a system MTA running: its debconf
# questions are answered ("Local only": loopback), service starts are
# blocked while apt runs (policy-rc.d), and a master that was not running
# before is stopped afterwards.  The tests run their own private instance.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libssl-dev libmbedtls-dev)
TEST_PKGS=(postfix python3-aiosmtpd swaks libnet-ssleay-perl openssl valgrind time libgmime-3.0-dev
           clang libclang-rt-14-dev
           gcc-arm-none-eabi libnewlib-arm-none-eabi liblwip-dev)

mode=all
case "${1:-}" in
    "") ;;
    --build) mode=build ;;
    --check) mode=check ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--build|--check]" >&2; exit 2 ;;
esac

pkgs=("${BUILD_PKGS[@]}")
[ "$mode" = build ] || pkgs+=("${TEST_PKGS[@]}")

missing=()
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done

if [ "${#missing[@]}" = 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi
echo "deps: missing: ${missing[*]}"
[ "$mode" != check ] || exit 1

if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
    command -v sudo >/dev/null || { echo "deps: not root and no sudo" >&2; exit 1; }
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive

postfix_running() {
    # master -t exits 0 when the default instance is NOT running.
    [ -x /usr/lib/postfix/sbin/master ] && ! /usr/lib/postfix/sbin/master -t 2>/dev/null
}

postfix_was_running=no
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
    postfix_running && postfix_was_running=yes
    host=$(hostname -f 2>/dev/null || hostname 2>/dev/null || echo localhost)
    $SUDO debconf-set-selections <<EOF
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string $host
postfix postfix/destinations string localhost
postfix postfix/protocols select ipv4
EOF
fi

# Keep maintainer scripts from starting services (invoke-rc.d asks this).
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from smtpc scripts/deps.sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 0755 "$policy"
    made_policy=yes
fi
cleanup() {
    if [ "$made_policy" = yes ]; then $SUDO rm -f "$policy"; fi
}
trap cleanup EXIT

$SUDO apt-get update -qq
$SUDO apt-get install -y -q -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "${missing[@]}"

if [ "$postfix_was_running" = no ] && postfix_running; then
    echo "deps: stopping the system postfix that the install started"
    $SUDO postfix stop || true
fi

still=()
for p in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || still+=("$p")
done
if [ "${#still[@]}" != 0 ]; then
    echo "deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "deps: installed ${missing[*]}"
