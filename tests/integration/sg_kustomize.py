"""A kustomize renderer for exactly what deploy/k8s uses, so the deploy test needs no kubectl.

build(DIR, load) renders the kustomization in DIR as `kubectl kustomize DIR` does (kustomize v5),
for these features only:

  resources          files (one or more YAML documents) and directories (kustomizations, built
                     recursively: their own namespace, generators, patches and images first)
  namespace          set on every namespaced object; Namespace objects keep none
  configMapGenerator name, files (the key is the file's base name), behavior create (the
                     default: the name must be new), replace (the data of a ConfigMap an included
                     kustomization generated is replaced) or merge (its keys are added/overwritten)
  patches            path: a strategic-merge patch, targeting the object of its apiVersion, kind
                     and name (and namespace, when it names one), with the merge keys of the pod
                     template's lists and `$patch: delete` list elements
  images             name, newName, newTag on the containers and init containers of pod templates

then, as kustomize does once for the whole build, suffixes each generated ConfigMap's name with
the hash of its data and rewrites the references to it in pod templates (volumes, projected
volumes, env valueFrom and envFrom).

Anything else (another kustomization field or generator option, a kind, a list in a patch whose
merge semantics it does not know, a `$` directive) raises KustomizeError: a future overlay change
cannot be rendered half. load(paths) must return {path: [document, ...]}, the documents parsed as
kustomize's YAML reads them (the deploy test passes k8s-validate.mjs --kustomize-input)."""

import copy
import hashlib
import json
import os


class KustomizeError(AssertionError):
    pass


KUSTOMIZATION_FIELDS = {"apiVersion", "kind", "namespace", "resources", "configMapGenerator",
                        "patches", "images"}
GENERATOR_FIELDS = {"name", "behavior", "files"}
PATCH_FIELDS = {"path"}
IMAGE_FIELDS = {"name", "newName", "newTag"}
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# Kinds the renderer knows the scope of; pod templates live in WORKLOADS' spec.template.spec.
NAMESPACED = {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
              "HorizontalPodAutoscaler", "NetworkPolicy"}
CLUSTER_SCOPED = {"Namespace"}
WORKLOADS = {"Deployment"}

# Strategic-merge semantics of the lists a patch may touch (paths without list positions):
# merged element by element on the key, or (lists of scalars) replaced whole.
POD = ("spec", "template", "spec")
MERGE_KEYS = {POD + ("containers",): "name", POD + ("initContainers",): "name",
              POD + ("volumes",): "name"}
REPLACED_LISTS = set()
for _group in ("containers", "initContainers"):
    MERGE_KEYS[POD + (_group, "volumeMounts")] = "mountPath"
    MERGE_KEYS[POD + (_group, "ports")] = "containerPort"
    MERGE_KEYS[POD + (_group, "env")] = "name"
    REPLACED_LISTS.update({POD + (_group, "args"), POD + (_group, "command")})


