"""Month-precision dates on the registry's sheets (issue 18, item 4).

Rosters write 出生年月 1965.03 and 入党时间 1978.02: a month, no day. Stories:
such a date is stored with its precision (never an invented day), compared
with the ID only to the month, exported as the text 1978.02 that reads back
unchanged, and never overwrites a fuller stored date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import python_calamine as pc
from openpyxl import load_workbook
from sqlalchemy import text

from tests.exchange.conftest import build_registry, initialised, write_xlsx
from townapp.core.actor import CLI_ACTOR
from townapp.core.dates import MonthDate
from townapp.db import Database
from townapp.exchange.package import write_package
from townapp.exchange.pipeline import run_import
from townapp.exchange.template import write_template
from townapp.exchange.writer import export_sheets
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

PARTY_HEADER = ["身份证号", "姓名", "入党时间"]


@pytest.fixture
def built(registry: RegistryService) -> dict:
    """张大山 (born 1965-03-15) is a party member who joined 1995-07-01, confirmed 1996-07-01."""
    return build_registry(registry)


def joined(db: Database, number: str) -> tuple[str, str | None]:
    """(joined_on as stored, the row's month_dates mark)."""
    with db.engine.connect() as conn:
        stored, mark = conn.execute(text(
            "SELECT pm.joined_on, pm.month_dates FROM party_member pm JOIN person p ON p.id = pm.person_id "
            "WHERE p.id_number = :n"), {"n": number}).one()
    return str(stored), mark  # SQLite hands back the stored text, a server the date: both as YYYY-MM-DD


def party_import(db: Database, tmp_path: Path, number: str, value: object, name: str = "in.xlsx"):
    path = write_xlsx(tmp_path / name, {"党员": [PARTY_HEADER, [number, "张大山", value]]})
    return run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)


