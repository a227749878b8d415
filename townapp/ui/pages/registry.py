"""Registry pages: 村/社区, 住户 (with members), 人员/党员."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from townapp.core.errors import DomainError
from townapp.core.idcard import mask_id_number, mask_phone
from townapp.registry.dto import SearchFilter
from townapp.ui.context import AppContext
from townapp.ui.forms.registry import HouseholdDialog, PersonDialog, VillageDialog
from townapp.ui.pages.base import Page
from townapp.ui.widgets.lazy_table import Column, LazyTableModel
from townapp.ui.widgets.tables import current_key, fill_table, select_key

SEARCH_DELAY_MS = 250


def create_pages(ctx: AppContext) -> list[Page]:
    return [VillagesPage(ctx), HouseholdsPage(ctx), PeoplePage(ctx)]


def _button(text: str, slot: Callable[[], object], name: str = "") -> QPushButton:
    button = QPushButton(text)
    if name:
        button.setObjectName(name)
    button.clicked.connect(slot)
    return button


def _table_view(model: LazyTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)  # sorts by column -1 now: the model ignores it
    view.setAlternatingRowColors(True)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setDefaultSectionSize(26)
    view.horizontalHeader().setStretchLastSection(True)
    for number, column in enumerate(model.columns):
        view.setColumnWidth(number, column.width)
    return view


class VillagesPage(Page):
    title = "村/社区"
    HEADERS = ("区划代码", "名称", "类别", "村民小组", "住户", "人员", "党员")

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setObjectName("villages")
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        buttons = QHBoxLayout()
        buttons.addWidget(_button("新增村/社区", self.add, "add_village"))
        buttons.addWidget(_button("编辑", self.edit_selected))
        buttons.addWidget(_button("删除", self.delete_selected))
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        self.rows = []

    def refresh(self) -> None:
        picked = current_key(self.table)
        self.rows = self.ctx.registry.villages()
        fill_table(self.table, self.HEADERS,
                   [(v.code, v.name, v.kind, "、".join(v.groups), v.households, v.people, v.party_members)
                    for v in self.rows], keys=[v.id for v in self.rows], sortable=True)
        for r in range(self.table.rowCount()):
            for c in (4, 5, 6):
                self.table.item(r, c).setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.resizeColumnsToContents()
        if picked is not None:
            select_key(self.table, picked)

    def _selected(self):  # noqa: ANN202
        """The village on the row the user picked, wherever a header click has put it."""
        key = current_key(self.table)
        return next((v for v in self.rows if v.id == key), None)

    def add(self) -> None:
        if VillageDialog(self.ctx, parent=self).exec() == QDialog.DialogCode.Accepted:
            self.refresh()
            self.data_changed.emit()

    def edit_selected(self) -> None:
        village = self._selected()
        if village and VillageDialog(self.ctx, village, parent=self).exec() == QDialog.DialogCode.Accepted:
            self.refresh()
            self.data_changed.emit()

    def delete_selected(self) -> None:
        village = self._selected()
        if village is None or not self.confirm(f"确定删除 {village.name} 吗？"):
            return
        from townapp.ui.jobs import call_service

        call_service(self, lambda: self.ctx.registry.delete_village(village.id),
                     lambda _r: (self.refresh(), self.data_changed.emit()), self.show_error, title="没有删除")


class _SearchPage(Page):
    """A searchable, village-filtered list over a LazyTableModel."""

    search_hint = ""

    def __init__(self, ctx: AppContext, columns: Sequence[Column], default_order: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.search_hint)
        self.search.setClearButtonEnabled(True)
        self.village = QComboBox()
        self.village.setObjectName("village_filter")
        self.count_label = QLabel()
        self.model = LazyTableModel(columns, self._query_ids, self._fetch_rows, default_order, self)
        self.view = _table_view(self.model)
        self.view.doubleClicked.connect(lambda _index: self.edit_selected())
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.village.currentIndexChanged.connect(lambda _index: self.reload())
        self.filters = QHBoxLayout()
        self.filters.addWidget(QLabel("查找："))
        self.filters.addWidget(self.search, 2)
        self.filters.addWidget(QLabel("村/社区："))
        self.filters.addWidget(self.village, 1)
        self.actions = QHBoxLayout()
        self._villages_loaded = False

    def current_filter(self) -> SearchFilter:
        raise AssertionError("subclasses build their filter")

    def _query_ids(self, order: str, descending: bool) -> list[int]:
        base = self.current_filter()
        return self.query_ids(SearchFilter(base.text, base.village_id, base.party_only, order, descending))

    def query_ids(self, f: SearchFilter) -> list[int]:
        raise AssertionError("subclasses query their ids")

    def _fetch_rows(self, ids: Sequence[int]) -> dict:
        raise AssertionError("subclasses fetch their rows")

    def _load_villages(self) -> None:
        current = self.village.currentData()
        self.village.blockSignals(True)
        self.village.clear()
        self.village.addItem("全部", None)
        for row in self.ctx.registry.villages():
            self.village.addItem(row.name, row.id)
        index = self.village.findData(current)
        self.village.setCurrentIndex(max(index, 0))
        self.village.blockSignals(False)

    def refresh(self) -> None:
        self._load_villages()
        self.reload()

    def reload(self) -> None:
        selected = self.selected_id()
        self.model.refresh()
        self.count_label.setText(f"共 {self.model.rowCount()} 条")
        if selected is not None:
            row = self.model.row_of(selected)
            if row >= 0:
                self.view.selectRow(row)

    def selected_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        return self.model.id_at(rows[0].row()) if rows else None

    def select_id(self, record_id: int) -> None:
        row = self.model.row_of(record_id)
        if row >= 0:
            self.view.selectRow(row)
            self.view.scrollTo(self.model.index(row, 0))

    delete_question = ""

    def make_dialog(self, record_id: int | None) -> QDialog:
        """The add (None) or edit dialog; its ``saved_id`` is set when the user saved."""
        raise AssertionError("subclasses make their dialog")

    def delete_record(self, record_id: int) -> None:
        raise AssertionError("subclasses delete through their service")

    def add(self) -> None:
        self._run_dialog(None)

    def edit_selected(self) -> None:
        record_id = self.selected_id()
        if record_id is not None:
            self._run_dialog(record_id)

    def _run_dialog(self, record_id: int | None) -> None:
        try:
            dialog = self.make_dialog(record_id)
        except DomainError as exc:  # deleted meanwhile, or not allowed
            self.show_error(exc)
            return
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._after_save(getattr(dialog, "saved_id", None))

    def delete_selected(self) -> None:
        record_id = self.selected_id()
        if record_id is None or not self.confirm(self.delete_question):
            return
        from townapp.ui.jobs import call_service

        call_service(self, lambda: self.delete_record(record_id), lambda _r: self._after_save(None), self.show_error,
                     title="没有删除")

    def _after_save(self, record_id: int | None) -> None:
        self.reload()
        if record_id is not None:
            self.select_id(record_id)
        self.data_changed.emit()


class HouseholdsPage(_SearchPage):
    title = "住户"
    search_hint = "户主姓名、拼音首字母（如 zs）、身份证号后几位或户编号"
    COLUMNS = (Column("village", "村/社区"), Column("group", "村民小组", sortable=False), Column("number", "户编号"),
               Column("head_name", "户主"), Column("member_count", "人数", sortable=False, align_right=True),
               Column("address", "住址", width=240))
    MEMBER_HEADERS = ("姓名", "与户主关系", "性别", "出生日期", "身份证号", "联系电话", "党员")

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, self.COLUMNS, "number")
        self.members = QTableWidget(0, len(self.MEMBER_HEADERS))
        self.members.setObjectName("household_members")
        self.members.setHorizontalHeaderLabels(list(self.MEMBER_HEADERS))
        self.members.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.members.horizontalHeader().setStretchLastSection(True)
        self.actions.addWidget(_button("新增住户", self.add, "add_household"))
        self.actions.addWidget(_button("编辑", self.edit_selected, "edit_household"))
        self.actions.addWidget(_button("删除", self.delete_selected, "delete_household"))
        self.actions.addStretch(1)
        self.actions.addWidget(self.count_label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        members_box = QWidget()
        members_layout = QVBoxLayout(members_box)
        members_layout.setContentsMargins(0, 0, 0, 0)
        members_layout.addWidget(QLabel("家庭成员"))
        members_layout.addWidget(self.members)
        splitter.addWidget(members_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.filters)
        layout.addLayout(self.actions)
        layout.addWidget(splitter, 1)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.show_members())

    def current_filter(self) -> SearchFilter:
        return SearchFilter(text=self.search.text(), village_id=self.village.currentData())

    def query_ids(self, f: SearchFilter) -> list[int]:
        return self.ctx.registry.household_ids(f)

    def _fetch_rows(self, ids: Sequence[int]) -> dict:
        return self.ctx.registry.household_rows(ids)

    def show_members(self) -> None:
        household_id = self.selected_id()
        members = self.ctx.registry.get_household(household_id).members if household_id else ()
        self.members.setRowCount(len(members))
        for r, (person, relation) in enumerate(members):
            values = (person.name, relation, person.sex, person.birth_date.isoformat(),
                      mask_id_number(person.id_number), mask_phone(person.phone),
                      person.party.member_type if person.party else "")
            for c, value in enumerate(values):
                self.members.setItem(r, c, QTableWidgetItem(value))
        self.members.resizeColumnsToContents()

    delete_question = "确定删除这一户吗？（户内人员仍保留在人员登记中）"

    def make_dialog(self, record_id: int | None) -> QDialog:
        if record_id is None:
            return HouseholdDialog(self.ctx, village_id=self.village.currentData(), parent=self)
        return HouseholdDialog(self.ctx, self.ctx.registry.get_household(record_id), parent=self)

    def delete_record(self, record_id: int) -> None:
        self.ctx.registry.delete_household(record_id)


class PeoplePage(_SearchPage):
    title = "人员/党员"
    search_hint = "姓名、拼音首字母（如 zs）或身份证号后几位"
    COLUMNS = (Column("name", "姓名"), Column("sex", "性别", width=50), Column("birth_date", "出生日期"),
               Column("id_masked", "身份证号", width=170), Column("village", "村/社区"),
               Column("household_number", "户编号", sortable=False), Column("relation", "与户主关系", sortable=False),
               Column("phone_masked", "联系电话", width=120), Column("party", "党员", sortable=False))

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx, self.COLUMNS, "name")
        self.party_only = QCheckBox("只看党员")
        self.party_only.setObjectName("party_only")
        self.party_only.toggled.connect(lambda _on: self.reload())
        self.filters.addWidget(self.party_only)
        self.actions.addWidget(_button("新增人员", self.add, "add_person"))
        self.actions.addWidget(_button("编辑", self.edit_selected, "edit_person"))
        self.actions.addWidget(_button("删除", self.delete_selected, "delete_person"))
        self.actions.addStretch(1)
        self.actions.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(self.filters)
        layout.addLayout(self.actions)
        layout.addWidget(self.view, 1)

    def current_filter(self) -> SearchFilter:
        return SearchFilter(text=self.search.text(), village_id=self.village.currentData(),
                            party_only=self.party_only.isChecked())

    def query_ids(self, f: SearchFilter) -> list[int]:
        return self.ctx.registry.person_ids(f)

    def _fetch_rows(self, ids: Sequence[int]) -> dict:
        return self.ctx.registry.person_rows(ids)

    delete_question = "确定删除此人吗？其党员信息也会一并删除。"

    def make_dialog(self, record_id: int | None) -> QDialog:
        if record_id is None:
            return PersonDialog(self.ctx, village_id=self.village.currentData(), parent=self)
        return PersonDialog(self.ctx, self.ctx.registry.get_person(record_id), parent=self)

    def delete_record(self, record_id: int) -> None:
        self.ctx.registry.delete_person(record_id)
