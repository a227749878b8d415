"""Story on the real main window: a clerk sets up a micro-grid, assigns ten households, scores a month by
keyboard (and a pasted column), a second person approves it, and the subsidy list is exported and read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QDialog, QFileDialog, QLineEdit

from townapp.core.actor import ROLE_TOWNSHIP, Actor
from townapp.db import Database
from townapp.grids.service import GridService
from townapp.registry.service import RegistryService
from townapp.ui.app import open_main_window
from townapp.ui.forms.grids import AssignDialog, GridDialog, MemberDialog

from ..grids.conftest import build_tree, make_village
from .conftest import when_dialog_opens

CLERK = Actor("综治办小王", ROLE_TOWNSHIP)
APPROVER = Actor("综治办老李", ROLE_TOWNSHIP)


@pytest.fixture
def village(db: Database, registry: RegistryService):  # noqa: ANN201
    v = make_village(registry)
    build_tree(GridService(db, CLERK), v)
    return v


def type_cell(qtbot, sheet, row: int, column: int, text: str) -> None:  # noqa: ANN001
    """Select a cell and type into it as a user does: the first key opens the editor, Enter commits and moves down."""
    sheet.setCurrentIndex(sheet.sheet_model.index(row, column))
    sheet.setFocus()
    ascii_text = text.isascii()  # QTest cannot synthesise Chinese key presses: F2, then insert as an IME commits
    qtbot.keyClick(sheet, text[0] if ascii_text else Qt.Key.Key_F2)
    editors = [w for w in sheet.findChildren(QLineEdit) if w.isVisible()]
    assert len(editors) == 1, "typing should open an editor in the cell"
    editor = editors[0]
    if ascii_text:
        qtbot.keyClicks(editor, text[1:])
    else:
        editor.insert(text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits through a queued call, as in the app
    qtbot.waitUntil(lambda: sheet.state() != QAbstractItemView.State.EditingState, timeout=2000)


def test_micro_grid_households_scores_approval_and_subsidy_list(app, db: Database, village, qtbot,  # noqa: ANN001
                                                                tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    window = open_main_window(db, CLERK)
    qtbot.addWidget(window)
    page = window.open_page("网格管理")
    page.select_village(village.id)
    page.select_grid(village.grids["FZ01"])

    # GIVEN the tree of 东张村; WHEN the clerk adds micro-grid WW09 under FZ01 through the dialog
    def fill_grid(dialog: QDialog) -> None:
        assert isinstance(dialog, GridDialog)
        assert dialog.level.currentData() == "微网格"  # "新增下级" under an auxiliary grid proposes a micro-grid
        dialog.code.setText("ww09")
        dialog.name.setText("东张村第九微网格")
        dialog.scope.setText("东至水渠，西至村委会")
        dialog.save()

    when_dialog_opens(fill_grid)
    qtbot.mouseClick(page.add_child_button, Qt.MouseButton.LeftButton)
    ww09 = page.current()
    assert (ww09.code, ww09.level, page.nodes[ww09.parent_id].code) == ("WW09", "微网格", "FZ01")

    # AND gives it a 微网格员 found by name
    id_tail = RegistryService(db).get_person(village.people[4]).id_number[-6:]

    def fill_member(dialog: QDialog) -> None:
        assert isinstance(dialog, MemberDialog)
        qtbot.keyClicks(dialog.search, "cmd")  # pinyin initials of 村民东…: the whole village
        assert len(dialog.choices) == 12
        dialog.search.clear()
        qtbot.keyClicks(dialog.search, id_tail)  # the tail of the ID number: one person
        assert [p.name for p in dialog.choices] == ["村民东5"]
        dialog.started_on.setText("2026年1月1日")
        dialog.save()

    when_dialog_opens(fill_member)
    qtbot.mouseClick(page.add_member_button, Qt.MouseButton.LeftButton)
    assert [(r.name, r.role) for r in page.roster_rows] == [("村民东5", "微网格员")]

    # AND assigns ten households: all of 二组 (six) plus four of 一组 found by address
    def fill_assign(dialog: QDialog) -> None:
        assert isinstance(dialog, AssignDialog)
        dialog.group.setCurrentIndex(dialog.group.findData(village.groups["二组"]))
        dialog.set_all(True)
        picked = dialog.checked_ids()
        dialog.group.setCurrentIndex(0)
        dialog.unassigned_only.setChecked(True)
        for r, h in enumerate(dialog.rows):
            if h.id in picked or h.number in ("0001", "0002", "0003", "0004"):
                dialog.table.item(r, 0).setCheckState(Qt.CheckState.Checked)
        assert len(dialog.checked_ids()) == 10
        dialog.on.setText("2026-03-01")
        dialog.save()

    when_dialog_opens(fill_assign)
    qtbot.mouseClick(page.assign_button, Qt.MouseButton.LeftButton)
    # THEN the tree shows ten households under WW09 and FZ01, and the list beside it names them
    assert (page.nodes[ww09.id].households, page.nodes[village.grids["FZ01"]].households) == (10, 10)
    assert len(page.household_rows) == 10

    # WHEN the clerk scores March 2026 on the monthly sheet by keyboard …
    month_page = window.open_page("网格考核")
    month_page.set_month(2026, 3)
    sheet = month_page.sheet
    assert [r.name for r in sheet.rows] == ["村民东5"]
    first = sheet.sheet_model.first_item
    for offset, score in enumerate(("18.5", "24", "25")):
        type_cell(qtbot, sheet, 0, first + offset, score)
    # … and pastes the last two items copied from Excel as one tab-separated row
    sheet.setCurrentIndex(sheet.sheet_model.index(0, first + 3))
    QApplication.clipboard().setText("14\t15\r\n")
    qtbot.keyClick(sheet, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    # THEN the total, band and subsidy are there before saving (96.5 分: 200 元 × 1.00 + 50 元)
    result = sheet.sheet_model.result_col
    assert [sheet.text(0, result + i) for i in range(4)] == ["96.5", "1", "优秀", "250.00"]
    assert "补助合计 250.00 元" in month_page.summary.text()
    # a deduction without a reason is caught on screen
    type_cell(qtbot, sheet, 0, sheet.sheet_model.deduction_col, "2")
    assert sheet.text(0, result) == "" and not month_page.save()
    type_cell(qtbot, sheet, 0, sheet.sheet_model.deduction_col + 1, "未按时上报事件")
    assert sheet.text(0, result) == "94.5"
    qtbot.mouseClick(month_page.save_button, Qt.MouseButton.LeftButton)
    assert not sheet.dirty
    qtbot.mouseClick(month_page.submit_button, Qt.MouseButton.LeftButton)
    assert "待审批" in month_page.state.text()

    # WHEN a second person logs in and approves the month
    second = open_main_window(db, APPROVER)
    qtbot.addWidget(second)
    approve_page = second.open_page("网格考核")
    approve_page.set_month(2026, 3)
    when_dialog_opens(lambda box: box.button(box.StandardButton.Yes).click())
    qtbot.mouseClick(approve_page.approve_button, Qt.MouseButton.LeftButton)
    # THEN the month is locked: the sheet is read-only and the export buttons are on
    assert "已审批" in approve_page.state.text()
    assert not approve_page.save_button.isEnabled() and approve_page.xlsx_button.isEnabled()
    month_page.reload()
    assert not sheet.sheet_model.flags(sheet.sheet_model.index(0, first)) & Qt.ItemFlag.ItemIsEditable

    # WHEN the subsidy list is exported to xlsx through the save dialog
    target = tmp_path / "三月补助发放表.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(approve_page.xlsx_button, Qt.MouseButton.LeftButton)
    # THEN the workbook reads back with the member, the amount, a signature column and a matching 合计
    ws = load_workbook(target).worksheets[0]
    header = [c.value for c in ws[3]]
    assert header[-1] == "领取人签字"
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert [(r[3], r[4], r[6], Decimal(str(r[10]))) for r in rows] == [("村民东5", "微网格员", "94.5",
                                                                          Decimal("250.00"))]
    total = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "合计")
    assert Decimal(str(total[10])) == sum(Decimal(str(r[10])) for r in rows)
    # AND the PDF prints too
    pdf = tmp_path / "三月补助发放表.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pdf), ""))
    qtbot.mouseClick(approve_page.pdf_button, Qt.MouseButton.LeftButton)
    assert pdf.read_bytes().startswith(b"%PDF-")
    # AND the assignment history is dated
    history = GridService(db).household_history(village.households[6])
    assert [(h.grid_code, h.started_on, h.ended_on) for h in history] == [("WW09", dt.date(2026, 3, 1), None)]
    second.close()
    window.close()


def test_a_locked_month_refuses_edits_on_screen_too(app, db: Database, village, qtbot) -> None:  # noqa: ANN001
    from ..grids.conftest import MONTH, YEAR, full_marks_less, staff

    service = GridService(db, CLERK)
    ids = staff(service, village)
    service.save_scores(YEAR, MONTH, [full_marks_less(mid) for mid in ids.values()])
    service.submit_month(YEAR, MONTH)
    GridService(db, APPROVER).approve_month(YEAR, MONTH)
    window = open_main_window(db, CLERK)
    qtbot.addWidget(window)
    page = window.open_page("网格考核")
    page.set_month(YEAR, MONTH)
    sheet = page.sheet
    assert sheet.paste("1\n2\n") == 0  # nothing pasted into a locked month
    assert not page.save_button.isEnabled() and page.unlock_button.isEnabled()
    window.close()
