"""The 年度结转 page: the checklist says what is open and where; the close runs once nothing blocks."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from tests.points.conftest import make_effective, make_village
from tests.ui.conftest import when_dialog_opens
from townapp.core.actor import ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.points.dto import EntryInput
from townapp.points.service import PointsService
from townapp.ui.context import AppContext
from townapp.ui.pages.yearend import YearEndPage

TODAY = dt.date(2026, 2, 10)


def _page(db: Database, actor: Actor, qtbot) -> YearEndPage:  # noqa: ANN001
    page = YearEndPage(AppContext.create(db, actor), today=TODAY)
    qtbot.addWidget(page)
    page.year.setValue(2025)
    page.refresh()
    return page


def _cells(page: YearEndPage, column: int) -> list[str]:
    return [page.table.item(row, column).text() for row in range(page.table.rowCount())]


def test_the_page_lists_what_is_open_and_closes_the_year(app: QApplication, db: Database, qtbot,  # noqa: ANN001
                                                         tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """GIVEN a village whose 2025 points record still waits for 村审
    WHEN the 组织委员 opens 年度结转 for 2025
    THEN the points line is 未完成 with the count and the page to finish it, and the button is greyed
    WHEN the record passes its 公示 and the page is refreshed
    THEN the button is offered; closing shows a message with what was done, and the year reads 已结转"""
    village = make_village(db)
    points = PointsService(db)
    ids = points.add_records(EntryInput("ZY01", dt.date(2025, 11, 3), [village.members["张建国"]]))
    page = _page(db, Actor("组织委员", ROLE_TOWNSHIP), qtbot)
    points_row = _cells(page, 0).index("积分记录未完成审核或公示")
    assert _cells(page, 1)[points_row] == "1" and _cells(page, 3)[points_row] == "党员积分"
    assert _cells(page, 4)[points_row] == "未完成" and not page.close_button.isEnabled()
    page.grab().save(str(tmp_path / "yearend-open.png"))

    make_effective(points, village, ids, dt.date(2025, 11, 10))
    page.refresh()
    assert set(_cells(page, 4)) == {"已完成"} and page.close_button.isEnabled()
    assert page.close_button.text() == "结转2025年度…"
    monkeypatch.setattr(page, "confirm", lambda _question: True)
    shown: list[str] = []

    def read_message(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox)
        shown.append(dialog.text())
        dialog.accept()

    when_dialog_opens(read_message, timeout_ms=20_000)
    page.close_year()
    qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
    assert "2025年度已结转" in shown[0] and "党员积分" in shown[0]
    assert "已于2026年02月10日" in page.state.text() and not page.close_button.isEnabled()
    assert points.year_closed(2025) == TODAY
    page.grab().save(str(tmp_path / "yearend-closed.png"))


def test_a_clerk_sees_the_checklist_without_the_button(app: QApplication, db: Database, qtbot) -> None:  # noqa: ANN001
    """GIVEN a village clerk
    WHEN they open 年度结转
    THEN they see the list for their village, and no 结转 button (the close is the township's)"""
    village = make_village(db)
    page = _page(db, Actor("村文书", ROLE_VILLAGE, village.id), qtbot)
    assert page.table.rowCount() >= 3 and page.close_button.isHidden()
