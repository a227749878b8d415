"""Stories on the real main window: a clerk finds people and registers a household."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton

from townapp.core.idcard import make_id_number
from townapp.core.pinyin import initials as pinyin_initials
from townapp.registry.dto import SearchFilter
from townapp.ui.forms.registry import HouseholdDialog, PersonDialog

from .conftest import when_dialog_opens


@pytest.fixture
def window(open_demo_window):  # noqa: ANN001, ANN201
    """The demo township (seed 7: a few thousand people) in the main window."""
    return open_demo_window("township", seed=7)


def test_find_a_person_by_pinyin_initials(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the demo township open on the people page
    page = window.open_page("人员/党员")
    some_person_id = page.model.id_at(0)
    person = window.ctx.registry.get_person(some_person_id)
    wanted = pinyin_initials(person.name)
    # WHEN the clerk types the pinyin initials of that person's name
    everyone = page.model.rowCount()
    qtbot.keyClicks(page.search, wanted)
    qtbot.waitUntil(lambda: 0 < page.model.rowCount() < everyone, timeout=3000)
    # THEN every listed person's name has those initials, and the person is among them
    rows = [page.model.record_at(r) for r in range(min(page.model.rowCount(), 50))]
    assert all(pinyin_initials(r.name).startswith(wanted) for r in rows)
    assert any(r.id == person.id for r in (page.model.record_at(i) for i in range(page.model.rowCount())))
    # AND the ID numbers on screen are masked
    shown = page.model.data(page.model.index(page.model.row_of(person.id), 3))
    assert "*" in shown and shown != person.id_number


def test_register_a_household_with_two_members(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the households page of the demo township
    page = window.open_page("住户")
    village = window.ctx.registry.villages()[0]
    page.village.setCurrentIndex(page.village.findData(village.id))
    head_id = make_id_number("140821", dt.date(1985, 6, 1), 123)
    spouse_id = make_id_number("140821", dt.date(1987, 2, 14), 246)
    before = page.model.rowCount()

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, HouseholdDialog)
        dialog.number.setText("9901")
        dialog.address.setText(f"{village.name}一组 99号")
        dialog.set_member(0, "测试户主", head_id, "户主", "13900001111")
        dialog.add_member_row()
        dialog.set_member(1, "测试配偶", spouse_id, "配偶")
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)

    # WHEN the clerk adds a household with two members through the dialog
    when_dialog_opens(fill)
    qtbot.mouseClick(page.findChild(QPushButton, "add_household"), Qt.MouseButton.LeftButton)
    # THEN the new household is listed, selected, with both members shown below it
    assert page.model.rowCount() == before + 1
    selected = page.selected_id()
    assert selected is not None
    row = page.model.record_at(page.model.row_of(selected))
    assert (row.number, row.head_name, row.member_count) == ("9901", "测试户主", 2)
    assert page.members.rowCount() == 2
    assert page.members.item(1, 1).text() == "配偶"
    # AND both people are registered once, found by their ID tail
    assert window.ctx.registry.person_ids(SearchFilter(text=spouse_id[-6:]))
    assert "住户" in window.counts_label.text()


def test_an_invalid_id_is_rejected_with_a_chinese_message(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the people page and the new-person dialog
    page = window.open_page("人员/党员")
    good = make_id_number("140821", dt.date(1990, 1, 1), 135)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    seen: dict[str, str] = {}

    def try_bad_id(dialog: QDialog) -> None:
        assert isinstance(dialog, PersonDialog)
        # WHEN the clerk types an ID with a wrong check digit and saves
        qtbot.keyClicks(dialog.id_number, bad)
        dialog.name.setText("王测试")
        dialog.save()
        # THEN the dialog stays open and says, in Chinese, what is wrong
        seen["visible"] = str(dialog.isVisible())
        seen["message"] = dialog.errors["id_number"].text()
        seen["shown"] = str(dialog.errors["id_number"].isVisible())
        dialog.reject()

    when_dialog_opens(try_bad_id)
    qtbot.mouseClick(page.findChild(QPushButton, "add_person"), Qt.MouseButton.LeftButton)
    assert seen["visible"] == "True"
    assert seen["shown"] == "True"
    assert "校验位" in seen["message"]
    # AND nothing was saved
    assert not window.ctx.registry.person_ids(SearchFilter(text=bad[-6:]))


def test_the_people_table_fetches_only_the_rows_it_shows(window, qtbot) -> None:  # noqa: ANN001
    # GIVEN the people page over the whole demo township (about 25,000 people)
    page = window.open_page("人员/党员")
    total = page.model.rowCount()
    assert total > 10_000
    page.view.resize(900, 600)
    # WHEN the clerk scrolls to the end and back, then searches
    page.view.scrollToBottom()
    qtbot.wait(50)
    page.view.scrollToTop()
    qtbot.wait(50)
    page.search.setText("王")
    page.reload()
    # THEN only a few pages of rows were ever read from the database
    assert page.model.rows_fetched < 10 * page.model.PAGE_SIZE
    assert page.model.rows_fetched < total / 20
