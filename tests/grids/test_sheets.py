"""The grids' sheet specs: the generic exchange pipeline exports and imports them with no grid parsing code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import text

from townapp.core.actor import CLI_ACTOR
from townapp.db import Database
from townapp.exchange.package import write_package
from townapp.exchange.pipeline import run_import
from townapp.exchange.template import write_template
from townapp.grids.service import GridService
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import MONTH, START, YEAR, GridVillage

GRID_TABLES = {
    "grid": "SELECT g.code, g.level, p.code, g.name, g.scope, g.active FROM grid g LEFT JOIN grid p ON p.id = g.parent_id",
    "grid_member": "SELECT g.code, pe.id_number, m.role, m.duty, m.started_on, m.ended_on FROM grid_member m "
                   "JOIN grid g ON g.id = m.grid_id JOIN person pe ON pe.id = m.person_id",
    "grid_assignment": "SELECT h.number, g.code, a.started_on, a.ended_on FROM grid_assignment a "
                       "JOIN household h ON h.id = a.household_id JOIN grid g ON g.id = a.grid_id",
    "grid_assessment": "SELECT mo.year, mo.month, pe.id_number, a.scores, a.deduction, a.deduction_reason, a.total "
                       "FROM grid_assessment a JOIN grid_month mo ON mo.id = a.month_id "
                       "JOIN grid_member m ON m.id = a.member_id JOIN person pe ON pe.id = m.person_id",
}


def dump(db: Database) -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        # values as text: one side may be a server (dates as dates), the other a file (dates as stored text)
        return {name: sorted(tuple(None if v is None else str(int(v) if isinstance(v, bool) else v) for v in r)
                             for r in conn.execute(text(sql)))
                for name, sql in GRID_TABLES.items()}


def test_a_package_carries_grids_members_assignments_and_assessments(
        db: Database, grids: GridService, approved: dict[str, int], village: GridVillage,
        another_db: Callable[[], Database], tmp_path: Path) -> None:
    # GIVEN a township with its grid tree, roster, assignments (one household moved) and an approved month
    grids.assign(village.households[:6], village.grids["WW01"], START)
    grids.assign(village.households[6:10], village.grids["WW02"], START)
    grids.assign(village.households[:1], village.grids["WW03"], START.replace(month=4))
    package = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR).path
    # WHEN the package is imported into an empty database of the same township (as a restore would)
    other = another_db()
    RegistryService(other).initialise("township", "临晋镇", "140821100")
    report = run_import(other, package, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, [e.message for e in report.errors]
    # THEN the grid tables hold the same content
    mine = dump(db)
    assert dump(other) == mine
    assert report.sheets["网格"].created == 5 and report.sheets["住户网格"].created == 11
    # AND a second import changes nothing
    again = run_import(other, package, all_sheet_specs(), actor=CLI_ACTOR)
    grid_sheets = ("网格", "网格成员", "住户网格", "网格员月度考核")
    assert {n: c.created + c.updated for n, c in again.sheets.items() if n in grid_sheets} == {
        "网格": 0, "网格成员": 0, "住户网格": 0, "网格员月度考核": 0}


def test_importing_into_a_locked_month_is_refused_row_by_row(db: Database, approved: dict[str, int],
                                                             village: GridVillage, tmp_path: Path) -> None:
    number = RegistryService(db).get_person(village.people[0]).id_number
    wb = Workbook()
    ws = wb.active
    ws.title = "网格员月度考核"
    ws.append(["年度", "月份", "网格编码", "身份证号", "信息采集", "走访入户", "事件上报与处置", "政策宣传", "矛盾调解",
               "扣分", "扣分原因"])
    ws.append([YEAR, MONTH, "WG01", number, 10, 10, 10, 10, 10, None, None])
    ws.append([YEAR, MONTH + 1, "WG01", number, 20, 25, 25, 15, 15, 2, None])
    wb.save(tmp_path / "scores.xlsx")
    report = run_import(db, tmp_path / "scores.xlsx", all_sheet_specs(), actor=CLI_ACTOR)
    assert [(e.row, e.code) for e in report.errors] == [(2, "locked"), (3, "rule")]
    assert "已审批锁定" in report.errors[0].message and "扣分原因" in report.errors[1].message


def test_a_village_roster_with_its_own_headers_is_recognised(db: Database, grids: GridService,
                                                             village: GridVillage, tmp_path: Path) -> None:
    number = RegistryService(db).get_person(village.people[4]).id_number
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["东张村网格员花名册"])
    ws.append(["序号", "姓名", "身份证号码", "所属网格编码", "职务", "专职/兼职", "任职时间", "手机号"])
    ws.append([1, "村民东5", number, "ww01", "微网格员", "兼", "2026年1月1日", "13900000004"])
    wb.save(tmp_path / "roster.xlsx")
    report = run_import(db, tmp_path / "roster.xlsx", all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, [e.message for e in report.errors]
    roster = grids.roster(village.grids["WW01"])
    assert [(r.name, r.role, r.duty, r.started_on) for r in roster] == [("村民东5", "微网格员", "兼职", START)]


def test_the_template_has_a_sheet_per_grid_entity(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(write_template(all_sheet_specs(), tmp_path / "t.xlsx"))
    assert {"网格", "网格成员", "住户网格", "网格员月度考核"} <= set(book.sheetnames)
    headers = [c.value for c in book["网格员月度考核"][1]]
    assert {"信息采集", "走访入户", "事件上报与处置", "政策宣传", "矛盾调解", "扣分原因"} <= set(headers)


def test_a_mistyped_id_on_the_monthly_scores_says_so_not_unregistered(db: Database, grids: GridService,
                                                                      village: GridVillage, tmp_path: Path) -> None:
    """GIVEN a grid member's monthly scores WHEN the number has a wrong check digit THEN the ID check's own error
    (核对身份证号), not 未登记; AND an unknown grid code is named as the grid code, AND a valid number nobody
    holds is unknown_member (请先登记)."""
    from townapp.core.idcard import IdNumberError, parse_id_number

    number = RegistryService(db).get_person(village.people[0]).id_number
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    try:
        parse_id_number(wrong)
    except IdNumberError as exc:
        expected = (exc.code, exc.message)
    wb = Workbook()
    ws = wb.active
    ws.title = "网格员月度考核"
    ws.append(["年度", "月份", "网格编码", "身份证号", "信息采集", "走访入户", "事件上报与处置", "政策宣传", "矛盾调解"])
    ws.append([YEAR, MONTH, "WG01", wrong, 10, 10, 10, 10, 10])
    ws.append([YEAR, MONTH, "XX99", number, 10, 10, 10, 10, 10])
    ws.append([YEAR, MONTH, "WG01", "110101199003070011", 10, 10, 10, 10, 10])
    wb.save(tmp_path / "scores.xlsx")
    report = run_import(db, tmp_path / "scores.xlsx", all_sheet_specs(), actor=CLI_ACTOR, dry_run=True)
    errors = {e.row: (e.code, e.message) for e in report.errors}
    assert errors[2] == expected
    assert errors[3][0] == "unknown_member" and "XX99" in errors[3][1]
    assert errors[4][0] == "unknown_member" and "登记" in errors[4][1]
