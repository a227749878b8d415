"""Stories about how the 党员积分 page loads: building it (right after start-up, on the GUI thread) reads
nothing; what a tab shows is read in the background while the tab says so; the members list a county
makes long is ticked, filtered and submitted as before."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from sqlalchemy import event

from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.points.dto import EntryInput
from townapp.points.service import PointsService
from townapp.ui.app import open_main_window
from townapp.ui.context import AppContext
from townapp.ui.main_window import MainWindow
from townapp.ui.pages.points import PointsPage, create_pages

from ..points.conftest import make_village

YEAR = 2025
RULES = {
    "name": "测试村积分细则",
    "categories": [{"code": "ZZ", "name": "组织生活", "kind": "add", "cap": "24"},
                   {"code": "JC", "name": "基础分", "kind": "base", "base": "69"}],
    "rules": [{"code": "ZZ05", "name": "参加主题党日活动", "category": "ZZ", "direction": "加分", "points": "1",
               "caps": {"month": "1"}}],
    "grades": [{"name": "优秀", "min": "85"}, {"name": "合格", "min": "70"}, {"name": "基本合格", "min": "60"},
               {"name": "不合格"}],
    "balance": {"categories": ["ZZ"], "ratio": "1"},
}


@pytest.fixture
def window(app, db: Database, qtbot) -> Iterator[MainWindow]:  # noqa: ANN001
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    yield main
    main.close()


def shown(qtbot, page: PointsPage) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not page.loading(), timeout=10_000)


def test_building_the_points_pages_reads_nothing_from_the_database(app, db: Database, qtbot) -> None:  # noqa: ANN001
    # GIVEN a township with a village of party members, and every statement sent to the database counted
    make_village(db)
    ctx = AppContext.create(db, DEMO_ACTOR)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        # WHEN the main window builds the 党员积分 and 积分超市 pages (on the GUI thread, after start-up)
        pages = create_pages(ctx)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    for page in pages:
        qtbot.addWidget(page)
    # THEN building them sent nothing: the villages, members, rules and totals wait until a tab is shown
    assert statements == []
    assert [p.title for p in pages] == ["党员积分", "积分超市"]


def test_the_year_totals_are_counted_off_the_gui_thread_while_the_tab_says_so(window: MainWindow, db: Database,
                                                                             qtbot, monkeypatch) -> None:  # noqa: ANN001
    # GIVEN a village with effective points, and year totals that note their thread and wait to be let go
    village = make_village(db)
    service = PointsService(db)
    service.save_rule_set(YEAR, json.dumps(RULES, ensure_ascii=False))
    member = village.members["张建国"]
    ids = service.add_records(EntryInput("ZZ05", dt.date(YEAR, 3, 5), [member], None, "主题党日", ""))
    service.approve(ids)
    service.close_publicity(service.publish(village.id, dt.date(YEAR, 3, 10)).id, dt.date(YEAR, 4, 1))
    page = window.open_page("党员积分")
    summary = page.open_tab("汇总")
    shown(qtbot, page)
    on_gui_thread: list[bool] = []
    go = threading.Event()
    original = PointsService.totals

    def totals(self, year, village_id=None, as_of=None):  # noqa: ANN001, ANN202
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        go.wait(10)
        return original(self, year, village_id, as_of)

    monkeypatch.setattr(PointsService, "totals", totals)
    try:
        # WHEN the user picks the year on the 汇总 tab
        summary.year.addItem(f"{YEAR}年", YEAR)
        summary.year.setCurrentIndex(summary.year.findData(YEAR))
        qtbot.waitUntil(lambda: bool(on_gui_thread), timeout=5000)
        # THEN the totals are being counted in the pool, not on the GUI thread, and the tab says so
        assert on_gui_thread == [False]
        assert summary.busy.isVisible() and summary.busy.text() == "正在计算……"
        assert summary.chart.text() == "正在计算……"
        assert not summary.table.isEnabled()
        # AND the window keeps working meanwhile: the user can look at the rules and come back
        rules = page.open_tab("积分规则")
        assert "基础分" in rules.info.text()
        page.open_tab("汇总")
        assert page.loading() and summary.busy.text() == "正在计算……"
    finally:
        go.set()
    shown(qtbot, page)
    # AND once counted, the village's line, the chart and the tab's state show the result
    assert not summary.busy.isVisible() and summary.table.isEnabled()
    assert summary.table.rowCount() == 1 and summary.table.item(0, 0).text() == village.name
    assert summary.chart.image is not None and not summary.chart.image.isNull()
    _grades, per_village = summary.distribution
    assert per_village == [(village.name, {"优秀": 0, "合格": 1, "基本合格": 3, "不合格": 0})]
    assert on_gui_thread == [False]  # counted once, though the user came back to the tab meanwhile


def test_ticked_members_survive_the_search_and_are_all_submitted(window: MainWindow, db: Database,  # noqa: ANN001
                                                                 qtbot) -> None:
    # GIVEN the 录入 tab, its members read in the background, and the year's rule 参加主题党日活动
    village = make_village(db)
    PointsService(db).save_rule_set(YEAR, json.dumps(RULES, ensure_ascii=False))
    page = window.open_page("党员积分")
    entry = page.open_tab("录入")
    shown(qtbot, page)
    entry.date.set_date(dt.date(YEAR, 3, 5))
    entry.date.editingFinished.emit()
    assert entry.rule.currentData() == "ZZ05"
    entry.village.setCurrentIndex(entry.village.findData(village.id))
    shown(qtbot, page)
    model = entry.members.model()
    names = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert len(names) == 4 and not any("钱老汉" in n for n in names)  # 免考 does not take part

    # WHEN the clerk ticks 张建国's box in the list
    row = next(r for r, n in enumerate(names) if n.startswith("张建国"))
    rect = entry.members.visualRect(model.index(row, 0))
    qtbot.mouseClick(entry.members.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 10, rect.center().y()))
    # THEN it is ticked and counted
    assert entry.checked() == [village.members["张建国"]]
    assert entry.picked.text() == "已选 1 人"

    # WHEN the clerk searches by initials (lxy), presses Enter to tick the first found, and the search clears
    qtbot.keyClicks(entry.search, "lxy")
    assert model.rowCount() == 1
    qtbot.keyClick(entry.search, Qt.Key.Key_Return)
    # THEN both stay ticked, the whole list is back, and Ctrl+Enter submits one record for each
    assert entry.search.text() == "" and model.rowCount() == 4
    assert sorted(entry.checked()) == sorted([village.members["张建国"], village.members["李秀英"]])
    assert entry.picked.text() == "已选 2 人"
    qtbot.keyClick(entry.search, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "已提交 2 条" in entry.done.text()
    waiting = PointsService(db).queue("村审", village.id)
    assert sorted(r.party_member_id for r in waiting) == sorted([village.members["张建国"], village.members["李秀英"]])
    assert entry.checked() == []
