"""数据交换 and 审计日志 say where a written file went, and the import wizard's errors read in Chinese."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton

from townapp.core.idcard import make_id_number
from townapp.ui.forms.import_wizard import ImportWizard
from townapp.ui.widgets.done import OPEN_FOLDER

from .conftest import when_dialog_opens


def _saved_to(monkeypatch: pytest.MonkeyPatch, module: str, folder: Path) -> None:
    """The save dialog answered with the offered name in ``folder``."""
    monkeypatch.setattr(f"townapp.ui.{module}.choose_save_file",
                        lambda _parent, _title, _settings, name, *_a, **_k: folder / name)


def _done_box(page, name: str, qtbot) -> QMessageBox:  # noqa: ANN001
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, name) is not None, timeout=20000)
    box = page.findChild(QMessageBox, name)
    assert box.findChild(QPushButton, "open_folder").text() == OPEN_FOLDER
    return box


def test_template_and_package_exports_end_naming_the_file_with_open_folder(
        dongzhang_window, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """GIVEN the township's 数据交换 page
    WHEN the clerk exports the blank template of one sheet, then the county sync package unencrypted
    THEN each ends with a box that names the written file and offers 打开所在文件夹 (the package's box keeps its
    own words: checked, not encrypted)."""
    page = dongzhang_window.open_page("数据交换")
    _saved_to(monkeypatch, "pages.exchange", tmp_path)
    page.template_scope.setCurrentIndex(page.template_scope.findData("person"))
    qtbot.mouseClick(page.findChild(QPushButton, "export_template"), Qt.MouseButton.LeftButton)
    box = _done_box(page, "template_done", qtbot)
    (template,) = tmp_path.glob("*导入模板.xlsx")
    assert str(template) in box.text() and "“人员”" in box.text()
    box.accept()

    def unencrypted(dialog: QDialog) -> None:
        dialog.findChild(type(dialog.plain), "no_password").setChecked(True)
        dialog.submit()

    when_dialog_opens(unencrypted)
    qtbot.mouseClick(page.findChild(QPushButton, "export_package"), Qt.MouseButton.LeftButton)
    box = _done_box(page, "package_done", qtbot)
    (package,) = tmp_path.glob("*同步数据包*.xlsx")
    assert str(package) in box.text() and "核对无误" in box.text() and "未加密" in box.text()
    box.accept()


def test_import_errors_show_chinese_titles_with_the_code_in_the_tooltip(
        dongzhang_window, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    """GIVEN a roster whose only ID number has a wrong check digit
    WHEN the clerk checks it in the import wizard
    THEN the error's 错误类别 reads 身份证号校验位不对 (the code id_checksum only in its tooltip), the filter
    offers the title, and the message sends the clerk to check the number, not to register a person;
    AND saving the annotated copy ends with the box naming it."""
    number = make_id_number("140821", dt.date(1970, 3, 15), 71)
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    book = openpyxl.Workbook()
    book.active.title = "人员"
    book.active.append(["姓名", "身份证号", "所属村"])
    book.active.append(["孙建国", wrong, "东张村"])
    book.save(tmp_path / "人员.xlsx")
    page = dongzhang_window.open_page("数据交换")
    seen: dict[str, object] = {}

    def drive(dialog: QDialog) -> None:
        assert isinstance(dialog, ImportWizard)
        dialog.resize(1100, 650)
        dialog.set_file(tmp_path / "人员.xlsx")
        dialog.start_dry_run()
        qtbot.waitUntil(lambda: dialog.stage == "review", timeout=15000)
        table = dialog.errors_table
        headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
        seen["rows"] = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
        seen["tooltip"] = table.item(0, headers.index("错误类别")).toolTip()
        seen["filter"] = [dialog.code_filter.itemText(i) for i in range(dialog.code_filter.count())]
        seen["headers"] = headers
        # WHEN the annotated copy is saved THEN it ends like every export: the file named, 打开所在文件夹
        job = dialog.save_annotated(tmp_path / "人员（错误标注）.xlsx")
        qtbot.waitUntil(lambda: job.done, timeout=15000)
        seen["annotated"] = _done_box(dialog, "annotated_done", qtbot).text()
        dialog.reject()

    when_dialog_opens(drive)
    page.open_wizard()
    assert "错误代码" not in seen["headers"]
    [row] = seen["rows"]
    assert row[3] == "身份证号校验位不对" and "校验位不对" in row[4] and "登记" not in row[4]
    assert "id_checksum" in seen["tooltip"] and seen["filter"] == ["（全部）", "身份证号校验位不对"]
    assert str(tmp_path / "人员（错误标注）.xlsx") in seen["annotated"]
