"""Validates custom resources against their upstream CRD schemas, strictly.

kubernetes-validate knows the built-in kinds only, so the custom resources envc writes (Argo CD
Applications, Flux GitRepositories, Kustomizations and HelmReleases) are checked here against
the CRDs vendored in tests/fixtures/crds (source and version in its SOURCE.md). Each CRD
version's openAPIV3Schema becomes a JSON Schema the way kubeconform's openapi2jsonschema does it
in strict mode: objects with `properties` and no `additionalProperties` reject unknown fields
unless marked `x-kubernetes-preserve-unknown-fields`; `x-kubernetes-int-or-string` takes both;
`nullable` admits null. A custom resource whose kind has no vendored CRD is a failure, never a
skip.

Usage: conformance-crds.py CRD_DIR FILE...   (prints PASS/FAIL lines; exit 1 on a failure)
       conformance-crds.py --self-test CRD_DIR (the checks catch planted mistakes)
"""

import copy
import glob
import os
import sys

import jsonschema
import yaml

BUILTIN_GROUPS = {"", "apps", "batch", "networking.k8s.io", "policy", "autoscaling",
                  "rbac.authorization.k8s.io", "storage.k8s.io", "discovery.k8s.io"}


def strict(schema):
    """The CRD schema as a strict JSON Schema (a copy)."""
    s = copy.deepcopy(schema)

    def walk(node):
        if not isinstance(node, dict):
            return node
        if node.pop("x-kubernetes-int-or-string", False):
            node.pop("type", None)
            node["anyOf"] = [{"type": "string"}, {"type": "integer"}]
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        preserve = node.pop("x-kubernetes-preserve-unknown-fields", False)
        for k in list(node):
            if k.startswith("x-kubernetes-"):
                node.pop(k)
        if "properties" in node and "additionalProperties" not in node and not preserve:
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            for v in node.get(key, {}).values():
                walk(v)
        for key in ("items", "additionalProperties", "not"):
            if isinstance(node.get(key), dict):
                walk(node[key])
        for key in ("allOf", "anyOf", "oneOf"):
            for v in node.get(key, []):
                walk(v)
        return node

    walk(s)
    # apiVersion, kind and metadata are checked by the API server itself.
    props = s.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"type": "object"}
    return s


def load_crds(crd_dir):
    schemas = {}
    for path in sorted(glob.glob(os.path.join(crd_dir, "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                for v in spec["versions"]:
                    schema = v.get("schema", {}).get("openAPIV3Schema")
                    if schema and v.get("served", True):
                        key = ("%s/%s" % (spec["group"], v["name"]), spec["names"]["kind"])
                        schemas[key] = strict(schema)
    return schemas


def custom_resources(path):
    with open(path, encoding="utf-8") as f:
        for i, doc in enumerate(yaml.safe_load_all(f)):
            if not isinstance(doc, dict) or "apiVersion" not in doc:
                continue
            group = doc["apiVersion"].rsplit("/", 1)[0] if "/" in doc["apiVersion"] else ""
            if group in BUILTIN_GROUPS:
                continue
            yield i, doc


def errors_of(schemas, doc):
    key = (doc["apiVersion"], doc.get("kind"))
    if key not in schemas:
        return ["no vendored CRD for %s %s (add it to tests/fixtures/crds)" % key]
    v = jsonschema.Draft7Validator(schemas[key])
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", e.message)
            for e in sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def main(argv):
    if argv[:1] == ["--self-test"]:
        return self_test(argv[1])
    crd_dir, files = argv[0], argv[1:]
    schemas = load_crds(crd_dir)
    failed = 0
    for path in files:
        for i, doc in custom_resources(path):
            label = "crd-schema %s %s (%s, document %d)" % (doc["kind"], doc.get("metadata", {}).get("name"), path, i + 1)
            errs = errors_of(schemas, doc)
            if errs:
                failed += 1
                print("FAIL %s" % label)
                for e in errs[:10]:
                    print("    %s" % e)
            else:
                print("PASS %s" % label)
    return 1 if failed else 0


def self_test(crd_dir):
    """Planted mistakes, each of which the strict schemas must refuse."""
    schemas = load_crds(crd_dir)
    good = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "x", "namespace": "argocd"},
            "spec": {"project": "default",
                     "source": {"repoURL": "https://example.com/r.git", "path": "out/x", "targetRevision": "main"},
                     "destination": {"server": "https://kubernetes.default.svc"}}}
    cases = []
    typo = copy.deepcopy(good)
    typo["spec"]["sorce"] = typo["spec"].pop("source")
    cases.append(("an unknown field", typo))
    wrong = copy.deepcopy(good)
    wrong["spec"]["syncPolicy"] = {"automated": {"prune": "yes"}}
    cases.append(("a string for a boolean", wrong))
    missing = copy.deepcopy(good)
    del missing["spec"]["destination"]
    cases.append(("a missing required field", missing))
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    cases.append(("a kind without a CRD", unknown))
    ok = not errors_of(schemas, good)
    print("%s crd-schema self-test: a valid Application passes" % ("PASS" if ok else "FAIL"))
    failed = 0 if ok else 1
    for what, doc in cases:
        caught = bool(errors_of(schemas, doc))
        print("%s crd-schema self-test: %s is refused" % ("PASS" if caught else "FAIL", what))
        failed += 0 if caught else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
