"""The quarterly return as a use case: compute, export (xlsx and PDF with the charts), keep the history.

The figures and the rows are handed in (``FigureRegistry``, ``UnitSource``)
by the composition root; this module never imports a module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.atomic import atomic_output
from townapp.core.collector import collector_paused
from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.db import Database
from townapp.outputs.figures import FigureRegistry, Period, UnitSource
from townapp.outputs.models import ReturnExport
from townapp.outputs.overview import Overview, build_overview, chart_images
from townapp.outputs.returns import (
    QuarterlyReturn,
    build_return,
    save_xlsx,
    write_return_pdf,
    xlsx_verifier,
)


@dataclass(frozen=True)
class ExportRow:
    at: dt.datetime
    username: str
    year: int
    quarter: int
    file_kind: str
    path: str
    sha256: str
    missing_figures: str


@dataclass(frozen=True)
class ExportResult:
    xlsx: Path
    pdf: Path | None
    missing_figures: tuple[str, ...]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _visible_units(units: UnitSource, actor: Actor) -> UnitSource:
    """A clerk's return and 首页 cover only their own village (figures are computed for the units given)."""
    visible = permissions.visible_village(actor)
    if visible is None:
        return units
    return UnitSource(lambda s: [u for u in units.units(s) if u.id == visible], units.root)


class ReturnService:
    """季度报表: what the CLI and the 季度报表 page call."""

    def __init__(self, db: Database, figures: FigureRegistry, units: UnitSource,
                 actor: Actor = SYSTEM_ACTOR) -> None:
        self.db = db
        self.figures = figures
        self.units = _visible_units(units, actor)
        self.actor = actor

    def build(self, period: Period, *, filler: str = "", phone: str = "", filled_on: dt.date | None = None,
              progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> QuarterlyReturn:
        # every village's figures: at a county, millions of short-lived objects the collector need not walk
        with collector_paused(), self.db.reader() as s:
            return build_return(s, self.figures, self.units, period, filled_on=filled_on, filler=filler,
                                phone=phone, progress=progress, cancel=cancel)

    def overview(self, period: Period, *, progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None) -> Overview:
        with collector_paused(), self.db.reader() as s:
            return build_overview(s, self.figures, self.units, period, progress=progress, cancel=cancel)

    def export(self, ret: QuarterlyReturn, xlsx: Path | str, pdf: Path | str | None = None, *,
               progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> ExportResult:
        """Write the workbook (and the PDF with the charts), then record both in the returns history.

        The PDF is written inside the workbook's atomic output: cancelled or failed
        at any point, neither file appears under its name.
        """
        permissions.require_township(self.actor, "导出季度报表")
        reporter = Reporter(progress, cancel)
        xlsx = Path(xlsx)
        pdf_path = Path(pdf) if pdf else None
        reporter.step(0, 3, "正在写入Excel报表")
        with atomic_output(xlsx, verify=xlsx_verifier(ret)) as tmp:
            save_xlsx(ret, tmp, cancel=cancel)
            if pdf_path is not None:
                reporter.step(1, 3, "正在绘制图表")
                charts = chart_images(self.overview(ret.period, cancel=cancel))
                reporter.step(2, 3, "正在生成PDF")
                write_return_pdf(ret, pdf_path, charts, cancel=cancel)
            reporter.step(3, 3, "正在保存")
        missing = "、".join(ret.missing_figures)[:1000]
        with self.db.unit_of_work(self.actor) as s:
            for kind, path in (("xlsx", xlsx), ("pdf", pdf_path)):
                if path is not None:
                    s.add(ReturnExport(exported_at=dt.datetime.now(), year=ret.period.year, quarter=ret.period.quarter, file_kind=kind,
                                       path=str(path.resolve())[:500], sha256=_sha256(path),
                                       username=self.actor.username, tables=len(ret.tables),
                                       missing_figures=missing))
        return ExportResult(xlsx, pdf_path, ret.missing_figures)

    def history(self, limit: int = 200) -> list[ExportRow]:
        """What was exported when, newest first."""
        with self.db.reader() as s:
            return [ExportRow(r.exported_at, r.username, r.year, r.quarter, r.file_kind, r.path, r.sha256,
                              r.missing_figures)
                    for r in s.scalars(select(ReturnExport).order_by(ReturnExport.id.desc()).limit(limit))]
