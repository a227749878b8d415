"""The 补助发放表 (xlsx with a signature column, and PDF) and the coverage chart, from the service's DTOs.

Amounts stay integer 分 until the cell: a cell gets an exact ``Decimal`` in 元,
and the 合计 row is the sum of the rows' 分, so the workbook's totals always
equal the sum of its rows. Files are written atomically and read back before
they replace anything.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from matplotlib.figure import Figure
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError
from townapp.exchange.writer import save_fitted, set_cell
from townapp.grids.dto import CoverageReport, SubsidyList
from townapp.grids.scheme import format_points
from townapp.outputs.archive_pdf import TableDocument, TableSection, write_table_pdf
from townapp.outputs.charts import cjk_font

COLUMNS = ("序号", "村/社区", "网格", "姓名", "角色", "专兼职", "考核得分", "档次", "绩效补助（元）", "话费补贴（元）",
           "合计（元）")
WIDTHS = (6, 12, 30, 10, 11, 8, 10, 8, 14, 14, 13)
MONEY_FORMAT = "#,##0.00"
SIGNERS = ("制表人：", "审核人：", "分管领导：")
_THIN = Side(style="thin", color="555555")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(vertical="center", wrap_text=True)


def yuan(fen: int) -> Decimal:
    """分 → 元 as an exact Decimal (65000 → 650.00)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def yuan_text(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _title(lst: SubsidyList) -> str:
    return f"{lst.township}{lst.year}年{lst.month}月{lst.title}"


def _subtitle(lst: SubsidyList) -> str:
    return (f"共 {len(lst.rows)} 人，合计 {yuan_text(lst.total)} 元（绩效补助 {yuan_text(lst.total_performance)} 元，"
            f"话费补贴 {yuan_text(lst.total_allowance)} 元）　审批人：{lst.approved_by or ''}")


def _row_values(row) -> list[object]:  # noqa: ANN001 (SubsidyRow)
    return [row.number, row.village, row.grid, row.name, row.role, row.duty, format_points(row.total), row.band,
            yuan(row.performance_fen), yuan(row.allowance_fen), yuan(row.subsidy_fen)]


def write_subsidy_xlsx(lst: SubsidyList, out: Path | str) -> Path:
    """补助发放表 as xlsx: title, header, one row per member with a signature cell, a 合计 row, signer lines."""
    if not lst.rows:
        raise DomainError("这个月没有可发放补助的人员")
    wb = Workbook()
    ws = wb.active
    ws.title = f"{lst.year}年{lst.month}月"
    headers = [*COLUMNS, lst.signature_header]
    last = len(headers)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    set_cell(ws.cell(1, 1), _title(lst)).font = Font(bold=True, size=16)
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    set_cell(ws.cell(2, 1), _subtitle(lst))
    for column, (header, width) in enumerate(zip(headers, (*WIDTHS, 16), strict=True), start=1):
        cell = set_cell(ws.cell(3, column), header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(column)].width = width
    for index, row in enumerate(lst.rows):
        r = 4 + index
        for column, value in enumerate([*_row_values(row), None], start=1):
            cell = set_cell(ws.cell(r, column), value)
            cell.border = _BORDER
            cell.alignment = _WRAP  # long grid names wrap inside their cell instead of running over
            if isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT
        ws.row_dimensions[r].height = 28  # room for a handwritten signature
    total_row = 4 + len(lst.rows)
    set_cell(ws.cell(total_row, 1), "合计").font = Font(bold=True)
    ws.merge_cells(start_row=total_row, start_column=1, end_row=total_row, end_column=8)
    for column, fen in ((9, lst.total_performance), (10, lst.total_allowance), (11, lst.total)):
        cell = set_cell(ws.cell(total_row, column), yuan(fen))
        cell.number_format = MONEY_FORMAT
        cell.font = Font(bold=True)
    for column in range(1, last + 1):
        ws.cell(total_row, column).border = _BORDER
    set_cell(ws.cell(total_row + 2, 1), "　　　　　　".join(SIGNERS))
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    expected = (len(lst.rows), yuan(lst.total))

    def verify(path: Path) -> None:
        if read_subsidy_totals(path)[:2] != expected:
            raise DomainError("补助发放表写入后核对不一致，未保存，请重试")

    out = Path(out)
    with atomic_output(out, verify=verify) as tmp:
        save_fitted(wb, tmp)
    return out


def read_subsidy_totals(path: Path | str) -> tuple[int, Decimal, Decimal]:
    """(rows, 合计 cell, sum of the rows' 合计) of a written list — the check run before it replaces anything."""
    with open(path, "rb") as handle:  # a file object: openpyxl refuses the temporary ".part" name
        return _totals(handle)


def _totals(handle) -> tuple[int, Decimal, Decimal]:  # noqa: ANN001 (binary file)
    wb = load_workbook(handle, read_only=True)
    try:
        ws = wb.worksheets[0]
        rows, row_sum, total = 0, Decimal(0), None
        for values in ws.iter_rows(min_row=4, values_only=True):
            if values[0] == "合计":
                total = Decimal(str(values[10]))
                break
            if isinstance(values[0], int):
                rows += 1
                row_sum += Decimal(str(values[10]))
    finally:
        wb.close()
    if total is None:
        raise DomainError("补助发放表中没有合计行")
    return rows, total, row_sum


def write_subsidy_pdf(lst: SubsidyList, out: Path | str) -> Path:
    """The same list printable on A4 landscape, a signature cell per row, the font embedded."""
    if not lst.rows:
        raise DomainError("这个月没有可发放补助的人员")
    rows = [[str(v) if not isinstance(v, Decimal) else yuan_text(int(v * 100)) for v in _row_values(r)] + [""]
            for r in lst.rows]
    rows.append(["合计", "", "", "", "", "", "", "", yuan_text(lst.total_performance), yuan_text(lst.total_allowance),
                 yuan_text(lst.total), ""])
    section = TableSection("", (*COLUMNS, lst.signature_header), rows, (*WIDTHS, 16),
                           (False, False, False, False, False, False, True, False, True, True, True, False),
                           row_height=26)
    doc = TableDocument(title=_title(lst), subtitle=_subtitle(lst), sections=[section], landscape=True,
                        footer=f"{lst.township} 网格员补助发放表 {lst.year}年{lst.month}月", signature_lines=SIGNERS)
    return write_table_pdf(doc, out)


def coverage_chart(report: CoverageReport, figure: Figure | None = None, size: tuple[float, float] = (7.5, 3.6)) -> Figure:
    """Households covered by micro-grids, % per village, with the uncovered count over each short bar."""
    fig = figure or Figure(figsize=size, dpi=100)
    fig.clear()
    ax = fig.add_subplot(1, 1, 1)
    font = cjk_font()
    names = [c.name for c in report.villages]
    rates = [c.rate_permille / 10 for c in report.villages]
    colours = ["#59a14f" if c.unassigned == 0 else "#f28e2b" for c in report.villages]
    positions = list(range(len(names)))
    ax.bar(positions, rates, color=colours, width=0.7)
    for x, cov in zip(positions, report.villages, strict=True):
        if cov.unassigned:
            ax.text(x, min(cov.rate_permille / 10, 100) + 1.5, f"缺{cov.unassigned}户", ha="center", va="bottom",
                    fontproperties=font, fontsize=7, color="#c62828")
    ax.set_xticks(positions)
    ax.set_xticklabels(names, fontproperties=font, rotation=45 if len(names) > 8 else 0, ha="right" if len(names) > 8
                       else "center", fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("覆盖率（%）", fontproperties=font)
    total = report.township
    ax.set_title(f"各村住户网格覆盖率（全乡镇 {total.rate_permille / 10:.1f}%，未覆盖 {total.unassigned} 户）",
                 fontproperties=font)
    ax.grid(axis="y", alpha=0.3)
    if not names:
        ax.text(0.5, 0.5, "暂无村/社区", transform=ax.transAxes, ha="center", va="center", fontproperties=font)
    for label in ax.get_yticklabels():
        label.set_fontproperties(font)
    fig.tight_layout()
    return fig
