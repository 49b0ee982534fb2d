"""HTTP/2 attacks with raw frames (python3-h2's HPACK; Debian has no h2spec package): each ends
in GOAWAY or a stream reset or answer, parallax's memory stays bounded, and the next client is
served.

- rapid reset (CVE-2023-44487): streams opened and reset at once, in batches each confirmed by
  a PING, so that Envoy's premature-reset rule is what ends it: GOAWAY ENHANCE_YOUR_CALM;
  streams reset in the read that opened them never reach the backend;
- resets the premature-reset rule lets pass (under half of the streams), beyond the token
  bucket (a burst of 1000, then limits.http2.max_resets_per_second): GOAWAY ENHANCE_YOUR_CALM;
- many new streams in one read (more than twice max_concurrent_streams): GOAWAY
  ENHANCE_YOUR_CALM;
- PING and SETTINGS floods from a client that never reads: the connection is closed once
  1000 acknowledgements wait (nghttp2's outbound-ack limit); a burst that owes more than 1000
  at once while the server's writer is idle gets GOAWAY ENHANCE_YOUR_CALM before the close;
- CONTINUATION flood (CVE-2024-27316 family): more than max_continuation_frames: GOAWAY
  ENHANCE_YOUR_CALM;
- connection window overflow (WINDOW_UPDATE past 2^31-1): GOAWAY FLOW_CONTROL_ERROR;
- invalid pseudo-headers (unknown, missing :path, uppercase name): the stream is reset with
  PROTOCOL_ERROR and the connection goes on serving;
- more header fields than max_request_headers (counted as HTTP/1.1 header lines), and a header
  list above limits.http2.max_header_list_bytes spread over CONTINUATION frames: 431 on that
  stream; a single field encoded in over 64 KiB (nghttp2's HPACK limit): GOAWAY
  COMPRESSION_ERROR; a request whose trailer section has more fields than max_request_headers:
  the stream is reset;
- a stream beyond max_concurrent_streams: RST_STREAM REFUSED_STREAM before the client
  acknowledged the SETTINGS, GOAWAY PROTOCOL_ERROR after;
- an idle connection (no stream open) kept busy with PINGs is still closed after idle_timeout
  with GOAWAY NO_ERROR, while one with requests going on is served past header_timeout.
After every attack a new client gets 200 (curl --http2-prior-knowledge); parallax's resident
memory grows by less than 64 MiB over the whole suite (320 MiB under AddressSanitizer, whose
quarantine keeps freed memory).
"""

import os
import struct
import subprocess
import sys
import time

import hpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Backend, Parallax, arguments, check, scratch_dir, wait_for  # noqa: E402
from h2client import (ACK, CONTINUATION, DATA, END_HEADERS, END_STREAM, ENHANCE_YOUR_CALM, GOAWAY, HEADERS,  # noqa: E402
                      PING, H2Client, RST_STREAM, SETTINGS, WINDOW_UPDATE, RawConnection, frame, goaway_code,
                      header_block, request_fields)

PROTOCOL_ERROR, FLOW_CONTROL_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = 0x1, 0x3, 0x7, 0x8, 0x9


def resident_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def served(proxy):
    done = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                           "http://127.0.0.1:%d/ok" % proxy.port], capture_output=True, text=True, timeout=30)
    return done.stdout == "200"


def headers_frame(sid, fields, flags=END_STREAM | END_HEADERS):
    return frame(HEADERS, flags, sid, header_block(fields))


def spread_header_block(sid, block):
    """A request's header block (ending the stream) in a HEADERS frame and CONTINUATION frames
    of at most 16 KiB each (the default SETTINGS_MAX_FRAME_SIZE)."""
    pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
    data = frame(HEADERS, END_STREAM | (END_HEADERS if len(pieces) == 1 else 0), sid, pieces[0])
    for i, piece in enumerate(pieces[1:]):
        data += frame(CONTINUATION, END_HEADERS if i == len(pieces) - 2 else 0, sid, piece)
    return data


