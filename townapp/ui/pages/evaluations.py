"""星级评定: rounds, the score sheet per stage (keyboard entry, paste from Excel, live level), hand-over,
公示 and objections, 定级/解锁, level history, the distribution chart and the workbooks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.evaluations import validation as cells
from townapp.evaluations.dto import EntryInput, RoundDTO, SheetRow
from townapp.evaluations.publicity import write_publicity_pdf, write_publicity_xlsx
from townapp.evaluations.schemes import Scheme
from townapp.evaluations.service import EvaluationService
from townapp.evaluations.sheets import import_stage_workbook, write_stage_workbook
from townapp.figures import figure_registry
from townapp.ui.context import AppContext
from townapp.ui.forms.evaluations import (
    ChartDialog,
    HandOverDialog,
    HistoryDialog,
    NewRoundDialog,
    ObjectionsDialog,
    ReasonDialog,
    SchemeDialog,
)
from townapp.ui.jobs import call_service, problems_of
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.tables import FrozenFirstColumnView, sort_key

Index = QModelIndex | QPersistentModelIndex
_LOCKED_BG = QColor("#f2f2f2")
_COMPUTED_BG = QColor("#e8f1fb")  # filled from the data (来源 in the tooltip and under the sheet)
_ADJUSTED_BG = QColor("#fdf1dc")  # a computed value a person changed, with a reason
_VETO_FG = QColor("#c62828")
ROUND_KEY = "evaluations_round"  # per database file: the round last chosen, shown again after a restart


def _wrap(text: str, width: int = 6) -> str:
    """Long Chinese headers in lines of ``width`` characters, so narrow columns still show all of them."""
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


def create_pages(ctx: AppContext) -> list[Page]:
    return [EvaluationsPage(ctx)]


def _who(row: SheetRow) -> str:
    """东张村党组织, or 东张村张建国: the village named once."""
    return row.label if row.label.startswith(row.village) else f"{row.village}{row.label}"


_sort_key = sort_key  # numbers as numbers, then text (widgets.tables)


class _Cancelled(ValueError):
    """A change to a computed value whose reason the person did not give."""


class _Column:
    """One score-sheet column: what it shows and, if editable, how a typed value becomes part of the entry."""

    def __init__(self, kind: str, key: str, header: str, width: int = 80) -> None:
        self.kind, self.key, self.header, self.width = kind, key, header, width


class ScoreModel(QAbstractTableModel):
    """Targets as rows, the scheme's inputs, indicators and negative items as columns; saved cell by cell."""

    failed = Signal(str)
    saved = Signal()

    def __init__(self, service: EvaluationService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.rnd: RoundDTO | None = None
        self.stage = ""
        self.rows: list[SheetRow] = []  # the rows shown: found by the search, in the chosen order
        self.all_rows: list[SheetRow] = []  # every target of the stage (and village) loaded
        self.search = ""
        self.sort_column, self.sort_order = -1, Qt.SortOrder.AscendingOrder  # -1: the service's order
        self.columns: list[_Column] = []
        self.editable = False
        self.publicity_change = False
        # asked for the reason when a computed value is changed (the page opens a dialog); None: refused
        self.ask_reason: Callable[[str], str | None] | None = None

    # ----- loading -------------------------------------------------------------
    def load(self, rnd: RoundDTO, stage: str, village_id: int | None) -> None:
        self.beginResetModel()
        self.rnd, self.stage = rnd, stage
        scheme = rnd.scheme
        self.publicity_change = (not rnd.locked and rnd.current_stage.is_publicity
                                 and stage == self._correction_stage(rnd))
        self.editable = not rnd.locked and (stage == rnd.stage or self.publicity_change)
        self.all_rows = self.service.sheet(rnd.id, stage, village_id)
        measure = {"stars": "星数", "score": "得分", "checks": "达标项"}[scheme.measure]
        # the live level sits right after the target, so it is on screen whatever column is being typed
        cols = [_Column("info", "village", "村/社区", 80), _Column("info", "code", "编号", 64),
                _Column("info", "label", "对象", 72), _Column("info", "level", "当前等级", 64),
                _Column("info", "measure", measure, 56)]
        cols += [_Column("input", spec.key, _wrap(spec.name, 5), 84) for spec in scheme.inputs]
        if scheme.rollup is not None:
            cols.append(_Column("info", "rollup", _wrap(scheme.rollup.label, 4), 72))
        width = 64 if scheme.measure == "stars" else 72
        cols += [_Column("score", i.code, _wrap(i.name, 4) + (f"\n({i.max}分)" if scheme.measure == "score" else ""), width)
                 for i in scheme.indicators]
        cols += [_Column("negative", n.code, _wrap(n.name, 5) + f"\n（{'否决' if n.effect == 'veto' else '限' + (n.cap or '')}）",
                         84) for n in scheme.negatives]
        cols += [_Column("comment", "comment", "意见", 140), _Column("info", "stage_level", "本环节等级", 72),
                 _Column("info", "reasons", "说明", 260)]
        self.columns = cols
        self._arrange()
        self.endResetModel()

    # ----- search and sort: a village's hundreds of households ------------------------------------
    def _arrange(self) -> None:
        """``rows`` from ``all_rows``: those whose village, code or name hold the search, in the chosen order."""
        wanted = self.search.casefold()
        rows = [r for r in self.all_rows
                if not wanted or any(wanted in str(x).casefold() for x in (r.village, r.code, r.label))]
        if 0 <= self.sort_column < len(self.columns):
            column = self.columns[self.sort_column]
            if column.key == "level":  # 五星 above 四星: by rank, not by the characters
                rows.sort(key=lambda r: r.rank, reverse=self.sort_order == Qt.SortOrder.DescendingOrder)
            else:
                rows.sort(key=lambda r: _sort_key(self.display(r, column)),
                          reverse=self.sort_order == Qt.SortOrder.DescendingOrder)
        self.rows = rows

    def set_search(self, text: str) -> None:
        self.beginResetModel()
        self.search = text.strip()
        self._arrange()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self.sort_column, self.sort_order = column, order
        self._arrange()
        self.layoutChanged.emit()

    @staticmethod
    def _correction_stage(rnd: RoundDTO) -> str | None:
        index = rnd.scheme.stage_index(rnd.stage)
        return next((st.key for st in reversed(rnd.scheme.stages[:index]) if not st.is_publicity), None)

    @property
    def scheme(self) -> Scheme:
        assert self.rnd is not None
        return self.rnd.scheme

    # ----- Qt model --------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header if 0 <= section < len(self.columns) else None
        return str(section + 1)

    def _checkable(self, column: _Column) -> bool:
        return column.kind == "negative" or (column.kind == "score" and self.scheme.measure in ("stars", "checks"))

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        column = self.columns[index.column()]
        if not self.editable or column.kind == "info":
            return base
        if self._checkable(column):
            return base | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable
        return base | Qt.ItemFlag.ItemIsEditable

    def display(self, row: SheetRow, column: _Column) -> str:
        if column.kind == "info":
            if column.key == "measure":
                return "" if row.measure is None else f"{row.measure.normalize():f}"
            if column.key == "rollup":
                return "" if row.rollup is None else f"{row.rollup:f}"
            if column.key == "stage_level":
                return row.stage_level or ""
            if column.key == "reasons":
                missing = f"未填：{'、'.join(row.missing[:4])}" if row.missing else ""
                return "；".join(x for x in (row.reasons, missing) if x)
            return str(getattr(row, column.key) or "")
        if column.kind == "input":
            value = row.inputs.get(column.key)
            return "" if value is None else str(value)
        if column.kind == "score":
            value = row.scores.get(column.key)
            if value is None:
                return ""
            if self.scheme.measure in cells.CHECKABLE:
                return cells.score_text(self.scheme.measure, value) or ""
            return f"{value:f}"
        if column.kind == "negative":
            return row.negatives.get(column.key, "")
        return row.comment

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if role == Qt.ItemDataRole.EditRole and self._checkable(column) and column.kind == "score":
                value = row.scores.get(column.key)
                return "" if value is None else str(int(value))
            return self.display(row, column)
        if role == Qt.ItemDataRole.CheckStateRole and self._checkable(column):
            on = (row.scores.get(column.key) == 1) if column.kind == "score" else column.key in row.negatives
            return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and column.kind in ("score", "info") and column.key != "reasons":
            return int(Qt.AlignmentFlag.AlignCenter)
        computed = column.kind == "score" and column.key in row.sources
        if role == Qt.ItemDataRole.BackgroundRole and computed:
            return QBrush(_ADJUSTED_BG if column.key in row.overrides else _COMPUTED_BG)
        if role == Qt.ItemDataRole.BackgroundRole and (not self.editable or column.kind == "info"):
            return QBrush(_LOCKED_BG)
        if role == Qt.ItemDataRole.ToolTipRole and computed:
            return row.note(column.key)
        if role == Qt.ItemDataRole.ForegroundRole and column.key in ("level", "reasons") and (
                row.rank == 0 and row.entered):
            return QBrush(_VETO_FG)
        if role == Qt.ItemDataRole.ToolTipRole and column.key == "reasons":
            return self.display(row, column)
        return None

    # ----- editing ---------------------------------------------------------------------
    def _parse(self, column: _Column, value: Any) -> tuple[str, Any]:
        """(what changes, the new value) for a typed or pasted cell; raises ValueError with a Chinese message.

        The cell rules are evaluations/validation.py's, the same a returned workbook is read with.
        """
        if column.kind == "score":
            return "score", cells.parse_score(self.scheme.measure, column.header.splitlines()[0], value)
        if column.kind == "negative":
            return "negative", cells.parse_negative(value)
        if column.kind == "input":
            return "input", cells.parse_text(value)
        return "comment", cells.parse_text(value) or ""

    def entry_for(self, row: SheetRow, changes: list[tuple[_Column, Any]]) -> EntryInput:
        scores: dict[str, Decimal | None] = dict(row.scores)
        negatives = dict(row.negatives)
        inputs: dict[str, Any] = {k: (v if isinstance(v, str) else str(v)) for k, v in row.inputs.items()}
        comment = row.comment
        for column, value in changes:
            what, parsed = self._parse(column, value)
            if what == "score":
                scores[column.key] = parsed
            elif what == "negative":
                if parsed is None:
                    negatives.pop(column.key, None)
                else:
                    negatives[column.key] = parsed
            elif what == "input":
                inputs[column.key] = parsed
            else:
                comment = parsed
        return EntryInput(row.target_id, self.stage, scores, negatives, comment, inputs,
                          self._reasons(row, scores))

    def _reasons(self, row: SheetRow, scores: dict[str, Decimal | None]) -> dict[str, str] | None:
        """Why computed values are being changed: asked once per changed cell; ValueError when not given."""
        reasons: dict[str, str] = {}
        for code, value in scores.items():
            auto = row.computed.get(code)
            if auto is None or value is None or value == auto or value == row.scores.get(code):
                continue
            name = next(i.name for i in self.scheme.indicators if i.code == code)
            if self.ask_reason is None:
                raise ValueError(f"“{name}”由数据计算得出，修改须填写理由")
            reason = self.ask_reason(f"{_who(row)}“{name}”由数据计算得出（{row.sources[code]}）。"
                                     "修改须填写理由，理由随评分保存并记入本轮日志。")
            if not reason:
                raise _Cancelled(name)
            reasons[code] = reason
        return reasons or None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or not self.editable:
            return False
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.CheckStateRole:
            value = "1" if Qt.CheckState(value) == Qt.CheckState.Checked else "0"
        elif role != Qt.ItemDataRole.EditRole:
            return False
        return self.apply({index.row(): [(column, value)]})

    def apply(self, changes: dict[int, list[tuple[_Column, Any]]]) -> bool:
        """Save the changed rows in one go; the rows come back with their new levels."""
        try:
            entries = [self.entry_for(self.rows[r], cells) for r, cells in sorted(changes.items())]
        except _Cancelled:
            return False  # the person chose not to give a reason: nothing changes, nothing to say
        except ValueError as exc:
            self.failed.emit(str(exc))
            return False
        outcome: list[bool] = []
        change = self.publicity_change

        def refused(exc: DomainError) -> None:
            outcome.append(False)
            self.failed.emit("\n".join(p.message for p in problems_of(exc)))

        call_service(self.parent(), lambda: self.service.save_entries(entries, publicity_change=change),
                     lambda saved: (outcome.append(True), self._take(saved)), refused)
        return outcome[0] if outcome else True  # still waiting for the database: the rows change once saved

    def _take(self, saved: list[SheetRow]) -> None:
        """The saved rows, with their new levels, replace the shown ones."""
        fresh = {r.target_id: r for r in saved}
        self.all_rows = [fresh.get(row.target_id, row) for row in self.all_rows]
        for number, row in enumerate(self.rows):  # in place: a saved row does not jump away from the cursor
            if row.target_id in fresh:
                self.rows[number] = fresh[row.target_id]
                self.dataChanged.emit(self.index(number, 0), self.index(number, len(self.columns) - 1))
        self.saved.emit()

    def paste(self, top: int, left: int, text: str) -> bool:
        """Tab-separated cells copied from Excel, pasted from (top, left) over the editable columns."""
        if not self.editable:
            self.failed.emit("这一环节现在不能编辑")
            return False
        changes: dict[int, list[tuple[_Column, Any]]] = {}
        for r, line in enumerate(text.rstrip("\r\n").splitlines()):
            row = top + r
            if row >= len(self.rows):
                break
            for c, cell in enumerate(line.split("\t")):
                col = left + c
                if col < len(self.columns) and self.columns[col].kind != "info":
                    changes.setdefault(row, []).append((self.columns[col], cell))
        return bool(changes) and self.apply(changes)


class ScoreView(FrozenFirstColumnView):
    """Enter moves down after an edit, Ctrl+V pastes a block from Excel/WPS; the target (村/社区, 编号, 对象)
    and its live level and measure stay in view however far right the indicators go."""

    FROZEN = 5

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, frozen_count=self.FROZEN)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:  # noqa: N802
        super().closeEditor(editor, hint)
        if hint == QAbstractItemDelegate.EndEditHint.SubmitModelCache:
            current = self.currentIndex()
            below = current.siblingAtRow(current.row() + 1)
            if below.isValid():
                self.setCurrentIndex(below)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        model = self.model()
        if event.matches(QKeySequence.StandardKey.Paste) and isinstance(model, ScoreModel):
            current = self.currentIndex()
            if current.isValid():
                model.paste(current.row(), current.column(), QGuiApplication.clipboard().text())
            return
        super().keyPressEvent(event)


