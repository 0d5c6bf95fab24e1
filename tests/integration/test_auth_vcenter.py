"""Delegated authentication (`auth.providers: [{type: vcenter, backend: vc1}]`) and per-caller
authorization of cached answers (issue 4, items 5 and 6).

What these tests hold snapgate to:
- A caller's `Authorization` (Basic or `SIGN token=...`) is exchanged for a vCenter session:
  `POST /api/session` with the caller's own Authorization header (201 + session id), then
  `GET /api/session` with that id names the user. A caller's `vmware-api-session-id` header is
  checked with `GET /api/session` only. A refusal is 401 UNAUTHENTICATED with WWW-Authenticate;
  a backend that cannot be reached (or answers 503) is 503 SERVICE_UNAVAILABLE, and that is not
  remembered as a refusal.
- Outcomes are cached per credential: the same credential again makes no new POST/GET
  /api/session (positive: minutes; refused: ~10 s); concurrent first requests with one
  credential make exactly one POST /api/session.
- The task is fetched with the caller's own session (the mock records whose session each task
  GET carried), never the service account's, whether or not the backend has `credentials`.
- A cached answer goes to a delegated caller only after the backend let that caller read that
  task (remembered ~30 s); a caller the backend refuses (403) gets 403 UNAUTHORIZED even while
  the task is cached for another user, and that refusal is not asked upstream again for ~10 s.
- No password, SIGN token or session id appears in snapgate's stdout or stderr, nor in Redis.
- With Redis configured and then killed, delegated authentication still works.
- (SNAPSERVICE.md section 4) A delegated session that expired upstream: Basic credentials log in
  once more; a caller's own expired session id is 401 UNAUTHENTICATED.

Each test keeps at most 4 failed authentications per gateway run, below the failed-login
protection threshold (test_auth_throttle.py), so no answer here is slowed on purpose.
While snapgate rejects `type: vcenter` (or a backend without credentials) in `snapgate -t`,
every test FAILS with MISSING_FEATURE and the gateway's own reasons."""

import base64
import os
import shutil
import signal
import tempfile
import time
import unittest

import mock_vcenter
import sg_harness as h

VC_USERS = {"alice": "alice-vc-pw-7781", "bob": "bob-vc-pw-7782", "carol": "carol-vc-pw-7783",
            "dave": "dave-vc-pw-7784"}
SESSION_HEADER = "vmware-api-session-id"
SUCCEEDED = "cis-succeeded"   # terminal: cached 24 h, so a second request can be a HIT
RUNNING = "cis-running"
MISSING_FEATURE = ("missing feature: the vcenter delegated auth provider of issue 4 "
                   "(auth.providers[].type: vcenter, backends without credentials%s). "
                   "`snapgate -t` rejects the test config:\n%s")


def sign_header(token, quoted=True):
    return 'SIGN token="%s"' % token if quoted else "SIGN token=%s" % token


def new_sign_token():
    """A SIGN token text the shape of a real one (base64 with padding), unique per call."""
    return base64.b64encode(os.urandom(47)).decode()


def probe(testcase, cfg, extra=""):
    """Fails testcase with MISSING_FEATURE when `snapgate -t` rejects cfg."""
    if h.gateway_bin() is None:
        h.skip_without_gateway()
    cfg = h.merge({"listen": "127.0.0.1:%d" % h.free_port(),
                   "admin_listen": "127.0.0.1:%d" % h.free_port()}, cfg)
    d = tempfile.mkdtemp(prefix="sg-probe-")
    try:
        path = h.write_file(d, "snapgate.yaml", h.to_yaml(cfg))
        proc = h.run_snapgate(["-t", "-c", path])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if proc.returncode != 0:
        reasons = (proc.stdout + proc.stderr).strip().replace(path, "snapgate.yaml")
        testcase.fail(MISSING_FEATURE % (extra, reasons))


