"""The saml provider through the real binary and the mock vCenter.

Assertions are written here, signed with the xmlsec1 CLI by keys and self-signed certificates
that openssl makes at class setup, then sent as `SIGN token="<base64(gzip(xml))>"`. Needs the
Debian packages xmlsec1 and openssl (tests/run.sh installs them): without them the tests fail,
they do not skip."""

import base64
import datetime
import gzip
import os
import shutil
import subprocess
import tempfile

import sg_harness as h

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
ALICE = "alice@vsphere.local"

SIGNATURE_TEMPLATE = (
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    '<ds:Reference URI="#{id}"><ds:Transforms>'
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
    '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
    '<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>'
    '<ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>')

def assertion_template(confirmation, namespaces=""):
    """An assertion's text to .format() with id, issued, signature, name, not_before and
    not_on_or_after (and whatever confirmation, the SubjectConfirmation element, asks for);
    namespaces: more xmlns declarations that confirmation needs."""
    return (
        '<saml2:Assertion xmlns:saml2="' + SAML_NS + '" ' + namespaces
        + 'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'ID="{id}" IssueInstant="{issued}" Version="2.0">'
        '<saml2:Issuer>https://vc1.example/websso/SAML2/Metadata/vsphere.local</saml2:Issuer>'
        '{signature}'
        '<saml2:Subject><saml2:NameID Format="http://schemas.xmlsoap.org/claims/UPN">{name}'
        '</saml2:NameID>' + confirmation + '</saml2:Subject>'
        '<saml2:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_on_or_after}"/>'
        '<saml2:AttributeStatement><saml2:Attribute FriendlyName="Groups" '
        'Name="http://rsa.com/schemas/attr-names/2009/01/GroupIdentity">'
        '<saml2:AttributeValue xsi:type="xs:string">vsphere.local\\Users</saml2:AttributeValue>'
        '</saml2:Attribute></saml2:AttributeStatement></saml2:Assertion>')


ASSERTION_TEMPLATE = assertion_template(
    '<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
    '<saml2:SubjectConfirmationData NotOnOrAfter="{not_on_or_after}"/>'
    '</saml2:SubjectConfirmation>')