def config_map_hash(data):
    """kustomize's name suffix for a generated ConfigMap of data {key: text}: the first ten hex
    digits of the SHA-256 of Go's JSON of {"data", "kind", "name": ""} (sorted keys, HTML
    characters escaped), with 0 1 3 a e spelled g h k m t so the suffix is never all digits."""
    text = json.dumps({"data": data, "kind": "ConfigMap", "name": ""}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


class _Resource:
    """One object of a build; orig is the name before the hash suffix."""

    def __init__(self, obj, generated=False):
        self.obj = obj
        self.orig = obj["metadata"]["name"]
        self.generated = generated

    def key(self):
        return (self.obj["kind"], self.obj["metadata"].get("namespace", ""), self.orig)


def _fail(where, msg):
    raise KustomizeError("%s: %s (sg_kustomize renders only what deploy/k8s uses: extend it, "
                         "and its cross-check against kubectl kustomize, first)" % (where, msg))


def _check_fields(where, entry, known):
    if not isinstance(entry, dict):
        _fail(where, "expected a mapping, got %r" % (entry,))
    unknown = sorted(set(entry) - known)
    if unknown:
        _fail(where, "unsupported field(s) %s" % ", ".join(unknown))


def _check_object(where, obj):
    if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind") \
            or not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
        _fail(where, "not a Kubernetes object with apiVersion, kind and metadata.name")
    if obj["kind"] not in NAMESPACED | CLUSTER_SCOPED:
        _fail(where, "unsupported kind %s" % obj["kind"])


def _kustomization_file(directory):
    found = [os.path.join(directory, n) for n in KUSTOMIZATION_FILES
             if os.path.isfile(os.path.join(directory, n))]
    if len(found) != 1:
        _fail(directory, "expected exactly one of %s, found %d" % (KUSTOMIZATION_FILES, len(found)))
    return found[0]


def _load_one(load, path):
    docs = load([path])[path]
    if len(docs) != 1:
        _fail(path, "expected one YAML document, found %d" % len(docs))
    return docs[0]


def _pod_specs(obj):
    if obj["kind"] in WORKLOADS:
        spec = obj.get("spec", {}).get("template", {}).get("spec")
        if spec:
            yield spec


def _containers(pod):
    for group in ("containers", "initContainers"):
        for c in pod.get(group, []):
            yield c


def _no_directives(where, value):
    if isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("$"):
                _fail(where, "directive %s outside a merged list element" % k)
            _no_directives(where, v)
    elif isinstance(value, list):
        for v in value:
            _no_directives(where, v)


def _merge(where, dst, patch, path):
    """dst (a mapping) with the strategic-merge patch mapping applied; dst is modified."""
    for k, v in patch.items():
        if k.startswith("$"):
            _fail(where, "directive %s at %s" % (k, ".".join(path) or "top"))
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(where, dst[k], v, path + (k,))
        elif isinstance(v, list):
            dst[k] = _merge_list(where, dst.get(k, []), v, path + (k,))
        else:
            _no_directives(where, v)
            dst[k] = copy.deepcopy(v)
    return dst


def _merge_list(where, dst, patch, path):
    if path in REPLACED_LISTS and all(not isinstance(v, (dict, list)) for v in patch):
        return list(patch)
    key = MERGE_KEYS.get(path)
    if key is None:
        _fail(where, "list %s: merge semantics unknown" % ".".join(path))
    # As kustomize orders the result: the patch's elements first (merged into the element of
    # the same key, if any), then the elements the patch does not name, in their order.
    out = []
    named = set()
    for el in patch:
        if not isinstance(el, dict) or key not in el:
            _fail(where, "list %s: element without merge key %s" % (".".join(path), key))
        if json.dumps(el[key]) in named:
            _fail(where, "list %s: %s %r twice" % (".".join(path), key, el[key]))
        named.add(json.dumps(el[key]))
        directive = el.get("$patch")
        if directive == "delete":
            if set(el) - {key, "$patch"}:
                _fail(where, "list %s: $patch: delete with other fields" % ".".join(path))
            continue
        if directive is not None:
            _fail(where, "list %s: unsupported $patch: %s" % (".".join(path), directive))
        match = [e for e in dst if e.get(key) == el[key]]
        if match:
            out.append(_merge(where, copy.deepcopy(match[0]), el, path))
        else:
            _no_directives(where, el)
            out.append(copy.deepcopy(el))
    out.extend(copy.deepcopy(e) for e in dst if json.dumps(e.get(key)) not in named)
    return out


def _split_image(image):
    """(name, suffix) of an image reference: suffix is ":tag", "@digest" or ""."""
    if "@" in image:
        name, _, digest = image.partition("@")
        return name, "@" + digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon:]
    return image, ""


def _set_images(images, resources):
    for entry in images:
        for r in resources:
            for pod in _pod_specs(r.obj):
                for c in _containers(pod):
                    name, suffix = _split_image(c.get("image", ""))
                    if name != entry["name"]:
                        continue
                    if "newTag" in entry:
                        suffix = ":" + str(entry["newTag"])
                    c["image"] = str(entry.get("newName", name)) + suffix


def _generate(where, directory, gen, resources):
    _check_fields(where, gen, GENERATOR_FIELDS)
    name = gen.get("name")
    behavior = gen.get("behavior", "create")
    if not isinstance(name, str) or not name:
        _fail(where, "configMapGenerator entry without a name")
    if behavior not in ("create", "replace", "merge"):
        _fail(where, "unsupported behavior %r" % behavior)
    data = {}
    for f in gen.get("files", []):
        if not isinstance(f, str) or "=" in f:
            _fail(where, "files entry %r: only plain paths are supported" % (f,))
        path = os.path.normpath(os.path.join(directory, f))
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            _fail(where, "files entry %s: %s" % (f, e))
        key = os.path.basename(path)
        if key in data:
            _fail(where, "two files for the key %s" % key)
        data[key] = text
    # kustomize matches by name alone: an overlay of another namespace merges into its base's
    existing = [r for r in resources if r.obj["kind"] == "ConfigMap" and r.orig == name]
    if behavior == "create":
        if existing:
            _fail(where, "ConfigMap %s exists already; behavior create" % name)
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
        resources.append(_Resource(obj, generated=True))
        return
    if len(existing) != 1 or not existing[0].generated:
        _fail(where, "behavior %s needs exactly one generated ConfigMap %s, found %d"
              % (behavior, name, len(existing)))
    target = existing[0].obj
    target["data"] = data if behavior == "replace" else dict(target.get("data", {}), **data)


