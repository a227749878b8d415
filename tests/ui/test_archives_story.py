"""Story on the real main window: a clerk enters a year's collective economy for a village.

She opens the village's archive, picks a new year, types the incomes with a
wrong total, sees the rule message at once (the total cell turns red),
corrects the total, saves with Ctrl+S, and the chart gains the new year.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QTableWidget

from townapp.archives.service import ArchiveService
from townapp.ui.forms.archives import ERROR_BRUSH

SHOTS = Path("/work/notes/shots")


@pytest.fixture
def window(open_demo_window):  # noqa: ANN001, ANN201
    """The small demo township (3 villages, seed 11) in a window large enough for the year's form."""
    main = open_demo_window("small", seed=11)
    main.resize(1400, 860)
    main.activateWindow()
    return main


def type_into(qtbot, table: QTableWidget, row: int, text: str) -> None:  # noqa: ANN001
    """Select a cell and type into it as a user does: typing opens the editor, Enter commits."""
    table.setFocus()
    table.setCurrentCell(row, 0)
    qtbot.keyClicks(table, text[0])
    editor = QApplication.focusWidget()
    assert editor is not table, "typing should open the cell editor"
    if editor.text() != text[0]:  # offscreen, the opening key press may not reach the new editor
        editor.selectAll()
        qtbot.keyClicks(editor, text[0])
    qtbot.keyClicks(editor, text[1:])
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # the delegate commits and closes the editor from the event loop
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState, timeout=2000)


def test_enter_a_years_economy_with_a_wrong_total_then_correct_it(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the township overview: every demo village keeps the rules
    overview = window.open_page("一村一档总览")
    assert overview.table.rowCount() == 3
    assert "所有村的档案均符合校验规则" in overview.problems.text()
    # WHEN the clerk opens the first village (Enter on its row) and the 集体经济 tab of the new year 2026
    # (opened by the demo's 2025 year close with the debt carried forward, incomes still empty)
    overview.table.setFocus()
    overview.table.setCurrentCell(0, 1)
    qtbot.keyClick(overview.table, Qt.Key.Key_Return)
    page = window.stack.currentWidget()
    assert page.title == "村档案"
    village_id = page.village_id
    assert village_id == overview.rows[0].village_id
    page.tabs.setCurrentWidget(page.economy)
    page.year.setValue(2026)
    tab = page.economy
    form = tab.form
    assert tab.chart_years == [2021, 2022, 2023, 2024, 2025, 2026]
    opened = ArchiveService(window.ctx.db).year(village_id, 2026).values
    assert opened["total_income"] is None
    # … and types the five incomes and a total that is 100 元 too high
    for key, value in (("operating_income", "300000"), ("contract_income", "120000"), ("investment_income", "30000"),
                       ("subsidy_income", "150000"), ("other_income", "5000.50"), ("total_income", "605100.50")):
        type_into(qtbot, form, form.row_of(key), value)
    # THEN the rule message is shown under the form at once and the total cell turns red
    qtbot.waitUntil(lambda: tab.message.isVisible(), timeout=2000)
    assert "总收入（605,100.50元）应等于" in tab.message.text() and "（605,000.50元）" in tab.message.text()
    assert form.item(form.row_of("total_income"), 0).background() == ERROR_BRUSH
    # AND Ctrl+S does not save a year that breaks an error rule
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert ArchiveService(window.ctx.db).year(village_id, 2026).values == opened
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / "archive_story_rule_message.png"))
    # WHEN she corrects the total (Enter then moves down to 经营性收入) and fills it in
    type_into(qtbot, form, form.row_of("total_income"), "605000.50")
    assert form.currentRow() == form.row_of("total_income")
    qtbot.keyClick(form, Qt.Key.Key_Return)
    assert form.currentRow() == form.row_of("business_income")
    type_into(qtbot, form, form.row_of("business_income"), "455000.50")
    assert not tab.message.isVisible() or "应等于" not in tab.message.text()
    assert form.item(form.row_of("total_income"), 0).background() != ERROR_BRUSH
    # AND saves with Ctrl+S
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    # THEN the year is stored in 分, exactly
    saved = ArchiveService(window.ctx.db).year(village_id, 2026).values
    assert (saved["total_income"], saved["other_income"], saved["business_income"]) == (60_500_050, 500_050, 45_500_050)
    assert tab.message.text() == "已保存"
    # AND the chart shows 2026 with it
    assert tab.chart_years == [2021, 2022, 2023, 2024, 2025, 2026]
    labels = [t.get_text() for t in tab.figure.axes[0].get_xticklabels()]
    assert labels[-1] == "2026年"
    window.grab().save(str(SHOTS / "archive_story_saved.png"))
