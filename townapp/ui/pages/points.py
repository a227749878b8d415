"""党员积分 and 积分超市 pages.

党员积分 has one tab per job: 录入 (built for speed: pick a rule, tick many
members, Ctrl+Enter; or a meeting's attendance in one step), 审核 (村审 and
乡镇审 queues, approve or reject with a reason in bulk), 公示 (post, export PDF
and xlsx, make effective), 积分卡 (a member's records, totals, grade, balance,
history chart; reverse or resubmit), 汇总 (per village, the distribution chart,
workbooks; the ranking only when asked for) and 规则 (the year's rule set).
积分超市 has the goods, redemption by scanning an ID card or searching, and receipts.
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
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from townapp.archives.service import ArchiveService
from townapp.core.dates import DateParseError
from townapp.core.errors import DomainError
from townapp.points.dto import EntryInput, MemberCard, RecordRow
from townapp.points.printable import (
    distribution_figure,
    history_figure,
    write_detail_workbook,
    write_publicity_pdf,
    write_publicity_xlsx,
    write_receipt_pdf,
    write_summary_workbook,
)
from townapp.points.rules import format_points, settings
from townapp.points.service import PointsService, rule_rows
from townapp.points.sheets import import_records, write_record_template
from townapp.ui.context import AppContext
from townapp.ui.forms.points import (
    ItemDialog,
    MeetingDialog,
    ReasonDialog,
    ResubmitDialog,
    RulesDialog,
)
from townapp.ui.pages.base import Page
from townapp.ui.widgets.fields import DateField, ErrorLabel
from townapp.ui.widgets.tables import checked_keys, fill_table, set_all_checked

RANKING_KEY = "points_show_ranking"
FOLDER_KEY = "points_folder"


def create_pages(ctx: AppContext) -> list[Page]:
    return [PointsPage(ctx), StorePage(ctx)]


def _villages(ctx: AppContext) -> list[tuple[int, str]]:
    return [(v.id, v.name) for v in ctx.registry.villages()]


def _village_combo(ctx: AppContext, *, everyone: bool = True) -> QComboBox:
    combo = QComboBox()
    villages = _villages(ctx)
    if everyone and len(villages) != 1:
        combo.addItem("全部村/社区", None)
    for vid, name in villages:
        combo.addItem(name, vid)
    return combo


def _year_combo(service: PointsService, default: int) -> QComboBox:
    combo = QComboBox()
    years = sorted({default, dt.date.today().year, *(r.year for r in service.rule_sets())}, reverse=True)
    for year in years:
        combo.addItem(f"{year}年", year)
    combo.setCurrentIndex(combo.findData(default))
    return combo


def _record_cells(r: RecordRow) -> list[str]:
    return [r.village, r.name, f"{r.occurred_on:%Y-%m-%d}", f"{r.rule_code} {r.rule_name}",
            format_points(r.points, signed=True), r.note, r.evidence, r.status,
            f"第{r.resubmissions + 1}次提交" if r.resubmissions else ""]


class _Tab(QWidget):
    """A tab of the points page: shares the page's service and reports errors and changes through it."""

    def __init__(self, page: PointsPage) -> None:
        super().__init__()
        self.page = page
        self.ctx = page.ctx
        self.service = page.service

    def refresh(self) -> None:
        """Re-read what the tab shows."""


