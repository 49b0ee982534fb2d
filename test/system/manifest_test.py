"""The Kubernetes manifests in docker/k8s/ agree with each other and with the real binary.

Every manifest is parsed (multi-document YAML). For each Deployment with parallax in it
(sidecar.yaml: native sidecar; sidecar-classic.yaml: a second regular container):
- the ConfigMap's parallax.yaml passes `parallax check`, with the container's environment;
- the container ports are the listener and admin ports of that file; the Service's targetPort
  is a listener port (never admin, never the app's);
- every parallax probe is an httpGet on the admin port, and the real binary (run with the same
  file, ports rewritten to 127.0.0.1:0) answers 200 on each probe path; the app's own probes go
  through parallax's listener on a route that is not mirrored (checked for real: the probe is
  answered by the live backend and nothing is sampled);
- the args, the ConfigMap mount at the --config path, the emptyDir at the working directory
  where every report file lands, every volume mount naming a defined volume;
- runAsNonRoot, uid 65534, readOnlyRootFilesystem, no privilege escalation, capabilities
  dropped, resources; the admin token from a Secret when the file references one;
- native: restartPolicy Always in initContainers and a startupProbe; classic: a preStop hook
  on the app that outlasts drain_delay; terminationGracePeriodSeconds covers the drain.
The NetworkPolicy and the PodMonitor select the pod's labels and name the admin port (the
proxy port open to the cluster, admin to the monitoring namespace only). Every PromQL
expression of the AnalysisTemplate, the Flagger MetricTemplates and the PrometheusRule names
only metrics the binary's /metrics really exposes (scraped), with label values it really
uses, and every alert is explained in docs/operations.md.

Helpers beyond harness.py (manifest walking, PromQL name extraction) are local to this file.
"""

import glob
import os
import re
import signal
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Parallax, arguments, check, fail, json_backend, request, scratch_dir  # noqa: E402

TARGET_LABELS = {"namespace", "pod", "job", "instance", "container", "endpoint", "service"}
PROMQL_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
                   "group_right", "bool", "offset", "inf", "nan"}


# ---------------------------------------------------------------------------------------------
# Small readers

def duration_seconds(text, where=""):
    """A parallax duration ("250ms", "5s", "2m", "1h") in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(text))
    check(match, "%snot a duration: %r" % (where and where + ": ", text))
    return float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def address_port(address):
    return int(str(address).rsplit(":", 1)[1])


def subset(labels, of):
    """Whether every key/value of `labels` is in `of` (a label selector's matchLabels)."""
    return bool(labels) and all(of.get(k) == v for k, v in labels.items())


def all_containers(spec):
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def container_port(container, port):
    """A probe's or a policy's port (a number or a name of one of `container`'s ports) as a
    number, or None when the name is not one of its ports."""
    if isinstance(port, int):
        return port
    if str(port).isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    return None


def probes(container):
    return [(kind, container[kind]) for kind in ("startupProbe", "readinessProbe", "livenessProbe")
            if container.get(kind)]


def sleep_seconds(hook):
    """Seconds a preStop hook sleeps: `exec: sleep N` or the `sleep: {seconds: N}` action."""
    if "sleep" in hook:
        return float(hook["sleep"]["seconds"])
    command = (hook.get("exec") or {}).get("command") or []
    text = " ".join(str(c) for c in command)
    match = re.search(r"\bsleep\s+(\d+(?:\.\d+)?)", text)
    check(match, "preStop hook does not sleep: %r" % command)
    return float(match.group(1))


def env_references(config_text):
    """${NAME} references without a default (they must be set), and with one."""
    required, optional = set(), set()
    for name, default in re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}", config_text):
        (optional if default else required).add(name)
    return required, optional


def check_environment(container):
    """The container's env as `parallax check` would see it in the pod: values as written,
    downward-API fields and Secret keys with stand-in values."""
    env = {}
    for entry in container.get("env") or []:
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
        elif "fieldRef" in (entry.get("valueFrom") or {}):
            env[entry["name"]] = "default"
        elif "secretKeyRef" in (entry.get("valueFrom") or {}):
            env[entry["name"]] = "manifest-test-token"
        else:
            fail("env %s of %s: unsupported source %r" % (entry["name"], container["name"], entry))
    return env


