"""A 网格员花名册 registers the people it names (issue 18, item 3), and 户号 typed as numbers find their household.

GIVEN 东张村 with twelve households 0001–0012 and its grid tree (WG01 → FZ01 → WW01, WW02; WW03)
WHEN the village sends its 网格员花名册 naming people who are not registered yet
THEN each is registered in the grid's village with the membership, in one all-or-nothing import,
and sending the same file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.exchange.conftest import dump_business, write_xlsx
from townapp.core.actor import CLI_ACTOR
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.grids import models as g
from townapp.grids.service import GridService
from townapp.registry import models as m
from townapp.sheets import all_sheet_specs

from .conftest import GridVillage

HEADER = ["序号", "姓名", "身份证号码", "所属网格编码", "职务", "任职时间", "手机号"]
NEWCOMER = make_id_number("140821", dt.date(1985, 6, 1), 41)
SECOND = make_id_number("140821", dt.date(1990, 2, 1), 52)


def roster(*rows: list[Any]) -> dict[str, list[list[Any]]]:
    return {"网格员花名册": [["东张村网格员花名册"], HEADER, *rows]}


def test_a_grid_roster_registers_the_people_it_names(db: Database, grids: GridService, village: GridVillage,
                                                     tmp_path: Path) -> None:
    """GIVEN a 网格员花名册 with two people not registered (one in two grids) and one registered villager
    WHEN it is checked, imported and imported again
    THEN the dry run names the two new people and writes nothing; the import registers them in 东张村 with their
    phone and gives every row its membership; the second import is all unchanged."""
    path = write_xlsx(tmp_path / "网格员.xlsx", roster(
        [1, "冯网格", NEWCOMER, "WG01", "网格员", "2026-01-01", "13912340001"],
        [2, "冯网格", NEWCOMER, "WW03", "微网格员", "2026-01-01", "13912340001"],
        [3, "陈微格", SECOND, "ww01", "微网格员", "2026-01-01", None],
        [4, "村民东5", make_id_number("140821", dt.date(1964, 1, 1), 19), "WW02", "微网格员", "2026-01-01", None]))
    before = dump_business(db)
    dry = run_import(db, path, all_sheet_specs(), dry_run=True, actor=CLI_ACTOR)
    assert dry.accepted, dry.summary_text()
    assert dump_business(db) == before
    assert dry.sheets["网格员花名册"].created == 4
    said = " ".join(w.message for w in dry.warnings)
    assert "2 人尚未登记为人员" in said and "冯网格" in said and "陈微格" in said

    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted and report.sheets["网格员花名册"].created == 4, report.summary_text()
    with db.engine.connect() as conn:
        person = conn.execute(select(m.Person.id, m.Person.name, m.Person.village_id, m.Person.phone)
                              .where(m.Person.id_number == NEWCOMER)).one()
        roles = conn.execute(select(g.Grid.code, g.GridMember.role).join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                             .where(g.GridMember.person_id == person.id).order_by(g.Grid.code)).all()
    assert (person.name, person.village_id, person.phone) == ("冯网格", village.id, "13912340001")
    assert [tuple(r) for r in roles] == [("WG01", "网格员"), ("WW03", "微网格员")]

    again = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    counts = again.sheets["网格员花名册"]
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 4), again.summary_text()


def test_one_bad_row_registers_no_one(db: Database, grids: GridService, village: GridVillage,
                                      tmp_path: Path) -> None:
    """GIVEN a 网格员花名册 naming a new person, and a row with a new ID but no 姓名
    WHEN it is imported THEN it is rejected at that row (say the name, or register the person first) and no
    person or membership is written."""
    sheets = roster([1, "冯网格", NEWCOMER, "WG01", "网格员", "2026-01-01", None],
                    [2, None, SECOND, "WW01", "微网格员", "2026-01-01", None])
    before = dump_business(db)
    report = run_import(db, write_xlsx(tmp_path / "缺名.xlsx", sheets), all_sheet_specs(), actor=CLI_ACTOR)
    assert [(e.row, e.code) for e in report.errors] == [(4, "unknown_person")]
    assert "姓名" in report.errors[0].message
    assert dump_business(db) == before


def test_a_household_number_typed_as_a_number_finds_its_household(db: Database, grids: GridService,
                                                                  village: GridVillage, tmp_path: Path) -> None:
    """GIVEN household 0006 of 东张村 WHEN a 住户网格 sheet gives its 户号 as the number 6
    THEN it is household 0006 that moves into the micro-grid."""
    sheets = {"住户网格": [["所属村", "户号", "微网格编码", "划入日期"], ["东张村", 6, "WW01", "2026-02-01"]]}
    report = run_import(db, write_xlsx(tmp_path / "划入.xlsx", sheets), all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    with db.engine.connect() as conn:
        number = conn.execute(select(m.Household.number).join(g.GridAssignment,
                                                              g.GridAssignment.household_id == m.Household.id)
                              .join(g.Grid, g.Grid.id == g.GridAssignment.grid_id)
                              .where(g.Grid.code == "WW01")).scalar()
    assert number == "0006"


def test_a_clerk_cannot_register_people_in_another_villages_grid(db: Database, grids: GridService,
                                                                 village: GridVillage, tmp_path: Path) -> None:
    """GIVEN the 村录入员 of 西张村 WHEN their 网格员花名册 names a new person for 东张村's grid WG01
    THEN the row is refused (not_permitted) and no person or membership is written."""
    from townapp.core.actor import ROLE_VILLAGE, Actor
    from townapp.registry.dto import VillageInput
    from townapp.registry.service import RegistryService

    other = RegistryService(db).save_village(VillageInput(code="140821100202", name="西张村"))
    clerk = Actor("西张村文书", ROLE_VILLAGE, other)
    before = dump_business(db)
    sheets = roster([1, "冯网格", NEWCOMER, "WG01", "网格员", "2026-01-01", None])
    for dry_run in (True, False):
        report = run_import(db, write_xlsx(tmp_path / "跨村.xlsx", sheets), all_sheet_specs(), dry_run=dry_run,
                            actor=clerk)
        assert {e.code for e in report.errors} == {"not_permitted"}, report.summary_text()
    assert dump_business(db) == before
