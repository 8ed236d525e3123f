"""Checks of one prod artifact set that need parsing: tfvars against variables.tf, parity of
the rendered chart with the k3s manifests, and no dev secret value in any file.

Usage: conformance-helm.py SET_DIR RENDERED_YAML K3S_DIR
Prints one `STATUS<TAB>CHECK<TAB>PATH<TAB>MESSAGE` line per check.
"""

import json
import os
import re
import sys

import hcl2
import yaml


def emit(status, check, path, msg):
    print("\t".join([status, check, path, " ".join(str(msg).split())]))


# ---------------------------------------------------------------- Terraform types
def parse_type(text):
    """Parses a Terraform type constraint into (kind, inner): ('string',), ('list', T),
    ('map', T), ('object', {attr: T})."""
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[(){}=,]", text)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take(want=None):
        nonlocal pos
        tok = peek()
        if tok is None or (want is not None and tok != want):
            raise ValueError("expected %s at token %d of %r" % (want or "a token", pos, text))
        pos += 1
        return tok

    def ty():
        name = take()
        if name in ("string", "number", "bool", "any"):
            return (name,)
        if name in ("list", "set", "map"):
            take("(")
            inner = ty()
            take(")")
            return ("map" if name == "map" else "list", inner)
        if name == "object":
            take("(")
            take("{")
            attrs = {}
            while peek() != "}":
                key = take()
                take("=")
                attrs[key] = ty()
                if peek() == ",":
                    take(",")
            take("}")
            take(")")
            return ("object", attrs)
        raise ValueError("unknown type %r in %r" % (name, text))

    result = ty()
    if pos != len(tokens):
        raise ValueError("trailing tokens in %r" % text)
    return result


def check_value(t, v, at):
    kind = t[0]
    if kind == "any":
        return []
    if kind == "string":
        return [] if isinstance(v, str) else ["%s: expected string, found %r" % (at, v)]
    if kind == "number":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        return [] if ok else ["%s: expected number, found %r" % (at, v)]
    if kind == "bool":
        return [] if isinstance(v, bool) else ["%s: expected bool, found %r" % (at, v)]
    if kind == "list":
        if not isinstance(v, list):
            return ["%s: expected list, found %r" % (at, v)]
        return [e for i, x in enumerate(v) for e in check_value(t[1], x, "%s[%d]" % (at, i))]
    if kind == "map":
        if not isinstance(v, dict):
            return ["%s: expected map, found %r" % (at, v)]
        return [e for k, x in v.items() for e in check_value(t[1], x, "%s.%s" % (at, k))]
    if not isinstance(v, dict):
        return ["%s: expected object, found %r" % (at, v)]
    errs = ["%s: attribute %s is missing" % (at, k) for k in t[1] if k not in v]
    errs += ["%s: attribute %s is not declared" % (at, k) for k in v if k not in t[1]]
    errs += [e for k, x in v.items() if k in t[1] for e in check_value(t[1][k], x, "%s.%s" % (at, k))]
    return errs


def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"' else s


def check_terraform(set_dir):
    tf_path = os.path.join(set_dir, "terraform", "variables.tf")
    vars_path = os.path.join(set_dir, "terraform", "terraform.tfvars.json")
    with open(tf_path, encoding="utf-8") as f:
        parsed = hcl2.load(f)
    declared = {}
    for block in parsed.get("variable", []):
        for name, body in block.items():
            raw = body.get("type", "any")
            raw = raw[2:-1] if raw.startswith("${") and raw.endswith("}") else raw
            sensitive = body.get("sensitive") in (True, "true")
            # An input with a default (identity grants) takes its value from the user's tfvars.
            if "default" in body:
                sensitive = sensitive or "default"
            declared[unquote(name)] = (parse_type(raw), sensitive, unquote(body.get("description", "")))
    with open(vars_path, encoding="utf-8") as f:
        values = json.load(f)
    errors = []
    for name, (t, sensitive, description) in declared.items():
        if not description:
            errors.append("variable %s has no description" % name)
        if sensitive and name in values:
            errors.append("sensitive or defaulted variable %s has a value in the tfvars" % name)
        if not sensitive and name not in values:
            errors.append("variable %s has no value" % name)
    for name, v in values.items():
        if name == "//":  # the header; Terraform ignores "//" keys in JSON bodies
            continue
        if name not in declared:
            errors.append("%s is not declared in variables.tf" % name)
            continue
        errors += check_value(declared[name][0], v, name)
    n_sensitive = sum(1 for d in declared.values() if d[1] is True)
    # The root module's other files parse with this second, independent HCL parser too (the
    # module-call checks against the vendored interfaces are crates/envc-emit/tests/terraform_root.rs).
    for other in ("versions.tf", "main.tf", "outputs.tf"):
        path = os.path.join(set_dir, "terraform", other)
        try:
            with open(path, encoding="utf-8") as f:
                body = hcl2.load(f)
        except Exception as e:
            errors.append("%s does not parse: %s" % (other, e))
            continue
        if other == "main.tf" and not body.get("module"):
            errors.append("main.tf calls no module")
    if errors:
        emit("FAIL", "tfvars-types", vars_path, "%s (%d problems)" % (errors[0], len(errors)))
    else:
        emit("PASS", "tfvars-types", vars_path, "%d values match their declared types; %d sensitive "
             "variables without values" % (len(values) - ("//" in values), n_sensitive))


