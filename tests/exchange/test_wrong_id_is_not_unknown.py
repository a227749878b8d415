"""An imported ID number that fails the ID check is reported as a wrong number, not as a person to register."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.exchange.conftest import build_registry, pid, write_xlsx
from townapp.core.idcard import IdNumberError, parse_id_number
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.points.sheets import record_specs
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

VALID_UNKNOWN = pid(1970, 71)
# the same number with its last character changed: its check digit no longer matches
WRONG_CHECK_DIGIT = VALID_UNKNOWN[:-1] + ("1" if VALID_UNKNOWN[-1] != "1" else "2")

ROSTERS = {
    "积分记录": (record_specs, ["姓名", "身份证号", "规则编码", "发生日期"], ["孙建国", "{id}", "ZZ05", "2026-03-01"]),
    "党员花名册": (all_sheet_specs, ["姓名", "身份证号码", "性别", "联系电话", "党员类别"], ["孙建国", "{id}", "男", None, "正式党员"]),
    "两委班子": (all_sheet_specs, ["姓名", "身份证号", "所属村", "职务"], ["孙建国", "{id}", "东张村", "书记"]),
}


def _import(db: Database, tmp_path: Path, sheet: str, number: str) -> list[tuple[str, str]]:
    specs, header, row = ROSTERS[sheet]
    cells = [number if cell == "{id}" else cell for cell in row]
    path = write_xlsx(tmp_path / f"{sheet}.xlsx", {sheet: [header, cells]})
    return [(e.code, e.message) for e in run_import(db, path, specs(), dry_run=True).errors]


@pytest.mark.parametrize("sheet", sorted(ROSTERS))
def test_a_wrong_check_digit_says_so_and_a_valid_unknown_number_says_register(
        db: Database, registry: RegistryService, tmp_path: Path, sheet: str) -> None:
    """GIVEN a township where 孙建国 is not registered
    WHEN a roster naming people by ID (积分记录, 党员花名册, 两委班子) is checked with his number mistyped in its check digit
    THEN the error is the ID check's own (id_checksum: 核对身份证号), never 未登记 — nobody is sent to register a
    person whose number is invalid; AND with his valid number THEN it is unknown_person (请先登记)."""
    build_registry(registry)
    with pytest.raises(IdNumberError) as wrong:
        parse_id_number(WRONG_CHECK_DIGIT)
    assert _import(db, tmp_path, sheet, WRONG_CHECK_DIGIT) == [("id_checksum", wrong.value.message)]
    [(code, message)] = _import(db, tmp_path, sheet, VALID_UNKNOWN)
    assert code == "unknown_person" and "登记" in message
