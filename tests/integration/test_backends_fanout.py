#!/usr/bin/env python3
"""Several backends behind one endpoint (issue 5): fan-out finds each task's owner and
remembers it, so the next miss asks only that backend (counted on the backends); 404 only
when every backend said so; header routing; progress.completed never decreasing; a vim25
backend (the real vCenter simulator) in the mix."""

import copy
import time
import unittest

import mock_dialects
import prom_strict
import sg_harness as h

PAST_RUNNING_TTL = 1.3


def running(completed):
    info = copy.deepcopy(h.fixture("cis-running").expected)
    info["progress"]["completed"] = completed
    return info


@h.requires_gateway
class TestFanout(h.GatewayTestCase):
    """Three backends in three dialects: cis (the class's mock), rest and snapservice
    (MockDialects, one each). Each task lives on exactly one of them."""

    def setUp(self):
        super().setUp()
        self.rest = mock_dialects.MockDialects(user=self.SVC_USER,
                                               password=self.SVC_PASSWORD).start()
        self.snap = mock_dialects.MockDialects(user=self.SVC_USER,
                                               password=self.SVC_PASSWORD).start()
        self.mocks = {"cis1": self.mock, "rest1": self.rest, "snap1": self.snap}

    def tearDown(self):
        self.rest.stop()
        self.snap.stop()
        super().tearDown()

    def backends(self, **extra):
        def entry(name, mock, dialect):
            return h.merge({"name": name, "url": mock.url, "dialect": dialect,
                            "credentials": {"username": self.SVC_USER,
                                            "password_file": self.password_file},
                            "timeouts": {"connect": "2s", "request": "2s"}}, extra)
        return [entry("cis1", self.mock, "cis"), entry("rest1", self.rest, "rest"),
                entry("snap1", self.snap, "snapservice")]

    def fanout_gateway(self, overrides=None):
        cfg = self.config(overrides)
        cfg["backends"] = self.backends()
        return h.Gateway(cfg)

    def counts(self, task):
        return {name: m.stats()["tasks"].get(task, 0) for name, m in self.mocks.items()}

    def settled_counts(self, task, quiet=0.3, limit=3.0):
        """The counts once no backend has counted anything new for `quiet` seconds. A fan-out
        answered by its owner drops the others' requests, but a loaded mock may count one of
        them only later (its handler thread runs after the gateway hung up: the BrokenPipe in
        the log); a snapshot taken at once would charge that count to the next miss."""
        last, stable_since, deadline = self.counts(task), time.monotonic(), time.monotonic() + limit
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.counts(task)
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= quiet:
                break
        return last

    def get(self, gw, task, headers=None):
        hdrs = self.auth()
        hdrs.update(headers or {})
        return gw.http("GET", h.task_path(task), hdrs)

    def test_fanout_finds_the_owner_and_the_next_miss_asks_only_it(self):
        owners = {"t-on-cis": "cis1", "t-on-rest": "rest1", "t-on-snap": "snap1"}
        for task, owner in owners.items():
            self.mocks[owner].set_task(task, {"status": 200, "body": running(10)})
        with self.fanout_gateway() as gw:
            first = {task: self.get(gw, task) for task in owners}
            after_first = {task: self.settled_counts(task) for task in owners}
            time.sleep(PAST_RUNNING_TTL)
            second = {task: self.get(gw, task) for task in owners}
            after_second = {task: self.settled_counts(task) for task in owners}
            text = gw.admin("GET", "/metrics").body.decode()
            prom_strict.parse(text)  # three backends' label sets, strictly well-formed
            samples = h.parse_metrics(text)
        for task, owner in owners.items():
            self.assertEqual(first[task].status, 200, (task, first[task].body))
            self.assertEqual(first[task].json(), running(10), task)
            self.assertEqual(first[task].headers["x-cache"], "MISS")
            self.assertEqual(second[task].status, 200, (task, second[task].body))
            self.assertEqual(second[task].headers["x-cache"], "MISS")  # expired: fetched again
            self.assertEqual(after_first[task][owner], 1, (task, after_first))
            # The second miss went to the owner alone: only its count moved.
            moved = {name: after_second[task][name] - after_first[task][name]
                     for name in self.mocks}
            self.assertEqual(moved, {name: int(name == owner) for name in self.mocks},
                             (task, after_first[task], after_second[task]))
        self.assertGreaterEqual(h.metric_value(samples, "snapgate_upstream_requests_total",
                                               backend="rest1", code="200"), 2)

    def test_404_only_when_every_backend_says_404(self):
        with self.fanout_gateway() as gw:
            r = self.get(gw, "t-nowhere")
        self.assertError(r, 404, "NOT_FOUND")
        self.assertEqual(self.counts("t-nowhere"), {"cis1": 1, "rest1": 1, "snap1": 1})

    def test_503_when_one_backend_fails_and_the_others_say_404(self):
        self.rest.set_task("t-maybe", {"status": 500})
        self.snap.set_task("t-maybe", {"action": "close"})
        with self.fanout_gateway() as gw:
            r = self.get(gw, "t-maybe")
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")

    def test_same_id_on_two_backends_first_200_wins_then_sticks(self):
        # snap1 answers at once, cis1 after 300 ms: snap1 owns the task from then on.
        self.snap.set_task("t-dup", {"status": 200, "body": running(20)})
        self.mock.set_task("t-dup", {"status": 200, "body": running(70), "delay_ms": 300})
        with self.fanout_gateway() as gw:
            a = self.get(gw, "t-dup")
            time.sleep(PAST_RUNNING_TTL)
            before = self.counts("t-dup")
            b = self.get(gw, "t-dup")
            after = self.counts("t-dup")
        self.assertEqual(a.json()["progress"]["completed"], 20)
        self.assertEqual(b.json()["progress"]["completed"], 20)
        self.assertEqual(after["snap1"] - before["snap1"], 1)
        self.assertEqual(after["cis1"] - before["cis1"], 0)

    def test_completed_never_decreases_across_fetches(self):
        self.rest.set_task("t-progress", {"sequence": [
            {"status": 200, "body": running(60)},
            {"status": 200, "body": running(40)},   # a backend's view going back
            {"status": 200, "body": running(75)}]})
        with self.fanout_gateway() as gw:
            seen = []
            for _ in range(3):
                r = self.get(gw, "t-progress")
                self.assertEqual(r.status, 200, r.body)
                seen.append(r.json()["progress"]["completed"])
                time.sleep(PAST_RUNNING_TTL)
        self.assertEqual(seen, [60, 60, 75])
        self.assertEqual(self.counts("t-progress")["rest1"], 3)

    def test_header_routing(self):
        self.mock.set_task("t-twice", {"status": 200, "body": running(11)})
        self.rest.set_task("t-twice", {"status": 200, "body": running(22)})
        with self.fanout_gateway({"routing": {"strategy": "header"}}) as gw:
            on_cis = self.get(gw, "t-twice", {"X-Snapgate-Backend": "cis1"})
            on_rest = self.get(gw, "t-twice", {"X-Snapgate-Backend": "rest1"})
            again_cis = self.get(gw, "t-twice", {"X-Snapgate-Backend": "cis1"})
            again_rest = self.get(gw, "t-twice", {"X-Snapgate-Backend": "rest1"})
            purged = gw.admin("DELETE", "/cache/tasks/t-twice")
            after_purge = self.get(gw, "t-twice", {"X-Snapgate-Backend": "rest1"})
            missing = self.get(gw, "t-twice")
            unknown = self.get(gw, "t-twice", {"X-Snapgate-Backend": "vc9"})
            unauthenticated = gw.http("GET", h.task_path("t-twice"),
                                      {"X-Snapgate-Backend": "vc9"})
        self.assertEqual(on_cis.json()["progress"]["completed"], 11)
        # Another backend's task of the same id is another task: not the cached one.
        self.assertEqual(on_rest.json()["progress"]["completed"], 22)
        self.assertEqual(on_rest.headers["x-cache"], "MISS")
        # Each backend's answer is cached on its own: both are hits now.
        self.assertEqual(again_cis.json()["progress"]["completed"], 11)
        self.assertEqual((again_cis.headers["x-cache"], again_rest.headers["x-cache"]),
                         ("HIT", "HIT"))
        # A purge drops the task of every backend.
        self.assertEqual(purged.status, 204)
        self.assertEqual(after_purge.headers["x-cache"], "MISS")
        for r in (missing, unknown):
            body = self.assertError(r, 400, "INVALID_ARGUMENT")
            self.assertIn("X-Snapgate-Backend", body["messages"][0]["default_message"])
        self.assertEqual(unauthenticated.status, 401)  # credentials are checked first
        self.assertEqual(self.counts("t-twice"), {"cis1": 1, "rest1": 2, "snap1": 0})


