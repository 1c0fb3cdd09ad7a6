"""The team: invitations by email (once, within a week), roles, and who may change what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from conftest import host_client
from tenants import services
from tenants.exceptions import InvitationInvalid, LastOwner, WorkspaceRoleRequired
from tenants.models import Invitation, Membership

pytestmark = pytest.mark.django_db


def _owner_membership(workspace_a) -> Membership:
    return Membership.objects.get(workspace=workspace_a, role=Membership.Role.OWNER)


def _invite(client_a, email="new.agent@example.com", role="agent") -> str:
    response = client_a.post("/settings/team/", {"email": email, "role": role})
    assert response.status_code == 302, response.content.decode()[:500]
    link = re.search(r"http://alpha\.localhost\S*/invite/(\S+)/", mail.outbox[-1].body)
    assert link and mail.outbox[-1].to == [email]
    return link.group(1)


def test_an_invitee_with_no_account_creates_one_and_lands_in_the_inbox(client_a, workspace_a):
    token = _invite(client_a)
    stranger = host_client("alpha.localhost")

    page = stranger.get(f"/invite/{token}/")
    assert page.status_code == 200 and "new.agent@example.com" in page.content.decode()
    joined = stranger.post(f"/invite/{token}/", {"name": "Nia Agent", "password": "a-long-passphrase-9"})

    assert joined.status_code == 302 and joined["Location"] == "/inbox/"
    user = User.objects.get(email="new.agent@example.com")
    assert user.name == "Nia Agent" and user.emailaddress_set.get().verified
    assert Membership.objects.get(user=user, workspace=workspace_a).role == "agent"
    assert stranger.get("/inbox/").status_code == 200

    # The link works once.
    again = host_client("alpha.localhost").get(f"/invite/{token}/")
    assert again.status_code == 410 and "already used" in again.content.decode()


def test_a_logged_in_user_joins_with_one_click(client_a, workspace_a, owner_b):
    token = _invite(client_a, email=owner_b.email, role="admin")
    invitee = host_client("alpha.localhost", owner_b)
    assert invitee.post(f"/invite/{token}/").status_code == 302
    assert Membership.objects.get(user=owner_b, workspace=workspace_a).role == "admin"


def test_an_existing_account_is_asked_to_log_in_first(client_a, owner_b):
    token = _invite(client_a, email=owner_b.email)
    page = host_client("alpha.localhost").get(f"/invite/{token}/").content.decode()
    assert "Log in to join" in page and "/accounts/login/?next=" in page
    # Posting a password for someone else's account does nothing.
    host_client("alpha.localhost").post(f"/invite/{token}/", {"name": "X", "password": "whatever-123456"})
    assert not Membership.objects.filter(user=owner_b, workspace__slug="alpha").exists()


def test_expired_revoked_unknown_and_foreign_links_are_refused(client_a, workspace_a, workspace_b):
    expired = _invite(client_a, email="late@example.com")
    Invitation.objects.filter(email="late@example.com").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked = _invite(client_a, email="withdrawn@example.com")
    invitation = Invitation.objects.get(email="withdrawn@example.com")
    assert client_a.post(f"/settings/team/invitations/{invitation.pk}/revoke/").status_code == 302

    visitor = host_client("alpha.localhost")
    assert "expired" in visitor.get(f"/invite/{expired}/").content.decode()
    assert "withdrawn" in visitor.get(f"/invite/{revoked}/").content.decode()
    assert visitor.get("/invite/not-a-token/").status_code == 410
    # A link of A's workspace means nothing on B's host.
    fresh = _invite(client_a, email="someone@example.com")
    assert host_client("beta.localhost").get(f"/invite/{fresh}/").status_code == 410
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(
            raw_token=expired, workspace=workspace_a, user=User.objects.create_user("late@example.com", "x")
        )


def test_invitations_check_roles_and_duplicates(client_a, workspace_a, owner_b):
    admin = Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.ADMIN)
    with pytest.raises(WorkspaceRoleRequired):
        services.invitation_create(workspace=workspace_a, email="boss@example.com", role="owner", by=admin)
    response = client_a.post("/settings/team/", {"email": owner_b.email, "role": "agent"})
    assert "already a member" in response.content.decode()
    assert client_a.post("/settings/team/", {"email": "not-an-email", "role": "agent"}).status_code == 200
    assert Invitation.objects.count() == 0


def test_roles_change_within_the_rules(client_a, workspace_a, owner_a, owner_b):
    owner = _owner_membership(workspace_a)
    agent = Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)

    client_a.post(f"/settings/team/{agent.pk}/role/", {"role": "admin"})
    agent.refresh_from_db()
    assert agent.role == "admin"
    # An admin may not make an owner, nor demote one.
    with pytest.raises(WorkspaceRoleRequired):
        services.membership_role_set(membership=agent, role="owner", by=agent)
    with pytest.raises(WorkspaceRoleRequired):
        services.membership_role_set(membership=owner, role="agent", by=agent)
    # The last owner stays an owner.
    with pytest.raises(LastOwner):
        services.membership_role_set(membership=owner, role="agent", by=owner)
    page = client_a.post(f"/settings/team/{owner.pk}/role/", {"role": "agent"}, follow=True).content.decode()
    assert "needs an owner" in page
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_removing_a_member_from_the_team_page(client_a, workspace_a, owner_b):
    agent = Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    assert client_a.post(f"/settings/team/{agent.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=agent.pk).exists()
    assert host_client("alpha.localhost", owner_b).get("/inbox/").status_code == 404


def test_removal_checks_the_removers_rights_as_they_are_now(workspace_a, owner_a, owner_b):
    member = Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.ADMIN)
    owner = _owner_membership(workspace_a)
    with pytest.raises(WorkspaceRoleRequired, match="Only an owner can remove an owner"):
        services.membership_remove(membership=owner, by=owner_b)
    member.role = Membership.Role.AGENT
    member.save()
    third = Membership.objects.create(
        user=User.objects.create_user("third@example.com", "pw-123456789"), workspace=workspace_a
    )
    with pytest.raises(WorkspaceRoleRequired, match="Only owners and admins"):
        services.membership_remove(membership=third, by=owner_b)
    assert Membership.objects.filter(pk=third.pk).exists()
    services.membership_remove(membership=third, by=owner_a)
    assert not Membership.objects.filter(pk=third.pk).exists()


def test_the_team_page_says_the_invitation_was_sent(client_a):
    page = client_a.post("/settings/team/", {"email": "new.agent@example.com", "role": "agent"}, follow=True)
    assert '<ul class="messages" role="status">' in page.content.decode()
    assert (
        '<li class="alert alert-success">Invitation sent to new.agent@example.com.</li>'
        in page.content.decode()
    )
    assert mail.outbox[-1].to == ["new.agent@example.com"]
