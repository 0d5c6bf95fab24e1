"""deploy/systemd/snapgate.service: `systemd-analyze verify` accepts it with no complaint at
all (it checks that ExecStart's binary exists, so the check runs on a copy of the unit
pointed at the built binary in a temporary directory), `systemd-analyze security` rates its
hardening, and the unit keeps the settings the README promises. The sysusers file is
accepted by systemd-sysusers (dry run into an empty root)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import sg_harness as h

UNIT = os.path.join(h.REPO, "deploy", "systemd", "snapgate.service")
SYSUSERS = os.path.join(h.REPO, "deploy", "systemd", "snapgate.sysusers")


def require(tool):
    if shutil.which(tool) is None:
        raise AssertionError("%s is required (tests/run.sh installs systemd)" % tool)


def unit_settings():
    """{key: [values]} of the [Service] section."""
    settings, section = {}, None
    with open(UNIT, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                k, _, v = line.partition("=")
                settings.setdefault(k, []).append(v)
    return settings


@h.requires_gateway
class TestSystemdUnit(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sg-unit-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def unit_copy(self, binary):
        with open(UNIT, encoding="utf-8") as f:
            text = f.read().replace("/usr/bin/snapgate", binary)
        path = os.path.join(self.dir, "snapgate.service")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def verify(self, path):
        return subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                              universal_newlines=True)

    def test_verify_accepts_the_unit_without_a_warning(self):
        require("systemd-analyze")
        p = self.verify(self.unit_copy(h.gateway_bin()))
        self.assertEqual(p.returncode, 0, p.stdout)
        # verify only warns about unknown keys: any output at all is a finding
        self.assertEqual(p.stdout.strip(), "")

    def test_verify_would_catch_a_broken_unit(self):
        require("systemd-analyze")
        p = self.verify(self.unit_copy(os.path.join(self.dir, "no-such-snapgate")))
        self.assertNotEqual(p.returncode, 0, p.stdout)

    def test_hardening_exposure_is_low(self):
        require("systemd-analyze")
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                            self.unit_copy(h.gateway_bin())],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           universal_newlines=True)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", p.stdout)
        self.assertIsNotNone(m, p.stdout[-2000:])
        self.assertLessEqual(float(m.group(1)), 2.0, p.stdout[-4000:])

    def test_promised_settings(self):
        s = unit_settings()
        self.assertEqual(s["Type"], ["notify"])
        self.assertEqual(s["ExecStart"], ["/usr/bin/snapgate -c /etc/snapgate/snapgate.yaml"])
        self.assertEqual(s["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(s["NoNewPrivileges"], ["yes"])
        self.assertEqual(s["ProtectSystem"], ["strict"])
        self.assertEqual(s["PrivateTmp"], ["yes"])
        self.assertEqual(s["CapabilityBoundingSet"], [""])
        self.assertEqual(s["RestrictAddressFamilies"], ["AF_INET AF_INET6 AF_UNIX"])
        self.assertNotIn("root", s.get("User", ["root"]))
        # the stop timeout covers the drain of conf/host.example.yaml
        with open(os.path.join(h.REPO, "conf", "host.example.yaml"), encoding="utf-8") as f:
            drain = int(re.search(r"drain_timeout:\s*(\d+)s", f.read()).group(1))
        self.assertGreater(int(s["TimeoutStopSec"][0].rstrip("s")), drain)

    def test_sysusers_file_is_accepted(self):
        require("systemd-sysusers")
        root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(root, "etc"))
        p = subprocess.run(["systemd-sysusers", "--root", root, SYSUSERS],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                           universal_newlines=True)
        self.assertEqual(p.returncode, 0, p.stdout)
        with open(os.path.join(root, "etc", "passwd"), encoding="utf-8") as f:
            self.assertRegex(f.read(), r"(?m)^snapgate:x:\d+:\d+:")
