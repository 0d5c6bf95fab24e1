"""snapgate's own sessions (issue 13, item 3), in the process (no Redis): com.vmware.cis.session
create / get / delete over JSON-RPC, POST / GET / DELETE /api/snapservice/sessions on REST,
vmware-api-session-id on REST GETs, one store behind both (a session made on either side
works on the other and a delete on either ends it), sessions across connections and workers,
sessions.idle_timeout and sessions.max_lifetime, and no id or password in any output."""

import datetime
import time

import sg_harness as h
import sg_jsonrpc as rpc
from test_auth_saml import ALICE, assertion, token

CASE = "cis-succeeded"
SESSIONS_PATH = "/api/snapservice/sessions"


def parse_time(text):
    return datetime.datetime.strptime(text.replace("Z", "+0000")[:19] + "+0000",
                                      "%Y-%m-%dT%H:%M:%S%z")


class SessionChecks(rpc.RpcAssertions):
    """Calls and checks shared with the Redis suite (self.fx: the task served)."""

    def rpc_get(self, gw, sid, rid="0"):
        return rpc.post(gw, rpc.task_get(self.fx.task, rpc.session_id(sid), rid))

    def assertRpcServed(self, gw, sid):
        self.assertEqual(self.assertOutput(self.rpc_get(gw, sid)), rpc.datavalue(CASE))

    def assertRpcRefused(self, gw, sid):
        self.assertUnauthenticated(self.rpc_get(gw, sid))

    def rest_get(self, gw, sid):
        return gw.http("GET", h.task_path(self.fx.task), {rpc.SESSION_HEADER: sid})

    def assertRestServed(self, gw, sid):
        r = self.rest_get(gw, sid)
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.json(), self.fx.expected)

    def assertRestRefused(self, gw, sid):
        self.assertError(self.rest_get(gw, sid), 401, "UNAUTHENTICATED")

    def rpc_session(self, gw, operation, sid):
        return rpc.post(gw, rpc.session_op(operation, rpc.session_id(sid)))

    def rest_session_info(self, gw, sid):
        r = gw.http("GET", SESSIONS_PATH, {rpc.SESSION_HEADER: sid})
        self.assertEqual(r.status, 200, r.body[:300])
        info = r.json()
        self.assertEqual(set(info), {"user", "created_time", "last_accessed_time"}, info)
        for k in ("created_time", "last_accessed_time"):
            self.assertRegex(info[k], rpc.UTC_TIME_RE)
        return info

    def rpc_delete(self, gw, sid):
        r = self.rpc_session(gw, "delete", sid)
        obj = self.assertRpcAnswer(r)
        self.assertEqual(obj.get("result"), {"output": None}, obj)


