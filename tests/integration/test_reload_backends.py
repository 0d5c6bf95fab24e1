#!/usr/bin/env python3
"""SIGHUP with changed backends (issues 5 and 6): a backend added, one removed, settings
changed; requests in flight across the reload finish; metrics and health follow the new set;
an unchanged backend keeps its clients (no new login)."""

import threading
import time
import unittest

import mock_dialects
import sg_harness as h


@h.requires_gateway
class TestReloadBackends(h.GatewayTestCase):

    def setUp(self):
        super().setUp()
        self.rest = mock_dialects.MockDialects(user=self.SVC_USER,
                                               password=self.SVC_PASSWORD).start()
        self.running = h.fixture("cis-running").expected

    def tearDown(self):
        self.rest.stop()
        super().tearDown()

    def rest_backend(self):
        return {"name": "rest1", "url": self.rest.url, "dialect": "rest",
                "credentials": {"username": self.SVC_USER, "password_file": self.password_file}}

    def reload_with(self, gw, cfg):
        """Rewrites gw's config file, sends SIGHUP, waits for the ok count to move."""
        self.assertTrue(h.reload_config(gw, cfg), gw.stderr_text[-2000:])

    def test_backends_added_and_removed_by_reload(self):
        self.rest.set_task("t-rest", {"status": 200, "body": self.running})
        self.mock.set_task("t-slow", {"status": 200, "body": self.running, "delay_ms": 800})
        one = self.config()
        two = self.config()
        two["backends"].append(self.rest_backend())
        only_rest = self.config()
        only_rest["backends"] = [self.rest_backend()]
        with h.Gateway(one) as gw:
            self.assertEqual(gw.http("GET", h.task_path("t-rest"), self.auth()).status, 404)
            logins_before = self.mock.stats()["logins"]
            # A request in flight on vc1 across the reload finishes normally.
            slow = {}
            t = threading.Thread(target=lambda: slow.update(
                r=gw.http("GET", h.task_path("t-slow"), self.auth())))
            t.start()
            time.sleep(0.2)
            self.reload_with(gw, two)
            t.join()
            self.assertEqual(slow["r"].status, 200, slow["r"].body)
            # rest1 is asked now (the 404 has to expire first: purge it).
            gw.admin("DELETE", "/cache/tasks/t-rest")
            r = gw.http("GET", h.task_path("t-rest"), self.auth())
            self.assertEqual(r.status, 200, r.body)
            samples = h.parse_metrics(gw.admin("GET", "/metrics").body.decode())
            self.assertEqual(h.metric_value(samples, "snapgate_upstream_requests_total",
                                            backend="rest1", code="200"), 1)
            self.assertTrue(h.wait_for(lambda: h.metric_value(
                h.parse_metrics(gw.admin("GET", "/metrics").body.decode()),
                "snapgate_backend_up", backend="rest1") == 1, 5.0))

            # Only rest1 left: vc1's tasks are not found any more, vc1 is not asked.
            self.reload_with(gw, only_rest)
            asked = self.mock.stats()["tasks"].get("t-vc1-only", 0)
            self.mock.set_task("t-vc1-only", {"status": 200, "body": self.running})
            r = gw.http("GET", h.task_path("t-vc1-only"), self.auth())
            self.assertEqual(r.status, 404, r.body)
            self.assertEqual(self.mock.stats()["tasks"].get("t-vc1-only", 0), asked)
            samples = h.parse_metrics(gw.admin("GET", "/metrics").body.decode())
            self.assertIsNone(h.metric_value(samples, "snapgate_backend_up", backend="vc1"))
        # The reload that added rest1 kept vc1's client: its session served on.
        self.assertEqual(self.mock.stats()["logins"], logins_before)

    def test_unchanged_backends_keep_their_session(self):
        cfg = self.config()
        with h.Gateway(cfg) as gw:
            fx = h.fixture("cis-succeeded")
            self.assertEqual(gw.http("GET", h.task_path(fx.task), self.auth()).status, 200)
            self.reload_with(gw, h.merge(cfg, {"cache": {"ttl": {"running": "2s"}}}))
            gw.admin("DELETE", "/cache/tasks/" + fx.task)
            self.assertEqual(gw.http("GET", h.task_path(fx.task), self.auth()).status, 200)
        self.assertEqual(self.mock.stats()["logins"], 1)

    def test_changed_backend_settings_take_effect(self):
        # retries.max 0 -> 2: a 503 then 200 becomes a 200 after the reload.
        cfg = self.config(backend={"retries": {"max": 0}})
        with h.Gateway(cfg) as gw:
            self.mock.set_task("t-flaky", {"sequence": [{"status": 503},
                                                        {"status": 200, "body": self.running}]})
            self.assertEqual(gw.http("GET", h.task_path("t-flaky"), self.auth()).status, 503)
            self.reload_with(gw, self.config(backend={"retries": {"max": 2}}))
            self.mock.set_task("t-flaky", {"sequence": [{"status": 503},
                                                        {"status": 200, "body": self.running}]})
            r = gw.http("GET", h.task_path("t-flaky"), self.auth())
        self.assertEqual(r.status, 200, r.body)


if __name__ == "__main__":
    unittest.main()
