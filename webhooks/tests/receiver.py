"""A tenant's webhook receiver for tests: a real HTTP server on loopback that records what it gets
and answers as the test tells it (status codes in turn, a hang, a redirect)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.polling import eventually


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """`answers`: status codes for the next requests, in turn (then 200); "hang" waits `hang_for` seconds."""

    answers: list[int | str] = field(default_factory=list)
    hang_for: float = 30.0
    reply_body: bytes = b"ok"
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    got_request: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        eventually(
            lambda: len(self.received) >= count,
            timeout=timeout,
            interval=0.02,
            what=f"{count} requests received",
        )
        return self.received

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                )
                receiver.got_request.set()
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    time.sleep(receiver.hang_for)
                    answer = 200
                self.send_response(int(answer))
                if 300 <= int(answer) < 400:
                    self.send_header("Location", receiver.url + "/elsewhere")
                self.send_header("Content-Length", str(len(receiver.reply_body)))
                self.end_headers()
                self.wfile.write(receiver.reply_body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