class DelegationTestCase(h.GatewayTestCase):
    """A mock vCenter that knows VC_USERS besides the service account, and configs whose only
    provider is `vcenter` on vc1. SERVICE_ACCOUNT: whether vc1 keeps its `credentials`."""

    USERS = VC_USERS
    SERVICE_ACCOUNT = False

    def setUp(self):
        super().setUp()
        self.mock.configure(users=VC_USERS)

    def delegated_config(self, overrides=None, backend=None):
        be = {} if self.SERVICE_ACCOUNT else {"credentials": None}
        auth = {"auth": {"providers": [{"type": "vcenter", "backend": "vc1"}]}}
        return self.config(h.merge(auth, overrides), h.merge(be, backend))

    def delegated(self, overrides=None, backend=None, **kw):
        """A Gateway on delegated_config(...), probed first (fails while unsupported)."""
        cfg = self.delegated_config(overrides, backend)
        probe(self, cfg)
        return h.Gateway(cfg, **kw)

    # ---- callers ---------------------------------------------------------------------------
    def get(self, gw, task, headers):
        return gw.http("GET", h.task_path(task), headers)

    def mock_session(self, user):
        """A session id the test opens at the mock itself (POST /api/session as user); the
        stats are reset afterwards so the gateway's own calls are counted alone."""
        r = h.http_request(self.mock.port, "POST", "/api/session", self.auth(user))
        self.assertEqual(r.status, 201, r.body)
        self.mock.reset_stats()
        return r.json()

    # ---- what the mock saw -----------------------------------------------------------------
    def requests(self, method, path, **headers):
        """Recorded requests with that method and path whose headers (lower-case names given
        with underscores for dashes) equal the given values."""
        out = []
        for r in self.mock.stats()["requests"]:
            if r["method"] != method or r["path"] != path:
                continue
            if all(r["headers"].get(k.replace("_", "-")) == v for k, v in headers.items()):
                out.append(r)
        return out

    def exchanges(self, authorization):
        """POST /api/session requests that carried exactly this Authorization value."""
        return self.requests("POST", "/api/session", authorization=authorization)

    def checks(self, sid):
        """GET /api/session requests that carried this session id."""
        return self.requests("GET", "/api/session", vmware_api_session_id=sid)

    def session_calls(self, authorization, user):
        """(POST /api/session with this Authorization, GET /api/session of user's sessions)."""
        return (len(self.exchanges(authorization)),
                self.mock.stats()["session_checks_by_user"].get(user, 0))

    def fetches_by(self, user, task):
        return self.mock.stats()["task_requests_by_user"].get(user, {}).get(task, 0)

    # ---- assertions --------------------------------------------------------------------------
    def assert401(self, r):
        self.assertError(r, 401, "UNAUTHENTICATED")
        self.assertRegex(r.headers.get("www-authenticate", ""), r"(?i)\bbasic\b",
                         "WWW-Authenticate must name the schemes the vcenter provider takes")

    def assertOk(self, r, fx):
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertEqual(r.json(), fx.expected)

    def assertTaskFetchesOnlyBy(self, user, task=None):
        """Every task GET the mock saw (of task, when given) carried a session of user.
        Fetches the mock refused with 401 carried a session that had expired (the
        mock no longer knows whose it was): they are left out."""
        reqs = [r for r in self.mock.task_requests(task) if r["status"] != 401]
        self.assertGreaterEqual(len(reqs), 1, "no task fetch upstream")
        for r in reqs:
            self.assertEqual(r["user"], user,
                             "task %s fetched with a session of %r, not the caller's (%s)"
                             % (r["task"], r["user"], user))

    def assertOnlyCallerLogins(self, callers):
        """Every POST /api/session carried one of the callers' Authorization values, or (only
        with SERVICE_ACCOUNT) the service account's."""
        allowed = set(callers)
        if self.SERVICE_ACCOUNT:
            allowed.add(h.basic(self.SVC_USER, self.SVC_PASSWORD))
        for r in self.requests("POST", "/api/session"):
            self.assertIn(r["headers"].get("authorization"), allowed,
                          "a login upstream with a credential no caller sent")


