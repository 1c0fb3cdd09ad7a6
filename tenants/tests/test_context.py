"""tenants.context: work runs in the schema it names, and its connection goes back to the pool."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.db import connection

from tenants.context import defer_to_event_loop, in_public, in_workspace, run_in_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def _schema() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return cursor.fetchone()[0]


def _in_use() -> int:
    stats = connection.pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


def test_each_call_runs_in_its_own_schema_and_returns_its_connection(tx_workspaces):
    alpha, beta = tx_workspaces.alpha.schema_name, tx_workspaces.beta.schema_name
    assert run_in_workspace(alpha, _schema) == alpha
    connection.close()
    baseline = _in_use()

    async def many():
        # As many sockets would: separate tasks, interleaved, on the executor's threads.
        return await asyncio.gather(
            *(asyncio.create_task(in_workspace(alpha if i % 2 else beta, _schema)) for i in range(40)),
            in_public(_schema),
        )

    results = asyncio.run(many())
    assert results[:40] == [alpha if i % 2 else beta for i in range(40)]
    assert results[40] == "public"
    # Nothing kept by the 41 contexts that are gone (the pool may still be checking a returned one in).
    deadline = time.monotonic() + 3
    while _in_use() != baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _in_use() == baseline


def test_work_deferred_to_the_event_loop_runs_after_the_call():
    order = []

    def in_thread():
        order.append("database work")

        async def later():
            order.append("on the loop")

        assert defer_to_event_loop(later) is True
        return "done"

    assert asyncio.run(in_workspace("public", in_thread)) == "done"
    assert order == ["database work", "on the loop"]
    assert defer_to_event_loop(lambda: None) is False  # not under in_workspace
