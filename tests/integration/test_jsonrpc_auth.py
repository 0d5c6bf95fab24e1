"""Authentication from params.ctx.securityCtx over vAPI JSON-RPC (issue 13, item 2): no
context, user_pass, session_id, saml_bearer_token (assertions signed here by the STS with
xmlsec1) and saml_hok_token (the request signed here with the holder's key, RS256 over the
canonical JSON of the request without its signature), the Authorization header, and
auth.allow. Every refusal is result.error unauthenticated (unauthorized when not allowed),
HTTP 200, and nothing reaches the backend.

Each gateway run keeps at most 4 failed authentications, below the failed-login protection
threshold (test_auth_throttle.py)."""

import os

import sg_harness as h
import sg_jsonrpc as rpc
import test_auth_vcenter as vc
from test_auth_saml import ALICE, assertion, token

CASE = "cis-succeeded"


@h.requires_gateway
class TestJsonRpcAuth(rpc.JsonRpcTestCase):
    def setUp(self):
        super().setUp()
        self.fx = h.fixture(CASE)

    def get(self, gw, sec, rid="0", headers=None):
        return rpc.post(gw, rpc.task_get(self.fx.task, sec, rid), headers=headers)

    def assertServed(self, r, rid="0"):
        self.assertEqual(self.assertOutput(r, rid), rpc.datavalue(CASE))

    def assertNothingUpstream(self):
        self.assertEqual(self.mock.stats()["tasks"], {}, "a refused request reached the backend")

    # ---- none and user_pass --------------------------------------------------------------------
    def test_no_context_is_unauthenticated_with_the_rest_challenge(self):
        with self.rpc_gateway() as gw:
            challenge = self.rest_challenge(gw)
            self.assertIn("Basic", challenge)
            self.assertIn("SIGN", challenge)
            self.assertUnauthenticated(self.get(gw, None), challenge)
        self.assertNothingUpstream()

    def test_user_pass(self):
        with self.rpc_gateway() as gw:
            challenge = self.rest_challenge(gw)
            self.assertUnauthenticated(self.get(gw, rpc.user_pass("alice", "wrong-pw")),
                                       challenge)
            self.assertUnauthenticated(self.get(gw, rpc.user_pass("nobody", "x")), challenge)
            self.assertNothingUpstream()
            self.assertServed(self.get(gw, self.alice()))
            self.assertServed(self.get(gw, rpc.user_pass("bob", self.USERS["bob"]), "1"), "1")
        log = [e for e in gw.access_log() if e.get("status") == 200 and e.get("user")]
        self.assertEqual({e["user"] for e in log} & {"alice", "bob"}, {"alice", "bob"},
                         "the access log does not name the JSON-RPC callers")

    def test_unknown_scheme_is_unauthenticated(self):
        with self.rpc_gateway() as gw:
            r = self.get(gw, {"schemeId": "com.vmware.vapi.std.security.oauth",
                              "accessToken": "x"})
            self.assertUnauthenticated(r, self.rest_challenge(gw))
        self.assertNothingUpstream()

    # ---- session_id -------------------------------------------------------------------------
    def test_session_id(self):
        with self.rpc_gateway() as gw:
            sid = self.create_session(gw)
            self.assertServed(self.get(gw, rpc.session_id(sid)))
            self.assertUnauthenticated(self.get(gw, rpc.session_id(os.urandom(32).hex())))
            self.assertUnauthenticated(self.get(gw, rpc.session_id(sid.upper())))
            self.assertUnauthenticated(self.get(gw, rpc.session_id(sid[:-1])))

    # ---- SAML bearer --------------------------------------------------------------------------
    def test_saml_bearer_signed_at_test_time_is_accepted(self):
        good = self.sts.sign(assertion())
        with self.rpc_gateway() as gw:
            self.assertServed(self.get(gw, rpc.saml_bearer(good)))
        self.assertIn(ALICE, {e.get("user") for e in gw.access_log()})

    def test_saml_bearer_altered_or_foreign_is_unauthenticated(self):
        good = self.sts.sign(assertion())
        tampered = good.replace(ALICE.encode(), b"mallory@vsphere.local")
        self.assertNotEqual(tampered, good)
        bad = {
            "altered after signing": tampered,
            "signed by a foreign key": self.impostor.sign(assertion()),
            "a holder-of-key assertion without the request signature":
                self.holder.assertion(self.sts, ALICE),
        }
        with self.rpc_gateway() as gw:
            challenge = self.rest_challenge(gw)
            for what, xml in bad.items():
                with self.subTest(assertion=what):
                    self.assertUnauthenticated(self.get(gw, rpc.saml_bearer(xml)), challenge)
        self.assertNothingUpstream()

    # ---- SAML holder-of-key ------------------------------------------------------------------
    def hok(self, signer=None, assertion_xml=None, **times):
        req = rpc.task_get(self.fx.task)
        xml = assertion_xml or self.holder.assertion(self.sts, ALICE)
        return (signer or self.holder).sign_request(req, xml, **times)

    def test_saml_hok_signed_at_test_time_is_accepted(self):
        req = self.hok()
        self.assertGreater(len(rpc.compact(req)), 4096, "a real signed assertion is several KiB")
        with self.rpc_gateway() as gw:
            self.assertServed(rpc.post(gw, req))
            self.assertServed(rpc.post(gw, req, "/snapservice"))  # same request again
        self.assertIn(ALICE, {e.get("user") for e in gw.access_log()})

    def test_saml_hok_changed_expired_or_foreign_is_unauthenticated(self):
        changed = self.hok()
        changed["params"]["input"]["STRUCTURE"]["operation-input"]["task"] = \
            h.fixture("cis-running").task
        thief = rpc.HokSigner(self.tmp, "thief")
        bad = {
            "task id changed after signing": changed,
            "expires in the past": self.hok(created_s=-1800, expires_s=-120),
            "signed by a key not in the assertion": self.hok(signer=thief),
            "assertion signed by a foreign STS":
                self.hok(assertion_xml=self.holder.assertion(self.impostor, ALICE)),
        }
        with self.rpc_gateway() as gw:
            challenge = self.rest_challenge(gw)
            for what, req in bad.items():
                with self.subTest(request=what):
                    self.assertUnauthenticated(rpc.post(gw, req), challenge)
        self.assertNothingUpstream()

    def test_saml_hok_within_the_clock_skew_is_accepted(self):
        # created a little ahead of this clock; expired a little ago: both within 60 s
        ahead = self.hok(created_s=20, expires_s=1200)
        just_expired = self.hok(created_s=-1200, expires_s=-20)
        with self.rpc_gateway() as gw:
            self.assertServed(rpc.post(gw, ahead))
            self.assertServed(rpc.post(gw, just_expired))

    # ---- the Authorization header ---------------------------------------------------------------
    def test_authorization_header_works_as_on_rest(self):
        with self.rpc_gateway() as gw:
            self.assertServed(self.get(gw, None, headers=self.auth()))
            r = self.get(gw, None, headers=self.auth("alice", "wrong-pw"))
            self.assertUnauthenticated(r, self.rest_challenge(gw))
            sign = {"Authorization": 'SIGN token="%s"' % token(self.sts.sign(assertion()))}
            self.assertServed(self.get(gw, None, "2", headers=sign), "2")

    # ---- auth.allow ---------------------------------------------------------------------------
    def test_not_allowed_is_unauthorized(self):
        bob = rpc.user_pass("bob", self.USERS["bob"])
        with self.rpc_gateway({"auth": {"allow": ["alice"]}}) as gw:
            self.assertVapiError(self.get(gw, bob), "unauthorized")
            self.assertVapiError(self.get(gw, None, headers=self.auth("bob")), "unauthorized")
            self.assertEqual(gw.http("GET", h.task_path(self.fx.task), self.auth("bob")).status,
                             403)
            self.assertServed(self.get(gw, self.alice()))

    def test_every_context_gets_the_same_answer(self):
        # one cache entry, whichever scheme asked
        sts_xml = self.sts.sign(assertion())
        with self.rpc_gateway() as gw:
            sid = self.create_session(gw)
            contexts = [self.alice(), rpc.session_id(sid), rpc.saml_bearer(sts_xml)]
            answers = [self.get(gw, sec) for sec in contexts]
            answers.append(rpc.post(gw, self.hok()))
        for r in answers:
            self.assertServed(r)
        self.assertEqual([r.headers.get("x-cache") for r in answers],
                         ["MISS", "HIT", "HIT", "HIT"])
        self.assertEqual(self.mock.stats()["tasks"][self.fx.task], 1)
        self.assertEqual(answers[0].body, answers[1].body)


