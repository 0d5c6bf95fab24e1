"""The vAPI JSON-RPC envelope (issue 13; api/JSONRPC.md 1, 3.1, 6): the verbatim SDK requests
with the SDK's headers on one keep-alive connection, ids echoed as sent, the protocol errors
(-32700 with id null, -32600, -32601, -32602), hostile bodies (over 64 KiB: HTTP 413 before
any parsing; duplicate names; batches), and `POST /snapservice` answering exactly as
`POST /api`."""

import json
import re

import sg_harness as h
import sg_jsonrpc as rpc

SDK_ALICE = ("alice@vsphere.local", "alice-pw")  # the credentials in the verbatim requests
VALID = "cis-succeeded"  # an Info the cis backend (the mock) serves as it is


@h.requires_gateway
class TestJsonRpcProtocol(h.GatewayTestCase, rpc.RpcAssertions):
    USERS = {"alice": "wonderland-7", "bob": "builder-9", SDK_ALICE[0]: SDK_ALICE[1]}

    def setUp(self):
        super().setUp()
        # task-1 (the verbatim requests' task) answers the cis-succeeded Info
        self.mock.set_task("task-1", {"status": 200, "body": h.fixture(VALID).expected})

    def alice(self):
        return rpc.user_pass("alice", self.USERS["alice"])

    def challenge(self, gw):
        r = gw.http("GET", h.task_path("task-1"))
        self.assertEqual(r.status, 401)
        return r.headers["www-authenticate"]

    # ---- the SDK's requests ----------------------------------------------------------------
    def test_verbatim_requests_on_one_keep_alive_connection(self):
        with self.gateway() as gw:
            challenge = self.challenge(gw)
            conn = gw.connection()
            try:
                def send(name, body=None):
                    raw = body if body is not None else rpc.verbatim_request(name)
                    p = json.loads(raw)["params"]
                    headers = rpc.sdk_headers(p["serviceId"], p["operationId"],
                                              p["ctx"]["appCtx"]["opId"])
                    return rpc.post(gw, raw, headers=headers, conn=conn)

                out = self.assertOutput(send("user-pass"))
                self.assertEqual(out, rpc.datavalue(VALID))
                self.assertUnauthenticated(send("none"), challenge)
                for name in ("session-id", "saml-bearer", "saml-hok"):
                    with self.subTest(request=name):
                        self.assertUnauthenticated(send(name))
                sid = self.assertSessionId(self.assertOutput(send("session-create")))
                after = rpc.verbatim_request("session-id-after-create").replace(
                    b"5f0e3c1a9d2b4c6e8f7a1b2c3d4e5f60", sid.encode())
                self.assertEqual(self.assertOutput(send(None, after)), rpc.datavalue(VALID))
            finally:
                conn.close()
        self.assertEqual(self.mock.stats()["tasks"]["task-1"], 1)

    def test_ids_are_echoed_as_sent(self):
        ids = ['"0"', '"17"', "17", "-3", '"\\u0041-x"', '"q\\"\\\\"', '"\u00e9t\u00e9"']
        body = rpc.compact(rpc.task_get("task-1", self.alice(), "@ID@"))
        with self.gateway() as gw:
            for text in ids:
                with self.subTest(id=text):
                    raw = body.replace(b'"@ID@"', text.encode("utf-8"))
                    r = rpc.post(gw, raw)
                    self.assertEqual(self.assertOutput(r, json.loads(text)),
                                     rpc.datavalue(VALID))
                    self.assertRegex(r.body.decode("utf-8"),
                                     r'"id"\s*:\s*' + re.escape(text) + r'\s*[,}]',
                                     "the id is not echoed as the same JSON text")

    def test_the_answer_headers(self):
        with self.gateway() as gw:
            miss = rpc.post(gw, rpc.task_get("task-1", self.alice()))
            hit = rpc.post(gw, rpc.task_get("task-1", self.alice()))
            mine = rpc.post(gw, rpc.task_get("task-1", self.alice()),
                            headers={"X-Request-Id": "rpc-test-4711"})
        for r in (miss, hit, mine):
            self.assertOutput(r)
        self.assertEqual((miss.headers.get("x-cache"), hit.headers.get("x-cache")),
                         ("MISS", "HIT"))
        self.assertNotEqual(miss.headers["x-request-id"], hit.headers["x-request-id"])
        self.assertEqual(mine.headers.get("x-request-id"), "rpc-test-4711")

    # ---- protocol errors -------------------------------------------------------------------
    def test_parse_errors_are_32700_with_id_null(self):
        good = rpc.compact(rpc.task_get("task-1", self.alice()))
        bodies = {
            "truncated": good[:40],
            "not json": b"hello",
            "empty": b"",
            "trailing bytes": good + b" x",
            "duplicate id": good.replace(b'"id":"0"', b'"id":"0","id":"1"'),
            "duplicate nested": good.replace(b'"task":"task-1"',
                                             b'"task":"task-1","task":"task-2"'),
            "NUL in a string": good.replace(b'"task-1"', b'"task\\u0000-1"'),
        }
        with self.gateway() as gw:
            for what, body in bodies.items():
                with self.subTest(body=what):
                    self.assertNotEqual(body, good)
                    self.assertProtocolError(rpc.post(gw, body), -32700, None)
        self.assertEqual(self.mock.stats()["tasks"], {})

    def test_invalid_envelopes_are_32600(self):
        req = rpc.task_get("task-1", self.alice())
        no_id = dict(req)
        del no_id["id"]
        null_id = dict(req, id=None)
        with self.gateway() as gw:
            for what, body in (("no id", no_id), ("id null", null_id),
                               ("batch", [req]), ("empty batch", []),
                               ("a string", "invoke")):
                with self.subTest(body=what):
                    self.assertProtocolError(rpc.post(gw, rpc.compact(body)), -32600, None)
            for what, body in (("jsonrpc 1.0", dict(req, jsonrpc="1.0")),
                               ("no jsonrpc", {k: v for k, v in req.items()
                                               if k != "jsonrpc"}),
                               ("method not a string", dict(req, method=5))):
                with self.subTest(body=what):
                    self.assertProtocolError(rpc.post(gw, rpc.compact(body)), -32600,
                                             ("0", None))
            for header, value in (("vapi-service", rpc.SESSION),
                                  ("vapi-operation", "delete")):
                with self.subTest(header=header):
                    r = rpc.post(gw, req, headers={header: value})
                    self.assertProtocolError(r, -32600, ("0", None))
        self.assertEqual(self.mock.stats()["tasks"], {})

    def test_unknown_methods_and_operations_are_32601(self):
        req = rpc.task_get("task-1", self.alice())
        cases = {
            "method": dict(req, method="call"),
            "serviceId": rpc.invoke("com.vmware.vcenter.vm", "get", {"vm": "vm-1"},
                                    self.alice()),
            "operationId": rpc.invoke(rpc.TASKS, "cancel", {"task": "task-1"}, self.alice()),
            "session operationId": rpc.invoke(rpc.SESSION, "list", {}, self.alice()),
        }
        with self.gateway() as gw:
            for what, body in cases.items():
                with self.subTest(unknown=what):
                    self.assertProtocolError(rpc.post(gw, body), -32601, "0")
        self.assertEqual(self.mock.stats()["tasks"], {})

    def test_invalid_params_are_32602(self):
        def with_input(operation_input):
            return rpc.invoke(rpc.TASKS, "get", operation_input, self.alice())

        req = rpc.task_get("task-1", self.alice())
        flat_input = json.loads(json.dumps(req))
        flat_input["params"]["input"] = {"task": "task-1"}
        cases = {
            "task a number": with_input({"task": 5}),
            "task null": with_input({"task": None}),
            "task a list": with_input({"task": ["task-1"]}),
            "no task": with_input({}),
            "input not a STRUCTURE": flat_input,
        }
        with self.gateway() as gw:
            for what, body in cases.items():
                with self.subTest(params=what):
                    self.assertProtocolError(rpc.post(gw, body), -32602, "0")
        self.assertEqual(self.mock.stats()["tasks"], {})

    # ---- hostile bodies --------------------------------------------------------------------
    def padded(self, size):
        """A valid user_pass tasks.get of exactly size bytes (an appCtx member pads it)."""
        req = rpc.task_get("task-1", self.alice())
        req["params"]["ctx"]["appCtx"]["pad"] = ""
        body = rpc.compact(req)
        return body.replace(b'"pad":""', b'"pad":"' + b"p" * (size - len(body)) + b'"')

    def test_body_limit_is_64_kib_and_checked_before_parsing(self):
        with self.gateway() as gw:
            at_limit = self.padded(rpc.BODY_MAX)
            self.assertEqual(len(at_limit), rpc.BODY_MAX)
            self.assertEqual(self.assertOutput(rpc.post(gw, at_limit)), rpc.datavalue(VALID))
            over = self.padded(rpc.BODY_MAX + 1)
            self.assertEqual(len(over), rpc.BODY_MAX + 1)
            for path in ("/api", "/snapservice"):
                with self.subTest(path=path):
                    self.assertEqual(rpc.post(gw, over, path).status, 413)
                    # garbage that size is 413 too, not -32700: the size comes first
                    r = rpc.post(gw, b"\x00{" * 40000, path)
                    self.assertEqual(r.status, 413, r.body[:200])
            # and the gateway still serves
            self.assertOutput(rpc.post(gw, rpc.task_get("task-1", self.alice())))

    # ---- /snapservice ----------------------------------------------------------------------
    def test_snapservice_answers_exactly_as_api(self):
        requests = {
            "tasks.get": rpc.compact(rpc.task_get("task-1", self.alice(), "3")),
            "not found": rpc.compact(rpc.task_get("no-such-task", self.alice(), "4")),
            "no credentials": rpc.compact(rpc.task_get("task-1", None, "5")),
            "wrong password": rpc.compact(rpc.task_get(
                "task-1", rpc.user_pass("alice", "not-her-password"), "6")),
            "parse error": b'{"jsonrpc":"2.0",',
            "batch": b"[]",
            "unknown operation": rpc.compact(rpc.invoke(rpc.TASKS, "cancel", {"task": "x"},
                                                        self.alice(), "8")),
            "invalid params": rpc.compact(rpc.invoke(rpc.TASKS, "get", {"task": 1},
                                                     self.alice(), "9")),
        }
        with self.gateway() as gw:
            for what, body in requests.items():
                with self.subTest(request=what):
                    a = rpc.post(gw, body, "/api")
                    b = rpc.post(gw, body, "/snapservice")
                    self.assertRpcAnswer(a, json.loads(body).get("id")
                                         if what not in ("parse error", "batch") else None)
                    self.assertEqual((b.status, b.headers.get("content-type")),
                                     (a.status, a.headers.get("content-type")))
                    self.assertEqual(b.body, a.body)
                    self.assertTrue(b.headers.get("x-request-id"))
            sid = self.assertSessionId(self.assertOutput(
                rpc.post(gw, rpc.session_op("create", self.alice()), "/snapservice")))
            # a session made through one path is one of the gateway's, whatever the path
            r = rpc.post(gw, rpc.task_get("task-1", rpc.session_id(sid)), "/api")
            self.assertEqual(self.assertOutput(r), rpc.datavalue(VALID))


if __name__ == "__main__":
    h.unittest.main()
