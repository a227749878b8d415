"""Village-organisation figures for returns and the dashboard: 软弱涣散, 集体经济, 债务, 运转经费, 阵地, 承诺.

Yearly figures (economy, debt, funding, stars kept in the archive) come from
the latest year on file up to the quarter's year: a first-quarter return is
filed before the new year's accounts exist. Money is integer 分.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townapp.archives import models as a
from townapp.outputs.figures import Figure, FigureValue, Period, read_once
from townapp.outputs.parameters import figure_parameters

Compute = Callable[[Session, Period, Sequence[int]], dict[int, FigureValue]]


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    return figure_parameters()


def _years(s: Session, period: Period) -> dict[int, a.ArchiveYear]:
    """Per village, its latest ArchiveYear up to the period's year (read once per session)."""
    def read() -> dict[int, a.ArchiveYear]:
        latest: dict[int, a.ArchiveYear] = {}
        for row in s.scalars(select(a.ArchiveYear).where(a.ArchiveYear.year <= period.year)
                             .order_by(a.ArchiveYear.year, a.ArchiveYear.id)):
            latest[row.village_id] = row
        return latest
    return read_once(s, ("archives.years", period.year), read)


def _year_field(name: str) -> Compute:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        years = _years(s, period)
        return {v: int(getattr(years[v], name) or 0) if v in years else 0 for v in village_ids}
    return compute


def _two_years(name: str, combine: Callable[[int, int], int]) -> Compute:
    """This year's and last year's figure combined (growth, the lower of two stars), where both are on file
    (else empty: no data)."""
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        def read() -> dict[tuple[int, int], a.ArchiveYear]:
            return {(r.village_id, r.year): r for r in s.scalars(
                select(a.ArchiveYear).where(a.ArchiveYear.year.in_((period.year - 1, period.year))))}
        rows = read_once(s, ("archives.two_years", period.year), read)
        out: dict[int, FigureValue] = {}
        for v in village_ids:
            now, before = rows.get((v, period.year)), rows.get((v, period.year - 1))
            now_value, before_value = getattr(now, name, None), getattr(before, name, None)
            out[v] = None if now_value is None or before_value is None else combine(int(now_value), int(before_value))
        return out
    return compute


def _year_star(name: str) -> Compute:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        years = _years(s, period)
        out: dict[int, FigureValue] = {}
        for v in village_ids:
            stars = getattr(years[v], name) if v in years else None
            out[v] = f"{'〇一二三四五六七八九'[stars]}星" if stars and 0 < stars < 10 else ""
        return out
    return compute


