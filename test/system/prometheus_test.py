"""The rollout templates and alert rules of docker/k8s/ against a real Prometheus scraping the
real binary.

A live and a shadow backend (real HTTP servers on 127.0.0.1) answer the same JSON, except that
the shadow changes a field on every 4th item and drops the connection without an answer on
every 10th: a known discrepancy rate and a known shadow-error rate. parallax mirrors 100% of
the route `app`. Debian's Prometheus (127.0.0.1 only, scrape_interval 1s) scrapes parallax's
admin /metrics as a static target with the labels `namespace` and `pod`, as the PodMonitor
gives them, and loads the rules of prometheus-rules.yaml. After traffic, once Prometheus holds
the final counts:
- every query of analysis-template.yaml and flagger-metric-template.yaml, its template
  variables substituted, runs through /api/v1/query without error and returns a number (the
  minimum-sample guard passed); the discrepancy-rate queries equal parallax's own /report
  differ/compared within 0.01 (and the shadow-error-rate queries shadow_error/compared);
- with too few samples the guard answers as documented: -1 (Argo: inconclusive) or no value
  (Flagger: no values found);
- every alert expression evaluates; exactly the provoked ones hold (shadow errors, and a
  rejected reload made by a POST /reload of a broken file), the others stay quiet; Prometheus
  evaluated every rule without error;
- `promtool check rules` accepts the rules extracted from the PrometheusRule's spec.
Every wait is bounded; Prometheus and parallax are stopped in `finally`.

Local helpers beyond harness.py: the Prometheus process and its HTTP API.
"""

import http.server
import json
import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Parallax, arguments, check, fail, free_port, get_json, json_backend,  # noqa: E402
                     request, scratch_dir, wait_for)

ROUTE = "app"
NAMESPACE = "shop"
TARGET = "myapp"                                # the Flagger target (Deployment name)
STABLE_HASH = "5f7c9d8b4"                       # the Argo stable ReplicaSet's pod-template-hash
POD = "%s-primary-%s-x2x9z" % (TARGET, STABLE_HASH)   # matches both templates' pod selectors
REQUESTS = 1000                                 # above the templates' minimum of 200 compared
CLIENTS = 4                                     # concurrent client threads
FLAGGER_INTERVAL = "5m"                         # covers the whole test: every sample in the window
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def item(i):
    return {"id": i, "name": "item %d" % i, "price": 10 + i % 7}


def shadow_fails(i):
    return i % 10 == 5


def shadow_differs(i):
    return i % 4 == 0 and not shadow_fails(i)


def item_number(path):
    """N of /api/items/N."""
    return int(path.rsplit("/", 1)[1])


def preview_item(i):
    """The preview: `price` as a string on every 4th item, no answer on every 10th."""
    if shadow_fails(i):
        return None
    document = item(i)
    if shadow_differs(i):
        document["price"] = str(document["price"])
    return document


