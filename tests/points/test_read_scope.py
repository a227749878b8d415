"""党员积分 reads are village-scoped in the service (issue 16).

Every public read of PointsService is tried by every role on a clerk's own village and on another
one (tests/accounts/scope_matrix.py): members, cards, balances, records, queues, 公示, totals,
rankings, summaries and 兑换 of another village are refused a 村录入员 or absent from their listings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from tests.accounts.scope_matrix import Read, sweep, unlisted, village_name, villages
from townapp.archives import models as a
from townapp.db import Database
from townapp.points import models as p
from townapp.points.service import PointsService
from townapp.registry import models as m

YEAR = 2025


def _one(s: PointsService, query) -> int:  # noqa: ANN001
    with s.db.reader() as r:
        return r.scalar(query.limit(1))


def _member(s: PointsService, v: int) -> int:
    return _one(s, select(p.PointRecord.party_member_id).join(m.PartyMember, m.PartyMember.id ==
                                                                p.PointRecord.party_member_id)
                .join(m.Person, m.Person.id == m.PartyMember.person_id)
                .where(m.Person.village_id == v, p.PointRecord.village_id == v, m.PartyMember.status == "正常"))


def _id_number(s: PointsService, v: int) -> str:
    return _one(s, select(m.Person.id_number).join(m.PartyMember, m.PartyMember.person_id == m.Person.id)
                .where(m.PartyMember.id == _member(s, v)))


def _record(s: PointsService, v: int) -> int:
    """A record of ``v`` with something in its log."""
    return _one(s, select(p.PointRecord.id).join(p.PointEvent, p.PointEvent.record_id == p.PointRecord.id)
                .where(p.PointRecord.village_id == v))


def _publicity(s: PointsService, v: int) -> int:
    return _one(s, select(p.PointPublicity.id).where(p.PointPublicity.village_id == v))


def _meeting(s: PointsService, v: int) -> int:
    return _one(s, select(a.ArchiveMeeting.id).where(a.ArchiveMeeting.village_id == v))


def _redemption(s: PointsService, v: int) -> int:
    return _one(s, select(p.Redemption.id).where(p.Redemption.village_id == v))


def _branches(s: PointsService, v: int) -> set[str]:
    with s.db.reader() as r:
        return set(r.scalars(select(m.PartyBranch.name).where(m.PartyBranch.village_id == v)))


READS: dict[str, Read] = {
    "members": lambda s, v, _p: s.members(v),
    "members(全部)": lambda s, v, _p: [x for x in s.members() if x.village_id == v],
    "member": lambda s, v, _p: s.member(_member(s, v)),
    "find_member": lambda s, v, _p: s.find_member(_id_number(s, v)),
    "member_totals": lambda s, v, _p: s.member_totals(_member(s, v), YEAR),
    "records": lambda s, v, _p: s.records(_member(s, v)),
    "record": lambda s, v, _p: s.record(_record(s, v)),
    "events": lambda s, v, _p: s.events(_record(s, v)),
    "card": lambda s, v, _p: s.card(_member(s, v), YEAR),
    "balance": lambda s, v, _p: s.balance(_member(s, v)) is not None,
    "meeting_proposals": lambda s, v, _p: s.meeting_proposals(v, _meeting(s, v)),
    "queue": lambda s, v, _p: s.queue("村审", v),
    "queue(全部)": lambda s, v, _p: [r for r in s.queue("村审") if r.village_id == v],
    "publicities": lambda s, v, _p: s.publicities(v),
    "publicity": lambda s, v, _p: s.publicity(_publicity(s, v)),
    "publicity_records": lambda s, v, _p: s.publicity_records(_publicity(s, v)),
    "totals": lambda s, v, _p: s.totals(YEAR, v),
    "totals(全部)": lambda s, v, _p: [r for r in s.totals(YEAR) if r.village_id == v],
    "member_summaries": lambda s, v, _p: s.member_summaries(YEAR, v),
    "detail": lambda s, v, _p: s.detail(YEAR, v),
    "detail(全部)": lambda s, v, _p: [r for r in s.detail(YEAR) if r.village_id == v],
    "ranking": lambda s, v, _p: s.ranking(YEAR, v),
    "village_summaries": lambda s, v, _p: [g for g in s.village_summaries(YEAR) if g.id == v],
    "branch_summaries": lambda s, v, _p: [g for g in s.branch_summaries(YEAR) if g.name in _branches(s, v)],
    "distribution": lambda s, v, _p: [n for n, _g in s.distribution(YEAR)[1] if n == village_name(s.db, v)],
    "redemptions": lambda s, v, _p: s.redemptions(v),
    "redemptions(全部)": lambda s, v, _p: [r for r in s.redemptions() if r.village == village_name(s.db, v)],
    "redemption": lambda s, v, _p: s.redemption(_redemption(s, v)),
    "final_grades": lambda s, v, _p: s.final_grades(YEAR, v),
    "final_grades(全部)": lambda s, v, _p: [r for r in s.final_grades(YEAR) if r.village_id == v],
}
LISTINGS = {"members", "find_member", "queue", "publicities", "totals", "member_summaries", "detail", "ranking",
            "village_summaries", "branch_summaries", "distribution", "redemptions", "final_grades"}
WRITES = {"save_rule_set", "add_records", "add_from_meeting", "approve", "reject", "resubmit", "publish",
          "close_publicity", "reverse", "save_item", "restock", "redeem", "pick_up", "cancel_redemption",
          "batch_writer", "close_year"}
# the rules and the store's goods are township-wide and hold no one's data; check_entry is a write's check
NOT_READS = {"rule_set", "rule_sets", "rule_set_text", "rules", "grade_names", "items", "check_entry", "year_closed",
             "open_records", "current_rule_sets",  # the township's rules as a village install receives them
             "receive_rule_set"}  # open_records: counts only, of the clerk's own village (tests/yearend)


def test_every_public_read_is_in_the_matrix() -> None:
    assert unlisted(PointsService, READS, WRITES, NOT_READS) == set()


def test_points_reads_are_scoped_to_the_clerks_village(open_demo: Callable[..., Database], tmp_path: Path) -> None:
    """GIVEN the small demo township (a year of points records, 公示 batches, meetings and 兑换 in every village)
    WHEN each role calls every public read of PointsService on a clerk's own village and on another
    THEN township roles and 只读 read both; the clerk reads their own and never the other (refused in Chinese,
    or absent from the listing)."""
    db = open_demo("small", 5)
    own, other = villages(db)
    leaks, problems = sweep(lambda actor: PointsService(db, actor), READS, LISTINGS, own, other, tmp_path)
    assert leaks == [], "\n".join(leaks)
    assert problems == [], "\n".join(problems)