@h.requires_gateway
class TestFanoutWithSimulator(h.GatewayTestCase):
    """cis (the mock), rest (MockDialects) and vim25 (the real vCenter simulator): the
    simulator's seeded tasks are found by fan-out, and their next miss skips the others."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.vcsim_build()

    def test_simulator_tasks_found_then_asked_directly(self):
        rest = mock_dialects.MockDialects(user=self.SVC_USER, password=self.SVC_PASSWORD).start()
        try:
            with h.VCSim() as sim:
                cfg = self.config()
                cfg["backends"] += [
                    {"name": "rest1", "url": rest.url, "dialect": "rest",
                     "credentials": {"username": self.SVC_USER,
                                     "password_file": self.password_file}},
                    {"name": "sim", "url": sim.base_url, "dialect": "vim25",
                     "credentials": {"username": "user", "password_file":
                                     h.write_file(self.tmp, "sim-password", "pass")},
                     "timeouts": {"connect": "2s", "request": "5s"}}]
                with h.Gateway(cfg) as gw:
                    first, asked = {}, {}
                    for state in ("RUNNING", "SUCCESS"):
                        task = sim.tasks[state]
                        first[state] = gw.http("GET", h.task_path(task), self.auth())
                        asked[state] = (self.mock.stats()["tasks"].get(task, 0),
                                        rest.stats()["tasks"].get(task, 0))
                    # A cancelled leg's request may still be on its way to a mock when the
                    # first answer is back: count what the mocks saw once it has landed.
                    time.sleep(0.3)
                    task = sim.tasks["RUNNING"]
                    asked["RUNNING"] = (self.mock.stats()["tasks"].get(task, 0),
                                        rest.stats()["tasks"].get(task, 0))
                    time.sleep(PAST_RUNNING_TTL)
                    second = gw.http("GET", h.task_path(task), self.auth())
                    samples = h.parse_metrics(gw.admin("GET", "/metrics").body.decode())
                    after = (self.mock.stats()["tasks"].get(task, 0),
                             rest.stats()["tasks"].get(task, 0))
        finally:
            rest.stop()
        self.assertEqual(first["RUNNING"].status, 200, first["RUNNING"].body)
        self.assertEqual(first["RUNNING"].json()["progress"]["completed"], 42)
        self.assertEqual(first["SUCCESS"].json()["status"], "SUCCEEDED")
        self.assertEqual(second.status, 200, second.body)
        self.assertEqual(second.headers["x-cache"], "MISS")
        self.assertEqual(second.json()["progress"]["completed"], 42)
        # The fan-out asked the others too (unless the simulator's 200 came first and their
        # requests were cancelled before they arrived); the second miss did not.
        self.assertLessEqual(max(asked["RUNNING"]), 1)
        self.assertEqual(after, asked["RUNNING"])
        self.assertEqual(h.metric_value(samples, "snapgate_upstream_requests_total",
                                        backend="sim", code="200"), 3)


if __name__ == "__main__":
    unittest.main()
