"""Control characters never reach a table through any service, and text stored before that rule
cannot make an export fail (issue 16 hole 13); no text longer than its column's String(n) reaches a
table either (issue 17: SQLite does not enforce a VARCHAR's length)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import String, text

from tests.figures import record
from townapp.archives.dto import CommitmentData
from townapp.archives.service import ArchiveService
from townapp.core.errors import ValidationFailed
from townapp.core.text import UnsafeText, length_problem
from townapp.db import Database
from townapp.db.audit import AuditedSession
from townapp.db.base import Base
from townapp.db.text_guard import field_label, refuse_control_characters, refuse_long_values
from townapp.exchange.writer import export_sheets
from townapp.registry.dto import VillageInput
from townapp.registry.models import Village
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


# ----- the length of a value: one rule for every column (issue 17) -----------------------------------------
def _string_columns() -> list[tuple[type, str, int]]:
    """Every mapped model's String(n) column, as (model, attribute, n)."""
    found = []
    for mapper in sorted(Base.registry.mappers, key=lambda x: x.class_.__name__):
        for attr in mapper.column_attrs:
            length = getattr(attr.columns[0].type, "length", None)
            if isinstance(attr.columns[0].type, String) and isinstance(length, int):
                found.append((mapper.class_, attr.key, length))
    return found


def test_the_flush_guard_refuses_one_character_too_many_in_every_string_column(db: Database) -> None:
    """GIVEN every String(n) column of every model (SQLite itself stores any length)
    WHEN an object holding n+1 characters there is flushed, whatever else it holds
    THEN the flush is refused with the importer's wording, naming the field as the audit viewer does,
    and n characters pass the guard."""
    columns = _string_columns()
    assert len(columns) > 100
    refused = 0
    with db.engine.connect() as conn:
        for model, key, limit in columns:
            with AuditedSession(bind=conn) as session:
                session.add(model(**{key: "长" * (limit + 1)}))
                with pytest.raises(ValidationFailed) as caught:
                    session.flush()
                assert caught.value.message == length_problem("长" * (limit + 1), limit, field_label(key))
                assert caught.value.problems[0].field == key
                session.rollback()
                refused += 1
            with AuditedSession(bind=conn) as session:
                obj = model(**{key: "长" * limit})
                refuse_control_characters(session, None, None)  # the guard alone: other columns are empty
                session.add(obj)
                refuse_control_characters(session, None, None)
    record("超长文字：刷新守卫检查的列数", refused)


def test_an_edit_that_makes_a_stored_value_too_long_is_refused(db: Database, village: int) -> None:
    """GIVEN a stored village WHEN its name is changed to 65 characters outside any service rule
    THEN the flush guard refuses it with 名称's length message and the stored name is kept."""
    with pytest.raises(ValidationFailed) as caught, db.unit_of_work() as s:
        s.get(Village, village).name = "村" * 65
    assert caught.value.message == length_problem("村" * 65, 64, field_label("name"))
    assert "最多64个字，现在有65个" in caught.value.message
    with db.reader() as s:
        assert s.get(Village, village).name == "西关村"


def test_a_field_without_a_chinese_name_is_called_the_input() -> None:
    # GIVEN a column the audit labels do not name WHEN it is too long THEN the message says 输入的内容
    assert field_label("no_such_column") == "输入的内容"
    assert length_problem("x" * 3, 2, field_label("no_such_column")) == "输入的内容最多2个字，现在有3个，请精简"


def test_core_rows_meet_the_same_length_rule(db: Database) -> None:
    """GIVEN rows for an executemany write (by position or by name), one with a 401-character 备注
    WHEN they are checked for the Core batch door THEN the flush guard's message is given; fitting rows pass."""
    table = Base.metadata.tables["person"]
    fitting = [("张三", "备" * 400), ("李四", None)]
    refuse_long_values(table, ["name", "note"], fitting)
    refuse_long_values(table, ["name", "note"], [{"name": n, "note": t} for n, t in fitting])
    for rows in ([("张三", "备" * 401)], [{"name": "张三", "note": "备" * 401}]):
        with pytest.raises(ValidationFailed) as caught:
            refuse_long_values(table, ["name", "note"], rows)
        assert caught.value.message == "备注最多400个字，现在有401个，请精简"
