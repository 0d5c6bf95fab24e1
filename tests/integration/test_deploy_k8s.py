"""deploy/: every YAML file parses, every kustomize overlay renders and each rendered object
passes the Kubernetes schema of its kind (the npm package kubernetes-models, installed pinned
into the build tree at test time, never committed), and the fields the README promises are
there: the native sidecar, probes on the admin port, the preStop pause, resources, non-root
read-only containers, the tier's Service, PDB, HPA and Redis, the multi-backend config,
secrets only as mounted files.

The overlays are rendered by sg_kustomize (no kubectl needed: CI's Debian 12 has none that can
render them). Where a kubectl with kustomize v4 or later is on PATH, `kubectl kustomize` renders
them too and both renderings must be equal object for object, so sg_kustomize cannot drift;
SNAPGATE_TEST_NO_KUBECTL=1 skips that cross-check (as on a machine without kubectl)."""

import difflib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import sg_harness as h
import sg_kustomize

DEPLOY = os.path.join(h.REPO, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
VALIDATOR = os.path.join(h.REPO, "tests", "deploy", "k8s-validate.mjs")
# Pinned: the schemas change with the version (5.1.0: Kubernetes 1.33 API).
NPM_PACKAGES = ("kubernetes-models@5.1.0", "yaml@2.8.1")
OVERLAYS = ("sidecar", "tier", "multi-backend")
SECRET_KEYS = ("users_file", "tokens_file", "password_file")


def tools_dir():
    """Where the npm packages go: beside the gateway binary in the build tree."""
    binary = h.gateway_bin()
    build = os.path.dirname(binary) if binary else os.path.join(h.REPO, "build")
    return os.path.join(build, "deploy-tools")


def ensure_npm_packages():
    """node_modules with the pinned packages (installed once per build tree); fails, never
    skips, when npm cannot install them."""
    prefix = tools_dir()
    stamp = os.path.join(prefix, "installed.txt")
    want = "\n".join(NPM_PACKAGES)
    try:
        with open(stamp, encoding="utf-8") as f:
            if f.read() == want:
                return os.path.join(prefix, "node_modules")
    except OSError:
        pass
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise AssertionError("%s is required for the Kubernetes schema check" % tool)
    os.makedirs(prefix, exist_ok=True)
    proc = subprocess.run(["npm", "install", "--prefix", prefix, "--no-save", "--no-package-lock",
                           "--no-audit", "--no-fund", "--loglevel=error"] + list(NPM_PACKAGES),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    if proc.returncode != 0:
        raise AssertionError("npm install %s failed:\n%s"
                             % (" ".join(NPM_PACKAGES), proc.stdout.decode()[-3000:]))
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(want)
    return os.path.join(prefix, "node_modules")


def validate(paths, parse_only=(), kustomize_input=()):
    """The validator's JSON answer for the YAML files at paths (and parse_only: files only
    parsed, not schema-checked; kustomize_input: only parsed, as kustomize reads YAML); fails
    on its errors."""
    modules = ensure_npm_packages()
    args = list(paths) + (["--parse-only"] + list(parse_only) if parse_only else [])
    args += ["--kustomize-input"] + list(kustomize_input) if kustomize_input else []
    proc = subprocess.run(["node", VALIDATOR] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=dict(os.environ, SG_NODE_MODULES=modules),
                          timeout=120)
    try:
        out = json.loads(proc.stdout.decode())
    except ValueError:
        raise AssertionError("k8s-validate.mjs gave no JSON (exit %d):\n%s"
                             % (proc.returncode, proc.stderr.decode()[-3000:]))
    if out["errors"]:
        raise AssertionError("\n".join(out["errors"]))
    return out


_rendered = {}
_parsed = {}
_kubectl = {}


def load_kustomize_input(paths):
    """{path: [document, ...]} of YAML files read as kustomize reads them (for sg_kustomize)."""
    missing = [p for p in paths if p not in _parsed]
    if missing:
        _parsed.update(validate([], kustomize_input=missing)["files"])
    return {p: _parsed[p] for p in paths}


def kubectl_kustomize():
    """The kubectl to cross-check sg_kustomize against, or None: none on PATH,
    SNAPGATE_TEST_NO_KUBECTL=1, or one whose kustomize is older than v4 (Debian 12's
    kubernetes-client 1.20 cannot render these overlays)."""
    if "kubectl" in _kubectl:
        return _kubectl["kubectl"]
    kubectl = shutil.which("kubectl")
    if os.environ.get("SNAPGATE_TEST_NO_KUBECTL") == "1":
        kubectl, why = None, "SNAPGATE_TEST_NO_KUBECTL=1"
    elif kubectl is None:
        why = "no kubectl on PATH"
    else:
        proc = subprocess.run([kubectl, "version", "--client"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)
        m = re.search(r"Kustomize Version: (v(\d+)\S*)", proc.stdout.decode())
        why = "%s, kustomize %s" % (kubectl, m.group(1) if m else "unknown")
        if not m or int(m.group(2)) < 4:
            kubectl, why = None, why + ": too old to render deploy/k8s"
    sys.stderr.write("deploy/k8s rendered by sg_kustomize, %s (%s)\n"
                     % ("cross-checked against kubectl kustomize" if kubectl else
                        "not cross-checked", why))
    _kubectl["kubectl"] = kubectl
    return kubectl


def object_order(o):
    return (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])


def render(overlay):
    """render_dir() of deploy/k8s/OVERLAY, once per run."""
    if overlay not in _rendered:
        _rendered[overlay] = render_dir(os.path.join(K8S, overlay))
    return _rendered[overlay]


def render_dir(directory):
    """(objects, configs) of the kustomization in directory rendered by sg_kustomize,
    schema-checked, and equal to `kubectl kustomize`'s rendering where kubectl_kustomize() has
    a kubectl."""
    overlay = os.path.basename(directory)
    objects = sg_kustomize.build(directory, load_kustomize_input)
    d = tempfile.mkdtemp(prefix="sg-k8s-")
    try:
        path = os.path.join(d, overlay + ".yaml")
        with open(path, "w", encoding="utf-8") as f:
            # JSON is YAML: one document per object
            f.write("---\n".join(json.dumps(o) + "\n" for o in objects))
        paths = [path]
        kubectl = kubectl_kustomize()
        if kubectl is not None:
            proc = subprocess.run([kubectl, "kustomize", directory],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            if proc.returncode != 0:
                raise AssertionError("kubectl kustomize %s failed:\n%s"
                                     % (overlay, proc.stderr.decode()))
            paths.append(os.path.join(d, overlay + ".kubectl.yaml"))
            with open(paths[1], "wb") as f:
                f.write(proc.stdout)
        out = validate(paths)
        rendered = out["files"][path]
        if kubectl is not None:
            theirs = sorted(out["files"][paths[1]], key=object_order)
            mine = sorted(rendered, key=object_order)
            if theirs != mine:
                diff = difflib.unified_diff(
                    json.dumps(theirs, indent=1, sort_keys=True).splitlines(),
                    json.dumps(mine, indent=1, sort_keys=True).splitlines(),
                    "kubectl kustomize", "sg_kustomize", lineterm="")
                raise AssertionError("sg_kustomize renders %s unlike kubectl kustomize:\n%s"
                                     % (overlay, "\n".join(diff)))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if len(out["validated"]) != len(rendered) * len(paths):
        raise AssertionError("not every object of %s was schema-checked: %s"
                             % (overlay, out["validated"]))
    return rendered, out["configs"]


def find(objects, kind, name):
    for o in objects:
        if o["kind"] == kind and o["metadata"]["name"] == name:
            return o
    raise AssertionError("%s/%s not rendered; have %s"
                         % (kind, name, [(o["kind"], o["metadata"]["name"]) for o in objects]))


def duration_s(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", text)
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def config_files(cfg):
    """(key path, file path) of every *_file in a parsed snapgate config."""
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k.endswith("_file") and isinstance(v, str):
                    found.append(("%s.%s" % (where, k), v))
                else:
                    walk(v, "%s.%s" % (where, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s[%d]" % (where, i))
    walk(cfg, "")
    return found


class TestDeployYaml(unittest.TestCase):
    def test_every_yaml_file_under_deploy_and_conf_parses(self):
        paths = sorted(glob.glob(os.path.join(DEPLOY, "**", "*.y*ml"), recursive=True) +
                       glob.glob(os.path.join(h.REPO, "conf", "*.y*ml")))
        self.assertGreaterEqual(len(paths), 15, paths)
        # kustomize patches are partial objects: parsed, not schema-checked
        kustomizations = [p for p in paths if os.path.basename(p) == "kustomization.yaml"]
        patches = set()
        for path, docs in validate(kustomizations)["files"].items():
            for entry in docs[0].get("patches", []):
                patches.add(os.path.normpath(os.path.join(os.path.dirname(path), entry["path"])))
        self.assertTrue(patches)
        out = validate([p for p in paths if p not in patches], sorted(patches))
        for p in paths:
            self.assertTrue(out["files"][p], "%s holds no YAML document" % p)

    def test_validator_rejects_a_bad_object(self):
        # The schema check is real: a string replica count and a probe without a
        # handler's port type are refused.
        d = tempfile.mkdtemp(prefix="sg-k8s-bad-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "bad.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
                    "spec:\n  replicas: three\n  selector: {matchLabels: {a: b}}\n"
                    "  template:\n    metadata: {labels: {a: b}}\n"
                    "    spec: {containers: [{name: c, image: i}]}\n")
        with self.assertRaisesRegex(AssertionError, "replicas"):
            validate([path])


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers:
        - name: app
          image: app:1
          args: ["a", "b"]
          envFrom: [{configMapRef: {name: env}}]
          volumeMounts:
            - {name: a, mountPath: /a}
            - {name: b, mountPath: /b}
            - {name: c, mountPath: /c}
            - {name: f, mountPath: /f}
      volumes:
        - {name: a, configMap: {name: cfg}}
        - {name: b, emptyDir: {}}
        - {name: c, projected: {sources: [{configMap: {name: cfg}}]}}
        - {name: f, secret: {secretName: s, defaultMode: 0440}}
"""


class TestRenderer(unittest.TestCase):
    """sg_kustomize on small kustomizations: each behaviour the overlays rely on, asserted
    against what kubectl kustomize (kustomize v5.5.0) rendered, and cross-checked with it
    again where kubectl_kustomize() has one; and the refusals."""

    def tree(self, files):
        d = tempfile.mkdtemp(prefix="sg-kustomize-")
        self.addCleanup(shutil.rmtree, d, True)
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)
        return d

    def test_config_map_hash_is_kustomizes(self):
        # kubectl kustomize of configMapGenerator [{name: demo, literals: [a=b]}]: demo-4h2mbtbbt6
        self.assertEqual(sg_kustomize.config_map_hash({"a": "b"}), "4h2mbtbbt6")

    def test_generator_patch_namespace_images(self):
        d = self.tree({
            "base/kustomization.yaml": "namespace: one\nresources: [app.yaml]\n"
                                       "configMapGenerator:\n"
                                       "- name: cfg\n  files: [x.yaml, y.yaml]\n"
                                       "- name: env\n  files: [x.yaml]\n"
                                       "images:\n- {name: app, newName: reg.example:5000/app}\n",
            "base/app.yaml": DEPLOYMENT,
            "base/x.yaml": "x: 1\n",
            "base/y.yaml": "y: <&>\n",
            "top/kustomization.yaml": "namespace: two\nresources: [../base]\n"
                                      "configMapGenerator:\n- name: cfg\n  behavior: merge\n"
                                      "  files: [y.yaml]\n- name: env\n  behavior: replace\n"
                                      "  files: [z.yaml]\npatches:\n- path: patch.yaml\n"
                                      "images:\n- {name: reg.example:5000/app, newTag: '2'}\n",
            "top/y.yaml": "y: 2\n",
            "top/z.yaml": "z: 3\n",
            "top/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n"
                              "spec:\n  template:\n    spec:\n      containers:\n"
                              "        - name: app\n          args: [c]\n          volumeMounts:\n"
                              "            - {name: c2, mountPath: /c, readOnly: true}\n"
                              "            - {name: d, mountPath: /d}\n"
                              "            - {mountPath: /b, $patch: delete}\n"
                              "            - {name: e, mountPath: /e}\n"
                              "      volumes:\n        - {name: b, $patch: delete}\n"
                              "        - {name: d, emptyDir: {}}\n"
                              "        - {name: e, emptyDir: {}}\n",
        })
        objects, _ = render_dir(os.path.join(d, "top"))
        cms = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
        self.assertEqual(sorted(cms), ["cfg-8bd966h966", "env-5b25762m65"])
        self.assertEqual(cms["cfg-8bd966h966"]["data"], {"x.yaml": "x: 1\n", "y.yaml": "y: 2\n"})
        self.assertEqual(cms["env-5b25762m65"]["data"], {"z.yaml": "z: 3\n"})
        dep = find(objects, "Deployment", "app")
        self.assertEqual({o["metadata"]["namespace"] for o in objects}, {"two"})
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertEqual(c["image"], "reg.example:5000/app:2")
        self.assertEqual(c["args"], ["c"])
        self.assertEqual(c["envFrom"], [{"configMapRef": {"name": "env-5b25762m65"}}])
        # kustomize's order: the patch's elements, then the ones it does not name
        self.assertEqual([(m["mountPath"], m["name"]) for m in c["volumeMounts"]],
                         [("/c", "c2"), ("/d", "d"), ("/e", "e"), ("/a", "a"), ("/f", "f")])
        self.assertTrue(c["volumeMounts"][0]["readOnly"])
        self.assertEqual([v["name"] for v in pod["volumes"]], ["d", "e", "a", "c", "f"])
        self.assertEqual(pod["volumes"][2]["configMap"]["name"], "cfg-8bd966h966")
        self.assertEqual(pod["volumes"][3]["projected"]["sources"][0]["configMap"]["name"],
                         "cfg-8bd966h966")
        self.assertEqual(pod["volumes"][4]["secret"]["defaultMode"], 0o440)  # Go reads 0440

    def test_refuses_what_it_does_not_know(self):
        patch = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n"
                 "spec:\n  template:\n    spec:\n%s")
        cases = {
            "commonLabels": ("resources: [app.yaml]\ncommonLabels: {a: b}\n", {}),
            "behavior create": ("resources: [app.yaml]\nconfigMapGenerator:\n- name: c\n"
                                "  files: [app.yaml]\n- name: c\n  files: [app.yaml]\n", {}),
            "options": ("configMapGenerator:\n- name: c\n  options: {disableNameSuffixHash: true}\n"
                        "  files: [app.yaml]\n", {}),
            "kind Secret": ("resources: [s.yaml]\n",
                            {"s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"}),
            "tolerations": ("resources: [app.yaml]\npatches:\n- path: p.yaml\n",
                            {"p.yaml": patch % "      tolerations: [{key: k}]\n"}),
            "patch: replace": ("resources: [app.yaml]\npatches:\n- path: p.yaml\n",
                               {"p.yaml": patch % ("      volumes:\n"
                                                   "        - {name: a, $patch: replace}\n")}),
            "target": ("resources: [app.yaml]\npatches:\n"
                       "- path: p.yaml\n  target: {kind: Deployment}\n",
                       {"p.yaml": patch % "      hostNetwork: true\n"}),
            "digest": ("resources: [app.yaml]\nimages:\n- {name: app, digest: 'sha256:0'}\n", {}),
        }
        for what, (kustomization, extra) in cases.items():
            with self.subTest(what):
                d = self.tree(dict({"kustomization.yaml": kustomization, "app.yaml": DEPLOYMENT},
                                   **extra))
                with self.assertRaisesRegex(sg_kustomize.KustomizeError,
                                            re.escape(what) + ".*extend it"):
                    sg_kustomize.build(d, load_kustomize_input)


class K8sShape:
    """Checks every snapgate container of a rendered overlay holds to the promises."""

    def snapgate_container(self, pod_spec, init):
        group = pod_spec.get("initContainers" if init else "containers", [])
        for c in group:
            if c["name"] == "snapgate":
                return c
        self.fail("no snapgate container in %s" % ("initContainers" if init else "containers"))

    def check_snapgate(self, objects, configs, workload, init):
        dep = find(objects, "Deployment", workload)
        pod = dep["spec"]["template"]["spec"]
        c = self.snapgate_container(pod, init)
        # the image name was rewritten by kustomize's images: to a real registry path
        self.assertRegex(c["image"], r"^[\w.-]+(/[\w.-]+)+:[\w.-]+$")
        cm_name = next(v["configMap"]["name"] for v in pod["volumes"] if v["name"] == "config")
        cfg = next(v for k, v in configs.items() if k.split("/")[1] == cm_name)
        admin_port = int(str(cfg["admin_listen"]).rpartition(":")[2])
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports["admin"], admin_port)
        self.assertNotEqual(cfg["admin_listen"].rpartition(":")[0], "127.0.0.1",
                            "probes must reach the admin port")
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                            ("readinessProbe", "/readyz")):
            self.assertEqual(c[probe]["httpGet"]["path"], path, probe)
            self.assertIn(c[probe]["httpGet"]["port"], ("admin", admin_port), probe)
        pause = c["lifecycle"]["preStop"]["sleep"]["seconds"]
        self.assertGreater(pause, 0)
        drain = duration_s(cfg["shutdown"]["drain_timeout"])
        self.assertGreater(pod["terminationGracePeriodSeconds"], pause + drain)
        self.assertTrue(c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"])
        self.assertTrue(c["resources"]["limits"]["memory"])
        sec = dict(pod.get("securityContext", {}), **c.get("securityContext", {}))
        self.assertTrue(sec["runAsNonRoot"])
        self.assertIsInstance(sec["runAsUser"], int)
        self.assertGreater(sec["runAsUser"], 0)
        self.assertTrue(sec["readOnlyRootFilesystem"])
        self.assertFalse(sec["allowPrivilegeEscalation"])
        self.assertEqual(sec["capabilities"]["drop"], ["ALL"])
        self.assertEqual(c["args"], ["-c", "/etc/snapgate/snapgate.yaml"])
        # every file the config names comes from a mounted volume; secrets from Secrets
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in c["volumeMounts"]}
        self.assertIn("configMap", mounts["/etc/snapgate"])
        for key, path in config_files(cfg):
            owner = [v for mp, v in mounts.items() if path.startswith(mp.rstrip("/") + "/")]
            self.assertTrue(owner, "%s: %s is on no mounted volume" % (key, path))
            if key.rpartition(".")[2] in SECRET_KEYS:
                self.assertIn("secret", owner[0], "%s must come from a Secret" % key)
        # secrets are never inline: no Secret objects, no password keys in the config
        self.assertFalse([o for o in objects if o["kind"] == "Secret"])
        self.assertNotRegex(json.dumps(cfg), r'"(password|token|secret)"\s*:')
        return dep, c, cfg


class TestSidecar(unittest.TestCase, K8sShape):
    def test_native_sidecar(self):
        objects, configs = render("sidecar")
        dep, c, cfg = self.check_snapgate(objects, configs, "backup-automation", init=True)
        self.assertEqual(c["restartPolicy"], "Always")  # a native sidecar, not a plain init
        self.assertEqual(cfg["listen"], "127.0.0.1:8080")
        self.assertNotIn("redis", cfg)
        app = dep["spec"]["template"]["spec"]["containers"]
        self.assertTrue(app, "the sidecar needs a main container beside it")
        self.assertNotIn("snapgate", [a["name"] for a in app])


class TestTier(unittest.TestCase, K8sShape):
    def check_tier(self, overlay):
        objects, configs = render(overlay)
        dep, c, cfg = self.check_snapgate(objects, configs, "snapgate", init=False)
        ns = dep["metadata"]["namespace"]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        self.assertNotIn("replicas", dep["spec"], "the HPA owns the replica count")

        def selects(selector):
            return all(labels.get(k) == v for k, v in selector.items())

        svc = find(objects, "Service", "snapgate")
        self.assertTrue(selects(svc["spec"]["selector"]))
        self.assertEqual([(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]],
                         [(8080, "http")])
        http = next(p for p in c["ports"] if p["name"] == "http")["containerPort"]
        self.assertEqual(int(cfg["listen"].rpartition(":")[2]), http)
        self.assertTrue(cfg["listen"].startswith("0.0.0.0:"))

        pdb = find(objects, "PodDisruptionBudget", "snapgate")
        self.assertTrue(selects(pdb["spec"]["selector"]["matchLabels"]))
        hpa = find(objects, "HorizontalPodAutoscaler", "snapgate")
        self.assertEqual(hpa["spec"]["scaleTargetRef"],
                         {"apiVersion": "apps/v1", "kind": "Deployment", "name": "snapgate"})
        self.assertGreaterEqual(hpa["spec"]["minReplicas"], 2)
        self.assertGreater(hpa["spec"]["maxReplicas"], hpa["spec"]["minReplicas"])
        # the PDB leaves replicas serving at the HPA's minimum
        self.assertLess(pdb["spec"]["maxUnavailable"], hpa["spec"]["minReplicas"])

        redis_dep = find(objects, "Deployment", "redis")
        redis_svc = find(objects, "Service", "redis")
        rlabels = redis_dep["spec"]["template"]["metadata"]["labels"]
        self.assertTrue(all(rlabels.get(k) == v for k, v in redis_svc["spec"]["selector"].items()))
        m = re.fullmatch(r"redis://([^:/]+):(\d+)/\d+", cfg["redis"]["url"])
        self.assertIsNotNone(m, cfg["redis"]["url"])
        self.assertEqual(m.group(1), "redis.%s.svc" % ns)
        self.assertEqual(int(m.group(2)), redis_svc["spec"]["ports"][0]["port"])
        return objects, cfg, c

    def test_replicated_tier(self):
        _, cfg, _ = self.check_tier("tier")
        self.assertEqual(len(cfg["backends"]), 1)

    def test_multi_backend(self):
        _, cfg, c = self.check_tier("multi-backend")
        self.assertEqual(sorted(b["dialect"] for b in cfg["backends"]), ["cis", "rest", "vim25"])
        self.assertEqual(cfg["routing"]["strategy"], "fanout")
        mounts = [m["mountPath"] for m in c["volumeMounts"]]
        self.assertNotIn("/run/secrets/vc1", mounts, "the one-backend Secret is left over")
        # one Secret per backend
        self.assertEqual(len({p.rsplit("/", 1)[0] for k, p in config_files(cfg)
                              if k.endswith("password_file")}), 3)

    def test_multi_backend_config_matches_the_conf_example(self):
        # The ConfigMap's backends and routing are conf/multi-backend.example.yaml's
        # (paths aside): operators read one, Kubernetes runs the other.
        _, configs = render("multi-backend")
        cfg = next(iter(configs.values()))
        example = validate([os.path.join(h.REPO, "conf", "multi-backend.example.yaml")])
        ex = next(iter(example["files"].values()))[0]

        def shape(c):
            return ([(b["name"], b["url"], b["dialect"]) for b in c["backends"]], c["routing"])
        self.assertEqual(shape(cfg), shape(ex))


if __name__ == "__main__":
    unittest.main()
