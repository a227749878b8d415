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
from townapp.outputs.figures import Figure, FigureRegistry, FigureValue, Period, Unit, UnitSource
from townapp.registry import models as m


def _first_of(key: str, label: str, sources: Sequence[Figure]) -> Figure:
    """A text figure taken from the first source that has a value (e.g. the evaluated star, else the archive's)."""
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        results = [f.compute(s, period, village_ids) for f in sources]
        return {v: next((r[v] for r in results if r.get(v)), "") for v in village_ids}
    return Figure(key, label, compute, "text")


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
