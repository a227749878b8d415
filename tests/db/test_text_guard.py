"""Control characters never reach a table through any service, and text stored before that rule
cannot make an export fail (issue 16 hole 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.figures import record
from townapp.archives.dto import CommitmentData
from townapp.archives.service import ArchiveService
from townapp.core.text import UnsafeText
from townapp.db import Database
from townapp.exchange.writer import export_sheets
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

CONTROLS = ["\x01", "\x0b", "\x1f", "\x7f", "\x85"]


@pytest.fixture
def village(db: Database) -> int:
    return RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_a_service_without_its_own_text_rule_still_cannot_store_a_control_character(
        db: Database, village: int, char: str) -> None:
    # GIVEN the 一村一档 commitments form, whose service checks no text field for control characters itself
    archives = ArchiveService(db)
    # WHEN a commitment whose title holds a control character is saved
    with pytest.raises(UnsafeText) as caught:
        archives.save_commitments(village, 2026, [CommitmentData(2026, f"修路{char}三公里", owner="村委")])
    # THEN it is refused with a Chinese message naming the character, and nothing was stored
    assert f"U+{ord(char):04X}" in caught.value.message and "控制字符" in caught.value.message
    assert archives.commitments(village, 2026) == []
    record("服务层接受的控制字符", 0)


def test_free_text_keeps_its_punctuation_and_line_breaks(db: Database, village: int) -> None:
    # GIVEN free text with full-width punctuation, a tab and a line break WHEN saved THEN stored exactly
    title = "修路：三公里，\t硬化；\n路灯二十盏"
    ArchiveService(db).save_commitments(village, 2026, [CommitmentData(2026, title)])
    assert [c.title for c in ArchiveService(db).commitments(village, 2026)] == [title]


def test_text_stored_before_the_rule_does_not_break_the_export(db: Database, village: int, tmp_path: Path) -> None:
    # GIVEN a name stored with a control character by an older version (written past the services)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE village SET name = :n WHERE id = :v"), {"n": "西关\x01村", "v": village})
    # WHEN the registry sheets are exported THEN the workbook is written and reads the visible name
    out = tmp_path / "out.xlsx"
    export_sheets(db, [s for s in all_sheet_specs() if s.title == "村/社区"] or all_sheet_specs()[:1], out,
                  RegistryService(db).actor)
    values = [c for row in load_workbook(out).worksheets[0].iter_rows(values_only=True) for c in row]
    assert "西关村" in values
