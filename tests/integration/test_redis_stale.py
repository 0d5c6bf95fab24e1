"""stale_if_error: when every backend fails, an expired entry up to that age is served.

Assumes (issue 3, CONTRACT): the answer is 200 with X-Cache: STALE, an Age header (whole
seconds since the backend gave that answer) and the old body; with nothing cached the
client gets 503 SERVICE_UNAVAILABLE; past stale_if_error the entry is gone (503). Backend
failures are a 5xx answer, a connection closed without an answer and a timeout."""

import time

import sg_harness as h

OVERRIDES = {"cache": {"ttl": {"running": "1s"}, "stale_if_error": "30s",
                       "local": {"max_ttl": "1s"}}}
PAST_TTL = 1.5  # seconds: ttl.running and a margin


@h.requires_gateway
class TestRedisStale(h.RedisTestCase):
    def script_then_fail(self, task, failure, case="cis-running"):
        fx = h.fixture(case)
        self.mock.set_task(task, {"sequence": [{"status": 200, "body": fx.expected}, failure]})
        return fx

    def assertStale(self, r, old):
        self.assertEqual(r.status, 200, "body: %r" % r.body[:300])
        self.assertEqual(r.headers.get("x-cache"), "STALE")
        self.assertEqual(r.body, old.body, "a stale answer must be the old bytes")
        age = r.headers.get("age", "")
        self.assertRegex(age, r"^\d+$", "Age must be whole seconds")
        self.assertGreaterEqual(int(age), 1)
        self.assertLessEqual(int(age), 30)

    def test_an_expired_entry_is_served_stale_while_the_backend_answers_503(self):
        self.script_then_fail("t-stale", {"status": 503})
        with self.shared_gateway(OVERRIDES) as gw:
            old = self.get(gw, "t-stale")
            self.assertEqual((old.status, old.headers.get("x-cache")), (200, "MISS"))
            time.sleep(PAST_TTL)
            r = self.get(gw, "t-stale")
        self.assertStale(r, old)
        self.assertGreaterEqual(self.fetches("t-stale"), 2, "the backend was not asked again")

    def test_a_stale_answer_comes_from_redis_on_another_replica(self):
        self.script_then_fail("t-stale-x", {"status": 503})
        with self.shared_gateways(2, OVERRIDES) as gws:
            old = self.get(gws[0], "t-stale-x")
            self.assertTrue(self.redis.wait_for_key(h.redis_task_key("t-stale-x")))
            time.sleep(PAST_TTL)
            r = self.get(gws[1], "t-stale-x")  # B never saw the task: only Redis has it
        self.assertStale(r, old)

    def test_stale_when_the_backend_closes_the_connection(self):
        self.script_then_fail("t-stale-close", {"action": "close"})
        with self.shared_gateway(OVERRIDES) as gw:
            old = self.get(gw, "t-stale-close")
            time.sleep(PAST_TTL)
            r = self.get(gw, "t-stale-close")
        self.assertStale(r, old)

    def test_stale_when_the_backend_times_out(self):
        self.script_then_fail("t-stale-slow", {"status": 200, "delay_ms": 4000,
                                               "body": h.fixture("cis-succeeded").expected})
        with self.shared_gateway(OVERRIDES, backend={"timeouts": {"request": "500ms"}}) as gw:
            old = self.get(gw, "t-stale-slow")
            time.sleep(PAST_TTL)
            r = self.get(gw, "t-stale-slow", timeout=15)
        self.assertStale(r, old)

    def test_a_never_cached_task_gets_503_while_the_backend_answers_503(self):
        self.mock.set_task("t-never", {"status": 503})
        with self.shared_gateway(OVERRIDES) as gw:
            r = self.get(gw, "t-never")
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")
        self.assertFalse(self.redis.exists(h.redis_task_key("t-never")))

    def test_past_stale_if_error_the_answer_is_503(self):
        self.script_then_fail("t-too-old", {"status": 503})
        short = h.merge(OVERRIDES, {"cache": {"stale_if_error": "2s"}})
        with self.shared_gateway(short) as gw:
            self.assertEqual(self.get(gw, "t-too-old").status, 200)
            time.sleep(1 + 2 + 0.7)  # ttl.running + stale_if_error + margin
            r = self.get(gw, "t-too-old")
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")

    def test_the_backend_recovering_replaces_the_stale_entry(self):
        self.script_then_fail("t-heal", {"status": 503})
        with self.shared_gateway(OVERRIDES) as gw:
            self.get(gw, "t-heal")
            time.sleep(PAST_TTL)
            stale = self.get(gw, "t-heal")
            done = self.set_body("t-heal", "cis-succeeded")  # the backend is back
            fresh = h.wait_for(lambda: (lambda r: r if r.headers.get("x-cache") != "STALE"
                                        else None)(self.get(gw, "t-heal")), 5, 0.1)
        self.assertEqual(stale.headers.get("x-cache"), "STALE")
        self.assertTrue(fresh, "still STALE 5 s after the backend answered again")
        self.assertEqual((fresh.status, fresh.json()), (200, done.expected))


if __name__ == "__main__":
    h.unittest.main()