# ---------------------------------------------------------------- parity with k3s
def load_docs(paths):
    docs = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            docs += [d for d in yaml.safe_load_all(f) if isinstance(d, dict) and "kind" in d]
    return docs


def workload_facts(docs):
    facts = {}
    for d in docs:
        if d["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            facts[d["metadata"]["name"]] = {
                "image": c.get("image"),
                "env names": [e["name"] for e in c.get("env", [])],
                "ports": [(p["name"], p["containerPort"], p.get("protocol", "TCP")) for p in c.get("ports", [])],
                "probes": {k: c.get(k) for k in ("livenessProbe", "readinessProbe", "startupProbe")},
            }
    return facts


def check_parity(set_dir, rendered, k3s_dir):
    if not os.path.isdir(k3s_dir):
        emit("PASS", "k3s-parity", set_dir, "no k3s artifact set to compare with")
        return
    k3s = workload_facts(load_docs(sorted(
        os.path.join(k3s_dir, f) for f in os.listdir(k3s_dir) if f.endswith(".yaml"))))
    prod = workload_facts(load_docs([rendered]))
    # Services waiting for promotion (ENVC_PENDING, from `envc list --format json`): the prod
    # mode runs what its release lock pins, k3s what the model says now.
    pending = set(filter(None, os.environ.get("ENVC_PENDING", "").split(",")))
    both = sorted((set(k3s) & set(prod)) - pending)
    problems = []
    for name in both:
        for facet in ("image", "env names", "ports", "probes"):
            if k3s[name][facet] != prod[name][facet]:
                problems.append("%s: %s differ (k3s %r, chart %r)" % (name, facet, k3s[name][facet], prod[name][facet]))
    only_k3s = sorted(set(k3s) - set(prod))
    if problems:
        emit("FAIL", "k3s-parity", set_dir, "%s (%d problems)" % (problems[0], len(problems)))
    else:
        emit("PASS", "k3s-parity", set_dir, "%d services: images, env names, ports and probes equal k3s%s%s" % (
            len(both), "; managed or not deployed: " + ", ".join(only_k3s) if only_k3s else "",
            "; waiting for promotion: " + ", ".join(sorted(pending)) if pending else ""))


# ---------------------------------------------------------------- secrets
def check_secrets(set_dir, k3s_dir):
    values = set()
    path = os.path.join(k3s_dir, "secrets.yaml")
    if os.path.exists(path):
        for d in load_docs([path]):
            for v in (d.get("stringData") or {}).values():
                if len(v) >= 4:
                    values.add(v)
    leaks = []
    nfiles = 0
    for base, _, files in os.walk(set_dir):
        for f in files:
            nfiles += 1
            text = open(os.path.join(base, f), encoding="utf-8", errors="replace").read()
            leaks += ["%s holds a dev secret value" % os.path.join(base, f) for v in values if v in text]
            if re.search(r"^kind: Secret$", text, re.M):
                leaks.append("%s defines a Secret" % os.path.join(base, f))
    if leaks:
        emit("FAIL", "no-secret-values", set_dir, leaks[0])
    else:
        emit("PASS", "no-secret-values", set_dir, "none of %d dev secret values in %d files, no Secret objects" % (len(values), nfiles))


def main():
    set_dir, rendered, k3s_dir = sys.argv[1:4]
    for check in (lambda: check_terraform(set_dir),
                  lambda: check_parity(set_dir, rendered, k3s_dir) if os.path.exists(rendered) else None,
                  lambda: check_secrets(set_dir, k3s_dir)):
        try:
            check()
        except Exception as e:  # a crash is a failed check, not a silent pass
            emit("FAIL", "conformance-helm.py", set_dir, "%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
