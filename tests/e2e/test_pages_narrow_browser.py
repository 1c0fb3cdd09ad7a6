"""Every page on a 390 px phone: nothing wider than the screen, and the whole navigation (Settings and
Log out too) in a menu that opens from the keyboard. Each page is also photographed at 390 and
1280 px (test-artifacts/narrow-*.png) to be looked at, with content that tends to push pages wide:
long unbroken words, long names and addresses, URLs and keys."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from accounts.models import User
from api import services as key_services
from inbox import services as inbox_services
from inbox.models import Conversation
from tenants import services as team_services
from tenants.context import run_in_workspace
from tenants.models import Membership
from tests.e2e.conftest import logged_in_page, off_the_browser_thread, screenshot
from webhooks import services as webhook_services

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
UNBROKEN = "https://harbor-coffee.example/orders/" + "8f3a9c" * 25
LONG_NAME = "Maximiliana Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh"
LONG_EMAIL = "maximiliana.wolfeschlegelsteinhausenbergerdorff@support.harbor-coffee-roasters.example"
# Under 78 characters with "To: ", so the mail's header is not folded where emailed_code looks.
SIGNUP_EMAIL = "maximiliana.wolfeschlegelstein@harbor-coffee-roasters.example"
LONG_WORKSPACE = "Harbor Coffee Roasters of the Northern Seaboard"

# The elements that stick out past the viewport's right edge (not inside a box that scrolls or
# clips them), for a failure to name them.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 0.5 && !clipped(el)) {
      found.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} right=${Math.round(box.right)}`);
    }
  }
  return found.slice(-6);
}"""


def _seed(alpha, owner: User) -> SimpleNamespace:
    """A workspace with something on every page, made by the services the pages' own forms call."""
    owner_membership = Membership.objects.get(workspace=alpha, user=owner)
    admin = User.objects.create_user(LONG_EMAIL, None, display_name=LONG_NAME)
    Membership.objects.create(user=admin, workspace=alpha, role="admin")
    agent = User.objects.create_user("agent@harbor.example", None, display_name="Ida Agent")
    Membership.objects.create(user=agent, workspace=alpha, role="agent")
    invitee = User.objects.create_user(
        "new.colleague.with.a.long.address@customer-care.harbor-coffee-roasters.example",
        None,
        display_name="Noor",
    )
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=True, primary=True)
    _invitation, token = team_services.invitation_create(
        workspace=alpha, email=invitee.email, role="agent", by=owner_membership
    )

    def in_alpha():
        website, _secret = inbox_services.website_create(
            workspace=alpha,
            name="Harbor Coffee Roasters online shop",
            allowed_origins="https://www.harbor-coffee-roasters-online-shop.example\nhttps://harbor.example",
            team_name="Harbor Coffee Roasters",
            greeting="Hi! Ask us anything.",
        )
        urgent = inbox_services.label_create(name="Urgent", color="#dc2626")
        inbox_services.canned_response_create(shortcut="tracking-link-explained", body=UNBROKEN)
        conversations = []
        for name, email, body in (
            (LONG_NAME, LONG_EMAIL, UNBROKEN),
            ("Piet", "piet@example.com", "My invoice is wrong, can you look at it?"),
        ):
            contact, _ = inbox_services.contact_for_visitor(website=website, token=None, page_url=UNBROKEN)
            inbox_services.contact_identify(website=website, contact=contact, name=name, email=email)
            message, _ = inbox_services.message_from_visitor(contact_id=contact.pk, body=body)
            conversations.append(Conversation.objects.get(pk=message.conversation_id))
        first = conversations[0]
        inbox_services.conversation_label_set(conversation=first, label=urgent, on=True, by=owner)
        inbox_services.message_from_agent(conversation=first, author=owner, body="Looking: " + UNBROKEN)
        inbox_services.message_from_agent(conversation=first, author=owner, body=UNBROKEN, private=True)
        endpoint, _secret = webhook_services.endpoint_create(
            url="https://hooks.harbor-coffee-roasters.example/parley/incoming/" + "a1b2c3d4" * 8,
            description="Our CRM",
            event_types=["message.created", "conversation.created"],
        )
        webhook_services.endpoint_test_send(endpoint=endpoint)
        key_services.api_key_create(name="Nightly export to the data warehouse", scope="write", by=owner)
        return website, first, endpoint

    website, conversation, endpoint = run_in_workspace(alpha.schema_name, in_alpha)
    return SimpleNamespace(
        website=website,
        conversation=conversation,
        endpoint=endpoint,
        agent=agent,
        invitee=invitee,
        token=token,
    )


