#!/usr/bin/env python3
"""A polling storm against snapgate replicas that share one Redis (issue 3).

N clients poll M RUNNING tasks through K replicas, round-robin, for D seconds, with
cache.ttl.running T; every replica shares one Redis and one mock vCenter (with a small
upstream delay). Everything runs on loopback and is started and stopped here: the mock (a
subprocess), a private redis-server, the replicas (the harness's Gateway). Python 3 standard
library only; the clients are asyncio coroutines on HTTP/1.1 keep-alive connections.

Prints one JSON object: requests, errors, client req/s, X-Cache counts, upstream task
fetches (total, per second, per task per second), the most fetches of one task within one
wall-clock second (the mock's request log bucketed by task and by second), latency p50/p99,
and the checks: no errors; each task fetched at most MAX_PER_SECOND times in any wall-clock
second; each task fetched at most floor(D / T) + 2 times in all (one fetch per TTL, plus the
cold fetch, plus one for the partial seconds at either end). Exit status 0 when every check
holds, 1 when one fails, 2 when the run could not start (e.g. snapgate rejects the config).

  storm.py                                  # 200 clients x 20 tasks, 3 replicas, 30 s
  storm.py --seconds 3 --clients 20 --tasks 5   # the smoke run (test_redis_storm.py)
"""

import argparse
import asyncio
import base64
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(HERE), "integration")
sys.path.insert(0, INTEGRATION)

import mock_vcenter  # noqa: E402
import sg_harness as h  # noqa: E402

USER, PASSWORD = "storm", "storm-pass-1"
SVC_USER, SVC_PASSWORD = "svc-storm", "svc-storm-secret"
# A fetch spaced one TTL after the previous one lands in the next wall-clock second; a
# background refresh a little before expiry (stale-while-revalidate) may put two in one.
MAX_PER_SECOND = 2
LIMITS = {"clients": 2000, "tasks": 1000, "replicas": 16, "seconds": 600}


def parse_duration(text):
    """"250ms", "1s", "2m" -> seconds (float)."""
    for unit, mult in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if text.endswith(unit) and text[:-len(unit)].replace(".", "", 1).isdigit():
            return float(text[:-len(unit)]) * mult
    raise argparse.ArgumentTypeError("a duration like 1s or 500ms: %r" % text)


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[i]


