"""snapgate's sessions with Redis (issue 13, item 3): two replicas sharing one redis-server
(RedisTestCase) know each other's sessions, over JSON-RPC and REST alike; a delete through
one ends the session on both; Redis holds no session id (only a keyed hash of it), under
snapgate's key prefix; sessions.idle_timeout holds there too; with Redis gone a session is
503 (fails closed), never served nor refused."""

import json
import time

import sg_harness as h
import sg_jsonrpc as rpc
from test_jsonrpc_sessions import CASE, SESSIONS_PATH, SessionChecks


@h.requires_gateway
class TestJsonRpcSessionsRedis(h.RedisTestCase, SessionChecks):
    def setUp(self):
        super().setUp()
        self.fx = h.fixture(CASE)

    def alice(self):
        return rpc.user_pass("alice", self.USERS["alice"])

    def create(self, gw):
        r = rpc.post(gw, rpc.session_op("create", self.alice()))
        return self.assertSessionId(self.assertOutput(r))

    def test_a_session_made_through_a_is_accepted_by_b_until_deleted_through_b(self):
        with self.shared_gateways(2) as (a, b):
            sid = self.create(a)
            self.assertRpcServed(b, sid)
            self.assertRestServed(b, sid)
            self.assertSessionInfo(self.assertOutput(self.rpc_session(b, "get", sid)), "alice")
            self.assertEqual(self.rest_session_info(b, sid)["user"], "alice")
            self.assertRpcServed(a, sid)
            self.rpc_delete(b, sid)
            for gw in (a, b):
                self.assertRpcRefused(gw, sid)
                self.assertRestRefused(gw, sid)

    def test_a_rest_session_made_through_a_is_accepted_by_b_until_deleted(self):
        with self.shared_gateways(2) as (a, b):
            r = a.http("POST", SESSIONS_PATH, self.auth())
            self.assertEqual(r.status, 201, r.body[:300])
            sid = r.json()
            self.assertRegex(sid, rpc.SESSION_ID_RE)
            self.assertRestServed(b, sid)
            self.assertRpcServed(b, sid)
            self.assertEqual(b.http("DELETE", SESSIONS_PATH, {rpc.SESSION_HEADER: sid}).status,
                             204)
            for gw in (a, b):
                self.assertRestRefused(gw, sid)
                self.assertRpcRefused(gw, sid)

    def test_redis_holds_no_session_id(self):
        with self.shared_gateway() as gw:
            sid = self.create(gw)
            self.assertRpcServed(gw, sid)
            keys = self.redis.keys()
            values = [self.redis.value(k) for k in keys]
        self.assertTrue(keys, "nothing in Redis: the session is not shared")
        # snapgate's own namespace (sessions may live beside the versioned task entries)
        self.assertEqual([k for k in keys if not k.startswith("snapgate:")], [])
        for k, v in zip(keys, values):
            blobs = [v] if isinstance(v, bytes) else list((v or {}).values()) + list(v or {})
            for blob in [k.encode()] + [b if isinstance(b, bytes) else str(b).encode()
                                         for b in blobs]:
                self.assertNotIn(sid[:16].encode(), blob, "the session id is in Redis: %s" % k)
                self.assertNotIn(sid[-16:].encode(), blob, "the session id is in Redis: %s" % k)

    def test_idle_timeout_with_redis(self):
        cfg = {"sessions": {"idle_timeout": "1s", "max_lifetime": "1h"}}
        with self.shared_gateways(2, cfg) as (a, b):
            idle, busy = self.create(a), self.create(a)
            for gw in (b, a, b):
                time.sleep(0.5)
                self.assertRpcServed(gw, busy)
            self.assertRpcRefused(b, idle)
            self.assertRpcRefused(a, idle)

    def test_a_session_store_failure_fails_closed(self):
        # Redis gone: a session can be neither vouched for nor refused, so it is 503, never
        # served and never a 401 (the client would drop a session that is still good)
        with self.shared_gateway() as gw:
            sid = self.create(gw)
            self.redis.kill()
            self.assertVapiError(self.rpc_get(gw, sid), "service_unavailable")
            rest = self.rest_get(gw, sid)
            self.assertError(rest, 503, "SERVICE_UNAVAILABLE")
            # it says the session store failed, not a backend
            self.assertEqual(json.loads(rest.body)["messages"][0]["id"],
                             "com.vmware.snapgate.sessions.unavailable")
            self.assertVapiError(rpc.post(gw, rpc.session_op("create", self.alice())),
                                 "service_unavailable")
            # credentials that need no session store still work (the cache fails open)
            r = rpc.post(gw, rpc.task_get(self.fx.task, self.alice()))
            self.assertEqual(self.assertOutput(r), rpc.datavalue(CASE))

    def test_without_redis_a_session_is_the_replicas_own(self):
        # the contrast: the same pair without the shared tier does not share sessions
        cfg = self.config()
        with h.Gateways(2, cfg) as (a, b):
            sid = self.create(a)
            self.assertRpcServed(a, sid)
            self.assertRpcRefused(b, sid)


if __name__ == "__main__":
    h.unittest.main()
