"""The staff console in a real browser, with billing on: a staff member logs in with password and
authenticator code, finds a workspace, opens it; another sets up the authenticator app the console
requires. No page breaks the Content-Security-Policy or is wider than a 390 px phone. Every page is
photographed at 1280 and 390 px (test-artifacts/staff-*.png) to be looked at."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from billing.models import BillingAccount
from inbox import services as inbox_services
from staff import services as staff_services
from staff.models import AuditEntry
from staff.tests.conftest import STAFF_EMAIL, STAFF_PASSWORD, make_staff, totp_code
from staff.tests.factories import add_workspaces
from tenants.context import run_in_workspace
from tenants.models import Membership
from tests.e2e.conftest import running_server, screenshot
from tests.e2e.test_csp_browser import RECORD_VIOLATIONS
from tests.e2e.test_pages_narrow_browser import _OVERFLOWING
from tests.e2e.test_widget_browser import _host_page, _wait_for_rows

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
BILLING_ON = {"STRIPE_SECRET_KEY": "sk_test_staff_browser"}  # nothing here calls Stripe


def _seed(tx_workspaces) -> None:
    """Workspaces of every kind on the list, and a full page for alpha: members, an invitation, a
    website, a paying plan, an audit trail."""
    alpha = tx_workspaces.alpha
    long_name = "Harbor Coffee Roasters of the Northern Seaboard"
    add_workspaces(35, prefix="harbor-north", name=long_name, members=2)
    add_workspaces(12, prefix="quay", members=4, plan="team", newest_at=timezone.now() + timedelta(days=2))
    add_workspaces(3, prefix="dock", plan="business", status=BillingAccount.Status.PAST_DUE)
    BillingAccount.objects.create(workspace=alpha, plan="team", status="active")
    agent = User.objects.create_user("ida.agent@alpha-support.example", None, display_name="Ida Agent")
    Membership.objects.create(user=agent, workspace=alpha, role="agent")
    run_in_workspace(
        alpha.schema_name,
        inbox_services.website_create,
        workspace=alpha,
        name="Alpha's online shop",
        allowed_origins="https://shop.alpha.example\nhttps://alpha.example",
    )
    staff = User.objects.get(email=STAFF_EMAIL)
    staff_services.audit_record(
        staff=staff,
        action="staff_grant",
        workspace=alpha,
        reason="A trail entry to look at: the owner asked for a plan change on ticket 4711.",
        before={"plan": "free", "until": None},
        after={"plan": "team", "until": "2027-01-31"},
        ip_address="203.0.113.9",
    )


def _watched(browser, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    problems: list[str] = []
    context.expose_binding("cspViolation", lambda _source, text: problems.append(text))
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    return page, problems


def _photograph(page, name: str) -> str | None:
    """Photograph the page at 1280 and 390 px; None if it fits the phone, else what sticks out."""
    page.wait_for_load_state("load")
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"staff-{name}-1280")
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    wide_parts = page.evaluate(_OVERFLOWING)
    screenshot(page, f"staff-{name}-390")
    page.set_viewport_size(DESKTOP)
    return None if width <= PHONE["width"] else f"{name}: {width} px ({wide_parts})"


def _log_in(page, server, email: str, password: str) -> None:
    page.goto(server.public_url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def test_staff_log_in_with_a_code_find_a_workspace_and_open_it(browser, tx_workspaces):
    make_staff()
    _seed(tx_workspaces)
    too_wide: list[str | None] = []
    with running_server("staff-server", **BILLING_ON) as server:
        page, problems = _watched(browser)
        _log_in(page, server, STAFF_EMAIL, STAFF_PASSWORD)
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
        too_wide.append(_photograph(page, "login-code"))
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Sign In").click()
        expect(page.get_by_role("link", name="Staff console")).to_be_visible()

        page.get_by_role("link", name="Staff console").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Workspaces")
        rows = page.locator("#workspace-rows > tr:not(#workspace-more)")
        expect(rows).to_have_count(50)  # a page of the 50 and alpha and beta
        expect(rows.first).to_contain_text("Quay 0")
        too_wide.append(_photograph(page, "workspaces"))
        more = page.get_by_role("link", name="More workspaces")
        more.focus()
        page.keyboard.press("Enter")
        expect(rows).to_have_count(52)
        expect(rows.last).to_contain_text("Alpha Support")
        expect(more).to_have_count(0)

        # Search from the keyboard: the results follow as one types; the address bar keeps them.
        page.get_by_label("Search").fill("ida.agent@")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Alpha Support")
        expect(page).to_have_url(re.compile(r"/staff/\?q=ida\.agent%40"))
        page.get_by_label("Search").fill("")
        page.get_by_label("Plan").select_option("business")
        expect(rows).to_have_count(3)
        expect(rows.first).to_contain_text("Past due")
        too_wide.append(_photograph(page, "workspaces-filtered"))
        page.get_by_label("Plan").select_option("")
        page.get_by_label("Search").fill("Alpha Support")
        expect(rows).to_have_count(1)

        page.get_by_role("link", name="Alpha Support").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Alpha Support")
        expect(page.get_by_role("region", name="Audit trail")).to_contain_text("ticket 4711")
        expect(page.get_by_role("region", name="Websites 1")).to_contain_text("Alpha's online shop")
        too_wide.append(_photograph(page, "workspace"))
        assert problems == []
    assert [problem for problem in too_wide if problem] == []


def test_staff_without_an_authenticator_set_one_up_before_the_console(browser, tx_workspaces):
    make_staff(totp=False)
    with running_server("staff-setup-server") as server:
        page, problems = _watched(browser)
        _log_in(page, server, STAFF_EMAIL, STAFF_PASSWORD)
        page.goto(server.public_url + "/staff/")
        # allauth asks for the password again before an authenticator is added.
        expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp"))
        expect(page.get_by_text("The staff console needs two-factor authentication")).to_be_visible()
        too_wide = [_photograph(page, "password-again")]
        page.get_by_label("Password").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
        too_wide.append(_photograph(page, "totp-setup"))
        secret = page.get_by_label("Authenticator secret").input_value()
        page.get_by_label("Authenticator code").fill(totp_code(secret))
        page.get_by_role("button", name="Activate").click()
        expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
        too_wide.append(_photograph(page, "recovery-codes"))
        page.get_by_role("link", name="Continue to the staff console").click()
        expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/\?next="))
        too_wide.append(_photograph(page, "code-again"))
        page.get_by_label("Code").fill(totp_code(secret))
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Workspaces")
        assert problems == []
    assert [problem for problem in too_wide if problem] == []


def test_staff_suspend_a_workspace_its_widget_refuses_then_unsuspend(
    browser, live_server_asgi, host_page_server, site, tx_workspaces
):
    """The walk of issue 16: log in with a code, find the workspace, suspend it and watch its widget
    refuse a visitor, unsuspend it and watch the visitor's chat work again; one audit row each."""
    make_staff()
    alpha = tx_workspaces.alpha
    schema = alpha.schema_name
    host_page_server.html = _host_page(live_server_asgi, site.site_key)

    # A visitor is chatting on the shop's page.
    visitor, visitor_problems = _watched(browser)
    visitor.goto(host_page_server.origin + "/")
    widget = visitor.locator("parley-widget")
    widget.locator(".launcher").click()
    widget.get_by_label("Message").fill("Is the blue mug back in stock?")
    widget.get_by_label("Message").press("Enter")
    assert [body for _, body in _wait_for_rows(schema, 1, visitor)] == ["Is the blue mug back in stock?"]

    staff, problems = _watched(browser)
    _log_in_with_code(staff, live_server_asgi)
    staff.get_by_label("Search").fill("alpha")
    rows = staff.locator("#workspace-rows > tr:not(#workspace-more)")
    expect(rows).to_have_count(1)
    staff.get_by_role("link", name="Alpha Support").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Alpha Support")

    # Suspended: the page says so, and the open widget closes and tells the visitor.
    staff.locator("#suspend-reason").fill("Chargeback on the last invoice; ticket 5120.")
    staff.get_by_role("button", name="Suspend Alpha Support").click()
    expect(staff.locator("#workspace-status")).to_contain_text("Suspended")
    expect(staff.get_by_role("region", name="Audit trail")).to_contain_text("ticket 5120")
    too_wide = [_photograph(staff, "workspace-suspended")]
    expect(widget.locator(".status")).to_contain_text("Chat unavailable", timeout=20000)
    expect(widget.locator(".composer")).to_be_hidden()
    # A visitor who arrives now is told the same, and nothing they could not send is stored.
    visitor.reload()
    widget.locator(".launcher").click()
    expect(widget.locator(".status")).to_contain_text("Chat unavailable", timeout=20000)
    screenshot(visitor, "staff-walk-widget-refused")

    staff.locator("#unsuspend-reason").fill("Paid by bank transfer.")
    staff.get_by_role("button", name="Unsuspend Alpha Support").click()
    expect(staff.locator("#workspace-status")).to_have_count(0)
    expect(staff.locator("#suspend-reason")).to_be_visible()

    # The visitor's next page view has the chat back.
    visitor.reload()
    widget.locator(".launcher").click()
    widget.get_by_label("Message").fill("Great, thanks!")
    widget.get_by_label("Message").press("Enter")
    assert [body for _, body in _wait_for_rows(schema, 2, visitor)] == [
        "Is the blue mug back in stock?",
        "Great, thanks!",
    ]
    actions = list(AuditEntry.objects.filter(workspace=alpha).order_by("id").values_list("action", flat=True))
    assert actions == ["suspend", "unsuspend"]
    assert problems == []
    assert [problem for problem in visitor_problems if "4423" not in problem] == []
    assert [problem for problem in too_wide if problem] == []


