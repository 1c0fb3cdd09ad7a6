"""Keyset cursors: what this code writes reads back; anything else is the first page, never an error."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.keyset import cursor_decode, cursor_encode, sort_cursor_decode, sort_cursor_encode


def test_a_cursor_reads_back_to_its_position():
    at = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)
    assert cursor_decode(cursor_encode(at, 42)) == (at, 42)


def test_what_this_code_did_not_write_is_the_first_page():
    for cursor in (None, "", "x", "1_2_3", "nan_5", "1e400_5", "-1e20_5", "1.5_0", "1.5_-3", f"1.5_{2**63}"):
        assert cursor_decode(cursor) is None, cursor


@given(st.text(max_size=60))
def test_any_text_is_a_position_or_the_first_page(cursor):
    decoded = cursor_decode(cursor)
    assert decoded is None or (decoded[0].tzinfo is UTC and 0 < decoded[1] < 2**63)


@pytest.mark.parametrize(
    "value",
    [
        0,
        17,
        2**31,
        0.375,
        -1.0,
        1 / 3,
        "",
        "acme shop",
        "naïve café_42 ☕",
        "x_y_z",
        datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC),
    ],
)
def test_a_sort_cursor_reads_back_to_its_value_and_id(value):
    assert sort_cursor_decode(sort_cursor_encode(value, 42), type(value)) == (value, 42)


def test_a_sort_cursor_is_read_only_as_the_kind_it_was_written_for():
    assert sort_cursor_decode(sort_cursor_encode(5, 42), str) is None
    assert sort_cursor_decode(sort_cursor_encode("5", 42), int) is None
    assert sort_cursor_decode(sort_cursor_encode(0.5, 42), int) is None
    assert sort_cursor_decode(cursor_encode(datetime(2026, 1, 1, tzinfo=UTC), 42), datetime) is None


def test_what_no_list_wrote_is_the_first_page_of_a_sorted_list():
    nul = "s" + base64.urlsafe_b64encode(b"a\x00b").decode() + "_5"
    surrogate = "s" + base64.urlsafe_b64encode(b"\xed\xa0\x80").decode() + "_5"
    long = "s" + base64.urlsafe_b64encode(b"x" * 600).decode() + "_5"
    for cursor, kind in [
        (None, int), ("", str), ("i", int), ("i5", int), ("i_5", int), ("i5_0", int), (f"i{2**63}_5", int),
        ("fnan_5", float), ("finf_5", float), ("f1e999_5", float), ("s!!!_5", str), (nul, str),
        (surrogate, str), (long, str), ("s_5", int), ("t1.5_5", int), ("tjunk_5", datetime),
    ]:  # fmt: skip
        assert sort_cursor_decode(cursor, kind) is None, cursor
    with pytest.raises(TypeError):
        sort_cursor_encode(True, 1)


@given(st.text(max_size=80), st.sampled_from([int, float, str, datetime]))
def test_any_text_is_a_position_of_its_kind_or_the_first_page(cursor, kind):
    decoded = sort_cursor_decode(cursor, kind)
    assert decoded is None or (isinstance(decoded[0], kind) and 0 < decoded[1] < 2**63)
    if decoded is not None and kind is str:
        assert "\x00" not in decoded[0] and decoded[0].encode()  # text PostgreSQL can hold
