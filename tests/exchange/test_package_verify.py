"""What the sync package's export checks before it renames the file onto the USB stick.

Stories: a sheet of plain cells (any text, dates from March 1900, empty cells)
written by the package writer reads back through the importer's own reader
with exactly the count and SHA-256 it was hashed with — the property that lets
the export check such sheets by their bytes alone; any other cell (numbers,
times, old dates) or a blank row makes the export parse the sheet again; and a
file that is damaged or cut short between writing and renaming is refused,
leaving nothing under the final name.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import townapp.exchange.package as package
from townapp.core.actor import CLI_ACTOR
from townapp.core.errors import DomainError
from townapp.db import Database
from townapp.exchange.fastwriter import CellWriter
from townapp.exchange.package import SheetHasher, sheet_digest, write_package
from townapp.exchange.reader import Workbook
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import build_registry

plain_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
plain_cell = st.one_of(st.none(), plain_text,
                       st.sampled_from(["", " ", "\u3000", "=1+1", "-5", "@x", "_x0041_", "a\r\nb", "\t", "0012"]),
                       st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)))


def _write_and_read_back(rows: list[list[Any]], text_columns: tuple[bool, ...]) -> tuple[SheetHasher, tuple[int, str]]:
    """Write ``rows`` (after a header) with the package writer; hash them; read them back as the importer does."""
    header = [f"列{n}" for n in range(len(text_columns))]
    hasher = SheetHasher()
    hasher.add(header)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.xlsx"
        writer = CellWriter.open(path)
        sheet = writer.add_sheet("表", (10,) * len(text_columns), text_columns)
        sheet.append(header, header=True)
        for row in rows:
            hasher.add(row)
            sheet.append(row)
        writer.close()
        with Workbook(path) as book:
            read_back = sheet_digest(book.rows(book.sheets[0]))
    return hasher, read_back


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(plain_cell, min_size=4, max_size=4), min_size=1, max_size=12),
       text_columns=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()))
def test_plain_cells_read_back_exactly_as_hashed(rows: list[list[Any]], text_columns: tuple[bool, ...]) -> None:
    # GIVEN rows of text (any characters but lone surrogates), empty cells and dates from March 1900
    # WHEN the package writer writes them and the importer's reader reads them back
    hasher, read_back = _write_and_read_back(rows, text_columns)
    # THEN a sheet the hasher calls plain reads back with the count and SHA-256 it was hashed with
    if hasher.plain:
        assert read_back == hasher.result()
    else:  # only a blank row (every cell empty) makes such a sheet not plain
        assert any(all(v is None or v == "" for v in row) for row in rows)


@pytest.mark.parametrize("odd", [3, 1.5, Decimal("1.50"), True, dt.datetime(2024, 5, 6, 7, 8, 9),
                                 dt.date(1900, 2, 28), "长" * 20_000])
def test_other_cells_are_not_plain(odd: Any) -> None:
    # GIVEN a row with a number, a boolean, a time, a date before March 1900 or very long text
    hasher = SheetHasher()
    hasher.add(["甲", dt.date(2024, 1, 1), None])
    assert hasher.plain
    hasher.add(["乙", odd])
    # THEN the sheet is not plain: the export will parse it again
    assert not hasher.plain


def test_a_blank_row_is_not_plain() -> None:
    hasher = SheetHasher()
    hasher.add(["甲", "乙"])
    hasher.add([None, ""])
    assert not hasher.plain


def test_sheets_with_other_cells_are_parsed_again(db: Database, registry: RegistryService, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a small registry and a spy on the full read-back
    build_registry(registry)
    parsed: list[str] = []
    original = package.verify_package

    def spy(book: Workbook, manifest: package.Manifest, **kwargs: Any) -> Any:
        parsed.extend(manifest.sheets)
        return original(book, manifest, **kwargs)

    monkeypatch.setattr(package, "verify_package", spy)
    # WHEN the package is exported
    result = write_package(db, all_sheet_specs(), tmp_path / "p.xlsx", actor=CLI_ACTOR)
    # THEN exactly the sheets holding a cell other than text, dates or empty cells were parsed again
    with Workbook(result.path) as book:
        expected = []
        for info in book.sheets[1:]:
            hasher = SheetHasher()
            for row in book.rows(info):
                hasher.add(row)
            if not hasher.plain:
                expected.append(info.name)
    assert parsed == expected
    assert "人员" not in parsed and "村社区" not in parsed


def _damage(path: Path, member: str) -> None:
    """Flip one byte in the middle of a zip member's compressed data (a bad sector, a flaky stick)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    with open(path, "r+b") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(handle.read(2), "little") for _ in range(2))
        at = info.header_offset + 30 + name_length + extra_length + info.compress_size // 2
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("harm", ["damaged", "cut short"])
def test_a_damaged_file_is_refused_and_nothing_is_left(db: Database, registry: RegistryService, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, harm: str) -> None:
    # GIVEN a registry whose 人员 sheet is plain (checked by its bytes only)
    build_registry(registry)
    original = package._stream_package

    def stream_then_harm(db: Database, specs: Any, manifest: Any, target: Path, reporter: Any) -> set[str]:
        plain = original(db, specs, manifest, target, reporter)
        assert "人员" in plain
        if harm == "damaged":  # WHEN the file is damaged after writing, before the check
            with zipfile.ZipFile(target) as archive:
                names = archive.namelist()
            index = 1 + [spec.title for spec in specs].index("人员") + 1  # sheet1 is 说明
            _damage(target, next(n for n in names if n == f"xl/worksheets/sheet{index}.xml"))
        else:  # WHEN the stick is pulled: the file ends halfway
            os.truncate(target, target.stat().st_size // 2)
        return plain

    monkeypatch.setattr(package, "_stream_package", stream_then_harm)
    out = tmp_path / "U盘" / "数据包.xlsx"
    # THEN the export is refused with a message saying so, and neither the file nor a temporary file remains
    with pytest.raises(DomainError, match="核对失败"):
        write_package(db, all_sheet_specs(), out, actor=CLI_ACTOR)
    assert list(out.parent.iterdir()) == []
