"""Cache lifetimes by task status (ttl.running 1s, terminal 24h, not_found 30s in the test
config) and the X-Cache / Cache-Control answers."""

import re
import time

import sg_harness as h

PAST_RUNNING_TTL = 1.3  # seconds: ttl.running (1s) and a margin


@h.requires_gateway
class TestCacheTtl(h.GatewayTestCase):
    def get(self, gw, task):
        return gw.http("GET", h.task_path(task), self.auth())

    def fetches(self, task):
        return self.mock.stats()["tasks"].get(task, 0)

    def test_miss_then_hit(self):
        fx = h.fixture("cis-succeeded")
        with self.gateway() as gw:
            r1, r2 = self.get(gw, fx.task), self.get(gw, fx.task)
        self.assertEqual((r1.headers.get("x-cache"), r2.headers.get("x-cache")), ("MISS", "HIT"))
        self.assertEqual(r1.body, r2.body)
        self.assertEqual(r1.headers.get("etag"), r2.headers.get("etag"))
        self.assertEqual(self.fetches(fx.task), 1)

    def test_succeeded_task_is_still_a_hit_after_ttl_running(self):
        fx = h.fixture("cis-succeeded")
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, fx.task).status, 200)
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, fx.task)
        self.assertEqual((r.status, r.headers.get("x-cache")), (200, "HIT"))
        self.assertEqual(self.fetches(fx.task), 1)

    def test_failed_task_is_still_a_hit_after_ttl_running(self):
        fx = h.fixture("cis-failed")
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, fx.task).status, 200)
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, fx.task)
        self.assertEqual(r.headers.get("x-cache"), "HIT")
        self.assertEqual(self.fetches(fx.task), 1)

    def test_running_task_is_a_hit_within_ttl_running(self):
        fx = h.fixture("cis-running")
        with self.gateway() as gw:
            self.get(gw, fx.task)
            r = self.get(gw, fx.task)
        self.assertEqual(r.headers.get("x-cache"), "HIT")
        self.assertEqual(self.fetches(fx.task), 1)

    def test_running_task_is_refetched_after_ttl_running(self):
        fx = h.fixture("cis-running")
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, fx.task).status, 200)
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, fx.task)
        self.assertEqual((r.status, r.headers.get("x-cache")), (200, "MISS"))
        self.assertEqual(self.fetches(fx.task), 2)

    def test_pending_task_is_refetched_after_ttl_pending(self):
        fx = h.fixture("cis-pending")
        with self.gateway() as gw:
            self.get(gw, fx.task)
            time.sleep(PAST_RUNNING_TTL)
            self.get(gw, fx.task)
        self.assertEqual(self.fetches(fx.task), 2)

    def test_a_refetch_serves_the_new_status_and_then_keeps_it(self):
        running, succeeded = h.fixture("cis-running"), h.fixture("cis-succeeded")
        self.mock.set_task("t", {"sequence": [{"status": 200, "body": running.expected},
                                              {"status": 200, "body": succeeded.expected}]})
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, "t").json()["status"], "RUNNING")
            time.sleep(PAST_RUNNING_TTL)
            self.assertEqual(self.get(gw, "t").json(), succeeded.expected)
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, "t")
        self.assertEqual((r.json()["status"], r.headers.get("x-cache")), ("SUCCEEDED", "HIT"))
        self.assertEqual(self.fetches("t"), 2)

    def test_not_found_is_not_refetched_within_ttl_not_found(self):
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, "missing").status, 404)
            time.sleep(PAST_RUNNING_TTL)
            self.assertEqual(self.get(gw, "missing").status, 404)
        self.assertEqual(self.fetches("missing"), 1)

    def test_cache_control_max_age_follows_the_status_ttl(self):
        with self.gateway() as gw:
            done = self.get(gw, h.fixture("cis-succeeded").task)
            running = self.get(gw, h.fixture("cis-running").task)
        age = lambda r: int(re.match(r"^private, max-age=(\d+)$",  # noqa: E731
                                     r.headers.get("cache-control", "")).group(1))
        self.assertGreaterEqual(age(done), 86000)
        self.assertLessEqual(age(done), 86400)
        self.assertLessEqual(age(running), 1)

    def test_errors_are_not_cached(self):
        self.mock.set_task("t", {"sequence": [{"status": 503},
                                              {"status": 200,
                                               "body": h.fixture("cis-succeeded").expected}]})
        with self.gateway() as gw:
            first = self.get(gw, "t")
            # a gateway may retry a 503 itself; only what the client sees matters here
            second = self.get(gw, "t") if first.status == 503 else first
        self.assertEqual(second.status, 200)


if __name__ == "__main__":
    h.unittest.main()
