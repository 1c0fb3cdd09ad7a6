"""Suspension and deletion as staff actions: one audit row each, in the action's transaction; refusals
write nothing; the drop job keeps to the grace period, audits each drop and cancels the subscription."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from accounts.models import User
from billing import gateway
from billing.models import BillingAccount
from billing.tests.localstripe import localstripe_subscribe
from billing.tests.test_stripe_events import _stripe
from exports import services as export_services
from exports.models import WorkspaceExport
from staff import services
from staff.models import AuditEntry
from staff.tasks import drop_deleted_workspaces
from tenants.models import Workspace
from tenants.tests.deletion import doomed_workspace, schema_exists

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def _fresh(workspace: Workspace) -> Workspace:
    return Workspace.objects.get(pk=workspace.pk)


def _entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("id"))


def _ready_export(workspace: Workspace, owner: User, export_dir) -> WorkspaceExport:
    """A done export with its file on disk (the build itself is exports' tests')."""
    export = WorkspaceExport.objects.create(
        workspace=workspace,
        requested_by=owner,
        status=WorkspaceExport.Status.DONE,
        file_name=f"ws{workspace.pk}-ready.zip",
        expires_at=timezone.now() + timedelta(days=7),
    )
    export_dir.mkdir(exist_ok=True)
    (export_dir / export.file_name).write_bytes(b"PK\x05\x06" + bytes(18))
    return export


def _export_jobs() -> list[str]:
    """The workspace ids of the export builds waiting on the queue."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args->>'workspace_id' FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo' "
            "ORDER BY id",
            [export_services.EXPORT_BUILD_TASK],
        )
        return [row[0] for row in cursor.fetchall()]


def test_suspend_writes_one_audit_row_with_before_and_after(staff_user, workspace_a):
    services.workspace_suspend(staff=staff_user, workspace=workspace_a, reason=" Chargeback. ", ip_address=IP)
    ws = _fresh(workspace_a)
    (entry,) = _entries()
    assert (entry.action, entry.staff, entry.workspace, entry.reason, entry.ip_address) == (
        AuditEntry.Action.SUSPEND, staff_user, ws, "Chargeback.", IP
    )  # fmt: skip
    assert entry.before == {"suspended_at": None, "suspension_reason": "", "deletion_due_at": None}
    assert entry.after["suspension_reason"] == "Chargeback." and entry.after["deletion_due_at"] is None
    # JSON, a time as text (DjangoJSONEncoder keeps milliseconds).
    assert entry.after["suspended_at"] == DjangoJSONEncoder().default(ws.suspended_at)


def test_unsuspend_writes_one_row(staff_user, workspace_a):
    services.workspace_suspend(staff=staff_user, workspace=workspace_a, reason="Chargeback.")
    services.workspace_unsuspend(staff=staff_user, workspace=workspace_a, reason="Paid in full.")
    assert not _fresh(workspace_a).is_suspended
    suspend, unsuspend = _entries()
    assert unsuspend.action == AuditEntry.Action.UNSUSPEND and unsuspend.reason == "Paid in full."
    assert unsuspend.before == suspend.after
    assert unsuspend.after == {"suspended_at": None, "suspension_reason": "", "deletion_due_at": None}


@pytest.mark.parametrize("reason", ["", "   \n ", "x" * 2001])
def test_a_reason_is_required_and_bounded(staff_user, workspace_a, reason):
    with pytest.raises(services.StaffError, match="reason"):
        services.workspace_suspend(staff=staff_user, workspace=workspace_a, reason=reason)
    assert not _fresh(workspace_a).is_suspended and _entries() == []


def test_suspending_twice_or_unsuspending_an_active_workspace_is_a_clear_error_and_no_row(
    staff_user, workspace_a
):
    with pytest.raises(services.StaffError, match="Alpha Support is not suspended"):
        services.workspace_unsuspend(staff=staff_user, workspace=workspace_a, reason="Why not.")
    services.workspace_suspend(staff=staff_user, workspace=workspace_a, reason="Once.")
    with pytest.raises(services.StaffError, match="Alpha Support is already suspended"):
        services.workspace_suspend(staff=staff_user, workspace=workspace_a, reason="Twice.")
    assert [e.action for e in _entries()] == [AuditEntry.Action.SUSPEND]
    assert _fresh(workspace_a).suspension_reason == "Once."


