"""Log lines: the access line's JSON fields, an error line that carries the request id and
the module, the same in text format, and no credential in either stream."""

import json
import re

import sg_harness as h

ACCESS = {"time": str, "type": str, "request_id": str, "method": str, "path": str,
          "status": int, "cache": str, "backend": str, "user": str, "upstream_status": int,
          "duration_ms": (int, float), "upstream_ms": int, "protocol": str, "outcome": str}
ERROR = {"time": str, "level": str, "module": str, "request_id": str, "msg": str}
TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


@h.requires_gateway
class TestLogLines(h.GatewayTestCase):
    def secrets(self):
        return {self.USERS["alice"], h.basic("alice", self.USERS["alice"]).split(" ", 1)[1],
                self.SVC_PASSWORD}

    def assertNoSecret(self, gw):
        sessions = set(self.mock.stats()["sessions_issued"])
        self.assertTrue(sessions, "the mock issued no session")
        for name, text in (("stdout", gw.stdout_text), ("stderr", gw.stderr_text)):
            for s in self.secrets() | sessions:
                self.assertNotIn(s, text, "a secret appears in %s" % name)

    def test_access_and_error_lines_in_json(self):
        self.mock.set_task("t-down", {"status": 503})
        hdrs = dict(self.auth(), **{"X-Request-Id": "rid-down"})
        with self.gateway({"log": {"level": "info", "format": "json"}}) as gw:
            self.assertEqual(gw.http("GET", h.task_path("t-down"), hdrs).status, 503)
        access = [e for e in gw.access_log() if e.get("request_id") == "rid-down"]
        self.assertEqual(len(access), 1, gw.stdout_text)
        a = access[0]
        self.assertEqual(set(a), set(ACCESS), a)
        for k, t in ACCESS.items():
            self.assertIsInstance(a[k], t, k)
        self.assertRegex(a["time"], TIME)
        self.assertEqual((a["type"], a["method"], a["path"], a["status"], a["cache"],
                          a["backend"], a["user"], a["upstream_status"]),
                         ("access", "GET", h.task_path("t-down"), 503, "MISS", "vc1", "alice",
                          503))

        errors = [e for e in self.json_lines(gw.stderr_text)
                  if e.get("request_id") == "rid-down"]
        self.assertEqual(len(errors), 1, gw.stderr_text)
        e = errors[0]
        self.assertEqual(set(e), set(ERROR), e)
        for k, t in ERROR.items():
            self.assertIsInstance(e[k], t, k)
        self.assertRegex(e["time"], TIME)
        self.assertEqual((e["level"], e["module"]), ("warn", "request"))
        self.assertIn("503", e["msg"])
        self.assertIn("vc1", e["msg"])
        # every stderr line is one JSON object with a level and a module
        for line in self.json_lines(gw.stderr_text):
            self.assertIn(line["level"], ("error", "warn", "info", "debug"))
            self.assertIsInstance(line["module"], str)
        self.assertNoSecret(gw)

    def test_an_upstream_timeout_line_names_the_request(self):
        self.mock.set_task("t-slow", {"status": 200, "delay_ms": 4000,
                                      "body": h.fixture("cis-running").expected})
        hdrs = dict(self.auth(), **{"X-Request-Id": "rid-slow"})
        with self.gateway({"log": {"level": "info"}},
                          backend={"timeouts": {"connect": "1s", "request": "1s"}}) as gw:
            self.assertEqual(gw.http("GET", h.task_path("t-slow"), hdrs, timeout=10).status, 503)
        lines = [e for e in self.json_lines(gw.stderr_text) if e.get("request_id") == "rid-slow"]
        self.assertEqual([(e["level"], e["module"]) for e in lines], [("warn", "request")],
                         gw.stderr_text)

    def test_text_format(self):
        self.mock.set_task("t-down", {"status": 503})
        hdrs = dict(self.auth(), **{"X-Request-Id": "rid-text"})
        with self.gateway({"log": {"level": "info", "format": "text"}}) as gw:
            self.assertEqual(gw.http("GET", h.task_path("t-down"), hdrs).status, 503)
        access = [l for l in gw.stdout_text.splitlines() if "id=rid-text" in l]
        self.assertEqual(len(access), 1, gw.stdout_text)
        self.assertRegex(access[0], r"^\S+ access id=rid-text method=GET path=\"%s\" status=503 "
                         r"cache=MISS backend=vc1 user=alice upstream_status=503 "
                         r"duration_ms=[0-9.]+ upstream_ms=\d+ protocol=rest outcome=-$" % re.escape(
                             h.task_path("t-down")))
        errors = [l for l in gw.stderr_text.splitlines() if "id=rid-text" in l]
        self.assertEqual(len(errors), 1, gw.stderr_text)
        self.assertRegex(errors[0], r"^\S+ warn \[request\] id=rid-text answered 503")
        self.assertNoSecret(gw)

    @staticmethod
    def json_lines(text):
        out = []
        for line in text.splitlines():
            if line.strip():
                out.append(json.loads(line))  # a non-JSON line fails the test
        return out


if __name__ == "__main__":
    h.unittest.main()
