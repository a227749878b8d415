"""季度报表 and 证书打印 pages: preview, export to a (USB) folder, preview certificates and print them.

The return is computed and written off the GUI thread (cancel leaves no
file). Certificates are chosen by village, by name and by ticks in the list
of a batch's recipients (the service applies the choice and logs exactly
what was printed); one torn or lost certificate is printed again alone, with
its reason (补打). Certificates are previewed with QtPdf from the very PDF that would be
saved, and printed through Qt's print dialog page by page, each page rendered
at the printer's resolution onto the full sheet, so 套打 offsets measured in
millimetres land where the calibration page says.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrinterInfo
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from townapp import config
from townapp.core.errors import DomainError
from townapp.figures import certificate_batch, certificate_choices, figure_registry, unit_source
from townapp.outputs.certificates import (
    BatchResult,
    CertificateBatch,
    CertificateService,
    Recipient,
    Selection,
    layouts,
    printer_offset,
    save_printer_offset,
    villages_of,
    write_calibration_page,
)
from townapp.outputs.figures import Period
from townapp.outputs.quarterly import ExportResult, ReturnService
from townapp.outputs.returns import QuarterlyReturn, display
from townapp.ui.context import AppContext
from townapp.ui.jobs import Job, call_service
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.fields import ok_cancel
from townapp.ui.widgets.files import choose_save_file
from townapp.ui.widgets.tables import SortableItem, TableSearch, pin_row_last

QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
PDF_FILTER = "PDF 文件 (*.pdf)"
FILLER_KEY, PHONE_KEY = "return_filler", "return_phone"
DEFAULT_PRINTER = "默认"
MAX_PRINT_DPI = 600  # a 600 dpi A4 page is ~140 MB as an image; printers above that gain nothing for text
LIST_HEADERS = ["打印", "姓名/名称", "村（社区）", "荣誉", "编号", "已打印"]
REPRINT_REASONS = ("证书破损", "证书遗失", "打印效果不好", "信息更正后重打")


def create_pages(ctx: AppContext) -> list[Page]:
    return [ReturnsPage(ctx), CertificatesPage(ctx)]


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]], right: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """Cells that sort numbers as numbers; call before enabling sorting (rows stay in the order given)."""
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = SortableItem(value)
            if c in right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


class ReturnsPage(Page):
    """季度报表: choose year and quarter → preview every table → export (Excel and PDF)."""

    title = "季度报表"

    def __init__(self, ctx: AppContext, today: dt.date | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = ReturnService(ctx.db, figure_registry(ctx.db), unit_source(), ctx.actor)
        last = Period.containing(today or dt.date.today())
        last = Period(last.year - 1, 4) if last.quarter == 1 else Period(last.year, last.quarter - 1)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(last.year)
        self.year.setSuffix(" 年")
        self.quarter = QComboBox()
        self.quarter.addItems(QUARTERS)
        self.quarter.setCurrentIndex(last.quarter - 1)
        self.filler = QLineEdit(ctx.settings.get(FILLER_KEY) or ctx.actor.username)
        self.phone = QLineEdit(ctx.settings.get(PHONE_KEY) or "")
        self.with_pdf = QCheckBox("同时导出PDF（含图表）")
        self.with_pdf.setChecked(True)
        self.preview_button = QPushButton("生成预览")
        self.preview_button.setObjectName("preview")
        self.preview_button.clicked.connect(self.preview)
        self.export_button = QPushButton("导出报表…")
        self.export_button.setObjectName("export")
        self.export_button.clicked.connect(self.export)
        self.export_button.setEnabled(False)
        top = QHBoxLayout()
        for widget in (QLabel("年度"), self.year, self.quarter, QLabel("填报人"), self.filler, QLabel("联系电话"),
                       self.phone, self.preview_button, self.export_button, self.with_pdf):
            top.addWidget(widget)
        top.addStretch(1)
        self.status = QLabel("选择年度和季度后点“生成预览”。")
        self.status.setWordWrap(True)
        self.tabs = QTabWidget()
        self.history = _table(["导出时间", "操作人", "期间", "类型", "文件", "SHA-256（前16位）"])
        self.history.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tabs)
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.history_search = TableSearch(self.history, "搜索导出记录：期间、操作人、文件")
        history_bar = QHBoxLayout()
        history_bar.addWidget(QLabel("导出记录"))
        history_bar.addStretch(1)
        history_bar.addWidget(self.history_search.add_choice(2, "全部期间"))
        history_bar.addWidget(self.history_search, 1)
        lay.addLayout(history_bar)
        lay.addWidget(self.history)
        split.addWidget(box)
        split.setSizes([520, 160])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self.result: QuarterlyReturn | None = None
        self.job: Job | None = None
        self.exported: ExportResult | None = None

    def period(self) -> Period:
        return Period(self.year.value(), self.quarter.currentIndex() + 1)

    def refresh(self) -> None:
        _fill(self.history, [[r.at.strftime("%Y-%m-%d %H:%M"), r.username, f"{r.year}年第{r.quarter}季度",
                              r.file_kind, r.path, r.sha256[:16]] for r in self.service.history()])
        self.history.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # newest first, as given
        self.history.setSortingEnabled(True)  # the export times, periods or files in order at a header click
        self.history.horizontalHeader().setSortIndicatorClearable(True)
        self.history_search.apply()
        self.history.resizeColumnsToContents()

    def preview(self) -> None:
        period, filler, phone = self.period(), self.filler.text().strip(), self.phone.text().strip()
        self.ctx.settings.set(FILLER_KEY, filler)
        self.ctx.settings.set(PHONE_KEY, phone)

        def work(progress, cancel):  # noqa: ANN001, ANN202 (runs in the pool)
            return self.service.build(period, filler=filler, phone=phone, progress=progress, cancel=cancel)

        self.export_button.setEnabled(False)
        self.job = Job(self, "正在计算季度报表……", work, on_success=self.show_return,
                       on_failure=self.show_error).start()

    def show_return(self, ret: QuarterlyReturn) -> None:
        self.result = ret
        self.tabs.clear()
        for table in ret.tables:
            columns = table.layout.columns
            headers = [table.row_header] + [f"{c.group}\n{c.header}" if c.group else c.header for c in columns]
            view = _table(headers)
            view.setObjectName(f"return_{table.layout.key}")
            _fill(view, [[row.label] + [display(c, v) for c, v in zip(columns, row.values, strict=True)]
                         for row in table.rows], right=set(range(1, len(columns) + 1)))
            last = view.rowCount() - 1
            for c in range(view.columnCount()):
                font = view.item(last, c).font()
                font.setBold(True)
                view.item(last, c).setFont(font)
            pin_row_last(view, last)  # the 合计 stays at the bottom whichever header is clicked
            view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            view.setSortingEnabled(True)
            view.horizontalHeader().setSortIndicatorClearable(True)
            view.resizeColumnsToContents()
            holder = QWidget()
            box = QVBoxLayout(holder)
            heading = QLabel(table.title)
            heading.setStyleSheet("font-size: 15px; font-weight: bold;")
            box.addWidget(heading)
            box.addWidget(view)
            self.tabs.addTab(holder, table.layout.sheet)
        text = f"{ret.unit_name}{ret.period.text}，数据截至{ret.period.end:%Y-%m-%d}，共 {len(ret.tables)} 张表。"
        if ret.missing_figures:
            text += f"以下数字暂无模块提供，按0填写：{'、'.join(ret.missing_figures)}"
        self.status.setText(text)
        self.export_button.setEnabled(True)

    def export(self) -> None:
        ret = self.result
        if ret is None:
            return
        path = choose_save_file(self, "导出季度报表", self.ctx.settings, f"{ret.file_name()}.xlsx")
        if path is None:
            return
        pdf = path.with_suffix(".pdf") if self.with_pdf.isChecked() else None

        def work(progress, cancel):  # noqa: ANN001, ANN202 (runs in the pool)
            return self.service.export(ret, path, pdf, progress=progress, cancel=cancel)

        def done(result: ExportResult) -> None:
            self.exported = result
            self.status.setText(f"已导出：{result.xlsx}" + (f"　PDF：{result.pdf}" if result.pdf else ""))
            self.refresh()
            announce_written(self, result.xlsx, "季度报表", name="return_done",
                             detail=f"同时导出的PDF（含图表）：{result.pdf}" if result.pdf else "")

        self.job = Job(self, "正在导出季度报表……", work, on_success=done, on_failure=self.show_error).start()


class ReprintDialog(QDialog):
    """补打 one certificate: says which one and how often it was printed, and will not go on without a reason."""

    def __init__(self, row: Recipient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reprint_dialog")
        self.setWindowTitle("补打证书")
        words = QLabel(f"补打 {row.number}　{row.village} {row.recipient}（{row.honour}），已打印 {row.print_count} 次。\n"
                       "证书编号和发证日期不变，只打印这一张，并记入打印记录。")
        words.setWordWrap(True)
        self.reason = QComboBox()
        self.reason.setObjectName("reason")
        self.reason.setEditable(True)
        self.reason.addItems(["", *REPRINT_REASONS])
        self.reason.lineEdit().setPlaceholderText("必填：如证书破损、证书遗失")
        form = QFormLayout()
        form.addRow(words)
        form.addRow("补打原因", self.reason)
        self.buttons = ok_cancel(self, "补打")
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setEnabled(False)
        self.reason.currentTextChanged.connect(lambda text: self.ok.setEnabled(bool(text.strip())))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(460, 170)

    def text(self) -> str:
        return self.reason.currentText().strip()


@dataclass(frozen=True)
class PrintRequest:
    """What a preview was made of, so that printing or saving it writes and logs exactly that."""

    kind: str
    batch: CertificateBatch
    selection: Selection
    overlay: bool
    offset: tuple[float, float]
    reason: str = ""  # a single 补打


class CertificatesPage(Page):
    """证书打印: kind and source → choose (village, name, ticks) → preview → print or save; 补打 one; 套打 offsets."""

    title = "证书打印"

    def __init__(self, ctx: AppContext, today: dt.date | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = CertificateService(ctx.db, ctx.actor)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for kind, lay in layouts().items():
            self.kind.addItem(lay.name, kind)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue((today or dt.date.today()).year)
        self.year.setSuffix(" 年")
        self.all_years = QCheckBox("全部年度")
        self.all_years.setChecked(True)
        self.source = QComboBox()
        self.source.setObjectName("source")
        self.source.setMinimumWidth(320)
        self.design = QRadioButton("完整版式（白纸打印边框、标题和文字）")
        self.overlay = QRadioButton("套打（只打印文字，用于预先印好的空白证书）")
        self.design.setChecked(True)
        modes = QButtonGroup(self)
        modes.addButton(self.design)
        modes.addButton(self.overlay)
        self.printer = QComboBox()
        self.printer.addItems([DEFAULT_PRINTER, *QPrinterInfo.availablePrinterNames()])
        self.dx, self.dy = QDoubleSpinBox(), QDoubleSpinBox()
        for spin in (self.dx, self.dy):
            spin.setRange(-30, 30)
            spin.setDecimals(1)
            spin.setSingleStep(0.5)
            spin.setSuffix(" 毫米")
        save_offset = QPushButton("保存偏移")
        save_offset.clicked.connect(self.save_offset)
        calibrate = QPushButton("生成校准页")
        calibrate.setObjectName("calibrate")
        calibrate.clicked.connect(self.calibration_page)
        # choosing which certificates: a village, a name, the ticks in the list
        self.village = QComboBox()
        self.village.setObjectName("village")
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("输入姓名、名称或证书编号查找")
        self.search.setClearButtonEnabled(True)
        tick_all, tick_none = QPushButton("全选"), QPushButton("全不选")
        tick_all.setObjectName("tick_all")
        tick_none.setObjectName("tick_none")
        tick_all.clicked.connect(lambda: self.tick_shown(True))
        tick_none.clicked.connect(lambda: self.tick_shown(False))
        self.list = _table(LIST_HEADERS)
        self.list.setObjectName("recipients")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.list.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the batch's order first
        self.list.horizontalHeader().setSortIndicatorClearable(True)
        self.chosen = QLabel()
        self.chosen.setObjectName("chosen")
        self.preview_button = QPushButton("生成预览")
        self.preview_button.setObjectName("preview")
        self.preview_button.setToolTip("预览列表中勾选的证书")
        self.preview_button.clicked.connect(self.preview)
        self.print_button = QPushButton("打印…")
        self.print_button.setObjectName("print")
        self.print_button.clicked.connect(self.print_with_dialog)
        self.save_button = QPushButton("另存为PDF…")
        self.save_button.setObjectName("save_pdf")
        self.save_button.clicked.connect(self.save_pdf)
        self.reprint_button = QPushButton("补打一张…")
        self.reprint_button.setObjectName("reprint")
        self.reprint_button.setToolTip("在列表中点选一张已打印过的证书（破损、遗失），只补打这一张并填写原因")
        self.reprint_button.clicked.connect(self.reprint)
        for button in (self.print_button, self.save_button, self.reprint_button):
            button.setEnabled(False)
        form = QFormLayout()
        year_row = QHBoxLayout()
        year_row.addWidget(self.year)
        year_row.addWidget(self.all_years)
        form.addRow("证书种类", self.kind)
        form.addRow("年度", year_row)
        form.addRow("发证依据", self.source)
        form.addRow("打印方式", self.design)
        form.addRow("", self.overlay)
        offsets = QHBoxLayout()
        for widget in (QLabel("水平"), self.dx, QLabel("垂直"), self.dy, save_offset, calibrate):
            offsets.addWidget(widget)
        form.addRow("打印机", self.printer)
        form.addRow("套打偏移", offsets)
        filters = QHBoxLayout()
        for widget in (QLabel("村（社区）"), self.village, QLabel("查找"), self.search, tick_all, tick_none):
            filters.addWidget(widget)
        filters.setStretchFactor(self.search, 1)
        buttons = QHBoxLayout()
        for button in (self.preview_button, self.print_button, self.save_button, self.reprint_button):
            buttons.addWidget(button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        choose_box = QWidget()
        choose_layout = QVBoxLayout(choose_box)
        choose_layout.setContentsMargins(0, 0, 0, 0)
        choose_layout.addWidget(QLabel("打印哪些证书（勾选的才打印；可按村筛选，按姓名或证书编号查找）"))
        choose_layout.addLayout(filters)
        choose_layout.addWidget(self.list, 1)
        choose_layout.addWidget(self.chosen)
        choose_layout.addLayout(buttons)
        choose_layout.addWidget(self.status)
        log_box = QWidget()
        log_layout = QVBoxLayout(log_box)
        log_layout.setContentsMargins(0, 0, 0, 0)
        log_layout.addWidget(QLabel("打印记录（最近）"))
        self.log = _table(["时间", "编号", "姓名/名称", "荣誉", "方式", "首次/补打", "补打原因", "去向"])
        log_layout.addWidget(self.log, 1)
        lists = QSplitter(Qt.Orientation.Vertical)
        lists.addWidget(choose_box)
        lists.addWidget(log_box)
        lists.setSizes([460, 200])
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(form)
        left_layout.addWidget(lists, 1)
        self.document = QPdfDocument(self)
        self.view = QPdfView()
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.view)
        split.setSizes([600, 560])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.batch: CertificateBatch | None = None
        self.rows: list[Recipient] = []
        self.by_key: dict[str, Recipient] = {}
        self.request: PrintRequest | None = None  # what the preview shows (None: nothing to print or save)
        self.last: BatchResult | None = None
        self.last_overlay = False
        self.job: Job | None = None
        self.kind.currentIndexChanged.connect(self.refresh)
        self.year.valueChanged.connect(self.load_sources)
        self.all_years.toggled.connect(self.load_sources)
        self.source.currentIndexChanged.connect(self.load_recipients)
        self.village.currentIndexChanged.connect(self.show_matching)
        self.search.textChanged.connect(self.show_matching)
        self.list.itemChanged.connect(self._ticked)
        self.list.currentCellChanged.connect(lambda *_cells: self._update_reprint())
        self.printer.currentTextChanged.connect(self.load_offset)
        for changed in (self.overlay.toggled, self.dx.valueChanged, self.dy.valueChanged):
            changed.connect(lambda *_args: self._forget_preview())
        self.load_offset()

    # ----- choosing -------------------------------------------------------------------
    def refresh(self) -> None:
        self.load_sources()
        self.load_log()

    def load_sources(self) -> None:
        kind = self.kind.currentData()
        year = None if self.all_years.isChecked() else self.year.value()
        self.year.setEnabled(not self.all_years.isChecked())
        self.source.blockSignals(True)
        self.source.clear()
        self.source.blockSignals(False)
        try:
            choices = certificate_choices(self.ctx.db, kind, year, actor=self.ctx.actor)
        except DomainError as exc:
            self.load_recipients()
            self.status.setText(exc.message)
            return
        self.source.blockSignals(True)
        for choice in choices:
            self.source.addItem(choice.label, choice.key)
        self.source.blockSignals(False)
        self.load_recipients()
        empty = "没有可以发这种证书的已定级评定或评选结果。"
        if kind == "excellent-member":  # from the final grades: a year's grades are final at its 年度结转
            empty = "没有已年度结转的党员积分等次：优秀党员证书按年度结转确定的等次发放，请先在“年度结转”页面结转该年度。"
        if not choices:
            self.status.setText(empty)

    def load_recipients(self) -> None:
        """The chosen source's recipients into the list, all ticked: as before, the whole batch unless narrowed."""
        key = self.source.currentData()
        self.batch, self.rows = None, []
        self._forget_preview()
        if key is not None:
            try:
                self.batch = certificate_batch(self.ctx.db, self.kind.currentData(), key, actor=self.ctx.actor)
                self.rows = self.service.recipients(self.batch)
            except DomainError as exc:
                self.batch = None
                self.status.setText(exc.message)
        village = self.village.currentData() or ""
        self.village.blockSignals(True)
        self.village.clear()
        self.village.addItem("全部村", "")
        for name in villages_of(self.rows):
            self.village.addItem(name, name)
        self.village.setCurrentIndex(max(self.village.findData(village), 0))
        self.village.blockSignals(False)
        self._fill_list()
        self.status.setText("" if self.rows or key is None else "这一批没有可以发证书的对象。")

    def _row_at(self, r: int) -> Recipient:
        """The recipient shown on line ``r`` (the list sorts by any header: lines are found by key, not place)."""
        return self.by_key[self.list.item(r, 0).data(Qt.ItemDataRole.UserRole)]

    def _fill_list(self) -> None:
        self.by_key = {row.subject_key: row for row in self.rows}
        self.list.setSortingEnabled(False)
        self.list.blockSignals(True)
        self.list.setUpdatesEnabled(False)
        self.list.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            tick = QTableWidgetItem()
            tick.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            tick.setCheckState(Qt.CheckState.Checked)
            tick.setData(Qt.ItemDataRole.UserRole, row.subject_key)
            self.list.setItem(r, 0, tick)
            for c, value in enumerate((row.recipient, row.village, row.honour), start=1):
                self.list.setItem(r, c, QTableWidgetItem(value))
            self._set_registry_cells(r, row)
        self.list.resizeColumnsToContents()
        self.list.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.list.setUpdatesEnabled(True)
        self.list.blockSignals(False)
        self.list.setSortingEnabled(True)
        self.show_matching()

    def _set_registry_cells(self, r: int, row: Recipient) -> None:
        count = QTableWidgetItem(f"{row.print_count} 次" if row.printed else "未打印")
        count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.list.setItem(r, 4, QTableWidgetItem(row.number or "未编号"))
        self.list.setItem(r, 5, count)

    def selection(self, *, ticked: bool = True) -> Selection:
        """The village and the name or number typed above the list, and (``ticked``) the ticks in it."""
        keys = frozenset(self.list.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.list.rowCount())
                         if self.list.item(r, 0).checkState() == Qt.CheckState.Checked) if ticked else None
        return Selection(self.village.currentData() or "", self.search.text().strip(), keys)

    def show_matching(self) -> None:
        """Rows outside the village or the name are hidden (their ticks are kept, but they are not printed)."""
        shown = self.selection(ticked=False)
        self.list.setUpdatesEnabled(False)
        for r in range(self.list.rowCount()):
            self.list.setRowHidden(r, not shown.matches(self._row_at(r)))
        self.list.setUpdatesEnabled(True)
        self._forget_preview()

    def tick_shown(self, ticked: bool) -> None:
        state = Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked
        self.list.blockSignals(True)
        for r in range(self.list.rowCount()):
            if not self.list.isRowHidden(r):
                self.list.item(r, 0).setCheckState(state)
        self.list.blockSignals(False)
        self._forget_preview()

    def _ticked(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self._forget_preview()

    def chosen_rows(self) -> list[Recipient]:
        """Ticked and shown: what a preview (and then 打印 or 另存为PDF) writes, by the service's rule."""
        selection = self.selection()
        return [row for row in self.rows if selection.matches(row)]

    def current_row(self) -> Recipient | None:
        r = self.list.currentRow()
        return self._row_at(r) if 0 <= r < self.list.rowCount() and not self.list.isRowHidden(r) else None

    def _update_reprint(self) -> None:
        self.reprint_button.setEnabled(self.current_row() is not None)

    def _forget_preview(self) -> None:
        """The choice changed: what the preview shows is no longer what would be printed."""
        had = self.request is not None
        self.request = None
        self.last = None
        for button in (self.print_button, self.save_button):
            button.setEnabled(False)
        if had:
            self.document.close()
            self.status.setText("选择已改变，请重新生成预览。")
        self._show_chosen()

    def _show_chosen(self) -> None:
        """The line under the list: how many are ticked and shown, and how many of them would be 补打."""
        chosen = self.chosen_rows()
        again = sum(1 for row in chosen if row.printed)
        shown = sum(1 for r in range(self.list.rowCount()) if not self.list.isRowHidden(r))
        self.chosen.setText(f"已勾选 {len(chosen)} 张（列表显示 {shown} 张，共 {len(self.rows)} 张）"
                            + (f"，其中 {again} 张已打印过，再打印记为补打" if again else ""))
        self._update_reprint()

    def load_log(self) -> None:
        rows = self.service.prints(self.kind.currentData(), limit=200)
        _fill(self.log, [[r.at.strftime("%Y-%m-%d %H:%M"), r.number, r.recipient, r.honour, r.mode,
                          "补打" if r.reprint else "首次", r.reason, r.channel] for r in rows])
        self.log.resizeColumnsToContents()

    def _reload_counts(self) -> None:
        """After a print: the list's numbers and print counts from the registry; ticks and filters stay."""
        if self.batch is None:
            return
        self.rows = self.service.recipients(self.batch)  # the same recipients: only numbers and counts change
        self.by_key = {row.subject_key: row for row in self.rows}
        self.list.setSortingEnabled(False)  # a changed cell would move its line while the loop walks the lines
        self.list.blockSignals(True)
        for r in range(self.list.rowCount()):
            self._set_registry_cells(r, self._row_at(r))
        for column in (4, 5):  # 未编号 → WMH20250001
            self.list.resizeColumnToContents(column)
        self.list.blockSignals(False)
        self.list.setSortingEnabled(True)
        self._show_chosen()

    def load_offset(self) -> None:
        dx, dy = printer_offset(self.ctx.settings, self.printer.currentText())
        self.dx.setValue(dx)
        self.dy.setValue(dy)

    def save_offset(self) -> None:
        save_printer_offset(self.ctx.settings, self.printer.currentText(), (self.dx.value(), self.dy.value()))
        self.status.setText(f"已保存打印机“{self.printer.currentText()}”的套打偏移。")

    def offset(self) -> tuple[float, float]:
        return self.dx.value(), self.dy.value()

    # ----- preview, save, print -----------------------------------------------------------
    def _write(self, request: PrintRequest, out: Path, record: bool, channel: str, after) -> None:  # noqa: ANN001
        def work(progress, cancel):  # noqa: ANN001, ANN202 (runs in the pool)
            return self.service.write_batch(request.batch, out, overlay=request.overlay, offset_mm=request.offset,
                                            record=record, channel=channel, selection=request.selection,
                                            reason=request.reason, progress=progress, cancel=cancel), request

        self.job = Job(self, "正在生成证书……", work, on_success=after, on_failure=self.show_error).start()

    def _new_request(self, selection: Selection, reason: str = "") -> PrintRequest | None:
        if self.batch is None:
            self.show_error("请先选择发证依据")
            return None
        return PrintRequest(self.kind.currentData(), self.batch, selection, self.overlay.isChecked(), self.offset(),
                            reason)

    def preview(self) -> None:
        chosen = self.chosen_rows()
        request = self._new_request(Selection(subject_keys=frozenset(row.subject_key for row in chosen)))
        if request is None:
            return
        if not chosen:
            self.show_error("没有勾选要打印的证书：请在列表中勾选，或改变村、姓名的筛选条件")
            return
        self._write(request, config.data_dir() / "previews" / "证书预览.pdf", False, "", self._show_preview)

    def reprint(self) -> None:
        """补打 the certificate of the list's current row, alone, once a reason is given."""
        row = self.current_row()
        if row is None:
            self.show_error("请先在列表中点选要补打的那一张证书")
            return
        if not row.printed:
            self.show_error(f"{row.recipient}的证书还没有打印过，不需要补打：勾选后直接打印即可")
            return
        dialog = ReprintDialog(row, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        request = self._new_request(Selection(subject_keys=frozenset({row.subject_key})), dialog.text())
        if request is not None:
            self._write(request, config.data_dir() / "previews" / "证书预览.pdf", False, "", self._show_preview)

    def _show_preview(self, outcome: tuple[BatchResult, PrintRequest]) -> None:
        result, request = outcome
        self.request, self.last, self.last_overlay = request, result, request.overlay
        self.document.close()
        self.document.load(str(result.path))
        self.print_button.setEnabled(True)
        self.save_button.setEnabled(True)
        mode = "套打" if request.overlay else "完整版式"
        if request.reason:
            one = result.certificates[0]
            self.status.setText(f"补打预览：{one.number} {one.recipient}（{mode}），原因：{request.reason}。"
                                "点“打印…”或“另存为PDF…”完成补打，记入打印记录。")
            return
        numbers = f"{result.certificates[0].number} 至 {result.certificates[-1].number}"
        again = sum(1 for c in result.certificates if c.print_count)
        self.status.setText(f"预览：{len(result.certificates)} 张（{mode}），编号 {numbers}"
                            + (f"，其中 {again} 张已打印过，将记为补打" if again else "")
                            + "。打印或另存后记入打印记录。")

    def save_pdf(self) -> None:
        request = self.request
        if request is None:
            return
        lay = layouts()[request.kind]
        name = f"{self.source.currentText()}{lay.name}证书"
        if request.reason:
            name = f"{self.last.certificates[0].number}补打" if self.last else f"{lay.name}证书补打"
        path = choose_save_file(self, "另存证书PDF", self.ctx.settings, f"{name}.pdf", PDF_FILTER, ".pdf")
        if path is None:
            return

        def done(outcome: tuple[BatchResult, PrintRequest]) -> None:
            result, _request = outcome
            text = f"共 {len(result.certificates)} 张证书（首次 {result.new_numbers} 张，补打 {result.reprints} 张），已记入打印记录。"
            self.status.setText(f"已保存：{result.path}　{text}")
            self.load_log()
            self._reload_counts()
            announce_written(self, result.path, "证书PDF", detail=text, name="certificates_done")

        self._write(request, path, True, f"PDF文件 {path}", done)

    def print_with_dialog(self) -> None:
        if self.document.pageCount() == 0:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        if self.printer.currentText() != DEFAULT_PRINTER:
            printer.setPrinterName(self.printer.currentText())
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印证书")
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        try:
            pages = self.print_document(printer)
        except DomainError as exc:
            self.show_error(exc)
            return
        name = printer.outputFileName() or printer.printerName() or "打印机"
        if self.last is None or self.request is None:  # the calibration page: nothing to log
            self.status.setText("校准页已送打印。")
            self._announce_printed(printer, f"已送打印校准页（{pages} 页）。")
            return
        ids, request = [c.id for c in self.last.certificates], self.request
        call_service(self, lambda: self.service.record_printed(ids, overlay=request.overlay,
                                                               channel=f"打印机 {name}", reason=request.reason),
                     lambda reprints: self._printed(printer, pages, reprints), self.show_error, title="打印记录未保存")

    def _printed(self, printer: QPrinter, pages: int, reprints: int) -> None:
        text = f"已送打印 {pages} 张证书（其中补打 {reprints} 张），已记入打印记录。"
        self.status.setText(text)
        self.load_log()
        self._reload_counts()
        self._announce_printed(printer, text)

    def _announce_printed(self, printer: QPrinter, text: str) -> None:
        """Printed to a file (打印到文件/PDF 打印机): the file is named; to paper: the printer is."""
        if printer.outputFileName():
            announce_written(self, printer.outputFileName(), "打印输出的文件", title="打印完成", detail=text,
                             name="print_done")
            return
        box = QMessageBox(QMessageBox.Icon.Information, "打印完成",
                          f"{text}\n打印机：{printer.printerName() or '默认打印机'}。请到打印机取纸并核对。",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("print_done")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def print_document(self, printer: QPrinter) -> int:
        """Each page rendered at the printer's resolution onto the whole sheet (full page: no margins moved)."""
        first = self.document.pagePointSize(0)
        orientation = (QPageLayout.Orientation.Landscape if first.width() > first.height()
                       else QPageLayout.Orientation.Portrait)
        size = QPageSize(QSizeF(min(first.width(), first.height()), max(first.width(), first.height())),
                         QPageSize.Unit.Point, "证书")
        printer.setFullPage(True)
        printer.setPageLayout(QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0)))
        dpi = min(printer.resolution(), MAX_PRINT_DPI)
        painter = QPainter()
        if not painter.begin(printer):
            raise DomainError("无法开始打印：打印机不可用")
        try:
            target = printer.paperRect(QPrinter.Unit.DevicePixel)
            for index in range(self.document.pageCount()):
                if index:
                    printer.newPage()
                points = self.document.pagePointSize(index)
                image = self.document.render(index, QSize(round(points.width() / 72 * dpi),
                                                          round(points.height() / 72 * dpi)))
                painter.drawImage(QRectF(QPointF(0, 0), QSizeF(target.width(), target.height())), image)
        finally:
            painter.end()
        return self.document.pageCount()

    def calibration_page(self) -> None:
        lay = layouts()[self.kind.currentData()]
        folder = config.data_dir() / "previews"
        try:
            path = write_calibration_page(lay, folder / "套打校准页.pdf", self.offset(), self.printer.currentText())
        except DomainError as exc:
            self.show_error(exc)
            return
        self._forget_preview()
        self.document.close()
        self.document.load(str(path))
        self.print_button.setEnabled(True)
        self.status.setText("校准页已生成（右侧预览）。点“打印…”用白纸打印，与空白证书叠放对光检查，"
                            "再按页上的说明调整偏移。")
