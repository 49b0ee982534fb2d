"""HTTP/2 downstream against independent clients: curl (libcurl + nghttp2) with prior knowledge
and over TLS with ALPN, nghttp, h2load, and python3-h2.

Real HTTP/1.1 backends on 127.0.0.1 (live, and a shadow that changes one field); parallax with
a plain listener offering both protocols (the default), a TLS one, an h2-only and an
HTTP/1.1-only one. Checked:
- h2c by the preface and h2 by ALPN are served; HTTP/1.1 still works on the same listeners;
  `protocols` restricts both ways;
- bodies: a 3 MiB download and 5 MiB uploads with Content-Length (curl) and without it
  (python3-h2: forwarded chunked) arrive intact; flow control carries them;
- errors over HTTP/2: 404 (no route), 413 (Content-Length above the limit), 431 (header list
  above limits.http2.max_header_list_bytes);
- an upstream's early final answer (before the request body is complete) reaches the client
  at once;
- an h2c upstream (python3-h2) that sends 103 Early Hints, the response and a trailer: relayed
  to HTTP/2 and HTTP/1.1 clients (the trailer in the last chunk);
- h2load: 2000 requests on 4 connections with 20 concurrent streams each, all 2xx;
- a client reset mid-download ends that stream only: the next request on the same connection
  is answered;
- mirroring: requests over HTTP/2 are mirrored and compared like HTTP/1.1 ones (/report);
- the access log says HTTP/2.0;
- SIGTERM while a stream is in flight: the client gets GOAWAY, the stream's response
  completes, parallax exits 0.
"""

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Backend, Parallax, RawServer, arguments, check, get_json, request, scratch_dir, wait_for  # noqa: E402
from h2client import H2Client  # noqa: E402

