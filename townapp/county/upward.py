"""The township's report to the county: the return's figures per village and quarter, and its certificates.

"Statistics summed up the tree", as the national party-member system's 基层版
reports to the level above: the township computes, for every village and each
quarter of the last years, every figure decided from what its package does not
carry row by row (``Figure.reported``: points, evaluations, the grid months'
subsidies and 最美网格员 — its own rules, its own closed years), and the package
carries them as 报表数据. The county reads these; every other figure (people,
archives, grid rosters) it computes from the rows the package did carry, the
same way. So the county's return for that township equals the township's own
cell by cell — for every table, and for a county's own layouts too. A package carries
the quarter it is made in and last year's whole-year (fourth-quarter) figures;
the county keeps the quarters earlier packages reported (a township sends one
each quarter), so its history builds up quarter by quarter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from townapp.county.copies import ReportedAdapter, first_reported_year, reported_rows
from townapp.exchange import spec as s
from townapp.outputs.figures import FigureRegistry, FigureValue, Period, UnitSource
from townapp.outputs.models import Certificate

FIGURE_SHEET = "return_figure"
CERTIFICATE_SHEET = "certificate"
KINDS = {"整数": int, "小数": Decimal, "文本": str}


def reported_periods(today: dt.date) -> list[Period]:
    """The quarter of ``today`` and the whole-year (fourth-quarter) figures of the years before it back to
    ``first_reported_year``: what the county asks for now, as the quarterly return reports it. Other
    quarters stay at the county as the packages of their time reported them."""
    current = Period.containing(today)
    return [*(Period(year, 4) for year in range(first_reported_year(today), today.year)), current]


def _encode(value: FigureValue) -> tuple[str, str]:
    if value is None:
        return "空", ""
    if isinstance(value, bool):
        return "整数", str(int(value))
    if isinstance(value, int):
        return "整数", str(value)
    if isinstance(value, Decimal):
        return "小数", str(value)
    return "文本", str(value)


def decode(kind: str, text: str | None) -> FigureValue:
    """A reported figure back as the value the township computed."""
    make = KINDS.get(kind)
    if make is None:
        return None
    return make(text or ("" if make is str else "0"))


def _figure_rows(registry: Callable[[], FigureRegistry], units: UnitSource,
                 today: Callable[[], dt.date]) -> Callable[[Connection], Iterator[dict[str, Any]]]:
    def rows(conn: Connection) -> Iterator[dict[str, Any]]:
        figures = registry()
        keys = sorted(key for key, figure in figures.figures.items() if figure.reported)
        with Session(bind=conn) as session:
            villages = units.units(session)
            ids = [u.id for u in villages]
            for period in reported_periods(today()):
                values, _missing = figures.compute(session, keys, period, ids)
                for unit in villages:
                    for key in keys:
                        kind, text = _encode(values[key].get(unit.id))
                        yield {"year": period.year, "quarter": period.quarter, "village_code": unit.code,
                               "village_name": unit.name, "key": key, "label": figures.label(key), "kind": kind,
                               "value": text}
    return rows


def figure_sheet(registry: Callable[[], FigureRegistry], units: UnitSource,
                 today: Callable[[], dt.date] = dt.date.today) -> s.SheetSpec:
    """报表数据: every reported figure of every village for each reported quarter (see the module docstring)."""
    return s.SheetSpec(
        key=FIGURE_SHEET, title="报表数据", package_only=True,
        adapter=ReportedAdapter(FIGURE_SHEET, _figure_rows(registry, units, today),
                                lambda v: f"{v['year']}Q{v['quarter']}/{v['village_code']}/{v['key']}",
                                lambda v: f"{v['year']}Q{v['quarter']}", by_period=True),
        description="乡镇按季度计算的各村报表数字，县级报表据此汇总，与乡镇自己的报表逐格一致。",
        columns=(s.ColumnSpec("year", "年度", s.INT, required=True, width=8),
                 s.ColumnSpec("quarter", "季度", s.INT, required=True, width=6),
                 s.ColumnSpec("village_code", "村区划代码", s.CODE, required=True, width=16),
                 s.ColumnSpec("village_name", "村名称", s.TEXT, width=12),
                 s.ColumnSpec("key", "数字", s.TEXT, required=True, width=30),
                 s.ColumnSpec("label", "名称", s.TEXT, width=20),
                 s.ColumnSpec("kind", "类型", s.TEXT, width=6),
                 s.ColumnSpec("value", "数值", s.TEXT, width=14)),
        key_columns=("year", "quarter", "village_code", "key"))


def reported_figures(session: Session, period: Period,
                     village_ids: Mapping[str, int]) -> dict[str, dict[int, FigureValue]]:
    """County: the figures townships reported for ``period``, {key: {village id: value}}.

    ``village_ids``: the county's village ids by 区划代码."""
    out: dict[str, dict[int, FigureValue]] = {}
    conn = session.connection()
    for _code, row in reported_rows(conn, FIGURE_SHEET, period=f"{period.year}Q{period.quarter}"):
        village = village_ids.get(row.get("village_code", ""))
        if village is not None:
            out.setdefault(row["key"], {})[village] = decode(row.get("kind", "空"), row.get("value"))
    return out


# ----- the certificate registry ---------------------------------------------------------
def _certificate_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    c = Certificate
    for r in conn.execute(select(c.number, c.kind, c.year, c.recipient, c.village, c.honour, c.source_label,
                                 c.issued_on, c.print_count).order_by(c.number)).mappings():
        yield {"number": r["number"], "kind": r["kind"], "year": r["year"], "recipient": r["recipient"],
               "village": r["village"], "honour": r["honour"], "source": r["source_label"],
               "issued_on": r["issued_on"], "prints": r["print_count"]}


def certificate_sheet() -> s.SheetSpec:
    """证书登记: every certificate number issued, to whom, for what, how often printed."""
    return s.SheetSpec(
        key=CERTIFICATE_SHEET, title="证书登记", package_only=True,
        adapter=ReportedAdapter(CERTIFICATE_SHEET, _certificate_rows, lambda v: str(v["number"]),
                                lambda v: str(v.get("year") or "")),
        description="乡镇颁发的证书编号、获得者、荣誉和打印次数。",
        columns=(s.ColumnSpec("number", "证书编号", s.CODE, required=True, width=18),
                 s.ColumnSpec("kind", "证书类别", s.TEXT, width=16),
                 s.ColumnSpec("year", "年度", s.INT, width=8),
                 s.ColumnSpec("recipient", "获得者", s.TEXT, width=14),
                 s.ColumnSpec("village", "所属村", s.TEXT, width=12),
                 s.ColumnSpec("honour", "荣誉", s.TEXT, width=20),
                 s.ColumnSpec("source", "依据", s.TEXT, width=24),
                 s.ColumnSpec("issued_on", "颁发日期", s.DATE, width=12),
                 s.ColumnSpec("prints", "打印次数", s.INT, width=8)),
        key_columns=("number",))


def reported_sheets(registry: Callable[[], FigureRegistry], units: UnitSource) -> list[s.SheetSpec]:
    """The county module's own reported sheets (the modules add theirs: points, evaluations)."""
    return [figure_sheet(registry, units), certificate_sheet()]
