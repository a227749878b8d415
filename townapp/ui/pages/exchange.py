"""数据交换: import wizard, templates and sync packages for the county, and the log of both."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from townapp.core import permissions
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn
from townapp.exchange.history import export_history, import_history, log_template_export
from townapp.exchange.layouts import LayoutService
from townapp.exchange.package import PackageResult, package_file_name, write_package
from townapp.exchange.spec import SheetSpec
from townapp.exchange.template import write_template
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs, elsewhere_sheet_specs, package_sheet_specs
from townapp.ui.context import AppContext
from townapp.ui.forms.exchange import PackagePasswordDialog, show_package_done
from townapp.ui.forms.import_wizard import ImportWizard
from townapp.ui.jobs import Job
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.files import choose_save_file
from townapp.ui.widgets.tables import TableSearch, fill_table


def create_pages(ctx: AppContext) -> list[Page]:
    return [ExchangePage(ctx)]


def _table(headers: tuple[str, ...], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _searched(table: QTableWidget, search: TableSearch, *choices: QComboBox) -> QWidget:
    """A history list under its bar: the search box and the choice boxes (month, result or type)."""
    page = QWidget()
    bar = QHBoxLayout()
    bar.addWidget(search, 1)
    for box in choices:
        bar.addWidget(box)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addLayout(bar)
    layout.addWidget(table, 1)
    return page


class ExchangePage(Page):
    title = "数据交换"
    IMPORT_HEADERS = ("时间", "操作人", "文件", "结果", "新增", "更新", "不变", "错误")
    EXPORT_HEADERS = ("时间", "操作人", "类型", "文件", "行数", "完整身份证号", "原因")
    LAYOUT_HEADERS = ("名称", "表类型", "列对应", "保存人", "保存时间", "上次使用")

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.specs = all_sheet_specs()
        self.last_package: PackageResult | None = None
        self.village_install = ctx.db.meta("village_code")  # a 村录入员's own laptop: it reports to the township
        township_db = ctx.db.meta("mode") == "township" and self.village_install is None
        buttons = QHBoxLayout()
        actions = [("导入 Excel 文件…", self.open_wizard, "open_import"),
                   ("导出空白导入模板…", self.choose_template_path, "export_template"),
                   ("导出本村数据包（交乡镇）…" if self.village_install else "导出报县同步数据包…",
                    self.choose_package_path, "export_package")]
        if township_db:
            actions.append(("导出下发村级的数据包…", self.choose_village_package, "export_village_package"))
        for text, slot, name in actions:
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            if name == "export_village_package" and not permissions.is_township_level(ctx.actor):
                button.setEnabled(False)
                button.setToolTip("下发积分规则、评定方案和评定结果需要乡镇干部或管理员账号")
            # the services refuse too; the buttons say why instead of failing after a file dialog
            if name == "export_package" and not permissions.is_township_level(ctx.actor) and \
                    not (self.village_install and permissions.can_write(ctx.actor)):
                button.setEnabled(False)
                button.setToolTip("同步数据包含全乡镇人员的完整身份证号，只有乡镇干部或管理员账号可以导出")
            if name == "open_import" and not permissions.can_write(ctx.actor):
                button.setEnabled(False)
                button.setToolTip("当前账号为只读，不能导入数据")
        self.template_scope = QComboBox()
        self.template_scope.setObjectName("template_scope")
        self.template_scope.addItem("模板含全部工作表", None)
        for spec in self.specs:
            self.template_scope.addItem(f"模板只含“{spec.title}”", spec.key)
        buttons.insertWidget(2, self.template_scope)
        buttons.addStretch(1)
        note = QLabel(("本村数据包含本村人员的完整身份证号，只用于交乡镇导入；" if self.village_install else
                       "同步数据包含完整身份证号等个人信息，只用于报送县里；") + "其他导出均已脱敏。"
                      "文件先写到临时文件、核对无误后才改为正式文件名，拔出U盘也不会留下半个文件。")
        note.setWordWrap(True)
        self.imports = _table(self.IMPORT_HEADERS, "import_log")
        self.exports = _table(self.EXPORT_HEADERS, "export_log")
        self.layouts = _table(self.LAYOUT_HEADERS, "saved_layouts")
        self.layouts.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # as saved, until a click
        self.layouts.horizontalHeader().setSortIndicatorClearable(True)
        self.delete_layout_button = QPushButton("删除选中的列对应")
        self.delete_layout_button.setObjectName("delete_layout")
        self.delete_layout_button.clicked.connect(self.delete_selected_layout)
        self.delete_layout_button.setEnabled(permissions.can_write(ctx.actor))
        layouts_page = QWidget()
        layouts_box = QVBoxLayout(layouts_page)
        layouts_hint = QLabel("导入时在“列对应”一步确认并命名的表格格式；同样格式的表再导入时自动按它对应各列。")
        layouts_hint.setWordWrap(True)
        layouts_box.addWidget(layouts_hint)
        layouts_box.addWidget(self.layouts, 1)
        layouts_box.addWidget(self.delete_layout_button)
        self.import_search = TableSearch(self.imports, "搜索导入记录：文件名、操作人")
        self.export_search = TableSearch(self.exports, "搜索导出记录：文件名、操作人、原因")
        imports_page = _searched(self.imports, self.import_search,
                                 self.import_search.add_choice(0, "全部月份", by_month=True),
                                 self.import_search.add_choice(3, "全部结果"))
        exports_page = _searched(self.exports, self.export_search,
                                 self.export_search.add_choice(0, "全部月份", by_month=True),
                                 self.export_search.add_choice(2, "全部类型"))
        tabs = QTabWidget()
        tabs.addTab(imports_page, "导入记录")
        tabs.addTab(exports_page, "导出记录")
        tabs.addTab(layouts_page, "已保存的列对应")
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(note)
        layout.addWidget(tabs, 1)

    def refresh(self) -> None:
        rows = import_history(self.ctx.db)
        fill_table(self.imports, self.IMPORT_HEADERS, [
            (f"{row.at:%Y-%m-%d %H:%M}", row.username, row.file_name, row.status, row.created, row.updated,
             row.unchanged, row.errors) for row in rows], sortable=True)
        self.import_search.apply()
        exports = export_history(self.ctx.db)
        fill_table(self.exports, self.EXPORT_HEADERS, [
            (f"{row.at:%Y-%m-%d %H:%M}", row.username, row.kind, row.file_name, row.rows,
             "是" if row.full_ids else "否", row.reason) for row in exports], sortable=True)
        self.export_search.apply()
        self._fill_layouts()

    def _fill_layouts(self) -> None:
        titles = {spec.key: spec.title for spec in self.specs}
        saved = LayoutService(self.ctx.db, self.ctx.actor).layouts()
        self.layouts.setSortingEnabled(False)  # rows stay put while filled; each cell holds its layout's id
        self.layouts.setRowCount(len(saved))
        for r, layout in enumerate(saved):
            mapped = "，".join(f"{text}→{self._field_title(layout.entity, key)}"
                              for text, key in layout.columns.items() if key)
            values = (layout.name, titles.get(layout.entity, layout.entity), mapped, layout.username,
                      f"{layout.saved_at:%Y-%m-%d %H:%M}", f"{layout.used_at:%Y-%m-%d %H:%M}" if layout.used_at else "")
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                item.setData(Qt.ItemDataRole.UserRole, layout.id)
                self.layouts.setItem(r, c, item)
        self.layouts.setSortingEnabled(True)

    def _field_title(self, entity: str, key: str) -> str:
        spec = next((x for x in self.specs if x.key == entity), None)
        column = next((c for c in spec.columns if c.key == key), None) if spec else None
        return column.header if column else key

    def delete_selected_layout(self) -> None:
        row = self.layouts.currentRow()
        item = self.layouts.item(row, 0) if row >= 0 else None
        if item is None:
            QMessageBox.information(self, "删除列对应", "请先在列表中选中要删除的列对应")
            return
        answer = QMessageBox.question(self, "删除列对应", f"删除列对应“{item.text()}”？以后同样格式的表需要重新确认各列。")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            LayoutService(self.ctx.db, self.ctx.actor).delete(item.data(Qt.ItemDataRole.UserRole))
        except DomainError as exc:
            QMessageBox.warning(self, "无法删除", exc.message)
            return
        self._fill_layouts()

    # ----- import ------------------------------------------------------------
    def make_wizard(self) -> ImportWizard:
        wizard = ImportWizard(self.ctx, self.specs, self, elsewhere=elsewhere_sheet_specs())
        wizard.imported.connect(lambda _report: self.data_changed.emit())
        return wizard

    def open_wizard(self) -> None:
        self.make_wizard().exec()
        self.refresh()

    # ----- export ------------------------------------------------------------
    def template_specs(self) -> list[SheetSpec]:
        """All entities, or the one chosen beside the button (a village often needs just one sheet)."""
        key = self.template_scope.currentData()
        return [spec for spec in self.specs if key is None or spec.key == key]

    def choose_template_path(self) -> None:
        specs = self.template_specs()
        name = "数据导入模板（全部工作表）.xlsx" if len(specs) > 1 else f"{specs[0].title}导入模板.xlsx"
        target = choose_save_file(self, "导出空白导入模板", self.ctx.settings, name)
        if target is not None:
            self.export_template(target)

    def export_template(self, target: Path) -> None:
        specs = self.template_specs()
        try:
            write_template(specs, target)
            log_template_export(self.ctx.db, self.ctx.actor, target)
        except (DomainError, OSError) as exc:
            self.show_error(exc if isinstance(exc, DomainError) else f"无法写入 {target}：{exc}")
            return
        self.refresh()
        sheets = "、".join(f"“{spec.title}”" for spec in specs) if len(specs) <= 3 else f"{len(specs)}张表"
        announce_written(self, target, "导入模板", title="模板已导出", name="template_done",
                         detail=f"含{sheets}和“填写说明”；填好后用“导入 Excel 文件…”导入。")

    def _unit_name(self) -> str:
        """The package's sender as its file name says it: the village of a village install, else the township."""
        if self.village_install:
            village = next((v for v in RegistryService(self.ctx.db, self.ctx.actor).villages()
                            if v.code == self.village_install), None)
            if village is not None:
                return village.name
        return self.ctx.db.meta("root_name") or ""

    def choose_village_package(self) -> None:
        """Which village, the file, the password: the township's rules, schemes and that village's results."""
        villages = RegistryService(self.ctx.db, self.ctx.actor).villages()
        if not villages:
            self.show_error("本乡镇还没有村（社区）")
            return
        labels = [f"{v.name}（{v.code}）" for v in villages]
        label, ok = QInputDialog.getItem(self, "导出下发村级的数据包", "下发给哪个村的村级安装：", labels, 0, False)
        if not ok:
            return
        village = villages[labels.index(label)]
        target = choose_save_file(self, "导出下发村级的数据包", self.ctx.settings,
                                  f"{village.name}_乡镇下发_{dt.date.today():%Y%m%d}.xlsx")
        if target is None:
            return
        dialog = PackagePasswordDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.export_village_package(village.code, target, dialog.chosen_password())

    def export_village_package(self, code: str, target: Path, password: str | None = None) -> Job:
        db, actor = self.ctx.db, self.ctx.actor

        def work(progress: ProgressFn, cancel: CancelFn) -> PackageResult:
            from townapp.county.downward import export_for_village
            return export_for_village(db, actor, code, target, password=password)

        return Job(self, "正在导出下发数据包……", work, on_success=self._package_done,
                   on_failure=self.show_error).start()

    def _package_done(self, result: PackageResult) -> None:
        self.last_package = result
        self.refresh()
        show_package_done(self, result)

    def choose_package_path(self) -> None:
        """The file (named by unit, quarter and day), then the password (encrypted by default)."""
        name = package_file_name(self._unit_name())
        target = choose_save_file(self, "导出报县同步数据包", self.ctx.settings, name)
        if target is None:
            return
        dialog = PackagePasswordDialog(self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.export_package(target, dialog.chosen_password())

    def export_package(self, target: Path, password: str | None = None) -> Job:
        db, specs, actor = self.ctx.db, self.specs, self.ctx.actor

        def work(progress: ProgressFn, cancel: CancelFn) -> PackageResult:
            # the reported sheets (results, the return's figures) are read in this job, not on the GUI thread
            every = [*specs, *(spec for spec in package_sheet_specs(db) if spec.package_only)]
            return write_package(db, every, target, actor=actor, progress=progress, cancel=cancel, password=password)

        return Job(self, "正在导出同步数据包……", work, on_success=self._package_done,
                   on_failure=self.show_error).start()
