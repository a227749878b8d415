"""The 整改跟踪 page and the home page's overdue count, offscreen against the real widgets."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit  # noqa: E402

from tests.evaluations.conftest import World, new_round  # noqa: E402
from tests.ui.conftest import when_dialog_opens  # noqa: E402
from townapp.archives.service import ArchiveService  # noqa: E402
from townapp.core.actor import ROLE_TOWNSHIP, ROLE_VILLAGE, Actor  # noqa: E402
from townapp.db import Database  # noqa: E402
from townapp.evaluations.dto import EntryInput  # noqa: E402
from townapp.evaluations.service import EvaluationService  # noqa: E402
from townapp.followup.service import FollowUpService  # noqa: E402
from townapp.ui.app import setup_application  # noqa: E402
from townapp.ui.context import AppContext  # noqa: E402
from townapp.ui.pages.dashboard import DashboardPage  # noqa: E402
from townapp.ui.pages.followup import OVERDUE_COLOUR, FollowUpPage  # noqa: E402

from .conftest import finish, star_round  # noqa: E402

TOWNSHIP = Actor("组织委员", ROLE_TOWNSHIP)
LATE = dt.date(2026, 4, 15)  # after the 问题清单's deadline (2026-03-31), before the 整顿's


@pytest.fixture
def app(qapp: QApplication) -> QApplication:
    return setup_application()


@pytest.fixture
def proposed(db: Database, world: World, evaluations: EvaluationService) -> World:
    """东张村 二星 and 西王村 三星 in 2025, a 头雁 round with 王德明 below the line; proposals made, all accepted but
    东张村's 整顿."""
    star_round(evaluations, world, {"东张村": Decimal("2.5"), "西王村": Decimal(3)})
    goose = new_round(evaluations, world, "head_goose_index", 2025, 2)
    scheme = evaluations.round(goose).scheme
    ids = {r.label: r.target_id for r in evaluations.sheet(goose)}
    full = {i.code: i.max for i in scheme.indicators}
    evaluations.save_entries([EntryInput(ids["张建国"], "township", full), EntryInput(
        ids["王德明"], "township", {k: (v * Decimal("0.6")).quantize(Decimal("0.1")) for k, v in full.items()})])
    finish(evaluations, goose, 2025)
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    for row in service.items():
        if row.kind != "整顿":
            service.accept(row.id, on=dt.date(2026, 1, 5))
    return world


def test_the_page_lists_items_overdue_in_red_and_accepts_a_rectification(
        app: QApplication, db: Database, proposed: World, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    """GIVEN three proposals (整顿 拟办; 问题清单 and 调整建议 accepted) WHEN the page is opened on 15 April 2026
    THEN the 问题清单 and the 调整建议 are red (past their deadline), the 整顿 is not; accepting the 整顿 through its
    dialog opens the archive's case; the 头雁 tab lists 王德明."""
    page = FollowUpPage(AppContext.create(db, TOWNSHIP), today=LATE)
    qtbot.addWidget(page)
    page.resize(1280, 760)
    page.show()
    page.refresh()
    kinds = [page.table.item(r, 2).text() for r in range(page.table.rowCount())]
    assert sorted(kinds) == ["整顿", "调整建议", "问题清单"]
    red = {page.table.item(r, 2).text() for r in range(page.table.rowCount())
           if page.table.item(r, 0).foreground().color() == OVERDUE_COLOUR}
    assert red == {"问题清单", "调整建议"}
    assert "逾期 2 项" in page.summary.text()
    page.table.selectRow(kinds.index("问题清单"))
    assert page.problems.rowCount() == 25 and not page.actions["accept"].isEnabled()
    page.grab().save(str(tmp_path / "followup.png"))
    page.table.selectRow(kinds.index("整顿"))
    assert page.actions["accept"].isEnabled()

    def accept(dialog: QDialog) -> None:
        dialog.findChild(QLineEdit, "note").setText("镇党委书记包联")
        dialog.buttons.accepted.emit()

    when_dialog_opens(accept)
    page.actions["accept"].click()
    assert [c.year for c in ArchiveService(db).rectifications(proposed.villages["东张村"])] == [2026]
    assert "整改中" in [page.table.item(r, 7).text() for r in range(page.table.rowCount())]
    page.tabs.setCurrentIndex(1)
    assert page.adjust_table.rowCount() == 1 and page.adjust_table.item(0, 1).text() == "王德明"
    page.grab().save(str(tmp_path / "followup-goose.png"))
    if os.environ.get("FOLLOWUP_SHOTS"):  # a person looking at the page: FOLLOWUP_SHOTS=/tmp
        for name in ("followup.png", "followup-goose.png"):
            (Path(os.environ["FOLLOWUP_SHOTS"]) / name).write_bytes((tmp_path / name).read_bytes())


def test_a_clerk_sees_their_village_and_no_township_buttons(app: QApplication, db: Database, proposed: World,
                                                           qtbot) -> None:  # noqa: ANN001
    """GIVEN the same items WHEN 东张村's clerk opens the page THEN only 东张村's item is listed and the township's
    buttons (生成, 采纳, 办结 …) are hidden; 填报进展 stays."""
    clerk = Actor("东张村文书", ROLE_VILLAGE, proposed.villages["东张村"])
    page = FollowUpPage(AppContext.create(db, clerk), today=LATE)
    qtbot.addWidget(page)
    page.refresh()
    assert {page.table.item(r, 0).text() for r in range(page.table.rowCount())} == {"东张村"}
    assert page.propose_button.isHidden() and page.actions["close"].isHidden()
    assert not page.actions["progress"].isHidden()


def test_the_home_page_shows_the_overdue_count(app: QApplication, db: Database, proposed: World, qtbot,
                                               tmp_path: Path) -> None:  # noqa: ANN001
    """GIVEN two overdue items on 15 April 2026 WHEN the home page counts THEN it says 逾期 2 项 in red, and 0 in
    January."""
    page = DashboardPage(AppContext.create(db, TOWNSHIP), today=LATE)
    qtbot.addWidget(page)
    page._count_overdue()
    assert page.overdue.text() == "整改跟踪：逾期 2 项，点击查看" and "c62828" in page.overdue.styleSheet()
    page.resize(1280, 400)
    page.grab().save(str(tmp_path / "home.png"))
    if os.environ.get("FOLLOWUP_SHOTS"):
        (Path(os.environ["FOLLOWUP_SHOTS"]) / "home.png").write_bytes((tmp_path / "home.png").read_bytes())
    page.today = dt.date(2026, 1, 10)
    page._count_overdue()
    assert page.overdue.text() == "整改跟踪：逾期 0 项"
