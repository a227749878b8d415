"""Writing cells safely: the one helper every xlsx writer uses.

A value that begins with = + - @ tab CR or LF is written as a text cell (with
Excel's quote prefix), never as a formula, so an exported name like
``=HYPERLINK(...)`` cannot run when the county opens the file. ID numbers,
phones and codes are written as text in "@"-formatted cells so Excel never
turns them into 1.4E+17. Exports other than the sync package mask ID numbers
unless the caller gives a reason, which is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import insert

from townapp.core.actor import Actor
from townapp.core.atomic import atomic_output
from townapp.core.idcard import mask_id_number
from townapp.core.text import strip_control_characters
from townapp.db import Database
from townapp.db.audit import record_read
from townapp.exchange import spec as s
from townapp.exchange.models import ExportRecord
from townapp.exchange.reader import file_sha256

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FONT = Font(bold=True, color="C00000")
HEADER_FONT = Font(bold=True)


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def set_cell(cell: Cell | WriteOnlyCell, value: Any, *, text: bool = False) -> Cell | WriteOnlyCell:
    """Put ``value`` into ``cell`` so it is data, never a formula; ``text`` formats it "@"."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if text and value is not None and not isinstance(value, str):
        value = str(value)
    if isinstance(value, str) and not value.isprintable():
        value = strip_control_characters(value)  # only text stored before the door refused them
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        if is_formula_like(value):
            cell.quotePrefix = True  # Excel keeps it text even after the user edits the cell
    if text:
        cell.number_format = TEXT_FORMAT
    elif isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT
    return cell


def safe_row(ws: Worksheet, values: Sequence[Any], text_columns: Sequence[bool] = ()) -> list[WriteOnlyCell]:
    """Cells for ``ws.append`` in write-only worksheets."""
    cells = []
    for index, value in enumerate(values):
        text = index < len(text_columns) and text_columns[index]
        cells.append(set_cell(WriteOnlyCell(ws), value, text=text))
    return cells


def write_header(ws: Worksheet, columns: Sequence[s.ColumnSpec], row: int = 1) -> None:
    """Bold header, required columns in red, widths from the spec, header row frozen."""
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=row, column=index)
        set_cell(cell, column.header)
        cell.font = REQUIRED_FONT if column.required else HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = cell.column_letter
        ws.column_dimensions[letter].width = column.width
        if column.text_format:
            ws.column_dimensions[letter].number_format = TEXT_FORMAT
    ws.freeze_panes = ws.cell(row=row + 1, column=1)


def export_value(column: s.ColumnSpec, value: Any, full_ids: bool) -> Any:
    """What a cell shows in an export: lists joined with 、, IDs masked unless full IDs were asked for."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return "、".join(str(v) for v in value)
    if column.kind == s.ID_NUMBER and not full_ids:
        return mask_id_number(str(value))
    return value


def export_sheets(db: Database, specs: Iterable[s.SheetSpec], out: Path | str, actor: Actor, *,
                  reason: str | None = None, township_code: str | None = None) -> int:
    """A plain workbook of the data (for people to read or print), IDs masked unless ``reason`` is given.

    A full-ID export is logged as a read in the audit log with the reason,
    and every export is listed in the export log. Returns the number of rows.
    """
    full_ids = bool(reason and reason.strip())
    out = Path(out)
    specs = list(specs)
    total = 0
    workbook = Workbook(write_only=True)
    with db.engine.connect() as conn:
        for spec in specs:
            ws = workbook.create_sheet(spec.title)
            ws.freeze_panes = "A2"
            for index, column in enumerate(spec.columns):
                ws.column_dimensions[_letter(index)].width = column.width
            ws.append(safe_row(ws, [c.header for c in spec.columns]))
            text_columns = [c.text_format for c in spec.columns]
            for record in spec.adapter.export_rows(conn, township_code):
                values = [export_value(c, record.get(c.key), full_ids) for c in spec.columns]
                ws.append(safe_row(ws, values, text_columns))
                total += 1
    with atomic_output(out) as tmp:
        workbook.save(tmp)
    with db.unit_of_work(actor, reason=reason) as session:
        if full_ids:
            record_read(session, "export", None, reason or "", f"导出含完整身份证号的表格 {out.name}")
        session.execute(insert(ExportRecord), [dict(username=actor.username, kind="sheets", file_name=out.name,
                                                    file_sha256=file_sha256(out), rows=total, full_ids=full_ids,
                                                    reason=reason)])
    return total


def _letter(index: int) -> str:
    return get_column_letter(index + 1)
