"""Command line and config: -t, -V, -h, bad options, exit codes, environment overrides."""

import os
import re
import socket
import shutil
import tempfile
import time

import sg_harness as h

# A valid config with the problems of the invalid one on known lines (1-based): line 4 has
# an unknown key (log.colour), line 8 a bad duration (cache.ttl.running).
BAD_CONFIG = """\
listen: "127.0.0.1:18080"
log:
  level: "info"
  colour: "blue"
cache:
  ttl:
    pending: "1s"
    running: "soon"
"""


@h.requires_gateway
class TestConfigCheck(h.GatewayTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="sg-conf-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, text, name="snapgate.yaml"):
        return h.write_file(self.dir, name, text)

    def valid_config_text(self, listen=None, admin=None):
        cfg = self.config({"listen": listen or "127.0.0.1:%d" % h.free_port(),
                           "admin_listen": admin or "127.0.0.1:%d" % h.free_port()})
        return h.to_yaml(cfg)

    def output(self, proc):
        return proc.stdout + proc.stderr

    def test_check_of_a_valid_config_exits_0(self):
        path = self.write(self.valid_config_text())
        p = h.run_snapgate(["-t", "-c", path])
        self.assertEqual(p.returncode, 0, self.output(p))
        self.assertNotRegex(self.output(p), re.escape(path) + r":\d+: ")

    def test_check_long_options(self):
        path = self.write(self.valid_config_text())
        p = h.run_snapgate(["--check-config", "--config", path])
        self.assertEqual(p.returncode, 0, self.output(p))

    def test_check_names_both_bad_keys_with_file_and_line(self):
        path = self.write(BAD_CONFIG)
        p = h.run_snapgate(["-t", "-c", path])
        out = self.output(p)
        self.assertEqual(p.returncode, 1, out)
        self.assertRegex(out, r"(?m)^%s:4: log\.colour: \S" % re.escape(path))
        self.assertRegex(out, r"(?m)^%s:8: cache\.ttl\.running: \S" % re.escape(path))

    def test_check_does_not_bind(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            busy = "127.0.0.1:%d" % s.getsockname()[1]
            path = self.write(self.valid_config_text(listen=busy))
            p = h.run_snapgate(["-t", "-c", path])
        self.assertEqual(p.returncode, 0, self.output(p))

    def test_routing_section_is_checked(self):
        good = self.valid_config_text() + h.to_yaml({"routing": {"strategy": "header"}})
        p = h.run_snapgate(["-t", "-c", self.write(good)])
        self.assertEqual(p.returncode, 0, self.output(p))
        bad = self.valid_config_text() + h.to_yaml({"routing": {"strategy": "roundrobin"}})
        p = h.run_snapgate(["-t", "-c", self.write(bad)])
        self.assertEqual(p.returncode, 1, self.output(p))
        self.assertRegex(self.output(p),
                         r":\d+: routing\.strategy: \"roundrobin\" is not one of fanout, header")

    def test_redis_section_is_checked(self):
        good = self.valid_config_text() + h.to_yaml(
            {"redis": {"url": "redis://127.0.0.1:6379/0", "timeout": "250ms", "on_error": "bypass"}})
        p = h.run_snapgate(["-t", "-c", self.write(good)])
        self.assertEqual(p.returncode, 0, self.output(p))
        bad = self.valid_config_text() + h.to_yaml(
            {"redis": {"url": "http://:s3cret@127.0.0.1:6379/0", "on_error": "maybe"}})
        p = h.run_snapgate(["-t", "-c", self.write(bad)])
        self.assertEqual(p.returncode, 1, self.output(p))
        self.assertRegex(self.output(p), r":\d+: redis\.url: ")
        self.assertRegex(self.output(p), r":\d+: redis\.on_error: ")
        self.assertNotIn("s3cret", self.output(p))

    def test_backend_without_credentials_is_rejected(self):
        cfg = self.config(backend={"credentials": None})
        p = h.run_snapgate(["-t", "-c", self.write(h.to_yaml(cfg))])
        self.assertEqual(p.returncode, 1, self.output(p))
        self.assertIn("backends", self.output(p))

    def test_missing_config_file_exits_1(self):
        p = h.run_snapgate(["-t", "-c", os.path.join(self.dir, "nope.yaml")])
        self.assertEqual(p.returncode, 1, self.output(p))

    def test_version_exits_0_and_prints_it(self):
        for flag in ("-V", "--version"):
            with self.subTest(flag=flag):
                p = h.run_snapgate([flag])
                self.assertEqual(p.returncode, 0, self.output(p))
                version = h.project_version()
                if version:
                    self.assertIn(version, self.output(p))
                else:
                    self.assertRegex(self.output(p), r"\d+\.\d+\.\d+")

    def test_help_exits_0(self):
        for flag in ("-h", "--help"):
            with self.subTest(flag=flag):
                p = h.run_snapgate([flag])
                self.assertEqual(p.returncode, 0, self.output(p))
                self.assertIn("--config", self.output(p))

    def test_unknown_option_exits_1(self):
        p = h.run_snapgate(["--no-such-option"])
        self.assertEqual(p.returncode, 1, self.output(p))

    def test_client_port_in_use_exits_2(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            busy = "127.0.0.1:%d" % s.getsockname()[1]
            p = h.run_snapgate(["-c", self.write(self.valid_config_text(listen=busy))])
        self.assertEqual(p.returncode, 2, self.output(p))

    def test_admin_port_in_use_exits_2(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            busy = "127.0.0.1:%d" % s.getsockname()[1]
            p = h.run_snapgate(["-c", self.write(self.valid_config_text(admin=busy))])
        self.assertEqual(p.returncode, 2, self.output(p))

    def test_bad_config_at_start_exits_1(self):
        p = h.run_snapgate(["-c", self.write(BAD_CONFIG)])
        self.assertEqual(p.returncode, 1, self.output(p))

    def test_environment_listen_beats_the_file(self):
        port = h.free_port()
        with self.gateway(env={"SNAPGATE_LISTEN": "127.0.0.1:%d" % port}) as gw:
            r = h.http_request(port, "GET", h.task_path(h.fixture("cis-succeeded").task),
                               self.auth())
            self.assertEqual(r.status, 200, r.body)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", gw.port), timeout=1).close()

    def test_sigterm_exits_0(self):
        gw = self.gateway().start()
        self.assertEqual(gw.stop(), 0)

    def test_sighup_with_a_broken_file_keeps_serving(self):
        with self.gateway() as gw:
            with open(gw.config_path, "a") as f:
                f.write("bogus_key: 1\n")
            gw.proc.send_signal(h.signal.SIGHUP)
            time.sleep(0.5)
            self.assertIsNone(gw.proc.poll())
            r = gw.http("GET", h.task_path(h.fixture("cis-succeeded").task), self.auth())
            self.assertEqual(r.status, 200)


if __name__ == "__main__":
    h.unittest.main()
