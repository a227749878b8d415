"""季度报表 and 证书打印 pages: preview, export to a (USB) folder, preview certificates and print them.

The return is computed and written off the GUI thread (cancel leaves no
file). Certificates are previewed with QtPdf from the very PDF that would be
saved, and printed through Qt's print dialog page by page, each page rendered
at the printer's resolution onto the full sheet, so 套打 offsets measured in
millimetres land where the calibration page says.
"""

from __future__ import annotations

import datetime as dt
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
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
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
    CertificateService,
    layouts,
    printer_offset,
    save_printer_offset,
    write_calibration_page,
)
from townapp.outputs.figures import Period
from townapp.outputs.quarterly import ExportResult, ReturnService
from townapp.outputs.returns import QuarterlyReturn, display
from townapp.ui.context import AppContext
from townapp.ui.jobs import Job, call_service
from townapp.ui.pages.base import Page
from townapp.ui.widgets.files import choose_save_file

QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
PDF_FILTER = "PDF 文件 (*.pdf)"
FILLER_KEY, PHONE_KEY = "return_filler", "return_phone"
DEFAULT_PRINTER = "默认"
MAX_PRINT_DPI = 600  # a 600 dpi A4 page is ~140 MB as an image; printers above that gain nothing for text


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
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(value)
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
        lay.addWidget(QLabel("导出记录"))
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

        self.job = Job(self, "正在导出季度报表……", work, on_success=done, on_failure=self.show_error).start()


class CertificatesPage(Page):
    """证书打印: kind and source → preview → print (or save the PDF); 套打 offsets and a calibration page."""

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
        self.preview_button = QPushButton("生成预览")
        self.preview_button.setObjectName("preview")
        self.preview_button.clicked.connect(self.preview)
        self.print_button = QPushButton("打印…")
        self.print_button.setObjectName("print")
        self.print_button.clicked.connect(self.print_with_dialog)
        self.save_button = QPushButton("另存为PDF…")
        self.save_button.setObjectName("save_pdf")
        self.save_button.clicked.connect(self.save_pdf)
        for button in (self.print_button, self.save_button):
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
        for widget in (QLabel("水平"), self.dx, QLabel("垂直"), self.dy, save_offset):
            offsets.addWidget(widget)
        form.addRow("打印机", self.printer)
        form.addRow("套打偏移", offsets)
        buttons = QHBoxLayout()
        for button in (self.preview_button, self.print_button, self.save_button, calibrate):
            buttons.addWidget(button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(form)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.status)
        left_layout.addWidget(QLabel("打印记录（最近）"))
        self.log = _table(["时间", "编号", "姓名/名称", "荣誉", "方式", "首次/补打", "去向"])
        left_layout.addWidget(self.log, 1)
        self.document = QPdfDocument(self)
        self.view = QPdfView()
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitInView)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.view)
        split.setSizes([480, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.kind.currentIndexChanged.connect(self.refresh)
        self.year.valueChanged.connect(self.load_sources)
        self.all_years.toggled.connect(self.load_sources)
        self.printer.currentTextChanged.connect(self.load_offset)
        self.last: BatchResult | None = None
        self.last_overlay = False
        self.job: Job | None = None
        self.load_offset()

    # ----- choosing -------------------------------------------------------------------
    def refresh(self) -> None:
        self.load_sources()
        self.load_log()

    def load_sources(self) -> None:
        kind = self.kind.currentData()
        year = None if self.all_years.isChecked() else self.year.value()
        self.year.setEnabled(not self.all_years.isChecked())
        self.source.clear()
        try:
            choices = certificate_choices(self.ctx.db, kind, year, actor=self.ctx.actor)
        except DomainError as exc:
            self.status.setText(exc.message)
            return
        for choice in choices:
            self.source.addItem(choice.label, choice.key)
        empty = "没有可以发这种证书的已定级评定或评选结果。"
        if kind == "excellent-member":  # from the final grades: a year's grades are final at its 年度结转
            empty = "没有已年度结转的党员积分等次：优秀党员证书按年度结转确定的等次发放，请先在“年度结转”页面结转该年度。"
        self.status.setText("" if choices else empty)

    def load_log(self) -> None:
        rows = self.service.prints(self.kind.currentData(), limit=200)
        _fill(self.log, [[r.at.strftime("%Y-%m-%d %H:%M"), r.number, r.recipient, r.honour, r.mode,
                          "补打" if r.reprint else "首次", r.channel] for r in rows])
        self.log.resizeColumnsToContents()

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
    def _write(self, out: Path, record: bool, channel: str, after) -> None:  # noqa: ANN001
        kind, key = self.kind.currentData(), self.source.currentData()
        if key is None:
            self.show_error("请先选择发证依据")
            return
        overlay, offset = self.overlay.isChecked(), self.offset()

        def work(progress, cancel):  # noqa: ANN001, ANN202 (runs in the pool)
            batch = certificate_batch(self.ctx.db, kind, key, actor=self.ctx.actor)
            return self.service.write_batch(batch, out, overlay=overlay, offset_mm=offset, record=record,
                                            channel=channel, progress=progress, cancel=cancel), overlay

        self.job = Job(self, "正在生成证书……", work, on_success=after, on_failure=self.show_error).start()

    def preview(self) -> None:
        folder = config.data_dir() / "previews"
        self._write(folder / "证书预览.pdf", False, "", self._show_preview)

    def _show_preview(self, outcome: tuple[BatchResult, bool]) -> None:
        result, overlay = outcome
        self.last, self.last_overlay = result, overlay
        self.document.close()
        self.document.load(str(result.path))
        self.print_button.setEnabled(True)
        self.save_button.setEnabled(True)
        numbers = f"{result.certificates[0].number} 至 {result.certificates[-1].number}"
        self.status.setText(f"预览：{len(result.certificates)} 张（{'套打' if overlay else '完整版式'}），编号 {numbers}。"
                            "打印或另存后记入打印记录。")

    def save_pdf(self) -> None:
        lay = layouts()[self.kind.currentData()]
        path = choose_save_file(self, "另存证书PDF", self.ctx.settings, f"{self.source.currentText()}{lay.name}证书.pdf",
                                PDF_FILTER, ".pdf")
        if path is None:
            return

        def done(outcome: tuple[BatchResult, bool]) -> None:
            result, _overlay = outcome
            self.status.setText(f"已保存 {len(result.certificates)} 张证书：{result.path}（补打 {result.reprints} 张）")
            self.load_log()

        self._write(path, True, f"PDF文件 {path}", done)

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
            if self.last is None:  # the calibration page: nothing to log
                self.status.setText("校准页已送打印。")
                return
        except DomainError as exc:
            self.show_error(exc)
            return
        name = printer.outputFileName() or printer.printerName() or "打印机"
        ids, overlay = [c.id for c in self.last.certificates], self.last_overlay
        call_service(self, lambda: self.service.record_printed(ids, overlay=overlay, channel=f"打印机 {name}"),
                     lambda reprints: self._printed(pages, reprints), self.show_error, title="打印记录未保存")

    def _printed(self, pages: int, reprints: int) -> None:
        self.status.setText(f"已送打印 {pages} 页（其中补打 {reprints} 张）。")
        self.load_log()

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
        self.last = None
        self.document.close()
        self.document.load(str(path))
        self.print_button.setEnabled(True)
        self.save_button.setEnabled(False)
        self.status.setText("校准页已生成（右侧预览）。点“打印…”用白纸打印，与空白证书叠放对光检查，"
                            "再按页上的说明调整偏移。")
