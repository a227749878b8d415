"""Month-precision dates in the village archive (两委班子 任职日期, 换届, 第一书记, 人才库 出生日期).

Stories: a roster's 任职日期 2021.03 is stored as the month (never 2021-03-01
as if that were the day), found again when it comes back, never overwrites a
stored full day of that month, is shown as 2021年03月 by the archive and
exported as the text 2021.03; a form that saves it unchanged keeps it a month.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import python_calamine as pc
from sqlalchemy import text

from tests.exchange.conftest import write_xlsx
from townapp.archives.dto import CadreData
from townapp.archives.printable import _d
from townapp.archives.service import ArchiveService
from townapp.core.actor import CLI_ACTOR
from townapp.core.dates import MonthDate
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.exchange.writer import export_sheets
from townapp.sheets import all_sheet_specs

from .conftest import Village

HEADER = ["村区划代码", "身份证号", "姓名", "职务", "任职日期"]


def _number(db: Database, person_id: int) -> str:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT id_number FROM person WHERE id = :p"), {"p": person_id}).scalar_one()


def _cadres(db: Database) -> list[tuple[str, str | None]]:
    with db.engine.connect() as conn:
        return [(None if day is None else str(day), mark)  # stored text (a file) or a date (a server), as YYYY-MM-DD
                for day, mark in conn.execute(text("SELECT started_on, month_dates FROM archive_cadre ORDER BY id"))]


def _import(db: Database, tmp_path: Path, village: Village, started: object, name: str):
    number = _number(db, village.people["张建国"])
    sheets = {"两委班子": [HEADER, [village.code, number, "张建国", "书记", started]]}
    return run_import(db, write_xlsx(tmp_path / name, sheets), all_sheet_specs(), actor=CLI_ACTOR)


def test_a_cadre_term_given_as_a_month_is_that_month(db: Database, village: Village, tmp_path: Path) -> None:
    """GIVEN 张建国 as 书记 with 任职日期 2021.03 WHEN imported THEN the month is stored (marked month-only);
    WHEN the same roster comes again THEN nothing changes; WHEN it gives the day 2021-03-15 THEN the same
    record gets that day; WHEN 2021.03 comes again THEN 2021-03-15 stays (a month never overwrites a day)."""
    first = _import(db, tmp_path, village, "2021.03", "a.xlsx")
    assert first.accepted and first.sheets["两委班子"].created == 1, first.summary_text()
    assert _cadres(db) == [("2021-03-01", "started_on")]

    again = _import(db, tmp_path, village, 2021.03, "b.xlsx")
    assert again.accepted and again.sheets["两委班子"].unchanged == 1, again.summary_text()

    day = _import(db, tmp_path, village, "2021-03-15", "c.xlsx")
    assert day.accepted and day.sheets["两委班子"].updated == 1, day.summary_text()
    assert _cadres(db) == [("2021-03-15", None)]

    month = _import(db, tmp_path, village, "2021年3月", "d.xlsx")
    assert month.accepted and month.sheets["两委班子"].unchanged == 1, month.summary_text()
    assert _cadres(db) == [("2021-03-15", None)]


def test_a_month_is_shown_exported_and_kept_by_the_form(db: Database, village: Village, tmp_path: Path) -> None:
    """GIVEN 任职日期 stored as the month 2021.03
    THEN the service gives the month, the archive prints 2021年03月 and the export writes the text 2021.03;
    WHEN the 两委班子 form saves it unchanged THEN it stays the month; WHEN a day is typed THEN it is that day."""
    assert _import(db, tmp_path, village, "2021.03", "a.xlsx").accepted
    service = ArchiveService(db)
    [cadre] = service.cadres(village.id)
    assert cadre.started_on == MonthDate(2021, 3) and _d(cadre.started_on) == "2021年03月"
    assert _d(dt.date(2021, 3, 15)) == "2021-03-15"

    out = tmp_path / "list.xlsx"
    export_sheets(db, [s for s in all_sheet_specs() if s.key == "archive_cadre"], out, CLI_ACTOR, reason="测试")
    rows = list(pc.CalamineWorkbook.from_path(str(out)).get_sheet_by_name("两委班子").iter_rows())
    assert rows[1][rows[0].index("任职日期")] == "2021.03"
    report = run_import(db, out, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted and report.sheets["两委班子"].unchanged == 1, report.summary_text()

    service.save_cadres(village.id, [dataclasses.replace(cadre, started_on=dt.date(2021, 3, 1))])
    assert _cadres(db) == [("2021-03-01", "started_on")]
    service.save_cadres(village.id, [dataclasses.replace(cadre, started_on=dt.date(2021, 3, 9))])
    assert _cadres(db) == [("2021-03-09", None)]
    service.save_cadres(village.id, [CadreData(village.people["孙强"], "委员", started_on=dt.date(2020, 1, 1))])
    assert _cadres(db)[-1] == ("2020-01-01", None)


def test_a_term_ending_in_the_month_it_began_is_not_refused(db: Database, village: Village, tmp_path: Path) -> None:
    """GIVEN 任职日期 2021-03-15 and 离任日期 2021.03 (some day of March) THEN it is accepted: only an end
    surely before the start (2021.02) is refused."""
    number = _number(db, village.people["张建国"])
    header = [*HEADER, "离任日期"]
    for ended, accepted in (("2021.03", True), ("2021.02", False)):
        sheets = {"两委班子": [header, [village.code, number, "张建国", "书记", "2021-03-15", ended]]}
        report = run_import(db, write_xlsx(tmp_path / f"{ended}.xlsx", sheets), all_sheet_specs(), actor=CLI_ACTOR,
                            dry_run=True)
        assert report.accepted is accepted, report.summary_text()
