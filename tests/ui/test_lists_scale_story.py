"""Stories of the long lists outside the points pages: a clerk finds a row by search, narrows by a filter, sorts
by a header click, and the page's button then acts on the row she picked, not on whatever row now holds its
old place; totals stay at the bottom, tick boxes follow their rows, and the score sheet finds a name without
moving a row (a block pasted from Excel still lands where it was copied from)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QHeaderView, QTableWidget

from townapp.ui.forms.grids import AssignDialog
from townapp.ui.main_window import MainWindow
from townapp.ui.widgets.tables import TableSearch, fill_table, pin_row_last, sort_key


def click_header(qtbot, header: QHeaderView, column: int) -> None:  # noqa: ANN001
    """A mouse click on a column's header, as the clerk does."""
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def column_texts(table: QTableWidget, column: int) -> list[str]:
    return [table.item(r, column).text() for r in range(table.rowCount()) if not table.isRowHidden(r)]


def small_window(open_demo_window: Callable[..., MainWindow]) -> MainWindow:
    window = open_demo_window("small", 11)
    window.resize(1280, 800)
    return window


def test_grid_households_search_filter_sort_and_remove_the_picked_one(open_demo_window, qtbot,  # noqa: ANN001
                                                                      monkeypatch) -> None:  # noqa: ANN001
    """A grid's 175 households: search narrows, 村民小组 filters, 户主 sorts, 移出 takes the household picked."""
    # GIVEN the grid page on the small demo, a grid with all its households listed
    page = small_window(open_demo_window).open_page("网格管理")
    table = page.households
    total = table.rowCount()
    assert total > 100
    # WHEN the clerk types part of one household's number
    number = table.item(7, 0).text()
    page.household_search.setText(number)
    # THEN only households holding it show, and the count says so
    assert number in column_texts(table, 0) and len(column_texts(table, 0)) < total
    assert page.household_count.text().startswith("显示 ")
    # WHEN she clears it and picks one 村民小组
    page.household_search.clear()
    group = page.household_group.itemText(1)
    page.household_group.setCurrentIndex(1)
    # THEN only that group's households show
    assert set(column_texts(table, 2)) == {group}
    page.household_group.setCurrentIndex(0)
    assert len(column_texts(table, 0)) == total
    # WHEN she clicks 户主 twice: the list goes in reverse order of head's name
    click_header(qtbot, table.horizontalHeader(), 1)
    click_header(qtbot, table.horizontalHeader(), 1)
    heads = column_texts(table, 1)
    assert heads == sorted(heads, key=sort_key, reverse=True)
    # AND picks the first row and presses 移出选中住户
    table.selectRow(0)
    picked_number = table.item(0, 0).text()
    removed: list[int] = []
    monkeypatch.setattr(page, "confirm", lambda _question: True)
    monkeypatch.setattr(page.service, "unassign", lambda ids: removed.extend(ids))
    page.unassign()
    # THEN the household moved out is the one on the row she picked
    assert [h.number for h in page.household_rows if h.id in removed] == [picked_number]


