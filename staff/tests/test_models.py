"""The audit log's table: its migration matches the model, and an entry says what changed."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from staff.models import AuditEntry


@pytest.mark.django_db
def test_the_migrations_match_the_model():
    call_command("makemigrations", "staff", "--check", "--dry-run", verbosity=0)


def test_changes_lists_what_differs_in_the_order_written():
    entry = AuditEntry(
        before={"plan": "free", "email": "a@example.com", "until": None},
        after={"email": "a@example.com", "plan": "team", "suspended": True},
    )
    # `until` is None before and absent after: nothing to show.
    assert entry.changes() == [("plan", "free", "team"), ("suspended", None, True)]
