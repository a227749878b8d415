"""Grid dialogs and the monthly assessment sheet widget.

The sheet behaves like a spreadsheet: typing edits a cell, Enter moves down,
Tab moves right, Delete clears, Ctrl+V pastes a block copied from Excel or WPS
(tab- and newline-separated), and each row's total, rank, band and subsidy are
recomputed as soon as a cell changes, with the same functions the service
uses at approval.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from townapp.core.dates import DateParseError
from townapp.core.errors import FieldProblem
from townapp.grids.dto import (
    GridInput,
    GridNode,
    HouseholdChoice,
    MemberInput,
    PersonChoice,
    ScoreEntry,
    SheetRow,
)
from townapp.grids.printable import yuan_text
from townapp.grids.scheme import Scheme, format_points, structure, vocab
from townapp.grids.service import GridService
from townapp.grids.subsidy import competition_ranks, subsidy_for, total_tenths
from townapp.grids.validation import read_scores
from townapp.ui.jobs import call_service, problems_of
from townapp.ui.widgets.fields import DateField, ErrorLabel, fill_combo, ok_cancel, select_data
from townapp.ui.widgets.tables import checked_keys, current_key, fill_table, set_all_checked

PEOPLE_HEADERS = ("姓名", "身份证号", "户编号", "电话")
ASSIGN_HEADERS = ("选择", "户编号", "户主", "村民小组", "地址", "现在的微网格")
ASSIGN_WIDTHS = (44, 70, 80, 80, 220, 200)
STAR_HEADERS = ("排名", "姓名", "村/社区", "网格", "角色", "总分")

_ERROR = QBrush(QColor("#ffcdd2"))
_READONLY = QBrush(QColor("#f3f3f3"))
_CHANGED = QBrush(QColor("#fff8e1"))
_PLAIN = QBrush(QColor("white"))



class GridDialog(QDialog):
    """新增/编辑网格: level, code, name, parent (only levels the structure allows), 四至, party group."""

    def __init__(self, service: GridService, village_id: int, node: GridNode | None = None,
                 parent_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.village_id, self.node = service, village_id, node
        self.setWindowTitle("编辑网格" if node else "新增网格")
        self.nodes = [n for n in service.tree(village_id, include_retired=False) if not node or n.id != node.id]
        self.level = QComboBox()
        self.level.setObjectName("level")
        fill_combo(self.level, vocab("level").values)
        self.code = QLineEdit()
        self.code.setObjectName("code")
        self.code.setPlaceholderText("全乡镇唯一，如 201-01-1-03")
        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.parent_grid = QComboBox()
        self.parent_grid.setObjectName("parent_grid")
        self.scope = QLineEdit()
        self.scope.setPlaceholderText("东至…，西至…，南至…，北至…")
        self.party_group = QComboBox()
        self.party_group.addItem("（无）", None)
        for gid, name in service.party_groups(village_id):
            self.party_group.addItem(name, gid)
        self.changed_on = DateField()
        self.changed_on.set_date(dt.date.today())
        self.errors = {key: ErrorLabel() for key in ("level", "code", "name", "parent_id", "scope", "party_group_id",
                                                     "general")}
        form = QFormLayout()
        for label, key, widget in (("层级", "level", self.level), ("网格编码", "code", self.code),
                                   ("网格名称", "name", self.name), ("上级网格", "parent_id", self.parent_grid),
                                   ("四至范围", "scope", self.scope), ("网格党组织", "party_group_id", self.party_group),
                                   ("生效日期", None, self.changed_on)):
            box = QVBoxLayout()
            box.addWidget(widget)
            if key:
                box.addWidget(self.errors[key])
            form.addRow(label, box)
        self.level.currentIndexChanged.connect(lambda _i: self._fill_parents())
        buttons = ok_cancel(self, "保存")
        buttons.accepted.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors["general"])
        layout.addWidget(buttons)
        self.saved_id: int | None = None
        if node is not None:
            select_data(self.level, node.level)
            self.code.setText(node.code)
            self.name.setText(node.name)
            self.scope.setText(node.scope or "")
            select_data(self.party_group, node.party_group_id)
            self._fill_parents(node.parent_id)
        else:
            chosen = next((n for n in self.nodes if n.id == parent_id), None)
            if chosen is not None:
                below = [lv for lv, ups in structure().parents.items() if chosen.level in ups]
                if below:
                    select_data(self.level, below[0])
            self._fill_parents(parent_id)
        self.resize(460, self.sizeHint().height())

    def _fill_parents(self, wanted: int | None = None) -> None:
        current = wanted if wanted is not None else self.parent_grid.currentData()
        allowed = structure().parents.get(self.level.currentData() or "", ())
        self.parent_grid.clear()
        if not allowed:
            self.parent_grid.addItem("（无上级）", None)
        for n in self.nodes:
            if n.level in allowed:
                self.parent_grid.addItem(f"{n.code} {n.name}（{n.level}）", n.id)
        select_data(self.parent_grid, current)

    def data(self) -> GridInput:
        try:
            changed_on = self.changed_on.date()
        except DateParseError:
            changed_on = None
        return GridInput(self.village_id, self.level.currentData() or "", self.code.text(), self.name.text(),
                         self.parent_grid.currentData(), self.scope.text(), self.party_group.currentData(), None,
                         changed_on, self.node.id if self.node else None)

    def save(self) -> None:
        data = self.data()
        call_service(self, lambda: self.service.save_grid(data), self._saved,
                     lambda exc: self._show(problems_of(exc, "general")))

    def _saved(self, saved_id: int) -> None:
        self.saved_id = saved_id
        self.accept()

    def _show(self, problems: list[FieldProblem]) -> None:
        for key, label in self.errors.items():
            label.show_problems([p for p in problems if p.field == key or (key == "general" and p.field not in
                                                                          self.errors)])


class MemberDialog(QDialog):
    """添加网格成员: find a registry person (name, pinyin initials or ID tail), role, 专兼职, dates, phone."""

    def __init__(self, service: GridService, node: GridNode, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.node = service, node
        self.setWindowTitle(f"添加成员 — {node.code} {node.name}")
        self.search = QLineEdit()
        self.search.setObjectName("person_search")
        self.search.setPlaceholderText("姓名、拼音首字母或身份证号后几位")
        self.people = QTableWidget(0, 4)
        self.people.setObjectName("people")
        self.people.setHorizontalHeaderLabels(list(PEOPLE_HEADERS))
        self.people.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.people.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.people.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.people.horizontalHeader().setStretchLastSection(True)
        self.role = QComboBox()
        self.role.setObjectName("role")
        fill_combo(self.role, structure().roles_by_level.get(node.level, vocab("role").values))
        self.duty = QComboBox()
        fill_combo(self.duty, vocab("duty").values)
        select_data(self.duty, "兼职")
        self.started_on = DateField()
        self.started_on.set_date(dt.date.today())
        self.phone = QLineEdit()
        self.message = ErrorLabel()
        form = QFormLayout()
        form.addRow("角色", self.role)
        form.addRow("专兼职", self.duty)
        form.addRow("任职日期", self.started_on)
        form.addRow("联系电话", self.phone)
        buttons = ok_cancel(self, "保存")
        buttons.accepted.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("查找人员（须已在“人员/党员”中登记）："))
        layout.addWidget(self.search)
        layout.addWidget(self.people, 1)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.choices = []
        self.search.textChanged.connect(lambda _t: self.find())
        self.people.itemSelectionChanged.connect(self._picked)
        self.saved_id: int | None = None
        self.find()
        self.resize(560, 520)

    def find(self) -> None:
        self.choices = self.service.find_people(self.node.village_id, self.search.text())
        fill_table(self.people, PEOPLE_HEADERS,
                   [(p.name, p.id_masked, p.household_number or "", p.phone or "") for p in self.choices],
                   keys=[p.id for p in self.choices], widths=(90, 170, 130), sortable=True)
        if self.choices:
            self.people.selectRow(0)

    def picked_person(self) -> PersonChoice | None:
        """The person on the row the user picked (by key: a header click may have moved it)."""
        key = current_key(self.people) if self.people.selectedItems() else None
        return next((p for p in self.choices if p.id == key), None)

    def _picked(self) -> None:
        person = self.picked_person()
        if person is not None and not self.phone.isModified():
            self.phone.setText(person.phone or "")

    def save(self) -> None:
        person = self.picked_person()
        if person is None:
            self.message.show_problems([FieldProblem("person_id", "请先查找并选中一名人员")])
            return
        try:
            started = self.started_on.date()
        except DateParseError as exc:
            self.message.show_problems([FieldProblem("started_on", str(exc))])
            return
        data = MemberInput(self.node.id, person.id, self.role.currentData(), self.duty.currentData(),
                           started, None, self.phone.text())
        call_service(self, lambda: self.service.save_member(data), self._saved,
                     lambda exc: self.message.show_problems(problems_of(exc, "general")))

    def _saved(self, saved_id: int) -> None:
        self.saved_id = saved_id
        self.accept()


class AssignDialog(QDialog):
    """划入住户: pick households by 村民小组 or address (ticked in a list), choose the micro-grid and the date."""

    def __init__(self, service: GridService, village_id: int, grid_id: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.village_id = service, village_id
        self.setWindowTitle("划入住户到微网格")
        self.group = QComboBox()
        self.group.setObjectName("group_filter")
        self.group.addItem("全部村民小组", None)
        for gid, name in service.village_groups(village_id):
            self.group.addItem(name, gid)
        self.address = QLineEdit()
        self.address.setObjectName("address_filter")
        self.address.setPlaceholderText("地址包含…")
        self.unassigned_only = QCheckBox("只列未划入的住户")
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("households")
        self.table.setHorizontalHeaderLabels(list(ASSIGN_HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.target = QComboBox()
        self.target.setObjectName("target_grid")
        for n in service.micro_grids(village_id):
            self.target.addItem(f"{n.code} {n.name}（{n.households}户）", n.id)
        select_data(self.target, grid_id)
        self.on = DateField()
        self.on.set_date(dt.date.today())
        self.count = QLabel()
        self.message = ErrorLabel()
        filters = QHBoxLayout()
        filters.addWidget(self.group)
        filters.addWidget(self.address, 1)
        filters.addWidget(self.unassigned_only)
        select_all = QPushButton("全选")
        select_all.setObjectName("select_all")
        select_all.clicked.connect(lambda: self.set_all(True))
        select_none = QPushButton("全不选")
        select_none.clicked.connect(lambda: self.set_all(False))
        picks = QHBoxLayout()
        picks.addWidget(select_all)
        picks.addWidget(select_none)
        picks.addWidget(self.count, 1)
        form = QFormLayout()
        form.addRow("划入微网格", self.target)
        form.addRow("划入日期", self.on)
        buttons = ok_cancel(self, "划入")
        buttons.accepted.connect(self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(picks)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.rows: list[HouseholdChoice] = []
        self.group.currentIndexChanged.connect(lambda _i: self.reload())
        self.address.textChanged.connect(lambda _t: self.reload())
        self.unassigned_only.toggled.connect(lambda _b: self.reload())
        self.table.itemChanged.connect(lambda _item: self._count())
        self.result_text = ""
        self.reload()
        self.resize(760, 560)

    def reload(self) -> None:
        self.rows = self.service.households(self.village_id, group_id=self.group.currentData(),
                                            address=self.address.text(),
                                            unassigned_only=self.unassigned_only.isChecked())
        self.table.blockSignals(True)
        fill_table(self.table, ASSIGN_HEADERS,
                   [("", h.number, h.head, h.group, h.address, h.grid or "（未划入）") for h in self.rows],
                   checkable=True, keys=[h.id for h in self.rows], widths=ASSIGN_WIDTHS, sortable=True)
        self.table.blockSignals(False)  # fixed widths: typing in 地址包含 refills the list, the columns stay put
        self._count()

    def set_all(self, checked: bool) -> None:
        self.table.blockSignals(True)
        set_all_checked(self.table, checked)
        self.table.blockSignals(False)
        self._count()

    def checked_ids(self) -> list[int]:
        """The ticked households, by key: a header click moves rows, never ticks."""
        return checked_keys(self.table)

    def _count(self) -> None:
        self.count.setText(f"列出 {len(self.rows)} 户，已选 {len(self.checked_ids())} 户")

    def save(self) -> None:
        try:
            on = self.on.date()
        except DateParseError as exc:
            self.message.show_problems([FieldProblem("on", str(exc))])
            return
        target, ids = self.target.currentData(), self.checked_ids()
        if target is None:
            self.message.show_problems([FieldProblem("general", "本村还没有微网格，请先新增微网格")])
            return
        call_service(self, lambda: self.service.assign(ids, target, on), self._assigned,
                     lambda exc: self.message.show_problems(problems_of(exc, "general")))

    def _assigned(self, result) -> None:  # noqa: ANN001 (the service's AssignResult)
        self.result_text = result.describe()
        self.accept()


class ReasonDialog(QDialog):
    """Asks for the reason an unlock, relock or retirement needs (it goes into the audit log)."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        buttons = ok_cancel(self, "确定")
        buttons.accepted.connect(self._accept)
        self.message = ErrorLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt))
        layout.addWidget(self.reason)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(420, self.sizeHint().height())

    def _accept(self) -> None:
        if not self.reason.text().strip():
            self.message.show_problems([FieldProblem("reason", "请填写原因")])
            return
        self.accept()