BIG = bytes((i * 7 + i // 251) % 256 for i in range(3 * 1024 * 1024))
UPLOAD = os.urandom(5 * 1024 * 1024)
MIRRORED = 50


def live(method, path, body):
    if path.startswith("/json/"):
        n = int(path.rsplit("/", 1)[1])
        return 200, "application/json", json.dumps({"id": n, "name": "item %d" % n}).encode()
    if path == "/big":
        return 200, "application/octet-stream", BIG
    if path == "/echo":
        answer = {"method": method, "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        return 200, "application/json", json.dumps(answer).encode()
    if path == "/slow":
        time.sleep(1.0)
        return 200, "text/plain", b"slow"
    return 404, "text/plain", b"backend has no " + path.encode()


def shadow(method, path, body):
    status, content_type, payload = live(method, path, body)
    if path.startswith("/json/"):
        document = json.loads(payload)
        document["name"] = document["name"].upper()
        payload = json.dumps(document).encode()
    return status, content_type, payload


class EarlyBackend(RawServer):
    """An HTTP/1.1 upstream that answers 413 as soon as it has a request head, without
    reading the body, then closes politely (stops writing, drains what arrives)."""

    def __init__(self):
        super().__init__(self._answer)

    def _answer(self, conn):
        with conn:
            conn.settimeout(10)
            head = b""
            try:
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain\r\n"
                             b"content-length: 9\r\nconnection: close\r\n\r\ntoo large")
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):
                    pass
            except OSError:
                pass


def h2_server_events(conn):
    """The events of a server-side python3-h2 connection on socket `conn`, with the connection
    they belong to: (h2c, event) pairs, what h2c has to send sent after each read's events.
    Ends when the peer closes."""
    import h2.config
    import h2.connection
    h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    h2c.initiate_connection()
    conn.sendall(h2c.data_to_send())
    while True:
        try:
            data = conn.recv(65536)
        except OSError:
            return
        if not data:
            return
        for event in h2c.receive_data(data):
            yield h2c, event
        conn.sendall(h2c.data_to_send())


class H2Upstream(RawServer):
    """An h2c upstream on python3-h2 that answers every request with 103 Early Hints, then 200
    with the request's path as its body and a trailer field. A POST to /hints/refuse is refused
    the first time (GOAWAY with last stream 0, as a server going away does: the stream was never
    processed) and answered with the body's length on the next connection; a POST to
    /hints/refuse-echo likewise, then echoed as its DATA arrives (a bidirectional stream). A
    POST to /hints/trailers is answered with its body's length and the trailer fields it ended
    with, as JSON. A POST to /quick/slow-upload gets 103 at once and its body's length after
    the body."""

    def __init__(self):
        self.refuse_next = True
        self.refused = 0
        super().__init__(self._connection)

    def _connection(self, conn):
        import h2.events
        bodies = {}  # stream id -> body, of the POSTs answered once they end
        echoes = set()  # streams echoed as they come
        trailers = {}  # stream id -> trailer fields, of the POSTs to /hints/trailers
        with conn:
            for h2c, event in h2_server_events(conn):
                if isinstance(event, h2.events.RequestReceived) and dict(event.headers)[":path"] == "/hints/trailers":
                    bodies[event.stream_id] = b""
                    trailers[event.stream_id] = []
                elif isinstance(event, h2.events.TrailersReceived):
                    trailers[event.stream_id] = [list(f) for f in event.headers]
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id in trailers:
                    body = json.dumps({"length": len(bodies.pop(event.stream_id)),
                                       "trailers": trailers.pop(event.stream_id)}).encode()
                    h2c.send_headers(event.stream_id, [(":status", "200"), ("content-length", str(len(body)))])
                    h2c.send_data(event.stream_id, body, end_stream=True)
                elif isinstance(event, h2.events.RequestReceived) and \
                        dict(event.headers)[":path"] == "/quick/slow-upload":
                    h2c.send_headers(event.stream_id, [(":status", "103"), ("link", "</style.css>; rel=preload")])
                    bodies[event.stream_id] = b""
                elif isinstance(event, h2.events.RequestReceived) and \
                        dict(event.headers)[":path"] in ("/hints/refuse", "/hints/refuse-echo"):
                    if self.refuse_next:
                        self.refuse_next = False
                        self.refused += 1
                        h2c.close_connection(last_stream_id=0)
                        conn.sendall(h2c.data_to_send())
                        return
                    if dict(event.headers)[":path"] == "/hints/refuse-echo":
                        echoes.add(event.stream_id)
                        h2c.send_headers(event.stream_id, [(":status", "200")])
                    else:
                        bodies[event.stream_id] = b""
                elif isinstance(event, h2.events.DataReceived) and event.stream_id in echoes:
                    h2c.acknowledge_received_data(len(event.data), event.stream_id)
                    h2c.send_data(event.stream_id, event.data)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id in echoes:
                    h2c.end_stream(event.stream_id)
                elif isinstance(event, h2.events.DataReceived):
                    bodies[event.stream_id] += event.data
                    h2c.acknowledge_received_data(len(event.data), event.stream_id)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id in bodies:
                    body = b"%d bytes" % len(bodies.pop(event.stream_id))
                    h2c.send_headers(event.stream_id, [(":status", "200"), ("content-length", str(len(body)))])
                    h2c.send_data(event.stream_id, body, end_stream=True)
                elif isinstance(event, h2.events.RequestReceived):
                    path = dict(event.headers)[":path"]
                    h2c.send_headers(event.stream_id, [(":status", "103"), ("link", "</style.css>; rel=preload")])
                    h2c.send_headers(event.stream_id, [(":status", "200"), ("content-type", "text/plain")])
                    h2c.send_data(event.stream_id, path.encode())
                    h2c.send_headers(event.stream_id, [("x-checksum", "42")], end_stream=True)


class RotatingH2Upstream(RawServer):
    """An h2c upstream that ends each connection after `per_connection` requests, as nginx does
    at keepalive_requests: it answers the requests up to that one, sends GOAWAY naming it as the
    last stream and closes at once; the streams after it on that connection are never processed.
    Under load, some of the proxy's streams are then still queued (their HEADERS not yet
    written) when the GOAWAY and the close arrive in one read: they must be sent again on
    another connection, not answered 502."""

    def __init__(self, per_connection):
        self.per_connection = per_connection
        self.connections = 0
        super().__init__(self._connection)

    def _connection(self, conn):
        import h2.events
        self.connections += 1
        answered = 0
        with conn:
            for h2c, event in h2_server_events(conn):
                if isinstance(event, h2.events.RequestReceived):
                    h2c.send_headers(event.stream_id, [(":status", "200"), ("content-length", "2")])
                    h2c.send_data(event.stream_id, b"ok", end_stream=True)
                    answered += 1
                    if answered == self.per_connection:
                        h2c.close_connection(last_stream_id=event.stream_id)
                        conn.sendall(h2c.data_to_send())
                        return


def curl(*args, timeout=30):
    """curl's exit code, stdout (bytes) and stderr."""
    done = subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr.decode(errors="replace")


def make_certificate(directory):
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True, timeout=60)
    return cert, key


