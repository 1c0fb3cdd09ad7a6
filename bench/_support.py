"""What the bench scripts share: a database of their own on the app's server, and servers to measure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))


def database_url(name: str) -> str:
    """A URL for database `name` on the app's own server (embedded, or DATABASE_URL's)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url.rsplit("/", 1)[0] + "/" + name
    from config import embedded_services

    pg = embedded_services.ensure_postgres()
    return f"postgres://{pg.user}@{quote(pg.socket_dir, safe='')}:{pg.port}/{name}"


def libpq(url: str) -> str:
    """psycopg wants a socket directory as ?host=, not percent-encoded in the authority."""
    parts = urlsplit(url)
    host = unquote(parts.hostname or "")
    if host.startswith("/"):
        return (
            f"postgresql://{parts.username}@/{parts.path.lstrip('/')}?host={host}&port={parts.port or 5432}"
        )
    return url


def fresh_database(name: str) -> str:
    """Drop and re-create database `name`, point this process's Django at it, migrate the public schema."""
    import psycopg

    url = database_url(name)
    with psycopg.connect(libpq(url.rsplit("/", 1)[0] + "/postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uvicorn(app: str, port: int, env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
    """An ASGI server in its own process; returns once it accepts connections."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--no-proxy-headers", "--no-access-log", "--lifespan", "off", "--log-level", "warning",
         "--ws-per-message-deflate", "false"],
        # No access lines (config/edge.py writes them): the figures measure serving, not logging.
        cwd=PROJECT_DIR, env={"PARLEY_ACCESS_LOG": "false", **os.environ, **(env or {})},
        stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return wait_listening(server, port, app)


def wait_listening(server: subprocess.Popen, port: int, what: str) -> subprocess.Popen:
    """Return `server` once it accepts connections on `port` (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"{what} did not start on port {port}") from None
            time.sleep(0.1)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
