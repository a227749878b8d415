"""村级债务 carried into the next year (issue 19): a jump in the opening balance is refused, and the year close
starts the next year with last year's closing balance and 重点村 flag — once, never over a typed value."""

from __future__ import annotations

import pytest

from tests.figures import record
from townapp.archives.dto import YearData
from townapp.archives.service import ArchiveService
from townapp.core.errors import ValidationFailed

from .conftest import Village

WAN = 1_000_000  # 1万元 in 分


def _debt(opening: int, new: int, resolved: int) -> dict[str, int]:
    return {"debt_opening": opening, "debt_new": new, "debt_resolved": resolved,
            "debt_closing": opening + new - resolved}


def test_an_opening_debt_that_jumps_from_last_years_closing_is_refused(archives: ArchiveService,
                                                                     village: Village) -> None:
    """GIVEN 2025 closing with 30万 of debt
    WHEN 2026 is saved opening with 35万 (a +5万 jump)
    THEN it is refused, the message naming both figures and the field 年初债务余额; 30万 is accepted;
    AND changing 2025's closing afterwards is saved with a warning naming 2026's opening."""
    archives.save_year(YearData(village.id, 2025, _debt(40 * WAN, 0, 10 * WAN)))
    with pytest.raises(ValidationFailed) as caught:
        archives.save_year(YearData(village.id, 2026, _debt(35 * WAN, 0, 5 * WAN)))
    (problem,) = [p for p in caught.value.problems if p.field == "debt_opening"]
    assert "2026年年初债务余额（350,000.00元）应等于2025年年末债务余额（300,000.00元）" in problem.message
    record("债务结转跳变被拒（+5万）", 1)
    assert archives.save_year(YearData(village.id, 2026, _debt(30 * WAN, 0, 5 * WAN))) == []
    warnings = archives.save_year(YearData(village.id, 2025, _debt(40 * WAN, 0, 12 * WAN)))
    assert [w.field for w in warnings] == ["debt_closing"] and "2026年年初债务余额" in warnings[0].message


def test_carry_forward_starts_next_year_once_and_never_over_a_typed_value(archives: ArchiveService,
                                                                        village: Village) -> None:
    """GIVEN 2025 of a 重点村 closing with 28万 of debt, and no 2026 yet
    WHEN the year close carries 2025 forward (twice)
    THEN 2026 opens with 28万 and is a 重点村, the second call carries nothing;
    AND a 2026 whose opening someone typed (and un-ticked 重点村) keeps what was typed."""
    archives.save_year(YearData(village.id, 2025, {**_debt(30 * WAN, 0, 2 * WAN), "designated": True}))
    assert archives.carry_forward(village.id, 2025) == ["重点村", "年初债务余额280,000.00元"]
    after = archives.year(village.id, 2026).values
    assert after["debt_opening"] == 28 * WAN and after["designated"] is True
    assert archives.carry_forward(village.id, 2025) == []
    archives.save_year(YearData(village.id, 2026, {"debt_opening": 28 * WAN, "designated": False}))
    archives.save_year(YearData(village.id, 2025, {**_debt(30 * WAN, 0, 3 * WAN), "designated": True}))
    assert archives.carry_forward(village.id, 2025) == []
    assert archives.year(village.id, 2026).values["debt_opening"] == 28 * WAN  # typed: kept (and warned about)
    assert archives.year(village.id, 2026).values["designated"] is False
    assert archives.carry_forward(village.id, 2030) == []  # no such year: nothing to carry
    assert 2031 not in archives.years(village.id)


def test_an_empty_opening_is_filled_but_a_village_without_debt_figures_is_left_alone(archives: ArchiveService,
                                                                                  village: Village) -> None:
    """GIVEN 2026 started by hand with only its income, and 2025 closing at 0
    WHEN 2025 is carried forward
    THEN the empty opening becomes 0 (a closing of 0 is a figure); a 2025 without a closing leaves 2027 empty."""
    archives.save_year(YearData(village.id, 2025, _debt(5 * WAN, 0, 5 * WAN)))
    archives.save_year(YearData(village.id, 2026, {"total_income": 100}))
    assert archives.carry_forward(village.id, 2025) == ["年初债务余额0.00元"]
    assert archives.year(village.id, 2026).values["debt_opening"] == 0
    assert archives.carry_forward(village.id, 2026) == []
    assert archives.year(village.id, 2027).values["debt_opening"] is None


