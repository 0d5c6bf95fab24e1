"""The exact bytes of a cached answer (issue 14). A plain 200 from the cache is written to the
connection in one head plus the entry's bytes, not through evhtp's reply; every other answer
(304, HEAD, draining) still goes through evhtp. Both must give the same bytes: the status line
of the request's HTTP/1 version, the headers in one order, Content-Length, and the keep-alive
headers evhtp would add (Connection: close for an HTTP/1.1 client that asked to close, keep-alive
for an HTTP/1.0 client that asked to keep it), with the connection then kept or closed to
match."""

import re
import socket

import sg_harness as h


def exchange(port, request, expect_body=True):
    """Sends request on a new connection; returns (head lines, body, closed after)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(request)
        r = h.read_raw_response(s, head=not expect_body)
        head = r.raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        s.settimeout(0.3)
        try:
            closed = s.recv(1) == b""
        except socket.timeout:
            closed = False
        return [re.sub(r"(max-age=|^Age: )\d+$", r"\1N", ln) for ln in head], r.body, closed
    finally:
        s.close()


@h.requires_gateway
class TestHitBytes(h.GatewayTestCase):
    def request(self, fx, first_line, *extra):
        auth = self.auth()["Authorization"]
        lines = [first_line % h.task_path(fx.task), "Host: x", "X-Request-Id: rid-7"]
        lines += list(extra) + ["Authorization: " + auth, "", ""]
        return "\r\n".join(lines).encode()

    def test_every_variant_of_a_cached_answer(self):
        fx = h.fixture("cis-succeeded")
        with self.gateway() as gw:
            miss_head, body, closed = exchange(gw.port, self.request(fx, "GET %s HTTP/1.1"))
            etag = [ln for ln in miss_head if ln.startswith("ETag: ")][0]
            common = ["X-Request-Id: rid-7", "Content-Type: application/json", etag,
                      "Cache-Control: private, max-age=N"]
            length = "Content-Length: %d" % len(body)
            self.assertEqual(miss_head, ["HTTP/1.1 200 OK"] + common + ["X-Cache: MISS", length])
            self.assertFalse(closed)
            hit = common + ["X-Cache: HIT", "Age: N", length]

            cases = [
                ("GET %s HTTP/1.1", (), ["HTTP/1.1 200 OK"] + hit, False),
                ("GET %s HTTP/1.1", ("Connection: close",),
                 ["HTTP/1.1 200 OK"] + hit + ["Connection: close"], True),
                ("GET %s HTTP/1.0", (), ["HTTP/1.0 200 OK"] + hit, True),
                ("GET %s HTTP/1.0", ("Connection: keep-alive",),
                 ["HTTP/1.0 200 OK"] + hit + ["Connection: keep-alive"], False),
                # A later HTTP/1 minor is answered as HTTP/1.1.
                ("GET %s HTTP/1.3", (), ["HTTP/1.1 200 OK"] + hit, False),
            ]
            for first, extra, want_head, want_closed in cases:
                with self.subTest(first=first, extra=extra):
                    got_head, got_body, got_closed = exchange(
                        gw.port, self.request(fx, first, *extra))
                    self.assertEqual(got_head, want_head)
                    self.assertEqual(got_body, body)
                    self.assertEqual(got_closed, want_closed)

            # Through evhtp: the same headers in the same order.
            head, _, _ = exchange(gw.port, self.request(fx, "HEAD %s HTTP/1.1"), False)
            self.assertEqual(head, ["HTTP/1.1 200 OK"] + hit)
            head, got, _ = exchange(
                gw.port, self.request(fx, "GET %s HTTP/1.1", "If-None-Match: " + etag[6:]), False)
            self.assertEqual(head, ["HTTP/1.1 304 Not Modified"] + hit)
            self.assertEqual(got, b"")
        self.assertEqual(self.mock.stats()["tasks"].get(fx.task, 0), 1)
