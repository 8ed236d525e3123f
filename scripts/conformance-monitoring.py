"""Checks the monitoring envc generates, with the real promtool and the operator's CRDs.

For every artifact set given (a rendered manifest stream `<env>--<mode>.yaml`, as
`kubectl kustomize` or `helm template` prints it, or a Compose set's directory):

- every Prometheus rule file (a config file whose YAML has `groups`: the lakehouse's
  prometheus-rules, in ConfigMaps or Compose's files/) and the spec of every PrometheusRule
  object: `promtool check rules`;
- every Prometheus configuration (YAML with `scrape_configs`): `promtool check config`, with
  the set's rule files in place of its `rule_files`. Debian's promtool is built without
  Kubernetes service discovery (`+ds`), so each `kubernetes_sd_configs` is replaced by an empty
  `static_configs` and the pod's mounted service-account files by an empty local file; all else
  (relabelling, authorization, TLS, intervals, the rules) is checked as written;
- every Grafana dashboard (JSON with `panels`): it parses, every panel query is valid PromQL
  (promtool, as recording rules) and names only metrics the set's scrapes or rules know: `up`
  and the other series Prometheus writes for every scrape, the kubelet's cAdvisor metrics
  where a scrape job reads `/metrics/cadvisor`, and every metric a rule of the set uses;
- every PodMonitor and PrometheusRule (monitoring.coreos.com/v1) against the vendored
  prometheus-operator CRDs, strictly (scripts/conformance-crds.py's schemas).

Usage: conformance-monitoring.py PROMTOOL CRD_DIR INPUT...   (PASS/FAIL lines; exit 1 on a failure)
       conformance-monitoring.py --self-test PROMTOOL CRD_DIR (planted mistakes are refused)
"""

import copy
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
GROUP = "monitoring.coreos.com/v1"

# Series Prometheus writes for every scrape target.
SCRAPE_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                 "scrape_samples_post_metric_relabeling", "scrape_series_added"}
# The kubelet's cAdvisor metrics the generated rules and dashboards read.
CADVISOR = {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
            "container_start_time_seconds", "container_spec_memory_limit_bytes",
            "container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on",
            "ignoring", "group_left", "group_right"}


