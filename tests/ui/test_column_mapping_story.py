"""A township clerk maps a village's own roster once; the next file of that layout imports by itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton

from townapp.core.idcard import make_id_number
from townapp.registry.dto import SearchFilter
from townapp.ui.forms.import_wizard import ImportWizard

from .conftest import when_dialog_opens

FIRST = [make_id_number("140821", dt.date(1960 + i, 3, 1 + i), 11 + 2 * i) for i in range(2)]
SECOND = [make_id_number("140821", dt.date(1970 + i, 5, 1 + i), 31 + 2 * i) for i in range(3)]


def _own_layout(path: Path, ids: list[str]) -> Path:
    """东关村's own roster: a title, their own names for the ID and name columns, a column we do not keep."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "东关村花名册"
    ws.append(["东关村居民花名册"])
    ws.merge_cells("A1:D1")
    ws.append(["证件号码", "居民姓名", "所属村", "家庭住址"])
    for index, number in enumerate(ids):
        ws.append([number, f"居民{index}号", "东张村", f"一组{index}号"])
    wb.save(path)
    return path


@pytest.fixture
def window(dongzhang_window):  # noqa: ANN001, ANN201
    return dongzhang_window


def test_unknown_layout_mapped_once_then_imported_without_asking(window, tmp_path: Path, qtbot,  # noqa: ANN001
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    page = window.open_page("数据交换")
    first = _own_layout(tmp_path / "东关村花名册（一月）.xlsx", FIRST)
    second = _own_layout(tmp_path / "东关村花名册（二月）.xlsx", SECOND)
    seen: dict[str, object] = {}

    def drive(dialog: QDialog) -> None:
        assert isinstance(dialog, ImportWizard)
        # GIVEN a roster laid out as the village keeps it, which nothing recognises
        dialog.set_file(first)
        qtbot.mouseClick(dialog.findChild(QPushButton, "start_dry_run"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.stage == "review", timeout=15000)
        # THEN the check asks for the 列对应 instead of importing anything
        seen["asked"] = dialog.sheets_needing_mapping()
        seen["import_enabled"] = dialog.import_button.isEnabled()
        # WHEN the clerk opens the 列对应 step, says it is a 人员 sheet and maps the two columns
        qtbot.mouseClick(dialog.findChild(QPushButton, "open_mapping"), Qt.MouseButton.LeftButton)
        panel = dialog.mapping_panel
        seen["samples"] = panel.table.item(0, 1).text()
        panel.choose_entity("person")
        panel.map_column("证件号码", "id_number")
        panel.map_column("居民姓名", "name")
        panel.name_edit.setText("东关村花名册")
        qtbot.mouseClick(dialog.findChild(QPushButton, "recheck_mapping"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.stage == "review", timeout=15000)
        seen["mapped_ok"] = dialog.import_button.isEnabled()
        seen["summary"] = dialog.summary.toPlainText()
        # AND imports
        qtbot.mouseClick(dialog.findChild(QPushButton, "confirm_import"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.stage == "done", timeout=15000)
        seen["first_result"] = dialog.result_label.text()
        # WHEN next month's file of the same layout is checked
        dialog.restart()
        dialog.set_file(second)
        dialog.start_dry_run()
        qtbot.waitUntil(lambda: dialog.stage == "review", timeout=15000)
        # THEN it is taken by the saved layout without asking, and imports
        seen["second_asked"] = dialog.sheets_needing_mapping()
        seen["second_summary"] = dialog.summary.toPlainText()
        qtbot.mouseClick(dialog.findChild(QPushButton, "confirm_import"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.stage == "done", timeout=15000)
        seen["second_result"] = dialog.result_label.text()
        dialog.accept()

    when_dialog_opens(drive)
    qtbot.mouseClick(page.findChild(QPushButton, "open_import"), Qt.MouseButton.LeftButton)

    assert seen["asked"] == ["东关村花名册"] and seen["import_enabled"] is False
    assert FIRST[0] in str(seen["samples"])  # the column's first values are shown beside it
    assert seen["mapped_ok"] is True and "作为“人员”" in str(seen["summary"])
    assert "新增 2" in str(seen["first_result"])
    assert seen["second_asked"] == []
    assert "按已保存的列对应“东关村花名册”" in str(seen["second_summary"])
    assert "新增 3" in str(seen["second_result"])
    assert window.ctx.registry.person_ids(SearchFilter(text="居民2号"))
    # AND the exchange page lists the saved 列对应, which can be deleted
    page.refresh()
    assert page.layouts.rowCount() == 1 and page.layouts.item(0, 0).text() == "东关村花名册"
    assert "证件号码→身份证号" in page.layouts.item(0, 2).text()
    page.layouts.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.delete_selected_layout()
    assert page.layouts.rowCount() == 0
