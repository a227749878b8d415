"""Archive sheets through the one exchange pipeline: template, package round trip, rules on import."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from townapp.archives.service import ArchiveService
from townapp.core.actor import CLI_ACTOR
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.exchange.template import write_template
from townapp.exchange.writer import export_sheets
from townapp.sheets import all_sheet_specs

ARCHIVE_SHEETS = ("村情概况", "村级年度数据", "领办合作社", "换届", "两委班子", "第一书记", "人才库", "村干部报酬",
                  "党群服务中心", "软弱涣散整顿", "承诺事项", "会议记录", "会议出席")


def test_every_archive_entity_has_a_sheet_in_the_template(tmp_path: Path) -> None:
    out = tmp_path / "模板.xlsx"
    write_template(all_sheet_specs(), out)
    names = load_workbook(out, read_only=True).sheetnames
    for title in ARCHIVE_SHEETS:
        assert title in names


def _archive_specs() -> list:
    return [s for s in all_sheet_specs() if s.key.startswith("archive_")]


def test_exported_archive_sheets_import_back_unchanged(demo_db: Database, tmp_path: Path) -> None:
    # GIVEN the demo township's archive sheets exported (full IDs, as the sync package carries them)
    out = tmp_path / "档案.xlsx"
    export_sheets(demo_db, _archive_specs(), out, CLI_ACTOR, reason="测试往返")
    # WHEN the same workbook is imported into the same database (dry run)
    report = run_import(demo_db, out, all_sheet_specs(), dry_run=True, actor=CLI_ACTOR)
    # THEN nothing is new or changed and there is no error
    assert report.errors == [], [e.message for e in report.errors[:5]]
    for title in ARCHIVE_SHEETS:
        counts = report.sheets[title]
        assert counts.created == counts.updated == 0 and counts.unchanged > 0, (title, counts)


def test_a_broken_income_in_an_imported_sheet_rejects_the_file(demo_db: Database, tmp_path: Path) -> None:
    out = tmp_path / "档案.xlsx"
    export_sheets(demo_db, [s for s in _archive_specs() if s.key == "archive_year"], out, CLI_ACTOR, reason="测试")
    book = load_workbook(out)
    ws = book["村级年度数据"]
    headers = [c.value for c in ws[1]]
    column = headers.index("总收入") + 1
    ws.cell(row=2, column=column).value = float(ws.cell(row=2, column=column).value) + 1
    book.save(out)
    before = ArchiveService(demo_db).violations()
    report = run_import(demo_db, out, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.status == "rejected"
    error = next(e for e in report.errors if e.code == "rule")
    assert error.row == 2 and error.column == "总收入" and "应等于" in error.message
    assert ArchiveService(demo_db).violations() == before