def _settled(page) -> None:
    page.wait_for_load_state("load")
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def _fits_a_phone(page, name: str) -> str | None:
    """Photograph the page at 390 and 1280 px; None if it fits a 390 px phone, else why not."""
    _settled(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    wide_parts = page.evaluate(_OVERFLOWING)
    screenshot(page, f"narrow-{name}-390")
    page.set_viewport_size(DESKTOP)
    screenshot(page, f"narrow-{name}-1280")
    page.set_viewport_size(PHONE)
    return None if width <= PHONE["width"] else f"{name}: {width} px ({wide_parts})"


def _record_errors(page) -> list[str]:
    """Console errors (a CSP refusal is one) and uncaught exceptions of `page`."""
    errors = page.console_errors
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_every_workspace_page_fits_a_phone(live_server_asgi, browser, tx_workspaces):
    seeded = off_the_browser_thread(_seed, tx_workspaces.alpha, tx_workspaces.owner_a)
    alpha = lambda path: live_server_asgi.workspace_url("alpha", path)  # noqa: E731
    page = logged_in_page(browser, live_server_asgi, tx_workspaces.owner_a)
    errors = _record_errors(page)
    page.set_viewport_size(PHONE)
    too_wide = []
    for name, path, heading in (
        ("overview", "/", "Alpha Support"),
        ("inbox", "/inbox/?tab=all", ""),
        ("conversation", f"/inbox/c/{seeded.conversation.pk}/", LONG_NAME[:20]),
        ("inbox-settings", "/settings/inbox/", "Labels and canned responses"),
        ("websites", "/settings/websites/", "Websites"),
        ("website-form", "/settings/websites/new/", ""),
        ("website-detail", f"/settings/websites/{seeded.website.pk}/", "Harbor Coffee"),
        ("team", "/settings/team/", "Team"),
        ("reports", "/reports/", "Reports"),
        ("settings", "/settings/", "Workspace settings"),
        ("api-keys", "/settings/api-keys/", "API keys"),
        ("webhooks", "/settings/webhooks/", "Webhooks"),
        ("webhook-form", "/settings/webhooks/new/", ""),
        ("webhook-detail", f"/settings/webhooks/{seeded.endpoint.pk}/", "hooks.harbor"),
        ("profile", "/profile/", ""),
        ("password-change", "/accounts/password/change/", ""),
        ("400", "/inbox/list/?open=soon", "cannot be read"),
        ("404", "/no-such-page/", "Page not found"),
        ("handoff-invalid", "/handoff/?token=spent", "That link did not work"),
    ):
        page.goto(alpha(path))
        if heading:
            expect(page.locator("h1, h2").first).to_contain_text(heading)
        if name == "conversation":  # opened by its address, it shows its newest message
            expect(page.locator(".thread > li").last).to_be_in_viewport()
        if name in ("400", "404", "handoff-invalid"):
            errors.clear()  # the browser logs the status itself
        if problem := _fits_a_phone(page, name):
            too_wide.append(problem)

    # Django's CSRF failure (403): a form posted without its token.
    page.goto(alpha("/profile/"))
    page.evaluate("""() => { const form = document.createElement("form"); form.method = "post";
        form.action = "/settings/"; document.body.append(form); form.submit(); }""")
    expect(page.get_by_role("heading", level=1)).to_contain_text("This form was refused")
    errors.clear()  # the browser logs the 403 itself
    if problem := _fits_a_phone(page, "403-csrf"):
        too_wide.append(problem)

    page.goto(alpha("/api/v1/docs"))
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert (
        page.locator('meta[name="viewport"]').get_attribute("content")
        == "width=device-width, initial-scale=1"
    )
    page.locator(".swagger-ui .opblock-summary").first.click()
    expect(page.locator(".swagger-ui .opblock-body").first).to_be_visible()
    if problem := _fits_a_phone(page, "api-docs"):
        too_wide.append(problem)
    assert errors == []

    # A page not for an agent's role (403), and an invitation as its invitee sees it.
    for user, name, path, heading in (
        (seeded.agent, "403-role", "/reports/", "Not for your role"),
        (seeded.invitee, "invitation", f"/invite/{seeded.token}/", "Alpha Support"),
    ):
        other = logged_in_page(browser, live_server_asgi, user)
        other.set_viewport_size(PHONE)
        other.goto(alpha(path))
        expect(other.get_by_role("heading", level=1)).to_contain_text(heading)
        if problem := _fits_a_phone(other, name):
            too_wide.append(problem)
        assert other.console_errors == []
        other.context.close()
    assert too_wide == [], "\n".join(too_wide)


def test_public_pages_fit_a_phone(live_server_asgi, browser, tx_workspaces):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.console_errors = []
    errors = _record_errors(page)
    public = live_server_asgi.public_url
    too_wide = []
    for name, path, heading in (
        ("landing", "/", "Talk to the people on your website"),
        ("login", "/accounts/login/", "Sign In"),
        ("password-reset", "/accounts/password/reset/", "Password Reset"),
        ("public-404", "/no-such-page/", "Page not found"),
        ("signup", "/accounts/signup/", "Sign Up"),
    ):
        page.goto(public + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        if name == "public-404":
            errors.clear()  # the browser logs the 404 itself
        if problem := _fits_a_phone(page, name):
            too_wide.append(problem)

    # The code pages: the one after asking for a password reset, and the one after signing up.
    page.goto(public + "/accounts/password/reset/")
    page.get_by_label("Email").fill(tx_workspaces.owner_a.email)
    page.get_by_label("Email").press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/confirm/$"))
    if problem := _fits_a_phone(page, "password-reset-code"):
        too_wide.append(problem)
    page.goto(public + "/accounts/signup/")
    page.get_by_label("Workspace name").fill(LONG_WORKSPACE)
    page.get_by_label("Workspace address").fill("harbor-coffee-roasters-northern")
    page.get_by_label("Email").fill(SIGNUP_EMAIL)
    page.get_by_label("Password").fill("a-long-enough-passphrase-4")
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    if problem := _fits_a_phone(page, "signup-code"):
        too_wide.append(problem)
    page.get_by_label("Code").fill(live_server_asgi.emailed_code(SIGNUP_EMAIL))
    page.get_by_label("Code").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Harbor Coffee Roasters of the Northern Seaboard"
    )
    if problem := _fits_a_phone(page, "new-workspace-overview"):
        too_wide.append(problem)

    # The chooser lists every workspace of someone in more than one.
    Membership.objects.create(
        user=User.objects.get(email=SIGNUP_EMAIL), workspace=tx_workspaces.alpha, role="agent"
    )
    page.goto(public + "/workspaces/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("workspaces")
    if problem := _fits_a_phone(page, "workspace-list"):
        too_wide.append(problem)
    assert errors == []
    context.close()
    assert too_wide == [], "\n".join(too_wide)


def test_the_phone_menu_opens_from_the_keyboard_and_reaches_settings_and_log_out(
    live_server_asgi, browser, tx_workspaces
):
    page = logged_in_page(browser, live_server_asgi, tx_workspaces.owner_a)
    page.set_viewport_size(PHONE)
    page.goto(live_server_asgi.workspace_url("alpha", "/settings/team/"))
    menu = page.get_by_role("button", name="Menu")
    settings_link = page.get_by_role("link", name="Settings", exact=True)
    log_out = page.get_by_role("button", name="Log out")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(settings_link).to_be_hidden()
    expect(log_out).to_be_hidden()

    # From the top of the page: skip link, brand, then the menu button.
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(settings_link).to_be_visible()
    expect(log_out).to_be_visible()
    expect(page.get_by_role("link", name="Team")).to_have_attribute("aria-current", "page")
    screenshot(page, "narrow-menu-open-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Escape closes it and leaves the focus on the button.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Inbox")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(settings_link).to_be_hidden()

    # A tablet has the menu too; from 1241 px every link, the name and Log out fit one row of the bar.
    page.set_viewport_size({"width": 1024, "height": 800})
    menu.click()
    expect(settings_link).to_be_visible()
    screenshot(page, "narrow-menu-open-1024")
    page.get_by_role("heading", level=1).click()  # a click elsewhere closes it
    expect(menu).to_have_attribute("aria-expanded", "false")
    for width in (1241, DESKTOP["width"]):
        page.set_viewport_size({"width": width, "height": 800})
        expect(menu).to_be_hidden()
        expect(settings_link).to_be_visible()
        expect(log_out).to_be_visible()
        expect(page.get_by_role("link", name="Ana Owner")).to_be_visible()
        assert page.locator(".site-header").bounding_box()["height"] <= 61, width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "narrow-menu-bar-1280")
    page.set_viewport_size(PHONE)
    menu.focus()

    # Space opens it again; Tab walks through every link to Settings and on to Log out.
    page.keyboard.press(" ")
    expect(menu).to_have_attribute("aria-expanded", "true")
    for _ in range(20):
        page.keyboard.press("Tab")
        if settings_link.evaluate("el => el === document.activeElement"):
            break
    expect(settings_link).to_be_focused()
    for _ in range(3):
        page.keyboard.press("Tab")
        if log_out.evaluate("el => el === document.activeElement"):
            break
    expect(log_out).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")

    assert page.console_errors == []


def test_without_scripts_the_links_wrap_in_the_bar(live_server_asgi, browser, tx_workspaces):
    page = logged_in_page(browser, live_server_asgi, tx_workspaces.owner_a, java_script_enabled=False)
    page.set_viewport_size(PHONE)
    page.goto(live_server_asgi.workspace_url("alpha", "/settings/team/"))
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # it would open nothing
    for name in ("Inbox", "Team", "Settings"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "narrow-no-script-390")
