"""`seed_demo`, the demo workspace `make run` starts with: plain output on a fresh install, idempotent."""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command

from tenants.models import Workspace

pytestmark = pytest.mark.django_db


def test_a_first_run_makes_the_first_schema_without_a_warning(capsys, caplog, settings, tmp_path):
    settings.BASE_DIR = tmp_path  # the demo host page is written under it
    assert not Workspace.objects.filter(claimed_at__isnull=True).exists()  # a fresh install: no spare yet
    caplog.set_level(logging.INFO)

    call_command("seed_demo", host_port=8001)

    out = capsys.readouterr().out
    assert "making the first workspace schema" in out
    assert "demo workspace:" in out
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert Workspace.objects.get(slug="demo").claimed_at is not None
    assert (tmp_path / ".data" / "demo" / "index.html").exists()

    call_command("seed_demo", host_port=8001)  # again: nothing new to make
    assert "making the first workspace schema" not in capsys.readouterr().out
    assert Workspace.objects.filter(slug="demo").count() == 1
