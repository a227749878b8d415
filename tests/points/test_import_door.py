"""Points imports write through the service's door: every imported record is audited with its batch,
and the rules a row is checked by are the entry form's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from townapp.accounts.audit import AuditService
from townapp.accounts.dto import AuditFilter
from townapp.core.actor import ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.points import models as p
from townapp.points.dto import EntryInput
from townapp.points.service import PointsService
from townapp.points.sheets import import_records, sheet_specs
from townapp.registry.dto import SearchFilter
from townapp.registry.service import RegistryService

from .conftest import YEAR, Village

ADMIN = Actor("admin", ROLE_ADMIN)


def _id_numbers(db: Database) -> dict[str, str]:
    registry = RegistryService(db)
    return {x.name: x.id_number for x in (registry.get_person(i) for i in registry.person_ids(SearchFilter()))}


def _records_book(path: Path, rows: list[list]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "积分记录"
    ws.append(["身份证号", "姓名", "规则编码", "发生日期", "分值", "事项说明", "佐证材料"])
    for row in rows:
        ws.append(row)
    for cell in ws["A"][1:]:
        cell.number_format = "@"
    wb.save(path)
    return path


def test_imported_records_are_audited_per_record_with_their_batch(db: Database, village: Village,
                                                                   points: PointsService, tmp_path: Path) -> None:
    """GIVEN a village clerk's 积分记录 workbook with two rows, the year's rules not yet stored
    WHEN it is imported
    THEN the audit viewer's batch filter lists each new record (and the rule set stored on first use) under the
    import's batch, by the clerk, and the records wait for 村审 with their 录入 event."""
    people = _id_numbers(db)
    book = _records_book(tmp_path / "东张村积分.xlsx", [
        [people["李秀英"], "李秀英", "ZY01", "2025-04-03", None, "义务植树", None],
        [people["张建国"], "张建国", "SG02", "2025-04-08", "2.5", "修缮村道", "照片3张"]])
    clerk = Actor("村文书", ROLE_VILLAGE, village.id)

    report = import_records(db, book, clerk)

    assert report.accepted, report.summary_text()
    queued = {r.id for r in points.queue("村审")}
    assert len(queued) == 2
    audit = AuditService(db, ADMIN)
    rows = audit.rows(audit.ids(AuditFilter(batch_id=report.batch_id))).values()
    created = {r.entity_id for r in rows if r.entity == "积分记录" and r.action == "新增"}
    assert created == queued
    assert {r.username for r in rows} == {"村文书"}
    assert any(r.entity == "积分规则版本" for r in rows)  # stored on first use, audited with the batch too
    assert all(points.events(i)[0].action == "录入" for i in queued)


def test_an_import_row_is_checked_by_the_entry_forms_rules(db: Database, village: Village, points: PointsService,
                                                            tmp_path: Path) -> None:
    """GIVEN rows the entry form refuses: a date after tomorrow, points out of the rule's range, a 免考 member
    WHEN they are imported
    THEN each is refused with the entry form's message, and nothing is saved."""
    people = _id_numbers(db)
    later = dt.date.today() + dt.timedelta(days=5)
    book = _records_book(tmp_path / "有错.xlsx", [
        [people["李秀英"], "李秀英", "ZY01", later.isoformat(), None, "义务植树", None],
        [people["张建国"], "张建国", "SG02", f"{YEAR}-04-08", "9", "修缮村道", "照片"],
        [people["钱老汉"], "钱老汉", "ZY01", f"{YEAR}-04-08", None, "清扫", None]])
    form = PointsService(db)
    expected = [
        form.check_entry(EntryInput("ZY01", later, [village.members["李秀英"]], note="义务植树")),
        form.check_entry(EntryInput("SG02", dt.date(YEAR, 4, 8), [village.members["张建国"]], points="9",
                                    evidence="照片")),
        form.check_entry(EntryInput("ZY01", dt.date(YEAR, 4, 8), [village.members["钱老汉"]]))]

    report = import_records(db, book, Actor("村文书", ROLE_VILLAGE, village.id))

    assert not report.accepted
    messages = {e.row: e.message for e in report.errors}
    assert [messages[row] for row in (2, 3, 4)] == [problems[0].message for problems in expected]
    assert points.queue("村审") == []


@pytest.mark.parametrize("role", [ROLE_VILLAGE, ROLE_TOWNSHIP])
def test_store_goods_are_written_by_the_door_for_the_township_only(db: Database, village: Village, role: str,
                                                                   tmp_path: Path) -> None:
    """GIVEN a 积分超市商品 sheet with a new item
    WHEN a township cadre imports it THEN it is added, audited with the batch
    WHEN a village clerk imports it THEN the row is refused as the 商品 dialog refuses them, and nothing is added."""
    wb = Workbook()
    ws = wb.active
    ws.title = "积分超市商品"
    ws.append(["商品名称", "所需积分", "库存", "领取地点", "状态"])
    ws.append(["洗衣液（2kg）", "10", 20, "村党群服务中心", "在售"])
    wb.save(tmp_path / "商品.xlsx")
    actor = Actor("导入人", role, village.id if role == ROLE_VILLAGE else None)

    report = run_import(db, tmp_path / "商品.xlsx", sheet_specs(actor), actor=actor)

    with db.engine.connect() as conn:
        names = conn.execute(select(p.StoreItem.name)).scalars().all()
    if role == ROLE_VILLAGE:
        assert not report.accepted and names == []
        assert "需要乡镇干部或管理员账号" in report.errors[0].message
        return
    assert report.accepted and names == ["洗衣液(2kg)"]  # the name cleaned as the 商品 dialog cleans it
    audit = AuditService(db, ADMIN)
    rows = audit.rows(audit.ids(AuditFilter(batch_id=report.batch_id))).values()
    assert [r.entity for r in rows] == ["积分超市商品"]
