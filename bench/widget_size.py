"""What a visitor's browser loads for the widget before they open it, gzipped, file by file.

    .venv/bin/python bench/widget_size.py

Starts the app (uvicorn) on a database of its own and a host page on another origin, loads the
page in Chromium, and lists every file fetched from Parley's origin with its gzipped size
(compressed at level 9, whatever the server sent); then opens the panel and lists anything more.
Target: everything loaded before the panel opens is at most 12 KB gzipped.
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from _support import free_port, fresh_database, start_uvicorn, stop

BUDGET = 12 * 1024


def main() -> int:
    fresh_database("parley_bench_widget")
    from accounts.models import User
    from inbox import services as inbox_services
    from tenants import services
    from tenants.context import workspace_schema

    page_port, app_port = free_port(), free_port()
    owner = User.objects.create_user("bench@example.com", None)
    workspace = services.workspace_create(owner=owner, name="Bench", slug="bench")
    with workspace_schema(workspace.schema_name):
        website, _ = inbox_services.website_create(
            workspace=workspace, name="Bench site", allowed_origins=f"http://127.0.0.1:{page_port}"
        )
    public = f"http://localhost:{app_port}"
    html = (
        f"<!DOCTYPE html><title>Host</title><h1>A customer page</h1>"
        f'<script src="{public}/widget.js" data-site="{website.site_key}" async></script>'
    ).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    host = ThreadingHTTPServer(("127.0.0.1", page_port), Page)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    server = start_uvicorn("config.asgi:application", app_port, env={"PARLEY_PUBLIC_URL": public})
    try:
        before, after = _load(public, f"http://127.0.0.1:{page_port}/")
    finally:
        stop(server)
        host.shutdown()

    print("files loaded from Parley before the panel opens:")
    total = 0
    for url, raw, gz in before:
        total += gz
        print(f"  {url:<48} {raw:>7,} bytes  {gz:>6,} gzipped")
    print("files loaded when the panel opens:" + ("" if after else " none"))
    for url, raw, gz in after:
        print(f"  {url:<48} {raw:>7,} bytes  {gz:>6,} gzipped")
    ok = total <= BUDGET and before
    print()
    print(
        f"widget_size before opening: {total / 1024:.1f} KB gzipped in {len(before)} file(s) "
        f"(target: <= {BUDGET / 1024:.0f} KB) {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


def _load(public: str, page_url: str):
    from playwright.sync_api import sync_playwright

    loaded: list[tuple[str, int, int]] = []

    def record(response):
        if response.url.startswith(public) and response.request.resource_type != "websocket":
            body = response.body()
            loaded.append((response.url.replace(public, ""), len(body), len(gzip.compress(body, 9))))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        page = browser.new_page()
        page.on("response", record)
        page.goto(page_url, wait_until="networkidle")
        page.locator("parley-widget .launcher").wait_for()
        before = list(loaded)
        page.locator("parley-widget .launcher").click()
        page.locator("parley-widget .panel").wait_for()
        page.wait_for_timeout(500)
        after = loaded[len(before) :]
        browser.close()
    return before, after


if __name__ == "__main__":
    raise SystemExit(main())
