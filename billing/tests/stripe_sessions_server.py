"""Our own stand-in for what localstripe lacks: Checkout and Billing Portal sessions, and trials.

It sits in front of localstripe on one base URL: it answers the two session paths like Stripe (an
object with id and url) and forwards every other request to localstripe. localstripe keeps a
subscription's trial_end but never acts on it (the status stays what it was, the period is the
plan's), so a subscription coming back with a trial_end still ahead is answered as Stripe answers it:
status "trialing", its current period ending at trial_end.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
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
                self._answer(response.status, _with_trials(response.read()))
        except urllib.error.HTTPError as error:
            self._answer(error.code, error.read())

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _with_trials(body: bytes) -> bytes:
    """`body` with each subscription in it (the object, or a list's items) as Stripe shows one on trial."""
    try:
        found = json.loads(body)
    except ValueError:
        return body
    if not isinstance(found, dict):
        return body
    for subscription in [found, *(found.get("data") or [])]:
        if isinstance(subscription, dict) and subscription.get("object") == "subscription":
            trial_end = subscription.get("trial_end")
            on_trial = trial_end and trial_end > time.time()
            if on_trial and subscription.get("status") in ("incomplete", "active"):
                subscription["status"] = "trialing"
                subscription["current_period_end"] = trial_end
    return json.dumps(found).encode()
