"""A busy socket stays open: the client's answer to the server's keepalive ping is read even while
frames wait to be handled.

uvicorn stops reading a socket while a frame it passed on waits to be taken. A consumer that took
the next frame only after handling the last left the pong unread behind the backlog, and the server
dropped the socket ("keepalive ping timeout"): under overload, every socket at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection
from psycopg import sql
from websockets.asyncio.client import connect

from tests.e2e.conftest import running_server

pytestmark = pytest.mark.django_db(transaction=True)

PING = ("--ws-ping-interval", "0.2", "--ws-ping-timeout", "0.4")
HELD_FOR = 3.0  # seconds the visitor's writes wait: many ping intervals and timeouts


def _hold_contact_row(schema: str, contact_id: int, held: threading.Event, release: threading.Event) -> None:
    """Another session locks the visitor's contact row, as a long transaction would: every message
    the visitor sends waits for it."""
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        row = sql.SQL("SELECT 1 FROM {}.inbox_contact WHERE id = %s FOR UPDATE").format(
            sql.Identifier(schema)
        )
        other.execute(row, [contact_id])
        held.set()
        release.wait(30)
        other.rollback()


def test_a_socket_whose_frames_wait_still_answers_keepalive_pings(site, host_page_server, tx_workspaces):
    schema = tx_workspaces.alpha.schema_name

    async def visit(url: str) -> tuple[list[dict], object]:
        async with connect(url, origin=host_page_server.origin, ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "hello"}))
            welcome = json.loads(await ws.recv())
            assert welcome["type"] == "welcome", welcome
            held, release = threading.Event(), threading.Event()
            holder = threading.Thread(
                target=_hold_contact_row, args=(schema, welcome["contact_id"], held, release)
            )
            holder.start()
            try:
                assert await asyncio.to_thread(held.wait, 10)
                ids = [str(uuid.uuid4()) for _ in range(5)]
                for n, client_id in enumerate(ids):
                    await ws.send(json.dumps({"type": "message", "client_id": client_id, "body": f"m{n}"}))
                await asyncio.sleep(HELD_FOR)  # the server pings every 0.2 s meanwhile
            finally:
                release.set()
                await asyncio.to_thread(holder.join, 30)
            acks = []
            while len(acks) < 5:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame["type"] == "ack":
                    acks.append(frame)
            assert [a["client_id"] for a in acks] == ids
            return acks, ws.close_code

    with running_server(log_name="keepalive", uvicorn_args=PING) as server:
        url = f"ws://127.0.0.1:{server.port}/ws/widget/?site={site.site_key}"
        # A thread of its own: the browser tests leave Playwright's loop running on this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            acks, close_code = pool.submit(asyncio.run, visit(url)).result()
    assert close_code is None, "the socket stayed open throughout"
    assert [a["message"]["body"] for a in acks] == [f"m{n}" for n in range(5)]
