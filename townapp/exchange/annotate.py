"""The annotated copy of the user's own workbook: error cells coloured, a 错误原因 column added.

The user fixes the marked cells in the copy and re-sends it. An .xlsx/.xlsm
is copied with its formatting (openpyxl); .xls and .ods are rebuilt from
their values. The output is always .xlsx and starts with a 导入报告 sheet.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from townapp.core.atomic import atomic_output
from townapp.exchange.reader import DEFAULT_LIMITS, FileRejected, ImportLimits, Workbook, detect_format
from townapp.exchange.report import ACTION_LABELS, ImportReport, Issue
from townapp.exchange.writer import HEADER_FONT, set_cell

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
REASON_HEADER = "错误原因"
REPORT_SHEET = "导入报告"


def write_annotated(source: Path | str, report: ImportReport, out: Path | str,
                    limits: ImportLimits = DEFAULT_LIMITS) -> Path:
    """Save the annotated copy to ``out`` (always xlsx); returns ``out``."""
    source, out = Path(source), Path(out)
    workbook = _load(source, limits)
    by_sheet: dict[str, dict[int, list[Issue]]] = defaultdict(lambda: defaultdict(list))
    for issue in report.errors:
        if issue.sheet and issue.sheet in workbook.sheetnames:
            by_sheet[issue.sheet][issue.row].append(issue)
    for sheet, rows in by_sheet.items():
        ws = workbook[sheet]
        layout = report.layouts.get(sheet)
        header_row = layout.header_row if layout else 1
        reason_col = (layout.width if layout else ws.max_column) + 1
        header = set_cell(ws.cell(header_row, reason_col), REASON_HEADER)
        header.font = Font(bold=True, color="C00000")
        ws.column_dimensions[header.column_letter].width = 50
        for row_number, issues in sorted(rows.items()):
            row_number = max(row_number, 1)
            reasons = []
            for issue in issues:
                reasons.append(f"{issue.column}：{issue.message}" if issue.column else issue.message)
                if issue.col_index is not None:
                    cell = ws.cell(row_number, issue.col_index + 1)
                    cell.fill = ERROR_FILL
                    if row_number != header_row:
                        cell.comment = Comment(issue.message[:500], "townapp")
            reason = set_cell(ws.cell(row_number, reason_col), "；".join(reasons))
            reason.fill = ERROR_FILL
    _report_sheet(workbook, report)
    with atomic_output(out) as tmp:
        workbook.save(tmp)
    return out


def _load(source: Path, limits: ImportLimits) -> OpenpyxlWorkbook:
    try:
        kind = detect_format(source, limits)
    except FileRejected:
        kind = None
    if kind == "xlsx":
        try:
            return load_workbook(source)
        except Exception:  # openpyxl rejects some files calamine reads (e.g. odd styles): rebuild from values
            pass
    book = OpenpyxlWorkbook()
    book.remove(book.active)
    if kind is None:
        return book
    with Workbook(source, limits) as calamine_book:
        for info in calamine_book.sheets:
            ws = book.create_sheet(info.name[:31])
            for number, row in enumerate(calamine_book.rows(info), start=1):
                for col, value in enumerate(row, start=1):
                    if value is not None and value != "":
                        set_cell(ws.cell(number, col), value)
    return book


def _report_sheet(workbook: OpenpyxlWorkbook, report: ImportReport) -> None:
    name = REPORT_SHEET
    while name in workbook.sheetnames:
        name += "_"
    ws = workbook.create_sheet(name, 0)
    workbook.active = 0
    set_cell(ws.cell(1, 1), f"导入报告：{report.file_name}").font = Font(bold=True, size=13)
    status = "通过" if report.accepted else "未通过（文件中有错误，数据库没有任何改动）"
    set_cell(ws.cell(2, 1), f"结果：{status}；{'试导入' if report.dry_run else '正式导入'}")
    row = 4
    for col, title in enumerate(("工作表", *[ACTION_LABELS[k] for k in ("created", "updated", "unchanged", "errors")]),
                                start=1):
        set_cell(ws.cell(row, col), title).font = HEADER_FONT
    for sheet, counts in report.sheets.items():
        row += 1
        for col, value in enumerate((sheet, counts.created, counts.updated, counts.unchanged, counts.errors), start=1):
            set_cell(ws.cell(row, col), value)
    row += 2
    for col, title in enumerate(("工作表", "行", "列", "代码", "原因"), start=1):
        set_cell(ws.cell(row, col), title).font = HEADER_FONT
    for issue in report.errors:
        row += 1
        for col, value in enumerate((issue.sheet, issue.row or None, issue.column, issue.code, issue.message), start=1):
            set_cell(ws.cell(row, col), value).fill = ERROR_FILL if col == 5 else PatternFill()
    for issue in report.warnings:
        row += 1
        for col, value in enumerate((issue.sheet, issue.row or None, issue.column, "提示", issue.message), start=1):
            set_cell(ws.cell(row, col), value)
    for letter, width in zip("ABCDE", (16, 6, 16, 18, 80), strict=True):
        ws.column_dimensions[letter].width = width
