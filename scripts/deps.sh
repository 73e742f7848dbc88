#!/usr/bin/env bash
# scripts/deps.sh: install the Debian packages smtpc's build, demo, tests and
# packaging need.  The packages come from scripts/packages, by group.
#
#   scripts/deps.sh [GROUP...]          install what the groups need (default:
#                                       every group, i.e. what make check needs)
#   scripts/deps.sh --build             the same as `scripts/deps.sh build`
#   scripts/deps.sh --check [GROUP...]  list what is missing, install nothing
#                                       (exit 1 if something is)
#   scripts/deps.sh --print [GROUP...]  the groups' packages, one a line
#
# Groups: build (make), demo (make demo's server), check (make check's
# servers and tools), deb (make deb).
#
# Idempotent: asks dpkg-query what is installed and runs apt-get only for
# what is missing, so a second run does nothing.  `apt-get update` runs only
# when the package lists do not know a missing package or an install fails
# (stale lists); apt waits for another apt or dpkg to finish
# (DPkg::Lock::Timeout) instead of failing.
# Installing postfix must not leave a system MTA running: its debconf
# questions are answered ("Local only": loopback), service starts are
# blocked while apt runs (policy-rc.d), and a master that was not running
# before is stopped afterwards.  The tests run their own private instance.
set -euo pipefail

LIST=$(cd "$(dirname "$0")" && pwd)/packages
LOCK_WAIT=${SMTPC_APT_LOCK_TIMEOUT:-600}    # seconds

mode=install
groups=()
for a in "$@"; do
    case "$a" in
        --build) groups+=(build) ;;
        --check) mode=check ;;
        --print) mode=print ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        -*) echo "usage: $0 [--check|--print] [GROUP...]" >&2; exit 2 ;;
        *) groups+=("$a") ;;
    esac
done

# packages_of GROUP...: the packages of these groups (all groups: none
# named), once each, in the order of the list.
packages_of() {
    awk -v want="$*" '
        BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) sel[w[i]] = 1 }
        /^[ \t]*(#|$)/ { next }
        {
            g = $1; sub(/:$/, "", g); known[g] = 1
            if (n && !(g in sel)) next
            for (i = 2; i <= NF; i++) if (!seen[$i]++) print $i
        }
        END {
            for (g in sel) if (!(g in known)) { print "deps: no group " g > "/dev/stderr"; exit 2 }
        }' "$LIST"
}

list=$(packages_of "${groups[@]+"${groups[@]}"}")    # exits here on an unknown group
read -r -d '' -a pkgs <<<"$list" || true

if [ "$mode" = print ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
for p in "${pkgs[@]}"; do
    is_installed "$p" || missing+=("$p")
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
APT=($SUDO apt-get -o "DPkg::Lock::Timeout=$LOCK_WAIT")

postfix_running() {
    # master -t exits 0 when the default instance is NOT running.
    [ -x /usr/lib/postfix/sbin/master ] && ! /usr/lib/postfix/sbin/master -t 2>/dev/null
}

postfix_was_running=no
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
    postfix_running && postfix_was_running=yes
    host=$(hostname -f 2>/dev/null || hostname 2>/dev/null || echo localhost)
    answers="postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string $host
postfix postfix/destinations string localhost
postfix postfix/protocols select ipv4"
    # debconf's database is locked while another apt configures packages.
    for i in $(seq 1 60); do
        if printf '%s\n' "$answers" | $SUDO debconf-set-selections; then
            break
        fi
        [ "$i" != 60 ] || { echo "deps: debconf stayed locked" >&2; exit 1; }
        echo "deps: debconf is busy (another apt?); retrying in 10 s" >&2
        sleep 10
    done
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

# Do the package lists know every missing package (a candidate version)?
lists_know_all() {
    local p cand
    for p in "${missing[@]}"; do
        cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
        [ -n "$cand" ] && [ "$cand" != "(none)" ] || return 1
    done
}

# apt-get update waits for the lists lock by retrying: DPkg::Lock::Timeout
# covers dpkg's lock only.
apt_update() {
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        if "${APT[@]}" update -qq; then
            return 0
        fi
        echo "deps: apt-get update failed (attempt $i); retrying in 30 s" >&2
        sleep 30
    done
    return 1
}

apt_install() {
    "${APT[@]}" install -y -q -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold "${missing[@]}"
}

updated=no
if ! lists_know_all; then
    echo "deps: the package lists lack some of them: apt-get update"
    apt_update
    updated=yes
fi
if ! apt_install; then
    # Stale lists name versions the archive no longer has.
    [ "$updated" = no ] || exit 1
    echo "deps: apt-get install failed; apt-get update, then once more"
    apt_update
    apt_install
fi

if [ "$postfix_was_running" = no ] && postfix_running; then
    echo "deps: stopping the system postfix that the install started"
    $SUDO postfix stop || true
fi

still=()
for p in "${missing[@]}"; do
    is_installed "$p" || still+=("$p")
done
if [ "${#still[@]}" != 0 ]; then
    echo "deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "deps: installed ${missing[*]}"
