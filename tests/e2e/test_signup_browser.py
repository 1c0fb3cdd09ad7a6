"""A website owner signs up in a real browser and lands, logged in, on their workspace's own sub-domain."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tenants.models import Membership, Workspace
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_lands_in_the_new_workspace_and_owner_can_rename_it(live_server_asgi, page):
    page.goto(live_server_asgi.public_url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Talk to the people on your website")
    screenshot(page, "public-landing")

    page.get_by_role("link", name="Create your workspace").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    page.get_by_label("Workspace name").fill("Harbor Coffee")
    page.get_by_label("Workspace address").fill("www")
    page.get_by_label("Email").fill("owner@harbor.example")
    page.get_by_label("Password").fill("a-long-enough-passphrase-4")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.locator(".errorlist")).to_contain_text("is reserved")
    screenshot(page, "public-signup-error")

    # Keyboard only from here: fix the address and submit with Enter.
    page.get_by_label("Workspace address").fill("harbor")
    page.get_by_label("Password").fill("a-long-enough-passphrase-4")
    page.get_by_label("Password").press("Enter")

    # Nothing opens before the code emailed to the address is entered here.
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("status")).to_contain_text("We emailed a code to owner@harbor.example.")
    screenshot(page, "public-signup-code")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "public-signup-code-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("Code").fill(live_server_asgi.emailed_code("owner@harbor.example"))
    page.get_by_label("Code").press("Enter")

    expect(page).to_have_url(live_server_asgi.workspace_url("harbor", "/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbor Coffee")
    expect(page.get_by_text("owner@harbor.example").first).to_be_visible()
    screenshot(page, "workspace-home")

    workspace = Workspace.objects.get(slug="harbor")
    assert Membership.objects.get(workspace=workspace).role == "owner"

    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Workspace name").fill("Harbor Coffee Co.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Workspace saved.")
    screenshot(page, "workspace-settings")
    workspace.refresh_from_db()
    assert workspace.name == "Harbor Coffee Co."

    # Another browser has no session on this host: it is sent to the login page.
    assert page.console_errors == []


def test_a_stranger_in_another_browser_is_sent_to_login_then_refused(live_server_asgi, browser, page):
    from allauth.account.models import EmailAddress

    from accounts.models import User
    from tenants import services

    owner = User.objects.create_user("own@example.com", "owner-password-123")
    services.workspace_create(owner=owner, name="Private Co", slug="private")
    stranger = User.objects.create_user("stranger@example.com", "stranger-password-123")
    EmailAddress.objects.create(user=stranger, email=stranger.email, verified=True, primary=True)

    page.goto(live_server_asgi.workspace_url("private", "/settings/"))
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/settings/$"))
    screenshot(page, "workspace-login")
    page.get_by_label("Email").fill("stranger@example.com")
    page.get_by_label("Password").fill("stranger-password-123")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert "Private Co" not in page.content()
