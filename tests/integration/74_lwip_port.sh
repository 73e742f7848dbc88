#!/usr/bin/env bash
# The lwIP port (ports/lwip/), against Debian's liblwip-dev (lwIP 2.1):
#   1. compiles warning-free (-Werror, the project's warnings)
#      a. with Debian's own lwipopts.h (NO_SYS=0: an OS, core locking),
#      b. with ports/lwip/example/lwipopts.h (NO_SYS=1: bare metal, raw API),
#      c. as b, with arm-none-eabi-gcc for a Cortex-M4 (when installed),
#         allocating nothing itself (no malloc/free referenced);
#   2. runs (when liblwip.so is there): ports/lwip/test/lwip_loop_test.c
#      sends mail with the blocking client over the port, through lwIP's
#      TCP/IP stack, to an SMTP server on lwIP's raw API in the same
#      process (a netif looping back to itself), under ASan and UBSan.
set -uo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

LWIP_INC=/usr/include/lwip
[ -f "$LWIP_INC/lwip/tcp.h" ] || { echo "SKIP: liblwip-dev not installed ($LWIP_INC)"; exit 77; }
W=$(harness_tmpdir lwip)
cd "$SMTPC_ROOT" || exit 1

WARN=(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror)
PORT=ports/lwip/smtpc_lwip.c

step "host gcc, Debian's lwipopts.h (NO_SYS=0, LWIP_TCPIP_CORE_LOCKING)"
# Debian's unix arch header needs POSIX for ssize_t/SSIZE_MAX.
gcc -std=c99 -D_POSIX_C_SOURCE=200809L "${WARN[@]}" -Iinclude -Iports/lwip \
    -I"$LWIP_INC" -c "$PORT" -o "$W/os.o" || fail "port does not compile (NO_SYS=0)"
grep -q '^#define NO_SYS *0' "$LWIP_INC/lwipopts.h" || echo "   (note: Debian's lwipopts.h is not NO_SYS=0 here)"

step "host gcc, ports/lwip/example/lwipopts.h (NO_SYS=1)"
gcc -std=c99 "${WARN[@]}" -Iinclude -Iports/lwip -Iports/lwip/example \
    -I"$LWIP_INC" -c "$PORT" -o "$W/nosys.o" || fail "port does not compile (NO_SYS=1)"

if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    step "arm-none-eabi-gcc -Os -mthumb -mcpu=cortex-m4 (NO_SYS=1)"
    arm-none-eabi-gcc -std=c99 -Os -mthumb -mcpu=cortex-m4 -ffunction-sections \
        -fdata-sections "${WARN[@]}" -Iinclude -Iports/lwip -Iports/lwip/example \
        -I"$LWIP_INC" -c "$PORT" -o "$W/arm.o" || fail "port does not cross-compile"
    arm-none-eabi-size "$W/arm.o" | sed 's/^/   /'
    bad=$(arm-none-eabi-nm -u "$W/arm.o" | awk '{print $NF}' \
        | grep -E '^(malloc|calloc|realloc|free|printf|fprintf|puts)$' | tr '\n' ' ')
    [ -z "$bad" ] || fail "the port references $bad"
else
    echo "   (arm-none-eabi-gcc not installed: cross build not checked)"
fi

# ---- run it through lwIP itself
lib=$(ls /usr/lib/*/liblwip.so /usr/lib/liblwip.so 2>/dev/null | head -n 1)
if [ -z "$lib" ]; then
    echo "74_lwip_port OK (compile only: liblwip.so not installed)"
    exit 0
fi
step "lwip_loop_test: smtpc over smtpc_lwip over lwIP ($lib)"
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=all)
echo 'int main(void){return 0;}' >"$W/san.c"
gcc "${SAN[@]}" "$W/san.c" -o "$W/san" 2>/dev/null || SAN=()
gcc -std=c99 -D_POSIX_C_SOURCE=200809L -O1 -g "${SAN[@]}" -Wall -Wextra \
    -Iinclude -Isrc -Iports/lwip -Itests/unit -I"$LWIP_INC" \
    ports/lwip/test/lwip_loop_test.c "$PORT" src/engine/*.c src/client/*.c \
    -llwip -lpthread -o "$W/lwip_loop_test" || fail "lwip_loop_test does not build"
# lwIP's tcpip thread and its heap live until exit: no leak report.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 120 "$W/lwip_loop_test"
rc=$?
[ "$rc" = 0 ] || fail "lwip_loop_test exit $rc"
echo "74_lwip_port OK"
