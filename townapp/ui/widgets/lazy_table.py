"""A table model over an ordered id list that fetches rows in pages on demand.

Search and sort re-query ids in SQL; rows come a page at a time and are cached,
so a 500,000-person table scrolls without ever loading every row (Anki's
browser works the same way). Never put a QSortFilterProxyModel on top of it.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

IdsQuery = Callable[[str, bool], list[int]]  # (order key, descending) -> ordered ids
RowsQuery = Callable[[Sequence[int]], dict[int, Any]]  # ids -> {id: row dataclass}

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str  # attribute of the row DTO, and the sort key the service understands
    header: str
    sortable: bool = True
    align_right: bool = False
    width: int = 100  # pixels; resizing to contents would read every row


class LazyTableModel(QAbstractTableModel):
    PAGE_SIZE = 100
    MAX_CACHED_PAGES = 40

    def __init__(self, columns: Sequence[Column], query_ids: IdsQuery, fetch_rows: RowsQuery,
                 default_order: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._query_ids = query_ids
        self._fetch_rows = fetch_rows
        self._order = default_order
        self._descending = False
        self._ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, Any]] = OrderedDict()
        self.rows_fetched = 0  # how many rows were read from the database (tests count these)

    # ----- loading -------------------------------------------------------
    def refresh(self) -> None:
        """Re-run the id query (after a search, filter or edit); drop cached rows."""
        self.beginResetModel()
        self._ids = self._query_ids(self._order, self._descending)
        self._pages.clear()
        self.endResetModel()

    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, record_id: int) -> int:
        try:
            return self._ids.index(record_id)
        except ValueError:
            return -1

    def record_at(self, row: int) -> Any:
        page_no = row // self.PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            ids = self._ids[page_no * self.PAGE_SIZE:(page_no + 1) * self.PAGE_SIZE]
            page = self._fetch_rows(ids)
            self.rows_fetched += len(page)
            self._pages[page_no] = page
            if len(self._pages) > self.MAX_CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._ids[row])

    # ----- Qt overrides ------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                return self.columns[section].header
            return section + 1
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            record = self.record_at(index.row())
            if record is None:  # deleted since the ids were queried
                return ""
            value = getattr(record, column.key)
            if isinstance(value, dt.date):
                return value.isoformat()
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns) or not self.columns[column].sortable:
            return
        self._order = self.columns[column].key
        self._descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()
