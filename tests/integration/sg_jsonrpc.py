"""Helpers for the vAPI JSON-RPC tests (issue 13; api/JSONRPC.md): requests as the Python SDK
builds them, its headers, the security contexts (the holder-of-key one signed here with the
openssl CLI), SAML assertions signed by xmlsec1 (test_auth_saml's Signer), and assertions on
the answers. Python 3 standard library plus the openssl and xmlsec1 programs.

The expected DataValues come from tests/fixtures/jsonrpc: the committed <case>.datavalue.json
files and encode.py (an encoder written from JSONRPC.md alone), never from snapgate's code.

Main pieces:
  task_get(task, sec, rid) / session_op(op, sec, rid) / invoke(...)   request objects
  user_pass(), session_id(), saml_bearer(), HokSigner.context()       securityCtx values
  post(gw, request, path="/api", headers=None, conn=None)             one POST, SDK headers
  RpcAssertions                 mixin: assertOutput, assertVapiError, assertProtocolError
  JsonRpcTestCase               GatewayTestCase + RpcAssertions + an STS and a holder key
"""

import base64
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid

import sg_harness as h
from test_auth_saml import (SIGNATURE_TEMPLATE, Signer, assertion_template, new_key_and_cert,
                            sts_and_impostor, xs_time)

JSONRPC_FIXTURES = os.path.join(h.REPO, "tests", "fixtures", "jsonrpc")
REQUESTS_DIR = os.path.join(JSONRPC_FIXTURES, "requests")
sys.path.insert(0, JSONRPC_FIXTURES)
import encode  # noqa: E402  (tests/fixtures/jsonrpc/encode.py)

TASKS = "com.vmware.snapservice.tasks"
SESSION = "com.vmware.cis.session"
ERRORS = "com.vmware.vapi.std.errors."
SCHEME = "com.vmware.vapi.std.security."
SESSION_INFO = "com.vmware.cis.session.info"
SDK_USER_AGENT = "vAPI/2.52.0 Python/3.11.2 (Linux; 6.1.0-18-amd64; x86_64)"
SESSION_HEADER = "vmware-api-session-id"
SESSION_ID_RE = re.compile(r"^[0-9a-f]{64}$")
UTC_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
HOK_METHOD = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
BODY_MAX = 65536


# ---- requests ------------------------------------------------------------------------------
def invoke(service, operation, operation_input, sec=None, rid="0", op_id=None):
    """A request object with the SDK's key order (JSONRPC.md 1): securityCtx only when set."""
    ctx = {"appCtx": {"opId": op_id or str(uuid.uuid4())}}
    if sec is not None:
        ctx["securityCtx"] = sec
    return {"jsonrpc": "2.0", "method": "invoke",
            "params": {"serviceId": service, "operationId": operation,
                       "input": {"STRUCTURE": {"operation-input": operation_input}},
                       "ctx": ctx},
            "id": rid}


def task_get(task, sec=None, rid="0"):
    return invoke(TASKS, "get", {"task": task}, sec, rid)


def session_op(operation, sec=None, rid="0"):
    """com.vmware.cis.session create / get / delete (empty input, JSONRPC.md 2)."""
    return invoke(SESSION, operation, {}, sec, rid)


def compact(obj):
    """The body as the SDK writes it: compact JSON, ASCII."""
    return json.dumps(obj, separators=(",", ":")).encode("ascii")


def verbatim_request(name):
    """The bytes of tests/fixtures/jsonrpc/requests/<name>.json (JSONRPC.md, byte for byte)."""
    with open(os.path.join(REQUESTS_DIR, name + ".json"), "rb") as f:
        return f.read()


def sdk_headers(service, operation, op_id=None):
    """The headers the SDK (and requests) send with a call (JSONRPC.md 1)."""
    return {"User-Agent": SDK_USER_AGENT, "Accept-Encoding": "gzip, deflate", "Accept": "*/*",
            "Connection": "keep-alive", "Content-Type": "application/json",
            "vapi-service": service, "vapi-operation": operation,
            "vapi-ctx-opid": op_id or str(uuid.uuid4())}