# ----- 录入 -----------------------------------------------------------------------------------------
class EntryTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.date = DateField()
        self.date.set_date(dt.date.today())
        self.date.setObjectName("entry_date")
        self.rule = QComboBox()
        self.rule.setEditable(True)
        self.rule.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.rule.setMinimumWidth(360)
        self.rule.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.rule.completer().setCompletionMode(self.rule.completer().CompletionMode.PopupCompletion)
        self.rule_hint = QLabel()
        self.rule_hint.setStyleSheet("color:#555")
        self.rule_hint.setWordWrap(True)
        self.points = QLineEdit()
        self.points.setObjectName("entry_points")
        self.points.setMaximumWidth(90)
        self.note = QLineEdit()
        self.note.setPlaceholderText("如：清扫村内主干道")
        self.evidence = QLineEdit()
        self.evidence.setPlaceholderText("照片、签到表、文件等（规则要求时必填）")
        self.village = _village_combo(self.ctx)
        self.search = QLineEdit()
        self.search.setObjectName("member_search")
        self.search.setPlaceholderText("姓名、拼音首字母或身份证尾号；回车勾选第一个")
        self.members = QListWidget()
        self.members.setObjectName("members")
        self.picked = QLabel("已选 0 人")
        self.error = ErrorLabel()
        self.done = QLabel()
        self.done.setStyleSheet("color:#2e7d32")
        submit = QPushButton("提交（Ctrl+Enter）")
        submit.setObjectName("submit")
        submit.clicked.connect(self.submit)
        meeting = QPushButton("从会议记录生成…")
        meeting.setObjectName("from_meeting")
        meeting.clicked.connect(self.from_meeting)
        select_all = QPushButton("全选所列")
        select_all.clicked.connect(lambda: self._check_all(True))
        clear = QPushButton("清空")
        clear.clicked.connect(lambda: self._check_all(False))

        form = QFormLayout()
        form.addRow("发生日期", self.date)
        form.addRow("积分规则", self.rule)
        form.addRow("", self.rule_hint)
        form.addRow("分值", self.points)
        form.addRow("事项说明", self.note)
        form.addRow("佐证材料", self.evidence)
        left = QGroupBox("1. 选择规则")
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(form)
        left_layout.addStretch(1)
        left_layout.addWidget(meeting)
        right = QGroupBox("2. 勾选党员（可多选）")
        right_layout = QVBoxLayout(right)
        filters = QHBoxLayout()
        filters.addWidget(self.village)
        filters.addWidget(self.search, 1)
        right_layout.addLayout(filters)
        right_layout.addWidget(self.members, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(select_all)
        buttons.addWidget(clear)
        buttons.addStretch(1)
        buttons.addWidget(self.picked)
        right_layout.addLayout(buttons)
        panes = QHBoxLayout()
        panes.addWidget(left, 1)
        panes.addWidget(right, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.done, 1)
        bottom.addWidget(submit)
        layout = QVBoxLayout(self)
        layout.addLayout(panes, 1)
        layout.addWidget(self.error)
        layout.addLayout(bottom)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.submit)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.submit)

        self.rule.currentIndexChanged.connect(self._rule_changed)
        self.date.editingFinished.connect(self.load_rules)
        self.village.currentIndexChanged.connect(self.load_members)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._check_first)
        self.members.itemChanged.connect(self._count)
        self.load_rules()
        self.load_members()

    def _year(self) -> int:
        try:
            return (self.date.date() or dt.date.today()).year
        except DateParseError:
            return dt.date.today().year

    def load_rules(self) -> None:
        current = self.rule.currentData()
        self.rule.blockSignals(True)
        self.rule.clear()
        self.rows = {r.code: r for r in self.service.rules(self._year())}
        for r in self.rows.values():
            sign = "+" if r.direction == "加分" else "-"
            self.rule.addItem(f"{r.code} {r.name}（{sign}{r.points_text}）", r.code)
        self.rule.blockSignals(False)
        self.rule.setCurrentIndex(max(self.rule.findData(current), 0))
        self._rule_changed()

    def _rule_changed(self) -> None:
        r = self.rows.get(self.rule.currentData())
        if r is None:
            return
        parts = [r.category_path, f"{r.direction}{r.points_text}分", r.caps_text, r.category_cap_text,
                 f"{r.review}审核", f"适用：{r.applies_to}", "须佐证" if r.evidence else ""]
        self.rule_hint.setText("　".join(x for x in parts if x))
        self.points.setText(r.points_text if r.fixed_tenths is not None else "")
        self.points.setReadOnly(r.fixed_tenths is not None)
        self.points.setPlaceholderText("固定分值" if r.fixed_tenths is not None else f"{r.points_text}分之间")

    def load_members(self) -> None:
        checked = set(self.checked())
        self.members.blockSignals(True)
        self.members.clear()
        for m in self.service.members(self.village.currentData()):
            item = QListWidgetItem(f"{m.name}　{m.village}　{m.category}　{m.id_tail[-4:]}")
            item.setData(Qt.ItemDataRole.UserRole, m.party_member_id)
            item.setData(Qt.ItemDataRole.UserRole + 1, m.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if m.party_member_id in checked else Qt.CheckState.Unchecked)
            self.members.addItem(item)
        self.members.blockSignals(False)
        self._filter(self.search.text())
        self._count()

    def _filter(self, text: str) -> None:
        wanted = None
        if text.strip():
            wanted = {m.party_member_id for m in self.service.members(self.village.currentData(), text)}
        for index in range(self.members.count()):
            item = self.members.item(index)
            item.setHidden(wanted is not None and item.data(Qt.ItemDataRole.UserRole) not in wanted)

    def _check_first(self) -> None:
        for index in range(self.members.count()):
            item = self.members.item(index)
            if not item.isHidden():
                item.setCheckState(Qt.CheckState.Checked)
                break
        self.search.clear()

    def _check_all(self, checked: bool) -> None:
        for index in range(self.members.count()):
            item = self.members.item(index)
            if not item.isHidden() or not checked:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def checked(self) -> list[int]:
        return [self.members.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.members.count())
                if self.members.item(i).checkState() == Qt.CheckState.Checked]

    def check_member(self, member_id: int) -> None:
        for index in range(self.members.count()):
            item = self.members.item(index)
            if item.data(Qt.ItemDataRole.UserRole) == member_id:
                item.setCheckState(Qt.CheckState.Checked)

    def _count(self, *_args: object) -> None:
        self.picked.setText(f"已选 {len(self.checked())} 人")

    def submit(self) -> None:
        try:
            day = self.date.date()
        except DateParseError as exc:
            self.error.show_problems([])
            self.error.setText(str(exc))
            self.error.show()
            return
        r = self.rows.get(self.rule.currentData())
        points = None if r is not None and r.fixed_tenths is not None else self.points.text()
        data = EntryInput(self.rule.currentData() or "", day, self.checked(), points, self.note.text(),
                          self.evidence.text())
        try:
            ids = self.service.add_records(data)
        except DomainError as exc:
            self.error.show_problems(getattr(exc, "problems", None) or [])
            if not getattr(exc, "problems", None):
                self.error.setText(exc.message)
                self.error.show()
            return
        self.error.show_problems([])
        self.done.setText(f"已提交 {len(ids)} 条“{r.name if r else ''}”记录，等待村审")
        self._check_all(False)
        self.note.clear()
        self.evidence.clear()
        self.page.data_changed.emit()

    def from_meeting(self) -> None:
        dialog = MeetingDialog(self.service, ArchiveService(self.ctx.db, self.ctx.actor), _villages(self.ctx), self,
                               self.village.currentData())
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.created:
            self.done.setText(f"已从会议记录生成 {len(dialog.created)} 条积分记录，等待村审")
            self.page.data_changed.emit()


