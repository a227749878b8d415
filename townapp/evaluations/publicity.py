"""What a round shows outside the program: the 公示 list (PDF and xlsx) and the level distribution chart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from matplotlib.figure import Figure

from townapp.core.errors import DomainError
from townapp.evaluations.service import EvaluationService
from townapp.outputs.archive_pdf import TableDocument, TableSection, write_table_pdf
from townapp.outputs.charts import stacked_bars
from townapp.outputs.table_xlsx import write_table_xlsx

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
    """The same list as a workbook (cells written safely: names beginning with = stay text; codes stay text)."""
    title, period, table = _lines(service, round_id)
    return write_table_xlsx(out, sheet="公示名单", title=title, subtitle=period, headers=HEADERS, rows=table,
                            widths=(6, 14, 14, 14, 10, 10), text_columns=(False, False, True))


def distribution_figure(service: EvaluationService, round_id: int, figure: Figure | None = None) -> Figure:
    """Stacked bars: per village, how many targets reached each level (unrated in grey)."""
    rnd = service.round(round_id)
    names, per_village = service.distribution(round_id)
    layers = [(level, [c.get(level, 0) for _, c in per_village],
               _UNRATED_COLOUR if level == rnd.scheme.unrated else _COLOURS[index % len(_COLOURS)])
              for index, level in enumerate(names)]
    return stacked_bars([v for v, _ in per_village], layers, title=f"{rnd.name}：各村等级分布", unit="对象数",
                        empty_text="暂无评定对象", legend_columns=min(len(names), 6), legend_below=0.18,
                        figure=figure, size=(7.0, 3.6))
