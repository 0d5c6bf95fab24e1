"""The contract's answer table, one row per test, against the real binary and the mock."""

import json
import re
import socket
import threading
import time

import sg_harness as h

ETAG_RE = re.compile(r'^"[^"\s]+"$')  # strong: no W/ prefix
CACHE_CONTROL_RE = re.compile(r"^private, max-age=(\d+)$")
REALM_RE = re.compile(r'^Basic realm="snapgate"')
SUCCEEDED_CASE = "cis-succeeded"


class Base(h.GatewayTestCase):
    def get(self, gw, path, headers=None, user="alice", **kw):
        hdrs = dict(self.auth(user)) if user else {}
        hdrs.update(headers or {})
        return gw.http(kw.pop("method", "GET"), path, hdrs, **kw)

    def head_lines(self, path, extra=()):
        """A raw request head with credentials, ending the head."""
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1",
                 "Authorization: %s" % self.auth()["Authorization"], "Connection: close"]
        lines.extend(extra)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def assertNoUpstreamFetch(self):
        self.assertEqual(self.mock.stats()["tasks"], {})

    def assertOptionalErrorBody(self, resp, error_type=None):
        """Statuses outside the vAPI table (408, 413): a body, when sent, is a standard error."""
        if resp.body:
            self.assertErrorBody(resp.body, error_type)


@h.requires_gateway
class TestOk(Base):
    def test_known_tasks_are_200_with_the_fixture_info(self):
        cases = [c for c in h.fixture_cases("cis-") if h.fixture(c).expected is not None]
        self.assertGreaterEqual(len(cases), 5)
        with self.gateway() as gw:
            for case in cases:
                with self.subTest(case=case):
                    fx = h.fixture(case)
                    r = self.get(gw, h.task_path(fx.task))
                    self.assertEqual(r.status, 200, r.body)
                    self.assertTrue(r.headers["content-type"].startswith("application/json"))
                    self.assertEqual(r.json(), fx.expected)

    def test_id_pasted_raw_like_the_python_sdk_is_served(self):
        fx = h.fixture(SUCCEEDED_CASE)
        with self.gateway() as gw:
            r = self.get(gw, h.task_path(fx.task, encode=False))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), fx.expected)

    def test_encoded_slash_is_part_of_one_segment(self):
        fx = h.fixture(SUCCEEDED_CASE)
        self.mock.set_task("a/b", {"status": 200, "body": fx.expected})
        with self.gateway() as gw:
            r = self.get(gw, "/api/snapservice/tasks/a%2Fb")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json(), fx.expected)
        self.assertEqual(self.mock.stats()["tasks"], {"a/b": 1})

    def test_id_of_256_bytes_is_valid(self):
        with self.gateway() as gw:
            r = self.get(gw, h.task_path("a" * 256))
        self.assertError(r, 404, "NOT_FOUND")
        self.assertEqual(self.mock.stats()["tasks"], {"a" * 256: 1})

    def test_get_with_small_json_body_is_served_and_keeps_the_connection(self):
        fx = h.fixture(SUCCEEDED_CASE)
        with self.gateway() as gw:
            conn = gw.connection()
            try:
                hdrs = dict(self.auth(), **{"Content-Type": "application/json"})
                r1 = gw.http("GET", h.task_path(fx.task), hdrs, body=b"{}", conn=conn)
                r2 = gw.http("GET", h.task_path(fx.task), hdrs, body=b"{}", conn=conn)
            finally:
                conn.close()
        self.assertEqual((r1.status, r2.status), (200, 200))
        self.assertEqual(r1.json(), fx.expected)
        self.assertEqual(r2.body, r1.body)

    def test_get_with_a_64_kib_body_is_served(self):
        fx = h.fixture(SUCCEEDED_CASE)
        with self.gateway() as gw:
            r = self.get(gw, h.task_path(fx.task), body=b" " * 65536)
        self.assertEqual(r.status, 200, r.body[:300])


