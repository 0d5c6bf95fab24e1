#!/usr/bin/env python3
"""The fault matrix of issue 10: routing {fanout, header} x auth {basic, bearer, delegated} x
backend fault {refused, hanging, 503, garbage, flapping, reload} x Redis {up, down}, 72 cells,
each driven by concurrent pollers on keep-alive connections.

Every gateway has three backends and all three providers (basic, bearer, vcenter on vc1):
  vc1  cis (the class's MockVCenter): healthy; the delegation backend; knows caller alice
  vc2  rest (MockDialects): healthy, service account only
  bad  the cell's fault:
       refused   a loopback port nothing listens on
       hanging   accepts connections and never answers
       503       a cis mock that logs in fine and answers each of its own tasks once, then
                 503 to every task (health checks see it up: only passive ejection takes it
                 out, after fan-out remembered it as the owner of its tasks)
       garbage   the same, with 200 and a non-JSON body instead of the 503
       flapping  a healthy cis mock whose listener stops and starts every 0.5 s (bad's
                 health checks decide on one probe, so it goes down and up with it)
       reload    a healthy cis mock, removed by SIGHUP half-way through the cell (and put
                 back by another SIGHUP before the next cell)
Redis "up" is a private redis-server shared by the class; "down" points redis.url at a port
nothing listens on (fail-open, on_error: bypass).

One test method per (routing, redis, fault): one gateway runs the three auth cells in turn
(restarted when a cell killed it). The auth dimension is who polls:
  basic      bob, Basic, users file (service-account fetches)
  bearer     ops, opaque Bearer token (service-account fetches)
  delegated  alice (a vc1 session id, `vmware-api-session-id`: the vcenter provider) and
             bob (Basic) mixed, polling the same tasks in interleaved order, after explicit
             probes of both leak directions of issue 10 item 2
Every cell has its own task ids (no cache, owner memory or Redis entry carries over):
  vc1-0 vc1-1  only on vc1          vc2-0 vc2-1  only on vc2
  bad-0 bad-1  only on bad          dup          vc1 and vc2 (different Info)
  dupbad       vc1 and bad          none         nowhere
Each (backend, task) has its own Info (target.id = "backend/task"), so an answer names the
backend that produced it.

Per cell (1.2 s of polling by 5 threads, SG_FAULT_DURATION overrides), the test asserts:
- the process lives: every request gets an answer (no reset, refusal or 10 s hang), /healthz
  is 200 after the cell, and the harness's stop finds no sanitizer report and exit 0;
- every status is one of the contract's and arrives within DEADLINE_S: 2 x the backends'
  timeouts.request (a wait on another worker's Redis lease, then its own fetch) +
  redis.timeout + MARGIN_S (1 s; 2.5 s for a sanitizer build; SG_FAULT_MARGIN overrides);
- no caller gets an answer its own backend did not vouch for: a 200 must be the Info of a
  backend allowed to answer that caller (alice: vc1 only; header routing: the named backend;
  fan-out: any backend holding the task); a 404 only where those backends do not hold the task
  (never for a task a healthy backend of the caller holds); 503/500 only where the faulty
  backend is involved; 403 exactly for alice naming another backend; 400 only for a header
  naming the removed backend;
- the storm bound: the task GETs each countable mock (vc1, vc2, and bad when it is a mock)
  saw during the cell stay within
    tasks x (ceil(duration / ttl.running) + 1) x kinds x tiers x (1 + retries.max) + 30
  tasks: the cell's task ids; ttl.running = ttl.not_found = 1 s; kinds: 2 with delegated
  callers (alice's own fetches until vc1 let her read a task), else 1; tiers: 1 with Redis
  up, else the 2 workers (each its own in-process cache); 30: the faulty backend's failures
  before passive ejection (5 in a row) and fan-out legs in flight. A gateway that asked the
  backends once per poll would exceed it ten times over (about 1,000 polls per cell).

The verdict of every cell is printed as one line on stderr; a failing method lists its
failing cells with the first problems (no skips: failures are bugs for the core team)."""

