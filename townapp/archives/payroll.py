"""Sheets the finance office pays from: the monthly payroll (按月发放) and the creation awards (创建奖励).

Both are built from the service's ``PayTable``s, so every figure is the pay table's own: amounts are
kept in 分 and written as 元 with two decimals (``Decimal(分) / 100``, exact), and each sheet's totals
add up to the pay tables' totals to the 分. A township user gets every village they may read, one
after another; a village clerk their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from townapp.archives.dto import PayLine, PayTable
from townapp.archives.service import ArchiveService
from townapp.core.atomic import atomic_output
from townapp.core.money import format_yuan
from townapp.exchange.writer import HEADER_FILL, save_fitted, set_cell
from townapp.outputs.table_xlsx import BORDER

MONTHS = tuple(range(1, 13))
YUAN = "#,##0.00"
PAYROLL_AWARDS = (("assessment", "考核报酬"), ("star", "星级奖励"), ("bonus", "晋位及连续奖励"), ("creation", "创建奖励"))


def yuan(fen: int) -> Decimal:
    """分 as 元 with two decimals, exactly (never through float)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def pay_tables(service: ArchiveService, year: int, village_id: int | None = None) -> list[PayTable]:
    """One village's pay table, or every village the user may read (the township's), in code order."""
    ids = [village_id] if village_id is not None else [row.village_id for row in service.overview()]
    return [service.pay_table(vid, year) for vid in ids]


def month_amounts(line: PayLine) -> list[int]:
    """The basic pay of each month (分): the monthly rate for the months in post, counted from January."""
    return [line.monthly if month <= line.months else 0 for month in MONTHS]


def _sheet(ws: Worksheet, title: str, subtitle: str, headers: Sequence[str], rows: Sequence[Sequence[object]],
           widths: Sequence[float], money_from: int, a3: bool = False) -> None:
    """A bordered table under a title; columns from ``money_from`` (1-based) are 元 with two decimals."""
    set_cell(ws.cell(row=1, column=1), title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    set_cell(ws.cell(row=2, column=1), subtitle)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(headers))
    for col, header in enumerate(headers, start=1):
        cell = set_cell(ws.cell(row=3, column=col), header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, values in enumerate(rows, start=4):
        for c, value in enumerate(values, start=1):
            cell = set_cell(ws.cell(row=r, column=c), value)
            cell.border = BORDER
            if c >= money_from and isinstance(value, Decimal):
                cell.number_format = YUAN
            if values and values[0] == "合计":
                cell.font = Font(bold=True)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=4, column=money_from)
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if a3 else ws.PAPERSIZE_A4  # 25 columns need A3 to stay legible
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _place(tables: Sequence[PayTable]) -> str:
    return tables[0].village_name if len(tables) == 1 else f"全乡镇{len(tables)}个村（社区）"


def payroll_rows(tables: Sequence[PayTable]) -> list[list[object]]:
    """One row per cadre: 1–12月 basic pay, the annual awards, the year's total; a 合计 row (元)."""
    rows: list[list[object]] = []
    totals = [0] * (len(MONTHS) + 1 + len(PAYROLL_AWARDS) + 1)
    for table in tables:
        for line in table.lines:
            amounts = [*month_amounts(line), line.basic, *[getattr(line, k) for k, _h in PAYROLL_AWARDS], line.total]
            totals = [t + x for t, x in zip(totals, amounts, strict=True)]
            rows.append([table.village_name, line.name, line.post, line.months, line.grade,
                         *[yuan(x) for x in amounts], line.remark, None])
    rows.append(["合计", f"{sum(len(t.lines) for t in tables)}人", "", "", "", *[yuan(x) for x in totals], "", None])
    return rows


def write_payroll_xlsx(tables: Sequence[PayTable], out: Path | str) -> Path:
    """按月发放表: basic pay month by month; 考核、星级、晋位、创建 are annual and paid once (年终)."""
    if not tables:
        raise ValueError("没有可导出的村")
    year = tables[0].year
    headers = ("村（社区）", "姓名", "职务", "任职月数", "考核等级", *[f"{m}月" for m in MONTHS], "基本报酬小计",
               *[h for _k, h in PAYROLL_AWARDS], "全年合计", "备注", "领取人签名")
    book = Workbook()
    ws = book.active
    ws.title = f"{year}按月发放"
    _sheet(ws, f"{_place(tables)} {year}年度村干部报酬按月发放表",
           "单位：元。基本报酬（含重点村补贴）按月发放，任职不满12个月的自1月起计；考核报酬、星级奖励、晋位及连续奖励、"
           "创建奖励按年度核定，年终一次发放。", headers, payroll_rows(tables),
           (12, 9, 10, 8, 9, *[10] * 12, 12, 11, 11, 11, 11, 12, 34, 12), money_from=6, a3=True)
    with atomic_output(out) as tmp:
        save_fitted(book, tmp)
    return Path(out)


def creation_rows(tables: Sequence[PayTable]) -> list[list[object]]:
    """Per village with a creation level: each cadre's award, then the village's 村级活动经费; a 合计 row."""
    rows: list[list[object]] = []
    cadres = funds = 0
    for table in tables:
        if not table.creation_level:
            continue
        for line in table.lines:
            cadres += line.creation
            rows.append([table.village_name, table.creation_level, line.name, line.post, line.months,
                         yuan(line.creation), "村干部创建奖励"])
        funds += table.activity_fund
        rows.append([table.village_name, table.creation_level, "（村级）", "", "", yuan(table.activity_fund),
                     "村级活动经费"])
    rows.append(["合计", "", "", "", "", yuan(cadres + funds),
                 f"其中村干部创建奖励{format_yuan(cadres)}元，村级活动经费{format_yuan(funds)}元"])
    return rows


def write_creation_awards_xlsx(tables: Sequence[PayTable], out: Path | str) -> Path:
    """创建奖励发放表: 规范/示范/典范 每名村干部 1/2/3万 (按任职月数折算) and the village's activity funds."""
    if not tables:
        raise ValueError("没有可导出的村")
    year = tables[0].year
    book = Workbook()
    ws = book.active
    ws.title = f"{year}创建奖励"
    _sheet(ws, f"{_place(tables)} {year}年度规范·示范·典范创建奖励发放表",
           "单位：元。村干部创建奖励按本村当年创建等级核定，任职不满12个月的按月折算；村级活动经费拨付到村。",
           ("村（社区）", "创建等级", "姓名", "职务", "任职月数", "金额（元）", "类别"), creation_rows(tables),
           (14, 9, 10, 10, 8, 14, 40), money_from=6)
    with atomic_output(out) as tmp:
        save_fitted(book, tmp)
    return Path(out)
