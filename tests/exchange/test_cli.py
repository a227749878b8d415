"""The CLI contract of DESIGN §8 for import and export.

GIVEN a township database with two villages
WHEN ``townapp import`` runs on a malformed and on a valid file
THEN it exits 1 with the exact JSON report, or 0; a real import changes the
database and a second one reports no changes; the same through ``python -m townapp``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from openpyxl import load_workbook

from townapp.db import Database
from townapp.exchange import commands
from townapp.sheets import all_sheet_specs

from .conftest import dump_business, pid, write_xls, write_xlsx

REPO = Path(__file__).resolve().parents[2]
# the commands as cli.py wires them: handed the sheets by the composition root
import_command = partial(commands.import_command, sheet_specs=all_sheet_specs)
export_template_command = partial(commands.export_template_command, sheet_specs=all_sheet_specs)
export_package_command = partial(commands.export_package_command, sheet_specs=all_sheet_specs)
HEADER = ["身份证号", "姓名", "性别", "所属村", "联系电话"]
GOOD = [[pid(1970, 11), "张三", "男", "东张村", "13812345678"], [pid(1980, 22), "李四", "女", "西张社区", None]]
BAD = [[1.4082119700315e17, "张三", "男", "东张村", None], [pid(1980, 22), "李四", "女", "北张村", None]]
REPORT_KEYS = {"status", "dry_run", "file_sha256", "sheets", "errors", "warnings"}


def args(db: Database, file: Path, *, dry_run: bool = False, report: Path | None = None) -> argparse.Namespace:
    return argparse.Namespace(db=db.location, file=str(file), dry_run=dry_run, report=str(report) if report else None)


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "townapp", *argv], capture_output=True, text=True, cwd=REPO,
                          timeout=300)


def counts(data: dict) -> dict[str, dict[str, int]]:
    """The §8 counts of each sheet (without what the sheet was taken as)."""
    return {name: {k: sheet[k] for k in ("created", "updated", "unchanged", "errors")}
            for name, sheet in data["sheets"].items()}


def check_report_shape(data: dict) -> None:
    assert set(data) == REPORT_KEYS
    assert data["status"] in ("ok", "rejected") and isinstance(data["dry_run"], bool)
    assert len(data["file_sha256"]) == 64
    for counts in data["sheets"].values():
        # DESIGN §8's counts, extended (issue 18) with what the sheet was taken as and which columns it used
        assert set(counts) == {"created", "updated", "unchanged", "errors", "entity", "columns", "layout",
                               "header_row", "recognised_by"}
        assert set(counts["columns"]) == {"used", "ignored"} and isinstance(counts["entity"], str)
    for error in data["errors"]:
        assert set(error) == {"sheet", "row", "column", "code", "message"}
        assert isinstance(error["row"], int) and error["message"]


def test_malformed_file_exits_1_with_the_json_report(db: Database, villages: tuple[int, int], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_xlsx(tmp_path / "bad.xlsx", {"人员": [HEADER, *BAD]})
    before = dump_business(db)
    assert import_command(args(db, bad, dry_run=True, report=tmp_path / "r.json")) == 1
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    check_report_shape(data)
    assert data["status"] == "rejected" and data["dry_run"] is True
    assert {(e["row"], e["column"], e["code"]) for e in data["errors"]} == {
        (2, "身份证号", "id_number_cell"), (3, "所属村", "unknown_village")}
    assert counts(data) == {"人员": {"created": 0, "updated": 0, "unchanged": 0, "errors": 2}}
    assert "未通过" in capsys.readouterr().out
    assert dump_business(db) == before


def test_valid_file_dry_run_then_real_then_again(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", {"人员": [HEADER, *GOOD]})
    before = dump_business(db)
    assert import_command(args(db, good, dry_run=True, report=tmp_path / "dry.json")) == 0
    assert dump_business(db) == before
    assert import_command(args(db, good, report=tmp_path / "real.json")) == 0
    after = dump_business(db)
    assert after != before and len(after["person"]) == 2
    dry = json.loads((tmp_path / "dry.json").read_text(encoding="utf-8"))
    real = json.loads((tmp_path / "real.json").read_text(encoding="utf-8"))
    assert counts(dry) == counts(real) == {"人员": {"created": 2, "updated": 0, "unchanged": 0, "errors": 0}}
    assert dry["sheets"]["人员"]["entity"] == "person" and "身份证号" in dry["sheets"]["人员"]["columns"]["used"]
    assert import_command(args(db, good, report=tmp_path / "again.json")) == 0
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert counts(again) == {"人员": {"created": 0, "updated": 0, "unchanged": 2, "errors": 0}}
    assert dump_business(db) == after


def test_annotated_copy_of_an_xls(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN a rejected .xls WHEN --report x.xlsx THEN an xlsx copy marks the cells and adds 错误原因."""
    bad = write_xls(tmp_path / "bad.xls", {"人员": [["东张村人口登记"], HEADER, *BAD]})
    out = tmp_path / "marked.xlsx"
    assert import_command(args(db, bad, dry_run=True, report=out)) == 1
    book = load_workbook(out)
    assert book.sheetnames[0] == "导入报告"
    ws = book["人员"]
    assert ws.cell(2, 6).value == "错误原因"
    assert "身份证号" in ws.cell(3, 6).value and "所属村" in ws.cell(4, 6).value
    assert ws.cell(3, 1).fill.fgColor.rgb.endswith("FFC7CE") and ws.cell(4, 4).fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.cell(4, 2).value == "李四"


