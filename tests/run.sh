#!/usr/bin/env bash
# Installs what is missing (Debian 12), builds, runs every test with ctest, then
# again with ASan+UBSan, then the static checks. Starts and stops every service
# the tests need. Exit status: 0 only when everything passed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

packages=(build-essential cmake pkg-config python3 openssl curl
          libevhtp-dev libevent-dev libjson-c-dev libyaml-dev libssl-dev libcrypt-dev check
          cppcheck clang-format redis-server)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)

echo "== static checks"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find gateway modules include tests -name '*.[ch]')
clang-format --dry-run -Werror "${sources[@]}"
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

echo "== all tests passed"
