"""Writing cells safely, and columns wide enough for them: the helpers every xlsx writer uses.

A value that begins with = + - @ tab CR or LF is written as a text cell (with
Excel's quote prefix), never as a formula, so an exported name like
``=HYPERLINK(...)`` cannot run when the county opens the file. ID numbers,
phones and codes are written as text in "@"-formatted cells so Excel never
turns them into 1.4E+17. Exports other than the sync package mask ID numbers
unless the caller gives a reason, which is audited.

Column widths come from what the cells show (``text_width`` of
``shown_text``): a number too wide for its column prints as ###, so every
workbook the app writes measures its columns (``fit_columns`` for ordinary
sheets, ``append_fitted`` for streamed ones, the package writer as it goes).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from unicodedata import east_asian_width

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook import Workbook as WorkbookType
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


# ----- column widths -------------------------------------------------------------
MAX_WIDTH = 60.0  # a column never grows wider: longer text wraps (a streamed package's runs on)
MIN_WIDTH = 4.0
WIDTH_MARGIN = 2.0  # the cell's padding either side, and room for a bold header
WIDE_CHAR = 2.0  # a CJK or full-width character: about two '0's of the default font (Excel's width unit)
NARROW_CHAR = 1.1  # a Latin letter, digit or sign: about one '0', a little more for W and M
LINE_HEIGHT = 17.0  # points a line of 11-point Chinese text takes, line spacing included
DEFAULT_SIZE = 11.0
_FIRST_WIDE = 0x1100  # the first wide character (Hangul Jamo): by number, not as a literal the font lacks
_WIDE_KINDS = frozenset("WFA")  # wide, full-width, and ambiguous (printed wide by Chinese fonts: — · ×)
_UNBREAKABLE = re.compile(r"[!-~]+")  # a run of Latin text, which wrapping does not split


def text_width(text: str) -> float:
    """How wide ``text`` shows, in Excel's column-width units (its widest line)."""
    if "\n" in text:
        return max(map(text_width, text.split("\n")))
    if text.isascii():
        return NARROW_CHAR * len(text)
    wide = sum(1 for char in text if ord(char) >= _FIRST_WIDE and east_asian_width(char) in _WIDE_KINDS)
    return WIDE_CHAR * wide + NARROW_CHAR * (len(text) - wide)


def _format_number(number: float | Decimal, number_format: str) -> str:
    """A number as a format like 0, 0.00, #,##0.00 or 0.00% shows it."""
    core = number_format.split(";")[0]
    percent = core.endswith("%")
    if percent:
        number, core = number * 100, core[:-1]
    decimals = len(core.split(".", 1)[1]) if "." in core else 0
    return f"{number:{',' if ',' in core else ''}.{decimals}f}" + ("%" if percent else "")


def shown_text(value: Any, number_format: str | None = None) -> str:
    """What a cell holding ``value`` in ``number_format`` shows (what its column must be wide enough for)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(" ", "seconds") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if number_format and number_format not in ("General", TEXT_FORMAT) and "0" in number_format:
            return _format_number(value, number_format)
        if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral_value()):
            return str(int(value))
        return f"{float(value):.10g}"  # General shows at most about eleven characters
    return str(value)


def column_width(needed: float, *, floor: float = MIN_WIDTH, cap: float = MAX_WIDTH) -> float:
    """A column's width for its widest shown text ``needed``: the margin added, at least ``floor``, at most ``cap``."""
    return round(min(cap, max(floor, needed + WIDTH_MARGIN)), 1)


def _scale(cell: Cell) -> float:
    size = cell.font.sz if cell.font is not None and cell.font.sz else DEFAULT_SIZE
    return float(size) / DEFAULT_SIZE


def _wrapped_need(text: str, width: float, lines: int, scale: float) -> float:
    """The width a wrapping cell needs to show ``text`` in ``lines`` lines (a Latin word is never split)."""
    longest_word = max((NARROW_CHAR * len(w) for w in _UNBREAKABLE.findall(text)), default=0.0) * scale
    return max(width / lines, longest_word)


