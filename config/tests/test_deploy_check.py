"""Production settings pass Django's deployment checklist with no warning at all."""

from __future__ import annotations

import os
import subprocess
import sys

from config.embedded_services import PROJECT_DIR

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-production-secret-of-fifty-or-more-characters-x7Qk2mZp9Lw4Rt8Vb3Nc",
    "DATABASE_URL": "postgres://parley:pw@db.internal:5432/parley",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "PARLEY_PUBLIC_URL": "https://parley.example.com",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=environment, capture_output=True, text=True
    )


def test_check_deploy_passes_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_flags_the_local_settings():
    # The check above can fail: the same command on development settings reports warnings.
    env = PRODUCTION_ENV | {"DJANGO_SETTINGS_MODULE": "config.settings.local"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG on


def test_production_refuses_to_start_embedded_servers():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DATABASE_URL"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "DATABASE_URL is required here" in result.stderr


def test_production_refuses_plain_http():
    result = _manage("check", **(PRODUCTION_ENV | {"PARLEY_PUBLIC_URL": "http://parley.example.com"}))
    assert result.returncode != 0
    assert "must be an https:// URL in production" in result.stderr


def test_a_trusted_proxy_that_is_no_address_stops_the_start():
    result = _manage("check", **(PRODUCTION_ENV | {"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}))
    assert result.returncode != 0
    assert "PARLEY_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network" in result.stderr


def test_production_accepts_its_proxies():
    proxies = {"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8,fd00::/8,192.0.2.7"}
    result = _manage("check", **(PRODUCTION_ENV | proxies))
    assert result.returncode == 0, result.stderr