def test_assign_dialog_ticks_follow_their_households_through_a_sort(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """划入住户: a tick stays with its household when a header click reorders the list."""
    page = small_window(open_demo_window).open_page("网格管理")
    dialog = AssignDialog(page.service, page.village_id(), page.current_id(), page)
    qtbot.addWidget(dialog)
    table = dialog.table
    # GIVEN the household third in the list is ticked
    number = table.item(2, 1).text()
    table.item(2, 0).setCheckState(Qt.CheckState.Checked)
    ticked = dialog.checked_ids()
    # WHEN the clerk sorts by 户编号, downwards
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    # THEN the same household is ticked, on its new row, and the count still says one
    assert dialog.checked_ids() == ticked
    ticked_rows = [r for r in range(table.rowCount()) if table.item(r, 0).checkState() == Qt.CheckState.Checked]
    assert [table.item(r, 1).text() for r in ticked_rows] == [number]
    assert "已选 1 户" in dialog.count.text()
    dialog.set_all(True)
    assert len(dialog.checked_ids()) == table.rowCount()


def test_coverage_total_stays_at_the_bottom_whichever_way_it_sorts(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """网格覆盖: villages sort by 住户 (as numbers); the township's 合计 row stays last both ways."""
    page = small_window(open_demo_window).open_page("网格覆盖")
    table = page.table
    township = page.report.township.name
    for _click in range(2):
        click_header(qtbot, table.horizontalHeader(), 1)
        counts = [int(t) for t in column_texts(table, 1)[:-1]]
        assert column_texts(table, 0)[-1] == township
        assert counts == sorted(counts, reverse=table.horizontalHeader().sortIndicatorOrder()
                                == Qt.SortOrder.DescendingOrder)


def test_villages_sorted_by_households_edit_the_picked_village(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """村/社区: 住户 sorts as numbers, and the village read for 编辑/删除 is the one on the picked row."""
    page = small_window(open_demo_window).open_page("村/社区")
    table = page.table
    click_header(qtbot, table.horizontalHeader(), 4)
    counts = [int(t) for t in column_texts(table, 4)]
    assert counts == sorted(counts)
    table.selectRow(0)
    assert page._selected().name == table.item(0, 1).text()
    assert page._selected().households == min(v.households for v in page.rows)


def test_follow_up_items_search_sort_and_act_on_the_picked_item(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """整改跟踪: search narrows, a header sorts, the detail and buttons belong to the picked item, also after a
    reload (an action done)."""
    page = small_window(open_demo_window).open_page("整改跟踪")
    page.all_years.setChecked(True)
    table = page.table
    assert table.rowCount() >= 2
    # WHEN the clerk sorts by 事项 downwards and picks the first row
    click_header(qtbot, table.horizontalHeader(), 4)
    click_header(qtbot, table.horizontalHeader(), 4)
    titles = column_texts(table, 4)
    assert titles == sorted(titles, key=sort_key, reverse=True)
    table.selectRow(0)
    # THEN the item read for the buttons is the one on that row, and the detail names it
    picked = page.selected()
    assert picked.title == table.item(0, 4).text()
    assert picked.title in page.detail.text()
    # AND after a reload the same item is still the picked one
    page.reload()
    assert page.selected().id == picked.id
    # WHEN she types a word only one item's title holds
    page.search.setText(picked.title)
    assert titles.count(picked.title) == len(column_texts(table, 4))
    assert "搜索显示" in page.summary.text() or len(titles) == titles.count(picked.title)


def test_audit_time_header_turns_the_log_round(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """审计日志: newest first; a click on 时间 shows the oldest first; other headers leave the order alone."""
    page = small_window(open_demo_window).open_page("审计日志")
    model, header = page.model, page.view.horizontalHeader()
    newest = model.id_at(0)
    click_header(qtbot, header, 0)
    oldest = model.id_at(0)
    assert oldest < newest and page.oldest_first
    click_header(qtbot, header, 3)
    assert model.id_at(0) == oldest
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (0, Qt.SortOrder.AscendingOrder)
    click_header(qtbot, header, 0)
    assert model.id_at(0) == newest


def test_score_sheet_finds_a_name_without_moving_rows(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """网格考核: 查找 goes to the member's row (Enter: the next one); the rows keep their order."""
    page = small_window(open_demo_window).open_page("网格考核")
    sheet = page.sheet
    names = [r.name for r in sheet.rows]
    wanted = names[20]
    page.find_box.setText(wanted)
    assert sheet.currentIndex().row() == names.index(wanted)
    assert [r.name for r in sheet.rows] == names and page.find_missing.text() == ""
    page.find_box.setText("没有这个人")
    assert page.find_missing.text() == "未找到"
    page.find_box.setText(sheet.rows[0].village)
    qtbot.keyClick(page.find_box, Qt.Key.Key_Return)
    assert sheet.currentIndex().row() == 1


def test_table_search_choices_narrow_by_value_and_month(qapp) -> None:  # noqa: ANN001
    """The shared search box's choice boxes: a value, or a month of ISO dates; refills keep the choice."""
    table = QTableWidget()
    rows = [("2026-03-02 10:00", "成功", "a.xlsx"), ("2026-04-05 09:00", "失败", "b.xlsx"),
            ("2026-04-09 11:00", "成功", "c.xlsx")]
    fill_table(table, ("时间", "结果", "文件"), rows, sortable=True)
    search = TableSearch(table)
    month = search.add_choice(0, "全部月份", by_month=True)
    result = search.add_choice(1, "全部结果")
    assert [month.itemText(i) for i in range(month.count())] == ["全部月份", "2026年04月", "2026年03月"]
    month.setCurrentIndex(1)
    assert column_texts(table, 2) == ["b.xlsx", "c.xlsx"]
    result.setCurrentIndex(result.findData("成功"))
    assert column_texts(table, 2) == ["c.xlsx"]
    fill_table(table, ("时间", "结果", "文件"), rows, sortable=True)
    search.apply()
    assert column_texts(table, 2) == ["c.xlsx"]
    # a 合计 row pinned last stays last both ways
    table = QTableWidget()
    fill_table(table, ("村", "户数"), [("甲", "9"), ("乙", "10"), ("合计", "19")], sortable=True)
    pin_row_last(table, 2)
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        table.sortByColumn(1, order)
        assert column_texts(table, 0)[-1] == "合计"
    assert column_texts(table, 1) == ["10", "9", "19"]


def test_county_verdicts_follow_their_targets_through_a_sort_and_typing_moves_no_row(  # noqa: ANN001
        app, migrated_template, tmp_path, qtbot) -> None:  # noqa: ANN001
    """县级审核: a header click sorts the targets once; the verdict chosen and the note typed stay with their
    target, and typing a note never moves the row under the clerk's hands."""
    from tests.ui.test_county_page_story import county_with_a_waiting_round
    from townapp.core.actor import Actor
    from townapp.ui.app import open_main_window
    from townapp.ui.pages.county import NOTE, VERDICT, CountyPage

    # GIVEN the county's page on a township round waiting at 县级联审
    township, county, _round = county_with_a_waiting_round(migrated_template, tmp_path)
    main = open_main_window(county, Actor("王科长", "管理员"))
    qtbot.addWidget(main)
    try:
        main.load_deferred_pages()
        page = next(iter(main.findChildren(CountyPage)))
        page.refresh()
        table = page.table
        label = table.item(0, 1).text()
        # WHEN the first target is marked 否决 with a note, and the list is sorted by 对象 downwards
        table.cellWidget(0, VERDICT).setCurrentText("否决")
        table.item(0, NOTE).setText("换届纪律问题")
        click_header(qtbot, table.horizontalHeader(), 1)
        click_header(qtbot, table.horizontalHeader(), 1)
        labels = column_texts(table, 1)
        assert labels == sorted(labels, key=sort_key, reverse=True)
        # THEN the 否决 and the note are on that target's new row, and what is saved says so
        row = labels.index(label)
        assert table.cellWidget(row, VERDICT).currentText() == "否决"
        assert table.item(row, NOTE).text() == "换届纪律问题"
        vetoed = [d for d in page.decisions() if d.verdict == "否决"]
        assert len(vetoed) == 1 and vetoed[0].target_uuid == table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        # WHEN it is sorted by the note column (empty notes first) and a note is typed on the first row
        click_header(qtbot, table.horizontalHeader(), NOTE)
        assert column_texts(table, NOTE) == ["", "", "换届纪律问题"]
        before = column_texts(table, 1)
        table.item(0, NOTE).setText("啊")  # would go below the other empty one, were the list re-sorted
        # THEN no row moved
        assert column_texts(table, 1) == before
        # AND the search narrows the targets to the one named
        page.search.setText(label)
        assert column_texts(table, 1) == [label]
    finally:
        main.close()
        county.dispose()
        township.dispose()


def test_accounts_filter_by_village_and_role_and_edit_the_picked_account(open_demo_window, qtbot,  # noqa: ANN001
                                                                         monkeypatch) -> None:  # noqa: ANN001
    """账号管理: the 村/社区 and 角色 boxes narrow the accounts, a header sorts, 修改 opens the picked one."""
    from townapp.accounts.dto import UserInput
    from townapp.accounts.service import AccountService
    from townapp.core.actor import DEMO_ACTOR, ROLE_READONLY, ROLE_VILLAGE
    from townapp.ui.pages import accounts as accounts_page

    window = small_window(open_demo_window)
    villages = window.ctx.registry.villages()
    service = AccountService(window.ctx.db, DEMO_ACTOR)
    for number, village in enumerate(villages):  # GIVEN a clerk per village and a reader
        service.save_user(UserInput(f"clerk{number}", ROLE_VILLAGE, f"录入员{number}", village.id, "Secret-2026x"))
    service.save_user(UserInput("reader", ROLE_READONLY, "只读甲", None, "Secret-2026x"))
    page = window.open_page("账号管理")
    page.refresh()
    table = page.table
    # WHEN the administrator chooses the first village
    village_box = page.findChild(QComboBox, "table_filter_3")
    village_box.setCurrentIndex(village_box.findData(villages[0].name))
    # THEN only that village's clerk shows
    assert column_texts(table, 0) == ["clerk0"]
    village_box.setCurrentIndex(0)
    role_box = page.findChild(QComboBox, "table_filter_2")
    role_box.setCurrentIndex(role_box.findData(ROLE_VILLAGE))
    assert sorted(column_texts(table, 0)) == [f"clerk{n}" for n in range(len(villages))]
    # WHEN she sorts by 用户名 downwards and presses 修改 on the first row
    click_header(qtbot, table.horizontalHeader(), 0)
    click_header(qtbot, table.horizontalHeader(), 0)
    first = next(r for r in range(table.rowCount()) if not table.isRowHidden(r))
    table.selectRow(first)
    opened: list[str] = []

    class Recorder:
        def __init__(self, _ctx, _accounts, user, parent=None) -> None:  # noqa: ANN001
            opened.append(user.username)

        def exec(self) -> int:
            return 0

    monkeypatch.setattr(accounts_page, "UserDialog", Recorder)
    page.edit_user()
    # THEN the account opened is the one on that row
    assert opened == [table.item(first, 0).text()] == [f"clerk{len(villages) - 1}"]


def test_assign_dialog_columns_stay_put_while_an_address_is_typed(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """划入住户: each letter typed in 地址包含 narrows the list; the columns do not change width under the eye."""
    page = small_window(open_demo_window).open_page("网格管理")
    dialog = AssignDialog(page.service, page.village_id(), page.current_id(), page)
    qtbot.addWidget(dialog)
    dialog.show()
    widths = [dialog.table.columnWidth(c) for c in range(dialog.table.columnCount())]
    listed = dialog.table.rowCount()
    for text in ("一", "一组", "一组 1"):
        dialog.address.setText(text)
        assert [dialog.table.columnWidth(c) for c in range(dialog.table.columnCount())] == widths
    assert 0 < dialog.table.rowCount() < listed


def test_economy_form_keeps_its_size_while_a_rule_message_comes_and_goes(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """村档案 集体经济 is checked at every keystroke: the message has its own reserved lines, so the form being
    typed in neither shrinks when a message appears nor grows when it goes."""
    window = small_window(open_demo_window)
    page = window.open_page("村档案")
    page.tabs.setCurrentWidget(page.economy)
    page.year.setValue(2026)
    tab, form = page.economy, page.economy.form
    QApplication.processEvents()
    height = form.height()
    # WHEN a total that does not add up is typed
    for key, value in (("operating_income", "300000"), ("contract_income", "120000"), ("investment_income", "30000"),
                       ("subsidy_income", "150000"), ("other_income", "5000.50"), ("total_income", "1")):
        form.item(form.row_of(key), 0).setText(value)
    QApplication.processEvents()
    # THEN the message says so, and the form is as high as before
    assert "应等于" in tab.message.text() and tab.message.isVisible()
    assert form.height() == height
    # WHEN it is corrected THEN the message goes, the form still as high
    form.item(form.row_of("total_income"), 0).setText("605000.50")
    QApplication.processEvents()
    assert "应等于" not in tab.message.text() and form.height() == height


def test_meeting_search_hides_rows_and_what_is_saved_is_every_meeting(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """村档案 会议记录: 查找 shows only the meetings holding the text; the hidden ones stay in the grid, so a save
    writes every meeting, and the attendance of a meeting picked from the narrowed list is that meeting's."""
    window = small_window(open_demo_window)
    page = window.open_page("村档案")
    page.year.setValue(2025)
    tab = next(part for caption, part in page.parts if caption == "会议记录")
    page.tabs.setCurrentWidget(tab)
    grid, search = tab.grid, tab.searches[0]
    total = grid.rowCount()
    assert total > 20
    topic = grid.cell_text(5, "topic")
    # WHEN the clerk looks for one meeting's topic
    search.setText(topic)
    shown = [r for r in range(total) if not grid.isRowHidden(r)]
    # THEN only meetings with that text show, and the grid still holds them all
    assert 5 in shown and len(shown) < total and grid.rowCount() == total
    assert all(topic in grid.cell_text(r, "topic") or topic in grid.cell_text(r, "host") for r in shown)
    assert len(grid.records()) == len(tab.meetings)
    # WHEN she picks the meeting found THEN its attendance is shown below
    grid.setCurrentCell(5, 2)
    assert tab.shown_row == 5 and tab.attendance.rowCount() == len(tab.members)


def test_economy_save_without_any_message_says_saved(open_demo_window, qtbot) -> None:  # noqa: ANN001
    """The reserved message line is always there; a save with nothing to warn about still says 已保存 in it."""
    window = small_window(open_demo_window)
    page = window.open_page("村档案")
    page.tabs.setCurrentWidget(page.economy)
    page.year.setValue(2026)
    form = page.economy.form
    form.item(form.row_of("subsidy_income"), 0).setText("1000")
    assert page.economy.message.text() == ""
    page.save_current()
    assert page.economy.message.text() == "已保存"
