// k8s-validate.mjs FILE... [--parse-only FILE...] [--kustomize-input FILE...]: parses every YAML
// document of each FILE (strictly: duplicate keys and syntax errors fail) and checks every
// Kubernetes object against the schema of its apiVersion/kind from the kubernetes-models package
// (generated from the Kubernetes OpenAPI). Kustomization files, and the files after --parse-only
// (kustomize patches: partial objects), are only parsed. The files after --kustomize-input are
// only parsed too, and read as kustomize (Go's YAML) reads them: a plain scalar of a leading 0
// and octal digits is an octal int (defaultMode: 0440 is 288), not YAML 1.2's decimal.
// Prints one JSON object on stdout:
//   {"files": {FILE: [doc, ...]}, "configs": {"NS/NAME/KEY": parsed YAML of a
//    ConfigMap's *.yaml key}, "validated": ["Kind/name", ...], "errors": [...]}
// Exit status 1 when errors is not empty. Run with NODE_PATH (or from a
// directory) where `npm install kubernetes-models yaml` put node_modules.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

const modulesDir = process.env.SG_NODE_MODULES;
const require = createRequire(path.join(modulesDir || process.cwd(), "noop.js"));
const YAML = require("yaml");

// Go's YAML (strconv.ParseInt base 0) reads 0440 as octal; YAML 1.2 core would say 440.
const goLegacyOctal = {
  identify: (value) => typeof value === "number",
  default: true,
  tag: "tag:yaml.org,2002:int",
  test: /^[-+]?0[0-7]+$/,
  resolve: (str) => parseInt(str, 8),
};

function parseAll(text, where, errors, goInts = false) {
  const docs = [];
  const options = { uniqueKeys: true, prettyErrors: true };
  if (goInts) options.customTags = (tags) => [goLegacyOctal, ...tags];
  for (const d of YAML.parseAllDocuments(text, options)) {
    for (const e of d.errors) errors.push(`${where}: ${e.message}`);
    if (d.errors.length === 0 && d.contents !== null) docs.push(d.toJS());
  }
  return docs;
}

// "apps/v1" + "Deployment" -> kubernetes-models/apps/v1/Deployment; core "v1" -> v1/...
async function modelFor(apiVersion, kind) {
  const parts = apiVersion.split("/");
  const sub = parts.length === 1 ? `v1/${kind}` : `${parts[0]}/${parts[1]}/${kind}`;
  if (parts.length === 1 && parts[0] !== "v1") return null;
  const file = path.join(modulesDir, "kubernetes-models", sub + ".js");
  try {
    const mod = await import(pathToFileURL(file).href);
    return mod[kind] || null;
  } catch {
    return null;
  }
}

const out = { files: {}, configs: {}, validated: [], errors: [] };
let parseOnly = false;
let kustomizeInput = false;
for (const file of process.argv.slice(2)) {
  if (file === "--parse-only" || file === "--kustomize-input") {
    parseOnly = true;
    kustomizeInput = file === "--kustomize-input";
    continue;
  }
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    out.errors.push(`${file}: ${e.message}`);
    continue;
  }
  const docs = parseAll(text, file, out.errors, kustomizeInput);
  out.files[file] = docs;
  for (const doc of docs) {
    if (parseOnly || typeof doc !== "object" || !doc.apiVersion || !doc.kind) continue;
    const name = `${doc.kind}/${doc.metadata?.name ?? "?"}`;
    if (doc.apiVersion.startsWith("kustomize.config.k8s.io/")) continue;
    const Model = await modelFor(doc.apiVersion, doc.kind);
    if (!Model) {
      out.errors.push(`${file}: ${name}: no schema for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Model(doc).validate();
      out.validated.push(name);
    } catch (e) {
      out.errors.push(`${file}: ${name}: ${e.message}`);
    }
    if (doc.kind === "ConfigMap") {
      for (const [key, value] of Object.entries(doc.data || {})) {
        if (!key.endsWith(".yaml")) continue;
        const where = `${file}: ${name} ${key}`;
        const parsed = parseAll(value, where, out.errors);
        out.configs[`${doc.metadata?.namespace ?? ""}/${doc.metadata?.name}/${key}`] = parsed[0];
      }
    }
  }
}
process.stdout.write(JSON.stringify(out));
process.exit(out.errors.length ? 1 : 0);
