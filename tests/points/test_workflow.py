"""Records and their workflow: entry, 村审/乡镇审, 驳回 with a reason and resubmission, 公示, 生效, 冲正,
rule-set versions, and bulk entry from a meeting in the archives' ledger."""

from __future__ import annotations

import datetime as dt

import pytest

from townapp.core.actor import ROLE_READONLY, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied, ValidationFailed
from townapp.db import Database
from townapp.points.dto import EntryInput, RecordInput
from townapp.points.service import PointsService

from .conftest import YEAR, Village, make_effective, make_village, rule_set


def test_a_reversal_restores_every_total(points: PointsService, village: Village) -> None:
    # GIVEN a member with effective records across months and categories
    member = village.members["张建国"]
    first = points.add_records(EntryInput("ZY01", dt.date(YEAR, 2, 3), [member]))
    first += points.add_records(EntryInput("XX01", dt.date(YEAR, 5, 6), [member]))
    first += points.add_records(EntryInput("JC02", dt.date(YEAR, 5, 9), [member]))
    make_effective(points, village, first, dt.date(YEAR, 6, 1))
    before = points.member_totals(member, YEAR)
    balance_before = points.balance(member)
    # WHEN a wrong record (a 5-point 带头致富 in August, 乡镇审) becomes effective and is then reversed
    wrong = points.add_records(EntryInput("XF01", dt.date(YEAR, 8, 1), [member], points="5", evidence="合作社证明"))
    make_effective(points, village, wrong, dt.date(YEAR, 8, 10))
    changed = points.member_totals(member, YEAR)
    assert changed.total == before.total + 50 and points.balance(member) == balance_before + 50
    reversal = points.reverse(wrong[0], "误录，实际为其他党员", on=dt.date(YEAR, 9, 1))
    # THEN month, quarter, year, category totals, grade and balance are exactly as before
    after = points.member_totals(member, YEAR)
    assert after == before
    assert points.balance(member) == balance_before
    # AND both records stay visible: the original marked reversed, the reversal negative and effective
    rows = {r.id: r for r in points.records(member, YEAR)}
    assert rows[wrong[0]].reversed and rows[wrong[0]].status == "生效"
    assert rows[reversal].points == -50 and rows[reversal].reverses_id == wrong[0]
    # AND a record cannot be reversed twice, nor a reversal reversed, nor a record edited by rejecting it
    with pytest.raises(DomainError, match="已经冲正"):
        points.reverse(wrong[0], "再次")
    with pytest.raises(DomainError, match="本身是冲正记录"):
        points.reverse(reversal, "再次")
    with pytest.raises(DomainError, match="冲正更正"):
        points.reject([first[0]], "想改")
    with pytest.raises(ValidationFailed):
        points.reverse(first[0], "  ")


def test_a_record_keeps_its_rule_snapshot_after_the_rules_change(points: PointsService, village: Village) -> None:
    # GIVEN version 1: 志愿服务 worth 2 points
    points.save_rule_set(YEAR, rule_set([{"code": "V1", "name": "志愿服务", "category": "A", "direction": "加分",
                                          "points": "2"}]))
    member = village.members["李秀英"]
    old = points.add_records(EntryInput("V1", dt.date(YEAR, 3, 1), [member]))[0]
    # WHEN the township saves version 2 where the rule is renamed and worth 1 point
    info = points.save_rule_set(YEAR, rule_set([{"code": "V1", "name": "参加志愿服务活动", "category": "A",
                                                 "direction": "加分", "points": "1"}]))
    assert info.version == 2
    new = points.add_records(EntryInput("V1", dt.date(YEAR, 4, 1), [member]))[0]
    # THEN the old record keeps the name, points and version it was made under; the new one uses version 2
    old_row, new_row = points.record(old), points.record(new)
    assert (old_row.rule_name, old_row.points, old_row.rule_set_version) == ("志愿服务", 20, 1)
    assert (new_row.rule_name, new_row.points, new_row.rule_set_version) == ("参加志愿服务活动", 10, 2)
    # AND saving identical text makes no new version
    assert points.save_rule_set(YEAR, rule_set([{"code": "V1", "name": "参加志愿服务活动", "category": "A",
                                                 "direction": "加分", "points": "1"}])).version == 2
    # AND both count as entered once effective
    make_effective(points, village, [old, new], dt.date(YEAR, 5, 1))
    assert points.member_totals(member, YEAR).total == 200 + 20 + 10


