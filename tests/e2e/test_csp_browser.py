"""Every kind of page Parley serves, in a real browser, under its Content-Security-Policy: nothing refused."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from django.db.models import F
from playwright.sync_api import expect

from inbox import services
from inbox.models import Conversation
from tenants.context import run_in_workspace
from tests.e2e.conftest import ARTIFACTS, off_the_browser_thread, screenshot
from tests.polling import eventually
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db(transaction=True)


def _conversations_with_labels(site, owner) -> int:
    """Three labelled conversations, two answered (one by an assignee, one not), over two days, so the
    reports' chart and meters have something to draw."""
    billing = services.label_create(name="Billing", color="#16a34a")
    urgent = services.label_create(name="Urgent", color="#dc2626")
    first = None
    conversations = []
    for name, body in (
        ("Olga", "How long does shipping take?"),
        ("Piet", "My invoice is wrong"),
        ("Rosa", "Do you ship to Oslo?"),
    ):
        contact, _ = services.contact_for_visitor(website=site, token=None)
        contact.name = name
        contact.save(update_fields=["name"])
        message, _ = services.message_from_visitor(contact_id=contact.pk, body=body)
        conversation = Conversation.objects.get(pk=message.conversation_id)
        first = first or conversation
        conversations.append(conversation)
        services.conversation_label_set(conversation=conversation, label=billing, on=True, by=owner)
    services.conversation_label_set(conversation=first, label=urgent, on=True, by=owner)
    services.message_from_agent(conversation=first, author=owner, body="Two to five days.")
    services.conversation_status_set(conversation=first, status="resolved", by=owner)
    _, second, third = conversations
    services.message_from_agent(conversation=third, author=owner, body="We do.")
    # Response times of minutes and a day of their own, as real ones would be.
    Conversation.objects.filter(pk=first.pk).update(
        assignee=owner, first_agent_reply_at=F("created_at") + timedelta(minutes=5)
    )
    Conversation.objects.filter(pk=third.pk).update(
        first_agent_reply_at=F("created_at") + timedelta(minutes=2)
    )
    Conversation.objects.filter(pk=second.pk).update(created_at=F("created_at") - timedelta(days=3))
    return first.pk


def test_inbox_and_reports_look_the_same_under_the_policy(live_server_asgi, browser, site, tx_workspaces):
    schema, owner = tx_workspaces.alpha.schema_name, tx_workspaces.owner_a
    conversation_id = off_the_browser_thread(
        run_in_workspace, schema, _conversations_with_labels, site, owner
    )
    page, violations = _watched_page(browser)
    _log_in(page, live_server_asgi, "alpha", "owner-a@example.com", "secret-password-a")
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server_asgi.workspace_url("alpha", f"/inbox/c/{conversation_id}/?tab=all"))
        expect(page.locator("#inbox")).to_have_attribute("data-live", "true")
        expect(page.locator("#conversation-pane .label-chip").first).to_be_visible()
        screenshot(page, f"csp-inbox-{width}")
        if width < 600:  # on a phone the list is a screen of its own
            page.goto(live_server_asgi.workspace_url("alpha", "/inbox/?tab=all"))
            expect(page.locator(".conversation-row .label-chip").first).to_be_visible()
            screenshot(page, f"csp-inbox-list-{width}")
        page.goto(live_server_asgi.workspace_url("alpha", "/reports/"))
        expect(page.locator(".meter").first).to_be_visible()
        screenshot(page, f"csp-reports-{width}")
        page.goto(live_server_asgi.workspace_url("alpha", "/settings/inbox/"))
        screenshot(page, f"csp-inbox-settings-{width}")
        page.goto(live_server_asgi.workspace_url("alpha", "/settings/websites/"))
        screenshot(page, f"csp-websites-{width}")
        page.goto(live_server_asgi.workspace_url("alpha", "/settings/"))
        screenshot(page, f"csp-settings-{width}")
    assert violations == []
    assert page.console_errors == []


