"""stale_if_error without Redis: the in-process tier keeps an expired answer for
stale_if_error and serves it (X-Cache: STALE, Age) when the backend fails."""

import time

import sg_harness as h

PAST_RUNNING_TTL = 1.3  # seconds: ttl.running (1s) and a margin


@h.requires_gateway
class TestStaleWithoutRedis(h.GatewayTestCase):
    def get(self, gw, task):
        return gw.http("GET", h.task_path(task), self.auth())

    def running_then(self, task, failure):
        running = h.fixture("cis-running")
        self.mock.set_task(task, {"sequence": [{"status": 200, "body": running.expected},
                                               failure]})
        return running

    def test_expired_answer_is_served_stale_when_the_backend_answers_503(self):
        running = self.running_then("t-stale", {"status": 503})
        with self.gateway({"cache": {"stale_if_error": "30s"}}) as gw:
            first = self.get(gw, "t-stale")
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, "t-stale")
        self.assertEqual(first.status, 200)
        self.assertEqual((r.status, r.headers.get("x-cache")), (200, "STALE"))
        self.assertEqual(r.body, first.body)
        self.assertEqual(r.json(), running.expected)
        self.assertGreaterEqual(int(r.headers["age"]), 1)
        # It did ask: the first fetch, then the 503 and its two retries (retries.max 2).
        self.assertEqual(self.mock.stats()["tasks"]["t-stale"], 4)

    def test_expired_answer_is_served_stale_when_the_backend_is_down(self):
        self.running_then("t-down", {"action": "close"})
        with self.gateway({"cache": {"stale_if_error": "30s"}}) as gw:
            self.assertEqual(self.get(gw, "t-down").status, 200)
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, "t-down")
        self.assertEqual((r.status, r.headers.get("x-cache")), (200, "STALE"))

    def test_never_cached_task_is_503_when_the_backend_fails(self):
        self.mock.set_task("t-cold", {"status": 503})
        with self.gateway({"cache": {"stale_if_error": "30s"}}) as gw:
            r = self.get(gw, "t-cold")
        self.assertEqual(r.status, 503)
        self.assertErrorBody(r.body, "SERVICE_UNAVAILABLE")

    def test_beyond_stale_if_error_is_503(self):
        self.running_then("t-old", {"status": 503})
        with self.gateway({"cache": {"stale_if_error": "1s"}}) as gw:
            self.assertEqual(self.get(gw, "t-old").status, 200)
            time.sleep(2.3)  # ttl.running 1s + stale_if_error 1s + margin
            r = self.get(gw, "t-old")
        self.assertEqual(r.status, 503)

    def test_stale_if_error_0s_never_serves_stale(self):
        self.running_then("t-off", {"status": 503})
        with self.gateway({"cache": {"stale_if_error": "0s"}}) as gw:
            self.assertEqual(self.get(gw, "t-off").status, 200)
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, "t-off")
        self.assertEqual(r.status, 503)

    def test_a_404_is_not_served_stale(self):
        self.mock.set_task("t-gone", {"sequence": [{"status": 404}, {"status": 503}]})
        with self.gateway({"cache": {"stale_if_error": "30s", "ttl": {"not_found": "1s"}}}) as gw:
            self.assertEqual(self.get(gw, "t-gone").status, 404)
            time.sleep(PAST_RUNNING_TTL)
            r = self.get(gw, "t-gone")
        self.assertEqual(r.status, 503)


if __name__ == "__main__":
    h.unittest.main()
