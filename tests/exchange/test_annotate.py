"""The annotated copy (``townapp import FILE --report x.xlsx`` and the wizard's button).

The stories: five malformed files made the copy fail with exit 3 (and the
GUI button did nothing); a 16 MB file with a million formatted rows took 352 s
and 4 GB on the GUI thread. Now an unreadable file exits 1 with a Chinese
message, and a large file is rebuilt from its values row by row.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from townapp.core.errors import Cancelled
from townapp.db import Database
from townapp.exchange.annotate import AnnotateFailed, write_annotated
from townapp.exchange.commands import import_command
from townapp.exchange.pipeline import run_import
from townapp.sheets import all_sheet_specs

from .conftest import PEAK_MB_CODE, pid, write_xlsx
from .test_cells import _far_cell
from .test_corpus import _huge_formatted, _raw, _truncated

HEADER = ["身份证号", "姓名", "所属村"]
BAD_ROW = [pid(1970, 11)[:-1] + "0" if pid(1970, 11)[-1] != "0" else pid(1970, 11)[:-1] + "1", "张三", "东张村"]


def _args(db: Database, file: Path, report: Path) -> argparse.Namespace:
    return argparse.Namespace(db=db.location, file=str(file), dry_run=True, report=str(report))


def _broken_sheet_xml(tmp: Path) -> Path:
    path = write_xlsx(tmp / "good.xlsx", {"人员": [HEADER, BAD_ROW]})
    target = tmp / "in.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info.filename)
            out.writestr(info, b"<worksheet><sheetData><row" if info.filename.endswith("sheet1.xml") else data)
    return target


def _zip_of(name: str, members: dict[str, str]) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        with zipfile.ZipFile(path, "w") as archive:
            for member, content in members.items():
                archive.writestr(zipfile.ZipInfo(member), content)
        return path
    return build


_no_sheets = _zip_of("in.xlsx", {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
_ods_junk = _zip_of("in.ods", {"mimetype": "application/vnd.oasis.opendocument.spreadsheet",
                               "content.xml": "<office:document-content"})
_ole_junk = _raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)


MALFORMED: list[Callable[[Path], Path]] = [_broken_sheet_xml, _no_sheets, _ole_junk, _ods_junk, _truncated,
                                            lambda tmp: _far_cell(tmp, "XFD1048576", "in.xlsx")]


@pytest.mark.parametrize("build", MALFORMED, ids=["broken-sheet-xml", "no-sheets", "ole-junk", "ods-junk",
                                                  "truncated", "far-cell"])
def test_malformed_file_with_report_copy_exits_1(db: Database, tmp_path: Path, build: Callable[[Path], Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a malformed file WHEN `townapp import FILE --dry-run --report x.xlsx` runs
    THEN it exits 1 (not 3) and says in Chinese what is wrong."""
    out = tmp_path / "标注.xlsx"
    assert import_command(_args(db, build(tmp_path), out), sheet_specs=all_sheet_specs) == 1
    printed = capsys.readouterr().out
    assert any("\u4e00" <= ch <= "\u9fff" for ch in printed)
    assert "Traceback" not in printed


def test_unreadable_file_gives_annotate_failed(db: Database, tmp_path: Path) -> None:
    """GIVEN a report of a file that cannot be read WHEN the copy is asked for THEN AnnotateFailed says why."""
    source = _ole_junk(tmp_path)
    report = run_import(db, source, all_sheet_specs(), dry_run=True)
    with pytest.raises(AnnotateFailed) as exc:
        write_annotated(source, report, tmp_path / "out.xlsx")
    assert "无法生成标注副本" in exc.value.message
    assert not (tmp_path / "out.xlsx").exists()


_COPY_IN_A_BOX = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
from townapp.db import open_database
from townapp.exchange.annotate import write_annotated
from townapp.exchange.pipeline import run_import
from townapp.sheets import all_sheet_specs
report = run_import(open_database(sys.argv[1]), sys.argv[2], all_sheet_specs(), dry_run=True)
started = time.perf_counter()
write_annotated(sys.argv[2], report, sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": peak_mb()}))
"""


def test_copy_of_a_million_formatted_rows_is_bounded(db: Database, tmp_path: Path) -> None:
    """GIVEN a roster naming villages this database lacks, above a million formatted rows (352 s and 4 GB before)
    WHEN its annotated copy is written in a subprocess limited to 1.5 GB
    THEN it is done in seconds, in little memory, and still marks the wrong cells with their reason."""
    source = _huge_formatted(tmp_path)
    out = tmp_path / "标注.xlsx"
    db.dispose()
    result = subprocess.run([sys.executable, "-c", PEAK_MB_CODE + _COPY_IN_A_BOX, db.location, str(source), str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["seconds"] < 30 and measured["peak_mb"] < 600, measured
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["导入报告", "人员"]
    rows = list(book["人员"].iter_rows(max_row=3, values_only=True))
    assert rows[0][7] == "错误原因" and "东张村" in rows[1][7] and rows[1][1] == "张三"


def test_copy_can_be_cancelled(db: Database, tmp_path: Path) -> None:
    """GIVEN a large copy under way WHEN the user cancels THEN it stops and leaves no file."""
    source = _huge_formatted(tmp_path)
    report = run_import(db, source, all_sheet_specs(), dry_run=True)
    with pytest.raises(Cancelled):
        write_annotated(source, report, tmp_path / "out.xlsx", cancel=lambda: True)
    assert not (tmp_path / "out.xlsx").exists()
