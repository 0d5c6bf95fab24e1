"""The vijson dialect end to end against a scripted VI/JSON server: the release in every
path, the session token from the Login answer's vmware-api-session-id header sent back as
the same request header, the vijson fixtures served exactly, and one re-login on a 401."""

import http.server
import json
import os
import re
import shutil
import tempfile
import threading
import unittest

import sg_harness as h

RELEASE = "8.0.3.0"
PREFIX = "/sdk/vim25/%s/" % RELEASE


class ViJsonMock:
    """Login checks {"userName", "password"} and issues tok-N; Task/{id}/info answers from
    the task's script of shared fixture cases (the last repeats), 404 for a task without one,
    or 401 when the token is not the
    newest one issued. Records every request."""

    def __init__(self, user, password):
        self.user, self.password = user, password
        self.scripts, self.requests, self.tokens = {}, [], []
        self.lock = threading.Lock()
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, headers=()):
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode("utf-8")
                with mock.lock:
                    mock.requests.append(("POST", self.path, dict(self.headers.items()), body))
                    ok = (self.path == PREFIX + "SessionManager/SessionManager/Login" and
                          json.loads(body) == {"userName": mock.user,
                                               "password": mock.password})
                    if not ok:
                        return self.reply(400, '{"_typeName": "InvalidLogin"}')
                    mock.tokens.append("tok-%d" % (len(mock.tokens) + 1))
                    token = mock.tokens[-1]
                self.reply(200, '{"_typeName": "UserSession"}',
                           [("vmware-api-session-id", token)])

            def do_GET(self):
                with mock.lock:
                    mock.requests.append(("GET", self.path, dict(self.headers.items()), ""))
                    m = re.match(re.escape(PREFIX) + r"Task/([^/]+)/info$", self.path)
                    token = self.headers.get("vmware-api-session-id")
                    if not mock.tokens or token != mock.tokens[-1]:
                        return self.reply(401, '{"_typeName": "NotAuthenticated"}')
                    script = mock.scripts.get(m.group(1) if m else "")
                    if not script:
                        return self.reply(404, '{"_typeName": "ManagedObjectNotFound"}')
                    case = script.pop(0) if len(script) > 1 else script[0]
                path = os.path.join(h.fixtures_dir(), case + ".upstream.json")
                with open(path, encoding="utf-8") as f:
                    self.reply(h.fixture(case).upstream_status, f.read())

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def task_requests(self):
        # The API's GETs; the gateway's health probes (GET /) are not task requests.
        return [r for r in self.requests if r[0] == "GET" and r[1].startswith(PREFIX)]


@h.requires_gateway
class TestDialectViJson(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sg-vijson-")
        self.users_file = h.make_users_file({"alice": "wonderland-7"}, self.tmp)
        self.password_file = h.write_file(self.tmp, "svc-password", 'pa"ss\\w')
        self.mock = ViJsonMock("svc@vsphere.local", 'pa"ss\\w')

    def tearDown(self):
        self.mock.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def gateway(self):
        return h.Gateway({
            "workers": 1,
            "log": {"level": "debug"},
            "auth": {"providers": [{"type": "basic", "users_file": self.users_file}]},
            "backends": [{"name": "vc1", "url": self.mock.url, "dialect": "vijson",
                          "release": RELEASE,
                          "credentials": {"username": "svc@vsphere.local",
                                          "password_file": self.password_file},
                          "timeouts": {"connect": "2s", "request": "5s"}}],
        })

    def get(self, gw, task):
        return gw.http("GET", h.task_path(task), {"Authorization": h.basic("alice",
                                                                             "wonderland-7")})

    def test_fixtures_served_exactly_with_one_login(self):
        cases = [c for c in h.fixture_cases("vijson-") if h.fixture(c).expected]
        self.assertGreaterEqual(len(cases), 7)
        for c in cases:
            self.mock.scripts[h.fixture(c).task] = [c]
        with self.gateway() as gw:
            answers = {c: self.get(gw, h.fixture(c).task) for c in cases}
        for c, r in answers.items():
            self.assertEqual(r.status, 200, (c, r.body))
            self.assertEqual(r.json(), h.fixture(c).expected, c)
        self.assertEqual(self.mock.tokens, ["tok-1"])
        for _, path, headers, _ in self.mock.task_requests():
            self.assertTrue(path.startswith(PREFIX + "Task/"), path)
            self.assertEqual(headers.get("vmware-api-session-id"), "tok-1")

    def test_expired_token_costs_one_relogin(self):
        task = h.fixture("vijson-running").task
        self.mock.scripts[task] = ["vijson-running"]
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, task).status, 200)
            self.mock.tokens.append("tok-elsewhere")  # the gateway's token is no longer valid
            gw.admin("DELETE", "/cache/tasks/" + task)
            r = self.get(gw, task)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), h.fixture("vijson-running").expected)
        self.assertEqual(len(self.mock.tokens), 3)  # tok-1, the foreign one, tok-3
        self.assertEqual([q[2].get("vmware-api-session-id") for q in self.mock.task_requests()],
                         ["tok-1", "tok-1", "tok-3"])

    def test_unknown_task_is_404(self):
        with self.gateway() as gw:
            r = self.get(gw, "task-424242")
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(r.json()["error_type"], "NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
