"""An invitee whose address is still unproven proves it from the invitation page with the emailed code
and joins; the API keys page shows which keys their maker's role suspends or their removal revoked."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from accounts.models import User
from api import services as key_services
from tenants import services
from tenants.context import run_in_workspace
from tenants.models import Membership
from tests.e2e.conftest import logged_in_page, off_the_browser_thread, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_invitee_proves_the_address_with_a_code_then_joins(live_server_asgi, browser, tx_workspaces):
    invitee = User.objects.create_user("sam@corp.example", None, display_name="Sam")
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=False, primary=True)
    owner = Membership.objects.get(workspace=tx_workspaces.alpha, user=tx_workspaces.owner_a)
    _invitation, token = services.invitation_create(
        workspace=tx_workspaces.alpha, email=invitee.email, role="agent", by=owner
    )
    page = logged_in_page(browser, live_server_asgi, invitee)

    page.goto(live_server_asgi.workspace_url("alpha", f"/invite/{token}/"))
    button = page.get_by_role("button", name="Email a code to sam@corp.example")
    expect(button).to_be_visible()
    screenshot(page, "invitation-prove-address")
    button.focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("status")).to_contain_text("We emailed a code to sam@corp.example.")
    screenshot(page, "invitation-code-sent")
    page.get_by_label("Code").fill(live_server_asgi.emailed_code("sam@corp.example"))
    page.get_by_label("Code").press("Enter")

    expect(page).to_have_url(live_server_asgi.workspace_url("alpha", f"/invite/{token}/"))
    page.get_by_role("button", name="Join as sam@corp.example").click()
    expect(page).to_have_url(live_server_asgi.workspace_url("alpha", "/inbox/"))
    assert Membership.objects.get(user=invitee, workspace=tx_workspaces.alpha).role == "agent"
    assert page.console_errors == []


def test_the_keys_page_shows_suspended_and_revoked_keys(live_server_asgi, browser, tx_workspaces):
    alpha, owner_a = tx_workspaces.alpha, tx_workspaces.owner_a
    owner = Membership.objects.get(workspace=alpha, user=owner_a)
    demoted = User.objects.create_user("dee@example.com", None, display_name="Dee Admin")
    gone = User.objects.create_user("gus@example.com", None, display_name="Gus Admin")
    memberships = [Membership.objects.create(user=u, workspace=alpha, role="admin") for u in (demoted, gone)]
    for user, name in ((owner_a, "Billing export"), (demoted, "CRM sync"), (gone, "Old script")):
        run_in_workspace(alpha.schema_name, key_services.api_key_create, name=name, scope="write", by=user)
    services.membership_role_set(membership=memberships[0], role="agent", by=owner)
    off_the_browser_thread(services.membership_remove, membership=memberships[1], by=owner_a)

    page = logged_in_page(browser, live_server_asgi, owner_a, height=700)
    page.goto(live_server_asgi.workspace_url("alpha", "/settings/api-keys/"))
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text="CRM sync")).to_contain_text("Suspended")
    expect(rows.filter(has_text="CRM sync")).to_contain_text("Dee Admin is now agent")
    expect(rows.filter(has_text="Old script")).to_contain_text("Gus Admin left the workspace.")
    expect(rows.filter(has_text="Billing export")).not_to_contain_text("Suspended")
    screenshot(page, "api-keys-suspended")
    page.set_viewport_size({"width": 390, "height": 800})
    screenshot(page, "api-keys-suspended-phone")
    assert page.console_errors == []
