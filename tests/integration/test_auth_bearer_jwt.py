"""The bearer and jwt providers against the real binary and the mock vCenter.

JWTs are minted here: HS256 with hmac, RS256 by `openssl dgst -sha256 -sign` with keys
from `openssl genpkey`. The keys file is a JWKS holding an RSA key (kid r1) and an HMAC
secret (kid h1); the tokens file holds SHA-256 digests of two opaque tokens."""

import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import subprocess
import time
import unittest

import sg_harness as h

SECRET = b"integration-hmac-secret-0123456789abcdef"
OTHER_SECRET = b"some-other-hmac-secret-0123456789abcdefgh"
OPAQUE = {"ci-bot": "opaque-token-ci-4711", "deployer": "opaque-token-deploy-0815"}
ISSUER, AUDIENCE = "https://idp.example", "snapgate"
ISSUER2 = "https://idp2.example"  # a second jwt provider's issuer (its key: rsa-other.pem, kid r2)
CHALLENGE_BASIC_BEARER = 'Basic realm="snapgate", Bearer realm="snapgate"'


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


def signing_input(header, claims):
    return (b64url(json.dumps(header).encode()) + "." +
            b64url(json.dumps(claims).encode()))


def hs256(header, claims, secret=SECRET):
    si = signing_input(dict({"alg": "HS256"}, **header), claims)
    return si + "." + b64url(hmac.new(secret, si.encode(), hashlib.sha256).digest())


def rs256(header, claims, key_path):
    si = signing_input(dict({"alg": "RS256"}, **header), claims)
    return si + "." + b64url(openssl("dgst", "-sha256", "-sign", key_path, data=si.encode()))


def good_claims(**kw):
    c = {"sub": "jane", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 600,
         "groups": ["ops"]}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def rsa_jwk(key_path, kid):
    modulus = openssl("rsa", "-in", key_path, "-noout", "-modulus").decode()
    n = bytes.fromhex(modulus.strip().split("=", 1)[1])
    return {"kty": "RSA", "kid": kid, "use": "sig", "n": b64url(n),
            "e": b64url((65537).to_bytes(3, "big"))}


def bearer(token):
    return {"Authorization": "Bearer " + token}