@h.requires_gateway
class TestBadRequest(Base):
    MALFORMED = ["%00", "a%00b", "a%01b", "a%0Ab", "a%0Db", "%09", "a%20b", "a%7F",
                 "a" * 257, "%41" * 257, "a%zz", "a%2", "a%"]

    def test_malformed_ids_are_400_invalid_argument(self):
        with self.gateway() as gw:
            for seg in self.MALFORMED:
                with self.subTest(id=seg[:40]):
                    r = self.get(gw, "/api/snapservice/tasks/" + seg)
                    self.assertError(r, 400, "INVALID_ARGUMENT")
        self.assertNoUpstreamFetch()

    def test_raw_space_in_the_path_is_400(self):
        with self.gateway() as gw:
            r = gw.raw(self.head_lines("/api/snapservice/tasks/a b"))
        self.assertEqual(r.status, 400, r.raw[:300])
        self.assertOptionalErrorBody(r, "INVALID_ARGUMENT")
        self.assertNoUpstreamFetch()

    def test_http_versions_other_than_1_x_are_400_and_answers_say_1_1(self):
        """libevhtp echoed the request's version, one character per number: "HTTP/10.1" got
        the status line "HTTP/:.1 404" (found by fuzz_http_front). A later 1.x minor is
        served as HTTP/1.1; another major version is 400."""
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        auth = self.auth()["Authorization"]
        cases = [("HTTP/1.2", b"HTTP/1.1 200 "), ("HTTP/1.10", b"HTTP/1.1 200 "),
                 ("HTTP/1.0", b"HTTP/1.0 200 "), ("HTTP/2.0", b"HTTP/1.1 400 "),
                 ("HTTP/10.1", b"HTTP/1.1 400 "), ("HTTP/0.1", b"HTTP/1.1 400 ")]
        with self.gateway() as gw:
            for version, status_line in cases:
                with self.subTest(version=version):
                    head = ("GET %s %s\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
                            "Connection: close\r\n\r\n" % (path, version, auth))
                    r = gw.raw(head.encode("latin-1"))
                    self.assertTrue(r.raw.startswith(status_line), r.raw[:300])
                    if r.status == 400:
                        self.assertErrorBody(r.body, "INVALID_ARGUMENT")

    def test_an_http_0_9_request_line_is_400_never_a_0_9_status_line(self):
        """"GET /path" and a bare LF is an HTTP/0.9 line: libevhtp skips the hook that checks the
        version and wrote "HTTP/0.9 100 Continue" for an Expect (found by fuzz_http_front)."""
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        auth = self.auth()["Authorization"]
        with self.gateway() as gw:
            for extra in ("", "Expect: 100-continue\r\nContent-Length: 2\r\n"):
                with self.subTest(extra=extra):
                    head = ("GET %s\nHost: 127.0.0.1\r\nAuthorization: %s\r\n%s\r\n{}"
                            % (path, auth, extra if extra else ""))
                    r = gw.raw(head.encode("latin-1"))
                    self.assertTrue(r.raw.startswith(b"HTTP/1.1 400 "), r.raw[:300])
                    self.assertNotIn(b"HTTP/0.9", r.raw)
                    self.assertErrorBody(r.body, "INVALID_ARGUMENT")
        self.assertNoUpstreamFetch()

    def test_content_length_that_is_no_number_is_400(self):
        """libevhtp reports a Content-Length it cannot read as a number as "too big", which
        was answered 431 (headers too large; found by fuzz_http_front)."""
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            for value in ("1x", "abc", "9" * 25, "2?"):
                with self.subTest(value=value):
                    r = gw.raw(self.head_lines(path, ["Content-Length: " + value]))
                    self.assertEqual(r.status, 400, r.raw[:300])
                    self.assertErrorBody(r.body, "INVALID_ARGUMENT")
        self.assertNoUpstreamFetch()

    def test_uri_over_8_kib_is_414(self):
        with self.gateway() as gw:
            r = gw.raw(self.head_lines("/api/snapservice/tasks/" + "a" * 9000))
        self.assertEqual(r.status, 414, r.raw[:300])
        self.assertErrorBody(r.body, "INVALID_ARGUMENT")
        self.assertNoUpstreamFetch()


