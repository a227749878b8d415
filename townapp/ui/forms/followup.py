"""Dialogs of the 整改跟踪 page: accept, reject, report progress, edit a 问题清单, close, add by hand.

Each reads its fields first and hands the service call to ``call_service`` (through the accounts forms'
service dialog), so a refusal stays in the form with what was typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from townapp.core.dates import DateParseError, parse_date
from townapp.core.errors import FieldProblem, ValidationFailed
from townapp.followup.dto import ItemDetail, ItemInput, ProblemData
from townapp.followup.rules import KINDS, PROBLEM_DONE, PROBLEM_OPEN
from townapp.followup.service import FollowUpService
from townapp.ui.forms.accounts import _ServiceDialog as ServiceDialog
from townapp.ui.widgets.fields import DateField

PROBLEM_HEADERS = ("问题", "整改期限", "状态", "销号日期", "说明")


def _date_of(field: DateField, name: str, label: str) -> dt.date | None:
    problem = field.problem(name)
    if problem is not None:
        raise ValidationFailed([FieldProblem(name, f"{label}：{problem.message}")])
    return field.date()


def _text(value: object) -> str:
    if value is None:
        return ""
    return f"{value:%Y-%m-%d}" if isinstance(value, dt.date) else str(value)


class AcceptDialog(ServiceDialog):
    """采纳: the deadline may be set again; a 整顿 item opens the 软弱涣散 case in the village archive."""

    def __init__(self, service: FollowUpService, detail: ItemDetail, parent: QWidget | None = None) -> None:
        row = detail.row
        intro = f"{row.village}：{row.title}"
        if row.kind == "整顿":
            intro += "\n采纳后将在一村一档中建立软弱涣散认定记录（本村已有该年度记录的，直接关联）。"
        super().__init__("采纳整改事项", intro, "采纳", parent)
        self.service, self.item_id = service, row.id
        self.deadline = DateField()
        self.deadline.setObjectName("deadline")
        self.deadline.set_date(row.deadline)
        self.note = QLineEdit()
        self.note.setObjectName("note")
        self.note.setPlaceholderText("如：由包村领导牵头，制定整改方案")
        self.form.addRow("整改期限", self.deadline)
        self.form.addRow("说明", self.note)

    def prepare(self) -> Callable[[], object]:
        deadline, note, item_id = _date_of(self.deadline, "deadline", "整改期限"), self.note.text(), self.item_id
        return lambda: self.service.accept(item_id, deadline=deadline, note=note)


class RejectDialog(ServiceDialog):
    """不予采纳: the reason is required and goes into the audit log."""

    def __init__(self, service: FollowUpService, detail: ItemDetail, parent: QWidget | None = None) -> None:
        super().__init__("不予采纳", f"{detail.row.village}：{detail.row.title}\n理由和操作人会记入审计日志。",
                         "不予采纳", parent)
        self.service, self.item_id = service, detail.row.id
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText("如：已列入县级整顿名单统一整顿")
        self.form.addRow("理由", self.reason)

    def prepare(self) -> Callable[[], object]:
        reason, item_id = self.reason.text(), self.item_id
        return lambda: self.service.reject(item_id, reason)


class CloseDialog(ServiceDialog):
    """办结: the township checks the result; every problem of the list must be 已销号 first."""

    def __init__(self, service: FollowUpService, detail: ItemDetail, parent: QWidget | None = None) -> None:
        super().__init__("整改办结", f"{detail.row.village}：{detail.row.title}", "办结", parent)
        self.service, self.item_id = service, detail.row.id
        self.result = QLineEdit()
        self.result.setObjectName("result")
        self.result.setPlaceholderText("如：经乡镇党委验收，整改到位")
        self.on = DateField()
        self.on.setObjectName("on")
        self.on.set_date(dt.date.today())
        self.form.addRow("整改结果", self.result)
        self.form.addRow("办结日期", self.on)

    def prepare(self) -> Callable[[], object]:
        result, on, item_id = self.result.text(), _date_of(self.on, "on", "办结日期"), self.item_id
        return lambda: self.service.close(item_id, result, on=on)


class _ProblemTable(QTableWidget):
    """A 问题清单 as a table: content and deadline editable (township), status as a tick (progress)."""

    def __init__(self, problems: list[ProblemData], *, edit_text: bool) -> None:
        super().__init__(0, len(PROBLEM_HEADERS))
        self.setObjectName("problems")
        self.edit_text = edit_text
        self.setHorizontalHeaderLabels(list(PROBLEM_HEADERS))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        for width, column in ((300, 0), (95, 1), (70, 2), (95, 3), (160, 4)):
            self.setColumnWidth(column, width)
        self.setMinimumWidth(760)
        for problem in problems:
            self.add(problem)

    def add(self, problem: ProblemData) -> None:
        r = self.rowCount()
        self.insertRow(r)
        for c, value in enumerate((problem.content, _text(problem.deadline), "", _text(problem.closed_on),
                                   problem.note or "")):
            item = QTableWidgetItem(value)
            editable = c in (0, 1) and self.edit_text or c in (3, 4) and not self.edit_text
            if not editable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, problem.id)
            if c == 2:
                item.setText("已销号" if problem.status == PROBLEM_DONE else "整改中")
                if not self.edit_text:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Checked if problem.status == PROBLEM_DONE
                                       else Qt.CheckState.Unchecked)
            self.setItem(r, c, item)

    def problems(self) -> list[ProblemData]:
        out, wrong = [], []
        for r in range(self.rowCount()):
            cells = [self.item(r, c).text().strip() if self.item(r, c) else "" for c in range(len(PROBLEM_HEADERS))]
            dates = []
            for column in (1, 3):
                try:
                    dates.append(parse_date(cells[column], allow_month=False) if cells[column] else None)
                except DateParseError as exc:
                    wrong.append(FieldProblem("problems", f"第{r + 1}行{PROBLEM_HEADERS[column]}：{exc}"))
                    dates.append(None)
            status_item = self.item(r, 2)
            done = (status_item.checkState() == Qt.CheckState.Checked if not self.edit_text
                    else status_item.text() == PROBLEM_DONE)
            out.append(ProblemData(cells[0], dates[0], PROBLEM_DONE if done else PROBLEM_OPEN, dates[1],
                                   cells[4] or None, self.item(r, 0).data(Qt.ItemDataRole.UserRole)))
        if wrong:
            raise ValidationFailed(wrong)
        return out


class ProgressDialog(ServiceDialog):
    """整改进展: a note and, for a 问题清单, problems ticked 已销号 (a clerk may do it for their own village)."""

    def __init__(self, service: FollowUpService, detail: ItemDetail, parent: QWidget | None = None) -> None:
        super().__init__("填报整改进展", f"{detail.row.village}：{detail.row.title}\n勾选已整改到位的问题即为销号。",
                         "保存", parent)
        self.service, self.item_id = service, detail.row.id
        self.note = QPlainTextEdit(detail.progress_note)
        self.note.setObjectName("note")
        self.note.setMaximumHeight(70)
        self.form.addRow("进展情况", self.note)
        self.table = _ProblemTable(detail.problems, edit_text=False) if detail.problems else None
        if self.table is not None:
            self.form.addRow("问题清单", self.table)

    def prepare(self) -> Callable[[], object]:
        note, item_id = self.note.toPlainText(), self.item_id
        problems = self.table.problems() if self.table is not None else []
        return lambda: self.service.update_progress(item_id, note, problems)


class ProblemsDialog(ServiceDialog):
    """修改问题清单: what is to be fixed and by when (township)."""

    def __init__(self, service: FollowUpService, detail: ItemDetail, parent: QWidget | None = None) -> None:
        super().__init__("修改问题清单", f"{detail.row.village}：{detail.row.title}", "保存", parent)
        self.service, self.item_id = service, detail.row.id
        self.table = _ProblemTable(detail.problems, edit_text=True)
        add = QPushButton("新增一条")
        add.setObjectName("add_problem")
        add.clicked.connect(lambda: self.table.add(ProblemData("", detail.row.deadline)))
        remove = QPushButton("删除选中")
        remove.setObjectName("remove_problem")
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        self.form.addRow(self.table)
        self.form.addRow(buttons)

    def prepare(self) -> Callable[[], object]:
        problems, item_id = self.table.problems(), self.item_id
        return lambda: self.service.save_problems(item_id, problems)


class AddItemDialog(ServiceDialog):
    """新增事项: an inspection's findings tracked like the proposed ones."""

    def __init__(self, service: FollowUpService, villages: list[tuple[str, int]], year: int,
                 parent: QWidget | None = None) -> None:
        super().__init__("新增整改事项", "巡察、审计、督查等发现的问题，可手工登记后跟踪整改。", "保存", parent)
        self.service = service
        self.village = QComboBox()
        self.village.setObjectName("village")
        for name, vid in villages:
            self.village.addItem(name, vid)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(year)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.kind.addItems(list(KINDS))
        self.kind.setCurrentText("问题清单")
        self.title = QLineEdit()
        self.title.setObjectName("title")
        self.title.setPlaceholderText("如：2026年巡察反馈问题")
        self.content = QPlainTextEdit()
        self.content.setMaximumHeight(60)
        self.deadline = DateField()
        self.deadline.setObjectName("deadline")
        self.problems = QPlainTextEdit()
        self.problems.setObjectName("problem_lines")
        self.problems.setPlaceholderText("每行一条问题，期限同上")
        self.problems.setMaximumHeight(90)
        for label, widget in (("村/社区", self.village), ("年度", self.year), ("类别", self.kind),
                              ("事项", self.title), ("内容", self.content), ("整改期限", self.deadline),
                              ("问题清单", self.problems)):
            self.form.addRow(label, widget)

    def prepare(self) -> Callable[[], object]:
        data = ItemInput(self.village.currentData(), self.year.value(), self.kind.currentText(), self.title.text(),
                         self.content.toPlainText(), _date_of(self.deadline, "deadline", "整改期限"),
                         [ProblemData(line.strip()) for line in self.problems.toPlainText().splitlines()
                          if line.strip()])
        return lambda: self.service.add(data)
