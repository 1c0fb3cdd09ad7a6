"""`make run`: start everything a newcomer needs, print where it is, stop it all on Ctrl-C.

Embedded PostgreSQL and Redis (unless DATABASE_URL / REDIS_URL are set), migrations, the demo
workspace, the ASGI server (uvicorn: HTTP and WebSockets) and the procrastinate worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

from config import embedded_services

PYTHON = sys.executable
DEMO_HOST_PORT = 8001
MANAGE = [PYTHON, str(embedded_services.PROJECT_DIR / "manage.py")]


def _step(title: str, command: list[str]) -> None:
    print(f"==> {title}", flush=True)
    subprocess.run(command, check=True, cwd=embedded_services.PROJECT_DIR)


def _wait_for_port(port: int, children: list[subprocess.Popen], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(child.poll() is None for child in children):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    public_url = os.environ.get("PARLEY_PUBLIC_URL", "http://localhost:8000").rstrip("/")
    parts = urlsplit(public_url)
    port = parts.port or 8000
    started_embedded = not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL")

    print("==> services", flush=True)
    embedded_services.main(["", "start"])
    _step("migrations", [*MANAGE, "migrate_schemas", "--noinput", "-v", "0"])
    _step("demo workspace", [*MANAGE, "seed_demo", "--host-port", str(DEMO_HOST_PORT)])
    _step("spare schemas for instant sign-up", [*MANAGE, "refill_spare_pool"])

    children = [
        subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--no-proxy-headers", "--no-access-log", "--ws-max-size", "65536",
             "--ws-per-message-deflate", "false"],
            cwd=embedded_services.PROJECT_DIR,
        ),
        subprocess.Popen([*MANAGE, "procrastinate", "worker"], cwd=embedded_services.PROJECT_DIR),
        # A customer's website stand-in, on another origin, embedding the demo workspace's widget.
        subprocess.Popen(
            [PYTHON, "-m", "http.server", str(DEMO_HOST_PORT), "--bind", "127.0.0.1",
             "--directory", str(embedded_services.DATA_DIR / "demo")],
            cwd=embedded_services.PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    _wait_for_port(port, children)
    print(
        f"""
  Parley is running.
    Public site      {public_url}/
    Agent inbox      {parts.scheme}://demo.{parts.hostname}:{port}/inbox/
    Demo login       demo@parley.localhost / parley-demo-password
    Demo host page   http://localhost:{DEMO_HOST_PORT}/   (a customer site with the chat widget)
  Write from the host page, answer from the inbox: both sides update live.
  Staff console    {public_url}/staff/   (first: .venv/bin/python manage.py create_staff YOU@EXAMPLE.COM)
  Ctrl-C stops everything.
""",
        flush=True,
    )

    def stop(*_):
        raise KeyboardInterrupt

    # Set both explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a process exited; stopping the others", flush=True)
        return_code = 1
    except KeyboardInterrupt:
        return_code = 0
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        if started_embedded:
            embedded_services.main(["", "stop"])
    return return_code


if __name__ == "__main__":
    sys.exit(main())