class Prometheus:
    """Debian's Prometheus on 127.0.0.1:<free port> with a temporary TSDB."""

    def __init__(self, workdir, scrape_config, rule_file):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
                  "rule_files": [rule_file],
                  "scrape_configs": [scrape_config]}
        config_path = os.path.join(workdir, "prometheus.yml")
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        self.log_path = os.path.join(workdir, "prometheus.log")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config_path,
             "--storage.tsdb.path=" + os.path.join(workdir, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=workdir)
        wait_for("Prometheus to be ready", self._ready, 60)

    def _ready(self):
        if self.process.poll() is not None:
            fail("prometheus exited with %d:\n%s" % (self.process.returncode, self.log()))
        try:
            return request(self.url + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def log(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def query(self, expression):
        """(status, result list or error text) of an instant query at now."""
        status, _, body = request(self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
        answer = json.loads(body)
        if status != 200 or answer.get("status") != "success":
            return False, answer.get("error", body[:300])
        check(answer["data"]["resultType"] in ("vector", "scalar"),
              "unexpected result type %s for %s" % (answer["data"]["resultType"], expression))
        if answer["data"]["resultType"] == "scalar":
            return True, [{"metric": {}, "value": answer["data"]["result"]}]
        return True, answer["data"]["result"]

    def value(self, expression):
        """The single value of `expression`, or None when it has none."""
        ok, result = self.query(expression)
        check(ok, "query %s failed: %s" % (expression, result))
        check(len(result) <= 1, "query %s returned %d series" % (expression, len(result)))
        return float(result[0]["value"][1]) if result else None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def argo_queries(template, overrides):
    """[(metric name, query)] with {{args.X}} substituted: defaults, then `overrides`."""
    values = {a["name"]: str(a["value"]) for a in template["spec"]["args"] if "value" in a}
    values.update(overrides)

    def substitute(match):
        name = match.group(1)
        check(name in values, "AnalysisTemplate: no value for {{args.%s}}" % name)
        return values[name]
    return [(m["name"], re.sub(r"\{\{\s*args\.([\w-]+)\s*\}\}", substitute, m["provider"]["prometheus"]["query"]))
            for m in template["spec"]["metrics"]]


def flagger_query(template, variables):
    def substitute(match):
        name = match.group(1)
        check(name in variables, "MetricTemplate %s: no value for {{ %s }}" % (template["metadata"]["name"], name))
        return variables[name]
    return re.sub(r"\{\{\s*([\w.]+)\s*\}\}", substitute, template["spec"]["query"])


def main():
    args = arguments()
    binary = os.path.abspath(args.binary)
    k8s = os.path.join(args.source_dir, "docker", "k8s")
    for tool in (PROMETHEUS, PROMTOOL):
        check(os.access(tool, os.X_OK), "%s is missing (scripts/setup installs the prometheus package)" % tool)
    load = lambda name: [d for d in yaml.safe_load_all(open(os.path.join(k8s, name))) if d]
    analysis = [d for d in load("analysis-template.yaml") if d["kind"] == "AnalysisTemplate"]
    metric_templates = [d for d in load("flagger-metric-template.yaml") if d["kind"] == "MetricTemplate"]
    rules = [d for d in load("prometheus-rules.yaml") if d["kind"] == "PrometheusRule"]
    check(len(analysis) == 1 and metric_templates and len(rules) == 1, "templates or rules missing in %s" % k8s)
    analysis, rules = analysis[0], rules[0]

    expected = {"compared": REQUESTS,
                "shadow_error": sum(1 for i in range(REQUESTS) if shadow_fails(i)),
                "differ": sum(1 for i in range(REQUESTS) if shadow_differs(i))}

    with scratch_dir("prometheus") as scratch:
        # The rules file Prometheus without the operator would use: the PrometheusRule's spec.
        rule_file = os.path.join(scratch, "parallax-rules.yml")
        with open(rule_file, "w") as f:
            yaml.safe_dump(rules["spec"], f, sort_keys=False)
        checked = subprocess.run([PROMTOOL, "check", "rules", rule_file], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, timeout=60)
        check(checked.returncode == 0, "promtool check rules: exit %d\n%s" % (checked.returncode, checked.stdout))

        live = json_backend(lambda path: item(item_number(path)))
        shadow = json_backend(lambda path: preview_item(item_number(path)))
        proxy = prometheus = None
        try:
            config = {
                "version": 1,
                "listeners": [{"name": "public", "address": "127.0.0.1:0"}],
                "admin": {"address": "127.0.0.1:0"},
                "workers": 2,
                # Generous timeouts: the counts are asserted exactly, a loaded machine must not
                # turn a slow answer into a shadow error.
                "upstreams": {"live": {"endpoints": [live.address], "connect_timeout": "10s"},
                              "preview": {"endpoints": [shadow.address], "connect_timeout": "10s",
                                          "request_timeout": "20s"}},
                "routes": [{"name": ROUTE, "upstream": "live",
                            "mirror": {"upstream": "preview", "percent": 100, "max_inflight": 1024}}],
                "reports": {"discrepancies": {"path": "discrepancies.jsonl"}},
            }
            workdir = os.path.join(scratch, "parallax")
            os.makedirs(workdir)
            proxy = Parallax(binary, yaml.safe_dump(config), workdir)

            started = time.monotonic()
            prometheus = Prometheus(scratch, {
                "job_name": "parallax",
                "static_configs": [{"targets": ["127.0.0.1:%d" % proxy.admin_port],
                                    "labels": {"namespace": NAMESPACE, "pod": POD}}],
            }, rule_file)
            # The first scrape, before any traffic: every counter starts from a sample of 0, so
            # increase() over the window counts exactly what parallax counted.
            wait_for("the first scrape of parallax",
                     lambda: prometheus.value('count(parallax_mirror_compared_total{route="%s"})' % ROUTE), 30)

            def client(first):
                for i in range(first, REQUESTS, CLIENTS):
                    status, _, body = request("%s/api/items/%d" % (proxy.url, i))
                    if status != 200 or json.loads(body) != item(i):
                        errors.append("request %d: %d %r" % (i, status, body[:200]))
            errors = []
            clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join(timeout=120)
                check(not thread.is_alive(), "a client thread is still sending after 120 s")
            check(not errors, "live answers through parallax: %s" % errors[:5])
            report = wait_for("parallax to compare every exchange", lambda: (
                lambda r: r if r["totals"]["compared"] == REQUESTS else None)(get_json(proxy.admin + "/report")), 30)
            totals = report["totals"]
            for key, count in expected.items():
                if totals[key] != count:
                    status, _, metrics = request(proxy.admin + "/metrics")
                    errors = re.findall(r"^parallax_upstream_errors_total.*[1-9]\d*$", metrics.decode(), re.M)
                    fail("/report %s is %s, expected %d: %r; upstream errors: %s" % (key, totals[key], count, totals, errors))
            report_rate = totals["differ"] / totals["compared"]
            report_error_rate = totals["shadow_error"] / totals["compared"]

            # A broken configuration file, reloaded: a rejected reload for the alert to see.
            with open(proxy.config_path, "w") as f:
                f.write("version: 1\nlisteners: []\n")
            status, _, body = request(proxy.admin + "/reload", method="POST", body=b"")
            check(status == 400, "POST /reload of a broken file answered %d %r" % (status, body[:200]))

            wait_for("Prometheus to scrape the final counts", lambda: (
                prometheus.value('sum(parallax_mirror_compared_total{route="%s"})' % ROUTE) == REQUESTS
                and prometheus.value('sum(parallax_mirror_live_duration_seconds_count{route="%s"})' % ROUTE) == REQUESTS
                and prometheus.value('parallax_config_reloads_total{result="rejected"}') == 1), 30)

            # Argo Rollouts: defaults for window and min-compared, the Rollout's args for the rest.
            argo_args = {"route": ROUTE, "namespace": NAMESPACE, "stable-hash": STABLE_HASH}
            measured = {}
            for name, query in argo_queries(analysis, argo_args):
                value = prometheus.value(query)
                check(value is not None and math.isfinite(value) and value >= 0,
                      "AnalysisTemplate %s returned %r (-1: the guard found too few samples)\n%s" % (name, value, query))
                measured["argo " + name] = value
            # Flagger: the Canary's namespace, target, interval and templateVariables.
            flagger_vars = {"namespace": NAMESPACE, "target": TARGET, "name": TARGET, "service": TARGET,
                            "ingress": TARGET, "interval": FLAGGER_INTERVAL, "variables.route": ROUTE}
            for template in metric_templates:
                value = prometheus.value(flagger_query(template, flagger_vars))
                check(value is not None and math.isfinite(value) and value >= 0,
                      "MetricTemplate %s returned %r" % (template["metadata"]["name"], value))
                measured["flagger " + template["metadata"]["name"]] = value

            for name, value in measured.items():
                if "discrepancy-rate" in name:
                    check(abs(value - report_rate) <= 0.01, "%s = %.4f, /report differ/compared = %.4f" % (name, value, report_rate))
                elif "shadow-error-rate" in name:
                    check(abs(value - report_error_rate) <= 0.01,
                          "%s = %.4f, /report shadow_error/compared = %.4f" % (name, value, report_error_rate))
                else:
                    check("p99-ratio" in name and value > 0, "%s = %r" % (name, value))
            check(sum("discrepancy-rate" in n for n in measured) == 2, "expected an Argo and a Flagger discrepancy rate: %r" % measured)

            # The minimum-sample guard: too few compared exchanges give -1 (Argo: inconclusive)
            # and no value at all (Flagger: "no values found", a failed check).
            for name, query in argo_queries(analysis, dict(argo_args, **{"min-compared": str(REQUESTS * 10)})):
                check(prometheus.value(query) == -1, "AnalysisTemplate %s: the guard did not give -1" % name)
            for name, query in argo_queries(analysis, dict(argo_args, route="unknown")):
                check(prometheus.value(query) == -1, "AnalysisTemplate %s for a route without traffic is not -1" % name)
            for template in metric_templates:
                value = prometheus.value(flagger_query(template, dict(flagger_vars, **{"variables.route": "unknown"})))
                check(value is None, "MetricTemplate %s for a route without traffic gave %r" % (template["metadata"]["name"], value))

            # Alerts: every expression evaluates; exactly the provoked ones hold.
            firing = set()
            for group in rules["spec"]["groups"]:
                for rule in group["rules"]:
                    ok, result = prometheus.query(rule["expr"])
                    check(ok, "alert %s: %s" % (rule.get("alert"), result))
                    if result:
                        firing.add(rule["alert"])
            check(firing == {"ParallaxShadowErrors", "ParallaxReloadRejected"},
                  "alert expressions holding: %s (expected the shadow errors and the rejected reload)" % sorted(firing))

            def evaluated():
                groups = get_json(prometheus.url + "/api/v1/rules")["data"]["groups"]
                loaded = [r for g in groups for r in g["rules"]]
                check(len(loaded) == sum(len(g["rules"]) for g in rules["spec"]["groups"]),
                      "Prometheus loaded %d rules" % len(loaded))
                # Evaluated after the final scrape (the rejected-reload rule holds by now).
                return all(r["health"] == "ok" for r in loaded) and all(
                    r["state"] != "inactive" for r in loaded if r["name"] in firing) and loaded
            loaded = wait_for("Prometheus to evaluate every rule", evaluated, 30)
            for rule in loaded:
                check(not rule.get("lastError"), "rule %s: %s" % (rule["name"], rule.get("lastError")))

            print("prometheus_test: %d compared, /report differ/compared %.4f, shadow_error/compared %.4f; %s; %.1f s"
                  % (REQUESTS, report_rate, report_error_rate,
                     ", ".join("%s %.4f" % (n, v) for n, v in sorted(measured.items())), time.monotonic() - started))
        except SystemExit:
            if prometheus is not None:
                print("prometheus log (tail):\n" + prometheus.log(), file=sys.stderr)
            raise
        finally:
            if prometheus is not None:
                prometheus.stop()
            if proxy is not None:
                code = proxy.stop()
                check(code == 0, "parallax exited %d; output:\n%s" % (code, proxy.lines()))
            live.close()
            shadow.close()


if __name__ == "__main__":
    main()
