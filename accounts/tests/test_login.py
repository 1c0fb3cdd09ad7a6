"""Login, logout, password reset and login rate limits on the public and workspace hosts."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from conftest import emailed_code, host_client, password_reset_by_code
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_login_on_the_public_host_goes_straight_into_the_one_workspace(client, owner_a):
    response = client.post("/accounts/login/", {"login": owner_a.email, "password": "secret-password-a"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://alpha.localhost:8000/handoff/?token=")


def test_login_on_the_public_host_with_several_workspaces_lands_on_the_chooser(client, owner_a, workspace_b):
    Membership.objects.create(user=owner_a, workspace=workspace_b, role=Membership.Role.AGENT)
    response = client.post("/accounts/login/", {"login": owner_a.email, "password": "secret-password-a"})
    assert response.status_code == 302 and response["Location"] == "/workspaces/"


def test_login_on_a_workspace_host_lands_in_the_workspace(owner_a):
    client = host_client("alpha.localhost")
    response = client.post("/accounts/login/", {"login": owner_a.email, "password": "secret-password-a"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_non_member_can_log_in_but_still_sees_no_workspace(owner_b):
    client = host_client("alpha.localhost")
    client.post("/accounts/login/", {"login": owner_b.email, "password": "secret-password-b"})
    assert client.get("/").status_code == 404


def test_wrong_password_is_a_form_error(client, owner_a):
    response = client.post("/accounts/login/", {"login": owner_a.email, "password": "wrong"})
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()


LIMITED = "Too many failed login attempts. Try again later."


def test_failed_logins_for_one_account_are_rate_limited(client, owner_a):
    pages = [
        client.post("/accounts/login/", {"login": owner_a.email, "password": f"wrong-{i}"}).content.decode()
        for i in range(6)
    ]
    assert not any(LIMITED in page for page in pages[:5])
    assert LIMITED in pages[5]
    # Even the right password is refused while the limit holds, and no session is made.
    right = client.post("/accounts/login/", {"login": owner_a.email, "password": "secret-password-a"})
    assert LIMITED in right.content.decode()
    assert client.get("/workspaces/").status_code == 302


def test_login_attempts_from_one_address_are_rate_limited(client):
    statuses = [
        client.post("/accounts/login/", {"login": f"u{i}@example.com", "password": "wrong"}).status_code
        for i in range(32)
    ]
    assert statuses[0] == 200
    assert statuses[-1] == 429


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1, ALLAUTH_TRUSTED_CLIENT_IP_HEADER=None)
def test_the_login_limit_counts_the_address_the_edge_decided_whatever_allauth_is_told(client):
    # config/edge.py alone reads X-Forwarded-For (and sets REMOTE_ADDR); allauth's own reading of it,
    # were someone to switch it on, would let each forged header start a fresh count.
    statuses = [
        client.post(
            "/accounts/login/",
            {"login": f"u{i}@example.com", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i + 1}",
        ).status_code
        for i in range(32)
    ]
    assert statuses[-1] == 429


def test_logout_ends_the_session(client_a):
    assert client_a.get("/").status_code == 200
    response = client_a.post("/accounts/logout/")
    assert response.status_code == 302
    assert client_a.get("/").status_code == 302


def test_password_reset_mails_a_code_that_works_in_this_session_only(client, owner_a):
    done = password_reset_by_code(client, owner_a.email, "a-brand-new-password-7")
    assert done.status_code == 302
    owner_a.refresh_from_db()
    assert owner_a.check_password("a-brand-new-password-7")
    # The address was proven long ago: a reset through it is an ordinary reset, nothing is cleared.
    assert owner_a.emailaddress_set.get().verified


def test_a_reset_code_is_useless_in_another_browser(client, owner_a):
    asked = client.post("/accounts/password/reset/", {"email": owner_a.email})
    code = emailed_code(owner_a.email)
    elsewhere = host_client("localhost")
    response = elsewhere.post(asked["Location"], {"code": code})
    assert response.status_code != 302 or "complete" not in response["Location"]
    owner_a.refresh_from_db()
    assert owner_a.check_password("secret-password-a")


def test_password_reset_for_an_unknown_address_sends_no_code(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox and all("reset code" not in m.body for m in mail.outbox)


def test_a_member_sets_the_name_visitors_see(client_a, owner_a):
    page = client_a.get("/profile/")
    assert page.status_code == 200 and "How visitors see you" in page.content.decode()
    client_a.post("/profile/", {"display_name": "  Ana   the Barista "})
    owner_a.refresh_from_db()
    assert owner_a.name == "Ana the Barista"
    client_a.post("/profile/", {"display_name": ""})
    owner_a.refresh_from_db()
    assert owner_a.name == "owner-a"  # the start of the email