def crd_module():
    spec = importlib.util.spec_from_file_location("conformance_crds", os.path.join(HERE, "conformance-crds.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def metric_names(expr):
    """The metric names a PromQL expression reads (selectors, not functions or labels)."""
    e = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        if m.group(2) or m.group(1).lower() in KEYWORDS:
            continue
        names.add(m.group(1))
    return names


class Set:
    """What one artifact set holds: config files by name, and operator objects."""

    def __init__(self, label):
        self.label = label
        self.files = []      # (name, text)
        self.objects = []    # custom resources of the operator

    def yaml_files(self, key):
        # By content: a ConfigMap's keys are the model's file names, without extensions.
        for name, text in self.files:
            if self.dashboard(text) is not None:
                continue
            try:
                doc = yaml.safe_load(text)
            except yaml.YAMLError:
                continue
            if isinstance(doc, dict) and key in doc:
                yield name, doc

    @staticmethod
    def dashboard(text):
        """The dashboard a file holds: a JSON object with `panels`."""
        if not text.lstrip().startswith("{"):
            return None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            return e
        return d if isinstance(d, dict) and "panels" in d else None

    def dashboards(self):
        for name, text in self.files:
            d = self.dashboard(text)
            if d is not None:
                yield name, d


def read_stream(path):
    s = Set(os.path.basename(path).rsplit(".", 1)[0].replace("--", "/"))
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "ConfigMap":
                for k, v in (doc.get("data") or {}).items():
                    s.files.append(("%s/%s" % (doc["metadata"]["name"], k), v))
            elif doc.get("apiVersion") == GROUP:
                s.objects.append(doc)
    return s


def read_compose(path):
    parts = os.path.normpath(path).split(os.sep)
    s = Set("/".join(parts[-2:]))
    for f in sorted(glob.glob(os.path.join(path, "files", "**", "*"), recursive=True)):
        if os.path.isfile(f):
            with open(f, encoding="utf-8", errors="replace") as fh:
                s.files.append((os.path.relpath(f, path), fh.read()))
    return s


def promtool(tool, *args):
    """(passed, output); passed is None when no promtool is installed (the check is skipped)."""
    if tool is None:
        return None, "promtool is not installed"
    p = subprocess.run([tool, *args], capture_output=True, text=True)
    return p.returncode == 0, (p.stdout + p.stderr).strip()


class Report:
    def __init__(self, quiet=False):
        self.failed = 0
        self.passed = 0
        self.skipped = 0
        self.quiet = quiet

    def check(self, ok, label, detail=""):
        if ok is None:
            self.skipped += 1
            if not self.quiet:
                print("SKIP %s (%s)" % (label, detail))
            return
        if self.quiet:
            self.failed += 0 if ok else 1
            return
        print("%s %s" % ("PASS" if ok else "FAIL", label))
        if not ok:
            self.failed += 1
            for line in detail.splitlines()[:15]:
                print("    " + line)
        else:
            self.passed += 1


def rule_files(s):
    """(name, rules document) of every rule file and PrometheusRule spec of a set."""
    out = [(n, d) for n, d in s.yaml_files("groups")]
    for o in s.objects:
        if o.get("kind") == "PrometheusRule":
            out.append(("PrometheusRule %s/%s" % (o["metadata"].get("namespace"), o["metadata"]["name"]), o.get("spec") or {}))
    return out


def prepared_config(doc, rules, token):
    """The config as Debian's promtool can check it (see the module's documentation)."""
    c = copy.deepcopy(doc)
    for sc in c.get("scrape_configs") or []:
        if sc.pop("kubernetes_sd_configs", None) is not None:
            sc.setdefault("static_configs", [{"targets": []}])

    def files(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("credentials_file", "bearer_token_file", "ca_file", "cert_file", "key_file") \
                        and isinstance(v, str) and v.startswith("/var/run/secrets/"):
                    node[k] = token
                else:
                    files(v)
        elif isinstance(node, list):
            for v in node:
                files(v)
    files(c)
    c["rule_files"] = rules
    return c


def known_metrics(s, rules):
    known = set(SCRAPE_SERIES)
    for _, d in s.yaml_files("scrape_configs"):
        if any(sc.get("metrics_path") == "/metrics/cadvisor" for sc in d.get("scrape_configs") or []):
            known |= CADVISOR
    for _, d in rules:
        for g in d.get("groups") or []:
            for r in g.get("rules") or []:
                known |= metric_names(str(r.get("expr", "")))
    return known


def panel_queries(panels):
    for p in panels or []:
        for t in p.get("targets") or []:
            if t.get("expr"):
                yield p.get("id"), t.get("refId", "A"), t["expr"]
        yield from panel_queries(p.get("panels"))


def check_set(tool, schemas, crds, s, work, rep):
    rules = rule_files(s)
    paths = []
    for i, (name, doc) in enumerate(rules):
        path = os.path.join(work, "rules-%d.yml" % i)
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        paths.append(path)
        ok, out = promtool(tool, "check", "rules", path)
        count = sum(len(g.get("rules") or []) for g in doc.get("groups") or [])
        rep.check(ok, "promtool check rules %s: %s (%d rules)" % (s.label, name, count), out)
    token = os.path.join(work, "token")
    open(token, "w").close()
    for i, (name, doc) in enumerate(s.yaml_files("scrape_configs")):
        path = os.path.join(work, "prometheus-%d.yml" % i)
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(prepared_config(doc, paths, token), f, sort_keys=False)
        ok, out = promtool(tool, "check", "config", path)
        rep.check(ok, "promtool check config %s: %s (%d scrape jobs, with its %d rule files)"
                  % (s.label, name, len(doc.get("scrape_configs") or []), len(paths)), out)
    known = known_metrics(s, rules)
    for name, d in s.dashboards():
        if isinstance(d, json.JSONDecodeError):
            rep.check(False, "dashboard %s: %s parses as JSON" % (s.label, name), str(d))
            continue
        queries = list(panel_queries(d["panels"]))
        record = {"groups": [{"name": "dashboard", "rules": [
            {"record": "envc_dashboard:panel_%s_%s" % (pid, ref), "expr": q} for pid, ref, q in queries]}]}
        path = os.path.join(work, "dashboard.yml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(record, f, sort_keys=False)
        ok, out = promtool(tool, "check", "rules", path)
        rep.check(ok and bool(queries) if ok is not None else None, "dashboard %s: %s: %d panel queries are valid PromQL" % (s.label, name, len(queries)),
                  out or "no panel has a query")
        unknown = ["panel %s %s: %s" % (pid, ref, ", ".join(sorted(metric_names(q) - known)))
                   for pid, ref, q in queries if metric_names(q) - known]
        rep.check(not unknown, "dashboard %s: %s: every query names a metric the scrapes or rules know" % (s.label, name),
                  "\n".join(unknown))
    for o in s.objects:
        errs = crds.errors_of(schemas, o)
        rep.check(not errs, "crd-schema %s %s/%s (%s)" % (o.get("kind"), o["metadata"].get("namespace"),
                                                          o["metadata"].get("name"), s.label), "\n".join(errs))


def main(argv):
    """PROMTOOL is `-` where none is installed: the promtool checks are skipped (SKIP lines)."""
    if argv[:1] == ["--self-test"]:
        return self_test(None if argv[1] == "-" else argv[1], argv[2])
    tool, crd_dir, inputs = argv[0], argv[1], argv[2:]
    tool = None if tool == "-" else tool
    crds = crd_module()
    schemas = crds.load_crds(crd_dir)
    rep = Report()
    kinds = set()
    for inp in inputs:
        s = read_compose(inp) if os.path.isdir(inp) else read_stream(inp)
        kinds |= {o.get("kind") for o in s.objects}
        with tempfile.TemporaryDirectory() as work:
            check_set(tool, schemas, crds, s, work, rep)
    # The checks must have had something to check: the scenarios use the operator.
    for kind in ("PodMonitor", "PrometheusRule"):
        rep.check(kind in kinds, "the sets hold %s objects to check" % kind)
    print("monitoring: %d passed, %d failed, %d skipped" % (rep.passed, rep.failed, rep.skipped))
    return 1 if rep.failed else 0


def self_test(tool, crd_dir):
    """Planted mistakes, each of which a check must refuse."""
    crds = crd_module()
    schemas = crds.load_crds(crd_dir)
    ok_rule = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m"}]}]}
    good_pm = {"apiVersion": GROUP, "kind": "PodMonitor", "metadata": {"name": "a", "namespace": "n"},
               "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "a"}},
                        "podMetricsEndpoints": [{"port": "http", "path": "/metrics"}]}}
    bad_pm = copy.deepcopy(good_pm)
    bad_pm["spec"]["podMetricEndpoints"] = bad_pm["spec"].pop("podMetricsEndpoints")
    bad_pr = {"apiVersion": GROUP, "kind": "PrometheusRule", "metadata": {"name": "a"},
              "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "five minutes"}]}]}}
    rep = Report()
    with tempfile.TemporaryDirectory() as work:
        def rules_ok(doc):
            path = os.path.join(work, "r.yml")
            with open(path, "w", encoding="utf-8") as f:
                yaml.safe_dump(doc, f)
            return promtool(tool, "check", "rules", path)[0]

        def refused(ok):
            return None if ok is None else not ok
        rep.check(rules_ok(ok_rule), "self-test: a valid rule file passes promtool", "promtool is not installed")
        bad = copy.deepcopy(ok_rule)
        bad["groups"][0]["rules"][0]["expr"] = "sum by (pod (up)"
        rep.check(refused(rules_ok(bad)), "self-test: a rule with broken PromQL is refused", "promtool is not installed")
        cfg = os.path.join(work, "p.yml")
        with open(cfg, "w", encoding="utf-8") as f:
            yaml.safe_dump({"scrape_configs": [{"job_name": "a", "scrape_intervall": "15s"}]}, f)
        rep.check(refused(promtool(tool, "check", "config", cfg)[0]), "self-test: a config with an unknown field is refused",
                  "promtool is not installed")
        s = Set("self-test/dashboard")
        s.files = [("cm/rules.yml", yaml.safe_dump(ok_rule)),
                   ("cm/d.json", json.dumps({"panels": [{"id": 1, "targets": [{"refId": "A", "expr": "rate(made_up_total[5m])"}]}]}))]
        inner = Report(quiet=True)
        check_set(tool, schemas, crds, s, work, inner)
        rep.check(inner.failed == 1, "self-test: a dashboard query on a metric nothing scrapes is refused")
    rep.check(not crds.errors_of(schemas, good_pm), "self-test: a valid PodMonitor passes its CRD")
    rep.check(bool(crds.errors_of(schemas, bad_pm)), "self-test: a PodMonitor with a misspelt field is refused")
    rep.check(bool(crds.errors_of(schemas, bad_pr)), "self-test: a PrometheusRule with a bad duration is refused")
    names = metric_names('sum by (pod) (rate(a_total{x="b{c}"}[5m])) / on(pod) group_left b offset 5m > bool 1e3')
    rep.check(names == {"a_total", "b"}, "self-test: metric names are read from PromQL (%s)" % sorted(names))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
