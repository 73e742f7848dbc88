#!/usr/bin/env bash
# The core owns no heap and prints nothing: the host objects of src/engine,
# src/client and src/compat (as built in $SMTPC_BUILD) must not reference
# malloc, free, stdio or process control.  compat's TLS extension
# (src/compat/nxd_smtp_tls.c) may call the TLS layer (smtpc_tls_new, which
# allocates inside the backend) but nothing on this list itself.
# The engine and the MIME writer (src/mime) must not reach the system at
# all (no sockets, clock, files).
set -uo pipefail
. "${SMTPC_ROOT:-$(dirname "$0")/../..}/tests/servers/lib.sh"

command -v nm >/dev/null || fail "nm (binutils) missing"

# Objects of the static library, grouped by source directory.  CMake names
# them .../smtpc_objects.dir/src/<layer>/<file>.c.o.
objdir=$(find "$SMTPC_BUILD" -type d -path '*smtpc_objects.dir/src' 2>/dev/null | head -n 1)
[ -n "$objdir" ] || fail "no library objects under $SMTPC_BUILD (build first)"

# Anything that allocates, prints, or ends the process.  Sanitizer builds
# add __asan_*/__ubsan_* references, which are not calls the code makes.
heap='malloc|calloc|realloc|free|reallocarray|aligned_alloc|posix_memalign|strdup|strndup|asprintf|vasprintf'
stdio='printf|fprintf|sprintf|snprintf|vprintf|vfprintf|vsnprintf|vsprintf|dprintf|puts|fputs|putchar|fputc|putc|perror|fopen|fdopen|fclose|fwrite|fread|fflush|fgets|getline|stdout|stderr|stdin|syslog'
proc='exit|_exit|abort|atexit|system|getenv|setenv|signal|raise'
sys_only='socket|connect|send|recv|read|write|poll|select|close|open|time|clock_gettime|gettimeofday|getaddrinfo|sleep|usleep|nanosleep'

checked=0
bad=0
for layer in engine client compat mime; do
    [ -d "$objdir/$layer" ] || fail "no objects for src/$layer"
    for o in "$objdir/$layer"/*.o; do
        checked=$((checked + 1))
        # Undefined symbols, versions stripped (glibc: malloc@GLIBC_2.2.5).
        und=$(nm -u "$o" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
        pat="^($heap|$stdio|$proc)\$"
        case $layer in engine|mime) pat="^($heap|$stdio|$proc|$sys_only)\$" ;; esac
        hits=$(printf '%s\n' "$und" | grep -E "$pat" | tr '\n' ' ')
        if [ -n "$hits" ]; then
            echo "FAIL: src/$layer/$(basename "$o" .c.o).c references: $hits" >&2
            bad=1
        fi
    done
done
[ "$checked" -gt 10 ] || fail "only $checked objects found; wrong build directory?"
[ "$bad" = 0 ] || exit 1
echo "71_core_purity OK ($checked objects: engine, client, compat, mime)"
