"""Stories of the 星级评定 page's rounds: a duplicate name is refused in the new-round dialog, the round last
chosen is shown again after the window is reopened, and 定级 during the 公示 says why at once, with no
“确定定级吗？” first."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton

from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.evaluations.service import EvaluationService
from townapp.ui.app import open_main_window
from townapp.ui.forms.evaluations import NewRoundDialog

from ..evaluations.conftest import build_world, new_round
from .conftest import when_dialog_opens


def _window(db: Database, qtbot):  # noqa: ANN001, ANN202
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    main.resize(1400, 760)
    return main


def _service(db: Database) -> EvaluationService:
    service = EvaluationService(db)
    service.sync_schemes()
    return service


def test_a_second_round_of_the_same_name_is_refused_in_the_dialog(app, db: Database, registry, qtbot) -> None:  # noqa: ANN001
    """The dialog stays open with the service's reason under it; no second round appears."""
    # GIVEN a 2025 星级文明户 round named 东张村第一批
    world = build_world(registry)
    service = _service(db)
    first = new_round(service, world, "civilized_household", 2025)
    main = _window(db, qtbot)
    page = main.open_page("星级评定")
    seen: dict[str, object] = {}

    def create_same(dialog: QDialog) -> None:
        assert isinstance(dialog, NewRoundDialog)
        dialog.select_scheme("civilized_household")
        dialog.year.setValue(2025)
        dialog.name.setText(service.round(first).name)
        dialog.create()
        qtbot.waitUntil(lambda: dialog.error.isVisible())
        seen["error"] = dialog.error.text()
        dialog.grab().save("/tmp/h21lists/duplicate_round.png")
        dialog.reject()

    # WHEN the clerk makes another 2025 星级文明户 round and types the same name
    when_dialog_opens(create_same)
    qtbot.mouseClick(page.findChild(QPushButton, "new_round"), Qt.MouseButton.LeftButton)
    # THEN the dialog names the round that has it, and still there is one round
    assert "2025年已有名为“2025年度星级文明户”的评定" in str(seen["error"])
    assert page.round.count() == 1
    main.close()


def test_the_round_last_chosen_is_shown_after_reopening(app, db: Database, registry, qtbot) -> None:  # noqa: ANN001
    """The choice is kept in the settings, per database file."""
    # GIVEN two rounds; the newest is listed first and chosen at first
    world = build_world(registry)
    service = _service(db)
    older = new_round(service, world, "civilized_household", 2024)
    newer = new_round(service, world, "civilized_household", 2025)
    main = _window(db, qtbot)
    page = main.open_page("星级评定")
    assert page.round.currentData() == newer
    # WHEN the clerk picks the 2024 round and closes the window
    page.round.setCurrentIndex(page.round.findData(older))
    main.close()
    # THEN the reopened window shows the 2024 round again
    again = _window(db, qtbot)
    page = again.open_page("星级评定")
    assert page.round.currentData() == older and page.rnd is not None and page.rnd.year == 2024
    again.close()


def test_finalise_during_the_publicity_shows_why_without_asking_first(app, db: Database, registry, qtbot) -> None:  # noqa: ANN001
    """The first box is the reason (确定 only); no Yes/No question was shown."""
    # GIVEN a round in its 公示, which runs until next week
    world = build_world(registry)
    service = _service(db)
    round_id = new_round(service, world, "civilized_household", dt.date.today().year)
    for _stage in ("group", "joint", "village", "township"):
        service.advance_stage(round_id)
    start = dt.date.today()
    service.advance_stage(round_id, publicity_start=start, publicity_end=start + dt.timedelta(days=6))
    main = _window(db, qtbot)
    page = main.open_page("星级评定")
    assert page.rnd is not None and page.rnd.id == round_id and page.findChild(QPushButton, "finalise").isEnabled()
    boxes: list[tuple[str, str, bool]] = []

    def read(box: QDialog) -> None:
        assert isinstance(box, QMessageBox)
        asks = box.button(QMessageBox.StandardButton.Yes) is not None
        boxes.append((box.windowTitle(), box.text(), asks))
        box.grab().save("/tmp/h21lists/finalise_refused.png")
        box.button(QMessageBox.StandardButton.No if asks else QMessageBox.StandardButton.Ok).click()

    # WHEN the clerk clicks 定级
    when_dialog_opens(read)
    qtbot.mouseClick(page.findChild(QPushButton, "finalise"), Qt.MouseButton.LeftButton)
    # THEN the one box shown says the 公示 runs until its end, and asks nothing
    end = start + dt.timedelta(days=6)
    assert boxes == [("无法完成", f"现在还不能定级：公示期至{end:%Y年%m月%d日}，公示结束后才能定级", False)]
    assert not service.round(round_id).locked
    main.close()


def test_the_score_sheet_finds_a_target_and_sorts_by_level(app, db: Database, registry, qtbot) -> None:  # noqa: ANN001
    """Search by name or 编号, sort by 当前等级 (五星 above 四星, by rank); the target stays in view at the far right."""
    # GIVEN a household round over two villages, 东张村's households scored 10, 8 and 6 stars
    from decimal import Decimal

    from townapp.evaluations.dto import EntryInput

    world = build_world(registry)
    service = _service(db)
    round_id = new_round(service, world, "civilized_household", 2025)
    ids = {r.label: r.target_id for r in service.sheet(round_id)}
    for name, count in (("张建国", 10), ("张立新", 8), ("张春生", 6)):
        scores = {f"S{i:02d}": Decimal(1 if i <= count else 0) for i in range(1, 11)}
        service.save_entries([EntryInput(ids[name], "self", scores, {})])
    main = _window(db, qtbot)
    page = main.open_page("星级评定")
    assert len(page.model.rows) == 6
    # WHEN the clerk types 张立 in 查找对象
    page.find.setText("张立")
    # THEN only 张立新 is listed, and the count line says how many were found
    assert [r.label for r in page.model.rows] == ["张立新"] and "查找到 1 个" in page.message.text()
    # WHEN the search is cleared and the 当前等级 header is clicked twice
    page.find.clear()
    level = next(i for i, c in enumerate(page.model.columns) if c.key == "level")
    page.view.sortByColumn(level, Qt.SortOrder.DescendingOrder)
    # THEN 五星, 四星, 三星 come first, in that order
    assert [r.level for r in page.model.rows[:3]] == ["五星", "四星", "三星"]
    # AND after Ctrl+End the targets' columns are still on screen, beside the last indicator
    page.view.setFocus()
    page.view.setCurrentIndex(page.model.index(0, level))
    qtbot.keyClick(page.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert page.view.horizontalScrollBar().value() > 0
    frozen = page.view.frozen
    assert frozen.isVisible() and frozen.width() == page.view.frozen_width() > 0
    assert frozen.visualRect(page.model.index(5, 2)).isValid()
    main.grab().save("/tmp/h21lists/score_sheet_sorted.png")
    main.close()
