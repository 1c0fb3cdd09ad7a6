"""Who an address belongs to: account pre-hijacking undone, invitations for proven addresses only, and
mail links that never come from the request's Host (accounts.services, accounts.adapter)."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import User
from api import services as key_services
from api.models import ApiKey
from conftest import emailed_code, host_client, password_reset_by_code
from tenants import services as tenant_services
from tenants.context import run_in_workspace
from tenants.exceptions import InvitationAddressUnproven
from tenants.models import Membership

pytestmark = pytest.mark.django_db

VICTIM, ATTACKER = "victim@corp.example", "mallory@evil.example"


def pre_hijacked_account(workspace_b) -> tuple[User, object]:
    """What the attack left behind under optional verification: an account made with the victim's
    address, never proven, plus the attacker's own proven address, a session, and an API key in a
    workspace the account owns. Returns the account and the attacker's logged-in client."""
    user = User.objects.create_user(VICTIM, "attackers-password-1")
    EmailAddress.objects.create(user=user, email=VICTIM, verified=False, primary=True)
    EmailAddress.objects.create(user=user, email=ATTACKER, verified=True, primary=False)
    Membership.objects.create(user=user, workspace=workspace_b, role=Membership.Role.ADMIN)
    run_in_workspace(
        workspace_b.schema_name, key_services.api_key_create, name="exfil", scope="write", by=user
    )
    return user, host_client("localhost", user)


def invite_victim(workspace_a, owner_a) -> str:
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    return tenant_services.invitation_create(workspace=workspace_a, email=VICTIM, role="agent", by=owner)[1]


def assert_attacker_locked_out(user, attacker, workspace_b) -> None:
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified")) == [(VICTIM, True)]
    # The attacker's session died with the password it was made under.
    assert attacker.get("/workspaces/").status_code == 302
    # Their password opens nothing, and their address no longer reaches the account.
    assert not User.objects.get(pk=user.pk).check_password("attackers-password-1")
    mail.outbox.clear()
    host_client("localhost").post("/accounts/password/reset/", {"email": ATTACKER})
    assert all("code" not in m.body.lower() for m in mail.outbox if ATTACKER in m.to)
    keys = run_in_workspace(workspace_b.schema_name, lambda: list(ApiKey.objects.all()))
    assert [key.revoked_at is not None for key in keys] == [True]


def test_the_victims_password_reset_takes_the_pre_hijacked_account_back(workspace_a, owner_a, workspace_b):
    user, attacker = pre_hijacked_account(workspace_b)
    token = invite_victim(workspace_a, owner_a)
    victim = host_client("alpha.localhost")
    page = victim.get(f"/invite/{token}/").content.decode()
    assert "Log in to join" in page and "Forgot your password?" in page

    # The victim does not know the password: they reset it through their own address.
    done = password_reset_by_code(host_client("localhost"), VICTIM, "victims-own-password-7")
    assert done.status_code == 302

    told = [m for m in mail.outbox if m.to == [VICTIM] and "yours alone" in m.subject]
    assert told and ATTACKER in told[0].body and "1 API key" in told[0].body
    assert "Beta Support (admin)" in told[0].body  # a workspace the attacker may have set up
    assert_attacker_locked_out(user, attacker, workspace_b)
    # Now the victim logs in and joins; the attacker's address gets no way back in.
    logged_in = victim.post("/accounts/login/", {"login": VICTIM, "password": "victims-own-password-7"})
    assert logged_in.status_code == 302
    assert victim.post(f"/invite/{token}/").status_code == 302
    assert Membership.objects.get(user=user, workspace=workspace_a).role == "agent"


def test_the_victim_proving_the_address_when_prompted_also_takes_it_back(workspace_a, owner_a, workspace_b):
    """The variant: the victim is signed in with the address still unproven (a session from before
    verification was required), proves it when the invitation asks, and joins."""
    user, attacker = pre_hijacked_account(workspace_b)
    token = invite_victim(workspace_a, owner_a)
    victim = host_client("alpha.localhost", user)

    page = victim.get(f"/invite/{token}/")
    assert "Email a code to" in page.content.decode()
    refused = victim.post(f"/invite/{token}/")  # joining needs the proof first
    assert (
        refused.status_code == 200
        and not Membership.objects.filter(user=user, workspace=workspace_a).exists()
    )

    sent = victim.post("/accounts/email/", {"email": VICTIM, "action_send": ""})
    assert sent.status_code == 302
    proven = victim.post(sent["Location"], {"code": emailed_code(VICTIM)})
    assert proven.status_code == 302 and proven["Location"] == f"/invite/{token}/"

    assert victim.post(f"/invite/{token}/").status_code == 302  # the prover stays signed in
    assert Membership.objects.get(user=user, workspace=workspace_a).role == "agent"
    assert_attacker_locked_out(user, attacker, workspace_b)