# ----- 审核 -----------------------------------------------------------------------------------------
class ReviewTab(_Tab):
    HEADERS = ("选择", "村/社区", "姓名", "日期", "积分事项", "分值", "说明", "佐证", "状态", "提交")

    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.stage = QComboBox()
        self.stage.addItem("村审（待村审）", "村审")
        self.stage.addItem("乡镇审（待乡镇审）", "乡镇审")
        self.village = _village_combo(self.ctx)
        self.table = QTableWidget()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.count = QLabel()
        all_button = QPushButton("全选")
        all_button.clicked.connect(lambda: set_all_checked(self.table))
        approve = QPushButton("通过所选")
        approve.setObjectName("approve")
        approve.clicked.connect(self.approve)
        reject = QPushButton("驳回所选…")
        reject.setObjectName("reject")
        reject.clicked.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(QLabel("审核环节"))
        top.addWidget(self.stage)
        top.addWidget(self.village)
        top.addStretch(1)
        top.addWidget(self.count)
        buttons = QHBoxLayout()
        buttons.addWidget(all_button)
        buttons.addStretch(1)
        buttons.addWidget(reject)
        buttons.addWidget(approve)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.stage.currentIndexChanged.connect(self.refresh)
        self.village.currentIndexChanged.connect(self.refresh)

    def refresh(self) -> None:
        rows = self.service.queue(self.stage.currentData(), self.village.currentData())
        fill_table(self.table, self.HEADERS, [["", *_record_cells(r)] for r in rows], checkable=True,
                   keys=[r.id for r in rows], widths=(40, 90, 70, 86, 240, 50, 180, 120, 60, 80))
        self.count.setText(f"共 {len(rows)} 条待审")

    def select_all(self) -> None:
        set_all_checked(self.table)

    def approve(self) -> None:
        ids = checked_keys(self.table)
        if not ids:
            self.page.show_error("请先勾选要通过的记录")
            return
        try:
            self.service.approve(ids)
        except DomainError as exc:
            self.page.show_error(exc)
        self.refresh()
        self.page.data_changed.emit()

    def reject(self) -> None:
        ids = checked_keys(self.table)
        if not ids:
            self.page.show_error("请先勾选要驳回的记录")
            return
        dialog = ReasonDialog("驳回", f"驳回所选 {len(ids)} 条记录，录入人将看到理由并修改后重新提交：", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            self.service.reject(ids, dialog.text())
        except DomainError as exc:
            self.page.show_error(exc)
        self.refresh()


# ----- 公示 -----------------------------------------------------------------------------------------
class PublicityTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.village = _village_combo(self.ctx, everyone=False)
        self.waiting = QTableWidget()
        self.starts = DateField()
        self.starts.set_date(dt.date.today())
        self.ends = DateField()
        self.ends.setPlaceholderText("不填按规则的公示天数")
        self.info = QLabel()
        publish = QPushButton("发布公示")
        publish.setObjectName("publish")
        publish.clicked.connect(self.publish)
        self.batches = QTableWidget()
        self.batches.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.batches.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        pdf = QPushButton("导出公示PDF…")
        pdf.clicked.connect(lambda: self.export_pdf())
        xlsx = QPushButton("导出公示Excel…")
        xlsx.clicked.connect(lambda: self.export_xlsx())
        close = QPushButton("公示期满，生效")
        close.setObjectName("close_publicity")
        close.clicked.connect(self.close_batch)
        top = QHBoxLayout()
        top.addWidget(QLabel("村/社区"))
        top.addWidget(self.village)
        top.addWidget(QLabel("公示开始"))
        top.addWidget(self.starts)
        top.addWidget(QLabel("结束"))
        top.addWidget(self.ends)
        top.addWidget(publish)
        top.addStretch(1)
        top.addWidget(self.info)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("已发布的公示"))
        actions.addStretch(1)
        actions.addWidget(pdf)
        actions.addWidget(xlsx)
        actions.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.waiting, 3)
        layout.addLayout(actions)
        layout.addWidget(self.batches, 2)
        self.village.currentIndexChanged.connect(self.refresh)

    def refresh(self) -> None:
        vid = self.village.currentData()
        rows = self.service.queue("公示", vid) if vid is not None else []
        fill_table(self.waiting, ("村/社区", "姓名", "日期", "积分事项", "分值", "说明", "佐证", "状态", "提交"),
                   [_record_cells(r) for r in rows], widths=(90, 70, 86, 260, 50, 180, 120, 60, 80))
        self.info.setText(f"待公示 {len(rows)} 条")
        self.batch_list = self.service.publicities(vid)
        fill_table(self.batches, ("标题", "村/社区", "公示期", "记录数", "状态"),
                   [[b.title, b.village, f"{b.starts_on:%Y-%m-%d} 至 {b.ends_on:%Y-%m-%d}", b.records,
                     f"{b.closed_on:%Y-%m-%d} 已生效" if b.closed_on else "公示中"] for b in self.batch_list],
                   keys=[b.id for b in self.batch_list], widths=(300, 90, 190, 60, 110))
        if self.batch_list:
            self.batches.selectRow(0)

    def _selected(self) -> int | None:
        row = self.batches.currentRow()
        if row < 0 or row >= len(self.batch_list):
            self.page.show_error("请先选择一批公示")
            return None
        return self.batch_list[row].id

    def publish(self) -> None:
        try:
            starts = self.starts.date()
            ends = self.ends.date()
            if starts is None:
                raise DomainError("请填写公示开始日期")
            self.service.publish(self.village.currentData(), starts, ends)
        except DateParseError as exc:
            self.page.show_error(str(exc))
            return
        except DomainError as exc:
            self.page.show_error(exc)
            return
        self.refresh()

    def close_batch(self) -> None:
        batch = self._selected()
        if batch is None:
            return
        try:
            count = self.service.close_publicity(batch)
        except DomainError as exc:
            self.page.show_error(exc)
            return
        self.refresh()
        self.page.data_changed.emit()
        self.page.status(f"{count} 条记录已生效")

    def export_pdf(self, path: Path | None = None) -> Path | None:
        batch = self._selected()
        path = path or self.page.ask_path("导出公示PDF", "党员积分公示.pdf", "PDF 文件 (*.pdf)")
        if batch is None or path is None:
            return None
        try:
            return write_publicity_pdf(self.service, batch, path)
        except DomainError as exc:
            self.page.show_error(exc)
            return None

    def export_xlsx(self, path: Path | None = None) -> Path | None:
        batch = self._selected()
        path = path or self.page.ask_path("导出公示Excel", "党员积分公示.xlsx", "Excel 工作簿 (*.xlsx)")
        if batch is None or path is None:
            return None
        return write_publicity_xlsx(self.service, batch, path)


