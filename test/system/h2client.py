"""A small HTTP/2 client for the system tests on Debian's python3-h2 (a real, independent
HTTP/2 implementation), plus raw frame writing for the attack suite. Blocking sockets with
timeouts: every wait is bounded."""

import socket
import ssl
import struct
import time

import h2.config
import h2.connection
import h2.events
import hpack

from harness import fail

# Frame types and flags (RFC 9113 6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
ENHANCE_YOUR_CALM = 0xb
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags, stream_id, payload=b""):
    """One raw HTTP/2 frame."""
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream_id) + payload


def header_block(fields, encoder=None):
    """An HPACK block of `fields` (a list of (name, value))."""
    return (encoder or hpack.Encoder()).encode(fields)


def request_fields(path, method="GET", authority="localhost", extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", authority), (":path", path), *extra]


class H2Client:
    """One HTTP/2 connection to 127.0.0.1:`port` (h2c prior knowledge, or TLS with ALPN h2)."""

    def __init__(self, port, tls=False, timeout=10.0):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname="localhost")
            if sock.selected_alpn_protocol() != "h2":
                fail("ALPN selected %r, not h2" % sock.selected_alpn_protocol())
        self.sock = sock
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.responses = {}     # stream id -> dict(status, headers, body, ended, reset)
        self.goaway = None      # the ConnectionTerminated event, once received
        self.closed = False     # the server closed the connection

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path, method="GET", body=None, headers=(), end_stream=True):
        """Starts a request; returns its stream id. Without `end_stream` the body stays open
        (send_body() continues it)."""
        sid = self.conn.get_next_available_stream_id()
        fields = request_fields(path, method, extra=headers)
        self.conn.send_headers(sid, fields, end_stream=end_stream and body is None)
        self.responses[sid] = {"status": None, "headers": {}, "body": bytearray(), "ended": False, "reset": None}
        if body is not None:
            self.send_body(sid, body, end_stream)
        self.flush()
        return sid

    def send_body(self, sid, body, end_stream=True):
        """Sends `body` on `sid` as flow control allows (reading the server's window updates)."""
        view = memoryview(body)
        while view:
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                self.pump()
                continue
            chunk, view = view[:window], view[window:]
            self.conn.send_data(sid, bytes(chunk))
            self.flush()
        if end_stream:
            self.conn.end_stream(sid)
            self.flush()

    def send_trailers(self, sid, fields):
        """Ends the request of `sid` with trailer fields (a list of (name, value))."""
        self.conn.send_headers(sid, fields, end_stream=True)
        self.flush()

    def reset(self, sid, code=0x8):
        self.conn.reset_stream(sid, code)
        self.flush()

    def pump(self, timeout=10.0):
        """Reads once and handles the events; False when the connection ended."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self._handle(event)
        self.flush()
        return True

    def _handle(self, event):
        if isinstance(event, h2.events.ResponseReceived):
            r = self.responses[event.stream_id]
            r["headers"] = dict(event.headers)
            r["status"] = int(r["headers"][":status"])
        elif isinstance(event, h2.events.InformationalResponseReceived):
            pass
        elif isinstance(event, h2.events.DataReceived):
            if event.stream_id in self.responses:
                self.responses[event.stream_id]["body"] += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.responses[event.stream_id]["ended"] = True
        elif isinstance(event, h2.events.StreamReset):
            if event.stream_id in self.responses:
                self.responses[event.stream_id]["reset"] = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

    def response(self, sid, timeout=10.0):
        """Waits until stream `sid` ended or was reset; returns its response dict."""
        deadline = time.monotonic() + timeout
        r = self.responses[sid]
        while not r["ended"] and r["reset"] is None:
            if time.monotonic() > deadline:
                fail("stream %d: no complete response within %.0f s" % (sid, timeout))
            if not self.pump(timeout) and not r["ended"] and r["reset"] is None:
                fail("stream %d: the connection closed before the response ended (GOAWAY %r)" % (sid, self.goaway))
        return r

    def get(self, path, **kwargs):
        return self.response(self.request(path, **kwargs))

    def close(self):
        try:
            self.conn.close_connection()
            self.flush()
        except (OSError, h2.exceptions.ProtocolError):
            pass
        self.sock.close()


class RawConnection:
    """A socket that speaks raw frames (for frames python-h2 refuses to send)."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.buffer = b""

    def send(self, data):
        """Sends `data`; False when the server has closed the connection (reset or broken pipe)."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def frames(self, timeout=10.0):
        """Reads frames until the server closes the connection (or `timeout` passes: then
        fails); returns them as (type, flags, stream id, payload)."""
        return self.read_until(lambda frames: False, timeout, "close the connection")

    def read_until(self, done, timeout=10.0, what="answer"):
        """Reads frames until `done(frames so far)` holds or the server closes the connection
        (`closed` is then set); fails when `timeout` passes first."""
        deadline = time.monotonic() + timeout
        out = []
        self.closed = False
        while not done(out):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                fail("the server did not %s within %.0f s" % (what, timeout))
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            except socket.timeout:
                continue
            if not chunk:
                self.closed = True
                break
            self.buffer += chunk
            while len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[0:3], "big")
                if len(self.buffer) < 9 + length:
                    break
                kind, flags = self.buffer[3], self.buffer[4]
                sid = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
                out.append((kind, flags, sid, bytes(self.buffer[9:9 + length])))
                self.buffer = self.buffer[9 + length:]
        return out

    def close(self):
        self.sock.close()


def goaway_code(frames):
    """The error code of the last GOAWAY among `frames`, or None."""
    codes = [struct.unpack(">II", payload[:8])[1] for kind, _, _, payload in frames if kind == GOAWAY]
    return codes[-1] if codes else None
