"""Evaluation dialogs: new round, stage hand-over, objections, reasons, history, chart, scheme editor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from townapp.core.errors import FieldProblem
from townapp.evaluations.dto import ObjectionInput, RoundDTO, RoundInput, SchemeInfo, StageSummary
from townapp.evaluations.publicity import distribution_figure
from townapp.evaluations.scheme_summary import describe_scheme
from townapp.evaluations.schemes import period_label, target_label, vocabulary
from townapp.evaluations.service import PERIOD_COUNT, EvaluationService
from townapp.outputs.figures import FigureRegistry
from townapp.ui.jobs import call_service, problems_of
from townapp.ui.widgets.fields import DateField, ErrorLabel, close_button, ok_cancel
from townapp.ui.widgets.tables import set_rows


def _table(headers: list[str], rows: list[list[str]]) -> QTableWidget:
    table = QTableWidget()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    set_rows(table, headers, rows)
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    return table


class NewRoundDialog(QDialog):
    """Pick a scheme, the period and the villages; the round gets every target of those villages."""

    def __init__(self, service: EvaluationService, villages: list[tuple[int, str]], parent: QWidget | None = None,
                 today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("新建评定")
        self.service = service
        self.round_id: int | None = None
        today = today or dt.date.today()
        self.scheme = QComboBox()
        self.scheme.setObjectName("scheme")
        for info in service.schemes():
            self.scheme.addItem(f"{info.name}（第{info.version}版，{period_label(info.period)}，"
                                f"{target_label(info.target)}）", info.id)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(today.year)
        self.period_no = QSpinBox()
        self.period_label = QLabel()
        self.name = QLineEdit()
        self.name.setPlaceholderText("留空则自动命名，如“2026年度星级文明户”")
        self.bodies = QLineEdit()
        self.bodies_label = QLabel("联评组织")
        self.bodies_list = QLabel()  # every body shown, however many (临猗 七会联评 has seven)
        self.bodies_list.setObjectName("bodies_list")
        self.bodies_list.setWordWrap(True)
        self.bodies.textChanged.connect(self._show_bodies)
        self.villages = QListWidget()
        self.villages.setObjectName("villages")
        for village_id, name in villages:
            item = QListWidgetItem(name, self.villages)
            item.setData(Qt.ItemDataRole.UserRole, village_id)
            item.setCheckState(Qt.CheckState.Checked)
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("评定方案", self.scheme)
        form.addRow("年度", self.year)
        form.addRow(self.period_label, self.period_no)
        form.addRow("名称", self.name)
        form.addRow(self.bodies_label, self.bodies)
        form.addRow("", self.bodies_list)
        form.addRow("参评村/社区", self.villages)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        buttons = ok_cancel(self, "新建")
        buttons.accepted.disconnect()
        buttons.accepted.connect(self.create)
        layout.addWidget(buttons)
        self.scheme.currentIndexChanged.connect(self._scheme_changed)
        self._scheme_changed()
        self.resize(520, 520)

    def select_scheme(self, key: str) -> None:
        info = next(i for i in self.service.schemes() if i.key == key)
        self.scheme.setCurrentIndex(self.scheme.findData(info.id))

    def _scheme_changed(self) -> None:
        scheme_id = self.scheme.currentData()
        if scheme_id is None:
            return
        scheme = self.service.scheme(scheme_id)
        count = PERIOD_COUNT[scheme.period]
        self.period_no.setEnabled(bool(count))
        self.period_no.setRange(1 if count else 0, max(count, 0))
        self.period_label.setText({"month": "月份", "quarter": "季度", "half_year": "半年（1上 2下）"}.get(
            scheme.period, "期次（年度评定无需填写）"))
        has_bodies = any(st.bodies for st in scheme.stages)
        self.bodies.setVisible(has_bodies)
        self.bodies_label.setVisible(has_bodies)
        self.bodies_list.setVisible(has_bodies)
        self.bodies.setText("、".join(scheme.joint_bodies))
        self.bodies.setCursorPosition(0)

    def _bodies(self) -> list[str]:
        return [b.strip() for b in self.bodies.text().replace("，", "、").split("、") if b.strip()]

    def _show_bodies(self) -> None:
        bodies = self._bodies()
        self.bodies_list.setText(f"共 {len(bodies)} 个组织参加联评：{'、'.join(bodies)}（用顿号分隔，可增删）"
                                 if bodies else "请填写参加联评的组织，用顿号分隔")

    def data(self) -> RoundInput:
        villages = [self.villages.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.villages.count())
                    if self.villages.item(i).checkState() == Qt.CheckState.Checked]
        bodies = self._bodies()
        return RoundInput(self.scheme.currentData(), self.year.value(), self.period_no.value(), villages,
                          self.name.text(), bodies if self.bodies.isVisible() else [])

    def create(self) -> None:
        data = self.data()
        call_service(self, lambda: self.service.create_round(data), self._created,
                     lambda exc: self.error.show_problems(problems_of(exc)))

    def _created(self, round_id: int) -> None:
        self.round_id = round_id
        self.accept()


class HandOverDialog(QDialog):
    """What is missing at this stage, and (entering 公示) the dates of the 公示."""

    def __init__(self, summary: StageSummary, publicity_days: int | None, parent: QWidget | None = None,
                 today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("环节移交")
        layout = QVBoxLayout(self)
        text = summary.describe()
        if summary.next_stage_name:
            text += f"\n\n确定移交到“{summary.next_stage_name}”吗？"
        self.summary = QLabel(text)
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setMinimumWidth(420)
        layout.addWidget(self.summary)
        self.start = DateField()
        self.end = DateField()
        if publicity_days:
            start = today or dt.date.today()
            self.start.set_date(start)
            self.end.set_date(start + dt.timedelta(days=publicity_days - 1))
            form = QFormLayout()
            form.addRow("公示开始", self.start)
            form.addRow("公示结束", self.end)
            layout.addLayout(form)
        self.error = ErrorLabel()
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self, "移交"))


class ReasonDialog(QDialog):
    """A reason (unlock, revoke) and optionally a date; both are written to the audit log."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None, with_date: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.date = DateField()
        self.date.set_date(dt.date.today())
        form = QFormLayout()
        words = QLabel(prompt)
        words.setWordWrap(True)  # a computed value's source can be long
        form.addRow(words)
        form.addRow("理由", self.reason)
        if with_date:
            form.addRow("日期", self.date)
        self.error = ErrorLabel()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(ok_cancel(self))
        self.resize(420, 160)


