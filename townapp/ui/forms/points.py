"""Dialogs of the points pages: a reason (驳回, 冲正, 取消兑换), a meeting's attendance into records,
correcting a rejected record, goods of the store, and editing the year's rules (a new version)."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from townapp.archives.service import ArchiveService
from townapp.core.dates import DateParseError
from townapp.core.errors import DomainError, FieldProblem
from townapp.points.dto import MeetingProposal, RecordInput, RecordRow, StoreItemDTO, StoreItemInput
from townapp.points.rules import format_points
from townapp.points.rules_summary import describe_rules
from townapp.points.service import PointsService
from townapp.ui.jobs import call_service, problems_of
from townapp.ui.widgets.fields import DateField, ErrorLabel, ok_cancel
from townapp.ui.widgets.tables import checked_keys, fill_table


class ReasonDialog(QDialog):
    """A reason that the service requires (驳回, 冲正, 取消兑换); an empty one is refused on the spot."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow(QLabel(prompt))
        form.addRow("理由", self.reason)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self))
        self.resize(440, 150)

    def accept(self) -> None:
        if not self.reason.text().strip():
            self.error.show_problems([FieldProblem("reason", "请填写理由")])
            return
        super().accept()

    def text(self) -> str:
        return self.reason.text().strip()


class MeetingDialog(QDialog):
    """A meeting from the archives' ledger: its attendees and absentees become proposed records in one step."""

    def __init__(self, service: PointsService, archives: ArchiveService, villages: list[tuple[int, str]],
                 parent: QWidget | None = None, village_id: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("从会议记录生成积分")
        self.service, self.archives = service, archives
        self.created: list[int] = []
        self.proposal: MeetingProposal | None = None
        self.village = QComboBox()
        for vid, name in villages:
            self.village.addItem(name, vid)
        if village_id is not None:
            self.village.setCurrentIndex(max(self.village.findData(village_id), 0))
        self.meeting = QComboBox()
        self.meeting.setMinimumWidth(360)
        self.table = QTableWidget()
        self.summary = QLabel()
        self.error = ErrorLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("村/社区"))
        top.addWidget(self.village)
        top.addWidget(QLabel("会议"))
        top.addWidget(self.meeting, 1)
        generate = QPushButton("生成积分记录")
        generate.setObjectName("generate")
        generate.setDefault(True)
        generate.clicked.connect(self.generate)
        close = QPushButton("关闭")
        close.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(generate)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("出席者按会议类型加分，无故缺席者扣分；请假、免考和已录入的不生成。可去掉个别人的勾。"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        layout.addLayout(bottom)
        self.village.currentIndexChanged.connect(self.load_meetings)
        self.meeting.currentIndexChanged.connect(self.load_proposals)
        self.resize(760, 520)
        self.load_meetings()

    def load_meetings(self) -> None:
        self.meeting.blockSignals(True)
        self.meeting.clear()
        vid = self.village.currentData()
        if vid is not None:
            for x in reversed(self.archives.meetings(vid)):
                self.meeting.addItem(f"{x.held_on:%Y-%m-%d} {x.kind}：{x.topic}（出席{x.count('出席')}人）", x.id)
        self.meeting.blockSignals(False)
        self.load_proposals()

    def select_meeting(self, meeting_id: int) -> None:
        self.meeting.setCurrentIndex(self.meeting.findData(meeting_id))

    def load_proposals(self) -> None:
        vid, mid = self.village.currentData(), self.meeting.currentData()
        self.proposal = None
        if vid is None or mid is None:
            fill_table(self.table, ("生成", "姓名", "出席情况", "积分事项", "分值"), [])
            self.summary.setText("该村还没有会议记录")
            return
        try:
            self.proposal = self.service.meeting_proposals(vid, mid)
        except DomainError as exc:
            self.error.show_problems([FieldProblem("", exc.message)])
            return
        rows = [("" if p.proposed else "—", p.name, p.attendance, p.rule_name or p.skip_reason,
                 format_points(p.points, signed=True) if p.proposed else p.skip_reason)
                for p in self.proposal.proposals]
        fill_table(self.table, ("生成", "姓名", "出席情况", "积分事项", "分值/说明"), rows, checkable=True,
                   keys=[p.party_member_id for p in self.proposal.proposals], widths=(48, 90, 70, 300, 160))
        for r, p in enumerate(self.proposal.proposals):
            item = self.table.item(r, 0)
            if p.proposed:
                item.setCheckState(Qt.CheckState.Checked)
            else:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
                item.setData(Qt.ItemDataRole.CheckStateRole, None)
        self.summary.setText(f"将生成 {len(self.proposal.proposed)} 条积分记录（提交后进入村审）")

    def generate(self) -> None:
        if self.proposal is None:
            return
        village_id, meeting_id, keys = self.proposal.village_id, self.proposal.meeting_id, checked_keys(self.table)
        call_service(self, lambda: self.service.add_from_meeting(village_id, meeting_id, keys), self._created,
                     lambda exc: self.error.show_problems(problems_of(exc)))

    def _created(self, created: object) -> None:
        self.created = created
        self.accept()


class ResubmitDialog(QDialog):
    """Correct a rejected record (date, points, note, evidence) and send it back to 村审."""

    def __init__(self, service: PointsService, record: RecordRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("修改后重新提交")
        self.service, self.record = service, record
        self.date = DateField()
        self.date.set_date(record.occurred_on)
        self.points = QLineEdit(format_points(abs(record.points)))
        self.points.setObjectName("points")
        self.note = QLineEdit(record.note)
        self.evidence = QLineEdit(record.evidence)
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("党员", QLabel(f"{record.name}（{record.village}）"))
        form.addRow("积分事项", QLabel(f"{record.rule_code} {record.rule_name}（{record.direction}）"))
        reason = QLabel(f"驳回理由：{record.reject_reason}")
        reason.setStyleSheet("color:#c62828")
        reason.setWordWrap(True)
        form.addRow(reason)
        form.addRow("发生日期", self.date)
        form.addRow("分值", self.points)
        form.addRow("事项说明", self.note)
        form.addRow("佐证材料", self.evidence)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "重新提交"))
        self.resize(460, 300)

    def accept(self) -> None:
        try:
            day = self.date.date()
        except DateParseError as exc:
            self.error.show_problems([FieldProblem("occurred_on", str(exc))])
            return
        record_id, data = self.record.id, RecordInput(day, self.points.text(), self.note.text(), self.evidence.text())
        call_service(self, lambda: self.service.resubmit(record_id, data), lambda _r: super(ResubmitDialog, self).accept(),
                     lambda exc: self.error.show_problems(problems_of(exc)))


