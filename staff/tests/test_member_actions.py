"""Sending a member who has not proven their address the way to prove it, again: one mail, one audit
row, a clear refusal for a proven address, throttled; and the mail leads into allauth's own flow."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import User
from conftest import emailed_code, host_client
from staff.models import AuditEntry
from tenants.models import Membership

pytestmark = pytest.mark.django_db

PASSWORD = "unproven-password-7"


@pytest.fixture
def unproven(workspace_a) -> User:
    """A member who signed up and never entered the emailed code."""
    user = User.objects.create_user("late@example.com", PASSWORD, display_name="Lou Late")
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    Membership.objects.create(user=user, workspace=workspace_a, role=Membership.Role.AGENT)
    return user


def _url(workspace) -> str:
    return f"/staff/workspaces/{workspace.pk}/verification/"


def test_only_unproven_members_are_offered_the_mail(staff_client, workspace_a, unproven):
    html = staff_client.get(f"/staff/workspaces/{workspace_a.pk}/").content.decode()
    assert html.count(f'action="{_url(workspace_a)}"') == 1  # the owner proved theirs
    assert f'name="member" value="{unproven.pk}"' in html and "address not verified" in html


def test_the_mail_goes_once_with_one_audit_row_and_then_waits(
    staff_client, staff_user, workspace_a, unproven
):
    sent = staff_client.post(_url(workspace_a), {"member": unproven.pk})
    assert sent.status_code == 302 and sent["Location"] == f"/staff/workspaces/{workspace_a.pk}/"
    (message,) = mail.outbox
    assert message.to == ["late@example.com"] and message.subject == "Finish setting up your Parley account"
    assert "http://localhost:8000/accounts/login/" in message.body and "Alpha Support" in message.body
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.staff, entry.workspace) == ("verification_resend", staff_user, workspace_a)
    assert entry.after == {"member": "late@example.com", "mailed": True}
    page = staff_client.get(f"/staff/workspaces/{workspace_a.pk}/").content.decode()
    assert "late@example.com was sent how to prove their address again." in page

    again = staff_client.post(_url(workspace_a), {"member": unproven.pk})  # allauth's limiter
    assert again.status_code == 400 and "give it a few minutes" in again.content.decode()
    assert len(mail.outbox) == 1 and AuditEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("member", "error"),
    [
        ("OWNER_A", "owner-a@example.com is proven already: there is nothing to verify."),
        ("OWNER_B", "owner-b@example.com is not a member of Alpha Support."),
        ("999999999", "No such member."),
        ("abc", "Choose a member."),
        ("", "Choose a member."),
    ],
)
def test_anyone_else_is_refused_clearly_and_mailed_nothing(
    staff_client, workspace_a, owner_a, owner_b, member, error
):
    member = {"OWNER_A": owner_a.pk, "OWNER_B": owner_b.pk}.get(member, member)
    sent = staff_client.post(_url(workspace_a), {"member": member})
    assert sent.status_code == 400 and error in sent.content.decode()
    assert not mail.outbox and not AuditEntry.objects.exists()


def test_the_mail_leads_into_allauths_own_proof(staff_client, workspace_a, unproven):
    staff_client.post(_url(workspace_a), {"member": unproven.pk})
    mail.outbox.clear()
    # As the mail says: log in with the password; allauth mails a code to the address, for this session.
    member = host_client("localhost")
    asked = member.post("/accounts/login/", {"login": unproven.email, "password": PASSWORD})
    assert asked.status_code == 302 and asked["Location"] == "/accounts/confirm-email/"
    done = member.post(asked["Location"], {"code": emailed_code(unproven.email)})
    assert done.status_code == 302
    assert EmailAddress.objects.get(user=unproven).verified
    unproven.refresh_from_db()
    assert unproven.check_password(PASSWORD)  # its own login: the account stays as it was
