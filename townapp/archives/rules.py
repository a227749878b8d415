"""Cross-field validation rules, DHIS2-style: the rules are data (resources/archives/rules.json).

Code only knows a handful of rule *kinds* (compare two sums, no negatives,
one holder of a post at a time, 一肩挑, a count per year, the acceptance pass
mark); which fields, which bounds, which severity and which Chinese message
are read from the file at start-up. The GUI shows the same violations inline
that ``townapp check`` reports.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, StrictInt

from townapp import config
from townapp.archives.vocab import label
from townapp.core.money import format_yuan
from townapp.core.resources import Resource, Text, load

ERROR, WARNING = "error", "warning"
_OPS: dict[str, Callable[[int, int], bool]] = {"==": operator.eq, "<=": operator.le, ">=": operator.ge,
                                               "<": operator.lt, ">": operator.gt}
_TOKEN = re.compile(r"\s*([+-])?\s*([A-Za-z_][A-Za-z0-9_]*|\d+)\s*")
_FAR_FUTURE = dt.date(9999, 12, 31)
_FAR_PAST = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    entity: str
    severity: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    """One broken rule: what the user reads, and which fields to mark."""

    rule_id: str
    severity: str
    message: str
    fields: tuple[str, ...] = ()
    year: int | None = None


@dataclass(frozen=True)
class CadreFact:
    """What the post rules need about one 两委 post."""

    person_id: int
    name: str
    post: str
    one_shoulder: bool
    started_on: dt.date | None
    ended_on: dt.date | None

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        return self.started_on or _FAR_PAST, self.ended_on or _FAR_FUTURE


class Expression:
    """A sum of fields and integers such as ``debt_opening + debt_new - debt_resolved``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.terms: list[tuple[int, str]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise ValueError(f"规则表达式无法识别：{text!r}")
            sign = -1 if match.group(1) == "-" else 1
            if self.terms and match.group(1) is None:
                raise ValueError(f"规则表达式缺少 + 或 -：{text!r}")
            self.terms.append((sign, match.group(2)))
            position = match.end()
        if not self.terms:
            raise ValueError("规则表达式为空")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for _sign, name in self.terms if not name.isdigit())

    def value(self, values: Mapping[str, int | None]) -> int | None:
        """The sum, or None when a field it needs is empty (the rule is then not applied)."""
        total = 0
        for sign, name in self.terms:
            amount = int(name) if name.isdigit() else values.get(name)
            if amount is None:
                return None
            total += sign * amount
        return total


def _expression(text: str) -> str:
    Expression(text)  # raises ValueError with the Chinese reason
    return text


Formula = Annotated[str, AfterValidator(_expression)]


class _Entry(Resource):
    id: Text
    severity: Literal["error", "warning"]
    message: Text


class FormulaEntry(_Entry):
    kind: Literal["formula"]
    entity: Literal["year"]
    left: Formula
    op: Literal["==", "<=", ">=", "<", ">"]
    right: Formula
    fields: list[Text] = []


class NonNegativeEntry(_Entry):
    kind: Literal["non_negative"]
    entity: Literal["year"]
    fields: Annotated[list[Text], Field(min_length=1)]


class SingleHolderEntry(_Entry):
    kind: Literal["single_holder"]
    entity: Literal["cadre"]
    post: Text


class OneShoulderEntry(_Entry):
    kind: Literal["one_shoulder"]
    entity: Literal["cadre"]
    posts: tuple[Text, Text]


class CountRangeEntry(_Entry):
    kind: Literal["count_range"]
    entity: Literal["commitment"]
    min: Annotated[StrictInt, Field(ge=0)]
    max: Annotated[StrictInt, Field(ge=0)]


class CarryOverEntry(_Entry):
    """A balance carried into the next year: this year's ``field`` equals last year's ``previous``."""

    kind: Literal["carry_over"]
    entity: Literal["year"]
    field: Text
    previous: Text


class PassMarkEntry(_Entry):
    kind: Literal["pass_mark"]
    entity: Literal["rectification"]


RuleEntry = Annotated[FormulaEntry | NonNegativeEntry | SingleHolderEntry | OneShoulderEntry | CountRangeEntry
                      | PassMarkEntry | CarryOverEntry, Field(discriminator="kind")]


class RulesFile(Resource):
    """resources/archives/rules.json (or a township's own rules file)."""

    resource_label: ClassVar[str] = "档案校验规则"
    rules: list[RuleEntry]


def _rule(entry: _Entry) -> Rule:
    params = entry.model_dump(exclude={"id", "kind", "entity", "severity", "message"})
    if isinstance(entry, FormulaEntry):
        params["left_expr"] = Expression(entry.left)
        params["right_expr"] = Expression(entry.right)
    return Rule(entry.id, entry.kind, entry.entity, entry.severity, entry.message, params)


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    """Parse a rules file; a malformed file fails at start-up (a Chinese ResourceError), not in a check."""
    return tuple(_rule(entry) for entry in load(RulesFile, path or config.resource("archives", "rules.json")).rules)


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    return load_rules()


