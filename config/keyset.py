"""Keyset pagination cursors: a page ends at a (time, id) position, written as "<timestamp>_<id>"
(or, for a list sorted by another value, a (value, id) position: sort_cursor_encode).

Opaque to clients, read back strictly: anything this code did not write means the first page.
"""

from __future__ import annotations

import base64
import binascii
import math
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


# Lists sorted by something else than a time (a name, a count, a rate) end a page at a (value, id)
# position too. The value is written with its kind, so a cursor is read back only as the kind the
# list sorts by: "i" an integer, "f" a float, "s" text (base64url of its UTF-8), "t" a time.
SortValue = datetime | int | float | str
_TEXT_MAX = 512  # characters of a text value: more than any name a list sorts by


def sort_cursor_encode(value: SortValue, pk: int) -> str:
    if isinstance(value, datetime):
        return "t" + cursor_encode(value, pk)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"A cursor cannot hold {type(value).__name__}.")
    if isinstance(value, int):
        return f"i{value}_{pk}"
    if isinstance(value, float):
        return f"f{value!r}_{pk}"
    return "s" + base64.urlsafe_b64encode(value.encode()).decode().rstrip("=") + f"_{pk}"


def sort_cursor_decode(cursor: str | None, kind: type[SortValue]) -> tuple[SortValue, int] | None:
    """The (value of `kind`, id) a cursor names; None (the first page) for anything this code did not
    write for that kind."""
    tag, rest = (cursor or " ")[0], (cursor or " ")[1:]
    if kind is datetime:
        return cursor_decode(rest) if tag == "t" else None
    try:
        written, pk_text = rest.rsplit("_", 1)
        pk = int(pk_text)
        value = _sort_value(tag, written, kind)
    except (ValueError, UnicodeError, binascii.Error):
        return None
    return (value, pk) if value is not None and 0 < pk < 2**63 else None


def _sort_value(tag: str, written: str, kind: type) -> SortValue | None:
    if kind is int and tag == "i" and written.lstrip("-").isdigit():
        number = int(written)
        return number if -(2**63) <= number < 2**63 else None
    if kind is float and tag == "f":
        number = float(written)
        return number if math.isfinite(number) else None
    if kind is str and tag == "s" and len(written) <= _TEXT_MAX * 2:
        text = base64.b64decode(written + "=" * (-len(written) % 4), altchars=b"-_", validate=True).decode()
        # PostgreSQL's text holds no NUL; the list never wrote one.
        return text if len(text) <= _TEXT_MAX and "\x00" not in text else None
    return None
