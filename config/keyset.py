"""Keyset pagination cursors: a page ends at a (time, id) position, written as "<timestamp>_<id>".

Opaque to clients, read back strictly: anything this code did not write means the first page.
"""

from __future__ import annotations

from datetime import UTC, datetime


def cursor_encode(at: datetime, pk: int) -> str:
    return f"{at.timestamp():.6f}_{pk}"


def cursor_decode(cursor: str | None) -> tuple[datetime, int] | None:
    """The position a cursor names; None (the first page) for anything this code did not write."""
    try:
        stamp, pk = (cursor or "").split("_")
        position = datetime.fromtimestamp(float(stamp), tz=UTC), int(pk)
    except (ValueError, OverflowError, OSError):  # the last two: a time out of datetime's range
        return None
    return position if 0 < position[1] < 2**63 else None  # ids are bigints
