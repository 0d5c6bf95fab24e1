"""/metrics under a strict text-format 0.0.4 check (prom_strict.py), and the counters move
as requests flow: requests by code, the latency histogram, cache lookups, upstream fetches,
coalesced waiters, client connections; no per-task or per-user label anywhere."""

import http.client
import math

import prom_strict
import sg_harness as h

SLOW_MS = 400
CLIENTS = 10
CONNS = 5


class TestStrictParser(h.unittest.TestCase):
    """The checker itself: a valid exposition passes, each kind of mistake is caught."""

    GOOD = (
        "# HELP snapgate_x_total Things.\n# TYPE snapgate_x_total counter\n"
        'snapgate_x_total{code="200"} 3\nsnapgate_x_total{code="a\\"b\\\\c\\n"} 0\n'
        "# HELP snapgate_g A gauge.\n# TYPE snapgate_g gauge\nsnapgate_g -1.5e3\n"
        "# HELP snapgate_h_seconds Latency.\n# TYPE snapgate_h_seconds histogram\n"
        'snapgate_h_seconds_bucket{le="0.1"} 1\nsnapgate_h_seconds_bucket{le="1"} 2\n'
        'snapgate_h_seconds_bucket{le="+Inf"} 3\nsnapgate_h_seconds_sum 4.25\n'
        "snapgate_h_seconds_count 3\n")

    def test_a_valid_exposition_parses(self):
        fams = prom_strict.parse(self.GOOD)
        self.assertEqual(list(fams), ["snapgate_x_total", "snapgate_g", "snapgate_h_seconds"])
        self.assertEqual(prom_strict.value(fams, "snapgate_x_total", code='a"b\\c\n'), 0)
        self.assertEqual(prom_strict.value(fams, "snapgate_g"), -1500)
        self.assertEqual(prom_strict.value(fams, "snapgate_h_seconds_count"), 3)

    BAD = {
        "no trailing newline": GOOD[:-1],
        "blank line": GOOD.replace("# HELP snapgate_g", "\n# HELP snapgate_g"),
        "second HELP": GOOD.replace("# TYPE snapgate_g gauge\n",
                                    "# TYPE snapgate_g gauge\n# HELP snapgate_g again\n"),
        "TYPE after a sample": GOOD.replace("# TYPE snapgate_g gauge\nsnapgate_g -1.5e3\n",
                                            "snapgate_g -1.5e3\n# TYPE snapgate_g gauge\n"),
        "no TYPE": GOOD.replace("# TYPE snapgate_g gauge\n", ""),
        "bad TYPE": GOOD.replace("snapgate_g gauge", "snapgate_g meter"),
        "bad metric name": GOOD.replace("snapgate_g -1.5e3", "snapgate-g -1.5e3"),
        "bad label name": GOOD.replace('{code="200"}', '{1code="200"}'),
        "reserved label name": GOOD.replace('{code="200"}', '{__code="200"}'),
        "bad escape": GOOD.replace('a\\"b', 'a\\tb'),
        "unquoted label value": GOOD.replace('{code="200"}', "{code=200}"),
        "value not a float": GOOD.replace("snapgate_g -1.5e3", "snapgate_g 1,5"),
        "duplicate series": GOOD.replace('{code="200"} 3\n', '{code="200"} 3\n'
                                         'snapgate_x_total{code="200"} 4\n'),
        "counter without _total": GOOD.replace("snapgate_x_total", "snapgate_x"),
        "negative counter": GOOD.replace('{code="200"} 3', '{code="200"} -3'),
        "no prefix": GOOD.replace("snapgate_g", "other_g"),
        "split family": GOOD + 'snapgate_x_total{code="404"} 1\n',
        "buckets not cumulative": GOOD.replace('le="1"} 2', 'le="1"} 0'),
        "no +Inf bucket": GOOD.replace('snapgate_h_seconds_bucket{le="+Inf"} 3\n', ""),
        "+Inf differs from _count": GOOD.replace("snapgate_h_seconds_count 3",
                                                 "snapgate_h_seconds_count 4"),
        "no _sum": GOOD.replace("snapgate_h_seconds_sum 4.25\n", ""),
        "bounds out of order": GOOD.replace('le="0.1"} 1\nsnapgate_h_seconds_bucket{le="1"}',
                                            'le="1"} 1\nsnapgate_h_seconds_bucket{le="0.1"}'),
        "two spaces": GOOD.replace("snapgate_g -1.5e3", "snapgate_g  -1.5e3"),
    }

    def test_each_mistake_is_caught(self):
        for why, text in self.BAD.items():
            with self.subTest(why=why):
                self.assertNotEqual(text, self.GOOD, "the case changes nothing")
                with self.assertRaises(prom_strict.FormatError):
                    prom_strict.parse(text)


