"""Imported changes are audited per record and field, like a dialog's, and say which import brought them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.exchange.conftest import write_xlsx
from townapp.accounts.audit import AuditService
from townapp.accounts.audit_labels import entity_label
from townapp.accounts.dto import AuditFilter
from townapp.core.actor import ROLE_ADMIN, ROLE_TOWNSHIP, Actor
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.exchange.pipeline import run_import
from townapp.registry.dto import PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

ADMIN = Actor("zhang", ROLE_ADMIN)
CADRE = Actor("li", ROLE_TOWNSHIP)
PERSON_ID = make_id_number("140821", dt.date(1960, 2, 2), 151)


def test_an_imported_change_appears_in_the_persons_history_with_its_batch(db: Database, tmp_path: Path) -> None:
    """GIVEN 王建国, a party member registered in a dialog
    WHEN a cadre imports a 党员 sheet that sets his 党籍状态 to 去世 and a 人员 sheet with a new phone
    THEN the audit viewer's history of his 身份证号 holds the dialog's create and both imported changes,
    field by field with old and new values, by the importing user, each naming the import batch."""
    registry = RegistryService(db, ADMIN)
    village = registry.save_village(VillageInput(code="140821100201", name="西关村"))
    registry.save_person(PersonInput(PERSON_ID, "王建国", village_id=village, phone="13900001111",
                                     party=PartyInput(status="正常")))
    book = write_xlsx(tmp_path / "党员.xlsx", {
        "人员": [["身份证号", "姓名", "联系电话"], [PERSON_ID, "王建国", "13900002222"]],
        "党员": [["身份证号", "姓名", "党籍状态"], [PERSON_ID, "王建国", "去世"]],
    })

    report = run_import(db, book, all_sheet_specs(), actor=CADRE)

    assert report.accepted, report.summary_text()
    audit = AuditService(db, ADMIN)
    records = audit.person_records(PERSON_ID)
    assert {entity for entity, _ in records} == {"person", "party_member"}
    rows = audit.rows(audit.ids(AuditFilter(records=records))).values()
    changes = {(r.field, r.old, r.new, r.username, r.batch_id) for r in rows if r.action == "修改"}
    assert ("状态", "正常", "去世", "li", report.batch_id) in changes
    # the viewer masks phone numbers; the full view shows them
    phone = next(r for r in rows if r.field == "联系电话")
    assert phone.username == "li" and phone.batch_id == report.batch_id
    full = audit.full_row(phone.id, "核对导入")
    assert (full.old, full.new) == ("13900001111", "13900002222")
    created = next(r for r in rows if r.action == "新增" and r.entity == entity_label("person")
                   and r.entity_id == records[0][1])
    assert created.batch_id is None  # the dialog's create, no import batch
    # a record's snapshot reads in Chinese, the ID masked
    assert "姓名：王建国" in created.new and "身份证号：140***" in created.new and "{" not in created.new
    # the batch filter lists exactly what that import changed
    by_batch = audit.rows(audit.ids(AuditFilter(batch_id=report.batch_id))).values()
    assert {r.field for r in by_batch if r.action == "修改"} == {"状态", "联系电话"}


def test_every_audited_table_and_field_has_a_chinese_name() -> None:
    """GIVEN every table the audit log writes about, and every column it logs
    WHEN the audit viewer names them
    THEN each has a Chinese name (no table or column name in English on screen)."""
    import townapp.schema  # noqa: F401  (every model registered)
    from townapp.accounts.audit import audit_labels
    from townapp.db.audit import _SKIPPED
    from townapp.db.base import Base

    labels = audit_labels()
    missing_tables, missing_fields = [], set()
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if not getattr(model, "__audited__", False):
            continue
        if model.__tablename__ not in labels["entities"]:
            missing_tables.append(model.__tablename__)
        missing_fields |= {c.name for c in model.__table__.columns
                           if c.name not in _SKIPPED and c.name != "id" and c.name not in labels["fields"]}
    assert missing_tables == [] and sorted(missing_fields) == []
