"""审计日志: who changed what, when, in which village; masked unless a reason is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from townapp.accounts.audit import AuditService
from townapp.accounts.dto import AuditFilter
from townapp.core.actor import ROLE_ADMIN
from townapp.ui.context import AppContext
from townapp.ui.forms.accounts import ReasonDialog
from townapp.ui.jobs import call_service
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.fields import DateField
from townapp.ui.widgets.files import choose_save_file
from townapp.ui.widgets.lazy_table import Column, LazyTableModel


def create_pages(ctx: AppContext) -> list[Page]:
    return [AuditPage(ctx)] if ctx.actor.role == ROLE_ADMIN else []


class AuditPage(Page):
    title = "审计日志"
    COLUMNS = (Column("at", "时间", sortable=False, width=150), Column("username", "用户", sortable=False),
               Column("action", "操作", sortable=False, width=90), Column("entity", "对象", sortable=False, width=120),
               Column("entity_id", "编号", sortable=False, width=60), Column("village_name", "村/社区", sortable=False),
               Column("field", "字段", sortable=False), Column("old", "原值", sortable=False, width=220),
               Column("new", "新值", sortable=False, width=220), Column("reason", "原因", sortable=False),
               Column("batch_id", "导入批次", sortable=False, width=70))

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.audit = AuditService(ctx.db, ctx.actor)
        self.user = QComboBox()
        self.user.setObjectName("user")
        self.entity = QComboBox()
        self.entity.setObjectName("entity")
        self.village = QComboBox()
        self.village.setObjectName("village")
        self.action = QComboBox()
        self.action.setObjectName("action")
        self.date_from = DateField()
        self.date_from.setObjectName("date_from")
        self.date_to = DateField()
        self.date_to.setObjectName("date_to")
        for field in (self.date_from, self.date_to):
            field.setPlaceholderText("不限")
            field.setMaximumWidth(110)
        self.person = QLineEdit()
        self.person.setObjectName("person")
        self.person.setPlaceholderText("身份证号：此人的全部修改记录")
        self.person.setMinimumWidth(190)
        self.batch = QLineEdit()
        self.batch.setObjectName("batch")
        self.batch.setPlaceholderText("批次号")
        self.batch.setMaximumWidth(70)
        for box in (self.person, self.batch):
            box.returnPressed.connect(self.reload)
        filters = QHBoxLayout()
        for label, widget in (("用户", self.user), ("对象", self.entity), ("村/社区", self.village),
                              ("操作", self.action), ("从", self.date_from), ("到", self.date_to),
                              ("人员", self.person), ("导入批次", self.batch)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        search = QPushButton("查询")
        search.setObjectName("search")
        search.clicked.connect(self.reload)
        filters.addWidget(search)
        filters.addStretch(1)
        self.oldest_first = False  # the newest entries on top, until the user clicks 时间
        self.model = LazyTableModel(self.COLUMNS, lambda _order, _desc: self._ids(), self._rows, "at", self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setDefaultSectionSize(26)
        for number, column in enumerate(self.COLUMNS):
            self.view.setColumnWidth(number, column.width)
        header = self.view.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        header.setToolTip("点击“时间”列标题切换最新在前或最早在前；其他列请用上面的条件筛选")
        header.sectionClicked.connect(self._header_clicked)
        self.count_label = QLabel()
        self.full_export = QCheckBox("导出完整身份证号和手机号（需填写原因）")
        self.full_export.setObjectName("full_export")
        actions = QHBoxLayout()
        for text, name, slot in (("查看完整内容…", "show_full", self.show_full), ("导出 Excel…", "export", self.export)):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(slot)
            actions.addWidget(button)
        actions.addWidget(self.full_export)
        actions.addStretch(1)
        actions.addWidget(self.count_label)
        note = QLabel("身份证号和手机号默认脱敏显示；查看或导出完整内容需填写原因，并记入审计日志。")
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(note)
        layout.addLayout(actions)
        layout.addWidget(self.view, 1)
        # a record's whole snapshot does not fit a cell: the selected entry's values in full (still masked)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("detail")
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("选中一条记录，在此查看原值和新值的全部内容（身份证号、手机号仍脱敏）")
        self.detail.setMaximumHeight(110)
        layout.addWidget(self.detail)
        self.view.selectionModel().currentRowChanged.connect(lambda current, _previous: self._show_detail(current.row()))
        self._filled = False

    def _ids(self) -> list[int]:
        ids = self.audit.ids(self.current_filter())  # newest first
        return ids[::-1] if self.oldest_first else ids

    def _header_clicked(self, column: int) -> None:
        """时间 turns the list round (the header has already flipped its arrow); other columns are filtered
        with the boxes above, not sorted: their arrow goes back to 时间."""
        header = self.view.horizontalHeader()
        if column != 0:
            header.setSortIndicator(0, Qt.SortOrder.AscendingOrder if self.oldest_first
                                    else Qt.SortOrder.DescendingOrder)
            return
        self.oldest_first = header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
        self.reload()

    def _rows(self, ids: Sequence[int]) -> dict:
        rows = self.audit.rows(ids)
        return {k: _Shown(r) for k, r in rows.items()}

    def _fill_filters(self) -> None:
        for combo, items in ((self.user, [(u, u) for u in self.audit.usernames()]),
                             (self.entity, [(label, name) for name, label in self.audit.entities()]),
                             (self.village, [(v.name, v.id) for v in self.ctx.registry.villages()]),
                             (self.action, [(label, name) for name, label in self.audit.actions()])):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("全部", None)
            for label, value in items:
                combo.addItem(label, value)
            index = combo.findData(current)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        self._filled = True

    def current_filter(self) -> AuditFilter:
        records: tuple[tuple[str, int], ...] = ()
        if self.person.text().strip():
            # nobody with that number: a record that cannot exist, so the list is empty rather than everything
            records = self.audit.person_records(self.person.text()) or (("person", -1),)
        batch = self.batch.text().strip()
        return AuditFilter(username=self.user.currentData(), entity=self.entity.currentData(),
                           village_id=self.village.currentData(), action=self.action.currentData(),
                           date_from=self.date_from.date(), date_to=self.date_to.date(),
                           batch_id=int(batch) if batch.isdigit() else None, records=records)

    def refresh(self) -> None:
        self._fill_filters()
        self.reload()

    def reload(self) -> None:
        for field in (self.date_from, self.date_to):
            if field.text().strip() and field.date() is None:
                self.show_error(f"“{field.text()}”不是可识别的日期，请写成 2026-03-01")
                return
        if self.batch.text().strip() and not self.batch.text().strip().isdigit():
            self.show_error(f"“{self.batch.text()}”不是导入批次号：请填数字（见“数据交换”页的导入记录）")
            return
        self.model.refresh()
        self.detail.clear()
        self.count_label.setText(f"共 {self.model.rowCount()} 条")

    def _show_detail(self, row: int) -> None:
        entry = self.model.record_at(row) if 0 <= row < self.model.rowCount() else None
        if entry is None:
            self.detail.clear()
            return
        what = " ".join(part for part in (entry.entity, entry.entity_id, entry.field) if part)
        lines = [f"{entry.at}　{entry.username}　{entry.action}　{what}"]
        lines += [f"{label}：{value}" for label, value in (("原值", entry.old), ("新值", entry.new)) if value]
        self.detail.setPlainText("\n".join(lines))

    def show_full(self) -> None:
        index = self.view.currentIndex()
        entry_id = self.model.id_at(index.row()) if index.isValid() else None
        if entry_id is None:
            self.show_error("请先选中一条记录")
            return
        dialog = ReasonDialog("查看这条记录的完整内容", self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason = dialog.reason.text()  # the reading is logged with it: a write, which may wait for the database
        call_service(self, lambda: self.audit.full_row(entry_id, reason), self._show_full_row, self.show_error,
                     title="无法完成")

    def _show_full_row(self, row: Any) -> None:  # the audit service's full row
        QMessageBox.information(self, "完整内容", f"{row.entity} {row.entity_id or ''} {row.field}\n"
                                f"原值：{row.old}\n新值：{row.new}")
        self.reload()

    def export(self) -> None:
        reason = None
        if self.full_export.isChecked():
            dialog = ReasonDialog("导出的表格", self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            reason = dialog.reason.text()
        target = choose_save_file(self, "导出审计日志", self.ctx.settings, "审计日志.xlsx")
        if target is None:
            return
        where = self.current_filter()  # an export is logged: a write, which may wait for the database
        call_service(self, lambda: self.audit.export_xlsx(where, target, reason=reason),
                     lambda count: announce_written(self, target, "审计日志", title="已导出", name="audit_exported",
                                                    detail=f"共 {count} 条"),
                     self.show_error, title="无法导出")


class _Shown:
    """An AuditRow as the table shows it (time without microseconds, empty numbers blank)."""

    def __init__(self, row) -> None:  # noqa: ANN001
        self._row = row
        self.at = row.at.strftime("%Y-%m-%d %H:%M:%S")
        self.entity_id = "" if row.entity_id is None else str(row.entity_id)
        self.batch_id = "" if row.batch_id is None else str(row.batch_id)

    def __getattr__(self, name: str) -> object:
        return getattr(self._row, name)
