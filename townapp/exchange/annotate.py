"""The annotated copy of the user's own workbook: error cells coloured, a 错误原因 column added.

The user fixes the marked cells in the copy and re-sends it. A small .xlsx/.xlsm
is copied with its formatting (openpyxl loads it whole: about a minute and
gigabytes for a million formatted rows); any other file — .xls, .ods, a large
workbook — is rebuilt from its values, streamed row by row (calamine reads,
xlsxwriter writes in constant memory). The output is always .xlsx and starts
with a 导入报告 sheet. A file that cannot be read gives AnnotateFailed with a
Chinese message, never an unexpected error.
"""

from __future__ import annotations

import datetime as dt
import decimal
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import xlsxwriter
from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.exchange.reader import DEFAULT_LIMITS, FileRejected, ImportLimits, Workbook, detect_format
from townapp.exchange.report import ACTION_LABELS, ImportReport, Issue
from townapp.exchange.writer import DATE_FORMAT, HEADER_FONT, is_formula_like, set_cell

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
REASON_HEADER = "错误原因"
REPORT_SHEET = "导入报告"
# worksheets' XML up to this size are copied with their formatting by openpyxl (~20,000 rows; seconds);
# larger ones are rebuilt from their values in constant memory
OPENPYXL_MAX_XML_BYTES = 8 * 1024 * 1024
_STEP_ROWS = 5000

Issues = dict[str, dict[int, list[Issue]]]


class AnnotateFailed(DomainError):
    """The annotated copy cannot be made (the file cannot be read); the message says why."""


def write_annotated(source: Path | str, report: ImportReport, out: Path | str,
                    limits: ImportLimits = DEFAULT_LIMITS, *, progress: ProgressFn | None = None,
                    cancel: CancelFn | None = None) -> Path:
    """Save the annotated copy to ``out`` (always xlsx); returns ``out``. Raises AnnotateFailed, or
    Cancelled when ``cancel`` says so (nothing is left under ``out`` then)."""
    source, out = Path(source), Path(out)
    reporter = Reporter(progress, cancel)
    reporter.step(0, 0, "正在读取原文件")
    by_sheet: Issues = defaultdict(lambda: defaultdict(list))
    for issue in report.errors:
        if issue.sheet:
            by_sheet[issue.sheet][max(issue.row, 1)].append(issue)
    try:
        kind = detect_format(source, limits)
        book = _openpyxl_copy(source) if kind == "xlsx" and _sheets_xml_bytes(source) <= OPENPYXL_MAX_XML_BYTES else None
        if book is not None:
            _mark(book, report, by_sheet)
            _report_sheet(book, report)
            reporter.step(1, 1, "正在保存标注副本")
            with atomic_output(out) as tmp:
                book.save(tmp)
            return out
        with atomic_output(out) as tmp:
            _streamed_copy(source, report, by_sheet, tmp, limits, reporter)
    except FileRejected as exc:
        raise AnnotateFailed(f"无法生成标注副本：{exc.message}") from None
    return out


def _sheets_xml_bytes(source: Path) -> int:
    try:
        with zipfile.ZipFile(source) as archive:
            return sum(i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    except (OSError, zipfile.BadZipFile):
        return OPENPYXL_MAX_XML_BYTES + 1


def _openpyxl_copy(source: Path) -> OpenpyxlWorkbook | None:
    try:
        return load_workbook(source)
    except Exception:  # openpyxl rejects some files calamine reads (e.g. odd styles): rebuilt from values
        return None


def _mark(workbook: OpenpyxlWorkbook, report: ImportReport, by_sheet: Issues) -> None:
    for sheet, rows in by_sheet.items():
        if sheet not in workbook.sheetnames:
            continue
        ws = workbook[sheet]
        layout = report.layouts.get(sheet)
        header_row = layout.header_row if layout else 1
        reason_col = (layout.width if layout else ws.max_column) + 1
        header = set_cell(ws.cell(header_row, reason_col), REASON_HEADER)
        header.font = Font(bold=True, color="C00000")
        ws.column_dimensions[header.column_letter].width = 50
        for row_number, issues in sorted(rows.items()):
            for issue in issues:
                if issue.col_index is not None:
                    cell = ws.cell(row_number, issue.col_index + 1)
                    cell.fill = ERROR_FILL
                    if row_number != header_row:
                        cell.comment = Comment(issue.message[:500], "townapp")
            reason = set_cell(ws.cell(row_number, reason_col), _reasons(issues))
            reason.fill = ERROR_FILL


def _reasons(issues: list[Issue]) -> str:
    return "；".join(f"{i.column}：{i.message}" if i.column else i.message for i in issues)[:32000]


def _streamed_copy(source: Path, report: ImportReport, by_sheet: Issues, out: Path, limits: ImportLimits,
                   reporter: Reporter) -> None:
    """The copy rebuilt from values: one row in memory at a time on either side."""
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False,
                                          "strings_to_formulas": False, "strings_to_urls": False,
                                          "nan_inf_to_errors": True})
    try:
        formats = {"error": book.add_format({"bg_color": "#FFC7CE"}),
                   "error_quote": book.add_format({"bg_color": "#FFC7CE", "quote_prefix": True}),
                   "quote": book.add_format({"quote_prefix": True}),
                   "date": book.add_format({"num_format": DATE_FORMAT}),
                   "reason_header": book.add_format({"bold": True, "font_color": "#C00000"})}
        with Workbook(source, limits) as calamine_book:
            names = {info.name[:31] for info in calamine_book.sheets}
            _report_sheet_streamed(book, report, _free_name(REPORT_SHEET, names))
            for info in calamine_book.sheets:
                ws = book.add_worksheet(info.name[:31])
                issues = by_sheet.get(info.name, {})
                layout = report.layouts.get(info.name)
                header_row = layout.header_row if layout else 1
                reason_col = layout.width if layout else None
                for number, row in enumerate(calamine_book.rows(info), start=1):
                    if number % _STEP_ROWS == 0:
                        reporter.step(number, 0, f"正在生成标注副本：{info.name} 第 {number} 行")
                    marked = issues.get(number)
                    bad = {i.col_index for i in marked if i.col_index is not None} if marked else ()
                    for col, value in enumerate(row):
                        if (value is None or value == "") and col not in bad:
                            continue
                        _write(ws, number - 1, col, value, col in bad, formats)
                    if issues:
                        width = reason_col if reason_col is not None else len(row)
                        if number == header_row:
                            ws.write_string(number - 1, width, REASON_HEADER, formats["reason_header"])
                        elif marked:
                            ws.write_string(number - 1, width, _reasons(marked), formats["error"])
        reporter.step(1, 1, "正在保存标注副本")
    finally:
        book.close()