@h.requires_gateway
class TestUnauthenticated(Base):
    def assert401(self, r):
        self.assertError(r, 401, "UNAUTHENTICATED")
        self.assertRegex(r.headers.get("www-authenticate", ""), REALM_RE)

    def test_missing_credentials_are_401(self):
        with self.gateway() as gw:
            self.assert401(self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task), user=None))
        self.assertNoUpstreamFetch()

    def test_wrong_password_is_401(self):
        with self.gateway() as gw:
            self.assert401(self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task),
                                    headers={"Authorization": h.basic("alice", "nope")}))
        self.assertNoUpstreamFetch()

    def test_unknown_user_is_401(self):
        with self.gateway() as gw:
            self.assert401(self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task),
                                    headers={"Authorization": h.basic("mallory", "x")}))
        self.assertNoUpstreamFetch()

    def test_malformed_credentials_are_401(self):
        values = ["Basic", "Basic ", "Basic !!!not-base64", "Basic " + "bm9jb2xvbg==",
                  "Basic YWxpY2U6", "Bearer abc", "Digest username=alice", "alice:wonderland-7"]
        with self.gateway() as gw:
            for v in values:
                with self.subTest(authorization=v):
                    self.assert401(self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task),
                                            headers={"Authorization": v}))
        self.assertNoUpstreamFetch()

    def test_401_bodies_do_not_tell_which_credential_was_wrong(self):
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            bodies = {json.dumps(self.get(gw, path, headers=hd, user=u).json(), sort_keys=True)
                      for u, hd in ((None, {}), ("alice", {"Authorization": h.basic("alice", "x")}),
                                    ("alice", {"Authorization": h.basic("nobody", "x")}),
                                    ("alice", {"Authorization": "Basic !!!"}))}
        self.assertEqual(len(bodies), 1, bodies)

    def test_realm_comes_from_the_config(self):
        with self.gateway({"auth": {"realm": "other realm"}}) as gw:
            r = self.get(gw, h.task_path("x"), user=None)
        self.assertEqual(r.status, 401)
        self.assertRegex(r.headers.get("www-authenticate", ""), r'^Basic realm="other realm"')


@h.requires_gateway
class TestUnauthorized(Base):
    def test_user_outside_auth_allow_is_403(self):
        with self.gateway({"auth": {"allow": ["bob"]}}) as gw:
            r = self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task), user="alice")
        self.assertError(r, 403, "UNAUTHORIZED")
        self.assertNoUpstreamFetch()

    def test_user_inside_auth_allow_is_served(self):
        with self.gateway({"auth": {"allow": ["bob"]}}) as gw:
            r = self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task), user="bob")
        self.assertEqual(r.status, 200, r.body)


@h.requires_gateway
class TestNotFound(Base):
    def test_unknown_task_is_404(self):
        with self.gateway() as gw:
            self.assertError(self.get(gw, h.task_path("no-such-task")), 404, "NOT_FOUND")
        self.assertEqual(self.mock.stats()["tasks"], {"no-such-task": 1})

    def test_upstream_not_found_fixture_is_404(self):
        fx = h.fixture("cis-not-found")
        with self.gateway() as gw:
            self.assertError(self.get(gw, h.task_path(fx.task)), 404, "NOT_FOUND")

    def test_other_paths_are_404(self):
        paths = ["/", "/api/other", "/api/", "/api/snapservice/tasks",
                 "/api/snapservice/tasks/", "/api/snapservice/tasks/a/b",
                 "/api/snapservice/tasks/a/", "/api/snapservice/taskss/a",
                 "/api/cis/tasks/a", "/healthz", "/readyz", "/metrics"]
        with self.gateway() as gw:
            for p in paths:
                with self.subTest(path=p):
                    self.assertError(self.get(gw, p), 404, "NOT_FOUND")
        self.assertNoUpstreamFetch()