def post(gw, request, path="/api", headers=None, conn=None, timeout=10.0):
    """POST one request (a dict, sent compact with the SDK's headers for its service and
    operation; or bytes, sent as they are with headers or plain JSON headers)."""
    if isinstance(request, dict):
        p = request.get("params", {})
        hdrs = sdk_headers(p.get("serviceId"), p.get("operationId"),
                           p.get("ctx", {}).get("appCtx", {}).get("opId"))
        body = compact(request)
    else:
        hdrs = {"Content-Type": "application/json"}
        body = request
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    return gw.http("POST", path, hdrs, body, conn=conn, timeout=timeout)


# ---- security contexts ---------------------------------------------------------------------
def user_pass(user, password):
    return {"schemeId": SCHEME + "user_pass", "userName": user, "password": password}


def session_id(sid):
    return {"schemeId": SCHEME + "session_id", "sessionId": sid}


def saml_bearer(xml):
    return {"schemeId": SCHEME + "saml_bearer_token",
            "samlToken": xml.decode("utf-8") if isinstance(xml, bytes) else xml}


def canonical(obj):
    """The holder-of-key signing input: the request without securityCtx.signature, keys
    sorted, compact, ASCII (exact for requests without floats; JSONRPC.md 1.5)."""
    o = copy.deepcopy(obj)
    o["params"]["ctx"]["securityCtx"].pop("signature", None)
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _run(args, data=None):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=True).stdout


HOK_ASSERTION = assertion_template(
    '<saml2:SubjectConfirmation Method="' + HOK_METHOD + '">'
    '<saml2:SubjectConfirmationData xsi:type="saml2:KeyInfoConfirmationDataType">'
    '<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data>'
    '</ds:KeyInfo></saml2:SubjectConfirmationData>'
    '</saml2:SubjectConfirmation>',
    namespaces='xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ')


class HokSigner:
    """A holder's RSA key and self-signed certificate (openssl): the certificate goes into a
    holder-of-key assertion the STS signs; the key signs requests."""

    def __init__(self, directory, name):
        self.key, self.cert = new_key_and_cert(directory, name)
        with open(self.cert, encoding="ascii") as f:
            pem = f.read()
        self.cert_b64 = "".join(line for line in pem.splitlines() if "-----" not in line)

    def assertion(self, sts, name, assertion_id="_hok-5b0c1d2e", not_before=-60,
                  not_on_or_after=1800):
        """A holder-of-key assertion naming this holder's certificate, signed by sts (a
        test_auth_saml.Signer); the XML text."""
        xml = HOK_ASSERTION.format(
            id=assertion_id, issued=xs_time(-5), name=name, cert=self.cert_b64,
            not_before=xs_time(not_before), not_on_or_after=xs_time(not_on_or_after),
            signature=SIGNATURE_TEMPLATE.format(id=assertion_id))
        return sts.sign(xml).decode("utf-8")

    def sign(self, data):
        """base64 of RSA PKCS#1 v1.5 SHA-256 over data."""
        return base64.b64encode(_run(["openssl", "dgst", "-sha256", "-sign", self.key],
                                     data)).decode("ascii")

    def sign_request(self, request, assertion_xml, created_s=-1, expires_s=1200):
        """request with a saml_hok_token context signed by this key (times in seconds from
        now), as the SDK's JSONSSOSigner writes it; request is changed and returned."""
        request["params"]["ctx"]["securityCtx"] = {
            "schemeId": SCHEME + "saml_hok_token",
            "timestamp": {"expires": xs_time(expires_s), "created": xs_time(created_s)},
            "signatureAlgorithm": "RS256",
        }
        value = self.sign(canonical(request))
        request["params"]["ctx"]["securityCtx"]["signature"] = {"samlToken": assertion_xml,
                                                                "value": value}
        return request


