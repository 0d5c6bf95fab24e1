"""Self-tests of sg_harness (no gateway needed: a stand-in program plays snapgate)."""

import os
import shutil
import socket
import sys
import tempfile
import textwrap
import threading
import time
import unittest
from unittest import mock as umock

import mock_vcenter
import sg_harness as h

# A stand-in for snapgate: reads `-c FILE`, serves /healthz on admin_listen and a JSON line
# per request on listen; "# crash-report" in the config makes it print a sanitizer line on
# stderr at exit, "# exit-code N" sets its exit status, "# never-healthy" keeps /healthz 503.
FAKE_GATEWAY = r'''
import json, re, signal, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
text = open(sys.argv[sys.argv.index("-c") + 1]).read()
def addr(key):
    host, _, port = re.search(r'^%s:\s*"([^"]+)"' % key, text, re.M).group(1).rpartition(":")
    return host, int(port)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        code = 503 if "# never-healthy" in text else 200
        if self.server.server_address[1] == addr("listen")[1]:  # logged before answering,
            print(json.dumps({"path": self.path, "status": code}), flush=True)  # no race
        self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
done = threading.Event()  # before /healthz answers: the harness may SIGTERM at once
signal.signal(signal.SIGTERM, lambda *_: done.set())
servers = [ThreadingHTTPServer(addr(k), H) for k in ("listen", "admin_listen")]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
done.wait()
if "# crash-report" in text:
    sys.stderr.write("gateway/x.c:1:2: runtime error: signed integer overflow\n")
m = re.search(r"# exit-code (\d+)", text)
sys.exit(int(m.group(1)) if m else 0)
'''


class TestYaml(unittest.TestCase):
    def test_nested_maps_lists_and_scalars(self):
        doc = {"listen": "127.0.0.1:1", "workers": 2, "flag": True, "none": None,
               "auth": {"allow": [], "providers": [{"type": "basic", "users_file": "/u"}]},
               "list": ["a", 1], "empty": {}, "odd key": "x\"y"}
        self.assertEqual(h.to_yaml(doc), textwrap.dedent('''\
            listen: "127.0.0.1:1"
            workers: 2
            flag: true
            none: null
            auth:
              allow: []
              providers:
                - type: "basic"
                  users_file: "/u"
            list:
              - "a"
              - 1
            empty: {}
            "odd key": "x\\"y"
            '''))

    def test_list_of_maps_with_nested_maps(self):
        doc = {"backends": [{"name": "vc1", "timeouts": {"connect": "2s"}}, {"name": "vc2"}]}
        self.assertEqual(h.to_yaml(doc), textwrap.dedent('''\
            backends:
              - name: "vc1"
                timeouts:
                  connect: "2s"
              - name: "vc2"
            '''))

    def test_merge_is_deep_and_none_deletes(self):
        base = {"a": {"b": 1, "c": 2}, "d": [1]}
        self.assertEqual(h.merge(base, {"a": {"c": None, "e": 3}, "d": [2]}),
                         {"a": {"b": 1, "e": 3}, "d": [2]})
        self.assertEqual(base, {"a": {"b": 1, "c": 2}, "d": [1]})


class TestFilesAndClients(unittest.TestCase):
    def test_users_file_holds_sha512crypt_hashes_that_verify(self):
        d = tempfile.mkdtemp()
        try:
            path = h.make_users_file({"alice": "pw-1", "bob": "pw-2"}, d)
            with open(path) as f:
                lines = f.read().splitlines()
            self.assertEqual([ln.split(":")[0] for ln in lines], ["alice", "bob"])
            self.assertEqual(oct(os.stat(path).st_mode & 0o777), "0o600")
            for ln, pw in zip(lines, ("pw-1", "pw-2")):
                hashed = ln.split(":", 1)[1]
                self.assertTrue(hashed.startswith("$6$"))
                out = h.subprocess.run(["openssl", "passwd", "-6", "-salt",
                                        hashed.split("$")[2], "-stdin"], input=pw.encode(),
                                       stdout=h.subprocess.PIPE, check=True)
                self.assertEqual(out.stdout.decode().strip(), hashed)
        finally:
            shutil.rmtree(d)

    def test_basic_header(self):
        self.assertEqual(h.basic("svc", "p:w"), "Basic c3ZjOnA6dw==")

    def test_raw_request_parses_status_headers_body_and_close(self):
        with mock_vcenter.MockVCenter() as m:
            r = h.raw_request(m.port, b"GET /api/other HTTP/1.1\r\nHost: x\r\n"
                                      b"Connection: close\r\n\r\n", until_close=True)
            self.assertEqual(r.status, 404)
            self.assertEqual(int(r.headers["content-length"]), len(r.body))
            self.assertEqual(mock_vcenter.json.loads(r.body)["error_type"], "NOT_FOUND")
            self.assertTrue(r.closed)

    def test_raw_request_sees_an_open_connection_as_not_closed(self):
        with mock_vcenter.MockVCenter() as m:
            r = h.raw_request(m.port, b"GET /api/other HTTP/1.1\r\nHost: x\r\n\r\n",
                              read_timeout=0.5, until_close=True)
            self.assertEqual(r.status, 404)
            self.assertFalse(r.closed)

    def test_raw_request_reads_a_chunked_body(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)

        def serve():
            c, _ = srv.accept()
            c.recv(1000)
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            c.close()
        t = threading.Thread(target=serve)
        t.start()
        try:
            r = h.raw_request(srv.getsockname()[1], b"GET / HTTP/1.1\r\n\r\n")
            self.assertEqual((r.status, r.body), (200, b"abcde"))
        finally:
            t.join()
            srv.close()

    def test_parallel_starts_together_and_keeps_order(self):
        starts = [0.0] * 8

        def fn(i):
            starts[i] = time.monotonic()
            time.sleep(0.05)
            return i * i
        self.assertEqual(h.parallel(8, fn), [i * i for i in range(8)])
        self.assertLess(max(starts) - min(starts), 0.5)

    def test_parallel_reraises(self):
        def fn(i):
            if i == 3:
                raise KeyError("boom")
        with self.assertRaises(KeyError):
            h.parallel(5, fn)


