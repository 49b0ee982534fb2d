#!/usr/bin/env python3
"""A keep-alive HTTP/1.1 backend that answers every request after a fixed delay.

bench/compare/run uses it as the slow shadow ("a shadow answering in 100 ms"): nginx has no
delay directive without third-party modules. Usage: slow_backend.py PORT DELAY_MS BODY
"""
import asyncio
import sys


async def serve(reader, writer, delay, response):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(delay)
            writer.write(response)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    port, delay_ms, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n\r\n" + body)
    server = await asyncio.start_server(
        lambda r, w: serve(r, w, delay_ms / 1000.0, response), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


asyncio.run(main())
