"""How the import reads single cells: empty and error cells never erase, far cells never exhaust memory.

The stories: a village sends back its roster with some phones left empty, or
with #N/A where a VLOOKUP failed — the stored phones must stay (3 were erased
and reported as 更新 3). A file with one stray value at XFD1048576 made
calamine ask for 512 GiB and killed the window.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import inspect, select, text

from tests.figures import record
from townapp.core.actor import CLI_ACTOR
from townapp.db import Database
from townapp.exchange import spec as s
from townapp.exchange.normalize import CellError, normalize_cell
from townapp.exchange.pipeline import run_import
from townapp.exchange.reader import scan_xls_sheet
from townapp.exchange.writer import export_value
from townapp.points.sheets import sheet_specs as point_sheet_specs
from townapp.registry import models as m
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import PEAK_MB_CODE, build_registry, pid, write_xlsx

PHONE_HEADER = ["身份证号", "姓名", "联系电话"]


@pytest.fixture
def built(registry: RegistryService) -> dict:
    return build_registry(registry)


def _phone(db: Database, number: str) -> str | None:
    with db.engine.connect() as conn:
        return conn.execute(select(m.Person.phone).where(m.Person.id_number == number)).scalar()


def test_blank_phone_keeps_the_stored_phone(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN 张大山 with the stored phone 13812345678
    WHEN a roster with his row and an empty 联系电话 cell is imported
    THEN the phone is unchanged and the row is counted 不变 (it was erased and counted 更新)."""
    number = built["people"]["head_a"]
    path = write_xlsx(tmp_path / "in.xlsx", {"人员": [PHONE_HEADER, [number, "张大山", None]]})
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    assert (report.sheets["人员"].updated, report.sheets["人员"].unchanged) == (0, 1)
    assert _phone(db, number) == "13812345678"


@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!"])
def test_error_value_is_an_error_at_its_cell(db: Database, built: dict, tmp_path: Path, error: str) -> None:
    """GIVEN the same roster where the phone cell holds an Excel error value (openpyxl saves it as an error cell)
    WHEN it is imported THEN the file is rejected at that cell, named, and the phone is unchanged."""
    number = built["people"]["head_a"]
    path = write_xlsx(tmp_path / "in.xlsx", {"人员": [PHONE_HEADER, [number, "张大山", error]]})
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert not report.accepted
    [issue] = report.errors
    assert (issue.sheet, issue.row, issue.column, issue.code) == ("人员", 2, "联系电话", "error_value")
    assert "C2" in issue.message and error in issue.message and "请改成正确的值或清空" in issue.message
    assert _phone(db, number) == "13812345678"