def test_a_coarser_date_never_overwrites_a_fuller_one(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN 张大山's stored 入党日期 1990-02-02 (measured before: 1990.02 silently made it 1990-02-01)
    WHEN a roster says 入党时间 1990.02 THEN the row is unchanged and 1990-02-02 stays;
    WHEN it says 1990.03 THEN it becomes the month 1990.03 (stored as the 1st, marked month-only);
    WHEN it then says 1990-03-05 THEN it is that full date again."""
    head = built["people"]["head_a"]
    report = party_import(db, tmp_path, head, "1990-02-02", "a.xlsx")
    assert report.accepted and report.sheets["党员"].updated == 1, report.summary_text()
    assert joined(db, head) == ("1990-02-02", None)

    same_month = party_import(db, tmp_path, head, "1990.02", "b.xlsx")
    assert same_month.accepted and same_month.sheets["党员"].unchanged == 1, same_month.summary_text()
    assert joined(db, head) == ("1990-02-02", None)

    other_month = party_import(db, tmp_path, head, "1990.03", "c.xlsx")
    assert other_month.accepted and other_month.sheets["党员"].updated == 1, other_month.summary_text()
    assert joined(db, head) == ("1990-03-01", "joined_on")

    again = party_import(db, tmp_path, head, "1990年3月", "d.xlsx")
    assert again.sheets["党员"].unchanged == 1

    full = party_import(db, tmp_path, head, "1990-03-05", "e.xlsx")
    assert full.accepted and full.sheets["党员"].updated == 1
    assert joined(db, head) == ("1990-03-05", None)


def test_a_month_typed_as_a_number_is_a_month_not_an_excel_serial(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN 入党时间 typed as the number 1990.1 (measured before: read as Excel serial 1990, a 1905 date)
    WHEN imported THEN January 1990 is stored month-only and the report warns that it may be October."""
    head = built["people"]["head_a"]
    report = party_import(db, tmp_path, head, 1990.1)
    assert report.accepted, report.summary_text()
    assert joined(db, head) == ("1990-01-01", "joined_on")
    [warning] = [w for w in report.warnings if w.column == "入党时间"]
    assert warning.row == 2 and "1990.10" in warning.message and "1990年1月" in warning.message


def test_a_year_alone_is_refused(db: Database, built: dict, tmp_path: Path) -> None:
    head = built["people"]["head_a"]
    report = party_import(db, tmp_path, head, 1990)
    assert not report.accepted
    [error] = report.errors
    assert error.code == "bad_date" and "哪一月" in error.message
    assert joined(db, head) == ("1995-07-01", None)


@pytest.mark.parametrize("birth", ["1965.03", 1965.03, "1965年3月", "1965-03", "196503", "1965/3"])
def test_birth_month_agrees_with_the_id(db: Database, built: dict, tmp_path: Path, birth: object) -> None:
    """GIVEN 出生年月 1965.03 for a person whose ID says 1965-03-15 (measured before: id_mismatch on every row)
    WHEN the person sheet is imported THEN it is accepted: the month agrees with the ID."""
    sheets = {"人员": [["身份证号", "姓名", "出生年月"], [built["people"]["head_a"], "张大山", birth]]}
    report = run_import(db, write_xlsx(tmp_path / "p.xlsx", sheets), all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted and not report.errors, report.summary_text()


def test_a_birth_month_that_disagrees_with_the_id_is_still_refused(db: Database, built: dict, tmp_path: Path) -> None:
    sheets = {"人员": [["身份证号", "姓名", "出生年月"], [built["people"]["head_a"], "张大山", "1965.04"]]}
    report = run_import(db, write_xlsx(tmp_path / "p.xlsx", sheets), all_sheet_specs(), actor=CLI_ACTOR)
    assert [e.code for e in report.errors] == ["id_mismatch"]


def test_month_only_is_exported_as_text_and_reimported_unchanged(db: Database, built: dict, tmp_path: Path,
                                                                 another_db: Callable[[], Database]) -> None:
    """GIVEN 入党时间 stored as the month 1990.03
    WHEN the data is exported (list and sync package) THEN the cell is the text 1990.03, a full date stays a date;
    WHEN the package is imported into another database and exported again THEN it is identical."""
    head = built["people"]["head_a"]
    assert party_import(db, tmp_path, head, "1990.03").accepted
    out = tmp_path / "list.xlsx"
    export_sheets(db, all_sheet_specs(), out, CLI_ACTOR, reason="测试")
    package = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR)
    for path in (out, package.path):
        rows = list(pc.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("党员").iter_rows())
        header = rows[0]
        cells = [row[header.index("入党日期")] for row in rows[1:]]
        assert "1990.03" in cells
        assert dt.date(2005, 7, 1) in cells or dt.datetime(2005, 7, 1) in cells  # 赵六's full date stays a date

    other = initialised(another_db())
    report = run_import(other, package.path, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    assert joined(other, head) == ("1990-03-01", "joined_on")
    second = write_package(other, all_sheet_specs(), tmp_path / "p2.xlsx", actor=CLI_ACTOR)
    assert second.sha256 == package.sha256
    again = run_import(other, package.path, all_sheet_specs(), actor=CLI_ACTOR)
    assert all(c.updated == 0 and c.created == 0 for c in again.sheets.values()), again.summary_text()


def test_a_form_shows_the_month_and_saving_it_unchanged_keeps_it(db: Database, built: dict, tmp_path: Path,
                                                                 registry: RegistryService) -> None:
    """GIVEN 入党时间 stored as the month 1990.03
    WHEN the person is opened THEN the form gets the month; WHEN saved unchanged, or with the 1st a date
    picker shows THEN it stays the month; WHEN a day is given THEN it is that day."""
    head = built["people"]["head_a"]
    assert party_import(db, tmp_path, head, "1990.03").accepted
    person = registry.find_person_by_id_number(head)
    assert person is not None and person.party is not None and person.party.joined_on == MonthDate(1990, 3)
    registry.save_person(person.as_input())
    assert joined(db, head) == ("1990-03-01", "joined_on")
    picked = dataclasses.replace(person.party, joined_on=dt.date(1990, 3, 1))
    registry.save_person(dataclasses.replace(person.as_input(), party=picked))
    assert joined(db, head) == ("1990-03-01", "joined_on")
    exact = dataclasses.replace(person.party, joined_on=dt.date(1990, 3, 9))
    registry.save_person(dataclasses.replace(person.as_input(), party=exact))
    assert joined(db, head) == ("1990-03-09", None)


def test_the_template_keeps_a_typed_month_as_text(tmp_path: Path) -> None:
    """GIVEN the import template WHEN a person types 1978.10 under 入党日期 THEN Excel keeps it as text (the
    column is text-formatted: as a number it would show 1978.1), and the instructions say a month alone is fine."""
    book = load_workbook(write_template(all_sheet_specs(), tmp_path / "t.xlsx"))
    ws = book["党员"]
    column = [c.column_letter for c in ws[1] if c.value == "入党日期"][0]
    assert ws[f"{column}3"].number_format == "@" and ws[f"{column}500"].number_format == "@"
    notes = "\n".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "只知年月可写 1978.02" in notes
