"""The inbox's settings pages (inbox/settings_views.py): labels, canned responses and automatic
assignment, managed there and used in the inbox."""

from __future__ import annotations

from inbox import selectors
from inbox.models import Message
from inbox.tests.sites import in_schema, visitor_writes


def test_labels_are_managed_in_settings_and_put_on_conversations(client_a, workspace_a, website_a):
    assert (
        client_a.post("/settings/inbox/labels/", {"name": "Billing", "color": "#22C55E"}).status_code == 302
    )
    duplicate = client_a.post("/settings/inbox/labels/", {"name": "billing", "color": "#22c55e"}, follow=True)
    assert "already a label" in duplicate.content.decode()
    bad = client_a.post("/settings/inbox/labels/", {"name": "Bug", "color": "red"}, follow=True)
    assert "Pick a colour" in bad.content.decode()
    label = in_schema(workspace_a, lambda: list(selectors.labels_of_workspace()))
    assert [(lb.name, lb.color) for lb in label] == [("Billing", "#22c55e")]

    tagged = visitor_writes(workspace_a, website_a, "My invoice is wrong")
    visitor_writes(workspace_a, website_a, "Unrelated")
    response = client_a.post(f"/inbox/c/{tagged.pk}/labels/", {"label": str(label[0].pk), "on": "1"})
    assert response.status_code == 200 and "label-chip" in response.content.decode()
    assert client_a.post(f"/inbox/c/{tagged.pk}/labels/", {"label": "999999", "on": "1"}).status_code == 422

    listed = client_a.get("/inbox/list/", {"tab": "all", "label": label[0].pk}).content.decode()
    assert listed.count('id="conversation-row-') == 1 and f"conversation-row-{tagged.pk}" in listed
    client_a.post(f"/inbox/c/{tagged.pk}/labels/", {"label": str(label[0].pk), "on": "0"})
    events = in_schema(
        workspace_a,
        lambda: list(
            Message.objects.filter(author_kind="system").order_by("id").values_list("body", flat=True)
        ),
    )
    assert events == ["Ana Owner added the label Billing", "Ana Owner removed the label Billing"]


def test_canned_responses_are_managed_in_settings_and_offered_to_the_composer(client_a):
    assert (
        client_a.post(
            "/settings/inbox/canned/", {"shortcut": "/Refund", "body": "Refunds take 5 days."}
        ).status_code
        == 302
    )
    bad = client_a.post("/settings/inbox/canned/", {"shortcut": "no spaces", "body": "x"}, follow=True)
    assert "A shortcut is letters" in bad.content.decode()
    empty = client_a.post("/settings/inbox/canned/", {"shortcut": "empty", "body": "  "}, follow=True)
    assert "cannot be empty" in empty.content.decode()
    assert client_a.get("/inbox/canned.json").json() == {
        "canned": [{"shortcut": "refund", "body": "Refunds take 5 days."}]
    }


def test_auto_assignment_is_switched_on_in_settings(client_a, workspace_a):
    from inbox.models import InboxSettings

    client_a.post("/settings/inbox/assignment/", {"auto_assign": "on", "auto_assign_limit": "4"})
    current = in_schema(workspace_a, InboxSettings.current)
    assert (current.auto_assign, current.auto_assign_limit) == (True, 4)
    page = client_a.post("/settings/inbox/assignment/", {"auto_assign_limit": "zero"}, follow=True)
    assert "The limit is a number" in page.content.decode()
    assert in_schema(workspace_a, InboxSettings.current).auto_assign is True