# ---- answers -------------------------------------------------------------------------------
def datavalue(case):
    """The committed expected DataValue of an API fixture case."""
    with open(os.path.join(JSONRPC_FIXTURES, case + ".datavalue.json"), encoding="utf-8") as f:
        return json.load(f)


def datavalue_cases():
    return sorted(n[:-len(".datavalue.json")] for n in os.listdir(JSONRPC_FIXTURES)
                  if n.endswith(".datavalue.json"))


class RpcAssertions:
    """Assertions on JSON-RPC answers (a sg_harness.Response)."""

    def assertRpcAnswer(self, r, rid="0"):
        """HTTP 200, application/json, an X-Request-Id, a JSON-RPC 2.0 body echoing rid (same
        value and JSON type; a tuple: one of its values) with exactly one of result / error;
        returns the parsed body."""
        self.assertEqual(r.status, 200, "JSON-RPC answers are always HTTP 200: %r"
                         % r.body[:400])
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"),
                        r.headers)
        self.assertTrue(r.headers.get("x-request-id"), "no X-Request-Id: %s" % r.headers)
        try:
            obj = json.loads(r.body.decode("utf-8"))
        except ValueError:
            self.fail("the answer is not JSON: %r" % r.body[:400])
        self.assertIsInstance(obj, dict, r.body[:400])
        self.assertEqual(obj.get("jsonrpc"), "2.0", obj)
        self.assertIn("id", obj, obj)
        if isinstance(rid, tuple):
            self.assertIn(obj["id"], rid, obj)
        else:
            self.assertEqual(obj["id"], rid, obj)
            self.assertIs(type(obj["id"]), type(rid), "the id's JSON type changed: %r" % obj)
        self.assertEqual(len({"result", "error"} & set(obj)), 1, obj)
        self.assertLessEqual(set(obj), {"jsonrpc", "id", "result", "error"}, obj)
        return obj

    def assertOutput(self, r, rid="0"):
        """A result.output answer; returns the output DataValue."""
        obj = self.assertRpcAnswer(r, rid)
        self.assertIn("result", obj, "expected result.output, got %s" % json.dumps(obj)[:600])
        self.assertEqual(set(obj["result"]), {"output"},
                         "expected result.output, got %s" % json.dumps(obj)[:600])
        return obj["result"]["output"]

    def assertVapiError(self, r, name, rid="0"):
        """A result.error answer: ERROR com.vmware.vapi.std.errors.<name> with messages (a
        list of localizable_message structures), data and error_type <NAME>; returns the
        error's fields."""
        obj = self.assertRpcAnswer(r, rid)
        got = json.dumps(obj)[:600]
        self.assertIn("result", obj, "expected result.error %s, got %s" % (name, got))
        self.assertEqual(set(obj["result"]), {"error"},
                         "expected result.error %s, got %s" % (name, got))
        err = obj["result"]["error"]
        self.assertEqual(list(err), ["ERROR"], got)
        self.assertEqual(list(err["ERROR"]), [ERRORS + name], got)
        fields = err["ERROR"][ERRORS + name]
        self.assertEqual(fields.get("error_type"), {"OPTIONAL": name.upper()}, got)
        self.assertIn("data", fields, got)
        self.assertIsInstance(fields.get("messages"), list, got)
        for m in fields["messages"]:
            self.assertEqual(list(m), ["STRUCTURE"], got)
            self.assertEqual(list(m["STRUCTURE"]), [encode.MESSAGE], got)
            msg = m["STRUCTURE"][encode.MESSAGE]
            self.assertIsInstance(msg.get("id"), str, got)
            self.assertIsInstance(msg.get("default_message"), str, got)
            self.assertIsInstance(msg.get("args"), list, got)
        return fields

    def assertProtocolError(self, r, code, rid=None):
        """A top-level JSON-RPC error {"code": code, "message": <text>} echoing rid (None:
        id null); returns the error object."""
        obj = self.assertRpcAnswer(r, rid)
        self.assertIn("error", obj, "expected JSON-RPC error %d, got %s"
                      % (code, json.dumps(obj)[:600]))
        self.assertEqual(obj["error"].get("code"), code, obj)
        self.assertIsInstance(obj["error"].get("message"), str, obj)
        self.assertTrue(obj["error"]["message"], obj)
        return obj["error"]

    def assertUnauthenticated(self, r, challenge=None, rid="0"):
        fields = self.assertVapiError(r, "unauthenticated", rid)
        if challenge is not None:
            self.assertEqual(fields.get("challenge"), {"OPTIONAL": challenge},
                             "the challenge must be the REST WWW-Authenticate value")
        return fields

    def assertSessionId(self, out):
        """A session.create output {"SECRET": "<64 lower-case hex>"}; returns the id."""
        self.assertIsInstance(out, dict, out)
        self.assertEqual(list(out), ["SECRET"], out)
        self.assertRegex(out["SECRET"], SESSION_ID_RE)
        return out["SECRET"]

    def assertSessionInfo(self, out, user):
        """A session.get output; returns the info fields."""
        self.assertEqual(list(out), ["STRUCTURE"], out)
        self.assertEqual(list(out["STRUCTURE"]), [SESSION_INFO], out)
        info = out["STRUCTURE"][SESSION_INFO]
        self.assertEqual(info.get("user"), user, out)
        for k in ("created_time", "last_accessed_time"):
            self.assertRegex(info.get(k) or "", UTC_TIME_RE, out)
        self.assertLessEqual(info["created_time"], info["last_accessed_time"], out)
        return info


