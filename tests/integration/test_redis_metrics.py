"""The shared tier's metrics on the admin port's /metrics.

Assumes these series (issue 3 item 8; CONTRACT: names prefixed snapgate_); extra labels,
e.g. per worker, are summed over:
  snapgate_cache_lookups_total{result="hit|miss|stale|bypass|error"}  counter
  snapgate_redis_errors_total                                          counter
  snapgate_redis_reconnects_total                                      counter
  snapgate_redis_circuit_open                                          gauge, 0 or 1
  snapgate_coalesced_waiters_total                                     counter
  snapgate_lease_waits_total                                           counter
"""

import time

import sg_harness as h

RESULTS = ("hit", "miss", "stale", "bypass", "error")
SERIES = ("snapgate_redis_errors_total", "snapgate_redis_reconnects_total",
          "snapgate_redis_circuit_open", "snapgate_coalesced_waiters_total",
          "snapgate_lease_waits_total")
OVERRIDES = {"cache": {"ttl": {"running": "1s"}, "stale_if_error": "30s",
                       "local": {"max_ttl": "1s"}}}


@h.requires_gateway
class TestRedisMetrics(h.RedisTestCase):
    def value(self, gw, name, **labels):
        v = h.metric_value(self.metrics(gw), name, **labels)
        self.assertIsNotNone(v, "no %s%s in /metrics" % (name, labels or ""))
        return v

    def test_every_series_is_there(self):
        with self.shared_gateway() as gw:
            samples = self.metrics(gw)
        missing = [r for r in RESULTS
                   if h.metric_value(samples, "snapgate_cache_lookups_total", result=r) is None]
        missing += [n for n in SERIES if h.metric_value(samples, n) is None]
        self.assertEqual(missing, [], "series missing from /metrics")
        self.assertEqual([n for n, _, _ in samples if not n.startswith("snapgate_")], [])

    def test_hit_and_miss_count_lookups(self):
        self.set_body("t-hm", "cis-succeeded")
        with self.shared_gateway() as gw:
            hit0 = self.value(gw, "snapgate_cache_lookups_total", result="hit")
            miss0 = self.value(gw, "snapgate_cache_lookups_total", result="miss")
            self.get(gw, "t-hm")
            self.get(gw, "t-hm")
            hit1 = self.value(gw, "snapgate_cache_lookups_total", result="hit")
            miss1 = self.value(gw, "snapgate_cache_lookups_total", result="miss")
        self.assertGreaterEqual(miss1 - miss0, 1)
        self.assertGreaterEqual(hit1 - hit0, 1)

    def test_stale_answers_count(self):
        fx = h.fixture("cis-running")
        self.mock.set_task("t-st", {"sequence": [{"status": 200, "body": fx.expected},
                                                 {"status": 503}]})
        with self.shared_gateway(OVERRIDES) as gw:
            self.get(gw, "t-st")
            time.sleep(1.5)
            before = self.value(gw, "snapgate_cache_lookups_total", result="stale")
            self.assertEqual(self.get(gw, "t-st").headers.get("x-cache"), "STALE")
            after = self.value(gw, "snapgate_cache_lookups_total", result="stale")
        self.assertEqual(after - before, 1)

    def test_a_redis_crash_counts_errors_bypasses_and_opens_the_circuit(self):
        tasks = ["t-m-%d" % i for i in range(40)]
        for t in tasks:
            self.set_body(t, "cis-succeeded")
        with self.shared_gateway(OVERRIDES) as gw:
            self.get(gw, tasks[0])
            errors0 = self.value(gw, "snapgate_redis_errors_total")
            bypass0 = self.value(gw, "snapgate_cache_lookups_total", result="bypass")
            self.assertEqual(self.value(gw, "snapgate_redis_circuit_open"), 0)
            self.redis.kill()
            # cold tasks, so every request needs Redis, until the circuit opens
            opened = False
            deadline = time.monotonic() + 5
            for t in tasks[1:]:
                self.assertEqual(self.get(gw, t).status, 200)
                if self.value(gw, "snapgate_redis_circuit_open") == 1:
                    opened = True
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            errors1 = self.value(gw, "snapgate_redis_errors_total")
            bypass1 = self.value(gw, "snapgate_cache_lookups_total", result="bypass")
        self.assertGreater(errors1, errors0, "Redis errors did not count")
        self.assertGreater(bypass1, bypass0, "bypassed lookups did not count")
        self.assertTrue(opened, "the circuit never opened with Redis dead")

    def test_a_restart_counts_a_reconnect_and_closes_the_circuit(self):
        tasks = ["t-r-%d" % i for i in range(40)]
        for t in tasks:
            self.set_body(t, "cis-succeeded")
        with self.shared_gateway(OVERRIDES) as gw:
            self.get(gw, tasks[0])
            re0 = self.value(gw, "snapgate_redis_reconnects_total")
            self.redis.kill()
            for t in tasks[1:6]:
                self.get(gw, t)
            self.redis.start()
            i = 6

            def recovered():
                nonlocal i
                self.get(gw, tasks[i % len(tasks)])  # traffic, in case it reconnects lazily
                i += 1
                return (self.value(gw, "snapgate_redis_reconnects_total") > re0
                        and self.value(gw, "snapgate_redis_circuit_open") == 0)
            ok = h.wait_for(recovered, 5, 0.1)
            re1 = self.value(gw, "snapgate_redis_reconnects_total")
            circuit = self.value(gw, "snapgate_redis_circuit_open")
        self.assertTrue(ok, "after a restart: reconnects %s -> %s, circuit_open %s"
                        % (re0, re1, circuit))

    def test_waiting_on_another_replicas_lease_counts(self):
        self.set_body("t-lease", "cis-succeeded", delay_ms=400)
        with self.shared_gateways(2) as gws:
            waits0 = sum(self.value(gw, "snapgate_lease_waits_total") for gw in gws)
            auth = self.auth()
            h.parallel(10, lambda i: gws[i % 2].http("GET", h.task_path("t-lease"), auth,
                                                     timeout=20))
            waits1 = sum(self.value(gw, "snapgate_lease_waits_total") for gw in gws)
        self.assertEqual(self.fetches("t-lease"), 1)
        self.assertGreaterEqual(waits1 - waits0, 1, "no replica counted a lease wait")

    def test_coalesced_waiters_count(self):
        self.set_body("t-co", "cis-succeeded", delay_ms=300)
        with self.shared_gateway() as gw:
            before = self.value(gw, "snapgate_coalesced_waiters_total")
            auth = self.auth()
            h.parallel(10, lambda i: gw.http("GET", h.task_path("t-co"), auth, timeout=20))
            after = self.value(gw, "snapgate_coalesced_waiters_total")
        self.assertGreaterEqual(after - before, 1)


if __name__ == "__main__":
    h.unittest.main()
