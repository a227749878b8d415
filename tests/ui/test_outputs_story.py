"""Stories on the real main window: export a quarter's return, print a round's certificates to a PDF printer."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QPushButton
from python_calamine import CalamineWorkbook

from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.outputs.certificates import CertificateService
from townapp.ui.app import open_main_window
from townapp.ui.pages.dashboard import DashboardPage

from ..outputs.town import build_town
from .conftest import when_dialog_opens

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def window(app, db: Database, qtbot):  # noqa: ANN001, ANN201
    build_town(db)
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    yield main
    main.close()


def test_dashboard_is_the_first_page_and_counts_the_township(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the window just opened: 首页 comes first
    assert window.pages[0].title == "首页" and isinstance(window.pages[0], DashboardPage)
    page: DashboardPage = window.pages[0]
    page.year.setValue(2026)
    page.quarter.setCurrentIndex(1)
    # WHEN it refreshes
    page.refresh()
    qtbot.waitUntil(lambda: page.overview is not None and page.overview.period.quarter == 2, timeout=20000)
    # THEN the tiles show the township's figures
    tiles = {t.label.text(): t.value.text() for t in page.tiles}
    assert tiles["村（社区）"] == "2" and tiles["户数"] == "5" and tiles["党员"] == "5"
    assert tiles["已覆盖户数"] == "3" and tiles["星级文明户"] == "3"


def test_export_a_quarters_return_from_the_gui(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    # GIVEN the 季度报表 page, second quarter of 2026
    page = window.open_page("季度报表")
    page.year.setValue(2026)
    page.quarter.setCurrentIndex(1)
    # WHEN the clerk previews it
    qtbot.mouseClick(page.preview_button, LEFT)
    qtbot.waitUntil(lambda: page.result is not None, timeout=20000)
    # THEN every table is on a tab, with the villages and the total
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "党员队伍", "党员积分", "星级文明户", "网格化管理", "村级组织建设"]
    party = page.tabs.widget(0).findChild(type(page.history), "return_party_members")
    assert [party.item(r, 0).text() for r in range(party.rowCount())] == ["甲村", "乙村", "合计"]
    assert party.item(2, 1).text() == "5"
    # WHEN they export it to a folder (the save dialog opens where USB drives would be listed first)
    target = tmp_path / "U盘" / "二季度报表.xlsx"
    target.parent.mkdir()

    def save(dialog: QFileDialog) -> None:
        dialog.selectFile(str(target))
        dialog.accept()

    when_dialog_opens(save)
    qtbot.mouseClick(page.export_button, LEFT)
    qtbot.waitUntil(lambda: page.exported is not None, timeout=30000)
    # THEN the workbook and the PDF are there, the workbook says what the screen said, and the history lists both
    assert CalamineWorkbook.from_path(str(target)).get_sheet_by_name("党员队伍").to_python()[7][1] == 5
    assert target.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
    assert page.history.rowCount() == 2 and page.history.item(0, 2).text() == "2026年第2季度"


def test_print_a_rounds_certificates_to_a_pdf_printer(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    # GIVEN the 证书打印 page on 星级文明户 and last year's finalised round
    page = window.open_page("证书打印")
    page.kind.setCurrentIndex(page.kind.findData("household-star"))
    assert page.source.count() == 1 and "2025年度星级文明户" in page.source.currentText()
    # WHEN they preview the certificates
    qtbot.mouseClick(page.preview_button, LEFT)
    qtbot.waitUntil(lambda: page.last is not None and page.document.pageCount() == 3, timeout=20000)
    assert page.print_button.isEnabled()
    # AND print them through the print dialog to a PDF file
    printed = tmp_path / "printer-output.pdf"

    def to_pdf(dialog: QPrintDialog) -> None:
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed))
        printer.setResolution(96)  # keep the test light; a real printer reports 300/600 dpi
        # "打印" as the user's OK: done() keeps the PDF printer set above, where accept() would re-read the
        # dialog's printer list, which is empty on the offscreen test platform
        dialog.done(QPrintDialog.DialogCode.Accepted)

    when_dialog_opens(to_pdf)
    qtbot.mouseClick(page.print_button, LEFT)
    qtbot.waitUntil(lambda: printed.is_file() and page.log.rowCount() == 3, timeout=20000)
    # THEN the printer got one landscape page per certificate, and the print log lists them as first prints
    reader = PdfReader(str(printed))
    assert len(reader.pages) == 3
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(297 / 25.4 * 72, abs=2) and float(box.height) == pytest.approx(
        210 / 25.4 * 72, abs=2)
    log = CertificateService(window.ctx.db).prints("household-star")
    assert [(p.number, p.reprint) for p in log] == [("WMH20250003", False), ("WMH20250002", False),
                                                     ("WMH20250001", False)]
    assert all(p.channel.startswith("打印机") for p in log)
    assert page.log.item(0, 5).text() == "首次"


def test_buttons_are_labelled_in_chinese(window) -> None:  # noqa: ANN001
    page = window.open_page("证书打印")
    texts = {b.text() for b in page.findChildren(QPushButton)}
    assert {"生成预览", "打印…", "另存为PDF…", "生成校准页", "保存偏移"} <= texts
