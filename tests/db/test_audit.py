"""The audit log: every create, update and delete through a service leaves a trace.

Story: 张干部 (乡镇干部) edits the registry. Afterwards anyone can see who
changed which field of which record from what to what — and a save that
failed or changed nothing leaves no trace at all.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import NamedTuple

import pytest
from sqlalchemy import func, select

from townapp.core.actor import ROLE_TOWNSHIP, Actor
from townapp.core.errors import ValidationFailed
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.registry.dto import HouseholdInput, MemberInput, PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService

CADRE = Actor("张干部", ROLE_TOWNSHIP)
HEAD_ID = make_id_number("140821", dt.date(1968, 4, 2), 11)
WIFE_ID = make_id_number("140821", dt.date(1970, 9, 9), 22)
LONER_ID = make_id_number("140821", dt.date(1990, 1, 15), 33)


class Entry(NamedTuple):
    id: int
    username: str
    action: str
    entity: str
    entity_id: int | None
    field: str | None
    old: str | None
    new: str | None


def entries(db: Database, after: int = 0) -> list[Entry]:
    columns = [getattr(AuditEntry, name) for name in Entry._fields]
    with db.engine.connect() as conn:
        rows = conn.execute(select(*columns).where(AuditEntry.id > after).order_by(AuditEntry.id))
        return [Entry(*row) for row in rows]


def last_id(db: Database) -> int:
    with db.reader() as s:
        return s.scalar(select(func.max(AuditEntry.id))) or 0


def by(rows: list[Entry], action: str, entity: str) -> list[AuditEntry]:
    return [r for r in rows if r.action == action and r.entity == entity]


@pytest.fixture
def cadre(db: Database) -> RegistryService:
    return RegistryService(db, CADRE)


@pytest.fixture
def village_id(cadre: RegistryService) -> int:
    return cadre.save_village(VillageInput(code="140821100201", name="西关村", groups=["一组"]))


def test_village_create_update_delete(db: Database, cadre: RegistryService) -> None:
    # GIVEN 张干部 creates a village with one group
    start = last_id(db)
    vid = cadre.save_village(VillageInput(code="140821100201", name="西关村", groups=["一组"]))
    created = entries(db, start)
    # THEN the village and its group each have a create entry by 张干部 with all values
    assert {r.username for r in created} == {"张干部"}
    [village] = by(created, "create", "village")
    assert village.entity_id == vid and village.old is None
    snapshot = json.loads(village.new)
    assert snapshot["name"] == "西关村" and snapshot["code"] == "140821100201"
    assert by(created, "create", "village_group")[0].new and "一组" in by(created, "create", "village_group")[0].new

    # WHEN the village is renamed and gets a second group
    start = last_id(db)
    cadre.save_village(VillageInput(code="140821100201", name="西关社区", kind="社区", groups=["一组", "二组"], id=vid))
    updated = entries(db, start)
    # THEN one update entry per changed field, with old and new values
    changes = {r.field: (r.old, r.new) for r in by(updated, "update", "village")}
    assert changes["name"] == ("西关村", "西关社区")
    assert changes["kind"] == ("村", "社区")
    assert "code" not in changes  # unchanged fields are not logged
    assert "updated_at" not in changes
    assert len(by(updated, "create", "village_group")) == 1
    assert all(r.username == "张干部" and r.entity_id == vid for r in by(updated, "update", "village"))

    # WHEN it is deleted
    start = last_id(db)
    cadre.delete_village(vid)
    deleted = entries(db, start)
    # THEN the delete entry keeps the last values, and its groups went with it (logged too)
    [gone] = by(deleted, "delete", "village")
    assert gone.entity_id == vid and gone.new is None
    assert json.loads(gone.old)["name"] == "西关社区"
    assert len(by(deleted, "delete", "village_group")) == 2
    assert {r.username for r in deleted} == {"张干部"}


def test_household_with_members(db: Database, cadre: RegistryService, village_id: int) -> None:
    # GIVEN 张干部 enters a household of two
    start = last_id(db)
    hid = cadre.save_household(HouseholdInput(village_id=village_id, number="001", members=[
        MemberInput(PersonInput(HEAD_ID, "王大山"), "户主"),
        MemberInput(PersonInput(WIFE_ID, "李秀兰"), "配偶"),
    ]))
    created = entries(db, start)
    # THEN the household, both people and both membership links are logged as created by 张干部
    assert [r.entity_id for r in by(created, "create", "household")] == [hid]
    assert {json.loads(r.new)["name"] for r in by(created, "create", "person")} == {"王大山", "李秀兰"}
    assert {json.loads(r.new)["relation"] for r in by(created, "create", "household_member")} == {"户主", "配偶"}
    assert {r.username for r in created} == {"张干部"}

    # WHEN the address is added and the wife's name corrected
    dto = cadre.get_household(hid)
    data = dto.as_input()
    data.address = "西关村一组5号"
    data.members[1].person.name = "李秀莲"
    start = last_id(db)
    cadre.save_household(data)
    updated = entries(db, start)
    # THEN exactly these fields are logged with old and new values
    assert [(r.field, r.old, r.new) for r in by(updated, "update", "household")] == [("address", None, "西关村一组5号")]
    person_changes = {r.field: (r.old, r.new) for r in by(updated, "update", "person")}
    assert person_changes["name"] == ("李秀兰", "李秀莲")
    assert set(person_changes) <= {"name", "name_initials"}
    assert not by(updated, "create", "person") and not by(updated, "delete", "household_member")

    # WHEN the household is deleted (its people stay registered)
    start = last_id(db)
    cadre.delete_household(hid)
    deleted = entries(db, start)
    # THEN the household and its two links are logged as deleted, the people are not
    assert [r.entity_id for r in by(deleted, "delete", "household")] == [hid]
    assert len(by(deleted, "delete", "household_member")) == 2
    assert not by(deleted, "delete", "person")
    assert {r.username for r in deleted} == {"张干部"}


def test_person_with_party_membership(db: Database, cadre: RegistryService, village_id: int) -> None:
    # GIVEN a person entered as a party member
    start = last_id(db)
    pid = cadre.save_person(PersonInput(LONER_ID, "赵六", village_id=village_id, phone="13800138000",
                                        party=PartyInput(joined_on=dt.date(2015, 7, 1),
                                                         confirmed_on=dt.date(2016, 7, 1))))
    created = entries(db, start)
    [person] = by(created, "create", "person")
    assert person.entity_id == pid and person.username == "张干部"
    assert json.loads(person.new)["id_number"] == LONER_ID
    [member] = by(created, "create", "party_member")
    assert json.loads(member.new)["joined_on"] == "2015-07-01"

    # WHEN the phone changes and the party post is set
    data = cadre.get_person(pid).as_input()
    data.phone = "13900139000"
    assert data.party is not None
    data.party.party_post = "组织委员"
    start = last_id(db)
    cadre.save_person(data)
    updated = entries(db, start)
    # THEN old and new values are logged per field, on the right entity
    assert {(r.action, r.entity, r.entity_id, r.field, r.old, r.new) for r in updated} == {
        ("update", "person", pid, "phone", "13800138000", "13900139000"),
        ("update", "party_member", member.entity_id, "party_post", None, "组织委员"),
    }
    assert len(updated) == 2
    assert {r.username for r in updated} == {"张干部"}

    # WHEN the person is deleted
    start = last_id(db)
    cadre.delete_person(pid)
    deleted = entries(db, start)
    # THEN person and party membership are both logged as deleted, with their last values
    assert json.loads(by(deleted, "delete", "person")[0].old)["phone"] == "13900139000"
    assert json.loads(by(deleted, "delete", "party_member")[0].old)["party_post"] == "组织委员"
    assert {r.username for r in deleted} == {"张干部"}


def test_an_update_that_changes_nothing_writes_nothing(db: Database, cadre: RegistryService, village_id: int) -> None:
    # GIVEN a household, a party member and a village, each saved once
    hid = cadre.save_household(HouseholdInput(village_id=village_id, number="001", address="一组1号", members=[
        MemberInput(PersonInput(HEAD_ID, "王大山", phone="13800138000"), "户主"),
        MemberInput(PersonInput(WIFE_ID, "李秀兰"), "配偶"),
    ]))
    pid = cadre.save_person(PersonInput(LONER_ID, "赵六", village_id=village_id,
                                        party=PartyInput(joined_on=dt.date(2015, 7, 1),
                                                         confirmed_on=dt.date(2016, 7, 1))))
    start = last_id(db)
    # WHEN each is saved again exactly as loaded
    cadre.save_household(cadre.get_household(hid).as_input())
    cadre.save_person(cadre.get_person(pid).as_input())
    cadre.save_village(VillageInput(code="140821100201", name="西关村", groups=["一组"], id=village_id))
    # THEN the audit log is unchanged
    assert entries(db, start) == []


def test_a_failed_save_writes_no_audit_rows(db: Database, cadre: RegistryService, village_id: int) -> None:
    # GIVEN a household whose second member has a mistyped ID (first member is valid and gets flushed first)
    bad = WIFE_ID[:-1] + ("0" if WIFE_ID[-1] != "0" else "1")
    start = last_id(db)
    # WHEN it is saved THEN the save is refused …
    with pytest.raises(ValidationFailed) as caught:
        cadre.save_household(HouseholdInput(village_id=village_id, number="001", members=[
            MemberInput(PersonInput(HEAD_ID, "王大山"), "户主"),
            MemberInput(PersonInput(bad, "李秀兰"), "配偶"),
        ]))
    assert caught.value.problems[0].field == "members[1].id_number"
    # … AND nothing was written: no household, no person, no audit row
    assert entries(db, start) == []
    assert cadre.counts().households == 0 and cadre.counts().people == 0


def test_a_rolled_back_unit_of_work_leaves_no_audit_rows(db: Database, village_id: int) -> None:
    # GIVEN a unit of work that flushed a change (audit rows written in its transaction) and then failed
    from townapp.registry import models as m

    start = last_id(db)
    with pytest.raises(RuntimeError), db.unit_of_work(CADRE) as s:
        village = s.get(m.Village, village_id)
        assert village is not None
        village.name = "改名村"
        s.flush()
        assert entries_in(s, start)  # the hook wrote its rows …
        raise RuntimeError("断电")
    # THEN the rollback took the audit rows with it
    assert entries(db, start) == []
    assert RegistryService(db).villages()[0].name == "西关村"


def entries_in(s: object, after: int) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.id > after)))  # type: ignore[attr-defined]


def test_deleting_a_household_with_its_people_logs_every_row_removed(db: Database, cadre: RegistryService,
                                                                       village_id: int) -> None:
    # GIVEN a household whose head is a party member
    hid = cadre.save_household(HouseholdInput(village_id=village_id, number="001", members=[
        MemberInput(PersonInput(HEAD_ID, "王大山"), "户主"),
        MemberInput(PersonInput(WIFE_ID, "李秀兰"), "配偶"),
    ]))
    head = cadre.get_household(hid).members[0][0].as_input()
    head.party = PartyInput(joined_on=dt.date(1995, 7, 1), confirmed_on=dt.date(1996, 7, 1))
    cadre.save_person(head)
    start = last_id(db)
    # WHEN the household is deleted together with its people
    cadre.delete_household(hid, with_people=True)
    deleted = entries(db, start)
    # THEN the household, its links, both people and the party membership are each logged as deleted
    assert len(by(deleted, "delete", "household")) == 1
    assert len(by(deleted, "delete", "household_member")) == 2
    assert {json.loads(r.old)["name"] for r in by(deleted, "delete", "person")} == {"王大山", "李秀兰"}
    assert [json.loads(r.old)["joined_on"] for r in by(deleted, "delete", "party_member")] == ["1995-07-01"]
    assert {r.username for r in deleted} == {"张干部"}


def test_removing_a_group_logs_the_households_that_lose_it(db: Database, cadre: RegistryService,
                                                           village_id: int) -> None:
    # GIVEN a household in 一组
    [(group_id, _)] = cadre.village_groups(village_id)
    hid = cadre.save_household(HouseholdInput(village_id=village_id, number="001", group_id=group_id,
                                              members=[MemberInput(PersonInput(HEAD_ID, "王大山"), "户主")]))
    start = last_id(db)
    # WHEN 一组 is removed from the village
    cadre.save_village(VillageInput(code="140821100201", name="西关村", groups=[], id=village_id))
    changed = entries(db, start)
    # THEN besides the group's deletion, the household's lost group is on record
    assert len(by(changed, "delete", "village_group")) == 1
    assert [(r.entity_id, r.field, r.old, r.new) for r in by(changed, "update", "household")] == [
        (hid, "group_id", str(group_id), None)]
    assert cadre.get_household(hid).group_id is None


def test_a_member_moving_out_is_logged(db: Database, cadre: RegistryService, village_id: int) -> None:
    # GIVEN a household of two
    hid = cadre.save_household(HouseholdInput(village_id=village_id, number="001", members=[
        MemberInput(PersonInput(HEAD_ID, "王大山"), "户主"),
        MemberInput(PersonInput(WIFE_ID, "李秀兰"), "配偶"),
    ]))
    data = cadre.get_household(hid).as_input()
    wife_id = data.members[1].person.id
    data.members = data.members[:1]
    start = last_id(db)
    # WHEN the wife is taken off the member list and the household saved
    cadre.save_household(data)
    changed = entries(db, start)
    # THEN her membership link is logged as deleted (she herself stays registered)
    [link] = by(changed, "delete", "household_member")
    assert json.loads(link.old)["person_id"] == wife_id and json.loads(link.old)["relation"] == "配偶"
    assert not by(changed, "delete", "person")
    assert link.username == "张干部"


def test_every_database_opened_is_audited_however_often_databases_come_and_go(db: Database, tmp_path) -> None:
    """The flaky 'missing create person entry' (issue 16 hole 19): the hook was attached per sessionmaker and
    SQLAlchemy remembers targets by id(); a new sessionmaker's class reusing a collected one's address was
    taken as already hooked, and that database was opened with no audit at all."""
    import gc
    import shutil

    from townapp.db import open_database

    # GIVEN many databases opened and closed in turn, their classes collected in between
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the township is in the file, not only the WAL
    for n in range(12):
        copy = tmp_path / f"copy{n}.db"
        shutil.copyfile(db.path, copy)
        other = open_database(copy)
        # WHEN each is written to
        RegistryService(other, CADRE).save_village(VillageInput(code=f"1408211002{n:02d}", name=f"村{n}"))
        # THEN every one of them logged the create
        with other.reader() as s:
            assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "village")) == 1
        other.dispose()
        del other
        gc.collect()
