"""The widget in a real browser: a host page on one origin embeds it from Parley's origin."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from inbox import services
from inbox.models import Conversation, Message
from tenants.context import run_in_workspace
from tests.e2e.conftest import logged_in_page, off_the_browser_thread, screenshot
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_CSS = """
  * { all: unset; }
  html, body { display: block; }
  button { display: none !important; }
  div { font-size: 40px !important; color: lime !important; }
"""


def _host_page(live_server_asgi, site_key: str, *, css: str = "", before: str = "", attrs: str = "") -> str:
    # No empty <style>: a page under a strict style-src would report it as a violation.
    head = f"<title>Shop</title>{f'<style>{css}</style>' if css else ''}{before}"
    script = _snippet(live_server_asgi, site_key, attrs)
    body = f"<h1>Welcome to the shop</h1><p>Products.</p>{script}"
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def _snippet(live_server_asgi, site_key: str, attrs: str = "") -> str:
    return (
        f'<script src="{live_server_asgi.public_url}/widget.js" data-site="{site_key}"{attrs} async></script>'
    )


def _messages(schema: str) -> list[tuple[str, str]]:
    return run_in_workspace(
        schema, lambda: list(Message.objects.order_by("id").values_list("author_kind", "body"))
    )


def _reply(schema: str, owner, body: str) -> None:
    def reply():
        conversation = Conversation.objects.order_by("-id").first()
        services.message_from_agent(conversation=conversation, author=owner, body=body)

    off_the_browser_thread(run_in_workspace, schema, reply)


def _wait_for_rows(schema: str, count: int, page) -> list[tuple[str, str]]:
    def rows() -> list[tuple[str, str]] | None:
        found = _messages(schema)
        return found if len(found) >= count else None

    return eventually(rows, timeout=10, interval=0.1, what=f"{count} messages stored")


def test_visitor_chats_and_sees_the_reply_live_whatever_the_host_css(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    host_page_server.html = _host_page(live_server_asgi, site.site_key, css=HOSTILE_CSS)
    page.goto(host_page_server.origin + "/")

    launcher = page.locator("parley-widget .launcher")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert 50 <= box["width"] <= 60 and box["x"] > 1100  # bottom right, its own size despite the page's CSS
    launcher.click()
    panel = page.locator("parley-widget .panel")
    expect(panel).to_be_visible()
    expect(panel.locator("header strong")).to_have_text("Alpha Shop")
    expect(panel.locator(".greeting")).to_have_text("Hi! Ask us anything.")

    composer = panel.get_by_label("Message")
    composer.fill("Do you have decaf?")
    composer.press("Shift+Enter")
    composer.type("Asking for a friend.")
    composer.press("Enter")
    expect(panel.locator(".msg.visitor")).to_have_text("Do you have decaf?\nAsking for a friend.")
    expect(panel.locator(".meta.visitor")).to_contain_text("Sent")
    assert _wait_for_rows(schema, 1, page) == [("visitor", "Do you have decaf?\nAsking for a friend.")]
    screenshot(page, "widget-open-hostile-css")

    _reply(schema, tx_workspaces.owner_a, "We do: Colombia decaf.")
    agent = panel.locator(".msg.agent")
    expect(agent).to_contain_text("We do: Colombia decaf.")
    expect(agent.locator(".who")).to_have_text("Ana Owner")
    expect(agent.locator(".initials")).to_have_text("AO")  # the agent's initials, as their avatar

    # Closed panel: the next reply raises the unread badge.
    panel.get_by_label("Close chat").click()
    expect(panel).to_be_hidden()
    _reply(schema, tx_workspaces.owner_a, "Anything else?")
    expect(page.locator("parley-widget .badge")).to_have_text("1")
    screenshot(page, "widget-unread-badge")
    launcher.click()
    expect(page.locator("parley-widget .badge")).to_be_hidden()
    expect(panel.locator(".msg.agent").last).to_contain_text("Anything else?")
    screenshot(page, "widget-agent-replies")

    # Reload: the same visitor, the whole conversation, nothing twice.
    page.reload()
    page.locator("parley-widget .launcher").click()
    expect(page.locator("parley-widget .msg")).to_have_count(3)
    assert page.console_errors == []


def test_the_widget_falls_back_to_http_where_websockets_are_blocked(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    page.add_init_script("delete window.WebSocket;")
    host_page_server.html = _host_page(live_server_asgi, site.site_key)
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    composer = page.locator("parley-widget").get_by_label("Message")
    for body in ("first over http", "second over http"):
        composer.fill(body)
        composer.press("Enter")
    assert _wait_for_rows(schema, 2, page) == [
        ("visitor", "first over http"),
        ("visitor", "second over http"),
    ]
    _reply(schema, tx_workspaces.owner_a, "Long-poll works.")
    expect(page.locator("parley-widget .msg.agent")).to_contain_text("Long-poll works.")
    assert page.console_errors == []


# The test holds the network switch: while __offline, every new WebSocket fails to connect.
NETWORK_SWITCH = """
  const RealWebSocket = window.WebSocket;
  window.__offline = false;
  window.__sockets = [];
  window.WebSocket = function (url, protocols) {
    const socket = new RealWebSocket(window.__offline ? "ws://127.0.0.1:9/" : url, protocols);
    window.__sockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = RealWebSocket.prototype;
"""


def test_messages_written_offline_are_sent_in_order_after_reconnecting(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    page.add_init_script(NETWORK_SWITCH)
    host_page_server.html = _host_page(live_server_asgi, site.site_key)
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    composer = page.locator("parley-widget").get_by_label("Message")
    composer.fill("before the tunnel")
    composer.press("Enter")
    assert len(_wait_for_rows(schema, 1, page)) == 1
    # Acknowledged before the tunnel (an ack lost with the socket would only mean one resend, stored once).
    expect(page.locator("parley-widget .meta.visitor", has_text="Sending")).to_have_count(0)

    page.evaluate("window.__offline = true; window.__sockets.at(-1).close();")
    expect(page.locator("parley-widget .status")).to_contain_text("Reconnecting")
    for body in ("in the tunnel, one", "in the tunnel, two"):
        composer.fill(body)
        composer.press("Enter")
    expect(page.locator("parley-widget .meta.visitor", has_text="Sending")).to_have_count(2)
    screenshot(page, "widget-offline-queue")
    assert len(_messages(schema)) == 1

    page.evaluate("window.__offline = false;")
    rows = _wait_for_rows(schema, 3, page)
    assert [body for _, body in rows] == ["before the tunnel", "in the tunnel, one", "in the tunnel, two"]
    expect(page.locator("parley-widget .meta.visitor", has_text="Sending")).to_have_count(0, timeout=15000)
    expect(page.locator("parley-widget .msg.visitor")).to_have_count(3)


def test_js_api_calls_made_before_the_script_loads_are_replayed(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    stub = """<script>
      window.Parley = window.Parley || function () { (Parley.q = Parley.q || []).push(arguments); };
      Parley('identify', {email: 'kim@example.com', name: 'Kim'});
      Parley('on', 'message', function (m) { (window.__seen = window.__seen || []).push(m.body); });
      Parley('open');
    </script>"""
    host_page_server.html = _host_page(live_server_asgi, site.site_key, before=stub)
    page.goto(host_page_server.origin + "/")
    panel = page.locator("parley-widget .panel")
    expect(panel).to_be_visible()  # opened by the queued call
    composer = panel.get_by_label("Message")
    composer.fill("hello from Kim")
    composer.press("Enter")
    _wait_for_rows(schema, 1, page)
    _reply(schema, tx_workspaces.owner_a, "Hi Kim")
    expect(panel.locator(".msg.agent")).to_contain_text("Hi Kim")
    assert page.evaluate("window.__seen") == ["hello from Kim", "Hi Kim"]
    contact = run_in_workspace(schema, lambda: Conversation.objects.get().contact)
    assert (contact.email, contact.name) == ("kim@example.com", "Kim")
    assert page.evaluate("typeof window.Parley.version") == "string"


def test_a_foreign_origin_gets_no_chat(live_server_asgi, host_page_server, page, tx_workspaces):
    website, _ = run_in_workspace(
        tx_workspaces.alpha.schema_name,
        services.website_create,
        workspace=tx_workspaces.alpha,
        name="Elsewhere",
        allowed_origins="https://somewhere-else.example",
    )
    warnings = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)
    host_page_server.html = _host_page(live_server_asgi, website.site_key)
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    expect(page.locator("parley-widget .status")).to_contain_text("is not allowed for this site key")
    expect(page.locator("parley-widget .composer")).to_be_hidden()
    assert any("not allowed" in w for w in warnings)


# What Prototype 1.6 defines: JSON.stringify then writes every array as a string inside the JSON.
PROTOTYPE_TOJSON = """<script>
  Array.prototype.toJSON = function () {
    return "[" + Array.prototype.map.call(this, function (v) { return JSON.stringify(v); }).join(", ") + "]";
  };
</script>"""


def test_a_message_queued_on_a_page_with_prototype_js_is_sent_on_the_next_page_view(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    host_page_server.html = _host_page(live_server_asgi, site.site_key, before=PROTOTYPE_TOJSON)
    # context.set_offline does not stop new WebSockets to localhost: this page gets its own switch.
    page.add_init_script(NETWORK_SWITCH)
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    expect(page.locator("parley-widget .greeting")).to_be_visible()
    page.route("**/widget/api/**", lambda route: route.abort())  # and no HTTP fallback either
    page.evaluate("window.__offline = true; window.__sockets.at(-1).close();")
    expect(page.locator("parley-widget .status")).to_contain_text("Reconnecting")
    composer = page.locator("parley-widget").get_by_label("Message")
    composer.fill("queued under Prototype")
    composer.press("Enter")
    expect(page.locator("parley-widget .meta.visitor", has_text="Sending")).to_have_count(1)
    page.close()  # the visitor leaves with the message still queued
    assert _messages(schema) == []

    again = page.context.new_page()  # same storage, back online
    errors = []
    again.on("pageerror", lambda exc: errors.append(str(exc)))
    again.goto(host_page_server.origin + "/")
    again.locator("parley-widget .launcher").click()
    assert _wait_for_rows(schema, 1, again) == [("visitor", "queued under Prototype")]
    expect(again.locator("parley-widget .meta.visitor", has_text="Sending")).to_have_count(0)
    expect(again.locator("parley-widget .msg.visitor")).to_have_count(1)
    again.reload()  # and the state it saved this time reads back too
    again.locator("parley-widget .launcher").click()
    expect(again.locator("parley-widget .msg.visitor")).to_have_text("queued under Prototype")
    assert errors == []  # the first page logged its failed offline sockets; this one must not fail


@pytest.mark.parametrize(
    "stored",
    [
        '{"token": {"x": 1}, "unread": "many", "outbox": "[{\\"client_id\\": 1}]"}',
        '{"outbox": [null, 7, {"client_id": "c1"}, {"client_id": 2, "body": "x"}]}',
    ],
)
def test_a_corrupt_stored_state_is_discarded_not_fatal(
    live_server_asgi, host_page_server, page, site, tx_workspaces, stored
):
    schema = tx_workspaces.alpha.schema_name
    page.add_init_script(f"localStorage.setItem('parley:{site.site_key}', {stored!r});")
    host_page_server.html = _host_page(live_server_asgi, site.site_key)
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    expect(page.locator("parley-widget .greeting")).to_have_text("Hi! Ask us anything.")
    expect(page.locator("parley-widget .msg")).to_have_count(0)
    composer = page.locator("parley-widget").get_by_label("Message")
    composer.fill("still works")
    composer.press("Enter")
    assert _wait_for_rows(schema, 1, page) == [("visitor", "still works")]
    expect(page.locator("parley-widget .meta.visitor")).to_contain_text("Sent")
    assert page.console_errors == []


def test_a_message_an_older_widget_stored_as_a_string_is_still_sent(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    # What the widget wrote under Prototype.js before it serialised its own state.
    schema = tx_workspaces.alpha.schema_name
    pending = {"client_id": "0b6f2a1e-0000-4000-8000-000000000001", "body": "left by the old widget"}
    outbox = json.dumps([pending])
    stored = json.dumps({"token": None, "unread": 0, "outbox": outbox})
    page.add_init_script(f"localStorage.setItem('parley:{site.site_key}', {json.dumps(stored)});")
    host_page_server.html = _host_page(live_server_asgi, site.site_key)
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    assert _wait_for_rows(schema, 1, page) == [("visitor", "left by the old widget")]
    expect(page.locator("parley-widget .msg.visitor")).to_have_text("left by the old widget")
    assert page.console_errors == []


def _chat_both_ways(
    live_server_asgi, host_page_server, page, site, tx_workspaces, body: str,
    *, html: str | None = None, welcome_within: float = 5000, send_by_click: bool = False,
) -> None:  # fmt: skip
    """Open the widget on the host page (`html`, else a plain one), send `body` (it reaches the
    database and shows as sent), and see an agent's reply arrive."""
    schema = tx_workspaces.alpha.schema_name
    host_page_server.html = html or _host_page(live_server_asgi, site.site_key)
    page.goto(host_page_server.origin + "/")
    page.locator("parley-widget .launcher").click()
    greeting = page.locator("parley-widget .greeting")
    expect(greeting).to_have_text("Hi! Ask us anything.", timeout=welcome_within)
    composer = page.locator("parley-widget").get_by_label("Message")
    composer.fill(body)
    if send_by_click:
        page.locator("parley-widget .send").click()  # a real click where the button is: nothing may cover it
    else:
        composer.press("Enter")
    assert _wait_for_rows(schema, 1, page) == [("visitor", body)]
    expect(page.locator("parley-widget .meta.visitor")).to_contain_text("Sent")
    _reply(schema, tx_workspaces.owner_a, f"Reply to: {body}")
    expect(page.locator("parley-widget .msg.agent")).to_contain_text(f"Reply to: {body}")


@pytest.mark.parametrize(
    "breakage",
    [
        "window.WebSocket = undefined;",
        "window.WebSocket = function () { throw new Error('blocked by a privacy extension'); };",
    ],
    ids=["undefined", "throwing"],
)
def test_a_broken_websocket_constructor_means_http(
    live_server_asgi, host_page_server, page, site, tx_workspaces, breakage
):
    page.add_init_script(breakage)
    _chat_both_ways(live_server_asgi, host_page_server, page, site, tx_workspaces, "sent without a WebSocket")
    assert page.console_errors == []


def test_a_host_page_csp_without_websockets_falls_back_to_http(
    live_server_asgi, host_page_server, page, site, tx_workspaces, monkeypatch
):
    # Chromium reports the blocked socket with an `error` and never a `close`.
    csp = f"connect-src {live_server_asgi.public_url}"
    monkeypatch.setattr(host_page_server, "headers", {"Content-Security-Policy": csp})
    _chat_both_ways(live_server_asgi, host_page_server, page, site, tx_workspaces, "behind a strict CSP")


def _reload_keeps_history(page, count: int) -> None:
    page.reload()
    page.locator("parley-widget .launcher").click()
    expect(page.locator("parley-widget .msg")).to_have_count(count)


def _inside(box: dict, width: int, height: int) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width
        and box["y"] + box["height"] <= height
    )


