"""Audit values read as text: names for ids, 是/否, 元, points, local times, lists — never JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from townapp.accounts.audit import AuditService
from townapp.accounts.audit_values import column_kind, money_text, points_text
from townapp.accounts.dto import AuditFilter
from townapp.core.actor import ROLE_ADMIN, ROLE_VILLAGE, Actor
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.db.audit import _SKIPPED, AuditEntry
from townapp.db.base import Base
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService

ADMIN = Actor("zhang", ROLE_ADMIN)
HEAD_ID = make_id_number("140821", dt.date(1975, 5, 5), 111)


@pytest.fixture
def west(db: Database) -> int:
    """西关村, where a clerk registered household 001 with its head 李户主."""
    village = RegistryService(db, ADMIN).save_village(VillageInput(code="140821100201", name="西关村"))
    clerk = RegistryService(db, Actor("wangwen", ROLE_VILLAGE, village))
    clerk.save_household(HouseholdInput(village, "001", [MemberInput(PersonInput(HEAD_ID, "李户主"), "户主")]))
    return village


def _logged(db: Database, *entries: dict) -> list[int]:
    with db.engine.begin() as conn:
        return [conn.execute(AuditEntry.__table__.insert().values(username="zhang", **e)).inserted_primary_key[0]
                for e in entries]


def test_a_household_link_names_the_household_and_the_person(db: Database, west: int) -> None:
    """GIVEN a clerk's new household WHEN the viewer shows the member link and the person
    THEN the ids read as 户编号 and the person's name, the ID number masked, no JSON."""
    audit = AuditService(db, ADMIN)
    rows = audit.rows(audit.ids(AuditFilter(username="wangwen")))
    link = next(r for r in rows.values() if r.entity == "住户成员")
    assert "住户：户编号 001" in link.new and "人员：李户主" in link.new and "户主" in link.new
    person = next(r for r in rows.values() if r.entity == "人员")
    assert "1975-05-05" in person.new and "村/社区：西关村" in person.new
    assert HEAD_ID not in person.new and HEAD_ID[:3] + "*" in person.new
    assert all("{" not in r.new and "_id" not in r.new for r in rows.values())


def test_money_points_yes_no_times_lists_and_documents_read_as_text(db: Database, west: int) -> None:
    """GIVEN changes of money in 分, points in tenths, a lock, an approval time, a scheme's stage, scores and a
    whole scheme WHEN shown THEN 元 with 2 decimals, points, 是/否, local time, Chinese names, pairs — no JSON."""
    ids = _logged(db, dict(action="update", entity="grid_assessment", entity_id=1, field="allowance_fen",
                           old="5000", new="5550"),
                  dict(action="update", entity="point_account", entity_id=1, field="balance_tenths", old="495",
                       new="660"),
                  dict(action="update", entity="eval_round", entity_id=1, field="locked", old="False", new="True"),
                  dict(action="update", entity="grid_month", entity_id=1, field="approved_at", old=None,
                       new="2026-07-01T09:00:00"),
                  dict(action="update", entity="eval_round", entity_id=1, field="stage", old="township",
                       new="publicity"),
                  dict(action="update", entity="eval_entry", entity_id=1, field="scores", old="{}",
                       new='{"M1":"19.8","M2":"20.0"}'),
                  dict(action="update", entity="grid_month", entity_id=1, field="scheme_json", old=None,
                       new=json.dumps({"roles": ["网格长", "网格员"]})),
                  dict(action="create", entity="household_member", entity_id=9, field=None, old=None,
                       new=json.dumps({"id": 9, "household_id": 1, "relation": "户主", "tags": ["低保", "脱贫"]})))
    audit = AuditService(db, ADMIN)
    rows = audit.rows(ids)
    shown = [(rows[i].field, rows[i].old, rows[i].new) for i in ids]
    local = (dt.datetime(2026, 7, 1, 9) + audit._utc_offset()).strftime("%Y-%m-%d %H:%M")
    assert shown[0] == ("补贴", "50.00元", "55.50元")
    assert shown[1] == ("余额", "49.5分", "66分")
    assert shown[2][1:] == ("否", "是")
    assert shown[3][2] == local
    assert shown[4][1:] == ("乡镇终审", "公示")  # by the shipped schemes' names when the database holds none
    assert shown[5][1:] == ("（无）", "M1：19.8；M2：20.0")
    assert shown[6][2].startswith("（方案全文")
    assert "住户：户编号 001" in shown[7][2] and "低保、脱贫" in shown[7][2] and "id" not in shown[7][2]
    assert all("{" not in text and "[" not in text for row in shown for text in row[1:] if text)


def test_every_audited_column_has_a_way_to_be_shown() -> None:
    """GIVEN every audited table WHEN its columns are classified THEN each has a kind (none raises), money
    columns end in _fen or hold 分 as BigInteger, and the helpers format as the page shows."""
    import townapp.schema  # noqa: F401

    for mapper in Base.registry.mappers:
        model = mapper.class_
        if getattr(model, "__audited__", False):
            for column in model.__table__.columns:
                if column.name not in _SKIPPED:
                    assert column_kind(model.__tablename__, column.name)[0]
    assert money_text(123456) == "1234.56元" and points_text(-10) == "-1分" and points_text(5) == "0.5分"


def test_the_export_reads_as_the_viewer_does(db: Database, west: int, tmp_path: Path) -> None:
    """GIVEN the household's entries WHEN exported THEN the workbook holds the same names, not ids."""
    audit = AuditService(db, ADMIN)
    out = tmp_path / "审计日志.xlsx"
    audit.export_xlsx(AuditFilter(username="wangwen"), out)
    values = [str(c.value or "") for row in load_workbook(out).active.iter_rows() for c in row]
    assert any("户编号 001" in v for v in values) and not any(v.startswith("{") for v in values)
