"""Control and invisible characters are dealt with at the door, whichever door.

The story: a name pasted with U+0001 or U+000B (Word's manual line break) was
accepted; afterwards every export, the points detail workbook and the 公示 PDF
failed with openpyxl's English IllegalCharacterError. Control characters are
refused where they are typed or imported (one rule, core.text.clean_text);
invisible zero-width and direction characters are removed, so that an export
of what was accepted always works.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.exchange.conftest import write_ods, write_xlsx
from tests.figures import record
from townapp.core.actor import CLI_ACTOR
from townapp.core.errors import DomainError, ValidationFailed
from townapp.core.idcard import make_id_number
from townapp.core.text import UnsafeText, clean_name, clean_text
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.exchange.writer import export_sheets
from townapp.registry import models as m
from townapp.registry.dto import HouseholdInput, MemberInput, PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

CONTROLS = ["\x01", "\x0b", "\x0c", "\x1f", "\x7f", "\x85", "\x00"]
INVISIBLE = ["\u200b", "\u200e", "\u202e", "\u2060", "\ufeff", "\u00ad"]


def pid(seq: int) -> str:
    return make_id_number("140821", dt.date(1970, 3, 4), seq)


@pytest.fixture
def village(registry: RegistryService) -> int:
    return registry.save_village(VillageInput(code="140821100201", name="东张村"))


def test_the_rule_strips_invisible_and_refuses_controls_but_keeps_punctuation() -> None:
    """GIVEN text with invisible characters, control characters, tabs and Chinese punctuation
    WHEN it is cleaned THEN invisible ones go, controls are refused (saying where), the rest stays."""
    assert clean_text("注意：“甲”，乙\u200b。\n第二行\t完") == "注意：“甲”，乙。\n第二行\t完"
    for ch in INVISIBLE:
        assert clean_name(f"张{ch}三") == "张三"
    for ch in CONTROLS:
        with pytest.raises(UnsafeText) as exc:
            clean_name(f"张{ch}三")
        assert "第2个字符" in exc.value.message and f"U+{ord(ch):04X}" in exc.value.message


def _accepted_by_dialogs(registry: RegistryService, village: int) -> int:
    """How many control characters the registry's dialogs (their service calls) let through."""
    accepted = 0
    for index, ch in enumerate(CONTROLS):
        attempts = [
            lambda ch=ch, index=index: registry.save_person(PersonInput(pid(100 + 2 * index), f"张{ch}三",
                                                                        village_id=village)),
            lambda ch=ch, index=index: registry.save_person(PersonInput(pid(101 + 2 * index), "李四",
                                                                        village_id=village, note=f"备{ch}注")),
            lambda ch=ch, index=index: registry.save_person(PersonInput(
                pid(200 + 2 * index), "王五", village_id=village,
                party=PartyInput(mobility="流动", mobility_since=dt.date(2021, 7, 1), destination=f"太{ch}原"))),
            lambda ch=ch, index=index: registry.save_household(HouseholdInput(
                village, f"00{index}", address=f"一组{ch}1号",
                members=[MemberInput(PersonInput(pid(300 + 2 * index), "赵六"), "户主")])),
        ]
        for attempt in attempts:
            try:
                attempt()
            except (ValidationFailed, DomainError) as exc:
                assert "控制字符" in exc.message
            else:
                accepted += 1
    return accepted


def _accepted_by_import(db: Database, tmp_path: Path) -> int:
    accepted = 0
    header = ["身份证号", "姓名", "所属村", "备注"]
    for index, ch in enumerate(CONTROLS[:-1]):  # NUL cannot even be written into a workbook
        escaped = f"_x{ord(ch):04X}_"  # how Excel stores a control character in the XML
        for name, note in ((f"张{escaped}三", "备注"), ("李四", f"备{escaped}注")):
            path = write_xlsx(tmp_path / f"in{index}.xlsx", {"人员": [header, [pid(500 + 2 * index), name, "东张村", note]]})
            report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
            accepted += report.accepted
            if not report.accepted:
                assert {e.code for e in report.errors} == {"control_char"}, report.summary_text()
        path = write_ods(tmp_path / f"in{index}.ods", {"人员": [header, [pid(600 + 2 * index), f"王{ch}五", "东张村", None]]})
        report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
        accepted += report.accepted
    return accepted


def test_no_door_accepts_a_control_character(db: Database, registry: RegistryService, village: int,
                                              tmp_path: Path) -> None:
    """GIVEN control characters typed in a person's name, note, party 去向 and a household's address (dialogs),
    and in names and notes of imported .xlsx and .ods rosters
    WHEN they are saved or imported THEN every one is refused with a Chinese message, nothing is stored."""
    accepted = _accepted_by_dialogs(registry, village) + _accepted_by_import(db, tmp_path)
    record("接受的控制字符", accepted)
    assert accepted == 0
    with db.engine.connect() as conn:
        assert conn.execute(select(m.Person.id)).first() is None


def test_what_was_accepted_always_exports(db: Database, registry: RegistryService, village: int,
                                          tmp_path: Path) -> None:
    """GIVEN names and notes with zero-width and direction characters, from a dialog and from an import
    WHEN they are stored and the registry is exported THEN they were cleaned and the export works."""
    registry.save_person(PersonInput(pid(11), "张\u200b三\ufeff", village_id=village))
    path = write_xlsx(tmp_path / "in.xlsx", {"人员": [["身份证号", "姓名", "所属村", "备注"],
                                                     [pid(13), "李\u200e四", "东张村", "注意：\u2060“甲”，乙"]]})
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    with db.engine.connect() as conn:
        stored = dict(conn.execute(select(m.Person.name, m.Person.note)).all())
    assert stored == {"张三": None, "李四": "注意：“甲”，乙"}
    out = tmp_path / "out.xlsx"
    export_sheets(db, all_sheet_specs(), out, CLI_ACTOR)
    names = {row[1] for row in load_workbook(out)["人员"].iter_rows(min_row=2, values_only=True)}
    assert names == {"张三", "李四"}
