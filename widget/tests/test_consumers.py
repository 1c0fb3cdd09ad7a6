"""The widget socket over the real Redis channel layer and real PostgreSQL schemas."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from inbox import realtime, services
from inbox.models import Contact, Conversation, Message, Website
from inbox.services import messages as message_services
from inbox.tests.sites import ORIGIN_A, connect_visitor, make_site, widget_socket
from tenants.context import in_workspace, run_in_workspace

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _messages(schema: str) -> list[tuple]:
    return run_in_workspace(
        schema, lambda: list(Message.objects.order_by("id").values_list("author_kind", "body", "contact_id"))
    )


async def _listen(group: str) -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return channel


async def test_visitor_sends_message_it_is_stored_and_reaches_the_agents(site_a):
    agents = await _listen(realtime.agents_group(site_a.schema_name))
    socket, welcome = await connect_visitor(site_a)
    assert welcome["token"] and welcome["messages"] == [] and welcome["config"]["greeting"]
    client_id = str(uuid.uuid4())

    await socket.send_json_to({"type": "message", "client_id": client_id, "body": "  Do you ship to Oslo?  "})

    ack = await socket.receive_json_from(timeout=5)
    assert ack | {"message": None} == {
        "type": "ack",
        "client_id": client_id,
        "id": ack["id"],
        "created": True,
        "message": None,
    }
    # The ack carries the stored message; the sending socket gets no push of it.
    assert ack["message"]["id"] == ack["id"] and ack["message"]["client_id"] == client_id
    assert ack["message"]["body"] == "Do you ship to Oslo?" and ack["message"]["prev_id"] is None
    assert await socket.receive_nothing(timeout=0.3)
    pushed = await asyncio.wait_for(get_channel_layer().receive(agents), 5)
    assert pushed["type"] == "message.created" and pushed["message"]["id"] == ack["id"]
    assert pushed["new_conversation"] is True

    stored = await database_sync_to_async(_messages)(site_a.schema_name)
    assert stored == [("visitor", "Do you ship to Oslo?", welcome["contact_id"])]
    contact = await in_workspace(site_a.schema_name, Contact.objects.get, pk=welcome["contact_id"])
    assert contact.current_url == f"{ORIGIN_A}/pricing" and contact.user_agent == "pytest-visitor/1.0"
    assert contact.token_hash != welcome["token"]  # only the hash is kept
    await socket.disconnect()


async def test_an_agent_reply_reaches_the_visitor_live(site_a, tx_workspaces):
    socket, welcome = await connect_visitor(site_a)
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Hello?"})
    ack = await socket.receive_json_from(timeout=5)

    def reply():
        conversation = Conversation.objects.get(contact_id=welcome["contact_id"])
        return services.message_from_agent(
            conversation=conversation, author=tx_workspaces.owner_a, body="Hi! Yes."
        )

    message = await in_workspace(site_a.schema_name, reply)

    pushed = await socket.receive_json_from(timeout=5)
    assert pushed["type"] == "message"
    assert pushed["message"] | {"created_at": None} == {
        "id": message.pk,
        "prev_id": ack["id"],
        "conversation_id": message.conversation_id,
        "contact_id": welcome["contact_id"],
        "author_kind": "agent",
        "author_name": "Ana Owner",
        "body": "Hi! Yes.",
        "created_at": None,
        "client_id": None,
    }
    await socket.disconnect()


async def test_reconnect_resumes_the_visitor_and_sends_only_what_was_missed(site_a, tx_workspaces):
    socket, welcome = await connect_visitor(site_a)
    ids = []
    for body in ("one", "two"):
        await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": body})
        ids.append((await socket.receive_json_from(timeout=5))["id"])
    await socket.disconnect()

    # While the visitor is away, an agent answers twice.
    def replies():
        conversation = Conversation.objects.get(contact_id=welcome["contact_id"])
        return [
            services.message_from_agent(conversation=conversation, author=tx_workspaces.owner_a, body=b).pk
            for b in ("three", "four")
        ]

    reply_ids = await in_workspace(site_a.schema_name, replies)

    again, resumed = await connect_visitor(site_a, token=welcome["token"], after_id=ids[0])
    assert resumed["contact_id"] == welcome["contact_id"] and resumed["token"] == welcome["token"]
    assert [m["body"] for m in resumed["messages"]] == ["two", "three", "four"]
    assert [m["id"] for m in resumed["messages"]] == [ids[1], *reply_ids]
    # Each carries the id before it, so a client can tell a gap from a quiet line.
    assert [m["prev_id"] for m in resumed["messages"]] == [ids[0], ids[1], reply_ids[0]]
    assert resumed["last_id"] == reply_ids[1] and resumed["has_agent_reply"] is True

    await again.send_json_to({"type": "sync", "after_id": reply_ids[0]})
    assert [m["body"] for m in (await again.receive_json_from(timeout=5))["messages"]] == ["four"]
    await again.disconnect()


async def test_a_resent_client_id_is_stored_once(site_a):
    socket, _ = await connect_visitor(site_a)
    client_id = str(uuid.uuid4())
    await socket.send_json_to({"type": "message", "client_id": client_id, "body": "Only once"})
    first = await socket.receive_json_from(timeout=5)
    await socket.send_json_to({"type": "message", "client_id": client_id, "body": "Only once"})
    second = await socket.receive_json_from(timeout=5)
    assert (second["id"], second["created"]) == (first["id"], False)
    assert second["message"] | {"prev_id": None} == first["message"] | {"prev_id": None}
    assert len(await database_sync_to_async(_messages)(site_a.schema_name)) == 1
    await socket.disconnect()


@pytest.mark.parametrize(
    ("key", "origin", "code"),
    [
        ("valid", "https://evil.example", 4403),
        ("valid", None, 4403),
        ("valid", "https://shop.alpha.example.evil.example", 4403),
        ("valid", "http://shop.alpha.example", 4403),  # scheme is part of the origin
        ("pk_not_a_real_key", ORIGIN_A, 4404),
        (None, ORIGIN_A, 4400),
    ],
)
async def test_refused_connections_are_told_why_and_closed(site_a, key, origin, code):
    socket = widget_socket(site_a.key if key == "valid" else key, origin)
    connected, _ = await socket.connect()
    assert connected
    refused = await socket.receive_json_from(timeout=5)
    assert refused["type"] == "refused" and refused["code"] == code and refused["message"]
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": code}


async def test_a_rotated_site_key_stops_working(site_a):
    old_key = site_a.key
    await in_workspace(site_a.schema_name, services.website_site_key_rotate, website=site_a.website)
    socket = widget_socket(old_key, ORIGIN_A)
    await socket.connect()
    assert (await socket.receive_json_from(timeout=5))["code"] == 4404
    fresh, _ = await connect_visitor(site_a)  # site_a.website now carries the new key
    await fresh.disconnect()


async def test_oversized_and_malformed_frames_get_errors_and_the_socket_stays_open(site_a):
    socket, _ = await connect_visitor(site_a)
    too_long = str(uuid.uuid4())
    await socket.send_json_to({"type": "message", "client_id": too_long, "body": "x" * 5001})
    error = await socket.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "too_long" and error["client_id"] == too_long
    assert "5,000" in error["message"]

    for frame, code in [
        ({"type": "message", "client_id": str(uuid.uuid4()), "body": "   "}, "invalid_message"),
        ({"type": "message", "client_id": "not-a-uuid", "body": "hi"}, "invalid_message"),
        ({"type": "message", "client_id": str(uuid.uuid4()), "body": {"html": 1}}, "invalid_message"),
        ({"type": "launch_missiles"}, "invalid_frame"),
        ({"type": "hello"}, "invalid_frame"),
    ]:
        await socket.send_json_to(frame)
        assert (await socket.receive_json_from(timeout=5))["code"] == code, frame
    await socket.send_to(text_data="{not json")
    assert (await socket.receive_json_from(timeout=5))["code"] == "invalid_frame"

    # Still open: exactly 5,000 characters go through.
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "y" * 5000})
    assert (await socket.receive_json_from(timeout=5))["type"] == "ack"
    assert len(await database_sync_to_async(_messages)(site_a.schema_name)) == 1
    await socket.disconnect()


async def test_frames_before_hello_are_refused(site_a):
    socket = widget_socket(site_a.key, site_a.origin)
    await socket.connect()
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "sneaky"})
    assert (await socket.receive_json_from(timeout=5))["code"] == "not_ready"
    assert await database_sync_to_async(_messages)(site_a.schema_name) == []
    await socket.disconnect()


async def test_message_rate_limit_per_visitor(site_a, settings):
    settings.PARLEY_RATE_VISITOR_MESSAGES = 3
    socket, _ = await connect_visitor(site_a)
    results = []
    for i in range(5):
        await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": f"m{i}"})
        reply = await socket.receive_json_from(timeout=5)
        results.append(reply.get("code", reply["type"]))
    assert results == ["ack", "ack", "ack", "rate_limited", "rate_limited"]
    assert len(await database_sync_to_async(_messages)(site_a.schema_name)) == 3
    await socket.disconnect()


async def test_connection_rate_limit_per_ip(site_a, settings):
    settings.PARLEY_RATE_IP_CONNECTS = 2
    codes = []
    for _ in range(3):
        socket = widget_socket(site_a.key, site_a.origin)
        await socket.connect()
        if codes.count("ok") < 2:
            codes.append("ok")
            await socket.send_json_to({"type": "hello"})
            assert (await socket.receive_json_from(timeout=5))["type"] == "welcome"
        else:
            codes.append((await socket.receive_json_from(timeout=5))["code"])
        await socket.disconnect()
    assert codes == ["ok", "ok", 4429]


async def test_identify_checks_the_hmac_when_the_website_requires_it(tx_workspaces):
    import hashlib
    import hmac

    site = await database_sync_to_async(make_site)(
        tx_workspaces.alpha, ORIGIN_A, identity_verification_required=True
    )
    socket, welcome = await connect_visitor(site)
    good_hash = hmac.new(site.identity_secret.encode(), b"user-42", hashlib.sha256).hexdigest()

    for fields in ({"email": "x@example.com"}, {"user_id": "user-42", "user_hash": "0" * 64},
                   {"user_id": "user-43", "user_hash": good_hash}):  # fmt: skip
        await socket.send_json_to({"type": "identify", **fields})
        assert (await socket.receive_json_from(timeout=5))["code"] == "identity_refused", fields

    await socket.send_json_to(
        {"type": "identify", "user_id": "user-42", "user_hash": good_hash, "email": "kim@example.com",
         "name": "Kim", "attributes": {"plan": "pro", "seats": 12}}
    )  # fmt: skip
    assert await socket.receive_json_from(timeout=5) == {
        "type": "identified",
        "has_email": True,
        "verified": True,
    }
    contact = await in_workspace(site.schema_name, Contact.objects.get, pk=welcome["contact_id"])
    assert (contact.external_id, contact.email, contact.name) == ("user-42", "kim@example.com", "Kim")
    assert contact.custom_attributes == {"plan": "pro", "seats": 12}
    await socket.disconnect()


async def test_identify_without_required_verification_stores_an_unverified_user_id(site_a):
    socket, welcome = await connect_visitor(site_a)
    await socket.send_json_to({"type": "identify", "user_id": "u-1", "email": "not-an-email"})
    assert (await socket.receive_json_from(timeout=5))["code"] == "identity_refused"
    await socket.send_json_to({"type": "identify", "user_id": "u-1", "email": "ok@example.com"})
    assert (await socket.receive_json_from(timeout=5))["verified"] is False
    contact = await in_workspace(site_a.schema_name, Contact.objects.get, pk=welcome["contact_id"])
    assert (contact.external_id, contact.identity_verified) == ("u-1", False)
    await socket.disconnect()


async def test_typing_goes_both_ways(site_a, tx_workspaces):
    agents = await _listen(realtime.agents_group(site_a.schema_name))
    socket, welcome = await connect_visitor(site_a)
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "hi"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "ack"
    pushed = await asyncio.wait_for(get_channel_layer().receive(agents), 5)  # the message itself
    watching = await _listen(
        realtime.conversation_group(site_a.schema_name, pushed["message"]["conversation_id"])
    )

    await socket.send_json_to({"type": "typing", "is_typing": True})
    typing = await asyncio.wait_for(get_channel_layer().receive(watching), 5)
    with pytest.raises(TimeoutError):  # not every agent: only inboxes showing the conversation
        await asyncio.wait_for(get_channel_layer().receive(agents), 0.3)
    assert typing["type"] == "typing" and typing["who"] == "visitor"
    assert (typing["contact_id"], typing["is_typing"]) == (welcome["contact_id"], True)

    await get_channel_layer().group_send(
        realtime.contact_group(site_a.schema_name, welcome["contact_id"]),
        {"type": "typing", "who": "agent", "name": "Ana", "is_typing": True},
    )
    assert await socket.receive_json_from(timeout=5) == {"type": "typing", "is_typing": True, "name": "Ana"}
    await socket.disconnect()


async def test_an_idle_socket_still_gets_pushes_after_the_redis_read_timeout(site_a, tx_workspaces):
    # channels-redis waits 5 s per blocking read; redis-py 8's default socket timeout is also 5 s.
    # Unless the settings raise it, the consumer dies after 5 quiet seconds (issue redis-py#4091).
    socket, welcome = await connect_visitor(site_a)
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "hi"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "ack"
    assert await socket.receive_nothing(timeout=6.5)  # quiet for longer than 5 s

    def reply():
        conversation = Conversation.objects.get(contact_id=welcome["contact_id"])
        return services.message_from_agent(
            conversation=conversation, author=tx_workspaces.owner_a, body="Still here"
        )

    await in_workspace(site_a.schema_name, reply)
    pushed = await socket.receive_json_from(timeout=5)
    assert pushed["message"]["body"] == "Still here"
    await socket.disconnect()


async def test_the_visitors_other_tabs_get_the_message_the_sending_tab_gets_it_in_its_ack(site_a):
    sender, welcome = await connect_visitor(site_a)
    other_tab, _ = await connect_visitor(site_a, token=welcome["token"])
    client_id = str(uuid.uuid4())

    await sender.send_json_to({"type": "message", "client_id": client_id, "body": "From tab one"})

    ack = await sender.receive_json_from(timeout=5)
    pushed = await other_tab.receive_json_from(timeout=5)
    assert pushed == {"type": "message", "message": ack["message"]}
    assert await sender.receive_nothing(timeout=0.3)
    await sender.disconnect()
    await other_tab.disconnect()


async def test_concurrent_messages_of_one_visitor_share_one_conversation_and_chain_their_ids(site_a):
    _, welcome = await connect_visitor(site_a)
    sends = [
        services.message_from_visitor_on_loop(
            schema_name=site_a.schema_name, contact_id=welcome["contact_id"], body=f"tab {i}"
        )
        for i in range(12)
    ]
    written = await asyncio.gather(*sends)  # on as many pooled connections as the pool gives

    conversations = {w.message.conversation_id for w in written}
    assert len(conversations) == 1 and sum(w.new_conversation for w in written) == 1
    # The contact lock orders them: each one's prev_id is the message committed just before it.
    chain = sorted((w.payload["id"], w.payload["prev_id"]) for w in written)
    assert [prev for _, prev in chain] == [None] + [message_id for message_id, _ in chain[:-1]]
    assert len(await database_sync_to_async(_messages)(site_a.schema_name)) == 12
    # Written together in the order they came, a visitor's messages keep it.
    assert [w.message.body for w in sorted(written, key=lambda w: w.message.pk)] == [
        f"tab {i}" for i in range(12)
    ]


def _visitors(count: int) -> list[int]:
    website = Website.objects.get()
    return [services.contact_for_visitor(website=website, token=None)[0].pk for _ in range(count)]


def _transactions_of(message_ids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT xmin::text) FROM inbox_message WHERE id = ANY(%s)", [message_ids]
        )
        return cursor.fetchone()[0]


async def test_messages_that_arrive_together_are_committed_together(site_a):
    # 40 visitors write 3 messages each at the same moment: a few transactions (one WAL flush each)
    # hold them all, not one each queueing for a pool connection; each visitor's chain is intact.
    contact_ids = await in_workspace(site_a.schema_name, _visitors, 40)
    sends = [
        services.message_from_visitor_on_loop(
            schema_name=site_a.schema_name, contact_id=contact_id, body=f"{n}"
        )
        for n in range(3)
        for contact_id in contact_ids
    ]
    written = await asyncio.gather(*sends)

    assert all(w.created for w in written) and len({w.message.pk for w in written}) == 120
    for contact_id in contact_ids:
        mine = sorted((w for w in written if w.message.contact_id == contact_id), key=lambda w: w.message.pk)
        assert [w.message.body for w in mine] == ["0", "1", "2"]
        assert [w.payload["prev_id"] for w in mine] == [
            None,
            mine[0].message.pk,
            mine[1].message.pk,
        ]
    transactions = await in_workspace(site_a.schema_name, _transactions_of, [w.message.pk for w in written])
    assert transactions <= 3


@pytest.fixture
def activity_upserts():
    """How many statements have added to the activity counters since the test began: a statement
    trigger counts them (committed rows, so it is dropped again after)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE public.test_activity_upserts (at timestamptz DEFAULT clock_timestamp());
            CREATE FUNCTION public.test_activity_upsert_counted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO public.test_activity_upserts DEFAULT VALUES; RETURN NULL; END $$;
            CREATE TRIGGER test_activity_upserts AFTER INSERT ON public.tenants_workspaceactivity
            FOR EACH STATEMENT EXECUTE FUNCTION public.test_activity_upsert_counted();
            """
        )

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM public.test_activity_upserts")
            return cursor.fetchone()[0]

    yield count
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER test_activity_upserts ON public.tenants_workspaceactivity;"
            "DROP FUNCTION public.test_activity_upsert_counted(); DROP TABLE public.test_activity_upserts;"
        )


def _counted(workspace_id: int) -> tuple[int, int]:
    from django.db.models import Sum

    from tenants.models import WorkspaceActivity

    found = WorkspaceActivity.objects.filter(workspace_id=workspace_id).aggregate(
        conversations=Sum("conversations"), messages=Sum("messages")
    )
    return found["conversations"] or 0, found["messages"] or 0


async def test_a_batch_of_visitor_messages_adds_to_the_activity_counters_in_one_upsert(
    site_a, tx_workspaces, activity_upserts
):
    # Through the socket: one message, one conversation started, one upsert.
    socket, _ = await connect_visitor(site_a)
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "Hello"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "ack"
    await socket.disconnect()
    alpha = tx_workspaces.alpha.pk
    assert await database_sync_to_async(_counted)(alpha) == (1, 1)
    assert await database_sync_to_async(activity_upserts)() == 1

    # 30 visitors write 3 messages each at once, and one of them sends its first again: the batches
    # count what they wrote (90 messages, 30 conversations, no resend), each in its one statement.
    contact_ids = await in_workspace(site_a.schema_name, _visitors, 30)
    resent = uuid.uuid4()
    sends = [
        services.message_from_visitor_on_loop(
            schema_name=site_a.schema_name,
            contact_id=contact_id,
            body=f"{n}",
            client_id=resent if (n, contact_id) in ((0, contact_ids[0]), (3, contact_ids[0])) else None,
        )
        for n in range(4)
        for contact_id in contact_ids
        if n < 3 or contact_id == contact_ids[0]
    ]
    written = await asyncio.gather(*sends)
    assert sum(w.created for w in written) == 90
    assert await database_sync_to_async(_counted)(alpha) == (31, 91)
    batches = await in_workspace(
        site_a.schema_name, _transactions_of, [w.message.pk for w in written if w.created]
    )
    assert await database_sync_to_async(activity_upserts)() == 1 + batches
    assert await database_sync_to_async(_counted)(tx_workspaces.beta.pk) == (0, 0)


async def test_a_message_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(site_a):
    contact_ids = await in_workspace(site_a.schema_name, _visitors, 6)
    writes = message_services._VisitorWrites.of(site_a.schema_name)

    def params(contact_id, body):
        return {"contact_id": contact_id, "body": body, "client_id": None, "now": timezone.now()}

    # PostgreSQL refuses a NUL character (message_body_clean refuses it first; this goes around it).
    results = await asyncio.gather(
        *[writes.write(params(contact_id, "fine")) for contact_id in contact_ids[:5]],
        writes.write(params(contact_ids[5], "bad\x00")),
        return_exceptions=True,
    )
    assert all(isinstance(row, tuple) and row[1] for row in results[:5])
    assert isinstance(results[5], Exception)
    stored = await database_sync_to_async(_messages)(site_a.schema_name)
    assert sorted(contact_id for _, _, contact_id in stored) == sorted(contact_ids[:5])


@pytest.mark.parametrize("body", ["nul \x00 inside", "lone surrogate \ud800"])
async def test_a_body_postgresql_cannot_store_is_refused_clearly_and_the_socket_stays(site_a, body):
    socket, _ = await connect_visitor(site_a)
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": body})
    refused = await socket.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["code"] == "invalid_message"
    await socket.send_json_to({"type": "message", "client_id": str(uuid.uuid4()), "body": "and now?"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "ack"
    await socket.disconnect()
