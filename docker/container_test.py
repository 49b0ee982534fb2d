"""Runs the parallax image (built by docker/test) against real backends on 127.0.0.1.

    python3 docker/container_test.py --image IMAGE [--ulimit L]...

Containers run with podman --runtime runc and --network host, so their ports are the host's.
Checks, each bounded in time:
  1. the image: user 65534, working directory /var/lib/parallax, the default configuration is
     accepted by `parallax check`;
  2. a mounted configuration and a mounted volume: ready through the image's HEALTHCHECK
     (`parallax probe` on /readyz), a proxied request answered by the live backend, a
     discrepancy record written into the volume by uid 65534, and SIGTERM exits 0 within the
     drain time;
  3. the default configuration set through its environment variables: a discrepancy record
     written into the working directory without any volume.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "system"))
import harness  # noqa: E402
from harness import check, fail, free_port, wait_for  # noqa: E402

DRAIN_DELAY_S = 1
DRAIN_TIMEOUT_S = 5


class Podman:
    def __init__(self, ulimits):
        self.base = ["podman", "--runtime", "runc"]
        self.run_options = ["--network", "host"] + [a for u in ulimits for a in ("--ulimit", u)]

    def __call__(self, *args, timeout=60, check_exit=True):
        result = subprocess.run(self.base + list(args), capture_output=True, text=True,
                                timeout=timeout)
        if check_exit and result.returncode != 0:
            fail("podman %s: exit %d\n%s%s" % (" ".join(args), result.returncode, result.stdout,
                                             result.stderr))
        return result

    def run(self, *args, timeout=60, check_exit=True):
        return self("run", *self.run_options, *args, timeout=timeout, check_exit=check_exit)


def live_and_preview():
    """A live backend and a preview that differs in one JSON field."""
    live = harness.json_backend(lambda path: {"path": path, "name": "Ann", "version": 41})
    preview = harness.json_backend(lambda path: {"path": path, "name": "Ann", "version": 42})
    return live, preview


def records_in(text):
    return [json.loads(line) for line in text.splitlines()
            if line.startswith("{") and "parallax.discrepancy/v1" in line]


def check_image(podman, image):
    started = time.monotonic()
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    info = inspected["Config"]
    check(info.get("User") == "65534:65534", "image user: %r" % info.get("User"))
    check(info.get("WorkingDir") == "/var/lib/parallax", "workdir: %r" % info.get("WorkingDir"))
    health = " ".join((inspected.get("Healthcheck") or {}).get("Test") or [])
    check("parallax probe" in health and "/readyz" in health, "HEALTHCHECK: %r" % health)
    out = podman.run("--rm", image, "check", "--config", "/etc/parallax/parallax.yaml").stdout
    check("ok" in out, "default configuration: %r" % out)
    out = podman.run("--rm", "--entrypoint", "/bin/sh", image, "-c",
                     "id -u; stat -c %u /var/lib/parallax").stdout.split()
    check(out == ["65534", "65534"], "uid and working directory owner: %r" % out)
    print("image checks: %.1f s" % (time.monotonic() - started))


def healthy(podman, name, what, start, attempts=3, timeout=30):
    """Starts a container with `start()` (it chooses free ports, runs the container named
    `name` and returns its ports) and polls the image's HEALTHCHECK (`podman healthcheck run`:
    `parallax probe` on /readyz) until it passes; returns the ports. A container that exits
    first because another process took one of its ports between free_port() and its bind (the
    ports cannot be 0: the HEALTHCHECK must know the admin port) is started again on new ports;
    any other exit, or no health within `timeout` seconds, fails with the container's log and
    the last check's output."""
    for attempt in range(1, attempts + 1):
        ports = start()
        deadline = time.monotonic() + timeout
        while True:
            result = podman("healthcheck", "run", name, check_exit=False)
            if result.returncode == 0:
                return ports
            state = podman("inspect", "--format", "{{.State.Status}}", name,
                           check_exit=False).stdout.strip()
            if state not in ("created", "configured", "running"):
                logs = podman("logs", name, check_exit=False)
                log = logs.stdout + logs.stderr
                if "Address already in use" in log and attempt < attempts:
                    print("%s: a port was taken before the container bound it (%s); new ports"
                          % (what, log.strip().splitlines()[-1]))
                    podman("rm", "-f", name, check_exit=False)
                    break
                fail("%s: the container %s before it was healthy; its log:\n%s"
                     % (what, state or "vanished", log))
            if time.monotonic() > deadline:
                logs = podman("logs", name, check_exit=False)
                fail("%s: not healthy after %d s (container %s); the last check: exit %d %s%s\n"
                     "the container's log:\n%s%s"
                     % (what, timeout, state, result.returncode, result.stdout, result.stderr,
                        logs.stdout, logs.stderr))
            time.sleep(0.1)
    fail("%s: not started after %d attempts" % (what, attempts))


