"""Pushes to open sockets, sent after commit. A push is a hint: the database has already got the truth."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from tenants.context import defer_to_event_loop

logger = logging.getLogger(__name__)


def contact_group(schema_name: str, contact_id: int) -> str:
    """Every widget tab of one visitor."""
    return f"parley.{schema_name}.contact.{contact_id}"


def widgets_group(schema_name: str) -> str:
    """Every widget socket and waiting long-poll on a workspace's websites (closed when it is suspended)."""
    return f"parley.{schema_name}.widgets"


def agents_group(schema_name: str) -> str:
    """Every open inbox of a workspace."""
    return f"parley.{schema_name}.agents"


def member_group(schema_name: str, user_id: int) -> str:
    """Every inbox socket of one member (closed when they are removed from the workspace)."""
    return f"parley.{schema_name}.member.{user_id}"


def conversation_group(schema_name: str, conversation_id: int) -> str:
    """Every inbox that has this conversation open."""
    return f"parley.{schema_name}.conversation.{conversation_id}"


@dataclass(frozen=True)
class Push:
    groups: list[str]
    event: dict


def publish_on_commit(groups: list[str], event: dict) -> None:
    """Send `event` to `groups` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: publish(groups, event))


def publish(groups: list[str], event: dict) -> None:
    if defer_to_event_loop(lambda: publish_async(groups, event)):
        return  # a consumer's database call: sent from the event loop once the call returns
    async_to_sync(publish_async)(groups, event)


async def publish_async(groups: list[str], event: dict, *, exclude: Iterable[str] = ()) -> None:
    """Send `event` once to every member of `groups` but the channels in `exclude`."""
    try:
        await get_channel_layer().group_send_many(groups, event, exclude=exclude)
    except Exception:
        # Redis down or over capacity: clients catch up from the database by id.
        logger.exception("push to %s failed; clients will catch up by id", groups)


def current_schema() -> str:
    return connection.schema_name
