"""Sync packages, templates, and what leaves the program (formula safety, masking, atomic writes).

GIVEN a small registry built through RegistryService
WHEN it is exported as a package and imported into an empty township database
THEN exporting again gives the same SHA-256 for every sheet, IDs are text
cells, a second import changes nothing, and an edited package is refused.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import python_calamine as pc
from openpyxl import load_workbook
from sqlalchemy import select

import townapp
from townapp.core.actor import CLI_ACTOR
from townapp.core.atomic import atomic_output
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.db.migrate import head_revision
from townapp.exchange.models import ExportRecord, ImportBatch
from townapp.exchange.package import MANIFEST_SHEET, PERSONAL_INFO, read_manifest, write_package
from townapp.exchange.pipeline import run_import
from townapp.exchange.reader import Workbook
from townapp.exchange.template import write_template
from townapp.exchange.writer import export_sheets
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import build_registry, dump_business, initialised

REGISTRY = ("村社区", "党组织", "住户", "人员", "党员")  # other modules add their sheets after these


@pytest.fixture
def built(registry: RegistryService) -> dict:
    return build_registry(registry)


@pytest.fixture
def other_db(another_db: Callable[[], Database]) -> Database:
    return initialised(another_db())


def manifest_of(path: Path) -> dict[str, tuple[int, str]]:
    with Workbook(path) as book:
        manifest = read_manifest(book)
    assert manifest is not None
    return manifest.sheets


def test_round_trip_keeps_every_sheet_hash(db: Database, built: dict, other_db: Database, tmp_path: Path) -> None:
    specs = all_sheet_specs()
    first = write_package(db, specs, tmp_path / "first.xlsx", actor=CLI_ACTOR)
    assert {k: first.rows[k] for k in REGISTRY} == {"村社区": 2, "党组织": 3, "住户": 3, "人员": 6, "党员": 3}

    report = run_import(other_db, first.path, specs, actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    assert report.is_package
    assert {name: c.created for name, c in report.sheets.items()} == first.rows

    second = write_package(other_db, specs, tmp_path / "second.xlsx", actor=CLI_ACTOR)
    assert second.sha256 == first.sha256
    assert manifest_of(second.path) == manifest_of(first.path)

    again = run_import(other_db, first.path, specs, actor=CLI_ACTOR)
    assert again.accepted
    assert all(c.created == 0 and c.updated == 0 for c in again.sheets.values()), again.summary_text()


def test_id_and_phone_cells_are_text(db: Database, built: dict, tmp_path: Path) -> None:
    path = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR).path
    book = pc.CalamineWorkbook.from_path(str(path))
    for sheet in ("人员", "党员"):
        rows = list(book.get_sheet_by_name(sheet).iter_rows())
        ids = [row[rows[0].index("身份证号")] for row in rows[1:]]
        assert ids and all(isinstance(v, str) and len(v) == 18 for v in ids)
    rows = list(book.get_sheet_by_name("人员").iter_rows())
    phones = [row[rows[0].index("联系电话")] for row in rows[1:] if row[rows[0].index("联系电话")] != ""]
    assert phones == ["13812345678"]
    codes = [row[0] for row in list(book.get_sheet_by_name("村社区").iter_rows())[1:]]
    assert all(isinstance(c, str) for c in codes)


def test_manifest_says_what_the_package_is(db: Database, built: dict, tmp_path: Path) -> None:
    path = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR).path
    book = load_workbook(path)
    assert book.sheetnames[0] == MANIFEST_SHEET
    text = "\n".join(str(c.value) for row in book[MANIFEST_SHEET].iter_rows() for c in row if c.value)
    for fact in ("临晋镇", "140821100", "导出时间", "程序版本", "数据库结构版本", head_revision(), PERSONAL_INFO,
                 "含个人信息", townapp.__version__):
        assert fact in text
    with db.engine.connect() as conn:
        record = conn.execute(select(ExportRecord)).one()
        audit = conn.execute(select(AuditEntry).where(AuditEntry.action == "read")).one()
    assert record.kind == "package" and record.full_ids and record.rows == 17
    assert audit.entity == "package" and audit.reason


def test_formula_like_values_are_written_as_text(db: Database, built: dict, tmp_path: Path) -> None:
    path = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR).path
    book = load_workbook(path)
    cells = [c for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    risky = [c for c in cells if c.value.startswith(("=", "+"))]
    assert {c.value for c in risky} == {'=HYPERLINK("x")', "+86备注"}
    assert all(c.data_type == "s" for c in risky)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name)


@pytest.mark.parametrize("tamper", ["edit-cell", "drop-row", "drop-sheet", "edit-manifest"])
def test_modified_package_is_refused(db: Database, built: dict, other_db: Database, tmp_path: Path,
                                     tamper: str) -> None:
    path = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR).path
    book = load_workbook(path)
    if tamper == "edit-cell":
        book["人员"]["B2"] = "改过的名字"
    elif tamper == "drop-row":
        book["人员"].delete_rows(book["人员"].max_row)
    elif tamper == "drop-sheet":
        book.remove(book["党员"])
    else:
        ws = book[MANIFEST_SHEET]
        for row in ws.iter_rows():
            if row[0].value == "人员":
                row[1].value = "5"
    book.save(path)
    before = dump_business(other_db)
    report = run_import(other_db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert [e.code for e in report.errors] == ["package_tampered"]
    assert "改动" in report.errors[0].message or "不完整" in report.errors[0].message
    assert dump_business(other_db) == before


def test_package_of_another_township_is_refused(db: Database, built: dict, another_db: Callable[[], Database],
                                                tmp_path: Path) -> None:
    path = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR).path
    other = initialised(another_db(), name="猗氏镇", code="140821101")
    report = run_import(other, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert [e.code for e in report.errors] == ["wrong_township"]


def test_import_is_logged_and_changes_point_to_their_batch(db: Database, built: dict, other_db: Database,
                                                          tmp_path: Path) -> None:
    path = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR).path
    report = run_import(other_db, path, all_sheet_specs(), actor=CLI_ACTOR)
    with other_db.engine.connect() as conn:
        batch = conn.execute(select(ImportBatch)).one()
        changes = conn.execute(select(AuditEntry.entity, AuditEntry.action).where(
            AuditEntry.batch_id == batch.id,
            AuditEntry.entity.in_(("village", "party_branch", "household", "person", "party_member")))).all()
        audits = conn.execute(select(AuditEntry.entity, AuditEntry.entity_id).where(AuditEntry.action == "import")).all()
    assert batch.id == report.batch_id and batch.status == "accepted" and batch.username == CLI_ACTOR.username
    assert batch.file_sha256 == report.file_sha256 and batch.file_name == "p.xlsx" and batch.created == 17
    assert len(changes) == 17 and {a for _, a in changes} == {"create"}
    assert {"village", "branch", "household", "person", "party_member"} <= {e for e, _ in audits}
    if other_db.server:  # a server's backups are its administrator's (pg_dump), never a file copy
        assert report.backup_path is None
    else:
        assert report.backup_path is not None and report.backup_path.exists()


def test_template(tmp_path: Path, db: Database, villages: tuple[int, int]) -> None:
    path = write_template(all_sheet_specs(), tmp_path / "t.xlsx")
    book = load_workbook(path)
    assert book.sheetnames[:6] == ["填写说明", *REGISTRY]
    ws = book["人员"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].value == "身份证号" and str(ws["A2"].value).startswith("示例")
    assert ws["A2"].number_format == "@" and ws["A500"].number_format == "@"
    phone = [c.column_letter for c in ws[1] if c.value == "联系电话"][0]
    assert ws[f"{phone}2"].number_format == "@"
    lists = {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1 for dv in ws.data_validations.dataValidation}
    sex = [c.column_letter for c in ws[1] if c.value == "性别"][0]
    assert lists[sex] == '"男,女"'
    # 党员类别, 党籍状态, 流动情况, 积分管理类别, and the person's 性别, 民族, 文化程度, 与户主关系 a roster may carry
    assert len(book["党员"].data_validations.dataValidation) == 8
    # the untouched template imports as nothing; a filled row imports
    before = dump_business(db)
    assert run_import(db, path, all_sheet_specs()).accepted and dump_business(db) == before
    ws.append(["140821198003150022"[:17] + "X", "张三"])
    book.save(path)
    report = run_import(db, path, all_sheet_specs(), dry_run=True)
    assert {e.code for e in report.errors} <= {"id_checksum"}


def test_other_exports_mask_ids_unless_a_reason_is_given(db: Database, built: dict, tmp_path: Path) -> None:
    specs = all_sheet_specs()
    export_sheets(db, specs, tmp_path / "masked.xlsx", CLI_ACTOR)
    ids = [r[0] for r in list(pc.CalamineWorkbook.from_path(str(tmp_path / "masked.xlsx"))
                              .get_sheet_by_name("人员").iter_rows())[1:]]
    assert ids and all("*" in i for i in ids)
    export_sheets(db, specs, tmp_path / "full.xlsx", CLI_ACTOR, reason="县委组织部核对党员信息")
    ids = [r[0] for r in list(pc.CalamineWorkbook.from_path(str(tmp_path / "full.xlsx"))
                              .get_sheet_by_name("人员").iter_rows())[1:]]
    assert ids and all("*" not in i and len(i) == 18 for i in ids)
    with db.engine.connect() as conn:
        reads = conn.execute(select(AuditEntry.reason).where(AuditEntry.action == "read")).scalars().all()
        records = conn.execute(select(ExportRecord.full_ids, ExportRecord.reason)).all()
    assert reads == ["县委组织部核对党员信息"]
    assert sorted(records, key=str) == sorted([(False, None), (True, "县委组织部核对党员信息")], key=str)


def test_atomic_output_never_leaves_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old")

    def refuse(_path: Path) -> None:
        raise RuntimeError("核对失败")

    with pytest.raises(RuntimeError), atomic_output(target, verify=refuse) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]
    with atomic_output(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"


def test_a_sheet_longer_than_a_worksheet_continues_and_imports_as_one(db: Database, built: dict, other_db: Database,
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN worksheets that hold only a header and two rows (a county's 会议出席 has millions of rows; .xlsx ends
    # at 1,048,576)
    from townapp.exchange import spec as sheet_spec

    monkeypatch.setattr(sheet_spec, "MAX_SHEET_ROWS", 3)
    specs = all_sheet_specs()
    # WHEN the package is written
    first = write_package(db, specs, tmp_path / "parts.xlsx", actor=CLI_ACTOR)
    # THEN the six people fill 人员, 人员（续1） and 人员（续2）, each listed with its own rows and hash
    assert [first.rows[name] for name in ("人员", "人员（续1）", "人员（续2）")] == [2, 2, 2]
    with Workbook(first.path) as book:
        names = [info.name for info in book.sheets]
    assert names.index("人员") + 1 == names.index("人员（续1）") == names.index("人员（续2）") - 1
    # AND importing it creates each person once, reported under the sheet's own name
    report = run_import(other_db, first.path, specs, actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    assert report.sheets["人员"].created == 6 and "人员（续1）" not in report.sheets
    # AND the other database exports the very same package again
    assert write_package(other_db, specs, tmp_path / "again.xlsx", actor=CLI_ACTOR).sha256 == first.sha256


@pytest.mark.parametrize(("name", "expected"), [
    ("会议出席", ("会议出席", 0)), ("会议出席（续1）", ("会议出席", 1)), ("会议出席（续12）", ("会议出席", 12)),
    ("会议出席（续0）", ("会议出席（续0）", 0)), ("会议出席（续）", ("会议出席（续）", 0)), ("（续1）", ("（续1）", 0)),
])
def test_continuation_sheet_names(name: str, expected: tuple[str, int]) -> None:
    from townapp.exchange.spec import part_of, part_title

    assert part_of(name) == expected
    if expected[1]:
        assert part_title(*expected) == name


def test_a_package_larger_than_the_import_limits_is_still_written_and_checked(db: Database, built: dict,
                                                                              tmp_path: Path) -> None:
    # GIVEN import limits smaller than the package (a county's whole database makes a ~200 MB package; the
    # limits protect imports from untrusted files, not the check of a file just written)
    from townapp.exchange.reader import ImportLimits

    tiny = ImportLimits(max_file_bytes=1024, max_uncompressed_bytes=4096)
    # WHEN the package is written with those limits
    result = write_package(db, all_sheet_specs(), tmp_path / "big.xlsx", actor=CLI_ACTOR, limits=tiny)
    # THEN it was read back and checked all the same, and is there under its name
    assert result.path.is_file() and result.path.stat().st_size > 1024
    assert manifest_of(result.path)["人员"] == (result.rows["人员"], result.sha256["人员"])
