"""Our own stand-in for the Stripe endpoints localstripe lacks (Checkout and Billing Portal sessions).

It sits in front of localstripe on one base URL: it answers those two paths like Stripe (an object with
id and url) and forwards every other request to localstripe unchanged.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_SESSION_PATHS = {
    "/v1/checkout/sessions": ("checkout.session", "cs_test_", "https://checkout.stripe.test/c/pay/"),
    "/v1/billing_portal/sessions": (
        "billing_portal.session",
        "bps_test_",
        "https://billing.stripe.test/p/session/",
    ),
}


class StripeSessionsServer(ThreadingHTTPServer):
    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.sessions: list[dict] = []  # every session made, with the form fields it was made from

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Handler(BaseHTTPRequestHandler):
    server: StripeSessionsServer

    def log_message(self, *args) -> None:  # quiet test output
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path in _SESSION_PATHS:
            obj_name, prefix, base = _SESSION_PATHS[path]
            fields = dict(urllib.parse.parse_qsl(self._body().decode()))
            session_id = prefix + secrets.token_hex(12)
            session = {"id": session_id, "object": obj_name, "url": base + session_id, "livemode": False}
            session.update({k: v for k, v in fields.items() if "[" not in k})
            self.server.sessions.append({"session": session, "fields": fields})
            self._answer(200, json.dumps(session).encode())
            return
        self._forward(self._body())

    def do_GET(self) -> None:
        self._forward(None)

    def do_DELETE(self) -> None:
        self._forward(None)

    def _forward(self, body: bytes | None) -> None:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
        request = urllib.request.Request(  # noqa: S310 - the upstream is our own localstripe URL
            self.server.upstream + self.path, data=body, headers=headers, method=self.command
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                self._answer(response.status, response.read())
        except urllib.error.HTTPError as error:
            self._answer(error.code, error.read())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
