#!/usr/bin/env python3
"""Holds N idle keep-alive connections to a proxy, for its memory with many idle clients.

Each connection sends one GET and reads the response (so it is a keep-alive connection that
has served a request), then stays open. Prints "held N" once all are open and idle, and keeps
them until stdin closes. Usage: idle_connections.py PORT PATH N
"""
import socket
import sys


def main():
    port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    held = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            body += s.recv(65536)
        held.append(s)
    print(f"held {len(held)}", flush=True)
    sys.stdin.read()


main()
