"""Indicators computed where the data exists: a scheme's ``computed`` conditions checked against figures.

A creation standard such as 集体经济年经营性收入 ≥ 3万元 is not ticked by hand
when the village archive already holds the year's 经营性收入: the scheme names
the figure (townapp/figures.py, e.g. ``org.business_income_fen``) and the
comparison, and this module says whether it holds and why, in words a person
can check (“一村一档 2025年经营性收入 4.20万元 ≥ 3万元”). Pure: the service
reads the figures and stores what comes out; no database, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from townapp.evaluations.schemes import Condition, Indicator
from townapp.outputs.figures import FigureValue

_NUMERALS = "〇一二三四五六七八九十"
_HUNDRED = Decimal(100)
_WAN = Decimal(10_000)  # 元 in a 万元


@dataclass(frozen=True)
class FigureData:
    """One figure as read for the round's villages (label and kind from the figures registry)."""

    label: str
    kind: str  # count | fen | decimal | text
    values: Mapping[int, FigureValue]


@dataclass(frozen=True)
class ComputedValue:
    value: Decimal  # what the indicator gets: 1/0 for checks and stars, the points or 0 for scores
    met: bool
    source: str  # the words shown as 来源


def _number(value: FigureValue) -> Decimal | None:
    """A figure as a number: counts and amounts as they are, a star level (“六星”) as its stars."""
    if value is None or value == "":
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = value.strip()
    if text.endswith("星") and len(text) == 2 and text[0] in _NUMERALS:
        return Decimal(_NUMERALS.index(text[0]))
    try:
        return Decimal(text)
    except ArithmeticError:
        return None


def _plain(number: Decimal) -> str:
    """3 rather than 3.00, 4.2 rather than 4.20000."""
    return format(number.normalize(), "f")


def _show(data: FigureData, number: Decimal, unit: str) -> str:
    """The figure's value as a person reads it: 分 as 万元 with two decimals, text levels as they are."""
    if data.kind == "fen":
        return f"{(number / 1_000_000).quantize(Decimal('0.01'))}万元"
    if data.kind == "decimal":
        return f"{number.quantize(Decimal('0.01'))}{unit}"
    return f"{_plain(number)}{unit}"


def _threshold(data: FigureData, value: Decimal, unit: str) -> str:
    """The threshold as the scheme wrote it: money in 元 shown in 万元 (3万元), others with their unit."""
    if data.kind == "fen":
        return f"{_plain(value / _WAN)}万元" if value >= _WAN else f"{_plain(value)}元"
    return f"{_plain(value)}{unit}"


_SIGNS = {"min": ("≥", "<"), "max": ("≤", ">"), "equals": ("=", "≠")}


def _check(condition: Condition, village_id: int, figures: Mapping[str, FigureData]) -> tuple[bool, str] | None:
    """Whether one condition holds for the village, and the words saying so; None when the data is missing."""
    data = figures.get(condition.figure)
    if data is None:
        return None
    if condition.present is not None:
        flag = figures.get(condition.present)
        if flag is None or not flag.values.get(village_id):
            return None
    raw = data.values.get(village_id)
    if condition.op == "equals" and isinstance(condition.value, str):
        if raw in (None, ""):
            return None
        met = str(raw) == condition.value
        return met, f"{data.label} {raw} {_SIGNS['equals'][0 if met else 1]} {condition.value}"
    number = _number(raw)
    if number is None:
        return None
    shown = _show(data, number, condition.unit)
    label = data.label
    if condition.share_of is not None:
        whole_data = figures.get(condition.share_of)
        whole = _number(whole_data.values.get(village_id)) if whole_data else None
        if not whole:
            return None
        number = number * _HUNDRED / whole  # compared exactly, shown to one decimal
        shown, label = f"{_plain(number.quantize(Decimal('0.1')))}%", f"{label}占{whole_data.label}"  # type: ignore[union-attr]
    limit = _limit(condition, village_id, data, figures)
    if limit is None:
        return None
    met = {"min": number >= limit[0], "max": number <= limit[0], "equals": number == limit[0]}[condition.op]
    return met, f"{label} {shown} {_SIGNS[condition.op][0 if met else 1]} {limit[1]}"


