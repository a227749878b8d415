"""The import wizard: choose a file → dry run with every error listed → fix or import → result.

A sheet the program is not sure about (or does not recognise) goes through the 列对应
step: the person says what it is and which column is which field, the file is
checked again with that mapping, and a named mapping is saved with the import.

Nothing is written until the user confirms after a clean dry run, and then
all or nothing (the pipeline's transaction); cancel rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from townapp.core.progress import CancelFn, ProgressFn
from townapp.exchange import protect
from townapp.exchange.annotate import write_annotated
from townapp.exchange.pipeline import UNCERTAIN, run_import
from townapp.exchange.recognise import SheetMapping
from townapp.exchange.report import ImportReport, Issue, error_title
from townapp.exchange.spec import SheetSpec
from townapp.ui.context import AppContext
from townapp.ui.forms.column_mapping import ColumnMappingPanel
from townapp.ui.forms.exchange import OpenPasswordDialog
from townapp.ui.jobs import Job
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.fields import ERROR_STYLE
from townapp.ui.widgets.files import choose_open_file, choose_save_file

ALL = "（全部）"


class ImportWizard(QDialog):
    imported = Signal(object)  # the ImportReport of an accepted real import

    ERROR_HEADERS = ("工作表", "行", "列", "错误类别", "说明")

    def __init__(self, ctx: AppContext, specs: Sequence[SheetSpec], parent: QWidget | None = None, *,
                 elsewhere: Sequence[tuple[SheetSpec, str]] = ()) -> None:
        super().__init__(parent)
        self.ctx, self.specs, self.elsewhere = ctx, list(specs), tuple(elsewhere)
        self.setWindowTitle("导入 Excel 文件")
        self.resize(900, 600)
        self.path: Path | None = None
        self.password: str | None = None  # of an encrypted file (a sync package): asked before the check
        self.report: ImportReport | None = None
        self.job: Job | None = None
        self.annotate_job: Job | None = None
        self.stage = "choose"  # choose | checking | review | mapping | importing | done
        self.mappings: dict[str, SheetMapping] = {}  # the person's 列对应, handed to every run of this file

        self.stack = QStackedWidget()
        self.stack.addWidget(self._choose_page())
        self.stack.addWidget(self._review_page())
        self.stack.addWidget(self._done_page())
        self.stack.addWidget(self._mapping_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)

    # ----- pages -----------------------------------------------------------
    def _choose_page(self) -> QWidget:
        page = QWidget()
        self.file_edit = QLineEdit()
        self.file_edit.setReadOnly(True)
        self.file_edit.setPlaceholderText("请选择 .xlsx、.xls、.xlsm 或 .ods 文件（可以是村里自己的花名册）")
        browse = QPushButton("浏览…")
        browse.clicked.connect(self.browse)
        self.check_button = QPushButton("开始检查（试导入，不改动数据）")
        self.check_button.setObjectName("start_dry_run")
        self.check_button.setEnabled(False)
        self.check_button.clicked.connect(self.start_dry_run)
        row = QHBoxLayout()
        row.addWidget(self.file_edit, 1)
        row.addWidget(browse)
        intro = QLabel("第一步：选择要导入的文件。程序会先逐行检查并列出所有问题，确认无误后才正式导入；"
                       "正式导入前会自动备份数据库，任何一行有错都不会导入任何数据。")
        intro.setWordWrap(True)
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.check_button)
        layout.addStretch(1)
        return page

    def _review_page(self) -> QWidget:
        page = QWidget()
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setMaximumHeight(150)
        self.sheet_filter = QComboBox()
        self.code_filter = QComboBox()
        self.sheet_filter.currentIndexChanged.connect(lambda _i: self._fill_errors())
        self.code_filter.currentIndexChanged.connect(lambda _i: self._fill_errors())
        filters = QHBoxLayout()
        filters.addWidget(QLabel("按工作表："))
        filters.addWidget(self.sheet_filter, 1)
        filters.addWidget(QLabel("按错误类别："))
        filters.addWidget(self.code_filter, 1)
        self.errors_table = QTableWidget(0, len(self.ERROR_HEADERS))
        self.errors_table.setObjectName("import_errors")
        self.errors_table.setHorizontalHeaderLabels(list(self.ERROR_HEADERS))
        self.errors_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.errors_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.annotate_button = QPushButton("保存标注副本（错误单元格标红，便于修改后重新导入）…")
        self.annotate_button.clicked.connect(self.choose_annotated_path)
        again = QPushButton("重新选择文件")
        again.clicked.connect(self.restart)
        self.mapping_button = QPushButton("列对应…")
        self.mapping_button.setObjectName("open_mapping")
        self.mapping_button.setToolTip("查看或修改每个工作表是什么表、每一列对应哪个字段")
        self.mapping_button.clicked.connect(self.open_mapping)
        self.import_button = QPushButton("正式导入")
        self.import_button.setObjectName("confirm_import")
        self.import_button.clicked.connect(self.confirm_import)
        buttons = QHBoxLayout()
        buttons.addWidget(self.annotate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.mapping_button)
        buttons.addWidget(again)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.verdict)
        layout.addWidget(self.summary)
        layout.addLayout(filters)
        layout.addWidget(self.errors_table, 1)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        layout.addWidget(self.notice)
        layout.addLayout(buttons)
        return page

    def _done_page(self) -> QWidget:
        page = QWidget()
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_text = QPlainTextEdit()
        self.result_text.setReadOnly(True)
        close = QPushButton("完成")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(page)
        layout.addWidget(self.result_label)
        layout.addWidget(self.result_text, 1)
        layout.addWidget(close)
        return page

    def _mapping_page(self) -> QWidget:
        page = QWidget()
        self.mapping_panel = ColumnMappingPanel(self.specs)
        back = QPushButton("返回")
        back.clicked.connect(lambda: self.stack.setCurrentIndex(1))
        self.recheck_button = QPushButton("按此对应重新检查")
        self.recheck_button.setObjectName("recheck_mapping")
        self.recheck_button.clicked.connect(self.recheck_with_mapping)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(back)
        buttons.addWidget(self.recheck_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.mapping_panel, 1)
        layout.addLayout(buttons)
        return page

    # ----- steps ---------------------------------------------------------------
    def browse(self) -> None:
        chosen = choose_open_file(self, "选择要导入的文件", self.ctx.settings)
        if chosen is not None:
            self.set_file(chosen)

    def set_file(self, path: Path) -> None:
        self.path = Path(path)
        self.password = None
        self.mappings = {}
        self.mapping_panel.name_edit.clear()
        self.file_edit.setText(str(self.path))
        self.check_button.setEnabled(True)

    def restart(self) -> None:
        self.report = None
        self.notice.clear()
        self.stage = "choose"
        self.stack.setCurrentIndex(0)

    def _run(self, dry_run: bool) -> Job:
        path, db, actor, specs, elsewhere = self.path, self.ctx.db, self.ctx.actor, self.specs, self.elsewhere
        password = self.password
        mappings = dict(self.mappings)
        save_as = self.mapping_panel.layout_name() if mappings and not dry_run else None
        assert path is not None

        def work(progress: ProgressFn, cancel: CancelFn) -> ImportReport:
            # a sync package's reported sheets (and a county's return) come in too; a workbook never matches them
            from townapp.sheets import package_sheet_specs
            known = {spec.key for spec in specs}
            received = package_sheet_specs(db, receiving=True)
            every = [*specs, *(spec for spec in received if spec.package_only and spec.key not in known)]
            return run_import(db, path, every, dry_run=dry_run, actor=actor, progress=progress, cancel=cancel,
                              elsewhere=elsewhere, mappings=mappings, save_as=save_as, password=password)

        title = "正在检查文件……" if dry_run else "正在导入……"
        self.job = Job(self, title, work, on_success=self._checked if dry_run else self._imported,
                       on_failure=self._failed)
        self.job.finished.connect(self._job_ended)
        return self.job.start()

    def start_dry_run(self) -> None:
        if self.path is not None and self.password is None and protect.is_encrypted(self.path):
            dialog = OpenPasswordDialog(self.path.name, parent=self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            self.password = dialog.password.text()
        self.stage = "checking"
        self._run(dry_run=True)

    def _job_ended(self) -> None:
        if self.job is not None and self.job.was_cancelled:
            self.stage = "review" if self.report else "choose"

    def _failed(self, message: str) -> None:
        self.stage = "review" if self.report else "choose"
        QMessageBox.warning(self, "无法完成", message)

    def _checked(self, report: ImportReport) -> None:
        if any(e.code == "wrong_password" for e in report.errors):
            self.password = None  # the next 检查 asks again
        self.report = report
        self.stage = "review"
        self.summary.setPlainText(self._summary(report))
        needing = self.sheets_needing_mapping()
        self.mapping_button.setEnabled(bool(report.taken or report.unrecognised))
        self.mapping_button.setDefault(bool(needing))
        if report.accepted:
            self.verdict.setStyleSheet("")
            self.verdict.setText("检查通过。点“正式导入”写入数据库（导入前自动备份）。")
        elif needing:
            self.verdict.setStyleSheet(ERROR_STYLE)
            self.verdict.setText(f"程序不能确定工作表“{'”“'.join(needing)}”是什么数据，为免误导入，请点“列对应…”"
                                 "确认它是什么表、每一列对应哪个字段，然后重新检查。")
        else:
            self.verdict.setStyleSheet(ERROR_STYLE)
            self.verdict.setText(f"发现 {len(report.errors)} 处错误，本文件不能导入，数据库没有任何改动。"
                                 "请按下表逐条修改后重新选择文件；可保存标注副本，在其中直接修改。")
        self.import_button.setEnabled(report.accepted)
        self.annotate_button.setEnabled(bool(report.errors) and any(i.sheet for i in report.errors))
        self._fill_filters(report.errors)
        self._fill_errors()
        self.stack.setCurrentIndex(1)

    def sheets_needing_mapping(self) -> list[str]:
        """Sheets a person must map: refused as uncertain, missing a column the entity needs (a column
        named otherwise in the village's own table), or not recognised at all."""
        if self.report is None:
            return []
        uncertain = [i.sheet for i in self.report.errors if i.code in (UNCERTAIN, "missing_column") and i.sheet]
        return list(dict.fromkeys([*uncertain, *self.report.unrecognised]))

    def open_mapping(self) -> None:
        if self.report is None:
            return
        assert self.path is not None
        self.mapping_panel.load({**self.report.taken, **self.report.unrecognised}, self.sheets_needing_mapping(),
                                self.path.stem[:64])
        self.stage = "mapping"
        self.stack.setCurrentIndex(3)

    def recheck_with_mapping(self) -> None:
        self.mappings = {**self.mappings, **self.mapping_panel.mappings()}
        self.start_dry_run()

    @staticmethod
    def _summary(report: ImportReport) -> str:
        """Counts per sheet and every warning; the errors are in the table below."""
        lines = [f"文件：{report.file_name}"]
        for name, counts in report.sheets.items():
            taken = report.taken.get(name)
            layout = f"，按已保存的列对应“{taken.layout}”" if taken and taken.layout else ""
            what = f"（作为“{taken.title}”{layout}）" if taken else ""
            lines.append(f"  {name}{what}：新增 {counts.created}，更新 {counts.updated}，不变 {counts.unchanged}，"
                         f"错误 {counts.errors}")
        if report.warnings:
            lines.append(f"提示 {len(report.warnings)} 条（不影响导入）：")
            lines.extend(f"  {w.where() + '：' if w.where() else ''}{w.message}" for w in report.warnings)
        return "\n".join(lines)

    def _fill_filters(self, issues: list[Issue]) -> None:
        sheets = [(sheet, sheet) for sheet in sorted({i.sheet for i in issues if i.sheet})]
        kinds = sorted((error_title(code), code) for code in {i.code for i in issues})
        for combo, choices in ((self.sheet_filter, sheets), (self.code_filter, kinds)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ALL, None)
            for label, value in choices:
                combo.addItem(label, value)
            combo.blockSignals(False)

    def shown_errors(self) -> list[Issue]:
        if self.report is None:
            return []
        sheet, code = self.sheet_filter.currentData(), self.code_filter.currentData()
        chosen = [i for i in self.report.errors if (sheet is None or i.sheet == sheet) and (code is None or i.code == code)]
        return sorted(chosen, key=lambda i: (i.sheet, i.row, i.col_index if i.col_index is not None else -1))

    def _fill_errors(self) -> None:
        issues = self.shown_errors()
        self.errors_table.setRowCount(len(issues))
        for r, issue in enumerate(issues):
            cells = (issue.sheet, str(issue.row or ""), issue.column, error_title(issue.code), issue.message)
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setToolTip(value)  # long messages are cut off in the cell
                self.errors_table.setItem(r, c, item)
            # the code as the JSON report and the CLI's report file have it, for whoever compares them
            self.errors_table.item(r, 3).setToolTip(f"{error_title(issue.code)}（代码 {issue.code}）")
        self.errors_table.resizeColumnsToContents()

    def choose_annotated_path(self) -> None:
        assert self.path is not None
        target = choose_save_file(self, "保存标注副本", self.ctx.settings, f"{self.path.stem}（错误标注）.xlsx")
        if target is not None:
            self.save_annotated(target)

    def save_annotated(self, target: Path) -> Job:
        """Build the annotated copy off the GUI thread (a large file takes a while), with progress and cancel;
        a file that cannot be read says why here instead of the button doing nothing."""
        assert self.path is not None and self.report is not None
        source, report = self.path, self.report

        def work(progress: ProgressFn, cancel: CancelFn) -> Path:
            return write_annotated(source, report, target, progress=progress, cancel=cancel)

        self.notice.setStyleSheet("")
        self.notice.setText("正在生成标注副本……")
        self.annotate_job = Job(self, "正在生成标注副本……", work, on_success=self._annotated,
                                on_failure=self._annotate_failed)
        self.annotate_job.finished.connect(self._annotate_ended)
        return self.annotate_job.start()

    def _annotated(self, saved: Path) -> None:
        self.notice.setText(f"标注副本已保存：{saved}（错误单元格已标红，最后一列为“错误原因”）")
        announce_written(self, saved, "标注副本", title="标注副本已保存", name="annotated_done",
                         detail="错误单元格已标红，最后一列为“错误原因”；在其中改好后重新选择文件导入。")

    def _annotate_failed(self, message: str) -> None:
        self.notice.setStyleSheet(ERROR_STYLE)
        self.notice.setText(message)
        QMessageBox.warning(self, "无法生成标注副本", message)

    def _annotate_ended(self) -> None:
        if self.annotate_job is not None and self.annotate_job.was_cancelled:
            self.notice.setText("已取消，没有保存标注副本。")

    def confirm_import(self) -> None:
        if self.report is None or not self.report.accepted:
            return
        self.stage = "importing"
        self._run(dry_run=False)

    def _imported(self, report: ImportReport) -> None:
        self.report = report
        self.stage = "done"
        if report.accepted:
            totals = report.totals()
            self.result_label.setText(f"导入完成：新增 {totals.created} 条，更新 {totals.updated} 条，"
                                      f"不变 {totals.unchanged} 条。")
            self.imported.emit(report)
        else:
            self.result_label.setStyleSheet(ERROR_STYLE)
            self.result_label.setText("导入未完成：文件在检查后发生了变化或与现有数据冲突，数据库没有任何改动。")
        self.result_text.setPlainText(report.summary_text())
        self.stack.setCurrentIndex(2)