class DelegationTests:
    """The behaviours, run once without and once with a service account on vc1."""

    # ---- exchange ----------------------------------------------------------------------------
    def test_basic_caller_is_served_with_its_own_vcenter_session(self):
        fx = h.fixture(SUCCEEDED)
        alice = self.auth("alice")["Authorization"]
        with self.delegated() as gw:
            self.assertOk(self.get(gw, fx.task, {"Authorization": alice}), fx)
        posts = self.exchanges(alice)
        self.assertEqual(len(posts), 1, "one POST /api/session with the caller's Authorization")
        self.assertEqual((posts[0]["status"], posts[0]["user"]), (201, "alice"))
        self.assertGreaterEqual(self.mock.stats()["session_checks_by_user"].get("alice", 0), 1,
                                "GET /api/session with the exchanged session names the user")
        self.assertEqual(self.fetches_by("alice", fx.task), 1)
        self.assertTaskFetchesOnlyBy("alice")
        self.assertOnlyCallerLogins([alice])

    def test_same_credential_again_asks_no_session_call(self):
        t1, t2 = h.fixture(SUCCEEDED), h.fixture(RUNNING)
        alice, bob = self.auth("alice"), self.auth("bob")
        with self.delegated() as gw:
            self.assertOk(self.get(gw, t1.task, alice), t1)
            before = self.session_calls(alice["Authorization"], "alice")
            self.assertOk(self.get(gw, t2.task, alice), t2)   # a fetch, no exchange
            self.assertEqual(self.session_calls(alice["Authorization"], "alice"), before,
                             "the second request with one credential asked /api/session again")
            self.assertOk(self.get(gw, t1.task, bob), t1)     # another credential: its own
        self.assertEqual(len(self.exchanges(bob["Authorization"])), 1)
        self.assertEqual(self.fetches_by("alice", t2.task), 1)
        self.assertTaskFetchesOnlyBy("alice", t2.task)

    def test_sign_token_is_exchanged_for_the_session_of_its_user(self):
        fx = h.fixture(SUCCEEDED)
        token = new_sign_token()
        self.mock.add_sign_tokens({token: "bob"})
        with self.delegated() as gw:
            self.assertOk(self.get(gw, fx.task, {"Authorization": sign_header(token)}), fx)
            self.assertOk(self.get(gw, h.fixture(RUNNING).task,
                                   {"Authorization": sign_header(token, quoted=False)}),
                          h.fixture(RUNNING))
        posts = self.exchanges(sign_header(token))
        self.assertEqual(len(posts), 1, "POST /api/session with the caller's SIGN header")
        self.assertEqual(posts[0]["user"], "bob")
        self.assertGreaterEqual(self.mock.stats()["logins_by_user"].get("bob", 0), 1)
        self.assertTaskFetchesOnlyBy("bob")

    def test_session_id_caller_is_checked_with_get_session_only(self):
        t1, t2 = h.fixture(SUCCEEDED), h.fixture(RUNNING)
        sid = self.mock_session("carol")
        with self.delegated() as gw:
            self.assertOk(self.get(gw, t1.task, {SESSION_HEADER: sid}), t1)
            n = len(self.checks(sid))
            self.assertGreaterEqual(n, 1, "the caller's session id was not checked upstream")
            self.assertOk(self.get(gw, t2.task, {SESSION_HEADER: sid}), t2)
            self.assertEqual(len(self.checks(sid)), n,
                             "the same session id was checked upstream again")
        self.assertOnlyCallerLogins([])
        reqs = self.mock.task_requests()
        self.assertEqual(sorted(r["task"] for r in reqs), sorted([t1.task, t2.task]))
        for r in reqs:
            self.assertEqual(r["headers"].get(SESSION_HEADER), sid,
                             "the task fetch must carry the caller's own session id")

    # ---- refusals ------------------------------------------------------------------------------
    def test_bad_credentials_are_401_with_www_authenticate_and_no_detail(self):
        fx = h.fixture(SUCCEEDED)
        with self.delegated() as gw:
            wrong_pw = self.get(gw, fx.task, self.auth("alice", "not-alices-pw-1290"))
            unknown = self.get(gw, fx.task, self.auth("mallory", "mallory-pw-1291"))
            bad_sign = self.get(gw, fx.task, {"Authorization": sign_header(new_sign_token())})
            bad_sid = self.get(gw, fx.task, {SESSION_HEADER: "forged-sid-4b1d4e0c"})
        for name, r in (("wrong password", wrong_pw), ("unknown user", unknown),
                        ("unknown SIGN token", bad_sign), ("unknown session id", bad_sid)):
            with self.subTest(credential=name):
                self.assert401(r)
        self.assertEqual(wrong_pw.json(), unknown.json(), "the 401 body tells which part was wrong")
        self.assertEqual(self.mock.stats()["tasks"], {}, "a refused caller caused a task fetch")

    def test_missing_credentials_are_401_without_asking_the_backend(self):
        with self.delegated() as gw:
            self.assert401(self.get(gw, h.fixture(SUCCEEDED).task, {}))
        self.assertEqual(self.mock.stats()["tasks"], {})
        self.assertOnlyCallerLogins([])

    def test_refused_credential_is_not_asked_again_but_the_right_one_is_served(self):
        fx = h.fixture(SUCCEEDED)
        wrong = self.auth("alice", "not-alices-pw-2290")
        with self.delegated() as gw:
            self.assert401(self.get(gw, fx.task, wrong))
            self.assert401(self.get(gw, fx.task, wrong))
            self.assertEqual(len(self.exchanges(wrong["Authorization"])), 1,
                             "a refused credential was asked upstream again within seconds")
            # the cache is keyed by the credential, not the user name
            self.assertOk(self.get(gw, fx.task, self.auth("alice")), fx)

    def test_unknown_session_id_is_not_checked_again(self):
        forged = "forged-sid-7a0c11f2"
        with self.delegated() as gw:
            self.assert401(self.get(gw, h.fixture(SUCCEEDED).task, {SESSION_HEADER: forged}))
            self.assert401(self.get(gw, h.fixture(SUCCEEDED).task, {SESSION_HEADER: forged}))
        self.assertEqual(len(self.checks(forged)), 1,
                         "a refused session id was checked upstream again within seconds")

    def test_concurrent_first_requests_make_one_exchange(self):
        fx = h.fixture(SUCCEEDED)
        alice = self.auth("alice")
        self.mock.configure(login_delay_ms=300)  # every request arrives while it is in flight
        with self.delegated() as gw:
            results = h.parallel(12, lambda i: self.get(gw, fx.task, alice))
        self.assertEqual([r.status for r in results], [200] * 12)
        self.assertEqual(len(self.exchanges(alice["Authorization"])), 1,
                         "concurrent first requests with one credential: one POST /api/session")
        self.assertTaskFetchesOnlyBy("alice")

    # ---- authorization of cached answers ---------------------------------------------------------
    def test_denied_user_gets_403_even_right_after_another_user_cached_the_task(self):
        fx = h.fixture(SUCCEEDED)
        self.mock.set_acl(fx.task, deny=["bob"])
        alice, bob, carol = self.auth("alice"), self.auth("bob"), self.auth("carol")
        with self.delegated() as gw:
            self.assertOk(self.get(gw, fx.task, alice), fx)
            self.assertEqual(self.fetches_by("alice", fx.task), 1)
            r = self.get(gw, fx.task, alice)
            self.assertOk(r, fx)
            self.assertEqual(r.headers.get("x-cache"), "HIT")
            self.assertEqual(self.mock.stats()["tasks"][fx.task], 1,
                             "alice's second request within the window went upstream")
            # bob: the task is cached, but the backend never let bob read it
            self.assertError(self.get(gw, fx.task, bob), 403, "UNAUTHORIZED")
            self.assertEqual(self.fetches_by("bob", fx.task), 1,
                             "bob's access must be asked upstream with bob's own session")
            self.assertError(self.get(gw, fx.task, bob), 403, "UNAUTHORIZED")
            self.assertEqual(self.fetches_by("bob", fx.task), 1,
                             "a denied (user, task) pair was asked upstream again within seconds")
            # carol is allowed but was never checked: asked upstream once, then served
            self.assertOk(self.get(gw, fx.task, carol), fx)
            self.assertEqual(self.fetches_by("carol", fx.task), 1)
            self.assertOk(self.get(gw, fx.task, carol), fx)
            self.assertEqual(self.fetches_by("carol", fx.task), 1)
            self.assertOk(self.get(gw, fx.task, alice), fx)
        self.assertEqual(self.fetches_by(self.SVC_USER, fx.task), 0,
                         "a delegated caller's task was fetched with the service account")

    def test_allow_list_admits_only_the_listed_user(self):
        fx = h.fixture(SUCCEEDED)
        self.mock.set_task("t-allow", {"status": 200, "body": fx.expected, "allow": ["carol"]})
        with self.delegated() as gw:
            self.assertOk(self.get(gw, "t-allow", self.auth("carol")), fx)
            self.assertError(self.get(gw, "t-allow", self.auth("alice")), 403, "UNAUTHORIZED")
            self.assertError(self.get(gw, "t-allow", self.auth("bob")), 403, "UNAUTHORIZED")
            self.assertOk(self.get(gw, "t-allow", self.auth("carol")), fx)
        by_user = self.mock.stats()["task_requests_by_user"]
        self.assertEqual({u: by_user.get(u, {}).get("t-allow", 0)
                          for u in ("alice", "bob", "carol")},
                         {"alice": 1, "bob": 1, "carol": 1})

    def test_session_id_caller_denied_a_task_gets_403(self):
        fx = h.fixture(SUCCEEDED)
        self.mock.set_acl(fx.task, deny=["dave"])
        sid = self.mock_session("dave")
        with self.delegated() as gw:
            self.assertOk(self.get(gw, fx.task, self.auth("alice")), fx)
            self.assertError(self.get(gw, fx.task, {SESSION_HEADER: sid}), 403, "UNAUTHORIZED")
        self.assertEqual(self.fetches_by("dave", fx.task), 1)

    # ---- the backend failing -----------------------------------------------------------------
    def test_unreachable_backend_is_503_and_not_remembered_as_a_refusal(self):
        fx = h.fixture(SUCCEEDED)
        port = h.free_port()
        alice = self.auth("alice")
        with self.delegated(backend={"url": "http://127.0.0.1:%d" % port}) as gw:
            self.assertError(self.get(gw, fx.task, alice), 503, "SERVICE_UNAVAILABLE")
            late = mock_vcenter.MockVCenter(port=port, user=self.SVC_USER,
                                            password=self.SVC_PASSWORD, users=VC_USERS,
                                            fixtures_dir=h.fixtures_dir()).start()
            try:
                ok = h.wait_for(lambda: self.get(gw, fx.task, alice).status == 200, 8.0,
                                interval=0.25)
            finally:
                late.stop()
        self.assertTrue(ok, "good credentials stayed refused after the backend came up")

    def test_backend_503_on_login_is_503_not_401(self):
        fx = h.fixture(SUCCEEDED)
        alice = self.auth("alice")
        self.mock.configure(login_status=503)
        with self.delegated() as gw:
            self.assertError(self.get(gw, fx.task, alice), 503, "SERVICE_UNAVAILABLE")
            self.mock.configure(login_status=None)
            ok = h.wait_for(lambda: self.get(gw, fx.task, alice).status == 200, 5.0,
                            interval=0.25)
        self.assertTrue(ok, "a backend 503 on login was remembered as a refused credential")

    def test_expired_upstream_session(self):
        t1, t2 = h.fixture(SUCCEEDED), h.fixture(RUNNING)
        alice = self.auth("alice")
        sid = self.mock_session("carol")
        with self.delegated() as gw:
            self.assertOk(self.get(gw, t1.task, alice), t1)
            self.assertOk(self.get(gw, t1.task, {SESSION_HEADER: sid}), t1)
            self.mock.expire_sessions()
            # Basic: the gateway logs in once more with the caller's own credentials
            r = self.get(gw, t2.task, alice)
            self.assertEqual(r.status, 200, "a Basic caller whose delegated session expired "
                             "upstream must be served after one re-login with its own "
                             "credentials (SNAPSERVICE.md section 4), got %d %r"
                             % (r.status, r.body[:200]))
            self.assertOk(r, t2)
            self.assertEqual(len(self.exchanges(alice["Authorization"])), 2)
            # the caller's own session id is gone: nothing to log in again with
            self.assert401(self.get(gw, t2.task, {SESSION_HEADER: sid}))
        self.assertTaskFetchesOnlyBy("alice", t2.task)

    # ---- secrets -------------------------------------------------------------------------------
    def test_no_credential_appears_in_the_output(self):
        fx = h.fixture(SUCCEEDED)
        token, bad_token = new_sign_token(), new_sign_token()
        self.mock.add_sign_tokens({token: "bob"})
        sid, forged = self.mock_session("carol"), "forged-sid-90d1c3aa55"
        wrong_pw = "not-alices-pw-3390"
        callers = [self.auth("alice"), self.auth("alice", wrong_pw),
                   {"Authorization": sign_header(token)},
                   {"Authorization": sign_header(token, quoted=False)},
                   {"Authorization": sign_header(bad_token)},
                   {SESSION_HEADER: sid}, {SESSION_HEADER: forged}]
        with self.delegated() as gw:
            for c in callers:
                self.get(gw, fx.task, c)
            self.mock.expire_sessions()  # a re-login with alice's credentials
            self.get(gw, h.fixture(RUNNING).task, self.auth("alice"))
        secrets = {wrong_pw, token, bad_token, sid, forged, self.SVC_PASSWORD}
        for user, pw in VC_USERS.items():
            secrets.update({pw, base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()})
        secrets.add(base64.b64encode(("alice:" + wrong_pw).encode()).decode())
        issued = self.mock.stats()["sessions_issued"]
        self.assertGreaterEqual(len(issued), 3, "alice (twice) and bob got sessions upstream")
        secrets.update(issued)
        for name, text in (("stdout", gw.stdout_text), ("stderr", gw.stderr_text)):
            for s in sorted(secrets):
                self.assertNotIn(s, text, "a credential (%s...) appears in snapgate's %s"
                                 % (s[:4], name))


