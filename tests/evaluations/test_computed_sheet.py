"""The score sheet of a round with computed indicators: 来源 shown, a change asks for its reason."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from tests.ui.conftest import app, when_dialog_opens  # noqa: F401  (app: a fixture)
from townapp.archives.service import ArchiveService
from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.ui.app import open_main_window
from townapp.ui.forms.evaluations import ReasonDialog
from townapp.ui.pages.evaluations import EvaluationsPage

from .conftest import World, new_round


def test_the_sheet_shows_the_source_and_asks_why_a_computed_value_changes(
        app, db: Database, world: World, qtbot) -> None:  # noqa: ANN001, F811
    """GIVEN 东张村's 2025 经营性收入 4.2万元 in the archive and a new 规范·示范·典范 round on the page
    THEN the income cell is ticked, its tooltip and the line under the sheet give the source;
    WHEN the township unticks it and gives no reason THEN nothing changes;
    WHEN it gives a reason THEN the value is kept with 已人工调整（理由）."""
    archives = ArchiveService(db)
    data = archives.year(world.villages["东张村"], 2025)
    data.values.update(business_income=4_200_000)
    archives.save_year(data)
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    page = main.open_page("星级评定")
    assert isinstance(page, EvaluationsPage)
    round_id = new_round(page.service, world, "village_creation", 2025)
    page.load_rounds(round_id)
    row = next(i for i, r in enumerate(page.model.rows) if r.label == "东张村党组织")
    column = next(i for i, c in enumerate(page.model.columns) if c.key == "K16")
    cell = page.model.index(row, column)
    assert page.model.data(cell, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert page.model.data(cell, Qt.ItemDataRole.ToolTipRole) == "来源：一村一档 2025年经营性收入 4.20万元 ≥ 3万元"
    page.view.setCurrentIndex(cell)
    assert "来源：一村一档 2025年经营性收入 4.20万元 ≥ 3万元" in page.sources.text()

    when_dialog_opens(lambda dialog: dialog.reject())
    page.model.setData(cell, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert page.model.data(cell, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked

    def give_reason(dialog: QDialog) -> None:
        assert isinstance(dialog, ReasonDialog)
        dialog.reason.setText("收入含一次性补助，核减后不足")
        dialog.accept()

    when_dialog_opens(give_reason)
    page.model.setData(cell, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    qtbot.waitUntil(lambda: page.model.rows[row].overrides != {})
    assert page.model.data(cell, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert page.model.data(cell, Qt.ItemDataRole.ToolTipRole).endswith("；已人工调整（收入含一次性补助，核减后不足）")
    assert "已人工调整（收入含一次性补助，核减后不足）" in page.sources.text()
    main.close()
