"""Cell rules of a round's score sheet, shared by the score grid, the stage workbook and the service.

A cell typed on the score grid and the same cell in a returned workbook mean the
same thing: both are read by these functions. A 否决 (negative item) cell that
says “×”, “N”, “no”, “否”, “无” or nothing is *not* triggered (the workbook asks
“有此情形填‘是’或写明情况，没有留空”, and × is how a form says “no”); “是”, “√”,
“1” … trigger it without a note; any other text triggers it with that text as
the note, so a written-out case is never lost. The yes/no words live in
resources/evaluations/vocabulary.json (``cell_answers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from townapp.core.text import remove_spaces, squeeze_spaces, to_halfwidth
from townapp.evaluations.schemes import Indicator, InputSpec, Scheme, vocabulary

CHECKABLE = ("stars", "checks")  # measures whose indicators are 1 (星/达标) or 0
NOTE_LENGTH = 200
COMMENT_LENGTH = 400


class CellError(ValueError):
    """A cell that cannot be read; the message (Chinese) says what to type instead."""

    @property
    def message(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Answers:
    """The spellings of yes and no, as keys (``_key``) and as typed (for an import column's synonyms)."""

    yes: frozenset[str]
    no: frozenset[str]
    earned: frozenset[str]  # a star or check cell that counts: yes, ★, 达标
    not_earned: frozenset[str]  # one that does not: no, ☆, 未达标
    yes_words: tuple[str, ...]
    no_words: tuple[str, ...]


def _key(value: Any) -> str:
    """A cell reduced for comparing with the word lists: half width, no spaces, lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return remove_spaces(to_halfwidth(str(value))).casefold()


@lru_cache(maxsize=1)
def answers() -> Answers:
    words = vocabulary()
    yes, no = tuple(words["cell_answers"]["yes"]), tuple(words["cell_answers"]["no"])
    stars, checks = words["star_values"], words["check_values"]
    yes_words = yes + (stars["earned"], checks["passed"])
    no_words = no + (stars["not_earned"], checks["failed"])
    keys = lambda items: frozenset(_key(w) for w in items)  # noqa: E731
    return Answers(keys(yes), keys(no), keys(yes_words), keys(no_words), yes_words, no_words)


def earned_label(measure: str) -> str:
    """How a counted indicator is written in a workbook: ★ for stars, 达标 for checks."""
    words = vocabulary()
    return words["star_values"]["earned"] if measure == "stars" else words["check_values"]["passed"]


def not_earned_label(measure: str) -> str:
    words = vocabulary()
    return words["star_values"]["not_earned"] if measure == "stars" else words["check_values"]["failed"]


def score_synonyms(measure: str) -> dict[str, str]:
    """A star/check column's accepted spellings → its two choices (the workbook's drop-down column)."""
    found = answers()
    out: dict[str, str] = {}
    for words, label in ((found.yes_words, earned_label(measure)), (found.no_words, not_earned_label(measure))):
        for word in words:
            out[word] = label
            out[word.upper()] = label  # the exchange also looks a value up in upper case
    return out


# ----- reading a cell ----------------------------------------------------------------------------------------
def parse_score(measure: str, name: str, value: Any) -> Decimal | None:
    """A score cell → its value (None: not filled). Stars and checks: 1 or 0; otherwise a number.

    Raises ``CellError`` for a cell that cannot be read; ranges are checked by ``check_score``.
    """
    if isinstance(value, Decimal):
        return value
    key = _key(value)
    if key == "":
        return None
    if measure in CHECKABLE:
        found = answers()
        if key in found.earned:
            return Decimal(1)
        if key in found.not_earned:
            return Decimal(0)
        what = "得星" if measure == "stars" else "达标"
        raise CellError(f"“{name}”请填 1（{what}）或 0，现为“{value}”")
    try:
        number = Decimal(key.removesuffix("分"))
    except InvalidOperation:
        raise CellError(f"“{name}”应填数字，现为“{value}”") from None
    if not number.is_finite():
        raise CellError(f"“{name}”应填数字，现为“{value}”")
    return number


def parse_negative(value: Any) -> str | None:
    """A negative-item cell → None (not triggered), "" (triggered, no note) or the note it holds."""
    key = _key(value)
    found = answers()
    if key == "" or key in found.no:
        return None
    if key in found.yes:
        return ""
    return clean_note(str(value))


def clean_note(note: str | None) -> str:
    """A negative item's note as stored: spaces squeezed, at most 200 characters."""
    return squeeze_spaces(note or "")[:NOTE_LENGTH]


def clean_comment(comment: str) -> str | None:
    return squeeze_spaces(comment)[:COMMENT_LENGTH] or None


def parse_text(value: Any) -> str | None:
    """An input or comment cell: trimmed text, None when empty."""
    text = "" if value is None else str(value).strip()
    return text or None


# ----- writing a cell ----------------------------------------------------------------------------------------
def score_text(measure: str, value: Decimal | None) -> str | None:
    """A stored score as the workbook shows it: ★/☆, 达标/未达标 or the number."""
    if value is None:
        return None
    if measure in CHECKABLE:
        return earned_label(measure) if value else not_earned_label(measure)
    return str(value)


def negative_text(note: str) -> str:
    """A triggered negative item as a cell: its note, or “是”."""
    return note or vocabulary()["yes_no"]["yes"]


# ----- checking a value against the scheme --------------------------------------------------------------------
def check_score(scheme: Scheme, indicator: Indicator, value: Any) -> Decimal | None:
    """A score for ``indicator`` as stored; raises ``CellError`` saying what is wrong."""
    value = parse_score(scheme.measure, indicator.name, value)
    if value is None:
        return None
    if scheme.measure in CHECKABLE:
        if value not in (0, 1):
            what = "星" if scheme.measure == "stars" else "达标"
            raise CellError(f"“{indicator.name}”应为1（{what}）或0，现为{value}")
        return Decimal(int(value))
    assert indicator.max is not None
    if not Decimal(0) <= value <= indicator.max:
        raise CellError(f"“{indicator.name}”应在0至{indicator.max}分之间，现为{value}")
    if value != value.quantize(Decimal("0.1")):
        raise CellError(f"“{indicator.name}”最多一位小数，现为{value}")
    return value


def check_input(spec: InputSpec, raw: Any) -> str | Decimal | None:
    """An input item's value as stored (None: cleared); raises ``CellError``."""
    if raw is None or raw == "":
        return None
    if spec.kind == "choice":
        if str(raw) not in spec.choices:
            raise CellError(f"{spec.name}应为{'、'.join(spec.choices)}之一，现为“{raw}”")
        return str(raw)
    try:
        number = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    except InvalidOperation:
        raise CellError(f"{spec.name}应填数字，现为“{raw}”") from None
    if spec.kind == "int" and number != number.to_integral_value():
        raise CellError(f"{spec.name}应为整数，现为{number}")
    if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
        raise CellError(f"{spec.name}应在{spec.min if spec.min is not None else '-'}"
                        f"至{spec.max if spec.max is not None else '-'}之间，现为{number}")
    return number