def _funding_in_place(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    years = _years(s, period)
    out: dict[int, FigureValue] = {}
    for v in village_ids:
        row = years.get(v)
        if row is None or row.funding_standard is None:
            out[v] = ""
        else:
            out[v] = "是" if (row.funding_received or 0) >= row.funding_standard else "否"
    return out


def _rectification(s: Session, period: Period) -> dict[int, a.ArchiveRectification]:
    """Per village, the rectification open at the quarter's end or listed in its year."""
    end = period.end
    out: dict[int, a.ArchiveRectification] = {}
    for row in s.scalars(select(a.ArchiveRectification).where(a.ArchiveRectification.year <= period.year)
                         .order_by(a.ArchiveRectification.year, a.ArchiveRectification.id)):
        accepted = row.result == "通过" and row.accepted_on is not None and row.accepted_on <= end
        if row.year == period.year or not accepted:
            out[row.village_id] = row
    return out


def _weak(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    listed = _rectification(s, period)
    return {v: "是" if v in listed else "否" for v in village_ids}


def _weak_status(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    listed = _rectification(s, period)
    out: dict[int, FigureValue] = {}
    for v in village_ids:
        row = listed.get(v)
        if row is None:
            out[v] = ""
        elif row.accepted_on is not None and row.accepted_on <= period.end:
            out[v] = "验收通过" if row.result == "通过" else "验收未通过"
        else:
            out[v] = "整顿中"
    return out


def _centre_area(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    out: dict[int, FigureValue] = dict.fromkeys(village_ids, Decimal("0.00"))
    for village_id, area in s.execute(select(a.ArchiveCentre.village_id, a.ArchiveCentre.area_m2)):
        if village_id in out and area is not None:
            out[village_id] = Decimal(area).quantize(Decimal("0.01"))
    return out


def _commitments(done_only: bool) -> Compute:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        query = (select(a.ArchiveCommitment.village_id, func.count())
                 .where(a.ArchiveCommitment.year == period.year).group_by(a.ArchiveCommitment.village_id))
        if done_only:
            query = query.where(a.ArchiveCommitment.status.in_(parameters()["commitment_done_status"]),
                                (a.ArchiveCommitment.completed_on.is_(None))
                                | (a.ArchiveCommitment.completed_on <= period.end))
        out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
        for village_id, count in s.execute(query):
            if village_id in out:
                out[village_id] = count
        return out
    return compute


# 三会一课 and 主题党日 by kind (resources/archives/vocabularies.json meeting_kind): what creation standards count
MEETINGS = (("org.meetings_congress", "支部党员大会"), ("org.meetings_committee", "支委会"),
            ("org.meetings_group", "党小组会"), ("org.meetings_lecture", "党课"), ("org.meetings_theme_day", "主题党日"))


def _meetings(kind: str) -> Compute:
    """Meetings of one kind held in the period's year up to its last day."""
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        def read() -> list[tuple[int, str, int]]:
            start = period.end.replace(month=1, day=1)
            return [tuple(r) for r in s.execute(
                select(a.ArchiveMeeting.village_id, a.ArchiveMeeting.kind, func.count())
                .where(a.ArchiveMeeting.held_on >= start, a.ArchiveMeeting.held_on <= period.end)
                .group_by(a.ArchiveMeeting.village_id, a.ArchiveMeeting.kind))]
        out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
        for village_id, held, count in read_once(s, ("archives.meetings", period), read):
            if held == kind and village_id in out:
                out[village_id] = count
        return out
    return compute


def _on_file(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    """1 where the village has figures for exactly the period's year (trend charts skip years with none)."""
    years = _years(s, period)
    return {v: 1 if v in years and years[v].year == period.year else 0 for v in village_ids}


def figures() -> list[Figure]:
    return [
        Figure("archives.org_star", "村党组织星级（档案）", _year_star("org_star"), "text"),
        Figure("archives.secretary_star", "书记星级（档案）", _year_star("secretary_star"), "text"),
        Figure("org.weak", "软弱涣散", _weak, "text"),
        Figure("org.weak_status", "整顿状态", _weak_status, "text"),
        Figure("org.total_income_fen", "集体经济总收入", _year_field("total_income"), "fen"),
        Figure("org.business_income_fen", "经营性收入", _year_field("business_income"), "fen"),
        Figure("org.debt_fen", "村级债务余额", _year_field("debt_closing"), "fen"),
        Figure("org.debt_new_fen", "新增村级债务", _year_field("debt_new"), "fen"),
        Figure("org.business_income_growth_fen", "经营性收入比上年增加", _two_years("business_income", int.__sub__),
               "fen"),
        Figure("org.star_two_years", "连续两年中较低的村党组织星级", _two_years("org_star", min)),
        Figure("org.funding_received_fen", "运转经费到位金额", _year_field("funding_received"), "fen"),
        Figure("org.funding_in_place", "运转经费到位", _funding_in_place, "text"),
        Figure("org.centre_area", "党群服务中心面积", _centre_area, "decimal"),
        Figure("org.year_on_file", "本年有集体经济数据", _on_file),
        Figure("org.commitments", "承诺事项", _commitments(False)),
        Figure("org.commitments_done", "已完成承诺", _commitments(True)),
        *(Figure(key, f"{kind}次数", _meetings(kind)) for key, kind in MEETINGS),
    ]