class TestGatewayLifecycle(unittest.TestCase):
    """Gateway() against the stand-in program."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.fake = os.path.join(cls.tmp, "fake-snapgate")
        with open(cls.fake, "w") as f:
            f.write("#!%s\n%s" % (sys.executable, FAKE_GATEWAY))
        os.chmod(cls.fake, 0o755)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def setUp(self):
        patcher = umock.patch.dict(os.environ, {"SNAPGATE_BIN": self.fake})
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_starts_serves_and_collects_stdout(self):
        with h.Gateway({"workers": 1}) as gw:
            self.assertNotEqual(gw.port, gw.admin_port)
            self.assertEqual(gw.http("GET", "/x").status, 200)
            with open(gw.config_path) as f:
                self.assertIn('listen: "127.0.0.1:%d"' % gw.port, f.read())
        self.assertEqual(gw.access_log(), [{"path": "/x", "status": 200}])
        self.assertEqual(gw.returncode, 0)

    def test_yaml_text_placeholders(self):
        with h.Gateway('listen: "@LISTEN@"\nadmin_listen: "@ADMIN_LISTEN@"\n') as gw:
            self.assertEqual(gw.admin("GET", "/healthz").status, 200)

    def test_yaml_text_without_listen_keys_gets_them_appended(self):
        with h.Gateway("workers: 1\n") as gw:
            self.assertEqual(gw.http("GET", "/").status, 200)

    def test_sanitizer_report_fails(self):
        gw = h.Gateway("# crash-report\n").start()
        with self.assertRaisesRegex(AssertionError, "sanitizer report"):
            gw.stop()

    def test_bad_exit_code_fails(self):
        gw = h.Gateway("# exit-code 3\n").start()
        with self.assertRaisesRegex(AssertionError, "exit status 3"):
            gw.stop()

    def test_never_healthy_fails_start_with_stderr(self):
        gw = h.Gateway("# never-healthy\n", start_timeout=1)
        with self.assertRaisesRegex(AssertionError, "/healthz not 200"):
            gw.start()

    def test_exit_before_healthy_fails_start(self):
        with self.assertRaisesRegex(AssertionError, "exited with"):
            h.Gateway("listen: 1\n").start()  # the stand-in cannot parse it and dies

    def test_missing_binary_skips_by_hand(self):
        env = {"SNAPGATE_BIN": "/nonexistent/snapgate", "SG_TEST_STRICT": "0"}
        with umock.patch.dict(os.environ, env):
            with self.assertRaises(unittest.SkipTest):
                h.Gateway({}).start()

    def test_missing_binary_fails_under_ctest(self):
        env = {"SNAPGATE_BIN": "/nonexistent/snapgate", "SG_TEST_STRICT": "1"}
        with umock.patch.dict(os.environ, env):
            with self.assertRaisesRegex(AssertionError, "SNAPGATE_BIN is unset"):
                h.Gateway({}).start()

    def test_fixtures_are_in_the_repository(self):
        with umock.patch.dict(os.environ, {"SG_FIXTURES_DIR": ""}):
            d = h.fixtures_dir()
            self.assertEqual(d, os.path.join(h.REPO, "tests", "fixtures", "api"))
            self.assertTrue(h.fixture_cases("cis-"))
        with umock.patch.dict(os.environ, {"SG_VCSIM_DIR": ""}):
            self.assertEqual(h.vcsim_dir(), os.path.join(h.REPO, "tests", "vcsim"))

    def test_missing_fixtures_fail(self):
        with umock.patch.dict(os.environ, {"SG_FIXTURES_DIR": "/nonexistent/fixtures"}):
            with self.assertRaisesRegex(AssertionError, "fixtures folder"):
                h.fixture("cis-running")


if __name__ == "__main__":
    unittest.main()
