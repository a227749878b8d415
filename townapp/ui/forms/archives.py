"""Keyboard-friendly editors for the village archive: a record grid and a figures form.

Both are tables: Tab moves right, Enter moves to the next cell (the grid adds a
row after the last one), typing starts editing. Values are parsed per column
kind (money in 元 → 分, dates as people type them); problems come back as
Chinese messages and the offending cells turn red.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from townapp.core.dates import DateParseError, MonthDate, parse_date
from townapp.core.errors import FieldProblem
from townapp.core.money import MoneyError, format_yuan, parse_yuan

ERROR_BRUSH = QBrush(QColor("#ffd6d6"))
WARNING_BRUSH = QBrush(QColor("#fff1c2"))
READONLY_BRUSH = QBrush(QColor("#f0f0f0"))
ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class GridColumn:
    """key, header, kind (text/int/money/decimal/date/month/bool/enum/readonly), choices for enums, width.

    ``month``: a date that may be known only to the month (任职日期 2021.03), shown and typed as 2021.03."""

    key: str
    header: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    width: int = 100


def to_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "money":
        return format_yuan(value, grouping=False)
    if kind == "bool":
        return "是" if value else "否"
    if isinstance(value, MonthDate):
        return value.text()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def from_text(kind: str, text: str, label: str) -> Any:
    """Parse one cell; raises ValueError with a Chinese message."""
    text = text.strip()
    if kind == "bool":
        return text in ("是", "√", "1", "Y", "y")
    if not text:
        return None
    if kind == "money":
        try:
            return parse_yuan(text)
        except MoneyError as exc:
            raise ValueError(f"{label}：{exc.message}") from None
    if kind == "int":
        if not text.lstrip("-").isdigit():
            raise ValueError(f"{label}应为整数")
        return int(text)
    if kind == "decimal":
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{label}应为数字") from None
    if kind in ("date", "month"):
        try:
            return parse_date(text, allow_month=kind == "month")
        except DateParseError as exc:
            raise ValueError(f"{label}：{exc}") from None
    return text


class ChoiceDelegate(QStyledItemDelegate):
    """A combo box editor for enum columns (typing the first letters still works)."""

    def __init__(self, choices: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices = list(choices)

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:  # noqa: N802
        combo = QComboBox(parent)
        combo.addItems(["", *self.choices])
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        editor.setCurrentIndex(max(0, editor.findText(str(index.data() or ""))))

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText())


class _KeyboardTable(QTableWidget):
    """Enter moves to the next cell instead of staying put."""

    def _next_cell(self, row: int, column: int) -> tuple[int, int]:
        """Where Enter goes: down by default (the grid goes right, then to the next row)."""
        return min(row + 1, self.rowCount() - 1), column

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.state() != QAbstractItemView.State.EditingState:
            row, column = self._next_cell(self.currentRow(), self.currentColumn())
            self.setCurrentCell(row, column)
            return
        super().keyPressEvent(event)

    def mark(self, cells: dict[tuple[int, int], tuple[str, str]]) -> None:
        """Colour cells with problems (severity, message as tooltip); clears the others."""
        blocked = self.blockSignals(True)  # colouring is not an edit: no itemChanged (which re-checks)
        try:
            self._mark(cells)
        finally:
            self.blockSignals(blocked)

    def _mark(self, cells: dict[tuple[int, int], tuple[str, str]]) -> None:
        for r in range(self.rowCount()):
            for c in range(self.columnCount()):
                item = self.item(r, c)
                if item is None or not (item.flags() & Qt.ItemFlag.ItemIsEditable):
                    continue
                severity, message = cells.get((r, c), ("", ""))
                item.setBackground(ERROR_BRUSH if severity == "error" else WARNING_BRUSH if severity else QBrush())
                item.setToolTip(message)


class GridEditor(_KeyboardTable):
    """Records as rows. ``records()`` gives dicts (with ``id`` for existing rows) or raises ValueError."""

    def __init__(self, columns: Sequence[GridColumn], parent: QWidget | None = None) -> None:
        super().__init__(0, len(columns), parent)
        self.columns = list(columns)
        self.setHorizontalHeaderLabels([c.header for c in self.columns])
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setDefaultSectionSize(26)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setWordWrap(False)
        for index, column in enumerate(self.columns):
            self.setColumnWidth(index, column.width)
            if column.kind in ("enum", "bool"):
                self.setItemDelegateForColumn(index, ChoiceDelegate(column.choices or ("是", "否"), self))

    def _next_cell(self, row: int, column: int) -> tuple[int, int]:
        for c in range(column + 1, self.columnCount()):
            if self.columns[c].kind != "readonly":
                return row, c
        if row + 1 >= self.rowCount():
            self.add_row()
        first = next((i for i, c in enumerate(self.columns) if c.kind != "readonly"), 0)
        return row + 1, first

    def add_row(self, values: dict[str, Any] | None = None) -> int:
        row = self.rowCount()
        self.insertRow(row)
        values = values or {}
        for c, column in enumerate(self.columns):
            item = QTableWidgetItem(to_text(column.kind, values.get(column.key)))
            if column.kind == "readonly":
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setBackground(READONLY_BRUSH)
            if column.kind in ("money", "int", "decimal"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, c, item)
        self.item(row, 0).setData(ID_ROLE, values.get("id"))
        return row

    def remove_current_row(self) -> None:
        if self.currentRow() >= 0:
            self.removeRow(self.currentRow())

    def set_records(self, records: Sequence[dict[str, Any]]) -> None:
        self.setRowCount(0)
        for record in records:
            self.add_row(record)

    def cell_text(self, row: int, key: str) -> str:
        item = self.item(row, [c.key for c in self.columns].index(key))
        return item.text() if item else ""

    def set_cell_text(self, row: int, key: str, text: str) -> None:
        self.item(row, [c.key for c in self.columns].index(key)).setText(text)

    def lock_cell(self, row: int, key: str, note: str) -> None:
        """One cell shown but not typed (a value another module decided): grey, with where it came from."""
        item = self.item(row, [c.key for c in self.columns].index(key))
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        item.setBackground(READONLY_BRUSH)
        item.setToolTip(note)

    def records(self) -> list[dict[str, Any]]:
        """Non-empty rows parsed; raises ValueError listing every unreadable cell (and marks them)."""
        out, problems, marks = [], [], {}
        for r in range(self.rowCount()):
            texts = [self.item(r, c).text() if self.item(r, c) else "" for c in range(self.columnCount())]
            if not any(t.strip() for t, col in zip(texts, self.columns, strict=True) if col.kind != "readonly"):
                continue
            record: dict[str, Any] = {"id": self.item(r, 0).data(ID_ROLE), "_row": r}
            for c, (text, column) in enumerate(zip(texts, self.columns, strict=True)):
                if column.kind == "readonly":
                    continue
                try:
                    record[column.key] = from_text(column.kind, text, column.header)
                except ValueError as exc:
                    problems.append(f"第{r + 1}行：{exc}")
                    marks[(r, c)] = ("error", str(exc))
            out.append(record)
        self.mark(marks)
        if problems:
            raise ValueError("\n".join(problems))
        return out


class FiguresForm(_KeyboardTable):
    """Fields as rows (label | value): the year's figures. Enter and Tab move down."""

    def __init__(self, fields: Sequence[GridColumn], parent: QWidget | None = None) -> None:
        super().__init__(len(fields), 1, parent)
        self.fields = list(fields)
        self.setHorizontalHeaderLabels(["数值"])
        self.setVerticalHeaderLabels([f.header for f in self.fields])
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setDefaultSectionSize(26)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.setTabKeyNavigation(True)
        for r, f in enumerate(self.fields):
            item = QTableWidgetItem("")
            if f.kind in ("money", "int", "decimal"):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(r, 0, item)
            if f.kind in ("enum", "bool"):
                self.setItemDelegateForRow(r, ChoiceDelegate(f.choices or ("是", "否"), self))

    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802 (Qt override: Tab moves down the form)
        row = self.currentRow() + (1 if forward else -1)
        if 0 <= row < self.rowCount():
            self.setCurrentCell(row, 0)
            return True
        return super().focusNextPrevChild(forward)

    def row_of(self, key: str) -> int:
        return [f.key for f in self.fields].index(key)

    def set_value(self, key: str, text: str) -> None:
        self.item(self.row_of(key), 0).setText(text)

    def set_values(self, values: dict[str, Any]) -> None:
        for r, f in enumerate(self.fields):
            self.item(r, 0).setText(to_text(f.kind, values.get(f.key)))
        self.mark({})

    def set_sources(self, sources: dict[str, str]) -> None:
        """Rows another module decided (key → where from, e.g. 来自评星定级（2025年定级：八星）): read-only and
        grey, the row label says so; the other rows stay editable."""
        blocked = self.blockSignals(True)
        try:
            for r, f in enumerate(self.fields):
                item, source = self.item(r, 0), sources.get(f.key)
                editable = item.flags() | Qt.ItemFlag.ItemIsEditable
                item.setFlags(editable & ~Qt.ItemFlag.ItemIsEditable if source else editable)
                item.setBackground(READONLY_BRUSH if source else QBrush())
                item.setToolTip(source or "")
                label = f"{f.header}（{source.split('（')[0]}）" if source else f.header
                self.setVerticalHeaderItem(r, QTableWidgetItem(label))
        finally:
            self.blockSignals(blocked)

    def values(self) -> dict[str, Any]:
        out, problems, marks = {}, [], {}
        for r, f in enumerate(self.fields):
            try:
                out[f.key] = from_text(f.kind, self.item(r, 0).text(), f.header)
            except ValueError as exc:
                problems.append(str(exc))
                marks[(r, 0)] = ("error", str(exc))
        self.mark(marks)
        if problems:
            raise ValueError("\n".join(problems))
        return out

    def mark_problems(self, problems: Sequence[FieldProblem]) -> None:
        keys = [f.key for f in self.fields]
        marks: dict[tuple[int, int], tuple[str, str]] = {}
        for p in problems:
            if p.field in keys:
                cell = (keys.index(p.field), 0)
                if marks.get(cell, ("",))[0] != "error":
                    marks[cell] = (p.severity, p.message)
        self.mark(marks)
