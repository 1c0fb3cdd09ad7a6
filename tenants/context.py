"""The one way to do database work for a workspace outside a request: explicitly, in its schema.

Requests get their schema from the host (WorkspaceRoutingMiddleware). Everything else (WebSocket
consumers, jobs, commands) names the workspace and runs its database work through these helpers,
so a schema is never inherited from whatever a shared connection did last.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

import psycopg
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connection, connections
from django_tenants.utils import get_public_schema_name
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

P = ParamSpec("P")
R = TypeVar("R")

# Set while a call made by `in_workspace` runs: work to await on the event loop once it returns.
_loop_work: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "parley_loop_work", default=None
)


@contextmanager
def workspace_schema(schema_name: str) -> Iterator[None]:
    """Run the enclosed database work in `schema_name`; the connection's schema before it (public,
    outside a request; the request's workspace, inside one) is restored afterwards."""
    previous_schema, previous_tenant = connection.schema_name, getattr(connection, "tenant", None)
    connection.set_schema(schema_name)
    try:
        yield
    finally:
        if previous_schema == get_public_schema_name():
            connection.set_schema_to_public()
        elif getattr(previous_tenant, "schema_name", None) == previous_schema:
            connection.set_tenant(previous_tenant)  # a request's workspace, as its middleware set it
        else:
            connection.set_schema(previous_schema)


def run_in_workspace(schema_name: str, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    with workspace_schema(schema_name):
        return func(*args, **kwargs)


def _run_and_release(schema_name: str, func: Callable[..., R], *args, **kwargs) -> R:
    """The database thread's part of `in_workspace`. The connection goes back to the pool here, in
    the context that used it: Channels' database_sync_to_async closes connections outside that
    context, never sees them, and so keeps one open per socket (or drains a pool)."""
    try:
        return run_in_workspace(schema_name, func, *args, **kwargs)
    finally:
        connection.close()


# Any thread of the executor will do (thread_sensitive=False): each call sets its own schema on a
# connection of its own from the pool, so sockets of different workspaces run in parallel.
_run_in_workspace_async = SyncToAsync(_run_and_release, thread_sensitive=False)


async def in_workspace(schema_name: str, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """From async code (consumers): run `func` in a database thread, inside `schema_name`; then await,
    on the event loop, whatever it handed to `defer_to_event_loop` (pushes after a commit)."""
    loop_work: list[Callable[[], Awaitable[None]]] = []
    token = _loop_work.set(loop_work)
    try:
        result = await _run_in_workspace_async(schema_name, func, *args, **kwargs)
    finally:
        _loop_work.reset(token)
    for work in loop_work:
        await work()
    return result


async def in_public(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """`in_workspace` for the public schema (workspaces, site keys, users)."""
    return await in_workspace(get_public_schema_name(), func, *args, **kwargs)


def defer_to_event_loop(work: Callable[[], Awaitable[None]]) -> bool:
    """Called from sync code: if it runs under `in_workspace`, `work()` will be awaited on the event
    loop after the call returns (so the database thread never waits on the loop) and True is returned.
    Elsewhere (a request, a job) returns False, and the caller does the work itself."""
    loop_work = _loop_work.get()
    if loop_work is None:
        return False
    loop_work.append(work)
    return True


# --- On the event loop, without a thread: for the few hot paths written in SQL

_async_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncConnectionPool] = (
    weakref.WeakKeyDictionary()
)


async def _async_pool() -> AsyncConnectionPool:
    loop = asyncio.get_running_loop()
    pool = _async_pools.get(loop)
    if pool is None:
        db = connections["default"].settings_dict  # the test database under pytest
        conninfo = psycopg.conninfo.make_conninfo(
            dbname=db["NAME"],
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            host=db["HOST"] or None,
            port=db["PORT"] or None,
        )
        pool = _async_pools[loop] = AsyncConnectionPool(
            conninfo,
            kwargs={"autocommit": True},
            min_size=min(settings.PARLEY_ASYNC_DATABASE_POOL_MIN, settings.PARLEY_ASYNC_DATABASE_POOL_MAX),
            max_size=settings.PARLEY_ASYNC_DATABASE_POOL_MAX,
            timeout=db["OPTIONS"].get("pool", {}).get("timeout", 10),
            open=False,
        )
        await pool.open()
    return pool


@functools.lru_cache(maxsize=4096)
def schema_statement(template: str, schema_name: str) -> str:
    """`template` with `{schema}` replaced by the quoted schema name: a statement for
    `workspace_statement`, which sets no search_path, or for a cursor that must not rely on one."""
    return template.format(schema=sql.Identifier(schema_name).as_string())


async def workspace_statement(statement: str, params: dict) -> tuple | None:
    """On the event loop, without a thread: run one statement that names its workspace schema itself
    (a function of that schema, say), in a transaction of its own; returns its first row.

    One round trip, prepared by psycopg after a few runs; no search_path is set on the connection,
    so nothing of one workspace stays on it for the next borrower."""
    pool = await _async_pool()
    async with pool.connection() as conn:
        cursor = await conn.execute(statement, params)
        return await cursor.fetchone()


async def workspace_rows(statement: str, params: dict) -> list[tuple]:
    """`workspace_statement`, returning every row."""
    pool = await _async_pool()
    async with pool.connection() as conn:
        cursor = await conn.execute(statement, params)
        return await cursor.fetchall()


async def close_async_pools() -> None:
    """Close this loop's pool (tests, whose loops end with each test)."""
    pool = _async_pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.close()