def config(live_backend, shadow_backend, early_backend, h2_upstream, rotating, cert, key, reports):
    return """version: 1
listeners:
  - { name: plain, address: "127.0.0.1:0" }
  - { name: secure, address: "127.0.0.1:0", tls: { cert: "%s", key: "%s" } }
  - { name: h2only, address: "127.0.0.1:0", protocols: [h2] }
  - { name: h1only, address: "127.0.0.1:0", protocols: [http1] }
admin: { address: "127.0.0.1:0" }
logging: { access_log: true }
limits:
  max_request_body_bytes: 8MiB
  drain_timeout: 10s
  http2: { max_header_list_bytes: 8KiB }
upstreams:
  live: { endpoints: ["%s"] }
  preview: { endpoints: ["%s"] }
  early: { endpoints: ["%s"] }
  hints: { endpoints: ["%s"], protocol: h2c }
  rotating: { endpoints: ["%s"], protocol: h2c }
  quick: { endpoints: ["%s"], protocol: h2c, request_timeout: 1s }
routes:
  - { name: items, match: { path_prefix: /json/ }, upstream: live, mirror: { upstream: preview, percent: 100 } }
  - { name: files, match: { path_prefix: /big }, upstream: live }
  - { name: echo, match: { path_prefix: /echo }, upstream: live }
  - { name: slow, match: { path_prefix: /slow }, upstream: live }
  - { name: early, match: { path_prefix: /early }, upstream: early }
  - { name: hints, match: { path_prefix: /hints }, upstream: hints }
  - { name: rotating, match: { path_prefix: /rotate }, upstream: rotating }
  - { name: quick, match: { path_prefix: /quick }, upstream: quick }
reports:
  discrepancies: { path: "%s" }
""" % (cert, key, live_backend.address, shadow_backend.address, early_backend.address, h2_upstream.address,
       rotating.address, h2_upstream.address, reports)


def main():
    args = arguments()
    live_backend, shadow_backend, early_backend = Backend(live), Backend(shadow), EarlyBackend()
    h2_upstream = H2Upstream()
    rotating = RotatingH2Upstream(per_connection=40)
    with scratch_dir("h2") as work:
        cert, key = make_certificate(work)
        proxy = Parallax(args.binary, config(live_backend, shadow_backend, early_backend, h2_upstream, rotating,
                                             cert, key, os.path.join(work, "discrepancies.jsonl")), work)
        try:
            run_checks(proxy, h2_upstream, live_backend)
            rotation_check(proxy, rotating)
            drain_check(proxy, live_backend)
        finally:
            if proxy.process.poll() is None:
                proxy.process.kill()
            live_backend.close()
            shadow_backend.close()
            early_backend.close()
            h2_upstream.close()
            rotating.close()