def _limit(condition: Condition, village_id: int, data: FigureData,
           figures: Mapping[str, FigureData]) -> tuple[Decimal, str] | None:
    """What the figure is compared with, in the figure's unit, and how to say it; None when that is missing."""
    if condition.than is not None:
        other = figures.get(condition.than)
        limit = _number(other.values.get(village_id)) if other else None
        if other is None or limit is None:
            return None
        return limit, f"{other.label} {_show(other, limit, condition.unit)}"
    assert isinstance(condition.value, Decimal)
    if condition.share_of is not None:
        return condition.value, f"{_plain(condition.value)}%"
    if data.kind == "fen":  # the scheme writes 元, the figure is 分
        return condition.value * 100, _threshold(data, condition.value, condition.unit)
    return condition.value, _threshold(data, condition.value, condition.unit)


def compute(indicator: Indicator, measure: str, village_id: int, figures: Mapping[str, FigureData],
            when: str) -> ComputedValue | None:
    """The indicator's value from the figures, or None when some data is missing (then it stays typed by hand).

    ``measure`` is the scheme's (checks and stars: 1 when met; score: the indicator's most points when met);
    ``when`` names the period in the source text (“2025年”).
    """
    spec = indicator.computed
    if spec is None:
        return None
    parts: list[str] = []
    met = True
    for condition in spec.conditions:
        checked = _check(condition, village_id, figures)
        if checked is None:
            return None
        met = met and checked[0]
        parts.append(checked[1])
    full = indicator.max if measure == "score" and indicator.max is not None else Decimal(1)
    text = f"{spec.source} {when}{parts[0]}" if len(parts) == 1 else f"{spec.source} {when}：{'；'.join(parts)}"
    return ComputedValue(full if met else Decimal(0), met, text)


# ----- how they are kept: the target's inputs JSON and the entry's scores JSON ------------------------
COMPUTED_KEY = "_computed"  # in EvalTarget.inputs: {code: {"value": "1", "source": "…"}}
OVERRIDES_KEY = "_overrides"  # in EvalEntry.scores: {code: reason} for computed values a person changed
MIN_REASON = 4


def stored_computed(inputs: Mapping[str, object]) -> dict[str, tuple[Decimal, str]]:
    """The target's computed values and their source text, as stored with the target."""
    raw = inputs.get(COMPUTED_KEY)
    if not isinstance(raw, dict):
        return {}
    return {code: (Decimal(str(item["value"])), str(item["source"])) for code, item in raw.items()}


def as_stored(values: Mapping[str, ComputedValue]) -> dict[str, dict[str, str]]:
    return {code: {"value": str(v.value), "source": v.source} for code, v in sorted(values.items())}


def split_scores(scores: Mapping[str, object]) -> tuple[dict[str, Decimal], dict[str, str]]:
    """An entry's typed values and its reasons for changing computed ones."""
    raw = scores.get(OVERRIDES_KEY)
    overrides = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    values = {k: Decimal(str(v)) for k, v in scores.items() if not k.startswith("_")}
    return values, overrides


def merged(values: Mapping[str, Decimal], overrides: Mapping[str, str],
           computed: Mapping[str, tuple[Decimal, str]]) -> dict[str, Decimal]:
    """What the engine sees: computed values, except where a person changed one with a reason."""
    out = dict(values)
    for code, (value, _source) in computed.items():
        if code not in overrides:
            out[code] = value
    return out


def show_value(measure: str, value: Decimal | None) -> str:
    """A value as the round's log says it: 达标/未达标 for checks and stars, points for scores."""
    if value is None:
        return "空"
    if measure == "score":
        return f"{_plain(value)}分"
    return "达标" if value > 0 else "未达标"
