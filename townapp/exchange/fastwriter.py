"""Large exports with xlsxwriter in constant-memory mode, with the same cell safety as writer.py.

openpyxl builds an object per cell; for a county's sync package (millions of
cells) that is minutes and hundreds of MB. xlsxwriter streams each row to disk.
Strings always go through ``write_string`` — never interpreted as a formula —
and a string that looks like one also gets Excel's quote prefix, so it stays
text even after a user edits the cell. ID/phone/code columns are "@" text.

Each column ends as wide as the widest text it shows (writer.text_width):
the widths are set when the workbook closes, which constant-memory mode
allows (xlsxwriter writes a sheet's columns only then, before the rows it
streamed to disk). Long text in a package is not wrapped: it runs on at
``MAX_WIDTH``, as a data file may.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from townapp.exchange.writer import (
    DATE_FORMAT,
    FORMULA_STARTS,
    MAX_WIDTH,
    NARROW_CHAR,
    TEXT_FORMAT,
    WIDE_CHAR,
    WIDTH_MARGIN,
    column_width,
    is_formula_like,
    shown_text,
    text_width,
)

_SERIAL_ZERO = dt.date(1899, 12, 30).toordinal()  # Excel's day 0 in the 1900 system, for days after 1900-02-28
_FIRST_SERIAL_DAY = dt.date(1900, 3, 1)
_OPTIONS = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False, "nan_inf_to_errors": True}
_DATE_WIDTH = text_width("2021-01-02")
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_FULL = MAX_WIDTH - WIDTH_MARGIN  # a column this wide grows no more


class SheetWriter:
    """Appends rows to one worksheet, in order.

    A package is millions of cells, so the per-cell work is kept to the type
    check: each column's formats are looked up once per sheet, and cells go to
    xlsxwriter's undecorated writers (the ones its own ``write_row`` uses),
    which skip the A1-notation check every public ``write_*`` call pays.
    """

    def __init__(self, owner: CellWriter, worksheet: Any, text_columns: Sequence[bool],
                 floors: Sequence[float] = (), *, measured: bool = True) -> None:
        self._owner, self._ws, self._text = owner, worksheet, tuple(text_columns)
        if not measured:  # the caller measures (a package: a batch of rows at a time, see ``widen``)
            self.append = self._append_unmeasured  # type: ignore[method-assign]
        self._floors = tuple(floors)
        self._row = 0
        formats = owner.formats
        self._format = tuple(formats["text"] if text else None for text in self._text)
        self._quoted_format = tuple(formats["text_quote" if text else "quote"] for text in self._text)
        self._date = formats["date"]
        # the public writers where an xlsxwriter version has no undecorated ones (same arguments)
        self._write_string = getattr(worksheet, "_write_string", worksheet.write_string)
        self._write_number = getattr(worksheet, "_write_number", worksheet.write_number)
        self._write_datetime = getattr(worksheet, "_write_datetime", worksheet.write_datetime)
        self._write_boolean = getattr(worksheet, "_write_boolean", worksheet.write_boolean)
        # widths as the rows go by: a string measures only when its length says it might be the widest yet
        # (at most ``_fits`` characters fit whatever they are; at most ``_ascii_fits`` if all are ASCII)
        count = len(self._text)
        self._needed = [0.0] * count
        self._fits = [0] * count
        self._ascii_fits = [0] * count

    def append(self, values: Sequence[Any], *, header: bool = False,
               text_columns: Sequence[bool] | None = None) -> None:
        if header or text_columns is not None or len(values) > len(self._text):
            self._append_any(values, header, self._text if text_columns is None else tuple(text_columns))
            return
        row, fmt, quoted, write_string = self._row, self._format, self._quoted_format, self._write_string
        fits, ascii_fits = self._fits, self._ascii_fits
        for col, value in enumerate(values):
            if value.__class__ is str:  # nearly every cell: no lookups beyond the column's formats
                write_string(row, col, value, quoted[col] if value.startswith(FORMULA_STARTS) else fmt[col])
                length = len(value)
                if length > fits[col] and (length > ascii_fits[col] or not value.isascii()):
                    self._measure(col, text_width(value))
            elif value.__class__ is dt.date and not self._text[col] and value >= _FIRST_SERIAL_DAY:
                # the other common cell (会议出席's days): its Excel serial number, as xlsxwriter would
                # compute it for a date after 1900-02-28, without a datetime per cell
                self._write_number(row, col, value.toordinal() - _SERIAL_ZERO, self._date)
                if self._needed[col] < _DATE_WIDTH:
                    self._measure(col, _DATE_WIDTH)
            elif value is not None:
                self._write_value(row, col, value, self._text[col])
        self._row += 1

    def _append_unmeasured(self, values: Sequence[Any], *, header: bool = False,
                           text_columns: Sequence[bool] | None = None) -> None:
        """``append`` without measuring a string or a date: the package's writer measures its columns
        a batch of rows at a time, a few times faster than cell by cell."""
        if header or text_columns is not None or len(values) > len(self._text):
            self._append_any(values, header, self._text if text_columns is None else tuple(text_columns))
            return
        row, fmt, quoted, write_string = self._row, self._format, self._quoted_format, self._write_string
        for col, value in enumerate(values):
            if value.__class__ is str:
                write_string(row, col, value, quoted[col] if value.startswith(FORMULA_STARTS) else fmt[col])
            elif value.__class__ is dt.date and not self._text[col] and value >= _FIRST_SERIAL_DAY:
                self._write_number(row, col, value.toordinal() - _SERIAL_ZERO, self._date)
            elif value is not None:
                self._write_value(row, col, value, self._text[col])
        self._row += 1

    def widen(self, col: int, width: float) -> None:
        """Column ``col`` at least ``width`` wide (what the caller measured it shows)."""
        self._measure(col, width)

    def _measure(self, col: int, width: float) -> None:
        """Widen column ``col`` to ``width`` if that is more than it has; move its fast-path limits."""
        if col >= len(self._needed):
            grow = col + 1 - len(self._needed)
            self._needed += [0.0] * grow
            self._fits += [0] * grow
            self._ascii_fits += [0] * grow
        if width <= self._needed[col]:
            return
        self._needed[col] = width
        if width >= _FULL:
            self._fits[col] = self._ascii_fits[col] = sys.maxsize  # nothing can widen it further
        else:
            self._fits[col] = int(width // WIDE_CHAR)
            self._ascii_fits[col] = int(width / NARROW_CHAR)

    def widths(self) -> list[float]:
        """Each column's width: its widest shown text with the margin, at least its floor, at most MAX_WIDTH."""
        count = max(len(self._needed), len(self._floors))
        needed = self._needed + [0.0] * (count - len(self._needed))
        return [column_width(need, floor=self._floors[col] if col < len(self._floors) else 0.0)
                for col, need in enumerate(needed)]

    def apply_widths(self) -> None:
        """Set the columns to ``widths()``: constant-memory mode allows it once the rows are written."""
        text_format = self._owner.formats["text"]
        for col, width in enumerate(self.widths()):
            text = col < len(self._text) and self._text[col]
            self._ws.set_column(col, col, width, text_format if text else None)

    def _append_any(self, values: Sequence[Any], header: bool, text_columns: tuple[bool, ...]) -> None:
        """The header, the 说明 sheet and rows wider than the sheet's columns."""
        for col, value in enumerate(values):
            if value is None:
                continue
            if header:
                self._write_string(self._row, col, str(value), self._owner.formats["header"])
                self._measure(col, text_width(str(value)))
            else:
                self._write_value(self._row, col, value, col < len(text_columns) and text_columns[col])
        self._row += 1

    def _write_value(self, row: int, col: int, value: Any, text: bool) -> None:
        formats = self._owner.formats
        shown_format = None
        if isinstance(value, str) or text:
            value = value if isinstance(value, str) else str(value)
            quoted = is_formula_like(value)
            style = ("text_quote" if quoted else "text") if text else ("quote" if quoted else None)
            self._write_string(row, col, value, formats[style] if style else None)
        elif isinstance(value, bool):
            self._write_boolean(row, col, value)
        elif isinstance(value, (int, float, decimal.Decimal)):
            self._write_number(row, col, float(value))
        elif isinstance(value, dt.datetime):
            if value.time() == dt.time():
                self._write_datetime(row, col, value, formats["date"])
            else:
                self._write_datetime(row, col, value, formats["datetime"])
                shown_format = _DATETIME_FORMAT
        elif isinstance(value, dt.date):
            self._write_datetime(row, col, dt.datetime.combine(value, dt.time()), formats["date"])
        else:
            value = str(value)
            self._write_string(row, col, value)
        self._measure(col, text_width(shown_text(value, shown_format)))