def test_the_state_change_and_its_row_are_one_transaction(workspace_a, owner_a):
    # audit_record refuses a non-staff actor: the suspension it would have recorded is undone too.
    with pytest.raises(ValueError, match="only staff"):
        services.workspace_suspend(staff=owner_a, workspace=workspace_a, reason="Not mine to do.")
    assert not _fresh(workspace_a).is_suspended and _entries() == []


def test_delete_needs_the_address_typed(staff_user, workspace_a):
    for typed in ("", "beta", "alph", "alpha-support"):
        with pytest.raises(
            services.SlugNotConfirmed, match="Type the workspace's address, alpha, to confirm"
        ):
            services.workspace_delete(
                staff=staff_user, workspace=workspace_a, slug_typed=typed, reason="Asked."
            )
    assert not _fresh(workspace_a).is_suspended and _entries() == []
    services.workspace_delete(staff=staff_user, workspace=workspace_a, slug_typed=" Alpha ", reason="Asked.")
    ws = _fresh(workspace_a)
    assert ws.is_suspended and ws.deletion_due_at
    (entry,) = _entries()
    assert entry.action == AuditEntry.Action.DELETE and entry.before["deletion_due_at"] is None
    assert entry.after["deletion_due_at"] and entry.after["suspended_at"]


def test_restore_before_the_due_time_and_not_after(staff_user, workspace_a):
    services.workspace_delete(staff=staff_user, workspace=workspace_a, slug_typed="alpha", reason="Asked.")
    services.workspace_restore(staff=staff_user, workspace=workspace_a, reason="They changed their mind.")
    ws = _fresh(workspace_a)
    assert not ws.is_suspended and ws.deletion_due_at is None
    assert [e.action for e in _entries()] == [AuditEntry.Action.DELETE, AuditEntry.Action.RESTORE]
    assert _entries()[1].after == {"suspended_at": None, "suspension_reason": "", "deletion_due_at": None}

    services.workspace_delete(staff=staff_user, workspace=workspace_a, slug_typed="alpha", reason="Again.")
    Workspace.objects.filter(pk=workspace_a.pk).update(deletion_due_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.StaffError, match="too late to restore it"):
        services.workspace_restore(staff=staff_user, workspace=workspace_a, reason="Oops.")
    assert len(_entries()) == 3 and _fresh(workspace_a).deletion_is_due


def test_the_job_drops_only_after_the_grace_period_with_one_row_each(staff_user, owner_a, settings):
    settings.PARLEY_DELETE_GRACE_DAYS = 30
    doomed = doomed_workspace(owner_a, due_in=timedelta(days=30))
    assert drop_deleted_workspaces() == 0  # the job, as the worker runs it
    assert schema_exists("ws_test_doomed") and Workspace.objects.filter(pk=doomed.pk).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.SCHEMA_DROP).exists()

    Workspace.objects.filter(pk=doomed.pk).update(deletion_due_at=timezone.now() - timedelta(seconds=1))
    assert drop_deleted_workspaces() == 1
    assert not schema_exists("ws_test_doomed") and not Workspace.objects.filter(pk=doomed.pk).exists()
    (entry,) = AuditEntry.objects.filter(action=AuditEntry.Action.SCHEMA_DROP)
    assert entry.staff is None and entry.staff_email == ""
    assert entry.workspace is None and (entry.workspace_slug, entry.workspace_name) == ("doomed", "Doomed")
    assert entry.before["schema_name"] == "ws_test_doomed" and entry.after == {}
    assert drop_deleted_workspaces() == 0


