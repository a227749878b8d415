"""The audit log viewer: filters by user, entity, village, date and action; masked unless a reason is given."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from townapp.accounts.audit import AuditService
from townapp.accounts.dto import AuditFilter
from townapp.core.actor import ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import PermissionDenied, ValidationFailed
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService

ADMIN = Actor("zhang", ROLE_ADMIN)
HEAD_ID = make_id_number("140821", dt.date(1975, 5, 5), 111)


@pytest.fixture
def history(db: Database) -> dict[str, int]:
    """Two villages; a clerk registers a household in one, a cadre a person in the other."""
    admin = RegistryService(db, ADMIN)
    west = admin.save_village(VillageInput(code="140821100201", name="西关村"))
    east = admin.save_village(VillageInput(code="140821100202", name="东关村"))
    clerk = RegistryService(db, Actor("wangwen", ROLE_VILLAGE, west))
    clerk.save_household(HouseholdInput(west, "001", [MemberInput(PersonInput(HEAD_ID, "李户主",
                                                                                phone="13912345678"), "户主")]))
    cadre = RegistryService(db, Actor("li", ROLE_TOWNSHIP))
    cadre.save_person(PersonInput(make_id_number("140821", dt.date(1990, 1, 1), 123), "赵东", village_id=east))
    return {"west": west, "east": east}


def test_filters_by_user_entity_village_and_action(db: Database, history: dict[str, int]) -> None:
    audit = AuditService(db, ADMIN)
    # WHEN filtering by the clerk THEN only the clerk's changes, all in 西关村
    mine = audit.rows(audit.ids(AuditFilter(username="wangwen")))
    assert mine and {r.username for r in mine.values()} == {"wangwen"}
    assert {r.village_name for r in mine.values()} == {"西关村"}
    assert {r.entity for r in mine.values()} >= {"住户", "人员", "住户成员"}
    # WHEN filtering by village THEN the household member row (no village column) is found through its household
    east = audit.rows(audit.ids(AuditFilter(village_id=history["east"])))
    assert {r.username for r in east.values()} == {"zhang", "li"}
    assert {r.entity for r in east.values()} == {"村/社区", "人员"}
    # WHEN filtering by entity and action
    created_people = audit.rows(audit.ids(AuditFilter(entity="person", action="create")))
    assert len(created_people) == 2 and {r.action for r in created_people.values()} == {"新增"}
    # WHEN filtering by date THEN today's entries are in, yesterday's range is empty
    today = dt.date.today()
    assert len(audit.ids(AuditFilter(date_from=today, date_to=today))) == len(audit.ids(AuditFilter()))
    assert audit.ids(AuditFilter(date_to=today - dt.timedelta(days=1))) == []
    assert ("wangwen" in audit.usernames()) and ("person", "人员") in audit.entities()


def test_values_are_masked_and_full_views_need_a_reason_and_are_logged(db: Database, history: dict[str, int]) -> None:
    audit = AuditService(db, ADMIN)
    [entry_id] = audit.ids(AuditFilter(username="wangwen", entity="person", action="create"))
    # GIVEN the person's create entry: its value holds the ID and phone numbers
    row = audit.rows([entry_id])[entry_id]
    assert HEAD_ID not in row.new and HEAD_ID[:3] + "*" in row.new
    assert "13912345678" not in row.new and "139****5678" in row.new
    # WHEN the full entry is asked for without a reason THEN refused
    with pytest.raises(ValidationFailed, match="必须填写原因"):
        audit.full_row(entry_id, "  ")
    # WHEN with a reason THEN shown in full, and the view itself is in the log as a read with that reason
    assert HEAD_ID in audit.full_row(entry_id, "核对户籍信息").new
    reads = audit.rows(audit.ids(AuditFilter(action="read")))
    assert [(r.username, r.reason, r.entity_id) for r in reads.values()] == [("zhang", "核对户籍信息", entry_id)]


def test_export_to_xlsx_masked_by_default_full_with_a_reason(db: Database, history: dict[str, int],
                                                             tmp_path: Path) -> None:
    audit = AuditService(db, ADMIN)
    masked = tmp_path / "审计日志.xlsx"
    count = audit.export_xlsx(AuditFilter(village_id=history["west"]), masked)
    sheet = load_workbook(masked).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("时间", "用户", "操作") and len(rows) == count + 1
    text = "".join(str(c) for r in rows for c in r if c is not None)
    assert HEAD_ID not in text and "13912345678" not in text
    assert audit.ids(AuditFilter(action="read")) == []  # a masked export needs no reason and logs no read
    full = tmp_path / "审计日志-完整.xlsx"
    with pytest.raises(ValidationFailed):
        audit.export_xlsx(AuditFilter(), full, reason="")
    audit.export_xlsx(AuditFilter(village_id=history["west"]), full, reason="县纪委调取")
    text = "".join(str(c) for r in load_workbook(full).active.iter_rows(values_only=True) for c in r if c)
    assert HEAD_ID in text
    assert [r.reason for r in audit.rows(audit.ids(AuditFilter(action="read"))).values()] == ["县纪委调取"]


def test_only_the_administrator_reads_the_audit_log(db: Database, history: dict[str, int]) -> None:
    for actor in (Actor("li", ROLE_TOWNSHIP), Actor("wangwen", ROLE_VILLAGE, history["west"])):
        with pytest.raises(PermissionDenied):
            AuditService(db, actor).ids(AuditFilter())
