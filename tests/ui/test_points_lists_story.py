"""Stories of the points review list at scale and the entry form's layout: a clerk finds records by search,
sorts by a header, narrows by month, sees her newest entries first, and the 选择 boxes stay in view after
Ctrl+End; picking a rule does not move the entry form's fields."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.points.dto import EntryInput
from townapp.points.service import PointsService
from townapp.ui.app import open_main_window

from ..points.conftest import make_village

YEAR = 2025
RULES = {
    "name": "测试村积分细则",
    "categories": [{"code": "ZY", "name": "志愿服务", "kind": "add"},
                   {"code": "JC", "name": "基础分", "kind": "base", "base": "60"}],
    "rules": [{"code": "ZY01", "name": "参加志愿服务", "category": "ZY", "direction": "加分", "points": "1"},
              {"code": "ZY02", "name": "参加环境整治义务劳动并带动群众参与", "category": "ZY", "direction": "加分",
               "points": {"min": "0.5", "max": "3"}, "evidence": True,
               "caps": {"month": "6", "year": "24"}}],
    "grades": [{"name": "合格", "min": "60"}, {"name": "不合格"}],
}


@pytest.fixture
def window(app, db: Database, qtbot):  # noqa: ANN001, ANN201
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    main.resize(1100, 700)
    yield main
    main.close()


def shown(qtbot, page) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not page.loading(), timeout=10_000)


def entered(db: Database) -> tuple[object, list[int]]:
    """A village whose four members have a record for each of 24 days (96 waiting for 村审), and one more
    entered last: 王磊's on 3 January."""
    village = make_village(db)
    service = PointsService(db)
    service.save_rule_set(YEAR, json.dumps(RULES, ensure_ascii=False))
    members = [village.members[n] for n in ("张建国", "李秀英", "王磊", "赵敏")]
    for day in range(24):
        month = 3 + day // 12
        service.add_records(EntryInput("ZY01", dt.date(YEAR, month, 1 + day % 12), members, note=f"第{day + 1}次"))
    last = service.add_records(EntryInput("ZY01", dt.date(YEAR, 1, 3), [village.members["王磊"]], note="最新一条"))
    return village, last


def click_header(qtbot, header, column: int) -> None:  # noqa: ANN001
    """A mouse click on a column's header, as the clerk does."""
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def test_review_list_searches_sorts_filters_and_shows_the_newest_first(window, db: Database, qtbot) -> None:  # noqa: ANN001
    """The queue's search, month filter and header sort work on the loaded rows; ticks survive them."""
    # GIVEN 97 records waiting for 村审, the last one entered being 王磊's of 3 January
    village, last = entered(db)
    page = window.open_page("党员积分")
    review = page.open_tab("审核")
    shown(qtbot, page)
    review.village.setCurrentIndex(review.village.findData(village.id))
    shown(qtbot, page)
    model = review.table.model()
    # THEN all 97 are listed, the newest entry first
    assert model.rowCount() == 97
    assert model.key(0) == last[0] and "最新一条" in model.cells(0)
    # WHEN the clerk types 第7次 in the search box
    search = review.findChild(QLineEdit, "list_search")
    search.setText("第7次")
    # THEN only that day's four records are shown, and the count says so
    assert model.rowCount() == 4 and all("第7次" in model.cells(r) for r in range(4))
    assert "显示 4 / 共 97 条" in review.filters.count.text()
    # WHEN she ticks them, clears the search and picks 2025年04月
    review.select_all()
    search.clear()
    month = review.filters.choices[review.HEADERS.index("日期")][0]
    month.setCurrentIndex(month.findData("2025-04"))
    # THEN April's 48 records are shown and the four ticks are kept
    assert model.rowCount() == 48 and all(model.cells(r)[3].startswith("2025-04") for r in range(48))
    assert model.checked_count() == 4
    # AND the line by 通过所选 says the four ticked (March) records are not in April's list
    assert review.ticked.text() == "已勾选 4 条（其中 4 条不在当前列表中）"
    # WHEN she clicks the 日期 header (then again)
    month.setCurrentIndex(0)
    header = review.table.horizontalHeader()
    date_column = review.HEADERS.index("日期")
    click_header(qtbot, header, date_column)
    dates = [model.cells(r)[date_column] for r in range(model.rowCount())]
    # THEN the rows are in date order; a second click reverses it
    review.grab().save("/tmp/h21lists/review_sorted.png")
    assert dates == sorted(dates) and dates[0] == "2025-01-03"
    click_header(qtbot, header, date_column)
    dates = [model.cells(r)[date_column] for r in range(model.rowCount())]
    assert dates == sorted(dates, reverse=True)


