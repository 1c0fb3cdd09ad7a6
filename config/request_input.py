"""Numbers and dates taken from requests (query strings, forms, socket frames), read one way everywhere.

Each function returns the value, or its `default` when the input is absent (None or ""), or raises
InvalidInput, which each edge turns into a clear answer: a 400 for pages (`bad_request`, the
handler400 of both URL confs), a JSON error for the widget's HTTP fallback, an `error` frame on a
socket. Python's own parsers accept more than a request should carry: str.isdigit() takes "²",
which int() then refuses; int() takes "٣", " 7 " and "1_000"; float() takes "nan" and "1e999";
date.fromisoformat() takes "20261125", and a date near year 1 or 9999 overflows as soon as a few
days are added or taken away. Ids are PostgreSQL bigints, so a number past 2**63 - 1 is never one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import date, datetime

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views import defaults

ID_MAX = 2**63 - 1
DAY_MIN, DAY_MAX = date(2000, 1, 1), date(2999, 12, 31)

_WHOLE = re.compile(r"[0-9]{1,19}")  # ASCII digits only; 19 digits hold any bigint
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?")


class InvalidInput(BadRequest):
    """A number or date in a request that is not one, or is out of range; the message says which."""


def _absent(value: object) -> bool:
    return value is None or value == ""


def whole_number(
    value: object, *, name: str, minimum: int = 0, maximum: int = ID_MAX, default: int | None = None
) -> int | None:
    """A whole number from `minimum` to `maximum`: ASCII digits, or a JSON integer (not a bool)."""
    if _absent(value):
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE.fullmatch(value):
        number = int(value)
    else:
        raise InvalidInput(f"{name} must be a whole number.")
    if not minimum <= number <= maximum:
        raise InvalidInput(f"{name} must be from {minimum} to {maximum}.")
    return number


def object_id(value: object, *, name: str, default: int | None = None) -> int | None:
    """The id of a row: 1 to 2**63 - 1."""
    return whole_number(value, name=name, minimum=1, maximum=ID_MAX, default=default)


def decimal_number(
    value: object, *, name: str, minimum: float, maximum: float, default: float | None = None
) -> float | None:
    """A number such as 2 or 0.25 from `minimum` to `maximum` (no exponent, no nan or inf)."""
    if _absent(value):
        return default
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        number: float = float(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = value  # compared as it is: float() of a JSON integer past 1e308 would overflow
    else:
        raise InvalidInput(f"{name} must be a number such as 2 or 0.5.")
    if not minimum <= number <= maximum:  # False for nan too
        raise InvalidInput(f"{name} must be from {minimum:g} to {maximum:g}.")
    return float(number)


def day(value: object, *, name: str, default: date | None = None) -> date | None:
    """A calendar day written 2026-11-25, from DAY_MIN to DAY_MAX."""
    if _absent(value):
        return default
    return _calendar(
        value, name=name, pattern=_DAY, parse=date.fromisoformat, how="dates are written 2026-11-25"
    )


def moment(value: object, *, name: str, default: datetime | None = None) -> datetime | None:
    """A local date and time written 2026-11-25T09:30 (no zone: the caller knows whose), in DAY_MIN
    to DAY_MAX."""
    if _absent(value):
        return default
    return _calendar(
        value, name=name, pattern=_MOMENT, parse=datetime.fromisoformat,
        how="a date and time is written 2026-11-25T09:30",
    )  # fmt: skip


def _calendar(value: object, *, name: str, pattern: re.Pattern, parse: Callable, how: str):
    """`value` parsed, if it is text of `pattern` that names a real day (2026-02-30 does not) in
    DAY_MIN to DAY_MAX; else InvalidInput that says `how` it is written."""
    parsed = None
    if isinstance(value, str) and pattern.fullmatch(value):
        with contextlib.suppress(ValueError):
            parsed = parse(value)
    if parsed is None:
        raise InvalidInput(f"{name}: {how}.")
    if not DAY_MIN <= (parsed.date() if isinstance(parsed, datetime) else parsed) <= DAY_MAX:
        raise InvalidInput(f"{name}: dates are from {DAY_MIN} to {DAY_MAX}.")
    return parsed


def bad_request(request: HttpRequest, exception: Exception, template_name: str = "400.html") -> HttpResponse:
    """handler400: what was wrong with a number or a date; any other bad request as Django answers it."""
    if isinstance(exception, InvalidInput):
        if getattr(request, "htmx", False):  # a swap shows the sentence where the fragment would go
            return HttpResponseBadRequest(str(exception), content_type="text/plain; charset=utf-8")
        return render(request, template_name, {"message": str(exception)}, status=400)
    return defaults.bad_request(request, exception, template_name)
