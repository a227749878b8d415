"""The grids' one door: imports write through GridService.batch_writer with the service's own rules.

A grid or post typed in a dialog and the same one in a workbook meet one rule set
(grids/validation.py) and one writer, which audits each record with its import
batch and refuses a 村录入员's rows of another village.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.both_ways import both_ways
from tests.exchange.conftest import write_xlsx
from townapp.accounts.audit import AuditService
from townapp.accounts.dto import AuditFilter
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import PermissionDenied
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.exchange.pipeline import run_import
from townapp.grids import models as g
from townapp.grids.dto import GridInput, MemberInput
from townapp.grids.service import GridService
from townapp.registry import models as m
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import START, GridVillage, make_village

ADMIN = Actor("zhang", ROLE_ADMIN)
CADRE = Actor("li", ROLE_TOWNSHIP)


def test_the_same_bad_grid_or_post_gets_the_same_message_from_a_dialog_and_an_import(
        db: Database, village: GridVillage, tmp_path: Path) -> None:
    """GIVEN 东张村's tree (网格 WG01 → 辅助网格 FZ01 → 微网格 WW01)
    WHEN a new 辅助网格 is hung under the 微网格 WW01, and 网格长 is given as the role of a post on WW01,
    each through the service (as the grid and member dialogs do) and in an imported sheet
    THEN each is refused with the same Chinese message both ways."""
    service = GridService(db, CADRE)
    saved, imported = both_ways(
        db, CADRE, tmp_path, lambda: service.save_grid(GridInput(village.id, "辅助网格", "FZ09", "第九辅助网格",
                                                                 village.grids["WW01"])),
        "网格", [["所属村", "网格编码", "网格名称", "层级", "上级网格编码"], ["东张村", "FZ09", "第九辅助网格", "辅助网格", "WW01"]])
    assert saved == imported == ["辅助网格不能挂在微网格之下，只能挂在网格之下"]
    with db.reader() as s:
        number = s.scalar(select(m.Person.id_number).where(m.Person.id == village.people[4]))
    saved, imported = both_ways(
        db, CADRE, tmp_path, lambda: service.save_member(MemberInput(village.grids["WW01"], village.people[4],
                                                                     "网格长", "兼职", START)),
        "网格成员", [["网格编码", "身份证号", "网格角色", "任职日期"], ["WW01", number, "网格长", "2026-01-01"]])
    assert saved == imported == ["微网格的成员角色应为 微网格员"]


def test_an_imported_grid_change_is_audited_with_its_batch(db: Database, village: GridVillage, tmp_path: Path) -> None:
    """GIVEN 东张村's tree made in the grid dialog, 微网格 WW03 straight under 网格 WG01
    WHEN a cadre imports a 网格 sheet that renames WG01 and moves WW03 under 辅助网格 FZ01
    THEN the audit history of each grid holds the import's changes field by field, old and new, by the importing
    user with the import batch (besides the dialog's create); the move is in the grid's own history too, by that user."""
    book = write_xlsx(tmp_path / "网格.xlsx", {"网格": [
        ["所属村", "网格编码", "网格名称", "层级", "上级网格编码"],
        ["东张村", "WG01", "东张村第一网格", "网格", None],
        ["东张村", "WW03", "WW03名称", "微网格", "FZ01"]]})

    report = run_import(db, book, all_sheet_specs(), actor=CADRE)

    assert report.accepted and report.sheets["网格"].updated == 2, report.summary_text()
    audit = AuditService(db, ADMIN)
    renamed = audit.rows(audit.ids(AuditFilter(entity="grid", entity_id=village.grids["WG01"]))).values()
    assert {(r.field, r.old, r.new, r.username, r.batch_id) for r in renamed if r.action == "修改"} == {
        ("名称", "WG01名称", "东张村第一网格", "li", report.batch_id)}
    assert any(r.action == "新增" and r.batch_id is None for r in renamed)
    moved = audit.rows(audit.ids(AuditFilter(entity="grid", entity_id=village.grids["WW03"]))).values()
    # the parents by name (as they are called now: WG01 was renamed by the same import), not by id
    assert {(r.field, r.old, r.new, r.batch_id) for r in moved if r.action == "修改"} == {
        ("上级", "东张村第一网格", "FZ01名称", report.batch_id)}
    by_batch = audit.rows(audit.ids(AuditFilter(batch_id=report.batch_id))).values()
    assert {(r.entity, r.action) for r in by_batch} >= {("网格", "修改"), ("网格调整", "新增")}
    last = GridService(db, ADMIN).history(village.grids["WW03"])[-1]
    assert (last.kind, last.username) == ("调整上级", "li")


def test_a_clerks_grid_door_writes_only_their_village(db: Database, registry: RegistryService,
                                                      village: GridVillage) -> None:
    """GIVEN 东张村 with its tree and a post on WG01, and 西张村 with one grid and a post on it
    WHEN 东张村's clerk hands the grid door a post for each village's grid and a month's score for each post
    (an assessment's village is two steps away: its member's grid), and 只读 asks for the door at all
    THEN only 东张村's post and score are written and audited with the batch, the others come back refused,
    and 只读 is refused before anything is written."""
    other = make_village(registry, "140821100202", "西张村", count=2, region_seq=1)
    cadre = GridService(db, CADRE)
    other_grid = cadre.save_grid(GridInput(other.id, "网格", "XZ01", "西张村第一网格", None))
    own_post = cadre.save_member(MemberInput(village.grids["WG01"], village.people[0], "网格长", "兼职", START))
    other_post = cadre.save_member(MemberInput(other_grid, other.people[0], "网格长", "兼职", START))
    clerk = GridService(db, Actor("wangwen", ROLE_VILLAGE, village.id))
    with db.engine.begin() as conn:
        door = clerk.batch_writer(conn, batch_id=11, reason="导入文件 网格.xlsx", now=dt.datetime(2026, 12, 6))
        post_ids, posts_refused = door.create(g.GridMember, [
            dict(grid_id=village.grids["WG01"], person_id=village.people[1], role="网格员", started_on=START),
            dict(grid_id=other_grid, person_id=other.people[1], role="网格员", started_on=START)])
        township = conn.execute(select(m.Township.id)).scalar_one()
        month = door.ensure_months(township, [(2026, 3)])[(2026, 3)]
        score_ids, scores_refused = door.create(g.GridAssessment, [
            dict(month_id=month, member_id=own_post, scores="{}", deduction=0),
            dict(month_id=month, member_id=other_post, scores="{}", deduction=0)])
    assert posts_refused == scores_refused == {1} and post_ids[1] is None and score_ids[1] is None
    with db.engine.connect() as conn:
        assert conn.execute(select(g.GridAssessment.member_id)).scalars().all() == [own_post]
        assert conn.execute(select(g.GridMember.id).where(g.GridMember.grid_id == other_grid)).scalars().all() == [
            other_post]
        logged = conn.execute(select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.batch_id)
                              .where(AuditEntry.username == "wangwen")).all()
    assert sorted(logged) == sorted([("grid_member", post_ids[0], 11), ("grid_month", month, 11),
                                     ("grid_assessment", score_ids[0], 11)])
    with db.engine.begin() as conn, pytest.raises(PermissionDenied):
        GridService(db, Actor("guest", ROLE_READONLY)).batch_writer(conn)


def test_a_clerks_import_of_another_villages_grid_rows_is_refused(db: Database, registry: RegistryService,
                                                                 village: GridVillage, tmp_path: Path) -> None:
    """GIVEN 东张村 with its tree and 西张村 without grids
    WHEN 东张村's clerk imports a 网格 sheet with a new 网格 in each village
    THEN the file is rejected: 西张村's row is refused as not permitted, and no grid is added."""
    make_village(registry, "140821100202", "西张村", count=2, region_seq=1)
    clerk = Actor("wangwen", ROLE_VILLAGE, village.id)
    book = write_xlsx(tmp_path / "网格.xlsx", {"网格": [["所属村", "网格编码", "网格名称", "层级"],
                                                   ["东张村", "WG02", "东张村第二网格", "网格"],
                                                   ["西张村", "XZ01", "西张村第一网格", "网格"]]})

    report = run_import(db, book, all_sheet_specs(), actor=clerk)

    assert report.status == "rejected"
    assert [(e.row, e.code) for e in report.errors] == [(3, "not_permitted")]
    with db.engine.connect() as conn:
        assert conn.execute(select(g.Grid.code).where(g.Grid.code.in_(["WG02", "XZ01"]))).all() == []
