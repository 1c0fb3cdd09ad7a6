"""docker-compose.yml, checked without Docker (these machines have no engine).

Services, images, health checks, and that every variable it sets is one the settings read.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from config.embedded_services import PROJECT_DIR

COMPOSE = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Read by Django itself rather than by our settings.
READ_OUTSIDE_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def _variables_the_settings_read() -> set[str]:
    names = set()
    for path in Path(PROJECT_DIR, "config", "settings").glob("*.py"):
        source = path.read_text()
        names |= set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
        names |= set(
            re.findall(r"""os\.environ(?:\.get|\.setdefault|\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""", source)
        )
    return names


def test_services_and_images():
    assert set(SERVICES) >= {"db", "redis", "web", "worker"}
    assert SERVICES["db"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    for name in ("web", "worker", "migrate"):
        assert SERVICES[name]["build"] == "."
    assert (PROJECT_DIR / "Dockerfile").exists()
    assert "uvicorn" in SERVICES["web"]["command"] and "8000:8000" in SERVICES["web"]["ports"]
    assert SERVICES["worker"]["command"][-2:] == ["procrastinate", "worker"]


def test_web_and_worker_share_the_exports_folder():
    # The worker writes workspace exports; web hands them out (exports.files): one folder for both.
    for name in ("web", "worker"):
        assert "exports:/app/.data/exports" in SERVICES[name]["volumes"], name
    assert "exports" in COMPOSE["volumes"]
    assert "mkdir -p /app/.data/exports" in (PROJECT_DIR / "Dockerfile").read_text()


def test_every_long_running_service_has_a_health_check():
    for name in ("db", "redis", "web", "worker"):
        check = SERVICES[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name


def test_the_app_waits_for_healthy_data_services_and_migrations():
    assert SERVICES["migrate"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_variable_set_is_one_the_settings_read():
    read = _variables_the_settings_read() | READ_OUTSIDE_SETTINGS
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "PARLEY_PUBLIC_URL"} <= read  # the scan works
    for name in ("web", "worker", "migrate"):
        unknown = set(SERVICES[name]["environment"]) - read
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"
    env = SERVICES["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")


def test_env_example_documents_only_variables_that_are_read():
    read = _variables_the_settings_read() | READ_OUTSIDE_SETTINGS | {"PARLEY_DATA_DIR"}
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (PROJECT_DIR / ".env.example").read_text(), re.M)
    )
    assert documented and documented <= read, documented - read


def test_forwarded_headers_are_read_by_our_middleware_alone():
    # uvicorn's own proxy headers trust 127.0.0.1 by default, or "*" if told: either would let a
    # client name its own address. config/edge.py reads them, from PARLEY_TRUSTED_PROXIES only.
    dockerfile = (PROJECT_DIR / "Dockerfile").read_text()
    assert "--no-proxy-headers" in dockerfile
    assert "--proxy-headers" not in dockerfile.replace("--no-proxy-headers", "")
    assert "forwarded-allow-ips" not in dockerfile and "FORWARDED_ALLOW_IPS" not in dockerfile
    assert "--no-proxy-headers" in SERVICES["web"]["command"]
    assert "forwarded-allow-ips" not in " ".join(SERVICES["web"]["command"])
    # No proxy in front of web here: nothing is trusted.
    for name in ("web", "worker", "migrate"):
        assert SERVICES[name]["environment"]["PARLEY_TRUSTED_PROXIES"] == ""


def test_uvicorn_writes_no_access_log_of_its_own():
    # Its lines carry query strings (handoff tokens) and token paths; config/edge.py writes ours.
    assert "--no-access-log" in (PROJECT_DIR / "Dockerfile").read_text()
    assert "--no-access-log" in SERVICES["web"]["command"]
