"""Grid figures for returns and the dashboard: the grid tree, the roster by role, coverage, subsidies, 最美网格员.

As of the quarter's last day: grids not retired by then, members serving
then, households assigned to a micro-grid then. Subsidies count approved
(locked) months of the quarter only; money is integer 分.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from townapp.grids import models as g
from townapp.outputs.figures import Figure, FigureValue, Period, read_once
from townapp.outputs.parameters import figure_parameters
from townapp.registry import models as m

Compute = Callable[[Session, Period, Sequence[int]], dict[int, FigureValue]]


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    return figure_parameters()


def _zeroed(village_ids: Sequence[int], rows: Any) -> dict[int, FigureValue]:
    out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
    for village_id, value in rows:
        if village_id in out:
            out[village_id] = int(value or 0)
    return out


def _standing(end: dt.date):  # noqa: ANN202 (SQL expression)
    return or_(g.Grid.active.is_(True), g.Grid.retired_on > end)


def _grids(level: str) -> Compute:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        return _zeroed(village_ids, s.execute(
            select(g.Grid.village_id, func.count()).where(g.Grid.level == level, _standing(period.end))
            .group_by(g.Grid.village_id)))
    return compute


def _members(role: str) -> Compute:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        end = period.end
        return _zeroed(village_ids, s.execute(
            select(g.Grid.village_id, func.count(distinct(g.GridMember.id)))
            .join(g.Grid, g.Grid.id == g.GridMember.grid_id)
            .where(g.GridMember.role == role, g.GridMember.started_on <= end,
                   or_(g.GridMember.ended_on.is_(None), g.GridMember.ended_on > end))
            .group_by(g.Grid.village_id)))
    return compute


def _covered(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    """Households in a grid on the period's last day (the uncovered figure needs them too)."""
    return read_once(s, ("grids.covered", period, tuple(village_ids)), lambda: _read_covered(s, period, village_ids))


def _read_covered(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    end = period.end
    return _zeroed(village_ids, s.execute(
        select(m.Household.village_id, func.count(distinct(g.GridAssignment.household_id)))
        .join(m.Household, m.Household.id == g.GridAssignment.household_id)
        .where(g.GridAssignment.started_on <= end,
               or_(g.GridAssignment.ended_on.is_(None), g.GridAssignment.ended_on > end))
        .group_by(m.Household.village_id)))


def _uncovered(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    """Households minus covered ones, so covered + uncovered always equals the households."""
    households = _zeroed(village_ids, s.execute(select(m.Household.village_id, func.count())
                                                .group_by(m.Household.village_id)))
    covered = _covered(s, period, village_ids)
    return {v: int(households[v] or 0) - int(covered[v] or 0) for v in village_ids}


def _quarter_months(period: Period):  # noqa: ANN202 (SQL expression)
    return and_(g.GridMonth.year == period.year, g.GridMonth.month.in_(period.months))


def _subsidy(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    return _zeroed(village_ids, s.execute(
        select(g.Grid.village_id, func.sum(g.GridAssessment.subsidy_fen))
        .join(g.GridMonth, g.GridMonth.id == g.GridAssessment.month_id)
        .join(g.GridMember, g.GridMember.id == g.GridAssessment.member_id)
        .join(g.Grid, g.Grid.id == g.GridMember.grid_id)
        .where(_quarter_months(period), g.GridMonth.locked.is_(True))
        .group_by(g.Grid.village_id)))


def _stars(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    return _zeroed(village_ids, s.execute(
        select(g.GridStar.village_id, func.count())
        .join(g.GridMonth, g.GridMonth.id == g.GridStar.month_id)
        .where(_quarter_months(period)).group_by(g.GridStar.village_id)))


def figures() -> list[Figure]:
    out = [
        Figure("grids.grids", "网格", _grids("网格")),
        Figure("grids.aux_grids", "辅助网格", _grids("辅助网格")),
        Figure("grids.micro_grids", "微网格", _grids("微网格")),
    ]
    for number, role in enumerate(parameters()["grid_roles"], start=1):
        out.append(Figure(f"grids.role_{number}", role, _members(role)))
    out += [
        Figure("grids.covered_households", "已覆盖户数", _covered),
        Figure("grids.uncovered_households", "未覆盖户数", _uncovered),
        # the months' approvals and the 最美网格员 choices are the township's: reported, not copied
        Figure("grids.subsidy_fen", "本季度补助发放总额", _subsidy, "fen", reported=True),
        Figure("grids.stars_in_quarter", "最美网格员人次", _stars, reported=True),
    ]
    return out