def rapid_reset(proxy):
    conn = RawConnection(proxy.port)
    sid = 1
    for batch in range(30):
        data = b""
        for _ in range(50):
            data += headers_frame(sid, request_fields("/ok")) + frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
            sid += 2
        opaque = struct.pack(">Q", batch)
        if not conn.send(data + frame(PING, 0, 0, opaque)):
            break
        frames = conn.read_until(lambda fs: any(k == PING and f & ACK and p == opaque for k, f, _, p in fs)
                                 or any(k == GOAWAY for k, _, _, _ in fs), what="acknowledge the PING")
        if conn.closed or any(k == GOAWAY for k, _, _, _ in frames):
            break
    rest = conn.frames()
    code = goaway_code(frames + rest)
    check(code == ENHANCE_YOUR_CALM, "rapid reset: GOAWAY code %r after %d streams" % (code, sid // 2))
    check(500 <= sid // 2 <= 600, "rapid reset: ended after %d streams, expected just after 500" % (sid // 2))
    wait_for("the log to say why the rapid reset connection ended", lambda: "premature stream resets" in proxy.lines(), 5)
    conn.close()


def reset_rate(proxy):
    # Resets the premature-reset rule lets pass (29 of every 59 streams: under half) beyond the
    # token bucket (a burst of 1000, then max_resets_per_second, 1 in this suite): GOAWAY
    # ENHANCE_YOUR_CALM once about 1000 were sent. The answered streams are awaited batch by
    # batch, so max_concurrent_streams is never reached.
    conn = RawConnection(proxy.port)
    sid, resets, code = 1, 0, None
    for batch in range(60):
        data, answered = b"", set()
        for i in range(59):
            if i % 2:
                data += headers_frame(sid, request_fields("/ok")) + frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
                resets += 1
            else:
                data += headers_frame(sid, request_fields("/ok"))
                answered.add(sid)
            sid += 2
        if not conn.send(data):
            break
        frames = conn.read_until(lambda fs: answered <= {s for k, f, s, _ in fs if k in (HEADERS, DATA) and f & END_STREAM}
                                 or any(k == GOAWAY for k, _, _, _ in fs), what="answer the batch")
        code = goaway_code(frames)
        if conn.closed or code is not None:
            break
    code = code if code is not None else goaway_code(conn.frames())
    check(code == ENHANCE_YOUR_CALM, "reset rate: GOAWAY code %r after %d resets" % (code, resets))
    check(1000 <= resets <= 1100, "reset rate: ended after %d resets, expected just after 1000" % resets)
    wait_for("the log to say why the reset-rate connection ended",
             lambda: "max_resets_per_second" in proxy.lines(), 5)
    conn.close()


def reset_in_the_opening_read(proxy, backend):
    # Streams opened and reset in the same read are never forwarded: the backend sees only the
    # stream that was left open.
    before = backend.requests
    conn = RawConnection(proxy.port)
    data = b""
    for sid in range(1, 40, 2):
        data += headers_frame(sid, request_fields("/ok")) + frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
    conn.send(data + headers_frame(41, request_fields("/ok")))
    conn.read_until(lambda fs: any(k == HEADERS and s == 41 for k, _, s, _ in fs), what="answer stream 41")
    conn.close()
    check(backend.requests - before == 1, "streams reset in their opening read reached the backend: %d requests"
          % (backend.requests - before))


def many_streams_in_one_read(proxy):
    conn = RawConnection(proxy.port)
    data = b"".join(headers_frame(1 + 2 * i, request_fields("/ok")) + frame(RST_STREAM, 0, 1 + 2 * i, struct.pack(">I", CANCEL))
                    for i in range(250))
    conn.send(data)
    code = goaway_code(conn.frames())
    check(code == ENHANCE_YOUR_CALM, "250 new streams in one read: GOAWAY code %r" % code)
    conn.close()


def ack_flood(proxy, kind, make):
    """Sends `kind` frames without reading until the server closes the connection."""
    conn = RawConnection(proxy.port)
    conn.sock.settimeout(30)
    batch = b"".join(make(i) for i in range(1000))
    sent = 0
    while sent < 2000 and conn.send(batch):   # at most 2 million frames
        sent += 1
    check(sent < 2000, "%s flood: the server kept reading %d frames without closing" % (kind, sent * 1000))
    conn.close()


def ack_burst(proxy):
    """More than 1000 acknowledgements owed after one read, the writer idle: the flood ends the
    connection with a GOAWAY ENHANCE_YOUR_CALM (proxy.md), the queued acknowledgements unsent."""
    conn = RawConnection(proxy.port)
    conn.read_until(lambda fs: any(k == SETTINGS and not f & ACK for k, f, _, _ in fs),
                    what="send its SETTINGS")
    conn.send(frame(SETTINGS, 0, 0) * 1800)   # 16,200 bytes: one read of the server's 16 KiB
    frames = conn.frames()
    check(goaway_code(frames) == ENHANCE_YOUR_CALM, "SETTINGS burst: GOAWAY code %r: %r"
          % (goaway_code(frames), frames[-3:]))
    acks = sum(1 for k, f, _, _ in frames if k == SETTINGS and f & ACK)
    check(acks < 1000, "SETTINGS burst: %d acknowledgements were sent" % acks)
    conn.close()


def continuation_flood(proxy):
    conn = RawConnection(proxy.port)
    block = header_block(request_fields("/ok"))
    data = frame(HEADERS, END_STREAM, 1, block)
    for i in range(50):
        data += frame(CONTINUATION, 0, 1, header_block([("x-filler-%d" % i, "y" * 10)]))
    conn.send(data)
    frames = conn.frames()
    check(goaway_code(frames) == ENHANCE_YOUR_CALM, "CONTINUATION flood: GOAWAY code %r: %r"
          % (goaway_code(frames), frames[-3:]))
    check(not any(k == HEADERS for k, _, _, _ in frames), "CONTINUATION flood: the request was answered")
    conn.close()


def window_overflow(proxy):
    conn = RawConnection(proxy.port)
    conn.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF)))
    code = goaway_code(conn.frames())
    check(code == FLOW_CONTROL_ERROR, "window overflow: GOAWAY code %r" % code)
    conn.close()