import copy
import hashlib
import http.client
import json
import math
import os
import socket
import sys
import threading
import time
import unittest

import mock_dialects
import mock_vcenter
import sg_harness as h

ROUTINGS = ("fanout", "header")
REDIS_MODES = ("up", "down")
FAULTS = ("refused", "hanging", "503", "garbage", "flapping", "reload")
AUTHS = ("basic", "bearer", "delegated")

THREADS = 5
DURATION_S = float(os.environ.get("SG_FAULT_DURATION", "1.2"))
WORKERS = 2
TTL_RUNNING_S = 1.0
TTL_NOT_FOUND_S = 1.0           # short, so a 404 expires within a cell and callers cross
REQUEST_TIMEOUT_S = 1.0         # timeouts.request of every backend
REDIS_TIMEOUT_S = 0.25
RETRIES = 1
CLIENT_TIMEOUT_S = 10.0         # no answer by then: a hang
FLAP_S = 0.5
POLL_GAP_S = 0.005              # each poller's pause between requests (the machine is shared)
STORM_SLACK = 30
CONTRACT_STATUSES = {200, 304, 400, 401, 403, 404, 405, 408, 413, 414, 431, 500, 503}
X_CACHE = {"HIT", "MISS", "STALE", "BYPASS"}
HEALTHY = ("vc1", "vc2")
FAST_HEALTH = {"interval": "500ms", "timeout": "250ms", "rise": 2, "fall": 2}
# bad's probes decide on one result, so a flapping bad goes down (and a remembered owner
# becomes unusable) within one flap.
BAD_HEALTH = {"interval": "500ms", "timeout": "250ms", "rise": 1, "fall": 1}

ALICE_PW = "alice-vc-pw-9931"
BOB_PW = "bob-basic-pw-5521"
OPS_TOKEN = "ops-opaque-token-" + "7f3a9c" * 6


def _sanitized_binary():
    path = h.gateway_bin()
    if not path:
        return False
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


MARGIN_S = float(os.environ.get("SG_FAULT_MARGIN", "2.5" if _sanitized_binary() else "1.0"))
# A request may wait for another worker's lease-holding fetch (at most timeouts.request)
# before its own fetch (timeouts.request again), plus one Redis command.
DEADLINE_S = 2 * REQUEST_TIMEOUT_S + REDIS_TIMEOUT_S + MARGIN_S


# The gateway cancels fan-out legs and drops hung connections: the mocks then write to a
# closed socket. Expected here, so not a traceback on stderr (other errors still are).
_mock_handle_error = mock_vcenter._Server.handle_error


def _quiet_handle_error(self, request, client_address):
    if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
        return
    _mock_handle_error(self, request, client_address)


mock_vcenter._Server.handle_error = _quiet_handle_error


# ---- the faulty backends that are not mocks ------------------------------------------------
class Flapper:
    """Stops and starts a mock's listener every FLAP_S seconds (the mock was made with a
    fixed port); leaves it started."""

    def __init__(self, mock):
        self.mock = mock
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.flips = 0

    def _run(self):
        up = True
        while not self.stop_event.wait(FLAP_S):
            try:
                if up:
                    self.mock.stop()
                else:
                    self.mock.start()
                up = not up
                self.flips += 1
            except OSError:
                pass  # the port was briefly unavailable: try again next tick
        if self.mock._server is None:
            for _ in range(50):
                try:
                    self.mock.start()
                    break
                except OSError:
                    time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(10)


# ---- one cell --------------------------------------------------------------------------
class Caller:
    def __init__(self, name, headers, delegated):
        self.name, self.headers, self.delegated = name, headers, delegated


class Record:
    __slots__ = ("caller", "task", "hdr", "status", "body", "headers", "latency", "error",
                 "phase")

    def __init__(self, caller, task, hdr, phase):
        self.caller, self.task, self.hdr, self.phase = caller, task, hdr, phase
        self.status = self.body = self.headers = self.error = None
        self.latency = 0.0