# Every refusal of the policy, as the page itself sees it (Playwright's binding outlives navigations).
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => window.cspViolation(
  `${event.effectiveDirective} refused ${event.blockedURI || "inline"} on ${event.documentURI} ` +
  `(${event.sourceFile}:${event.lineNumber}) ${event.sample}`));
"""


def _watched_page(browser):
    """A fresh browser context and page whose CSP violations and console complaints are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    violations: list[str] = []
    context.expose_binding("cspViolation", lambda _source, text: violations.append(text))
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.console_errors = errors
    return page, violations


def _htmx_settled(page) -> None:
    """Wait until no htmx request, swap or settle is under way on the page."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def _log_in(page, live_server_asgi, slug: str, email: str, password: str) -> None:
    """Through allauth's login form on the workspace's host, as a person would."""
    page.goto(live_server_asgi.workspace_url(slug, "/accounts/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _server_log_size() -> int:
    return (ARTIFACTS / "live-server.log").stat().st_size


def _reports_since(offset: int) -> list[str]:
    """The CSP violations the live server has logged since `offset` in its log."""
    with open(ARTIFACTS / "live-server.log", encoding="utf-8", errors="replace") as log:
        log.seek(offset)
        return [line for line in log if "CSP violation" in line]


def _reported_canary(page, origin_url: str) -> str:
    """Break the policy on purpose on `origin_url` (an image from a host of its own) and wait until the
    server has logged the browser's report: every report sent before it has arrived too."""
    canary = f"canary-{secrets.token_hex(4)}"
    page.goto(origin_url)
    page.evaluate(
        "(host) => { const img = new Image(); img.src = `https://${host}.invalid/x.png`; "
        "document.body.append(img); }",
        canary,
    )
    return canary


def _wait_for_report(offset: int, canary: str, timeout: float = 20) -> list[str]:
    def reports() -> list[str] | None:
        found = _reports_since(offset)
        return found if any(canary in line for line in found) else None

    return eventually(
        reports, timeout=timeout, interval=0.2, what=f"the server logging the report of {canary}"
    )


