"""A request whose one usable backend cannot be asked while another is up (issue 10, item 1).

Before the fix the flight answered such a request from inside the call that joined it: the
request was freed, written and freed again (a use-after-free that killed the worker). Reached
by ordinary polling during a partial outage: the remembered owner of a task is down under
fan-out, or X-Snapgate-Backend names a down backend. Each test polls that path many times and
then checks the process still serves; the harness fails on any sanitizer report or bad exit."""

import time

import mock_vcenter
import sg_harness as h

FAST_HEALTH = {"interval": "200ms", "timeout": "150ms", "rise": 1, "fall": 1}


@h.requires_gateway
class TestBackendOut(h.GatewayTestCase):

    def entry(self, name, url):
        return {"name": name, "url": url, "dialect": "cis",
                "credentials": {"username": self.SVC_USER, "password_file": self.password_file},
                "timeouts": {"connect": "1s", "request": "2s"},
                "health_check": FAST_HEALTH, "retries": {"max": 0}}

    def gateway_with(self, backends, **overrides):
        cfg = self.config(h.merge({"log": {"level": "info"}}, overrides))
        cfg["backends"] = backends
        return h.Gateway(cfg)

    def wait_down(self, gw, backend, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = h.parse_metrics(gw.admin("GET", "/metrics").body.decode())
            if h.metric_value(m, "snapgate_backend_up", backend=backend) == 0:
                return
            time.sleep(0.05)
        self.fail("backend %s never went down" % backend)

    def test_header_naming_a_down_backend_is_503_and_the_worker_lives(self):
        fx = h.fixture("cis-running")
        self.mock.set_task(fx.task, {"status": 200, "body": fx.expected})
        down = "http://127.0.0.1:%d" % h.free_port()
        with self.gateway_with([self.entry("vc1", self.mock.url), self.entry("vc2", down)],
                               routing={"strategy": "header"}) as gw:
            self.wait_down(gw, "vc2")
            auth = self.auth()
            conn = gw.connection()
            for i in range(30):
                r = gw.http("GET", h.task_path("t-%d" % i),
                            dict(auth, **{"X-Snapgate-Backend": "vc2"}), conn=conn)
                self.assertEqual(r.status, 503, r.body[:200])
                self.assertErrorBody(r.body, "SERVICE_UNAVAILABLE")
            r = gw.http("GET", h.task_path(fx.task), dict(auth, **{"X-Snapgate-Backend": "vc1"}))
            self.assertEqual((r.status, r.json()), (200, fx.expected))

    def test_polling_a_task_whose_owner_went_down_under_fanout(self):
        fx = h.fixture("cis-running")
        other = mock_vcenter.MockVCenter(user=self.SVC_USER, password=self.SVC_PASSWORD).start()
        try:
            task = "only-on-vc2"  # vc1 (the class's mock) is seeded with the fixtures' ids
            other.set_task(task, {"status": 200, "body": fx.expected})
            self.mock.set_task("on-vc1", {"status": 200, "body": fx.expected})
            with self.gateway_with([self.entry("vc1", self.mock.url),
                                    self.entry("vc2", other.url)],
                                   cache={"ttl": {"running": "100ms"},
                                          "stale_if_error": "0s"}) as gw:
                auth = self.auth()
                r = gw.http("GET", h.task_path(task), auth)
                self.assertEqual((r.status, r.json()), (200, fx.expected))  # vc2 owns it now
                other.stop()
                self.wait_down(gw, "vc2")
                # once the entry expired, the next miss asks its owner alone
                deadline = time.monotonic() + 3
                while gw.http("GET", h.task_path(task), auth).headers.get("x-cache") == "HIT":
                    self.assertLess(time.monotonic(), deadline, "the entry never expired")
                    time.sleep(0.05)
                conn = gw.connection()
                statuses = set()
                for _ in range(30):
                    statuses.add(gw.http("GET", h.task_path(task), auth, conn=conn).status)
                self.assertEqual(statuses, {503})
                # concurrent pollers of the same task share the flight that ends at once
                answers = h.parallel(8, lambda i: gw.http("GET", h.task_path(task), auth))
                self.assertEqual({a.status for a in answers}, {503})
                r = gw.http("GET", h.task_path("on-vc1"), auth)
                self.assertEqual(r.status, 200)
        finally:
            other.stop()


if __name__ == "__main__":
    h.unittest.main()
