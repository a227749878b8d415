"""Composition root for the outputs: the modules' figures and certificate sources, handed to ``outputs``.

``townapp.outputs`` never imports a module (DESIGN §3). This file collects
what each module registered in ``townapp/modules.py`` — its figure provider,
its certificate sources (a finalised round, a month's 最美网格员, a year's
points grades; typed keys from ``townapp/sources.py``) — into one
:class:`FigureRegistry`, and says which villages are the rows of a return.
The CLI and the GUI build these once and pass them in.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from townapp.core.actor import Actor
from townapp.core.errors import DomainError
from townapp.db import Database
from townapp.db.base import MetaEntry
from townapp.modules import certificate_sources as module_sources
from townapp.modules import figure_providers
from townapp.outputs.certificates import (
    CertificateBatch,
    CertificateLayout,
    SourceChoice,
    SourceKey,
    layout,
)
from townapp.outputs.figures import Figure, FigureRegistry, FigureValue, Period, Unit, UnitSource, read_once
from townapp.registry import models as m


def _first_of(key: str, label: str, sources: Sequence[Figure]) -> Figure:
    """A text figure taken from the first source that has a value (e.g. the evaluated star, else the archive's)."""
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        results = [f.compute(s, period, village_ids) for f in sources]
        return {v: next((r[v] for r in results if r.get(v)), "") for v in village_ids}
    return Figure(key, label, compute, "text", reported=any(f.reported for f in sources))


def figure_registry(db: Database) -> FigureRegistry:
    """Every figure the modules provide, plus the combined ones the layouts use."""
    registry = FigureRegistry()
    for provide in figure_providers():
        for figure in provide(db):
            registry.add(figure)
    combined = (("org.star_level", "评星定级星级", ("org.star_level_evaluated", "archives.org_star")),
                ("org.secretary_star", "书记星级", ("org.secretary_star_evaluated", "archives.secretary_star")))
    for key, label, parts in combined:
        present = [registry.figures[p] for p in parts if p in registry]
        if present:
            registry.add(_first_of(key, label, present))
    if db.meta("mode") == "county":
        return FigureRegistry({key: _as_reported(figure) if figure.reported else figure
                               for key, figure in registry.figures.items()})
    return registry


def _as_reported(figure: Figure) -> Figure:
    """County: a figure as its townships reported it for the period (报表数据), computed only where none did.

    The township computed it with its own rules and its own closed years; the county's return for the
    township then equals the township's own cell by cell."""
    from townapp.county.upward import reported_figures

    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        codes = read_once(s, "village_ids_by_code", lambda: dict(s.execute(select(m.Village.code, m.Village.id)).all()))
        reported = read_once(s, ("reported_figures", period), lambda: reported_figures(s, period, codes))
        values = dict(figure.compute(s, period, village_ids))
        got = reported.get(figure.key)
        if got:
            values.update((v, got[v]) for v in village_ids if v in got)
        return values
    return Figure(figure.key, figure.label, compute, figure.kind)


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


def unit_source(township_code: str | None = None) -> UnitSource:
    """The return's rows: every village (a county: grouped by township). ``township_code``: at a county,
    one township's villages as that township's own return has them (one row per village)."""
    if township_code is None:
        return UnitSource(_units, _root)

    def units(s: Session) -> list[Unit]:
        found = [u for u in _units(s) if u.township_code == township_code]
        if not found:
            raise DomainError(f"数据库中没有区划代码为 {township_code} 的乡镇（或它还没有村）")
        return found

    def root(s: Session) -> tuple[str, str, str]:
        first = units(s)[0]
        return "township", first.township_name, first.township_code
    return UnitSource(units, root)


# ----- certificate sources ------------------------------------------------------
def certificate_choices(db: Database, kind: str, year: int | None = None, *, actor: Actor) -> list[SourceChoice]:
    """What a kind's certificates can be printed from, newest first (each module's sources in module order).

    Read through the modules' services as ``actor``: a 村录入员 sees only their village's results."""
    layout(kind)  # an unknown kind is refused, whoever offers sources
    return [choice for source in module_sources() for choice in source.choices(db, kind, year, actor)]


def certificate_batch(db: Database, kind: str, source_key: SourceKey, *, actor: Actor) -> CertificateBatch:
    """The recipients of one source: a finalised round's rated targets, a month's (or year's) 最美网格员 …"""
    for source in module_sources():
        if isinstance(source_key, source.keys):
            return source.batch(db, kind, source_key, actor)
    raise DomainError(f"无法识别的证书来源：{source_key}")


def certificate_layout(kind: str) -> CertificateLayout:
    return layout(kind)