@h.requires_gateway
class TestMethodNotAllowed(Base):
    def test_other_methods_are_405_with_allow(self):
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
                with self.subTest(method=method):
                    r = self.get(gw, path, method=method)
                    self.assertError(r, 405, "INVALID_REQUEST")
                    self.assertEqual(r.headers.get("allow"), "GET, HEAD")
        self.assertNoUpstreamFetch()

    def test_each_route_names_its_own_methods(self):
        # JSON-RPC is POST only; the sessions path takes POST, GET and DELETE
        cases = [("GET", "/api", "POST"), ("PUT", "/snapservice", "POST"),
                 ("HEAD", "/api/snapservice/sessions", "POST, GET, DELETE"),
                 ("PATCH", "/api/snapservice/sessions", "POST, GET, DELETE")]
        with self.gateway() as gw:
            for method, path, allow in cases:
                with self.subTest(method=method, path=path):
                    r = self.get(gw, path, method=method)
                    self.assertEqual(r.status, 405)
                    self.assertEqual(r.headers.get("allow"), allow)
                    if method != "HEAD":
                        self.assertError(r, 405, "INVALID_REQUEST")
        self.assertNoUpstreamFetch()


@h.requires_gateway
class TestRequestTimeout(Base):
    def test_partial_head_then_silence_is_408_and_closed(self):
        with self.gateway() as gw:
            t0 = time.monotonic()
            r = gw.raw(b"GET /api/snapservice/tasks/x HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                       read_timeout=16, until_close=True)
            elapsed = time.monotonic() - t0
        self.assertEqual(r.status, 408, r.raw[:300])
        self.assertTrue(r.closed, "the connection stays open after 408")
        self.assertGreaterEqual(elapsed, 5.0)
        self.assertOptionalErrorBody(r)


@h.requires_gateway
class TestTooLarge(Base):
    def test_more_than_100_headers_is_431(self):
        extra = ["X-Filler-%d: v" % i for i in range(98)]  # + Host, Authorization, Connection
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            r = gw.raw(self.head_lines(path, extra))
        self.assertEqual(r.status, 431, r.raw[:300])
        self.assertErrorBody(r.body, "INVALID_ARGUMENT")
        self.assertNoUpstreamFetch()

    def test_exactly_100_headers_is_served(self):
        extra = ["X-Filler-%d: v" % i for i in range(97)]
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            r = gw.raw(self.head_lines(path, extra))
        self.assertEqual(r.status, 200, r.raw[:300])

    def test_over_32_kib_of_headers_is_431(self):
        extra = ["X-Big-%d: %s" % (i, "v" * 7000) for i in range(5)]  # each under 8 KiB
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            r = gw.raw(self.head_lines(path, extra))
        self.assertEqual(r.status, 431, r.raw[:300])
        self.assertErrorBody(r.body, "INVALID_ARGUMENT")
        self.assertNoUpstreamFetch()

    def test_24_kib_of_headers_is_served(self):
        extra = ["X-Big-%d: %s" % (i, "v" * 6000) for i in range(4)]
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            r = gw.raw(self.head_lines(path, extra))
        self.assertEqual(r.status, 200, r.raw[:300])

    def test_get_body_over_64_kib_is_413(self):
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        size = 65537
        head = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (path, self.auth()["Authorization"], size)).encode()
        with self.gateway() as gw:
            with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
                s.sendall(head)

                def send_body():  # the gateway may answer before it reads the body
                    try:
                        s.sendall(b" " * size)
                    except OSError:
                        pass
                t = threading.Thread(target=send_body, daemon=True)
                t.start()
                r = h.read_raw_response(s, read_timeout=10)
                t.join(10)
        self.assertEqual(r.status, 413, r.raw[:300])
        self.assertOptionalErrorBody(r)
        self.assertNoUpstreamFetch()


