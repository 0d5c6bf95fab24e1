#!/usr/bin/env bash
# Quick start: installs what is missing (Debian 12), builds, starts the mock
# vCenter (tests/integration/mock_vcenter.py) as a demo backend with four demo
# tasks, and snapgate on 127.0.0.1:8080 with the demo user demo:demo.
# Ctrl-C stops both.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
run=deploy/local/run
listen=${SNAPGATE_LISTEN:-127.0.0.1:8080}
admin=${SNAPGATE_ADMIN_LISTEN:-127.0.0.1:9901}

. deploy/local/packages.sh
ensure_packages "${SNAPGATE_RUN_PACKAGES[@]}"

echo "== building"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

rm -rf "$run"
mkdir -p "$run"
chmod 700 "$run"
# The demo backend's service account and the demo client user. Throwaway
# values generated here, never committed.
svc_password=$(openssl rand -hex 16)
printf '%s\n' "$svc_password" > "$run/backend-password"
printf 'demo:%s\n' "$(openssl passwd -6 demo)" > "$run/users"

pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "stopped"
}
trap stop INT TERM EXIT

python3 tests/integration/mock_vcenter.py --listen 127.0.0.1:0 --user svc \
    --password-file "$run/backend-password" --print-port > "$run/mock.out" 2> "$run/mock.err" &
pids+=($!)
for _ in $(seq 1 100); do
    grep -q '^MOCK_PORT=' "$run/mock.out" 2>/dev/null && break
    sleep 0.1
done
mock_port=$(sed -n 's/^MOCK_PORT=//p' "$run/mock.out")
[ -n "$mock_port" ] || { echo "the demo backend did not start:"; cat "$run/mock.err"; exit 2; }
for f in deploy/local/demo-tasks/*.json; do
    id=$(basename "$f" .json)
    { printf '{"status": 200, "body": '; cat "$f"; printf '}'; } |
        curl -fsS -X POST -H 'Content-Type: application/json' --data-binary @- \
            "http://127.0.0.1:$mock_port/_mock/tasks/$id" >/dev/null
done

cat > "$run/snapgate.yaml" <<YAML
listen: "$listen"
admin_listen: "$admin"
workers: 1
log:
  level: info
  format: text
auth:
  realm: "snapgate"
  providers:
    - type: basic
      users_file: "$top/$run/users"
backends:
  - name: demo
    url: "http://127.0.0.1:$mock_port"
    dialect: cis
    credentials:
      username: "svc"
      password_file: "$top/$run/backend-password"
YAML

build/snapgate -c "$run/snapgate.yaml" &
pids+=($!)
for _ in $(seq 1 100); do
    curl -fsS "http://$admin/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://$admin/healthz" >/dev/null || { echo "snapgate did not start"; exit 2; }

cat <<MSG

snapgate is serving on http://$listen (admin http://$admin), demo backend on 127.0.0.1:$mock_port
demo tasks: demo-pending demo-running demo-succeeded demo-failed
try: curl -si -u demo:demo http://$listen/api/snapservice/tasks/demo-running
Ctrl-C stops everything.
MSG
wait
