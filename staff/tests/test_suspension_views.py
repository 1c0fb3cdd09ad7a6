"""The suspension and deletion actions on a workspace's console page: the forms its state allows, its
banner, one audit row per action, clear errors for bad input, CSRF, and a 404 for everyone else."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from conftest import host_client
from staff.models import AuditEntry
from tenants.models import Membership, Workspace

pytestmark = pytest.mark.django_db


def _page(workspace) -> str:
    return f"/staff/workspaces/{workspace.pk}/"


def _fresh(workspace) -> Workspace:
    return Workspace.objects.get(pk=workspace.pk)


def _forms(html: str) -> list[str]:
    """The actions whose form the page shows, in order."""
    return [
        name
        for name in ("suspend", "unsuspend", "delete", "restore")
        if f'/{name}/" class="staff-action"' in html
    ]


def test_an_active_workspace_offers_suspend_and_delete_and_no_banner(staff_client, workspace_a):
    html = staff_client.get(_page(workspace_a)).content.decode()
    assert _forms(html) == ["suspend", "delete"] and 'id="workspace-status"' not in html
    assert 'name="reason"' in html and 'id="suspend-reason"' in html and 'id="delete-slug"' in html
    assert "After 30 days its schema" in html


def test_suspend_then_unsuspend_from_the_page(staff_client, staff_user, workspace_a):
    done = staff_client.post(f"{_page(workspace_a)}suspend/", {"reason": "Chargeback <b>now</b>."})
    assert done.status_code == 302 and done["Location"] == _page(workspace_a)
    assert _fresh(workspace_a).is_suspended
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.staff, entry.reason, entry.ip_address) == (
        AuditEntry.Action.SUSPEND, staff_user, "Chargeback <b>now</b>.", "127.0.0.1"
    )  # fmt: skip
    html = staff_client.get(done["Location"]).content.decode()
    assert "Alpha Support is suspended." in html  # the message
    assert 'id="workspace-status"' in html and "<strong>Suspended</strong> since" in html
    assert "Why it was suspended: Chargeback &lt;b&gt;now&lt;/b&gt;." in html and "<b>now</b>" not in html
    assert _forms(html) == ["unsuspend", "delete"]

    done = staff_client.post(f"{_page(workspace_a)}unsuspend/", {"reason": "Paid."})
    assert done.status_code == 302 and not _fresh(workspace_a).is_suspended
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["suspend", "unsuspend"]
    html = staff_client.get(done["Location"]).content.decode()
    assert 'id="workspace-status"' not in html and _forms(html) == ["suspend", "delete"]


def test_a_missing_reason_is_a_form_error_and_nothing_is_done(staff_client, workspace_a):
    for reason in ("", "   "):
        page = staff_client.post(f"{_page(workspace_a)}suspend/", {"reason": reason})
        html = page.content.decode()
        assert page.status_code == 400 and "Give a reason: it is written to the audit log." in html
        assert 'id="suspend-reason"' in html and "Staff console" in html  # the page, whole
    assert not _fresh(workspace_a).is_suspended and not AuditEntry.objects.exists()


def test_suspending_twice_shows_why_and_writes_no_row(staff_client, workspace_a):
    staff_client.post(f"{_page(workspace_a)}suspend/", {"reason": "Once."})
    # As from a page loaded before someone else suspended it: the page as it is now, and why.
    again = staff_client.post(f"{_page(workspace_a)}suspend/", {"reason": "Twice."})
    assert again.status_code == 302 and again["Location"] == _page(workspace_a)
    html = staff_client.get(again["Location"]).content.decode()
    assert '<li class="alert alert-error">Alpha Support is already suspended.</li>' in html
    assert _forms(html) == ["unsuspend", "delete"]
    assert AuditEntry.objects.count() == 1 and _fresh(workspace_a).suspension_reason == "Once."


def test_unsuspending_an_active_workspace_shows_why(staff_client, workspace_a):
    page = staff_client.post(f"{_page(workspace_a)}unsuspend/", {"reason": "Just in case."}, follow=True)
    assert "Alpha Support is not suspended." in page.content.decode()
    assert not AuditEntry.objects.exists()


def test_delete_with_the_wrong_address_is_a_form_error(staff_client, workspace_a):
    page = staff_client.post(f"{_page(workspace_a)}delete/", {"slug": "beta", "reason": "Owner asked."})
    html = page.content.decode()
    assert page.status_code == 400
    assert "Type the workspace&#x27;s address, alpha, to confirm." in html and 'value="beta"' in html
    assert re.search(r'<input [^>]*name="slug" value="beta"[^>]* autofocus[^>]*id="delete-slug">', html)
    missing = staff_client.post(f"{_page(workspace_a)}delete/", {"reason": "Owner asked."})
    assert "Type the workspace&#x27;s address to confirm." in missing.content.decode()
    assert not _fresh(workspace_a).is_suspended and not AuditEntry.objects.exists()


def test_delete_then_restore_from_the_page(staff_client, workspace_a, settings):
    settings.PARLEY_DELETE_GRACE_DAYS = 30
    done = staff_client.post(f"{_page(workspace_a)}delete/", {"slug": "alpha", "reason": "Owner asked."})
    assert done.status_code == 302
    ws = _fresh(workspace_a)
    assert ws.is_suspended and ws.deletion_due_at > timezone.now() + timedelta(days=29)
    html = staff_client.get(done["Location"]).content.decode()
    assert "scheduled for deletion. You can restore it until then." in html
    assert "<strong>Scheduled for deletion.</strong>" in html and f"{ws.deletion_due_at:%-d %b %Y}" in html
    assert _forms(html) == ["restore"]

    done = staff_client.post(f"{_page(workspace_a)}restore/", {"reason": "Changed their mind."})
    assert done.status_code == 302
    ws = _fresh(workspace_a)
    assert not ws.is_suspended and ws.deletion_due_at is None
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["delete", "restore"]


def test_past_the_due_time_there_is_no_restore(staff_client, workspace_a):
    staff_client.post(f"{_page(workspace_a)}delete/", {"slug": "alpha", "reason": "Owner asked."})
    Workspace.objects.filter(pk=workspace_a.pk).update(deletion_due_at=timezone.now() - timedelta(minutes=1))
    html = staff_client.get(_page(workspace_a)).content.decode()
    assert _forms(html) == [] and "It can no longer be restored." in html
    late = staff_client.post(f"{_page(workspace_a)}restore/", {"reason": "Please."}, follow=True)
    assert "too late to restore it" in late.content.decode()
    assert AuditEntry.objects.count() == 1


def test_actions_are_post_only_and_404_for_unknown_workspaces(staff_client, workspace_a):
    assert staff_client.get(f"{_page(workspace_a)}suspend/").status_code == 405
    assert staff_client.post("/staff/workspaces/999999/suspend/", {"reason": "x"}).status_code == 404
    assert not AuditEntry.objects.exists()


def test_everyone_but_staff_gets_a_404_and_nothing_is_done(workspace_a, owner_a):
    agent = User.objects.create_user("agent@example.com", "agent-password-1")
    Membership.objects.create(user=agent, workspace=workspace_a, role=Membership.Role.AGENT)
    public = settings.PARLEY_BASE_DOMAIN
    for client in (host_client(public), host_client(public, owner_a), host_client(public, agent)):
        for action in ("suspend", "unsuspend", "restore"):
            assert client.post(f"{_page(workspace_a)}{action}/", {"reason": "Mine."}).status_code == 404
        assert (
            client.post(f"{_page(workspace_a)}delete/", {"slug": "alpha", "reason": "x"}).status_code == 404
        )
    # Staff, on the workspace's own host: the console is not there at all.
    owner_host = host_client("alpha.localhost", owner_a)
    assert owner_host.post(f"{_page(workspace_a)}suspend/", {"reason": "x"}).status_code == 404
    assert not _fresh(workspace_a).is_suspended and not AuditEntry.objects.exists()


def test_an_action_without_the_csrf_token_is_refused(staff_client, workspace_a):
    staff_client.handler.enforce_csrf_checks = True  # as a browser's request is checked
    page = staff_client.get(_page(workspace_a))
    assert page.status_code == 200
    refused = staff_client.post(f"{_page(workspace_a)}suspend/", {"reason": "No token."})
    assert refused.status_code == 403
    assert not _fresh(workspace_a).is_suspended and not AuditEntry.objects.exists()
    token = staff_client.cookies[settings.CSRF_COOKIE_NAME].value
    done = staff_client.post(
        f"{_page(workspace_a)}suspend/", {"reason": "With it.", "csrfmiddlewaretoken": token}
    )
    assert done.status_code == 302 and AuditEntry.objects.count() == 1