def run_checks(proxy, h2_upstream, live_backend):
    plain, secure = proxy.listeners["plain"], proxy.listeners["secure"]
    h2only, h1only = proxy.listeners["h2only"], proxy.listeners["h1only"]
    base = "http://127.0.0.1:%d" % plain

    # Protocol selection.
    code, out, err = curl("--http2-prior-knowledge", "-w", "\n%{http_version}", base + "/json/1")
    check(code == 0 and out.endswith(b"\n2"), "h2c GET: %d %r %s" % (code, out[-100:], err))
    check(json.loads(out.rsplit(b"\n", 1)[0]) == {"id": 1, "name": "item 1"}, "h2c body %r" % out)
    code, out, err = curl("-k", "--http2", "-w", "\n%{http_version}", "https://127.0.0.1:%d/json/2" % secure)
    check(code == 0 and out.endswith(b"\n2"), "h2 over TLS (ALPN): %d %r %s" % (code, out[-100:], err))
    code, out, err = curl("-k", "--http1.1", "-w", "\n%{http_version}", "https://127.0.0.1:%d/json/3" % secure)
    check(code == 0 and out.endswith(b"\n1.1"), "HTTP/1.1 over TLS: %d %r %s" % (code, out[-100:], err))
    code, out, err = curl("-w", "\n%{http_version}", base + "/json/4")
    check(code == 0 and out.endswith(b"\n1.1"), "HTTP/1.1 on the plain listener: %d %r %s" % (code, out[-100:], err))
    code, out, err = curl("--http2-prior-knowledge", "-w", "\n%{http_version}", "http://127.0.0.1:%d/json/5" % h2only)
    check(code == 0 and out.endswith(b"\n2"), "h2c on the h2-only listener: %d %s" % (code, err))
    code, out, err = curl("--http1.1", "http://127.0.0.1:%d/json/6" % h2only)
    check(code != 0 and out == b"", "HTTP/1.1 on the h2-only listener was answered: %d %r" % (code, out))
    code, out, err = curl("--http2-prior-knowledge", "http://127.0.0.1:%d/json/7" % h1only)
    check(code != 0, "h2c on the HTTP/1.1-only listener succeeded: %r" % out)
    code, out, err = curl("-w", "\n%{http_version}", "http://127.0.0.1:%d/json/8" % h1only)
    check(code == 0 and out.endswith(b"\n1.1"), "HTTP/1.1 on the HTTP/1.1-only listener: %d %s" % (code, err))

    # Bodies both ways.
    code, out, err = curl("--http2-prior-knowledge", base + "/big")
    check(code == 0 and out == BIG, "3 MiB download over h2c: %d, %d bytes %s" % (code, len(out), err))
    code, out, err = curl("-k", "--http2", "https://127.0.0.1:%d/big" % secure)
    check(code == 0 and out == BIG, "3 MiB download over h2: %d, %d bytes %s" % (code, len(out), err))
    upload_path = os.path.join(os.path.dirname(proxy.config_path), "upload.bin")
    with open(upload_path, "wb") as f:
        f.write(UPLOAD)
    expected = {"method": "POST", "length": len(UPLOAD), "sha256": hashlib.sha256(UPLOAD).hexdigest()}
    code, out, err = curl("--http2-prior-knowledge", "--data-binary", "@" + upload_path, base + "/echo")
    check(code == 0 and json.loads(out) == expected, "5 MiB upload with Content-Length: %d %r %s" % (code, out[:200], err))
    client = H2Client(plain)
    r = client.get("/echo", method="POST", body=UPLOAD)      # no content-length: chunked upstream
    check(r["status"] == 200 and json.loads(bytes(r["body"])) == expected, "5 MiB upload without Content-Length: %r" % r["status"])
    r = client.get("/echo", method="PUT", body=b"")
    check(r["status"] == 200 and json.loads(bytes(r["body"]))["length"] == 0, "empty body: %r" % r)

    # Errors the proxy answers itself, over HTTP/2.
    r = client.get("/nowhere")
    check(r["status"] == 404, "no route over h2: %r" % r["status"])
    r = client.get("/echo", method="POST", body=b"x" * 10, headers=[("content-length", str(9 * 1024 * 1024))], end_stream=False)
    check(r["status"] == 413, "Content-Length above the limit over h2: %r" % r["status"])
    client.close()
    client = H2Client(plain)
    r = client.get("/json/9", headers=[("x-big", "v" * 9000)])
    check(r["status"] == 431, "header list above max_header_list_bytes over h2: %r" % r["status"])
    r = client.get("/json/10")
    check(r["status"] == 200, "the connection still serves after a 431: %r" % r["status"])

    # An upstream that answers before the body is complete: the answer reaches the client while
    # the client still holds the rest of its body (it would wait for client_io_timeout else).
    sid = client.request("/early", method="POST", body=b"x" * 30000, end_stream=False)
    r = client.response(sid, timeout=10)
    check(r["status"] == 413 and bytes(r["body"]) == b"too large", "early answer over h2: %r" % r)
    r = client.get("/json/12")
    check(r["status"] == 200, "the request after an early answer: %r" % r["status"])

    # An HTTP/2 upstream that sends 103 Early Hints, then the response with a trailer: HTTP/2
    # clients get all three, HTTP/1.1 clients the hints, the body and the trailer (chunked).
    # A stream the upstream refused (GOAWAY above it: never processed) is sent again, body and
    # all, on a new connection.
    upload = os.path.join(os.path.dirname(proxy.config_path), "refused.bin")
    with open(upload, "wb") as f:
        f.write(os.urandom(5000))
    code, out, err = curl("--http2-prior-knowledge", "--data-binary", "@" + upload, base + "/hints/refuse")
    check(code == 0 and out == b"5000 bytes" and h2_upstream.refused == 1,
          "refused stream retried: %d %r %s (refused %d)" % (code, out, err, h2_upstream.refused))
    # Refused while the client still sends and waits for an answer before sending more: what was
    # taken goes again at once and the stream goes on both ways (no wait for a body that only
    # comes after an answer).
    h2_upstream.refuse_next = True
    sid = client.request("/hints/refuse-echo", method="POST", body=b"ping", end_stream=False)
    deadline = time.monotonic() + 10
    while bytes(client.responses[sid]["body"]) != b"ping" and client.responses[sid]["reset"] is None:
        check(time.monotonic() < deadline, "no echo of the refused stream's first message: %r" % client.responses[sid])
        client.pump(10)
    client.send_body(sid, b"pong")
    r = client.response(sid)
    check(r["status"] == 200 and bytes(r["body"]) == b"pingpong" and h2_upstream.refused == 2,
          "refused bidirectional stream: %r (refused %d)" % (r, h2_upstream.refused))
    # An upload slower than the upstream's request_timeout (1 s) after a 103: the stream relays
    # both ways from the interim head on, and the final head's deadline counts from the
    # sending's latest progress (docs/http2.md), so a body that keeps coming is no head timeout.
    sid = client.request("/quick/slow-upload", method="POST", body=b"x" * 100, end_stream=False)
    for _ in range(8):
        time.sleep(0.25)  # paces a slow client: 2 s in all, twice the request_timeout
        client.send_body(sid, b"x" * 100, end_stream=False)
    client.send_body(sid, b"", end_stream=True)
    r = client.response(sid)
    check(r["status"] == 200 and bytes(r["body"]) == b"900 bytes",
          "an upload slower than request_timeout after a 103: %r" % r)
    r = client.get("/hints/a")
    check(r["status"] == 200 and bytes(r["body"]) == b"/hints/a", "1xx then 200 from an h2c upstream: %r" % r)

    # Request trailers pass through (RFC 9110 6.5: the fields that may be, not Host), both
    # ways between the versions: HTTP/2 client to HTTP/2 and (in the last chunk) to HTTP/1.1
    # upstreams, HTTP/1.1 client to an HTTP/2 upstream (its trailing HEADERS).
    sid = client.request("/hints/trailers", method="POST", body=b"abc", end_stream=False)
    client.send_trailers(sid, [("x-checksum", "99"), ("host", "elsewhere")])
    r = client.response(sid)
    check(r["status"] == 200 and json.loads(bytes(r["body"])) == {"length": 3, "trailers": [["x-checksum", "99"]]},
          "HTTP/2 request trailers to an h2c upstream: %r" % r)
    sid = client.request("/echo", method="POST", body=b"abcd", end_stream=False)
    client.send_trailers(sid, [("x-checksum", "100")])
    r = client.response(sid)
    check(r["status"] == 200 and json.loads(bytes(r["body"]))["length"] == 4 and live_backend.trailers == [("x-checksum", "100")],
          "HTTP/2 request trailers to an HTTP/1.1 upstream: %r, trailers %r" % (r, live_backend.trailers))
    with socket.create_connection(("127.0.0.1", plain), timeout=10) as raw:
        raw.sendall(b"POST /hints/trailers HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                    b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: 101\r\nHost: elsewhere\r\n\r\n")
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200") and json.loads(body) == {"length": 5, "trailers": [["x-checksum", "101"]]},
          "HTTP/1.1 request trailers to an h2c upstream: %r" % answer)
    code, out, err = curl("-v", "--raw", "--http1.1", "-H", "TE: trailers", base + "/hints/b")
    check(code == 0 and out == b"8\r\n/hints/b\r\n0\r\nx-checksum: 42\r\n\r\n" and "< HTTP/1.1 103" in err,
          "HTTP/1.1 client of an h2c upstream: %d %r\n%s" % (code, out, err[-1500:]))

    # A client reset mid-download ends that stream only.
    sid = client.request("/big")
    while len(client.responses[sid]["body"]) == 0:
        check(client.pump(), "the connection closed during the download")
    client.reset(sid)
    r = client.get("/json/11")
    check(r["status"] == 200, "the request after a reset stream: %r" % r["status"])
    client.close()

    # Load: many concurrent streams.
    done = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "20", base + "/json/12"],
                          capture_output=True, text=True, timeout=120)
    check(re.search(r"requests: 2000 total, 2000 started, 2000 done, 2000 succeeded", done.stdout) is not None
          and "status codes: 2000 2xx" in done.stdout, "h2load:\n" + done.stdout[-1500:])

    # nghttp: another client implementation, several streams on one connection.
    done = subprocess.run(["nghttp", "-n", "-s", base + "/json/13", base + "/json/14", base + "/big"],
                          capture_output=True, text=True, timeout=60)
    codes = re.findall(r"^\s*\d+\s+\S+\s+\S+\s+\S+\s+(\d+)\s+\S+\s+(/\S+)$", done.stdout, re.M)
    check(done.returncode == 0 and sorted(codes) == [("200", "/big"), ("200", "/json/13"), ("200", "/json/14")],
          "nghttp:\n%s%s" % (done.stdout[-1500:], done.stderr[-500:]))

    # Mirroring: HTTP/2 requests are compared like HTTP/1.1 ones.
    before = get_json(proxy.admin + "/report")["totals"]
    mirror_client = H2Client(plain)
    sids = [mirror_client.request("/json/%d" % (100 + i)) for i in range(MIRRORED)]
    for sid in sids:
        check(mirror_client.response(sid)["status"] == 200, "mirrored stream %d" % sid)
    mirror_client.close()
    wait_for("the mirrored HTTP/2 exchanges to be compared",
             lambda: get_json(proxy.admin + "/report")["totals"]["compared"] >= before["compared"] + MIRRORED, 20)
    report = get_json(proxy.admin + "/report")
    differ = report["totals"]["differ"] - before["differ"]
    check(differ >= MIRRORED, "the shadow's changed field was not reported for HTTP/2 requests: %r" % report["totals"])
    paths = json.dumps(report["endpoints"])
    check("/name" in paths, "no difference at /name in %s" % paths[:500])

    wait_for("the access log to show HTTP/2.0", lambda: '"GET /json/1 HTTP/2.0" 200' in proxy.lines(), 5)