def invalid_requests(proxy):
    conn = RawConnection(proxy.port)
    bad = [
        (1, request_fields("/ok", extra=[(":foo", "bar")])),                        # unknown pseudo-header
        (3, [(":method", "GET"), (":scheme", "http"), (":authority", "localhost")]),  # no :path
        (5, request_fields("/ok", extra=[("X-Upper", "v")])),                      # upper-case name
        (7, [("x-first", "v")] + request_fields("/ok")),                            # pseudo after regular
    ]
    for sid, fields in bad:
        conn.send(headers_frame(sid, fields))
    conn.send(headers_frame(9, request_fields("/ok")))
    frames = conn.read_until(lambda fs: any(k == HEADERS and s == 9 for k, _, s, _ in fs), what="answer stream 9")
    resets = {s: struct.unpack(">I", p)[0] for k, _, s, p in frames if k == RST_STREAM}
    for sid, _ in bad:
        check(resets.get(sid) == PROTOCOL_ERROR, "invalid request on stream %d: reset %r" % (sid, resets.get(sid)))
    check(goaway_code(frames) is None, "an invalid request ended the connection")
    conn.close()


def oversized_heads(proxy):
    conn = RawConnection(proxy.port)
    many = request_fields("/ok", extra=[("x-field-%d" % i, "v") for i in range(150)])
    conn.send(headers_frame(1, many))
    big = header_block(request_fields("/ok", extra=[("x-big-%d" % i, "v" * 8000) for i in range(10)]))
    conn.send(spread_header_block(3, big))
    # Counted as HTTP/1.1 header lines (max_request_headers 50 in this suite): 48 fields and
    # the Host that :authority becomes pass although the pseudo-fields make 52; 150 cookie
    # crumbs are one Cookie line.
    conn.send(headers_frame(5, request_fields("/ok", extra=[("x-field-%d" % i, "v") for i in range(48)])))
    conn.send(headers_frame(7, request_fields("/ok", extra=[("cookie", "c%d=v" % i) for i in range(150)])))
    frames = conn.read_until(lambda fs: sum(k == HEADERS for k, _, _, _ in fs) == 4, what="answer all four streams")
    statuses = {}
    decoder = hpack.Decoder()  # one per connection: its dynamic table spans the header blocks
    for kind, _, sid, payload in frames:
        if kind == HEADERS:
            statuses[sid] = dict(decoder.decode(payload)).get(":status")
    check(statuses.get(1) == "431", "150 header fields: %r" % statuses.get(1))
    check(statuses.get(3) == "431", "an 80 KB header list: %r" % statuses.get(3))
    check(statuses.get(5) == "200", "48 header fields and 4 pseudo-fields: %r" % statuses.get(5))
    check(statuses.get(7) == "200", "150 cookie crumbs: %r" % statuses.get(7))
    conn.close()
    # One field whose encoding is over 64 KiB (no Huffman coding here): nghttp2's fixed HPACK
    # limit, a connection error, met before max_header_list_bytes.
    block = hpack.Encoder().encode(request_fields("/ok", extra=[("x-huge", "v" * 66000)]), huffman=False)
    conn = RawConnection(proxy.port)
    conn.send(spread_header_block(1, block))
    code = goaway_code(conn.frames())
    check(code == COMPRESSION_ERROR, "a 66 KB field: GOAWAY code %r" % code)
    conn.close()


