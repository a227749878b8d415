"""The audit viewer in Chinese: tables, fields and values as a township clerk reads them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from townapp.ui.widgets.done import OPEN_FOLDER

ENGLISH_WORD = re.compile(r"[A-Za-z_]{4,}")


def test_the_audit_log_reads_in_chinese_with_names_not_ids(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """GIVEN the demo township's audit log (points, evaluations, grids, follow-up, year end)
    WHEN the administrator opens 审计日志
    THEN the 对象 filter, the 对象 and 字段 columns and every value are Chinese text: no English word,
    no JSON, a 党员 by name, points as points."""
    main = open_demo_window("small", seed=11)
    page = main.open_page("审计日志")
    entities = [page.entity.itemText(i) for i in range(page.entity.count())]
    assert len(entities) > 10 and not [e for e in entities if ENGLISH_WORD.search(e)]
    model = page.model
    columns = [c.key for c in page.COLUMNS]
    english, json_like, grades = [], [], []
    for row in range(model.rowCount()):
        cells = {key: str(model.index(row, c).data() or "") for c, key in enumerate(columns)}
        for key in ("entity", "field", "old", "new"):
            english += ENGLISH_WORD.findall(cells[key])
            if cells[key].startswith(("{", "[")):
                json_like.append(cells[key])
        if cells["entity"] == "党员积分年度等次":
            grades.append(cells["new"])
    assert english == [] and json_like == []
    # WHEN a 党员's year grade is selected THEN its whole snapshot is readable below the table
    page.view.selectRow(next(r for r in range(model.rowCount()) if model.record_at(r).entity == "党员积分年度等次"))
    assert "新值：等次：" in page.detail.toPlainText() and "年度总分：" in page.detail.toPlainText()
    assert grades and all(re.search(r"党员：[\u4e00-\u9fff]{2,}；", g) and re.search(r"年度总分：[\d.]+分", g)
                          for g in grades)


def test_the_audit_export_reads_as_the_viewer_and_ends_naming_the_file(
        open_demo_window, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """GIVEN the audit log filtered to 党员积分年度等次
    WHEN the administrator exports it
    THEN a box names the written workbook and offers 打开所在文件夹, and the workbook holds the viewer's text
    (a 党员 by name, no JSON)."""
    monkeypatch.setattr("townapp.ui.pages.audit.choose_save_file",
                        lambda _parent, _title, _settings, name, *_a, **_k: tmp_path / name)
    page = open_demo_window("small", seed=11).open_page("审计日志")
    page.entity.setCurrentIndex(page.entity.findData("point_year_grade"))
    page.reload()
    qtbot.mouseClick(page.findChild(QPushButton, "export"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "audit_exported") is not None, timeout=20000)
    box = page.findChild(QMessageBox, "audit_exported")
    written = tmp_path / "审计日志.xlsx"
    assert str(written) in box.text() and box.findChild(QPushButton, "open_folder").text() == OPEN_FOLDER
    values = [str(c.value or "") for row in load_workbook(written).active.iter_rows(min_row=2) for c in row]
    assert any("党员：" in v for v in values) and not any(v.startswith("{") for v in values)
    box.accept()