def _log_in_with_code(page, server) -> None:
    _log_in(page, server, STAFF_EMAIL, STAFF_PASSWORD)
    page.get_by_label("Code").fill(totp_code())
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="Staff console").click()


def test_staff_view_a_workspace_as_its_owner_read_only_then_stop(browser, live_server_asgi, tx_workspaces):
    """Impersonation in the browser: from the console to the workspace's host as its owner, a banner
    on every page, a write refused with the reason, Stop back to the console; all of it audited."""
    make_staff()
    alpha = tx_workspaces.alpha
    staff, problems = _watched(browser)
    _log_in_with_code(staff, live_server_asgi)
    staff.goto(f"{live_server_asgi.public_url}/staff/workspaces/{alpha.pk}/")
    staff.get_by_text("Impersonate…").first.click()
    staff.get_by_label("Reason").first.fill("Owner reports the settings page looks wrong; ticket 6001.")
    staff.get_by_role("button", name=re.compile(r"^View as Ana Owner")).click()

    banner = staff.get_by_role("status").filter(has_text="You are viewing")
    expect(banner).to_contain_text("Alpha Support")
    expect(banner).to_contain_text("read-only")
    expect(staff).to_have_url(re.compile(r"^http://alpha\.localhost:\d+/"))
    screenshot(staff, "staff-impersonation-home")
    staff.goto(f"http://alpha.localhost:{live_server_asgi.port}/settings/")
    expect(banner).to_be_visible()
    staff.get_by_label("Name").first.fill("Renamed while impersonating")
    staff.get_by_role("button", name="Save changes").click()
    expect(staff.get_by_text("Nothing can be changed while impersonating")).to_be_visible()
    screenshot(staff, "staff-impersonation-refused")
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Support"

    staff.goto(f"http://alpha.localhost:{live_server_asgi.port}/")
    staff.get_by_role("button", name="Stop").click()
    expect(staff).to_have_url(re.compile(rf"/staff/workspaces/{alpha.pk}/$"))
    expect(staff.get_by_role("region", name="Audit trail")).to_contain_text("Impersonation ended")
    actions = list(AuditEntry.objects.filter(workspace=alpha).order_by("id").values_list("action", flat=True))
    assert actions[0] == "impersonate_start" and actions[-1] == "impersonate_stop"
    assert set(actions[1:-1]) == {"impersonate_page"} and len(actions) >= 4
    # The refused write shows as a 403 page in the browser's console; nothing else went wrong.
    assert [problem for problem in problems if "403" not in problem] == []
