"""Plain read-only tables filled from rows of values: one way to list rows in every dialog and page.

``set_rows`` only puts headers and cells in (the caller's table keeps its
selection and layout); ``fill_table`` starts the table afresh and gives it the
compact look of the points pages. Check boxes in the first column hold each
row's key, so a page reads back what the user ticked, not row numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem


def set_rows(table: QTableWidget, headers: Sequence[str], rows: Sequence[Sequence[object]], *,
             checkable: bool = False, keys: Sequence[object] = ()) -> None:
    """Headers and read-only cells (None shows empty); with ``checkable`` the first cell is an unticked box.

    Cells are replaced in place, so a reload keeps the user's selected row.
    """
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem("" if value is None else str(value))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if c == 0 and checkable:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
            if c == 0 and r < len(keys):
                item.setData(Qt.ItemDataRole.UserRole, keys[r])
            table.setItem(r, c, item)


def fill_table(table: QTableWidget, headers: Sequence[str], rows: Sequence[Sequence[object]], *,
               checkable: bool = False, keys: Sequence[object] = (), widths: Sequence[int] = ()) -> None:
    """Replace everything the table shows (selection too), with fixed column widths and compact rows."""
    table.setSortingEnabled(False)
    table.clear()
    set_rows(table, headers, rows, checkable=checkable, keys=keys)
    for index, width in enumerate(widths):
        table.setColumnWidth(index, width)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)


def checked_keys(table: QTableWidget) -> list:
    """The keys of the rows whose first-column box is ticked, in row order."""
    return [table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(table.rowCount())
            if table.item(r, 0) is not None and table.item(r, 0).checkState() == Qt.CheckState.Checked]


def set_all_checked(table: QTableWidget, checked: bool = True) -> None:
    """Tick (or untick) every row that has a box; rows whose box was taken away stay as they are."""
    state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
    for r in range(table.rowCount()):
        item = table.item(r, 0)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            item.setCheckState(state)