# ---------------------------------------------------------------------------------------------
# PromQL: the metrics and label matchers an expression names

def promql_selectors(expression):
    """(metric, [(label, op, value)]) for every selector of `expression` (template placeholders
    already substituted), and the bare metric names outside selectors."""
    selectors = []
    for metric, body in re.findall(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}", expression):
        matchers = re.findall(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"', body)
        selectors.append((metric, matchers))
    text = re.sub(r'"[^"]*"', '""', expression)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in PROMQL_KEYWORDS:
            continue
        names.add(word)
    return selectors, names


def parse_exposition(text):
    """{sample name: [labels dict, ...]} from Prometheus text format."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{([^}]*)\})?\s+\S+", line)
        check(match, "/metrics: unparsable line %r" % line)
        labels = dict(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        samples.setdefault(match.group(1), []).append(labels)
    return samples


def check_promql(where, expression, exposed):
    selectors, names = promql_selectors(expression)
    for metric, _ in selectors:
        names.add(metric)
    check(names, "%s: no metric in %r" % (where, expression))
    for name in sorted(names):
        check(name in exposed, "%s: metric %s is not exposed by parallax's /metrics" % (where, name))
    for metric, matchers in selectors:
        series = exposed[metric]
        known = set().union(*(set(s) for s in series)) | TARGET_LABELS
        for label, op, value in matchers:
            check(label in known, "%s: %s has no label %r (it has %s)" % (where, metric, label, sorted(known)))
            if op == "=" and label not in TARGET_LABELS and "{{" not in value:
                check(any(s.get(label) == value for s in series),
                      "%s: no series %s{%s=%r} on /metrics (values: %s)"
                      % (where, metric, label, value, sorted({s.get(label) for s in series})))
    return names


# ---------------------------------------------------------------------------------------------
# The pod with parallax in it

class Sidecar:
    """One manifest file's Deployment with parallax, its ConfigMap and Service."""

    def __init__(self, path, docs):
        self.path = path
        self.name = os.path.basename(path)
        kinds = {}
        for doc in docs:
            kinds.setdefault(doc["kind"], []).append(doc)
        check(len(kinds.get("Deployment", [])) == 1, "%s: one Deployment expected" % self.name)
        self.deployment = kinds["Deployment"][0]
        self.services = kinds.get("Service", [])
        self.configmaps = {c["metadata"]["name"]: c for c in kinds.get("ConfigMap", [])}
        template = self.deployment["spec"]["template"]
        self.labels = template["metadata"]["labels"]
        self.spec = template["spec"]
        native = [c for c in self.spec.get("initContainers") or [] if "parallax" in c.get("image", "")]
        regular = [c for c in self.spec.get("containers") or [] if "parallax" in c.get("image", "")]
        check(len(native) + len(regular) == 1, "%s: exactly one parallax container expected" % self.name)
        self.native = bool(native)
        self.parallax = (native + regular)[0]
        self.apps = [c for c in self.spec.get("containers") or [] if c is not self.parallax]
        check(self.apps, "%s: no application container" % self.name)

        args = self.parallax.get("args") or []
        check("--config" in args, "%s: parallax args lack --config: %r" % (self.name, args))
        self.config_path = args[args.index("--config") + 1]
        self.config_text = self.mounted_file(self.config_path)
        self.config = yaml.safe_load(self.config_text)
        self.listener_ports = {address_port(l["address"]) for l in self.config["listeners"]}
        self.admin_port = address_port((self.config.get("admin") or {}).get("address", "127.0.0.1:9901"))

    def mount_for(self, path):
        """The parallax container's volume mount holding `path` (the deepest one), with its volume."""
        best = None
        for mount in self.parallax.get("volumeMounts") or []:
            root = mount["mountPath"].rstrip("/") + "/"
            if path.startswith(root) and (best is None or len(root) > len(best[0]["mountPath"])):
                best = (mount, self.volume(mount["name"]))
        return best

    def volume(self, name):
        for volume in self.spec.get("volumes") or []:
            if volume["name"] == name:
                return volume
        fail("%s: volume %r is mounted but not defined" % (self.name, name))

    def mounted_file(self, path):
        """The text of the ConfigMap key mounted at `path` in the parallax container."""
        found = self.mount_for(path)
        check(found, "%s: nothing mounted at %s" % (self.name, path))
        mount, volume = found
        check("configMap" in volume, "%s: %s is not from a ConfigMap" % (self.name, path))
        configmap = self.configmaps.get(volume["configMap"]["name"])
        check(configmap, "%s: ConfigMap %r is not in the file" % (self.name, volume["configMap"]["name"]))
        relative = path[len(mount["mountPath"].rstrip("/")) + 1:]
        key = relative
        for item in volume["configMap"].get("items") or []:
            if item["path"] == relative:
                key = item["key"]
        check(key in configmap.get("data", {}), "%s: ConfigMap has no key %r" % (self.name, key))
        return configmap["data"][key]

    def workdir(self):
        return self.parallax.get("workingDir", "/var/lib/parallax")


def check_static(sidecar):
    """Everything that can be checked without running the binary."""
    name, parallax, spec, config = sidecar.name, sidecar.parallax, sidecar.spec, sidecar.config

    selector = sidecar.deployment["spec"]["selector"]["matchLabels"]
    check(subset(selector, sidecar.labels), "%s: Deployment selector %r does not select its pods" % (name, selector))
    check(parallax.get("args") == ["run", "--config", "/etc/parallax/parallax.yaml", "--watch"],
          "%s: parallax args are %r" % (name, parallax.get("args")))
    raw = open(sidecar.path).read()
    for line in raw.splitlines():
        if re.match(r"\s*image:", line):
            check("replace" in line.split("#", 1)[-1] if "#" in line else False,
                  "%s: image line without a comment saying to replace it: %r" % (name, line.strip()))

    # Ports: the container's are the listener and admin ports; the Service targets a listener.
    ports = {int(p["containerPort"]): p.get("name") for p in parallax.get("ports") or []}
    for port in sidecar.listener_ports | {sidecar.admin_port}:
        check(port in ports, "%s: parallax listens on %d but the container does not declare it (%r)" % (name, port, ports))
        check(ports[port], "%s: container port %d has no name" % (name, port))
    for port in ports:
        check(port in sidecar.listener_ports | {sidecar.admin_port},
              "%s: container port %d is neither a listener nor admin" % (name, port))
    check(sidecar.services, "%s: no Service" % name)
    for service in sidecar.services:
        check(subset(service["spec"]["selector"], sidecar.labels), "%s: Service does not select the pods" % name)
        for port in service["spec"]["ports"]:
            target = container_port(parallax, port.get("targetPort", port["port"]))
            check(target in sidecar.listener_ports,
                  "%s: Service port %r targets %r, not a parallax listener port %s"
                  % (name, port.get("name"), port.get("targetPort"), sorted(sidecar.listener_ports)))

    # Upstreams the routes forward to are the app in this pod, on loopback.
    for route in config["routes"]:
        for endpoint in config["upstreams"][route["upstream"]]["endpoints"]:
            check(endpoint.startswith("127.0.0.1:"), "%s: live upstream %s is not the app on 127.0.0.1" % (name, endpoint))
            check(address_port(endpoint) not in ports, "%s: live upstream %s is parallax itself" % (name, endpoint))

    # Probes of parallax: httpGet on the admin port.
    check(probes(parallax), "%s: parallax has no probes" % name)
    kinds = {kind for kind, _ in probes(parallax)}
    check({"readinessProbe", "livenessProbe"} <= kinds, "%s: parallax needs readiness and liveness probes" % name)
    for kind, probe in probes(parallax):
        check("httpGet" in probe, "%s: parallax %s is not an httpGet" % (name, kind))
        port = container_port(parallax, probe["httpGet"]["port"])
        check(port == sidecar.admin_port, "%s: parallax %s on port %r, not admin %d" % (name, kind, probe["httpGet"]["port"], sidecar.admin_port))
    readiness = parallax["readinessProbe"]["httpGet"]["path"]
    check(readiness == "/readyz", "%s: readiness probe path %s: /readyz is the one that turns 503 on SIGTERM" % (name, readiness))

    # Security: non-root 65534, read-only root, nothing to escalate.
    pod_security = spec.get("securityContext") or {}
    security = dict(pod_security, **(parallax.get("securityContext") or {}))
    check(security.get("runAsNonRoot") is True, "%s: runAsNonRoot is not true" % name)
    check(security.get("runAsUser") == 65534, "%s: runAsUser is %r, not 65534" % (name, security.get("runAsUser")))
    own = parallax.get("securityContext") or {}
    check(own.get("readOnlyRootFilesystem") is True, "%s: readOnlyRootFilesystem is not true" % name)
    check(own.get("allowPrivilegeEscalation") is False, "%s: allowPrivilegeEscalation is not false" % name)
    check("ALL" in ((own.get("capabilities") or {}).get("drop") or []), "%s: capabilities ALL not dropped" % name)
    resources = parallax.get("resources") or {}
    for part in ("requests", "limits"):
        check(resources.get(part, {}).get("memory"), "%s: parallax resources.%s.memory missing" % (name, part))
    check(resources["requests"].get("cpu"), "%s: parallax resources.requests.cpu missing" % name)

    # Volumes: every mount names a defined volume; the working directory is a writable emptyDir.
    defined = {v["name"] for v in spec.get("volumes") or []}
    for container in all_containers(spec):
        for mount in container.get("volumeMounts") or []:
            check(mount["name"] in defined, "%s: %s mounts undefined volume %r" % (name, container["name"], mount["name"]))
    workdir = sidecar.workdir()
    check(workdir == "/var/lib/parallax", "%s: workingDir %s (the image's WORKDIR is /var/lib/parallax)" % (name, workdir))
    found = sidecar.mount_for(workdir + "/x")
    check(found and "emptyDir" in found[1] and not found[0].get("readOnly")
          and found[0]["mountPath"].rstrip("/") == workdir,
          "%s: no writable emptyDir mounted at the working directory %s" % (name, workdir))
    check(sidecar.mount_for(sidecar.config_path)[0].get("readOnly") is True, "%s: config mount not read-only" % name)
    reports = config.get("reports") or {}
    paths = [(reports.get("discrepancies") or {}).get("path", "discrepancies.jsonl"),
             (reports.get("summary") or {}).get("path", "")]
    for path in paths:
        if path in ("", "-"):
            continue
        absolute = path if path.startswith("/") else workdir + "/" + path
        found = sidecar.mount_for(absolute)
        check(found and "emptyDir" in found[1] and not found[0].get("readOnly"),
              "%s: report path %s (%s) is not in a writable emptyDir" % (name, path, absolute))

    # Environment: every ${NAME} without a default is set; the admin token comes from a Secret.
    required, _ = env_references(sidecar.config_text)
    env = {e["name"]: e for e in parallax.get("env") or []}
    for variable in sorted(required):
        check(variable in env, "%s: the config references ${%s} but the container does not set it" % (name, variable))
    token = str((config.get("admin") or {}).get("token", ""))
    for variable in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", token):
        source = (env.get(variable) or {}).get("valueFrom") or {}
        check("secretKeyRef" in source, "%s: admin token ${%s} does not come from a Secret" % (name, variable))
        check(source["secretKeyRef"].get("name") and source["secretKeyRef"].get("key"),
              "%s: secretKeyRef of %s needs name and key" % (name, variable))

    # Shutdown: the grace period covers the drain; native vs classic specifics.
    limits = config.get("limits") or {}
    delay = duration_seconds(limits.get("drain_delay", "0s"), name + ": limits.drain_delay")
    drain = duration_seconds(limits.get("drain_timeout", "15s"), name + ": limits.drain_timeout")
    check(delay > 0, "%s: limits.drain_delay is 0: new connections would be refused while the pod leaves endpoints" % name)
    grace = spec.get("terminationGracePeriodSeconds", 30)
    pre_stops = [sleep_seconds(c["lifecycle"]["preStop"]) for c in sidecar.apps
                 if (c.get("lifecycle") or {}).get("preStop")]
    if sidecar.native:
        check(parallax.get("restartPolicy") == "Always", "%s: native sidecar without restartPolicy Always" % name)
        check("startupProbe" in kinds, "%s: native sidecar without a startupProbe (the app would start before parallax listens)" % name)
        # The app stops first (after its preStop), parallax after it: the times add up.
        budget = max(pre_stops or [0]) + delay + drain
        check(grace > budget, "%s: terminationGracePeriodSeconds %s <= app preStop + drain_delay + drain_timeout = %s" % (name, grace, budget))
    else:
        check("restartPolicy" not in parallax, "%s: classic sidecar with a restartPolicy" % name)
        check(pre_stops, "%s: classic sidecar without a preStop hook on the app" % name)
        check(min(pre_stops) >= delay, "%s: the app's preStop (%s s) ends before parallax's drain_delay (%s s)" % (name, min(pre_stops), delay))
        check(grace > delay + drain, "%s: terminationGracePeriodSeconds %s <= drain_delay + drain_timeout = %s" % (name, grace, delay + drain))
        check(grace > max(pre_stops), "%s: terminationGracePeriodSeconds %s <= the app's preStop" % (name, grace))


def app_probe_routes(sidecar):
    """(path, listener port, route) for every httpGet probe of the app containers, each checked
    to go through a parallax listener to a route that is not mirrored."""
    result = []
    for app in sidecar.apps:
        for kind, probe in probes(app):
            if "httpGet" not in probe:
                continue
            port = container_port(app, probe["httpGet"]["port"])
            check(port in sidecar.listener_ports,
                  "%s: %s %s on port %r: the app listens on loopback, probe it through parallax"
                  % (sidecar.name, app["name"], kind, probe["httpGet"]["port"]))
            path = probe["httpGet"].get("path", "/")
            route = None
            for candidate in sidecar.config["routes"]:
                match = candidate.get("match") or {}
                if match.get("host") or match.get("headers"):
                    continue
                if "GET" not in [m.upper() for m in match.get("methods", ["GET"])]:
                    continue
                if "path_exact" in match and path.split("?")[0] != match["path_exact"]:
                    continue
                if "path_prefix" in match and not path.startswith(match["path_prefix"]):
                    continue
                route = candidate
                break
            check(route, "%s: no route matches the app's %s path %s" % (sidecar.name, kind, path))
            check(not route.get("mirror"), "%s: the app's %s (%s) goes to mirrored route %s" % (sidecar.name, kind, path, route["name"]))
            result.append((path, port, route["name"]))
    return result


def run_binary(binary, sidecar, scratch):
    """`parallax check` on the ConfigMap's file, then the real binary with it (ports rewritten to
    127.0.0.1:0, the live upstream a real backend): every probe path answers 200, and /metrics
    as parsed samples."""
    env = check_environment(sidecar.parallax)
    workdir = os.path.join(scratch, sidecar.name.replace(".", "-"))
    os.makedirs(workdir)
    original = os.path.join(workdir, "parallax.yaml")
    with open(original, "w") as f:
        f.write(sidecar.config_text)
    checked = subprocess.run([binary, "check", "--config", original], env=dict(os.environ, **env),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    check(checked.returncode == 0, "%s: `parallax check` of the ConfigMap's parallax.yaml: exit %d\n%s"
          % (sidecar.name, checked.returncode, checked.stdout))

    app_probes = app_probe_routes(sidecar)
    live = json_backend(lambda path: {"app": "live", "path": path})
    try:
        config = yaml.safe_load(sidecar.config_text)
        for listener in config["listeners"]:
            listener["address"] = "127.0.0.1:0"
        config.setdefault("admin", {})["address"] = "127.0.0.1:0"
        for route in config["routes"]:
            config["upstreams"][route["upstream"]]["endpoints"] = [live.address]
        reports = config.get("reports") or {}
        for sink in ("discrepancies", "summary"):
            path = (reports.get(sink) or {}).get("path", "")
            if path.startswith("/"):  # somewhere in the emptyDir: the scratch directory stands in
                reports[sink]["path"] = os.path.join(workdir, os.path.basename(path))
        runtime = os.path.join(workdir, "run")
        os.makedirs(runtime)
        os.environ.update(env)  # the harness starts parallax with this process' environment
        proxy = Parallax(binary, yaml.safe_dump(config, sort_keys=False), runtime)
        try:
            # The admin listener: every parallax probe path answers 200.
            for kind, probe in probes(sidecar.parallax):
                path = probe["httpGet"]["path"]
                status, _, body = request(proxy.admin + path)
                check(status == 200, "%s: parallax %s GET %s answered %d %r" % (sidecar.name, kind, path, status, body[:100]))
            for path in ("/healthz", "/readyz"):
                status, _, _ = request(proxy.admin + path)
                check(status == 200, "%s: admin %s answered %d" % (sidecar.name, path, status))
            # The app's probes through the listener: answered by the live backend, never mirrored.
            listener_port = {address_port(l["address"]): i for i, l in enumerate(sidecar.config["listeners"])}
            for path, port, route in app_probes:
                check(listener_port[port] == 0 or len(sidecar.config["listeners"]) == 1,
                      "%s: app probe on a second listener is not exercised" % sidecar.name)
                status, _, body = request(proxy.url + path)
                check(status == 200 and b'"live"' in body,
                      "%s: the app's probe %s through parallax answered %d %r" % (sidecar.name, path, status, body[:100]))
            status, _, metrics = request(proxy.admin + "/metrics")
            check(status == 200, "%s: GET /metrics answered %d" % (sidecar.name, status))
            exposed = parse_exposition(metrics.decode())
            sampled = sum(1 for s in exposed.get("parallax_mirror_sampled_total", []))
            check(sampled, "%s: no parallax_mirror_sampled_total series (no mirrored route?)" % sidecar.name)
            values = re.findall(r"^parallax_mirror_sampled_total\{[^}]*\} (\S+)$", metrics.decode(), re.M)
            check(all(float(v) == 0 for v in values), "%s: the app's probe was sampled for mirroring: %r" % (sidecar.name, values))
            # SIGTERM: the readiness probe's path turns 503 at once (the pod leaves the endpoints)
            # while the liveness probe's path stays 200 and the listener keeps serving for
            # drain_delay (nothing restarts the container, no client is refused).
            proxy.process.send_signal(signal.SIGTERM)
            readiness = sidecar.parallax["readinessProbe"]["httpGet"]["path"]
            deadline = time.monotonic() + 5
            while request(proxy.admin + readiness)[0] != 503:
                check(time.monotonic() < deadline, "%s: %s did not turn 503 after SIGTERM" % (sidecar.name, readiness))
                time.sleep(0.05)
            liveness = sidecar.parallax["livenessProbe"]["httpGet"]["path"]
            check(request(proxy.admin + liveness)[0] == 200, "%s: %s is not 200 while draining" % (sidecar.name, liveness))
            for path, _, _ in app_probes:
                check(request(proxy.url + path)[0] == 200, "%s: the listener refused %s during drain_delay" % (sidecar.name, path))
        finally:
            limits = sidecar.config.get("limits") or {}
            code = proxy.stop(timeout=duration_seconds(limits.get("drain_delay", "0s"))
                              + duration_seconds(limits.get("drain_timeout", "15s")) + 10)
            check(code == 0, "%s: parallax exited %d after SIGTERM; output:\n%s" % (sidecar.name, code, proxy.lines()))
    finally:
        live.close()
    return exposed


def check_selectors(manifests, sidecars):
    policies = [d for docs in manifests.values() for d in docs if d["kind"] == "NetworkPolicy"]
    monitors = [d for docs in manifests.values() for d in docs if d["kind"] == "PodMonitor"]
    check(policies, "no NetworkPolicy in docker/k8s")
    check(monitors, "no PodMonitor in docker/k8s")
    for sidecar in sidecars:
        parallax = sidecar.parallax
        admin_names = {p.get("name") for p in parallax["ports"] if p["containerPort"] == sidecar.admin_port}
        for policy in policies:
            spec = policy["spec"]
            check(subset(spec["podSelector"]["matchLabels"], sidecar.labels),
                  "NetworkPolicy %s does not select the pods of %s" % (policy["metadata"]["name"], sidecar.name))
            check("Ingress" in spec.get("policyTypes", ["Ingress"]), "NetworkPolicy without Ingress")
            open_ports, admin_rules = set(), []
            for rule in spec.get("ingress") or []:
                check(rule.get("ports"), "NetworkPolicy rule without ports opens every port: %r" % rule)
                numbers = set()
                for port in rule["ports"]:
                    number = container_port(parallax, port["port"])
                    check(number is not None, "NetworkPolicy port %r is not a port of parallax in %s" % (port["port"], sidecar.name))
                    numbers.add(number)
                peers = rule.get("from") or [{}]
                anywhere = any(p == {"namespaceSelector": {}} or p == {} for p in peers)
                if anywhere:
                    open_ports |= numbers
                if sidecar.admin_port in numbers:
                    admin_rules.append((rule, peers))
            check(sidecar.listener_ports <= open_ports,
                  "NetworkPolicy: the proxy port %s is not open to the cluster" % sorted(sidecar.listener_ports))
            check(sidecar.admin_port not in open_ports, "NetworkPolicy: the admin port is open to everyone")
            check(admin_rules, "NetworkPolicy: no rule admits the admin port")
            for rule, peers in admin_rules:
                for peer in peers:
                    labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
                    check(labels.get("kubernetes.io/metadata.name") == "monitoring" and "ipBlock" not in peer,
                          "NetworkPolicy: admin admitted from %r, not only the monitoring namespace" % peer)
        for monitor in monitors:
            spec = monitor["spec"]
            check(subset(spec["selector"]["matchLabels"], sidecar.labels),
                  "PodMonitor %s does not select the pods of %s" % (monitor["metadata"]["name"], sidecar.name))
            for endpoint in spec["podMetricsEndpoints"]:
                check(endpoint.get("port") in admin_names,
                      "PodMonitor port %r is not the admin port's name %s" % (endpoint.get("port"), sorted(admin_names)))
                check(endpoint.get("path", "/metrics") == "/metrics", "PodMonitor path %r" % endpoint.get("path"))


def check_queries(manifests, exposed, source_dir, route):
    """Every PromQL expression of the templates and rules against the scraped /metrics, with
    the route placeholders standing for `route` (a mirrored route of the sidecar's file) and
    every other placeholder for 1 (a number is valid wherever they appear)."""
    def substitute(query):
        query = re.sub(r"\{\{\s*(args|variables)\.route\s*\}\}", route, query)
        return re.sub(r"\{\{[^}]*\}\}", "1", query)
    seen = 0
    for docs in manifests.values():
        for doc in docs:
            kind, name = doc["kind"], doc["metadata"]["name"]
            if kind == "AnalysisTemplate":
                args = {a["name"] for a in doc["spec"].get("args") or []}
                check("route" in args, "AnalysisTemplate %s has no `route` argument" % name)
                for metric in doc["spec"]["metrics"]:
                    query = metric["provider"]["prometheus"]["query"]
                    for used in re.findall(r"\{\{\s*args\.([\w-]+)\s*\}\}", query):
                        check(used in args, "AnalysisTemplate %s: {{args.%s}} is not declared" % (name, used))
                    check("{{args.route}}" in query, "AnalysisTemplate %s/%s does not select the route" % (name, metric["name"]))
                    check(metric.get("successCondition") and metric.get("failureCondition"),
                          "AnalysisTemplate %s/%s: both conditions are needed (the guard's -1 is inconclusive)" % (name, metric["name"]))
                    check_promql("%s/%s" % (name, metric["name"]), substitute(query), exposed)
                    seen += 1
            elif kind == "MetricTemplate":
                query = doc["spec"]["query"]
                for used in re.findall(r"\{\{\s*([\w.]+)\s*\}\}", query):
                    check(used in {"name", "namespace", "target", "service", "ingress", "interval"}
                          or used.startswith("variables."), "MetricTemplate %s: unknown variable %s" % (name, used))
                check_promql("MetricTemplate " + name, substitute(query), exposed)
                seen += 1
            elif kind == "PrometheusRule":
                operations = open(os.path.join(source_dir, "docs", "operations.md")).read()
                alerts = set()
                for group in doc["spec"]["groups"]:
                    for rule in group["rules"]:
                        label = rule.get("alert") or rule.get("record")
                        names = check_promql("%s/%s" % (name, label), rule["expr"], exposed)
                        seen += 1
                        if "alert" in rule:
                            alerts.add(label)
                            check(rule.get("labels", {}).get("severity"), "alert %s without severity" % label)
                            check(rule.get("annotations", {}).get("summary"), "alert %s without summary" % label)
                            check(label in operations, "alert %s is not explained in docs/operations.md" % label)
                            rule["_names"] = names
                wanted = {
                    "shadow errors": lambda r: "parallax_mirror_compared_total" in r["_names"] and "shadow_error" in r["expr"],
                    "saturation skips": lambda r: "parallax_mirror_skipped_total" in r["_names"] and "saturated" in r["expr"],
                    "dropped comparisons": lambda r: "parallax_mirror_comparisons_dropped_total" in r["_names"],
                    "report write errors": lambda r: "parallax_report_write_errors_total" in r["_names"],
                    "rejected reloads": lambda r: "parallax_config_last_reload_successful" in r["_names"],
                }
                rules = [r for g in doc["spec"]["groups"] for r in g["rules"] if "alert" in r]
                for what, test in wanted.items():
                    check(any(test(r) for r in rules), "PrometheusRule %s: no alert on %s" % (name, what))
    check(seen >= 3 + 3 + 5, "expected the AnalysisTemplate, MetricTemplate and alert expressions, found %d" % seen)


def main():
    args = arguments()
    k8s = os.path.join(args.source_dir, "docker", "k8s")
    files = sorted(glob.glob(os.path.join(k8s, "*.yaml")))
    check(files, "no manifests in %s" % k8s)
    manifests = {}
    for path in files:
        try:
            docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        except yaml.YAMLError as error:
            fail("%s: %s" % (path, error))
        check(docs, "%s: empty" % path)
        for doc in docs:
            check(doc.get("apiVersion") and doc.get("kind") and (doc.get("metadata") or {}).get("name"),
                  "%s: a document without apiVersion, kind or metadata.name" % path)
        manifests[path] = docs
    for wanted in ("sidecar.yaml", "sidecar-classic.yaml", "networkpolicy.yaml", "podmonitor.yaml",
                   "analysis-template.yaml", "flagger-metric-template.yaml", "prometheus-rules.yaml"):
        check(os.path.join(k8s, wanted) in manifests, "docker/k8s/%s is missing" % wanted)

    sidecars = [Sidecar(path, docs) for path, docs in manifests.items()
                if any(d["kind"] == "Deployment" for d in docs)]
    check({s.native for s in sidecars} == {True, False}, "expected a native and a classic sidecar")
    exposed = None
    with scratch_dir("manifest") as scratch:
        for sidecar in sidecars:
            check_static(sidecar)
            exposed = run_binary(os.path.abspath(args.binary), sidecar, scratch)
    check_selectors(manifests, sidecars)
    mirrored = [r["name"] for r in sidecars[0].config["routes"] if r.get("mirror")]
    check(mirrored, "%s: no mirrored route" % sidecars[0].name)
    check_queries(manifests, exposed, args.source_dir, mirrored[0])
    print("manifest_test: %d files, %d sidecar forms: ok" % (len(files), len(sidecars)))


if __name__ == "__main__":
    main()
