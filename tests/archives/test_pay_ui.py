"""The 报酬 tab and the year's figures show what 定级 decided read-only, with where it came from (issue 19)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt

from tests.archives.test_pay_stars import rated  # noqa: F401 (the fixture: 东张村's 书记 rated 八星, 合格)
from townapp.archives.service import ArchiveService
from townapp.core.actor import DEMO_ACTOR
from townapp.ui.context import AppContext
from townapp.ui.pages.archives import EconomyTab, PayTab, VillageArchivePage

SHOTS = Path(os.environ.get("TOWNAPP_SHOTS", "/tmp/shots"))


def test_the_rated_grade_and_stars_are_shown_read_only_with_their_source(rated, qtbot) -> None:  # noqa: ANN001, F811
    """GIVEN 东张村's 书记 rated 八星 with 年度考核 合格 in a finalised 2025 round
    WHEN the village archive opens on 2025, on the 报酬 tab and then on 集体经济与债务
    THEN the 书记's 考核等级 reads 称职 in a grey cell that cannot be typed into, its 来源 beside it, the pay
    table has the 晋位及连续奖励 and 备注 columns and the export buttons are there; the 书记星级 row says
    来自评星定级 and cannot be typed into, while an un-rated row (村党组织星级) still can."""
    service, archives, village_id, _secretary = rated
    ctx = AppContext.create(archives.db, DEMO_ACTOR)
    page = VillageArchivePage(ctx, ArchiveService(archives.db, DEMO_ACTOR))
    qtbot.addWidget(page)
    page.resize(1300, 720)
    page.show()
    page.refresh()
    page.select_village(village_id)
    page.year.setValue(2025)
    pay = next(tab for _c, tab in page.parts if isinstance(tab, PayTab))
    page.tabs.setCurrentWidget(pay)
    page.load_current()
    grade = pay.inputs.item(0, 3)
    assert grade.text() == "称职" and not grade.flags() & Qt.ItemFlag.ItemIsEditable
    assert "来自评星定级" in grade.toolTip() and "年度考核结果：合格" in pay.inputs.cell_text(0, "grade_source")
    headers = [pay.result.horizontalHeaderItem(c).text() for c in range(pay.result.columnCount())]
    assert "晋位及连续奖励" in headers and "备注" in headers
    assert page.findChild(object, "export_payroll_xlsx") and page.findChild(object, "export_creation_xlsx")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.grab().save(str(SHOTS / "archive_pay_rated.png"))
    economy = next(tab for _c, tab in page.parts if isinstance(tab, EconomyTab))
    page.tabs.setCurrentWidget(economy)
    page.load_current()
    form = economy.form
    star = form.item(form.row_of("secretary_star"), 0)
    assert star.text() == "8" and not star.flags() & Qt.ItemFlag.ItemIsEditable and "来自评星定级" in star.toolTip()
    assert "来自评星定级" in form.verticalHeaderItem(form.row_of("secretary_star")).text()
    assert form.item(form.row_of("org_star"), 0).flags() & Qt.ItemFlag.ItemIsEditable
    page.grab().save(str(SHOTS / "archive_year_rated.png"))
