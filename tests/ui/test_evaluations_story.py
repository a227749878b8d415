"""Story on the real main window: a household round for one village through every stage, 公示, 定级, history."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLineEdit, QMessageBox, QPushButton

from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.ui.app import open_main_window
from townapp.ui.forms.evaluations import HandOverDialog, HistoryDialog, NewRoundDialog, ObjectionsDialog
from townapp.ui.pages.evaluations import EvaluationsPage

from ..evaluations.conftest import build_world
from .conftest import when_dialog_opens

SHOTS = Path(os.environ.get("TOWNAPP_SHOTS", "/work/notes/shots"))


@pytest.fixture
def window(app, db: Database, registry, qtbot):  # noqa: ANN001, ANN201
    build_world(registry)
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    main.resize(1400, 760)
    yield main
    main.close()


def _click(page: EvaluationsPage, name: str, qtbot) -> None:  # noqa: ANN001
    qtbot.mouseClick(page.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def _column(page: EvaluationsPage, header: str) -> int:
    return next(i for i, c in enumerate(page.model.columns) if c.header.splitlines()[0] == header)


def _levels(page: EvaluationsPage) -> dict[str, str]:
    return {r.label: r.level for r in page.model.rows}


def _hand_over(page: EvaluationsPage, qtbot, expect: str, start: dt.date | None = None) -> None:  # noqa: ANN001
    seen = []

    def accept(dialog: QDialog) -> None:
        assert isinstance(dialog, HandOverDialog)
        seen.append(dialog.summary.text())
        if start is not None:
            dialog.start.set_date(start)
            dialog.end.set_date(start + dt.timedelta(days=6))
        dialog.accept()

    when_dialog_opens(accept)
    _click(page, "advance", qtbot)
    assert expect in seen[0], seen


def test_a_household_round_through_every_stage(window, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    # GIVEN the 星级评定 page
    page = window.open_page("星级评定")
    assert isinstance(page, EvaluationsPage)
    # WHEN the township creates a 2025 星级文明户 round for 东张村 only
    def create(dialog: QDialog) -> None:
        assert isinstance(dialog, NewRoundDialog)
        dialog.select_scheme("civilized_household")
        dialog.year.setValue(2025)
        assert dialog.bodies.text() == "村党支部委员会、村民委员会、村务监督委员会、村民议事会、道德评议会、红白理事会、禁毒禁赌会"
        for i in range(dialog.villages.count()):
            if dialog.villages.item(i).text() != "东张村":
                dialog.villages.item(i).setCheckState(Qt.CheckState.Unchecked)
        dialog.create()

    when_dialog_opens(create)
    _click(page, "new_round", qtbot)
    # THEN its score sheet lists the village's three households
    assert [r.label for r in page.model.rows] == ["张建国", "张立新", "张春生"]
    assert page.model.editable and page.rnd.stage_name == "户自评"
    # WHEN the clerk types stars with the keyboard: 1, Enter moves down, 1, Enter, 0
    first_star = _column(page, "爱党爱国")
    page.view.setCurrentIndex(page.model.index(0, first_star))
    for key in ("1", "1", "0"):
        qtbot.keyClicks(page.view, key)  # typing opens the cell's editor with the key in it
        editor = next(w for w in page.view.viewport().findChildren(QLineEdit) if w.isVisible())
        assert editor.text() == key
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda editor=editor: not shiboken6.isValid(editor))  # the closed editor is gone
    assert [r.scores.get("S01") for r in page.model.rows] == [1, 1, 0]
    # AND pastes the rest of the stars from Excel (tab-separated rows)
    QGuiApplication.clipboard().setText("1\t1\t1\t1\t1\t1\t1\t1\t1\n1\t1\t1\t1\t1\t1\t1\t0\t0\n1\t1\t1\t1\t1\t1\t0\t0\t0\n")
    page.view.setCurrentIndex(page.model.index(0, first_star + 1))
    qtbot.keyClick(page.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    # THEN the level of each row follows at once
    assert _levels(page) == {"张建国": "五星", "张立新": "四星", "张春生": "三星"}
    # WHEN a negative item is ticked as a checkbox THEN that household loses its level
    veto = _column(page, "涉黄赌毒")
    page.model.setData(page.model.index(2, veto), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert _levels(page)["张春生"] == "未评星"
    page.model.setData(page.model.index(2, veto), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / "evaluations_score_sheet.png"))
    # WHEN the round is handed over stage by stage, each starting from the previous stage
    for expected in ("组互评", "联评", "村两委初审", "乡镇终审"):
        _hand_over(page, qtbot, "全部填写完整")
        assert page.rnd.stage_name == expected
        _click(page, "copy_previous", qtbot)
        assert all(r.entered for r in page.model.rows)
    # AND the township publishes the list for a week
    _hand_over(page, qtbot, "公示", start=dt.date(2025, 12, 1))
    assert page.rnd.status == "公示中" and not page.findChild(QPushButton, "copy_previous").isEnabled()
    pdf = page.export_pdf(tmp_path / "公示名单.pdf")
    xlsx = page.export_xlsx(tmp_path / "公示名单.xlsx")
    assert pdf and pdf.exists() and xlsx and xlsx.exists()
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf), str(SHOTS / "evaluations_publicity")],
                   check=True)
    # AND records an objection and how it was handled
    def objection(dialog: QDialog) -> None:
        assert isinstance(dialog, ObjectionsDialog)
        dialog.raised_by.setText("村民李某")
        dialog.content.setText("张建国家门前堆放杂物")
        dialog.raised_on.set_date(dt.date(2025, 12, 3))
        dialog.add()
        dialog.table.selectRow(0)
        dialog.handling.setText("经核实已清理，维持原评定")
        dialog.handled_on.set_date(dt.date(2025, 12, 4))
        dialog.handle()
        assert dialog.table.item(0, 4).text() == "维持原评定"
        dialog.accept()

    page.view.setCurrentIndex(page.model.index(0, 0))
    when_dialog_opens(objection)
    _click(page, "objections", qtbot)
    # WHEN the round is finalised after the 公示
    when_dialog_opens(lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    _click(page, "finalise", qtbot)
    # THEN it is locked, read-only, and its levels are final
    assert page.rnd.locked and not page.model.editable and page.rnd.status == "已定级"
    assert _levels(page) == {"张建国": "五星", "张立新": "四星", "张春生": "三星"}
    # AND the level history of a household shows the round and its path
    def history(dialog: QDialog) -> None:
        assert isinstance(dialog, HistoryDialog)
        table = dialog.history
        assert [table.item(0, c).text() for c in (0, 2, 4)] == ["2025年度星级文明户", "五星", "首次评定"]
        assert dialog.path.rowCount() == 5 and dialog.path.item(4, 0).text() == "乡镇终审"
        dialog.accept()

    page.view.setCurrentIndex(page.model.index(0, 0))
    when_dialog_opens(history)
    _click(page, "history", qtbot)
