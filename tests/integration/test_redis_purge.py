"""DELETE /cache/tasks/{task} on the admin port drops a task from Redis and from the local
tier of every replica.

Assumes (issue 3, CONTRACT): the purge answers 204 once the Redis key is deleted and the
purge announced (pub/sub); replicas drop their local copy when the announcement reaches
them, which this test allows PROPAGATION_S for; a purge of an unknown task is also 204."""

import time

import sg_harness as h

REPLICAS = 3
PROPAGATION_S = 0.3  # pub/sub delivery to the other replicas' event loops
OVERRIDES = {"cache": {"local": {"max_ttl": "10s"}}}  # terminal entries stay local anyway


@h.requires_gateway
class TestRedisPurge(h.RedisTestCase):
    def warm(self, gws, task):
        """Every replica answers task from its local tier."""
        for gw in gws:
            self.assertEqual(self.get(gw, task).status, 200)
            self.redis.wait_for_key(h.redis_task_key(task))
        for gw in gws:
            self.assertEqual(self.get(gw, task).headers.get("x-cache"), "HIT")

    def purge_via(self, gw, task):
        r = self.purge(gw, task)
        self.assertEqual(r.status, 204, "DELETE /cache/tasks/%s: %d %r"
                         % (task, r.status, r.body[:200]))
        self.assertEqual(r.body, b"")

    def test_after_a_purge_the_next_request_on_every_replica_is_a_miss(self):
        # One round per replica: warm all, purge through replica 1, ask replica r first.
        self.set_body("t-purge", "cis-succeeded")
        with self.shared_gateways(REPLICAS, OVERRIDES) as gws:
            for r in range(REPLICAS):
                self.warm(gws, "t-purge")
                before = self.fetches("t-purge")
                self.purge_via(gws[1], "t-purge")
                self.assertFalse(self.redis.exists(h.redis_task_key("t-purge")),
                                 "the Redis key survived the purge")
                time.sleep(PROPAGATION_S)
                after = self.get(gws[r], "t-purge")
                self.assertEqual((after.status, after.headers.get("x-cache")), (200, "MISS"),
                                 "replica %d still answered from a cache after the purge" % r)
                self.assertEqual(self.fetches("t-purge"), before + 1,
                                 "replica %d did not fetch upstream after the purge" % r)

    def test_after_a_purge_every_replica_serves_the_new_answer(self):
        self.set_body("t-new", "cis-failed")
        with self.shared_gateways(REPLICAS, OVERRIDES) as gws:
            self.warm(gws, "t-new")
            new = self.set_body("t-new", "cis-succeeded")  # the backend's answer changed
            self.purge_via(gws[0], "t-new")
            time.sleep(PROPAGATION_S)
            answers = [self.get(gw, "t-new") for gw in gws]
        self.assertEqual([r.json() for r in answers], [new.expected] * REPLICAS)
        self.assertEqual(answers[0].headers.get("x-cache"), "MISS")

    def test_the_redis_key_is_gone(self):
        self.set_body("t-key", "cis-succeeded")
        with self.shared_gateway(OVERRIDES) as gw:
            self.get(gw, "t-key")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-key")))
            self.purge_via(gw, "t-key")
            # The 204 comes once the DEL is sent, not once Redis applied it (README,
            # "Purge"): under load another client may look a moment too early.
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-key"), present=False))

    def test_a_purge_of_an_unknown_task_is_204(self):
        with self.shared_gateway() as gw:
            self.purge_via(gw, "never-seen")

    def test_a_purge_with_redis_down_still_drops_the_local_copy(self):
        self.set_body("t-down", "cis-succeeded")
        with self.shared_gateway(OVERRIDES) as gw:
            self.get(gw, "t-down")
            self.assertEqual(self.get(gw, "t-down").headers.get("x-cache"), "HIT")
            self.redis.kill()
            r = self.purge(gw, "t-down")
            after = self.get(gw, "t-down")
        # Redis (and so the other replicas) cannot be told: 204 or 503 are both honest
        # answers, but this replica's own copy must go either way.
        self.assertIn(r.status, (204, 503))
        self.assertNotEqual(after.headers.get("x-cache"), "HIT",
                            "the local copy survived a purge")

    def test_purge_without_redis_drops_the_in_process_entry(self):
        self.set_body("t-local", "cis-succeeded")
        with self.gateway() as gw:  # no redis section: the in-process tier alone
            self.get(gw, "t-local")
            self.assertEqual(self.get(gw, "t-local").headers.get("x-cache"), "HIT")
            self.purge_via(gw, "t-local")
            after = self.get(gw, "t-local")
        self.assertEqual(after.headers.get("x-cache"), "MISS")
        self.assertEqual(self.fetches("t-local"), 2)


if __name__ == "__main__":
    h.unittest.main()