@h.requires_gateway
class TestAuthBearerJwt(h.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rsa_key = os.path.join(cls.tmp, "rsa.pem")
        cls.other_rsa_key = os.path.join(cls.tmp, "rsa-other.pem")
        for path in (cls.rsa_key, cls.other_rsa_key):
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", path)
        cls.rsa_pub_pem = openssl("pkey", "-in", cls.rsa_key, "-pubout")
        jwks = {"keys": [
            rsa_jwk(cls.rsa_key, "r1"),
            {"kty": "oct", "kid": "h1", "k": b64url(SECRET)},
        ]}
        cls.jwks = h.write_file(cls.tmp, "jwks.json", json.dumps(jwks) + "\n")
        cls.jwks2 = h.write_file(cls.tmp, "jwks2.json", json.dumps(
            {"keys": [rsa_jwk(cls.other_rsa_key, "r2")]}) + "\n")
        cls.tokens = h.write_file(cls.tmp, "tokens", "# opaque tokens\n" + "".join(
            "%s:sha256:%s\n" % (name, hashlib.sha256(tok.encode()).hexdigest())
            for name, tok in OPAQUE.items()))

    def providers(self, *types):
        entries = {
            "basic": {"type": "basic", "users_file": self.users_file},
            "bearer": {"type": "bearer", "tokens_file": self.tokens},
            "jwt": {"type": "jwt", "keys_file": self.jwks, "issuer": ISSUER,
                    "audience": AUDIENCE, "groups_claim": "groups"},
            "jwt2": {"type": "jwt", "keys_file": self.jwks2, "issuer": ISSUER2},
        }
        return {"auth": {"providers": [entries[t] for t in types]}}

    def task_path(self):
        return h.task_path(h.fixture("cis-succeeded").task)

    _sources = itertools.count()

    def status(self, gw, headers):
        # Each request from its own loopback address (all of 127.0.0.0/8 is local):
        # these tests are about which tokens pass, and the failed-login delays
        # (test_auth_throttle) would otherwise stretch a run of bad tokens to minutes.
        hi, lo = divmod(next(self._sources) % 60000, 250)
        src = "127.0.%d.%d" % (hi + 1, lo + 1)
        conn = h.http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10,
                                            source_address=(src, 0))
        try:
            return h.http_request(gw.port, "GET", self.task_path(), headers, conn=conn)
        finally:
            conn.close()

    def assert_401(self, gw, headers, challenge=None):
        r = self.status(gw, headers)
        self.assertEqual(r.status, 401, (headers, r.body[:200]))
        self.assertEqual(r.json()["error_type"], "UNAUTHENTICATED")
        if challenge:
            self.assertEqual(r.headers.get("www-authenticate"), challenge)
        return r

    def bad_jwts(self):
        """(what, token) pairs every configuration must answer with 401."""
        good = hs256({"kid": "h1"}, good_claims())
        head, payload, sig = good.split(".")
        evil = b64url(json.dumps(good_claims(sub="admin")).encode())
        flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        none_tok = signing_input({"alg": "none"}, good_claims()) + "."
        return [
            ("expired", hs256({}, good_claims(exp=int(time.time()) - 3600))),
            ("not yet valid", hs256({}, good_claims(nbf=int(time.time()) + 3600))),
            ("tampered payload", ".".join((head, evil, sig))),
            ("tampered signature", ".".join((head, payload, flipped))),
            ("wrong HMAC key", hs256({}, good_claims(), OTHER_SECRET)),
            ("wrong RSA key", rs256({"kid": "r1"}, good_claims(), self.other_rsa_key)),
            ("alg none", none_tok),
            ("alg none with a signature", none_tok + sig),
            ("HS256 with the RSA public key as secret",
             hs256({}, good_claims(), self.rsa_pub_pem)),
            ("HS256 with the RSA public key as secret, kid r1",
             hs256({"kid": "r1"}, good_claims(), self.rsa_pub_pem)),
            ("wrong iss", hs256({}, good_claims(iss="https://evil.example"))),
            ("wrong aud", hs256({}, good_claims(aud="other"))),
            ("no sub", hs256({}, good_claims(sub=None))),
            ("no exp", hs256({}, good_claims(exp=None))),
            ("malformed", "eyJhbGciOiJIUzI1NiJ9.e30.x=y"),
            ("bad base64url", "e31." + payload + "." + sig),
        ]

    # ---- the challenge -----------------------------------------------------------------
    def test_www_authenticate_lists_every_configured_scheme(self):
        with self.gateway(self.providers("basic", "jwt")) as gw:
            self.assert_401(gw, {}, CHALLENGE_BASIC_BEARER)
            self.assert_401(gw, bearer(hs256({}, good_claims(exp=1))), CHALLENGE_BASIC_BEARER)
            self.assertEqual(self.status(gw, self.auth()).status, 200)  # basic still works
        with self.gateway(self.providers("jwt", "bearer")) as gw:
            self.assert_401(gw, {}, 'Bearer realm="snapgate"')  # one scheme, named once

    # ---- bearer ------------------------------------------------------------------------
    def test_bearer_accepts_known_tokens_and_rejects_the_rest(self):
        with self.gateway(self.providers("bearer")) as gw:
            for token in OPAQUE.values():
                self.assertEqual(self.status(gw, bearer(token)).status, 200, token)
            for headers in ({}, bearer("opaque-token-ci-4712"), bearer("opaque-token-ci-471"),
                            {"Authorization": "Bearer "}, {"Authorization": "Bearer a b"},
                            {"Authorization": "Bearer"}, {"Authorization": "Token " + OPAQUE["ci-bot"]},
                            bearer(hs256({}, good_claims()))):
                self.assert_401(gw, headers, 'Bearer realm="snapgate"')

    # ---- jwt ---------------------------------------------------------------------------
    def test_jwt_accepts_hs256_and_rs256(self):
        with self.gateway(self.providers("jwt")) as gw:
            for what, token in (("HS256 kid h1", hs256({"kid": "h1"}, good_claims())),
                                ("HS256 no kid", hs256({}, good_claims())),
                                ("RS256 kid r1", rs256({"kid": "r1"}, good_claims(), self.rsa_key)),
                                ("RS256 no kid", rs256({}, good_claims(), self.rsa_key)),
                                ("aud array", hs256({}, good_claims(aud=["x", AUDIENCE])))):
                with self.subTest(what):
                    r = self.status(gw, bearer(token))
                    self.assertEqual(r.status, 200, r.body[:200])

    def test_jwt_rejects_bad_tokens_with_401(self):
        with self.gateway(self.providers("basic", "jwt")) as gw:
            self.assert_401(gw, {}, CHALLENGE_BASIC_BEARER)
            for what, token in self.bad_jwts():
                with self.subTest(what):
                    self.assert_401(gw, bearer(token), CHALLENGE_BASIC_BEARER)

    # ---- both, in either order --------------------------------------------------------
    def test_bearer_and_jwt_in_either_order(self):
        for order in (("bearer", "jwt"), ("jwt", "bearer")):
            with self.subTest(order=order), self.gateway(self.providers(*order)) as gw:
                self.assertEqual(self.status(gw, bearer(OPAQUE["deployer"])).status, 200)
                self.assertEqual(self.status(gw, bearer(hs256({}, good_claims()))).status, 200)
                self.assertEqual(
                    self.status(gw, bearer(rs256({}, good_claims(), self.rsa_key))).status, 200)
                self.assert_401(gw, bearer("no-such-opaque-token"), 'Bearer realm="snapgate"')
                for what, token in self.bad_jwts()[:8]:
                    self.assert_401(gw, bearer(token))

    # ---- two jwt providers: two issuers, each with its own keys --------------------------
    def test_two_jwt_providers_in_either_order(self):
        """A token that is not a provider's own (another iss, no key of its kid) passes on
        to the next one; a token that is its own and fails is refused there."""
        first = hs256({"kid": "h1"}, good_claims())
        first_rs = rs256({"kid": "r1"}, good_claims(), self.rsa_key)
        second = rs256({"kid": "r2"}, good_claims(sub="joe", iss=ISSUER2, aud=None),
                       self.other_rsa_key)
        head, _, sig = second.split(".")
        evil = b64url(json.dumps(good_claims(sub="admin", iss=ISSUER2, aud=None)).encode())
        bad = [
            ("tampered payload of the second", ".".join((head, evil, sig))),
            ("expired token of the second",
             rs256({"kid": "r2"}, good_claims(sub="joe", iss=ISSUER2, exp=int(time.time()) - 3600),
                   self.other_rsa_key)),
            ("the second's kid, the first's key",
             rs256({"kid": "r2"}, good_claims(iss=ISSUER2), self.rsa_key)),
            ("neither: a third issuer", rs256({"kid": "r2"}, good_claims(iss="https://idp3.example"),
                                              self.other_rsa_key)),
            ("neither: an unknown kid", rs256({"kid": "r9"}, good_claims(), self.rsa_key)),
        ]
        for order in (("jwt", "jwt2"), ("jwt2", "jwt")):
            with self.subTest(order=order), self.gateway(self.providers(*order)) as gw:
                for what, token, user in (("first, HS256", first, "jane"),
                                          ("first, RS256", first_rs, "jane"),
                                          ("second", second, "joe")):
                    r = self.status(gw, bearer(token))
                    self.assertEqual(r.status, 200, (order, what, r.body[:200]))
                for what, token in bad:
                    with self.subTest(what):
                        self.assert_401(gw, bearer(token), 'Bearer realm="snapgate"')
            users = [e.get("user") for e in gw.access_log() if e.get("status") == 200]
            self.assertEqual(sorted(users), ["jane", "jane", "joe"], order)

    # ---- authorization by group ---------------------------------------------------------
    def test_allow_group_admits_jwt_with_the_group_only(self):
        cfg = h.merge(self.providers("bearer", "jwt"), {"auth": {"allow": ["group:ops"]}})
        with self.gateway(cfg) as gw:
            ok = self.status(gw, bearer(hs256({}, good_claims(groups=["dev", "ops"]))))
            self.assertEqual(ok.status, 200)
            self.assertEqual(
                self.status(gw, bearer(hs256({}, good_claims(groups="ops")))).status, 200)
            for groups in (["dev"], None, [], "opsx"):
                r = self.status(gw, bearer(hs256({}, good_claims(groups=groups))))
                self.assertEqual(r.status, 403, groups)
                self.assertEqual(r.json()["error_type"], "UNAUTHORIZED")
            # an opaque token's principal has no groups
            self.assertEqual(self.status(gw, bearer(OPAQUE["ci-bot"])).status, 403)

    # ---- config errors -------------------------------------------------------------------
    def test_config_check_names_the_keys_file_and_key(self):
        bad = h.write_file(self.tmp, "bad-jwks.json",
                           json.dumps({"keys": [{"kty": "oct", "k": b64url(SECRET)},
                                                {"kty": "RSA", "alg": "HS256"}]}))
        cfg = self.config(h.merge(self.providers("jwt"),
                                  {"auth": {"providers": [{"type": "jwt", "keys_file": bad}]}}))
        cfg.update({"listen": "127.0.0.1:%d" % h.free_port(),
                    "admin_listen": "127.0.0.1:%d" % h.free_port()})
        path = h.write_file(self.tmp, "bad.yaml", h.to_yaml(cfg))
        proc = h.run_snapgate(["-t", "-c", path])
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout + proc.stderr,
                         r"bad\.yaml:\d+: auth\.providers\[0\]\.keys_file: .*bad-jwks\.json: "
                         r"key 1: alg does not fit kty")
        self.assertNotIn(b64url(SECRET), proc.stdout + proc.stderr)

    # ---- no token in any output ----------------------------------------------------------
    def test_no_token_appears_in_stdout_or_stderr(self):
        secrets = set(OPAQUE.values()) | {b64url(SECRET), b64url(OTHER_SECRET)}
        with self.gateway(h.merge(self.providers("bearer", "jwt"),
                                  {"log": {"level": "debug"}})) as gw:
            tokens = [hs256({}, good_claims()), rs256({}, good_claims(), self.rsa_key)]
            tokens += [t for _, t in self.bad_jwts()]
            tokens += list(OPAQUE.values()) + ["opaque-token-unknown-9999"]
            for t in tokens:
                self.status(gw, bearer(t))
                secrets.add(t)
                secrets.update(p for p in t.split(".") if len(p) >= 16)
        output = gw.stdout_text + gw.stderr_text
        self.assertTrue(output.strip())  # there was something to search
        for s in secrets:
            self.assertNotIn(s, output)
        # the principal is logged, the tokens are not
        users = {e.get("user") for e in gw.access_log() if "status" in e}
        self.assertIn("jane", users)
        self.assertIn("ci-bot", users)


if __name__ == "__main__":
    unittest.main()