@h.requires_gateway
class TestJsonRpcSessions(rpc.JsonRpcTestCase, SessionChecks):
    def setUp(self):
        super().setUp()
        self.fx = h.fixture(CASE)

    # ---- JSON-RPC -----------------------------------------------------------------------------
    def test_create_get_delete_over_json_rpc(self):
        with self.rpc_gateway() as gw:
            before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            sid = self.create_session(gw)
            self.assertRpcServed(gw, sid)
            first = self.assertSessionInfo(self.assertOutput(self.rpc_session(gw, "get", sid)),
                                           "alice")
            created = parse_time(first["created_time"])
            self.assertLessEqual(abs((created - before).total_seconds()), 5, first)
            time.sleep(1.1)
            second = self.assertSessionInfo(
                self.assertOutput(self.rpc_session(gw, "get", sid)), "alice")
            self.assertEqual(second["created_time"], first["created_time"])
            self.assertGreater(second["last_accessed_time"], first["last_accessed_time"])
            self.rpc_delete(gw, sid)
            self.assertRpcRefused(gw, sid)
            self.assertUnauthenticated(self.rpc_session(gw, "get", sid))
            self.assertRestRefused(gw, sid)

    def test_create_with_a_saml_bearer_context(self):
        with self.rpc_gateway() as gw:
            sid = self.create_session(gw, rpc.saml_bearer(self.sts.sign(assertion())))
            self.assertSessionInfo(self.assertOutput(self.rpc_session(gw, "get", sid)), ALICE)
            self.assertRpcServed(gw, sid)

    def test_create_needs_credentials(self):
        with self.rpc_gateway() as gw:
            self.assertUnauthenticated(rpc.post(gw, rpc.session_op("create")))
            self.assertUnauthenticated(rpc.post(gw, rpc.session_op(
                "create", rpc.user_pass("alice", "wrong-pw"))))
            self.assertUnauthenticated(rpc.post(gw, rpc.session_op("get")))
            self.assertUnauthenticated(rpc.post(gw, rpc.session_op("delete")))

    def test_each_create_is_its_own_session(self):
        with self.rpc_gateway() as gw:
            a, b = self.create_session(gw), self.create_session(gw)
            bob = self.create_session(gw, rpc.user_pass("bob", self.USERS["bob"]))
            self.assertEqual(len({a, b, bob}), 3)
            self.rpc_delete(gw, a)
            self.assertRpcRefused(gw, a)
            self.assertRpcServed(gw, b)
            self.assertSessionInfo(self.assertOutput(self.rpc_session(gw, "get", bob)), "bob")

    # ---- REST ---------------------------------------------------------------------------------
    def test_rest_sessions(self):
        with self.rpc_gateway() as gw:
            r = gw.http("POST", SESSIONS_PATH)
            self.assertError(r, 401, "UNAUTHENTICATED")
            sid = self.rest_session(gw)
            info = self.rest_session_info(gw, sid)
            self.assertEqual(info["user"], "alice")
            self.assertRestServed(gw, sid)
            self.assertRestRefused(gw, sid[::-1])
            r = gw.http("DELETE", SESSIONS_PATH, {rpc.SESSION_HEADER: sid})
            self.assertEqual(r.status, 204, r.body[:300])
            self.assertEqual(r.body, b"")
            self.assertRestRefused(gw, sid)
            r = gw.http("GET", SESSIONS_PATH, {rpc.SESSION_HEADER: sid})
            self.assertError(r, 401, "UNAUTHENTICATED")

    def test_rest_session_with_sign_credentials(self):
        sign = {"Authorization": 'SIGN token="%s"' % token(self.sts.sign(assertion()))}
        with self.rpc_gateway() as gw:
            sid = self.rest_session(gw, sign)
            self.assertEqual(self.rest_session_info(gw, sid)["user"], ALICE)
            self.assertRestServed(gw, sid)

    # ---- one store ----------------------------------------------------------------------------
    def test_a_rest_session_works_over_json_rpc_and_the_other_way_round(self):
        with self.rpc_gateway() as gw:
            from_rest = self.rest_session(gw)
            from_rpc = self.create_session(gw)
            for sid in (from_rest, from_rpc):
                self.assertRpcServed(gw, sid)
                self.assertRestServed(gw, sid)
                self.assertSessionInfo(self.assertOutput(self.rpc_session(gw, "get", sid)),
                                       "alice")
                self.assertEqual(self.rest_session_info(gw, sid)["user"], "alice")
            # each deleted on the other side
            self.rpc_delete(gw, from_rest)
            self.assertEqual(gw.http("DELETE", SESSIONS_PATH,
                                     {rpc.SESSION_HEADER: from_rpc}).status, 204)
            for sid in (from_rest, from_rpc):
                self.assertRpcRefused(gw, sid)
                self.assertRestRefused(gw, sid)

    def test_sessions_span_connections_and_workers(self):
        with self.rpc_gateway({"workers": 2}) as gw:
            sid = self.create_session(gw)
            # each call on a fresh connection: the workers take them in turn
            for _ in range(8):
                self.assertRpcServed(gw, sid)
                self.assertRestServed(gw, sid)
            self.rpc_delete(gw, sid)
            for _ in range(8):
                self.assertRpcRefused(gw, sid)

    # ---- lifetimes ----------------------------------------------------------------------------
    def test_idle_timeout(self):
        cfg = {"sessions": {"idle_timeout": "1s", "max_lifetime": "1h"}}
        with self.rpc_gateway(cfg) as gw:
            sid = self.create_session(gw)
            busy = self.rest_session(gw)
            for _ in range(3):  # used every 0.5 s: stays alive past 1 s
                time.sleep(0.5)
                self.assertRpcServed(gw, busy)
            self.assertRpcRefused(gw, sid)        # idle 1.5 s
            self.assertRestRefused(gw, sid)

    def test_max_lifetime_ends_a_busy_session(self):
        cfg = {"sessions": {"idle_timeout": "1s", "max_lifetime": "3s"}}
        with self.rpc_gateway(cfg) as gw:
            sid = self.create_session(gw)
            made = time.monotonic()
            while time.monotonic() - made < 2.4:
                self.assertRpcServed(gw, sid)
                time.sleep(0.4)
            while time.monotonic() - made < 3.4:
                time.sleep(0.3)
                self.rpc_get(gw, sid)  # keeps it busy; either answer is right near 3 s
            self.assertRpcRefused(gw, sid)
            self.assertRestRefused(gw, sid)

    # ---- secrets ------------------------------------------------------------------------------
    def test_no_session_id_or_password_in_any_output(self):
        with self.rpc_gateway() as gw:
            ids = [self.create_session(gw), self.rest_session(gw)]
            for sid in ids:
                self.assertRpcServed(gw, sid)
                self.assertRestServed(gw, sid)
                self.rpc_session(gw, "get", sid)
            self.rpc_delete(gw, ids[0])
        text = gw.stdout_text + gw.stderr_text
        self.assertTrue(gw.stdout_text.strip(), "no access log at all")
        for sid in ids:
            self.assertNotIn(sid[:16], text)
            self.assertNotIn(sid[-16:], text)
        self.assertNotIn(self.USERS["alice"], text)


if __name__ == "__main__":
    h.unittest.main()
