"""The access log: one JSON line per request on stdout, and no secret anywhere in the output.

Field names assumed: time, request_id, method, path, status, cache, backend,
upstream_status, duration_ms, upstream_ms."""

import base64

import sg_harness as h

FIELDS = ("time", "request_id", "method", "path", "status", "cache", "backend",
          "upstream_status", "duration_ms", "upstream_ms")


@h.requires_gateway
class TestAccessLog(h.GatewayTestCase):
    def by_request_id(self, gw):
        """{request_id: [entries]} of the access lines (other JSON lines are ignored)."""
        out = {}
        for e in gw.access_log():
            if "request_id" in e and "status" in e:
                out.setdefault(e["request_id"], []).append(e)
        return out

    def test_one_line_per_request_with_every_field(self):
        fx = h.fixture("cis-succeeded")
        path = h.task_path(fx.task)
        with self.gateway() as gw:
            for rid in ("rid-1", "rid-2"):
                gw.http("GET", path, dict(self.auth(), **{"X-Request-Id": rid}))
        lines = self.by_request_id(gw)
        self.assertEqual(len(lines.get("rid-1", [])), 1, lines)
        self.assertEqual(len(lines.get("rid-2", [])), 1, lines)
        miss, hit = lines["rid-1"][0], lines["rid-2"][0]
        for f in FIELDS:
            self.assertIn(f, miss, "field %s missing from %r" % (f, miss))
        self.assertIsInstance(miss["time"], str)
        self.assertRegex(miss["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual((miss["method"], miss["status"], miss["cache"]), ("GET", 200, "MISS"))
        self.assertIn(miss["path"], (path, h.TASKS_PATH + fx.task))
        self.assertEqual((miss["backend"], miss["upstream_status"]), ("vc1", 200))
        for f in ("duration_ms", "upstream_ms"):
            self.assertIsInstance(miss[f], (int, float), f)
            self.assertGreaterEqual(miss[f], 0, f)
        self.assertEqual((hit["status"], hit["cache"]), (200, "HIT"))
        self.assertIsInstance(hit["duration_ms"], (int, float))

    def test_error_answers_are_logged_with_their_status(self):
        with self.gateway() as gw:
            gw.http("GET", "/api/other", dict(self.auth(), **{"X-Request-Id": "rid-404"}))
            gw.http("GET", h.task_path("x"), {"X-Request-Id": "rid-401"})
            gw.http("POST", h.task_path("x"), dict(self.auth(), **{"X-Request-Id": "rid-405"}))
        lines = self.by_request_id(gw)
        for rid, status, method in (("rid-404", 404, "GET"), ("rid-401", 401, "GET"),
                                    ("rid-405", 405, "POST")):
            with self.subTest(rid=rid):
                self.assertEqual(len(lines.get(rid, [])), 1, lines)
                self.assertEqual((lines[rid][0]["status"], lines[rid][0]["method"]),
                                 (status, method))

    def test_upstream_failure_is_logged_with_the_upstream_status(self):
        self.mock.set_task("t", {"status": 503})
        with self.gateway() as gw:
            gw.http("GET", h.task_path("t"), dict(self.auth(), **{"X-Request-Id": "rid-503"}))
        e = self.by_request_id(gw)["rid-503"][0]
        self.assertEqual((e["status"], e["backend"], e["upstream_status"]),
                         (503, "vc1", 503))

    def test_stdout_is_json_lines_only(self):
        with self.gateway() as gw:
            gw.http("GET", h.task_path(h.fixture("cis-running").task), self.auth())
        self.assertGreaterEqual(len(gw.access_log()), 1)  # access_log() fails on a non-JSON line

    def test_no_secret_appears_in_stdout_or_stderr(self):
        secrets = set()
        with self.gateway() as gw:
            for user, pw in (("alice", self.USERS["alice"]), ("alice", "wrong-pw-5151"),
                             ("nobody", "nobody-pw-6262")):
                value = h.basic(user, pw)
                secrets.update({value, value.split(" ", 1)[1], pw})
                gw.http("GET", h.task_path(h.fixture("cis-succeeded").task),
                        {"Authorization": value})
            gw.http("GET", h.task_path("x"), {"Authorization": "Bearer tok-7373-secret"})
            secrets.add("tok-7373-secret")
            self.mock.expire_sessions()  # makes a re-login happen, with its own session id
            gw.http("GET", h.task_path(h.fixture("cis-running").task), self.auth())
        svc = "%s:%s" % (self.SVC_USER, self.SVC_PASSWORD)
        secrets.update({self.SVC_PASSWORD, base64.b64encode(svc.encode()).decode()})
        secrets.update(self.mock.stats()["sessions_issued"])
        self.assertGreaterEqual(len(self.mock.stats()["sessions_issued"]), 2)
        for name, text in (("stdout", gw.stdout_text), ("stderr", gw.stderr_text)):
            for s in secrets:
                self.assertNotIn(s, text, "a secret appears in %s" % name)


if __name__ == "__main__":
    h.unittest.main()