class Mock:
    """mock_vcenter.py as a subprocess (its own interpreter: no GIL shared with clients)."""

    def __init__(self, tmp, delay_ms):
        pw = h.write_file(tmp, "mock-password", SVC_PASSWORD)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(INTEGRATION, "mock_vcenter.py"), "--listen",
             "127.0.0.1:0", "--print-port", "--user", SVC_USER, "--password-file", pw,
             "--delay-ms", str(delay_ms)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("MOCK_PORT="):
            self.stop()
            raise RuntimeError("the mock did not start: %r" % line)
        self.port = int(line.strip().split("=", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port
        self.client = mock_vcenter.MockClient(self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class Stats:
    def __init__(self):
        self.latencies = []
        self.errors = 0
        self.error_samples = []
        self.x_cache = {}

    def error(self, what):
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def client(cid, ports, requests, stop_at, stats):
    """Poll until stop_at (loop time): request k goes to replica (cid + k) % K and asks
    for task (cid + k) % M; one keep-alive connection per replica."""
    conns = {}
    k = 0
    loop = asyncio.get_running_loop()
    try:
        while loop.time() < stop_at:
            replica = (cid + k) % len(ports)
            req = requests[(cid * 7 + k) % len(requests)]
            k += 1
            t0 = loop.time()
            try:
                if replica not in conns:
                    conns[replica] = await asyncio.open_connection("127.0.0.1", ports[replica])
                reader, writer = conns[replica]
                writer.write(req)
                status, headers, body = await asyncio.wait_for(read_response(reader), 10)
                stats.latencies.append(loop.time() - t0)
                xc = headers.get("x-cache", "-")
                stats.x_cache[xc] = stats.x_cache.get(xc, 0) + 1
                if status != 200:
                    stats.error("HTTP %d (X-Cache %s)" % (status, xc))
                elif body.startswith(b'{"jsonrpc"') and b',"result":{"output":' not in body:
                    stats.error("JSON-RPC %s (X-Cache %s)" % (body[:160], xc))
                if headers.get("connection", "").lower() == "close":
                    conns.pop(replica)[1].close()
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                    ValueError, IndexError) as e:
                stats.latencies.append(loop.time() - t0)
                stats.error("%s: %s" % (type(e).__name__, e))
                c = conns.pop(replica, None)
                if c:
                    c[1].close()
    finally:
        for _, w in conns.values():
            w.close()


def jsonrpc_request(task):
    """tasks.get as the VMware Python SDK sends it (api/JSONRPC.md 1.3), user_pass context."""
    body = json.dumps({"jsonrpc": "2.0", "method": "invoke", "params": {
        "serviceId": "com.vmware.snapservice.tasks", "operationId": "get",
        "input": {"STRUCTURE": {"operation-input": {"task": task}}},
        "ctx": {"appCtx": {"opId": "storm"}, "securityCtx": {
            "schemeId": "com.vmware.vapi.std.security.user_pass",
            "userName": USER, "password": PASSWORD}}}, "id": "0"},
        separators=(",", ":")).encode()
    return (b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"vapi-service: com.vmware.snapservice.tasks\r\nvapi-operation: get\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


async def storm(args, ports, tasks, stats):
    auth = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
    if args.protocol == "jsonrpc":
        requests = [jsonrpc_request(t) for t in tasks]
    else:
        requests = [("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n\r\n"
                     % (h.task_path(t), auth)).encode() for t in tasks]
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + args.seconds
    await asyncio.gather(*(client(c, ports, requests, stop_at, stats)
                           for c in range(args.clients)))


def gateway_config(args, mock, redis, users_file, password_file):
    cfg = {
        "workers": args.workers,
        "log": {"level": "warn"},
        "redis": {"url": redis.url if redis else "", "timeout": "250ms",
                  "on_error": "bypass"},
        "cache": {"ttl": {"pending": args.ttl_running, "running": args.ttl_running,
                          "blocked": args.ttl_running, "terminal": "24h", "not_found": "30s"},
                  "stale_if_error": "30s",
                  "local": {"max_entries": 100000, "max_ttl": args.local_max_ttl}},
        "auth": {"realm": "snapgate",
                 "providers": [{"type": "basic", "users_file": users_file}]},
        "backends": [{"name": "vc1", "url": mock.url, "dialect": "cis",
                      "credentials": {"username": SVC_USER, "password_file": password_file},
                      "timeouts": {"connect": "2s", "request": "5s"}}],
    }
    if redis is None:
        del cfg["redis"], cfg["cache"]["stale_if_error"], cfg["cache"]["local"]["max_ttl"]
    return cfg


def check_config(cfg, tmp):
    """None when `snapgate -t` accepts cfg, else its complaint."""
    probe = h.merge({"listen": "127.0.0.1:%d" % h.free_port(),
                     "admin_listen": "127.0.0.1:%d" % h.free_port()}, cfg)
    path = h.write_file(tmp, "probe.yaml", h.to_yaml(probe))
    proc = h.run_snapgate(["-t", "-c", path])
    if proc.returncode == 0:
        return None
    return (proc.stdout + proc.stderr).strip()


def analyse(args, tasks, stats, fetch_log, t_start, t_end):
    per_task = {t: 0 for t in tasks}
    buckets = {}
    for r in fetch_log:
        if r["task"] in per_task and t_start <= r["time"] <= t_end:
            per_task[r["task"]] += 1
            key = (r["task"], int(r["time"]))
            buckets[key] = buckets.get(key, 0) + 1
    total = sum(per_task.values())
    lat = sorted(stats.latencies)
    n = len(lat)
    ttl_s = parse_duration(args.ttl_running)
    per_task_limit = int(args.seconds // ttl_s) + 2
    max_per_second = max(buckets.values()) if buckets else 0
    checks = {
        "no_errors": stats.errors == 0,
        "max_fetches_per_task_per_second<=%d" % MAX_PER_SECOND: max_per_second <= MAX_PER_SECOND,
        "max_fetches_per_task<=%d" % per_task_limit: max(per_task.values()) <= per_task_limit,
    }
    return {
        "config": {"clients": args.clients, "tasks": args.tasks, "replicas": args.replicas,
                   "seconds": args.seconds, "ttl_running": args.ttl_running,
                   "local_max_ttl": args.local_max_ttl, "workers": args.workers,
                   "upstream_delay_ms": args.upstream_delay_ms,
                   "redis": not args.no_redis},
        "requests": n,
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "client_rps": round(n / args.seconds, 1),
        "x_cache": stats.x_cache,
        "upstream_task_fetches": total,
        "upstream_fetches_per_second": round(total / args.seconds, 2),
        "upstream_fetches_per_task_per_second": round(total / args.seconds / len(tasks), 3),
        "max_fetches_per_task": max(per_task.values()),
        "min_fetches_per_task": min(per_task.values()),
        "max_fetches_per_task_per_second": max_per_second,
        "latency_ms": {"p50": round(percentile(lat, 50) * 1000, 2) if lat else None,
                       "p99": round(percentile(lat, 99) * 1000, 2) if lat else None,
                       "max": round(lat[-1] * 1000, 2) if lat else None},
        "checks": checks,
        "ok": all(checks.values()),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--ttl-running", default="1s")
    ap.add_argument("--local-max-ttl", default="1s")
    ap.add_argument("--workers", type=int, default=1, help="event-loop threads per replica")
    ap.add_argument("--upstream-delay-ms", type=int, default=20)
    ap.add_argument("--protocol", choices=("rest", "jsonrpc"), default="rest",
                    help="how the pollers ask: REST GET, or vAPI JSON-RPC POST /api as the SDK")
    ap.add_argument("--no-redis", action="store_true",
                    help="baseline: each replica with its in-process cache alone")
    ap.add_argument("--binary", default=os.environ.get("SNAPGATE_BIN") or os.path.join(
        h.REPO, "build", "snapgate"))
    args = ap.parse_args(argv)
    parse_duration(args.ttl_running)
    for key, top in LIMITS.items():
        if not 0 < getattr(args, key) <= top:
            ap.error("--%s must be in 1..%d" % (key, top))
    os.environ["SNAPGATE_BIN"] = os.path.abspath(args.binary)
    if h.gateway_bin() is None:
        ap.error("no snapgate binary at %s (build it, or --binary / SNAPGATE_BIN)" % args.binary)
    if h.redis_server_bin() is None and not args.no_redis:
        print(h.REDIS_REQUIRED, file=sys.stderr)
        return 2
    fx = h.fixture("cis-running")
    tasks = ["storm-%04d" % i for i in range(args.tasks)]

    tmp = tempfile.mkdtemp(prefix="sg-storm-")
    mock = redis = gws = report = None
    try:
        mock = Mock(tmp, args.upstream_delay_ms)
        if not args.no_redis:
            redis = h.RedisServer().start()
        users = h.make_users_file({USER: PASSWORD}, tmp)
        svc_pw = h.write_file(tmp, "svc-password", SVC_PASSWORD)
        cfg = gateway_config(args, mock, redis, users, svc_pw)
        problem = check_config(cfg, tmp)
        if problem:
            print(h.MISSING_FEATURE % problem, file=sys.stderr)
            return 2
        for t in tasks:
            mock.client.set_task(t, {"status": 200, "body": fx.expected})
        gws = h.Gateways(args.replicas, cfg).start()
        mock.client.reset_stats()
        stats = Stats()
        t_start = time.time()
        asyncio.run(storm(args, [g.port for g in gws], tasks, stats))
        t_end = time.time()
        fetch_log = mock.client.stats()["requests"]
        report = analyse(args, tasks, stats, fetch_log, t_start, t_end)
    finally:
        if gws is not None:
            try:
                gws.stop()
            except AssertionError as e:
                print("snapgate: %s" % e, file=sys.stderr)
                report = None
        if redis is not None:
            redis.close()
        if mock is not None:
            mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if report is None:
        return 2
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
