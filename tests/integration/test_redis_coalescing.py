"""Coalescing across replicas: replicas sharing one Redis make one upstream fetch for a cold
task, whichever replica the requests land on.

Assumes (issue 3): the first replica takes a Redis lease for the task, the others wait for
the stored answer (bounded by a few seconds) before fetching themselves; a lease whose
holder died expires on its own."""

import threading
import time

import sg_harness as h

REPLICAS = 3
PER_REPLICA = 40
DELAY_MS = 400  # upstream delay of the cold fetch


@h.requires_gateway
class TestRedisCoalescing(h.RedisTestCase):
    def test_3x40_concurrent_cold_requests_make_one_upstream_fetch(self):
        fx = self.set_body("t-cold", "cis-succeeded", delay_ms=DELAY_MS)
        with self.shared_gateways(REPLICAS) as gws:
            auth = self.auth()
            answers = h.parallel(REPLICAS * PER_REPLICA, lambda i: gws[i % REPLICAS].http(
                "GET", h.task_path("t-cold"), auth, timeout=20), timeout=60)
            self.assertEqual([r.status for r in answers], [200] * REPLICAS * PER_REPLICA)
            self.assertEqual(len({r.body for r in answers}), 1, "the answers differ")
            self.assertEqual(answers[0].json(), fx.expected)
            self.assertEqual(len({r.headers.get("etag") for r in answers}), 1)
            self.assertEqual(self.mock.stats()["tasks"], {"t-cold": 1},
                             "the replicas did not share one upstream fetch")
            later = [self.get(gw, "t-cold") for gw in gws]
        self.assertEqual([r.headers.get("x-cache") for r in later], ["HIT"] * REPLICAS)
        self.assertEqual(self.fetches("t-cold"), 1)

    def test_a_running_task_is_coalesced_across_replicas_too(self):
        self.set_body("t-cold-run", "cis-running", delay_ms=DELAY_MS)
        overrides = {"cache": {"ttl": {"running": "5s"}}}
        with self.shared_gateways(2, overrides) as gws:
            auth = self.auth()
            answers = h.parallel(20, lambda i: gws[i % 2].http(
                "GET", h.task_path("t-cold-run"), auth, timeout=20))
        self.assertEqual([r.status for r in answers], [200] * 20)
        self.assertEqual(len({r.body for r in answers}), 1)
        self.assertEqual(self.fetches("t-cold-run"), 1)

    def test_a_dead_lease_holder_does_not_block_the_others(self):
        # A takes the lease and starts a slow fetch, then dies; B, asked meanwhile, must
        # still answer once the lease expires or its wait ends: 200 within 10 s.
        fx = h.fixture("cis-succeeded")
        self.mock.set_task("t-orphan", {"sequence": [
            {"status": 200, "body": fx.expected, "delay_ms": 1500},
            {"status": 200, "body": fx.expected}]})
        with self.shared_gateways(2) as gws:
            auth = self.auth()
            holder = threading.Thread(target=lambda: self._ignore_errors(
                gws[0].http, "GET", h.task_path("t-orphan"), auth, timeout=5), daemon=True)
            holder.start()
            self.assertTrue(h.wait_for(lambda: self.fetches("t-orphan") == 1, 3),
                            "replica A never fetched")
            t0 = time.monotonic()
            waiter = threading.Thread(target=lambda: setattr(self, "_b", gws[1].http(
                "GET", h.task_path("t-orphan"), auth, timeout=15)), daemon=True)
            waiter.start()
            time.sleep(0.2)
            gws[0].kill()
            waiter.join(15)
            took = time.monotonic() - t0
            b = getattr(self, "_b", None)
        self.assertIsNotNone(b, "replica B never answered")
        self.assertEqual(b.status, 200)
        self.assertEqual(b.json(), fx.expected)
        self.assertLess(took, 10.0, "replica B waited %.1f s on a dead lease holder" % took)

    @staticmethod
    def _ignore_errors(fn, *args, **kw):
        try:
            fn(*args, **kw)
        except OSError:
            pass


if __name__ == "__main__":
    h.unittest.main()
