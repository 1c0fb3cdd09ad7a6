"""Pushes to open sockets, sent after commit. A push is a hint: the database has already got the truth."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from tenants.context import defer_to_event_loop

# A suspended workspace's sockets, the agents' and the visitors' (widget.services), close with this:
# 4000 + 423 (Locked), a refusal that lasts only until it is unsuspended, where 4403 is for good.
WORKSPACE_SUSPENDED_CLOSE = 4423
# Set on an agent's socket scope by whatever wraps that route (staff.impersonation_socket, while staff
# view a workspace as a member): {"message": why, "until": a Unix time}. Such a socket shows the inbox
# and changes nothing: no presence, its write frames refused with that message, closed at `until`.
READ_ONLY_SCOPE_KEY = "parley.read_only"
READ_ONLY_ENDED_MESSAGE = "This read-only view has ended: reload the page."

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