# A phone's on-screen keyboard shrinks (and may pan) the visual viewport, not the window; headless
# Chromium has no keyboard, so this page stands in for it.
ON_SCREEN_KEYBOARD = """
  const real = window.visualViewport;
  const view = new EventTarget();
  let keyboard = 0, panned = 0;
  Object.defineProperties(view, {
    width: { get: () => real.width },
    height: { get: () => real.height - keyboard },
    offsetTop: { get: () => real.offsetTop + panned },
  });
  window.visualViewport = view;
  window.__keyboard = (height, pan) => {
    keyboard = height;
    panned = pan;
    view.dispatchEvent(new Event("resize"));
  };
"""


def test_on_a_phone_the_full_screen_panel_hides_the_launcher_and_stays_above_the_keyboard(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    page.set_viewport_size({"width": 390, "height": 844})
    page.add_init_script(ON_SCREEN_KEYBOARD)
    viewport = '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">'
    html = _host_page(live_server_asgi, site.site_key, before=viewport)
    # Send is tapped where it is on screen: under the launcher, the tap would close the panel instead.
    _chat_both_ways(
        live_server_asgi, host_page_server, page, site, tx_workspaces, "sent from a phone", html=html,
        send_by_click=True,
    )  # fmt: skip
    panel = page.locator("parley-widget .panel")
    assert panel.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 844}
    expect(page.locator("parley-widget .launcher")).to_be_hidden()
    screenshot(page, "widget-phone-390")

    page.evaluate("window.__keyboard(340, 0)")  # the keyboard opens: 504 px of page are left
    send = page.locator("parley-widget .send")
    expect(panel).to_have_js_property("offsetHeight", 504)
    assert _inside(send.bounding_box(), 390, 504)
    assert _inside(page.locator("parley-widget header").bounding_box(), 390, 504)
    page.evaluate("window.__keyboard(340, 120)")  # iOS pans the visual viewport up to the caret
    expect(panel).to_have_js_property("offsetTop", 120)
    page.evaluate("window.__keyboard(0, 0)")
    expect(panel).to_have_js_property("offsetHeight", 844)

    page.locator("parley-widget .panel").get_by_label("Close chat").click()  # the header's close button
    expect(panel).to_be_hidden()
    expect(page.locator("parley-widget .launcher")).to_be_visible()
    _reload_keeps_history(page, 2)
    assert page.console_errors == []


