"""Amounts are exact and bounded: no float, no overflow, one clear error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tasks.money import MAX_AMOUNT, MoneyError, parse_amount, to_micros


@pytest.mark.parametrize("text", ["1e13", "1e400", "1e30", "-1e30", "1000000000.000001"])
def test_an_amount_beyond_the_bound_is_refused_with_the_bound(text: str) -> None:
    with pytest.raises(MoneyError, match=r"too large.*at most 1,000,000,000"):
        parse_amount(text)


def test_the_largest_amount_still_fits_sqlite_integers_many_times_over() -> None:
    assert parse_amount("1000000000") == MAX_AMOUNT
    assert to_micros(MAX_AMOUNT) * 9_000 < 2**63 - 1  # thousands of maximal entries still sum


@pytest.mark.parametrize("text", ["nan", "inf", "0.0000001", "1,5", "ten"])
def test_what_is_not_an_exact_amount_is_refused(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text)


def test_a_caller_may_set_a_tighter_bound() -> None:
    assert parse_amount("999.5", maximum=Decimal(1000)) == Decimal("999.5")
    with pytest.raises(MoneyError, match="at most 1,000"):
        parse_amount("1000.01", maximum=Decimal(1000))
