# Sourced by deploy/local/up.sh and tests/run.sh: the Debian 12 packages
# snapgate builds, runs and is tested with, and the one way to install them.

# What building and running needs.
SNAPGATE_RUN_PACKAGES=(build-essential cmake pkg-config python3 openssl curl
                       libevhtp-dev libevent-dev libjson-c-dev libyaml-dev libssl-dev
                       libcrypt-dev libhiredis-dev check redis-server
                       libxml2-dev libxmlsec1-dev zlib1g-dev libsystemd-dev)
# What the test suite and its static checks need on top (strace: the system
# calls of a cache hit are pinned by integration.test_hit_syscalls).
SNAPGATE_TEST_PACKAGES=(cppcheck clang-format xmlsec1 golang-go golang-github-vmware-govmomi-dev
                        systemd strace)
# The fuzz stage of tests/run.sh: clang with libFuzzer and its sanitizer runtimes.
SNAPGATE_FUZZ_PACKAGES=(clang libfuzzer-14-dev libclang-rt-14-dev)
# The Kubernetes schema check runs on Node.js with npm (tests/deploy/). The
# machine image may ship them from elsewhere (nodejs with npm inside), so Debian's
# are installed only when no npm is on PATH: see ensure_node.
SNAPGATE_NODE_PACKAGES=(nodejs npm)

# ensure_packages PKG...: installs those not installed yet (apt-get update first).
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "== installing: ${missing[*]}"
    local sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends \
        "${missing[@]}"
}

# ensure_node: Node.js and npm from Debian unless an npm is already on PATH.
ensure_node() {
    command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 && return 0
    ensure_packages "${SNAPGATE_NODE_PACKAGES[@]}"
}
