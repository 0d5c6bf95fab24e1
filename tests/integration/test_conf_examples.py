"""Every example config (conf/*.example.yaml and the snapgate.yaml of each deploy/k8s
overlay) passes `snapgate -t`. The files they name live on the target machine, so each
*_file is pointed at a stand-in made here (a users file, a password, a self-signed CA
certificate), and a Redis host name (a Kubernetes Service) at 127.0.0.1, since -t resolves
it. Nothing else is changed.

Several backends and `routing` are not accepted yet (the multi-backend examples):
those files must fail only with "not supported yet" problems until they are, and then
pass like the others."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import sg_harness as h

EXAMPLES = sorted(glob.glob(os.path.join(h.REPO, "conf", "*.example.yaml")) +
                  glob.glob(os.path.join(h.REPO, "deploy", "k8s", "*", "snapgate.yaml")))
FILE_KEY = re.compile(r"^(\s*(?:-\s+)?(\w+_file):\s*)(\"?)(/[^\s\"#]+)\3", re.M)
REDIS_URL = re.compile(r"(url:\s*\"?redis://(?::[^@]*@)?)([A-Za-z][\w.-]*)(:\d+)")


@h.requires_gateway
class TestConfExamples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-conf-ex-")
        cls.users = h.make_users_file({"backup-operator": "example-pw"}, cls.dir)
        cls.password = h.write_file(cls.dir, "password", "example-secret\n")
        cls.ca = os.path.join(cls.dir, "ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=example CA", "-keyout", os.path.join(cls.dir, "ca.key"),
                        "-out", cls.ca], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def stand_in(self, key):
        return {"users_file": self.users, "password_file": self.password,
                "ca_file": self.ca}[key]

    def localized(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text, n = FILE_KEY.subn(lambda m: m.group(1) + '"%s"' % self.stand_in(m.group(2)), text)
        self.assertGreater(n, 0, "%s names no file" % path)
        text = REDIS_URL.sub(lambda m: m.group(1) + "127.0.0.1" + m.group(3), text)
        out = os.path.join(self.dir, os.path.basename(os.path.dirname(path)) + "-" +
                           os.path.basename(path))
        return h.write_file(self.dir, os.path.basename(out), text)

    def test_examples_exist(self):
        names = {os.path.relpath(p, h.REPO) for p in EXAMPLES}
        for want in ("conf/snapgate.example.yaml", "conf/sidecar.example.yaml",
                     "conf/tier.example.yaml", "conf/host.example.yaml",
                     "conf/multi-backend.example.yaml", "deploy/k8s/sidecar/snapgate.yaml",
                     "deploy/k8s/tier/snapgate.yaml", "deploy/k8s/multi-backend/snapgate.yaml"):
            self.assertIn(want, names)

    def test_every_example_passes_check_config(self):
        for path in EXAMPLES:
            with self.subTest(example=os.path.relpath(path, h.REPO)):
                p = h.run_snapgate(["-t", "-c", self.localized(path)])
                out = p.stdout + p.stderr
                self.assertEqual(p.returncode, 0, out)
