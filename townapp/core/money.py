"""Money as integer 分: parse what people type in 元, format 分 back to 元 — never through float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from townapp.core.errors import DomainError
from townapp.core.text import remove_spaces, to_halfwidth

_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


class MoneyError(DomainError):
    """Text that is not an amount in 元 with at most two decimals."""


def parse_yuan(text: object) -> int | None:
    """'12,345.6' → 1234560 分; empty → None; a number with more than two decimals is refused."""
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        return text * 100
    raw = remove_spaces(to_halfwidth(str(text))).replace(",", "").removesuffix("元")
    if not raw:
        return None
    if isinstance(text, float):
        raw = format(Decimal(repr(text)).normalize(), "f")
    if not _AMOUNT.match(raw):
        raise MoneyError(f"“{text}”不是金额：请填写元，最多两位小数，如 12345.67")
    try:
        return int((Decimal(raw) * 100).to_integral_exact())
    except InvalidOperation:
        raise MoneyError(f"“{text}”不是金额") from None


def format_yuan(fen: int | None, *, grouping: bool = True) -> str:
    """1234560 → '12,345.60' (or '12345.60'); None → ''."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    body = f"{whole:,}" if grouping else str(whole)
    return f"{sign}{body}.{cents:02d}"


def wan_yuan(fen: int | None) -> Decimal | None:
    """分 → 万元 as an exact Decimal (for charts and summaries)."""
    return None if fen is None else Decimal(fen) / Decimal(1_000_000)