@h.requires_gateway
class TestUpstreamFailures(Base):
    def assertRefetched(self, gw, task, status, error_type):
        r1 = self.get(gw, h.task_path(task))
        self.assertError(r1, status, error_type)
        n1 = self.mock.stats()["tasks"].get(task, 0)
        self.assertGreaterEqual(n1, 1)
        r2 = self.get(gw, h.task_path(task))
        self.assertError(r2, status, error_type)
        self.assertGreater(self.mock.stats()["tasks"][task], n1, "the error was cached")

    def test_garbage_body_is_500_error_and_not_cached(self):
        with self.gateway() as gw:
            self.assertRefetched(gw, h.fixture("cis-garbage").task, 500, "ERROR")

    def test_union_violation_is_500_error_and_not_cached(self):
        with self.gateway() as gw:
            self.assertRefetched(gw, h.fixture("cis-union-violation").task, 500, "ERROR")

    def test_upstream_403_is_403_unauthorized(self):
        with self.gateway() as gw:
            r = self.get(gw, h.task_path(h.fixture("cis-unauthorized").task))
        self.assertError(r, 403, "UNAUTHORIZED")

    def test_upstream_503_is_503(self):
        self.mock.set_task("t", {"status": 503})
        with self.gateway() as gw:
            self.assertError(self.get(gw, h.task_path("t")), 503, "SERVICE_UNAVAILABLE")

    def test_upstream_502_and_504_are_503(self):
        with self.gateway() as gw:
            for status in (502, 504):
                with self.subTest(upstream=status):
                    tid = "t%d" % status
                    self.mock.set_task(tid, {"status": status, "raw": "<html>bad gateway</html>"})
                    self.assertError(self.get(gw, h.task_path(tid)), 503, "SERVICE_UNAVAILABLE")

    def test_backend_down_is_503(self):
        with self.gateway(backend={"url": "http://127.0.0.1:%d" % h.free_port()}) as gw:
            r = self.get(gw, h.task_path("t"))
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")

    def test_backend_slower_than_the_request_timeout_is_503(self):
        self.mock.set_task("slow", {"status": 200, "body": h.fixture(SUCCEEDED_CASE).expected,
                                    "delay_ms": 2500})
        with self.gateway(backend={"timeouts": {"request": "500ms"}}) as gw:
            t0 = time.monotonic()
            r = self.get(gw, h.task_path("slow"), timeout=20)
            elapsed = time.monotonic() - t0
        self.assertError(r, 503, "SERVICE_UNAVAILABLE")
        self.assertLess(elapsed, 10.0)

    def test_connection_closed_without_answer_is_503(self):
        self.mock.set_task("t", {"action": "close"})
        with self.gateway() as gw:
            self.assertError(self.get(gw, h.task_path("t")), 503, "SERVICE_UNAVAILABLE")