class ItemDialog(QDialog):
    """A good of the 积分超市: name, points, stock, pickup point, on sale or not."""

    def __init__(self, service: PointsService, item: StoreItemDTO | None = None, parent: QWidget | None = None,
                 pickup: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("修改商品" if item else "新增商品")
        self.service, self.item = service, item
        self.name = QLineEdit(item.name if item else "")
        self.name.setObjectName("name")
        self.points = QLineEdit(format_points(item.points) if item else "")
        self.points.setPlaceholderText("如 10 或 2.5")
        self.stock = QSpinBox()
        self.stock.setRange(0, 100000)
        self.stock.setValue(item.stock if item else 0)
        self.pickup = QLineEdit(item.pickup_point if item else pickup)
        self.active = QCheckBox("在售")
        self.active.setChecked(item.active if item else True)
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("商品名称", self.name)
        form.addRow("所需积分", self.points)
        form.addRow("库存", self.stock)
        form.addRow("领取地点", self.pickup)
        form.addRow("", self.active)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "保存"))

    def accept(self) -> None:
        data = StoreItemInput(self.name.text(), self.points.text(), self.stock.value(), self.pickup.text(),
                              self.active.isChecked(), self.item.id if self.item else None)
        call_service(self, lambda: self.service.save_item(data), lambda _r: super(ItemDialog, self).accept(),
                     lambda exc: self.error.show_problems(problems_of(exc)))


class RulesDialog(QDialog):
    """The year's rules as text; saving checks every rule and stores a new version (old records keep theirs)."""

    def __init__(self, service: PointsService, year: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{year}年积分规则")
        self.service, self.year = service, year
        self.editor = QPlainTextEdit(service.rule_set_text(year))
        self.editor.setObjectName("rules_text")
        self.summary = QPlainTextEdit(describe_rules(service.rule_set(year)[1]))
        self.summary.setObjectName("rules_summary")
        self.summary.setReadOnly(True)
        self.error = ErrorLabel()
        # the rules in words first; the JSON the engine reads only for the one who edits it
        self.tabs = QTabWidget()
        self.tabs.addTab(self.summary, "规则说明")
        self.tabs.addTab(self.editor, "规则原文（修改用）")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("分值最多一位小数；在“规则原文”中修改，保存后生成新版本，已录入的记录保留原版本的名称和分值。"))
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "保存为新版本"))
        self.resize(760, 600)

    def accept(self) -> None:
        year, text = self.year, self.editor.toPlainText()
        call_service(self, lambda: self.service.save_rule_set(year, text), lambda _r: super(RulesDialog, self).accept(),
                     lambda exc: self.error.show_problems(problems_of(exc)))


def today() -> dt.date:
    return dt.date.today()
