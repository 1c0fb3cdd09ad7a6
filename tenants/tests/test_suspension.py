"""Suspension and deletion of a workspace (tenants.services), and what its host serves while it is
suspended (tenants.middleware): the "suspended" page to members, login and logout still."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from billing.models import BillingAccount
from conftest import host_client
from tenants import hooks, selectors, services
from tenants.exceptions import WorkspaceStateRefused
from tenants.models import Domain, Invitation, Membership, SiteKey, Workspace, WorkspaceActivity
from tenants.tests.deletion import doomed_workspace, jobs_of, schema_exists

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """What tenants.hooks.workspace_suspended / workspace_unsuspended were called with, in order."""
    calls = []
    suspended = lambda **kw: calls.append(("suspended", kw["workspace"].pk))  # noqa: E731
    unsuspended = lambda **kw: calls.append(("unsuspended", kw["workspace"].pk))  # noqa: E731
    hooks.workspace_suspended.register(suspended)
    hooks.workspace_unsuspended.register(unsuspended)
    yield calls
    hooks.workspace_suspended.functions.remove(suspended)
    hooks.workspace_unsuspended.functions.remove(unsuspended)


def _fresh(workspace: Workspace) -> Workspace:
    return Workspace.objects.get(pk=workspace.pk)


# --- services


def test_suspend_and_unsuspend(workspace_a, heard):
    before = timezone.now()
    services.workspace_suspend(workspace=workspace_a, reason="  Chargeback on the card.  ")
    ws = _fresh(workspace_a)
    assert ws.is_suspended and before <= ws.suspended_at <= timezone.now()
    assert ws.suspension_reason == "Chargeback on the card." and ws.deletion_due_at is None
    services.workspace_unsuspend(workspace=workspace_a)
    ws = _fresh(workspace_a)
    assert (ws.suspended_at, ws.suspension_reason, ws.deletion_due_at) == (None, "", None)
    assert heard == [("suspended", workspace_a.pk), ("unsuspended", workspace_a.pk)]


def test_suspending_twice_and_unsuspending_an_active_workspace_are_refused(workspace_a, heard):
    with pytest.raises(WorkspaceStateRefused, match=r"Alpha Support is not suspended\."):
        services.workspace_unsuspend(workspace=workspace_a)
    services.workspace_suspend(workspace=workspace_a, reason="first")
    first = _fresh(workspace_a).suspended_at
    with pytest.raises(WorkspaceStateRefused, match=r"Alpha Support is already suspended\."):
        services.workspace_suspend(workspace=workspace_a, reason="second")
    ws = _fresh(workspace_a)
    assert (ws.suspended_at, ws.suspension_reason) == (first, "first")
    assert heard == [("suspended", workspace_a.pk)]


def test_deleting_suspends_at_once_and_sets_the_due_time_from_the_setting(workspace_a, settings, heard):
    settings.PARLEY_DELETE_GRACE_DAYS = 12
    before = timezone.now()
    services.workspace_deletion_schedule(workspace=workspace_a, reason="Owner asked, ticket 7.")
    ws = _fresh(workspace_a)
    assert ws.is_suspended and ws.suspension_reason == "Owner asked, ticket 7."
    assert before + timedelta(days=12) <= ws.deletion_due_at <= timezone.now() + timedelta(days=12)
    assert not ws.deletion_is_due
    assert heard == [("suspended", workspace_a.pk)]
    with pytest.raises(WorkspaceStateRefused, match="already scheduled for deletion"):
        services.workspace_deletion_schedule(workspace=workspace_a, reason="again")
    # Only a restore lifts the suspension of a workspace scheduled for deletion.
    with pytest.raises(WorkspaceStateRefused, match="restore it"):
        services.workspace_unsuspend(workspace=workspace_a)


def test_the_grace_period_is_30_days_unless_set(settings):
    from tenants import app_settings

    del settings.PARLEY_DELETE_GRACE_DAYS
    assert app_settings.delete_grace_days() == 30


def test_deleting_a_suspended_workspace_keeps_its_suspension(workspace_a, heard):
    services.workspace_suspend(workspace=workspace_a, reason="Spam.")
    since = _fresh(workspace_a).suspended_at
    services.workspace_deletion_schedule(workspace=workspace_a, reason="Spam, for good.")
    ws = _fresh(workspace_a)
    assert (ws.suspended_at, ws.suspension_reason) == (since, "Spam.") and ws.deletion_due_at
    assert heard == [("suspended", workspace_a.pk)]  # once: its sockets were closed already


def test_restore_before_the_due_time_unsuspends(workspace_a, heard):
    services.workspace_deletion_schedule(workspace=workspace_a, reason="Owner asked.")
    services.workspace_restore(workspace=workspace_a)
    ws = _fresh(workspace_a)
    assert (ws.suspended_at, ws.suspension_reason, ws.deletion_due_at) == (None, "", None)
    assert heard == [("suspended", workspace_a.pk), ("unsuspended", workspace_a.pk)]
    with pytest.raises(WorkspaceStateRefused, match="not scheduled for deletion"):
        services.workspace_restore(workspace=workspace_a)


def test_restore_after_the_due_time_is_refused(workspace_a):
    services.workspace_deletion_schedule(workspace=workspace_a, reason="Owner asked.")
    Workspace.objects.filter(pk=workspace_a.pk).update(deletion_due_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(WorkspaceStateRefused, match="too late to restore it"):
        services.workspace_restore(workspace=workspace_a)
    ws = _fresh(workspace_a)
    assert ws.is_suspended and ws.deletion_is_due


def test_drop_refuses_a_workspace_not_yet_due_and_drops_one_that_is(owner_a):
    doomed = doomed_workspace(owner_a, due_in=timedelta(minutes=5))
    assert selectors.workspaces_due_for_deletion() == []
    with pytest.raises(WorkspaceStateRefused, match="not due"):
        services.workspace_drop(workspace=doomed)
    assert schema_exists("ws_test_doomed") and Workspace.objects.filter(pk=doomed.pk).exists()

    Workspace.objects.filter(pk=doomed.pk).update(deletion_due_at=timezone.now() - timedelta(seconds=1))
    assert selectors.workspaces_due_for_deletion() == [doomed]
    services.workspace_drop(workspace=doomed)
    assert not schema_exists("ws_test_doomed")
    assert not Workspace.objects.filter(pk=doomed.pk).exists()
    for model in (Domain, Membership, SiteKey, Invitation, WorkspaceActivity, BillingAccount):
        field = "tenant_id" if model is Domain else "workspace_id"
        assert not model.objects.filter(**{field: doomed.pk}).exists(), model
    assert User.objects.filter(pk=owner_a.pk).exists()  # people are not the workspace's
    assert jobs_of("ws_test_doomed") == 0 and jobs_of("ws_test_alpha") == 1


# --- what a suspended workspace's host serves


def test_members_see_the_suspended_page_on_every_page(client_a, workspace_a):
    services.workspace_suspend(workspace=workspace_a, reason="Internal note: fraud check.")
    for path in ("/", "/inbox/", "/settings/", "/settings/team/", "/settings/webhooks/", "/no-such-page/"):
        page = client_a.get(path)
        html = page.content.decode()
        assert page.status_code == 403, path
        assert "<h1>Alpha Support is suspended</h1>" in html and "Nothing in it has been deleted" in html
        assert "fraud check" not in html  # the staff's reason is theirs
        assert 'href="/inbox/"' not in html  # no menu of pages that would all answer this
    assert client_a.post("/settings/", {"name": "x", "slug": "alpha"}).status_code == 403
    assert _fresh(workspace_a).name == "Alpha Support"


def test_the_page_says_when_a_deletion_is_due(client_a, workspace_a):
    services.workspace_deletion_schedule(workspace=workspace_a, reason="Owner asked.")
    html = client_a.get("/").content.decode()
    due = _fresh(workspace_a).deletion_due_at
    assert "scheduled to be deleted on" in html and f"{due:%-d %B %Y}" in html


def test_an_htmx_request_reloads_into_the_suspended_page(client_a, workspace_a):
    services.workspace_suspend(workspace=workspace_a, reason="x")
    swap = client_a.get("/inbox/", headers={"HX-Request": "true"})
    assert swap.status_code == 403 and swap["HX-Refresh"] == "true"


def test_people_can_still_log_out_and_in(client_a, workspace_a, owner_a):
    services.workspace_suspend(workspace=workspace_a, reason="x")
    assert client_a.get("/accounts/login/").status_code in (200, 302)
    out = client_a.post("/accounts/logout/")
    assert out.status_code == 302
    assert client_a.get("/").status_code == 302  # anonymous: to the login page, as ever
    login = client_a.post("/accounts/login/", {"login": owner_a.email, "password": "secret-password-a"})
    assert login.status_code == 302
    assert client_a.get(login["Location"]).status_code == 403  # in, and told why there is nothing


def test_strangers_still_get_a_404_and_nobody_joins(workspace_a, owner_a):
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    _, token = services.invitation_create(
        workspace=workspace_a, email="new@example.com", role="agent", by=owner
    )
    services.workspace_suspend(workspace=workspace_a, reason="x")
    stranger = User.objects.create_user("stranger@example.com", "pw-stranger-1")
    assert host_client("alpha.localhost", stranger).get("/").status_code == 404
    invited = host_client("alpha.localhost")
    assert invited.get(f"/invite/{token}/").status_code == 403


def test_other_workspaces_are_untouched(workspace_a, owner_b):
    services.workspace_suspend(workspace=workspace_a, reason="x")
    assert host_client("beta.localhost", owner_b).get("/").status_code == 200
