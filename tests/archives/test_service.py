"""Archive stories against a real database: rectification history, commitments, meetings, attachments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from townapp.archives import models as a
from townapp.archives.dto import (
    AttendanceData,
    CentreData,
    CommitmentData,
    MeetingData,
    ProfileData,
    RectificationData,
    YearData,
)
from townapp.archives.service import ArchiveService, attachments_dir
from townapp.core.actor import ROLE_READONLY, ROLE_VILLAGE, Actor
from townapp.core.errors import PermissionDenied, ValidationFailed
from townapp.db import Database
from townapp.db.audit import AuditEntry

from .conftest import Village


def test_party_counts_come_from_the_registry(archives: ArchiveService, village: Village) -> None:
    counts = archives.party_counts(village.id, dt.date(2025, 12, 31))
    # 张建国 李秀英 赵敏 正式, 王磊 预备 (born 1995: 30 at the end of 2025), 李秀英 and 赵敏 are women
    assert (counts.total, counts.formal, counts.probationary, counts.young) == (4, 3, 1, 1)
    assert counts.female == 2 and counts.mobile == 0
    assert archives.profile(village.id, 2025).party == counts


def test_rectification_lifecycle_with_history_across_years(archives: ArchiveService, village: Village) -> None:
    # GIVEN 东张村 listed as 软弱涣散 in 2022 under clauses 1 and 3
    case = RectificationData(2022, ["1", "3"], measures="调整班子", leader="镇党委副书记")
    case.id = archives.save_rectification(village.id, case)
    assert archives.rectifications(village.id)[0].stage == "整顿中"
    # WHEN it is accepted in January 2023 with 65 points THEN the result is derived: not passed
    case.accepted_on, case.score = dt.date(2023, 1, 15), Decimal("65")
    archives.save_rectification(village.id, case)
    assert (archives.rectifications(village.id)[0].result, archives.rectifications(village.id)[0].stage) == \
        ("未通过", "验收未通过")
    # AND a 回头看 before passing is refused
    case.review_on = dt.date(2023, 9, 1)
    with pytest.raises(ValidationFailed) as caught:
        archives.save_rectification(village.id, case)
    assert "验收通过后才能进行回头看" in caught.value.message
    # WHEN re-accepted with 82 points (result derived again) and looked back on in September
    case.score, case.result, case.accepted_on = Decimal("82"), None, dt.date(2023, 6, 20)
    archives.save_rectification(village.id, case)
    assert archives.rectifications(village.id)[0].stage == "已回头看"
    # AND the village is listed again in 2025: the history keeps both cases
    archives.save_rectification(village.id, RectificationData(2025, ["6"]))
    history = archives.rectifications(village.id)
    assert [(x.year, x.stage) for x in history] == [(2022, "已回头看"), (2025, "整顿中")]
    assert [x.clauses for x in history] == [["1", "3"], ["6"]]
    # AND a second case for the same year, or an unknown clause, is refused
    with pytest.raises(ValidationFailed):
        archives.save_rectification(village.id, RectificationData(2025, ["2"]))
    with pytest.raises(ValidationFailed) as caught:
        archives.save_rectification(village.id, RectificationData(2026, ["99"]))
    assert "不在条款清单中" in caught.value.message
    # AND the overview shows the open case
    assert next(r for r in archives.overview() if r.village_id == village.id).rectifying


def test_commitment_status_changes(archives: ArchiveService, village: Village) -> None:
    titles = ["硬化道路500米", "新装路灯20盏", "修缮文化广场"]
    archives.save_commitments(village.id, 2025, [CommitmentData(2025, t, "张建国", dt.date(2025, 10, 31)) for t in titles])
    first = archives.commitments(village.id, 2025)[0]
    assert first.status == "未开始"
    archives.set_commitment_status(first.id, "推进中")
    assert archives.commitments(village.id, 2025)[0].status == "推进中"
    with pytest.raises(ValidationFailed) as caught:
        archives.set_commitment_status(first.id, "已完成")
    assert "请填写完成日期" in caught.value.message
    archives.set_commitment_status(first.id, "已完成", dt.date(2025, 9, 30))
    done = archives.commitments(village.id, 2025)[0]
    assert (done.status, done.completed_on) == ("已完成", dt.date(2025, 9, 30))
    # the change is in the audit log
    with archives.db.reader() as s:
        changes = s.scalars(select(AuditEntry.new).where(AuditEntry.entity == "archive_commitment",
                                                         AuditEntry.field == "status")).all()
    assert changes == ["推进中", "已完成"]


def test_meeting_attendance_is_stored_per_party_member(archives: ArchiveService, village: Village) -> None:
    m = village.members
    meeting = MeetingData(dt.date(2025, 7, 1), "主题党日", "重温入党誓词", "张建国", [
        AttendanceData(m["张建国"], "出席"), AttendanceData(m["李秀英"], "出席"),
        AttendanceData(m["王磊"], "请假", "外出务工", "王磊"), AttendanceData(m["赵敏"], "缺席")])
    meeting_id = archives.save_meeting(village.id, meeting)
    (stored,) = archives.meetings(village.id, 2025)
    assert stored.id == meeting_id
    assert {(x.name, x.status, x.reason) for x in stored.attendance} == {
        ("张建国", "出席", None), ("李秀英", "出席", None), ("王磊", "请假", "外出务工"), ("赵敏", "缺席", None)}
    # the points module reads attendance by party member id
    with archives.db.reader() as s:
        rows = s.execute(select(a.ArchiveAttendance.party_member_id, a.ArchiveAttendance.status)
                         .where(a.ArchiveAttendance.meeting_id == meeting_id)).all()
    assert dict(rows)[m["王磊"]] == "请假"
    # leave without a reason, or a non-member, is refused
    meeting.id = meeting_id
    meeting.attendance = [AttendanceData(m["王磊"], "请假", None, "王磊")]
    with pytest.raises(ValidationFailed) as caught:
        archives.save_meeting(village.id, meeting)
    assert "请填写请假原因" in caught.value.message
    meeting.attendance = [AttendanceData(999_999, "出席", None, "外人")]
    with pytest.raises(ValidationFailed):
        archives.save_meeting(village.id, meeting)


def test_attachments_are_stored_once_and_removed_with_their_last_reference(archives: ArchiveService,
                                                                            village: Village, tmp_path: Path) -> None:
    # GIVEN the same scan attached twice (different names) and another photo
    scan = tmp_path / "验收报告.pdf"
    scan.write_bytes(b"%PDF-1.4 scan" * 100)
    copy = tmp_path / "验收报告（副本）.PDF"
    copy.write_bytes(scan.read_bytes())
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(b"\xff\xd8 photo")
    first = archives.add_attachment(village.id, scan, year=2023)
    second = archives.add_attachment(village.id, copy, year=2024)
    third = archives.add_attachment(village.id, photo)
    # THEN the scan is stored once, named by its SHA-256, and both references open it
    assert first.sha256 == second.sha256 != third.sha256
    stored = [p for p in attachments_dir().rglob("*") if p.is_file()]
    assert len(stored) == 2
    assert archives.attachment_path(first.id) == archives.attachment_path(second.id)
    assert archives.attachment_path(first.id).read_bytes() == scan.read_bytes()
    # WHEN one reference is removed THEN the file stays; WHEN the last goes THEN the file goes too
    archives.remove_attachment(first.id)
    assert archives.attachment_path(second.id).exists()
    path = archives.attachment_path(second.id)
    archives.remove_attachment(second.id)
    assert not path.exists()
    with archives.db.reader() as s:
        assert s.scalar(select(func.count()).select_from(a.ArchiveFile)) == 1
    assert [x.title for x in archives.attachments(village.id)] == ["现场.jpg"]


def test_a_meetings_attachments_go_with_the_meeting(archives: ArchiveService, village: Village, tmp_path: Path) -> None:
    meeting_id = archives.save_meeting(village.id, MeetingData(dt.date(2025, 3, 5), "党课", "党的光辉历程"))
    photo = tmp_path / "党课.jpg"
    photo.write_bytes(b"photo of the lesson")
    attached = archives.add_attachment(village.id, photo, meeting_id=meeting_id)
    path = archives.attachment_path(attached.id)
    archives.delete_meeting(meeting_id)
    assert not path.exists() and archives.attachments(village.id) == []


def test_a_rectifications_attachments_go_with_it_and_a_shared_file_stays(archives: ArchiveService, village: Village,
                                                                        tmp_path: Path) -> None:
    # GIVEN a 软弱涣散 case with a photo of its own and its acceptance report, the report also filed under the year
    case_id = archives.save_rectification(village.id, RectificationData(2023, ["1"], measures="调整班子"))
    photo, report = tmp_path / "整改现场.jpg", tmp_path / "验收报告.pdf"
    photo.write_bytes(b"\xff\xd8 rectification photo")
    report.write_bytes(b"%PDF-1.4 acceptance")
    own = archives.attachment_path(archives.add_attachment(village.id, photo, rectification_id=case_id).id)
    archives.add_attachment(village.id, report, rectification_id=case_id)
    kept = archives.add_attachment(village.id, report, year=2023)
    # WHEN the case is deleted
    archives.delete_rectification(case_id)
    # THEN the case, its references and its own photo are gone; the year's reference still opens the report
    assert archives.rectifications(village.id) == [] and not own.exists()
    assert [x.id for x in archives.attachments(village.id)] == [kept.id]
    assert archives.attachment_path(kept.id).read_bytes() == report.read_bytes()
    # WHEN the case is deleted again (another clerk was quicker) THEN nothing happens
    archives.delete_rectification(case_id)


def test_a_villages_profile_year_and_centre_are_each_one_row_updated_in_place(archives: ArchiveService,
                                                                            village: Village) -> None:
    # GIVEN the 2025 profile, the 2025 figures and the service centre, each saved once
    archives.save_profile(ProfileData(village.id, 2025, {"group_count": 6, "party_org_name": "东张村党支部"}))
    archives.save_year(YearData(village.id, 2025, {"org_star": 3}))
    archives.save_centre(village.id, CentreData("村委会院内", Decimal("320.5"), 2016, ["党员活动室"]))
    # WHEN each is saved again with new values, and a 2024 profile is added
    archives.save_profile(ProfileData(village.id, 2025, {"group_count": 7, "party_org_name": "东张村党支部"}))
    archives.save_profile(ProfileData(village.id, 2024, {"group_count": 5}))
    archives.save_year(YearData(village.id, 2025, {"org_star": 4}))
    archives.save_centre(village.id, CentreData("村委会院内", Decimal("400"), 2016, ["党员活动室", "图书室"]))
    # THEN the second save changed the same row: one per village and year (one centre), showing the new values
    with archives.db.reader() as s:
        counts = [s.scalar(select(func.count()).select_from(model).where(model.village_id == village.id))
                  for model in (a.ArchiveProfile, a.ArchiveYear, a.ArchiveCentre)]
    assert counts == [2, 1, 1]
    assert archives.profile(village.id, 2025).values["group_count"] == 7
    assert archives.profile(village.id, 2024).values["group_count"] == 5
    assert archives.year(village.id, 2025).values["org_star"] == 4
    assert archives.centre(village.id) == CentreData("村委会院内", Decimal("400"), 2016, ["党员活动室", "图书室"])


def test_roles_are_checked_in_the_service(db: Database, village: Village) -> None:
    with pytest.raises(PermissionDenied):
        ArchiveService(db, Actor("访客", ROLE_READONLY)).save_commitments(village.id, 2025, [])
    with pytest.raises(PermissionDenied):
        ArchiveService(db, Actor("别村", ROLE_VILLAGE, village_id=village.id + 1)).save_commitments(village.id, 2025, [])
    ArchiveService(db, Actor("本村", ROLE_VILLAGE, village_id=village.id)).save_commitments(village.id, 2025, [])


def test_demo_archives_keep_the_rules(demo_db: Database) -> None:
    # GIVEN the small demo township WHEN every rule is checked THEN there is no error
    service = ArchiveService(demo_db)
    assert [v.describe() for v in service.violations() if v.severity == "error"] == []
    for row in service.overview():
        points = service.chart_points(row.village_id)
        # five years of accounts; the current year was opened by the demo's 2025 year close (opening debt only)
        assert len(points) == 6 and points[-1].total_income is None and points[-1].debt_closing is None
        points = points[:-1]
        # debts fall (or stay at zero) year by year
        debts = [p.debt_closing for p in points]
        assert debts == sorted(debts, reverse=True) or max(debts) == 0 or debts[-1] <= debts[0]
        meetings = service.meetings(row.village_id, 2025)
        assert len({m.held_on.month for m in meetings}) == 12
        themed = [m for m in meetings if m.kind == "主题党日"]
        attended = sum(m.count("出席") for m in themed) / max(1, sum(len(m.attendance) for m in themed))
        assert 0.6 < attended < 1.0