def test_a_strict_style_src_without_unsafe_inline_still_styles_the_widget(
    live_server_asgi, host_page_server, page, site, tx_workspaces, monkeypatch
):
    parley = live_server_asgi.public_url
    csp = (
        f"default-src 'self'; script-src {parley}; connect-src {parley} {parley.replace('http', 'ws')}; "
        "style-src 'self'; img-src 'self'"
    )
    monkeypatch.setattr(host_page_server, "headers", {"Content-Security-Policy": csp})
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', (e) => __violations.push(e.violatedDirective));"
    )
    _chat_both_ways(live_server_asgi, host_page_server, page, site, tx_workspaces, "under a strict CSP")
    launcher = page.locator("parley-widget .launcher")
    page.locator("parley-widget .panel").get_by_label("Close chat").click()
    box = launcher.bounding_box()
    assert 56 <= box["width"] <= 59 and box["x"] > 1100 and box["y"] > 700  # styled, fixed
    launcher.click()
    header = page.locator("parley-widget header")
    expect(header).to_have_css("background-color", "rgb(15, 118, 110)")  # the website's accent
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "widget-strict-csp-390")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, "widget-strict-csp-1280")
    _reload_keeps_history(page, 2)
    assert page.evaluate("window.__violations") == []
    assert page.console_errors == []