def test_a_restore_that_wins_the_race_keeps_the_workspace(
    staff_user, owner_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PARLEY_EXPORT_DIR = export_dir = tmp_path / "exports"
    doomed = doomed_workspace(owner_a, due_in=timedelta(seconds=-1))
    ready = _ready_export(doomed, owner_a, export_dir)
    queued, _ = export_services.export_request(workspace=doomed, requested_by=owner_a)
    Workspace.objects.filter(pk=doomed.pk).update(deletion_due_at=None, suspended_at=None)
    # `doomed` is as the job read it, due; the row is restored meanwhile: no drop, and no row.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert services.workspace_drop(workspace=doomed) is False
    assert schema_exists("ws_test_doomed") and _entries() == []
    # Its exports are rolled back with the drop: the file, the rows and the queued build stay.
    assert callbacks == [] and (export_dir / ready.file_name).exists()
    assert WorkspaceExport.objects.get(pk=ready.pk).status == WorkspaceExport.Status.DONE
    assert WorkspaceExport.objects.get(pk=queued.pk).status == WorkspaceExport.Status.QUEUED
    assert _export_jobs() == [str(doomed.pk)]


def test_the_drop_deletes_the_workspaces_export_files_and_queued_builds(
    owner_a, workspace_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PARLEY_EXPORT_DIR = export_dir = tmp_path / "exports"
    doomed = doomed_workspace(owner_a, due_in=timedelta(seconds=-1))
    ready = _ready_export(doomed, owner_a, export_dir)
    export_services.export_request(workspace=doomed, requested_by=owner_a)  # queued, its job waiting
    kept = _ready_export(workspace_a, owner_a, export_dir)  # another workspace's: untouched
    kept_queued, _ = export_services.export_request(workspace=workspace_a, requested_by=owner_a)
    assert _export_jobs() == [str(doomed.pk), str(workspace_a.pk)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.workspaces_drop_due() == 1
        # Until the drop commits, the file is there (a rollback would keep it).
        assert (export_dir / ready.file_name).exists()
    for callback in callbacks:
        callback()
    assert sorted(p.name for p in export_dir.iterdir()) == [kept.file_name]
    assert not WorkspaceExport.objects.filter(workspace_id=doomed.pk).exists()
    assert sorted(WorkspaceExport.objects.values_list("pk", flat=True)) == [kept.pk, kept_queued.pk]
    assert _export_jobs() == [str(workspace_a.pk)]


def test_the_drop_cancels_the_paid_subscription_first(stripe_on, owner_a):
    doomed = doomed_workspace(owner_a, due_in=timedelta(seconds=-1))
    customer_id = gateway.customer_for_workspace(workspace=doomed)
    subscription = localstripe_subscribe(_stripe(stripe_on), customer_id, "price_team_monthly")
    BillingAccount.objects.filter(workspace=doomed).update(
        stripe_customer_id=customer_id,
        stripe_subscription_id=subscription["id"],
        status="active",
        plan="team",
    )
    assert gateway.subscription_retrieve(subscription["id"])["status"] == "active"
    assert services.workspaces_drop_due() == 1
    assert gateway.subscription_retrieve(subscription["id"])["status"] == "canceled"
    assert not BillingAccount.objects.filter(stripe_customer_id=customer_id).exists()


def test_while_stripe_cannot_be_reached_nothing_is_dropped(stripe_on, owner_a, caplog):
    doomed = doomed_workspace(owner_a, due_in=timedelta(seconds=-1))
    BillingAccount.objects.filter(workspace=doomed).update(
        stripe_customer_id="cus_gone", stripe_subscription_id="sub_gone", status="active", plan="team"
    )
    stripe_on.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    with caplog.at_level(logging.ERROR, logger="staff.services.suspension"):
        assert services.workspaces_drop_due() == 0
    assert "could not drop workspace" in caplog.text
    assert schema_exists("ws_test_doomed") and Workspace.objects.filter(pk=doomed.pk).exists()
    assert not AuditEntry.objects.exists()


def test_staff_users_are_kept_when_a_workspace_they_acted_on_is_dropped(staff_user, owner_a):
    doomed = doomed_workspace(owner_a, due_in=timedelta(days=1))
    Workspace.objects.filter(pk=doomed.pk).update(suspended_at=None, deletion_due_at=None)
    services.workspace_delete(staff=staff_user, workspace=doomed, slug_typed="doomed", reason="Owner asked.")
    Workspace.objects.filter(pk=doomed.pk).update(deletion_due_at=timezone.now() - timedelta(seconds=1))
    assert services.workspaces_drop_due() == 1
    delete, drop = _entries()
    assert delete.action == AuditEntry.Action.DELETE and delete.workspace is None  # kept, unlinked
    assert delete.workspace_slug == drop.workspace_slug == "doomed"
    assert User.objects.filter(pk=staff_user.pk).exists()
