"""A sheet another page imports (the 党员积分 page's 积分记录) is never taken for a sheet of the exchange."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from townapp.db import Database
from townapp.exchange import commands
from townapp.points.sheets import write_record_template
from townapp.registry import models as m
from townapp.sheets import all_sheet_specs, elsewhere_sheet_specs

from .conftest import pid


def _record_workbook(path: Path, rows: list[list]) -> Path:
    """The points page's own template, filled in as a village would."""
    write_record_template(path)
    book = load_workbook(path)
    sheet = book["积分记录"]
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            sheet.cell(number, column, value)
    book.save(path)
    return path


def _import(db: Database, file: Path, report: Path) -> int:
    args = argparse.Namespace(db=db.location, file=str(file), dry_run=False, report=str(report))
    return commands.import_command(args, sheet_specs=all_sheet_specs, elsewhere=elsewhere_sheet_specs)


def test_a_points_workbook_given_to_the_main_import_is_refused_and_changes_no_one(
        db: Database, villages: tuple[int, int], registry, tmp_path: Path,  # noqa: ANN001
        capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN 张三 of 东张村, and the 党员积分 page's 积分记录 template filled with a row naming him in 西张社区
    WHEN the file is given to `townapp import` (the exchange), whose 人员 sheet has the same first headers
    THEN it is refused (exit 1, code wrong_place, saying to import it on the 党员积分 page) and 张三 stays in
    东张村 — before, it was taken for a 人员 sheet, exit 0, and 张三 moved village."""
    from townapp.registry.dto import PersonInput

    east, west = villages
    number = pid(1970, 11)
    registry.save_person(PersonInput(number, "张三", village_id=east))
    file = _record_workbook(tmp_path / "积分.xlsx", [["西张社区", number, "张三", "JC01", "参加主题党日", "2026-05-01",
                                                       "2", "加分", "", "", ""]])

    code = _import(db, file, tmp_path / "r.json")

    out = capsys.readouterr().out
    assert code == commands.EXIT_REJECTED, out
    assert "党员积分" in out and "积分记录" in out
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [e["code"] for e in report["errors"]] == ["wrong_place"]
    with db.engine.connect() as conn:
        assert conn.execute(select(m.Person.village_id).where(m.Person.id_number == number)).scalar() == east


def test_beside_a_people_sheet_the_points_sheet_is_skipped_and_said_so(
        db: Database, villages: tuple[int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a workbook with a 人员 sheet and the 积分记录 sheet
    WHEN it is imported through the exchange
    THEN the people are imported and the 积分记录 sheet is skipped with a warning naming where it belongs."""
    file = _record_workbook(tmp_path / "混合.xlsx", [["东张村", pid(1980, 22), "李四", "JC01", "", "2026-05-01", "2",
                                                       "加分", "", "", ""]])
    book = load_workbook(file)
    people = book.create_sheet("人员", 0)
    people.append(["身份证号", "姓名", "所属村"])
    people.append([pid(1980, 22), "李四", "东张村"])
    book.save(file)

    code = _import(db, file, tmp_path / "r.json")

    out = capsys.readouterr().out
    assert code == commands.EXIT_OK, out
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(report["sheets"]) == {"人员"} and report["sheets"]["人员"]["created"] == 1
    assert any("积分记录" in w["message"] and "党员积分" in w["message"] for w in report["warnings"])
