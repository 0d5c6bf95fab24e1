"""snapgate in front of a `rest` (legacy vCenter /rest API) and a `snapservice` backend: tasks
served as the expected Info, 404s, the session login of each dialect and one re-login after
an expiry. The backend is mock_dialects.MockDialects; its own behaviour is checked first."""

import base64
import http.client
import json

import mock_dialects
import sg_harness as h

INFO_CASES = ["cis-pending", "cis-running", "cis-blocked", "cis-succeeded", "cis-failed",
              "cis-time-offset"]


class DialectMockCase(h.GatewayTestCase):
    """GatewayTestCase with MockDialects in place of the plain cis mock."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mock.stop()
        cls.mock = mock_dialects.MockDialects(user=cls.SVC_USER, password=cls.SVC_PASSWORD,
                                              fixtures_dir=h.fixtures_dir()).start()

    def get(self, gw, task):
        return gw.http("GET", h.task_path(task), self.auth())

    def raw_get(self, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.mock.port, timeout=5)
        try:
            conn.request("GET", path, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def mock_login(self, path):
        auth = base64.b64encode(("%s:%s" % (self.SVC_USER, self.SVC_PASSWORD)).encode()).decode()
        conn = http.client.HTTPConnection("127.0.0.1", self.mock.port, timeout=5)
        try:
            conn.request("POST", path, headers={"Authorization": "Basic " + auth})
            r = conn.getresponse()
            return r.status, json.loads(r.read())
        finally:
            conn.close()

    def task_gets(self, prefix):
        return [r for r in self.mock.stats()["requests"]
                if r["method"] == "GET" and r["path"].startswith(prefix)]

    def logins_at(self, path):
        return [r for r in self.mock.stats()["requests"]
                if r["method"] == "POST" and r["path"] == path]


class TestMockDialects(DialectMockCase):
    """The mock itself: without these, a gateway test could pass against a mock that serves
    the cis shape on every path."""

    def test_rest_login_and_legacy_task(self):
        status, body = self.mock_login(mock_dialects.REST_SESSION)
        self.assertEqual(status, 200)
        sid = body["value"]
        fx = h.fixture("cis-running")
        status, raw = self.raw_get(mock_dialects.REST_TASKS + fx.task,
                                   {"vmware-api-session-id": sid})
        self.assertEqual(status, 200)
        value = json.loads(raw)["value"]
        params = value["progress"]["message"]["params"]
        self.assertIsInstance(params, list)
        self.assertEqual({p["key"] for p in params}, set(fx.expected["progress"]["message"]
                                                         ["params"]))
        nested = [p["value"]["l"] for p in params if "l" in p["value"]]
        self.assertTrue(nested)
        for msg in nested:
            self.assertIsInstance(msg.get("params", []), list)

    def test_rest_errors_are_legacy(self):
        status, raw = self.raw_get(mock_dialects.REST_TASKS + "nope")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(raw)["type"],
                         "com.vmware.vapi.std.errors.unauthenticated")
        _, body = self.mock_login(mock_dialects.REST_SESSION)
        status, raw = self.raw_get(mock_dialects.REST_TASKS + "nope",
                                   {"vmware-api-session-id": body["value"]})
        self.assertEqual(status, 404)
        obj = json.loads(raw)
        self.assertEqual(obj["type"], "com.vmware.vapi.std.errors.not_found")
        self.assertEqual(obj["value"]["error_type"], "NOT_FOUND")

    def test_rest_fixture_sent_verbatim(self):
        _, body = self.mock_login(mock_dialects.REST_SESSION)
        fx = h.fixture("rest-failed")
        status, raw = self.raw_get(mock_dialects.REST_TASKS + fx.task,
                                   {"vmware-api-session-id": body["value"]})
        self.assertEqual(status, 200)
        with open("%s/rest-failed.upstream.json" % h.fixtures_dir(), encoding="utf-8") as f:
            self.assertEqual(json.loads(raw), json.load(f))

    def test_snapservice_as_is_and_cis_unchanged(self):
        status, sid = self.mock_login("/api/session")
        self.assertEqual(status, 201)
        fx = h.fixture("snapservice-null-fields")
        status, raw = self.raw_get(mock_dialects.SNAPSERVICE_TASKS + fx.task,
                                   {"vmware-api-session-id": sid})
        self.assertEqual(status, 200)
        self.assertIsNone(json.loads(raw)["parent"])
        cis = h.fixture("cis-running")
        status, raw = self.raw_get("/api/cis/tasks/" + cis.task, {"vmware-api-session-id": sid})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(raw), cis.expected)


@h.requires_gateway
class TestRestBackend(DialectMockCase):
    def gw(self, **kw):
        return self.gateway(backend={"dialect": "rest"}, **kw)

    def test_cis_infos_through_the_legacy_encoding(self):
        with self.gw() as gw:
            for case in INFO_CASES:
                fx = h.fixture(case)
                r = self.get(gw, fx.task)
                self.assertEqual(r.status, 200, "%s: %r" % (case, r.body[:300]))
                self.assertEqual(r.json(), fx.expected, case)
        self.assertEqual(len(self.task_gets(mock_dialects.REST_TASKS)), len(INFO_CASES))
        self.assertEqual(self.task_gets("/api/cis/tasks/"), [])

    def test_rest_fixtures(self):
        with self.gw() as gw:
            for case in h.fixture_cases("rest-"):
                fx = h.fixture(case)
                r = self.get(gw, fx.task)
                if fx.expected is not None:
                    self.assertEqual(r.status, 200, "%s: %r" % (case, r.body[:300]))
                    self.assertEqual(r.json(), fx.expected, case)
                else:
                    self.assertError(r, fx.expected_error["http_status"],
                                     fx.expected_error["error_type"])

    def test_unknown_task_is_404(self):
        with self.gw() as gw:
            r = self.get(gw, "no-such-task")
        self.assertError(r, 404, "NOT_FOUND")
        self.assertEqual(self.mock.stats()["tasks"]["no-such-task"], 1)

    def test_legacy_login_with_the_service_account(self):
        with self.gw() as gw:
            self.assertEqual(self.get(gw, h.fixture("cis-succeeded").task).status, 200)
        logins = self.logins_at(mock_dialects.REST_SESSION)
        self.assertEqual(len(logins), 1)
        self.assertEqual(self.logins_at("/api/session"), [])
        scheme, _, value = logins[0]["headers"]["authorization"].partition(" ")
        self.assertEqual(scheme, "Basic")
        self.assertEqual(base64.b64decode(value).decode(),
                         "%s:%s" % (self.SVC_USER, self.SVC_PASSWORD))
        sid = self.mock.stats()["sessions_issued"][0]
        for req in self.task_gets(mock_dialects.REST_TASKS):
            self.assertEqual(req["headers"].get("vmware-api-session-id"), sid)

    def test_expired_session_costs_exactly_one_relogin(self):
        a, b = h.fixture("cis-succeeded"), h.fixture("cis-failed")
        with self.gw() as gw:
            self.assertEqual(self.get(gw, a.task).status, 200)
            self.mock.expire_sessions()
            r = self.get(gw, b.task)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), b.expected)
        self.assertEqual(len(self.logins_at(mock_dialects.REST_SESSION)), 2)
        self.assertEqual(self.mock.stats()["tasks"][b.task], 2)  # 401, then after the login

    def test_upstream_403_and_503(self):
        self.mock.set_task("t403", {"status": 403})
        self.mock.set_task("t503", {"status": 503})
        with self.gw() as gw:
            self.assertError(self.get(gw, "t403"), 403, "UNAUTHORIZED")
            self.assertError(self.get(gw, "t503"), 503, "SERVICE_UNAVAILABLE")

    def test_resource_inaccessible_in_the_legacy_form(self):
        self.mock.set_task("t", {"status": 500, "body": {
            "error_type": "RESOURCE_INACCESSIBLE",
            "messages": [{"id": "x", "default_message": "gone {n}", "args": [],
                          "params": {"n": {"i": 1}}}]}})
        with self.gw() as gw:
            self.assertError(self.get(gw, "t"), 500, "RESOURCE_INACCESSIBLE")


@h.requires_gateway
class TestSnapserviceBackend(DialectMockCase):
    def gw(self, **kw):
        return self.gateway(backend={"dialect": "snapservice"}, **kw)

    def test_snapservice_fixtures(self):
        with self.gw() as gw:
            cases = h.fixture_cases("snapservice-")
            self.assertGreaterEqual(len(cases), 3)
            for case in cases:
                fx = h.fixture(case)
                r = self.get(gw, fx.task)
                if fx.expected is not None:
                    self.assertEqual(r.status, 200, "%s: %r" % (case, r.body[:300]))
                    self.assertEqual(r.json(), fx.expected, case)
                else:
                    self.assertError(r, fx.expected_error["http_status"],
                                     fx.expected_error["error_type"])
        self.assertEqual(len(self.task_gets(mock_dialects.SNAPSERVICE_TASKS)), len(cases))

    def test_union_violation_is_not_cached(self):
        fx = h.fixture("snapservice-union-violation")
        with self.gw() as gw:
            self.assertError(self.get(gw, fx.task), 500, "ERROR")
            self.assertError(self.get(gw, fx.task), 500, "ERROR")
        self.assertEqual(self.mock.stats()["tasks"][fx.task], 2)

    def test_unknown_task_is_404(self):
        with self.gw() as gw:
            r = self.get(gw, "no-such-task")
        self.assertError(r, 404, "NOT_FOUND")

    def test_expired_session_costs_exactly_one_relogin(self):
        a, b = h.fixture("snapservice-valid"), h.fixture("snapservice-null-fields")
        with self.gw() as gw:
            self.assertEqual(self.get(gw, a.task).status, 200)
            self.mock.expire_sessions()
            r = self.get(gw, b.task)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), b.expected)
        self.assertEqual(len(self.logins_at("/api/session")), 2)
        self.assertEqual(self.logins_at(mock_dialects.REST_SESSION), [])
        self.assertEqual(self.mock.stats()["tasks"][b.task], 2)


if __name__ == "__main__":
    h.unittest.main()
