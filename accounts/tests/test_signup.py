"""Sign-up end to end through Django's test client on the real hosts and real schemas."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection

from accounts.models import User
from conftest import emailed_code, host_client
from tenants import selectors, services
from tenants.models import Domain, Membership, Workspace, WorkspaceHandoff

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


def _signup(client, **overrides):
    data = {
        "workspace_name": "Acme Support",
        "workspace_slug": "acme",
        "email": "founder@acme.example",
        "password1": "correct-horse-battery-9",
    }
    data.update(overrides)
    return client.post(SIGNUP, data)


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def test_signup_page_asks_for_workspace_email_and_password(client):
    response = client.get(SIGNUP)
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("workspace_name", "workspace_slug", "email", "password1"):
        assert f'name="{field}"' in html


def test_signup_claims_a_spare_schema_and_lands_logged_in_on_the_new_host(client):
    spare = services.spare_schema_provision()

    response = _signup(client)

    # Nothing opens before the emailed code is entered, in this same browser session.
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    assert not WorkspaceHandoff.objects.exists()
    response = client.post(response["Location"], {"code": emailed_code("founder@acme.example")})

    assert response.status_code == 302
    workspace = Workspace.objects.get(slug="acme")
    assert workspace.schema_name == spare.schema_name  # the ready spare was handed out
    assert workspace.name == "Acme Support" and workspace.claimed_at is not None
    assert _schema_exists(workspace.schema_name)
    assert Domain.objects.get(tenant=workspace).domain == "acme.localhost"
    user = User.objects.get(email="founder@acme.example")
    assert Membership.objects.get(user=user, workspace=workspace).role == Membership.Role.OWNER

    # The redirect is a one-time link on the workspace's own host that signs the owner in there.
    location = response["Location"]
    match = re.fullmatch(r"http://acme\.localhost:8000(/handoff/\?token=[\w-]+)", location)
    assert match, location
    acme = host_client("acme.localhost:8000")
    landed = acme.get(match.group(1))
    assert landed.status_code == 302 and landed["Location"] == "/"
    home = acme.get("/")
    assert home.status_code == 200
    assert "Acme Support" in home.content.decode()
    # The link is spent: a second use (say, from browser history) does not sign anyone in.
    again = host_client("acme.localhost:8000").get(match.group(1))
    assert again.status_code == 400


def test_signup_with_an_empty_pool_creates_the_schema_on_the_spot(client):
    assert selectors.spare_count() == 0

    response = _signup(client, workspace_slug="solo", email="solo@example.com")

    assert response.status_code == 302
    workspace = Workspace.objects.get(slug="solo")
    assert workspace.schema_name.startswith("ws_") and _schema_exists(workspace.schema_name)
    assert selectors.spare_count() == 0


def test_signup_waits_for_the_emailed_code_and_only_this_session_can_give_it(client):
    _signup(client, workspace_slug="mailer", email="mailer@example.com")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["mailer@example.com"]
    assert mail.outbox[0].subject == "Your Parley sign-up code"
    code = emailed_code("mailer@example.com")
    assert not EmailAddress.objects.get(email="mailer@example.com").verified
    # The workspace exists but nobody can use it: the password alone does not log in.
    other = host_client("localhost")
    other.post("/accounts/login/", {"login": "mailer@example.com", "password": "correct-horse-battery-9"})
    assert other.get("/workspaces/").status_code == 302
    # Whoever reads the mailbox but is not in the sign-up's session cannot use its code.
    stranger = host_client("localhost")
    stranger.post("/accounts/confirm-email/", {"code": code})
    assert not EmailAddress.objects.get(email="mailer@example.com").verified
    # The sign-up's own session can; the password set there still works afterwards.
    assert client.post("/accounts/confirm-email/", {"code": code}).status_code == 302
    assert EmailAddress.objects.get(email="mailer@example.com").verified
    assert User.objects.get(email="mailer@example.com").check_password("correct-horse-battery-9")


def test_slug_is_made_from_the_name_when_left_empty(client):
    response = _signup(client, workspace_name="Zed & Co. Help", workspace_slug="", email="zed@example.com")
    assert response.status_code == 302
    assert Workspace.objects.filter(slug="zed-co-help").exists()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("alpha", "alpha.localhost is already taken."),
        ("www", "is reserved"),
        ("admin", "is reserved"),
        ("api", "is reserved"),
        ("static", "is reserved"),
        ("ab", "Use 3 to 40 characters."),
        ("a" * 41, "Use 3 to 40 characters."),
        ("Bad_Slug!", "Use lowercase letters, digits and hyphens"),
        ("-edge", "Use lowercase letters, digits and hyphens"),
        ("two--dashes", "Two hyphens in a row"),
    ],
)
def test_signup_refuses_a_bad_slug_with_a_form_error_and_creates_nothing(client, workspace_a, slug, message):
    users_before, workspaces_before = User.objects.count(), Workspace.objects.count()

    response = _signup(client, workspace_slug=slug, email="someone@example.com")

    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == users_before
    assert Workspace.objects.count() == workspaces_before


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short9", "This password is too short"),
        ("password1234", "This password is too common"),
        ("8472619305", "This password is entirely numeric"),
    ],
)
def test_signup_refuses_a_weak_password(client, password, message):
    response = _signup(client, password1=password, email="weak@example.com", workspace_slug="weakling")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()
    assert not Workspace.objects.filter(slug="weakling").exists()


def test_signup_with_a_registered_email_looks_the_same_and_tells_its_owner(client, owner_a):
    fresh = _signup(host_client("localhost"), email="fresh@example.com", workspace_slug="fresh")
    response = _signup(client, email=owner_a.email.upper(), workspace_slug="dupe")
    # The same answer as for a new address: sign-up does not reveal who is registered.
    assert response.status_code == fresh.status_code == 302
    assert response["Location"] == fresh["Location"]
    assert not Workspace.objects.filter(slug="dupe").exists()
    assert mail.outbox[-1].to == [owner_a.email] and "already" in mail.outbox[-1].body
    assert "/accounts/password/reset/" in mail.outbox[-1].body


def test_signup_is_only_on_the_public_host(client_a):
    response = client_a.get(SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "http://localhost:8000/accounts/signup/"