@h.requires_gateway
class TestDelegatedOnly(DelegationTests, DelegationTestCase):
    """vc1 without credentials: every upstream call runs as a caller."""
    SERVICE_ACCOUNT = False


@h.requires_gateway
class TestDelegatedWithServiceAccount(DelegationTests, DelegationTestCase):
    """vc1 keeps its service account; delegated callers still fetch with their own sessions."""
    SERVICE_ACCOUNT = True


@h.requires_gateway
class TestDelegatedSessionLifetime(DelegationTestCase):
    """Issue 10 item 7: the sessions snapgate opens for callers are ended upstream (DELETE
    /api/session) once it stops remembering them; a session the caller presented is the
    caller's and is never ended by snapgate; refused credentials never push accepted ones out
    of the per-worker memory (`max_sessions`)."""

    MAX = 2
    GRACE_S = 2 + 1 + 5  # the backend's request timeout (2 s) + 1 s, and slack for a slow host

    def small_memory(self):
        return {"auth": {"providers": [{"type": "vcenter", "backend": "vc1",
                                        "max_sessions": self.MAX}]}}

    def deletes(self):
        return self.mock.stats()["session_deletes"]

    def get_from(self, gw, task, headers, n):
        """A GET from loopback address 127.0.<n>: failed logins from one address and user
        are throttled (test_auth_throttle), and these tests are not about that."""
        conn = h.http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10,
                                            source_address=("127.0.%d.%d" % divmod(n, 250), 0))
        try:
            return h.http_request(gw.port, "GET", h.task_path(task), headers, conn=conn)
        finally:
            conn.close()

    def test_evicted_session_is_ended_and_a_callers_own_session_never_is(self):
        fx = h.fixture(SUCCEEDED)
        dave_sid = self.mock_session("dave")  # the caller's own session (stats reset)
        with self.delegated(self.small_memory()) as gw:
            self.assertOk(self.get(gw, fx.task, {SESSION_HEADER: dave_sid}), fx)
            for user in ("alice", "bob"):  # bob pushes dave's out: nothing to end upstream
                self.assertOk(self.get(gw, fx.task, self.auth(user)), fx)
            alice_sid, bob_sid = self.mock.stats()["sessions_issued"]
            self.assertOk(self.get(gw, fx.task, self.auth("carol")), fx)  # alice's goes
            carol_sid = self.mock.stats()["sessions_issued"][2]
            self.assertTrue(h.wait_for(lambda: self.deletes().get(alice_sid), self.GRACE_S),
                            "the evicted session was never ended with DELETE /api/session")
            self.assertEqual(self.deletes(), {alice_sid: 1},
                             "only the evicted session is ended, once; never the caller's own")
            ended = [r for r in self.requests("DELETE", "/api/session")]
            self.assertEqual([r["headers"].get("authorization") for r in ended], [None],
                             "the DELETE carries the session header, no credentials")
            # alice is no longer remembered: a new exchange
            self.assertOk(self.get(gw, fx.task, self.auth("alice")), fx)
            self.assertEqual(len(self.exchanges(self.auth("alice")["Authorization"])), 2)
            self.assertTrue(h.wait_for(lambda: self.deletes().get(bob_sid), self.GRACE_S))
        self.assertNotIn(dave_sid, self.deletes(), "snapgate ended a session the caller owns")
        self.assertNotIn(carol_sid, self.deletes(), "a remembered session was ended")
        self.assertEqual(len(self.checks(dave_sid)), 1)

    def test_garbage_credentials_do_not_push_out_remembered_sessions(self):
        fx = h.fixture(SUCCEEDED)
        alice, bob = self.auth("alice"), self.auth("bob")
        n_garbage = 20 * self.MAX
        with self.delegated(self.small_memory()) as gw:
            self.assertOk(self.get(gw, fx.task, alice), fx)
            self.assertOk(self.get(gw, fx.task, bob), fx)
            for i in range(n_garbage):
                garbage = self.auth("mallory%d" % i, "guess-%d" % i)
                self.assert401(self.get_from(gw, fx.task, garbage, 256 + i))
            self.assertEqual(len(self.exchanges(h.basic("mallory0", "guess-0"))), 1)
            before = len(self.requests("POST", "/api/session"))
            self.assertOk(self.get(gw, fx.task, alice), fx)
            self.assertOk(self.get(gw, fx.task, bob), fx)
            self.assertEqual(len(self.requests("POST", "/api/session")), before,
                             "refused credentials pushed a remembered session out")
        self.assertEqual(len(self.exchanges(alice["Authorization"])), 1)
        self.assertEqual(len(self.exchanges(bob["Authorization"])), 1)
        self.assertEqual(self.deletes(), {}, "no remembered session was ended")

    def test_reload_ends_the_sessions_it_forgets(self):
        fx = h.fixture(SUCCEEDED)
        dave_sid = self.mock_session("dave")
        with self.delegated(self.small_memory()) as gw:
            self.assertOk(self.get(gw, fx.task, self.auth("alice")), fx)
            self.assertOk(self.get(gw, fx.task, {SESSION_HEADER: dave_sid}), fx)
            alice_sid = self.mock.stats()["sessions_issued"][0]
            gw.proc.send_signal(signal.SIGHUP)  # same file: a new provider instance
            self.assertTrue(h.wait_for(lambda: self.deletes().get(alice_sid), self.GRACE_S),
                            "a reload forgot a session without ending it")
            self.assertOk(self.get(gw, fx.task, self.auth("alice")), fx)  # a new exchange
            self.assertEqual(len(self.exchanges(self.auth("alice")["Authorization"])), 2)
        self.assertNotIn(dave_sid, self.deletes(), "snapgate ended a session the caller owns")

    def test_max_sessions_is_checked(self):
        cfg = self.delegated_config({"auth": {"providers": [
            {"type": "vcenter", "backend": "vc1", "max_sessions": 0}]}})
        cfg.update({"listen": "127.0.0.1:%d" % h.free_port(),
                    "admin_listen": "127.0.0.1:%d" % h.free_port()})
        path = h.write_file(self.tmp, "bad-max.yaml", h.to_yaml(cfg))
        proc = h.run_snapgate(["-t", "-c", path])
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("auth.providers[0].max_sessions", proc.stdout + proc.stderr)


