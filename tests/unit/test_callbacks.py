"""A button's data is client-supplied: only our exact shapes reach a handler."""

from __future__ import annotations

import re

import pytest

from handlers import callbacks


@pytest.mark.parametrize(
    ("pattern", "data"),
    [
        (callbacks.ANSWER, "a:12:3"),
        (callbacks.SKIP, "s:12"),
        (callbacks.CONSENT, "consent"),
        (callbacks.NEW_WORK, "go"),
        (callbacks.LANGUAGE, "lang:fr"),
        (callbacks.DISPUTE, "d:7"),
        (callbacks.REVIEW, "op:7:retire"),
    ],
)
def test_each_shape_matches_its_own_data(pattern: re.Pattern[str], data: str) -> None:
    assert pattern.match(data) is not None


@pytest.mark.parametrize(
    "data",
    [
        "a:12:3\n",  # `$` would accept a trailing newline; `\Z` does not
        "a:12:3:4",
        "a:012:3",  # no leading zeros: one id, one spelling
        "a:1234567890123456789:1",  # 19 digits would overflow SQLite's integers
        "a:12:10",
        "s:0",
        "consentx",
        "lang:de",
        "op:7:approve",
        "",
    ],
)
def test_near_misses_match_no_shape(data: str) -> None:
    shapes = [
        callbacks.ANSWER,
        callbacks.SKIP,
        callbacks.CONSENT,
        callbacks.NEW_WORK,
        callbacks.LANGUAGE,
        callbacks.DISPUTE,
        callbacks.REVIEW,
    ]
    assert [shape.pattern for shape in shapes if shape.match(data)] == []


def test_decisions_parse_to_their_ids() -> None:
    assert callbacks.parse_review("op:7:fix") == callbacks.Review(7, "fix")
    assert callbacks.parse_dispute("d:9") == callbacks.DisputePress(9)
    assert callbacks.parse_dispute("d:9\n") is None


def test_the_widest_data_of_each_shape_fits_telegram_s_64_bytes() -> None:
    """Each shape's widest data is one our patterns take whole, and Telegram would take it too;
    the check itself refuses one byte more (the module refuses to load on a shape too wide)."""
    from handlers.operator.access import OPERATOR_BUTTON

    shapes = [
        callbacks.ANSWER,
        callbacks.TOGGLE,
        callbacks.DONE,
        callbacks.SKIP,
        callbacks.DISPUTE,
        callbacks.REVIEW,
        callbacks.CONSENT,
        callbacks.NEW_WORK,
        callbacks.LANGUAGE,
        OPERATOR_BUTTON,
    ]
    assert len(callbacks.WIDEST) == len(shapes)
    for pattern, data in zip(shapes, callbacks.WIDEST, strict=True):
        assert pattern.match(data) is not None, data
        assert callbacks.fits(data), data
    assert callbacks.fits("x" * 64) and not callbacks.fits("x" * 65)
    assert not callbacks.fits("é" * 33)  # bytes, not characters: 66 in UTF-8
    assert not callbacks.fits("")
