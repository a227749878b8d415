"""党员积分 and 积分超市 pages.

党员积分 has one tab per job: 录入 (built for speed: pick a rule, tick many
members, Ctrl+Enter; or a meeting's attendance in one step), 审核 (村审 and
乡镇审 queues, approve or reject with a reason in bulk), 公示 (post, export PDF
and xlsx, make effective), 积分卡 (a member's records, totals, grade, balance,
history chart; reverse or resubmit), 汇总 (per village, the distribution chart,
workbooks; the ranking only when asked for) and 规则 (the year's rule set).
积分超市 has the goods, redemption by scanning an ID card or searching, and receipts.

Building the pages reads nothing: the main window builds them on the GUI thread
right after start-up, and a county is 375 villages, 27,000 members, 1.5 million
records. A tab reads what it shows in the pool when it is first shown (the
village and year choices with the first one), saying 正在加载…… or 正在计算……
meanwhile; a year's totals are counted once for the table, chart and ranking;
the long lists (members, the review queue, the ranking) are models, so showing
them costs the same for 30 or 30,000 rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QResizeEvent, QShortcut
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
    QListView,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from townapp.archives.service import ArchiveService
from townapp.core.collector import collector_paused
from townapp.core.dates import DateParseError
from townapp.core.errors import Cancelled, DomainError
from townapp.points.dto import (
    EntryInput,
    GroupSummary,
    MemberCard,
    PublicityDTO,
    RecordRow,
    RuleRow,
    TotalRow,
)
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
from townapp.points.validation import excluded_category
from townapp.ui.context import AppContext
from townapp.ui.forms.points import (
    ItemDialog,
    MeetingDialog,
    ReasonDialog,
    ResubmitDialog,
    RulesDialog,
)
from townapp.ui.jobs import Job, call_service
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written, show_pdf
from townapp.ui.widgets.fields import DateField, ErrorLabel, HintArea
from townapp.ui.widgets.tables import ListFilters, RowsModel, TableSearch, current_key, fill_table, table_view

T = TypeVar("T")

RANKING_KEY = "points_show_ranking"
FOLDER_KEY = "points_folder"


def create_pages(ctx: AppContext) -> list[Page]:
    """The pages only: nothing is read from the database until a page (or tab) is first shown."""
    return [PointsPage(ctx), StorePage(ctx)]


def _villages(ctx: AppContext) -> list[tuple[int, str]]:
    return [(v.id, v.name) for v in ctx.registry.villages()]


def _village_box() -> QComboBox:
    """Empty until the page has read the villages; then as wide as the longest name."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


