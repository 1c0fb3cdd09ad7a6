"""A workspace scheduled for deletion, with something in every place a drop must empty, for the
tenants' and the staff console's tests of the drop."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import User
from billing.models import BillingAccount
from tenants.models import Domain, Invitation, Membership, SiteKey, Workspace, WorkspaceActivity


def doomed_workspace(owner: User, *, due_in: timedelta) -> Workspace:
    """A workspace with a schema of its own (one table, a row), members, a site key, an invitation,
    activity and a billing account, scheduled for deletion `due_in` from now. The schema is made by
    hand: a dropped schema need not be a migrated one, and migrating one is slow."""
    now = timezone.now()
    workspace = Workspace.objects.bulk_create(
        [Workspace(schema_name="ws_test_doomed", name="Doomed", slug="doomed", claimed_at=now)]
    )[0]
    Workspace.objects.filter(pk=workspace.pk).update(suspended_at=now, deletion_due_at=now + due_in)
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA ws_test_doomed")
        cursor.execute("CREATE TABLE ws_test_doomed.inbox_message (id int)")
        cursor.execute("INSERT INTO ws_test_doomed.inbox_message VALUES (1)")
        cursor.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status) "
            "VALUES ('webhooks', 'webhooks.tasks.deliver', NULL, NULL, %s, 'todo'), "
            "('webhooks', 'webhooks.tasks.deliver', NULL, NULL, %s, 'todo')",
            ['{"schema_name": "ws_test_doomed", "delivery_id": 1}', '{"schema_name": "ws_test_alpha"}'],
        )
    Domain.objects.create(tenant=workspace, domain="doomed.localhost", is_primary=True)
    Membership.objects.create(user=owner, workspace=workspace, role=Membership.Role.OWNER)
    SiteKey.objects.create(key="pk_doomed", workspace=workspace, website_id=1)
    Invitation.objects.create(
        workspace=workspace, email="x@example.com", token_hash="doomed", expires_at=now + timedelta(days=1)
    )
    WorkspaceActivity.objects.create(workspace=workspace, hour=now.replace(minute=0), last_at=now)
    BillingAccount.objects.create(workspace=workspace)
    return Workspace.objects.get(pk=workspace.pk)


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def jobs_of(schema: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_jobs WHERE args->>'schema_name' = %s", [schema])
        return cursor.fetchone()[0]
