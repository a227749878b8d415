"""Named per-village points figures as of a date, for quarterly returns and other outputs.

``outputs`` never imports this module; the composition root hands these
functions (or their results) over. Scores count the records effective on or
before ``as_of`` in ``as_of``'s year (reversed pairs left out, caps applied) — of a whole year, every
effective record, even one whose 公示 ended in January; records (by the same rule) and redemptions
count inside [start, as_of]. Point values are
``Decimal`` with one decimal place, counts are ``int``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from townapp.core.actor import SYSTEM_ACTOR
from townapp.core.points import points_decimal
from townapp.db import Database
from townapp.points import models as p
from townapp.points.dto import TotalRow
from townapp.points.service import EFFECTIVE, PointsService, counted_until

# name → Chinese label; grade figures are "points.grade.<等级>" for each grade of the year's rules
FIGURES: dict[str, str] = {
    "points.participants": "参与积分人数",
    "points.average": "平均分",
    "points.highest": "最高分",
    "points.lowest": "最低分",
    "points.records": "期间生效积分记录数",
    "points.redemptions": "期间兑换次数",
    "points.redeemed_points": "期间兑换积分",
}


@dataclass(frozen=True)
class VillageFigures:
    village_id: int
    name: str
    participants: int = 0
    average: Decimal | None = None
    highest: Decimal | None = None
    lowest: Decimal | None = None
    grades: dict[str, int] = field(default_factory=dict)
    records: int = 0
    redemptions: int = 0
    redeemed_points: Decimal = Decimal("0")

    def value(self, name: str) -> Decimal | int | None:
        """One named figure (see ``FIGURES``; ``points.grade.优秀`` and the like for grade counts)."""
        if name.startswith("points.grade."):
            return self.grades.get(name.removeprefix("points.grade."), 0)
        key = name.removeprefix("points.")
        if key not in {k.removeprefix("points.") for k in FIGURES}:
            raise KeyError(name)
        return getattr(self, key)


def figure_names(db: Database, year: int) -> dict[str, str]:
    """Every figure name with its label, grade counts included, for a return layout editor."""
    names = dict(FIGURES)
    for grade in PointsService(db, SYSTEM_ACTOR).grade_names(year):
        names[f"points.grade.{grade}"] = f"{grade}人数"
    return names


def village_figures(db: Database, as_of: dt.date, start: dt.date | None = None,
                    totals: list[TotalRow] | None = None) -> dict[int, VillageFigures]:
    """Per village: participants, average/highest/lowest score, grade counts, records and redemptions in the period.

    ``totals``: ``PointsService.totals(as_of.year, as_of=as_of)`` if the caller has computed it already.
    """
    start = start or dt.date(as_of.year, 1, 1)
    service = PointsService(db, SYSTEM_ACTOR)
    summaries = {g.id: g for g in service.village_summaries(as_of.year, as_of=as_of, totals=totals)
                 if g.id is not None}
    end = dt.datetime.combine(as_of, dt.time.max)
    begin = dt.datetime.combine(start, dt.time.min)
    # as the scores count them: a whole year's last quarter counts its records that took effect in January
    until = counted_until(as_of.year, as_of) or dt.date.max
    with db.reader() as s:
        reversal = aliased(p.PointRecord)
        reversed_by_then = (select(reversal.id).where(reversal.reverses_id == p.PointRecord.id,
                                                      reversal.effective_on <= until).exists())
        records = dict(s.execute(
            select(p.PointRecord.village_id, func.count())
            # a record's year is its day's year: the year condition lets SQLite search the year's index
            .where(p.PointRecord.year.between(start.year, as_of.year), p.PointRecord.status == EFFECTIVE,
                   p.PointRecord.effective_on <= until,
                   p.PointRecord.occurred_on >= start, p.PointRecord.occurred_on <= as_of,
                   # "+ 0": never the unique index on reverses_id (NULL for nearly every record, each row then
                   # fetched from the table); the year's covering index holds reverses_id
                   (p.PointRecord.reverses_id + 0).is_(None), ~reversed_by_then)
            .group_by(p.PointRecord.village_id)).all())
        live = or_(p.Redemption.cancelled_at.is_(None), p.Redemption.cancelled_at > end)
        redemptions = {vid: (count, total or 0) for vid, count, total in s.execute(
            select(p.Redemption.village_id, func.count(), func.sum(p.Redemption.points_tenths))
            .where(and_(p.Redemption.redeemed_at >= begin, p.Redemption.redeemed_at <= end, live))
            .group_by(p.Redemption.village_id)).all()}
    out: dict[int, VillageFigures] = {}
    for vid in set(summaries) | {v for v in records if v} | {v for v in redemptions if v}:
        g = summaries.get(vid)
        count, spent = redemptions.get(vid, (0, 0))
        out[vid] = VillageFigures(
            vid, g.name if g else "", g.participants if g else 0, g.average if g else None,
            points_decimal(g.highest) if g and g.highest is not None else None,
            points_decimal(g.lowest) if g and g.lowest is not None else None,
            dict(g.grades) if g else {}, records.get(vid, 0), count, points_decimal(spent))
    return out


def figure(db: Database, name: str, as_of: dt.date, start: dt.date | None = None) -> dict[int, Decimal | int | None]:
    """One named figure for every village that has points data: {village id: value}."""
    return {vid: f.value(name) for vid, f in village_figures(db, as_of, start).items()}
