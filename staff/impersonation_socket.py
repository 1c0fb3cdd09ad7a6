"""Impersonation on the workspace host's sockets (config/asgi.py wraps the WebSocket routes with this):
a socket opened by a session that views the workspace as a member is read-only until the
impersonation's end, and one whose impersonation is over is refused.

The inbox's consumer knows nothing of staff: it obeys scope["parley.read_only"] (no presence, its
write frames refused with the message given, closed at `until`), which is set here.
"""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from importlib import import_module

from django.conf import settings

from inbox import realtime
from inbox.sockets import scope_header
from staff import selectors, services
from staff.middleware import SESSION_KEY, read_only_message
from tenants.context import in_public

NOT_ALLOWED = 4403  # as the inbox's own refusals


def _session_key(scope) -> str:
    cookie = SimpleCookie(scope_header(scope, b"cookie"))
    return cookie[settings.SESSION_COOKIE_NAME].value if settings.SESSION_COOKIE_NAME in cookie else ""


def _read_only_of(session_key: str) -> dict | bool | None:
    """For the session `session_key`: None if it impersonates nobody, False if its impersonation is
    over (its end written, as staff.middleware would), else what the socket may do until when."""
    engine = import_module(settings.SESSION_ENGINE)
    marker = engine.SessionStore(session_key).get(SESSION_KEY)
    if marker is None:
        return None
    impersonation = selectors.impersonation_for(marker)
    if not services.impersonation_in_force(impersonation):
        return False
    return {"message": read_only_message(impersonation), "until": impersonation.expires_at.timestamp()}


class ImpersonationSocketGuard:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        session_key = _session_key(scope) if scope["type"] == "websocket" else ""
        if not session_key:
            return await self.app(scope, receive, send)
        read_only = await in_public(_read_only_of, session_key)
        if read_only is None:
            return await self.app(scope, receive, send)
        if read_only is False:
            # As the inbox's own refusals: accepted, told why (the page then stops reconnecting), closed.
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                refused = {"type": "refused", "message": realtime.READ_ONLY_ENDED_MESSAGE}
                await send({"type": "websocket.send", "text": json.dumps(refused)})
                await send({"type": "websocket.close", "code": NOT_ALLOWED})
            return None
        return await self.app({**scope, realtime.READ_ONLY_SCOPE_KEY: read_only}, receive, send)