def rotation_check(proxy, rotating):
    # An upstream that closes each connection after 40 requests (GOAWAY, then close, as nginx
    # at keepalive_requests), under 80 concurrent streams: every request is answered 200.
    base = "http://127.0.0.1:%d" % proxy.listeners["plain"]
    done = subprocess.run(["h2load", "-n", "4000", "-c", "4", "-m", "20", base + "/rotate/x"],
                          capture_output=True, text=True, timeout=120)
    check("status codes: 4000 2xx" in done.stdout and rotating.connections >= 50,
          "h2load through an upstream ending its connections every 40 requests (%d connections):\n%s"
          % (rotating.connections, done.stdout[-1500:]))


def drain_check(proxy, live_backend):
    # nghttp rather than python3-h2, which stops processing frames at the first GOAWAY.
    before = live_backend.requests
    client = subprocess.Popen(["nghttp", "-v", "http://127.0.0.1:%d/slow" % proxy.listeners["plain"]],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for("the slow request to reach the backend", lambda: live_backend.requests > before, 5, poll=0.01)
        proxy.process.send_signal(15)
        out, _ = client.communicate(timeout=15)
    finally:
        if client.poll() is None:
            client.kill()
    check(client.returncode == 0 and re.search(r"recv GOAWAY frame .*\n.*error_code=NO_ERROR", out) is not None,
          "no GOAWAY (NO_ERROR) after SIGTERM:\n" + out[-2000:])
    check(re.search(r"recv \(stream_id=\d+\) :status: 200", out) is not None
          and re.search(r"slow\[[ .0-9]+\] recv DATA frame <length=4, flags=0x01", out) is not None,
          "the in-flight stream after SIGTERM did not complete:\n" + out[-2000:])
    code = proxy.stop()
    check(code == 0, "parallax exited %r after the drain:\n%s" % (code, proxy.lines()[-3000:]))


if __name__ == "__main__":
    main()
