"""Self-tests of the mock vCenter alone (no gateway needed)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse

import mock_vcenter
import sg_harness as h

USER, PASSWORD = "svc", "secret"


class MockTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mock = mock_vcenter.MockVCenter(user=USER, password=PASSWORD,
                                            fixtures_dir=h.fixtures_dir()).start()

    @classmethod
    def tearDownClass(cls):
        cls.mock.stop()

    def setUp(self):
        self.mock.reset()

    def req(self, method, path, headers=None, body=None, conn=None):
        return h.http_request(self.mock.port, method, path, headers, body, conn)

    def login(self, user=USER, password=PASSWORD):
        return self.req("POST", "/api/session", {"Authorization": h.basic(user, password)})

    def session(self):
        r = self.login()
        self.assertEqual(r.status, 201, r.body)
        return {"vmware-api-session-id": r.json()}

    def get_task(self, task_id, headers=None, conn=None):
        hdrs = self.session() if headers is None else headers
        return self.req("GET", "/api/cis/tasks/" + urllib.parse.quote(task_id, safe=""),
                        hdrs, conn=conn)

    def assertStdError(self, resp, status, error_type):
        self.assertEqual(resp.status, status, resp.body)
        body = resp.json()
        self.assertEqual(body["error_type"], error_type)
        self.assertGreaterEqual(len(body["messages"]), 1)
        for m in body["messages"]:
            self.assertEqual(set(m), {"id", "default_message", "args"})


class TestSession(MockTestCase):
    def test_login_returns_201_and_a_session_id_string(self):
        r = self.login()
        self.assertEqual(r.status, 201)
        sid = r.json()
        self.assertIsInstance(sid, str)
        self.assertGreaterEqual(len(sid), 16)
        self.assertEqual(self.mock.stats()["logins"], 1)

    def test_each_login_gets_a_new_session_id(self):
        self.assertNotEqual(self.login().json(), self.login().json())

    def test_wrong_password_is_401_unauthenticated(self):
        r = self.login(password="nope")
        self.assertStdError(r, 401, "UNAUTHENTICATED")
        self.assertIn("www-authenticate", r.headers)
        st = self.mock.stats()
        self.assertEqual((st["logins"], st["login_attempts"], st["login_failures"]), (0, 1, 1))

    def test_missing_credentials_is_401(self):
        self.assertStdError(self.req("POST", "/api/session"), 401, "UNAUTHENTICATED")

    def test_malformed_basic_is_401(self):
        r = self.req("POST", "/api/session", {"Authorization": "Basic %%%not-base64"})
        self.assertStdError(r, 401, "UNAUTHENTICATED")

    def test_get_session_with_valid_id(self):
        hdrs = self.session()
        r = self.req("GET", "/api/session", hdrs)
        self.assertEqual(r.status, 200)
        info = r.json()
        self.assertEqual(set(info), {"user", "created_time", "last_accessed_time"})
        self.assertEqual(info["user"], USER)

    def test_get_session_with_unknown_id_is_401(self):
        r = self.req("GET", "/api/session", {"vmware-api-session-id": "nope"})
        self.assertStdError(r, 401, "UNAUTHENTICATED")

    def test_delete_session_is_204_and_ends_it(self):
        hdrs = self.session()
        r = self.req("DELETE", "/api/session", hdrs)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.headers.get("content-length"), "0")
        self.assertEqual(self.req("GET", "/api/session", hdrs).status, 401)

    def test_expire_sessions_makes_the_next_task_call_401(self):
        hdrs = self.session()
        task = h.fixture("cis-running").task
        self.assertEqual(self.get_task(task, hdrs).status, 200)
        self.assertEqual(self.mock.expire_sessions(), 1)
        self.assertStdError(self.get_task(task, hdrs), 401, "UNAUTHENTICATED")
        self.assertEqual(self.get_task(task).status, 200)  # a new login works

    def test_config_changes_credentials(self):
        self.mock.configure(user="other", password="pw2")
        self.assertEqual(self.login().status, 401)
        self.assertEqual(self.login("other", "pw2").status, 201)

    def test_config_login_status_fails_every_login(self):
        self.mock.configure(login_status=503)
        self.assertStdError(self.login(), 503, "SERVICE_UNAVAILABLE")
        self.assertEqual(self.mock.stats()["logins"], 0)

    def test_config_login_delay(self):
        self.mock.configure(login_delay_ms=300)
        t0 = time.monotonic()
        self.assertEqual(self.login().status, 201)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)


class TestTasks(MockTestCase):
    def test_task_without_session_is_401(self):
        r = self.get_task(h.fixture("cis-running").task, headers={})
        self.assertStdError(r, 401, "UNAUTHENTICATED")

    def test_task_with_unknown_session_is_401(self):
        r = self.get_task(h.fixture("cis-running").task,
                          headers={"vmware-api-session-id": "forged"})
        self.assertStdError(r, 401, "UNAUTHENTICATED")

    def test_every_cis_fixture_is_seeded_with_its_status_and_body(self):
        d = h.fixtures_dir()
        cases = h.fixture_cases("cis-")
        self.assertGreaterEqual(len(cases), 5)
        hdrs = self.session()
        for case in cases:
            with self.subTest(case=case):
                fx = h.fixture(case)
                r = self.get_task(fx.task, hdrs)
                self.assertEqual(r.status, fx.upstream_status)
                with open(os.path.join(d, case + ".upstream.json"), "rb") as f:
                    self.assertEqual(r.body, f.read())

    def test_fixture_garbage_is_200_with_a_body_that_is_not_json(self):
        r = self.get_task(h.fixture("cis-garbage").task)
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.headers["content-length"]), len(r.body))
        with self.assertRaises(ValueError):
            json.loads(r.body)

    def test_unknown_task_is_404_not_found(self):
        r = self.get_task("no-such-task")
        self.assertStdError(r, 404, "NOT_FOUND")
        self.assertEqual(r.json()["messages"][0]["args"], ["no-such-task"])

    def test_scripted_error_statuses(self):
        hdrs = self.session()
        for status, etype in ((401, "UNAUTHENTICATED"), (403, "UNAUTHORIZED"),
                              (404, "NOT_FOUND"), (500, "ERROR"), (503, "SERVICE_UNAVAILABLE")):
            with self.subTest(status=status):
                self.mock.set_task("t", {"status": status})
                self.assertStdError(self.get_task("t", hdrs), status, etype)

    def test_scripted_body_is_served_as_json(self):
        self.mock.set_task("t", {"status": 200, "body": {"status": "PENDING", "x": [1]}})
        r = self.get_task("t")
        self.assertEqual((r.status, r.json()), (200, {"status": "PENDING", "x": [1]}))
        self.assertTrue(r.headers["content-type"].startswith("application/json"))

    def test_scripted_raw_body_and_headers(self):
        self.mock.set_task("t", {"status": 500, "raw": "oops", "headers": {"X-Thing": "1"}})
        r = self.get_task("t")
        self.assertEqual((r.status, r.body, r.headers.get("x-thing")), (500, b"oops", "1"))

    def test_sequence_is_consumed_one_per_request_and_the_last_repeats(self):
        self.mock.set_task("t", {"sequence": [{"status": 401}, {"status": 200, "body": {"a": 1}},
                                              {"status": 503}]})
        hdrs = self.session()
        self.assertEqual([self.get_task("t", hdrs).status for _ in range(5)],
                         [401, 200, 503, 503, 503])

    def test_set_task_restarts_its_sequence(self):
        self.mock.set_task("t", {"sequence": [{"status": 401}, {"status": 200}]})
        hdrs = self.session()
        self.assertEqual(self.get_task("t", hdrs).status, 401)
        self.mock.set_task("t", {"sequence": [{"status": 403}, {"status": 200}]})
        self.assertEqual(self.get_task("t", hdrs).status, 403)

    def test_delay_holds_the_answer(self):
        self.mock.set_task("t", {"status": 200, "body": {}, "delay_ms": 300})
        hdrs = self.session()
        t0 = time.monotonic()
        self.assertEqual(self.get_task("t", hdrs).status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_config_default_delay_applies_to_tasks(self):
        self.mock.configure(delay_ms=250)
        hdrs = self.session()
        t0 = time.monotonic()
        self.get_task(h.fixture("cis-running").task, hdrs)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)

    def test_close_answers_nothing_and_closes(self):
        self.mock.set_task("t", {"action": "close"})
        sid = self.session()["vmware-api-session-id"]
        r = h.raw_request(self.mock.port, ("GET /api/cis/tasks/t HTTP/1.1\r\nHost: x\r\n"
                                           "vmware-api-session-id: %s\r\n\r\n" % sid).encode(),
                          read_timeout=3)
        self.assertIsNone(r.status)
        self.assertTrue(r.closed)
        self.assertEqual(r.raw, b"")
        self.assertEqual(self.mock.stats()["tasks"]["t"], 1)

    def test_garbage_without_raw_is_truncated_json(self):
        self.mock.set_task("t", {"action": "garbage"})
        r = self.get_task("t")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body.startswith(b"{"))
        with self.assertRaises(ValueError):
            json.loads(r.body)

    def test_id_is_one_percent_decoded_segment(self):
        self.mock.set_task("a/b:c d", {"status": 200, "body": {"ok": True}})
        hdrs = self.session()
        r = self.req("GET", "/api/cis/tasks/a%2Fb%3Ac%20d", hdrs)
        self.assertEqual((r.status, r.json()), (200, {"ok": True}))
        self.assertEqual(self.req("GET", "/api/cis/tasks/a/b:c%20d", hdrs).status, 404)
        self.assertEqual(self.mock.stats()["tasks"], {"a/b:c d": 1})

    def test_unknown_path_is_404(self):
        self.assertStdError(self.req("GET", "/api/other"), 404, "NOT_FOUND")

    def test_bad_script_is_rejected(self):
        with self.assertRaises(ValueError):
            self.mock.set_task("t", {"action": "explode"})
        with self.assertRaises(ValueError):
            self.mock.set_task("t", {"sequence": []})


class TestStatsAndConnections(MockTestCase):
    def test_stats_count_paths_tasks_logins_and_keep_headers(self):
        task = h.fixture("cis-succeeded").task
        hdrs = self.session()
        self.get_task(task, hdrs)
        self.get_task(task, hdrs)
        st = self.mock.stats()
        self.assertEqual(st["logins"], 1)
        self.assertEqual(st["tasks"], {task: 2})
        self.assertEqual(st["paths"]["/api/session"], 1)
        self.assertEqual(st["method_paths"]["POST /api/session"], 1)
        self.assertEqual(st["requests_total"], 3)
        reqs = self.mock.task_requests(task)
        self.assertEqual(len(reqs), 2)
        for r in reqs:
            self.assertEqual(r["headers"]["vmware-api-session-id"],
                             hdrs["vmware-api-session-id"])
            self.assertEqual(r["status"], 200)
        self.assertEqual(st["sessions_issued"], [hdrs["vmware-api-session-id"]])

    def test_keep_alive_connection_is_reused_and_counted_once(self):
        conn = h.http.client.HTTPConnection("127.0.0.1", self.mock.port, timeout=5)
        try:
            r = self.req("POST", "/api/session", {"Authorization": h.basic(USER, PASSWORD)},
                         conn=conn)
            hdrs = {"vmware-api-session-id": r.json()}
            for _ in range(3):
                self.assertEqual(self.get_task(h.fixture("cis-running").task, hdrs,
                                               conn=conn).status, 200)
        finally:
            conn.close()
        st = self.mock.stats()
        self.assertEqual((st["requests_total"], st["connections"]), (4, 1))

    def test_every_answer_has_content_length(self):
        hdrs = self.session()
        self.mock.set_task("t", {"status": 503})
        for r in (self.get_task("t", hdrs), self.req("DELETE", "/api/session", hdrs),
                  self.get_task(h.fixture("cis-running").task, {})):
            self.assertEqual(int(r.headers["content-length"]), len(r.body))

    def test_control_requests_are_not_counted(self):
        client = mock_vcenter.MockClient(self.mock.port)
        client.set_task("t", {"status": 200})
        client.stats()
        self.assertEqual(self.mock.stats()["requests_total"], 0)

    def test_reset_restores_seed_and_clears_sessions_and_counters(self):
        task = h.fixture("cis-running").task
        hdrs = self.session()
        self.mock.set_task(task, {"status": 500})
        self.mock.reset()
        st = self.mock.stats()
        self.assertEqual((st["requests_total"], st["logins"], st["sessions_active"]), (0, 0, 0))
        self.assertEqual(self.get_task(task, hdrs).status, 401)  # the old session is gone
        self.assertEqual(self.get_task(task).status, 200)        # the seed is back

    def test_reset_stats_keeps_sessions(self):
        hdrs = self.session()
        self.mock.reset_stats()
        self.assertEqual(self.mock.stats()["logins"], 0)
        self.assertEqual(self.get_task(h.fixture("cis-running").task, hdrs).status, 200)

    def test_stop_closes_kept_alive_connections(self):
        m = mock_vcenter.MockVCenter(user=USER, password=PASSWORD).start()
        conn = h.http.client.HTTPConnection("127.0.0.1", m.port, timeout=3)
        try:
            r = h.http_request(m.port, "POST", "/api/session",
                               {"Authorization": h.basic(USER, PASSWORD)}, conn=conn)
            self.assertEqual(r.status, 201)
            m.stop()
            with self.assertRaises((OSError, h.http.client.HTTPException)):
                h.http_request(m.port, "GET", "/api/session", conn=conn)
        finally:
            conn.close()
            m.stop()


class TestControlOverHttp(MockTestCase):
    def test_control_api_drives_the_mock(self):
        c = mock_vcenter.MockClient(self.mock.port)
        c.set_task("x/y", {"sequence": [{"status": 503}, {"status": 200, "body": {"v": 2}}]})
        self.assertIn("x/y", self.mock.task_ids())
        hdrs = self.session()
        self.assertEqual(self.get_task("x/y", hdrs).status, 503)
        self.assertEqual(self.get_task("x/y", hdrs).json(), {"v": 2})
        st = c.stats()
        self.assertEqual((st["tasks"]["x/y"], st["logins"]), (2, 1))
        self.assertEqual(c.expire_sessions(), 1)
        self.assertEqual(self.get_task("x/y", hdrs).status, 401)
        self.assertEqual(c.configure(delay_ms=5)["delay_ms"], 5)
        c.delete_task("x/y")
        self.assertNotIn("x/y", self.mock.task_ids())
        c.reset()
        self.assertEqual(c.stats()["requests_total"], 0)

    def test_control_api_rejects_bad_json_and_unknown_endpoints(self):
        r = self.req("POST", "/_mock/tasks/t", {"Content-Type": "application/json"}, b"{nope")
        self.assertEqual(r.status, 400)
        self.assertEqual(self.req("POST", "/_mock/config", None, b'{"colour": 1}').status, 400)
        self.assertEqual(self.req("GET", "/_mock/nothing").status, 404)


class TestUsersTokensAndAcl(MockTestCase):
    """Callers besides the service account, SIGN tokens, per-task ACLs, per-user stats."""

    USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}

    def setUp(self):
        super().setUp()
        self.mock.configure(users=self.USERS)

    def user_session(self, user):
        r = self.login(user, self.USERS[user])
        self.assertEqual(r.status, 201, r.body)
        return {"vmware-api-session-id": r.json()}

    def sign_login(self, header_value):
        return self.req("POST", "/api/session", {"Authorization": header_value})

    def test_configured_users_log_in_and_get_session_names_them(self):
        for user in ("alice", "bob"):
            with self.subTest(user=user):
                hdrs = self.user_session(user)
                r = self.req("GET", "/api/session", hdrs)
                self.assertEqual((r.status, r.json()["user"]), (200, user))
        self.assertEqual(self.login().status, 201)  # the service account still works
        self.assertEqual(self.req("GET", "/api/session", self.session()).json()["user"], USER)

    def test_wrong_or_unknown_user_is_401_and_users_are_replaced_not_merged(self):
        self.assertStdError(self.login("alice", "bob-pw-2"), 401, "UNAUTHENTICATED")
        self.assertStdError(self.login("carol", "x"), 401, "UNAUTHENTICATED")
        self.assertStdError(self.login("alice", PASSWORD), 401, "UNAUTHENTICATED")
        self.mock.configure(users={"carol": "carol-pw"})
        self.assertEqual(self.login("carol", "carol-pw").status, 201)
        self.assertEqual(self.login("alice", "alice-pw-1").status, 401)
        st = self.mock.stats()
        self.assertEqual((st["login_attempts"], st["login_failures"]), (5, 4))
        self.assertEqual(st["logins_by_user"], {"carol": 1})

    def test_reset_forgets_users_and_sign_tokens(self):
        self.mock.add_sign_tokens({"tok-1": "alice"})
        self.mock.reset()
        self.assertEqual(self.login("alice", "alice-pw-1").status, 401)
        self.assertEqual(self.sign_login('SIGN token="tok-1"').status, 401)
        self.assertEqual(self.mock.stats()["logins"], 0)

    def test_sign_token_opens_a_session_for_its_user(self):
        self.assertEqual(self.mock.add_sign_tokens({"tok-a==": "alice", "tok-b": "bob"}), 2)
        for value, user in (('SIGN token="tok-a=="', "alice"), ("SIGN token=tok-a==", "alice"),
                            ('sign token="tok-b", nonce="n1", signature="s"', "bob"),
                            ('SIGN nonce="n1", token=tok-b', "bob")):
            with self.subTest(header=value):
                r = self.sign_login(value)
                self.assertEqual(r.status, 201, r.body)
                info = self.req("GET", "/api/session", {"vmware-api-session-id": r.json()})
                self.assertEqual(info.json()["user"], user)
        self.assertEqual(self.mock.stats()["logins_by_user"], {"alice": 2, "bob": 2})

    def test_unknown_or_missing_sign_token_is_401(self):
        self.mock.add_sign_tokens({"tok-a": "alice"})
        for value in ('SIGN token="tok-b"', 'SIGN token=""', "SIGN", 'SIGN nonce="tok-a"',
                      'Bearer tok-a'):
            with self.subTest(header=value):
                self.assertStdError(self.sign_login(value), 401, "UNAUTHENTICATED")
        self.assertEqual(self.mock.stats()["logins"], 0)

    def test_bad_sign_token_registrations_are_rejected(self):
        for bad in ({"": "alice"}, {"tok": ""}, {"tok": 1}, ["tok"]):
            with self.subTest(mapping=bad):
                with self.assertRaises(ValueError):
                    self.mock.add_sign_tokens(bad)

    def test_deny_is_403_unauthorized_for_those_users_only(self):
        fx = h.fixture("cis-succeeded")
        self.mock.set_task("t", {"status": 200, "body": fx.expected, "deny": ["bob"]})
        alice, bob = self.user_session("alice"), self.user_session("bob")
        self.assertEqual(self.get_task("t", alice).json(), fx.expected)
        self.assertStdError(self.get_task("t", bob), 403, "UNAUTHORIZED")
        self.assertEqual(self.get_task("t", self.session()).status, 200)  # service account
        st = self.mock.stats()
        self.assertEqual(st["task_requests_by_user"],
                         {"alice": {"t": 1}, "bob": {"t": 1}, USER: {"t": 1}})
        self.assertEqual(st["tasks"], {"t": 3})

    def test_allow_admits_only_those_users_the_service_account_included(self):
        self.mock.set_task("t", {"status": 200, "body": {"ok": 1}, "allow": ["alice"]})
        self.assertEqual(self.get_task("t", self.user_session("alice")).status, 200)
        self.assertStdError(self.get_task("t", self.user_session("bob")), 403, "UNAUTHORIZED")
        self.assertStdError(self.get_task("t", self.session()), 403, "UNAUTHORIZED")

    def test_deny_beats_allow(self):
        self.mock.set_task("t", {"status": 200, "allow": ["alice", "bob"], "deny": ["bob"]})
        self.assertEqual(self.get_task("t", self.user_session("alice")).status, 200)
        self.assertEqual(self.get_task("t", self.user_session("bob")).status, 403)

    def test_a_refused_request_consumes_no_answer_of_a_sequence(self):
        self.mock.set_task("t", {"sequence": [{"status": 200, "body": {"n": 1}},
                                              {"status": 200, "body": {"n": 2}}],
                                 "deny": ["bob"]})
        bob, alice = self.user_session("bob"), self.user_session("alice")
        self.assertEqual(self.get_task("t", bob).status, 403)
        self.assertEqual(self.get_task("t", alice).json(), {"n": 1})

    def test_acl_only_body_keeps_the_seeded_script_and_a_new_script_lifts_it(self):
        fx = h.fixture("cis-running")
        self.mock.set_task(fx.task, {"deny": ["bob"]})
        alice, bob = self.user_session("alice"), self.user_session("bob")
        self.assertEqual(self.get_task(fx.task, alice).status, fx.upstream_status)
        self.assertEqual(self.get_task(fx.task, bob).status, 403)
        self.mock.set_task(fx.task, {"status": 200, "body": {"v": 1}})
        self.assertEqual(self.get_task(fx.task, bob).json(), {"v": 1})

    def test_set_acl_and_delete_task_and_reset_clear_the_acl(self):
        self.mock.set_task("t", {"status": 200, "body": {}})
        bob = self.user_session("bob")
        self.mock.set_acl("t", deny=["bob"])
        self.assertEqual(self.get_task("t", bob).status, 403)
        self.mock.set_acl("t")
        self.assertEqual(self.get_task("t", bob).status, 200)
        self.mock.set_acl("t", allow=["alice"])
        self.mock.delete_task("t")
        self.mock.set_task("t", {"status": 200, "body": {}})
        self.assertEqual(self.get_task("t", bob).status, 200)
        fx = h.fixture("cis-running")
        self.mock.set_acl(fx.task, deny=["bob"])
        self.mock.reset()
        self.mock.configure(users=self.USERS)
        self.assertEqual(self.get_task(fx.task, self.user_session("bob")).status, 200)

    def test_acl_on_an_unknown_task_is_checked_first(self):
        self.mock.set_acl("ghost", deny=["bob"])
        self.assertEqual(self.get_task("ghost", self.user_session("bob")).status, 403)
        self.assertEqual(self.get_task("ghost", self.user_session("alice")).status, 404)

    def test_bad_acls_are_rejected(self):
        for bad in ({"deny": "bob"}, {"allow": [1]}, {"deny": [""]},
                    {"status": 200, "deny": {"bob": 1}}):
            with self.subTest(script=bad):
                with self.assertRaises(ValueError):
                    self.mock.set_task("t", bad)

    def test_session_checks_logins_and_requests_are_counted_by_user(self):
        alice, bob = self.user_session("alice"), self.user_session("bob")
        self.mock.set_task("t", {"status": 200, "body": {}})
        self.req("GET", "/api/session", alice)
        self.req("GET", "/api/session", alice)
        self.req("GET", "/api/session", {"vmware-api-session-id": "forged"})
        self.req("GET", "/api/session", {})
        self.get_task("t", bob)
        self.get_task("t", {"vmware-api-session-id": "forged"})
        st = self.mock.stats()
        self.assertEqual(st["logins_by_user"], {"alice": 1, "bob": 1})
        self.assertEqual(st["session_checks"], 4)
        self.assertEqual(st["session_checks_by_user"], {"alice": 2})
        self.assertEqual(st["task_requests_by_user"], {"bob": {"t": 1}})
        users = [(r["method"], r["path"], r["user"]) for r in st["requests"]]
        self.assertEqual(users, [
            ("POST", "/api/session", "alice"), ("POST", "/api/session", "bob"),
            ("GET", "/api/session", "alice"), ("GET", "/api/session", "alice"),
            ("GET", "/api/session", None), ("GET", "/api/session", None),
            ("GET", "/api/cis/tasks/t", "bob"), ("GET", "/api/cis/tasks/t", None)])
        self.mock.reset_stats()
        st = self.mock.stats()
        self.assertEqual((st["logins_by_user"], st["session_checks"],
                          st["session_checks_by_user"], st["task_requests_by_user"]),
                         ({}, 0, {}, {}))

    def test_a_failed_login_records_no_user(self):
        self.login("alice", "wrong")
        self.assertEqual(self.mock.stats()["requests"][0]["user"], None)

    def test_bad_users_config_is_rejected(self):
        for bad in ({"alice": 1}, ["alice"], {"": "pw"}):
            with self.subTest(users=bad):
                with self.assertRaises(ValueError):
                    self.mock.configure(users=bad)

    def test_constructor_takes_users(self):
        with mock_vcenter.MockVCenter(user=USER, password=PASSWORD,
                                      users={"dave": "dave-pw"}) as m:
            r = h.http_request(m.port, "POST", "/api/session",
                               {"Authorization": h.basic("dave", "dave-pw")})
            self.assertEqual(r.status, 201)
            m.reset()
            self.assertEqual(m.stats()["logins"], 0)
            r = h.http_request(m.port, "POST", "/api/session",
                               {"Authorization": h.basic("dave", "dave-pw")})
            self.assertEqual(r.status, 201)  # the constructor's users survive a reset

    def test_control_api_over_http(self):
        c = mock_vcenter.MockClient(self.mock.port)
        self.assertEqual(c.configure(users={"erin": "erin-pw"})["users"], {"erin": "erin-pw"})
        self.assertEqual(c.add_sign_tokens({"tok-e": "erin"}), 1)
        r = self.sign_login('SIGN token="tok-e"')
        self.assertEqual(r.status, 201)
        erin = {"vmware-api-session-id": r.json()}
        c.set_task("t", {"status": 200, "body": {}, "allow": ["someone-else"]})
        self.assertEqual(self.get_task("t", erin).status, 403)
        c.set_acl("t", deny=["nobody"])
        self.assertEqual(self.get_task("t", erin).status, 200)
        c.set_acl("t", allow=["nobody"])
        self.assertEqual(self.get_task("t", erin).status, 403)
        c.set_acl("t")
        self.assertEqual(self.get_task("t", erin).status, 200)
        self.assertEqual(c.stats()["task_requests_by_user"], {"erin": {"t": 4}})
        for path, body in (("/_mock/sign-tokens", b'{"tok": 5}'),
                           ("/_mock/sign-tokens", b'["tok"]'),
                           ("/_mock/tasks/t", b'{"deny": "erin"}'),
                           ("/_mock/config", b'{"users": ["erin"]}')):
            with self.subTest(path=path, body=body):
                self.assertEqual(self.req("POST", path, None, body).status, 400)


class TestProgram(unittest.TestCase):
    def test_program_prints_port_serves_fixtures_and_stops_on_sigterm(self):
        args = [sys.executable, mock_vcenter.__file__, "--listen", "127.0.0.1:0",
                "--user", USER, "--password", PASSWORD, "--print-port",
                "--fixtures", h.fixtures_dir()]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True)
        try:
            line = proc.stdout.readline().strip()
            self.assertRegex(line, r"^MOCK_PORT=\d+$")
            port = int(line.split("=")[1])
            r = h.http_request(port, "POST", "/api/session",
                               {"Authorization": h.basic(USER, PASSWORD)})
            self.assertEqual(r.status, 201)
            task = h.fixture("cis-succeeded").task
            r2 = h.http_request(port, "GET",
                                "/api/cis/tasks/" + urllib.parse.quote(task, safe=""),
                                {"vmware-api-session-id": r.json()})
            self.assertEqual(r2.json()["status"], "SUCCEEDED")
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(10), 0)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()


if __name__ == "__main__":
    unittest.main()