def test_annotated_copy_keeps_the_users_xlsx_formatting(db: Database, villages: tuple[int, int],
                                                        tmp_path: Path) -> None:
    from openpyxl.styles import Font

    bad = write_xlsx(tmp_path / "bad.xlsx", {"人员": [HEADER, *BAD]})
    book = load_workbook(bad)
    book["人员"]["B2"].font = Font(bold=True, color="0000FF")
    book.save(bad)
    out = tmp_path / "marked.xlsx"
    assert import_command(args(db, bad, dry_run=True, report=out)) == 1
    ws = load_workbook(out)["人员"]
    assert ws["B2"].font.bold and ws["F1"].value == "错误原因"
    assert "Excel" in ws["F2"].value and ws["A2"].comment is not None


def test_usage_errors_exit_2(db: Database, tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", {"人员": [HEADER, *GOOD]})
    assert import_command(args(db, good, report=tmp_path / "r.txt")) == 2
    assert import_command(args(db, tmp_path / "missing.xlsx")) == 2
    assert export_template_command(argparse.Namespace(out=str(tmp_path / "t.csv"))) == 2


def test_export_commands(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    assert export_template_command(argparse.Namespace(out=str(tmp_path / "t.xlsx"))) == 0
    assert export_package_command(argparse.Namespace(db=db.location, out=str(tmp_path / "p.xlsx"))) == 0
    assert load_workbook(tmp_path / "p.xlsx").sheetnames[0] == "说明"
    assert export_package_command(argparse.Namespace(db=str(tmp_path / "none.db"), out=str(tmp_path / "q.xlsx"))) == 1


def test_through_python_m_townapp(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    bad = write_xlsx(tmp_path / "bad.xlsx", {"人员": [HEADER, *BAD]})
    good = write_xlsx(tmp_path / "good.xlsx", {"人员": [HEADER, *GOOD]})
    result = run_cli("import", "--db", db.location, str(bad), "--dry-run", "--report", str(tmp_path / "r.json"))
    assert result.returncode == 1, result.stdout + result.stderr
    check_report_shape(json.loads((tmp_path / "r.json").read_text(encoding="utf-8")))
    result = run_cli("import", "--db", db.location, str(good), "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "新增 2" in result.stdout
    assert run_cli("import", "--db", db.location, str(good)).returncode == 0
    result = run_cli("import", "--db", db.location, str(good), "--report", str(tmp_path / "again.json"))
    assert result.returncode == 0
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert again["sheets"]["人员"]["created"] == 0 and again["sheets"]["人员"]["updated"] == 0
    assert run_cli("export", "template", "--out", str(tmp_path / "t.xlsx")).returncode == 0
    assert run_cli("export", "package", "--db", db.location, "--out", str(tmp_path / "p.xlsx")).returncode == 0
    assert (tmp_path / "p.xlsx").exists()


def test_a_folder_named_like_a_workbook_is_reported_not_missing(db: Database, villages: tuple[int, int],
                                                                tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a folder called 人员.xlsx (a mistyped path, an unpacked workbook)
    WHEN ``townapp import --dry-run --report r.json`` is given it
    THEN it exits 1 saying it is a folder, with the JSON report's file-level not_spreadsheet error
    (it exited 2 "找不到要导入的文件" and wrote no report)."""
    folder = tmp_path / "人员.xlsx"
    folder.mkdir()
    assert import_command(args(db, folder, dry_run=True, report=tmp_path / "r.json")) == 1
    assert "是文件夹，不是表格文件" in capsys.readouterr().out
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["status"] == "rejected" and data["sheets"] == {}
    assert [(e["sheet"], e["row"], e["code"]) for e in data["errors"]] == [("", 0, "not_spreadsheet")]
    assert "是文件夹" in data["errors"][0]["message"]
