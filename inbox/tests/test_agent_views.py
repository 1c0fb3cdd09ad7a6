"""The agent inbox pages and their htmx endpoints, on a workspace host, against the real schema."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import host_client
from inbox import selectors, services
from inbox.models import Conversation, Message
from inbox.tests.sites import in_schema, visitor_writes
from tenants.context import run_in_workspace
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_the_inbox_lists_conversations_and_opening_one_marks_it_read(client_a, workspace_a, website_a):
    conversation = visitor_writes(workspace_a, website_a, "Where is my <b>order</b>?", name="Maria")

    page = client_a.get("/inbox/?tab=unassigned").content.decode()
    assert "Maria" in page and "Where is my &lt;b&gt;order&lt;/b&gt;?" in page  # escaped
    assert 'id="count-unassigned">1<' in page

    opened = client_a.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert f'id="thread-{conversation.pk}"' in opened and "bubble-visitor" in opened
    assert in_schema(workspace_a, lambda: Conversation.objects.get(pk=conversation.pk).unread_count) == 0


def test_htmx_opens_only_the_conversation_pane(client_a, workspace_a, website_a):
    conversation = visitor_writes(workspace_a, website_a, "Hi")
    response = client_a.get(
        f"/inbox/c/{conversation.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="conversation-pane"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'class="composer"' in html


def test_a_reply_reaches_the_visitor_a_note_does_not(client_a, workspace_a, website_a, owner_a):
    conversation = visitor_writes(workspace_a, website_a, "Hello?")

    reply = client_a.post(f"/inbox/c/{conversation.pk}/reply/", {"body": "Hi! How can I help?"})
    note = client_a.post(f"/inbox/c/{conversation.pk}/reply/", {"body": "VIP customer", "kind": "note"})

    assert reply.status_code == 200 and "bubble-agent" in reply.content.decode()
    assert note.status_code == 200 and "Private note" in note.content.decode()
    stored = in_schema(
        workspace_a,
        lambda: list(Message.objects.order_by("id").values_list("author_kind", "body", "author_id")),
    )
    assert stored[1:] == [("agent", "Hi! How can I help?", owner_a.pk), ("note", "VIP customer", owner_a.pk)]
    seen_by_visitor = in_schema(
        workspace_a,
        lambda: [m.body for m in selectors.contact_messages_after(contact=conversation.contact)],
    )
    assert seen_by_visitor == ["Hello?", "Hi! How can I help?"]


@pytest.mark.parametrize(
    ("body", "expected"), [("", "cannot be empty"), ("x" * 5001, "limited to 5,000 characters")]
)
def test_a_bad_reply_is_refused_with_a_clear_error(client_a, workspace_a, website_a, body, expected):
    conversation = visitor_writes(workspace_a, website_a, "Hello?")
    response = client_a.post(f"/inbox/c/{conversation.pk}/reply/", {"body": body})
    assert response.status_code == 422 and expected in response.content.decode()
    assert in_schema(workspace_a, Message.objects.count) == 1


def test_actions_write_system_events_into_the_thread(client_a, workspace_a, website_a, owner_a):
    conversation = visitor_writes(workspace_a, website_a, "Hello?")
    url = f"/inbox/c/{conversation.pk}"

    assert client_a.post(f"{url}/assign/", {"assignee": "me"}).status_code == 200
    assert client_a.post(f"{url}/priority/", {"priority": "3"}).status_code == 200
    assert client_a.post(f"{url}/status/", {"status": "resolved"}).status_code == 200
    assert client_a.post(f"{url}/assign/", {"assignee": ""}).status_code == 200

    events = in_schema(
        workspace_a,
        lambda: list(
            Message.objects.filter(author_kind="system").order_by("id").values_list("body", flat=True)
        ),
    )
    assert events == [
        "Ana Owner took this conversation",
        "Ana Owner set the priority to high",
        "Ana Owner resolved this conversation",
        "Ana Owner unassigned this conversation",
    ]
    stored = in_schema(workspace_a, Conversation.objects.get, pk=conversation.pk)
    assert (stored.status, stored.priority, stored.assignee_id) == ("resolved", 3, None)


def test_assigning_to_a_stranger_or_a_bad_status_is_refused(client_a, workspace_a, website_a, owner_b):
    conversation = visitor_writes(workspace_a, website_a, "Hello?")
    url = f"/inbox/c/{conversation.pk}"
    assert client_a.post(f"{url}/assign/", {"assignee": str(owner_b.pk)}).status_code == 422
    assert client_a.post(f"{url}/status/", {"status": "deleted"}).status_code == 422
    assert client_a.post(f"{url}/status/", {"status": "snoozed", "snooze": "someday"}).status_code == 422
    assert client_a.post(f"{url}/priority/", {"priority": "9"}).status_code == 422
    assert in_schema(workspace_a, Message.objects.filter(author_kind="system").count) == 0


def test_an_agent_can_assign_to_another_member(client_a, workspace_a, website_a, owner_b):
    Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    conversation = visitor_writes(workspace_a, website_a, "Hello?")
    client_a.post(f"/inbox/c/{conversation.pk}/assign/", {"assignee": str(owner_b.pk)})
    assert in_schema(workspace_a, Conversation.objects.get, pk=conversation.pk).assignee_id == owner_b.pk
    mine = client_a.get("/inbox/?tab=mine").content.decode()
    assert f"conversation-row-{conversation.pk}" not in mine


def test_keyset_pages_stay_put_while_new_conversations_arrive(client_a, workspace_a, website_a, owner_a):
    older = [visitor_writes(workspace_a, website_a, f"old {i}") for i in range(30)]
    first = in_schema(
        workspace_a, selectors.conversation_page, agent_id=owner_a.pk,
        filters=selectors.InboxFilters(tab="all"),
    )  # fmt: skip
    for i in range(3):
        visitor_writes(workspace_a, website_a, f"new {i}")
    second = in_schema(
        workspace_a, selectors.conversation_page, agent_id=owner_a.pk,
        filters=selectors.InboxFilters(tab="all"), cursor=first.next_cursor,
    )  # fmt: skip

    seen = [c.pk for c in first.conversations + second.conversations]
    assert seen == [c.pk for c in reversed(older)] and second.next_cursor is None
    more = client_a.get(f"/inbox/list/?tab=all&cursor={first.next_cursor}").content.decode()
    assert more.count('class="conversation-row') == 5


def test_the_list_costs_the_same_queries_at_any_size(client_a, workspace_a, website_a):
    def queries_for_inbox() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_a.get("/inbox/?tab=all").status_code == 200
        return len(captured)

    visitor_writes(workspace_a, website_a, "first")
    small = queries_for_inbox()
    for i in range(40):
        visitor_writes(workspace_a, website_a, f"more {i}", name=f"Visitor {i}")
    assert queries_for_inbox() == small


def test_search_finds_message_text_and_contact_names(client_a, workspace_a, website_a):
    refund = visitor_writes(workspace_a, website_a, "I want a refund for my espresso machine")
    named = visitor_writes(workspace_a, website_a, "hello", name="Zebulon Quartz")
    visitor_writes(workspace_a, website_a, "nothing to see")

    def found(q: str) -> set[int]:
        html = client_a.get("/inbox/list/", {"tab": "all", "q": q}).content.decode()
        return {c.pk for c in (refund, named) if f"conversation-row-{c.pk}" in html}

    assert found("refund espresso") == {refund.pk}
    assert found("zebulon") == {named.pk}
    assert found("nonexistentword") == set()


def test_a_conversation_of_another_workspace_is_404_on_either_host(
    client_a, workspace_a, workspace_b, website_a, owner_a
):
    website_b, _ = run_in_workspace(
        workspace_b.schema_name, services.website_create, workspace=workspace_b, name="B", allowed_origins=""
    )
    b_conversations = [visitor_writes(workspace_b, website_b, f"B secret {i}") for i in range(3)]
    b_id = b_conversations[-1].pk
    assert not in_schema(workspace_a, Conversation.objects.filter(pk=b_id).exists)
    for path in (f"/inbox/c/{b_id}/", f"/inbox/c/{b_id}/messages/?after=0"):
        assert client_a.get(path).status_code == 404
        assert host_client("beta.localhost", owner_a).get(path).status_code == 404
    actions = [
        ("reply", {"body": "leak?"}), ("assign", {"assignee": "me"}), ("status", {"status": "resolved"}),
        ("priority", {"priority": "4"}), ("labels", {"label": "1", "on": "1"}),
    ]  # fmt: skip
    for action, data in actions:
        assert client_a.post(f"/inbox/c/{b_id}/{action}/", data).status_code == 404
        assert (
            host_client("beta.localhost", owner_a).post(f"/inbox/c/{b_id}/{action}/", data).status_code == 404
        )
    assert (
        run_in_workspace(workspace_b.schema_name, Conversation.objects.filter(status="resolved").count) == 0
    )
    assert run_in_workspace(workspace_b.schema_name, Message.objects.filter(body="leak?").count) == 0


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 "
         "Safari/537.36", "Chrome 156 on Linux"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.0 Mobile/15E148 Safari/604.1", "Safari 17 on iOS"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
         "Safari/537.36 Edg/120.0", "Edge 120 on Windows"),
        ("curl/8.1", "curl/8.1"),
    ],
)  # fmt: skip
def test_the_contact_pane_names_the_browser_not_the_whole_user_agent(user_agent, shown):
    from inbox.models import Contact

    assert Contact(user_agent=user_agent).browser == shown


def test_the_contact_pane_lists_the_pages_the_visitor_went_through(client_a, workspace_a, website_a):
    def browse():
        contact, token = services.contact_for_visitor(
            website=website_a, token=None, page_url="https://s.example/a"
        )
        for page in ("https://s.example/b", "https://s.example/a", "https://s.example/checkout"):
            services.contact_for_visitor(website=website_a, token=token, page_url=page)
        message, _ = services.message_from_visitor(contact_id=contact.pk, body="Help with checkout")
        contact.refresh_from_db()
        return contact, message.conversation_id

    contact, conversation_id = in_schema(workspace_a, browse)
    assert contact.recent_pages == [
        "https://s.example/checkout",
        "https://s.example/a",
        "https://s.example/b",
    ]
    pane = client_a.get(f"/inbox/c/{conversation_id}/").content.decode()
    assert "Earlier pages" in pane and pane.index("s.example/a<") < pane.index("s.example/b<")


def test_snooze_until_a_chosen_time(client_a, workspace_a, website_a):
    conversation = visitor_writes(workspace_a, website_a, "Call me Monday")
    monday = (timezone.localtime() + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    response = client_a.post(
        f"/inbox/c/{conversation.pk}/status/",
        {"status": "snoozed", "snooze": monday.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 200
    stored = in_schema(workspace_a, Conversation.objects.get, pk=conversation.pk)
    assert (stored.status, stored.snoozed_until) == ("snoozed", monday)
    past = client_a.post(
        f"/inbox/c/{conversation.pk}/status/", {"status": "snoozed", "snooze": "2020-01-01T09:00"}
    )
    assert past.status_code == 422 and "future" in past.content.decode()


def _active_tab(html: str) -> str:
    (tab,) = re.findall(r'aria-current="page"\s+href="\?tab=(\w+)', html)
    return tab


def _opening_tab(client) -> str:
    """The tab /inbox/ opens on, with no tab in its URL."""
    return _active_tab(client.get("/inbox/").content.decode())


def test_a_team_of_one_opens_on_all(client_a, workspace_a, website_a, owner_a):
    assert _opening_tab(client_a) == "all"
    conversation = visitor_writes(workspace_a, website_a, "Hello?")
    in_schema(
        workspace_a, services.conversation_assign, conversation=conversation, assignee=owner_a, by=owner_a
    )
    assert _opening_tab(client_a) == "all"


def test_a_team_opens_on_the_first_tab_with_something_in_it(
    client_a, workspace_a, website_a, owner_a, owner_b
):
    Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    assert _opening_tab(client_a) == "mine"  # nothing anywhere
    conversation = visitor_writes(workspace_a, website_a, "My first visitor")
    assert _opening_tab(client_a) == "unassigned"  # a new owner's first conversation is not hidden
    in_schema(
        workspace_a, services.conversation_assign, conversation=conversation, assignee=owner_b, by=owner_a
    )
    assert _opening_tab(client_a) == "all"
    in_schema(
        workspace_a, services.conversation_assign, conversation=conversation, assignee=owner_a, by=owner_a
    )
    assert _opening_tab(client_a) == "mine"
    # A tab the URL names is kept, even an empty one.
    assert _active_tab(client_a.get("/inbox/?tab=unassigned").content.decode()) == "unassigned"


def test_choosing_the_opening_tab_costs_no_query(client_a, workspace_a, website_a, owner_b):
    Membership.objects.create(user=owner_b, workspace=workspace_a, role=Membership.Role.AGENT)
    visitor_writes(workspace_a, website_a, "first")

    def queries_for(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_a.get(url).status_code == 200
        return len(captured)

    # The same page as the tab named in the URL, for the same number of queries: the badges' counts decide.
    assert _opening_tab(client_a) == "unassigned"
    assert queries_for("/inbox/") == queries_for("/inbox/?tab=unassigned")
