"""Plain read-only tables filled from rows of values: one way to list rows in every dialog and page.

``set_rows`` only puts headers and cells in (the caller's table keeps its
selection and layout); ``fill_table`` starts the table afresh and gives it the
compact look of the points pages. Check boxes in the first column hold each
row's key, so a page reads back what the user ticked, not row numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QCollator,
    QCollatorSortKey,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)


class SortableItem(QTableWidgetItem):
    """A cell that sorts numbers as numbers (户数 9 before 10), like RowsModel's rows. A ``pinned`` cell (a
    合计 row, see ``pin_row_last``) stays below the others whichever way the list is sorted."""

    pinned = False

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self._key = sort_key(text)  # made once, not per comparison (10,000 rows compare 140,000 times)

    def setData(self, role: int, value: object) -> None:  # noqa: N802 (Qt override)
        super().setData(role, value)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            self._key = sort_key(self.text())

    def key(self) -> tuple[int, Decimal | QCollatorSortKey]:
        """sort_key of the text shown."""
        return self._key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        other_pinned = getattr(other, "pinned", False)
        if self.pinned or other_pinned:
            if self.pinned == other_pinned:
                return False
            table = self.tableWidget()
            descending = table is not None and \
                table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
            return self.pinned if descending else other_pinned  # the smallest going down, the largest going up
        other_key = other.key() if isinstance(other, SortableItem) else sort_key(other.text())
        return self.key() < other_key


def pin_row_last(table: QTableWidget, row: int) -> None:
    """Keep ``row`` (a 合计) at the bottom whatever header is clicked; its cells must be SortableItems."""
    for column in range(table.columnCount()):
        item = table.item(row, column)
        if isinstance(item, SortableItem):
            item.pinned = True


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
            item = SortableItem("" if value is None else str(value))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if c == 0 and checkable:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
            if c == 0 and r < len(keys):
                item.setData(Qt.ItemDataRole.UserRole, keys[r])
            table.setItem(r, c, item)


def fill_table(table: QTableWidget, headers: Sequence[str], rows: Sequence[Sequence[object]], *,
               checkable: bool = False, keys: Sequence[object] = (), widths: Sequence[int] = (),
               sortable: bool = False, fit_last: bool = False) -> None:
    """Replace everything the table shows (selection too), with fixed column widths and compact rows.

    ``sortable``: a header click sorts (rows start in the order given; read the chosen row with
    ``current_key``, never by its number); ``fit_last``: the last column is as wide as its text or fills
    the space left, so a status at the end is never cut off."""
    table.setSortingEnabled(False)
    table.clear()
    set_rows(table, headers, rows, checkable=checkable, keys=keys)
    for r in range(table.rowCount()):  # a search's hidden rows belong to the old rows (TableSearch.apply hides anew)
        if table.isRowHidden(r):
            table.setRowHidden(r, False)
    for index, width in enumerate(widths):
        table.setColumnWidth(index, width)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(24)
    if fit_last and headers:
        table.resizeColumnToContents(len(headers) - 1)
        table.horizontalHeader().setStretchLastSection(True)
    if sortable:
        table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        table.horizontalHeader().setSortIndicatorClearable(True)


def sort_on_header_click(table: QTableWidget) -> None:
    """For a table the user types into: a header click sorts the rows once (a second click reverses), but an
    edit never moves its row, as it would with ``setSortingEnabled`` (rows then re-sort on every change)."""
    header = table.horizontalHeader()
    header.setSectionsClickable(True)
    header.setSortIndicatorShown(True)
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    # the header flips its own arrow before it says it was clicked: sort the way the arrow now points
    header.sectionClicked.connect(lambda _column: table.sortItems(header.sortIndicatorSection(),
                                                                  header.sortIndicatorOrder()))


def current_key(table: QTableWidget) -> object | None:
    """The key (fill_table's ``keys``) of the current row, wherever sorting has moved it; None: no row."""
    row = table.currentRow()
    item = table.item(row, 0) if row >= 0 else None
    return None if item is None else item.data(Qt.ItemDataRole.UserRole)


def select_key(table: QTableWidget, key: object) -> bool:
    """Make the row holding ``key`` current (after a refill or a sort); False when no row holds it."""
    for r in range(table.rowCount()):
        item = table.item(r, 0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole) == key:
            table.selectRow(r)
            table.setCurrentCell(r, table.currentColumn() if table.currentColumn() >= 0 else 0)
            return True
    return False


class TableSearch(QLineEdit):
    """A search box over a filled table: rows without the typed text in any cell are hidden. Call
    ``apply`` after refilling the table so the search the user typed still holds."""

    def __init__(self, table: QTableWidget, placeholder: str = "搜索", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.setObjectName("table_search")
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self._choices: dict[int, tuple[QComboBox, bool]] = {}  # column -> (box, by month)
        self.textChanged.connect(lambda _text: self._hide_rows())

    def add_choice(self, column: int, everyone: str, *, by_month: bool = False) -> QComboBox:
        """A box (for the caller's layout) choosing one value of ``column`` (``everyone``: all), offering the
        values the table holds at each ``apply``; ``by_month``: ISO dates chosen by 年-月. The box narrows
        the rows shown together with the typed text."""
        box = QComboBox()
        box.setObjectName(f"table_filter_{column}")
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        box.addItem(everyone, None)
        box.currentIndexChanged.connect(lambda _i: self._hide_rows())
        self._choices[column] = (box, by_month)
        self._offer_values(column)
        return box

    def _offer_values(self, column: int) -> None:
        box, by_month = self._choices[column]
        table = self.table
        texts = {table.item(r, column).text() for r in range(table.rowCount())
                 if table.item(r, column) is not None and table.item(r, column).text()}
        values = sorted({t[:7] for t in texts}, reverse=True) if by_month else sorted(texts, key=sort_key)
        current = box.currentData()
        box.blockSignals(True)
        while box.count() > 1:
            box.removeItem(1)
        for value in values:
            box.addItem(f"{value[:4]}年{value[5:7]}月" if by_month else value, value)
        box.setCurrentIndex(max(box.findData(current), 0))  # a value no longer there: everything
        box.blockSignals(False)

    def apply(self) -> None:
        """After a refill: the choice boxes offer the values now there, and the rows are narrowed again."""
        for column in self._choices:
            self._offer_values(column)
        self._hide_rows()

    def _hide_rows(self) -> None:
        wanted = self.text().strip().casefold()
        chosen = {column: box.currentData() for column, (box, _month) in self._choices.items()
                  if box.currentData() is not None}
        table = self.table
        for r in range(table.rowCount()):
            cells = [table.item(r, c) for c in range(table.columnCount())]
            found = not wanted or any(item is not None and wanted in item.text().casefold() for item in cells)
            for column, value in chosen.items():
                text = cells[column].text() if column < len(cells) and cells[column] is not None else ""
                found = found and text.startswith(value)
            table.setRowHidden(r, not found)

    def shown_count(self) -> int:
        """How many rows the search and choices let through."""
        return sum(not self.table.isRowHidden(r) for r in range(self.table.rowCount()))


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


# ----- long lists: rows of text as a model, searched, sorted and filtered where they are ------------------
_NUMBER_WITH_UNIT = re.compile(r"\s*\+?(-?\d[\d,]*(?:\.\d+)?)\s*[^\d]*")


_CHINESE_ORDER = QCollator(QLocale(QLocale.Language.Chinese, QLocale.Country.China))


def sort_key(text: str) -> tuple[int, Decimal | QCollatorSortKey]:
    """Numbers (分值 "+1.5", 数量, 名次, 金额 "1,234.50", "45.0%", "12 KB", "3 次") sort as numbers, before
    text; text sorts as a Chinese reader looks it up, by pinyin (阿明, 李四, 张三), dates in ISO form and "3/5"
    as written."""
    cleaned = text.strip().removeprefix("+").removesuffix("分")
    try:
        return (0, Decimal(cleaned))
    except (InvalidOperation, ValueError):
        pass
    number = _NUMBER_WITH_UNIT.fullmatch(text)
    if number is not None:
        try:
            return (0, Decimal(number.group(1).replace(",", "")))
        except (InvalidOperation, ValueError):
            pass
    return (1, _CHINESE_ORDER.sortKey(text))


class RowsModel(QAbstractTableModel):
    """Rows of text, with a tick box in the first column when ``checkable``, for lists a county makes long
    (27,000 members, 33,000 records waiting for review): a view asks only for the rows on screen, where a
    QTableWidget made an item per cell on the GUI thread (seconds).

    Ticks are kept by key, so a search, filter or sort that hides or moves rows keeps them ticked. Three
    narrowings combine: ``set_filter`` (keys a service search found), ``set_search`` (text in any cell) and
    ``set_column_filter`` (a cell equal to, or for dates starting with, a chosen value). Clicking a header
    sorts (numbers as numbers); a reload keeps the sort."""

    checked_changed = Signal()
    rows_replaced = Signal()  # new rows (not a narrowing): filters offer the values these hold

    def __init__(self, headers: Sequence[str], *, checkable: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.checkable = checkable
        self._rows: list[Sequence[str]] = []
        self._haystacks: list[str] = []  # each row's cells joined and case-folded, for the search
        self._keys: list[object] = []
        self._shown: list[int] = []  # positions in _rows that the narrowings let through, in sorted order
        self._order: list[int] = []  # every position, in sorted order
        self._checked: set[object] = set()
        self._wanted: set[object] | None = None
        self._search = ""
        self._column_filters: dict[int, str] = {}
        self.sort_column = -1  # -1: the order the rows were given in
        self.sort_order = Qt.SortOrder.AscendingOrder

    # ----- rows --------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Sequence[str]], keys: Sequence[object], *, keep_checked: bool = False) -> None:
        """Replace the rows (cells as text, made in the pool for long lists); ``keep_checked`` keeps the ticks
        of keys that are still there. The search, filters and sort stay as the user set them."""
        self.beginResetModel()
        self._rows = list(rows)
        self._keys = list(keys)
        self._haystacks = []
        self._checked = self._checked & set(self._keys) if keep_checked else set()
        self._sort_positions()
        self._narrow()
        self.endResetModel()
        self.rows_replaced.emit()
        self.checked_changed.emit()

    def _sort_positions(self) -> None:
        positions = list(range(len(self._rows)))
        column = self.sort_column
        if 0 <= column < len(self.headers):
            positions.sort(key=lambda i: sort_key(self._rows[i][column] if column < len(self._rows[i]) else ""),
                           reverse=self.sort_order == Qt.SortOrder.DescendingOrder)
        self._order = positions

    def _passes(self, position: int) -> bool:
        if self._wanted is not None and self._keys[position] not in self._wanted:
            return False
        row = self._rows[position]
        for column, value in self._column_filters.items():
            cell = row[column] if column < len(row) else ""
            if cell != value and not cell.startswith(value):
                return False
        return not self._search or self._search in self._haystacks[position]

    def _narrow(self) -> None:
        if self._search and len(self._haystacks) != len(self._rows):  # made at the first search, not per load
            self._haystacks = ["\x1f".join(str(cell) for cell in row).casefold() for row in self._rows]
        self._shown = [i for i in self._order if self._passes(i)]

    def _renarrow(self) -> None:
        self.beginResetModel()
        self._narrow()
        self.endResetModel()

    def set_filter(self, keys: set[object] | None) -> None:
        """Show only the rows whose key is in ``keys`` (all rows for None)."""
        self._wanted = keys
        self._renarrow()

    def set_search(self, text: str) -> None:
        """Show only the rows with ``text`` in some cell (any case)."""
        self._search = text.strip().casefold()
        self._renarrow()

    def set_column_filter(self, column: int, value: str | None) -> None:
        """Show only the rows whose ``column`` is ``value`` or starts with it (a month of a date); None: all."""
        if value is None:
            self._column_filters.pop(column, None)
        else:
            self._column_filters[column] = value
        self._renarrow()

    def column_values(self, column: int) -> list[str]:
        """The different values of a column, sorted (what a filter offers)."""
        return sorted({row[column] for row in self._rows if column < len(row) and row[column]}, key=sort_key)

    def key(self, row: int) -> object:
        return self._keys[self._shown[row]]

    def row_of(self, key: object) -> int:
        """The shown row of ``key``, -1 when it is not shown."""
        return next((r for r, position in enumerate(self._shown) if self._keys[position] == key), -1)

    def cells(self, row: int) -> Sequence[str]:
        return self._rows[self._shown[row]]

    def shown_keys(self) -> list[object]:
        return [self._keys[i] for i in self._shown]

    def total(self) -> int:
        """Every row, shown or not."""
        return len(self._rows)

    def checked(self) -> list[object]:
        """Ticked keys in row order, hidden rows included."""
        return [key for key in self._keys if key in self._checked]

    def checked_count(self) -> int:
        return len(self._checked)

    def set_checked(self, keys: Iterable[object], checked: bool = True) -> None:
        wanted = set(keys) & set(self._keys)
        if checked:
            self._checked |= wanted
        else:
            self._checked -= wanted
        if self._shown:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._shown) - 1, 0))
        self.checked_changed.emit()

    # ----- QAbstractTableModel ----------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self._shown):
            return None
        position = self._shown[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            row = self._rows[position]
            return row[index.column()] if index.column() < len(row) else ""
        if role == Qt.ItemDataRole.CheckStateRole and self.checkable and index.column() == 0:
            return Qt.CheckState.Checked if self._keys[position] in self._checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.UserRole and index.column() == 0:
            return self._keys[position]
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: object,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not (index.isValid() and self.checkable and index.column() == 0
                and role == Qt.ItemDataRole.CheckStateRole):
            return False
        key = self._keys[self._shown[index.row()]]
        ticked = Qt.CheckState(value) == Qt.CheckState.Checked  # type: ignore[call-overload]
        (self._checked.add if ticked else self._checked.discard)(key)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checked_changed.emit()
        return True

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self.checkable and index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.headers):
            return self.headers[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """By a clicked header (the tick column does not sort); -1: back to the order the rows came in."""
        if self.checkable and column == 0:
            return
        self.layoutAboutToBeChanged.emit()
        self.sort_column, self.sort_order = column, order
        self._sort_positions()
        self._narrow()
        self.layoutChanged.emit()


class FrozenFirstColumnView(QTableView):
    """A table whose first column (the 选择 boxes; or the first ``frozen_count`` columns, a score sheet's
    target and level) stays in view however far it scrolls right: a second view showing only those columns
    lies over them, sharing the model, the selection and the vertical scrolling (Qt's "frozen column"
    example). Ctrl+End, Home and Tab keep the current cell beside it; its headers sort like the others."""

    def __init__(self, parent: QWidget | None = None, *, frozen_count: int = 1) -> None:
        super().__init__(parent)
        self.frozen_count = frozen_count
        self.frozen = QTableView(self)
        self.frozen.setObjectName("frozen_column")
        self.frozen.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.frozen.verticalHeader().hide()
        self.frozen.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.frozen.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frozen.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frozen.setVerticalScrollMode(self.verticalScrollMode())
        self.frozen.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.frozen.setStyleSheet("QTableView#frozen_column { border: none; border-right: 1px solid #999; }")
        self.viewport().stackUnder(self.frozen)
        self.horizontalHeader().sectionResized.connect(self._column_resized)
        self.verticalHeader().sectionResized.connect(lambda row, _old, size: self.frozen.setRowHeight(row, size))
        self.frozen.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.verticalScrollBar().valueChanged.connect(self.frozen.verticalScrollBar().setValue)
        self.frozen.horizontalHeader().sectionClicked.connect(self._frozen_header_clicked)
        self.horizontalHeader().sortIndicatorChanged.connect(self._mirror_sort_indicator)

    def setModel(self, model: QAbstractItemModel | None) -> None:  # noqa: N802 (Qt override)
        super().setModel(model)
        self.frozen.setModel(model)
        if model is None:
            return
        self.frozen.setSelectionModel(self.selectionModel())
        for signal in (model.modelReset, model.layoutChanged, model.columnsInserted):
            signal.connect(self._show_first_only)
        self._show_first_only()

    def _show_first_only(self, *_args: object) -> None:
        model = self.model()
        if model is None:
            return
        for column in range(model.columnCount()):
            self.frozen.setColumnHidden(column, column >= self.frozen_count)
            if column < self.frozen_count:
                self.frozen.setColumnWidth(column, self.columnWidth(column))
        self.frozen.verticalHeader().setDefaultSectionSize(self.verticalHeader().defaultSectionSize())
        self.frozen.setSelectionBehavior(self.selectionBehavior())
        self.frozen.setWordWrap(self.wordWrap())
        self._place()

    def frozen_width(self) -> int:
        return sum(self.columnWidth(c) for c in range(self.frozen_count) if not self.isColumnHidden(c))

    def _column_resized(self, column: int, _old: int, size: int) -> None:
        if column < self.frozen_count:
            self.frozen.setColumnWidth(column, size)
            self._place()

    def _frozen_header_clicked(self, column: int) -> None:
        """A click on a frozen header sorts as the table's own header would (a second click reverses)."""
        if not self.isSortingEnabled():
            return
        header = self.horizontalHeader()
        ascending = header.sortIndicatorSection() != column or header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        self.sortByColumn(column, Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder)

    def _mirror_sort_indicator(self, column: int, order: Qt.SortOrder) -> None:
        """The sort arrow shows on the frozen header when a frozen column is the one sorted by."""
        frozen_header = self.frozen.horizontalHeader()
        frozen_header.setSortIndicatorShown(self.isSortingEnabled() and 0 <= column < self.frozen_count)
        frozen_header.setSortIndicator(column if column < self.frozen_count else -1, order)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._place()

    def updateGeometries(self) -> None:  # noqa: N802 (Qt override)
        super().updateGeometries()
        self._place()

    def _place(self) -> None:
        left = self.verticalHeader().width() + self.frameWidth() if self.verticalHeader().isVisible() \
            else self.frameWidth()
        self.frozen.setGeometry(left, self.frameWidth(), self.frozen_width(),
                                self.viewport().height() + self.horizontalHeader().height())
        self.frozen.horizontalHeader().setFixedHeight(self.horizontalHeader().height())

    def moveCursor(self, action: QAbstractItemView.CursorAction,  # noqa: N802 (Qt override)
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        current = super().moveCursor(action, modifiers)
        frozen_width = self.frozen_width()
        if action == QAbstractItemView.CursorAction.MoveLeft and current.column() >= self.frozen_count \
                and self.visualRect(current).topLeft().x() < frozen_width:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() + self.visualRect(current).topLeft().x() - frozen_width)
        return current

    def scrollTo(self, index: QModelIndex | QPersistentModelIndex,  # noqa: N802 (Qt override)
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible) -> None:
        if index.column() >= self.frozen_count:
            super().scrollTo(index, hint)
        elif index.isValid():  # the frozen columns are always in view: scroll rows only
            beside = max(self.columnAt(self.frozen_width() + 1), self.frozen_count)
            if self.model() is not None and beside < self.model().columnCount():
                super().scrollTo(index.siblingAtColumn(beside), hint)


def table_view(model: QAbstractItemModel, widths: Sequence[int] = (), *, sortable: bool = True,
               frozen: bool = False) -> QTableView:
    """The compact look of fill_table for a model; ``sortable``: a header click sorts (the rows start in the
    order given); ``frozen``: the first column never scrolls out of view."""
    view: QTableView = FrozenFirstColumnView() if frozen else QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    for index, width in enumerate(widths):
        view.setColumnWidth(index, width)
    if isinstance(view, FrozenFirstColumnView):
        view._show_first_only()
    if sortable:
        view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
        view.horizontalHeader().setSortIndicatorClearable(True)
    return view


class ListFilters(QWidget):
    """The bar over a long list: a search box (any cell) and choice boxes for the columns worth filtering
    (村/社区, 状态, a date's month), each offering the values the list holds. Typing or choosing narrows
    the model at once; the tick column is never filtered."""

    def __init__(self, model: RowsModel, placeholder: str = "搜索：姓名、事项、说明等任意内容",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.search = QLineEdit()
        self.search.setObjectName("list_search")
        self.search.setPlaceholderText(placeholder)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(model.set_search)
        self.choices: dict[int, tuple[QComboBox, str, bool]] = {}  # column -> (box, 全部…, by month)
        self.count = QLabel()
        self.count.setObjectName("list_count")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.search, 1)
        self._layout.addWidget(self.count)
        model.rows_replaced.connect(self._rows_replaced)
        model.modelReset.connect(self._show_count)
        model.layoutChanged.connect(self._show_count)

    def add_choice(self, column: int, everyone: str, *, by_month: bool = False) -> QComboBox:
        """A box choosing one value of ``column`` (``everyone`` for all); ``by_month``: ISO dates by 年-月."""
        box = QComboBox()
        box.setObjectName(f"list_filter_{column}")
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        box.addItem(everyone, None)
        box.currentIndexChanged.connect(lambda _i: self.model.set_column_filter(column, box.currentData()))
        self.choices[column] = (box, everyone, by_month)
        self._layout.insertWidget(self._layout.count() - 1, box)
        self._fill(column)
        return box

    def _fill(self, column: int) -> None:
        box, everyone, by_month = self.choices[column]
        values = self.model.column_values(column)
        if by_month:
            values = sorted({v[:7] for v in values}, reverse=True)
        current = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(everyone, None)
        for value in values:
            box.addItem(f"{value[:4]}年{value[5:7]}月" if by_month else value, value)
        index = box.findData(current)
        box.setCurrentIndex(max(index, 0))
        box.blockSignals(False)
        if current is not None and index < 0:  # the value chosen is gone: show everything
            self.model.set_column_filter(column, None)

    def _rows_replaced(self) -> None:
        for column in list(self.choices):
            self._fill(column)
        self._show_count()

    def _show_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total()
        self.count.setText(f"显示 {shown} / 共 {total} 条" if shown != total else f"共 {total} 条")
