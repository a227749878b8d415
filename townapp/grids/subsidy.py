"""Monthly assessment arithmetic, pure and exact: totals in tenths of a point, money in 分.

subsidy = base × band factor (差额发放, rounded half up to the 分) + phone
allowance. The GUI recomputes a row's total live with these same functions,
and the service stores what they return at approval, so screen, list and
database never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from townapp.core.errors import FieldProblem
from townapp.grids.scheme import Band, Scheme, format_points


@dataclass(frozen=True)
class SubsidyLine:
    total_tenths: int
    band: Band
    base_fen: int
    performance_fen: int
    allowance_fen: int

    @property
    def subsidy_fen(self) -> int:
        return self.performance_fen + self.allowance_fen


def check_scores(scheme: Scheme, scores: Mapping[str, int | None], deduction: int,
                 reason: str | None) -> list[FieldProblem]:
    """Each item within 0…max, a deduction never negative and always with a reason."""
    problems = []
    for item in scheme.items:
        value = scores.get(item.key)
        if value is not None and not 0 <= value <= item.max_tenths:
            problems.append(FieldProblem(item.key, f"{item.label}应在 0 至 {format_points(item.max_tenths)} 分之间"))
    unknown = sorted(set(scores) - {i.key for i in scheme.items})
    if unknown:
        problems.append(FieldProblem("scores", f"考核方案中没有这些项目：{'、'.join(unknown)}"))
    if deduction < 0:
        problems.append(FieldProblem("deduction", "扣分不能为负数"))
    if deduction > 0 and not (reason or "").strip():
        problems.append(FieldProblem("deduction_reason", "有扣分时必须填写扣分原因"))
    return problems


def total_tenths(scheme: Scheme, scores: Mapping[str, int | None], deduction: int) -> int | None:
    """Sum of the items less the deduction, never below 0; None while any item is still empty."""
    values = [scores.get(item.key) for item in scheme.items]
    if any(v is None for v in values):
        return None
    return max(0, sum(v for v in values if v is not None) - max(deduction, 0))


def band_for(scheme: Scheme, total: int) -> Band:
    """The first band (highest minimum first) whose minimum the total reaches: a band edge belongs to the upper band."""
    for band in scheme.bands:
        if total >= band.min_tenths:
            return band
    return scheme.bands[-1]


def subsidy_for(scheme: Scheme, total: int, role: str) -> SubsidyLine:
    band = band_for(scheme, total)
    base = scheme.base_for(role)
    performance = int((Decimal(base) * band.factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    allowance = scheme.phone_allowance_fen if total >= scheme.phone_allowance_min_tenths else 0
    return SubsidyLine(total, band, base, performance, allowance)


def competition_ranks(totals: Mapping[int, int | None]) -> dict[int, int]:
    """1, 2, 2, 4 …: equal totals share a rank; rows without a total are not ranked."""
    ordered = sorted(((t, k) for k, t in totals.items() if t is not None), key=lambda x: -x[0])
    ranks: dict[int, int] = {}
    previous, rank = None, 0
    for position, (total, key) in enumerate(ordered, start=1):
        if total != previous:
            rank, previous = position, total
        ranks[key] = rank
    return ranks
