"""The one evaluation engine: a pure function from a scheme and an entry to a level.

No database, no clock, no randomness: the same scheme, entry and inputs always
give the same outcome, so a locked round can be re-checked years later and
the demo can use the very same code. Order of rules: thresholds give a level,
``raise`` rules lift it, caps (negative items, input rules) bound it, and any
veto (negative item, input rule, a revoked title still barred) removes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from townapp.evaluations.schemes import InputRule, Scheme

TENTH = Decimal("0.1")
InputValue = str | Decimal


@dataclass(frozen=True)
class EntryData:
    """What one stage recorded for one target: indicator values, ticked negative items, target inputs."""

    values: Mapping[str, Decimal] = field(default_factory=dict)  # stars/checks: 1 or 0; scores: points
    negatives: frozenset[str] = frozenset()
    inputs: Mapping[str, InputValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    level: str  # a level name, or the scheme's "unrated" name
    rank: int  # 0 when unrated
    measure: Decimal | None  # stars earned, points, or checks passed
    vetoed: bool = False
    reasons: tuple[str, ...] = ()  # why a level was raised, capped or vetoed
    flags: tuple[str, ...] = ()  # e.g. 建议调整名单
    missing: tuple[str, ...] = ()  # indicators and inputs still empty
    detail: str = ""  # e.g. the 短板先考 path of a creation assessment

    @property
    def summary(self) -> str:
        return "；".join([*self.reasons, *([self.detail] if self.detail else [])])


def round_tenth(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


def roll_up(values: Sequence[Decimal], method: str) -> Decimal | None:
    """Shorter rounds' results summarised for a longer one (months → quarter → year); None without data."""
    if not values:
        return None
    if method == "sum":
        return round_tenth(sum(values, Decimal(0)))
    if method == "min":
        return min(values)
    if method == "max":
        return max(values)
    return round_tenth(sum(values, Decimal(0)) / len(values))


def _rule_fires(rule: InputRule, value: InputValue | None) -> bool:
    if value is None or value == "":
        return False
    if rule.condition == "in":
        return str(value) in rule.values
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    assert rule.threshold is not None
    return number < rule.threshold if rule.condition == "below" else number > rule.threshold


def evaluate(scheme: Scheme, entry: EntryData, *, rollup: Decimal | None = None, barred: str | None = None,
             prior: EntryData | None = None) -> Outcome:
    """The level ``entry`` earns under ``scheme``.

    ``rollup``: the summary of shorter rounds when the scheme is built on them;
    ``barred``: why the target may not be rated at all (a revoked title within
    the ban); ``prior``: an earlier stage's entry that orders a 短板先考 assessment.
    """
    missing = [i.name for i in scheme.indicators if entry.values.get(i.code) is None]
    missing += [i.name for i in scheme.inputs if entry.inputs.get(i.key) in (None, "")]
    reasons: list[str] = []
    detail = ""
    if scheme.measure == "checks":
        rank, measure, detail = _checks(scheme, entry, prior)
    else:
        measure = Decimal(0)
        for indicator in scheme.indicators:
            value = entry.values.get(indicator.code)
            if value is not None:
                measure += value * indicator.stars if scheme.measure == "stars" else value
        if scheme.rollup is not None:
            if rollup is None:
                missing.append(scheme.rollup.label)
            else:
                measure += rollup
        measure = round_tenth(measure)
        rank = next((lv.rank for lv in scheme.levels if lv.min is not None and measure >= lv.min), 0)

    vetoes: list[str] = []
    caps: list[tuple[int, str]] = []
    for rule in scheme.input_rules:
        if not _rule_fires(rule, entry.inputs.get(rule.input)):
            continue
        if rule.effect == "raise" and rank > 0:
            lifted = min(rank + rule.steps, max(lv.rank for lv in scheme.levels))
            if lifted != rank:
                reasons.append(rule.reason)
                rank = lifted
        elif rule.effect == "cap":
            caps.append((scheme.rank_of(rule.cap), rule.reason))
        elif rule.effect == "veto":
            vetoes.append(rule.reason)
    for code in sorted(entry.negatives):
        item = scheme.negative(code)
        if item is None:
            continue
        if item.effect == "veto":
            vetoes.append(f"一票否决：{item.name}")
        else:
            caps.append((scheme.rank_of(item.cap), f"{item.name}，最高评为{item.cap}"))
    for cap_rank, reason in caps:
        if rank > cap_rank:
            rank = cap_rank
            reasons.append(reason)
    if barred:
        vetoes.insert(0, barred)
    vetoed = bool(vetoes)
    if vetoed:
        rank = 0
        reasons.extend(vetoes)
    flags = tuple(f.name for f in scheme.flags
                  if (f.vetoed and vetoed) or (f.below is not None and measure is not None and measure < f.below))
    return Outcome(scheme.level_of_rank(rank), rank, measure, vetoed, tuple(reasons), flags, tuple(missing), detail)


def _checks(scheme: Scheme, entry: EntryData, prior: EntryData | None) -> tuple[int, Decimal, str]:
    """Pass/fail standards per level; the applied level is assessed weakest standard first, stopping at a failure."""
    level_rank = {lv.name: lv.rank for lv in scheme.levels}
    passed = {code for code, value in entry.values.items() if value and value > 0}
    top = max(level_rank.values())
    applied = str(entry.inputs.get(scheme.applied_input) or "") if scheme.applied_input else ""
    applied_rank = level_rank.get(applied, top)

    def holds(rank: int, codes: set[str]) -> bool:
        return all(i.code in codes for i in scheme.indicators if level_rank[i.level or ""] <= rank)

    measure = Decimal(len([i for i in scheme.indicators if i.code in passed]))
    standards = [(name, [i for i in items if level_rank[i.level or ""] <= applied_rank])
                 for name, items in scheme.categories]
    standards = [(name, items) for name, items in standards if items]
    if scheme.assess_order == "weakest_first":
        basis = prior if prior is not None and prior.values else entry
        before = {code for code, value in basis.values.items() if value and value > 0}
        standards.sort(key=lambda s: Decimal(sum(1 for i in s[1] if i.code in before)) / len(s[1]))
    walked = []
    failed = None
    for name, items in standards:
        walked.append(name)
        if not all(i.code in passed for i in items):
            failed = name
            break
    applied_name = scheme.level_of_rank(applied_rank)
    if failed is None:
        return applied_rank, measure, f"申报{applied_name}：{len(walked)}项标准全部达标"
    reached = next((r for r in range(applied_rank - 1, 0, -1) if holds(r, passed)), 0)
    order = "→".join(walked)
    return reached, measure, f"短板先考（申报{applied_name}）：{order}，“{failed}”未达到{applied_name}标准，考核止于此项"