class CellWriter:
    """One streamed workbook."""

    def __init__(self, workbook: Any) -> None:
        self._wb = workbook
        self.formats = {
            "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "align": "center"}),
            "text": workbook.add_format({"num_format": TEXT_FORMAT}),
            "quote": workbook.add_format({"quote_prefix": True}),
            "text_quote": workbook.add_format({"num_format": TEXT_FORMAT, "quote_prefix": True}),
            "date": workbook.add_format({"num_format": DATE_FORMAT}),
            "datetime": workbook.add_format({"num_format": _DATETIME_FORMAT}),
        }
        self._sheets: list[SheetWriter] = []

    @classmethod
    def open(cls, path: Path) -> CellWriter:
        return cls(xlsxwriter.Workbook(str(path), _OPTIONS))

    def add_sheet(self, title: str, widths: Sequence[float], text_columns: Sequence[bool],
                  *, freeze: bool = False, measured: bool = True) -> SheetWriter:
        """A new worksheet; ``widths`` are the least its columns get (they widen to what they show)."""
        ws = self._wb.add_worksheet(title)
        for col, width in enumerate(widths):
            text = col < len(text_columns) and text_columns[col]
            ws.set_column(col, col, width, self.formats["text"] if text else None)
        if freeze:
            ws.freeze_panes(1, 0)
        sheet = SheetWriter(self, ws, text_columns, widths, measured=measured)
        self._sheets.append(sheet)
        return sheet

    def close(self) -> None:
        """Set every sheet's column widths from what was written, then write the file."""
        for sheet in self._sheets:
            sheet.apply_widths()
        self._wb.close()
