"""Keyset cursors: what this code writes reads back; anything else is the first page, never an error."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from config.keyset import cursor_decode, cursor_encode


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
