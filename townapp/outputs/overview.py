"""The township at a glance (首页): key figures and four charts, from the same named figures as the return.

The dashboard page and the quarterly return PDF draw the same charts from
the same figures, so the picture on screen is the picture on paper. Charts
are matplotlib ``Figure`` objects with the bundled font (no pyplot); in a
county database the bars are per township instead of per village.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from matplotlib.figure import Figure
from sqlalchemy.orm import Session

from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.outputs.charts import cjk_font, figure_png
from townapp.outputs.figures import FigureRegistry, Period, UnitSource, as_number
from townapp.outputs.returns import ChartImage

STAR_KEYS = (("三星", "stars.star3", "#f2c14e"), ("四星", "stars.star4", "#f28e2b"), ("五星", "stars.star5", "#e15759"))
GRADE_KEYS = (("优秀", "points.grade_excellent"), ("合格", "points.grade_pass"), ("基本合格", "points.grade_basic"),
              ("不合格", "points.grade_fail"))
KEY_FIGURES = (
    ("户数", ("registry.households",)),
    ("党员", ("party.members_total",)),
    ("网格（含辅助、微网格）", ("grids.grids", "grids.aux_grids", "grids.micro_grids")),
    ("已覆盖户数", ("grids.covered_households",)),
    ("星级文明户", ("stars.star_households",)),
    ("本季度生效积分记录", ("points.records_in_quarter",)),
    ("待审核积分记录", ("points.pending_review",)),
    ("待公示积分记录", ("points.pending_publicity",)),
    ("评定中的对象", ("evaluations.open_targets",)),
)
TREND_YEARS = 5


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Overview:
    period: Period
    unit_name: str
    rows_label: str  # 村 or 乡镇
    names: tuple[str, ...]
    key_figures: tuple[KeyFigure, ...]
    stars: dict[str, tuple[int, ...]]  # level → per row
    grades: dict[str, int]
    grades_year: int  # grades are annual: during a year the chart shows the last whole year
    covered: tuple[int, ...]
    uncovered: tuple[int, ...]
    trend_years: tuple[int, ...]
    trend_income: tuple[Decimal, ...]  # 元
    trend_business: tuple[Decimal, ...]
    missing_figures: tuple[str, ...]


def build_overview(session: Session, figures: FigureRegistry, units: UnitSource, period: Period, *,
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Overview:
    """Everything the 首页 shows, in one read session."""
    reporter = Reporter(progress, cancel)
    mode, root_name, _code = units.root(session)
    unit_rows = units.units(session)
    ids = [u.id for u in unit_rows]
    if mode == "county":
        groups: dict[int, tuple[str, list[int]]] = {}
        for u in unit_rows:
            groups.setdefault(u.township_id, (u.township_name, []))[1].append(u.id)
        rows = list(groups.values())
    else:
        rows = [(u.name, [u.id]) for u in unit_rows]
    keys = [k for _l, ks in KEY_FIGURES for k in ks] + [k for _l, k, _c in STAR_KEYS]
    keys += ["grids.uncovered_households"]
    reporter.step(0, 3, "正在计算关键数字")
    values, missing = figures.compute(session, keys, period, ids)
    whole_year = period.quarter == 4 and period.end < dt.date.today()
    grades_period = period if whole_year else Period(period.year - 1, 4)
    graded, lacking = figures.compute(session, [k for _l, k in GRADE_KEYS], grades_period, ids)
    values.update(graded)
    missing += lacking

    def total(*names: str) -> int:
        return int(sum((as_number(values[n].get(v)) for n in names for v in ids), Decimal(0)))

    def per_row(name: str) -> tuple[int, ...]:
        return tuple(int(sum((as_number(values[name].get(v)) for v in members), Decimal(0))) for _n, members in rows)

    households = total("registry.households")
    covered = total("grids.covered_households")
    share = f"覆盖率 {Decimal(covered * 100) / households:.1f}%" if households else ""
    stars_total = total("stars.star_households")
    star_share = f"占总户数 {Decimal(stars_total * 100) / households:.1f}%" if households else ""
    notes = {"已覆盖户数": share, "星级文明户": star_share}
    key_figures = [KeyFigure("村（社区）" if mode != "county" else "乡镇", str(len(rows)),
                             f"共 {len(ids)} 个村（社区）" if mode == "county" else "")]
    key_figures += [KeyFigure(label, f"{total(*names):,}", notes.get(label, ""))
                    for label, names in KEY_FIGURES]
    reporter.step(1, 3, "正在计算集体经济趋势")
    years = tuple(range(period.year - TREND_YEARS + 1, period.year + 1))
    income, business, shown = [], [], []
    for year in years:
        got, lacking = figures.compute(session, ["org.total_income_fen", "org.business_income_fen",
                                                 "org.year_on_file"], Period(year, 4), ids)
        missing += lacking
        if not any(got["org.year_on_file"].get(v) for v in ids) or not any(
                got["org.total_income_fen"].get(v) or got["org.business_income_fen"].get(v) for v in ids):
            continue  # no village has that year's accounts yet (a year opened by 年度结转 has only its opening debt)
        shown.append(year)
        income.append(sum((as_number(got["org.total_income_fen"].get(v)) for v in ids), Decimal(0)) / 100)
        business.append(sum((as_number(got["org.business_income_fen"].get(v)) for v in ids), Decimal(0)) / 100)
    reporter.step(2, 3, "正在绘制图表")
    return Overview(period, root_name, "乡镇" if mode == "county" else "村", tuple(n for n, _m in rows),
                    tuple(key_figures), {label: per_row(key) for label, key, _c in STAR_KEYS},
                    {label: total(key) for label, key in GRADE_KEYS}, grades_period.year, per_row("grids.covered_households"),
                    per_row("grids.uncovered_households"), tuple(shown), tuple(income), tuple(business),
                    tuple(dict.fromkeys(missing)))


def _axes(figure: Figure, title: str):  # noqa: ANN202 (matplotlib Axes)
    figure.clear()
    ax = figure.add_subplot(1, 1, 1)
    ax.set_title(title, fontproperties=cjk_font(), fontsize=12)
    ax.grid(axis="y", alpha=0.3)
    return ax


def _names(ax, names: Sequence[str]) -> None:  # noqa: ANN001
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontproperties=cjk_font(), rotation=60 if len(names) > 8 else 0, ha="right"
                       if len(names) > 8 else "center", fontsize=7 if len(names) > 12 else 8)
    for label in ax.get_yticklabels():
        label.set_fontproperties(cjk_font())


def _empty(ax, text: str) -> None:  # noqa: ANN001
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontproperties=cjk_font())


def stars_chart(data: Overview, figure: Figure | None = None) -> Figure:
    fig = figure or Figure(figsize=(7.0, 3.8), dpi=100)
    ax = _axes(fig, f"各{data.rows_label}星级文明户（户）")
    bottom = [0] * len(data.names)
    for label, _key, colour in STAR_KEYS:
        counts = data.stars[label]
        ax.bar(range(len(data.names)), counts, bottom=bottom, label=label, color=colour)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _names(ax, data.names)
    if any(bottom):
        ax.set_ylim(0, max(bottom) * 1.25)
        ax.legend(prop=cjk_font(), ncol=3, loc="upper right", frameon=False)
    else:
        _empty(ax, "暂无已定级的星级文明户")
    fig.tight_layout()
    return fig


def grades_chart(data: Overview, figure: Figure | None = None) -> Figure:
    fig = figure or Figure(figsize=(7.0, 3.8), dpi=100)
    ax = _axes(fig, f"党员积分等次分布（{data.grades_year}年度，人）")
    labels, counts = list(data.grades), list(data.grades.values())
    bars = ax.bar(range(len(labels)), counts, color=["#59a14f", "#4e79a7", "#f28e2b", "#e15759"])
    _names(ax, labels)
    if any(counts):
        ax.set_ylim(0, max(counts) * 1.2)
        for bar, count in zip(bars, counts, strict=True):
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), str(count), ha="center", va="bottom",
                    fontsize=8)
    else:
        _empty(ax, "暂无积分等次数据")
    fig.tight_layout()
    return fig


def coverage_chart(data: Overview, figure: Figure | None = None) -> Figure:
    fig = figure or Figure(figsize=(7.0, 3.8), dpi=100)
    ax = _axes(fig, f"各{data.rows_label}网格覆盖住户（户）")
    positions = range(len(data.names))
    ax.bar(positions, data.covered, label="已覆盖", color="#4e79a7")
    ax.bar(positions, data.uncovered, bottom=data.covered, label="未覆盖", color="#e15759")
    _names(ax, data.names)
    tops = [a + b for a, b in zip(data.covered, data.uncovered, strict=True)]
    if any(tops):
        ax.set_ylim(0, max(tops) * 1.25)
        ax.legend(prop=cjk_font(), ncol=2, loc="upper right", frameon=False)
    else:
        _empty(ax, "暂无住户")
    fig.tight_layout()
    return fig


def income_chart(data: Overview, figure: Figure | None = None) -> Figure:
    fig = figure or Figure(figsize=(7.0, 3.8), dpi=100)
    ax = _axes(fig, "村级集体经济收入趋势（万元）")
    wan = [float(x / 10000) for x in data.trend_income]
    business = [float(x / 10000) for x in data.trend_business]
    positions = range(len(data.trend_years))
    ax.bar([p - 0.2 for p in positions], wan, width=0.4, label="总收入", color="#4e79a7")
    ax.bar([p + 0.2 for p in positions], business, width=0.4, label="经营性收入", color="#59a14f")
    _names(ax, [f"{y}年" for y in data.trend_years])
    if any(wan) or any(business):
        ax.set_ylim(0, max(wan + business) * 1.25)
        ax.legend(prop=cjk_font(), ncol=2, loc="upper left", frameon=False)
    else:
        _empty(ax, "暂无集体经济数据")
    fig.tight_layout()
    return fig


CHARTS = (("星级文明户", stars_chart), ("积分等次", grades_chart), ("网格覆盖", coverage_chart),
          ("集体经济", income_chart))


def chart_images(data: Overview, dpi: int = 150) -> list[ChartImage]:
    """The four charts as PNGs (for the return PDF and "save as picture")."""
    out = []
    for caption, draw in CHARTS:
        figure = draw(data)
        title = figure.axes[0].get_title() if figure.axes else caption
        out.append(ChartImage(title, figure_png(figure, dpi)))
    return out