class ObjectionsDialog(QDialog):
    """异议 during 公示: record, then handle (维持原评定 / 调整评定 after correcting the row on the score sheet)."""

    def __init__(self, service: EvaluationService, rnd: RoundDTO, targets: list[tuple[int, str]],
                 parent: QWidget | None = None, selected_target: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("公示异议")
        self.service, self.rnd = service, rnd
        self.table = QTableWidget()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.target = QComboBox()
        self.target.addItem("（整体）", None)
        for target_id, label in targets:
            self.target.addItem(label, target_id)
        if selected_target is not None:
            self.target.setCurrentIndex(max(self.target.findData(selected_target), 0))
        self.raised_by = QLineEdit()
        self.content = QLineEdit()
        self.raised_on = DateField()
        self.raised_on.set_date(min(max(dt.date.today(), rnd.publicity_start or dt.date.today()),
                                    rnd.publicity_end or dt.date.today()))
        self.handling = QLineEdit()
        self.outcome = QComboBox()
        for outcome in vocabulary()["objection_outcomes"]:
            self.outcome.addItem(outcome, outcome)
        self.handled_on = DateField()
        self.handled_on.set_date(self.raised_on.date())
        self.error = ErrorLabel()
        add = QPushButton("登记异议")
        add.setObjectName("add_objection")
        add.clicked.connect(self.add)
        handle = QPushButton("处理所选异议")
        handle.setObjectName("handle_objection")
        handle.clicked.connect(self.handle)
        raise_form = QFormLayout()
        raise_form.addRow("涉及对象", self.target)
        raise_form.addRow("异议人", self.raised_by)
        raise_form.addRow("异议内容", self.content)
        raise_form.addRow("提出日期", self.raised_on)
        raise_form.addRow(add)
        handle_form = QFormLayout()
        handle_form.addRow("处理情况", self.handling)
        handle_form.addRow("处理结果", self.outcome)
        handle_form.addRow("处理日期", self.handled_on)
        hint = QLabel("调整评定：先在评分表中更正该对象的评分（公示期间仅限有待处理异议的对象），再在此记录处理结果。")
        hint.setWordWrap(True)
        handle_form.addRow(hint)
        handle_form.addRow(handle)
        forms = QHBoxLayout()
        forms.addLayout(raise_form, 1)
        forms.addLayout(handle_form, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(forms)
        layout.addWidget(self.error)
        layout.addWidget(close_button(self))
        self.items = []
        self.reload()
        self.resize(860, 520)

    def reload(self) -> None:
        self.items = self.service.objections(self.rnd.id)
        headers = ["对象", "异议人", "提出日期", "内容", "处理结果", "处理情况"]
        set_rows(self.table, headers, [(o.target_label or "（整体）", o.raised_by, f"{o.raised_on:%Y-%m-%d}", o.content,
                                         o.outcome or "待处理", o.handling or "") for o in self.items])
        self.table.resizeColumnsToContents()
        content = headers.index("内容")  # a long objection must not push 处理结果 out of sight
        self.table.setColumnWidth(content, min(self.table.columnWidth(content), 280))
        self.table.horizontalHeader().setStretchLastSection(True)

    def _run(self, action: Callable[[], object]) -> None:
        """One service write (waits visibly while the database is busy); the list is re-read after it."""
        call_service(self, action, lambda _r: self._done(), lambda exc: self.error.show_problems(problems_of(exc)))

    def _done(self) -> None:
        self.error.show_problems([])
        self.reload()

    def add(self) -> None:
        day = self.raised_on.date() or dt.date.today()
        data = ObjectionInput(self.rnd.id, self.raised_by.text(), self.content.text(), day, self.target.currentData())
        self._run(lambda: self.service.add_objection(data))

    def handle(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.items):
            self.error.show_problems([FieldProblem("", "请先在上表选择一条异议")])
            return
        objection = self.items[row]
        handling, outcome = self.handling.text(), self.outcome.currentData()
        day = self.handled_on.date() or dt.date.today()
        self._run(lambda: self.service.handle_objection(objection.id, handling, outcome, day))


class HistoryDialog(QDialog):
    """A target's levels across rounds (晋级/降级) and its path through this round's stages."""

    def __init__(self, service: EvaluationService, target_id: int, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"等级历史 — {label}")
        history = service.history(target_id)
        path = service.path(target_id)
        self.history = _table(["评定", "期间", "等级", "得分/星数", "变化"],
                              [[h.round_name, h.period_text, h.level, "" if h.measure is None else f"{h.measure:f}",
                                h.change + ("" if h.final else "（未定级）")] for h in history])
        self.history.setObjectName("history")
        self.path = _table(["环节", "等级", "得分/星数", "意见", "录入人"],
                           [[p.stage_name, p.level or "", "" if p.measure is None else f"{p.measure:f}", p.comment,
                             p.entered_by or ""] for p in path])
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("历次评定"))
        layout.addWidget(self.history, 2)
        layout.addWidget(QLabel("本轮评定路径"))
        layout.addWidget(self.path, 1)
        layout.addWidget(close_button(self))
        self.resize(680, 460)


class ChartDialog(QDialog):
    def __init__(self, service: EvaluationService, round_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("各村等级分布")
        self.figure = distribution_figure(service, round_id, Figure(figsize=(8.0, 4.2), dpi=100))
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumSize(640, 340)
        layout = QVBoxLayout(self)
        layout.addWidget(self.canvas)
        layout.addWidget(close_button(self))


class SchemeDialog(QDialog):
    """The schemes and their versions; edit one as text (a round's version never changes: a new one is made)."""

    def __init__(self, service: EvaluationService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("评定方案")
        self.service = service
        self.list = QComboBox()
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("scheme_text")
        self.status = ErrorLabel()
        save = QPushButton("保存修改")
        save.clicked.connect(self.save)
        top = QHBoxLayout()
        top.addWidget(QLabel("方案（版本）："))
        top.addWidget(self.list, 1)
        top.addWidget(save)
        self._figures: FigureRegistry | None = None
        self.summary = QPlainTextEdit()
        self.summary.setObjectName("scheme_summary")
        self.summary.setReadOnly(True)
        # the scheme in words first; the JSON the engine reads only for the one who edits it
        self.tabs = QTabWidget()
        self.tabs.addTab(self.summary, "方案说明")
        self.tabs.addTab(self.editor, "方案原文（修改用）")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        self.list.currentIndexChanged.connect(self._show)
        self._load()
        self.resize(760, 600)

    def _load(self, select: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for info in self.service.schemes(all_versions=True):
            self.list.addItem(f"{info.name} 第{info.version}版（{info.source or ''}，{info.rounds}轮评定使用）", info.id)
        self.list.blockSignals(False)
        self.list.setCurrentIndex(max(self.list.findData(select), 0) if select else 0)
        self._show()

    def _show(self) -> None:
        scheme_id = self.list.currentData()
        if scheme_id is not None:
            self.editor.setPlainText(self.service.scheme_text(scheme_id))
            self.summary.setPlainText(describe_scheme(self.service.scheme(scheme_id), self._figure_label))

    def _figure_label(self, key: str) -> str:
        """A computed indicator's figure by the name the return and the dashboards give it."""
        if self._figures is None:
            from townapp.figures import figure_registry

            self._figures = figure_registry(self.service.db)
        return self._figures.label(key) if key in self._figures else key

    def save(self) -> None:
        text = self.editor.toPlainText()
        call_service(self, lambda: self.service.save_scheme(text), self._saved,
                     lambda exc: self.status.show_problems(problems_of(exc)))

    def _saved(self, info: SchemeInfo) -> None:
        self._load(info.id)
        self.status.show_hint(f"已保存为“{info.name}”第{info.version}版；已有评定仍使用原来的版本。")