def _patch(where, directory, entry, resources, load):
    _check_fields(where, entry, PATCH_FIELDS)
    if not isinstance(entry.get("path"), str):
        _fail(where, "patches entry without a path")
    path = os.path.normpath(os.path.join(directory, entry["path"]))
    patch = _load_one(load, path)
    if not isinstance(patch, dict):
        _fail(path, "only strategic-merge patches (a mapping) are supported")
    meta = patch.get("metadata", {})
    def targeted(r):
        return (r.obj["apiVersion"] == patch.get("apiVersion")
                and r.obj["kind"] == patch.get("kind") and r.orig == meta.get("name")
                and meta.get("namespace", r.obj["metadata"].get("namespace"))
                == r.obj["metadata"].get("namespace"))
    match = [r for r in resources if targeted(r)]
    if len(match) != 1:
        _fail(path, "the patch targets %d objects, not one" % len(match))
    _merge(path, match[0].obj, patch, ())


def _build(directory, load, stack):
    directory = os.path.abspath(directory)
    if directory in stack:
        _fail(directory, "kustomization cycle")
    kfile = _kustomization_file(directory)
    k = _load_one(load, kfile)
    _check_fields(kfile, k, KUSTOMIZATION_FIELDS)
    if k.get("apiVersion", "kustomize.config.k8s.io/v1beta1") != "kustomize.config.k8s.io/v1beta1" \
            or k.get("kind", "Kustomization") != "Kustomization":
        _fail(kfile, "not a kustomize.config.k8s.io/v1beta1 Kustomization")
    resources = []
    for entry in k.get("resources", []):
        path = os.path.normpath(os.path.join(directory, str(entry)))
        if os.path.isdir(path):
            resources.extend(_build(path, load, stack + (directory,)))
        elif os.path.isfile(path):
            for obj in load([path])[path]:
                _check_object(path, obj)
                resources.append(_Resource(copy.deepcopy(obj)))
        else:
            _fail(kfile, "resource %r is neither a file nor a directory" % (entry,))
    namespace = k.get("namespace")
    for gen in k.get("configMapGenerator", []):
        _generate(kfile, directory, gen, resources)
    for entry in k.get("patches", []):
        _patch(kfile, directory, entry, resources, load)
    if namespace:
        for r in resources:
            if r.obj["kind"] in NAMESPACED:
                r.obj["metadata"]["namespace"] = namespace
    for entry in k.get("images", []):
        _check_fields(kfile, entry, IMAGE_FIELDS)
        if not entry.get("name"):
            _fail(kfile, "images entry without a name")
    _set_images(k.get("images", []), resources)
    seen = set()
    for r in resources:
        if r.key() in seen:
            _fail(kfile, "%s %s/%s appears twice" % r.key())
        seen.add(r.key())
    return resources


def _rename_references(resources, renamed):
    """Points pod templates' ConfigMap references at the suffixed names; renamed maps
    (namespace, original name) to the new name."""
    def new_name(ns, ref):
        if isinstance(ref, dict) and (ns, ref.get("name")) in renamed:
            ref["name"] = renamed[(ns, ref["name"])]

    for r in resources:
        ns = r.obj["metadata"].get("namespace", "")
        for pod in _pod_specs(r.obj):
            for v in pod.get("volumes", []):
                new_name(ns, v.get("configMap"))
                for src in v.get("projected", {}).get("sources", []):
                    new_name(ns, src.get("configMap"))
            for c in _containers(pod):
                for e in c.get("env", []):
                    new_name(ns, e.get("valueFrom", {}).get("configMapKeyRef"))
                for e in c.get("envFrom", []):
                    new_name(ns, e.get("configMapRef"))


def build(directory, load):
    """The objects (dicts, newly built) `kubectl kustomize DIRECTORY` renders. load(paths)
    returns {path: [parsed document, ...]}. Raises KustomizeError on anything unsupported."""
    resources = _build(directory, load, ())
    renamed = {}
    for r in resources:
        if r.generated:
            meta = r.obj["metadata"]
            meta["name"] = "%s-%s" % (r.orig, config_map_hash(r.obj["data"]))
            renamed[(meta.get("namespace", ""), r.orig)] = meta["name"]
    _rename_references(resources, renamed)
    return [r.obj for r in resources]
