"""What the modules hand the outputs beyond their ``figures()``: the points figures and the certificate sources.

A composition file like ``townapp/figures.py`` (it may import every module;
``townapp.outputs`` never does). A certificate source is a typed key — one
frozen class per kind — instead of a string such as ``"round:12"`` cut apart
later: the key that produced a choice is the key that builds its batch.
``stored`` is the text kept in ``certificate.source_key``, unchanged from before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError
from townapp.core.points import points_decimal
from townapp.db import Database
from townapp.evaluations.service import EvaluationService
from townapp.grids.service import GridService
from townapp.outputs.certificates import CertificateBatch, CertificateItem, SourceChoice, layout
from townapp.outputs.figures import Figure, FigureValue, Period, read_once
from townapp.points import figures as points_figures
from townapp.points import service as points_service
from townapp.points.models import PointRecord

EXCELLENT_GRADE = "优秀"  # the points grade whose members get 优秀党员/积分先进 certificates
GRADE_FIGURES = {"优秀": "points.grade_excellent", "合格": "points.grade_pass", "基本合格": "points.grade_basic",
                 "不合格": "points.grade_fail"}
GRID_STAR, EXCELLENT_MEMBER = "grid-star", "excellent-member"


# ----- the points figures ---------------------------------------------------------------------
def points_figure_list(db: Database) -> list[Figure]:
    """The points module's figures (``townapp/points/figures.py`` and its service) in the outputs protocol.

    Its service opens its own read sessions, so these take the database, not the return's session.
    Scores are exact: the return's average is the sum of year totals over the participants.
    """
    service = points_service.PointsService(db, SYSTEM_ACTOR)

    def totals(s: Session, period: Period) -> list:
        return read_once(s, ("points.totals", period), lambda: service.totals(period.year, as_of=period.end))

    def village_figures(s: Session, period: Period) -> dict:
        return read_once(s, ("points.village", period),
                         lambda: points_figures.village_figures(db, period.end, period.start, totals(s, period)))

    def from_totals(pick: Callable[[list[int]], FigureValue], grade: str | None = None) -> Callable[..., dict]:
        def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
            if grade is not None and not points_service.full_year(period.year, period.end):
                return dict.fromkeys(village_ids)  # grades are annual: blank, not 不合格, before the year ends
            per: dict[int, list[int]] = {v: [] for v in village_ids}
            for row in totals(s, period):
                if row.village_id in per and (grade is None or row.grade == grade):
                    per[row.village_id].append(row.total)
            return {v: pick(values) for v, values in per.items()}
        return compute

    def from_village(name: str) -> Callable[..., dict]:
        def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
            found = village_figures(s, period)
            return {v: found[v].value(name) if v in found else 0 for v in village_ids}
        return compute

    def waiting(*statuses: str) -> Callable[..., dict]:
        def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
            out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
            for village_id, count in s.execute(select(PointRecord.village_id, func.count())
                                               .where(PointRecord.status.in_(statuses)).group_by(PointRecord.village_id)):
                if village_id in out:
                    out[village_id] = count
            return out
        return compute

    def tenths(value: int | None) -> Decimal | None:
        return None if value is None else points_decimal(value)

    out = [
        Figure("points.participants", "参与积分人数", from_totals(len)),
        Figure("points.score_sum", "年度积分合计", from_totals(lambda t: points_decimal(sum(t))), "decimal"),
        Figure("points.score_max", "最高分", from_totals(lambda t: tenths(max(t)) if t else None), "decimal"),
        Figure("points.score_min", "最低分", from_totals(lambda t: tenths(min(t)) if t else None), "decimal"),
        Figure("points.records_in_quarter", "本季度积分记录数", from_village("points.records")),
        Figure("points.redemptions", "兑换次数", from_village("points.redemptions")),
        Figure("points.redeemed_points", "兑换积分", from_village("points.redeemed_points"), "decimal"),
        Figure("points.pending_review", "待审核积分记录",
               waiting(points_service.WAITING_VILLAGE, points_service.WAITING_TOWNSHIP)),
        # reviewed, waiting for the 公示 (Q4's records are published in January): not work for a reviewer
        Figure("points.pending_publicity", "待公示积分记录", waiting(points_service.WAITING_PUBLICITY)),
    ]
    out += [Figure(key, f"{grade}人数", from_totals(len, grade)) for grade, key in GRADE_FIGURES.items()]
    return [dataclasses.replace(figure, reported=True) for figure in out]  # records travel as year totals only


# ----- certificate source keys ----------------------------------------------------------------
@dataclass(frozen=True)
class RoundSource:
    """A finalised evaluation round (household, secretary or organisation stars)."""

    round_id: int

    @property
    def stored(self) -> str:
        return f"round:{self.round_id}"


@dataclass(frozen=True)
class GridMonthSource:
    """One month's 最美网格员."""

    year: int
    month: int

    @property
    def stored(self) -> str:
        return f"grid_month:{self.year}-{self.month:02d}"