class JsonRpcTestCase(h.GatewayTestCase, RpcAssertions):
    """GatewayTestCase with an STS (sts, a Signer whose certificate is sts_certs_file), a
    foreign signer (impostor), a holder key (holder) and the basic + saml provider chain."""

    STS_USER = "alice@vsphere.local"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sts, cls.impostor = sts_and_impostor(cls.tmp)
        cls.holder = HokSigner(cls.tmp, "holder")

    def rpc_config(self, overrides=None, backend=None, saml=True):
        providers = [{"type": "basic", "users_file": self.users_file}]
        if saml:
            providers.append({"type": "saml", "sts_certs_file": self.sts.cert})
        return self.config(h.merge({"auth": {"providers": providers}}, overrides), backend)

    def rpc_gateway(self, overrides=None, backend=None, saml=True, **kw):
        return h.Gateway(self.rpc_config(overrides, backend, saml), **kw)

    def alice(self):
        return user_pass("alice", self.USERS["alice"])

    def rest_challenge(self, gw):
        """The WWW-Authenticate of a REST request without credentials."""
        r = gw.http("GET", h.task_path("any-task"))
        self.assertEqual(r.status, 401, r.body)
        self.assertTrue(r.headers.get("www-authenticate"), r.headers)
        return r.headers["www-authenticate"]

    def create_session(self, gw, sec=None, path="/api"):
        """A session made over JSON-RPC (alice's user_pass by default); its id."""
        r = post(gw, session_op("create", sec or self.alice()), path)
        return self.assertSessionId(self.assertOutput(r))

    def rest_session(self, gw, headers=None):
        """A session made with POST /api/snapservice/sessions (alice's Basic by default)."""
        r = gw.http("POST", "/api/snapservice/sessions", headers or self.auth())
        self.assertEqual(r.status, 201, r.body[:300])
        sid = r.json()
        self.assertIsInstance(sid, str, r.body)
        self.assertRegex(sid, SESSION_ID_RE)
        return sid


def tmpdir():
    """A new temporary directory (the caller removes it)."""
    return tempfile.mkdtemp(prefix="sg-rpc-")
