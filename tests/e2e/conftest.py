"""Real sockets and a real browser: uvicorn serves the ASGI app on a free port; Playwright drives Chromium.

Browser tests use `transactional_db` (the server thread must see committed rows), so pytest-django
runs them after the other tests; they make their own workspaces instead of the session ones.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from config.embedded_services import PROJECT_DIR
from conftest import subprocess_env
from inbox import services
from tenants.context import run_in_workspace

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_DIR / "test-artifacts"
MAILBOX = ARTIFACTS / "mail"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, port: int, log_path: Path, process: subprocess.Popen | None = None) -> None:
        self.port = port
        self.log_path = log_path
        self.process = process

    @property
    def public_url(self) -> str:
        return f"http://localhost:{self.port}"

    def workspace_url(self, slug: str, path: str = "/") -> str:
        return f"http://{slug}.localhost:{self.port}{path}"

    def emailed_code(self, to: str, timeout: float = 10) -> str:
        """The code in the newest mail the server sent to `to`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(MAILBOX.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
                for message in reversed(path.read_text().split("\n" + "-" * 79 + "\n")):
                    # Parsed, not searched: a long To: header is folded onto two lines.
                    if to in (email.message_from_string(message, policy=email.policy.default)["To"] or ""):
                        found = re.search(r"^\s*([A-Z0-9][A-Z0-9-]{4,12}[A-Z0-9])\s*$", message, re.MULTILINE)
                        if found:
                            return found.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no code mailed to {to} in {MAILBOX}")


@contextmanager
def running_server(
    log_name: str = "live-server", uvicorn_args: tuple[str, ...] = (), **env: str
) -> Iterator[LiveServer]:
    """The whole ASGI app (HTTP and WebSockets) under uvicorn, in its own process, on the test
    database, with `env` on top of the test environment and `uvicorn_args` after the usual options;
    stopped on leaving. Its output goes to test-artifacts/<log_name>.log."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{log_name}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed at the end
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers", "--no-access-log",
         "--lifespan", "off", "--ws-per-message-deflate", "false", *uvicorn_args],
        cwd=PROJECT_DIR, env=subprocess_env(PARLEY_PUBLIC_URL=f"http://localhost:{port}", **env),
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start: " + log_path.read_text()) from None
                time.sleep(0.1)
        yield LiveServer(port, log_path, server)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def live_server_asgi(django_db_setup):
    """The app under uvicorn for the whole session, its URLs in this process's settings.

    A separate process, not a thread: the server keeps Django's async-safety checks, which the test
    process must relax for Playwright (see `browser`).
    """
    # The server's mail goes to files, read by `LiveServer.emailed_code` (a real Django mail backend).
    shutil.rmtree(MAILBOX, ignore_errors=True)
    MAILBOX.mkdir(parents=True)
    with running_server(EMAIL_URL=f"filemail:///{MAILBOX}") as server:
        saved = (settings.PARLEY_PUBLIC_URL, settings.PARLEY_URL_PORT_SUFFIX)
        port = server.port
        settings.PARLEY_PUBLIC_URL, settings.PARLEY_URL_PORT_SUFFIX = f"http://localhost:{port}", f":{port}"
        try:
            yield server
        finally:
            settings.PARLEY_PUBLIC_URL, settings.PARLEY_URL_PORT_SUFFIX = saved


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, so Django would refuse the tests'
    # own ORM calls. Browser tests run last (see the root conftest), and the server is another
    # process that keeps the check, so relaxing it here, for the rest of this process, hides nothing.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context (no cookies) and page; console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    yield page
    context.close()


class HostPageServer:
    """A customer's website stand-in on its own origin (127.0.0.1:<port>): serves `html` at /, with
    `headers` added to the response (set them with monkeypatch: the server lives for the session)."""

    def __init__(self) -> None:
        self.html = "<!DOCTYPE html><title>empty</title>"
        self.headers: dict[str, str] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = outer.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in outer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def host_page_server():
    server = HostPageServer()
    yield server
    server.server.shutdown()


@pytest.fixture
def site(tx_workspaces, host_page_server):
    """Workspace A's website for the customer's page that host_page_server serves."""
    website, _ = run_in_workspace(
        tx_workspaces.alpha.schema_name,
        services.website_create,
        workspace=tx_workspaces.alpha,
        name="Shop",
        allowed_origins=host_page_server.origin,
        team_name="Alpha Shop",
        greeting="Hi! Ask us anything.",
        accent_color="#0f766e",
    )
    return website


def off_the_browser_thread(func, *args, **kwargs):
    """Run server-side work (a service that pushes with async_to_sync) on a thread of its own: this
    one runs Playwright's event loop, where async_to_sync refuses to work."""
    from django.db import connection

    def run():
        try:
            return func(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=30)


def logged_in_page(browser, live_server_asgi, user, *, height: int = 800, **context_options):
    """A browser context of its own (Playwright's `context_options` on top), logged in as `user` on
    alpha's host; page errors are collected."""
    from django.test import Client

    client = Client(HTTP_HOST=f"alpha.localhost:{live_server_asgi.port}")
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": height}, **context_options)
    context.add_cookies(
        [{"name": "parley_session", "value": client.cookies["parley_session"].value,
          "domain": "alpha.localhost", "path": "/"}]
    )  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    return page


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