def test_party_mobility_date_typed_as_a_number(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN 流动日期 typed as the number 2021.7 (stored as 1905-07-13 before)
    WHEN the party roster is imported THEN July 2021 is stored (the column allows month precision)."""
    number = built["people"]["head_a"]
    sheets = {"党员": [["身份证号", "姓名", "流动情况", "流动日期"], [number, "张大山", "流动", 2021.7]]}
    report = run_import(db, write_xlsx(tmp_path / "in.xlsx", sheets), all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    with db.engine.connect() as conn:
        since = conn.execute(text("SELECT mobility_since FROM party_member pm JOIN person p ON p.id = pm.person_id "
                                  "WHERE p.id_number = :n"), {"n": number}).scalar()
    assert str(since) == "2021-07-01"


# ----- every module's sheets: blank and error cells over stored values ------------------------
def _specs() -> list[s.SheetSpec]:
    return [*all_sheet_specs(), *point_sheet_specs(CLI_ACTOR)]


def _filled_counts(db: Database) -> dict[tuple[str, str], int]:
    """For every column of every business table, how many rows hold a value (counted in SQL: cheap)."""
    counts: dict[tuple[str, str], int] = {}
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            if table in ("audit_log", "import_batch", "import_change", "alembic_version") or table.startswith("sqlite"):
                continue
            columns = [c["name"] for c in inspect(conn).get_columns(table) if c["name"] != "updated_at"]
            # an empty text counts as no value; the comparison with '' is made on the value as text (either backend)
            sums = ", ".join(f"""SUM(CASE WHEN "{c}" IS NOT NULL AND CAST("{c}" AS TEXT) != '' THEN 1 ELSE 0 END)"""
                             for c in columns)
            for column, value in zip(columns, conn.execute(text(f'SELECT {sums} FROM "{table}"')).one(), strict=True):
                counts[(table, column)] = value or 0
    return counts


def _erased(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]) -> int:
    """Stored values that are gone: fewer filled cells in a column than before (nothing is added here)."""
    return sum(max(0, count - after.get(key, 0)) for key, count in before.items())


def _blankable(spec: s.SheetSpec) -> list[s.ColumnSpec]:
    """Value columns: not those that tell which record a row is (an empty one there names another record)."""
    adapter: Any = spec.adapter
    identifying = set(spec.key_columns) | {k for group in spec.required_any for k in group}
    identifying |= set(getattr(adapter, "key_fields", ()))
    keys = set(getattr(adapter, "keys", ()))
    identifying |= {c.key for c in getattr(adapter, "cols", ()) if c.attr in keys}
    return [c for c in spec.columns if not c.required and c.key not in identifying]


def _records(db: Database, spec: s.SheetSpec, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` records (the newest: older months may be approved and locked)."""
    with db.engine.connect() as conn:
        return list(collections.deque(spec.adapter.export_rows(conn, None), maxlen=limit))


def _sheet(spec: s.SheetSpec, records: list[dict[str, Any]], hole: dict[int, set[str]], filler: Any) -> list[list[Any]]:
    rows: list[list[Any]] = [[c.header for c in spec.columns]]
    for index, record_ in enumerate(records):
        rows.append([filler if c.key in hole.get(index, ()) else export_value(c, record_.get(c.key), True)
                     for c in spec.columns])
    return rows


def _cases(db: Database) -> Iterator[tuple[s.SheetSpec, list[dict[str, Any]], list[s.ColumnSpec]]]:
    for spec in _specs():
        columns = [c for c in _blankable(spec) if c.kind != s.LIST]
        records = _records(db, spec, max(len(columns), 1))
        if records and columns:
            yield spec, records, columns


def test_blank_and_error_cells_never_erase_stored_values(open_demo: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a demo township with data in every module
    WHEN each module's sheet is imported with its stored records where one value cell per row is blank
    (every column that holds a value in turn), and again with an Excel error value in those cells
    THEN blanks change nothing (every row 不变) and error values reject the file — no stored value erased."""
    db = open_demo("township", 1)
    # the 80 MB demo's pre-import backup is most of each of these small imports' time; not what is tested here
    monkeypatch.setattr("townapp.exchange.pipeline.backup_database", lambda *args, **kwargs: None)
    sheets = tried = 0
    before = _filled_counts(db)  # once for the whole run: nothing may be added or changed, so any drop is an erasure
    for spec, records, columns in _cases(db):
        # row i blanks column i (cycling): every column of the sheet is blank in some row
        hole = {i: {columns[i % len(columns)].key} for i in range(len(records))}
        for filler in (None, "#N/A"):
            path = write_xlsx(tmp_path / f"{spec.key}.xlsx", {spec.title: _sheet(spec, records, hole, filler)})
            report = run_import(db, path, _specs(), actor=CLI_ACTOR)
            tried += sum(len(v) for v in hole.values())
            if filler is None:
                assert report.accepted, report.summary_text()
                counts = report.sheets[spec.title]
                assert counts.updated == 0 and counts.created == 0, (spec.title, report.summary_text())
            else:
                assert not report.accepted and {e.code for e in report.errors} == {"error_value"}, spec.title
        sheets += 1
    erased = _erased(before, _filled_counts(db))
    record("空白或错误单元格抹掉的已存值", erased)
    assert sheets >= 15, sheets
    assert tried > 100
    assert erased == 0


# ----- a value at XFD1048576 --------------------------------------------------------------------
def _far_cell(tmp: Path, ref: str, name: str = "far.xlsx") -> Path:
    """A tiny workbook: the 人员 header and one row, plus one value at ``ref``."""
    wb = Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["身份证号", "姓名"])
    ws.append([pid(1970, 11), "张三"])
    base = tmp / "base.xlsx"
    wb.save(base)
    row = "".join(ch for ch in ref if ch.isdigit())
    path = tmp / name
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is>'
                                                     f"</c></row></sheetData>".encode())
            target.writestr(info, data)
    return path


_DRY_RUN_IN_A_BOX = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))  # 1.5 GB: the 512 GiB request can't kill pytest
from townapp.db import open_database
from townapp.exchange.pipeline import run_import
from townapp.sheets import all_sheet_specs
report = run_import(open_database(sys.argv[1]), sys.argv[2], all_sheet_specs(), dry_run=True)
print(json.dumps({"codes": [e.code for e in report.errors], "messages": [e.message for e in report.errors],
                  "peak_mb": peak_mb()}, ensure_ascii=False))
"""


@pytest.mark.parametrize("ref", ["XFD1048576", "AZ1048576", "GS2"])
def test_a_far_cell_is_refused_before_it_is_parsed(db: Database, tmp_path: Path, ref: str) -> None:
    """GIVEN a 5 KB workbook with one value at XFD1048576 (calamine asked for 512 GiB and aborted),
    at AZ1048576 (1.8 GB on a dry run) or beyond 200 columns (GS2)
    WHEN it is dry-run in a subprocess with a 1.5 GB address-space limit
    THEN the process ends normally with `too_large` naming the sheet and the far cell, in little memory."""
    path = _far_cell(tmp_path, ref)
    db.dispose()
    result = subprocess.run([sys.executable, "-c", PEAK_MB_CODE + _DRY_RUN_IN_A_BOX, db.location, str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["codes"] == ["too_large"], outcome
    assert "人员" in outcome["messages"][0] and ref in outcome["messages"][0] and "删除多余的行列" in outcome["messages"][0]
    assert outcome["peak_mb"] < 800  # the program itself; AZ1048576 alone cost calamine 1.8 GB


def test_a_far_empty_formatted_cell_is_no_reason_to_refuse(db: Database, tmp_path: Path) -> None:
    """GIVEN formatting (no value) down to AZ1048576: calamine builds no grid for cells without a value
    WHEN it is dry-run THEN the sheet is read as usual."""
    path = _far_cell(tmp_path, "AZ1048576")
    with zipfile.ZipFile(path) as source:
        data = {i.filename: source.read(i.filename) for i in source.infolist()}
    sheet = data["xl/worksheets/sheet1.xml"]
    data["xl/worksheets/sheet1.xml"] = sheet.replace(b'<c r="AZ1048576" t="inlineStr"><is><t>x</t></is></c>',
                                                     b'<c r="AZ1048576" s="0"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in data.items():
            target.writestr(name, content)
    report = run_import(db, path, all_sheet_specs(), dry_run=True)
    assert "too_large" not in {e.code for e in report.errors}, report.summary_text()


def test_scanning_a_sheet_stays_cheap(tmp_path: Path) -> None:
    """GIVEN a 30,000-row roster with a calculated formula on every tenth row
    WHEN its XML is scanned for far cells, error values and formulas (before every import)
    THEN the scan finds the extent, no fault, and takes well under calamine's own time (~0.25 s per
    100,000 rows here, where calamine needs ~0.75 s)."""
    import time

    import xlsxwriter

    from townapp.exchange.reader import scan_xlsx_sheet

    path = tmp_path / "big.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("人员")
    for r in range(30_000):
        ws.write_row(r, 0, [pid(1970, r % 999), f"姓名{r}", "男", "1970-03-15", "汉族", "东张村", "13812345678"])
        if r % 10 == 0:
            ws.write_formula(r, 7, "=ROW()", None, r + 1)
    book.close()
    started = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        scan = scan_xlsx_sheet(archive, "xl/worksheets/sheet1.xml")
    elapsed = time.perf_counter() - started
    assert (scan.rows, scan.faults) == (30_000, None)
    assert elapsed < 0.6, elapsed


_BAD_TYPE_CELLS = [
    (s.NAME, True), (s.NAME, dt.date(2020, 1, 1)), (s.NAME, dt.datetime(2020, 1, 1, 8, 30)), (s.NAME, dt.time(8)),
    (s.TEXT, False), (s.TEXT, dt.date(2020, 1, 1)), (s.CODE, True), (s.CODE, dt.date(2014, 8, 21)),
    (s.ID_NUMBER, True), (s.ID_NUMBER, dt.date(1990, 8, 25)), (s.PHONE, False), (s.PHONE, dt.date(2020, 1, 1)),
    (s.LIST, True), (s.LIST, dt.date(2020, 1, 1)), (s.INT, True), (s.INT, dt.date(2020, 1, 1)),
    (s.DATE, True), (s.DATE, dt.time(8, 30)), (s.DATE, dt.timedelta(hours=1)),
    (s.ENUM, dt.date(2020, 1, 1)),
]


@pytest.mark.parametrize(("kind", "value"), _BAD_TYPE_CELLS, ids=lambda v: repr(v)[:24])
def test_a_cell_of_the_wrong_type_is_an_error_never_converted(kind: str, value: Any) -> None:
    """GIVEN a cell Excel turned into TRUE/FALSE or a date in a column that can never hold one
    WHEN it is normalised THEN it is a bad_type error naming the column and what was found
    (TRUE in 姓名 was stored as "是", a date as "2020-01-01")."""
    column = s.ColumnSpec("k", "某列", kind, choices=("汉族", "回族") if kind == s.ENUM else ())
    with pytest.raises(CellError) as caught:
        normalize_cell(column, value)
    assert caught.value.code == "bad_type"
    assert "“某列”列" in caught.value.message and ("逻辑值" in caught.value.message or "日期" in caught.value.message
                                                 or "时间" in caught.value.message)


def test_true_false_stay_allowed_where_the_column_takes_yes_or_no() -> None:
    """GIVEN an enum of 是/否 and a date column WHEN TRUE or a date cell arrives THEN they are what the column holds."""
    assert normalize_cell(s.ColumnSpec("k", "是否", s.ENUM, choices=("是", "否")), True) == "是"
    assert normalize_cell(s.ColumnSpec("k", "日期", s.DATE), dt.datetime(2020, 1, 1, 0, 0)) == dt.date(2020, 1, 1)


@pytest.mark.parametrize("cell", [True, dt.date(2020, 1, 1)], ids=["TRUE", "date"])
def test_true_or_a_date_in_name_keeps_the_stored_name(db: Database, built: dict, tmp_path: Path, cell: Any) -> None:
    """GIVEN 张大山's row whose 姓名 cell is TRUE or a date (the hostile run stored "是" / "2020-01-01", 更新 1, exit 0)
    WHEN the roster is imported THEN it is rejected at that cell with bad_type and the name is unchanged."""
    number = built["people"]["head_a"]
    path = write_xlsx(tmp_path / "in.xlsx", {"人员": [PHONE_HEADER, [number, cell, "13812345678"]]})
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert not report.accepted
    assert [(e.sheet, e.row, e.column, e.code) for e in report.errors] == [("人员", 2, "姓名", "bad_type")]
    with db.engine.connect() as conn:
        assert conn.execute(select(m.Person.name).where(m.Person.id_number == number)).scalar() == "张大山"


def test_direction_marks_around_an_id_and_phone_are_removed(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN 张大山's ID wrapped in U+202D…U+202C and a phone with U+200E (pasted from a web page)
    WHEN the roster is imported THEN the ID matches him (it was "应为18位，现在是20位") and the phone is stored clean."""
    number = built["people"]["head_a"]
    path = write_xlsx(tmp_path / "in.xlsx", {"人员": [PHONE_HEADER,
                                                       [f"\u202d{number}\u202c", "张大山", "\u200e13900001111\u200e"]]})
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    assert (report.sheets["人员"].created, report.sheets["人员"].updated) == (0, 1)
    assert _phone(db, number) == "13900001111"


def _biff(*records: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack("<HH", typ, len(body)) + body for typ, body in records)


def _formula(row: int, col: int, result: bytes) -> tuple[int, bytes]:
    return 0x0006, struct.pack("<HHH", row, col, 15) + result + b"\x00" * 6 + b"\x02\x00\x1c\x00"


def test_xls_formula_results_calamine_reads_as_blank_are_cell_faults() -> None:
    """GIVEN an .xls sheet's BIFF8 records: formulas whose saved result is #N/A, empty, "" (STRING with no
    characters) or 0, a formula with a real value, and an #DIV/0! error cell (python-calamine reads all but
    the real value as a blank, so an import took them for empty cells: "不变", nothing said)
    WHEN the sheet is scanned THEN each is a CellFault at its Excel address, like the .xlsx scan finds them."""
    sheet = _biff((0x0809, b"\x00\x06\x10\x00" + b"\x00" * 12),
                  _formula(1, 2, b"\x02\x00\x2a\x00\x00\x00\xff\xff"),  # =NA(): error result #N/A
                  _formula(1, 3, b"\x03\x00\x00\x00\x00\x00\xff\xff"),  # saved without a value (xlwt)
                  _formula(2, 1, b"\x00\x00\x00\x00\x00\x00\xff\xff"), (0x0207, b"\x00\x00\x00"),  # "" string
                  _formula(2, 2, struct.pack("<d", 0.0)),  # 0: never calculated?
                  _formula(3, 2, struct.pack("<d", 13800000001.0)),  # a calculated value: calamine has it
                  _formula(3, 1, b"\x00\x00\x00\x00\x00\x00\xff\xff"), (0x0207, b"\x02\x00\x00\xe0\x5f\x09\x4e"),
                  (0x0205, struct.pack("<HHHBB", 4, 0, 15, 0x07, 1)),  # error cell #DIV/0!
                  (0x0205, struct.pack("<HHHBB", 4, 1, 15, 1, 0)),  # TRUE: a value, not an error
                  (0x000A, b""), _formula(9, 9, b"\x02\x00\x2a\x00\x00\x00\xff\xff"))  # after EOF: another sheet
    scan = scan_xls_sheet(b"\x00" * 7 + sheet, 7)
    found = {(r, c): (f.kind, f.text, f.ref) for r, cols in (scan.faults or {}).items() for c, f in cols.items()}
    assert found == {(1, 2): ("error", "#N/A", "C2"), (1, 3): ("formula", "", "D2"), (2, 1): ("formula", "", "B3"),
                     (2, 2): ("formula_zero", "", "C3"), (4, 0): ("error", "#DIV/0!", "A5")}
    with pytest.raises(CellError) as caught:
        normalize_cell(s.ColumnSpec("phone", "联系电话", s.PHONE), scan.faults[1][3])
    assert caught.value.code == "formula" and "单元格 D2（联系电话）是公式，没有保存计算结果" in caught.value.message


def test_xls_na_formula_keeps_the_stored_phone(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN an .xls (xlwt) roster of 张大山 whose 联系电话 is =NA()
    WHEN it is imported THEN the file is rejected at C2 (it was "不变", the formula silently ignored)."""
    xlwt = pytest.importorskip("xlwt")
    number = built["people"]["head_a"]
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("人员")
    for c, label in enumerate(PHONE_HEADER):
        ws.write(0, c, label)
    ws.write(1, 0, number)
    ws.write(1, 1, "张大山")
    ws.write(1, 2, xlwt.Formula("NA()"))
    book.save(str(tmp_path / "in.xls"))
    report = run_import(db, tmp_path / "in.xls", all_sheet_specs(), actor=CLI_ACTOR)
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "联系电话", "formula")]
    assert "C2" in report.errors[0].message and _phone(db, number) == "13812345678"
