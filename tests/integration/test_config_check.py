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

    # ---- every file the config names is loaded by -t as at start (issue 10, item 4) ----------
    def bad_ca_files(self):
        """{what: (path, expected reason)} for CA files a backend cannot be built with."""
        garbage = h.write_file(self.dir, "garbage.pem", "this is not a certificate\n")
        empty = h.write_file(self.dir, "empty.pem", "")
        directory = os.path.join(self.dir, "ca.d")
        os.mkdir(directory)
        return {
            "non-PEM": (garbage, re.escape(garbage) + " holds no PEM certificate"),
            "empty": (empty, re.escape(empty) + " holds no PEM certificate"),
            "directory": (directory, '"%s" is not a regular file' % re.escape(directory)),
        }

    def with_ca(self, ca_file):
        """A valid config whose https backend's tls.ca_file is ca_file."""
        cfg = self.config({"listen": "127.0.0.1:%d" % h.free_port(),
                           "admin_listen": "127.0.0.1:%d" % h.free_port()},
                          backend={"url": "https://127.0.0.1:%d" % h.free_port(),
                                   "tls": {"ca_file": ca_file}})
        return self.write(h.to_yaml(cfg))

    def test_ca_file_without_a_certificate_fails_check_and_start(self):
        for what, (ca_file, reason) in self.bad_ca_files().items():
            path = self.with_ca(ca_file)
            want = r"(?m)^%s:\d+: backends\[0\]\.tls\.ca_file: %s$" % (re.escape(path), reason)
            for args in (["-t", "-c", path], ["-c", path]):
                with self.subTest(ca=what, args=args[0]):
                    p = h.run_snapgate(args)
                    self.assertEqual(p.returncode, 1, self.output(p))
                    self.assertRegex(p.stderr, want)
                    self.assertNotIn("configuration is valid", p.stdout)

    def test_ca_file_with_a_certificate_passes_check(self):
        # The other half of the test above: a real certificate is accepted.
        ca = h.write_file(self.dir, "ca.pem", TEST_CA_PEM)
        p = h.run_snapgate(["-t", "-c", self.with_ca(ca)])
        self.assertEqual(p.returncode, 0, self.output(p))

    def test_reload_to_a_ca_file_without_a_certificate_fails_and_keeps_serving(self):
        empty = h.write_file(self.dir, "empty.pem", "")
        task = h.task_path(h.fixture("cis-succeeded").task)
        gw = self.gateway().start()
        try:
            cfg = self.config({"listen": "127.0.0.1:%d" % gw.port,
                               "admin_listen": "127.0.0.1:%d" % gw.admin_port},
                              backend={"tls": {"ca_file": empty}})
            with open(gw.config_path, "w", encoding="utf-8") as f:
                f.write(h.to_yaml(cfg))
            gw.proc.send_signal(h.signal.SIGHUP)
            self.assertTrue(h.wait_for(lambda: self.reloads(gw) == (0, 1), 3, 0.05),
                            "reload counters %r, expected (0, 1)" % (self.reloads(gw),))
            self.assertIsNone(gw.proc.poll())
            # The running config stays: a miss still reaches the backend and answers.
            r = gw.http("GET", task, self.auth())
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.headers.get("x-cache"), "MISS")
        finally:
            gw.stop()
        self.assertIn("backends[0].tls.ca_file: %s holds no PEM certificate" % empty,
                      gw.stderr_text)

    def reloads(self, gw):
        s = h.parse_metrics(gw.admin("GET", "/metrics").body.decode())
        return (h.metric_value(s, "snapgate_config_reloads_total", result="ok") or 0,
                h.metric_value(s, "snapgate_config_reloads_total", result="failed") or 0)

    # ---- secrets readable by others are warned about, never refused (item 11) -----------------
    def users_text(self):
        with open(self.users_file, encoding="utf-8") as f:
            return f.read()

    def secret_config(self, mode):
        """-t config whose users, tokens and password files all have mode."""
        users = h.write_file(self.dir, "users", self.users_text(), mode)
        tokens = h.write_file(self.dir, "tokens", "alice:sha256:%s\n" % ("ab" * 32), mode)
        password = h.write_file(self.dir, "password", self.SVC_PASSWORD, mode)
        cfg = self.config({"auth": {"providers": [{"type": "basic", "users_file": users},
                                                  {"type": "bearer", "tokens_file": tokens}]}},
                          backend={"credentials": {"password_file": password}})
        return self.write(h.to_yaml(cfg)), {"users_file": users, "tokens_file": tokens,
                                            "password_file": password}

    def test_world_readable_secrets_are_warned_about(self):
        path, files = self.secret_config(0o644)
        p = h.run_snapgate(["-t", "-c", path])
        self.assertEqual(p.returncode, 0, self.output(p))
        for key, file in files.items():
            with self.subTest(key=key):
                self.assertRegex(p.stderr, r"(?m)^warning: %s:\d+: \S*%s: %s has mode 0644: "
                                 r"anyone can read it; " % (re.escape(path), key, re.escape(file)))

    def test_private_secrets_are_not_warned_about(self):
        path, _ = self.secret_config(0o600)
        p = h.run_snapgate(["-t", "-c", path])
        self.assertEqual(p.returncode, 0, self.output(p))
        self.assertNotIn("warning", p.stderr)

    def test_warning_at_start_is_a_log_line_in_the_configured_format(self):
        users = h.write_file(self.dir, "users", self.users_text(), 0o644)
        gw = self.gateway({"log": {"format": "text"},
                           "auth": {"providers": [{"type": "basic", "users_file": users}]}})
        gw.start()
        self.assertEqual(gw.stop(), 0)
        lines = [l for l in gw.stderr_text.splitlines() if "has mode 0644" in l]
        self.assertEqual(len(lines), 1, gw.stderr_text[-2000:])
        self.assertRegex(lines[0], r" warn \[config\] .*users_file: %s has mode 0644"
                         % re.escape(users))


# A self-signed certificate (snapgate test CA): what a CA file should hold.
TEST_CA_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBjTCCATOgAwIBAgIUAdEMLm0jv6LwXufBZjf4MjtqzxkwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQc25hcGdhdGUgdGVzdCBDQTAgFw0yNjEyMDcxMjMyMTJaGA8y
MTI2MTExMzEyMzIxMlowGzEZMBcGA1UEAwwQc25hcGdhdGUgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABGxW23gweZZZ/4YDs4YmPS6IHaUF9Yr30pdt
hLuubp5U3sWXani5Utna2LRxXbN1s/yq3q1A/4Ti+0Fyjh668OijUzBRMB0GA1Ud
DgQWBBQiWyIP4MtG9aVzZeo8SRqGRWbGWTAfBgNVHSMEGDAWgBQiWyIP4MtG9aVz
Zeo8SRqGRWbGWTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQDO
oBc2aK0sUBpD2sOkR17nmDLp1eA7v/cFa4vYUTfwxQIgQwey2NQ9ua8HqgySNEbH
84ywQlGo5huLLMJeDAsabKk=
-----END CERTIFICATE-----
"""


if __name__ == "__main__":
    h.unittest.main()
