"""What a widget may do, for the WebSocket consumer and the HTTP fallback alike.

Each function checks its input, then runs its database work inside the website's workspace
schema through tenants.context (never a schema left on a shared connection).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db import connection
from django.db.models import Exists

from inbox import presence, realtime, selectors, services
from inbox.exceptions import InboxError, VisitorRateLimited, VisitorUnknown
from inbox.models import Contact, Conversation, Website
from inbox.origins import origin_normalize
from tenants.context import in_public, in_workspace
from tenants.models import SiteKey, Workspace
from widget import rate_limits

R = TypeVar("R")


class WidgetRefused(Exception):
    """The widget may not connect at all. `close_code` is the WebSocket close code, `status` the HTTP
    one, `code` the HTTP fallback's error code."""

    def __init__(self, close_code: int, status: int, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.close_code, self.status, self.code = close_code, status, code


# Close codes are 4000 + the HTTP status of the same refusal (README, "The widget")...
UNKNOWN_SITE = (4404, 404)
FOREIGN_ORIGIN = (4403, 403)
BAD_REQUEST = (4400, 400)
TOO_MANY = (4429, 429)
# ...but for a suspended workspace (staff console): 4423, as HTTP's 423 Locked, for a refusal that
# lasts only until it is unsuspended, where 4403 is for good. The widget keeps the visitor's queued
# messages for later on 4423, and gives up on 4403. Over HTTP it is a 403 `workspace_suspended`.
WORKSPACE_SUSPENDED = (realtime.WORKSPACE_SUSPENDED_CLOSE, 403)
SUSPENDED_MESSAGE = "The team cannot take messages here right now. Please try again later."


@dataclass(frozen=True)
class WidgetSite:
    schema_name: str
    website: Website

    @property
    def website_id(self) -> int:
        return self.website.pk


def _site_key_lookup(site_key: str) -> SiteKey | None:
    return (
        SiteKey.objects.select_related("workspace")
        .filter(key=site_key, workspace__claimed_at__isnull=False)
        .only("website_id", "workspace__schema_name")
        .first()
    )


def _website_for_widget(website_id: int) -> tuple[Website | None, bool]:
    """The website, and whether its workspace is suspended, in one query: the workspace's row is in
    the public schema, on every workspace's search path."""
    suspended = Workspace.objects.filter(schema_name=connection.schema_name, suspended_at__isnull=False)
    website = Website.objects.filter(pk=website_id).annotate(workspace_suspended=Exists(suspended)).first()
    return website, bool(website and website.workspace_suspended)


async def site_for(
    site_key: str | None,
    origin: str | None,
    *,
    subscribe: Callable[[str], Awaitable[None]] | None = None,
) -> WidgetSite:
    """The website behind a site key, if the page's origin is one it allows and its workspace is not
    suspended. `subscribe(schema_name)`, awaited before the suspension is read, lets a socket join
    the workspace's widgets group first: a suspension that commits after the read reaches it there."""
    if not site_key or len(site_key) > 64:
        raise WidgetRefused(*BAD_REQUEST, "A site key is required (data-site on the script tag).")
    found = await in_public(_site_key_lookup, site_key)
    if found is None:
        raise WidgetRefused(*UNKNOWN_SITE, "Unknown site key.")
    if subscribe is not None:
        await subscribe(found.workspace.schema_name)
    website, suspended = await in_workspace(
        found.workspace.schema_name, _website_for_widget, found.website_id
    )
    if not website:
        raise WidgetRefused(*UNKNOWN_SITE, "Unknown site key.")
    try:
        normalized = origin_normalize(origin or "")
    except InboxError:
        normalized = None
    if normalized is None or normalized not in website.allowed_origins:
        raise WidgetRefused(*FOREIGN_ORIGIN, f"Origin {origin or '(none)'} is not allowed for this site key.")
    # Only an allowed origin learns that the workspace is suspended.
    if suspended:
        raise WidgetRefused(*WORKSPACE_SUSPENDED, SUSPENDED_MESSAGE, code="workspace_suspended")
    return WidgetSite(schema_name=found.workspace.schema_name, website=website)


def widget_config(website: Website) -> dict:
    return {
        "accent_color": website.accent_color,
        "greeting": website.greeting,
        "team_name": website.team_name or website.name,
        "launcher_position": website.launcher_position,
        "ask_email_after_seconds": website.ask_email_after_seconds,
    }


def _in_site_workspace(func: Callable[..., R]) -> Callable[..., Awaitable[R]]:
    """`func(site, …)`, synchronous database work, as a coroutine run in a database thread inside the
    site's workspace schema (tenants.context.in_workspace)."""

    @functools.wraps(func)
    async def run(site: WidgetSite, *args, **kwargs) -> R:
        return await in_workspace(site.schema_name, func, site, *args, **kwargs)

    return run


@_in_site_workspace
def hello(
    site: WidgetSite, *, token: str | None, after_id: int, page_url: str = "", user_agent: str = ""
) -> dict:
    """Start (or resume) a visitor session: their token, the widget's look, and messages after `after_id`."""
    contact, token = services.contact_for_visitor(
        website=site.website, token=token, page_url=page_url, user_agent=user_agent
    )
    if contact.last_message_id is None:
        # Nothing written to or by this visitor yet, as on most page views: no queries for messages.
        messages, has_agent_reply = [], False
    else:
        messages = _payloads_after(contact, after_id)
        has_agent_reply = selectors.contact_has_agent_reply(contact)
    return {
        "type": "welcome",
        "token": token,
        "contact_id": contact.pk,
        "has_email": bool(contact.email),
        "has_agent_reply": has_agent_reply,
        "config": widget_config(site.website),
        "messages": messages,
        "last_id": contact.last_message_id,
    }


@_in_site_workspace
def contact_id_for_token(site: WidgetSite, token: str | None) -> int:
    """The visitor a token stands for, on this website; VisitorUnknown if none."""
    contact_id = (
        Contact.objects.filter(website=site.website, token_hash=services.visitor_token_hash(token or ""))
        .values_list("pk", flat=True)
        .first()
    )
    if contact_id is None:
        raise VisitorUnknown("Unknown visitor token: say hello first.")
    return contact_id


async def visitor_message_receive(
    site: WidgetSite, contact_id: int, *, body, client_id, ip: str, sender_channel: str | None = None
) -> dict:
    """A visitor's message, from the socket or the HTTP fallback alike: within the visitor's and the
    address's rate limits (VisitorRateLimited), stored once per client_id, pushed after commit to the
    inbox and the visitor's other tabs (not `sender_channel`: the sender gets it in this ack), and a
    new conversation given to an agent at an inbox, if any is."""
    if not await rate_limits.allow_message(schema_name=site.schema_name, contact_id=contact_id, ip=ip):
        raise VisitorRateLimited("Too many messages; wait a moment.")
    written = await services.message_from_visitor_on_loop(
        schema_name=site.schema_name,
        contact_id=contact_id,
        body=body,
        client_id=client_id,
        sender_channel=sender_channel,
    )
    message = written.message
    if written.new_conversation:
        online, away = await presence.presence(site.schema_name)
        if online - away:  # nobody at an inbox: leave it in the unassigned queue, no thread hop
            await in_workspace(
                site.schema_name, services.conversation_auto_assign,
                conversation_id=message.conversation_id, online_user_ids=online, away_user_ids=away,
            )  # fmt: skip
    return {
        "type": "ack",
        "client_id": str(message.client_id) if message.client_id else None,
        "id": message.pk,
        "created": written.created,
        "message": written.payload,
    }


@_in_site_workspace
def messages_after(site: WidgetSite, contact_id: int, after_id: int) -> list[dict]:
    """The messages the visitor may see after `after_id`, oldest first, each with its prev_id."""
    return _payloads_after(Contact.objects.get(pk=contact_id), after_id)


def _payloads_after(contact: Contact, after_id: int) -> list[dict]:
    return selectors.message_payloads(
        selectors.contact_messages_after(contact=contact, after_id=after_id), after_id=after_id
    )


@_in_site_workspace
def identify(site: WidgetSite, contact_id: int, fields: dict) -> dict:
    """The visitor says who they are (a signed user_hash makes it verified)."""
    contact = Contact.objects.get(pk=contact_id)
    services.contact_identify(
        website=site.website,
        contact=contact,
        email=fields.get("email") or "",
        name=fields.get("name") or "",
        user_id=fields.get("user_id") or "",
        user_hash=fields.get("user_hash") or "",
        attributes=fields.get("attributes") or {},
    )
    return {"type": "identified", "has_email": bool(contact.email), "verified": contact.identity_verified}


@_in_site_workspace
def open_conversation_id(site: WidgetSite, contact_id: int) -> int | None:
    """The visitor's conversation that is not resolved, if any (where their typing goes)."""
    return (
        Conversation.objects.filter(contact_id=contact_id)
        .exclude(status=Conversation.Status.RESOLVED)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