def test_an_imported_year_whose_opening_debt_jumps_is_refused(archives: ArchiveService, village: Village,
                                                            tmp_path) -> None:  # noqa: ANN001
    """GIVEN 2025 stored closing with 30万 of debt, and the township's 村级年度数据 exported
    WHEN a 2026 row opening with 35万 is added to the workbook and imported
    THEN the import is refused on that row's 年初债务余额, naming both figures; 2026 is not stored."""
    from openpyxl import load_workbook

    from townapp.core.actor import CLI_ACTOR
    from townapp.exchange.pipeline import run_import
    from townapp.exchange.writer import export_sheets
    from townapp.sheets import all_sheet_specs

    archives.save_year(YearData(village.id, 2025, _debt(40 * WAN, 0, 10 * WAN)))
    out = tmp_path / "年度数据.xlsx"
    export_sheets(archives.db, [s for s in all_sheet_specs() if s.key == "archive_year"], out, CLI_ACTOR, reason="测试")
    book = load_workbook(out)
    ws = book["村级年度数据"]
    headers = [c.value for c in ws[1]]
    row = [c.value for c in ws[2]]
    row[headers.index("年度")] = 2026
    for header, value in (("年初债务余额", "350000.00"), ("本年新增债务", "0.00"), ("本年化解债务", "50000.00"),
                          ("年末债务余额", "300000.00")):
        row[headers.index(header)] = value
    ws.append(row)
    book.save(out)
    report = run_import(archives.db, out, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.status == "rejected"
    (error,) = [e for e in report.errors if e.code == "rule"]
    assert error.row == 3 and error.column == "年初债务余额"
    assert "应等于2025年年末债务余额（300,000.00元）" in error.message and "350,000.00元" in error.message
    assert 2026 not in archives.years(village.id)


def test_townapp_check_lists_a_stored_debt_jump(archives: ArchiveService, village: Village, db) -> None:  # noqa: ANN001
    """GIVEN a 2026 opening that jumps from 2025's closing, stored before the rule existed (written directly)
    WHEN the archive's violations are listed (what ``townapp check`` and the overview report)
    THEN the jump is one error naming both years' figures."""
    from townapp.archives import models as a

    archives.save_year(YearData(village.id, 2025, _debt(40 * WAN, 0, 10 * WAN)))
    with db.unit_of_work(archives.actor) as s:
        s.add(a.ArchiveYear(village_id=village.id, year=2026, **_debt(35 * WAN, 0, 5 * WAN)))
    (found,) = [v for v in archives.violations(village.id) if v.rule_id == "debt_carry_over"]
    assert found.year == 2026 and found.severity == "error" and "300,000.00元" in found.message


def test_an_imported_star_that_differs_from_the_rated_one_is_refused_and_a_blank_keeps_it(
        archives: ArchiveService, village: Village, tmp_path) -> None:  # noqa: ANN001
    """GIVEN 2025 whose 村党组织星级 (三星) 定级 wrote into the archive, and the 村级年度数据 exported
    WHEN the workbook says 五星 for it and is imported
    THEN the row is refused at 村党组织星级, naming where the star came from, and the star stays 三星;
    AND WHEN the cell is left blank (other figures changed) the import goes in and the star is still 三星."""
    from openpyxl import load_workbook

    from townapp.core.actor import CLI_ACTOR
    from townapp.exchange.pipeline import run_import
    from townapp.exchange.writer import export_sheets
    from townapp.sheets import all_sheet_specs

    archives.save_year(YearData(village.id, 2025, _debt(40 * WAN, 0, 10 * WAN)))
    archives.set_rating_from_evaluation(village.id, 2025, "org_star", 3, "2025年度村党组织评星定级")
    out = tmp_path / "年度数据.xlsx"
    export_sheets(archives.db, [s for s in all_sheet_specs() if s.key == "archive_year"], out, CLI_ACTOR, reason="测试")

    def import_with(star: object, resolved: str) -> object:
        book = load_workbook(out)
        ws = book["村级年度数据"]
        headers = [c.value for c in ws[1]]
        ws.cell(2, headers.index("村党组织星级") + 1, star)
        ws.cell(2, headers.index("本年化解债务") + 1, resolved)
        ws.cell(2, headers.index("年末债务余额") + 1, f"{400000 - int(float(resolved)):.2f}")
        changed = tmp_path / "改过.xlsx"
        book.save(changed)
        return run_import(archives.db, changed, all_sheet_specs(), actor=CLI_ACTOR)

    report = import_with(5, "100000.00")
    assert report.status == "rejected"
    (error,) = [e for e in report.errors if e.code == "rule"]
    assert error.column == "村党组织星级" and "来自评星定级" in error.message and "“5星”" in error.message
    assert archives.year(village.id, 2025).values["org_star"] == 3
    report = import_with(None, "120000.00")
    assert report.status != "rejected", report.errors
    stored = archives.year(village.id, 2025).values
    assert (stored["org_star"], stored["debt_resolved"]) == (3, 120000 * 100)


def test_an_imported_grade_of_the_rated_secretary_is_refused_and_other_cadres_go_in(
        archives: ArchiveService, village: Village, tmp_path) -> None:  # noqa: ANN001
    """GIVEN 2025's 书记星级 定级 wrote with the 书记 张建国's 年度考核结果 合格 (考核等级 称职), a 委员 李秀英
    typed 基本称职, and the 村干部报酬 exported
    WHEN the workbook makes the 书记 优秀 and the 委员 称职 and is imported
    THEN the 书记's row is refused at 考核等级 naming the 定级, and nothing is written;
    AND WHEN only the 委员's grade is changed, it goes in and the 书记 stays 称职."""
    from openpyxl import load_workbook

    from townapp.archives.dto import PayData
    from townapp.core.actor import CLI_ACTOR
    from townapp.exchange.pipeline import run_import
    from townapp.exchange.writer import export_sheets
    from townapp.sheets import all_sheet_specs

    secretary, member = village.people["张建国"], village.people["李秀英"]
    archives.save_pay_inputs(village.id, 2025, [PayData(secretary, "书记", 12, "称职"),
                                                PayData(member, "委员", 12, "基本称职")])
    archives.set_rating_from_evaluation(village.id, 2025, "secretary_star", 6, "2025年书记星级",
                                        person_id=secretary, inputs={"assessment": "合格"})
    out = tmp_path / "报酬.xlsx"
    export_sheets(archives.db, [s for s in all_sheet_specs() if s.key == "archive_pay"], out, CLI_ACTOR, reason="测试")

    def import_grades(grades: dict[str, str]) -> object:
        book = load_workbook(out)
        ws = book["村干部报酬"]
        headers = [c.value for c in ws[1]]
        for row in range(2, ws.max_row + 1):
            name = ws.cell(row, headers.index("姓名") + 1).value
            if name in grades:
                ws.cell(row, headers.index("考核等级") + 1, grades[name])
        changed = tmp_path / "改过.xlsx"
        book.save(changed)
        return run_import(archives.db, changed, all_sheet_specs(), actor=CLI_ACTOR)

    def grades() -> dict[str, str]:
        return {p.name: p.grade for p in archives.pay_inputs(village.id, 2025)}

    report = import_grades({"张建国": "优秀", "李秀英": "称职"})
    assert report.status == "rejected"
    (error,) = [e for e in report.errors if e.code == "rule"]
    assert error.column == "考核等级" and "来自评星定级" in error.message and "应为“称职”" in error.message
    assert grades() == {"张建国": "称职", "李秀英": "基本称职"}
    report = import_grades({"李秀英": "称职"})
    assert report.status != "rejected", report.errors
    assert grades() == {"张建国": "称职", "李秀英": "称职"}
