"""The archive's one door: imports write through ArchiveService.batch_writer with the service's own rules.

A record typed in a dialog and the same record in a workbook meet one rule set
(archives/validation.py) and one writer, which audits each record with its import
batch and refuses a 村录入员's rows of another village.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.archives.conftest import Village
from tests.both_ways import both_ways
from tests.exchange.conftest import write_xlsx
from townapp.accounts.audit import AuditService
from townapp.accounts.dto import AuditFilter
from townapp.archives import models as a
from townapp.archives.dto import (
    AttendanceData,
    CommitmentData,
    MeetingData,
    RectificationData,
    TermData,
    YearData,
)
from townapp.archives.service import ArchiveService
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import NotFound, PermissionDenied
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.exchange.pipeline import run_import
from townapp.registry.dto import PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

ADMIN = Actor("zhang", ROLE_ADMIN)
CADRE = Actor("li", ROLE_TOWNSHIP)


CASES = {
    "星级超出": (lambda s, v: s.save_year(YearData(v, 2025, {"org_star": 6})),
             "村级年度数据", [["所属村", "年度", "村党组织星级"], ["东张村", 2025, 6]], "村党组织星级应为0至5星"),
    "未知条款": (lambda s, v: s.save_rectification(v, RectificationData(2025, ["99"])),
             "软弱涣散整顿", [["所属村", "认定年度", "认定条款"], ["东张村", 2025, "99"]], "认定条款“99”不在条款清单中"),
    "完成无日期": (lambda s, v: s.save_commitments(v, 2025, [CommitmentData(2025, "修通村道", status="已完成")]),
              "承诺事项", [["所属村", "年度", "承诺事项", "状态"], ["东张村", 2025, "修通村道", "已完成"]],
              "已完成的事项请填写完成日期"),
    "届满早于开始": (lambda s, v: s.save_terms(v, [TermData(11, dt.date(2024, 1, 1), dt.date(2021, 1, 1))]),
               "换届", [["所属村", "届次", "本届开始", "本届届满"], ["东张村", 11, "2024-01-01", "2021-01-01"]],
               "届满日期早于开始日期"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_bad_record_gets_the_same_message_from_a_dialog_and_an_import(
        db: Database, village: Village, tmp_path: Path, case: str) -> None:
    """GIVEN 东张村
    WHEN one bad record (a 6-star rating, an unknown 认定条款, a finished commitment without its date, a term
    that ends before it starts) is saved
    through the service, as the archive dialogs do, and imported in a workbook
    THEN both are refused with the same Chinese message (the dialog's list form adds only which row or term)."""
    dialog, sheet, rows, expected = CASES[case]
    saved, imported = both_ways(db, CADRE, tmp_path, lambda: dialog(ArchiveService(db, CADRE), village.id),
                                sheet, rows)
    assert len(saved) == len(imported) == 1
    assert expected in imported[0]
    assert saved[0] == imported[0] or saved[0] in (f"第1行：{imported[0]}", f"第11届：{imported[0]}")


def test_another_villages_party_member_is_refused_on_a_meeting_list_both_ways(
        db: Database, village: Village, registry: RegistryService, tmp_path: Path) -> None:
    """GIVEN a 主题党日 of 东张村 and 周平, a party member of 西关村
    WHEN 周平 is put on the meeting's list through the service, as the meeting dialog does, and in an imported
    会议出席 sheet (by a cadre, who may write both villages)
    THEN both are refused with the same Chinese message, and the meeting's list stays empty."""
    west = registry.save_village(VillageInput(code="140821100202", name="西关村"))
    number = make_id_number("140821", dt.date(1985, 4, 4), 31)
    outsider = registry.save_person(PersonInput(number, "周平", village_id=west, party=PartyInput()))
    archives = ArchiveService(db, CADRE)
    member = next(c.party_member_id for c in archives.party_members(west) if c.person_id == outsider)
    meeting = MeetingData(dt.date(2025, 3, 5), "主题党日", "重温入党誓词")
    meeting.id = archives.save_meeting(village.id, meeting)
    meeting.attendance = [AttendanceData(member, "出席", None, "周平")]

    saved, imported = both_ways(db, CADRE, tmp_path, lambda: archives.save_meeting(village.id, meeting), "会议出席",
                                [["所属村", "会议日期", "会议类型", "身份证号", "姓名", "出席情况"],
                                 ["东张村", "2025-03-05", "主题党日", number, "周平", "出席"]])

    assert saved == imported == ["周平 不是本村在册党员"]
    with db.engine.connect() as conn:
        assert conn.execute(select(a.ArchiveAttendance.id)).all() == []


def test_a_meeting_of_another_village_is_not_edited_through_this_one(db: Database, village: Village,
                                                                     registry: RegistryService) -> None:
    """GIVEN a meeting of 西关村
    WHEN 东张村's clerk saves it (by its id) as a meeting of 东张村
    THEN it is refused as not found, and 西关村's meeting is unchanged."""
    west = registry.save_village(VillageInput(code="140821100202", name="西关村"))
    theirs = ArchiveService(db).save_meeting(west, MeetingData(dt.date(2025, 3, 5), "党课", "党的光辉历程"))
    clerk = ArchiveService(db, Actor("wangwen", ROLE_VILLAGE, village.id))

    with pytest.raises(NotFound):
        clerk.save_meeting(village.id, MeetingData(dt.date(2025, 3, 6), "党课", "改写", id=theirs))

    with db.engine.connect() as conn:
        assert conn.execute(select(a.ArchiveMeeting.village_id, a.ArchiveMeeting.topic)).all() == [(west, "党的光辉历程")]


def test_an_imported_archive_change_is_audited_with_its_batch(db: Database, village: Village, tmp_path: Path) -> None:
    """GIVEN a commitment of 东张村 typed in the dialog as 推进中
    WHEN a cadre imports the 承诺事项 sheet that marks it 已完成 on 2025-10-01
    THEN the record's audit history holds the dialog's create and the import's two field changes, old and new,
    by the importing user with the import batch; the batch filter lists exactly those changes."""
    ArchiveService(db, ADMIN).save_commitments(village.id, 2025, [CommitmentData(2025, "修通村道", status="推进中")])
    with db.engine.connect() as conn:
        record = conn.execute(select(a.ArchiveCommitment.id)).scalar_one()
    book = write_xlsx(tmp_path / "承诺.xlsx", {"承诺事项": [["所属村", "年度", "承诺事项", "状态", "完成日期"],
                                                    ["东张村", 2025, "修通村道", "已完成", "2025-10-01"]]})

    report = run_import(db, book, all_sheet_specs(), actor=CADRE)

    assert report.accepted and report.sheets["承诺事项"].updated == 1, report.summary_text()
    audit = AuditService(db, ADMIN)
    history = audit.rows(audit.ids(AuditFilter(entity="archive_commitment", entity_id=record))).values()
    changes = {(r.field, r.old, r.new, r.username, r.batch_id) for r in history if r.action == "修改"}
    assert ("状态", "推进中", "已完成", "li", report.batch_id) in changes  # the viewer names fields in Chinese
    assert ("完成日期", "", "2025-10-01", "li", report.batch_id) in changes
    assert any(r.action == "新增" and r.batch_id is None for r in history)
    by_batch = audit.rows(audit.ids(AuditFilter(batch_id=report.batch_id))).values()
    assert {r.field for r in by_batch if r.action == "修改" and r.entity_id == record} == {
        "状态", "完成日期"}


def test_a_clerks_archive_door_writes_only_their_village(db: Database) -> None:
    """GIVEN 西关村 and 东关村
    WHEN 西关村's clerk hands the archive door a year of each village, then a change of 东关村's year, and 只读 asks
    for the door at all
    THEN only 西关村's year is written and audited (with the batch), 东关村's create and change come back refused,
    and 只读 is refused before anything is written."""
    registry = RegistryService(db)
    west = registry.save_village(VillageInput(code="140821100201", name="西关村"))
    east = registry.save_village(VillageInput(code="140821100202", name="东关村"))
    ArchiveService(db).save_year(YearData(east, 2024, {"org_star": 3}))
    clerk = ArchiveService(db, Actor("wangwen", ROLE_VILLAGE, west))
    with db.engine.begin() as conn:
        door = clerk.batch_writer(conn, batch_id=9, reason="导入文件 档案.xlsx", now=dt.datetime(2026, 12, 6))
        ids, refused = door.create(a.ArchiveYear, [dict(village_id=west, year=2025, org_star=4),
                                                   dict(village_id=east, year=2025, org_star=5)])
        stored_east = conn.execute(select(a.ArchiveYear.id).where(a.ArchiveYear.village_id == east)).scalar_one()
        changed = door.update(a.ArchiveYear, [dict(id=stored_east, org_star=1)])
    assert refused == {1} and ids[1] is None and changed == {stored_east}
    with db.engine.connect() as conn:
        years = conn.execute(select(a.ArchiveYear.village_id, a.ArchiveYear.year, a.ArchiveYear.org_star)
                             .order_by(a.ArchiveYear.id)).all()
        logged = conn.execute(select(AuditEntry.entity_id, AuditEntry.village_id, AuditEntry.batch_id)
                              .where(AuditEntry.entity == "archive_year", AuditEntry.username == "wangwen")).all()
    assert years == [(east, 2024, 3), (west, 2025, 4)]
    assert logged == [(ids[0], west, 9)]
    with db.engine.begin() as conn, pytest.raises(PermissionDenied):
        ArchiveService(db, Actor("guest", ROLE_READONLY)).batch_writer(conn)


def test_a_clerks_import_of_another_villages_archive_rows_is_refused(db: Database, village: Village,
                                                                    registry: RegistryService, tmp_path: Path) -> None:
    """GIVEN 东张村 and 西关村
    WHEN 东张村's clerk imports a 承诺事项 sheet with a commitment of each village
    THEN the file is rejected: 西关村's row is refused as not permitted, and nothing is written."""
    registry.save_village(VillageInput(code="140821100202", name="西关村"))
    clerk = Actor("wangwen", ROLE_VILLAGE, village.id)
    book = write_xlsx(tmp_path / "承诺.xlsx", {"承诺事项": [["所属村", "年度", "承诺事项", "状态"],
                                                    ["东张村", 2025, "修通村道", "推进中"],
                                                    ["西关村", 2025, "修缮桥梁", "推进中"]]})

    report = run_import(db, book, all_sheet_specs(), actor=clerk)

    assert report.status == "rejected"
    assert [(e.row, e.code) for e in report.errors] == [(3, "not_permitted")]
    with db.engine.connect() as conn:
        assert conn.execute(select(a.ArchiveCommitment.id)).all() == []
