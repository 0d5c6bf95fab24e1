#!/bin/sh
# Build the vCenter simulator launcher from Debian's govmomi package.
# Usage: build.sh OUTPUT_BINARY   (installs golang-go and golang-github-vmware-govmomi-dev if missing)
set -eu
out=${1:?usage: build.sh OUTPUT_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v go >/dev/null 2>&1 || [ ! -d /usr/share/gocode/src/github.com/vmware/govmomi ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        golang-go golang-github-vmware-govmomi-dev >/dev/null
fi
mkdir -p "$(dirname "$out")"
outdir=$(cd "$(dirname "$out")" && pwd)
mkdir -p "$outdir/.gocache"
# Build from a writable copy: the source folder may be read-only.
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp "$here/main.go" "$src/"
cd "$src"
GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$outdir/.gocache" \
    go build -o "$outdir/$(basename "$out")" .