class StarDialog(QDialog):
    """最美网格员: the month's top scores as candidates; a person picks and writes the 事迹."""

    def __init__(self, service: GridService, year: int, month: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service, self.year, self.month = service, year, month
        scheme = service.month_scheme(year, month)
        scope = "全乡镇" if scheme.best_scope == "township" else "每村"
        self.setWindowTitle(f"{year}年{month}月最美网格员")
        self.candidates = QTableWidget(0, 6)
        self.candidates.setObjectName("candidates")
        self.candidates.setHorizontalHeaderLabels(list(STAR_HEADERS))
        self.candidates.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.candidates.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.candidates.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.chosen = QLabel()
        self.chosen.setWordWrap(True)
        self.deeds = QPlainTextEdit()
        self.deeds.setObjectName("deeds")
        self.deeds.setPlaceholderText("主要事迹（不少于10个字）")
        self.deeds.setFixedHeight(80)
        self.message = ErrorLabel()
        choose = QPushButton("评为最美网格员")
        choose.setObjectName("choose_star")
        choose.clicked.connect(self.choose)
        close = QPushButton("关闭")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(choose)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"候选人：当月得分前 {scheme.best_candidates} 名；{scope}评选 {scheme.best_count} 名，"
                                "由评选人确定。"))
        layout.addWidget(self.candidates, 1)
        layout.addWidget(QLabel("事迹："))
        layout.addWidget(self.deeds)
        layout.addWidget(self.message)
        layout.addWidget(self.chosen)
        layout.addLayout(row)
        self.rows: list[SheetRow] = []
        self.reload()
        self.resize(640, 520)

    def reload(self) -> None:
        self.rows = self.service.star_candidates(self.year, self.month)
        fill_table(self.candidates, STAR_HEADERS,
                   [(row.rank, row.name, row.village, f"{row.grid_code} {row.grid_name}", row.role,
                     format_points(row.total)) for row in self.rows],
                   keys=[row.member_id for row in self.rows], sortable=True)
        self.candidates.resizeColumnsToContents()
        stars = self.service.stars(self.year, self.month)
        self.chosen.setText("已评选：" + ("；".join(f"{s.name}（{s.village}）" for s in stars) or "无"))

    def choose(self) -> None:
        member = current_key(self.candidates) if self.candidates.selectedItems() else None
        if member is None:
            self.message.show_problems([FieldProblem("member", "请先选中一名候选人")])
            return
        deeds = self.deeds.toPlainText()
        call_service(self, lambda: self.service.choose_star(self.year, self.month, member, deeds), self._chosen,
                     lambda exc: self.message.show_problems(problems_of(exc, "general")))

    def _chosen(self, _result: object) -> None:
        self.message.show_problems([])
        self.deeds.clear()
        self.reload()