def concurrent_stream_limit(proxy):
    # A stream beyond max_concurrent_streams (100): refused (RST_STREAM REFUSED_STREAM) while
    # the client has not acknowledged parallax's SETTINGS, and the connection goes on; once it
    # has, the stream breaks a limit the client agreed to: GOAWAY PROTOCOL_ERROR (nghttp2's
    # rule, nghttpx's too). The streams stay open: their requests never end.
    opened = b"".join(headers_frame(1 + 2 * i, request_fields("/ok", method="POST"), flags=END_HEADERS)
                      for i in range(101))
    conn = RawConnection(proxy.port)
    conn.send(opened)
    frames = conn.read_until(lambda fs: any(k == RST_STREAM and s == 201 for k, _, s, _ in fs)
                             or any(k == GOAWAY for k, _, _, _ in fs), what="refuse stream 201")
    resets = {s: struct.unpack(">I", p)[0] for k, _, s, p in frames if k == RST_STREAM}
    check(resets == {201: REFUSED_STREAM}, "the 101st stream before SETTINGS were acknowledged: resets %r" % resets)
    check(goaway_code(frames) is None, "the 101st stream before SETTINGS were acknowledged ended the connection")
    conn.close()
    conn = RawConnection(proxy.port)
    conn.read_until(lambda fs: any(k == SETTINGS and not f & ACK for k, f, _, _ in fs), what="send its SETTINGS")
    conn.send(frame(SETTINGS, ACK, 0) + opened)
    code = goaway_code(conn.frames())
    check(code == PROTOCOL_ERROR, "the 101st stream after SETTINGS were acknowledged: GOAWAY code %r" % code)
    conn.close()


def oversized_trailers(proxy):
    conn = RawConnection(proxy.port)
    conn.send(headers_frame(1, request_fields("/ok", method="POST"), flags=END_HEADERS) + frame(DATA, 0, 1, b"x")
              + headers_frame(1, [("x-trailer-%d" % i, "v") for i in range(150)]))
    conn.send(headers_frame(3, request_fields("/ok")))
    frames = conn.read_until(lambda fs: any(k == HEADERS and s == 3 for k, _, s, _ in fs)
                             and any(k == RST_STREAM and s == 1 for k, _, s, _ in fs), what="reset 1, answer 3")
    check(goaway_code(frames) is None, "oversized trailers ended the connection")
    conn.close()


