"""Stories on the real window: certificates chosen by village, by name and by ticks; 补打 one with a reason.

Every print and export ends with a box that says what was written where, and
the registry logs exactly the certificates that went to paper or to the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox
from sqlalchemy import select

from townapp.core.actor import DEMO_ACTOR, ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.outputs.models import Certificate, CertificatePrint
from townapp.ui.app import open_main_window
from townapp.ui.pages.outputs import CertificatesPage, ReprintDialog

from ..outputs.town import Town, build_town
from .conftest import when_dialog_opens

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def town(db: Database) -> Town:
    return build_town(db)


@pytest.fixture
def window(app, db: Database, town: Town, qtbot):  # noqa: ANN001, ANN201
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    yield main
    main.close()


def _households_page(window) -> CertificatesPage:  # noqa: ANN001
    page = window.open_page("证书打印")
    page.kind.setCurrentIndex(page.kind.findData("household-star"))
    assert "2025年度星级文明户" in page.source.currentText()
    return page


def _shown(page: CertificatesPage) -> list[str]:
    return [page.list.item(r, 1).text() for r in range(page.list.rowCount()) if not page.list.isRowHidden(r)]


def _registry(db: Database) -> list[tuple[str, bool, str | None]]:
    """(recipient, 补打, reason) of every print entry, oldest first."""
    with db.reader() as s:
        return [tuple(row) for row in s.execute(
            select(Certificate.recipient, CertificatePrint.reprint, CertificatePrint.reason)
            .join(Certificate, Certificate.id == CertificatePrint.certificate_id).order_by(CertificatePrint.id))]


def _save_as(target: Path) -> None:
    def save(dialog: QFileDialog) -> None:
        dialog.selectFile(str(target))
        dialog.accept()

    when_dialog_opens(save)


def _print_to(target: Path) -> None:
    def to_pdf(dialog: QPrintDialog) -> None:
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        printer.setResolution(96)  # keep the test light
        dialog.done(QPrintDialog.DialogCode.Accepted)  # see test_outputs_story: keeps the PDF printer

    when_dialog_opens(to_pdf)


def _preview(page: CertificatesPage, qtbot, pages: int) -> None:  # noqa: ANN001
    qtbot.mouseClick(page.preview_button, LEFT)
    qtbot.waitUntil(lambda: page.request is not None and page.document.pageCount() == pages, timeout=20000)


def _done_box(page: CertificatesPage, name: str) -> QMessageBox | None:
    box = page.findChild(QMessageBox, name)
    return box if box is not None and box.isVisible() else None


def test_one_village_saved_then_one_household_reprinted_with_a_reason(window, db: Database, qtbot,  # noqa: ANN001
                                                                      tmp_path: Path) -> None:
    """GIVEN last year's 星级文明户 on the 证书打印 page: 李秀英, 马福 (甲村) and 孙强 (乙村), all ticked
    WHEN the clerk picks 乙村 and saves its certificates as a PDF
    THEN the PDF has 孙强's page only, a box names the file, and the registry logs 孙强 alone
    WHEN 孙强's certificate tears: they find him by name, 补打一张… with the reason 证书破损 and print it
    THEN the printer gets one page, a box says it is done, and the registry holds exactly two entries
    for 孙强 (首次, 补打 with its reason) and none for anybody else."""
    page = _households_page(window)
    assert _shown(page) == ["李秀英", "马福", "孙强"] and page.chosen.text().startswith("已勾选 3 张")
    page.village.setCurrentIndex(page.village.findData("乙村"))
    assert _shown(page) == ["孙强"] and page.chosen.text().startswith("已勾选 1 张")
    _preview(page, qtbot, 1)
    saved = tmp_path / "U盘" / "乙村证书.pdf"
    saved.parent.mkdir()
    _save_as(saved)
    qtbot.mouseClick(page.save_button, LEFT)
    qtbot.waitUntil(lambda: _done_box(page, "certificates_done") is not None, timeout=20000)

    assert str(saved) in _done_box(page, "certificates_done").text()
    assert [b.text() for b in _done_box(page, "certificates_done").buttons()].count("打开所在文件夹") == 1
    assert len(PdfReader(str(saved)).pages) == 1 and "孙强" in PdfReader(str(saved)).pages[0].extract_text()
    assert _registry(db) == [("孙强", False, None)]
    assert page.list.item(2, 5).text() == "1 次" and page.list.item(0, 5).text() == "未打印"

    # WHEN 孙强's certificate is printed again, alone, with a reason
    page.village.setCurrentIndex(page.village.findData(""))
    page.search.setText("孙")
    assert _shown(page) == ["孙强"]
    page.list.setCurrentCell(2, 1)
    assert page.reprint_button.isEnabled()

    def give_reason(dialog: ReprintDialog) -> None:
        assert not dialog.ok.isEnabled()  # no reason, no 补打
        dialog.reason.setCurrentText("证书破损")
        qtbot.mouseClick(dialog.ok, LEFT)

    when_dialog_opens(give_reason)
    qtbot.mouseClick(page.reprint_button, LEFT)
    qtbot.waitUntil(lambda: page.request is not None and page.document.pageCount() == 1, timeout=20000)
    assert page.request.reason == "证书破损" and "补打预览" in page.status.text()
    printed = tmp_path / "printer-output.pdf"
    _print_to(printed)
    qtbot.mouseClick(page.print_button, LEFT)
    qtbot.waitUntil(lambda: _done_box(page, "print_done") is not None, timeout=20000)

    assert len(PdfReader(str(printed)).pages) == 1
    assert "补打 1 张" in _done_box(page, "print_done").text()
    assert _registry(db) == [("孙强", False, None), ("孙强", True, "证书破损")]
    assert [page.log.item(0, c).text() for c in (2, 5, 6)] == ["孙强", "补打", "证书破损"]
    assert page.list.item(2, 5).text() == "2 次"


def test_only_the_ticked_certificates_are_printed(window, db: Database, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    """GIVEN the three households, all ticked, the list sorted by name (a header click)
    WHEN the clerk unticks the first line, previews and prints
    THEN two pages go to the printer and only the other two are logged;
    a tick changed after the preview asks for a new preview before anything can be printed."""
    page = _households_page(window)
    page.list.sortItems(1, Qt.SortOrder.DescendingOrder)
    unticked = page.list.item(0, 1).text()
    assert unticked != "李秀英"  # the batch's first line moved: the page reads ticks by key, not by place
    page.list.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert page.chosen.text().startswith("已勾选 2 张")
    _preview(page, qtbot, 2)
    page.list.item(0, 0).setCheckState(Qt.CheckState.Checked)
    assert not page.print_button.isEnabled() and "重新生成预览" in page.status.text()
    page.list.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    _preview(page, qtbot, 2)
    printed = tmp_path / "printer-output.pdf"
    _print_to(printed)
    qtbot.mouseClick(page.print_button, LEFT)
    qtbot.waitUntil(lambda: _done_box(page, "print_done") is not None, timeout=20000)

    assert len(PdfReader(str(printed)).pages) == 2
    assert str(printed) in _done_box(page, "print_done").text()
    assert sorted(name for name, _again, _why in _registry(db)) == sorted({"李秀英", "马福", "孙强"} - {unticked})
    # AND 全不选 then nothing to preview: the page says what to do
    qtbot.mouseClick(page.findChild(type(page.preview_button), "tick_none"), LEFT)
    assert page.chosen.text().startswith("已勾选 0 张")
    told: list[str] = []
    page.show_error = lambda error: told.append(str(error))  # type: ignore[method-assign]
    qtbot.mouseClick(page.preview_button, LEFT)
    assert told and "没有勾选要打印的证书" in told[0] and page.request is None


def test_a_certificate_never_printed_is_not_reprinted(window, qtbot) -> None:  # noqa: ANN001
    page = _households_page(window)
    page.list.setCurrentCell(0, 1)
    told: list[str] = []
    page.show_error = lambda error: told.append(str(error))  # type: ignore[method-assign]
    qtbot.mouseClick(page.reprint_button, LEFT)
    assert told and "还没有打印过" in told[0]


def test_a_village_clerk_lists_only_their_village(app, db: Database, town: Town, qtbot) -> None:  # noqa: ANN001
    clerk = open_main_window(db, Actor("甲村文书", ROLE_VILLAGE, town.village_a))
    qtbot.addWidget(clerk)
    page = _households_page(clerk)
    assert _shown(page) == ["李秀英", "马福"]
    assert [page.village.itemText(i) for i in range(page.village.count())] == ["全部村", "甲村"]
    clerk.close()


def test_the_quarterly_return_export_names_its_files(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    """GIVEN the 季度报表 previewed WHEN exported THEN a box names the workbook and the PDF beside it."""
    page = window.open_page("季度报表")
    page.year.setValue(2026)
    page.quarter.setCurrentIndex(1)
    qtbot.mouseClick(page.preview_button, LEFT)
    qtbot.waitUntil(lambda: page.result is not None, timeout=20000)
    target = tmp_path / "二季度报表.xlsx"
    _save_as(target)
    qtbot.mouseClick(page.export_button, LEFT)
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "return_done") is not None, timeout=30000)
    text = page.findChild(QMessageBox, "return_done").text()
    assert str(target) in text and str(target.with_suffix(".pdf")) in text