def running_info(backend, task):
    info = copy.deepcopy(h.fixture("cis-running").expected)
    info["target"]["id"] = "%s/%s" % (backend, task)
    return info


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


class Cell:
    """The world of one cell: which backend holds which task with which Info."""

    LAYOUT = {"vc1-0": ("vc1",), "vc1-1": ("vc1",), "vc2-0": ("vc2",), "vc2-1": ("vc2",),
              "bad-0": ("bad",), "bad-1": ("bad",), "dup": ("vc1", "vc2"),
              "dupbad": ("vc1", "bad"), "none": ()}

    def __init__(self, seq, routing, redis, fault, auth):
        self.routing, self.redis, self.fault, self.auth = routing, redis, fault, auth
        self.name = "%s/%s/%s/redis-%s" % (routing, auth, fault, redis)
        self.prefix = "fm%03d" % seq
        self.holders = {}
        self.known = {}
        for suffix, backends in self.LAYOUT.items():
            task = "%s-%s" % (self.prefix, suffix)
            self.holders[task] = {b: running_info(b, task) for b in backends}
        self.records = []
        self.problems = []
        self.counts = {}
        self.bounds = {}
        self.fetch_counts_text = ""
        self.probe_trace = ""

    def add_task(self, suffix, backends):
        task = "%s-%s" % (self.prefix, suffix)
        self.holders[task] = {b: running_info(b, task) for b in backends}
        return task

    def index(self):
        for task, by_backend in self.holders.items():
            for b, info in by_backend.items():
                self.known[canon(info)] = (b, task)

    @property
    def tasks(self):
        return list(self.holders)

    @property
    def bad_answers(self):
        """Whether the faulty backend can ever produce a 200 (it holds real Infos)."""
        return self.fault in ("flapping", "reload", "503", "garbage")

    def problem(self, text):
        self.problems.append(text)


