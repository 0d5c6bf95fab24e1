#!/usr/bin/env bash
# libFuzzer campaigns for snapgate (tests/fuzz/README.md).
#   run.sh --list             the harness names, one per line
#   run.sh HARNESS SECONDS    configure/build build-fuzz when needed, run HARNESS
#                             over a scratch copy of corpus/HARNESS for SECONDS;
#                             exit non-zero on any crash, leak, timeout or
#                             sanitizer report (the input lands in crashes/HARNESS/)
#   run.sh --ci SECONDS       every harness that way (as many at once as there
#                             are cores), printing each one's final figures, or
#                             its whole log when it failed; what tests/run.sh runs
# SG_FUZZ_BUILD overrides the build dir (default <repo>/build-fuzz). Extra
# libFuzzer flags may follow SECONDS (e.g. -jobs=2 -workers=2).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${SG_FUZZ_BUILD:-$root/build-fuzz}

harnesses() {
    local f
    for f in "$here"/fuzz_*.c; do
        f=${f##*/}
        echo "${f%.c}"
    done
}

usage() {
    echo "usage: $0 --list | --ci SECONDS | HARNESS SECONDS [libFuzzer flags...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
if [ "$1" = "--list" ]; then
    harnesses
    exit 0
fi
[ $# -ge 2 ] || usage
h=$1
secs=$2
shift 2
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || { echo "run.sh: SECONDS must be a positive integer" >&2; exit 2; }

build_fuzz() {
    # The fuzz build: clang, ASan+UBSan, coverage in the core, -Werror as in CI.
    if [ ! -f "$build/CMakeCache.txt" ]; then
        CC=clang cmake -S "$root" -B "$build" -DSNAPGATE_FUZZ=ON -DSNAPGATE_SANITIZE=ON \
            -DCMAKE_BUILD_TYPE=Debug >/dev/null
    else
        cmake "$build" >/dev/null # picks up a harness added since the last configure
    fi
    cmake --build "$build" -j"$(nproc)" --target "$@" >/dev/null
}

# A harness names its dictionary in its source: a line "SG_FUZZ_DICT: x.dict".
dict_of() {
    sed -n '/SG_FUZZ_DICT:/{s/.*SG_FUZZ_DICT: *\([A-Za-z0-9_.-]*\).*/\1/p;q;}' "$here/$1.c"
}

if [ "$h" = "--ci" ]; then
    mapfile -t all < <(harnesses)
    build_fuzz "${all[@]}"
    failed=0
    printf '%s\n' "${all[@]}" |
        SG_FUZZ_BUILT=1 SG_FUZZ_BRIEF=1 xargs -P "$(nproc)" -I{} "$0" {} "$secs" || failed=1
    if [ "$failed" -ne 0 ]; then
        echo "run.sh --ci: a harness failed (see above; inputs in $here/crashes/)" >&2
        exit 1
    fi
    echo "run.sh --ci: ${#all[@]} harnesses, ${secs} s each, no crash"
    exit 0
fi
# Not "harnesses | grep -q": grep may exit at its match while harnesses still
# writes, and with pipefail the SIGPIPE made a real harness "no harness" (seen
# once in a --ci run on a loaded machine).
known=$(harnesses)
grep -qx -- "$h" <<<"$known" || { echo "run.sh: no harness $h (see --list)" >&2; exit 2; }

[ -n "${SG_FUZZ_BUILT:-}" ] || build_fuzz "$h"
dict=$(dict_of "$h")
flags=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
[ -n "$dict" ] && flags+=(-dict="$here/dict/$dict")

crashes=$here/crashes/$h
mkdir -p "$crashes"
work=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$work" "$log"' EXIT
if [ -d "$here/corpus/$h" ]; then
    cp -- "$here/corpus/$h"/* "$work"/ 2>/dev/null || true
fi

rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$build/tests/fuzz/$h" "${flags[@]}" -artifact_prefix="$crashes/" "$@" "$work" \
    >"$log" 2>&1 || rc=$?
# Brief (--ci): a passing run shows only its final figures.
if [ -n "${SG_FUZZ_BRIEF:-}" ]; then
    brief=1
else
    brief=0
fi
# A report libFuzzer did not turn into a failing status still fails the run.
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    [ "$rc" -ne 0 ] || rc=1
fi
if [ "$rc" -ne 0 ] || [ "$brief" -eq 0 ]; then
    cat "$log"
else
    echo "$h: $(grep -E '^stat::(number_of_executed_units|new_units_added)|^INFO: seed corpus|DONE' "$log" | tr '\n' ' ')"
fi
if [ "$rc" -ne 0 ]; then
    echo "run.sh: $h failed (exit $rc); inputs in $crashes/" >&2
fi
exit "$rc"
