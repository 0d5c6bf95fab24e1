#!/usr/bin/env bash
# Installs what is missing (Debian 12), runs the static checks, builds, runs
# every test with ctest, then again with ASan+UBSan, then replays every fuzz
# corpus with a short fuzzing run per harness (tests/fuzz/). The services the tests
# need (redis-server, the mock vCenter) are started and stopped by the tests
# themselves, each on free loopback ports. Exit status: 0 only when all passed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

. deploy/local/packages.sh
ensure_packages "${SNAPGATE_RUN_PACKAGES[@]}" "${SNAPGATE_TEST_PACKAGES[@]}" \
    "${SNAPGATE_FUZZ_PACKAGES[@]}"
ensure_node

jobs=$(nproc 2>/dev/null || echo 2)

echo "== static checks"
# The layers of gateway/ and the module ABI, from the #include lines (the rules
# in gateway/README.md); also the ctest test static.layers.
python3 tests/static/layers.py "$here"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find gateway modules include tests -name '*.[ch]')
clang-format --dry-run -Werror "${sources[@]}"
# Includes are folder-qualified from gateway/ ("cache/flight.h") or public
# ("snapgate/common.h"); both trees are walked recursively.
cppcheck --enable=warning --std=c11 --error-exitcode=1 --quiet --inline-suppr \
    -I include -I gateway -D_GNU_SOURCE gateway modules

echo "== release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== ASan+UBSan build and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSNAPGATE_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== fuzz: every harness over its corpus, then ${SNAPGATE_FUZZ_SECONDS:-20} s of fuzzing each (clang, ASan+UBSan)"
# A crash, leak, timeout or sanitizer report fails the run; the input lands in
# tests/fuzz/crashes/ (tests/fuzz/README.md).
SG_FUZZ_BUILD="$here/build-fuzz" tests/fuzz/run.sh --ci "${SNAPGATE_FUZZ_SECONDS:-20}"

echo "== all tests passed"