def _write(ws: Any, row: int, col: int, value: Any, bad: bool, formats: dict[str, Any]) -> None:
    """One cell as data, never as a formula (strings that look like one get the quote prefix)."""
    if value.__class__ is str or not isinstance(value, (bool, int, float, decimal.Decimal, dt.date)):
        text = value if value.__class__ is str else ("" if value is None else str(value))
        quoted = is_formula_like(text)
        style = ("error_quote" if quoted else "error") if bad else ("quote" if quoted else None)
        ws.write_string(row, col, text[:32767], formats[style] if style else None)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, formats["error"] if bad else None)
    elif isinstance(value, (int, float, decimal.Decimal)):
        ws.write_number(row, col, float(value), formats["error"] if bad else None)
    else:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        ws.write_datetime(row, col, moment, formats["error"] if bad else formats["date"])


def _free_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _report_rows(report: ImportReport) -> list[tuple[Any, ...]]:
    """The 导入报告 sheet's rows: result, counts per sheet, then every error and warning."""
    status = "通过" if report.accepted else "未通过（文件中有错误，数据库没有任何改动）"
    rows: list[tuple[Any, ...]] = [(f"导入报告：{report.file_name}",), (f"结果：{status}；{'试导入' if report.dry_run else '正式导入'}",),
                                   ()]
    rows.append(("工作表", *[ACTION_LABELS[k] for k in ("created", "updated", "unchanged", "errors")]))
    for sheet, counts in report.sheets.items():
        rows.append((sheet, counts.created, counts.updated, counts.unchanged, counts.errors))
    rows.append(())
    rows.append(("工作表", "行", "列", "代码", "原因"))
    rows.extend((i.sheet, i.row or None, i.column, i.code, i.message) for i in report.errors)
    rows.extend((i.sheet, i.row or None, i.column, "提示", i.message) for i in report.warnings)
    return rows


def _report_sheet_streamed(book: Any, report: ImportReport, name: str) -> None:
    ws = book.add_worksheet(name)
    for letter, width in zip("ABCDE", (16, 6, 16, 18, 80), strict=True):
        ws.set_column(f"{letter}:{letter}", width)
    bold = book.add_format({"bold": True})
    for r, row in enumerate(_report_rows(report)):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value, bold if r in (0, 3) else None)
            else:
                ws.write_number(r, c, value)


def _report_sheet(workbook: OpenpyxlWorkbook, report: ImportReport) -> None:
    ws = workbook.create_sheet(_free_name(REPORT_SHEET, set(workbook.sheetnames)), 0)
    workbook.active = 0
    rows = _report_rows(report)
    errors_from = len(rows) - len(report.errors) - len(report.warnings)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = set_cell(ws.cell(r, c), value)
            if r == 1:
                cell.font = Font(bold=True, size=13)
            elif row and row[0] == "工作表" and r in (4, errors_from):
                cell.font = HEADER_FONT
            elif c == 5 and errors_from < r <= errors_from + len(report.errors):
                cell.fill = ERROR_FILL
    for letter, width in zip("ABCDE", (16, 6, 16, 18, 80), strict=True):
        ws.column_dimensions[letter].width = width
