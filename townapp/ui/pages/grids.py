"""网格化管理 pages: the grid tree beside its roster and households, coverage with a chart, the monthly sheet.

Everything is read through ``GridService`` as DTOs; role checks and the month
lock live in the service, so a refused action shows the service's message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from townapp.core.errors import DomainError
from townapp.core.idcard import mask_phone
from townapp.grids.dto import GridNode
from townapp.grids.printable import coverage_chart, write_subsidy_pdf, write_subsidy_xlsx, yuan_text
from townapp.grids.scheme import structure, vocab
from townapp.grids.service import GridService
from townapp.ui.context import AppContext
from townapp.ui.forms.grids import (
    AssessmentSheet,
    AssignDialog,
    GridDialog,
    MemberDialog,
    ReasonDialog,
    StarDialog,
)
from townapp.ui.jobs import call_service
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written, show_pdf
from townapp.ui.widgets.fields import ErrorLabel
from townapp.ui.widgets.tables import SortableItem, TableSearch, current_key, fill_table, pin_row_last

TREE_TITLE = "网格管理"
COVERAGE_TITLE = "网格覆盖"
MONTHLY_TITLE = "网格考核"


def create_pages(ctx: AppContext) -> list[Page]:
    service = GridService(ctx.db, ctx.actor)
    return [GridTreePage(ctx, service), GridCoveragePage(ctx, service), GridMonthPage(ctx, service)]


def _button(text: str, slot: Callable[[], object], name: str = "") -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(slot)
    return button


def _readonly_table(headers: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setDefaultSectionSize(24)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[object, ...]], numeric: set[int] = frozenset()) -> None:
    table.setSortingEnabled(False)  # rows go in the order given; a header click sorts numbers as numbers
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = SortableItem("" if value is None else str(value))
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def _village_combo(ctx: AppContext, combo: QComboBox) -> None:
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for row in ctx.registry.villages():
        combo.addItem(row.name, row.id)
    index = combo.findData(current)
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)


ROSTER_HEADERS = ("姓名", "角色", "专兼职", "任职日期", "离任日期", "联系电话")
HOUSEHOLD_HEADERS = ("户编号", "户主", "村民小组", "地址", "人数")


class GridTreePage(Page):
    """Left: the village's grid tree; right: the selected grid's roster and (for micro-grids) its households."""

    title = TREE_TITLE
    TREE_HEADERS = ("网格", "编码", "层级", "户数", "人数", "成员", "网格长")

    def __init__(self, ctx: AppContext, service: GridService) -> None:
        super().__init__()
        self.ctx, self.service = ctx, service
        self.village = QComboBox()
        self.village.setObjectName("village")
        self.tree = QTreeWidget()
        self.tree.setObjectName("grid_tree")
        self.tree.setHeaderLabels(list(self.TREE_HEADERS))
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.detail = QLabel()
        self.detail.setObjectName("grid_detail")
        self.detail.setWordWrap(True)
        self.roster = _readonly_table(ROSTER_HEADERS, "roster")
        self.households = _readonly_table(HOUSEHOLD_HEADERS, "grid_households")
        self.households.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.household_search = TableSearch(self.households, "搜索住户：户编号、户主、地址")
        self.household_group = self.household_search.add_choice(2, "全部村民小组")
        self.household_count = QLabel()
        self.household_search.textChanged.connect(lambda _t: self._count_households())
        self.household_group.currentIndexChanged.connect(lambda _i: self._count_households())
        self.message = ErrorLabel()
        left_buttons = QHBoxLayout()
        self.add_button = _button("新增网格", self.add_grid, "add_grid")
        self.add_child_button = _button("新增下级", self.add_child, "add_child")
        self.edit_button = _button("编辑/调整上级", self.edit_grid, "edit_grid")
        self.retire_button = _button("撤销", self.retire_grid, "retire_grid")
        self.history_button = _button("变更历史", self.show_history, "grid_history")
        for b in (self.add_button, self.add_child_button, self.edit_button, self.retire_button, self.history_button):
            left_buttons.addWidget(b)
        left_buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        top = QHBoxLayout()
        top.addWidget(QLabel("村/社区："))
        top.addWidget(self.village, 1)
        left_layout.addLayout(top)
        left_layout.addWidget(self.tree, 1)
        left_layout.addLayout(left_buttons)
        roster_buttons = QHBoxLayout()
        self.add_member_button = _button("添加成员", self.add_member, "add_member")
        self.end_member_button = _button("离任", self.end_member, "end_member")
        roster_buttons.addWidget(self.add_member_button)
        roster_buttons.addWidget(self.end_member_button)
        roster_buttons.addStretch(1)
        household_buttons = QHBoxLayout()
        self.assign_button = _button("划入住户…", self.assign, "assign_households")
        self.unassign_button = _button("移出选中住户", self.unassign, "unassign_households")
        household_buttons.addWidget(self.assign_button)
        household_buttons.addWidget(self.unassign_button)
        household_buttons.addStretch(1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.detail)
        right_layout.addWidget(QLabel("在任成员："))
        right_layout.addWidget(self.roster, 2)
        right_layout.addLayout(roster_buttons)
        right_layout.addWidget(QLabel("本网格住户（微网格为直接划入的住户，上级网格为其下全部住户）："))
        household_filters = QHBoxLayout()
        household_filters.addWidget(self.household_search, 1)
        household_filters.addWidget(self.household_group)
        household_filters.addWidget(self.household_count)
        right_layout.addLayout(household_filters)
        right_layout.addWidget(self.households, 3)
        right_layout.addLayout(household_buttons)
        right_layout.addWidget(self.message)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 4)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.nodes: dict[int, GridNode] = {}
        self.items: dict[int, QTreeWidgetItem] = {}
        self.roster_rows = []
        self.household_rows = []
        self.village.currentIndexChanged.connect(lambda _i: self.reload())
        self.tree.currentItemChanged.connect(lambda _c, _p: self.show_grid())

    # ----- loading --------------------------------------------------------------------------
    def refresh(self) -> None:
        _village_combo(self.ctx, self.village)
        self.reload()

    def village_id(self) -> int | None:
        return self.village.currentData()

    def select_village(self, village_id: int) -> None:
        self.village.setCurrentIndex(max(self.village.findData(village_id), 0))

    def reload(self, keep: int | None = None) -> None:
        keep = keep if keep is not None else self.current_id()
        self.tree.clear()
        self.nodes, self.items = {}, {}
        vid = self.village_id()
        if vid is None:
            self.show_grid()
            return
        for node in self.service.tree(vid):
            self.nodes[node.id] = node
            values = (node.name + ("（已撤销）" if not node.active else ""), node.code, node.level, node.households,
                      node.people, node.members, node.head or ("—" if node.level in structure().head_required_levels
                                                                 else ""))
            item = QTreeWidgetItem([str(v) for v in values])
            item.setData(0, Qt.ItemDataRole.UserRole, node.id)
            for c in (3, 4, 5):
                item.setTextAlignment(c, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not node.active:
                for c in range(len(values)):
                    item.setForeground(c, Qt.GlobalColor.gray)
            parent = self.items.get(node.parent_id) if node.parent_id else None
            (parent.addChild(item) if parent else self.tree.addTopLevelItem(item))
            self.items[node.id] = item
        self.tree.expandAll()
        for c in range(len(self.TREE_HEADERS)):
            self.tree.resizeColumnToContents(c)
        if keep in self.items:
            self.tree.setCurrentItem(self.items[keep])
        elif self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.show_grid()

    def current_id(self) -> int | None:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item else None

    def current(self) -> GridNode | None:
        gid = self.current_id()
        return self.nodes.get(gid) if gid is not None else None

    def select_grid(self, grid_id: int) -> None:
        if grid_id in self.items:
            self.tree.setCurrentItem(self.items[grid_id])

    def show_grid(self) -> None:
        node = self.current()
        micro = node is not None and node.level == structure().household_level
        for b in (self.edit_button, self.retire_button, self.history_button, self.add_member_button,
                  self.end_member_button, self.add_child_button):
            b.setEnabled(node is not None and node.active)
        self.history_button.setEnabled(node is not None)
        self.assign_button.setEnabled(micro and node.active)
        self.unassign_button.setEnabled(micro)
        if node is None:
            self.detail.setText("本村还没有网格。点击“新增网格”开始划分。")
            _fill(self.roster, [])
            _fill(self.households, [])
            self.household_search.apply()
            self._count_households()
            return
        self.detail.setText(f"<b>{node.name}</b>（{node.level}，编码 {node.code}）　{node.households} 户 {node.people} 人"
                            f"<br>四至范围：{node.scope or '未填'}　网格党组织：{node.party_group or '未关联'}"
                            + ("" if node.active else f"<br>已于 {node.retired_on} 撤销"))
        self.roster_rows = self.service.roster(node.id)
        fill_table(self.roster, ROSTER_HEADERS,
                   [(r.name, r.role, r.duty, r.started_on, r.ended_on or "", mask_phone(r.phone))
                    for r in self.roster_rows], keys=[r.id for r in self.roster_rows], sortable=True)
        self.roster.resizeColumnsToContents()
        ids = [node.id] + ([] if micro else self._descendants(node.id))
        rows = []
        for gid in ids:
            if self.nodes[gid].level == structure().household_level:
                rows += self.service.households(node.village_id, grid_id=gid)
        self.household_rows = rows
        fill_table(self.households, HOUSEHOLD_HEADERS, [(h.number, h.head, h.group, h.address, h.people) for h in rows],
                   keys=[h.id for h in rows], sortable=True)
        for r in range(self.households.rowCount()):
            self.households.item(r, 4).setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.households.resizeColumnsToContents()
        self.household_search.apply()
        self._count_households()

    def _count_households(self) -> None:
        shown, total = self.household_search.shown_count(), self.households.rowCount()
        self.household_count.setText(f"显示 {shown} / 共 {total} 户" if shown != total else f"共 {total} 户")

    def _descendants(self, grid_id: int) -> list[int]:
        out = []
        for node in self.nodes.values():
            if node.parent_id == grid_id:
                out += [node.id, *self._descendants(node.id)]
        return out

    # ----- actions ----------------------------------------------------------------------------
    def _after_change(self, keep: int | None = None, text: str = "") -> None:
        self.reload(keep)
        self.message.show_hint(text)
        self.data_changed.emit()

    def add_grid(self, parent_id: int | None = None) -> None:
        vid = self.village_id()
        if vid is None:
            self.show_error("请先在“村/社区”中登记村/社区")
            return
        dialog = GridDialog(self.service, vid, parent_id=parent_id, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._after_change(dialog.saved_id, "网格已保存")

    def add_child(self) -> None:
        node = self.current()
        self.add_grid(node.id if node else None)

    def edit_grid(self) -> None:
        node = self.current()
        if node is None:
            return
        dialog = GridDialog(self.service, node.village_id, node, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._after_change(node.id, "网格已保存")

    def retire_grid(self) -> None:
        node = self.current()
        if node is None:
            return
        dialog = ReasonDialog("撤销网格", f"撤销“{node.name}”：网格和它的历史会保留，在任成员同日离任。请填写原因：", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason = dialog.reason.text()
        call_service(self, lambda: self.service.retire_grid(node.id, dt.date.today(), reason),
                     lambda _r: self._after_change(node.id, f"“{node.name}”已撤销"), self.show_error)

    def show_history(self) -> None:
        node = self.current()
        if node is None:
            return
        lines = [f"{h.changed_on}　{h.kind}　{h.detail or ''}（{h.username}）" for h in self.service.history(node.id)]
        past = [r for r in self.service.roster(node.id, include_past=True) if r.ended_on is not None]
        lines += [f"{r.ended_on}　成员离任　{r.name}（{r.role}，{r.started_on} 起）" for r in past]
        self.message.show_hint("\n".join(lines) or "没有变更记录")

    def add_member(self) -> None:
        node = self.current()
        if node is None:
            return
        dialog = MemberDialog(self.service, node, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._after_change(node.id, "成员已添加")

    def end_member(self) -> None:
        key = current_key(self.roster) if self.roster.selectedItems() else None
        member = next((r for r in self.roster_rows if r.id == key), None)
        if member is None:
            self.show_error("请先选中一名成员")
            return
        if not self.confirm(f"{member.name} 自今日起不再担任{member.role}？（任职记录会保留）"):
            return
        call_service(self, lambda: self.service.end_member(member.id),
                     lambda _r: self._after_change(member.grid_id, f"{member.name} 已离任"), self.show_error)

    def assign(self) -> None:
        node = self.current()
        if node is None:
            return
        dialog = AssignDialog(self.service, node.village_id, node.id, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._after_change(node.id, dialog.result_text)

    def unassign(self) -> None:
        rows = sorted({i.row() for i in self.households.selectedIndexes()})  # picked rows, wherever sorted
        ids = [self.households.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows
               if not self.households.isRowHidden(r)]
        if not ids or not self.confirm(f"把选中的 {len(ids)} 户移出本微网格？（划入历史会保留）"):
            return
        call_service(self, lambda: self.service.unassign(ids),
                     lambda _r: self._after_change(self.current_id(), f"{len(ids)} 户已移出"), self.show_error)


class GridCoveragePage(Page):
    """Coverage per village and for the township, with a chart and the gaps spelled out."""

    title = COVERAGE_TITLE

    def __init__(self, ctx: AppContext, service: GridService) -> None:
        super().__init__()
        self.ctx, self.service = ctx, service
        roles = vocab("role").values
        self.headers = ("村/社区", "住户", "已划入", "未划入", "覆盖率", "网格", "辅助网格", "微网格", "无成员网格",
                        "无网格长网格", *roles)
        self.table = _readonly_table(self.headers, "coverage")
        self.figure = Figure(figsize=(7.5, 3.2), dpi=100)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(260)
        self.gaps = QLabel()
        self.gaps.setObjectName("coverage_gaps")
        self.gaps.setWordWrap(True)
        self.gaps.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        save_chart = _button("图表另存为图片…", self.save_chart, "save_chart")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.canvas, 3)
        row = QHBoxLayout()
        row.addWidget(self.gaps, 1)
        row.addWidget(save_chart, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row, 1)
        self.report = None

    def refresh(self) -> None:
        self.report = self.service.coverage()
        roles = vocab("role").values
        rows = []
        for cov in [*self.report.villages, self.report.township]:
            rows.append((cov.name, cov.households, cov.assigned, cov.unassigned, f"{cov.rate_permille / 10:.1f}%",
                         cov.grids.get("网格", 0), cov.grids.get("辅助网格", 0), cov.grids.get("微网格", 0),
                         len(cov.grids_without_member), len(cov.grids_without_head),
                         *[cov.members_by_role.get(r, 0) for r in roles]))
        _fill(self.table, rows, set(range(1, len(self.headers))))
        last = self.table.rowCount() - 1
        for c in range(self.table.columnCount()):
            item = self.table.item(last, c)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        pin_row_last(self.table, last)  # the township's 合计 stays at the bottom whichever header is clicked
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorClearable(True)
        self.table.resizeColumnsToContents()
        coverage_chart(self.report, self.figure)
        self.canvas.draw_idle()
        warnings = self.service.warnings()
        self.gaps.setText("\n".join(warnings[:20]) + (f"\n……共 {len(warnings)} 条" if len(warnings) > 20 else "")
                          if warnings else "全部住户均已划入微网格，每个网格都有在任成员和网格长。")
        self.gaps.setStyleSheet("color: #b26a00;" if warnings else "")

    def save_chart(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "保存图表", "网格覆盖率.png", "PNG 图片 (*.png)")
        if path:
            self.figure.savefig(path, dpi=150)
            announce_written(self, path, "网格覆盖率图表", title="已保存", name="chart_done")


class GridMonthPage(Page):
    """网格员月度考核: the spreadsheet, the workflow buttons, the subsidy list and 最美网格员."""

    title = MONTHLY_TITLE

    def __init__(self, ctx: AppContext, service: GridService) -> None:
        super().__init__()
        self.ctx, self.service = ctx, service
        today = dt.date.today()
        self.year = QSpinBox()
        self.year.setObjectName("year")
        self.year.setRange(2000, 2100)
        self.year.setValue(today.year)
        self.month = QSpinBox()
        self.month.setObjectName("month")
        self.month.setRange(1, 12)
        self.month.setValue(today.month)
        self.village = QComboBox()
        self.village.setObjectName("village_filter")
        self.state = QLabel()
        self.state.setObjectName("month_state")
        self.sheet = AssessmentSheet()
        self.summary = QLabel()
        self.summary.setObjectName("sheet_summary")
        self.message = ErrorLabel()
        self.message.setObjectName("sheet_message")
        top = QHBoxLayout()
        for label, widget in (("年份：", self.year), ("月份：", self.month), ("村/社区：", self.village)):
            top.addWidget(QLabel(label))
            top.addWidget(widget)
        top.addWidget(self.state, 1)
        self.find_box = QLineEdit()
        self.find_box.setObjectName("sheet_find")
        self.find_box.setPlaceholderText("查找：姓名或网格（回车找下一个）")
        self.find_box.setClearButtonEnabled(True)
        self.find_box.setMinimumWidth(230)
        self.find_missing = QLabel()
        self.find_missing.setObjectName("sheet_find_missing")
        self.find_missing.setMinimumWidth(60)  # the row keeps its place whether or not 未找到 shows
        self.find_box.textChanged.connect(lambda text: self._find(text, after_current=False))
        self.find_box.returnPressed.connect(lambda: self._find(self.find_box.text(), after_current=True))
        top.addWidget(self.find_box)
        top.addWidget(self.find_missing)
        self.save_button = _button("保存 (Ctrl+S)", self.save, "save_scores")
        self.submit_button = _button("提交审批", self.submit, "submit_month")
        self.approve_button = _button("审批并锁定", self.approve, "approve_month")
        self.unlock_button = _button("解锁…", self.unlock, "unlock_month")
        self.relock_button = _button("重新锁定…", self.relock, "relock_month")
        self.star_button = _button("最美网格员…", self.stars, "stars")
        self.xlsx_button = _button("导出补助发放表…", self.export_xlsx, "export_subsidy")
        self.pdf_button = _button("打印补助发放表(PDF)…", self.export_pdf, "print_subsidy")
        buttons = QHBoxLayout()
        for b in (self.save_button, self.submit_button, self.approve_button, self.unlock_button, self.relock_button,
                  self.star_button, self.xlsx_button, self.pdf_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("直接输入得分（回车下移、Tab右移），可从Excel复制一列或一块后选中起始格按 Ctrl+V 粘贴；"
                                "有扣分须写原因。总分、排名和补助随输入即时计算。"))
        layout.addWidget(self.sheet, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)
        self.year.valueChanged.connect(lambda _v: self.reload())
        self.month.valueChanged.connect(lambda _v: self.reload())
        self.village.currentIndexChanged.connect(lambda _i: self.reload())
        self.sheet.totals_changed.connect(self._summarise)

    def refresh(self) -> None:
        current = self.village.currentData()
        self.village.blockSignals(True)
        self.village.clear()
        self.village.addItem("全部", None)
        for row in self.ctx.registry.villages():
            self.village.addItem(row.name, row.id)
        self.village.setCurrentIndex(max(self.village.findData(current), 0))
        self.village.blockSignals(False)
        self.reload()

    def set_month(self, year: int, month: int) -> None:
        self.year.blockSignals(True)
        self.year.setValue(year)
        self.year.blockSignals(False)
        self.month.setValue(month)
        self.reload()

    def reload(self) -> None:
        year, month = self.year.value(), self.month.value()
        try:
            sheet = self.service.month_sheet(year, month, self.village.currentData())
            scheme = self.service.month_scheme(year, month)
        except DomainError as exc:
            self.message.show_problems([])
            self.state.setText(exc.message)
            return
        st = sheet.state
        self.sheet.load(scheme, sheet.rows, st.locked)
        detail = {"草稿": "录入中", "待审批": f"已由 {st.submitted_by} 提交，等待另一人审批",
                  "已审批": f"已由 {st.approved_by} 审批，已锁定", "已解锁": f"已由 {st.unlocked_by} 解锁更正中"}
        self.state.setText(f"{st.label}：{st.status}（{detail.get(st.status, '')}）")
        self.state.setStyleSheet("color: #2e7d32; font-weight: bold;" if st.locked else "font-weight: bold;")
        editable = not st.locked
        self.save_button.setEnabled(editable)
        self.submit_button.setEnabled(editable and st.status != "待审批")
        self.approve_button.setEnabled(st.status == "待审批")
        self.unlock_button.setEnabled(st.locked)
        self.relock_button.setEnabled(st.status == "已解锁")
        self.star_button.setEnabled(st.locked)
        self.xlsx_button.setEnabled(st.locked)
        self.pdf_button.setEnabled(st.locked)
        self.message.show_problems([])

    def _find(self, text: str, *, after_current: bool) -> None:
        found = self.sheet.find(text, after_current=after_current) if text.strip() else True
        self.find_missing.setText("" if found else "未找到")
        self.find_missing.setStyleSheet("" if found else "color: #c62828;")

    def _summarise(self) -> None:
        rows, done, money = self.sheet.summary()
        self.summary.setText(f"共 {rows} 人，已录完 {done} 人，补助合计 {yuan_text(money)} 元"
                             + ("" if rows == done else f"（另有 {rows - done} 人未录完）"))

    def _run(self, action: Callable[[], object], done: str, then: Callable[[], None] | None = None) -> None:
        """One service write (waiting visibly while another writer holds the database), then reload and go on."""
        def finished(_result: object) -> None:
            self.reload()
            self.message.show_hint(done)
            self.data_changed.emit()
            if then is not None:
                then()

        call_service(self, action, finished, self.show_error)

    def save(self) -> bool:
        """False when the sheet has unreadable cells; else the scores are sent (the outcome is shown)."""
        return self._save_scores(None)

    def _save_scores(self, then: Callable[[], None] | None) -> bool:
        entries, problems = self.sheet.dirty_entries()
        if problems:
            self.message.show_problems([])
            self.message.setStyleSheet("color: #c62828;")
            self.message.setText("\n".join(problems[:10]))
            self.message.show()
            return False
        if not entries:
            self.message.show_hint("没有改动需要保存")
            if then is not None:
                then()
            return True
        year, month = self.year.value(), self.month.value()
        self._run(lambda: self.service.save_scores(year, month, entries), f"已保存 {len(entries)} 人的得分", then)
        return True

    def _saved_first(self, then: Callable[[], None]) -> None:
        if self.sheet.dirty:
            self._save_scores(then)
        else:
            then()

    def submit(self) -> None:
        year, month = self.year.value(), self.month.value()
        self._saved_first(lambda: self._run(lambda: self.service.submit_month(year, month),
                                            "已提交审批：请由另一人审批"))

    def approve(self) -> None:
        year, month = self.year.value(), self.month.value()
        if self.confirm(f"审批 {year}年{month}月 的网格员考核？审批后补助金额确定，本月锁定。"):
            self._run(lambda: self.service.approve_month(year, month), "已审批并锁定")

    def unlock(self) -> None:
        dialog = ReasonDialog("解锁考核", "解锁后可更正得分，须由另一人重新锁定。请填写解锁原因（记入操作日志）：", self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            year, month, reason = self.year.value(), self.month.value(), dialog.reason.text()
            self._run(lambda: self.service.unlock_month(year, month, reason), "已解锁")

    def relock(self) -> None:
        self._saved_first(self._ask_relock)

    def _ask_relock(self) -> None:
        dialog = ReasonDialog("重新锁定", "请说明更正了什么（记入操作日志）：", self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            year, month, reason = self.year.value(), self.month.value(), dialog.reason.text()
            self._run(lambda: self.service.relock_month(year, month, reason), "已重新锁定")

    def stars(self) -> None:
        StarDialog(self.service, self.year.value(), self.month.value(), self).exec()
        self.reload()

    def _target(self, suffix: str, kind: str) -> Path | None:
        year, month = self.year.value(), self.month.value()
        path, _ = QFileDialog.getSaveFileName(self, "保存补助发放表", f"网格员补助发放表{year}年{month}月{suffix}", kind)
        return Path(path) if path else None

    def export_xlsx(self) -> Path | None:
        target = self._target(".xlsx", "Excel 工作簿 (*.xlsx)")
        if target is None:
            return None
        try:
            lst = self.service.subsidy_list(self.year.value(), self.month.value(), self.village.currentData())
            write_subsidy_xlsx(lst, target)
        except DomainError as exc:
            self.show_error(exc)
            return None
        self.message.show_hint(f"已导出 {len(lst.rows)} 人，合计 {yuan_text(lst.total)} 元：{target}")
        announce_written(self, target, "网格员补助发放表", title="已导出",
                         detail=f"共 {len(lst.rows)} 人，合计 {yuan_text(lst.total)} 元", name="subsidy_done")
        return target

    def export_pdf(self) -> Path | None:
        target = self._target(".pdf", "PDF 文件 (*.pdf)")
        if target is None:
            return None
        try:
            write_subsidy_pdf(self.service.subsidy_list(self.year.value(), self.month.value(),
                                                        self.village.currentData()), target)
        except DomainError as exc:
            self.show_error(exc)
            return None
        self.message.show_hint(f"已生成PDF：{target}")
        show_pdf(self, target)
        announce_written(self, target, "网格员补助发放表PDF", title="已生成", name="subsidy_done")
        return target