@h.requires_gateway
class TestAnswerHeaders(Base):
    def test_200_has_request_id_cache_etag_and_cache_control(self):
        with self.gateway() as gw:
            r = self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task))
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers.get("x-request-id"))
        self.assertEqual(r.headers.get("x-cache"), "MISS")
        self.assertRegex(r.headers.get("etag", ""), ETAG_RE)
        self.assertRegex(r.headers.get("cache-control", ""), CACHE_CONTROL_RE)

    def test_request_id_is_echoed(self):
        with self.gateway() as gw:
            r = self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task),
                         headers={"X-Request-Id": "poll-42-abc"})
        self.assertEqual(r.headers.get("x-request-id"), "poll-42-abc")

    def test_request_ids_are_new_for_each_request(self):
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            ids = [self.get(gw, path).headers.get("x-request-id") for _ in range(3)]
        self.assertEqual(len(set(ids)), 3)
        self.assertNotIn(None, ids)
        # The documented shape: process prefix, worker, then a counter in hex
        # that goes up by one per request of that worker.
        parts = [re.fullmatch(r"([0-9a-f]{12})-(\d+)-([0-9a-f]+)", i) for i in ids]
        self.assertNotIn(None, parts, ids)
        self.assertEqual(len({(p.group(1), p.group(2)) for p in parts}), 1, ids)
        self.assertEqual([int(p.group(3), 16) - int(parts[0].group(3), 16) for p in parts],
                         [0, 1, 2], ids)

    def test_error_answers_carry_a_request_id(self):
        with self.gateway() as gw:
            for r in (self.get(gw, h.task_path("no-such-task")),
                      self.get(gw, h.task_path("x"), user=None),
                      self.get(gw, "/api/other", headers={"X-Request-Id": "rid-7"})):
                with self.subTest(status=r.status):
                    self.assertTrue(r.headers.get("x-request-id"))
        self.assertEqual(r.headers.get("x-request-id"), "rid-7")

    def test_limit_answers_echo_the_request_id(self):
        """The 431, 413 and 400 answers given before routing carry the client's id too (they
        carried a new one; found by fuzz_http_front)."""
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        cases = [
            (431, "rid-431-count", ["X-Filler-%d: v" % i for i in range(97)]),
            (431, "rid-431-token", ["X-Big: " + "v" * 9000]),
            (413, "rid-413", ["Content-Length: 70000"]),
            (400, "rid-400", ["X-Bad: a\nb"]),
        ]
        with self.gateway() as gw:
            for status, rid, extra in cases:
                with self.subTest(rid=rid):
                    r = gw.raw(self.head_lines(path, ["X-Request-Id: " + rid] + extra))
                    self.assertEqual(r.status, status, r.raw[:300])
                    self.assertEqual(r.headers.get("x-request-id"), rid)
            # an id that may not be echoed still gets a new one
            r = gw.raw(self.head_lines(path, ['X-Request-Id: has"quote'] + cases[0][2]))
            self.assertEqual(r.status, 431, r.raw[:300])
            self.assertTrue(r.headers.get("x-request-id"))
            self.assertNotEqual(r.headers.get("x-request-id"), 'has"quote')
        self.assertNoUpstreamFetch()

    def test_if_none_match_with_the_etag_is_304_without_body(self):
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            etag = self.get(gw, path).headers["etag"]
            r = self.get(gw, path, headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.headers.get("etag"), etag)

    def test_if_none_match_with_another_etag_is_200(self):
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            r = self.get(gw, path, headers={"If-None-Match": '"not-the-etag"'})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body)

    def test_etag_follows_the_body(self):
        with self.gateway() as gw:
            a1 = self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task))
            a2 = self.get(gw, h.task_path(h.fixture(SUCCEEDED_CASE).task))
            b = self.get(gw, h.task_path(h.fixture("cis-failed").task))
        self.assertEqual(a1.body, a2.body)
        self.assertEqual(a1.headers["etag"], a2.headers["etag"])
        self.assertNotEqual(a1.headers["etag"], b.headers["etag"])

    def test_head_has_the_get_headers_and_no_body(self):
        path = h.task_path(h.fixture(SUCCEEDED_CASE).task)
        with self.gateway() as gw:
            g = self.get(gw, path)
            r = gw.raw(self.head_lines(path).replace(b"GET ", b"HEAD ", 1), head=True,
                       until_close=True, read_timeout=3)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body + r.trailing, b"", "HEAD sent a body")
        for name in ("etag", "content-type"):
            self.assertEqual(r.headers.get(name), g.headers.get(name), name)
        # max-age counts down: the HEAD may land one second later than the GET.
        mg = CACHE_CONTROL_RE.match(g.headers.get("cache-control", ""))
        mh = CACHE_CONTROL_RE.match(r.headers.get("cache-control", ""))
        self.assertTrue(mg and mh, (g.headers.get("cache-control"), r.headers.get("cache-control")))
        self.assertIn(int(mg.group(1)) - int(mh.group(1)), (0, 1))
        self.assertIn(r.headers.get("x-cache"), ("HIT", "MISS"))
        self.assertTrue(r.headers.get("x-request-id"))
        if "content-length" in r.headers:
            self.assertEqual(int(r.headers["content-length"]), len(g.body))


if __name__ == "__main__":
    h.unittest.main()
