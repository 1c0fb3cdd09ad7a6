"""Numbers and dates from requests: what each reader takes, what it refuses, and its one exception."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from config import request_input
from config.request_input import ID_MAX, InvalidInput


@pytest.mark.parametrize(
    ("value", "expected"), [("0", 0), ("42", 42), (42, 42), (str(ID_MAX), ID_MAX), (None, 7), ("", 7)]
)
def test_whole_numbers_are_ascii_digits_or_json_integers_and_absent_is_the_default(value, expected):
    assert request_input.whole_number(value, name="after", default=7) == expected


@pytest.mark.parametrize(
    "value",
    ["²", "٣", " 7", "7 ", "1_000", "+1", "-1", "1.0", "1e3", "0x10", str(ID_MAX + 1), "9" * 5000,
     True, 1.0, float("nan"), float("inf"), [], {}, -1, ID_MAX + 1],
)  # fmt: skip
def test_anything_else_is_invalid_input(value):
    with pytest.raises(InvalidInput, match="after"):
        request_input.whole_number(value, name="after")


def test_ids_start_at_one():
    assert request_input.object_id("1", name="label") == 1
    assert request_input.object_id(None, name="label") is None
    with pytest.raises(InvalidInput, match="from 1 to"):
        request_input.object_id("0", name="label")


@pytest.mark.parametrize(
    ("value", "expected"), [("0", 0.0), ("0.25", 0.25), (3, 3.0), (2.5, 2.5), (None, 25.0)]
)
def test_decimal_numbers(value, expected):
    assert request_input.decimal_number(value, name="wait", minimum=0, maximum=25, default=25) == expected


@pytest.mark.parametrize(
    "value", ["nan", "inf", "1e-3", "-0", "25.5", "²", float("nan"), float("inf"), 10**400, True]
)
def test_decimal_numbers_refuse_nan_inf_exponents_and_the_out_of_range(value):
    with pytest.raises(InvalidInput, match="wait"):
        request_input.decimal_number(value, name="wait", minimum=0, maximum=25)


def test_days_are_written_one_way_and_stay_in_a_sane_range():
    assert request_input.day("2026-11-25", name="Start") == date(2026, 11, 25)
    assert request_input.day("", name="Start", default=date(2026, 1, 1)) == date(2026, 1, 1)
    for value in ("20261125", "2026-1-5", "2026-02-30", "²０２６-01-01", "2026-11-25T10:00", 20261125):
        with pytest.raises(InvalidInput, match="written 2026-11-25"):
            request_input.day(value, name="Start")
    for value in ("9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01"):
        with pytest.raises(InvalidInput, match="from 2000-01-01 to 2999-12-31"):
            request_input.day(value, name="End")


def test_moments_are_local_and_in_range():
    assert request_input.moment("2026-11-25T09:30", name="snooze") == datetime(2026, 11, 25, 9, 30)
    for value in ("2026-11-25T09:30+02:00", "2026-11-25", "9999-12-31T23:59", "tomorrow", 5):
        with pytest.raises(InvalidInput, match="snooze"):
            request_input.moment(value, name="snooze")
