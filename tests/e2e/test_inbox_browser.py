"""The agent inbox in a real browser, beside a visitor in the widget: everything arrives live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inbox import services
from tenants.context import run_in_workspace
from tenants.models import Membership
from tests.e2e.conftest import logged_in_page, off_the_browser_thread, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _agent_page(browser, live_server_asgi, user, path: str):
    """A browser of its own, logged in as `user` on alpha's host, on `path` with its socket live."""
    page = logged_in_page(browser, live_server_asgi, user)
    page.goto(live_server_asgi.workspace_url("alpha", path))
    expect(page.locator("#inbox")).to_have_attribute("data-live", "true")
    return page


def test_visitor_and_agents_see_each_other_live_without_reloading(
    live_server_asgi, host_page_server, browser, page, site, tx_workspaces
):
    Membership.objects.create(user=tx_workspaces.owner_b, workspace=tx_workspaces.alpha, role="agent")
    ana = _agent_page(browser, live_server_asgi, tx_workspaces.owner_a, "/inbox/?tab=unassigned")
    expect(ana.locator(".rows-empty")).to_be_visible()

    # The visitor writes from the customer's site.
    script = (
        f'<script src="{live_server_asgi.public_url}/widget.js" data-site="{site.site_key}" async></script>'
    )
    host_page_server.html = (
        f"<!DOCTYPE html><html><head><title>Shop</title></head><body><h1>Shop</h1>{script}</body></html>"
    )
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    composer = page.locator("parley-widget .panel").get_by_label("Message")
    composer.fill("Do you ship to Oslo?")
    composer.press("Enter")

    # It appears in Ana's list, live, with its unread count and the title count.
    row = ana.locator(".conversation-row").first
    expect(row).to_contain_text("Do you ship to Oslo?")
    expect(row.locator(".unread-count")).to_have_text("1")
    expect(ana).to_have_title("(1) Inbox · Alpha Support")
    expect(ana.locator("#inbox-announcer")).to_contain_text("New conversation")

    # Ben, another agent, has the conversation open in his own browser.
    conversation_id = int(row.get_attribute("data-conversation"))
    ben = _agent_page(
        browser, live_server_asgi, tx_workspaces.owner_b, f"/inbox/c/{conversation_id}/?tab=all"
    )
    expect(ben.locator(".bubble-visitor")).to_contain_text("Do you ship to Oslo?")

    # Ana opens it with the keyboard and answers.
    ana.keyboard.press("j")
    ana.keyboard.press("Enter")
    expect(ana.locator(".conversation-title")).to_be_visible()
    ana.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    ana.keyboard.press("r")
    expect(ana.locator("#composer-body")).to_be_focused()
    ana.keyboard.type("Yes, in 2 days.")
    expect(ana.locator("#composer-body")).to_have_value("Yes, in 2 days.")
    ana.keyboard.press("Enter")
    expect(ana.locator(".bubble-agent")).to_have_count(1)

    # The visitor sees the reply; Ben sees it too, once.
    expect(page.locator("parley-widget .msg.agent")).to_contain_text("Yes, in 2 days.")
    expect(ben.locator(".bubble-agent")).to_have_count(1)

    # Ana takes the conversation (a): Ben sees the assignment live; a private note stays with agents.
    ana.keyboard.press("Escape")  # out of the composer, where letters are text
    ana.keyboard.press("a")
    expect(ana.locator(".event")).to_contain_text("Ana Owner took this conversation")  # her pane, redrawn
    expect(ben.locator(".event")).to_contain_text("Ana Owner took this conversation")
    expect(ben.locator(f"#assignee-{conversation_id}")).to_have_value(str(tx_workspaces.owner_a.pk))
    expect(ana.locator(".rows-empty")).to_be_visible()  # her Unassigned tab has nothing left
    ana.keyboard.press("n")
    ana.keyboard.type("Repeat customer, @be")
    expect(ana.locator("#canned-menu").get_by_role("option")).to_have_text(
        ["@benBen Owner"]
    )  # two cells: handle, name
    ana.keyboard.press("Tab")  # completes the mention
    ana.keyboard.type("please check.")
    expect(ana.locator("#composer-body")).to_have_value("Repeat customer, @ben please check.")
    ana.keyboard.press("Enter")
    expect(ben.locator(".bubble-note")).to_contain_text("Repeat customer, @ben please check.")
    expect(ben.locator(".toast")).to_contain_text("Ana Owner mentioned you")
    screenshot(ana, "inbox-agent-ana")
    screenshot(ben, "inbox-agent-ben")
    expect(page.locator("parley-widget .msg")).to_have_count(2)  # no note, no event for the visitor

    # The visitor types: Ana sees it.
    page.locator("parley-widget .panel").get_by_label("Message").type("Great", delay=20)
    expect(ana.locator(".typing")).to_have_text("The visitor is typing…")
    assert ana.console_errors == [] and ben.console_errors == [] and page.console_errors == []