def redis_contents(redis):
    """Every key and value in redis as one bytes blob (strings, hashes, lists, sets, zsets)."""
    out = []
    for key in redis.keys():
        out.append(key.encode())
        kind = redis.cli("TYPE", key)
        reader = {"string": ("GET",), "hash": ("HGETALL",), "list": ("LRANGE", 0, -1),
                  "set": ("SMEMBERS",), "zset": ("ZRANGE", 0, -1)}.get(kind)
        if reader is None:
            continue
        v = redis.cli(reader[0], key, *reader[1:])
        out.extend(v if isinstance(v, list) else [v])
    return b"\n".join(x if isinstance(x, bytes) else str(x).encode() for x in out if x)


@h.requires_gateway
class TestDelegationWithRedis(DelegationTestCase):
    """The shared tier configured: nothing secret goes into Redis, and authentication keeps
    working (and keeps refusing) once Redis is SIGKILLed."""

    BOUND_S = 3.0  # redis.timeout 250ms, one upstream exchange, sanitizer builds

    def timed_get(self, gw, task, headers):
        t0 = time.monotonic()
        r = self.get(gw, task, headers)
        self.assertLess(time.monotonic() - t0, self.BOUND_S, "a request hung on dead Redis")
        return r

    def test_redis_killed_delegated_auth_still_works(self):
        h.require_redis_server()
        redis = h.RedisServer()
        self.addCleanup(redis.close)
        redis.start()
        fx, other = h.fixture(SUCCEEDED), h.fixture(RUNNING)
        self.mock.set_acl(fx.task, deny=["bob"])
        token, late_token = new_sign_token(), new_sign_token()
        self.mock.add_sign_tokens({token: "dave", late_token: "dave"})
        sid = self.mock_session("carol")
        cfg = self.delegated_config({"redis": {"url": redis.url, "timeout": "250ms",
                                               "on_error": "bypass"}})
        probe(self, cfg, "; with the shared Redis tier of issue 3")
        alice, bob = self.auth("alice"), self.auth("bob")
        with h.Gateway(cfg) as gw:
            self.assertOk(self.timed_get(gw, fx.task, alice), fx)
            self.assertError(self.timed_get(gw, fx.task, bob), 403, "UNAUTHORIZED")
            self.assertOk(self.timed_get(gw, fx.task, {SESSION_HEADER: sid}), fx)
            self.assertOk(self.timed_get(gw, fx.task, {"Authorization": sign_header(token)}), fx)
            stored = redis_contents(redis)
            secrets = {sid, token} | set(self.mock.stats()["sessions_issued"])
            for user in ("alice", "bob"):
                secrets.update({VC_USERS[user], self.auth(user)["Authorization"].split(" ")[1]})
            for s in sorted(secrets):
                self.assertNotIn(s.encode(), stored, "a credential (%s...) is stored in Redis"
                                 % s[:4])
            redis.kill()
            self.assertOk(self.timed_get(gw, fx.task, alice), fx)
            self.assertOk(self.timed_get(gw, other.task, alice), other)
            self.assertError(self.timed_get(gw, fx.task, bob), 403, "UNAUTHORIZED")
            # credentials never seen before: one good, three bad
            self.assertOk(self.timed_get(gw, fx.task, {"Authorization": sign_header(late_token)}),
                          fx)
            self.assert401(self.timed_get(gw, fx.task, self.auth("carol", "not-carols-4490")))
            self.assert401(self.timed_get(gw, fx.task, self.auth("mallory", "mallory-4491")))
            self.assert401(self.timed_get(gw, fx.task, {SESSION_HEADER: "forged-sid-4492"}))
        self.assertTaskFetchesOnlyBy("alice", other.task)