def _fill_villages(combo: QComboBox, villages: list[tuple[int, str]], *, everyone: bool = True) -> None:
    """The villages the user may see (and 全部村/社区 where there is a choice); the choice made is kept."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    if everyone and len(villages) != 1:
        combo.addItem("全部村/社区", None)
    for vid, name in villages:
        combo.addItem(name, vid)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    combo.blockSignals(False)


def _year_combo(default: int) -> QComboBox:
    """This year only; the years that have rule sets are added once the page has read them."""
    combo = QComboBox()
    combo.addItem(f"{default}年", default)
    return combo


def _add_years(combo: QComboBox, years: list[int]) -> None:
    """Newest first, the chosen year kept (a year added by hand stays too)."""
    current = combo.currentData()
    have = {combo.itemData(i) for i in range(combo.count())}
    combo.blockSignals(True)
    for year in sorted(set(years) - have, reverse=True):
        index = next((i for i in range(combo.count()) if combo.itemData(i) < year), combo.count())
        combo.insertItem(index, f"{year}年", year)
    combo.setCurrentIndex(max(combo.findData(current), 0))
    combo.blockSignals(False)


def _record_cells(r: RecordRow) -> list[str]:
    # isoformat, not strftime: strftime imports `time` through PySide's import hook on every call (0.3 s for a
    # county's review queue)
    return [r.village, r.name, r.occurred_on.isoformat(), f"{r.rule_code} {r.rule_name}",
            format_points(r.points, signed=True), r.note, r.evidence, r.status,
            f"第{r.resubmissions + 1}次提交" if r.resubmissions else ""]


_Rows = RowsModel  # the shared list model (widgets.tables): ticks by key, search, filters, sort by header


def _table_view(model: RowsModel, widths: Sequence[int], *, frozen: bool = False) -> QTableView:
    """The compact look of the points tables (fill_table) for a model, sorted by a header click."""
    return table_view(model, widths, frozen=frozen)


class _Loader(QObject):
    """One background load at a time for a tab: the query runs in the pool as a Job (its progress dialog
    appears only after half a second), the tab says "正在加载……" or "正在计算……" at once, and the
    widgets showing the old data are greyed until the new data is in. A newer load replaces an older
    one, whose result is dropped, so the last choice the user made is the one shown."""

    def __init__(self, owner: QWidget, on_error: Callable[[str], None], busy: QLabel | None = None,
                 dims: Sequence[QWidget] = ()) -> None:
        super().__init__(owner)
        self.owner, self.on_error, self.busy, self.dims = owner, on_error, busy, list(dims)
        self.job: Job | None = None

    def running(self) -> bool:
        return self.job is not None and not self.job.done

    def start(self, title: str, work: Callable[[], T], show: Callable[[T], None], *, busy: str = "正在加载……",
              cancelled: Callable[[], None] | None = None) -> None:
        if self.running():
            assert self.job is not None
            self.job.cancel()
        self._set_busy(busy)

        def run(_progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> T:
            with collector_paused():
                result = work()
            if cancel():  # replaced by a newer load, or the user pressed 取消
                raise Cancelled()
            return result

        def shown(result: T) -> None:
            if job is self.job:
                self._set_busy(None)
                show(result)

        def failed(message: str) -> None:
            if job is self.job:
                self._set_busy(None)
                self.on_error(message)

        def finished() -> None:
            if job is self.job and job.was_cancelled:
                self._set_busy(None)
                if self.busy is not None:
                    self.busy.setText("已取消（切换标签或重新选择后再加载）")
                    self.busy.show()
                if cancelled is not None:
                    cancelled()

        job = self.job = Job(self.owner, title, run, on_success=shown, on_failure=failed)
        job.finished.connect(finished)
        job.start()

    def _set_busy(self, text: str | None) -> None:
        for widget in self.dims:
            widget.setEnabled(text is None)
        if self.busy is not None:
            self.busy.setText(text or "")
            self.busy.setVisible(bool(text))


class _Tab(QWidget):
    """A tab of the points page: shares the page's service, reports errors and changes through it, and
    loads what it shows in the background (``loader``), telling the page when its data is on screen."""

    def __init__(self, page: PointsPage) -> None:
        super().__init__()
        self.page = page
        self.ctx = page.ctx
        self.service = page.service
        self.busy = QLabel()
        self.busy.setObjectName("busy")
        self.busy.setStyleSheet("color:#1f4e79;font-weight:bold")
        self.busy.hide()
        self.loader = _Loader(self, self.page.show_error, self.busy)

    def refresh(self) -> None:
        """Re-read what the tab shows."""

    def load(self, title: str, work: Callable[[], T], show: Callable[[T], None], *, busy: str = "正在加载……",
             cancelled: Callable[[], None] | None = None) -> None:
        """``work`` in the pool, then ``show`` its result here (and tell the page the data is shown)."""

        def shown(result: T) -> None:
            show(result)
            self.page.tab_loaded(self)

        self.loader.start(title, work, shown, busy=busy, cancelled=cancelled)

    def loading(self) -> bool:
        return self.loader.running()

    def choices_loaded(self) -> bool:
        """The page has read the villages and the years with rules: fill the tab's choices; True when what the
        tab shows depends on a choice that was not there before (it is then read again)."""
        return False


# ----- 录入 -----------------------------------------------------------------------------------------
class EntryTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.rows: dict[str, RuleRow] = {}
        self.loaded = False
        self.date = DateField()
        self.date.set_date(dt.date.today())
        self.date.setObjectName("entry_date")
        self.rule = QComboBox()
        self.rule.setEditable(True)
        self.rule.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.rule.setMinimumWidth(360)
        self.rule.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.rule.completer().setCompletionMode(self.rule.completer().CompletionMode.PopupCompletion)
        self.rule_hint = HintArea(3)  # a reserved area: picking a rule never moves the fields below
        self.rule_hint.setObjectName("rule_hint")
        self.points = QLineEdit()
        self.points.setObjectName("entry_points")
        self.points.setMaximumWidth(90)
        self.note = QLineEdit()
        self.note.setPlaceholderText("如：清扫村内主干道")
        self.evidence = QLineEdit()
        self.evidence.setPlaceholderText("照片、签到表、文件等（规则要求时必填）")
        self.village = _village_box()
        self.search = QLineEdit()
        self.search.setObjectName("member_search")
        self.search.setPlaceholderText("姓名、拼音首字母或身份证尾号；回车勾选第一个")
        self.member_rows = _Rows(("党员",), checkable=True, parent=self)
        self.members = QListView()
        self.members.setObjectName("members")
        self.members.setModel(self.member_rows)
        self.members.setUniformItemSizes(True)  # a county's 27,000 names lay out without measuring each,
        self.members.setLayoutMode(QListView.LayoutMode.Batched)  # a batch per turn of the event loop
        self.members.setBatchSize(2000)
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
        self.loader.dims = [self.members, select_all, submit]

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
        right_layout.addWidget(self.busy)
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
        self.member_rows.checked_changed.connect(self._count)

    def choices_loaded(self) -> bool:
        _fill_villages(self.village, self.page.villages or [])
        return False

    def refresh(self) -> None:
        """The rules and members are read once, when the tab is first shown; ticks survive switching tabs."""
        if not self.loaded:
            self.load_members()

    def _year(self) -> int:
        try:
            return (self.date.date() or dt.date.today()).year
        except DateParseError:
            return dt.date.today().year

    def load_rules(self) -> None:
        self._show_rules(self.service.rules(self._year()))

    def _show_rules(self, rules: list[RuleRow]) -> None:
        current = self.rule.currentData()
        self.rule.blockSignals(True)
        self.rule.clear()
        self.rows = {r.code: r for r in rules}
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
        """The village's members (a county's whole list when 全部) read in the pool; ticks on members still
        listed are kept. The year's rules come with the first load."""
        village, year, with_rules = self.village.currentData(), self._year(), not self.rows

        def work() -> tuple[list[RuleRow] | None, list[list[str]], list[int]]:
            members = self.service.members(village)
            return ((self.service.rules(year) if with_rules else None),
                    [[f"{m.name}　{m.village}　{m.category}　{m.id_tail[-4:]}"] for m in members],
                    [m.party_member_id for m in members])

        self.load("正在加载党员名单……", work, self._show_members)

    def _show_members(self, loaded: tuple[list[RuleRow] | None, list[list[str]], list[int]]) -> None:
        rules, names, ids = loaded
        if rules is not None:
            self._show_rules(rules)
        self.member_rows.set_rows(names, ids, keep_checked=True)
        self.loaded = True
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        wanted = None
        if text.strip():
            wanted = {m.party_member_id for m in self.service.members(self.village.currentData(), text)}
        self.member_rows.set_filter(wanted)

    def _check_first(self) -> None:
        if self.member_rows.rowCount():
            self.member_rows.set_checked([self.member_rows.key(0)])
        self.search.clear()

    def _check_all(self, checked: bool) -> None:
        if checked:
            self.member_rows.set_checked(self.member_rows.shown_keys())
        else:
            self.member_rows.set_checked(self.member_rows.checked(), False)

    def checked(self) -> list[int]:
        return [int(key) for key in self.member_rows.checked()]  # type: ignore[call-overload]

    def check_member(self, member_id: int) -> None:
        self.member_rows.set_checked([member_id])

    def _count(self, *_args: object) -> None:
        self.picked.setText(f"已选 {self.member_rows.checked_count()} 人")

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
        call_service(self, lambda: self.service.add_records(data), lambda ids: self._submitted(ids, r), self._refused)

    def _refused(self, exc: DomainError) -> None:
        self.error.show_problems(getattr(exc, "problems", None) or [])
        if not getattr(exc, "problems", None):
            self.error.setText(exc.message)
            self.error.show()

    def _submitted(self, ids: list[int], r: RuleRow | None) -> None:
        self.error.show_problems([])
        self.done.setText(f"已提交 {len(ids)} 条“{r.name if r else ''}”记录，等待村审")
        self._check_all(False)
        self.note.clear()
        self.evidence.clear()
        self.page.data_changed.emit()

    def from_meeting(self) -> None:
        dialog = MeetingDialog(self.service, ArchiveService(self.ctx.db, self.ctx.actor), self.page.village_list(), self,
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
        self.village = _village_box()
        self.rows = _Rows(self.HEADERS, checkable=True, parent=self)
        # the 选择 boxes stay in view however far right the clerk scrolls (Ctrl+End included)
        self.table = _table_view(self.rows, (40, 90, 70, 86, 240, 50, 180, 120, 60, 80), frozen=True)
        self.table.setObjectName("review_table")
        self.filters = ListFilters(self.rows)
        self.filters.add_choice(self.HEADERS.index("日期"), "全部月份", by_month=True)
        self.filters.add_choice(self.HEADERS.index("积分事项"), "全部事项")
        self.count = QLabel()
        all_button = QPushButton("全选")
        all_button.clicked.connect(self.select_all)
        approve = QPushButton("通过所选")
        approve.setObjectName("approve")
        approve.clicked.connect(self.approve)
        reject = QPushButton("驳回所选…")
        reject.setObjectName("reject")
        reject.clicked.connect(self.reject)
        self.loader.dims = [self.table, all_button, approve, reject]
        top = QHBoxLayout()
        top.addWidget(QLabel("审核环节"))
        top.addWidget(self.stage)
        top.addWidget(self.village)
        top.addWidget(self.busy)
        top.addStretch(1)
        top.addWidget(self.count)
        self.ticked = QLabel("已勾选 0 条")
        self.ticked.setObjectName("ticked")
        self.rows.checked_changed.connect(self._count_ticked)
        self.rows.modelReset.connect(self._count_ticked)  # a search or filter may hide ticked rows
        buttons = QHBoxLayout()
        buttons.addWidget(all_button)
        buttons.addStretch(1)
        buttons.addWidget(self.ticked)
        buttons.addWidget(reject)
        buttons.addWidget(approve)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.stage.currentIndexChanged.connect(self.refresh)
        self.village.currentIndexChanged.connect(self.refresh)

    def choices_loaded(self) -> bool:
        _fill_villages(self.village, self.page.villages or [])
        return False

    def refresh(self) -> None:
        """The queue is read in the pool: a county's 村审 queue is tens of thousands of records."""
        stage, village = self.stage.currentData(), self.village.currentData()

        def work() -> tuple[list[list[str]], list[int]]:
            # newest first: what the clerk has just entered is at the top, not under 1,700 older records
            rows = sorted(self.service.queue(stage, village), key=lambda r: r.id, reverse=True)
            return [["", *_record_cells(r)] for r in rows], [r.id for r in rows]

        self.load("正在加载审核队列……", work, self._show)

    def _show(self, loaded: tuple[list[list[str]], list[int]]) -> None:
        cells, ids = loaded
        self.rows.set_rows(cells, ids)
        self.count.setText(f"共 {len(ids)} 条待审（新提交的在前）")

    def _count_ticked(self) -> None:
        """How many are ticked, and how many of those a search or filter hides now (they are acted on too)."""
        ticked = self.rows.checked_count()
        hidden = ticked - len(set(self.rows.checked()) & set(self.rows.shown_keys())) if ticked else 0
        self.ticked.setText(f"已勾选 {ticked} 条" + (f"（其中 {hidden} 条不在当前列表中）" if hidden else ""))

    def select_all(self) -> None:
        """Ticks the rows shown: after a search or filter, only those found."""
        self.rows.set_checked(self.rows.shown_keys())

    def approve(self) -> None:
        ids = self.rows.checked()
        if not ids:
            self.page.show_error("请先勾选要通过的记录")
            return
        call_service(self, lambda: self.service.approve(ids), lambda _r: self._approved(), self._refused)

    def _approved(self) -> None:
        self.refresh()
        self.page.data_changed.emit()

    def _refused(self, exc: DomainError) -> None:
        self.page.show_error(exc)
        self.refresh()

    def reject(self) -> None:
        ids = self.rows.checked()
        if not ids:
            self.page.show_error("请先勾选要驳回的记录")
            return
        dialog = ReasonDialog("驳回", f"驳回所选 {len(ids)} 条记录，录入人将看到理由并修改后重新提交：", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason = dialog.text()
        call_service(self, lambda: self.service.reject(ids, reason), lambda _r: self.refresh(), self._refused)


# ----- 公示 -----------------------------------------------------------------------------------------
class PublicityTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.village = _village_box()
        self.waiting = QTableWidget()
        self.batch_list: list[PublicityDTO] = []
        self.starts = DateField()
        self.starts.set_date(dt.date.today())
        self.ends = DateField()
        self.ends.setPlaceholderText("不填按规则的公示天数")
        self.ends.setMinimumWidth(self.ends.fontMetrics().horizontalAdvance(self.ends.placeholderText()) + 24)
        self.info = QLabel()
        publish = QPushButton("发布公示")
        publish.setObjectName("publish")
        publish.clicked.connect(self.publish)
        self.waiting_search = TableSearch(self.waiting, "搜索待公示记录：姓名、事项、说明")
        self.batches = QTableWidget()
        self.batches.setObjectName("batches")
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
        top.addWidget(self.busy)
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
        layout.addWidget(self.waiting_search)
        layout.addWidget(self.waiting, 3)
        layout.addLayout(actions)
        layout.addWidget(self.batches, 2)
        self.loader.dims = [self.waiting, self.batches, publish, close]
        self.village.currentIndexChanged.connect(self.refresh)

    def choices_loaded(self) -> bool:
        _fill_villages(self.village, self.page.villages or [], everyone=False)
        return True

    def refresh(self) -> None:
        """The village's waiting records and its 公示 batches, read in the pool (once the villages are known:
        every batch of a county would take a minute)."""
        if self.page.villages is None:
            self.busy.setText("正在加载……")
            self.busy.show()
            return
        vid = self.village.currentData()

        def work() -> tuple[list[RecordRow], list[PublicityDTO]]:
            return (self.service.queue("公示", vid) if vid is not None else []), self.service.publicities(vid)

        self.load("正在加载公示……", work, self._show)

    def _show(self, loaded: tuple[list[RecordRow], list[PublicityDTO]]) -> None:
        rows, self.batch_list = loaded
        fill_table(self.waiting, ("村/社区", "姓名", "日期", "积分事项", "分值", "说明", "佐证", "状态", "提交"),
                   [_record_cells(r) for r in rows], keys=[r.id for r in rows],
                   widths=(90, 70, 86, 260, 50, 180, 120, 60, 80), sortable=True)
        self.waiting_search.apply()
        self.info.setText(f"待公示 {len(rows)} 条")
        fill_table(self.batches, ("标题", "村/社区", "公示期", "记录数", "状态"),
                   [[b.title, b.village, f"{b.starts_on:%Y-%m-%d} 至 {b.ends_on:%Y-%m-%d}", b.records,
                     f"{b.closed_on:%Y-%m-%d} 已生效" if b.closed_on else "公示中"] for b in self.batch_list],
                   keys=[b.id for b in self.batch_list], widths=(300, 90, 190, 60, 110), sortable=True,
                   fit_last=True)
        if self.batch_list:
            self.batches.selectRow(0)

    def _selected(self) -> int | None:
        batch = current_key(self.batches)
        if batch is None:
            self.page.show_error("请先选择一批公示")
            return None
        return int(batch)  # type: ignore[call-overload]

    def publish(self) -> None:
        try:
            starts = self.starts.date()
            ends = self.ends.date()
        except DateParseError as exc:
            self.page.show_error(str(exc))
            return
        if starts is None:
            self.page.show_error("请填写公示开始日期")
            return
        village = self.village.currentData()
        call_service(self, lambda: self.service.publish(village, starts, ends), lambda _r: self.refresh(),
                     self.page.show_error)

    def close_batch(self) -> None:
        batch = self._selected()
        if batch is None:
            return
        call_service(self, lambda: self.service.close_publicity(batch), self._closed, self.page.show_error)

    def _closed(self, count: int) -> None:
        self.refresh()
        self.page.data_changed.emit()
        self.page.status(f"{count} 条记录已生效")

    def export_pdf(self, path: Path | None = None) -> Path | None:
        batch = self._selected()
        path = path or self.page.ask_path("导出公示PDF", "党员积分公示.pdf", "PDF 文件 (*.pdf)")
        if batch is None or path is None:
            return None
        try:
            written = write_publicity_pdf(self.service, batch, path)
        except DomainError as exc:
            self.page.show_error(exc)
            return None
        announce_written(self, written, "公示PDF", detail="可打印后张贴。", name="publicity_pdf_done")
        return written

    def export_xlsx(self, path: Path | None = None) -> Path | None:
        batch = self._selected()
        path = path or self.page.ask_path("导出公示Excel", "党员积分公示.xlsx", "Excel 工作簿 (*.xlsx)")
        if batch is None or path is None:
            return None
        try:
            written = write_publicity_xlsx(self.service, batch, path)
        except DomainError as exc:
            self.page.show_error(exc)
            return None
        announce_written(self, written, "公示Excel", name="publicity_xlsx_done")
        return written


# ----- 积分卡 ---------------------------------------------------------------------------------------
class CardTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.search = QLineEdit()
        self.search.setObjectName("card_search")
        self.search.setPlaceholderText("姓名、拼音首字母、身份证号")
        self.found = QListWidget()
        self.found.setObjectName("card_found")
        self.year = _year_combo(dt.date.today().year)
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

    def choices_loaded(self) -> bool:
        _add_years(self.year, self.page.years)
        return False

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
        excluded = "（免考党员，不参加积分）" if m.category == excluded_category() else ""
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
                   keys=[r.id for r in card.records], widths=(86, 250, 50, 50, 110, 200, 160), sortable=True)
        history_figure(card, self.figure)
        self.canvas.draw_idle()

    def _selected(self) -> RecordRow | None:
        key = current_key(self.records)
        record = next((r for r in self.card.records if r.id == key), None) if self.card is not None else None
        if record is None:
            self.page.show_error("请先在积分记录中选择一条")
        return record

    def reverse(self) -> None:
        record = self._selected()
        if record is None:
            return
        dialog = ReasonDialog("冲正", f"冲正“{record.rule_name}”（{format_points(record.points, signed=True)}分）："
                              "生成一条相反的记录，原记录保留。", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason = dialog.text()
        call_service(self, lambda: self.service.reverse(record.id, reason), lambda _r: self.refresh(),
                     lambda exc: (self.page.show_error(exc), self.refresh()))

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
class _Counted(PointsService):
    """The service with one year's totals counted once, in the pool: the summary's table, chart and ranking
    all come from that one pass (a county's year of records takes seconds, and the service would count it
    again for each of them)."""

    def __init__(self, service: PointsService, year: int) -> None:
        super().__init__(service.db, service.actor)
        self.year = year
        self._year_totals = service.totals(year)

    def totals(self, year: int, village_id: int | None = None, as_of: dt.date | None = None) -> list[TotalRow]:
        if (year, village_id, as_of) == (self.year, None, None):
            return self._year_totals
        return super().totals(year, village_id, as_of)


@dataclass
class _Summary:
    counted: _Counted
    grades: list[str]
    groups: list[GroupSummary]
    distribution: tuple[list[str], list[tuple[str, dict[str, int]]]]  # what the chart shows
    chart: QImage
    ranking: tuple[list[list[str]], list[int]] | None


def _ranking_cells(counted: _Counted, year: int) -> tuple[list[list[str]], list[int]]:
    rows = counted.ranking(year)
    return ([[str(rank), r.name, r.village, format_points(r.total), r.grade] for rank, r in rows],
            [r.party_member_id for _rank, r in rows])


def _render(figure: Figure) -> QImage:
    """The figure as a picture, drawn where this runs (the pool: no GUI thread needed).

    The figure is taken apart afterwards: a county's chart is 90,000 objects held in reference cycles,
    left for the cyclic collector, which stops every thread, the GUI thread too, while it walks them.
    Emptied, nine in ten go by reference counting as soon as the figure is dropped."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = (int(x) for x in canvas.get_width_height(physical=True))
    image = QImage(bytes(canvas.buffer_rgba()), width, height, width * 4, QImage.Format.Format_RGBA8888).copy()
    for artist in figure.findobj():
        artist.__dict__.clear()
    canvas.__dict__.clear()
    return image


class _ChartImage(QLabel):
    """A chart drawn in the pool and shown as a picture scaled to its space: a county's 375 villages take a
    second or two to draw, which a matplotlib canvas would do on the GUI thread at every resize."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("chart")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumHeight(260)
        self.setStyleSheet("QLabel#chart { background: white; color: #1f4e79; font-size: 15px; }")
        self.image: QImage | None = None

    def set_image(self, image: QImage) -> None:
        self.image = image
        self._scale()

    def show_text(self, text: str) -> None:
        """No picture (another year's would mislead), only ``text``."""
        self.image = None
        self.setPixmap(QPixmap())
        self.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._scale()

    def _scale(self) -> None:
        if self.image is None:
            return
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap.fromImage(self.image.scaled(self.size() * ratio, Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.SmoothTransformation))
        pixmap.setDevicePixelRatio(ratio)
        self.setPixmap(pixmap)


class SummaryTab(_Tab):
    CHART_DPI = 100

    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.year = _year_combo(dt.date.today().year)
        self.table = QTableWidget()
        self.distribution: tuple[list[str], list[tuple[str, dict[str, int]]]] = ([], [])  # what the chart shows
        self.chart = _ChartImage()
        self.counted: _Counted | None = None
        self.show_ranking = QCheckBox("显示排名")
        self.show_ranking.setToolTip("排名默认不显示；只在需要时勾选")
        self.show_ranking.setChecked(bool(self.ctx.settings.get(RANKING_KEY, settings()["ranking_default"])))
        self.ranking_rows = _Rows(("名次", "姓名", "村/社区", "总分", "等级"), parent=self)
        self.ranking = _table_view(self.ranking_rows, (44, 70, 90, 56, 60))
        self.ranking_filters = ListFilters(self.ranking_rows, "查找：姓名或村/社区")
        self.ranking_filters.add_choice(4, "全部等级")
        ranking_box = QWidget()
        ranking_layout = QVBoxLayout(ranking_box)
        ranking_layout.setContentsMargins(0, 0, 0, 0)
        ranking_layout.addWidget(self.ranking_filters)
        ranking_layout.addWidget(self.ranking, 1)
        self.ranking_box = ranking_box
        self.ranking_box.setVisible(False)
        detail = QPushButton("导出积分明细…")
        detail.clicked.connect(lambda: self.export_detail())
        summary = QPushButton("导出积分汇总…")
        summary.clicked.connect(lambda: self.export_summary())
        template = QPushButton("积分记录模板…")
        template.clicked.connect(lambda: self.write_template())
        importer = QPushButton("导入村报积分记录…")
        importer.clicked.connect(lambda: self.import_file())
        self.loader.dims = [self.table, self.chart, self.ranking]
        top = QHBoxLayout()
        top.addWidget(self.year)
        top.addWidget(self.busy)
        top.addStretch(1)
        top.addWidget(self.show_ranking)
        top.addWidget(template)
        top.addWidget(importer)
        top.addWidget(detail)
        top.addWidget(summary)
        body = QHBoxLayout()
        body.addWidget(self.table, 2)
        body.addWidget(self.ranking_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addWidget(self.chart, 1)
        self.year.currentIndexChanged.connect(self.refresh)
        self.show_ranking.toggled.connect(self._ranking_toggled)

    def choices_loaded(self) -> bool:
        _add_years(self.year, self.page.years)
        return False

    def refresh(self) -> None:
        """The year's totals, per-village table, chart (and ranking when shown) are counted in the pool."""
        year, with_ranking = self.year.currentData(), self.show_ranking.isChecked()
        size = self.chart.size()
        width, height = (size.width(), size.height()) if size.width() >= 400 else (1100, 340)
        ratio = self.chart.devicePixelRatioF()
        if self.counted is None or self.counted.year != year:
            self.chart.show_text("正在计算……")

        def work() -> _Summary:
            counted = _Counted(self.service, year)
            groups = sorted(counted.village_summaries(year), key=lambda g: g.name)
            figure = Figure(figsize=(width / self.CHART_DPI, height / self.CHART_DPI), dpi=self.CHART_DPI * ratio)
            distribution_figure(counted, year, figure)
            chart = _render(figure)
            chart.setDevicePixelRatio(ratio)
            return _Summary(counted, counted.grade_names(year), groups, counted.distribution(year), chart,
                            _ranking_cells(counted, year) if with_ranking else None)

        self.load("正在计算积分汇总……", work, self._show, busy="正在计算……", cancelled=self._cancelled)

    def _cancelled(self) -> None:
        if self.chart.image is None:
            self.chart.show_text("已取消计算")

    def _show(self, result: _Summary) -> None:
        self.counted, grades, groups = result.counted, result.grades, result.groups
        fill_table(self.table, ("村/社区", "参与人数", "平均分", "最高分", "最低分", *grades),
                   [[g.name, g.participants, "" if g.average is None else str(g.average), format_points(g.highest),
                     format_points(g.lowest), *[g.grades.get(x, 0) for x in grades]] for g in groups],
                   widths=(110, 70, 60, 60, 60, *[62] * len(grades)), sortable=True)
        self.distribution = result.distribution
        self.chart.set_image(result.chart)
        if result.ranking is not None:
            self._show_ranking(result.ranking)
        else:  # counted again when asked for
            self.ranking_rows.set_rows([], [])
        self._ranking_toggled(self.show_ranking.isChecked(), remember=False)

    def _ranking_toggled(self, on: bool, remember: bool = True) -> None:
        if remember:
            self.ctx.settings.set(RANKING_KEY, on)
        self.ranking_box.setVisible(on)
        if not on or self.loading() or self.ranking_rows.rowCount():
            return  # a load under way shows the ranking when it is done
        counted, year = self.counted, self.year.currentData()
        if counted is None or counted.year != year:
            self.refresh()
        else:
            self.load("正在排名……", lambda: _ranking_cells(counted, year), self._show_ranking, busy="正在计算……")

    def _show_ranking(self, loaded: tuple[list[list[str]], list[int]]) -> None:
        self.ranking_rows.set_rows(*loaded)

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
        announce_written(self, path, f"{year}年{what}", detail=f"共 {count} {counted}。", name="points_export_done")
        return path

    def write_template(self, path: Path | None = None) -> Path | None:
        path = path or self.page.ask_path("保存积分记录模板", "党员积分记录模板.xlsx", "Excel 工作簿 (*.xlsx)")
        if path is None:
            return None
        written = write_record_template(path)
        announce_written(self, written, "积分记录模板", detail="各村填好后用“导入村报积分记录”导入。",
                         name="template_done")
        return written

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
        except DomainError as exc:
            self.page.show_error(exc)
            return
        call_service(self, lambda: import_records(self.ctx.db, path, self.ctx.actor), lambda _r: self._imported(created),
                     self.page.show_error, title="未导入")

    def _imported(self, created: int) -> None:
        self.page.status(f"已导入 {created} 条积分记录，等待村审")
        self.page.data_changed.emit()


# ----- 规则 -----------------------------------------------------------------------------------------
class RulesTab(_Tab):
    def __init__(self, page: PointsPage) -> None:
        super().__init__(page)
        self.year = _year_combo(dt.date.today().year)
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

    def choices_loaded(self) -> bool:
        _add_years(self.year, self.page.years)
        return False

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
    loads_in_background = True  # each tab reads its data in the pool; data_shown follows

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = PointsService(ctx.db, ctx.actor)
        self.villages: list[tuple[int, str]] | None = None  # read when the page is first shown
        self.years: list[int] = []
        self.choices = _Loader(self, self.show_error)
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

    def _tabs(self) -> list[_Tab]:
        return [tab for i in range(self.tabs.count()) if isinstance(tab := self.tabs.widget(i), _Tab)]

    def refresh(self) -> None:
        """The shown tab re-reads its data (in the pool); the first time, the villages and years for the tabs'
        choices are read alongside."""
        tab = self.tabs.currentWidget()
        if not isinstance(tab, _Tab):
            return
        if self.villages is None and not self.choices.running():
            self._load_choices()
        if tab.loading():  # back on a tab still reading: what it reads is what it will show
            return
        try:
            tab.refresh()
        except DomainError as exc:
            self.show_error(exc)
        if not self.loading():  # shown at once (a tab with nothing to read, or read already)
            self.data_shown.emit()

    def _load_choices(self) -> None:
        today = dt.date.today().year

        def work() -> tuple[list[tuple[int, str]], list[int]]:
            # registry.villages() also counts each village's people: 0.4 s for a county, so not on the GUI thread
            years = sorted({today, *(r.year for r in self.service.rule_sets())}, reverse=True)
            return _villages(self.ctx), years

        self.choices.start("正在加载……", work, self._choices_loaded)

    def _choices_loaded(self, loaded: tuple[list[tuple[int, str]], list[int]]) -> None:
        self.villages, self.years = loaded
        current = self.tabs.currentWidget()
        for tab in self._tabs():
            if tab.choices_loaded() and tab is current:
                tab.refresh()
        if not self.loading():
            self.data_shown.emit()

    def village_list(self) -> list[tuple[int, str]]:
        """The villages the user may see (read now if the page has not read them yet)."""
        if self.villages is None:
            self.villages = _villages(self.ctx)
        return self.villages

    def tab_loaded(self, tab: _Tab) -> None:
        if tab is self.tabs.currentWidget() and not self.choices.running():
            self.data_shown.emit()

    def loading(self) -> bool:
        """Anything still being read in the pool (tests wait for this)."""
        return self.choices.running() or any(tab.loading() for tab in self._tabs())

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
        self.village = _village_box()  # filled in the pool when the page is first shown
        self.villages_read = False
        self.choices = _Loader(self, self.show_error)
        self.status_filter = QComboBox()
        self.status_filter.addItem("全部状态", None)
        for status in settings()["redemption_statuses"]:
            self.status_filter.addItem(status, status)
        self.redemptions = QTableWidget()
        self.redemptions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.redemptions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.redemption_search = TableSearch(self.redemptions, "查找：单号、兑换人、商品")
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
        filters.addWidget(self.redemption_search, 1)
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
        if not self.villages_read and not self.choices.running():
            self.choices.start("正在加载……", lambda: _villages(self.ctx), self._villages_loaded)
        self.items = self.service.items()
        fill_table(self.goods, ("商品", "所需积分", "库存", "领取地点", "状态"),
                   [[i.name, format_points(i.points), i.stock, i.pickup_point,
                     ("在售" if i.stock > 0 else "库存为0") if i.active else "下架"]
                    for i in self.items], keys=[i.id for i in self.items], widths=(170, 70, 60, 150, 50),
                   sortable=True, fit_last=True)
        current = self.item.currentData()
        self.item.clear()
        for i in self.items:
            if i.active:
                stock = f"库存{i.stock}" if i.stock > 0 else "库存为0，暂不能兑换"
                self.item.addItem(f"{i.name}（{format_points(i.points)}分，{stock}）", i.id)
                if i.stock <= 0:  # listed, so the clerk sees it is out, but it cannot be picked
                    self.item.model().item(self.item.count() - 1).setEnabled(False)  # type: ignore[attr-defined]
        pickable = [n for n in range(self.item.count()) if self.item.model().item(n).isEnabled()]  # type: ignore[attr-defined]
        index = self.item.findData(current)
        self.item.setCurrentIndex(index if index in pickable else pickable[0] if pickable else -1)
        self.refresh_redemptions()
        self._show_member()

    def _villages_loaded(self, villages: list[tuple[int, str]]) -> None:
        self.villages_read = True
        _fill_villages(self.village, villages)

    def refresh_redemptions(self) -> None:
        self.rows = self.service.redemptions(self.village.currentData(), self.status_filter.currentData())
        fill_table(self.redemptions, ("单号", "兑换人", "村/社区", "商品", "数量", "积分", "状态", "兑换时间", "取消原因"),
                   [[r.number, r.member_name, r.village, r.item_name, r.quantity, format_points(r.points), r.status,
                     f"{r.redeemed_at:%Y-%m-%d %H:%M}", r.cancel_reason] for r in self.rows],
                   keys=[r.id for r in self.rows], widths=(120, 70, 90, 150, 40, 50, 60, 130, 140), sortable=True,
                   fit_last=True)
        self.redemption_search.apply()

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
        member, item, quantity = self.member_id, self.item.currentData(), self.quantity.value()
        # the price the clerk saw: a price changed since is then named as the cause, not guessed at
        price = next((i.points for i in self.items if i.id == item), None)
        call_service(self, lambda: self.service.redeem(member, item, quantity, expected_points=price),
                     self._redeemed, self._refused)

    def _refused(self, exc: DomainError) -> None:
        self.error.setText(exc.message)
        self.error.setStyleSheet("color:#c62828")
        self.error.show()

    def _redeemed(self, done: Any) -> None:  # the service's redemption
        self.error.hide()
        self.last = done
        self.refresh()
        self.redemptions.selectRow(next((r for r in range(self.redemptions.rowCount())
                                         if self.redemptions.item(r, 0).data(Qt.ItemDataRole.UserRole) == done.id), 0))

    def _selected(self) -> int | None:
        key = current_key(self.redemptions)
        if key is None:
            self.show_error("请先选择一张兑换单")
            return None
        return int(key)  # type: ignore[call-overload]

    def pick_up(self) -> None:
        rid = self._selected()
        if rid is None:
            return
        call_service(self, lambda: self.service.pick_up(rid), lambda _r: self.refresh(),
                     lambda exc: (self.show_error(exc), self.refresh()))

    def cancel(self) -> None:
        rid = self._selected()
        if rid is None:
            return
        dialog = ReasonDialog("取消兑换", "取消后积分和库存原数退回：", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason = dialog.text()
        call_service(self, lambda: self.service.cancel_redemption(rid, reason), lambda _r: self.refresh(),
                     lambda exc: (self.show_error(exc), self.refresh()))

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
            written = write_receipt_pdf(self.service, rid, path)
        except DomainError as exc:
            self.show_error(exc)
            return None
        show_pdf(self, written)  # a receipt is for printing: opened at once (in the app where there is no viewer)
        return written

    def _selected_item(self) -> int | None:
        """The chosen good's position in ``items`` (the table may be sorted otherwise)."""
        key = current_key(self.goods)
        row = next((i for i, item in enumerate(getattr(self, "items", [])) if item.id == key), None)
        if row is None:
            self.show_error("请先选择一件商品")
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
        item, count = self.items[row].id, self.restock_count.value()
        call_service(self, lambda: self.service.restock(item, count), lambda _r: self.refresh(),
                     lambda exc: (self.show_error(exc), self.refresh()))