class SheetModel(QAbstractTableModel):
    """The month's rows as a table model: typed text per editable cell, results recomputed per edit.

    A model rather than thousands of QTableWidgetItems: a township's month has
    hundreds of members × a dozen columns, and the view asks only for what is
    on screen.
    """

    INFO = ("村/社区", "网格", "姓名", "角色")
    RESULT = ("总分", "排名", "档次", "补助（元）")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scheme: Scheme | None = None
        self.rows: list[SheetRow] = []
        self.cells: list[list[str]] = []  # items…, 扣分, 扣分原因 as typed
        self.results: list[tuple[str, str, str, str]] = []
        self.subsidies: list[int | None] = []
        self.problems: list[list[FieldProblem]] = []
        self.dirty: set[int] = set()
        self.locked = False

    # ----- geometry -------------------------------------------------------------------------------
    @property
    def first_item(self) -> int:
        return len(self.INFO)

    @property
    def deduction_col(self) -> int:
        return self.first_item + (len(self.scheme.items) if self.scheme else 0)

    @property
    def result_col(self) -> int:
        return self.deduction_col + 2

    def editable(self, column: int) -> bool:
        return not self.locked and self.first_item <= column < self.result_col

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() or self.scheme is None else self.result_col + len(self.RESULT)

    # ----- loading and computing --------------------------------------------------------------------
    def load(self, scheme: Scheme, rows: list[SheetRow], locked: bool) -> None:
        self.beginResetModel()
        self.scheme, self.rows, self.locked = scheme, rows, locked
        self.cells = [[format_points(r.scores.get(i.key)) for i in scheme.items]
                      + [format_points(r.deduction) if r.deduction else "", r.deduction_reason or ""] for r in rows]
        self.dirty = set()
        self._compute_all()
        self.endResetModel()

    def entry(self, r: int) -> tuple[ScoreEntry, list[FieldProblem]]:
        """The row as the service takes it, and what is wrong with what was typed."""
        assert self.scheme is not None
        cells = self.cells[r]
        typed = {item.key: cells[k] for k, item in enumerate(self.scheme.items)} | {"deduction": cells[-2]}
        reason = cells[-1].strip() or None
        scores, deduction, problems = read_scores(self.scheme, typed, reason)  # as an import reads the cells
        return ScoreEntry(self.rows[r].member_id, scores, deduction, reason, self.rows[r].note), problems

    def _compute_all(self) -> None:
        assert self.scheme is not None
        totals: dict[int, int | None] = {}
        lines = []
        self.problems = []
        for r in range(len(self.rows)):
            entry, problems = self.entry(r)
            self.problems.append(problems)
            total = None if problems else total_tenths(self.scheme, entry.scores, entry.deduction)
            totals[r] = total
            lines.append(subsidy_for(self.scheme, total, self.rows[r].role) if total is not None else None)
        ranks = competition_ranks(totals)
        self.results = [(format_points(totals[r]), str(ranks.get(r, "")), lines[r].band.label if lines[r] else "",
                         yuan_text(lines[r].subsidy_fen) if lines[r] else "") for r in range(len(self.rows))]
        self.subsidies = [line.subsidy_fen if line else None for line in lines]

    def _changed_rows(self, rows: set[int]) -> None:
        self.dirty |= rows
        self._compute_all()
        if self.rows:
            last = self.columnCount() - 1
            self.dataChanged.emit(self.index(min(rows), self.first_item), self.index(max(rows), last))
            self.dataChanged.emit(self.index(0, self.result_col), self.index(len(self.rows) - 1, last))  # ranks

    def set_cells(self, changes: list[tuple[int, int, str]]) -> int:
        """Set many typed cells at once (paste, clear) and recompute once; read-only cells are skipped."""
        touched: set[int] = set()
        for r, c, text in changes:
            if 0 <= r < len(self.rows) and self.editable(c):
                self.cells[r][c - self.first_item] = text.strip()
                touched.add(r)
        if touched:
            self._changed_rows(touched)
        return len(touched)

    # ----- the model interface -----------------------------------------------------------------------
    def text(self, r: int, c: int) -> str:
        row = self.rows[r]
        if c < self.first_item:
            return (row.village, f"{row.grid_code} {row.grid_name}", row.name, row.role)[c]
        if c < self.result_col:
            return self.cells[r][c - self.first_item]
        return self.results[r][c - self.result_col]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self.text(r, c)
        if role == Qt.ItemDataRole.BackgroundRole:
            if not self.editable(c):
                return _READONLY
            if self._bad(r, c):
                return _ERROR
            return _CHANGED if r in self.dirty else _PLAIN
        if role == Qt.ItemDataRole.ToolTipRole and self._bad(r, c):
            return "\n".join(p.message for p in self.problems[r])
        if role == Qt.ItemDataRole.TextAlignmentRole and (self.first_item <= c < self.deduction_col + 1
                                                          or c >= self.result_col and c != self.result_col + 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _bad(self, r: int, c: int) -> bool:
        if not self.problems[r] or not self.first_item <= c < self.result_col:
            return False
        keys = [i.key for i in self.scheme.items] + ["deduction", "deduction_reason"] if self.scheme else []
        return keys[c - self.first_item] in {p.field for p in self.problems[r]}

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags | Qt.ItemFlag.ItemIsEditable if self.editable(index.column()) else flags

    def setData(self, index: QModelIndex, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        return bool(self.set_cells([(index.row(), index.column(), str(value or ""))]))

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        if self.scheme is None:
            return ""
        headers = [*self.INFO, *[f"{i.label}\n({format_points(i.max_tenths)})" for i in self.scheme.items], "扣分",
                   "扣分原因", *self.RESULT]
        return headers[section] if section < len(headers) else ""


class AssessmentSheet(QTableView):
    """The monthly sheet view: spreadsheet keys on top of ``SheetModel``."""

    totals_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assessment_sheet")
        self.sheet_model = SheetModel(self)
        self.setModel(self.sheet_model)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AnyKeyPressed | QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        self.verticalHeader().setDefaultSectionSize(24)
        self.horizontalHeader().setMinimumSectionSize(40)
        self.sheet_model.dataChanged.connect(lambda *_a: self.totals_changed.emit())
        self.sheet_model.modelReset.connect(self.totals_changed.emit)

    # conveniences for the page and for tests
    @property
    def rows(self) -> list[SheetRow]:
        return self.sheet_model.rows

    @property
    def dirty(self) -> set[int]:
        return self.sheet_model.dirty

    def text(self, r: int, c: int) -> str:
        return self.sheet_model.text(r, c)

    def load(self, scheme: Scheme, rows: list[SheetRow], locked: bool) -> None:
        self.sheet_model.load(scheme, rows, locked)
        self.resizeColumnsToContents()
        self.setColumnWidth(self.sheet_model.deduction_col + 1, 170)
        if rows and not locked:
            self.setCurrentIndex(self.sheet_model.index(0, self.sheet_model.first_item))

    def find(self, text: str, *, after_current: bool = False) -> bool:
        """Go to the first row (after the current one with ``after_current``: the next match) whose 村, 网格, 姓名
        or 角色 holds ``text``. The rows never move or hide, so a block pasted from Excel still lands in the
        rows it was copied from. False: no row holds it."""
        wanted = text.strip().casefold()
        count = self.sheet_model.rowCount()
        if not wanted or not count:
            return False
        current = self.currentIndex()
        start = current.row() + 1 if after_current and current.isValid() else 0
        column = max(current.column(), self.sheet_model.first_item) if current.isValid() \
            else self.sheet_model.first_item
        for step in range(count):
            r = (start + step) % count
            if any(wanted in self.text(r, c).casefold() for c in range(self.sheet_model.first_item)):
                self.setCurrentIndex(self.sheet_model.index(r, column))
                self.scrollTo(self.currentIndex())
                return True
        return False

    def summary(self) -> tuple[int, int, int]:
        """(rows, rows complete, subsidy of the complete rows in 分) as on screen."""
        done = [s for s in self.sheet_model.subsidies if s is not None]
        return len(self.sheet_model.rows), len(done), sum(done)

    def dirty_entries(self) -> tuple[list[ScoreEntry], list[str]]:
        entries, problems = [], []
        model = self.sheet_model
        for r in sorted(model.dirty):
            entry, found = model.entry(r)
            entries.append(entry)
            problems += [f"{model.rows[r].name}：{p.message}" for p in found]
        return entries, problems

    # ----- spreadsheet keys ---------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste(QGuiApplication.clipboard().text())
            return
        editing = self.state() == QAbstractItemView.State.EditingState
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not editing:
            self.sheet_model.set_cells([(i.row(), i.column(), "") for i in self.selectedIndexes()])
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not editing:
            self._move_down()
            return
        super().keyPressEvent(event)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:  # noqa: N802
        super().closeEditor(editor, hint)
        if hint == QAbstractItemDelegate.EndEditHint.SubmitModelCache:  # Enter: like Excel, go down
            self._move_down()

    def _move_down(self) -> None:
        current = self.currentIndex()
        if current.isValid() and current.row() + 1 < self.sheet_model.rowCount():
            self.setCurrentIndex(self.sheet_model.index(current.row() + 1, current.column()))

    def paste(self, text: str) -> int:
        """Paste a block copied from Excel/WPS (tabs and newlines) at the current cell. Returns rows changed."""
        model = self.sheet_model
        if model.locked or not text:
            return 0
        lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
        current = self.currentIndex()
        r0 = max(current.row(), 0)
        c0 = max(current.column(), model.first_item)
        changes = [(r0 + dr, c0 + dc, value) for dr, line in enumerate(lines)
                   for dc, value in enumerate(line.split("\t"))]
        return model.set_cells(changes)