@h.requires_gateway
class TestDelegationWithSeveralBackends(DelegationTestCase):
    """vc1 (cis, delegated) beside rest1 (legacy rest, service account): a delegated
    caller's session is good on vc1 only, so its fetches never go to rest1, even under
    fan-out and for a task rest1 has."""

    def test_delegated_caller_is_fetched_from_its_own_backend_only(self):
        import mock_dialects
        fx = h.fixture(RUNNING)
        rest = mock_dialects.MockDialects(user=self.SVC_USER, password=self.SVC_PASSWORD).start()
        try:
            rest.set_task("t-only-on-rest", {"status": 200, "body": fx.expected})
            cfg = self.delegated_config()
            cfg["backends"].append({"name": "rest1", "url": rest.url, "dialect": "rest",
                                    "credentials": {"username": self.SVC_USER,
                                                    "password_file": self.password_file}})
            with h.Gateway(cfg) as gw:
                ok = self.get(gw, fx.task, self.auth("alice"))
                missing = self.get(gw, "t-only-on-rest", self.auth("alice"))
            self.assertOk(ok, fx)
            # vc1 does not have it, and vc1 is the only backend alice may be asked on.
            self.assertEqual(missing.status, 404, missing.body)
            self.assertEqual(rest.stats()["tasks"], {})
            self.assertEqual(self.fetches_by("alice", fx.task), 1)
        finally:
            rest.stop()


if __name__ == "__main__":
    unittest.main()
