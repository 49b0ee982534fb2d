"""HTTP/2 with Node's http2 module as an independent peer on both sides (Node bundles its own
nghttp2 build; parallax uses Debian's libnghttp2): a Node h2c server is parallax's upstream
(`protocol: h2c`), a Node client talks to parallax by h2c prior knowledge and by TLS with ALPN.
Checked, through both listeners: 20 concurrent streams on one session as the first requests
(a burst on a cold pool opens one upstream connection, not 20: the Node server counts its
sessions), a GET whose upstream sends a trailer (relayed to the client), a 2 MiB request body
streamed with back-pressure and echoed as its length and SHA-256, and a 404 from parallax
itself for a path no route takes.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Parallax, arguments, check, scratch_dir  # noqa: E402

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_h2_peer.js")


def make_certificate(directory):
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def run_client(url, ca=None):
    done = subprocess.run(["node", PEER, "client", url] + ([ca] if ca else []), capture_output=True,
                          text=True, timeout=60)
    check(done.returncode == 0, "node client on %s: exit %d: %s" % (url, done.returncode, done.stderr))
    return json.loads(done.stdout)


def main():
    args = arguments()
    server = subprocess.Popen(["node", PEER, "server"], stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(server.stdout.readline())["port"]
        with scratch_dir("node-h2") as work:
            cert, key = make_certificate(work)
            proxy = Parallax(args.binary, """version: 1
listeners:
  - { name: plain, address: "127.0.0.1:0" }
  - { name: secure, address: "127.0.0.1:0", tls: { cert: "%s", key: "%s" } }
admin: { address: "127.0.0.1:0" }
workers: 1
limits: { max_request_body_bytes: 8MiB }
upstreams:
  node: { endpoints: ["127.0.0.1:%d"], protocol: h2c }
routes:
  - { name: node, match: { path_prefix: /node/ }, upstream: node }
""" % (cert, key, port), work)
            try:
                for url, ca in (("http://127.0.0.1:%d" % proxy.listeners["plain"], None),
                                ("https://localhost:%d" % proxy.listeners["secure"], cert)):
                    seen = run_client(url, ca)
                    check(seen["alpn"] == "h2" or (ca is None and seen["alpn"] == "h2c"), "protocol: %r" % seen["alpn"])
                    get = seen["get"]
                    check(get["status"] == 200 and json.loads(get["body"]) == {"hello": "ann", "protocol": "h2"}
                          and get["content_type"] == "application/json", "GET: %r" % get)
                    check("x-checksum" in get["trailers"] and len(get["trailers"]["x-checksum"]) == 64,
                          "trailer relayed: %r" % get["trailers"])
                    check(seen["post"]["status"] == 200 and seen["post"]["body"] == seen["post"]["expected"],
                          "2 MiB streamed upload: %r" % seen["post"])
                    check(seen["concurrent"] == ["n%d" % i for i in range(20)], "concurrent: %r" % seen["concurrent"])
                    check(seen["missing"] == 404, "no route: %r" % seen["missing"])
                    check(seen["stats"]["sessions"] == 1, "upstream connections opened: %r" % seen["stats"])
            finally:
                proxy.stop()
    finally:
        server.kill()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
