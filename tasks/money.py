"""Exact money: Decimal in the domain, integer micro-units (1/1,000,000) in storage. No floats."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MICROS = 1_000_000
_MICRO = Decimal(1) / MICROS
# No single amount the product handles (a reward, a bonus, a payout floor, an hourly rate) comes
# near this; a bound keeps every sum of ledger entries far inside SQLite's 64-bit integers.
MAX_AMOUNT = Decimal(1_000_000_000)
# A bonus or an adjustment is one person's decision about one worker: bounded like a pack's
# reward (at most 1000 per answer), so a slip of the keyboard cannot create a fortune, and
# hundreds of millions of them still sum inside SQLite's integers.
MAX_BONUS = Decimal(10_000)


# What a currency code is, in one place: an ISO 4217 code, three capital letters ("EUR"). A
# pack's header (tasks/packs/format.py), a bonus, an adjustment, a payout export's filter and a
# payout file's lines are all checked against it.
CURRENCY_PATTERN = r"^[A-Z]{3}$"
_CURRENCY = re.compile(CURRENCY_PATTERN)


class MoneyError(ValueError):
    pass


def is_currency_code(text: str) -> bool:
    return _CURRENCY.fullmatch(text) is not None


def currency_code(text: str) -> str:
    """`text` if it is a currency code, else a MoneyError that says what one is."""
    if not is_currency_code(text):
        shown = text if len(text) <= 20 else text[:19] + "…"
        raise MoneyError(
            f"not a currency code: {shown!r} (an ISO 4217 code: 3 capital letters, e.g. EUR)"
        )
    return text


def parse_amount(text: str, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A decimal string ('0.02', '0.005') as an exact Decimal; no floats, NaN, more than 6
    decimal places, or more than `maximum` either way."""
    if not isinstance(text, str):
        raise MoneyError('an amount is written as a decimal string, e.g. "0.02"')
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise MoneyError(f"not a decimal amount: {text!r}") from None
    if not amount.is_finite():
        raise MoneyError(f"not a finite amount: {text!r}")
    if abs(amount) > maximum:
        raise MoneyError(f"too large: {text!r} (at most {maximum:,})")
    if amount != amount.quantize(_MICRO):
        raise MoneyError(f"at most 6 decimal places: {text!r}")
    return amount


def to_micros(amount: Decimal) -> int:
    micros = amount * MICROS
    if micros != micros.to_integral_value():
        raise MoneyError(f"at most 6 decimal places: {amount}")
    return int(micros)


def from_micros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).normalize()


def format_amount(micros: int, currency: str, language: str = "en") -> str:
    """'0.02 EUR', '0,005 EUR' in French: at least two decimals, more when the amount has them."""
    value = Decimal(micros) / MICROS
    text = f"{value:.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    frac = frac.ljust(2, "0")
    text = f"{whole}.{frac}"
    if language == "fr":
        text = text.replace(".", ",")
    return f"{text} {currency}"
