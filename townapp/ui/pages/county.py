"""县级审核 (county databases only): the county's stages on the rounds townships reported, and the return package.

Pick a township's round waiting at a county stage (县级联审, 县级验收 …); each target
shows the township's level; the county marks 同意 or 否决 (the scheme's 否定项 and
what it found) with a comment, saves, and exports the return package for that
township. CountyService decides who may; the buttons only say so beforehand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from townapp.core import permissions
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn
from townapp.county.service import VERDICTS, CountyService, DecisionInput, ReportedRound, return_file_name
from townapp.exchange.package import PackageResult
from townapp.ui.context import AppContext
from townapp.ui.forms.exchange import PackagePasswordDialog, show_package_done
from townapp.ui.jobs import Job, call_service
from townapp.ui.pages.base import Page
from townapp.ui.widgets.files import choose_save_file
from townapp.ui.widgets.tables import SortableItem, TableSearch, sort_on_header_click

TITLE = "县级审核"
HEADERS = ("村区划代码", "对象", "编号", "乡镇评定等级", "得分", "县级结论", "否定项", "否决依据", "意见")
WIDTHS = (110, 160, 90, 90, 60, 80, 200, 200, 200)
VERDICT, NEGATIVE, NOTE, COMMENT = 5, 6, 7, 8


def create_pages(ctx: AppContext) -> list[Page]:
    """Only a county database has townships' rounds to decide."""
    return [CountyPage(ctx)] if ctx.db.meta("mode") == "county" else []