@h.requires_gateway
class TestMetricsFormat(h.GatewayTestCase):
    def scrape(self, gw):
        r = gw.admin("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get("content-type"),
                         "text/plain; version=0.0.4; charset=utf-8")
        return prom_strict.parse(r.body.decode("utf-8"))

    @staticmethod
    def v(fams, name, **labels):
        got = prom_strict.value(fams, name, **labels)
        return 0 if got is None else got

    def delta(self, before, after, name, **labels):
        return self.v(after, name, **labels) - self.v(before, name, **labels)

    def test_exposition_is_strict_and_has_every_generic_family(self):
        with self.gateway({"workers": 2}) as gw:
            fams = self.scrape(gw)
        want = {
            "snapgate_build_info": "gauge",
            "snapgate_requests_total": "counter",
            "snapgate_request_duration_seconds": "histogram",
            "snapgate_cache_lookups_total": "counter",
            "snapgate_upstream_fetches_total": "counter",
            "snapgate_coalesced_waiters_total": "counter",
            "snapgate_connections_accepted_total": "counter",
            "snapgate_connections_open": "gauge",
            "snapgate_config_reloads_total": "counter",
            "snapgate_draining": "gauge",
        }
        for name, kind in want.items():
            with self.subTest(family=name):
                self.assertIn(name, fams)
                self.assertEqual(fams[name].type, kind)
        info = fams["snapgate_build_info"].samples
        self.assertEqual(len(info), 1)
        self.assertEqual(info[0].value, 1)
        if h.project_version():
            self.assertTrue(info[0].labels.get("version", "").startswith(h.project_version()),
                            info)
        self.assertEqual(self.v(fams, "snapgate_draining"), 0)
        for result in ("hit", "miss", "stale", "bypass", "error"):
            self.assertEqual(self.v(fams, "snapgate_cache_lookups_total", result=result), 0)

    def test_counters_move_as_requests_flow(self):
        done = h.fixture("cis-succeeded")
        self.mock.set_task("t-slow", {"status": 200, "body": done.expected,
                                      "delay_ms": SLOW_MS})
        self.mock.set_task("t-gone", {"status": 404})
        auth = self.auth()
        with self.gateway({"workers": 2}) as gw:
            before = self.scrape(gw)
            statuses = [gw.http("GET", h.task_path(done.task), auth).status,   # MISS
                        gw.http("GET", h.task_path(done.task), auth).status,   # HIT
                        gw.http("GET", h.task_path(done.task)).status,         # 401
                        gw.http("GET", "/api/other", auth).status,             # 404 route
                        gw.http("GET", h.task_path("t-gone"), auth).status]    # 404 upstream
            self.assertEqual(statuses, [200, 200, 401, 404, 404])
            slow = h.parallel(CLIENTS, lambda i: gw.http("GET", h.task_path("t-slow"), auth,
                                                         timeout=20))
            self.assertEqual([r.status for r in slow], [200] * CLIENTS)

            conns = [gw.connection() for _ in range(CONNS)]
            try:
                for c in conns:  # each is accepted and stays open (keep-alive)
                    self.assertEqual(gw.http("GET", h.task_path(done.task), auth,
                                             conn=c).status, 200)
                during = self.scrape(gw)
            finally:
                for c in conns:
                    c.close()
            closed = h.wait_for(
                lambda: self.v(self.scrape(gw), "snapgate_connections_open") == 0, 5)
            after = self.scrape(gw)

        total = len(statuses) + CLIENTS + CONNS
        d = lambda name, **ls: self.delta(before, after, name, **ls)  # noqa: E731
        self.assertEqual(d("snapgate_requests_total", code="200"), 2 + CLIENTS + CONNS)
        self.assertEqual(d("snapgate_requests_total", code="401"), 1)
        self.assertEqual(d("snapgate_requests_total", code="404"), 2)
        self.assertEqual(d("snapgate_requests_total"), total)
        self.assertEqual(d("snapgate_request_duration_seconds_count"), total)
        self.assertEqual(d("snapgate_request_duration_seconds_bucket", le="+Inf"), total)
        # every slow request waited for the 400 ms fetch: none in a bucket below it
        self.assertLessEqual(d("snapgate_request_duration_seconds_bucket", le="0.25"),
                             total - CLIENTS)
        self.assertGreaterEqual(d("snapgate_request_duration_seconds_sum"),
                                CLIENTS * SLOW_MS / 1000.0 * 0.9)
        self.assertGreaterEqual(d("snapgate_cache_lookups_total", result="hit"), 1 + CONNS - 2)
        self.assertGreaterEqual(d("snapgate_cache_lookups_total", result="miss"), 3)
        # one fetch per worker at most for the slow task, one for the first MISS
        self.assertIn(d("snapgate_upstream_fetches_total", outcome="info"), (2, 3, 4))
        self.assertEqual(d("snapgate_upstream_fetches_total", outcome="not_found"), 1)
        self.assertGreaterEqual(d("snapgate_coalesced_waiters_total"), CLIENTS - 2)
        self.assertGreaterEqual(self.v(during, "snapgate_connections_open"), CONNS)
        self.assertTrue(closed, "snapgate_connections_open did not return to 0")
        self.assertGreaterEqual(d("snapgate_connections_accepted_total"), total)

        # no per-task or per-user label anywhere
        forbidden = {done.task, "t-slow", "t-gone", "alice"}
        for fam in after.values():
            for s in fam.samples:
                self.assertFalse(forbidden & set(s.labels.values()), s)
                self.assertFalse(math.isnan(s.value), s)

    def test_a_connection_closed_by_an_error_answer_is_not_left_open(self):
        with self.gateway() as gw:
            r = gw.raw(b"GARBAGE\r\n\r\n", until_close=True)
            self.assertEqual(r.status, 400)
            self.assertTrue(h.wait_for(
                lambda: self.v(self.scrape(gw), "snapgate_connections_open") == 0, 5))
            fams = self.scrape(gw)
        self.assertGreaterEqual(self.v(fams, "snapgate_connections_accepted_total"), 1)
        self.assertEqual(self.v(fams, "snapgate_requests_total", code="400"), 1)


@h.requires_gateway
class TestMetricsFormatWithRedis(h.RedisTestCase):
    def test_exposition_with_the_redis_families_is_strict(self):
        def scrape():
            return prom_strict.parse(gw.admin("GET", "/metrics").body.decode("utf-8"))

        with self.shared_gateway() as gw:
            self.assertEqual(self.get(gw, h.fixture("cis-running").task).status, 200)
            # the Redis gauges are copied from the connection once a second
            connected = h.wait_for(
                lambda: prom_strict.value(scrape(), "snapgate_redis_connected") == 1, 3, 0.1)
            fams = scrape()
        self.assertTrue(connected, "snapgate_redis_connected never became 1")
        for name in ("snapgate_redis_errors_total", "snapgate_redis_reconnects_total",
                     "snapgate_redis_connected", "snapgate_redis_circuit_open"):
            self.assertIn(name, fams)
        self.assertEqual(prom_strict.value(fams, "snapgate_cache_lookups_total",
                                           result="miss"), 1)


if __name__ == "__main__":
    h.unittest.main()
