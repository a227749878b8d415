"""Points as integer tenths (12.5 分 is 125): the one parser and formatter every module uses.

Points, grid scores and scheme values are typed by people, so the parser takes
full-width digits, spaces and a trailing “分”, but never rounds: a value with
more than one decimal place is refused, not silently changed.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

from townapp.core.errors import DomainError
from townapp.core.text import remove_spaces, to_halfwidth

_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
LARGEST = Decimal(10000)


class PointsError(DomainError):
    """A points value a user typed cannot be used (too many decimals, not a number …)."""


def parse_points(value: Any, *, allow_negative: bool = False) -> int:
    """'2', '0.5', '９０分', 2, Decimal('1.5') → tenths; blank is refused (see ``parse_optional_points``)."""
    tenths = parse_optional_points(value, allow_negative=allow_negative)
    if tenths is None:
        raise PointsError("请填写分值")
    return tenths


def parse_optional_points(value: Any, *, allow_negative: bool = False) -> int | None:
    """Like ``parse_points``, but blank (None or empty text) is None: a score not entered yet."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PointsError("分值应为数字")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, (float, Decimal)):
        text = format(Decimal(repr(value) if isinstance(value, float) else value), "f")
    else:
        text = remove_spaces(to_halfwidth(str(value))).removesuffix("分")
    if not text:
        return None
    if not _NUMBER.match(text):
        raise PointsError(f"“{value}”不是分值，应填如 2 或 0.5 的数字")
    number = Decimal(text)
    tenths = number * 10
    if tenths != tenths.to_integral_value():
        raise PointsError(f"分值“{value}”最多保留一位小数")
    if number < 0 and not allow_negative:
        raise PointsError(f"分值“{value}”不能为负数")
    if abs(number) > LARGEST:
        raise PointsError(f"分值“{value}”过大")
    return int(tenths)


def format_points(tenths: int | None, *, signed: bool = False) -> str:
    """125 → '12.5', 120 → '12', None → ''; ``signed`` adds + for positive values."""
    if tenths is None:
        return ""
    sign = "-" if tenths < 0 else ("+" if signed and tenths > 0 else "")
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{whole}" + (f".{tenth}" if tenth else "")


def tenths_in_file(value: Any) -> int:
    """A points value in a resource file ("12", "0.5", 2) → tenths, through the same parser as a user's entry."""
    try:
        return parse_points(value)
    except PointsError as exc:
        raise ValueError(exc.message) from None  # the loader reports it at its place in the file


FilePoints = Annotated[int, BeforeValidator(tenths_in_file)]  # a model field holding tenths


def points_decimal(tenths: int) -> Decimal:
    """Exact points from stored integer tenths (for figures and returns: never a float)."""
    return Decimal(tenths) / 10