@dataclass(frozen=True)
class GridYearSource:
    """Every finalised month's 最美网格员 of a year."""

    year: int

    @property
    def stored(self) -> str:
        return f"grid_year:{self.year}"


@dataclass(frozen=True)
class PointsYearSource:
    """A year's members graded 优秀 by the points rules."""

    year: int

    @property
    def stored(self) -> str:
        return f"points:{self.year}"


SourceKey = RoundSource | GridMonthSource | GridYearSource | PointsYearSource


@dataclass(frozen=True)
class CertificateSource:
    """One module's offer to the certificates: its choices for a kind and year, and the batch of one of its keys."""

    keys: tuple[type, ...]  # the key classes this source builds batches for
    choices: Callable[[Database, str, int | None, Actor], list[SourceChoice]]
    batch: Callable[[Database, str, SourceKey, Actor], CertificateBatch]


def _recent_years(year: int | None) -> list[int]:
    today = dt.date.today()
    return [year] if year is not None else list(range(today.year, today.year - 3, -1))


def _township_name(db: Database) -> str:
    return db.meta("root_name") or ""


def _round_choices(db: Database, kind: str, year: int | None, actor: Actor) -> list[SourceChoice]:
    schemes = set(layout(kind).schemes)
    if not schemes:
        return []
    return [SourceChoice(RoundSource(r.id), f"{r.name}（{r.period_text}，已定级）", r.year)
            for r in EvaluationService(db, actor).rounds()
            if r.scheme_key in schemes and r.locked and (year is None or r.year == year)]


def _round_batch(db: Database, kind: str, key: SourceKey, actor: Actor) -> CertificateBatch:
    assert isinstance(key, RoundSource)
    service = EvaluationService(db, actor)
    rnd = service.round(key.round_id)
    if not rnd.locked:
        raise DomainError(f"“{rnd.name}”尚未定级，不能发证书")
    items = tuple(CertificateItem(f"eval_target:{r.target_id}", r.label, r.village, r.level)
                  for r in service.sheet(rnd.id) if r.rank > 0 and not r.revoked)
    return CertificateBatch(kind, key.stored, rnd.name, rnd.year, _township_name(db), items)


def _grid_choices(db: Database, kind: str, year: int | None, actor: Actor) -> list[SourceChoice]:
    if kind != GRID_STAR:
        return []
    service = GridService(db, actor)
    out: list[SourceChoice] = []
    for y in _recent_years(year):
        months = [s.month for s in service.months(y) if s.locked and service.stars(y, s.month)]
        if months:
            out.append(SourceChoice(GridYearSource(y), f"{y}年全年最美网格员（{len(months)}个月）", y))
        out += [SourceChoice(GridMonthSource(y, mo), f"{y}年{mo}月最美网格员", y) for mo in reversed(months)]
    return out


def _grid_batch(db: Database, kind: str, key: SourceKey, actor: Actor) -> CertificateBatch:
    assert isinstance(key, (GridMonthSource, GridYearSource))
    service = GridService(db, actor)
    year = key.year
    months = [key.month] if isinstance(key, GridMonthSource) else [s.month for s in service.months(year) if s.locked]
    items = tuple(CertificateItem(f"grid_star:{year}-{mo:02d}:{star.member_id}", star.name, star.village,
                                  "最美网格员", f"{year}年{mo}月")
                  for mo in months for star in service.stars(year, mo))
    label = f"{year}年{months[0]}月最美网格员" if isinstance(key, GridMonthSource) else f"{year}年最美网格员"
    return CertificateBatch(kind, key.stored, label, year, _township_name(db), items)


def _excellent_members(db: Database, year: int, actor: Actor) -> list:
    """The year's members whose final grade (written at 年度结转) is 优秀; none before the year is closed:
    a certificate is not printed from a grade that can still change."""
    return [r for r in points_service.PointsService(db, actor).final_grades(year) if r.grade == EXCELLENT_GRADE]


def _points_choices(db: Database, kind: str, year: int | None, actor: Actor) -> list[SourceChoice]:
    if kind != EXCELLENT_MEMBER:
        return []
    return [SourceChoice(PointsYearSource(y), f"{y}年度党员积分{EXCELLENT_GRADE}（{len(found)}人）", y)
            for y in _recent_years(year) if (found := _excellent_members(db, y, actor))]


def _points_batch(db: Database, kind: str, key: SourceKey, actor: Actor) -> CertificateBatch:
    assert isinstance(key, PointsYearSource)
    year = key.year
    items = tuple(CertificateItem(f"points:{year}:{r.party_member_id}", r.name, r.village,
                                  f"{EXCELLENT_GRADE}党员", f"{year}年")
                  for r in _excellent_members(db, year, actor))
    return CertificateBatch(kind, key.stored, f"{year}年度党员积分{EXCELLENT_GRADE}", year, _township_name(db), items)


EVALUATION_ROUNDS = CertificateSource((RoundSource,), _round_choices, _round_batch)
GRID_STARS = CertificateSource((GridMonthSource, GridYearSource), _grid_choices, _grid_batch)
POINTS_GRADES = CertificateSource((PointsYearSource,), _points_choices, _points_batch)