def test_an_inbox_catches_up_after_its_socket_drops(live_server_asgi, browser, site, tx_workspaces):
    from inbox.models import Contact

    ana = _agent_page(browser, live_server_asgi, tx_workspaces.owner_a, "/inbox/?tab=all")

    # The socket goes away (a server restart, a network change) and messages arrive meanwhile.
    ana.context.set_offline(True)
    expect(ana.locator("#inbox")).to_have_attribute("data-live", "false")

    def visitor_writes():
        contact, _ = services.contact_for_visitor(website=site, token=None)
        contact.name = "Offline Olga"
        contact.save(update_fields=["name"])
        services.message_from_visitor(contact_id=contact.pk, body="Written while you were away")
        return Contact.objects.count()

    off_the_browser_thread(run_in_workspace, tx_workspaces.alpha.schema_name, visitor_writes)
    ana.context.set_offline(False)
    expect(ana.locator("#inbox")).to_have_attribute("data-live", "true", timeout=40000)
    expect(ana.locator(".conversation-row")).to_contain_text("Written while you were away")


def test_canned_responses_and_labels_from_the_keyboard(live_server_asgi, browser, site, tx_workspaces):
    schema = tx_workspaces.alpha.schema_name

    def prepare():
        services.canned_response_create(shortcut="shipping", body="We ship worldwide in 2-5 days.")
        services.canned_response_create(shortcut="refund", body="Refunds take 5 working days.")
        services.label_create(name="Billing", color="#16a34a")
        contact, _ = services.contact_for_visitor(website=site, token=None)
        message, _ = services.message_from_visitor(contact_id=contact.pk, body="How long does shipping take?")
        return message.conversation_id

    conversation_id = off_the_browser_thread(run_in_workspace, schema, prepare)
    ana = _agent_page(
        browser, live_server_asgi, tx_workspaces.owner_a, f"/inbox/c/{conversation_id}/?tab=all"
    )

    ana.keyboard.press("r")
    ana.keyboard.type("Thanks! /sh")  # a shortcut after a space works as well as at the start
    menu = ana.locator("#canned-menu")
    expect(menu.get_by_role("option")).to_have_count(1)
    expect(menu.get_by_role("option")).to_contain_text("/shipping")
    ana.keyboard.press("Enter")  # takes the suggestion, does not send
    expect(ana.locator("#composer-body")).to_have_value("Thanks! We ship worldwide in 2-5 days.")
    ana.keyboard.press("Enter")
    expect(ana.locator(".bubble-agent")).to_contain_text("Thanks! We ship worldwide in 2-5 days.")

    ana.locator("summary", has_text="Labels").click()
    ana.get_by_role("button", name="Billing").click()
    expect(ana.locator(".event")).to_contain_text("Ana Owner added the label Billing")
    expect(ana.locator(f"#conversation-row-{conversation_id} .label-chip")).to_have_text("Billing")
    screenshot(ana, "inbox-canned-and-labels")

    # A label made after the page loaded arrives by push, in its own colour (not the default grey).
    def label_from_elsewhere():
        from inbox.models import Conversation

        urgent = services.label_create(name="Urgent", color="#dc2626")
        services.conversation_label_set(
            conversation=Conversation.objects.get(pk=conversation_id), label=urgent, on=True,
            by=tx_workspaces.owner_a,
        )  # fmt: skip

    off_the_browser_thread(run_in_workspace, schema, label_from_elsewhere)
    urgent_chip = ana.locator(f"#conversation-row-{conversation_id} .label-chip", has_text="Urgent")
    expect(urgent_chip).to_have_css("--label", "#dc2626")

    # On a phone, the list and the conversation are separate screens.
    ana.set_viewport_size({"width": 390, "height": 844})
    expect(ana.locator(".inbox-list")).to_be_hidden()
    screenshot(ana, "inbox-phone-conversation")
    ana.get_by_label("Back to the list").click()
    expect(ana.locator(f"#conversation-row-{conversation_id}")).to_be_visible()
    expect(ana.locator(".inbox-conversation")).to_be_hidden()
    screenshot(ana, "inbox-phone-list")

    ana.set_viewport_size({"width": 1280, "height": 800})
    ana.goto(live_server_asgi.workspace_url("alpha", "/reports/"))
    expect(ana.locator(".stat strong").first).to_have_text("1")
    expect(ana.locator("svg.chart rect")).to_have_count(30)
    screenshot(ana, "reports")
    assert ana.console_errors == []