def _of(kind_entity: str, ruleset: Sequence[Rule] | None) -> list[Rule]:
    return [r for r in (ruleset if ruleset is not None else rules()) if r.entity == kind_entity]


def check_year(values: Mapping[str, int | None], ruleset: Sequence[Rule] | None = None) -> list[Violation]:
    """Rules on one village-year's figures (amounts in 分)."""
    found: list[Violation] = []
    for rule in _of("year", ruleset):
        if rule.kind == "formula":
            left = rule.params["left_expr"].value(values)
            right = rule.params["right_expr"].value(values)
            if left is None or right is None:
                continue
            if not _OPS[rule.params["op"]](left, right):
                marked = tuple(rule.params.get("fields") or rule.params["left_expr"].fields)
                found.append(Violation(rule.id, rule.severity, rule.message.format(
                    left=format_yuan(left), right=format_yuan(right)), marked))
        elif rule.kind == "non_negative":
            for key in rule.params["fields"]:
                value = values.get(key)
                if value is not None and value < 0:
                    found.append(Violation(rule.id, rule.severity, rule.message.format(
                        field=label(key), value=format_yuan(value)), (key,)))
    return found


def check_carry_over(year: int, values: Mapping[str, int | None], previous: Mapping[str, int | None] | None,
                     ruleset: Sequence[Rule] | None = None) -> list[Violation]:
    """Rules between a village-year and the year before (e.g. 年初债务余额 = 上年年末余额); none without a
    previous year, or when either figure is empty."""
    found: list[Violation] = []
    if previous is None:
        return found
    for rule in _of("year", ruleset):
        if rule.kind != "carry_over":
            continue
        value, before = values.get(rule.params["field"]), previous.get(rule.params["previous"])
        if value is not None and before is not None and value != before:
            found.append(Violation(rule.id, rule.severity, rule.message.format(
                year=year, previous_year=year - 1, value=format_yuan(value), previous=format_yuan(before),
                field=label(rule.params["field"]), previous_field=label(rule.params["previous"])),
                (rule.params["field"],), year))
    return found


def _overlap(a: CadreFact, b: CadreFact) -> bool:
    (a0, a1), (b0, b1) = a.span, b.span
    return a0 <= b1 and b0 <= a1


def check_cadres(cadres: Sequence[CadreFact], ruleset: Sequence[Rule] | None = None) -> list[Violation]:
    """Post rules over all of one village's 两委 posts (history included)."""
    found: list[Violation] = []
    for rule in _of("cadre", ruleset):
        if rule.kind == "single_holder":
            holders = sorted((c for c in cadres if c.post == rule.params["post"]), key=lambda c: c.span)
            for index, first in enumerate(holders):
                for second in holders[index + 1:]:
                    if first.person_id != second.person_id and _overlap(first, second):
                        found.append(Violation(rule.id, rule.severity,
                                               rule.message.format(first=first.name, second=second.name), ("post",)))
        elif rule.kind == "one_shoulder":
            head, director = rule.params["posts"]
            for cadre in cadres:
                if not cadre.one_shoulder or cadre.post != head:
                    continue  # the flag is read on the 书记 post; a 主任 row may carry it too
                others = [c for c in cadres if c.post == director and _overlap(c, cadre)]
                if not others or any(c.person_id != cadre.person_id for c in others):
                    other = "、".join(sorted({c.name for c in others if c.person_id != cadre.person_id})) or "空缺"
                    found.append(Violation(rule.id, rule.severity,
                                           rule.message.format(name=cadre.name, other=other), ("one_shoulder",)))
    return found


def check_commitment_counts(counts: Mapping[int, int], ruleset: Sequence[Rule] | None = None) -> list[Violation]:
    """Commitments per year, for the years given (a year with none is given as 0)."""
    found: list[Violation] = []
    for rule in _of("commitment", ruleset):
        if rule.kind != "count_range":
            continue
        for year, count in sorted(counts.items()):
            if not rule.params["min"] <= count <= rule.params["max"]:
                found.append(Violation(rule.id, rule.severity, rule.message.format(year=year, count=count),
                                       ("commitments",), year))
    return found


def expected_result(score: Decimal, pass_mark: int) -> str:
    return "通过" if score >= pass_mark else "未通过"


def check_rectification(year: int, score: Decimal | None, result: str | None, pass_mark: int,
                        ruleset: Sequence[Rule] | None = None) -> list[Violation]:
    found: list[Violation] = []
    for rule in _of("rectification", ruleset):
        if rule.kind != "pass_mark" or score is None or result is None:
            continue
        expected = expected_result(score, pass_mark)
        # below the pass mark can never pass; at or above it a case may still fail on a veto
        # (e.g. the acceptance scheme fails a village whose 不满意 share is over 50%, whatever its score)
        if result == "通过" and expected != "通过":
            found.append(Violation(rule.id, rule.severity, rule.message.format(
                year=year, score=score, pass_mark=pass_mark, expected=expected), ("result",)))
    return found