class FaultMatrixBase(h.GatewayTestCase):
    USERS = {"bob": BOB_PW}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.require_redis_server()
        tokens = "ops:sha256:%s\n" % hashlib.sha256(OPS_TOKEN.encode()).hexdigest()
        cls.tokens_file = h.write_file(cls.tmp, "tokens", tokens)
        cls.vc2 = mock_dialects.MockDialects(user=cls.SVC_USER,
                                             password=cls.SVC_PASSWORD).start()
        cls.badmock = mock_vcenter.MockVCenter(user=cls.SVC_USER,
                                               password=cls.SVC_PASSWORD).start()
        cls.flapmock = mock_vcenter.MockVCenter(port=h.free_port(), user=cls.SVC_USER,
                                                password=cls.SVC_PASSWORD).start()
        cls.hanging = h.HangingServer()
        cls.refused_port = h.free_port()
        cls.redis = h.RedisServer()
        cls.redis.start()
        cls.dead_redis_port = h.free_port()
        cls.seq = 0
        cls.summary = []

    @classmethod
    def tearDownClass(cls):
        for thing in (cls.vc2, cls.badmock, cls.flapmock, cls.hanging):
            thing.stop()
        cls.redis.close()
        if cls.summary:
            sys.stderr.write("\nfault matrix: %d cells, %d requests, %d failed cells\n"
                             % (len(cls.summary), sum(s[1] for s in cls.summary),
                                sum(1 for s in cls.summary if not s[2])))
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.mock.configure(users={"alice": ALICE_PW})
        for m in (self.vc2, self.badmock, self.flapmock):
            m.reset()

    # ---- configuration ---------------------------------------------------------------------
    def bad_url(self, fault):
        return {"refused": "http://127.0.0.1:%d" % self.refused_port,
                "hanging": self.hanging.url,
                "503": self.badmock.url, "garbage": self.badmock.url,
                "flapping": self.flapmock.url, "reload": self.badmock.url}[fault]

    def bad_mock(self, fault):
        return {"503": self.badmock, "garbage": self.badmock, "flapping": self.flapmock,
                "reload": self.badmock}.get(fault)

    def matrix_config(self, routing, redis, fault, with_bad=True):
        def entry(name, url, dialect):
            return {"name": name, "url": url, "dialect": dialect,
                    "credentials": {"username": self.SVC_USER,
                                    "password_file": self.password_file},
                    "timeouts": {"connect": "500ms", "request": "%dms"
                                 % int(REQUEST_TIMEOUT_S * 1000)},
                    "retries": {"max": RETRIES},
                    "health_check": FAST_HEALTH,
                    "outlier": {"consecutive_failures": 5, "ejection": "1s"}}
        backends = [entry("vc1", self.mock.url, "cis"), entry("vc2", self.vc2.url, "rest")]
        if with_bad:
            backends.append(h.merge(entry("bad", self.bad_url(fault), "cis"),
                                    {"health_check": BAD_HEALTH}))
        url = (self.redis.url if redis == "up"
               else "redis://127.0.0.1:%d/0" % self.dead_redis_port)
        return {
            "workers": WORKERS,
            "log": {"level": "info"},
            "auth": {"realm": "snapgate", "providers": [
                {"type": "basic", "users_file": self.users_file},
                {"type": "bearer", "tokens_file": self.tokens_file},
                {"type": "vcenter", "backend": "vc1"}]},
            "backends": backends,
            "routing": {"strategy": routing},
            "redis": {"url": url, "timeout": "%dms" % int(REDIS_TIMEOUT_S * 1000),
                      "on_error": "bypass"},
            "cache": {"ttl": {"pending": "1s", "running": "%dms" % int(TTL_RUNNING_S * 1000),
                              "blocked": "1s", "terminal": "24h",
                              "not_found": "%dms" % int(TTL_NOT_FOUND_S * 1000)},
                      "stale_if_error": "30s",
                      "local": {"max_entries": 10000, "max_ttl": "1s"}},
        }

    def reload_with(self, gw, cfg, timeout=5.0):
        return h.reload_config(gw, cfg, timeout)

    # ---- callers ---------------------------------------------------------------------------
    def alice_session(self):
        r = h.http_request(self.mock.port, "POST", "/api/session",
                           {"Authorization": h.basic("alice", ALICE_PW)})
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def callers(self, auth):
        bob = Caller("bob", {"Authorization": h.basic("bob", BOB_PW)}, False)
        if auth == "basic":
            return [bob]
        if auth == "bearer":
            return [Caller("ops", {"Authorization": "Bearer " + OPS_TOKEN}, False)]
        alice = Caller("alice", {"vmware-api-session-id": self.alice_session()}, True)
        return [alice, bob]

    # ---- requests ----------------------------------------------------------------------------
    def request(self, gw, conn_box, caller, task, hdr, phase):
        """One GET over conn_box[0] (a keep-alive connection, replaced as needed): a stale
        kept-alive connection is retried once on a fresh one, as any HTTP client does."""
        rec = Record(caller, task, hdr, phase)
        headers = dict(caller.headers)
        if hdr is not None:
            headers["X-Snapgate-Backend"] = hdr
        for attempt in (0, 1):
            fresh = conn_box[0] is None
            if fresh:
                conn_box[0] = http.client.HTTPConnection("127.0.0.1", gw.port,
                                                         timeout=CLIENT_TIMEOUT_S)
            t0 = time.monotonic()
            try:
                conn_box[0].request("GET", h.task_path(task), headers=headers)
                r = conn_box[0].getresponse()
                body = r.read()
                rec.latency = time.monotonic() - t0
                rec.status, rec.body = r.status, body
                rec.headers = {k.lower(): v for k, v in r.getheaders()}
                if rec.headers.get("connection", "").lower() == "close":
                    conn_box[0].close()
                    conn_box[0] = None
                return rec
            except socket.timeout:
                rec.latency = time.monotonic() - t0
                rec.error = "no answer within %.0f s (hang)" % CLIENT_TIMEOUT_S
                conn_box[0].close()
                conn_box[0] = None
                return rec
            except (OSError, http.client.HTTPException) as e:
                rec.latency = time.monotonic() - t0
                rec.error = "%s: %s" % (type(e).__name__, e)
                conn_box[0].close()
                conn_box[0] = None
                if fresh or attempt == 1:
                    return rec
        return rec

    def schedule(self, cell, callers):
        """(caller, task, header) items: every task, under header routing each backend name
        (alice: vc1, and one in three naming another backend), each kind of caller in turn."""
        items = []
        for task in cell.tasks:
            if cell.routing == "fanout":
                hdrs = [None]
            else:
                hdrs = ["vc1", "vc2", "bad"]
            for hdr in hdrs:
                for c in callers:
                    if c.delegated and hdr not in (None, "vc1") and hdr != "vc2":
                        continue  # alice names another backend once per task (vc2), below
                    items.append((c, task, hdr))
        return items

    def poll(self, gw, cell, callers, seconds):
        items = self.schedule(cell, callers)
        out = [[] for _ in range(THREADS)]
        stop_at = time.monotonic() + seconds

        def run(k):
            box = [None]
            i = k * len(items) // THREADS
            while time.monotonic() < stop_at:
                c, task, hdr = items[i % len(items)]
                i += 1
                rec = self.request(gw, box, c, task, hdr, "poll")
                out[k].append(rec)
                if rec.error and "hang" not in rec.error:
                    time.sleep(0.05)  # a dead gateway: do not spin
                else:
                    time.sleep(POLL_GAP_S)
            if box[0] is not None:
                box[0].close()

        threads = [threading.Thread(target=run, args=(k,), daemon=True)
                   for k in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + CLIENT_TIMEOUT_S * 3)
        if any(t.is_alive() for t in threads):
            cell.problem("pollers still running %.0f s after the cell's end"
                         % (CLIENT_TIMEOUT_S * 3))
        for lst in out:
            cell.records.extend(lst)

    # ---- the leak probes of issue 10 item 2 ------------------------------------------------
    def leak_probes(self, gw, cell, callers):
        """Sequential, both directions, each task asked by both kinds of caller in turn."""
        alice, bob = callers
        a_first = cell.add_task("lk-bob-first", ("vc2",))
        b_first = cell.add_task("lk-alice-first", ("vc2",))
        both = cell.add_task("lk-both", ("vc1", "vc2"))
        mine = cell.add_task("lk-vc1", ("vc1",))
        self.seed(cell, [a_first, b_first, both, mine])
        cell.index()
        hdr_bob = None if cell.routing == "fanout" else "vc2"
        hdr_alice = None if cell.routing == "fanout" else "vc1"
        purged = cell.add_task("lk-purged", ("vc2",))
        self.seed(cell, [purged])
        cell.index()
        # alice's 404 first, an operator's purge, then bob's 200: alice must still get 404.
        plan = [(alice, purged, hdr_alice), "purge", (bob, purged, hdr_bob),
                (alice, purged, hdr_alice), (bob, purged, hdr_bob),
                (bob, a_first, hdr_bob), (alice, a_first, hdr_alice),
                (bob, a_first, hdr_bob), (alice, a_first, hdr_alice),
                (alice, b_first, hdr_alice), (bob, b_first, hdr_bob),
                (alice, b_first, hdr_alice), (bob, b_first, hdr_bob),
                (bob, both, hdr_bob), (alice, both, hdr_alice),
                (bob, both, hdr_bob), (alice, both, hdr_alice),
                (alice, mine, hdr_alice), (bob, mine, hdr_alice),
                (bob, mine, hdr_alice), (alice, mine, hdr_alice)]
        if cell.routing == "header":
            plan += [(alice, a_first, "vc2"), (alice, both, "bad")]
        box = [None]
        trace = []
        for step in plan:
            if step == "purge":
                try:
                    gw.admin("DELETE", "/cache/tasks/" + purged, timeout=3)
                except OSError as e:
                    cell.problem("purge failed: %s" % e)
                trace.append("PURGE")
                continue
            c, task, hdr = step
            rec = self.request(gw, box, c, task, hdr, "leak-probe")
            cell.records.append(rec)
            why = self.judge(cell, rec)
            who = "-"
            if rec.status == 200:
                try:
                    who = cell.known.get(canon(json.loads(rec.body.decode())), ("?",))[0]
                except ValueError:
                    who = "?"
            trace.append("%s:%s%s=%s%s%s" % (
                c.name, task[len(cell.prefix) + 4:], "@" + hdr if hdr else "",
                rec.status if rec.error is None else "ERR",
                "/" + (rec.headers or {}).get("x-cache", "-") if rec.error is None else "",
                "(" + who + ")" if who != "-" else "") + ("!" if why else ""))
        cell.probe_trace = " ".join(trace)
        if box[0] is not None:
            box[0].close()

    # ---- judging -----------------------------------------------------------------------------
    def judge(self, cell, rec):
        """None when rec is an acceptable answer, else what is wrong with it."""
        if rec.error:
            return "no answer: " + rec.error
        st = rec.status
        if st not in CONTRACT_STATUSES:
            return "status %s is not in the contract" % st
        if rec.latency > DEADLINE_S:
            return "status %d after %.2f s (deadline %.2f s)" % (st, rec.latency, DEADLINE_S)
        holders = cell.holders[rec.task]
        if rec.caller.delegated:
            if rec.hdr not in (None, "vc1"):
                return None if st == 403 else \
                    "%d for alice naming %s (want 403: not her backend)" % (st, rec.hdr)
            vouchers = {"vc1"}
        elif rec.hdr is not None:
            vouchers = {rec.hdr}
        else:
            vouchers = {"vc1", "vc2", "bad"}
        if st == 200:
            xc = rec.headers.get("x-cache")
            if xc not in X_CACHE:
                return "200 with X-Cache %r" % xc
            try:
                who = cell.known.get(canon(json.loads(rec.body.decode("utf-8"))))
            except ValueError:
                return "200 with a body that is not JSON"
            if who is None:
                return "200 with an Info no backend holds"
            if who[1] != rec.task:
                return "200 with another task's Info (%s/%s)" % who
            if who[0] not in vouchers:
                return "LEAK: 200 %s with %s's Info (vouchers: %s)" % (
                    xc, who[0], ",".join(sorted(vouchers)))
            if who[0] == "bad" and not cell.bad_answers:
                return "200 with bad's Info, which bad can never have answered"
            return None
        healthy_holders = set(holders) & set(HEALTHY) & vouchers
        # The faulty backend may be why: the task lives on no healthy backend of the caller's,
        # or bad (a real backend in these faults) may own it and be down or removed now.
        bad_involved = "bad" in vouchers and (
            not healthy_holders or ("bad" in holders and cell.bad_answers))
        if st == 404:
            if rec.hdr is not None and not rec.caller.delegated:
                if rec.hdr in holders and (rec.hdr != "bad" or cell.bad_answers):
                    return "404 %s though %s holds the task" % (
                        rec.headers.get("x-cache"), rec.hdr)
                return None
            if healthy_holders:
                return "404 %s though %s holds the task (a 404 nobody of the caller's vouched " \
                       "for)" % (rec.headers.get("x-cache"), ",".join(sorted(healthy_holders)))
            return None
        if st == 503:
            if rec.hdr is not None and not rec.caller.delegated:
                return None if rec.hdr == "bad" else "503 from healthy %s" % rec.hdr
            return None if bad_involved else "503 for a task a healthy backend holds"
        if st == 500:
            if cell.fault != "garbage":
                return "500 without a garbage backend"
            if rec.hdr is not None and not rec.caller.delegated:
                return None if rec.hdr == "bad" else "500 from healthy %s" % rec.hdr
            return None if bad_involved else "500 for a task a healthy backend holds"
        if st == 400 and rec.hdr == "bad" and cell.fault == "reload":
            return None  # the header names a backend the reload removed
        return "unexpected %d %s" % (st, rec.body[:120].decode("utf-8", "replace"))

    # ---- seeding -----------------------------------------------------------------------------
    def seed(self, cell, tasks=None):
        """Put the cell's tasks on the mocks. The 503 and garbage backends answer their own
        tasks once (so fan-out remembers bad as their owner, and the cache holds bad's
        Info) and then only their fault; every other task gets the fault at once."""
        mocks = {"vc1": self.mock, "vc2": self.vc2, "bad": self.bad_mock(cell.fault)}
        fault = {"503": {"status": 503},
                 "garbage": {"status": 200, "raw": "<html>proxy error</html>"}}.get(cell.fault)
        for task in tasks or cell.tasks:
            for b, info in cell.holders[task].items():
                if b == "bad" and not cell.bad_answers:
                    continue
                if mocks[b] is None:
                    continue
                ok = {"status": 200, "body": info}
                mocks[b].set_task(task, {"sequence": [ok, fault]} if b == "bad" and fault
                                  else ok)
            if fault and "bad" not in cell.holders[task]:
                self.badmock.set_task(task, fault)

    def storm(self, cell, callers, seconds):
        kinds = len({c.delegated for c in callers})
        tiers = 1 if cell.redis == "up" else WORKERS
        per_task = math.ceil(seconds / TTL_RUNNING_S) + 1
        mocks = [("vc1", self.mock), ("vc2", self.vc2)]
        bad = self.bad_mock(cell.fault)
        if bad is not None:
            mocks.append(("bad", bad))
        parts = []
        for name, m in mocks:
            tasks = m.stats()["tasks"]
            n = sum(tasks.get(t, 0) for t in cell.tasks)
            asked = len(cell.tasks)
            bound = asked * per_task * kinds * tiers * (1 + RETRIES) + STORM_SLACK
            cell.counts[name], cell.bounds[name] = n, bound
            parts.append("%s %d/%d" % (name, n, bound))
            if n > bound:
                cell.problem("storm: %s saw %d task GETs, bound %d" % (name, n, bound))
        cell.fetch_counts_text = " ".join(parts)

    # ---- one cell ----------------------------------------------------------------------------
    def run_cell(self, gw, cell, full_cfg, reduced_cfg):
        callers = self.callers(cell.auth)
        if cell.fault == "reload" and gw.current != "full":
            if not self.reload_with(gw, full_cfg):
                cell.problem("the SIGHUP putting bad back was not applied")
            gw.current = "full"
        self.seed(cell)
        cell.index()
        for m in (self.mock, self.vc2, self.bad_mock(cell.fault)):
            if m is not None:
                m.reset_stats()
        t0 = time.monotonic()
        if cell.auth == "delegated":
            self.leak_probes(gw, cell, callers)
        reloader = None
        if cell.fault == "reload":
            def reload_mid():
                time.sleep(DURATION_S / 2)
                try:
                    if not self.reload_with(gw, reduced_cfg):
                        cell.problem("the SIGHUP removing bad was not applied")
                except (OSError, AttributeError) as e:
                    cell.problem("SIGHUP failed: %s" % e)
                gw.current = "reduced"
            reloader = threading.Thread(target=reload_mid, daemon=True)
            reloader.start()
        if cell.fault == "flapping":
            with Flapper(self.flapmock):
                self.poll(gw, cell, callers, DURATION_S)
        else:
            self.poll(gw, cell, callers, DURATION_S)
        if reloader is not None:
            reloader.join(10)
        self.storm(cell, callers, time.monotonic() - t0)
        bad = [(rec, self.judge(cell, rec)) for rec in cell.records]
        bad = [(rec, why) for rec, why in bad if why]
        groups = {}
        for rec, why in bad:
            key = why.split(" (")[0] if why.startswith("no answer") else why
            groups.setdefault(key, []).append(rec)
        for why, recs in groups.items():
            r = recs[0]
            cell.problem("%dx %s [e.g. %s %s%s, %s]" % (
                len(recs), why, r.caller.name, r.task[len(cell.prefix) + 1:],
                " hdr=" + r.hdr if r.hdr else "", r.phase))
        alive = gw.proc is not None and gw.proc.poll() is None
        try:
            hz = gw.admin("GET", "/healthz", timeout=3).status if alive else None
        except OSError:
            hz = None
        if hz != 200:
            cell.problem("the gateway is dead after the cell (exit %s, /healthz %s)"
                         % (gw.proc.poll() if gw.proc else "?", hz))
        return hz == 200

    def run_group(self, routing, redis, fault):
        full = self.matrix_config(routing, redis, fault)
        reduced = self.matrix_config(routing, redis, fault, with_bad=False)
        cls = type(self)
        failed = []
        gw = None
        try:
            for auth in AUTHS:
                cls.seq += 1
                cell = Cell(cls.seq, routing, redis, fault, auth)
                if gw is None:
                    gw = h.Gateway(copy.deepcopy(full))
                    gw.start()
                    gw.current = "full"
                alive = self.run_cell(gw, cell, full, reduced)
                if not alive:
                    cell.problem(self.stop_symptom(gw))
                    gw = None
                self.report(cell)
                if cell.problems:
                    failed.append(cell)
        finally:
            if gw is not None:
                symptom = self.stop_symptom(gw)
                if symptom:
                    failed.append("%s/%s/%s: at exit: %s" % (routing, fault, redis, symptom))
                    sys.stderr.write("  at exit: %s\n" % symptom)
        if failed:
            lines = []
            for c in failed:
                if isinstance(c, str):
                    lines.append(c)
                    continue
                lines.append("%s (%d requests):" % (c.name, len(c.records)))
                lines.extend("    " + p for p in c.problems[:8])
            self.fail("failing cells:\n" + "\n".join(lines))

    def stop_symptom(self, gw):
        """Stops gw; '' when it exited cleanly, else the lines that say how it died."""
        try:
            gw.stop()
            return ""
        except AssertionError as e:
            text = str(e)
        keep, frames = [], 0
        for line in text.splitlines():
            s = line.strip()
            if not s or s.startswith("{") or s.startswith("=") or '":"' in s \
                    or s.endswith('"}') or s == "stderr:":
                continue  # the gateway's own JSON log lines (or a cut one), separators
            if s.startswith("snapgate:"):
                s = s.split("; stderr:")[0]
            elif s.startswith("#"):
                frames += 1
                if frames > 3:  # the first three frames of the first stack are enough
                    continue
                s = s.split(" in ", 1)[-1]
            elif frames and not s.startswith("SUMMARY:"):
                continue
            keep.append(s[:160])
            if len(keep) >= 7:
                break
        return " | ".join(keep) or text[:300]

    def report(self, cell):
        statuses = {}
        for r in cell.records:
            k = r.status if r.status is not None else "err"
            statuses[k] = statuses.get(k, 0) + 1
        lat = max((r.latency for r in cell.records), default=0.0)
        verdict = "ok" if not cell.problems else "FAIL"
        sys.stderr.write("\n  cell %-40s %4s %4d req %s max %.2fs | %s" % (
            cell.name, verdict, len(cell.records),
            ",".join("%s:%d" % kv for kv in sorted(statuses.items(), key=str)), lat,
            cell.fetch_counts_text))
        for p in cell.problems[:6]:
            sys.stderr.write("\n      - %s" % p)
        if cell.probe_trace:
            sys.stderr.write("\n      leak probes (caller:task@header=status/X-Cache(whose "
                             "Info), ! = wrong): %s" % cell.probe_trace)
        type(self).summary.append((cell.name, len(cell.records), not cell.problems))


def _make_test(routing, redis, fault):
    def test(self):
        self.run_group(routing, redis, fault)
    test.__doc__ = "%s routing, Redis %s, fault %s: cells basic, bearer, delegated" % (
        routing, redis, fault)
    return test


@h.requires_gateway
class TestFaultMatrix(FaultMatrixBase):
    pass


for _r in ROUTINGS:
    for _d in REDIS_MODES:
        for _f in FAULTS:
            setattr(TestFaultMatrix, "test_%s_redis_%s_%s" % (_r, _d, _f),
                    _make_test(_r, _d, _f))


if __name__ == "__main__":
    unittest.main()