class CountyPage(Page):
    title = TITLE

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = CountyService(ctx.db, ctx.actor)
        self.rounds_box = QComboBox()
        self.rounds_box.setObjectName("county_rounds")
        self.rounds_box.currentIndexChanged.connect(self.load_round)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setObjectName("county_targets")
        self.save_button = QPushButton("保存县级结论")
        self.save_button.setObjectName("save_decisions")
        self.save_button.clicked.connect(self.save)
        self.export_button = QPushButton("导出回传数据包…")
        self.export_button.setObjectName("export_return")
        self.export_button.clicked.connect(self.choose_return_path)
        allowed = permissions.is_township_level(ctx.actor)
        for button in (self.save_button, self.export_button):
            button.setEnabled(allowed)
            if not allowed:
                button.setToolTip("录入县级结论、导出回传数据包需要管理员或县级干部账号")
        top = QHBoxLayout()
        top.addWidget(QLabel("乡镇上报的评定："))
        top.addWidget(self.rounds_box, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.export_button)
        bottom.addStretch(1)
        note = QLabel("这里列出各乡镇数据包中的评定轮次。停在县级环节（县级联审、县级验收等）的轮次由县里逐个对象作出结论："
                      "同意，或按方案的否定项否决并写明依据；保存后导出回传数据包交乡镇导入，乡镇不能再改县级结论。")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(top)
        self.search = TableSearch(self.table, "搜索：村/社区代码、对象名称、等次")
        sort_on_header_click(self.table)  # a verdict chosen or a note typed never moves its row
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.search)
        layout.addLayout(summary_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.rounds: list[ReportedRound] = []

    def refresh(self) -> None:
        try:
            rounds = self.service.rounds()
        except DomainError as exc:
            self.summary.setText(exc.message)
            return
        current = self.rounds_box.currentData()
        self.rounds = rounds
        self.rounds_box.blockSignals(True)
        self.rounds_box.clear()
        for r in rounds:
            waiting = f"【待{r.waiting.name}】" if r.waiting else f"（{r.stage_name}，{r.status}）"
            self.rounds_box.addItem(f"{r.township_name} · {r.name} {waiting}", r.uuid)
        index = max(0, self.rounds_box.findData(current))
        self.rounds_box.blockSignals(False)
        if rounds:
            self.rounds_box.setCurrentIndex(index)
        self.load_round()

    def _current(self) -> ReportedRound | None:
        uuid = self.rounds_box.currentData()
        return next((r for r in self.rounds if r.uuid == uuid), None)

    def load_round(self) -> None:
        rnd = self._current()
        self.table.clear()
        self.table.setColumnCount(len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setRowCount(0)
        if rnd is None:
            self.summary.setText("还没有导入乡镇的数据包，或数据包中没有评定轮次。")
            return
        targets = self.service.targets(rnd.uuid)
        decided = self.service.decisions(rnd.uuid)
        stage = rnd.waiting
        self.summary.setText(
            f"{rnd.township_name}　{rnd.name}（{rnd.scheme_name}）　当前环节：{rnd.stage_name}　"
            + (f"待县里作出“{stage.name}”结论，共 {len(targets)} 个对象，已录入 {len(decided)} 个。" if stage
               else "本轮不在县级环节，只能查看。"))
        self.table.setRowCount(len(targets))
        for row, target in enumerate(targets):
            for column, value in enumerate((target.village_code, target.label, target.code, target.level,
                                            target.measure)):
                item = SortableItem(str(value or ""))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setData(Qt.ItemDataRole.UserRole, target.uuid)
                self.table.setItem(row, column, item)
            earlier = decided.get(target.uuid)
            verdict = QComboBox()
            verdict.addItems(list(VERDICTS))
            negative = QComboBox()
            negative.addItem("", None)
            for choice in rnd.negatives:
                negative.addItem(f"{choice.key} {choice.name}", choice.key)
            if earlier is not None:
                verdict.setCurrentText(earlier.verdict)
                negative.setCurrentIndex(max(0, negative.findData(earlier.negative)))
            for widget in (verdict, negative):
                widget.setEnabled(stage is not None)
            self.table.setCellWidget(row, VERDICT, verdict)
            self.table.setCellWidget(row, NEGATIVE, negative)
            self.table.setItem(row, NOTE, QTableWidgetItem(earlier.note or "" if earlier else ""))
            self.table.setItem(row, COMMENT, QTableWidgetItem(earlier.comment or "" if earlier else ""))
        for column, width in enumerate(WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # in the order reported
        self.search.apply()

    def decisions(self) -> list[DecisionInput]:
        """What the table says, one per target."""
        out = []
        for row in range(self.table.rowCount()):
            uuid = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            verdict = self.table.cellWidget(row, VERDICT).currentText()
            negative = self.table.cellWidget(row, NEGATIVE).currentData()
            note = (self.table.item(row, NOTE).text() if self.table.item(row, NOTE) else "").strip()
            comment = (self.table.item(row, COMMENT).text() if self.table.item(row, COMMENT) else "").strip()
            out.append(DecisionInput(uuid, verdict, negative, note or None, comment or None))
        return out

    def save(self) -> None:
        rnd = self._current()
        if rnd is None:
            return
        items = self.decisions()

        def saved(count: int) -> None:
            self.load_round()
            QMessageBox.information(self, "已保存", f"已保存 {count} 个对象的县级结论。"
                                                 "导出回传数据包交乡镇导入后，乡镇即可看到。")
        call_service(self, lambda: self.service.record(rnd.uuid, items), saved, self.show_error)

    def choose_return_path(self) -> None:
        rnd = self._current()
        if rnd is None:
            self.show_error("请先选择一个乡镇的评定轮次")
            return
        name = return_file_name(rnd.township_name, self.ctx.db.meta("root_name") or "县级", dt.date.today())
        target = choose_save_file(self, "导出回传数据包", self.ctx.settings, name)
        if target is None:
            return
        dialog = PackagePasswordDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.export_return(rnd.township_code, target, dialog.chosen_password())

    def export_return(self, township_code: str, target: Path, password: str | None = None) -> Job:
        service = self.service

        def work(progress: ProgressFn, cancel: CancelFn) -> PackageResult:
            return service.export_return(township_code, target, password=password, progress=progress, cancel=cancel)

        return Job(self, "正在导出回传数据包……", work,
                   on_success=lambda result: show_package_done(self, result, "回传数据包已导出", "return_done"),
                   on_failure=self.show_error).start()
