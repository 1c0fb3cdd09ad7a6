"""The audit log's one writer, and staff access given from the command line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from staff import services
from staff.models import AuditEntry
from tenants.models import Workspace

pytestmark = pytest.mark.django_db


def test_audit_record_writes_one_row_with_before_and_after(staff_user, workspace_a):
    entry = services.audit_record(
        staff=staff_user,
        action=AuditEntry.Action.STAFF_GRANT,
        workspace=workspace_a,
        reason="  Asked by the owner on ticket 42. ",
        before={"plan": "free", "until": None},
        after={"plan": "team", "until": datetime(2027, 1, 31, tzinfo=UTC)},
        ip_address="203.0.113.9",
    )
    assert AuditEntry.objects.count() == 1
    stored = AuditEntry.objects.get()
    assert stored.pk == entry.pk
    assert (stored.staff, stored.staff_email) == (staff_user, staff_user.email)
    assert (stored.workspace, stored.workspace_slug, stored.workspace_name) == (
        workspace_a, "alpha", "Alpha Support"
    )  # fmt: skip
    assert stored.reason == "Asked by the owner on ticket 42."
    assert stored.before == {"plan": "free", "until": None}
    assert stored.after == {"plan": "team", "until": "2027-01-31T00:00:00Z"}  # JSON, times as text
    assert stored.ip_address == "203.0.113.9"
    assert stored.changes() == [("plan", "free", "team"), ("until", None, "2027-01-31T00:00:00Z")]


def test_audit_record_refuses_an_unknown_action_and_a_non_staff_actor(staff_user, owner_a):
    with pytest.raises(ValueError, match="unknown staff action"):
        services.audit_record(staff=staff_user, action="workspace_vanish")
    with pytest.raises(ValueError, match="only staff"):
        services.audit_record(staff=owner_a, action=AuditEntry.Action.STAFF_GRANT)
    assert not AuditEntry.objects.exists()


def test_the_trail_outlives_its_workspace_and_its_staff_user(staff_user):
    # A workspace row without a schema: deleting a real one would drop its schema.
    doomed = Workspace(
        schema_name="ws_audit_doomed", name="Doomed Ltd", slug="doomed", claimed_at=timezone.now()
    )
    doomed.auto_create_schema = doomed.auto_drop_schema = False
    doomed.save()
    services.audit_record(staff=staff_user, action=AuditEntry.Action.STAFF_GRANT, workspace=doomed)
    doomed.delete()
    staff_user.delete()
    entry = AuditEntry.objects.get()
    assert (entry.workspace_id, entry.workspace_slug, entry.workspace_name) == (None, "doomed", "Doomed Ltd")
    assert (entry.staff_id, entry.staff_email) == (None, "ops@parley.example")


def test_staff_grant_makes_an_account_with_a_proven_address_and_no_password():
    grant = services.staff_grant(email="  New.Ops@Parley.Example ")
    user = User.objects.get(email="new.ops@parley.example")
    assert (grant.user, grant.created, grant.changed) == (user, True, True)
    assert user.is_staff and not user.is_superuser
    assert not user.has_usable_password()  # set by its owner, through a code mailed to the address
    assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.staff, entry.workspace) == ("staff_grant", None, None)
    assert entry.before == {} and entry.after == {"email": "new.ops@parley.example", "is_staff": True}


def test_staff_grant_promotes_an_account_that_proved_the_address_and_keeps_its_password(owner_a):
    grant = services.staff_grant(email="OWNER-A@example.com")
    owner_a.refresh_from_db()
    assert (grant.user, grant.created, grant.changed) == (owner_a, False, True)
    assert owner_a.is_staff and owner_a.check_password("secret-password-a")
    assert AuditEntry.objects.get().before == {"email": owner_a.email, "is_staff": False}


def test_staff_grant_refuses_an_account_whose_address_is_unproven():
    # Anyone may sign up with an address that is not theirs: that account must never become staff.
    squatter = User.objects.create_user("cto@corp.example", "squatter-password-1")
    EmailAddress.objects.create(user=squatter, email=squatter.email, verified=False, primary=True)
    with pytest.raises(services.AddressNotProven):
        services.staff_grant(email="cto@corp.example")
    squatter.refresh_from_db()
    assert not squatter.is_staff
    assert not AuditEntry.objects.exists()


def test_staff_grant_twice_changes_nothing_the_second_time(staff_user):
    grant = services.staff_grant(email=staff_user.email)
    assert (grant.created, grant.changed) == (False, False)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("email", ["", "not-an-address", "two@@example.com"])
def test_staff_grant_refuses_what_is_not_an_address(email):
    with pytest.raises(services.StaffError):
        services.staff_grant(email=email)
    assert not User.objects.filter(is_staff=True).exists()
