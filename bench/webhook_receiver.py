"""The bench's webhook receiver: a small asyncio HTTP server on loopback, in its own process.

    python bench/webhook_receiver.py PORT LOG [--fail-for SECONDS] [--hang-every N --hang-for SECONDS]
                                             [--delay SECONDS]

Appends one line per request to LOG: receipt time, webhook-id, the message id in the body, status.
For its first --fail-for seconds it answers 500; every --hang-every'th request it holds --hang-for
seconds before answering (longer than the sender's timeout, so the sender gives up on it). --delay
holds every request that long before a 200: a slow receiver well inside the sender's timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("log")
    parser.add_argument("--fail-for", type=float, default=0.0)
    parser.add_argument("--hang-every", type=int, default=0)
    parser.add_argument("--hang-for", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    started = time.monotonic()
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 - line-buffered for the whole run
    count = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests in turn on one connection, kept alive as most servers do (HTTP/1.1)."""
        nonlocal count
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                received = time.time()
                count += 1
                status = 500 if time.monotonic() - started < args.fail_for else 200
                if args.delay:
                    await asyncio.sleep(args.delay)
                if args.hang_every and count % args.hang_every == 0:
                    await asyncio.sleep(args.hang_for)
                    status = 200  # the sender has given up by now: it counts as a timeout there
                data = json.loads(body)["data"]
                log.write(f"{received:.6f} {headers.get('webhook-id')} {data.get('id')} {status}\n")
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the sender closed the connection (idle, or it gave up waiting)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
