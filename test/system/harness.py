"""Shared helpers of the system tests (test/system/*_test.py): the real parallax binary,
real HTTP backends on 127.0.0.1 with port 0, bounded waits. Debian's python3 only.

Every test script is run by CTest as
    /usr/bin/python3 test/system/NAME_test.py --binary PARALLAX --source-dir SRC --build-dir BUILD
and exits 0 when it passed, 1 with a message on stderr when it did not.
"""

import argparse
import http.server
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

READY = re.compile(r"ready:.* listener (\w+)=http://127\.0\.0\.1:(\d+).* admin=http://127\.0\.0\.1:(\d+)")
LISTENER = re.compile(r" listener (\w+)=(https?)://127\.0\.0\.1:(\d+)")


def arguments():
    """The command line every system test takes (see the module comment)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True, help="the parallax binary under test")
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True)
    return parser.parse_args()


def fail(message):
    """Ends the test as failed with `message`."""
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    """Fails the test with `message` unless `condition` holds."""
    if not condition:
        fail(message)


def free_port():
    """A port free on 127.0.0.1 now (for peers that cannot be told port 0 and report back)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, condition, timeout, poll=0.1):
    """Polls `condition()` until it returns a true value (returned) or `timeout` seconds pass:
    for state of another process that sends no event to await."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            fail("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(poll)


class Backend:
    """An HTTP/1.1 backend on 127.0.0.1:0 in a thread. `respond(method, path, body)` returns
    (status, content_type, body bytes), or None to drop the connection without an answer;
    every request is counted in `requests`; request bodies may be chunked (the latest trailer
    section is kept in `trailers`). Nagle is off (head and body are two writes) and the
    listen backlog is large (bursts of connects are not refused)."""

    def __init__(self, respond):
        owner = self
        self.requests = 0
        self.trailers = []  # the trailer fields (name, value) of the latest chunked request body
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                    body = self._read_chunked()
                else:
                    length = int(self.headers.get("content-length") or 0)
                    body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.requests += 1
                answer = respond(self.command, self.path, body)
                if answer is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, content_type, payload = answer
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _read_chunked(self):
                body = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        trailers = []
                        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                            name, _, value = line.decode("latin-1").partition(":")
                            trailers.append((name.strip().lower(), value.strip()))
                        owner.trailers = trailers
                        return bytes(body)
                    body += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 1024
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client (parallax) that closed or reset the connection: expected in fault tests

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.address = "127.0.0.1:%d" % self.port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


class RawServer:
    """A TCP server on 127.0.0.1:0 that hands every accepted connection to `handle(conn)` in a
    thread of its own: for peers that speak their own protocol (a misbehaving HTTP/1.1
    upstream, an HTTP/2 one)."""

    def __init__(self, handle):
        self._handle = handle
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def close(self):
        self.sock.close()


def json_backend(document_for):
    """A Backend answering every request with 200 and the JSON `document_for(path)`, or dropping
    the connection when that is None."""
    def respond(method, path, body):
        document = document_for(path)
        if document is None:
            return None
        return 200, "application/json", json.dumps(document).encode()
    return Backend(respond)


class Parallax:
    """`parallax run --config FILE` with the ports its ready line announced (`port`: the first
    listener, which must be plain HTTP; `listeners`: every listener's port by name). The output
    is read by a thread; `lines()` returns what was seen so far."""

    def __init__(self, binary, config_text, workdir, extra_args=(), ready_timeout=10.0):
        self.config_path = os.path.join(workdir, "parallax.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self._lines = []
        self._ready = queue.Queue()
        self.process = subprocess.Popen([binary, "run", "--config", self.config_path, *extra_args],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, cwd=workdir)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            listener, port, admin = self._ready.get(timeout=ready_timeout)
        except queue.Empty:
            self.process.kill()
            fail("parallax did not announce ready within %.0f s; output:\n%s"
                 % (ready_timeout, "".join(self._lines)))
        if port is None:
            fail("parallax exited before ready; output:\n" + "".join(self._lines))
        self.port = int(port)
        self.admin_port = int(admin)
        self.url = "http://127.0.0.1:%d" % self.port
        self.admin = "http://127.0.0.1:%d" % self.admin_port

    def _read(self):
        announced = False
        for line in self.process.stdout:
            self._lines.append(line)
            match = READY.search(line)
            if match and not announced:
                announced = True
                self.listeners = {name: int(port) for name, _, port in LISTENER.findall(line)}
                self._ready.put(match.groups())
        if not announced:
            self._ready.put((None, None, None))

    def lines(self):
        return "".join(self._lines)

    def stop(self, timeout=20.0):
        """SIGTERM, then a bounded wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail("parallax did not exit within %.0f s of SIGTERM" % timeout)


def request(url, method="GET", body=None, headers=None, timeout=10.0):
    """One HTTP request; returns (status, headers dict with lower-case names, body bytes).
    A non-2xx answer is returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def get_json(url, timeout=10.0):
    status, _, body = request(url, timeout=timeout)
    check(status == 200, "GET %s: status %d: %r" % (url, status, body[:200]))
    return json.loads(body)


def scratch_dir(prefix):
    """A temporary directory removed at exit."""
    return tempfile.TemporaryDirectory(prefix="parallax-" + prefix + "-")