def test_reject_needs_a_reason_then_fix_resubmit_approve(points: PointsService, village: Village) -> None:
    member = village.members["赵敏"]
    (rid,) = points.add_records(EntryInput("SG02", dt.date(YEAR, 4, 2), [member], points="3", evidence="会议纪要"))
    # WHEN the village reviewer rejects without a reason THEN it is refused and nothing changes
    with pytest.raises(ValidationFailed, match="驳回须填写理由"):
        points.reject([rid], "   ")
    assert points.record(rid).status == "待村审"
    # WHEN rejected with a reason THEN the entrant sees it; approving a rejected record is refused
    points.reject([rid], "任务只完成一半，应计1.5分")
    row = points.record(rid)
    assert (row.status, row.reject_reason) == ("驳回", "任务只完成一半，应计1.5分")
    with pytest.raises(DomainError, match="不在审核环节"):
        points.approve([rid])
    # AND a correction outside the rule's range is refused
    with pytest.raises(ValidationFailed, match="超出范围"):
        points.resubmit(rid, RecordInput(dt.date(YEAR, 4, 2), "3.5", None, "会议纪要"))
    # WHEN corrected and resubmitted THEN it is back at 村审 with the new points
    points.resubmit(rid, RecordInput(dt.date(YEAR, 4, 2), "1.5", "完成一半", "会议纪要"))
    row = points.record(rid)
    assert (row.status, row.points, row.resubmissions) == ("待村审", 15, 1)
    # WHEN approved, published and the 公示 ends THEN it is effective and counts
    make_effective(points, village, [rid], dt.date(YEAR, 5, 1))
    assert points.record(rid).status == "生效"
    assert points.member_totals(member, YEAR).total == 400 + 15
    actions = [e.action for e in points.events(rid)]
    assert actions == ["录入", "驳回", "重新提交", "村审通过", "公示", "生效"]
    assert "任务只完成一半" in points.events(rid)[1].detail


def test_township_review_where_the_rule_asks_and_roles(points: PointsService, village: Village, db: Database) -> None:
    member = village.members["张建国"]
    clerk = PointsService(db, Actor("村文书", ROLE_VILLAGE, village.id))
    # GIVEN a 县级表彰 (乡镇审) entered by the village clerk
    (rid,) = clerk.add_records(EntryInput("JL02", dt.date(YEAR, 6, 1), [member], evidence="表彰文件"))
    clerk.approve([rid])
    # THEN it waits for 乡镇审, which the clerk may not do
    assert [r.id for r in points.queue("乡镇审")] == [rid]
    with pytest.raises(PermissionDenied):
        clerk.approve([rid])
    points.approve([rid])
    assert points.record(rid).status == "待公示"
    # AND publishing before the period ends does not make it effective
    batch = clerk.publish(village.id, dt.date(YEAR, 6, 10))
    assert batch.ends_on == dt.date(YEAR, 6, 14)  # the rule set's 5 days
    with pytest.raises(DomainError, match="期满后才能生效"):
        clerk.close_publicity(batch.id, on=dt.date(YEAR, 6, 14))
    assert clerk.close_publicity(batch.id, on=dt.date(YEAR, 6, 15)) == 1
    # AND a read-only account and another village's clerk cannot enter records here
    other = make_village(db, "140821100202", "西张村")
    with pytest.raises(PermissionDenied):
        PointsService(db, Actor("只读", ROLE_READONLY)).add_records(EntryInput("ZY01", dt.date(YEAR, 7, 1), [member]))
    with pytest.raises(ValidationFailed, match="只能录入本村党员"):
        PointsService(db, Actor("西张", ROLE_VILLAGE, other.id)).add_records(
            EntryInput("ZY01", dt.date(YEAR, 7, 1), [member]))


def test_bulk_entry_checks_every_member_against_the_rule(points: PointsService, village: Village) -> None:
    m = village.members
    # a 设岗定责 rule does not apply to 流动 members; 免考 members never take part; ranges need points; evidence
    with pytest.raises(ValidationFailed) as caught:
        points.add_records(EntryInput("SG02", dt.date(YEAR, 3, 1), [m["王磊"], m["钱老汉"], m["李秀英"]]))
    text = caught.value.message
    assert "王磊" in text and "流动" in text and "钱老汉 为免考党员" in text
    assert "请填写分值" in text and "佐证材料" in text
    assert points.queue("村审") == []  # all or nothing
    # a fixed rule for three members at once
    ids = points.add_records(EntryInput("ZY01", dt.date(YEAR, 3, 1), [m["王磊"], m["李秀英"], m["张建国"]], note="清扫"))
    assert len(ids) == 3 and {r.points for r in points.queue("村审")} == {10}


def test_meeting_attendance_becomes_records_in_one_step(points: PointsService, village: Village, meeting_id: int) -> None:
    # GIVEN a 主题党日 with attendees, one on leave, one absent, one 免考
    proposal = points.meeting_proposals(village.id, meeting_id)
    by_name = {p.name: p for p in proposal.proposals}
    # THEN attendees get ZZ05 +1, the absentee JC01 −2, leave and 免考 nothing
    assert (by_name["张建国"].rule_code, by_name["张建国"].points) == ("ZZ05", 10)
    assert (by_name["李秀英"].rule_code, by_name["李秀英"].points) == ("ZZ05", 10)
    assert (by_name["赵敏"].rule_code, by_name["赵敏"].points) == ("JC01", -20)
    assert "请假" in by_name["王磊"].skip_reason and "免考" in by_name["钱老汉"].skip_reason
    # WHEN generated in one step
    ids = points.add_from_meeting(village.id, meeting_id)
    assert len(ids) == 3
    rows = {r.name: r for r in points.queue("村审", village.id)}
    assert rows["赵敏"].points == -20 and rows["张建国"].note.startswith("主题党日")
    # THEN generating again proposes nothing (no double points)
    assert points.meeting_proposals(village.id, meeting_id).proposed == []
    with pytest.raises(DomainError, match="没有可生成"):
        points.add_from_meeting(village.id, meeting_id)
    # AND a rejected one can be proposed again
    points.reject([rows["赵敏"].id], "实际已请假")
    assert [p.name for p in points.meeting_proposals(village.id, meeting_id).proposed] == ["赵敏"]
