"""Every account page (allauth's) answers on both kinds of host, for anonymous people, members and
signed-in strangers, with a page and never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import User
from conftest import emailed_code, host_client
from tenants import services
from tenants.models import Invitation, Membership

pytestmark = pytest.mark.django_db


def account_paths() -> list[str]:
    """The path of every account page that takes no argument, as the public URL conf lists them."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and not pattern.pattern.regex.groups:
                found.append("/" + prefix + str(pattern.pattern).lstrip("^").rstrip("$"))

    walk(get_resolver("config.urls_public").url_patterns, "")
    return sorted(path for path in set(found) if path.startswith("/accounts/"))


def test_the_walk_finds_the_account_pages():
    paths = account_paths()
    assert {"/accounts/login/", "/accounts/signup/", "/accounts/email/", "/accounts/password/reset/"} <= set(
        paths
    )


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
@pytest.mark.parametrize("who", ["anonymous", "member", "stranger"])
def test_every_account_page_answers_on_every_host(host, who, owner_a, owner_b):
    user = {"anonymous": None, "member": owner_a, "stranger": owner_b}[who]
    client = host_client(host, user)
    for path in account_paths():
        response = client.get(path)
        assert response.status_code < 500, (host, who, path, response.status_code)
        if response.status_code == 200:
            assert "<html" in response.content.decode()


@pytest.mark.parametrize("state", ["used", "withdrawn", "expired"])
def test_a_spent_invitation_link_tells_a_signed_in_stranger_clearly(state, workspace_a, owner_a, owner_b):
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    _invitation, token = services.invitation_create(
        workspace=workspace_a, email="someone@example.com", role="agent", by=owner
    )
    field = {"used": "accepted_at", "withdrawn": "revoked_at", "expired": "expires_at"}[state]
    when = timezone.now() - timedelta(seconds=1)
    Invitation.objects.filter(email="someone@example.com").update(**{field: when})
    response = host_client("alpha.localhost", owner_b).get(f"/invite/{token}/")
    assert response.status_code == 410
    page = response.content.decode()
    assert "Invitation unavailable" in page and "http://localhost:8000/workspaces/" in page


def _notice(page: str) -> str:
    """The line that says a code was emailed (role=status, so a screen reader reads it out)."""
    (found,) = re.findall(r'<p class="alert alert-info code-notice" role="status">(.*?)</p>', page, re.DOTALL)
    return " ".join(found.split())


def test_the_code_pages_say_where_the_code_went_and_for_how_long(client, owner_a):
    signed_up = client.post(
        "/accounts/signup/",
        {
            "workspace_name": "Acme",
            "workspace_slug": "acme",
            "email": "new@acme.example",
            "password1": "correct-horse-battery-9",
        },
    )
    page = client.get(signed_up["Location"]).content.decode()
    assert _notice(page).startswith(
        "We emailed a code to <strong>new@acme.example</strong>. It expires in 15 minutes. "
        "Didn't get it? Look in your spam folder, or "
    )
    # allauth's flash message would say it a second time.
    assert "Confirmation email sent" not in page and page.count('role="status"') == 1
    assert "or request a new code below" in _notice(page)
    first = emailed_code("new@acme.example")
    # One mail per address every 3 minutes (allauth's confirm_email limit): a resend at once is
    # refused with a message, one after that wait gets a new code.
    page = client.post(signed_up["Location"], {"action": "resend"}, follow=True).content.decode()
    assert "Please wait a moment" in page and emailed_code("new@acme.example") == first
    with override_settings(ACCOUNT_RATE_LIMITS={**settings.ACCOUNT_RATE_LIMITS, "confirm_email": False}):
        client.post(signed_up["Location"], {"action": "resend"})
    second = emailed_code("new@acme.example")
    assert second != first
    assert client.post(signed_up["Location"], {"code": second}).status_code == 302

    resetting = host_client("localhost")
    asked = resetting.post("/accounts/password/reset/", {"email": owner_a.email})
    page = resetting.get(asked["Location"]).content.decode()
    assert _notice(page).startswith(
        f"We emailed a code to <strong>{owner_a.email}</strong>. It expires in 3 minutes."
    )


def test_an_invitee_proving_the_address_is_told_the_code_went_out(workspace_a, owner_a):
    invitee = User.objects.create_user("sam@corp.example", "sams-password-123")
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=False, primary=True)
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    services.invitation_create(workspace=workspace_a, email=invitee.email, role="agent", by=owner)
    browser = host_client("alpha.localhost", invitee)
    sent = browser.post("/accounts/email/", {"email": invitee.email, "action_send": ""})
    assert sent.status_code == 302
    page = browser.get(sent["Location"]).content.decode()
    assert _notice(page).startswith("We emailed a code to <strong>sam@corp.example</strong>.")