def _button(text: str, slot: Callable[[], object], name: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(lambda _checked=False: slot())  # never hand ``checked`` to a slot's first parameter
    return button


class EvaluationsPage(Page):
    title = "星级评定"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = EvaluationService(ctx.db, ctx.actor, figures=lambda: figure_registry(ctx.db))
        self._synced = False
        self.rnd: RoundDTO | None = None
        self.round = QComboBox()
        self.round.setObjectName("round")
        self.round.setMinimumWidth(360)
        self.stage = QComboBox()
        self.stage.setObjectName("stage")
        self.village = QComboBox()
        self.village.setObjectName("village_filter")
        self.find = QLineEdit()
        self.find.setObjectName("find_target")
        self.find.setPlaceholderText("查找对象：姓名、编号")
        self.find.setClearButtonEnabled(True)
        self.info = QLabel()
        self.info.setObjectName("round_info")
        self.info.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.model = ScoreModel(self.service, self)
        self.model.failed.connect(self.show_error)
        self.model.saved.connect(self._after_save)
        self.model.ask_reason = self.ask_reason
        self.sources = QLabel()
        self.sources.setObjectName("sources")
        self.sources.setWordWrap(True)
        self.sources.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = ScoreView()
        self.view.setObjectName("score_sheet")
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.AnyKeyPressed
                                  | QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)  # a header click sorts (by level, a score, the name)
        self.view.horizontalHeader().setSortIndicatorClearable(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("评定："))
        top.addWidget(self.round, 3)
        top.addWidget(_button("新建评定", self.new_round, "new_round"))
        top.addWidget(_button("评定方案", self.open_schemes, "schemes"))
        top.addStretch(1)
        sheet_bar = QHBoxLayout()
        sheet_bar.addWidget(QLabel("环节："))
        sheet_bar.addWidget(self.stage, 1)
        sheet_bar.addWidget(QLabel("村/社区："))
        sheet_bar.addWidget(self.village, 1)
        sheet_bar.addWidget(self.find, 1)
        self.copy_button = _button("沿用上一环节", self.copy_previous, "copy_previous")
        self.advance_button = _button("移交下一环节", self.advance, "advance")
        self.objections_button = _button("公示异议", self.open_objections, "objections")
        self.finalise_button = _button("定级", self.finalise, "finalise")
        self.unlock_button = _button("解锁", self.unlock, "unlock")
        self.recompute_button = _button("重新计算", self.recompute, "recompute")
        self.recompute_button.setToolTip("按一村一档、党员名册等现有数据重新计算可计算的指标")
        for button in (self.copy_button, self.recompute_button, self.advance_button, self.objections_button,
                       self.finalise_button, self.unlock_button):
            sheet_bar.addWidget(button)
        bottom = QHBoxLayout()
        for text, slot, name in (("等级历史", self.show_history, "history"), ("撤销称号", self.revoke, "revoke"),
                                 ("分布图", self.show_chart, "chart"),
                                 ("导出填报工作簿", self.export_workbook, "export_workbook"),
                                 ("导入填报工作簿", self.import_workbook, "import_workbook"),
                                 ("公示名单PDF", self.export_pdf, "publicity_pdf"),
                                 ("公示名单Excel", self.export_xlsx, "publicity_xlsx")):
            bottom.addWidget(_button(text, slot, name))
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.info)
        layout.addLayout(sheet_bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.sources)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        self.round.currentIndexChanged.connect(lambda _i: self.show_round())
        self.view.selectionModel().currentChanged.connect(lambda _now, _before: self._show_sources())
        self.stage.currentIndexChanged.connect(lambda _i: self.reload_sheet())
        self.village.currentIndexChanged.connect(lambda _i: self.reload_sheet())
        self.find.textChanged.connect(self._find)

    # ----- loading ---------------------------------------------------------------------
    def refresh(self) -> None:
        if not self._synced:
            self._synced = True
            report = self.service.sync_schemes()
            if report.refused:
                self.show_error("以下评定方案文件有误，未载入：\n\n" + "\n\n".join(x.message for x in report.refused))
        chosen = self.round.currentData()
        if chosen is None:  # first shown since start-up: the round the user was on last time
            remembered = self._remembered().get(str(self.ctx.db.location))
            chosen = remembered if isinstance(remembered, int) else None
        self.load_rounds(chosen)

    def _remembered(self) -> dict[str, object]:
        """The round last chosen in each database (file, or server URL without password: the demo's and the
        real one's apart)."""
        stored = self.ctx.settings.get(ROUND_KEY)
        return dict(stored) if isinstance(stored, dict) else {}

    def _remember(self, round_id: int) -> None:
        remembered = self._remembered()
        if remembered.get(str(self.ctx.db.location)) != round_id:
            remembered[str(self.ctx.db.location)] = round_id
            self.ctx.settings.set(ROUND_KEY, remembered)

    def load_rounds(self, select: int | None = None) -> None:
        self.round.blockSignals(True)
        self.round.clear()
        for row in self.service.rounds():
            self.round.addItem(f"{row.name}（{row.stage_name}，{row.status}）", row.id)
        index = self.round.findData(select) if select is not None else 0
        self.round.setCurrentIndex(max(index, 0))
        self.round.blockSignals(False)
        self.show_round()

    def show_round(self) -> None:
        round_id = self.round.currentData()
        self.rnd = None if round_id is None else self.service.round(round_id)
        if round_id is not None:
            self._remember(round_id)
        self.stage.blockSignals(True)
        self.village.blockSignals(True)
        self.stage.clear()
        self.village.clear()
        if self.rnd is not None:
            scheme = self.rnd.scheme
            current = self.rnd.stage
            for st in scheme.score_stages:
                self.stage.addItem(f"{st.name}（{st.actor}）" + ("·当前" if st.key == current else ""), st.key)
            shown = current if not self.rnd.current_stage.is_publicity else ScoreModel._correction_stage(self.rnd)
            self.stage.setCurrentIndex(max(self.stage.findData(shown), 0))
            self.village.addItem("全部", None)
            names = {v.id: v.name for v in self.ctx.registry.villages()}
            for village_id in self.rnd.village_ids:
                if village_id in names:
                    self.village.addItem(names[village_id], village_id)
        self.stage.blockSignals(False)
        self.village.blockSignals(False)
        self._describe()
        self.reload_sheet()

    def _describe(self) -> None:
        rnd = self.rnd
        if rnd is None:
            self.info.setText("还没有评定。点“新建评定”选择方案和参评村开始。")
            return
        parts = [f"方案：{rnd.scheme.name}（第{rnd.scheme_version}版）", f"期间：{rnd.period_text}",
                 f"当前环节：{rnd.stage_name}（{rnd.current_stage.actor}）", f"状态：{rnd.status}"]
        if rnd.bodies:
            parts.append(f"联评组织：{'、'.join(rnd.bodies)}")
        if rnd.publicity_start:
            parts.append(f"公示期：{rnd.publicity_start:%Y-%m-%d} 至 {rnd.publicity_end:%Y-%m-%d}")
        if rnd.locked:
            parts.append(f"已于 {rnd.finalised_on:%Y-%m-%d} 由 {rnd.finalised_by} 定级锁定")
        self.info.setText("　".join(parts))
        publicity = rnd.current_stage.is_publicity
        self.copy_button.setEnabled(not rnd.locked and not publicity)
        self.advance_button.setEnabled(not rnd.locked and rnd.scheme.stage_index(rnd.stage) < len(rnd.scheme.stages) - 1)
        self.objections_button.setEnabled(publicity and not rnd.locked)
        self.finalise_button.setEnabled(not rnd.locked)
        self.unlock_button.setEnabled(rnd.locked)
        computable = any(i.computed is not None for i in rnd.scheme.indicators)
        self.recompute_button.setVisible(computable)
        self.recompute_button.setEnabled(computable and not rnd.locked)

    def reload_sheet(self) -> None:
        if self.rnd is None or self.stage.currentData() is None:
            self.model.beginResetModel()
            self.model.rows, self.model.all_rows, self.model.columns = [], [], []
            self.model.endResetModel()
            self._show_sources()
            return
        self.model.load(self.rnd, self.stage.currentData(), self.village.currentData())
        for number, column in enumerate(self.model.columns):
            self.view.setColumnWidth(number, column.width)
        for number in range(3):  # village, code and target: as wide as their text (12-digit codes, long names)
            self.view.resizeColumnToContents(number)
        lines = max((c.header.count("\n") + 1 for c in self.model.columns), default=1)
        height = self.view.fontMetrics().lineSpacing() * lines + 12
        self.view.horizontalHeader().setMinimumHeight(height)
        self.view.horizontalHeader().setMaximumHeight(height)
        self._count()
        self._show_sources()

    def _find(self, text: str) -> None:
        self.model.set_search(text)
        self._count()
        self._show_sources()

    def _count(self) -> None:
        rows = self.model.all_rows
        entered = sum(1 for r in rows if r.entered)
        rated = sum(1 for r in rows if r.rank > 0 and not r.revoked)
        mode = "可编辑" if self.model.editable else "只读"
        hint = "（公示期间仅可更正有待处理异议的对象）" if self.model.publicity_change else ""
        found = f"（查找到 {len(self.model.rows)} 个）" if self.model.search else ""
        self.message.setText(f"共 {len(rows)} 个对象{found}，本环节已填 {entered} 个，当前评定出等级 {rated} 个。"
                             f"{mode}{hint}")

    def _after_save(self) -> None:
        self._count()
        self._show_sources()
        self.data_changed.emit()

    def _show_sources(self) -> None:
        """Under the sheet: where the current cell's computed value comes from (and why a person changed it),
        or how many of the row's values are computed."""
        index = self.view.currentIndex()
        row = self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None
        if row is None or not row.sources:
            self.sources.setText("")
            self.sources.setVisible(False)
            return
        column = self.model.columns[index.column()] if index.column() < len(self.model.columns) else None
        who = _who(row)
        if column is not None and column.kind == "score" and column.key in row.sources:
            name = next(i.name for i in self.model.scheme.indicators if i.code == column.key)
            text = f"{who}“{name}”　{row.note(column.key)}"
        else:
            adjusted = f"，其中 {len(row.overrides)} 项已人工调整（橙底）" if row.overrides else ""
            text = (f"{who}：{len(row.sources)} 项按现有数据计算（蓝底）{adjusted}。"
                    "点选这些单元格可看来源；修改计算值须填写理由。")
        self.sources.setText(text)
        self.sources.setVisible(True)

    def ask_reason(self, prompt: str) -> str | None:
        """The reason for changing a computed value (at least 4 characters), or None when cancelled."""
        dialog = ReasonDialog("修改计算值", prompt, self)
        while dialog.exec() == QDialog.DialogCode.Accepted:
            reason = dialog.reason.text().strip()
            if len(reason) >= 4:
                return reason
            dialog.error.show_problems([FieldProblem("reason", "理由至少4个字")])
        return None

    def recompute(self) -> None:
        if self.rnd is None:
            return
        round_id = self.rnd.id

        def done(changed: int) -> None:
            self.reload_sheet()
            self.message.setText(f"已按现有数据重新计算：{changed} 项有变化。" + self.message.text())
            self.data_changed.emit()

        self._write(lambda: self.service.refresh_computed(round_id), done)

    def selected_row(self) -> SheetRow | None:
        index = self.view.currentIndex()
        return self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None

    def _try(self, action: Callable[[], object]) -> bool:
        try:
            action()
        except ValidationFailed as exc:
            self.show_error("\n".join(p.message for p in exc.problems))
            return False
        except DomainError as exc:
            self.show_error(exc)
            return False
        return True

    def _write(self, action: Callable[[], object], then: Callable[[Any], None]) -> None:
        """One service write (waits visibly while another writer holds the database); a refusal is shown."""
        call_service(self, action, then, lambda exc: self.show_error("\n".join(p.message for p in problems_of(exc))))

    def _in_dialog(self, dialog: Any, prepare: Callable[[], Callable[[], object]], then: Callable[[], None]) -> None:
        """Open ``dialog``; on OK read its fields (``prepare``) and write; a refusal is shown in the dialog,
        which opens again with what was typed."""
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return

        def refused(exc: DomainError) -> None:
            dialog.error.show_problems(problems_of(exc))
            self._in_dialog(dialog, prepare, then)

        try:
            action = prepare()
        except ValueError as exc:
            refused(DomainError(str(exc)))
            return
        call_service(self, action, lambda _r: then(), refused)

    # ----- actions ---------------------------------------------------------------------
    def new_round(self) -> None:
        villages = [(v.id, v.name) for v in self.ctx.registry.villages()]
        dialog = NewRoundDialog(self.service, villages, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.round_id is not None:
            self.load_rounds(dialog.round_id)
            self.data_changed.emit()

    def open_schemes(self) -> None:
        SchemeDialog(self.service, self).exec()

    def copy_previous(self) -> None:
        if self.rnd is None:
            return
        round_id, village = self.rnd.id, self.village.currentData()
        self._write(lambda: self.service.copy_previous_stage(round_id, village), self._copied)

    def _copied(self, counted: int) -> None:
        self.reload_sheet()
        self.message.setText(f"已沿用上一环节的评分：{counted} 个对象。" + self.message.text())

    def advance(self) -> None:
        if self.rnd is None:
            return
        scheme = self.rnd.scheme
        index = scheme.stage_index(self.rnd.stage)
        following = scheme.stages[index + 1] if index + 1 < len(scheme.stages) else None
        dialog = HandOverDialog(self.service.stage_summary(self.rnd.id),
                                following.days if following and following.is_publicity else None, self)
        round_id = self.rnd.id

        def prepare() -> Callable[[], object]:
            start, end = dialog.start.date(), dialog.end.date()
            return lambda: self.service.advance_stage(round_id, publicity_start=start, publicity_end=end)

        self._in_dialog(dialog, prepare, lambda: self.load_rounds(round_id))

    def open_objections(self) -> None:
        if self.rnd is None:
            return
        row = self.selected_row()
        targets = [(r.target_id, f"{r.village} {r.label}") for r in self.service.sheet(self.rnd.id)]
        ObjectionsDialog(self.service, self.rnd, targets, self, row.target_id if row else None).exec()
        self.load_rounds(self.rnd.id)

    def finalise(self, as_of: dt.date | None = None) -> None:
        """Asks the service first whether 定级 is possible now: a round still in 公示 (or with objections
        waiting) is told why at once, instead of being asked “确定定级吗？” and refused after."""
        if self.rnd is None:
            return
        round_id = self.rnd.id
        try:
            refusal = self.service.finalise_refusal(round_id, as_of)
        except DomainError as exc:
            self.show_error(exc)
            return
        if refusal:
            self.show_error(f"现在还不能定级：{refusal}")
            return
        if not self.confirm(f"定级后“{self.rnd.name}”将锁定，不能再修改。确定定级吗？"):
            return
        self._write(lambda: self.service.finalise(round_id, as_of),
                    lambda _r: (self.load_rounds(round_id), self.data_changed.emit()))

    def unlock(self) -> None:
        if self.rnd is None:
            return
        dialog = ReasonDialog("解锁评定", f"解锁“{self.rnd.name}”需要填写理由，理由将记入操作日志。", self)
        round_id = self.rnd.id

        def prepare() -> Callable[[], object]:
            reason = dialog.reason.text()
            return lambda: self.service.unlock(round_id, reason)

        self._in_dialog(dialog, prepare, lambda: self.load_rounds(round_id))

    def revoke(self) -> None:
        row = self.selected_row()
        if self.rnd is None or row is None:
            self.show_error("请先在评分表中选择一个对象")
            return
        dialog = ReasonDialog("撤销称号", f"撤销 {row.village}{row.label} 的“{row.level}”，理由将记入操作日志。", self,
                              with_date=True)
        def prepare() -> Callable[[], object]:
            reason, day = dialog.reason.text(), dialog.date.date() or dt.date.today()
            return lambda: self.service.revoke(row.target_id, reason, day)

        self._in_dialog(dialog, prepare, self.reload_sheet)

    def show_history(self) -> None:
        row = self.selected_row()
        if row is None:
            self.show_error("请先在评分表中选择一个对象")
            return
        HistoryDialog(self.service, row.target_id, f"{row.village} {row.label}", self).exec()

    def show_chart(self) -> None:
        if self.rnd is not None:
            ChartDialog(self.service, self.rnd.id, self).exec()

    def _path(self, title: str, name: str, pattern: str, save: bool = True) -> Path | None:
        folder = self.ctx.settings.get("evaluation_folder") or str(Path.home())
        if save:
            chosen, _ = QFileDialog.getSaveFileName(self, title, str(Path(folder) / name), pattern)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, title, folder, pattern)
        if not chosen:
            return None
        self.ctx.settings.set("evaluation_folder", str(Path(chosen).parent))
        return Path(chosen)

    def export_workbook(self, path: Path | None = None) -> Path | None:
        if self.rnd is None:
            return None
        village = self.village.currentData()
        name = f"{self.rnd.name}_{self.rnd.stage_name}{'_' + self.village.currentText() if village else ''}.xlsx"
        path = path or self._path("导出填报工作簿", name, "Excel 工作簿 (*.xlsx)")
        if path and self._try(lambda: write_stage_workbook(self.service, self.rnd.id, path, village)):
            self.message.setText(f"已导出填报工作簿：{path}")
            announce_written(self, path, "填报工作簿", detail="填好后用“导入填报工作簿”导入。",
                             name="workbook_done")
            return path
        return None

    def import_workbook(self, path: Path | None = None) -> None:
        if self.rnd is None:
            return
        path = path or self._path("导入填报工作簿", "", "表格文件 (*.xlsx *.xlsm *.xls *.ods)", save=False)
        if not path:
            return
        round_id = self.rnd.id
        self._write(lambda: import_stage_workbook(self.service, round_id, path), lambda report: self._imported(path, report))

    def _imported(self, path: Path, report: Any) -> None:  # the exchange's import report
        self.reload_sheet()
        if report.accepted:
            self.message.setText(f"已导入 {path.name}：" + report.summary_text(max_errors=0))
            self.data_changed.emit()
        else:
            self.show_error(f"{path.name} 未导入（有错误，未做任何修改）：\n" + report.summary_text(max_errors=20))

    def export_pdf(self, path: Path | None = None) -> Path | None:
        if self.rnd is None:
            return None
        path = path or self._path("公示名单PDF", f"{self.rnd.name}公示名单.pdf", "PDF 文件 (*.pdf)")
        if path and self._try(lambda: write_publicity_pdf(self.service, self.rnd.id, path)):
            self.message.setText(f"已生成公示名单：{path}")
            announce_written(self, path, "公示名单PDF", detail="可打印后张贴。", name="publicity_pdf_done")
            return path
        return None

    def export_xlsx(self, path: Path | None = None) -> Path | None:
        if self.rnd is None:
            return None
        path = path or self._path("公示名单Excel", f"{self.rnd.name}公示名单.xlsx", "Excel 工作簿 (*.xlsx)")
        if path and self._try(lambda: write_publicity_xlsx(self.service, self.rnd.id, path)):
            self.message.setText(f"已生成公示名单：{path}")
            announce_written(self, path, "公示名单Excel", name="publicity_xlsx_done")
            return path
        return None