def test_selection_column_stays_in_view_after_ctrl_end(window, db: Database, qtbot) -> None:  # noqa: ANN001
    """Ctrl+End goes to the last row's last column; the 选择 box of the rows shown is still on screen."""
    # GIVEN the review list of 97 records in a narrow window
    village, _last = entered(db)
    window.resize(700, 500)
    page = window.open_page("党员积分")
    review = page.open_tab("审核")
    shown(qtbot, page)
    review.village.setCurrentIndex(review.village.findData(village.id))
    shown(qtbot, page)
    table = review.table
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 1))
    # WHEN the clerk presses Ctrl+End
    qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    last_row = table.model().rowCount() - 1
    assert table.currentIndex().row() == last_row
    assert table.horizontalScrollBar().value() > 0  # the view did scroll right
    # THEN the frozen 选择 column is shown at the table's left edge, scrolled to the same rows
    frozen: QWidget = table.findChild(QWidget, "frozen_column")
    assert frozen.isVisible() and frozen.geometry().left() <= table.frameWidth() + 1
    assert frozen.verticalScrollBar().value() == table.verticalScrollBar().value()
    box = frozen.visualRect(table.model().index(last_row, 0))
    assert box.isValid() and frozen.viewport().rect().contains(box.center())
    # AND a click on that box ticks the last row
    qtbot.mouseClick(frozen.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(box.left() + 12, box.center().y()))
    table.grab().save("/tmp/h21lists/review_ctrl_end.png")
    assert table.model().checked() == [table.model().key(last_row)]


def test_entry_form_fields_stay_put_when_a_rule_is_picked(window, db: Database, qtbot) -> None:  # noqa: ANN001
    """Choosing a rule with a long hint does not move 分值, 事项说明 or 佐证材料 under the mouse."""
    # GIVEN the 录入 tab with the year's rules loaded
    make_village(db)
    PointsService(db).save_rule_set(YEAR, json.dumps(RULES, ensure_ascii=False))
    page = window.open_page("党员积分")
    entry = page.open_tab("录入")
    entry.date.set_date(dt.date(YEAR, 3, 1))
    entry.load_rules()
    shown(qtbot, page)
    fields = (entry.points, entry.note, entry.evidence, entry.rule_hint)
    entry.rule_hint.setText("")  # as before a rule is chosen: no hint yet
    qtbot.waitExposed(entry)
    QApplication.processEvents()  # the layout settles (posted layout requests)
    before = [w.geometry() for w in fields]
    entry.grab().save("/tmp/h21lists/entry_rule1.png")
    # WHEN the clerk picks the ranged rule whose hint runs over two lines
    entry.rule.setCurrentIndex(entry.rule.findData("ZY02"))
    QApplication.processEvents()
    entry.grab().save("/tmp/h21lists/entry_rule2.png")
    # THEN no field moved or changed size, and the hint says what the rule asks
    assert [w.geometry() for w in fields] == before
    assert "须佐证" in entry.rule_hint.text()


def test_published_batches_show_their_whole_status(window, db: Database, qtbot) -> None:  # noqa: ANN001
    """已发布的公示: the 状态 column is as wide as its text and ends inside the table; the list sorts."""
    # GIVEN a village whose 97 records were approved and posted for 公示 from 1 May 2025
    village, _last = entered(db)
    service = PointsService(db)
    service.approve(service.queue("村审", village.id) and [r.id for r in service.queue("村审", village.id)])
    service.publish(village.id, dt.date(YEAR, 5, 1), None)
    page = window.open_page("党员积分")
    publicity = page.open_tab("公示")
    shown(qtbot, page)
    publicity.village.setCurrentIndex(publicity.village.findData(village.id))
    shown(qtbot, page)
    # THEN the batch's status is shown whole, inside the table
    table = publicity.batches
    status = table.columnCount() - 1
    assert table.rowCount() == 1 and "公示中" in table.item(0, status).text()
    assert table.columnWidth(status) >= table.sizeHintForColumn(status)
    assert table.columnViewportPosition(status) + table.sizeHintForColumn(status) <= table.viewport().width()
    QApplication.processEvents()
    publicity.grab().save("/tmp/h21lists/publicity.png")
