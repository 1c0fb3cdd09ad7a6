"""Website settings on the workspace host: owners and admins manage them, agents cannot."""

from __future__ import annotations

import pytest

from accounts.models import User
from conftest import host_client
from inbox import services
from inbox.models import Website
from tenants.context import run_in_workspace
from tenants.models import Membership, SiteKey

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Alpha shop",
    "allowed_origins_text": "https://shop.alpha.example\nhttp://localhost:3000",
    "team_name": "Alpha team",
    "greeting": "Hello!",
    "accent_color": "#0EA5E9",
    "launcher_position": "right",
    "ask_email_after_seconds": "45",
}


def _websites(workspace) -> list[Website]:
    return run_in_workspace(workspace.schema_name, lambda: list(Website.objects.all()))


def _member(workspace, role: str):
    user = User.objects.create_user(f"{role}@example.com", "irrelevant-password")
    Membership.objects.create(user=user, workspace=workspace, role=role)
    return host_client("alpha.localhost", user)


def test_create_shows_the_snippet_and_the_identity_secret_once(client_a, workspace_a):
    response = client_a.post("/settings/websites/new/", VALID)
    assert response.status_code == 302
    [website] = _websites(workspace_a)
    assert website.allowed_origins == ["https://shop.alpha.example", "http://localhost:3000"]
    assert website.accent_color == "#0ea5e9" and website.ask_email_after_seconds == 45
    assert SiteKey.objects.get(key=website.site_key).workspace == workspace_a

    page = client_a.get(response["Location"]).content.decode()
    src = "http://localhost:8000/widget.js"
    expected = f"&lt;script src=&quot;{src}&quot; data-site=&quot;{website.site_key}&quot; async&gt;"
    assert expected in page
    # What the site's own CSP must allow: the script, and the socket in its ws: form beside HTTP.
    assert "<code>script-src http://localhost:8000</code>" in page
    assert "<code>connect-src http://localhost:8000 ws://localhost:8000</code>" in page
    assert "Identity secret: copy it now" in page
    assert "Identity secret: copy it now" not in client_a.get(response["Location"]).content.decode()
    assert website.identity_secret_sealed and "Identity secret" not in website.identity_secret_sealed


@pytest.mark.parametrize(
    ("origins", "error"),
    [
        ("shop.example.com", "must start with https:// or http://"),
        ("https://shop.example.com/pricing", "no path, query or fragment"),
        ("https://*.example.com", "wildcards are not allowed"),
        ("https://shop.example.com:99999", "invalid port"),
        ("   ", "This field is required."),
    ],
)
def test_malformed_origins_are_a_clear_form_error(client_a, workspace_a, origins, error):
    response = client_a.post("/settings/websites/new/", VALID | {"allowed_origins_text": origins})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert _websites(workspace_a) == []


def test_rotating_the_site_key_retires_the_old_one(client_a, workspace_a, website_and_secret_a):
    website, _ = website_and_secret_a
    old = website.site_key
    response = client_a.post(f"/settings/websites/{website.pk}/rotate-key/")
    assert response.status_code == 302
    [website] = _websites(workspace_a)
    assert website.site_key != old and website.site_key.startswith("pk_")
    assert not SiteKey.objects.filter(key=old).exists()
    assert SiteKey.objects.get(key=website.site_key).website_id == website.pk
    assert "The old one no longer works" in client_a.get(response["Location"]).content.decode()


def test_rotating_the_identity_secret_shows_the_new_one_once(client_a, workspace_a, website_and_secret_a):
    website, first = website_and_secret_a
    response = client_a.post(f"/settings/websites/{website.pk}/rotate-identity-secret/", follow=True)
    html = response.content.decode()
    assert "Identity secret: copy it now" in html and first not in html


def test_deleting_a_website_removes_its_key(client_a, workspace_a, website_and_secret_a):
    website, _ = website_and_secret_a
    assert client_a.post(f"/settings/websites/{website.pk}/delete/").status_code == 302
    assert _websites(workspace_a) == [] and not SiteKey.objects.filter(key=website.site_key).exists()


def test_admins_manage_websites_too(workspace_a):
    admin = _member(workspace_a, "admin")
    assert admin.get("/settings/websites/").status_code == 200
    assert admin.post("/settings/websites/new/", VALID).status_code == 302


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/settings/websites/"),
        ("get", "/settings/websites/new/"),
        ("post", "/settings/websites/new/"),
        ("get", "/settings/websites/{id}/"),
        ("post", "/settings/websites/{id}/"),
        ("post", "/settings/websites/{id}/rotate-key/"),
        ("post", "/settings/websites/{id}/rotate-identity-secret/"),
        ("post", "/settings/websites/{id}/delete/"),
    ],
)
def test_agents_can_neither_see_nor_change_websites(workspace_a, method, path, website_and_secret_a):
    website, _ = website_and_secret_a
    agent = _member(workspace_a, "agent")
    response = getattr(agent, method)(path.format(id=website.pk), VALID if method == "post" else None)
    assert response.status_code == 403
    [unchanged] = _websites(workspace_a)
    assert (unchanged.name, unchanged.site_key) == ("S", website.site_key)


def test_a_website_id_of_another_workspace_is_404(client_a, workspace_a, workspace_b):
    website, _ = run_in_workspace(
        workspace_b.schema_name,
        services.website_create,
        workspace=workspace_b,
        name="B",
        allowed_origins="https://b.example",
    )
    assert _websites(workspace_a) == []  # so B's id names nothing in A
    assert client_a.get(f"/settings/websites/{website.pk}/").status_code == 404
    assert client_a.post(f"/settings/websites/{website.pk}/rotate-key/").status_code == 404
    assert "https://b.example" not in client_a.get("/settings/websites/").content.decode()
    assert SiteKey.objects.get(website_id=website.pk, workspace=workspace_b).key == website.site_key
