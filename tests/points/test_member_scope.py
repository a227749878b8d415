"""Points are written only for the members they belong to: a meeting's for its own village's register,
a clerk's for their own village, and the door's first rule set of a year only as shipped.

Story: an outside tester put another village's party member on a meeting's list (through an import that
did not check it) and then had 东张村's clerk turn the meeting into points, which landed in 西关村.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select

from townapp.archives import models as a
from townapp.core.actor import ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied, ValidationFailed
from townapp.db import Database
from townapp.points import models as p
from townapp.points.dto import EntryInput
from townapp.points.rules import default_rule_set
from townapp.points.service import PointsService

from .conftest import YEAR, Village, make_village

CADRE = Actor("li", ROLE_TOWNSHIP)


def _records_of(db: Database, village_id: int) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(p.PointRecord)
                            .where(p.PointRecord.village_id == village_id)).scalar_one()


def test_a_meetings_points_go_only_to_its_own_villages_members(db: Database, village: Village,
                                                               meeting_id: int) -> None:
    """GIVEN 东张村's 主题党日 whose stored list also names 周, a member of 西关村 (as an unchecked import left it)
    WHEN its proposals are read, a cadre and 东张村's clerk generate points for him, and a cadre enters a
    record for him against the meeting
    THEN he is not proposed (不是本村在册党员); the cadre is refused with that message, the clerk as not
    permitted, and 西关村 has no point record."""
    west = make_village(db, "140821100202", "西关村")
    outsider = west.members["张建国"]
    with db.engine.begin() as conn:
        conn.execute(insert(a.ArchiveAttendance).values(meeting_id=meeting_id, party_member_id=outsider,
                                                        status="出席"))
    clerk = PointsService(db, Actor("wangwen", ROLE_VILLAGE, village.id))

    proposal = clerk.meeting_proposals(village.id, meeting_id)
    with pytest.raises(ValidationFailed, match="不是本村在册党员"):
        PointsService(db, CADRE).add_from_meeting(village.id, meeting_id, [outsider])
    with pytest.raises(PermissionDenied):
        clerk.add_from_meeting(village.id, meeting_id, [outsider])
    with pytest.raises(ValidationFailed, match="不是本村在册党员"):
        PointsService(db, CADRE).add_records(EntryInput("ZZ05", dt.date(YEAR, 3, 5), [outsider], meeting_id=meeting_id))

    skipped = {x.party_member_id: x.skip_reason for x in proposal.proposals}
    assert skipped[outsider] == "不是本村在册党员"
    assert outsider not in {x.party_member_id for x in proposal.proposed}
    assert _records_of(db, west.id) == 0
    # AND the meeting's own members still get theirs
    assert len(clerk.add_from_meeting(village.id, meeting_id)) == 3
    assert _records_of(db, west.id) == 0


def test_the_door_stores_only_the_shipped_rules_as_a_years_first_version(db: Database, village: Village) -> None:
    """GIVEN 东张村's clerk holding the points door (their first import of 2031 may store its rules)
    WHEN the door stores 2031's default rule set, and then again
    THEN version 1 of 2031 is the shipped file's rule set (the door takes no rules from its caller), and the
    second is refused: a year's rules change only through the township's save_rule_set."""
    clerk = PointsService(db, Actor("wangwen", ROLE_VILLAGE, village.id))

    with db.engine.begin() as conn:
        door = clerk.batch_writer(conn)
        stored = door.store_default_rule_set(2031)
        with pytest.raises(DomainError, match="2031年已有积分规则"):
            door.store_default_rule_set(2031)

    with db.engine.connect() as conn:
        rows = conn.execute(select(p.PointRuleSet.id, p.PointRuleSet.version, p.PointRuleSet.definition)
                            .where(p.PointRuleSet.year == 2031)).all()
    assert rows == [(stored, 1, default_rule_set().canonical)]
