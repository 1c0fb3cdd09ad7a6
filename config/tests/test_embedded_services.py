"""The embedded default: a real PostgreSQL and Redis from wheels, started, reused and stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import redis

from config.embedded_services import PROJECT_DIR


def _services(data_dir, command: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PARLEY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "config.embedded_services", command],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_start_reuse_and_stop_in_a_fresh_data_dir(tmp_path):
    data_dir = tmp_path / "data"
    try:
        first = _services(data_dir, "start").stdout
        pg_url = first.split("PostgreSQL", 1)[1].split()[0]
        redis_url = first.split("Redis", 1)[1].split()[0]

        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("16.")
            assert conn.execute("SELECT current_database()").fetchone()[0] == "parley"
        assert redis.Redis.from_url(redis_url).ping()

        started = time.monotonic()
        second = _services(data_dir, "start").stdout
        assert second == first  # the running servers are reused, not started again
        assert time.monotonic() - started < 5

        assert "running" in _services(data_dir, "status").stdout
    finally:
        stopped = _services(data_dir, "stop").stdout
    assert "PostgreSQL" in stopped and "Redis" in stopped
    assert _services(data_dir, "status").stdout.count("stopped") == 2
