"""What a round shows outside the program: the 公示 list (PDF and xlsx) and the level distribution chart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError
from townapp.evaluations.service import EvaluationService
from townapp.exchange.writer import HEADER_FILL, set_cell
from townapp.outputs.archive_pdf import TableDocument, TableSection, write_table_pdf
from townapp.outputs.charts import cjk_font

_DIGITS = "〇一二三四五六七八九"
_COLOURS = ["#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#2980b9", "#8e44ad", "#16a085", "#7f8c8d", "#d35400",
            "#2c3e50"]
_UNRATED_COLOUR = "#d5d8dc"
HEADERS = ("序号", "村/社区", "编号", "评定对象", "评定等级", "得分/星数")


def chinese_date(day: dt.date) -> str:
    """二〇二五年十二月一日: how notices are dated."""
    def number(n: int) -> str:
        if n < 10:
            return _DIGITS[n]
        tens, ones = divmod(n, 10)
        return f"{'' if tens == 1 else _DIGITS[tens]}十{_DIGITS[ones] if ones else ''}"

    return f"{''.join(_DIGITS[int(c)] for c in str(day.year))}年{number(day.month)}月{number(day.day)}日"


def _lines(service: EvaluationService, round_id: int) -> tuple[str, str, list[list[str]]]:
    rnd = service.round(round_id)
    rows = service.publicity_rows(round_id)
    if not rows:
        raise DomainError("本轮评定还没有评定出等级的对象，没有可公示的名单")
    if rnd.publicity_start and rnd.publicity_end:
        period = f"公示期：{rnd.publicity_start:%Y年%m月%d日}至{rnd.publicity_end:%Y年%m月%d日}"
    else:
        period = "公示期：（进入公示环节时确定）"
    table = [[str(i), r.village, r.code, r.label, r.level, "" if r.measure is None else f"{r.measure.normalize():f}"]
             for i, r in enumerate(rows, start=1)]
    return f"{rnd.name}结果公示", period, table


def write_publicity_pdf(service: EvaluationService, round_id: int, out: Path | str, *, issuer: str = "",
                        on: dt.date | None = None) -> Path:
    """The 公示 list as an A4 PDF with the bundled font; a character the font lacks stops it before printing."""
    rnd = service.round(round_id)
    title, period, table = _lines(service, round_id)
    day = on or rnd.publicity_start or dt.date.today()
    note = (f"以上{len(table)}个对象经{'、'.join(s.name for s in rnd.scheme.score_stages)}评定，现予公示。{period}。"
            "公示期间如有异议，请向乡镇党委（文明办）实名反映，我们将认真核实处理。")
    doc = TableDocument(title=title, subtitle=f"{rnd.scheme.name}　{rnd.period_text}",
                        sections=[TableSection("公示名单", HEADERS, table, widths=(0.6, 1.4, 1.2, 1.5, 1.0, 1.0),
                                               numeric=(True, False, False, False, False, True), note=note)],
                        footer=f"{title}　{period}",
                        signature_lines=(issuer or "乡镇党委（盖章）", chinese_date(day)))
    return write_table_pdf(doc, out)


def write_publicity_xlsx(service: EvaluationService, round_id: int, out: Path | str) -> Path:
    """The same list as a workbook (cells written safely: names beginning with = stay text)."""
    title, period, table = _lines(service, round_id)
    wb = Workbook()
    ws = wb.active
    ws.title = "公示名单"
    set_cell(ws.cell(row=1, column=1), title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    set_cell(ws.cell(row=2, column=1), period)
    thin = Side(style="thin", color="555555")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, header in enumerate(HEADERS, start=1):
        cell = set_cell(ws.cell(row=3, column=col), header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, border
    for r, line in enumerate(table, start=4):
        for col, value in enumerate(line, start=1):
            cell = set_cell(ws.cell(row=r, column=col), value, text=col == 3)
            cell.border = border
    for col, width in zip("ABCDEF", (6, 14, 14, 14, 10, 10), strict=True):
        ws.column_dimensions[col].width = width
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    out = Path(out)
    with atomic_output(out) as tmp:
        wb.save(tmp)
    return out


def distribution_figure(service: EvaluationService, round_id: int, figure: Figure | None = None) -> Figure:
    """Stacked bars: per village, how many targets reached each level (unrated in grey)."""
    rnd = service.round(round_id)
    names, per_village = service.distribution(round_id)
    fig = figure or Figure(figsize=(7.0, 3.6), dpi=100)
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    font = cjk_font()
    villages = [v for v, _ in per_village]
    positions = list(range(len(villages)))
    bottoms = [0] * len(villages)
    for index, level in enumerate(names):
        counts = [c.get(level, 0) for _, c in per_village]
        colour = _UNRATED_COLOUR if level == rnd.scheme.unrated else _COLOURS[index % len(_COLOURS)]
        ax.bar(positions, counts, bottom=bottoms, label=level, color=colour, width=0.7)
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    ax.set_xticks(positions)
    ax.set_xticklabels(villages, fontproperties=font, rotation=45 if len(villages) > 8 else 0,
                       ha="right" if len(villages) > 8 else "center", fontsize=8)
    ax.set_ylabel("对象数", fontproperties=font)
    ax.set_title(f"{rnd.name}：各村等级分布", fontproperties=font, fontsize=11)
    ax.legend(prop=font, fontsize=8, ncol=min(len(names), 6), loc="upper center", bbox_to_anchor=(0.5, -0.18 if
              len(villages) <= 8 else -0.35), frameon=False)
    if not villages:
        ax.text(0.5, 0.5, "暂无评定对象", transform=ax.transAxes, ha="center", va="center", fontproperties=font)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