def test_an_unproven_address_never_accepts_an_invitation(workspace_a, owner_a):
    user = User.objects.create_user(VICTIM, "some-password-123")
    EmailAddress.objects.create(user=user, email=VICTIM, verified=False, primary=True)
    token = invite_victim(workspace_a, owner_a)
    with pytest.raises(InvitationAddressUnproven):
        tenant_services.invitation_accept(raw_token=token, workspace=workspace_a, user=user)
    assert not Membership.objects.filter(user=user, workspace=workspace_a).exists()


def test_a_signed_in_account_without_the_invited_address_cannot_join(workspace_a, owner_a, owner_b):
    token = invite_victim(workspace_a, owner_a)
    other = host_client("alpha.localhost", owner_b)
    page = other.get(f"/invite/{token}/").content.decode()
    assert "this invitation is for <strong>victim@corp.example</strong>" in page
    other.post(f"/invite/{token}/")
    assert not Membership.objects.filter(user=owner_b, workspace=workspace_a).exists()


def test_an_unproven_address_added_to_another_account_leads_nowhere_and_blocks_nothing(owner_b, client):
    EmailAddress.objects.create(user=owner_b, email=VICTIM, verified=False, primary=False)
    client.post("/accounts/password/reset/", {"email": VICTIM})
    assert all("password reset code" not in m.body for m in mail.outbox)

    # The address's owner can still sign up with it; proving it removes it from the other account.
    response = client.post(
        "/accounts/signup/",
        {
            "workspace_name": "Corp",
            "workspace_slug": "corp",
            "email": VICTIM,
            "password1": "corp-passphrase-77",
        },
    )
    assert response.status_code == 302
    client.post(response["Location"], {"code": emailed_code(VICTIM)})
    assert User.objects.get(email=VICTIM).emailaddress_set.get().verified
    assert not EmailAddress.objects.filter(user=owner_b, email=VICTIM).exists()


def test_a_login_with_an_unproven_address_waits_for_the_code(client):
    user = User.objects.create_user(VICTIM, "attackers-password-1")
    EmailAddress.objects.create(user=user, email=VICTIM, verified=False, primary=True)
    response = client.post("/accounts/login/", {"login": VICTIM, "password": "attackers-password-1"})
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    assert client.get("/workspaces/").status_code == 302  # not signed in


def test_proving_the_address_at_ones_own_login_keeps_everything(client):
    """The maker who logs in with the password and proves the address is its owner: nothing is cleared."""
    user = User.objects.create_user(VICTIM, "own-password-123")
    EmailAddress.objects.create(user=user, email=VICTIM, verified=False, primary=True)
    EmailAddress.objects.create(user=user, email="second@corp.example", verified=True)
    asked = client.post("/accounts/login/", {"login": VICTIM, "password": "own-password-123"})
    done = client.post(asked["Location"], {"code": emailed_code(VICTIM)})
    assert done.status_code == 302 and done["Location"] == "/workspaces/"
    user.refresh_from_db()
    assert user.check_password("own-password-123")
    assert EmailAddress.objects.filter(user=user).count() == 2


@pytest.mark.parametrize("host", ["localhost:9999", "alpha.localhost", "evil.example"])
def test_links_in_mail_come_from_settings_never_from_the_host_header(host, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    visitor = host_client(host)
    # An unknown address gets a mail with links (to sign up) instead of a code.
    visitor.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    if host == "evil.example":  # no workspace there: a 404 before any mail
        assert mail.outbox == []
        return
    body = mail.outbox[-1].body
    links = re.findall(r"https?://\S+", body)
    assert links and all(link.startswith("http://localhost:8000/") for link in links), body
    assert "localhost:9999" not in body and "alpha.localhost" not in body
