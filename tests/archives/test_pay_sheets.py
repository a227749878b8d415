"""The finance office's sheets (issue 19): the monthly payroll (按月发放) and the creation awards, built from
the pay tables and adding up to them to the 分; written as workbooks that open (LibreOffice when installed)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.figures import record
from townapp.archives.dto import PayData, PayTable, YearData
from townapp.archives.payroll import pay_tables, write_creation_awards_xlsx, write_payroll_xlsx
from townapp.archives.remuneration import pay_rules
from townapp.archives.service import ArchiveService
from townapp.core.idcard import make_id_number
from townapp.registry.dto import PersonInput, VillageInput
from townapp.registry.service import RegistryService

from .conftest import Village


@pytest.fixture
def township(archives: ArchiveService, village: Village, registry: RegistryService) -> list[PayTable]:
    """东张村 (示范, 重点村, 3 cadres, one of them 7 months) and 西李村 (规范, 2 cadres), year 2025."""
    archives.save_year(YearData(village.id, 2024, {"org_star": 3, "secretary_star": 5}))
    archives.save_year(YearData(village.id, 2025, {"creation_level": "示范", "org_star": 4, "secretary_star": 7,
                                                  "designated": True}))
    p = village.people
    archives.save_pay_inputs(village.id, 2025, [PayData(p["张建国"], "书记", 12, "优秀"),
                                                PayData(p["李秀英"], "委员", 7, "称职"),
                                                PayData(p["赵敏"], "监委会主任", 11, "基本称职")])
    west = registry.save_village(VillageInput(code="140821100202", name="西李村"))
    ids = [registry.save_person(PersonInput(make_id_number("140821", dt.date(1975, 1, 1), 31 + 2 * i),
                                            name, village_id=west)) for i, name in enumerate(("李大山", "李小河"))]
    archives.save_year(YearData(west, 2025, {"creation_level": "规范", "org_star": 3, "secretary_star": 4}))
    archives.save_pay_inputs(west, 2025, [PayData(ids[0], "书记", 12, "称职"), PayData(ids[1], "主任", 5, None)])
    return pay_tables(archives, 2025)


def _fen(value: object) -> int:
    """A 元 cell read back as 分, exactly (two decimals at most)."""
    amount = Decimal(str(value)) * 100
    assert amount == amount.to_integral_value(), value
    return int(amount)


def test_the_monthly_payroll_adds_up_to_the_pay_tables_to_the_fen(township: list[PayTable], tmp_path: Path) -> None:
    """GIVEN two villages' 2025 pay tables (a 7- and an 11-month cadre, a 重点村, stars, 晋位)
    WHEN the township's monthly payroll is written
    THEN there is one row per cadre with 1–12月 columns; each row's months add up to its basic pay, each row's
    total equals its pay-table line, and the 合计 row equals the pay tables' totals, all in 分 exactly."""
    path = write_payroll_xlsx(township, tmp_path / "按月发放.xlsx")
    ws = load_workbook(path).active
    headers = [c.value for c in ws[3]]
    months = [headers.index(f"{m}月") + 1 for m in range(1, 13)]
    basic, total = headers.index("基本报酬小计") + 1, headers.index("全年合计") + 1
    lines = [line for table in township for line in table.lines]
    rows = list(ws.iter_rows(min_row=4, max_row=3 + len(lines) + 1))
    for line, row in zip(lines, rows, strict=False):
        assert row[1].value == line.name
        assert sum(_fen(row[c - 1].value) for c in months) == line.basic == _fen(row[basic - 1].value)
        assert _fen(row[total - 1].value) == line.total
        assert row[months[0] - 1].number_format == "#,##0.00"
    sums = rows[-1]
    assert sums[0].value == "合计" and _fen(sums[total - 1].value) == sum(t.total for t in township)
    assert sum(_fen(sums[c - 1].value) for c in months) == sum(line.basic for line in lines)
    seven = next(row for row, line in zip(rows, lines, strict=False) if line.months == 7)
    assert [_fen(seven[c - 1].value) > 0 for c in months] == [True] * 7 + [False] * 5
    record("按月发放表合计与报酬表合计之差（分）", _fen(sums[total - 1].value) - sum(t.total for t in township))


def test_the_creation_awards_add_up_to_the_pay_tables_and_the_activity_funds(township: list[PayTable],
                                                                            tmp_path: Path) -> None:
    """GIVEN 东张村 示范 and 西李村 规范
    WHEN the creation award sheet is written
    THEN each cadre's award equals their pay-table creation amount (prorated by months), each village has a
    村级活动经费 row (示范 2万, 规范 1万 from the rules), and the 合计 is their sum to the 分."""
    path = write_creation_awards_xlsx(township, tmp_path / "创建奖励.xlsx")
    rows = list(load_workbook(path).active.iter_rows(min_row=4, values_only=True))
    cadres = [r for r in rows if r[6] == "村干部创建奖励"]
    funds = {r[0]: _fen(r[5]) for r in rows if r[6] == "村级活动经费"}
    assert sum(_fen(r[5]) for r in cadres) == sum(line.creation for t in township for line in t.lines)
    rules = pay_rules()
    assert funds == {"东张村": rules.village_activity_fund["示范"], "西李村": rules.village_activity_fund["规范"]}
    assert funds["东张村"] == 2_000_000 and funds["西李村"] == 1_000_000
    assert [t.activity_fund for t in township] == [2_000_000, 1_000_000]
    (total,) = [r for r in rows if r[0] == "合计"]
    assert _fen(total[5]) == sum(line.creation for t in township for line in t.lines) + sum(funds.values())


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_both_sheets_open_in_libreoffice(township: list[PayTable], tmp_path: Path) -> None:
    """GIVEN the two workbooks WHEN LibreOffice converts them to PDF THEN each gives a PDF."""
    for path in (write_payroll_xlsx(township, tmp_path / "payroll.xlsx"),
                 write_creation_awards_xlsx(township, tmp_path / "creation.xlsx")):
        subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                       check=True, capture_output=True, timeout=120)
        assert path.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
