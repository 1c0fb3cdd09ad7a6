"""The widget in a real browser while its workspace is suspended (staff console): an open chat says it
is unavailable, stops reconnecting, and keeps what the visitor queued, which is sent on the first page
view after the workspace is unsuspended."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tenants import services as tenant_services
from tests.e2e.conftest import off_the_browser_thread, screenshot
from tests.e2e.test_widget_browser import NETWORK_SWITCH, _host_page, _messages, _wait_for_rows

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_suspended_workspace_s_widget_says_chat_unavailable_and_keeps_the_queue_until_unsuspended(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    page.add_init_script(NETWORK_SWITCH)
    host_page_server.html = _host_page(live_server_asgi, site.site_key)
    page.goto(host_page_server.origin + "/")
    widget = page.locator("parley-widget")
    widget.locator(".launcher").click()
    composer = widget.get_by_label("Message")
    composer.fill("before the suspension")
    composer.press("Enter")
    assert len(_wait_for_rows(schema, 1, page)) == 1
    expect(widget.locator(".meta.visitor", has_text="Sending")).to_have_count(0)

    # The visitor loses the network (sockets and HTTP) and writes on: the message waits in the outbox.
    page.route("**/widget/api/**", lambda route: route.abort())
    page.evaluate("window.__offline = true; window.__sockets.at(-1).close();")
    expect(widget.locator(".status")).to_contain_text("Reconnecting")
    composer.fill("written while offline")
    composer.press("Enter")
    expect(widget.locator(".meta.visitor", has_text="Sending")).to_have_count(1)

    # Suspended meanwhile; back online, the widget's next attempt is refused and it says why.
    off_the_browser_thread(
        tenant_services.workspace_suspend, workspace=tx_workspaces.alpha, reason="Chargeback."
    )
    page.unroute("**/widget/api/**")
    page.evaluate("window.__offline = false;")
    expect(widget.locator(".status")).to_contain_text(
        "Chat unavailable: The team cannot take messages here right now.", timeout=40000
    )
    expect(widget.locator(".composer")).to_be_hidden()
    expect(widget.locator(".meta.visitor", has_text="Not sent yet")).to_have_count(1)
    screenshot(page, "widget-workspace-suspended")
    assert [body for _, body in _messages(schema)] == ["before the suspension"]
    stored = json.loads(page.evaluate(f"localStorage.getItem('parley:{site.site_key}')"))
    assert [pending["body"] for pending in stored["outbox"]] == ["written while offline"]

    # No reconnecting in a loop: not even the browser's "online" event brings another attempt.
    attempts = page.evaluate("window.__sockets.length")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__sockets.length") == attempts

    # Unsuspended: the next page view sends what was queued, once.
    off_the_browser_thread(tenant_services.workspace_unsuspend, workspace=tx_workspaces.alpha)
    page.reload()
    widget.locator(".launcher").click()
    rows = _wait_for_rows(schema, 2, page)
    assert [body for _, body in rows] == ["before the suspension", "written while offline"]
    expect(widget.locator(".meta.visitor", has_text="Not sent")).to_have_count(0)
    expect(widget.locator(".msg.visitor")).to_have_count(2)
    expect(widget.locator(".composer")).to_be_visible()
