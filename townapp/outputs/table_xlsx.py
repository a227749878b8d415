"""Single-table workbooks for posting (公示名单): the workbook twin of ``archive_pdf.write_table_pdf``.

Modules hand in plain rows; the layout is the same for every module: a bold
title merged over the table, one line under it, a bordered table whose header
row repeats on every printed A4 page, fitted to the page width; each column
as wide as what it shows (``fit_columns``). Every cell is written through
``set_cell``, so a name beginning with = stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from townapp.core.atomic import atomic_output
from townapp.exchange.writer import HEADER_FILL, fit_columns, set_cell

THIN = Side(style="thin", color="555555")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def write_table_xlsx(out: Path | str, *, sheet: str, title: str, subtitle: str, headers: Sequence[str],
                     rows: Sequence[Sequence[object]], widths: Sequence[float], text_columns: Sequence[bool] = (),
                     wrap: bool = False) -> Path:
    """Write the table to ``out`` atomically; ``text_columns`` kept as "@" text (codes with leading zeros).

    Columns fit their content. With ``wrap`` the text cells wrap, and ``widths`` (in
    characters) are how wide each column's text may make it before wrapping.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    set_cell(ws.cell(row=1, column=1), title).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    set_cell(ws.cell(row=2, column=1), subtitle)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(headers))
    for col, header in enumerate(headers, start=1):
        cell = set_cell(ws.cell(row=3, column=col), header)
        cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, BORDER
    for r, line in enumerate(rows, start=4):
        for index, value in enumerate(line):
            text = index < len(text_columns) and text_columns[index]
            cell = set_cell(ws.cell(row=r, column=index + 1), value, text=text)
            cell.border = BORDER
            if wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="center")
    fit_columns(ws, caps=dict(enumerate(widths, start=1)) if wrap else None)
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = Path(out)
    with atomic_output(out) as tmp:
        wb.save(tmp)
    return out