# ----- 积分卡 ---------------------------------------------------------------------------------------
class CardTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.search = QLineEdit()
        self.search.setObjectName("card_search")
        self.search.setPlaceholderText("姓名、拼音首字母、身份证号")
        self.found = QListWidget()
        self.found.setObjectName("card_found")
        self.year = _year_combo(self.service, dt.date.today().year)
        self.header = QLabel("请在左侧查找党员")
        self.header.setStyleSheet("font-size:15px;font-weight:bold")
        self.summary = QLabel()
        self.summary.setObjectName("card_summary")
        self.summary.setWordWrap(True)
        self.categories = QTableWidget()
        self.categories.setMaximumHeight(230)
        self.records = QTableWidget()
        self.records.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.records.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.figure = Figure(figsize=(5.0, 2.4), dpi=100)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(230)
        reverse = QPushButton("冲正所选…")
        reverse.clicked.connect(self.reverse)
        resubmit = QPushButton("修改后重新提交…")
        resubmit.clicked.connect(self.resubmit)
        history = QPushButton("流转记录")
        history.clicked.connect(self.show_events)
        self.card: MemberCard | None = None

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.found, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.header, 1)
        head.addWidget(self.year)
        right_layout.addLayout(head)
        right_layout.addWidget(self.summary)
        middle = QHBoxLayout()
        middle.addWidget(self.categories, 2)
        middle.addWidget(self.canvas, 3)
        right_layout.addLayout(middle)
        right_layout.addWidget(self.records, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(history)
        buttons.addWidget(resubmit)
        buttons.addWidget(reverse)
        right_layout.addLayout(buttons)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([200, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.search.textChanged.connect(self.find)
        self.search.returnPressed.connect(self._open_first)
        self.found.currentRowChanged.connect(self._open_row)
        self.year.currentIndexChanged.connect(self.refresh)

    def find(self, text: str) -> None:
        self.found.clear()
        self.choices = self.service.members(text=text, limit=200, include_exempt=True)
        for m in self.choices:
            self.found.addItem(f"{m.name}　{m.village}")

    def _open_first(self) -> None:
        if self.found.count():
            self.found.setCurrentRow(0)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(getattr(self, "choices", [])):
            self.show_member(self.choices[row].party_member_id)

    def show_member(self, member_id: int, year: int | None = None) -> None:
        if year is not None:
            if self.year.findData(year) < 0:
                self.year.addItem(f"{year}年", year)
            self.year.blockSignals(True)
            self.year.setCurrentIndex(self.year.findData(year))
            self.year.blockSignals(False)
        self.member_id = member_id
        self.refresh()

    def refresh(self) -> None:
        member_id = getattr(self, "member_id", None)
        if member_id is None:
            return
        card = self.card = self.service.card(member_id, self.year.currentData())
        m, t = card.member, card.totals
        self.header.setText(f"{m.name}　{m.village}　{m.branch}　{m.category}党员")
        excluded = "（免考党员，不参加积分）" if m.category == settings()["excluded_category"] else ""
        self.summary.setText(
            f"{card.year}年总分 <b>{format_points(t.total)}</b> 分，等级 <b>{t.grade}</b>{excluded}　"
            f"（基础分 {format_points(t.base)}，季度计入 {' / '.join(format_points(q) for q in t.quarters)}）　"
            f"可兑换积分余额 <b>{format_points(card.balance)}</b> 分　规则第{card.rule_set_version or 1}版")
        fill_table(self.categories, ("类别", "计入分"), [[name, format_points(v)] for name, v in t.by_category],
                   widths=(140, 70))
        fill_table(self.records, ("日期", "积分事项", "分值", "计入", "状态", "说明", "驳回理由"),
                   [[f"{r.occurred_on:%Y-%m-%d}", f"{r.rule_code} {r.rule_name}", format_points(r.points, signed=True),
                     "" if r.counted is None else format_points(r.counted, signed=True),
                     r.status + ("（已冲正）" if r.reversed else "（冲正）" if r.reverses_id else ""), r.note,
                     r.reject_reason] for r in card.records],
                   keys=[r.id for r in card.records], widths=(86, 250, 50, 50, 110, 200, 160))
        history_figure(card, self.figure)
        self.canvas.draw_idle()

    def _selected(self) -> RecordRow | None:
        row = self.records.currentRow()
        if self.card is None or not 0 <= row < len(self.card.records):
            self.page.show_error("请先在积分记录中选择一条")
            return None
        return self.card.records[row]

    def reverse(self) -> None:
        record = self._selected()
        if record is None:
            return
        dialog = ReasonDialog("冲正", f"冲正“{record.rule_name}”（{format_points(record.points, signed=True)}分）："
                              "生成一条相反的记录，原记录保留。", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            self.service.reverse(record.id, dialog.text())
        except DomainError as exc:
            self.page.show_error(exc)
        self.refresh()

    def resubmit(self) -> None:
        record = self._selected()
        if record is None:
            return
        if record.status != "驳回":
            self.page.show_error("只有被驳回的记录才能修改后重新提交")
            return
        if ResubmitDialog(self.service, record, self).exec() == QDialog.DialogCode.Accepted:
            self.refresh()

    def show_events(self) -> None:
        record = self._selected()
        if record is None:
            return
        lines = [f"{e.at:%Y-%m-%d %H:%M}　{e.username}　{e.action}　{e.detail}" for e in self.service.events(record.id)]
        self.page.status("\n".join(lines) or "这条记录没有流转记录（演示数据或导入前的记录）", popup=True)


# ----- 汇总 -----------------------------------------------------------------------------------------
class SummaryTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.year = _year_combo(self.service, dt.date.today().year)
        self.table = QTableWidget()
        self.figure = Figure(figsize=(7.0, 3.4), dpi=100)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(260)
        self.show_ranking = QCheckBox("显示排名")
        self.show_ranking.setToolTip("排名默认不显示；只在需要时勾选")
        self.show_ranking.setChecked(bool(self.ctx.settings.get(RANKING_KEY, settings()["ranking_default"])))
        self.ranking = QTableWidget()
        self.ranking.setVisible(False)
        detail = QPushButton("导出积分明细…")
        detail.clicked.connect(lambda: self.export_detail())
        summary = QPushButton("导出积分汇总…")
        summary.clicked.connect(lambda: self.export_summary())
        template = QPushButton("积分记录模板…")
        template.clicked.connect(lambda: self.write_template())
        importer = QPushButton("导入村报积分记录…")
        importer.clicked.connect(lambda: self.import_file())
        top = QHBoxLayout()
        top.addWidget(self.year)
        top.addStretch(1)
        top.addWidget(self.show_ranking)
        top.addWidget(template)
        top.addWidget(importer)
        top.addWidget(detail)
        top.addWidget(summary)
        body = QHBoxLayout()
        body.addWidget(self.table, 2)
        body.addWidget(self.ranking, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addWidget(self.canvas, 1)
        self.year.currentIndexChanged.connect(self.refresh)
        self.show_ranking.toggled.connect(self._ranking_toggled)

    def refresh(self) -> None:
        year = self.year.currentData()
        grades = self.service.grade_names(year)
        groups = sorted(self.service.village_summaries(year), key=lambda g: g.name)
        fill_table(self.table, ("村/社区", "参与人数", "平均分", "最高分", "最低分", *grades),
                   [[g.name, g.participants, "" if g.average is None else str(g.average), format_points(g.highest),
                     format_points(g.lowest), *[g.grades.get(x, 0) for x in grades]] for g in groups],
                   widths=(110, 70, 60, 60, 60, *[62] * len(grades)))
        distribution_figure(self.service, year, self.figure)
        self.canvas.draw_idle()
        self._ranking_toggled(self.show_ranking.isChecked(), remember=False)

    def _ranking_toggled(self, on: bool, remember: bool = True) -> None:
        if remember:
            self.ctx.settings.set(RANKING_KEY, on)
        self.ranking.setVisible(on)
        if on:
            rows = self.service.ranking(self.year.currentData())
            fill_table(self.ranking, ("名次", "姓名", "村/社区", "总分", "等级"),
                       [[rank, r.name, r.village, format_points(r.total), r.grade] for rank, r in rows],
                       widths=(44, 70, 90, 56, 60))

    def export_detail(self, path: Path | None = None) -> Path | None:
        return self._export_year(path, "积分明细", write_detail_workbook, "条积分明细")

    def export_summary(self, path: Path | None = None) -> Path | None:
        return self._export_year(path, "积分汇总", write_summary_workbook, "名党员的积分汇总")

    def _export_year(self, path: Path | None, what: str, write: Callable[[PointsService, int, Path], int],
                     counted: str) -> Path | None:
        """Ask where (unless told), write the chosen year's workbook, and say how many rows went out."""
        year = self.year.currentData()
        path = path or self.page.ask_path(f"导出{what}", f"{year}年党员{what}.xlsx", "Excel 工作簿 (*.xlsx)")
        if path is None:
            return None
        count = write(self.service, year, path)
        self.page.status(f"已导出 {count} {counted}：{path}")
        return path

    def write_template(self, path: Path | None = None) -> Path | None:
        path = path or self.page.ask_path("保存积分记录模板", "党员积分记录模板.xlsx", "Excel 工作簿 (*.xlsx)")
        return write_record_template(path) if path else None

    def import_file(self, path: Path | None = None) -> None:
        path = path or self.page.ask_path("导入积分记录", "", "Excel 文件 (*.xlsx *.xls *.xlsm *.ods)", save=False)
        if path is None:
            return
        try:
            report = import_records(self.ctx.db, path, self.ctx.actor, dry_run=True)
            if report.errors:
                text = "\n".join(f"{e.where}：{e.message}" for e in report.errors[:15])
                self.page.show_error(f"文件有 {len(report.errors)} 处问题，未导入：\n{text}")
                return
            counts = report.sheets.get("积分记录")
            created = counts.created if counts else 0
            if not self.page.confirm(f"检查通过：新增 {created} 条积分记录（进入村审），确定导入吗？"):
                return
            import_records(self.ctx.db, path, self.ctx.actor)
        except DomainError as exc:
            self.page.show_error(exc)
            return
        self.page.status(f"已导入 {created} 条积分记录，等待村审")
        self.page.data_changed.emit()


# ----- 规则 -----------------------------------------------------------------------------------------
class RulesTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.year = _year_combo(self.service, dt.date.today().year)
        self.info = QLabel()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["编码/类别", "积分事项", "分值", "周期封顶", "类别封顶", "审核", "佐证", "适用党员", "会议计分"])
        for index, width in enumerate((110, 260, 60, 170, 200, 50, 40, 120, 160)):
            self.tree.setColumnWidth(index, width)
        edit = QPushButton("编辑规则（保存为新版本）…")
        edit.clicked.connect(self.edit)
        top = QHBoxLayout()
        top.addWidget(self.year)
        top.addWidget(self.info, 1)
        top.addWidget(edit)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        self.year.currentIndexChanged.connect(self.refresh)

    def refresh(self) -> None:
        year = self.year.currentData()
        info, rules = self.service.rule_set(year)
        grades = "，".join(f"{g.name}{'≥' + format_points(g.min) if g.min is not None else ''}" for g in rules.grades)
        version = f"第{info.version}版" if info.version else "默认规则（首次录入时保存为第1版）"
        self.info.setText(f"{info.name}　{version}　基础分{format_points(rules.base_total)}　等级：{grades}")
        self.tree.clear()
        nodes: dict[str, QTreeWidgetItem] = {}
        for category in rules.categories:
            parent = nodes.get(category.parent) if category.parent else None
            cap = f"每年最多{format_points(category.cap)}" if category.cap is not None else ""
            if category.kind == "base":
                cap = f"基础分{format_points(category.base)}，扣完为止"
            node = QTreeWidgetItem([category.code, category.name, "", "", cap])
            (parent.addChild(node) if parent else self.tree.addTopLevelItem(node))
            nodes[category.code] = node
        for r in rule_rows(rules):
            nodes[r.category].addChild(QTreeWidgetItem([r.code, r.name, f"{'+' if r.direction == '加分' else '-'}"
                                                        f"{r.points_text}", r.caps_text, "", r.review,
                                                        "是" if r.evidence else "", r.applies_to, r.meeting]))
        self.tree.expandAll()

    def edit(self) -> None:
        if RulesDialog(self.service, self.year.currentData(), self).exec() == QDialog.DialogCode.Accepted:
            self.refresh()


class PointsPage(Page):
    title = "党员积分"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = PointsService(ctx.db, ctx.actor)
        self.tabs = QTabWidget()
        self.entry = EntryTab(self)
        self.review = ReviewTab(self)
        self.publicity = PublicityTab(self)
        self.card = CardTab(self)
        self.summary = SummaryTab(self)
        self.rules = RulesTab(self)
        for tab, name in ((self.entry, "录入"), (self.review, "审核"), (self.publicity, "公示"), (self.card, "积分卡"),
                          (self.summary, "汇总"), (self.rules, "积分规则")):
            self.tabs.addTab(tab, name)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        self.tabs.currentChanged.connect(lambda _i: self.refresh())

    def refresh(self) -> None:
        tab = self.tabs.currentWidget()
        if isinstance(tab, _Tab):
            try:
                tab.refresh()
            except DomainError as exc:
                self.show_error(exc)

    def open_tab(self, name: str) -> QWidget:
        for index in range(self.tabs.count()):
            if self.tabs.tabText(index) == name:
                self.tabs.setCurrentIndex(index)
                return self.tabs.widget(index)
        raise KeyError(name)

    def status(self, text: str, popup: bool = False) -> None:
        self.message.setText(text)
        if popup:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.information(self, "记录", text)

    def ask_path(self, title: str, name: str, pattern: str, save: bool = True) -> Path | None:
        folder = self.ctx.settings.get(FOLDER_KEY) or str(Path.home())
        if save:
            chosen, _ = QFileDialog.getSaveFileName(self, title, str(Path(folder) / name), pattern)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, title, folder, pattern)
        if not chosen:
            return None
        self.ctx.settings.set(FOLDER_KEY, str(Path(chosen).parent))
        return Path(chosen)


# ----- 积分超市 ---------------------------------------------------------------------------------------
class StorePage(Page):
    title = "积分超市"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = PointsService(ctx.db, ctx.actor)
        self.member_id: int | None = None
        self.goods = QTableWidget()
        self.goods.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.goods.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        add = QPushButton("新增商品…")
        add.clicked.connect(self.add_item)
        edit = QPushButton("修改…")
        edit.clicked.connect(self.edit_item)
        restock = QPushButton("入库")
        restock.clicked.connect(self.restock)
        self.restock_count = QSpinBox()
        self.restock_count.setRange(1, 10000)
        self.restock_count.setValue(10)
        self.scan = QLineEdit()
        self.scan.setObjectName("scan")
        self.scan.setPlaceholderText("刷身份证（读卡器输入号码）或输入姓名后回车")
        self.member_label = QLabel("尚未选择党员")
        self.member_label.setObjectName("member_label")
        self.item = QComboBox()
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 99)
        redeem = QPushButton("兑换")
        redeem.setObjectName("redeem")
        redeem.clicked.connect(self.redeem)
        self.error = ErrorLabel()
        self.village = _village_combo(ctx)
        self.status_filter = QComboBox()
        self.status_filter.addItem("全部状态", None)
        for status in settings()["redemption_statuses"]:
            self.status_filter.addItem(status, status)
        self.redemptions = QTableWidget()
        self.redemptions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.redemptions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        pick = QPushButton("已领取")
        pick.clicked.connect(self.pick_up)
        cancel = QPushButton("取消兑换…")
        cancel.clicked.connect(self.cancel)
        receipt = QPushButton("打印凭条…")
        receipt.clicked.connect(lambda: self.receipt())

        goods_box = QGroupBox("商品与库存")
        goods_layout = QVBoxLayout(goods_box)
        goods_layout.addWidget(self.goods, 1)
        goods_buttons = QHBoxLayout()
        goods_buttons.addWidget(add)
        goods_buttons.addWidget(edit)
        goods_buttons.addStretch(1)
        goods_buttons.addWidget(self.restock_count)
        goods_buttons.addWidget(restock)
        goods_layout.addLayout(goods_buttons)
        redeem_box = QGroupBox("兑换")
        redeem_layout = QFormLayout(redeem_box)
        redeem_layout.addRow("党员", self.scan)
        redeem_layout.addRow("", self.member_label)
        redeem_layout.addRow("商品", self.item)
        redeem_layout.addRow("数量", self.quantity)
        redeem_layout.addRow("", redeem)
        redeem_layout.addRow(self.error)
        top = QHBoxLayout()
        top.addWidget(goods_box, 3)
        top.addWidget(redeem_box, 2)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("兑换记录"))
        filters.addWidget(self.village)
        filters.addWidget(self.status_filter)
        filters.addStretch(1)
        filters.addWidget(pick)
        filters.addWidget(cancel)
        filters.addWidget(receipt)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 2)
        layout.addLayout(filters)
        layout.addWidget(self.redemptions, 3)
        self.scan.returnPressed.connect(self.find_member)
        self.village.currentIndexChanged.connect(self.refresh_redemptions)
        self.status_filter.currentIndexChanged.connect(self.refresh_redemptions)

    def refresh(self) -> None:
        self.items = self.service.items()
        fill_table(self.goods, ("商品", "所需积分", "库存", "领取地点", "状态"),
                   [[i.name, format_points(i.points), i.stock, i.pickup_point, "在售" if i.active else "下架"]
                    for i in self.items], keys=[i.id for i in self.items], widths=(170, 70, 60, 150, 50))
        current = self.item.currentData()
        self.item.clear()
        for i in self.items:
            if i.active:
                self.item.addItem(f"{i.name}（{format_points(i.points)}分，库存{i.stock}）", i.id)
        self.item.setCurrentIndex(max(self.item.findData(current), 0))
        self.refresh_redemptions()
        self._show_member()

    def refresh_redemptions(self) -> None:
        self.rows = self.service.redemptions(self.village.currentData(), self.status_filter.currentData())
        fill_table(self.redemptions, ("单号", "兑换人", "村/社区", "商品", "数量", "积分", "状态", "兑换时间", "取消原因"),
                   [[r.number, r.member_name, r.village, r.item_name, r.quantity, format_points(r.points), r.status,
                     f"{r.redeemed_at:%Y-%m-%d %H:%M}", r.cancel_reason] for r in self.rows],
                   keys=[r.id for r in self.rows], widths=(120, 70, 90, 150, 40, 50, 60, 130, 140))

    def find_member(self) -> None:
        found = self.service.find_member(self.scan.text())
        if found is None:
            self.error.show_problems([])
            self.member_label.setText("没有找到唯一的党员：请输入完整身份证号或更完整的姓名")
            self.member_id = None
            return
        self.member_id = found.party_member_id
        self._show_member()

    def _show_member(self) -> None:
        if self.member_id is None:
            return
        member = self.service.member(self.member_id)
        self.member_label.setText(f"{member.name}（{member.village}，{member.id_tail}）　"
                                  f"可兑换积分 {format_points(self.service.balance(self.member_id))} 分")

    def redeem(self) -> None:
        if self.member_id is None or self.item.currentData() is None:
            self.error.show_problems([])
            self.error.setText("请先刷卡或查找党员，并选择商品")
            self.error.show()
            return
        try:
            done = self.service.redeem(self.member_id, self.item.currentData(), self.quantity.value())
        except DomainError as exc:
            self.error.setText(exc.message)
            self.error.setStyleSheet("color:#c62828")
            self.error.show()
            return
        self.error.hide()
        self.last = done
        self.refresh()
        self.redemptions.selectRow(next((i for i, r in enumerate(self.rows) if r.id == done.id), 0))

    def _selected(self) -> int | None:
        row = self.redemptions.currentRow()
        if not 0 <= row < len(getattr(self, "rows", [])):
            self.show_error("请先选择一张兑换单")
            return None
        return self.rows[row].id

    def pick_up(self) -> None:
        rid = self._selected()
        if rid is None:
            return
        try:
            self.service.pick_up(rid)
        except DomainError as exc:
            self.show_error(exc)
        self.refresh()

    def cancel(self) -> None:
        rid = self._selected()
        if rid is None:
            return
        dialog = ReasonDialog("取消兑换", "取消后积分和库存原数退回：", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            self.service.cancel_redemption(rid, dialog.text())
        except DomainError as exc:
            self.show_error(exc)
        self.refresh()

    def receipt(self, path: Path | None = None) -> Path | None:
        rid = self._selected()
        if rid is None:
            return None
        if path is None:
            folder = self.ctx.settings.get(FOLDER_KEY) or str(Path.home())
            chosen, _ = QFileDialog.getSaveFileName(self, "兑换凭条", str(Path(folder) / "兑换凭条.pdf"), "PDF 文件 (*.pdf)")
            if not chosen:
                return None
            path = Path(chosen)
        try:
            return write_receipt_pdf(self.service, rid, path)
        except DomainError as exc:
            self.show_error(exc)
            return None

    def _selected_item(self) -> int | None:
        row = self.goods.currentRow()
        if not 0 <= row < len(getattr(self, "items", [])):
            self.show_error("请先选择一件商品")
            return None
        return row

    def add_item(self) -> None:
        if ItemDialog(self.service, None, self, settings()["store_defaults"]["pickup_point"]).exec():
            self.refresh()

    def edit_item(self) -> None:
        row = self._selected_item()
        if row is not None and ItemDialog(self.service, self.items[row], self).exec():
            self.refresh()

    def restock(self) -> None:
        row = self._selected_item()
        if row is None:
            return
        try:
            self.service.restock(self.items[row].id, self.restock_count.value())
        except DomainError as exc:
            self.show_error(exc)
        self.refresh()


