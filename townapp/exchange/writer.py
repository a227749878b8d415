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
from sqlalchemy import Connection, insert, text

from townapp.core import permissions
from townapp.core.actor import ROLE_READONLY, Actor
from townapp.core.atomic import atomic_output
from townapp.core.dates import MonthDate
from townapp.core.errors import PermissionDenied
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


def export_value(column: s.ColumnSpec, value: Any, full_ids: bool | frozenset[str]) -> Any:
    """What a cell shows in an export: lists joined with 、, IDs masked unless full IDs were asked for.

    ``full_ids`` may be the set of ID numbers that may be shown in full (a clerk's own village's people).
    """
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return "、".join(str(v) for v in value)
    if isinstance(value, MonthDate):  # 1978.02 as text: Excel keeps it, and it reads back as that month
        return value.text()
    if column.kind == s.ID_NUMBER and (not full_ids or (isinstance(full_ids, frozenset) and value not in full_ids)):
        return mask_id_number(str(value))
    return value


NOTE_TITLE = "导出说明"


def _own_id_numbers(conn: Connection, village_id: int) -> frozenset[str]:
    """ID numbers a clerk may see in full: the people living in their village (the registry's person
    table, read by name: the exchange imports no feature module)."""
    return frozenset(conn.execute(text("SELECT id_number FROM person WHERE village_id = :village"),
                                  {"village": village_id}).scalars())


def _check_export(actor: Actor, full_ids: bool) -> None:
    """只读 reads every village but never full ID numbers, whatever reason it gives."""
    if full_ids and actor.role == ROLE_READONLY:
        raise PermissionDenied("只读账号只能导出隐藏身份证号中间位的表格，不能导出完整身份证号；"
                               "请不填写导出原因再导出，或请乡镇干部导出")


def export_sheets(db: Database, specs: Iterable[s.SheetSpec], out: Path | str, actor: Actor, *,
                  reason: str | None = None, township_code: str | None = None) -> int:
    """A plain workbook of the data (for people to read or print), IDs masked unless ``reason`` is given.

    A full-ID export is logged as a read in the audit log with the reason,
    and every export is listed in the export log. Returns the number of rows.
    Scoped by ``actor`` (DESIGN §7): a 村录入员 gets only their village's rows (sheets that can't be
    limited to one village are left out and named on a 导出说明 sheet) and full IDs only of their
    village's people; 只读 gets masked IDs only; township roles get everything.
    """
    full_ids = bool(reason and reason.strip())
    _check_export(actor, full_ids)
    village = permissions.visible_village(actor)  # a 村录入员's village; None for roles that see every village
    out = Path(out)
    specs = list(specs)
    left_out = [spec.title for spec in specs if village is not None and not spec.adapter.village_scoped]
    specs = [spec for spec in specs if spec.title not in left_out]
    if not specs:
        raise PermissionDenied(f"{'、'.join(left_out)}含其他村的数据，村录入员账号不能导出；请联系乡镇干部")
    total = 0
    workbook = Workbook(write_only=True)
    with db.engine.connect() as conn:
        shown: bool | frozenset[str] = full_ids
        if full_ids and village is not None:
            shown = _own_id_numbers(conn, village)
        for spec in specs:
            ws = workbook.create_sheet(spec.title)
            ws.freeze_panes = "A2"
            columns = spec.exported_columns
            for index, column in enumerate(columns):
                ws.column_dimensions[_letter(index)].width = column.width
            ws.append(safe_row(ws, [c.header for c in columns]))
            text_columns = [c.text_format for c in columns]
            rows = (spec.adapter.export_rows(conn, township_code) if village is None
                    else spec.adapter.export_rows(conn, township_code, village_id=village))  # type: ignore[call-arg]
            for record in rows:
                values = [export_value(c, record.get(c.key), shown) for c in columns]
                ws.append(safe_row(ws, values, text_columns))
                total += 1
    if left_out:
        note = workbook.create_sheet(NOTE_TITLE)
        note.append(safe_row(note, ["本表格由村录入员账号导出，只含本村的数据；其他村的人员身份证号已隐藏中间位。"]))
        note.append(safe_row(note, [f"以下表格不能按村区分，未导出：{'、'.join(left_out)}。需要时请联系乡镇干部。"]))
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
