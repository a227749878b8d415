"""A clerk imports a village's own roster through the wizard, fixing what the dry run found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton

from townapp.core.idcard import make_id_number
from townapp.registry.dto import SearchFilter
from townapp.ui.forms.import_wizard import ImportWizard

from .conftest import when_dialog_opens

GOOD = [make_id_number("140821", dt.date(1960 + i, 3, 1 + i), 11 + 2 * i) for i in range(3)]


def _roster(path: Path, ids: list[str]) -> Path:
    """A village's own roster: a merged title row, their own column order, dates as text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人口信息"
    ws.append(["东张村人口登记表（2026年）"])
    ws.merge_cells("A1:E1")
    ws.append(["姓名", "公民身份号码", "所属村", "出生年月", "联系电话"])
    for index, number in enumerate(ids):
        ws.append([f"测试{index}号", number, "东张村", f"{number[6:10]}.{number[10:12]}.{number[12:14]}",
                   f"1390000000{index}"])
    for row in ws.iter_rows(min_row=3, min_col=2, max_col=2):
        row[0].number_format = "@"
    wb.save(path)
    return path


@pytest.fixture
def window(dongzhang_window):  # noqa: ANN001, ANN201
    return dongzhang_window


def test_dry_run_errors_annotated_copy_then_fixed_file_imports(window, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    page = window.open_page("数据交换")
    bad_id = GOOD[1][:-1] + ("0" if GOOD[1][-1] != "0" else "1")
    bad_file = _roster(tmp_path / "东张村人口.xlsx", [GOOD[0], bad_id, GOOD[2]])
    fixed_file = _roster(tmp_path / "东张村人口（改）.xlsx", GOOD)
    seen: dict[str, object] = {}

    def drive(dialog: QDialog) -> None:
        assert isinstance(dialog, ImportWizard)
        # WHEN the clerk picks the file with one wrong ID and starts the check
        dialog.set_file(bad_file)
        qtbot.mouseClick(dialog.findChild(QPushButton, "start_dry_run"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.stage == "review", timeout=15000)
        # THEN the error is listed with sheet, row and column, and import is not offered
        errors = dialog.shown_errors()
        seen["errors"] = [(e.sheet, e.row, e.column, e.code) for e in errors]
        seen["import_enabled"] = dialog.import_button.isEnabled()
        seen["table_rows"] = dialog.errors_table.rowCount()
        # AND the filter by code narrows the table
        dialog.code_filter.setCurrentIndex(dialog.code_filter.findData("id_checksum"))
        seen["filtered"] = dialog.errors_table.rowCount()
        # WHEN the annotated copy is saved
        job = dialog.save_annotated(tmp_path / "标注副本.xlsx")  # built off the GUI thread
        qtbot.waitUntil(lambda: job.done, timeout=15000)
        seen["annotated"] = tmp_path / "标注副本.xlsx"
        # AND the clerk chooses the corrected file and checks again
        dialog.restart()
        dialog.set_file(fixed_file)
        dialog.start_dry_run()
        qtbot.waitUntil(lambda: dialog.stage == "review", timeout=15000)
        seen["second_ok"] = dialog.import_button.isEnabled()
        # AND confirms the import
        qtbot.mouseClick(dialog.findChild(QPushButton, "confirm_import"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.stage == "done", timeout=15000)
        seen["result"] = dialog.result_label.text()
        dialog.accept()

    when_dialog_opens(drive)
    qtbot.mouseClick(page.findChild(QPushButton, "open_import"), Qt.MouseButton.LeftButton)

    assert seen["errors"] == [("人口信息", 4, "公民身份号码", "id_checksum")]
    assert seen["import_enabled"] is False
    assert seen["table_rows"] == 1 and seen["filtered"] == 1
    # the annotated copy marks the wrong cell and says why in an added column
    book = openpyxl.load_workbook(seen["annotated"])
    sheet = book["人口信息"]
    header = [c.value for c in sheet[2]]
    assert "错误原因" in header
    reason = sheet.cell(4, header.index("错误原因") + 1).value
    assert "校验" in reason
    assert sheet.cell(4, 2).fill.fgColor.rgb not in (None, "00000000")
    # the fixed file went in, and the people are registered and findable
    assert seen["second_ok"] is True
    assert "新增 3" in str(seen["result"])
    assert window.ctx.registry.person_ids(SearchFilter(text=GOOD[1][-6:]))
    # the import log lists the accepted import with the clerk's name
    assert page.imports.rowCount() == 1
    assert page.imports.item(0, 1).text() == "李文书"
    assert page.imports.item(0, 3).text() == "已导入"
    assert "人员 3" in window.counts_label.text()


def test_export_template_and_package_are_logged(window, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    page = window.open_page("数据交换")
    page.export_template(tmp_path / "模板.xlsx")
    job = page.export_package(tmp_path / "数据包.xlsx")
    qtbot.waitUntil(lambda: job.done, timeout=15000)
    assert (tmp_path / "模板.xlsx").is_file() and (tmp_path / "数据包.xlsx").is_file()
    kinds = [page.exports.item(r, 2).text() for r in range(page.exports.rowCount())]
    assert sorted(kinds) == ["同步数据包", "导入模板"]
    full = {page.exports.item(r, 2).text(): page.exports.item(r, 5).text() for r in range(page.exports.rowCount())}
    assert full == {"同步数据包": "是", "导入模板": "否"}


def test_a_template_for_one_entity_only(window, tmp_path: Path) -> None:  # noqa: ANN001
    # GIVEN the exchange page WHEN the clerk picks “人员” only and exports the template
    page = window.open_page("数据交换")
    page.template_scope.setCurrentIndex(page.template_scope.findData("person"))
    page.export_template(tmp_path / "人员模板.xlsx")
    # THEN the workbook holds the instructions and the one sheet
    names = openpyxl.load_workbook(tmp_path / "人员模板.xlsx").sheetnames
    assert "人员" in names and "住户" not in names and "党员" not in names
