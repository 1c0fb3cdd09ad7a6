"""The widget's HTTP fallback through the full ASGI stack: CORS, the same checks as the socket, long-poll."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from channels.testing import HttpCommunicator
from django.conf import settings

from config.asgi import application
from inbox import services
from inbox.models import Conversation
from inbox.redis_clients import sync_client
from inbox.tests.sites import ORIGIN_A, ORIGIN_B
from tenants.context import in_workspace
from tests.polling import eventually_async

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


class Response:
    def __init__(self, raw: dict) -> None:
        self.status_code = raw["status"]
        self.headers = {k.decode().lower(): v.decode() for k, v in raw["headers"]}
        self.content = raw["body"]

    def json(self) -> dict:
        return json.loads(self.content)

    def __getitem__(self, header: str) -> str:
        return self.headers[header.lower()]

    def __contains__(self, header: str) -> bool:
        return header.lower() in self.headers


class _Client:
    """Requests through the whole ASGI application (the router in config/asgi.py included)."""

    def __init__(self, origin: str | None, token: str | None) -> None:
        self.headers = [(b"host", b"localhost")]
        if origin:
            self.headers.append((b"origin", origin.encode()))
        if token:
            self.headers.append((b"x-parley-visitor", token.encode()))

    async def request(self, method: str, path: str, body: bytes = b"", timeout: float = 30) -> Response:
        communicator = HttpCommunicator(application, method, path, body=body, headers=self.headers)
        return Response(await communicator.get_response(timeout=timeout))

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def options(self, path: str) -> Response:
        return await self.request("OPTIONS", path)

    async def post(self, path: str, body: str | bytes, content_type: str = "application/json") -> Response:
        return await self.request("POST", path, body.encode() if isinstance(body, str) else body)


def _client(origin: str | None = ORIGIN_A, token: str | None = None) -> _Client:
    return _Client(origin, token)


async def _post(client: _Client, path: str, site, payload: dict) -> Response:
    return await client.post(f"{path}?site={site.key}", json.dumps(payload))


async def _hello(site, origin=ORIGIN_A) -> dict:
    response = await _post(_client(origin), "/widget/api/hello", site, {"page_url": f"{origin}/"})
    assert response.status_code == 200, response.content
    return response.json()


async def test_preflight_answers_allowed_origins_only(site_a):
    allowed = await _client().options(f"/widget/api/messages?site={site_a.key}")
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN_A
    assert "X-Parley-Visitor" in allowed["Access-Control-Allow-Headers"]

    foreign = await _client("https://evil.example").options(f"/widget/api/messages?site={site_a.key}")
    assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign


async def test_hello_send_and_poll(site_a):
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])
    client_id = str(uuid.uuid4())
    ack = await _post(client, "/widget/api/messages", site_a, {"client_id": client_id, "body": "Over HTTP"})
    assert ack.status_code == 200 and ack["Access-Control-Allow-Origin"] == ORIGIN_A
    assert ack.json() | {"id": 0, "message": None} == {
        "type": "ack",
        "client_id": client_id,
        "id": 0,
        "created": True,
        "message": None,
    }
    assert ack.json()["message"]["body"] == "Over HTTP" and ack.json()["message"]["id"] == ack.json()["id"]

    again = await _post(client, "/widget/api/messages", site_a, {"client_id": client_id, "body": "Over HTTP"})
    assert again.json()["id"] == ack.json()["id"] and again.json()["created"] is False

    polled = await client.get(f"/widget/api/poll?site={site_a.key}&after=0")
    assert [m["body"] for m in polled.json()["messages"]] == ["Over HTTP"]


async def test_a_waiting_poll_returns_as_soon_as_an_agent_replies(site_a, tx_workspaces):
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])
    ack = await _post(
        client, "/widget/api/messages", site_a, {"client_id": str(uuid.uuid4()), "body": "Anyone?"}
    )
    last_id = ack.json()["id"]

    def reply():
        conversation = Conversation.objects.get(contact_id=welcome["contact_id"])
        services.message_from_agent(
            conversation=conversation, author=tx_workspaces.owner_a, body="Right here."
        )

    async def reply_later():
        await asyncio.sleep(0.5)
        await in_workspace(site_a.schema_name, reply)

    started = time.monotonic()
    polled, _ = await asyncio.gather(
        client.get(f"/widget/api/poll?site={site_a.key}&after={last_id}"), reply_later()
    )
    waited = time.monotonic() - started
    assert [m["body"] for m in polled.json()["messages"]] == ["Right here."]
    assert 0.4 < waited < 10  # woken by the push, not by the 25 s timeout


async def test_an_idle_poll_ends_empty(site_a):
    welcome = await _hello(site_a)
    polled = await _client(token=welcome["token"]).get(f"/widget/api/poll?site={site_a.key}&after=0&wait=0.2")
    assert polled.status_code == 200 and polled.json()["messages"] == []


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"client_id": "c0a8f4e2-1111-4c3b-9e0e-7b6d4a1f2e3d", "body": "x" * 5001}, 400, "too_long"),
        ({"client_id": "not-a-uuid", "body": "hi"}, 400, "invalid_message"),
        ({"client_id": "c0a8f4e2-2222-4c3b-9e0e-7b6d4a1f2e3d", "body": ""}, 400, "invalid_message"),
    ],
)
async def test_bad_messages_are_refused_with_a_clear_error(site_a, payload, status, code):
    welcome = await _hello(site_a)
    response = await _post(_client(token=welcome["token"]), "/widget/api/messages", site_a, payload)
    assert response.status_code == status and response.json()["code"] == code
    assert response.json()["client_id"] == payload["client_id"]


async def test_malformed_and_wrong_method_requests(site_a):
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])
    bad_json = await client.post(f"/widget/api/messages?site={site_a.key}", "{oops")
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "invalid_frame"
    wrong_method = await client.get(f"/widget/api/messages?site={site_a.key}")
    assert wrong_method.status_code == 405
    huge = await client.post(f"/widget/api/messages?site={site_a.key}", "x" * 70_000)
    assert huge.status_code == 413


async def test_wrong_key_foreign_origin_and_unknown_visitor(site_a, site_b):
    assert (await _post(_client(), "/widget/api/hello", site_a, {})).status_code == 200
    for client, site, status in [
        (_client("https://evil.example"), site_a, 403),
        (_client(None), site_a, 403),
        (_client(ORIGIN_B), site_a, 403),  # B's origin is not A's
    ]:
        assert (await _post(client, "/widget/api/hello", site, {})).status_code == status
    no_key = await _client().post("/widget/api/hello", "{}")
    assert no_key.status_code == 400
    unknown_key = await _client().post("/widget/api/hello?site=pk_nope", "{}")
    assert unknown_key.status_code == 404
    unknown_action = await _client().post(f"/widget/api/launch?site={site_a.key}", "{}")
    assert unknown_action.status_code == 404

    # B's visitor token presented with A's key is just unknown.
    welcome_b = await _hello(site_b, origin=ORIGIN_B)
    stolen = await _post(
        _client(token=welcome_b["token"]),
        "/widget/api/messages",
        site_a,
        {"client_id": str(uuid.uuid4()), "body": "x"},
    )
    assert stolen.status_code == 401 and stolen.json()["code"] == "unknown_visitor"
    poll = await _client(token=welcome_b["token"]).get(f"/widget/api/poll?site={site_a.key}&after=0&wait=0")
    assert poll.status_code == 401


async def test_http_messages_are_rate_limited(site_a, settings):
    settings.PARLEY_RATE_VISITOR_MESSAGES = 2
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])
    statuses = [
        (
            await _post(
                client, "/widget/api/messages", site_a, {"client_id": str(uuid.uuid4()), "body": f"{i}"}
            )
        ).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


async def test_a_waiting_poll_does_not_hold_up_other_requests(site_a):
    welcome = await _hello(site_a)
    waiting = asyncio.ensure_future(
        _client(token=welcome["token"]).get(f"/widget/api/poll?site={site_a.key}&after=0&wait=3")
    )
    await asyncio.sleep(0.3)
    started = time.monotonic()
    page = await _Client(None, None).get("/")  # a Django page on the public host, meanwhile
    assert page.status_code == 200 and b"Create your workspace" in page.content
    assert time.monotonic() - started < 2
    assert not waiting.done()
    assert (await waiting).json()["messages"] == []


@pytest.fixture
def poll_slots():
    """How many long-poll slots a visitor (or an address) holds in Redis; none at the start, since
    contact ids restart at 1 in every test and a slot a failed earlier run left would lapse only later."""
    redis = sync_client()
    prefix = f"{settings.REDIS_KEY_PREFIX}:polls:"
    for key in redis.scan_iter(f"{prefix}*"):
        redis.delete(key)
    return lambda suffix: redis.zcard(f"{prefix}{suffix}")


async def test_a_visitor_may_hold_only_a_few_polls_at_once(site_a, settings, poll_slots):
    settings.PARLEY_POLLS_PER_VISITOR = 2
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])
    poll = f"/widget/api/poll?site={site_a.key}&after=0"
    # They wait 4 s: time enough for what follows, even on a busy machine.
    waiting = [asyncio.ensure_future(client.get(f"{poll}&wait=4")) for _ in range(2)]
    visitor_slots = f"visitor:{site_a.schema_name}:{welcome['contact_id']}"
    await eventually_async(lambda: poll_slots(visitor_slots) == 2)

    started = time.monotonic()
    third = await client.get(f"{poll}&wait=20")
    assert time.monotonic() - started < 2  # refused at once, not after waiting
    assert third.status_code == 429 and third["Access-Control-Allow-Origin"] == ORIGIN_A
    assert third.json()["code"] == "too_many_polls"
    assert "this visitor (at most 2 at once)" in third.json()["message"]
    assert not any(task.done() for task in waiting)

    # Another visitor on the same address is not held up by this one.
    other = await _client(token=(await _hello(site_a))["token"]).get(f"{poll}&wait=0")
    assert other.status_code == 200

    # Polls that end give their slots back (one cut off mid-wait does too: test_rate_limits.py).
    assert [answer.status_code for answer in await asyncio.gather(*waiting)] == [200, 200]
    assert poll_slots(visitor_slots) == 0
    assert (await client.get(f"{poll}&wait=0")).status_code == 200


async def test_a_well_behaved_client_polling_one_after_another_is_never_refused(site_a, settings, poll_slots):
    settings.PARLEY_POLLS_PER_VISITOR = 1
    welcome = await _hello(site_a)
    client = _client(token=welcome["token"])
    poll = f"/widget/api/poll?site={site_a.key}&after=0&wait=0.05"
    statuses = [(await client.get(poll)).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert poll_slots(f"visitor:{site_a.schema_name}:{welcome['contact_id']}") == 0


async def test_an_address_may_hold_only_so_many_polls_at_once(site_a, settings, poll_slots):
    settings.PARLEY_POLLS_PER_IP = 2
    poll = f"/widget/api/poll?site={site_a.key}&after=0"
    visitors = [_client(token=(await _hello(site_a))["token"]) for _ in range(3)]
    waiting = [asyncio.ensure_future(visitor.get(f"{poll}&wait=4")) for visitor in visitors[:2]]
    await eventually_async(lambda: poll_slots("ip:unknown") == 2)  # the test client sends no client address

    refused = await visitors[2].get(f"{poll}&wait=0")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_polls"
    assert "this address (at most 2 at once)" in refused.json()["message"]
    assert [answer.status_code for answer in await asyncio.gather(*waiting)] == [200, 200]
    assert poll_slots("ip:unknown") == 0
    assert (await visitors[2].get(f"{poll}&wait=0")).status_code == 200