def test_a_hidden_inbox_raises_a_notification_and_the_title_count(
    live_server_asgi, browser, site, tx_workspaces
):
    ana = _agent_page(browser, live_server_asgi, tx_workspaces.owner_a, "/inbox/?tab=unassigned")
    # A tab in the background, with notifications allowed: record what the page asks the browser to show.
    ana.evaluate(
        """() => {
          Object.defineProperty(document, "hidden", { get: () => true });
          window.shown = [];
          window.Notification = class {
            constructor(title, options) { window.shown.push([title, options.body]); }
          };
          window.Notification.permission = "granted";
        }"""
    )

    def visitor_writes():
        contact, _ = services.contact_for_visitor(website=site, token=None)
        services.message_from_visitor(contact_id=contact.pk, body="Is the shop open on Sunday?")

    off_the_browser_thread(run_in_workspace, tx_workspaces.alpha.schema_name, visitor_writes)
    ana.wait_for_function("() => window.shown.length > 0")
    assert ana.evaluate("window.shown") == [["New conversation", "Is the shop open on Sunday?"]]
    expect(ana).to_have_title("(1) Inbox · Alpha Support")


def test_a_slash_with_no_canned_responses_says_where_to_add_them(
    live_server_asgi, browser, site, tx_workspaces
):
    def prepare():
        contact, _ = services.contact_for_visitor(website=site, token=None)
        message, _ = services.message_from_visitor(contact_id=contact.pk, body="Hello?")
        return message.conversation_id

    conversation_id = off_the_browser_thread(run_in_workspace, tx_workspaces.alpha.schema_name, prepare)
    ana = _agent_page(
        browser, live_server_asgi, tx_workspaces.owner_a, f"/inbox/c/{conversation_id}/?tab=all"
    )
    ana.keyboard.press("r")
    ana.keyboard.type("/")
    hint = ana.locator("#canned-menu").get_by_role("option")
    expect(hint).to_contain_text("No canned responses yet: add them in Labels & replies.")
    ana.keyboard.press("Enter")  # closes the hint; sends nothing
    expect(ana.locator("#canned-menu")).to_be_hidden()
    expect(ana.locator(".bubble-agent")).to_have_count(0)
    assert ana.console_errors == []
