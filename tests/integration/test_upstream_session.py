"""The service-account session to the cis backend: one login for many requests, re-login on
expiry, and what the caller sees when the backend rejects the account."""

import base64

import sg_harness as h


@h.requires_gateway
class TestUpstreamSession(h.GatewayTestCase):
    def get(self, gw, task):
        return gw.http("GET", h.task_path(task), self.auth())

    def script_tasks(self, n, case="cis-succeeded"):
        body = h.fixture(case).expected
        tasks = ["task-%d" % i for i in range(n)]
        for t in tasks:
            self.mock.set_task(t, {"status": 200, "body": body})
        return tasks

    def test_one_login_serves_many_requests(self):
        tasks = self.script_tasks(10)
        with self.gateway() as gw:
            statuses = [self.get(gw, t).status for t in tasks]
        self.assertEqual(statuses, [200] * 10)
        st = self.mock.stats()
        self.assertEqual(st["logins"], 1)
        self.assertEqual(sum(st["tasks"].values()), 10)

    def test_login_uses_the_service_account(self):
        tasks = self.script_tasks(1)
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, tasks[0]).status, 200)
        logins = [r for r in self.mock.stats()["requests"]
                  if r["method"] == "POST" and r["path"] == "/api/session"]
        self.assertEqual(len(logins), 1)
        scheme, _, value = logins[0]["headers"]["authorization"].partition(" ")
        self.assertEqual(scheme.lower(), "basic")
        self.assertEqual(base64.b64decode(value).decode(),
                         "%s:%s" % (self.SVC_USER, self.SVC_PASSWORD))

    def test_task_requests_carry_the_session_id(self):
        tasks = self.script_tasks(3)
        with self.gateway() as gw:
            for t in tasks:
                self.get(gw, t)
        st = self.mock.stats()
        reqs = self.mock.task_requests()
        self.assertEqual(len(reqs), 3)
        for r in reqs:
            self.assertEqual(r["headers"].get("vmware-api-session-id"), st["sessions_issued"][0])

    def test_callers_credentials_never_go_upstream(self):
        tasks = self.script_tasks(2)
        caller = self.auth()["Authorization"]
        with self.gateway() as gw:
            for t in tasks:
                self.get(gw, t)
        for r in self.mock.stats()["requests"]:
            self.assertNotEqual(r["headers"].get("authorization"), caller, r["path"])

    def test_upstream_connection_is_kept_alive(self):
        tasks = self.script_tasks(5)
        with self.gateway() as gw:
            for t in tasks:
                self.assertEqual(self.get(gw, t).status, 200)
        conns = {r["connection"] for r in self.mock.task_requests()}
        self.assertEqual(len(conns), 1, "each sequential fetch opened a new connection")

    def test_expired_session_costs_exactly_one_relogin(self):
        tasks = self.script_tasks(2)
        with self.gateway() as gw:
            self.assertEqual(self.get(gw, tasks[0]).status, 200)
            self.mock.expire_sessions()
            r = self.get(gw, tasks[1])
        self.assertEqual(r.status, 200, r.body)
        st = self.mock.stats()
        self.assertEqual(st["logins"], 2)
        self.assertEqual(st["tasks"][tasks[1]], 2)  # 401, then the retry after the login

    def test_task_401_then_200_is_served_after_one_relogin(self):
        fx = h.fixture("cis-succeeded")
        self.mock.set_task("t", {"sequence": [{"status": 401},
                                              {"status": 200, "body": fx.expected}]})
        with self.gateway() as gw:
            r = self.get(gw, "t")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), fx.expected)
        self.assertEqual(self.mock.stats()["logins"], 2)

    def test_task_401_after_relogin_is_503(self):
        self.mock.set_task("t", {"status": 401})
        with self.gateway() as gw:
            r = self.get(gw, "t")
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")
        st = self.mock.stats()
        self.assertEqual(st["logins"], 2)
        self.assertEqual(st["tasks"]["t"], 2)

    def test_rejected_service_account_is_503(self):
        bad = h.write_file(self.tmp, "wrong-password", "not-the-password")
        with self.gateway(backend={"credentials": {"password_file": bad}}) as gw:
            r = self.get(gw, h.fixture("cis-succeeded").task)
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")
        st = self.mock.stats()
        self.assertEqual(st["logins"], 0)
        self.assertGreaterEqual(st["login_failures"], 1)

    def test_login_endpoint_down_is_503(self):
        self.mock.configure(login_status=503)
        with self.gateway() as gw:
            r = self.get(gw, h.fixture("cis-succeeded").task)
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")

    def test_upstream_403_is_403(self):
        self.mock.set_task("t", {"status": 403})
        with self.gateway() as gw:
            r = self.get(gw, "t")
        self.assertError(r, 403, "UNAUTHORIZED")
        self.assertEqual(self.mock.stats()["logins"], 1)


if __name__ == "__main__":
    h.unittest.main()
