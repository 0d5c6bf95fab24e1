"""The vim25 (SOAP) dialect against a real vCenter: govmomi's simulator from tests/vcsim,
seeded with one task per state (each test starts its own simulator and gateway); and against
a scripted SOAP server that answers with the vim25 fixtures in small chunks, for what the
simulator cannot be made to do (chunked bodies, a missingSet answer after a fresh login)."""

import http.server
import os
import re
import shutil
import tempfile
import threading
import time
import unittest

import sg_harness as h

SVC_USER, SVC_PASSWORD = "user", "pass"  # the simulator's defaults
INFO_ALWAYS = {"description", "service", "operation", "status", "cancelable"}
INFO_OPTIONAL = {"parent", "target", "user", "vc_task"}
UNION = {  # status: fields that must be present; the rest of progress..end_time must be absent
    "PENDING": set(),
    "RUNNING": {"progress", "start_time"},
    "SUCCEEDED": {"progress", "start_time", "end_time"},
    "FAILED": {"progress", "start_time", "end_time"},
}
UTC_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@h.requires_gateway
class TestDialectVim25(unittest.TestCase):
    USERS = {"alice": "wonderland-7"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.vcsim_build()  # once, before any timing-sensitive test
        cls.tmp = tempfile.mkdtemp(prefix="sg-vim25-")
        cls.users_file = h.make_users_file(cls.USERS, cls.tmp)
        cls.password_file = h.write_file(cls.tmp, "svc-password", SVC_PASSWORD)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def config(self, sim, password_file=None):
        return {
            "workers": 1,
            "log": {"level": "debug"},
            "auth": {"providers": [{"type": "basic", "users_file": self.users_file}]},
            "backends": [{"name": "vc1", "url": sim.base_url, "dialect": "vim25",
                          "credentials": {"username": SVC_USER,
                                          "password_file": password_file or self.password_file},
                          "timeouts": {"connect": "2s", "request": "5s"}}],
            "cache": {"ttl": {"pending": "1s", "running": "1s", "blocked": "1s",
                              "terminal": "24h", "not_found": "30s"}},
        }

    def get(self, gw, task):
        return gw.http("GET", h.task_path(task), {"Authorization": h.basic("alice",
                                                                             "wonderland-7")})

    def assertInfo(self, info, status, task):
        """info obeys the union rule for status, with canonical times and vc_task."""
        self.assertEqual(info["status"], status, info)
        keys = set(info)
        self.assertLessEqual(INFO_ALWAYS, keys, info)
        self.assertLessEqual(keys - INFO_ALWAYS - INFO_OPTIONAL,
                             UNION[status] | {"result", "error"}, info)
        self.assertLessEqual(UNION[status], keys, info)
        for t in ("start_time", "end_time"):
            if t in info:
                self.assertRegex(info[t], UTC_MS)
        self.assertEqual(info["vc_task"], task)
        self.assertEqual((info["service"], info["operation"]), ("VirtualMachine",
                                                                 "createSnapshot"))
        self.assertEqual(info["description"]["id"], "VirtualMachine.createSnapshot")
        self.assertEqual(info["target"]["type"], "VirtualMachine")
        self.assertTrue(info["target"]["id"].startswith("vm-"), info)
        self.assertIsInstance(info["cancelable"], bool)
        if status != "FAILED":
            self.assertNotIn("error", info)

    def logins(self, gw):
        return gw.stderr_text.count("service account logged in")

    def test_four_seeded_tasks(self):
        with h.VCSim() as sim, h.Gateway(self.config(sim)) as gw:
            answers = {state: self.get(gw, task) for state, task in sim.tasks.items()}
        self.assertEqual(set(answers), {"QUEUED", "RUNNING", "SUCCESS", "ERROR"})
        for state, r in answers.items():
            self.assertEqual(r.status, 200, (state, r.body))
            self.assertTrue(r.headers["content-type"].startswith("application/json"))

        pending = answers["QUEUED"].json()
        self.assertInfo(pending, "PENDING", sim.tasks["QUEUED"])
        for absent in ("progress", "start_time", "end_time", "result", "error"):
            self.assertNotIn(absent, pending)

        running = answers["RUNNING"].json()
        self.assertInfo(running, "RUNNING", sim.tasks["RUNNING"])
        self.assertEqual(running["progress"]["completed"], 42)
        self.assertEqual(running["progress"]["total"], 100)

        done = answers["SUCCESS"].json()
        self.assertInfo(done, "SUCCEEDED", sim.tasks["SUCCESS"])
        self.assertEqual(done["progress"]["completed"], 100)
        self.assertEqual(done["result"], {"type": "VirtualMachineSnapshot",
                                          "id": "snapshot-seed"})

        failed = answers["ERROR"].json()
        self.assertInfo(failed, "FAILED", sim.tasks["ERROR"])
        self.assertEqual(failed["error"]["error_type"], "ERROR")
        msg = failed["error"]["messages"][0]
        self.assertEqual(msg["id"], "vim.fault.SystemError")
        self.assertTrue(msg["default_message"])
        # one login served all four
        self.assertEqual(self.logins(gw), 1, gw.stderr_text[-3000:])

    def test_unknown_task_is_404(self):
        with h.VCSim() as sim, h.Gateway(self.config(sim)) as gw:
            r = self.get(gw, "task-99999")
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(r.json()["error_type"], "NOT_FOUND")

    def test_wrong_password_is_503(self):
        with h.VCSim(["-password", "the-real-one"]) as sim, \
                h.Gateway(self.config(sim)) as gw:
            r = self.get(gw, sim.tasks["RUNNING"])
        self.assertEqual(r.status, 503, r.body)
        self.assertEqual(r.json()["error_type"], "SERVICE_UNAVAILABLE")
        self.assertEqual(self.logins(gw), 0)
        self.assertIn("rejected the service account", gw.stderr_text)

    def test_expired_session_costs_one_relogin_and_no_failed_request(self):
        # The simulator checks a session every -session-idle from its login and drops it
        # once idle longer than that: with 1s it is gone 2 s after the last request at the
        # latest (with 2s, anywhere between 2 and 4 s, too loose for a 3 s pause).
        with h.VCSim(["-session-idle", "1s"]) as sim, h.Gateway(self.config(sim)) as gw:
            task = sim.tasks["RUNNING"]
            first = self.get(gw, task)
            time.sleep(3.0)  # the session idles out; the 1 s cache entry too
            second = self.get(gw, task)
        self.assertEqual(first.status, 200, first.body)
        self.assertEqual(second.status, 200, second.body)
        self.assertEqual(second.headers.get("x-cache"), "MISS")  # really asked the simulator
        self.assertEqual(second.json()["progress"]["completed"], 42)
        self.assertEqual(self.logins(gw), 2, gw.stderr_text[-3000:])


class SoapMock:
    """A SOAP vCenter on a free loopback port: Login sets a quoted vmware_soap_session
    cookie (as vCenter does); RetrievePropertiesEx answers each task from its script, a list
    of fixture cases served in turn (the last repeats), every body chunked in 7-byte pieces.
    Records every request (headers, body) and counts logins."""

    def __init__(self, user, password):
        self.user, self.password = user, password
        self.scripts, self.requests, self.sessions = {}, [], []
        self.lock = threading.Lock()
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n).decode("utf-8")
                status, answer, cookie = mock.answer(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                if cookie:
                    self.send_header("Set-Cookie",
                                     'vmware_soap_session="%s"; Path=/; HttpOnly; Secure;'
                                     % cookie)
                self.end_headers()
                data = answer.encode("utf-8")
                for i in range(0, len(data), 7):
                    piece = data[i:i + 7]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def upstream(case):
        with open(os.path.join(h.fixtures_dir(), case + ".upstream.xml"),
                  encoding="utf-8") as f:
            return f.read()

    def answer(self, headers, body):
        with self.lock:
            self.requests.append({"headers": {k.lower(): v for k, v in headers.items()},
                                  "body": body})
            if "<Login " in body:
                ok = ("<userName>%s</userName>" % self.user in body and
                      "<password>%s</password>" % self.password in body)
                if not ok:
                    return 500, self.upstream("vim25-not-found").replace(
                        "ManagedObjectNotFound", "InvalidLogin"), None
                self.sessions.append("sess-%d" % (len(self.sessions) + 1))
                return 200, "<ok/>", self.sessions[-1]
            task = re.search(r'<obj type="Task">([^<]*)</obj>', body).group(1)
            script = self.scripts[task]
            case = script.pop(0) if len(script) > 1 else script[0]
            status = h.fixture(case).upstream_status
            return status, self.upstream(case), None

    def task_requests(self):
        return [r for r in self.requests if "<RetrievePropertiesEx " in r["body"]]


@h.requires_gateway
class TestVim25Scripted(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sg-vim25m-")
        self.users_file = h.make_users_file({"alice": "wonderland-7"}, self.tmp)
        self.password_file = h.write_file(self.tmp, "svc-password", "s3cr&t<pw>")
        self.mock = SoapMock("svc", "s3cr&amp;t&lt;pw&gt;")

    def tearDown(self):
        self.mock.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def gateway(self):
        return h.Gateway({
            "workers": 1,
            "log": {"level": "debug"},
            "auth": {"providers": [{"type": "basic", "users_file": self.users_file}]},
            "backends": [{"name": "vc1", "url": self.mock.url, "dialect": "vim25",
                          "credentials": {"username": "svc",
                                          "password_file": self.password_file},
                          "timeouts": {"connect": "2s", "request": "5s"}}],
        })

    def get(self, gw, task):
        return gw.http("GET", h.task_path(task), {"Authorization": h.basic("alice",
                                                                             "wonderland-7")})

    def test_chunked_fixture_answers_are_served_exactly(self):
        cases = ["vim25-queued", "vim25-running", "vim25-success", "vim25-error"]
        for c in cases:
            self.mock.scripts[h.fixture(c).task] = [c]
        with self.gateway() as gw:
            answers = {c: self.get(gw, h.fixture(c).task) for c in cases}
        for c, r in answers.items():
            self.assertEqual(r.status, 200, (c, r.body))
            self.assertEqual(r.json(), h.fixture(c).expected, c)
        self.assertEqual(len(self.mock.sessions), 1)
        for r in self.mock.task_requests():
            self.assertEqual(r["headers"]["soapaction"], '"urn:vim25/8.0.3.0"')
            self.assertTrue(r["headers"]["content-type"].startswith("text/xml"))
            self.assertEqual(r["headers"]["cookie"], 'vmware_soap_session="sess-1"')

    def test_missing_set_relogs_in_and_retries_once(self):
        task = h.fixture("vim25-running").task
        self.mock.scripts[task] = ["vim25-not-authenticated", "vim25-running"]
        with self.gateway() as gw:
            r = self.get(gw, task)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), h.fixture("vim25-running").expected)
        self.assertEqual(self.mock.sessions, ["sess-1", "sess-2"])
        cookies = [q["headers"]["cookie"] for q in self.mock.task_requests()]
        self.assertEqual(cookies, ['vmware_soap_session="sess-1"',
                                   'vmware_soap_session="sess-2"'])

    def test_missing_set_after_relogin_is_503(self):
        fx = h.fixture("vim25-not-authenticated")
        self.mock.scripts[fx.task] = [fx.case]
        with self.gateway() as gw:
            r = self.get(gw, fx.task)
        self.assertEqual(r.status, fx.expected_error["http_status"], r.body)
        self.assertEqual(r.json()["error_type"], fx.expected_error["error_type"])
        self.assertEqual(len(self.mock.sessions), 2)
        self.assertEqual(len(self.mock.task_requests()), 2)

    def test_not_found_fault_is_404(self):
        fx = h.fixture("vim25-not-found")
        self.mock.scripts[fx.task] = [fx.case]
        with self.gateway() as gw:
            r = self.get(gw, fx.task)
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(r.json()["error_type"], "NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