def xs_time(offset_s):
    """UTC now + offset_s as xs:dateTime in milliseconds (also the vAPI SDK's timestamp form)."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def _run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True,
                          **kw)


def new_key_and_cert(directory, name):
    """A new RSA key and its self-signed certificate (openssl) in directory: their paths."""
    key = os.path.join(directory, name + ".key")
    cert = os.path.join(directory, name + ".pem")
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
          "-out", cert, "-subj", "/CN=" + name, "-days", "2"])
    return key, cert


def sts_and_impostor(directory):
    """The STS's Signer and a foreign one, in directory. Without xmlsec1 or openssl the
    tests fail, they do not skip."""
    missing = [p for p in ("xmlsec1", "openssl") if shutil.which(p) is None]
    if missing:
        raise AssertionError("%s required (Debian packages; tests/run.sh installs them)"
                             % ", ".join(missing))
    return Signer(directory, "sts"), Signer(directory, "impostor")


class Signer:
    """An RSA key and its self-signed certificate (openssl), signing with the xmlsec1 CLI."""

    def __init__(self, directory, name):
        self.dir = directory
        self.key, self.cert = new_key_and_cert(directory, name)

    def sign(self, xml):
        """The signed document (bytes) for a template holding SIGNATURE_TEMPLATE."""
        fd, tmpl = tempfile.mkstemp(suffix=".xml", dir=self.dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(xml)
        out = tmpl + ".signed"
        try:
            _run(["xmlsec1", "--sign", "--privkey-pem", "%s,%s" % (self.key, self.cert),
                  "--id-attr:ID", SAML_NS + ":Assertion", "--output", out, tmpl])
            with open(out, "rb") as f:
                return f.read()
        finally:
            for p in (tmpl, out):
                if os.path.exists(p):
                    os.unlink(p)


def assertion(name=ALICE, not_before=-60, not_on_or_after=1800, signed=True,
              assertion_id="_6f1c2a9e-3b7d-4e55-9a01-0c9d8e7f6a5b"):
    """An assertion template (str): times are seconds from now."""
    return ASSERTION_TEMPLATE.format(
        id=assertion_id, issued=xs_time(-5), name=name, not_before=xs_time(not_before),
        not_on_or_after=xs_time(not_on_or_after),
        signature=SIGNATURE_TEMPLATE.format(id=assertion_id) if signed else "")


def token(xml_bytes):
    return base64.b64encode(gzip.compress(xml_bytes)).decode("ascii")


def sign_header(tok, quoted=True):
    return {"Authorization": 'SIGN token="%s"' % tok if quoted else "SIGN token=%s" % tok}


@h.requires_gateway
class TestAuthSaml(h.GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sts, cls.impostor = sts_and_impostor(cls.tmp)
        cls.good = cls.sts.sign(assertion())

    def saml_config(self, with_basic=False):
        providers = [{"type": "saml", "sts_certs_file": self.sts.cert}]
        if with_basic:
            providers.insert(0, {"type": "basic", "users_file": self.users_file})
        return {"auth": {"providers": providers}}

    def bad_tokens(self):
        """{what: token} for every way a token must be refused."""
        tampered = self.good.replace(ALICE.encode(), b"mallory@vsphere.local")
        self.assertNotEqual(tampered, self.good)
        return {
            "tampered": token(tampered),
            "other-certificate": token(self.impostor.sign(assertion())),
            "expired": token(self.sts.sign(assertion(not_before=-3600, not_on_or_after=-120))),
            "not-yet-valid": token(self.sts.sign(assertion(not_before=300, not_on_or_after=1800))),
            "unsigned": token(assertion(signed=False).encode()),
            "not-gzip": base64.b64encode(self.good).decode("ascii"),
            "not-base64": "%%%%not-base64%%%%",
        }

    def assertChallenge(self, r, *schemes):
        self.assertError(r, 401, "UNAUTHENTICATED")
        challenge = r.headers.get("www-authenticate", "")
        for scheme in schemes:
            self.assertIn('%s realm="snapgate"' % scheme, challenge)

    def test_valid_token_quoted_and_unquoted(self):
        fx = h.fixture("cis-succeeded")
        tok = token(self.good)
        with self.gateway(self.saml_config()) as gw:
            for quoted in (True, False):
                with self.subTest(quoted=quoted):
                    r = gw.http("GET", h.task_path(fx.task), sign_header(tok, quoted))
                    self.assertEqual(r.status, 200, r.body[:300])
                    self.assertEqual(r.json(), fx.expected)
        users = {e.get("user") for e in gw.access_log() if e.get("status") == 200}
        self.assertEqual(users, {ALICE})

    def test_bad_tokens_are_401_with_the_sign_challenge(self):
        path = h.task_path(h.fixture("cis-succeeded").task)
        with self.gateway(self.saml_config()) as gw:
            for what, tok in self.bad_tokens().items():
                with self.subTest(token=what):
                    self.assertChallenge(gw.http("GET", path, sign_header(tok)), "SIGN")
            self.assertChallenge(gw.http("GET", path), "SIGN")
        self.assertEqual(self.mock.stats()["tasks"], {})  # nothing reached the backend

    def test_holder_of_key_form_is_refused(self):
        hdr = 'SIGN token="%s", nonce="1714550400:abc", bodyhash="x", ' \
              'signature_alg="RSA-SHA256", signature="c2ln"' % token(self.good)
        with self.gateway(self.saml_config()) as gw:
            r = gw.http("GET", h.task_path(h.fixture("cis-succeeded").task),
                        {"Authorization": hdr})
        self.assertChallenge(r, "SIGN")

    def test_chain_with_basic_names_both_schemes_and_serves_both(self):
        path = h.task_path(h.fixture("cis-succeeded").task)
        with self.gateway(self.saml_config(with_basic=True)) as gw:
            self.assertChallenge(gw.http("GET", path, sign_header(self.bad_tokens()["tampered"])),
                                 "Basic", "SIGN")
            self.assertEqual(gw.http("GET", path, sign_header(token(self.good))).status, 200)
            self.assertEqual(gw.http("GET", path, self.auth()).status, 200)

    def test_concurrent_verification_on_several_workers(self):
        # Distinct tokens, so every request is a cache miss verified by xmlsec
        # on whichever worker took it; half are tampered.
        path = h.task_path(h.fixture("cis-succeeded").task)
        good = [token(self.sts.sign(assertion(assertion_id="_c%02d" % i))) for i in range(16)]
        bad = [token(self.sts.sign(assertion(assertion_id="_d%02d" % i)).replace(
            ALICE.encode(), b"eve@vsphere.local")) for i in range(16)]
        cfg = h.merge(self.saml_config(), {"workers": 4})
        with self.gateway(cfg) as gw:
            statuses = h.parallel(32, lambda i: gw.http(
                "GET", path, sign_header(good[i // 2] if i % 2 == 0 else bad[i // 2])).status)
        self.assertEqual(statuses, [200 if i % 2 == 0 else 401 for i in range(32)])

    def test_no_token_or_assertion_text_in_the_logs(self):
        path = h.task_path(h.fixture("cis-succeeded").task)
        secrets = {token(self.good)}
        with self.gateway(self.saml_config()) as gw:
            gw.http("GET", path, sign_header(token(self.good)))
            for tok in self.bad_tokens().values():
                gw.http("GET", path, sign_header(tok))
                secrets.add(tok)
        text = gw.stdout_text + gw.stderr_text
        self.assertIn("auth.saml", text)  # debug logging was on, and it said why
        for s in secrets:
            self.assertNotIn(s, text)
            self.assertNotIn(s[:40], text)
        for fragment in ("saml2:", "Assertion ID", "SignatureValue", "mallory", "BEGIN CERT"):
            self.assertNotIn(fragment, text)


if __name__ == "__main__":
    h.unittest.main()
