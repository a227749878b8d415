"""The county's 县级审核 page: a township's round waiting at 县级联审 is decided and sent back.

GIVEN a county database holding 猗氏镇's package with a 2026 评星定级 round at 县级联审
WHEN the county's administrator opens 县级审核, marks the first 村党组织 否决 (a 否定项 and what was
found), saves, and exports the return package
THEN the decisions are stored with who decided, a box says where the package is, and 猗氏镇 importing
it shows the 否决 on its own round; a county page exists only in a county database.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from tests.conftest import DEMO_AS_OF
from tests.county.test_county_story import package, waiting_round
from tests.ui.conftest import when_dialog_opens
from townapp.core.actor import CLI_ACTOR, Actor
from townapp.county.service import CountyService
from townapp.create import create_database
from townapp.db import Database, open_database
from townapp.demo import build_demo
from townapp.evaluations.service import EvaluationService
from townapp.exchange.pipeline import run_import
from townapp.sheets import package_sheet_specs
from townapp.ui.app import open_main_window
from townapp.ui.pages.county import NEGATIVE, NOTE, VERDICT, CountyPage


def county_with_a_waiting_round(migrated_template: Path, tmp_path: Path) -> tuple[Database, Database, int]:
    """(township, county, round id): 猗氏镇's small demo with a round waiting at 县级联审, imported by 临猗县."""
    shutil.copyfile(migrated_template, tmp_path / "t.db")
    township = open_database(tmp_path / "t.db")
    build_demo(township, scale="small", seed=5, as_of=DEMO_AS_OF, township=("猗氏镇", "140821100"))
    round_id = waiting_round(township)
    county = create_database(tmp_path / "c.db", "county", "临猗县", "140821", CLI_ACTOR)
    assert run_import(county, package(township, tmp_path / "up.xlsx"), package_sheet_specs(county),
                      actor=CLI_ACTOR).accepted
    return township, county, round_id


def test_the_county_decides_on_its_page_and_sends_it_back(app: QApplication, migrated_template: Path,
                                                          tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    township, county, round_id = county_with_a_waiting_round(migrated_template, tmp_path)
    main = open_main_window(county, Actor("王科长", "管理员"))
    qtbot.addWidget(main)
    try:
        main.load_deferred_pages()
        page = next(iter(main.findChildren(CountyPage)))
        page.refresh()
        assert "待县级联审" in page.rounds_box.currentText() and "猗氏镇" in page.rounds_box.currentText()
        assert page.table.rowCount() == 3
        page.table.cellWidget(0, VERDICT).setCurrentText("否决")
        page.table.cellWidget(0, NEGATIVE).setCurrentIndex(1)
        page.table.item(0, NOTE).setText("县纪委通报：换届纪律问题")
        when_dialog_opens(lambda box: box.accept())
        page.save_button.click()
        label = page.table.item(0, 1).text()
        decided = CountyService(county, CLI_ACTOR).decisions(page.rounds_box.currentData())
        assert sorted(d.verdict for d in decided.values()) == ["同意", "同意", "否决"]
        assert {d.decided_by for d in decided.values()} == {"王科长"}

        target = tmp_path / "猗氏镇_临猗县回传.xlsx"
        page.export_return("140821100", target)
        qtbot.waitUntil(lambda: page.findChild(QMessageBox, "return_done") is not None, timeout=30_000)
        box = page.findChild(QMessageBox, "return_done")
        assert box is not None and str(target) in box.text()
        box.close()
    finally:
        main.close()
        county.dispose()
    report = run_import(township, target, package_sheet_specs(township), actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    history = {r.label: r for r in EvaluationService(township, CLI_ACTOR).sheet(round_id, "county")}
    assert history[label].stage_level != "五星"  # the 否决 took effect (vetoed: at most 三星)
    township.dispose()


def test_a_township_database_has_no_county_page(dongzhang_window) -> None:  # noqa: ANN001
    dongzhang_window.load_deferred_pages()
    assert not dongzhang_window.findChildren(CountyPage)
    assert dt.date.today()  # the window opened normally


def test_the_first_run_makes_a_village_install(app: QApplication, tmp_path: Path) -> None:
    """GIVEN the first start without a database
    WHEN the person ticks 村级安装 and types the township, the village and their codes (a wrong village code first)
    THEN the wrong code is refused in the dialog, and then a database of that one village is made."""
    from townapp.registry.service import RegistryService
    from townapp.ui.startup import NewDatabaseDialog, new_database_steps, run_inline

    answers = iter([("140821199201", "东张村"), ("140821100201", "东张村")])
    seen_errors: list[str] = []

    def fill(dialog: NewDatabaseDialog) -> None:
        if dialog.error.text():
            seen_errors.append(dialog.error.text())
        code, name = next(answers, (None, None))
        if code is None:
            dialog.reject()
            return
        dialog.name.setText("临晋镇")
        dialog.code.setText("140821100")
        dialog.is_village.setChecked(True)
        dialog.village_code.setText(code)
        dialog.village_name.setText(name)
        dialog.accept()

    original = NewDatabaseDialog.exec
    NewDatabaseDialog.exec = lambda self: (fill(self), self.result())[1]  # type: ignore[method-assign]
    try:
        db = run_inline(new_database_steps(tmp_path / "东张村.db", None))
    finally:
        NewDatabaseDialog.exec = original  # type: ignore[method-assign]
    assert db is not None
    try:
        assert seen_errors and "140821100" in seen_errors[0]
        assert db.meta("village_code") == "140821100201"
        assert [(v.code, v.name) for v in RegistryService(db).villages()] == [("140821100201", "东张村")]
    finally:
        db.dispose()
