"""deploy/docker/Dockerfile, read as instructions (no container engine runs here): a Debian
12 build stage, a bookworm-slim runtime stage that installs deploy/docker/runtime-packages
and nothing else, a numeric non-root user, STOPSIGNAL, an exec-form entrypoint. That the
package list equals what `ldd snapgate` needs is ctest's deploy.runtime_packages."""

import json
import os
import re
import unittest

import sg_harness as h

DOCKERFILE = os.path.join(h.REPO, "deploy", "docker", "Dockerfile")


def instructions():
    """[(INSTRUCTION, argument text)] with continuation lines joined, comments dropped."""
    out, buf = [], ""
    with open(DOCKERFILE, encoding="utf-8") as f:
        for line in f:
            s = line.rstrip("\n")
            if not buf and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if s.lstrip().startswith("#"):
                continue
            if s.endswith("\\"):
                buf += s[:-1] + " "
                continue
            buf += s
            word, _, rest = buf.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            buf = ""
    return out


def stages():
    """{stage name: [(INSTRUCTION, args)]} in order; ARGs before the first FROM under None."""
    result, current = {None: []}, None
    args = {}
    for ins, rest in instructions():
        if ins == "ARG" and current is None:
            k, _, v = rest.partition("=")
            args[k] = v
        if ins == "FROM":
            image, _, name = rest.partition(" AS ")
            for k, v in args.items():
                image = image.replace("${%s}" % k, v)
            current = name.strip()
            result[current] = [("FROM", image.strip())]
            continue
        result[current].append((ins, rest))
    return result


class TestDockerfile(unittest.TestCase):
    def test_two_stages_on_debian_12(self):
        st = stages()
        self.assertEqual([k for k in st if k], ["build", "runtime"])
        self.assertEqual(st["build"][0][1], "debian:bookworm")
        self.assertEqual(st["runtime"][0][1], "debian:bookworm-slim")

    def test_build_stage_checks_the_package_list_against_the_binary(self):
        runs = " ".join(r for i, r in stages()["build"] if i == "RUN")
        self.assertIn("deploy/local/packages.sh", runs)
        self.assertIn("check-runtime-packages.sh /build/snapgate deploy/docker/runtime-packages",
                      runs)

    def test_runtime_installs_only_the_runtime_list(self):
        rt = stages()["runtime"]
        copies = [r for i, r in rt if i == "COPY"]
        self.assertIn("deploy/docker/runtime-packages /tmp/runtime-packages", copies)
        self.assertIn("--from=build /build/snapgate /usr/bin/snapgate", copies)
        runs = [r for i, r in rt if i == "RUN"]
        self.assertEqual(len(runs), 1)
        # the one apt-get install takes its names from the list and nothing else
        installs = re.findall(r"apt-get install[^&|]*", runs[0])
        self.assertEqual(len(installs), 1, runs[0])
        self.assertRegex(installs[0], r"--no-install-recommends\s*$")
        self.assertIn("xargs", runs[0])
        self.assertIn("rm -rf /var/lib/apt/lists/*", runs[0])

    def test_numeric_non_root_user_stopsignal_exec_entrypoint(self):
        rt = dict(stages()["runtime"])
        self.assertRegex(rt["USER"], r"^[1-9]\d*:[1-9]\d*$")
        self.assertEqual(rt["STOPSIGNAL"], "SIGTERM")
        entry = json.loads(rt["ENTRYPOINT"])  # exec form: a JSON array
        self.assertEqual(entry, ["/usr/bin/snapgate"])
        self.assertEqual(json.loads(rt["CMD"]), ["-c", "/etc/snapgate/snapgate.yaml"])
        # the probes and clients of deploy/k8s use these ports
        self.assertEqual(rt["EXPOSE"].split(), ["8080", "9901"])

    def test_runtime_list_is_plain_package_names(self):
        with open(os.path.join(h.REPO, "deploy", "docker", "runtime-packages"),
                  encoding="utf-8") as f:
            names = [ln.split("#")[0].strip() for ln in f]
        names = [n for n in names if n]
        self.assertEqual(len(names), len(set(names)))
        for n in names:
            self.assertRegex(n, r"^[a-z0-9][a-z0-9+.-]+$")
        self.assertIn("libsystemd0", names)
        self.assertIn("libc6", names)
