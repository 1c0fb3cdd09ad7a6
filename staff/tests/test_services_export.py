"""Staff export a workspace's data: a reason required, the export and its one audit row written together."""

from __future__ import annotations

import pytest
from django.db import connection

from exports.models import WorkspaceExport
from staff import services
from staff.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_an_export_is_queued_with_exactly_one_audit_row(staff_user, workspace_a):
    export, created = services.workspace_export_request(
        staff=staff_user, workspace=workspace_a, reason="  Ticket 7 ", ip_address="203.0.113.4"
    )
    assert created and export.by_staff and export.status == "queued" and export.requested_by == staff_user
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.staff, entry.workspace, entry.reason, entry.ip_address) == (
        "export", staff_user, workspace_a, "Ticket 7", "203.0.113.4"
    )  # fmt: skip
    assert (entry.before, entry.after) == ({}, {"export_id": export.pk})

    again, created_again = services.workspace_export_request(
        staff=staff_user, workspace=workspace_a, reason="Again"
    )
    assert not created_again and again.pk == export.pk
    assert AuditEntry.objects.count() == 1  # nothing was done: nothing written


@pytest.mark.parametrize(
    ("reason", "error"), [("", "Say why"), (" \n ", "Say why"), ("x" * 1001, "1,000 characters")]
)
def test_a_reason_is_required(staff_user, workspace_a, reason, error):
    with pytest.raises(services.StaffError, match=error):
        services.workspace_export_request(staff=staff_user, workspace=workspace_a, reason=reason)
    assert not WorkspaceExport.objects.exists() and not AuditEntry.objects.exists()


def test_no_export_without_its_audit_row(owner_a, workspace_a):
    # The audit row refuses a user who is not staff; the export, in the same transaction, goes with it.
    with pytest.raises(ValueError, match="only staff"):
        services.workspace_export_request(staff=owner_a, workspace=workspace_a, reason="Curious")
    assert not WorkspaceExport.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'exports.tasks.export_build'"
        )
        assert cursor.fetchone()[0] == 0  # nor its job
