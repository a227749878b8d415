"""Composition root for the outputs: the modules' figures and certificate sources, handed to ``outputs``.

``townapp.outputs`` never imports a module (DESIGN §3). This file does: it
collects each module's figure provider (``townapp/<module>/figures.py``) into
one :class:`FigureRegistry`, says which villages are the rows of a return,
and lists what certificates can be printed from (a finalised round, a
month's 最美网格员, a year's points grades). The CLI and the GUI build these
once and pass them in.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townapp.core.actor import SYSTEM_ACTOR
from townapp.core.errors import DomainError
from townapp.db import Database
from townapp.db.base import MetaEntry
from townapp.outputs.certificates import (
    CertificateBatch,
    CertificateItem,
    CertificateLayout,
    CertificateSources,
    SourceChoice,
    layout,
)
from townapp.outputs.figures import Figure, FigureRegistry, FigureValue, Period, Unit, UnitSource, read_once
from townapp.registry import models as m

# Modules whose ``figures.py`` provides ``figures() -> list[Figure]`` in the outputs protocol; a module
# not installed is skipped and its columns show 0 (the return lists the figures nobody provides).
FIGURE_MODULES = ("townapp.registry.figures", "townapp.evaluations.figures", "townapp.grids.figures",
                  "townapp.archives.figures")
EXCELLENT_GRADE = "优秀"  # the points grade whose members get 优秀党员/积分先进 certificates
GRADE_FIGURES = {"优秀": "points.grade_excellent", "合格": "points.grade_pass", "基本合格": "points.grade_basic",
                 "不合格": "points.grade_fail"}


def _first_of(key: str, label: str, sources: Sequence[Figure]) -> Figure:
    """A text figure taken from the first source that has a value (e.g. the evaluated star, else the archive's)."""
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        results = [f.compute(s, period, village_ids) for f in sources]
        return {v: next((r[v] for r in results if r.get(v)), "") for v in village_ids}
    return Figure(key, label, compute, "text")


def _points_figures(db: Database) -> list[Figure]:
    """The points module's figures (``townapp/points/figures.py`` and its service) in the outputs protocol.

    Its service opens its own read sessions, so these take the database, not the return's session.
    Scores are exact: the return's average is the sum of year totals over the participants.
    """
    try:
        points_figures = importlib.import_module("townapp.points.figures")
        service_module = importlib.import_module("townapp.points.service")
    except ModuleNotFoundError:
        return []
    service = service_module.PointsService(db, SYSTEM_ACTOR)

    def totals(s: Session, period: Period) -> list:
        return read_once(s, ("points.totals", period), lambda: service.totals(period.year, as_of=period.end))

    def village_figures(s: Session, period: Period) -> dict:
        return read_once(s, ("points.village", period),
                         lambda: points_figures.village_figures(db, period.end, period.start, totals(s, period)))

    def from_totals(pick: Callable[[list[int]], FigureValue], grade: str | None = None) -> Callable[..., dict]:
        def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
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

    def pending(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        waiting = [service_module.WAITING_VILLAGE, service_module.WAITING_TOWNSHIP, service_module.WAITING_PUBLICITY]
        out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
        records = importlib.import_module("townapp.points.models").PointRecord
        for village_id, count in s.execute(select(records.village_id, func.count())
                                           .where(records.status.in_(waiting)).group_by(records.village_id)):
            if village_id in out:
                out[village_id] = count
        return out

    def tenths(value: int | None) -> Decimal | None:
        return None if value is None else Decimal(value) / 10

    out = [
        Figure("points.participants", "参与积分人数", from_totals(len)),
        Figure("points.score_sum", "年度积分合计", from_totals(lambda t: Decimal(sum(t)) / 10), "decimal"),
        Figure("points.score_max", "最高分", from_totals(lambda t: tenths(max(t)) if t else None), "decimal"),
        Figure("points.score_min", "最低分", from_totals(lambda t: tenths(min(t)) if t else None), "decimal"),
        Figure("points.records_in_quarter", "本季度积分记录数", from_village("points.records")),
        Figure("points.redemptions", "兑换次数", from_village("points.redemptions")),
        Figure("points.redeemed_points", "兑换积分", from_village("points.redeemed_points"), "decimal"),
        Figure("points.pending_review", "待审核积分记录", pending),
    ]
    out += [Figure(key, f"{grade}人数", from_totals(len, grade)) for grade, key in GRADE_FIGURES.items()]
    return out


def figure_registry(db: Database) -> FigureRegistry:
    """Every figure the installed modules provide, plus the combined ones the layouts use."""
    registry = FigureRegistry()
    for name in FIGURE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # the module (or its figures) is not part of this build
            raise
        for figure in module.figures():
            registry.add(figure)
    for figure in _points_figures(db):
        registry.add(figure)
    combined = (("org.star_level", "评星定级星级", ("org.star_level_evaluated", "archives.org_star")),
                ("org.secretary_star", "书记星级", ("org.secretary_star_evaluated", "archives.secretary_star")))
    for key, label, parts in combined:
        present = [registry.figures[p] for p in parts if p in registry]
        if present:
            registry.add(_first_of(key, label, present))
    return registry


def _units(s: Session) -> list[Unit]:
    rows = s.execute(select(m.Village.id, m.Village.code, m.Village.name, m.Township.id, m.Township.code,
                            m.Township.name)
                     .join(m.Township, m.Township.id == m.Village.township_id)
                     .order_by(m.Township.code, m.Village.code)).all()
    return [Unit(*row) for row in rows]


def _root(s: Session) -> tuple[str, str, str]:
    meta = {e.key: e.value for e in s.scalars(select(MetaEntry).where(
        MetaEntry.key.in_(("mode", "root_name", "root_code"))))}
    return meta.get("mode") or "township", meta.get("root_name") or "", meta.get("root_code") or ""


def unit_source() -> UnitSource:
    return UnitSource(_units, _root)


# ----- certificate sources ------------------------------------------------------
def _township_name(db: Database) -> str:
    return db.meta("root_name") or ""


def _evaluation_choices(db: Database, kind: str, year: int | None) -> list[SourceChoice]:
    from townapp.evaluations.service import EvaluationService

    schemes = set(certificate_layout(kind).schemes)
    if not schemes:
        return []
    return [SourceChoice(f"round:{r.id}", f"{r.name}（{r.period_text}，已定级）", r.year)
            for r in EvaluationService(db).rounds()
            if r.scheme_key in schemes and r.locked and (year is None or r.year == year)]


def _grid_choices(db: Database, year: int | None) -> list[SourceChoice]:
    from townapp.grids.service import GridService

    today = dt.date.today()
    years = [year] if year is not None else list(range(today.year, today.year - 3, -1))
    service = GridService(db)
    out = []
    for y in years:
        months = [s.month for s in service.months(y) if s.locked and service.stars(y, s.month)]
        if months:
            out.append(SourceChoice(f"grid_year:{y}", f"{y}年全年最美网格员（{len(months)}个月）", y))
        out += [SourceChoice(f"grid_month:{y}-{mo:02d}", f"{y}年{mo}月最美网格员", y) for mo in reversed(months)]
    return out


def _excellent_members(db: Database, year: int) -> list:
    """The year's members graded 优秀 by the points module (its rules, its grades); none without rules."""
    try:
        service_module = importlib.import_module("townapp.points.service")
    except ModuleNotFoundError:
        return []
    try:
        rows = service_module.PointsService(db, SYSTEM_ACTOR).totals(year, as_of=dt.date(year, 12, 31))
    except DomainError:
        return []  # no rule set for that year
    return [r for r in rows if r.grade == EXCELLENT_GRADE]


def _points_choices(db: Database, year: int | None) -> list[SourceChoice]:
    years = [year] if year is not None else list(range(dt.date.today().year, dt.date.today().year - 3, -1))
    return [SourceChoice(f"points:{y}", f"{y}年度党员积分{EXCELLENT_GRADE}（{len(found)}人）", y)
            for y in years if (found := _excellent_members(db, y))]


def certificate_choices(db: Database, kind: str, year: int | None = None) -> list[SourceChoice]:
    """What a kind's certificates can be printed from, newest first."""
    if kind == "grid-star":
        return _grid_choices(db, year)
    choices = _evaluation_choices(db, kind, year)
    if kind == "excellent-member":
        choices += _points_choices(db, year)
    return choices


def certificate_batch(db: Database, kind: str, source_key: str) -> CertificateBatch:
    """The recipients of one source: a finalised round's rated targets, a month's (or year's) 最美网格员 …"""
    township = _township_name(db)
    prefix, _, rest = source_key.partition(":")
    if prefix == "round":
        from townapp.evaluations.service import EvaluationService

        service = EvaluationService(db)
        rnd = service.round(int(rest))
        if not rnd.locked:
            raise DomainError(f"“{rnd.name}”尚未定级，不能发证书")
        items = tuple(CertificateItem(f"eval_target:{r.target_id}", r.label, r.village, r.level)
                      for r in service.sheet(rnd.id) if r.rank > 0 and not r.revoked)
        return CertificateBatch(kind, source_key, rnd.name, rnd.year, township, items)
    if prefix in ("grid_month", "grid_year"):
        from townapp.grids.service import GridService

        service = GridService(db)
        year = int(rest[:4])
        months = [int(rest[5:])] if prefix == "grid_month" else [
            s.month for s in service.months(year) if s.locked]
        items = tuple(CertificateItem(f"grid_star:{year}-{mo:02d}:{star.member_id}", star.name, star.village,
                                      "最美网格员", f"{year}年{mo}月")
                      for mo in months for star in service.stars(year, mo))
        label = f"{year}年{months[0]}月最美网格员" if prefix == "grid_month" else f"{year}年最美网格员"
        return CertificateBatch(kind, source_key, label, year, township, items)
    if prefix == "points":
        year = int(rest)
        items = tuple(CertificateItem(f"points:{year}:{r.party_member_id}", r.name, r.village,
                                      f"{EXCELLENT_GRADE}党员", f"{year}年")
                      for r in _excellent_members(db, year))
        return CertificateBatch(kind, source_key, f"{year}年度党员积分{EXCELLENT_GRADE}", year, township, items)
    raise DomainError(f"无法识别的证书来源：{source_key}")


def certificate_sources() -> CertificateSources:
    return CertificateSources(certificate_choices, certificate_batch)


def certificate_layout(kind: str) -> CertificateLayout:
    return layout(kind)