def _row_height(ws: Worksheet, row: int) -> float:
    height = ws.row_dimensions[row].height if row in ws.row_dimensions else None
    return float(height) if height else LINE_HEIGHT


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` wide (margin included)."""
    room = max(width - WIDTH_MARGIN, 1.0)
    return sum(max(1, math.ceil(text_width(line) / room)) for line in text.split("\n"))


def fit_columns(ws: Worksheet, *, floors: Mapping[int, float] | None = None,
                caps: Mapping[int, float] | None = None) -> None:
    """Set each column's width from what its cells show, so no number prints as ### and no text is cut.

    ``floors`` and ``caps`` (by 1-based column) bound a column's width; the cap,
    ``MAX_WIDTH`` unless given, bounds text only: a number or date always gets its
    full width. Text wider than its column's cap wraps, and its row is made high
    enough for its lines (LibreOffice does not grow a row when it opens a file);
    a cell that already wraps in a row given a height needs only its share of that
    height's lines (a header row twice as high shows a header in two lines). A cell
    merged across columns counts for those columns together: they widen if it would
    not fit or, when it wraps, its row grows as many lines as it needs.
    """
    floors, caps = floors or {}, caps or {}
    spans: dict[tuple[int, int], tuple[int, int, int]] = {}  # anchor -> (last column, first row, last row)
    covered: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        spans[(merged.min_row, merged.min_col)] = (merged.max_col, merged.min_row, merged.max_row)
        covered.update((r, c) for r in range(merged.min_row, merged.max_row + 1)
                       for c in range(merged.min_col, merged.max_col + 1))
    set_heights = {r for r, d in ws.row_dimensions.items() if d.height}
    text_need: dict[int, float] = {}
    number_need: dict[int, float] = {}
    word_need: dict[int, float] = {}  # text that cannot wrap (no break in it) wider than its column's cap
    wrapped: list[Cell] = []  # wrapping cells in rows of no set height: their rows grow to their lines
    across: list[tuple[Cell, int, float]] = []
    # the cells that exist (iter_rows would create every empty one of a pre-formatted template)
    for key, cell in ws._cells.items():  # noqa: SLF001
        value = cell.value
        if value is None or value == "" or (key in covered and key not in spans):
            continue  # empty, or hidden under a merged cell
        scale = _scale(cell)
        text = shown_text(value, cell.number_format)
        width = text_width(text) * scale
        last_col, first_row, last_row = spans.get(key, (cell.column, cell.row, cell.row))
        is_text = isinstance(value, str)
        wraps = is_text and bool(cell.alignment is not None and cell.alignment.wrap_text)
        if wraps and first_row in set_heights:
            height = sum(_row_height(ws, r) for r in range(first_row, last_row + 1))
            lines = max(1, int(height // (LINE_HEIGHT * scale)))
            width = _wrapped_need(text, width, lines, scale)
        if last_col > cell.column:
            across.append((cell, last_col, width))
            continue
        column = cell.column
        if not is_text:
            number_need[column] = max(number_need.get(column, 0.0), width)
            continue
        cap = caps.get(column, MAX_WIDTH)
        if width + WIDTH_MARGIN > cap and first_row not in set_heights:
            width = _wrapped_need(text, cap - WIDTH_MARGIN, 1, scale)
            if width + WIDTH_MARGIN > cap:  # a code or number written as text: wrapping would split it
                word_need[column] = max(word_need.get(column, 0.0), width)
            if text_width(text) * scale > width:
                if not wraps:
                    _wrap(cell)
                wrapped.append(cell)
        text_need[column] = max(text_need.get(column, 0.0), width)
    last = max([ws.max_column, *text_need, *number_need, *floors])
    widths = {c: max(column_width(text_need.get(c, 0.0), floor=floors.get(c, MIN_WIDTH), cap=caps.get(c, MAX_WIDTH)),
                     column_width(word_need.get(c, 0.0)), column_width(number_need.get(c, 0.0), cap=math.inf))
              for c in range(1, last + 1)}
    for cell in wrapped:
        _grow_row(ws, cell, widths[cell.column])
    for cell, last_col, width in across:
        columns = range(cell.column, last_col + 1)
        room = sum(widths[c] for c in columns)
        if width <= room - WIDTH_MARGIN:
            continue
        if cell.alignment is not None and cell.alignment.wrap_text or width > MAX_WIDTH * len(columns):
            _wrap(cell)
            _grow_row(ws, cell, room)
        else:
            extra = (width - room + WIDTH_MARGIN) / len(columns)
            for c in columns:
                widths[c] = round(widths[c] + extra, 1)
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width


def _grow_row(ws: Worksheet, cell: Cell, width: float) -> None:
    """Make ``cell``'s row high enough for its text wrapped in ``width`` (never lower than it is)."""
    scale = _scale(cell)
    lines = wrapped_lines(shown_text(cell.value), width / scale)
    if lines > 1:
        dimension = ws.row_dimensions[cell.row]
        dimension.height = max(dimension.height or 0.0, lines * LINE_HEIGHT * scale)


def _wrap(cell: Cell) -> None:
    alignment = cell.alignment
    cell.alignment = Alignment(horizontal=alignment.horizontal, vertical=alignment.vertical,
                               wrap_text=True, indent=alignment.indent)


def save_fitted(workbook: WorkbookType, path: Path | str) -> None:
    """Fit every ordinary worksheet's columns (``fit_columns``), then save: one line in place of ``save``.

    A width the sheet's author set stays the least a column gets: a 签字 column is empty until printed
    and signed, and must not shrink to nothing."""
    for ws in workbook.worksheets:
        if isinstance(ws, Worksheet):
            floors = {column_index_from_string(letter): float(dimension.width)
                      for letter, dimension in ws.column_dimensions.items()
                      if dimension.customWidth and dimension.width}
            fit_columns(ws, floors=floors)
    workbook.save(path)


WRAP = Alignment(wrap_text=True)


def append_fitted(ws: Worksheet, header: Sequence[str] | None, rows: Iterable[Sequence[Any]],
                  text_columns: Sequence[bool] = ()) -> int:
    """A write-only worksheet's bold header and its rows, its columns first set wide enough for them.

    A write-only sheet writes its column widths before its first row, so the rows are
    held until every one is measured. Text wider than ``MAX_WIDTH`` wraps. Returns
    the number of rows (the header not counted).
    """
    held = [list(row) for row in rows]
    lines = ([list(header)] if header else []) + held
    needed: dict[int, float] = {}
    for line in lines:
        for index, value in enumerate(line):
            if value is None or (value.__class__ is str and len(value) * WIDE_CHAR <= needed.get(index, 0.0)):
                continue  # nothing, or text that cannot be wider than the column already is
            needed[index] = max(needed.get(index, 0.0), text_width(shown_text(value)))
    widths = {index: column_width(width) for index, width in needed.items()}
    for index, width in widths.items():
        ws.column_dimensions[get_column_letter(index + 1)].width = width
    limit = MAX_WIDTH - WIDTH_MARGIN
    for number, line in enumerate(lines, start=1):
        is_header = bool(header) and number == 1
        cells = safe_row(ws, line, () if is_header else text_columns)
        for index, cell in enumerate(cells):
            if is_header:
                cell.font = HEADER_FONT
            elif isinstance(cell.value, str) and len(cell.value) * WIDE_CHAR > limit and text_width(cell.value) > limit:
                cell.alignment = WRAP  # and the row high enough for it (set before the row is written)
                lines_needed = wrapped_lines(cell.value, widths[index])
                dimension = ws.row_dimensions[number]
                dimension.height = max(dimension.height or 0.0, lines_needed * LINE_HEIGHT)
        ws.append(cells)
    return len(held)


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
            rows = (spec.adapter.export_rows(conn, township_code) if village is None
                    else spec.adapter.export_rows(conn, township_code, village_id=village))  # type: ignore[call-arg]
            values = ([export_value(c, record.get(c.key), shown) for c in columns] for record in rows)
            total += append_fitted(ws, [c.header for c in columns], values, [c.text_format for c in columns])
    if left_out:
        note = workbook.create_sheet(NOTE_TITLE)
        append_fitted(note, None, [["本表格由村录入员账号导出，只含本村的数据；其他村的人员身份证号已隐藏中间位。"],
                                   [f"以下表格不能按村区分，未导出：{'、'.join(left_out)}。需要时请联系乡镇干部。"]])
    with atomic_output(out) as tmp:
        workbook.save(tmp)
    with db.unit_of_work(actor, reason=reason) as session:
        if full_ids:
            record_read(session, "export", None, reason or "", f"导出含完整身份证号的表格 {out.name}")
        session.execute(insert(ExportRecord), [dict(username=actor.username, kind="sheets", file_name=out.name,
                                                    file_sha256=file_sha256(out), rows=total, full_ids=full_ids,
                                                    reason=reason)])
    return total

