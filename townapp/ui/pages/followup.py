"""整改跟踪: 定级 results turned into 整顿, 问题清单 and 调整建议, tracked to closure; overdue rows in red.

Two tabs: the items (filters, actions, the selected item's problems and history)
and the 头雁指数 建议调整名单 of a chosen round, each exportable to xlsx. The
service decides who may do what; buttons a role cannot use are only greyed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from townapp.core import permissions
from townapp.core.errors import DomainError
from townapp.followup.dto import ItemDetail, ItemRow
from townapp.followup.rules import IN_PROGRESS, KINDS, PROPOSED, STATUSES
from townapp.followup.service import FollowUpService
from townapp.followup.sheets import write_adjust_list, write_items
from townapp.ui.context import AppContext
from townapp.ui.forms.followup import (
    AcceptDialog,
    AddItemDialog,
    CloseDialog,
    ProblemsDialog,
    ProgressDialog,
    RejectDialog,
)
from townapp.ui.jobs import call_service
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.files import choose_save_file
from townapp.ui.widgets.tables import TableSearch, current_key, fill_table, select_key

TITLE = "整改跟踪"
XLSX_FILTER = "Excel 工作簿 (*.xlsx)"
OVERDUE_COLOUR = QColor("#c62828")
HEADERS = ("村/社区", "年度", "类别", "对象", "事项", "来源", "整改期限", "状态", "问题未销号/共", "逾期")
WIDTHS = (90, 50, 70, 110, 300, 220, 90, 70, 95, 45)
ADJUST_HEADERS = ("村/社区", "村党组织书记", "头雁指数得分", "评价等级", "列入原因", "跟踪状态")


def create_pages(ctx: AppContext) -> list[Page]:
    return [FollowUpPage(ctx)]


def _button(text: str, name: str, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(slot)
    return button


def _date(value: dt.date | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d}"


class FollowUpPage(Page):
    title = TITLE

    def __init__(self, ctx: AppContext, today: dt.date | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.today = today
        self.service = FollowUpService(ctx.db, ctx.actor)
        township = permissions.is_township_level(ctx.actor)
        self.rows: list[ItemRow] = []
        # ----- the items tab
        self.year = QSpinBox()
        self.year.setObjectName("year")
        self.year.setRange(2000, 2100)
        self.year.setValue((today or dt.date.today()).year - 1)
        self.all_years = QCheckBox("全部年度")
        self.all_years.setObjectName("all_years")
        self.all_years.setChecked(True)
        self.village = QComboBox()
        self.village.setObjectName("village")
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.status = QComboBox()
        self.status.setObjectName("status")
        for combo, values in ((self.kind, KINDS), (self.status, STATUSES)):
            combo.addItem("全部", None)
            for value in values:
                combo.addItem(value, value)
        self.only_overdue = QCheckBox("只看逾期")
        self.only_overdue.setObjectName("only_overdue")
        for widget in (self.village, self.kind, self.status):
            widget.currentIndexChanged.connect(self.reload)
        for box in (self.all_years, self.only_overdue):
            box.toggled.connect(self.reload)
        self.year.valueChanged.connect(self.reload)
        self.table = QTableWidget()
        self.table.setObjectName("items")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self.show_selected)  # the list the filters narrow
        filters = QHBoxLayout()
        for label, widget in (("年度", self.year), ("", self.all_years), ("村/社区", self.village),
                              ("类别", self.kind), ("状态", self.status), ("", self.only_overdue)):
            if label:
                filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        self.search = TableSearch(self.table, "搜索：村、对象、事项、来源等任意内容")
        self.search.setMinimumWidth(220)
        self.search.textChanged.connect(lambda _text: self._show_summary())
        filters.addWidget(self.search, 1)
        self.propose_button = _button("按评定结果生成拟办…", "propose", self.propose)
        self.propose_button.setToolTip("读取所选年度已定级的村党组织评星定级、头雁指数结果，按规则生成拟办事项；"
                                       "已有事项不会重复生成")
        self.actions = {
            "accept": _button("采纳…", "accept", lambda: self._with_item(AcceptDialog)),
            "reject": _button("不予采纳…", "reject", lambda: self._with_item(RejectDialog)),
            "progress": _button("填报进展…", "progress", lambda: self._with_item(ProgressDialog)),
            "problems": _button("修改问题清单…", "problems", lambda: self._with_item(ProblemsDialog)),
            "close": _button("办结…", "close", lambda: self._with_item(CloseDialog)),
        }
        self.add_button = _button("新增事项…", "add", self.add)
        bar = QHBoxLayout()
        bar.addWidget(self.propose_button)
        for button in self.actions.values():
            bar.addWidget(button)
        bar.addWidget(self.add_button)
        bar.addStretch(1)
        bar.addWidget(_button("导出 Excel…", "export_items", self.export_items))
        for button in (self.propose_button, self.add_button, self.actions["accept"], self.actions["reject"],
                       self.actions["problems"], self.actions["close"]):
            if not township:  # only hide: showing a button not yet in a layout opens it as a window of its own
                button.hide()
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.detail = QLabel("选中一项查看详情")
        self.detail.setObjectName("detail")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QTableWidget()
        self.problems.setObjectName("problem_list")
        lower = QWidget()
        lower_layout = QHBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.detail, 2)
        lower_layout.addWidget(self.problems, 3)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([420, 220])
        items_tab = QWidget()
        items_layout = QVBoxLayout(items_tab)
        items_layout.addLayout(filters)
        items_layout.addLayout(bar)
        items_layout.addWidget(self.summary)
        items_layout.addWidget(split, 1)
        # ----- the 头雁 tab
        self.round = QComboBox()
        self.round.setObjectName("goose_round")
        self.round.setMinimumWidth(320)
        self.round.currentIndexChanged.connect(self.show_adjust_list)
        self.adjust_note = QLabel()
        self.adjust_table = QTableWidget()
        self.adjust_table.setObjectName("adjust_list")
        goose_bar = QHBoxLayout()
        goose_bar.addWidget(QLabel("头雁指数评定"))
        goose_bar.addWidget(self.round)
        goose_bar.addWidget(self.adjust_note, 1)
        goose_bar.addWidget(_button("导出 Excel…", "export_adjust", self.export_adjust))
        goose_tab = QWidget()
        goose_layout = QVBoxLayout(goose_tab)
        goose_layout.addLayout(goose_bar)
        goose_layout.addWidget(QLabel("头雁指数低于调整线或触及负面清单的村党组织书记列入建议调整名单，由乡镇党委研究调整；"
                                      "定级后按规则转为“调整建议”事项跟踪。"))
        goose_layout.addWidget(self.adjust_table, 1)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(items_tab, "整改事项")
        self.tabs.addTab(goose_tab, "头雁建议调整名单")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._filled = False

    # ----- loading -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        if not self._filled:
            self.village.blockSignals(True)
            self.village.addItem("全部", None)
            for row in self.ctx.registry.villages():
                if permissions.may_read(self.ctx.actor, row.id):
                    self.village.addItem(row.name, row.id)
            self.village.blockSignals(False)
            self._filled = True
        self.reload()
        self._fill_rounds()

    def reload(self) -> None:
        try:
            self.rows = self.service.items(
                village_id=self.village.currentData(), kind=self.kind.currentData(),
                status=self.status.currentData(), year=None if self.all_years.isChecked() else self.year.value(),
                overdue=True if self.only_overdue.isChecked() else None, as_of=self.today)
        except DomainError as exc:
            self.show_error(exc)
            return
        self.year.setEnabled(not self.all_years.isChecked())
        picked = current_key(self.table) if self.table.selectedItems() else None
        self.table.blockSignals(True)
        fill_table(self.table, HEADERS, [
            (r.village, r.year, r.kind, r.subject, r.title, r.source, _date(r.deadline), r.status,
             f"{r.problems_open}/{r.problems_total}" if r.problems_total else "", "逾期" if r.overdue else "")
            for r in self.rows], keys=[r.id for r in self.rows], widths=WIDTHS, sortable=True, fit_last=True)
        red = QBrush(OVERDUE_COLOUR)
        for index, row in enumerate(self.rows):  # rows are still in the order given: fill_table sorts none
            if row.overdue:
                for column in range(len(HEADERS)):
                    self.table.item(index, column).setForeground(red)
        self.search.apply()
        if picked is not None:
            select_key(self.table, picked)  # an action's reload keeps the item the user worked on
        self.table.blockSignals(False)
        self._show_summary()
        self.show_selected()

    def _show_summary(self) -> None:
        late = sum(r.overdue for r in self.rows)
        waiting = sum(r.status == PROPOSED for r in self.rows)
        shown = self.search.shown_count()
        found = f"（搜索显示 {shown} 项）" if shown != len(self.rows) else ""
        self.summary.setText(f"共 {len(self.rows)} 项{found}，拟办 {waiting} 项，"
                             f"<span style='color:#c62828'>逾期 {late} 项</span>（红色）")

    def selected(self) -> ItemRow | None:
        """The item of the row the user picked, wherever a sort or search has put it."""
        if not self.table.selectedItems():
            return None
        key = current_key(self.table)
        return next((r for r in self.rows if r.id == key), None)

    def show_selected(self) -> None:
        row = self.selected()
        for name, button in self.actions.items():
            wanted = PROPOSED if name in ("accept", "reject") else IN_PROGRESS
            button.setEnabled(row is not None and row.status == wanted)
        if row is None:
            self.detail.setText("选中一项查看详情")
            fill_table(self.problems, ("问题", "整改期限", "状态", "销号日期"), [])
            return
        try:
            detail = self.service.item(row.id, as_of=self.today)
        except DomainError as exc:
            self.detail.setText(exc.message)
            return
        self._show_detail(detail)

    def _show_detail(self, detail: ItemDetail) -> None:
        lines = [f"<b>{detail.row.village}　{detail.row.title}</b>", detail.content]
        if detail.rectification_id:
            lines.append("已在一村一档建立软弱涣散认定记录（见“村档案”页的软弱涣散整顿）。")
        if detail.progress_note:
            lines.append(f"最新进展：{detail.progress_note}")
        if detail.result_note:
            lines.append(f"{'不予采纳理由' if detail.row.status == '不予采纳' else '整改结果'}：{detail.result_note}")
        lines.append("<br>".join(f"{h.at:%Y-%m-%d %H:%M}　{h.username}　{h.from_status or '—'} → {h.to_status}"
                                 f"{'　' + h.note if h.note else ''}" for h in detail.history))
        self.detail.setText("<br>".join(x for x in lines if x))
        today = self.today or dt.date.today()
        fill_table(self.problems, ("问题", "整改期限", "状态", "销号日期"), [
            (p.content, _date(p.deadline), p.status, _date(p.closed_on)) for p in detail.problems],
            widths=(300, 90, 70, 90))
        for index, p in enumerate(detail.problems):
            if p.status != "已销号" and p.deadline is not None and p.deadline < today:
                for column in range(4):
                    self.problems.item(index, column).setForeground(QBrush(OVERDUE_COLOUR))

    # ----- actions -----------------------------------------------------------------------------------
    def _with_item(self, dialog_type: type) -> None:
        row = self.selected()
        if row is None:
            self.show_error("请先选中一项")
            return
        try:
            detail = self.service.item(row.id)
        except DomainError as exc:
            self.show_error(exc)
            return
        if dialog_type(self.service, detail, self).exec() == QDialog.DialogCode.Accepted:
            self._changed()

    def _changed(self) -> None:
        self.reload()
        self.data_changed.emit()

    def propose(self) -> None:
        year = self.year.value()
        if not self.confirm(f"按{year}年已定级的评星定级、头雁指数结果生成拟办事项？已有事项不会重复生成。"):
            return
        call_service(self, lambda: self.service.propose(year), self._proposed, title="无法生成")

    def _proposed(self, report: object) -> None:
        QMessageBox.information(self, "已生成", report.describe())  # type: ignore[attr-defined]
        self._changed()

    def add(self) -> None:
        villages = [(self.village.itemText(i), self.village.itemData(i)) for i in range(1, self.village.count())]
        if AddItemDialog(self.service, villages, self.year.value() + 1, self).exec() == QDialog.DialogCode.Accepted:
            self._changed()

    def export_items(self) -> None:
        path = choose_save_file(self, "导出整改跟踪台账", self.ctx.settings, "整改跟踪台账.xlsx", XLSX_FILTER, ".xlsx")
        if path is None:
            return
        rows = list(self.rows)
        call_service(self, lambda: write_items(rows, path, as_of=self.today),
                     lambda out: announce_written(self, out, "整改跟踪台账", title="已导出",
                                                  detail=f"共 {len(rows)} 项", name="items_done"),
                     title="无法导出")

    # ----- 头雁 --------------------------------------------------------------------------------------
    def _fill_rounds(self) -> None:
        current = self.round.currentData()
        self.round.blockSignals(True)
        self.round.clear()
        try:
            choices = self.service.adjust_rounds()
        except DomainError:
            choices = []
        for choice in choices:
            state = "" if choice.final else "（未定级）"
            self.round.addItem(f"{choice.name}{state}　建议调整 {choice.flagged} 人", choice.id)
        self.round.setCurrentIndex(max(self.round.findData(current), 0))
        self.round.blockSignals(False)
        self.show_adjust_list()

    def show_adjust_list(self) -> None:
        round_id = self.round.currentData()
        if round_id is None:
            self.adjust_note.setText("还没有头雁指数评定")
            fill_table(self.adjust_table, ADJUST_HEADERS, [])
            return
        try:
            rows = self.service.adjust_list(round_id)
        except DomainError as exc:
            self.adjust_note.setText(exc.message)
            return
        self.adjust_note.setText(f"建议调整 {len(rows)} 人")
        fill_table(self.adjust_table, ADJUST_HEADERS, [
            (r.village, r.name, "" if r.measure is None else f"{r.measure.normalize():f}", r.level,
             r.reasons or "低于调整线", r.follow_up) for r in rows], widths=(100, 110, 100, 80, 360, 100),
            sortable=True)

    def export_adjust(self) -> None:
        round_id = self.round.currentData()
        if round_id is None:
            self.show_error("还没有头雁指数评定，没有可导出的名单")
            return
        path = choose_save_file(self, "导出建议调整名单", self.ctx.settings, "头雁指数建议调整名单.xlsx", XLSX_FILTER,
                                ".xlsx")
        if path is None:
            return
        call_service(self, lambda: write_adjust_list(self.service, round_id, path),
                     lambda out: announce_written(self, out, "建议调整名单", title="已导出", name="adjust_done"),
                     title="无法导出")
