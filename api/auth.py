"""Who may call the REST API: a bearer API key of the host's workspace, acting with its maker's
rights as they are now, within the key's rate limit; writes need a read-write key. While the
workspace is suspended (staff console) every operation is a 403 `workspace_suspended`.

A key is looked up in the host's workspace's schema only, so a key of another workspace finds nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts.models import User
from api import rate_limit
from api.errors import ApiError
from api.models import ApiKey
from api.services import KeyRefused, api_key_acting_member, api_key_for

WORKSPACE_SUSPENDED_MESSAGE = (
    "This workspace is suspended: every operation is refused until it is unsuspended. Nothing in it "
    "was deleted."
)


def _rate_limit(key: ApiKey) -> None:
    """PARLEY_API_RATE_LIMIT requests per key in any 60 s, counted in Redis across every web process."""
    retry_after = rate_limit.key_retry_after(schema_name=connection.schema_name, key_id=key.pk)
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"A key may make {settings.PARLEY_API_RATE_LIMIT} requests in any 60 seconds; "
            f"retry in {retry_after} s.",
            {"Retry-After": str(retry_after)},
        )


class ApiKeyAuth(HttpBearer):
    openapi_description = (
        "A workspace API key (sk_…) made in Settings → API keys: `Authorization: Bearer sk_…`."
    )

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        if request.workspace is None:
            return None
        key = api_key_for(token)
        if key is not None:
            # After the key is known: only a holder of one of its keys learns the workspace is suspended.
            if request.workspace.is_suspended:
                raise ApiError(403, "workspace_suspended", WORKSPACE_SUSPENDED_MESSAGE)
            try:
                # Every operation, reads too, acts with the maker's rights as they are now.
                request.api_member = api_key_acting_member(key=key, workspace=request.workspace).user
            except KeyRefused as exc:
                raise ApiError(403, exc.code, str(exc)) from None
            _rate_limit(key)
            request.api_key = key
        return key


def require_write_scope(request) -> None:
    """Refuse (403) a request made with a read-only key."""
    key: ApiKey = request.api_key
    if not key.can_write:
        raise ApiError(403, "insufficient_scope", "This key is read-only; this needs a read-write key.")


def key_member(request) -> User:
    """Who writes what a key writes: the member who made it (checked on every request)."""
    require_write_scope(request)
    return request.api_member
