"""The registry's set-based door (RegistryService.batch_writer): the only writer of import rows, guarded."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from townapp.core.actor import ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import PermissionDenied
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.db.base import new_uuid
from townapp.registry import models as m
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService


def _household(door, village: int, number: str) -> dict:  # noqa: ANN001
    now = dt.datetime(2026, 12, 6)
    return dict(id=next(door.ids(m.Household)), village_id=village, number=number, uuid=new_uuid(),
                created_at=now, updated_at=now)


def test_a_clerks_batch_writes_only_their_village_and_readonly_writes_nothing(db: Database) -> None:
    """GIVEN 西关村 and 东关村
    WHEN 西关村's clerk hands the service a household of each village, and 只读 asks for the door at all
    THEN only 西关村's household is written (东关村's is returned as refused, and not audited),
    and 只读 is refused before anything is written."""
    west = RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    east = RegistryService(db).save_village(VillageInput(code="140821100202", name="东关村"))
    clerk = RegistryService(db, Actor("wangwen", ROLE_VILLAGE, west))
    with db.engine.begin() as conn:
        door = clerk.batch_writer(conn, batch_id=7, reason="导入文件 测试.xlsx")
        first = _household(door, west, "001")
        second = dict(_household(door, east, "002"), id=first["id"] + 1)
        refused = door.add(m.Household, [first, second])
    assert refused == {1}
    with db.engine.connect() as conn:
        assert conn.execute(select(m.Household.number)).scalars().all() == ["001"]
        logged = conn.execute(select(AuditEntry.entity_id, AuditEntry.village_id, AuditEntry.batch_id,
                                     AuditEntry.username).where(AuditEntry.entity == "household")).all()
    assert logged == [(first["id"], west, 7, "wangwen")]
    with db.engine.begin() as conn, pytest.raises(PermissionDenied):
        RegistryService(db, Actor("guest", ROLE_READONLY)).batch_writer(conn)


def test_a_batch_update_logs_only_fields_whose_stored_value_changes(db: Database) -> None:
    """GIVEN a village named 西关村
    WHEN a batch update sets its name to 西关社区 and its kind to what it already is
    THEN one audit row: name, 西关村 → 西关社区."""
    west = RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    with db.engine.begin() as conn:
        door = RegistryService(db, Actor("li", ROLE_TOWNSHIP)).batch_writer(conn, batch_id=3)
        assert door.change(m.Village, [dict(id=west, name="西关社区", kind="村")]) == set()
    with db.engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.field, AuditEntry.old, AuditEntry.new, AuditEntry.batch_id)
                            .where(AuditEntry.entity == "village", AuditEntry.action == "update")).all()
    assert rows == [("name", "西关村", "西关社区", 3)]


def test_a_clerks_batch_cannot_point_a_record_at_another_villages_record(db: Database) -> None:
    """GIVEN 西关村's party member and 东关村's 党支部
    WHEN 西关村's clerk hands the door a change moving that member into 东关村's 党支部
    THEN it is refused and nothing changes (the import refuses the same row as not_permitted)."""
    registry = RegistryService(db)
    west = registry.save_village(VillageInput(code="140821100201", name="西关村"))
    east = registry.save_village(VillageInput(code="140821100202", name="东关村"))
    east_branch = registry.save_branch("东关村党支部", "党支部", village_id=east)
    from townapp.core.idcard import make_id_number
    from townapp.registry.dto import PartyInput, PersonInput

    person = registry.save_person(PersonInput(make_id_number("140821", dt.date(1970, 1, 1), 11), "张三",
                                              village_id=west, party=PartyInput()))
    with db.engine.connect() as conn:
        member = conn.execute(select(m.PartyMember.id).where(m.PartyMember.person_id == person)).scalar_one()
    clerk = RegistryService(db, Actor("wangwen", ROLE_VILLAGE, west))
    with db.engine.begin() as conn:
        refused = clerk.batch_writer(conn).change(m.PartyMember, [dict(id=member, branch_id=east_branch)])
    assert refused == {member}
    with db.engine.connect() as conn:
        assert conn.execute(select(m.PartyMember.branch_id).where(m.PartyMember.id == member)).scalar() is None