def test_every_kind_of_page_runs_under_the_policy_without_a_violation(
    live_server_asgi, browser, site, tx_workspaces
):
    from accounts.models import User

    schema = tx_workspaces.alpha.schema_name
    conversation_id = off_the_browser_thread(
        run_in_workspace, schema, _conversations_with_labels, site, tx_workspaces.owner_a
    )
    endpoint, _ = off_the_browser_thread(
        run_in_workspace,
        schema,
        webhook_services.endpoint_create,
        url="https://hooks.example.com/parley",
        event_types=["message.created"],
    )
    log_start = _server_log_size()
    public = live_server_asgi.public_url
    alpha = lambda path: live_server_asgi.workspace_url("alpha", path)  # noqa: E731

    # The public host, anonymous: landing, login, password reset, a 404, and a sign-up that a POST
    # hands over to the new workspace's host (form-action must allow that redirect).
    visitor, visitor_violations = _watched_page(browser)
    visitor.goto(public + "/")
    expect(visitor.get_by_role("heading", level=1)).to_be_visible()
    visitor.goto(public + "/accounts/login/")
    expect(visitor.get_by_label("Email")).to_be_visible()
    visitor.goto(public + "/accounts/password/reset/")
    expect(visitor.get_by_label("Email")).to_be_visible()
    visitor.goto(public + "/no-such-page/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Page not found")
    visitor.goto(live_server_asgi.workspace_url("no-such-workspace", "/"))
    visitor.goto(public + "/accounts/signup/")
    visitor.get_by_label("Workspace name").fill("Policy Co")
    visitor.get_by_label("Workspace address").fill("policy")
    visitor.get_by_label("Email").fill("owner@policy.example")
    visitor.get_by_label("Password").fill("a-long-enough-passphrase-5")
    visitor.get_by_role("button", name="Sign Up").click()
    # The code page, then the POST of the code that hands over to the new host.
    visitor.get_by_label("Code").fill(live_server_asgi.emailed_code("owner@policy.example"))
    visitor.get_by_role("button", name="Confirm").click()
    expect(visitor).to_have_url(live_server_asgi.workspace_url("policy", "/"))
    assert User.objects.filter(email="owner@policy.example").exists()

    # A workspace host: allauth's login form, then every page of the workspace.
    agent, agent_violations = _watched_page(browser)
    agent.goto(alpha("/settings/"))  # anonymous: sent to the login page
    expect(agent).to_have_url(re.compile(r"/accounts/login/"))
    _log_in(agent, live_server_asgi, "alpha", "owner-a@example.com", "secret-password-a")

    agent.goto(alpha(f"/inbox/c/{conversation_id}/?tab=all"))
    expect(agent.locator("#inbox")).to_have_attribute("data-live", "true")
    # htmx swaps: another conversation, a filter, a search, a reply, a label, the assignee.
    agent.locator(".conversation-row", has_text="Piet").locator("a").click()
    expect(agent.locator("#conversation-pane")).to_contain_text("My invoice is wrong")
    agent.locator("#filter-status").select_option("resolved")
    expect(agent.locator(".conversation-row")).to_have_count(1)
    # The swap replaced the filter form itself: a change before htmx has settled the new one (a
    # machine's speed, not a person's) would go unheard.
    _htmx_settled(agent)
    agent.locator("#filter-status").select_option("open")
    expect(agent.locator(".conversation-row")).to_have_count(2)
    _htmx_settled(agent)
    agent.locator("#inbox-search").press_sequentially("Oslo")  # keyup triggers the search
    expect(agent.locator(".conversation-row")).to_have_count(1)
    expect(agent.locator(".conversation-row")).to_contain_text("Rosa")
    agent.locator("#composer-body").fill("Checking it now.")
    agent.locator("#composer-body").press("Enter")
    expect(agent.locator(".bubble-agent").last).to_contain_text("Checking it now.")
    agent.locator("summary", has_text="Labels").click()
    agent.locator("#conversation-pane").get_by_role("button", name="Urgent").click()
    expect(agent.locator(".event").last).to_contain_text("added the label Urgent")
    agent.get_by_role("button", name="Assign to me").click()
    expect(agent.locator(".event").last).to_contain_text("took this conversation")
    agent.keyboard.press("?")
    expect(agent.locator("#shortcuts")).to_be_visible()
    agent.keyboard.press("Escape")

    for path, what in (
        ("/", "Alpha Support"),
        ("/settings/", "Workspace settings"),
        ("/settings/team/", "Team"),
        ("/reports/", "Reports"),
        ("/settings/inbox/", "Labels and canned responses"),
        ("/settings/websites/", "Websites"),
        (f"/settings/websites/{site.pk}/", "Shop"),
        ("/settings/webhooks/", "Webhooks"),
        ("/settings/api-keys/", "API keys"),
        ("/profile/", ""),
        ("/accounts/password/change/", ""),
        ("/no-such-page/", "Page not found"),
    ):
        agent.goto(alpha(path))
        expect(agent.get_by_role("heading", level=1)).to_contain_text(what)
    agent.goto(alpha(f"/settings/webhooks/{endpoint.pk}/"))
    expect(agent.get_by_role("heading", level=1)).to_contain_text("hooks.example.com")
    agent.goto(alpha("/api/v1/docs"))
    expect(agent.locator(".swagger-ui .opblock").first).to_be_visible()
    agent.locator(".swagger-ui .opblock-summary").first.click()
    expect(agent.locator(".swagger-ui .opblock-body").first).to_be_visible()

    assert visitor_violations == []
    assert agent_violations == []
    assert visitor.console_errors == agent.console_errors == []

    # The report endpoint heard nothing either: a violation made on purpose on each host arrives,
    # and is the only report of its host.
    canaries = [_reported_canary(visitor, public + "/"), _reported_canary(agent, alpha("/"))]
    for canary in canaries:
        reports = _wait_for_report(log_start, canary)
    assert [line for line in reports if not any(canary in line for canary in canaries)] == []
    # ...and the page-side recorders, silent all along, do hear a violation.
    assert any(canaries[0] in violation for violation in visitor_violations)
    assert any(canaries[1] in violation for violation in agent_violations)
