"""Money as exact decimals: amounts are stored as integers of micro-units
(millionths of a dollar), so sums in SQL are exact on every backend; people
and services see ``decimal.Decimal``. No float ever carries an amount."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from store.errors import ValidationError

MICROS = 1_000_000
PLACES = 6
# Far above any single model call or agent run; a typo guard, not a budget.
MAX_AMOUNT = Decimal(1_000_000)
# ASCII digits only (``\d`` would take any script's digits).
_AMOUNT = re.compile(r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_QUANTUM = Decimal(1).scaleb(-PLACES)


def parse_amount(field: str, value: Any) -> Decimal:
    """An amount of money from text (``"0.0123"``), an int or a Decimal:
    finite, not negative, at most 6 decimal places, at most 1,000,000."""
    if isinstance(value, float):
        raise ValidationError(field, "give the amount as text or a Decimal, never a float")
    if isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip().removeprefix("$")
        if len(text) > 40 or not _AMOUNT.fullmatch(text):
            raise ValidationError(field, f"{value!r} is not an amount such as 0.0123")
        amount = Decimal(text)
    else:
        raise ValidationError(field, "must be an amount such as 0.0123")
    if not amount.is_finite():
        raise ValidationError(field, f"{value!r} is not a finite amount")
    if amount < 0:
        raise ValidationError(field, f"{value} is negative; an amount spent is 0 or more")
    if amount > MAX_AMOUNT:
        raise ValidationError(field, f"{value} is more than {MAX_AMOUNT}; is that a typo?")
    if amount != amount.quantize(_QUANTUM):
        raise ValidationError(
            field, f"{value} has more than {PLACES} decimal places (the smallest unit is 0.000001)"
        )
    return amount


def to_micros(amount: Decimal) -> int:
    """A checked amount as whole micro-units (exact)."""
    return int(amount.quantize(_QUANTUM).scaleb(PLACES))


def from_micros(micros: int) -> Decimal:
    """Micro-units as a Decimal with exactly 6 decimal places."""
    return (Decimal(int(micros)) / MICROS).quantize(_QUANTUM)


def format_amount(amount: Decimal, places: int = 4) -> str:
    """For people: ``$0.0123`` (rounded for display only)."""
    return f"${amount.quantize(Decimal(1).scaleb(-places)):,}"
