"""The shared tier: what one replica fetched is a hit on another, the Redis key layout and
lifetimes, and the local tier in front of Redis.

Assumes (issue 3, CONTRACT): a task's answer lives under snapgate:v3:task:<id>; every key
snapgate writes starts with snapgate:v3:; the Redis TTL of an entry is its status TTL plus
cache.stale_if_error (kept that long for stale answers); X-Cache is HIT for an answer from
either tier; a lookup answered by the local tier sends no command to Redis."""

import base64
import json

import sg_harness as h

TTL = {"pending": "1s", "running": "1s", "blocked": "1s", "terminal": "24h",
       "not_found": "30s"}
STALE_S = 30  # cache.stale_if_error of redis_config()
# Commands a client may send on its own (connection set-up, health pings, pub/sub for
# purges) rather than for a lookup: left out of the "did it touch Redis" count.
HOUSEKEEPING = {"info", "ping", "auth", "select", "hello", "client|setname", "client|id",
                "client|setinfo", "subscribe", "psubscribe", "unsubscribe", "punsubscribe",
                "command", "command|docs", "publish", "echo", "config|get"}


def data_commands(redis):
    return sum(n for cmd, n in redis.command_calls().items() if cmd not in HOUSEKEEPING)


@h.requires_gateway
class TestRedisShared(h.RedisTestCase):
    def test_a_task_fetched_through_one_replica_is_a_hit_on_another(self):
        fx = self.set_body("t-shared", "cis-succeeded")
        with self.shared_gateways(2) as gws:
            a = self.get(gws[0], "t-shared")
            self.assertEqual((a.status, a.headers.get("x-cache")), (200, "MISS"))
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-shared")),
                            "replica A stored nothing under %s; keys: %s"
                            % (h.redis_task_key("t-shared"), self.redis.keys()))
            b = self.get(gws[1], "t-shared")
        self.assertEqual((b.status, b.headers.get("x-cache")), (200, "HIT"),
                         "replica B did not answer from Redis")
        self.assertEqual(b.body, a.body)
        self.assertEqual(b.json(), fx.expected)
        self.assertEqual(b.headers.get("etag"), a.headers.get("etag"))
        self.assertEqual(self.fetches("t-shared"), 1)

    def test_the_stored_value_holds_the_rendered_answer(self):
        self.set_body("t-bytes", "cis-succeeded")
        with self.shared_gateway() as gw:
            body = self.get(gw, "t-bytes").body
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-bytes")))
        value = self.redis.value(h.redis_task_key("t-bytes"))
        stored = value if isinstance(value, bytes) else b"".join(value.values())
        # raw, or escaped inside a JSON string, or base64: the rendered bytes themselves
        forms = (body, json.dumps(body.decode("utf-8"))[1:-1].encode(), base64.b64encode(body))
        self.assertTrue(any(f in stored for f in forms),
                        "the Redis entry does not carry the rendered bytes: %r" % stored[:300])

    def test_every_key_is_under_the_versioned_prefix(self):
        for task, case in (("t-p1", "cis-succeeded"), ("t-p2", "cis-running")):
            self.set_body(task, case)
        with self.shared_gateways(2) as gws:
            for gw in gws:
                for task in ("t-p1", "t-p2", "t-p-unknown"):
                    self.get(gw, task)
            self.redis.wait_for_key(h.redis_task_key("t-p2"))
            keys = self.redis.keys()
        self.assertIn(h.redis_task_key("t-p1"), keys)
        self.assertEqual([k for k in keys if not k.startswith(h.REDIS_PREFIX)], [],
                         "keys outside %s" % h.REDIS_PREFIX)

    def assertPttlBetween(self, key, low_s, high_s):
        ms = self.redis.ttl_ms(key)
        self.assertNotEqual(ms, -2, "no key %s; keys: %s" % (key, self.redis.keys()))
        self.assertNotEqual(ms, -1, "key %s never expires" % key)
        self.assertGreaterEqual(ms, low_s * 1000, "PTTL of %s too short" % key)
        self.assertLessEqual(ms, high_s * 1000, "PTTL of %s too long" % key)

    def test_a_terminal_entry_expires_after_ttl_terminal_plus_stale_if_error(self):
        self.set_body("t-done", "cis-succeeded")
        with self.shared_gateway({"cache": {"ttl": TTL}}) as gw:
            self.get(gw, "t-done")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-done")))
        # 24h + 30s, minus a few seconds for the way there, plus 1 s for clock rounding
        self.assertPttlBetween(h.redis_task_key("t-done"), 86400 + STALE_S - 5,
                               86400 + STALE_S + 1)

    def test_a_running_entry_expires_after_ttl_running_plus_stale_if_error(self):
        self.set_body("t-run", "cis-running")
        with self.shared_gateway({"cache": {"ttl": TTL}}) as gw:
            self.get(gw, "t-run")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-run")))
            # 1s + 30s, minus what the way there may take, plus 1 s for clock rounding
            self.assertPttlBetween(h.redis_task_key("t-run"), 1 + STALE_S - 3, 1 + STALE_S + 1)

    def test_a_local_hit_does_not_touch_redis(self):
        # a terminal task stays in the local tier for its whole TTL
        self.set_body("t-local", "cis-succeeded")
        with self.shared_gateway({"cache": {"local": {"max_ttl": "5s"}}}) as gw:
            self.assertEqual(self.get(gw, "t-local").headers.get("x-cache"), "MISS")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-local")))
            h.time.sleep(0.2)  # let the store settle
            before = data_commands(self.redis)
            conn = gw.connection()
            try:
                hits = [gw.http("GET", h.task_path("t-local"), self.auth(), conn=conn)
                        for _ in range(20)]
            finally:
                conn.close()
            after = data_commands(self.redis)
        self.assertEqual({r.headers.get("x-cache") for r in hits}, {"HIT"})
        self.assertEqual(after - before, 0,
                         "20 local hits sent %d lookup commands to Redis" % (after - before))
        self.assertEqual(self.fetches("t-local"), 1)

    def test_a_running_entry_leaves_the_local_tier_after_max_ttl_and_comes_from_redis(self):
        self.set_body("t-maxttl", "cis-running")
        overrides = {"cache": {"ttl": dict(TTL, running="10s"), "local": {"max_ttl": "1s"}}}
        with self.shared_gateway(overrides) as gw:
            self.get(gw, "t-maxttl")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-maxttl")))
            h.time.sleep(1.3)  # past local.max_ttl, well within ttl.running
            before = data_commands(self.redis)
            r = self.get(gw, "t-maxttl")
            after = data_commands(self.redis)
        self.assertEqual((r.status, r.headers.get("x-cache")), (200, "HIT"))
        self.assertGreaterEqual(after - before, 1,
                                "the lookup after local.max_ttl did not ask Redis")
        self.assertEqual(self.fetches("t-maxttl"), 1)

    def test_redis_with_a_password(self):
        self.redis.close()
        self.redis = h.RedisServer(password="s3cret-redis")
        self.addCleanup(self.redis.close)
        self.redis.start()
        self.set_body("t-pw", "cis-succeeded")
        with self.shared_gateways(2) as gws:
            self.get(gws[0], "t-pw")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-pw")),
                            "nothing stored through redis://:password@host")
            r = self.get(gws[1], "t-pw")
        self.assertEqual(r.headers.get("x-cache"), "HIT")
        self.assertEqual(self.fetches("t-pw"), 1)

    def test_redis_over_a_unix_socket(self):
        self.redis.close()
        self.redis = h.RedisServer(unix_socket=True)
        self.addCleanup(self.redis.close)
        self.redis.start()
        self.set_body("t-unix", "cis-succeeded")
        with self.shared_gateways(2) as gws:
            self.get(gws[0], "t-unix")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-unix")),
                            "nothing stored through %s" % self.redis.url)
            r = self.get(gws[1], "t-unix")
        self.assertEqual(r.headers.get("x-cache"), "HIT")
        self.assertEqual(self.fetches("t-unix"), 1)


if __name__ == "__main__":
    h.unittest.main()
