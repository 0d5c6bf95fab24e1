"""Negative caching in the shared tier: a 404 is shared for ttl.not_found; garbage, 401,
403 and 5xx answers are never cached as anything.

Assumes (issue 3): a 404 entry is keyed exactly like a positive one
(snapgate:v3:task:<id>); an answer that is not cached leaves no such key."""

import time

import sg_harness as h

TTL = {"running": "1s", "not_found": "30s"}


@h.requires_gateway
class TestRedisNegative(h.RedisTestCase):
    def test_a_404_is_not_fetched_again_within_ttl_not_found_on_any_replica(self):
        with self.shared_gateways(2, {"cache": {"ttl": TTL}}) as gws:
            first = self.get(gws[0], "t-gone")
            self.assertError(first, 404, "NOT_FOUND")
            key = h.redis_task_key("t-gone")
            self.assertTrue(self.redis.wait_for_key(key),
                            "no negative entry under %s; keys: %s" % (key, self.redis.keys()))
            time.sleep(1.2)  # past local.max_ttl and ttl.running: only not_found keeps it
            answers = [self.get(gws[i % 2], "t-gone") for i in range(4)]
        for r in answers:
            self.assertError(r, 404, "NOT_FOUND")
        self.assertEqual(self.fetches("t-gone"), 1)
        self.assertLessEqual(self.redis.ttl_ms(key), (30 + 30 + 1) * 1000,
                             "negative entry kept longer than ttl.not_found + stale_if_error")
        self.assertGreater(self.redis.ttl_ms(key), 0)

    def test_a_404_from_one_replica_is_a_hit_on_another(self):
        with self.shared_gateways(2, {"cache": {"ttl": TTL}}) as gws:
            self.get(gws[0], "t-gone-2")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-gone-2")))
            r = self.get(gws[1], "t-gone-2")
        self.assertError(r, 404, "NOT_FOUND")
        self.assertEqual(self.fetches("t-gone-2"), 1)

    def assertNeverCached(self, task, script, replicas=2):
        self.mock.set_task(task, script)
        with self.shared_gateways(replicas) as gws:
            first = self.get(gws[0], task)
            after_first = self.fetches(task)
            time.sleep(0.2)  # a store, if any, would have landed
            self.assertFalse(self.redis.exists(h.redis_task_key(task)),
                             "an answer upstream %r was cached in Redis" % (script,))
            second = [self.get(gw, task) for gw in gws]
        self.assertNotEqual(first.status, 200)
        self.assertGreater(after_first, 0)
        self.assertGreaterEqual(self.fetches(task), after_first + replicas,
                                "a second request did not go upstream again")
        self.assertEqual([k for k in self.redis.keys() if k == h.redis_task_key(task)], [])
        return first, second

    def test_garbage_is_never_cached(self):
        first, second = self.assertNeverCached("t-garbage", {"action": "garbage"})
        self.assertError(first, 500, None)
        for r in second:
            self.assertEqual(r.status, 500)

    def test_the_garbage_fixture_is_never_cached(self):
        fx = h.fixture("cis-garbage")  # the mock serves it from the fixture seed
        self.assertEqual(self.fetches(fx.task), 0)
        with self.shared_gateway() as gw:
            self.assertEqual(self.get(gw, fx.task).status, 500)
            time.sleep(0.2)
            self.assertEqual(self.get(gw, fx.task).status, 500)
        self.assertEqual(self.redis.keys(h.REDIS_PREFIX + "task:*"), [])
        self.assertEqual(self.fetches(fx.task), 2)

    def test_an_upstream_401_is_never_cached(self):
        self.assertNeverCached("t-401", {"status": 401})

    def test_an_upstream_403_is_never_cached(self):
        first, _ = self.assertNeverCached("t-403", {"status": 403})
        self.assertError(first, 403, "UNAUTHORIZED")

    def test_an_upstream_503_is_never_cached(self):
        first, _ = self.assertNeverCached("t-503", {"status": 503})
        self.assertError(first, 503, "SERVICE_UNAVAILABLE")

    def test_an_upstream_500_is_never_cached(self):
        self.assertNeverCached("t-500", {"status": 500})


if __name__ == "__main__":
    h.unittest.main()
