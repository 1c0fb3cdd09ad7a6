"""Odd numbers and dates at every edge of the inbox: a clear 400, a JSON error or an error frame, never a
500 or a dropped socket. First the cases found by hand, then hypothesis over the same inputs."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inbox import services
from inbox.models import Conversation, Label
from inbox.tests.sites import connect_visitor
from inbox.tests.test_agent_consumer import _open_inbox
from tenants.context import run_in_workspace
from widget.tests.test_http_fallback import _client

# Deterministic, and a few seconds each: these run with the suite on every `make test`.
FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values that broke, or nearly broke, a parser: digits int() refuses or takes, bigint bounds,
# what float() and date.fromisoformat() take that a request should not carry.
ODD = [
    "²", "٣", "¹²", " 7", "1_000", "+1", "-1", "0", "1.5", "1e3", "1e999", "nan", "inf", "-inf", "0x1f",
    "9223372036854775807", "9223372036854775808", "9" * 30, "9" * 5000, "9999-12-31", "0001-01-01",
    "2026-02-30", "20261125", "2026-11-25T09:30+02:00", "9999-12-31T23:59", "\x00", "me", "[]",
]  # fmt: skip
odd_text = st.one_of(st.sampled_from(ODD), st.text(max_size=12))
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(ODD) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@pytest.fixture
def conversation(workspace_a, website_a) -> Conversation:
    def write():
        contact, _ = services.contact_for_visitor(website=website_a, token=None)
        message, _ = services.message_from_visitor(contact_id=contact.pk, body="Hello")
        Label.objects.create(name="vip", color="#aa0000")
        return Conversation.objects.get(pk=message.conversation_id)

    return run_in_workspace(workspace_a.schema_name, write)


# --- Pages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "data"),
    [("get", "/inbox/list/", {"open": "²"}), ("get", "/inbox/list/", {"website": "٣"}),
     ("get", "/inbox/list/", {"label": "9223372036854775808"}), ("get", "/inbox/", {"assignee": "1e3"}),
     ("get", "/inbox/c/{id}/messages/", {"after": "²"}), ("post", "/inbox/c/{id}/assign/", {"assignee": "²"}),
     ("post", "/inbox/c/{id}/labels/", {"label": "²"})],
)  # fmt: skip
def test_a_number_that_is_not_one_is_a_clear_400(client_a, conversation, method, path, data):
    response = getattr(client_a, method)(path.format(id=conversation.pk), data)
    assert response.status_code == 400
    # A page says it on a page of ours; an htmx swap gets the sentence alone.
    page = response.content.decode()
    assert "This address cannot be read" in page and "must be" in page
    swap = getattr(client_a, method)(path.format(id=conversation.pk), data, HTTP_HX_REQUEST="true")
    assert swap.status_code == 400
    assert swap["Content-Type"].startswith("text/plain") and "must be" in swap.content.decode()


@pytest.mark.django_db
def test_absent_numbers_keep_their_defaults(client_a, conversation):
    assert client_a.get("/inbox/list/", {"open": "", "website": ""}).status_code == 200
    assert client_a.get(f"/inbox/c/{conversation.pk}/messages/").status_code == 200
    assert client_a.post(f"/inbox/c/{conversation.pk}/assign/", {"assignee": ""}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("priority", ["²", "٣", "", "5", "-1", "9" * 30])
def test_an_odd_priority_or_snooze_keeps_its_form_error(client_a, conversation, priority):
    answer = client_a.post(f"/inbox/c/{conversation.pk}/priority/", {"priority": priority})
    assert answer.status_code == 422 and answer.content == b"Unknown priority."
    snooze = client_a.post(
        f"/inbox/c/{conversation.pk}/status/", {"status": "snoozed", "snooze": priority or "9999-12-31T23:59"}
    )
    assert snooze.status_code == 422 and b"Choose when" in snooze.content


@pytest.mark.django_db
@pytest.mark.parametrize("end", ["9999-12-31", "0001-01-01"])
def test_reports_at_the_ends_of_the_calendar_explain_instead_of_overflowing(client_a, end):
    for query in ({"end": end}, {"start": end}, {"end": end, "format": "csv"}):
        response = client_a.get("/reports/", query)
        assert response.status_code == 200
    page = client_a.get("/reports/", {"end": end}).content.decode()
    assert "dates are from 2000-01-01 to 2999-12-31" in page


@pytest.mark.django_db
@FUZZ
@given(value=odd_text, other=odd_text)
def test_fuzz_pages_never_answer_500(client_a, conversation, value, other):
    """The test client raises what a view raised: a 500 fails here with its traceback."""
    thread = f"/inbox/c/{conversation.pk}"
    answers = [
        client_a.get("/inbox/list/", {"open": value, "website": other, "assignee": value, "label": other,
                                      "cursor": value, "tab": other, "status": value}),
        client_a.get("/inbox/", {"website": value, "q": other}),
        client_a.get(f"{thread}/messages/", {"after": value}),
        client_a.post(f"{thread}/assign/", {"assignee": value}),
        client_a.post(f"{thread}/labels/", {"label": value, "on": other}),
        client_a.post(f"{thread}/priority/", {"priority": value}),
        client_a.post(f"{thread}/status/", {"status": "snoozed", "snooze": value}),
        client_a.get("/reports/", {"start": value, "end": other}),
        client_a.get("/reports/", {"end": value, "format": "csv"}),
        client_a.post("/settings/inbox/assignment/", {"auto_assign_limit": value}),
    ]  # fmt: skip
    assert [a.status_code for a in answers if a.status_code >= 500] == []


# --- The widget socket


async def _still_answers(socket) -> None:
    """A sync always answers: proof that the socket is open and its consumer alive."""
    await socket.send_json_to({"type": "sync", "after_id": 0})
    while (await socket.receive_json_from(timeout=5))["type"] != "messages":
        pass


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "frame",
    [{"type": ["x"]}, {"type": {"a": 1}}, {"type": "sync", "after_id": "²"},
     {"type": "sync", "after_id": 1e300}, {"type": "sync", "after_id": True},
     {"type": "sync", "after_id": 2**63}, {"type": "sync", "after_id": -1}],
)  # fmt: skip
async def test_odd_widget_frames_get_an_error_frame_and_the_socket_stays(site_a, frame):
    socket, _ = await connect_visitor(site_a)
    await socket.send_json_to(frame)
    answer = await socket.receive_json_from(timeout=5)
    assert answer["type"] == "error" and answer["code"] == "invalid_frame"
    await _still_answers(socket)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_infinity_in_a_frame_gets_an_error_frame(site_a):
    socket, _ = await connect_visitor(site_a)
    await socket.send_to(text_data='{"type": "sync", "after_id": Infinity}')  # json.loads takes it
    answer = await socket.receive_json_from(timeout=5)
    assert answer["type"] == "error" and "after_id" in answer["message"]
    await _still_answers(socket)
    await socket.disconnect()


FRAME_FIELDS = ("after_id", "token", "page_url", "body", "client_id", "is_typing", "email", "name", "user_id",
                "user_hash", "attributes")  # fmt: skip
widget_frame = st.fixed_dictionaries(
    {"type": st.sampled_from(["hello", "message", "sync", "typing", "identify", "nope"]) | json_value},
    optional=dict.fromkeys(FRAME_FIELDS, json_value),
)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@FUZZ
@given(frames=st.lists(st.one_of(widget_frame, json_value), min_size=1, max_size=4))
async def test_fuzz_widget_frames_never_drop_the_socket(site_a, frames, settings):
    settings.PARLEY_RATE_IP_CONNECTS = settings.PARLEY_RATE_VISITOR_MESSAGES = 100_000
    socket, _ = await connect_visitor(site_a)
    for frame in frames:
        await socket.send_to(text_data=json.dumps(frame))
        await _still_answers(socket)
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_odd_inbox_frames_get_an_error_frame_and_the_socket_stays(tx_workspaces):
    inbox = await _open_inbox(tx_workspaces.owner_a)
    for frame in (
        {"type": ["view"]},
        {"type": "view", "filters": ["tab", "all"]},
        {"type": "view", "filters": {"website": "²"}},
        {"type": "view", "conversation_id": "²"},
        {"type": "view", "conversation_id": 2**63},
        {"type": "typing", "conversation_id": True},
    ):
        await inbox.send_json_to(frame)
        while (answer := await inbox.receive_json_from(timeout=5))["type"] == "presence":
            pass
        assert answer["type"] == "error" and answer["code"] == "invalid_frame", frame
    await inbox.send_json_to({"type": "view", "filters": {"tab": "all"}, "conversation_id": None})
    await inbox.send_json_to({"type": "nope"})
    while (answer := await inbox.receive_json_from(timeout=5))["type"] == "presence":
        pass
    assert answer["message"] == "Unknown frame type."  # the one answer: the good view frame was taken
    await inbox.disconnect()


# --- The widget's HTTP fallback


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_odd_numbers_over_http_are_a_json_400(site_a):
    welcome = await _client().post(f"/widget/api/hello?site={site_a.key}", "{}")
    client = _client(token=welcome.json()["token"])
    odd = ("after=%C2%B2", "after=-1", "after=9223372036854775808", "wait=nan", "wait=1e999", "wait=99")
    for query in odd:
        answer = await client.get(f"/widget/api/poll?site={site_a.key}&{query}")
        assert answer.status_code == 400 and answer.json()["code"] == "invalid_request"
    hello = await client.post(f"/widget/api/hello?site={site_a.key}", json.dumps({"after_id": "²"}))
    assert hello.status_code == 400 and "after_id" in hello.json()["message"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@FUZZ
@given(after=odd_text, wait=odd_text, body=st.dictionaries(st.text(max_size=10), json_value, max_size=5))
async def test_fuzz_widget_http_never_answers_500(site_a, after, wait, body, settings):
    settings.PARLEY_RATE_IP_CONNECTS = settings.PARLEY_RATE_VISITOR_MESSAGES = 100_000
    site = f"site={site_a.key}"
    hello = await _client().post(f"/widget/api/hello?{site}", json.dumps(body))
    token = (await _client().post(f"/widget/api/hello?{site}", "{}")).json()["token"]
    client = _client(token=token)
    # With a message of the visitor's, a poll after 0 answers at once, whatever wait it asks for.
    first = {"client_id": str(uuid.uuid4()), "body": "Hi"}
    sent = await client.post(f"/widget/api/messages?{site}", json.dumps(first))
    answers = [
        hello,
        sent,
        await client.get(f"/widget/api/poll?{site}&after={quote(after)}&wait=0"),
        await client.get(f"/widget/api/poll?{site}&after=0&wait={quote(wait)}"),
        await client.post(f"/widget/api/messages?{site}", json.dumps(first | {"client_id": None} | body)),
        await client.post(f"/widget/api/identify?{site}", json.dumps(body)),
    ]
    for answer in answers:
        assert answer.status_code < 500, answer.content
        assert answer.json()["type"]
