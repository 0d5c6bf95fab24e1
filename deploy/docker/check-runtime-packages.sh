#!/usr/bin/env bash
# check-runtime-packages.sh [BINARY [LIST]]: the set of Debian packages owning the
# shared objects `ldd BINARY` resolves must equal the packages in LIST (one a line,
# '#' comments), so the runtime image installs exactly what the binary needs.
# Defaults: build/snapgate and deploy/docker/runtime-packages. Prints both
# differences and exits 1 on any; exit 2 when ldd or dpkg cannot answer.
# The dynamic loader (ld-linux) and libc, libm belong to libc6, which the list
# names like any other package. linux-vdso is no file and is skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/snapgate}
list=${2:-$here/runtime-packages}

[ -x "$bin" ] || { echo "check-runtime-packages: $bin is not an executable" >&2; exit 2; }
[ -r "$list" ] || { echo "check-runtime-packages: cannot read $list" >&2; exit 2; }

# owner PATH: the package owning PATH. Debian 12 has merged /usr, so dpkg may
# have recorded /lib/... or /usr/lib/... (and the real file behind a symlink).
owner() {
    local p=$1 real cand out
    real=$(readlink -f "$p")
    for cand in "$p" "$real" "/usr$p" "/usr$real" "${p#/usr}" "${real#/usr}"; do
        [ -n "$cand" ] || continue
        if out=$(dpkg-query -S "$cand" 2>/dev/null); then
            # "libssl3:amd64: /usr/lib/..." -> libssl3 (first owner; diversions aside)
            printf '%s\n' "${out%%: *}" | head -n 1 | sed 's/:[a-z0-9_]*$//'
            return 0
        fi
    done
    echo "check-runtime-packages: no Debian package owns $p" >&2
    return 1
}

ldd_out=$(ldd "$bin") || { echo "check-runtime-packages: ldd $bin failed" >&2; exit 2; }
if grep -q "not found" <<<"$ldd_out"; then
    echo "check-runtime-packages: unresolved libraries:" >&2
    grep "not found" <<<"$ldd_out" >&2
    exit 2
fi
# "libfoo.so.1 => /lib/.../libfoo.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$ldd_out")

needed=$(for l in "${libs[@]}"; do owner "$l" || exit 2; done | sort -u) || exit 2
listed=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$' | sort -u)

missing=$(comm -23 <(printf '%s\n' "$needed") <(printf '%s\n' "$listed"))
extra=$(comm -13 <(printf '%s\n' "$needed") <(printf '%s\n' "$listed"))
if [ -n "$missing" ] || [ -n "$extra" ]; then
    [ -z "$missing" ] || printf 'needed by %s but not in %s:\n%s\n' "$bin" "$list" "$missing"
    [ -z "$extra" ] || printf 'in %s but not needed by %s:\n%s\n' "$list" "$bin" "$extra"
    exit 1
fi
echo "runtime packages match ldd $bin: $(wc -l <<<"$needed") packages"