def mounted_run(podman, image, live, preview, workdir):
    """A mounted configuration and volume; readiness, a request, a record, SIGTERM."""
    config = os.path.join(workdir, "parallax.yaml")
    data = os.path.join(workdir, "data")
    os.mkdir(data)
    os.chown(data, 65534, 65534)
    name = "parallax-test-%d" % os.getpid()
    started = time.monotonic()

    def start():
        port, admin = free_port(), free_port()
        with open(config, "w") as f:
            f.write("""version: 1
listeners: [{ name: pod, address: "127.0.0.1:%d" }]
admin: { address: "127.0.0.1:%d" }
workers: 1
limits: { drain_delay: %ds, drain_timeout: %ds }
upstreams:
  live: { endpoints: ["%s"] }
  preview: { endpoints: ["%s"] }
routes:
  - { name: app, upstream: live, mirror: { upstream: preview, percent: 100 } }
reports:
  discrepancies: { path: discrepancies.jsonl }
""" % (port, admin, DRAIN_DELAY_S, DRAIN_TIMEOUT_S, live.address, preview.address))
        os.chmod(config, 0o644)
        podman.run("-d", "--name", name, "-e", "PARALLAX_ADMIN_PORT=%d" % admin,
                   "-v", "%s:/etc/parallax/parallax.yaml:ro" % config,
                   "-v", "%s:/var/lib/parallax" % data, image)
        return port

    try:
        port = healthy(podman, name, "mounted configuration", start)
        print("ready after %.1f s" % (time.monotonic() - started))
        status, _, body = harness.request("http://127.0.0.1:%d/users/7" % port)
        check(status == 200 and json.loads(body)["version"] == 41,
              "proxied request: %d %r" % (status, body[:200]))
        log = os.path.join(data, "discrepancies.jsonl")

        def record():
            if not os.path.exists(log):
                return None
            with open(log) as f:
                found = records_in(f.read())
            return found[0] if found else None
        rec = wait_for("a discrepancy record in the volume", record, 15)
        check(any(d.get("path") == "/version" for d in rec["differences"]),
              "record differences: %r" % rec["differences"])
        owner = os.stat(log).st_uid
        check(owner == 65534, "the record file is owned by uid %d, not 65534" % owner)
        print("record written by uid 65534 into the volume")

        stop_started = time.monotonic()
        podman("kill", "--signal", "TERM", name)
        bound = DRAIN_DELAY_S + DRAIN_TIMEOUT_S + 5
        code = podman("wait", name, timeout=bound).stdout.strip()
        elapsed = time.monotonic() - stop_started
        check(code == "0", "exit code after SIGTERM: %r\n%s" % (code, podman("logs", name).stderr))
        check(elapsed <= DRAIN_DELAY_S + DRAIN_TIMEOUT_S,
              "SIGTERM to exit took %.1f s (drain %d + %d s)"
              % (elapsed, DRAIN_DELAY_S, DRAIN_TIMEOUT_S))
        print("SIGTERM: exit 0 after %.1f s (drain_delay %d s)" % (elapsed, DRAIN_DELAY_S))
    finally:
        podman("rm", "-f", name, check_exit=False)


def default_config_run(podman, image, live, preview):
    """The image's own configuration, set through its environment variables, no volume."""
    name = "parallax-test-default-%d" % os.getpid()

    def start():
        port, admin = free_port(), free_port()
        podman.run("-d", "--name", name, "-e", "PARALLAX_PORT=%d" % port,
                   "-e", "PARALLAX_ADMIN_PORT=%d" % admin, "-e", "PARALLAX_LIVE=" + live.address,
                   "-e", "PARALLAX_PREVIEW=" + preview.address,
                   "-e", "PARALLAX_MIRROR_PERCENT=100", image)
        return port, admin

    try:
        port, admin = healthy(podman, name, "default configuration", start)
        status, _, _ = harness.request("http://127.0.0.1:%d/items/1" % port)
        check(status == 200, "proxied request with the default configuration: %d" % status)
        # The admin listens on all interfaces: GETs are open, mutations need loopback or a token.
        status, _, _ = harness.request("http://127.0.0.1:%d/healthz" % admin)
        check(status == 200, "/healthz: %d" % status)

        def record():
            out = podman("exec", name, "cat", "/var/lib/parallax/discrepancies.jsonl",
                         check_exit=False).stdout
            return records_in(out)
        wait_for("a record in the working directory", record, 15)
        print("default configuration: record written to /var/lib/parallax")
        podman("kill", "--signal", "TERM", name)
        code = podman("wait", name, timeout=40).stdout.strip()
        check(code == "0", "default configuration: exit code after SIGTERM: %r" % code)
    finally:
        podman("rm", "-f", name, check_exit=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--image", required=True)
    parser.add_argument("--ulimit", action="append", default=[])
    args = parser.parse_args()
    podman = Podman(args.ulimit)
    live, preview = live_and_preview()
    try:
        check_image(podman, args.image)
        with tempfile.TemporaryDirectory(prefix="parallax-container-") as workdir:
            os.chmod(workdir, 0o755)
            mounted_run(podman, args.image, live, preview, workdir)
        default_config_run(podman, args.image, live, preview)
    finally:
        live.close()
        preview.close()
    print("container tests: passed")


if __name__ == "__main__":
    main()