@h.requires_gateway
class TestJsonRpcDelegated(vc.DelegationTestCase, rpc.RpcAssertions):
    """Callers delegated to the vCenter (auth.providers: [vcenter]): a user_pass context is
    the caller's own Basic login upstream, session.create is the vCenter's own session
    create, and a session_id context is checked against the vCenter."""

    def test_user_pass_is_the_callers_own_login_upstream(self):
        fx = h.fixture(CASE)
        with self.delegated() as gw:
            r = rpc.post(gw, rpc.task_get(fx.task, rpc.user_pass("alice", vc.VC_USERS["alice"])))
            self.assertEqual(self.assertOutput(r), rpc.datavalue(CASE))
            bad = rpc.post(gw, rpc.task_get(fx.task, rpc.user_pass("alice", "wrong")))
            self.assertUnauthenticated(bad)
        self.assertEqual(len(self.exchanges(self.auth("alice")["Authorization"])), 1)
        self.assertTaskFetchesOnlyBy("alice")

    def test_session_create_is_the_vcenters_and_its_id_is_checked_there(self):
        fx = h.fixture(CASE)
        with self.delegated() as gw:
            r = rpc.post(gw, rpc.session_op("create", rpc.user_pass("bob", vc.VC_USERS["bob"])))
            out = self.assertOutput(r)
            self.assertEqual(list(out), ["SECRET"], out)
            sid = out["SECRET"]
            self.assertIn(sid, self.mock.stats()["sessions_issued"],
                          "the session is not the vCenter's own")
            r = rpc.post(gw, rpc.task_get(fx.task, rpc.session_id(sid)))
            self.assertEqual(self.assertOutput(r), rpc.datavalue(CASE))
            self.assertUnauthenticated(rpc.post(gw, rpc.task_get(
                fx.task, rpc.session_id("forged-sid-7f3a"))))
        self.assertGreaterEqual(len(self.checks(sid)), 1, "the id was not checked upstream")
        self.assertTaskFetchesOnlyBy("bob")

    def test_delegated_session_is_the_callers_and_delete_ends_it_upstream(self):
        """The session handed out is opened for the caller alone (not the one the provider
        opened for its own exchange, which it ends when it forgets it), delete ends it on
        the vCenter, and the provider never ends it by itself."""
        fx = h.fixture(CASE)
        with self.delegated() as gw:
            out = self.assertOutput(rpc.post(gw, rpc.session_op(
                "create", rpc.user_pass("bob", vc.VC_USERS["bob"]))))
            sid = out["SECRET"]
            self.assertEqual(self.mock.stats()["logins_by_user"].get("bob"), 2,
                             "one exchange to check the credential, one session for bob")
            self.assertEqual(self.assertOutput(rpc.post(gw, rpc.task_get(
                fx.task, rpc.session_id(sid)))), rpc.datavalue(CASE))
            gone = rpc.post(gw, rpc.session_op("delete", rpc.session_id(sid)))
            self.assertIsNone(self.assertOutput(gone))
            self.assertEqual(self.mock.stats()["session_deletes"].get(sid), 1)
            self.assertUnauthenticated(rpc.post(gw, rpc.task_get(fx.task, rpc.session_id(sid))))
        # The gateway ended the sessions it opened itself on its way out; bob's was his.
        self.assertEqual(self.mock.stats()["session_deletes"].get(sid), 1)


if __name__ == "__main__":
    h.unittest.main()