def test_without_constructable_stylesheets_the_widget_brings_its_own_style_element(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    page.add_init_script("delete window.CSSStyleSheet;")  # an older browser
    _chat_both_ways(live_server_asgi, host_page_server, page, site, tx_workspaces, "older browser")
    expect(page.locator("parley-widget header")).to_have_css("background-color", "rgb(15, 118, 110)")
    assert (
        page.evaluate("document.querySelector('parley-widget').shadowRoot.querySelectorAll('style').length")
        == 1
    )


@pytest.mark.parametrize(
    ("zoomed", "width", "height"),
    [("html", 1280, 800), ("body", 1280, 800), ("html", 390, 844)],
    ids=["html-1280", "body-1280", "html-390"],
)
def test_on_a_zoomed_page_the_panel_header_and_close_button_stay_on_screen(
    live_server_asgi, host_page_server, page, site, tx_workspaces, zoomed, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    html = _host_page(live_server_asgi, site.site_key, css=f"{zoomed} {{ zoom: 1.5 }}")
    _chat_both_ways(live_server_asgi, host_page_server, page, site, tx_workspaces, "zoomed in", html=html)
    for part in ("header", ".send", ".panel"):
        assert _inside(page.locator(f"parley-widget {part}").bounding_box(), width, height), part
    close = page.locator("parley-widget .panel").get_by_label("Close chat")
    assert _inside(close.bounding_box(), width, height)
    screenshot(page, f"widget-zoomed-{zoomed}-{width}")
    close.click()
    expect(page.locator("parley-widget .panel")).to_be_hidden()
    _reload_keeps_history(page, 2)
    assert page.console_errors == []


def test_a_page_with_its_own_parley_global_keeps_it_and_is_told_about_data_global(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    warnings = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)
    own = "<script>window.Parley = { version: '2.1', greet: function () { return 'the page'; } };</script>"
    html = _host_page(live_server_asgi, site.site_key, before=own)
    _chat_both_ways(
        live_server_asgi, host_page_server, page, site, tx_workspaces, "page has a Parley", html=html
    )
    assert page.evaluate("[window.Parley.version, window.Parley.greet()]") == ["2.1", "the page"]
    assert len(warnings) == 1 and "window.Parley" in warnings[0] and "data-global" in warnings[0]
    _reload_keeps_history(page, 2)
    assert page.console_errors == []


def test_data_global_names_the_api_and_its_queued_calls(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    warnings = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)
    stub = """<script>
      window.Parley = { version: '2.1' };
      window.MyChat = window.MyChat || function () { (MyChat.q = MyChat.q || []).push(arguments); };
      MyChat('identify', {email: 'kim@example.com', name: 'Kim'});
      MyChat('on', 'message', function (m) { (window.__seen = window.__seen || []).push(m.body); });
      MyChat('open');
    </script>"""
    # The snippet pasted twice (a theme and a plugin both add it): still one widget.
    twice = stub + _snippet(live_server_asgi, site.site_key, ' data-global="MyChat"')
    host_page_server.html = _host_page(
        live_server_asgi, site.site_key, before=twice, attrs=' data-global="MyChat"'
    )
    page.goto(host_page_server.origin + "/")
    expect(page.locator("parley-widget")).to_have_count(1)
    panel = page.locator("parley-widget .panel")
    expect(panel).to_be_visible()  # opened by the queued call
    composer = panel.get_by_label("Message")
    composer.fill("hello from Kim")
    composer.press("Enter")
    assert _wait_for_rows(schema, 1, page) == [("visitor", "hello from Kim")]
    _reply(schema, tx_workspaces.owner_a, "Hi Kim")
    expect(panel.locator(".msg.agent")).to_contain_text("Hi Kim")
    assert page.evaluate("window.__seen") == ["hello from Kim", "Hi Kim"]
    contact = run_in_workspace(schema, lambda: Conversation.objects.get().contact)
    assert (contact.email, contact.name) == ("kim@example.com", "Kim")
    assert page.evaluate("[typeof MyChat.version, window.Parley.version]") == ["string", "2.1"]
    page.evaluate("MyChat('close')")
    expect(panel).to_be_hidden()
    assert warnings == []
    page.reload()  # the page's queued MyChat('open') opens it again
    expect(panel).to_be_visible()
    expect(panel.locator(".msg")).to_have_count(2)
    assert page.console_errors == []


# Every socket's hello goes nowhere: sockets open and are never welcomed (a proxy that accepts the
# upgrade and then passes nothing on).
SILENT_SOCKETS = """
  const RealWebSocket = window.WebSocket;
  window.__opened = 0;
  window.WebSocket = function (url, protocols) {
    const socket = new RealWebSocket(url, protocols);
    socket.addEventListener("open", () => window.__opened++);
    socket.send = function () {};
    return socket;
  };
  window.WebSocket.prototype = RealWebSocket.prototype;
"""


def test_sockets_that_open_but_are_never_welcomed_lead_to_http(
    live_server_asgi, host_page_server, page, site, tx_workspaces
):
    page.add_init_script(SILENT_SOCKETS)
    # Three sockets, each given 5 s to be welcomed, with a backoff between them.
    _chat_both_ways(
        live_server_asgi, host_page_server, page, site, tx_workspaces, "after three silent sockets",
        welcome_within=25000,
    )  # fmt: skip
    assert page.evaluate("window.__opened") >= 3
    assert page.console_errors == []


# NETWORK_SWITCH, plus what each socket received and sent and when the widget asked over HTTP.
NETWORK_LOG = """
  window.__welcomes = []; window.__sent = []; window.__polls = [];
  const RealSend = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    window.__sent.push(JSON.parse(data));
    return RealSend.call(this, data);
  };
  const SwitchedWebSocket = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const socket = new SwitchedWebSocket(url, protocols);
    socket.addEventListener("message", (e) => {
      if (JSON.parse(e.data).type === "welcome") window.__welcomes.push(performance.now());
    });
    return socket;
  };
  window.WebSocket.prototype = SwitchedWebSocket.prototype;
  const realFetch = window.fetch;
  window.fetch = function (url, options) {
    if (String(url).includes("/widget/api/poll")) window.__polls.push(performance.now());
    return realFetch.call(this, url, options);
  };
"""


def test_after_a_network_blip_the_widget_goes_back_from_long_poll_to_websockets(
    live_server_asgi, host_page_server, browser, page, site, tx_workspaces
):
    schema = tx_workspaces.alpha.schema_name
    page.add_init_script(NETWORK_SWITCH)
    page.add_init_script(NETWORK_LOG)
    _chat_both_ways(live_server_asgi, host_page_server, page, site, tx_workspaces, "before the blip")
    assert page.evaluate("window.__polls.length") == 0

    # The blip: sockets fail three times, so the widget long-polls; the chat goes on both ways.
    page.evaluate("window.__offline = true; window.__sockets.at(-1).close();")
    page.wait_for_function("window.__polls.length > 0", timeout=20000)
    composer = page.locator("parley-widget").get_by_label("Message")
    composer.fill("during the blip")
    composer.press("Enter")
    assert [body for _, body in _wait_for_rows(schema, 3, page)][-1] == "during the blip"
    _reply(schema, tx_workspaces.owner_a, "Heard you over HTTP")
    expect(page.locator("parley-widget .msg.agent").last).to_contain_text("Heard you over HTTP")

    # The network is back: within a probe or two a socket is welcomed and the long-poll stops.
    page.evaluate("window.__offline = false;")
    page.wait_for_function("window.__welcomes.length >= 2", timeout=30000)
    composer.fill("back on the socket")
    composer.press("Enter")
    assert [body for _, body in _wait_for_rows(schema, 5, page)][-1] == "back on the socket"
    sent = page.evaluate("window.__sent.filter((f) => f.type === 'message').map((f) => f.body)")
    assert sent[-1] == "back on the socket"  # over the socket, not HTTP
    _reply(schema, tx_workspaces.owner_a, "Live again")
    expect(page.locator("parley-widget .msg.agent").last).to_contain_text("Live again")
    assert page.evaluate("window.__polls.filter((t) => t > window.__welcomes[1]).length") == 0

    # Typing reaches the agent again.
    conversation_id = run_in_workspace(schema, lambda: Conversation.objects.get().pk)
    agent = logged_in_page(browser, live_server_asgi, tx_workspaces.owner_a)
    agent.goto(live_server_asgi.workspace_url("alpha", f"/inbox/c/{conversation_id}/?tab=all"))
    expect(agent.locator("#inbox")).to_have_attribute("data-live", "true")
    # The server passes on one "typing" a few seconds after the last (the Enter above sent a stop):
    # keep typing until it does.
    typing = agent.locator(".typing")
    for _ in range(40):
        composer.press("a")
        if typing.text_content() == "The visitor is typing…":
            break
        page.wait_for_timeout(250)
    expect(typing).to_have_text("The visitor is typing…")
    agent.context.close()

    # Nothing lost, nothing twice.
    expect(page.locator("parley-widget .msg")).to_have_count(6)
    _reload_keeps_history(page, 6)
