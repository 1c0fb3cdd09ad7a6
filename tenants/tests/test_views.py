"""Workspace pages: settings, host handoffs, and the public chooser."""

from __future__ import annotations

import re

import pytest

from conftest import host_client
from tenants.models import Domain

pytestmark = pytest.mark.django_db


def test_owner_renames_the_workspace(client_a, workspace_a):
    response = client_a.post("/settings/", {"name": "Alpha Helpdesk", "slug": "alpha"})
    assert response.status_code == 302 and response["Location"] == "/settings/"
    workspace_a.refresh_from_db()
    assert workspace_a.name == "Alpha Helpdesk"
    assert "Workspace saved." in client_a.get("/settings/").content.decode()


def test_owner_moves_the_workspace_and_is_carried_to_the_new_host(client_a, workspace_a):
    schema = workspace_a.schema_name
    response = client_a.post("/settings/", {"name": "Alpha", "slug": "alpha-two"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://alpha-two.localhost:8000/handoff/?token=")
    workspace_a.refresh_from_db()
    assert workspace_a.schema_name == schema
    assert Domain.objects.get(tenant=workspace_a).domain == "alpha-two.localhost"
    assert client_a.get("/").status_code == 404  # the old address is gone


@pytest.mark.parametrize(
    ("slug", "error"),
    [("beta", "beta.localhost is already taken."), ("www", "is reserved"), ("x", "Use 3 to 40")],
)
def test_settings_show_slug_errors_on_the_form(client_a, workspace_a, slug, error):
    response = client_a.post("/settings/", {"name": "Alpha", "slug": slug})
    assert response.status_code == 200
    assert error in response.content.decode()
    workspace_a.refresh_from_db()
    assert workspace_a.slug == "alpha"


def test_settings_escape_what_owners_type(client_a):
    client_a.post("/settings/", {"name": "<script>alert(1)</script>", "slug": "alpha"})
    html = client_a.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_public_workspace_list_shows_only_your_workspaces(client, owner_a):
    client.force_login(owner_a)
    html = client.get("/workspaces/").content.decode()
    assert "Alpha Support" in html and "Beta Support" not in html


def test_public_open_hands_over_to_your_workspace_and_refuses_others(client, owner_a):
    client.force_login(owner_a)
    response = client.post("/workspaces/alpha/open/")
    assert response.status_code == 302
    assert response["Location"].startswith("http://alpha.localhost:8000/handoff/?token=")
    assert client.post("/workspaces/beta/open/").status_code == 404
    assert client.get("/workspaces/alpha/open/").status_code == 405


def test_workspace_list_needs_login(client):
    response = client.get("/workspaces/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_post_without_csrf_token_is_refused(workspace_a, owner_a):
    from django.test import Client

    client = Client(HTTP_HOST="alpha.localhost", enforce_csrf_checks=True)
    client.force_login(owner_a)
    assert client.post("/settings/", {"name": "x", "slug": "alpha"}).status_code == 403
    assert host_client("alpha.localhost", owner_a).get("/").status_code == 200


@pytest.mark.parametrize(
    ("path", "current"),
    [("/", "Overview"), ("/inbox/", "Inbox"), ("/settings/team/", "Team"), ("/settings/", "Settings"),
     ("/settings/webhooks/new/", "Webhooks"), ("/settings/inbox/", "Labels &amp; replies")],
)  # fmt: skip
def test_the_nav_says_which_page_you_are_on(client_a, path, current):
    page = client_a.get(path).content.decode()
    marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]*)</a>', page)
    assert marked == [current]
