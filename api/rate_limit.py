"""The API's rate limit: PARLEY_API_RATE_LIMIT requests per key in any 60 seconds, exactly.

A sliding window in Redis (rate_limit.lua, loaded once): the times of the requests each key made
in the last 60 s. A fixed one-minute window let a client that honoured Retry-After make twice the
limit across the minute's turn; here the limit holds in every 60 s, and Retry-After is the whole
seconds until the oldest request in the window leaves it, when the next one is let through. A
key's log holds at most the limit's number of entries (600 by default).
"""

from __future__ import annotations

import math
import secrets
from functools import cache
from pathlib import Path

from django.conf import settings
from redis.commands.core import Script

from inbox.redis_clients import sync_client

WINDOW_SECONDS = 60
_MICROSECONDS = 1_000_000
_SCRIPT = Path(__file__).with_name("rate_limit.lua").read_text()


@cache
def _script() -> Script:
    return sync_client().register_script(_SCRIPT)


def key_retry_after(*, schema_name: str, key_id: int, now: float | None = None) -> int | None:
    """Count one request by an API key: None if it is within the limit, else the seconds (rounded
    up) to wait. `now` (seconds since the epoch) is for tests; by default Redis's clock decides."""
    wait = _script()(
        keys=[f"{settings.REDIS_KEY_PREFIX}:api-rate:{schema_name}:{key_id}"],
        args=[
            settings.PARLEY_API_RATE_LIMIT,
            WINDOW_SECONDS * _MICROSECONDS,
            "" if now is None else round(now * _MICROSECONDS),
            secrets.token_hex(8),
        ],
    )
    return math.ceil(wait / _MICROSECONDS) if wait else None