def pings_do_not_keep_an_idle_connection(proxy):
    conn = RawConnection(proxy.port)
    conn.send(headers_frame(1, request_fields("/ok")))
    conn.read_until(lambda fs: any(k == DATA and f & END_STREAM for k, f, _, _ in fs), what="answer stream 1")
    started = time.monotonic()
    frames = []
    while not conn.closed and time.monotonic() - started < 10:
        time.sleep(0.25)    # the client's pace, not a wait for the server
        if not conn.send(frame(PING, 0, 0, b"12345678")):
            break
        frames += conn.read_until(lambda fs: len(fs) > 0, what="answer a PING")
    elapsed = time.monotonic() - started
    check(goaway_code(frames) == 0 and elapsed < 5, "PINGs kept an idle connection open for %.1f s "
          "(idle_timeout 2s); GOAWAY %r" % (elapsed, goaway_code(frames)))
    conn.close()


def busy_connection_outlives_header_timeout(proxy):
    # A regression: the deadline of reading an h2c connection's preface (header_timeout, 2 s
    # here) stayed armed and ended the connection (GOAWAY) mid-traffic.
    client = H2Client(proxy.port)
    started = time.monotonic()
    answered = 0
    while time.monotonic() - started < 3.0:
        r = client.get("/ok")
        check(r["status"] == 200 and client.goaway is None,
              "request %d at %.1f s on one connection: %r, GOAWAY %r" % (answered, time.monotonic() - started, r, client.goaway))
        answered += 1
        time.sleep(0.05)
    client.close()


def main():
    args = arguments()
    backend = Backend(lambda method, path, body: (200, "text/plain", b"ok"))
    with scratch_dir("h2-attack") as work:
        proxy = Parallax(args.binary, """version: 1
listeners: [{ name: plain, address: "127.0.0.1:0" }]
admin: { address: "127.0.0.1:0" }
limits: { header_timeout: 2s, idle_timeout: 2s, max_request_headers: 50, http2: { max_resets_per_second: 1 } }
upstreams: { live: { endpoints: ["%s"] } }
routes: [{ name: all, upstream: live }]
reports: { discrepancies: { path: "%s" } }
""" % (backend.address, os.path.join(work, "d.jsonl")), work)
        try:
            check(served(proxy), "the first request was not served")
            before = resident_kib(proxy.process.pid)
            attacks = [("rapid reset", rapid_reset), ("resets beyond max_resets_per_second", reset_rate),
                       ("streams reset in their opening read", lambda p: reset_in_the_opening_read(p, backend)), ("many new streams in one read", many_streams_in_one_read),
                       ("PING flood", lambda p: ack_flood(p, "PING", lambda i: frame(PING, 0, 0, struct.pack(">Q", i)))),
                       ("SETTINGS flood", lambda p: ack_flood(p, "SETTINGS", lambda i: frame(SETTINGS, 0, 0))),
                       ("SETTINGS burst", ack_burst),
                       ("CONTINUATION flood", continuation_flood), ("window overflow", window_overflow),
                       ("invalid requests", invalid_requests), ("oversized heads", oversized_heads),
                       ("streams beyond max_concurrent_streams", concurrent_stream_limit),
                       ("oversized trailers", oversized_trailers),
                       ("idle connection kept with PINGs", pings_do_not_keep_an_idle_connection),
                       ("busy connection past header_timeout", busy_connection_outlives_header_timeout)]
            for name, attack in attacks:
                attack(proxy)
                check(served(proxy), "after the %s the next client was not served" % name)
                check(proxy.process.poll() is None, "parallax exited during the %s" % name)
            grown = resident_kib(proxy.process.pid) - before
            # AddressSanitizer keeps freed memory in quarantine (256 MiB by default): its
            # resident size says nothing about what parallax holds.
            limit = 320 * 1024 if sanitized(proxy.process.pid) else 64 * 1024
            print("resident memory grew by %d KiB over the attacks (limit %d KiB)" % (grown, limit))
            check(grown < limit, "resident memory grew by %d KiB" % grown)
            check(proxy.stop() == 0, "parallax did not exit 0")
        finally:
            if proxy.process.poll() is None:
                proxy.process.kill()
            backend.close()


if __name__ == "__main__":
    main()
