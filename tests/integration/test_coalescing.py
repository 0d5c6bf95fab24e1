"""Concurrent misses for one task share a single upstream fetch (workers: 1)."""

import sg_harness as h

CLIENTS = 40


@h.requires_gateway
class TestCoalescing(h.GatewayTestCase):
    def fetch_all(self, gw, path):
        auth = self.auth()
        return h.parallel(CLIENTS, lambda i: gw.http("GET", path, auth, timeout=20))

    def test_40_concurrent_cold_requests_make_one_upstream_fetch(self):
        fx = h.fixture("cis-succeeded")
        self.mock.set_task(fx.task, {"status": 200, "body": fx.expected, "delay_ms": 400})
        with self.gateway() as gw:
            answers = self.fetch_all(gw, h.task_path(fx.task))
        self.assertEqual([r.status for r in answers], [200] * CLIENTS)
        self.assertEqual(len({r.body for r in answers}), 1, "the answers differ")
        self.assertEqual(answers[0].json(), fx.expected)
        self.assertEqual(self.mock.stats()["tasks"], {fx.task: 1})

    def test_concurrent_waiters_share_one_etag(self):
        fx = h.fixture("cis-running")
        self.mock.set_task(fx.task, {"status": 200, "body": fx.expected, "delay_ms": 400})
        with self.gateway() as gw:
            answers = self.fetch_all(gw, h.task_path(fx.task))
        self.assertEqual(len({r.headers.get("etag") for r in answers}), 1)
        self.assertEqual(self.mock.stats()["tasks"], {fx.task: 1})

    def test_concurrent_misses_for_an_unknown_task_make_one_upstream_fetch(self):
        self.mock.set_task("gone", {"status": 404, "delay_ms": 400})
        with self.gateway() as gw:
            answers = self.fetch_all(gw, h.task_path("gone"))
        self.assertEqual([r.status for r in answers], [404] * CLIENTS)
        self.assertEqual(self.mock.stats()["tasks"], {"gone": 1})

    def test_concurrent_cold_requests_need_one_login(self):
        fx = h.fixture("cis-succeeded")
        self.mock.configure(login_delay_ms=300)
        tasks = ["t-%d" % i for i in range(10)]
        for t in tasks:
            self.mock.set_task(t, {"status": 200, "body": fx.expected})
        with self.gateway() as gw:
            auth = self.auth()
            answers = h.parallel(len(tasks), lambda i: gw.http("GET", h.task_path(tasks[i]),
                                                               auth, timeout=20))
        self.assertEqual([r.status for r in answers], [200] * len(tasks))
        self.assertEqual(self.mock.stats()["logins"], 1)


if __name__ == "__main__":
    h.unittest.main()
