#!/usr/bin/env python3
"""Resilience with several backends (issue 5): one backend refusing connections and one
that accepts and never answers do not slow down tasks on the healthy one (p99 compared with
an all-healthy run); both are taken out (health checks, passive ejection) and come back
when they recover; /readyz follows the health checks."""

import http.client
import threading
import time
import unittest
import http.server

import mock_dialects
import sg_harness as h

FAST_HEALTH = {"interval": "500ms", "timeout": "250ms", "rise": 2, "fall": 2}
TASKS = ["t-load-%02d" % i for i in range(20)]
UPSTREAM_DELAY_MS = 20


class Always503:
    """Answers 503 to every request and counts them."""

    def __init__(self):
        outer = self
        self.count = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.count += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def p99(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


@h.requires_gateway
class TestResilience(h.GatewayTestCase):

    def entry(self, name, url, dialect, **extra):
        return h.merge({"name": name, "url": url, "dialect": dialect,
                        "credentials": {"username": self.SVC_USER,
                                        "password_file": self.password_file},
                        "timeouts": {"connect": "1s", "request": "2s"},
                        "health_check": FAST_HEALTH,
                        "outlier": {"ejection": "1s"}}, extra)

    def gateway_with(self, backends, **overrides):
        cfg = self.config(h.merge({"log": {"level": "info"},
                                   "cache": {"ttl": {"running": "200ms"}}}, overrides))
        cfg["backends"] = backends
        return h.Gateway(cfg)

    def metrics(self, gw):
        return h.parse_metrics(gw.admin("GET", "/metrics").body.decode())

    def up(self, gw, backend):
        return h.metric_value(self.metrics(gw), "snapgate_backend_up", backend=backend)

    def load(self, gw, seconds=4.0, clients=6):
        """Clients polling the 20 tasks on keep-alive connections; returns latencies (s)."""
        latencies, errors = [], []
        stop = time.monotonic() + seconds
        auth = self.auth()

        def client(k):
            conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
            i = k
            while time.monotonic() < stop:
                task = TASKS[i % len(TASKS)]
                i += 1
                t0 = time.monotonic()
                conn.request("GET", h.task_path(task), headers=auth)
                r = conn.getresponse()
                r.read()
                latencies.append(time.monotonic() - t0)
                if r.status != 200:
                    errors.append((task, r.status))
            conn.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        return latencies

    def seed(self):
        running = h.fixture("cis-running").expected
        for t in TASKS:
            self.mock.set_task(t, {"status": 200, "body": running})
        self.mock.configure(delay_ms=UPSTREAM_DELAY_MS)

    def test_broken_backends_do_not_slow_the_healthy_one_and_come_back(self):
        self.seed()
        good_rest = mock_dialects.MockDialects(user=self.SVC_USER,
                                               password=self.SVC_PASSWORD).start()
        good_snap = mock_dialects.MockDialects(user=self.SVC_USER,
                                               password=self.SVC_PASSWORD).start()
        try:
            with self.gateway_with([self.entry("vc1", self.mock.url, "cis"),
                                    self.entry("rest1", good_rest.url, "rest"),
                                    self.entry("snap1", good_snap.url, "snapservice")]) as gw:
                healthy = self.load(gw)
        finally:
            good_rest.stop()
            good_snap.stop()

        refused_port = h.free_port()
        hanging = h.HangingServer()
        revived = []
        try:
            with self.gateway_with([
                    self.entry("vc1", self.mock.url, "cis"),
                    self.entry("rest1", "http://127.0.0.1:%d" % refused_port, "rest"),
                    self.entry("snap1", "http://127.0.0.1:%d" % hanging.port,
                               "snapservice")]) as gw:
                broken = self.load(gw)
                # Both broken ones are out within a few seconds, the healthy one is in.
                self.assertTrue(h.wait_for(lambda: self.up(gw, "rest1") == 0
                                           and self.up(gw, "snap1") == 0, 5.0),
                                self.metrics(gw))
                self.assertEqual(self.up(gw, "vc1"), 1)
                self.assertEqual(gw.admin("GET", "/readyz").status, 200)

                # They recover: a real backend on each of their ports.
                hanging.stop()
                rest = mock_dialects.MockDialects(port=refused_port, user=self.SVC_USER,
                                                  password=self.SVC_PASSWORD).start()
                revived.append(rest)
                snap = mock_dialects.MockDialects(port=hanging.port, user=self.SVC_USER,
                                                  password=self.SVC_PASSWORD).start()
                revived.append(snap)
                self.assertTrue(h.wait_for(lambda: self.up(gw, "rest1") == 1
                                           and self.up(gw, "snap1") == 1, 8.0),
                                self.metrics(gw))
                running = h.fixture("cis-running").expected
                rest.set_task("t-on-rest", {"status": 200, "body": running})
                snap.set_task("t-on-snap", {"status": 200, "body": running})
                for task in ("t-on-rest", "t-on-snap"):
                    r = gw.http("GET", h.task_path(task), self.auth())
                    self.assertEqual(r.status, 200, (task, r.body))
        finally:
            hanging.stop()
            for m in revived:
                m.stop()

        healthy_p99, broken_p99 = p99(healthy), p99(broken)
        print("\nall healthy: %d requests, p99 %.1f ms; one refusing + one hanging: "
              "%d requests, p99 %.1f ms" % (len(healthy), healthy_p99 * 1e3, len(broken),
                                            broken_p99 * 1e3))
        # Within 2x of the all-healthy run (2 ms of slack for loopback jitter).
        self.assertLessEqual(broken_p99, 2 * healthy_p99 + 0.002)

    def test_consecutive_failures_eject_and_the_time_out_ends(self):
        self.seed()
        # vc1 slow enough that bad's instant 503 always lands first (a leg cancelled by
        # vc1's 200 would not count as a failure), even on a loaded machine.
        self.mock.configure(delay_ms=150)
        bad = Always503()
        try:
            with self.gateway_with([
                    self.entry("vc1", self.mock.url, "cis"),
                    self.entry("bad", bad.url, "snapservice",
                               health_check={"enabled": False}, retries={"max": 0},
                               outlier={"consecutive_failures": 5, "ejection": "3s"})]) as gw:
                for t in TASKS[:5]:  # the 503 comes before vc1's 200 each time
                    self.assertEqual(gw.http("GET", h.task_path(t), self.auth()).status, 200)
                ejected_at = time.monotonic()
                samples = self.metrics(gw)
                self.assertEqual(h.metric_value(samples, "snapgate_backend_ejections_total",
                                                backend="bad"), 1)
                self.assertEqual(h.metric_value(samples, "snapgate_backend_up",
                                                backend="bad"), 0)
                asked = bad.count
                for t in TASKS[5:15]:  # ejected: not asked
                    self.assertEqual(gw.http("GET", h.task_path(t), self.auth()).status, 200)
                self.assertEqual(bad.count, asked)
                time.sleep(max(0.0, ejected_at + 3.1 - time.monotonic()))
                self.assertEqual(self.up(gw, "bad"), 1)
                self.assertEqual(gw.http("GET", h.task_path(TASKS[15]), self.auth()).status,
                                 200)
                self.assertEqual(bad.count, asked + 1)
        finally:
            bad.stop()
        self.assertEqual(asked, 5)

    def test_the_last_backend_is_never_ejected(self):
        bad = Always503()
        try:
            with self.gateway_with([self.entry("bad", bad.url, "snapservice",
                                               health_check={"enabled": False},
                                               retries={"max": 0})]) as gw:
                for i in range(8):
                    r = gw.http("GET", h.task_path("t-%d" % i), self.auth())
                    self.assertEqual(r.status, 503)
                samples = self.metrics(gw)
        finally:
            bad.stop()
        self.assertEqual(bad.count, 8)  # every request was still tried
        self.assertEqual(h.metric_value(samples, "snapgate_backend_ejections_total",
                                        backend="bad"), 0)

    def test_readyz_follows_the_health_checks(self):
        port = h.free_port()
        revived = None
        try:
            with self.gateway_with([self.entry("vc1", "http://127.0.0.1:%d" % port,
                                               "cis")]) as gw:
                self.assertTrue(h.wait_for(lambda: gw.admin("GET", "/readyz").status == 503,
                                           3.0))
                self.assertIn(b"no backend is usable", gw.admin("GET", "/readyz").body)
                revived = mock_dialects.MockDialects(port=port, user=self.SVC_USER,
                                                     password=self.SVC_PASSWORD).start()
                self.assertTrue(h.wait_for(lambda: gw.admin("GET", "/readyz").status == 200,
                                           5.0))
                revived.stop()
                revived = None
                # fall 2 x interval 500 ms, plus the probe in flight
                t0 = time.monotonic()
                self.assertTrue(h.wait_for(lambda: gw.admin("GET", "/readyz").status == 503,
                                           5.0))
                self.assertLess(time.monotonic() - t0, 3.0)
        finally:
            if revived:
                revived.stop()

    def test_retries_are_counted_per_backend(self):
        self.mock.set_task("t-flaky", {"sequence": [{"status": 503}, {"status": 502},
                                                    {"status": 200, "body":
                                                     h.fixture("cis-running").expected}]})
        with self.gateway_with([self.entry("vc1", self.mock.url, "cis")]) as gw:
            r = gw.http("GET", h.task_path("t-flaky"), self.auth())
            samples = self.metrics(gw)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.mock.stats()["tasks"]["t-flaky"], 3)
        self.assertEqual(h.metric_value(samples, "snapgate_upstream_retries_total",
                                        backend="vc1"), 2)
        self.assertEqual(h.metric_value(samples, "snapgate_upstream_requests_total",
                                        backend="vc1", code="200"), 1)


if __name__ == "__main__":
    unittest.main()
