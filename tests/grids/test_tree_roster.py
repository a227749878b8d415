"""The grid tree, the roster and household assignment keep their rules and their history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from townapp.core.actor import ROLE_READONLY, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied, ValidationFailed
from townapp.db.audit import AuditEntry
from townapp.grids.dto import GridInput, MemberInput
from townapp.grids.service import GridService

from .conftest import START, GridVillage, make_village, staff


def test_the_tree_rolls_households_and_people_up_from_the_micro_grids(grids: GridService,
                                                                     village: GridVillage) -> None:
    # GIVEN three households in WW01, two in WW02 and one in WW03 (WW03 hangs straight under the 网格)
    grids.assign(village.households[0:3], village.grids["WW01"], START)
    grids.assign(village.households[3:5], village.grids["WW02"], START)
    grids.assign(village.households[5:6], village.grids["WW03"], START)
    # WHEN the tree is read
    tree = {n.code: n for n in grids.tree(village.id)}
    # THEN parents come first and each level sums what is below it
    assert [n.code for n in grids.tree(village.id)] == ["WG01", "FZ01", "WW01", "WW02", "WW03"]
    assert (tree["WW01"].households, tree["FZ01"].households, tree["WG01"].households) == (3, 5, 6)
    assert tree["WG01"].people == 6  # one person per household in this fixture


def test_codes_are_unique_in_the_township_and_levels_follow_the_structure(
        grids: GridService, village: GridVillage, registry) -> None:  # noqa: ANN001
    other = make_village(registry, "140821100202", "西李村", count=2, region_seq=1)
    # a code used in another village of the same township is refused
    with pytest.raises(ValidationFailed, match="WG01 已被"):
        grids.save_grid(GridInput(other.id, "网格", "wg01", "西李村网格"))
    # an auxiliary grid cannot hang under an auxiliary grid, nor a micro-grid stand alone
    with pytest.raises(ValidationFailed, match="辅助网格不能挂在辅助网格之下"):
        grids.save_grid(GridInput(village.id, "辅助网格", "FZ09", "x", village.grids["FZ01"]))
    with pytest.raises(ValidationFailed, match="微网格须选择上级"):
        grids.save_grid(GridInput(village.id, "微网格", "WW09", "x"))
    # a grid cannot be moved under one of its own micro-grids
    with pytest.raises(ValidationFailed, match="辅助网格不能挂在微网格之下"):
        grids.save_grid(GridInput(village.id, "辅助网格", "FZ01", "x", village.grids["WW01"], id=village.grids["FZ01"]))


def test_moving_and_retiring_a_grid_keep_its_history(grids: GridService, village: GridVillage) -> None:
    # GIVEN a second auxiliary grid and WW02 moved under it on 1 March
    fz02 = grids.save_grid(GridInput(village.id, "辅助网格", "FZ02", "二片", village.grids["WG01"]))
    node = grids.grid(village.grids["WW02"])
    moved = node.as_input()
    moved.parent_id, moved.changed_on = fz02, dt.date(2026, 3, 1)
    grids.save_grid(moved)
    # WHEN WW02 is retired on 1 June (no households, its micro-grid member's term ends that day)
    member = grids.save_member(MemberInput(village.grids["WW02"], village.people[4], "微网格员", "兼职", START))
    grids.retire_grid(village.grids["WW02"], dt.date(2026, 6, 1), "并入WW01")
    # THEN the grid is still there, inactive, with its history in order
    history = grids.history(village.grids["WW02"])
    assert [(h.changed_on, h.kind) for h in history] == [(START, "新建"), (dt.date(2026, 3, 1), "调整上级"),
                                                        (dt.date(2026, 6, 1), "撤销")]
    assert "由“FZ01名称”调整到“二片”" in history[1].detail
    assert not grids.grid(village.grids["WW02"]).active
    assert grids.roster(village.grids["WW02"], include_past=True)[0].ended_on == dt.date(2026, 6, 1)
    assert member == grids.roster(village.grids["WW02"], include_past=True)[0].id
    # AND a grid with households or children cannot be retired or deleted
    grids.assign(village.households[:1], village.grids["WW01"], START)
    with pytest.raises(DomainError, match="还有 1 户住户"):
        grids.retire_grid(village.grids["WW01"], reason="测试")
    with pytest.raises(DomainError, match="在用的下级网格"):
        grids.retire_grid(village.grids["FZ01"], reason="测试")
    with pytest.raises(DomainError, match="请改用“撤销”"):
        grids.delete_grid(village.grids["WW01"])


def test_one_grid_head_at_a_time_and_a_person_may_serve_several_grids(grids: GridService,
                                                                     village: GridVillage) -> None:
    # GIVEN person 0 as 网格长 of WG01 since January
    ids = staff(grids, village)
    # WHEN another person is made 网格长 from May while the first is still serving
    second = MemberInput(village.grids["WG01"], village.people[5], "网格长", "专职", dt.date(2026, 5, 1))
    with pytest.raises(ValidationFailed, match="同一时间只能有一名网格长"):
        grids.save_member(second)
    # THEN after the first head's term ends in April the new one is accepted
    grids.end_member(ids["head"], dt.date(2026, 4, 30))
    grids.save_member(second)
    heads = sorted((r for r in grids.roster(village.grids["WG01"], include_past=True) if r.role == "网格长"),
                   key=lambda r: r.started_on)
    assert [(r.name, r.ended_on) for r in heads] == [("村民东1", dt.date(2026, 4, 30)), ("村民东6", None)]
    # AND person 1 serves two grids (网格员 of WG01 and 微网格员 of WW02)
    assert sorted(r.grid_code for r in grids.person_grids(village.people[1])) == ["WG01", "WW02"]
    # AND a role that does not belong to the level is refused
    with pytest.raises(ValidationFailed, match="微网格的成员角色应为 微网格员"):
        grids.save_member(MemberInput(village.grids["WW01"], village.people[6], "网格长", "兼职", START))


def test_households_move_between_micro_grids_with_dated_history(grids: GridService, village: GridVillage) -> None:
    # GIVEN the households of 一组 (selected by 村民小组) assigned to WW01 in January
    first_group = [h.id for h in grids.households(village.id, group_id=village.groups["一组"])]
    assert len(first_group) == 6
    result = grids.assign(first_group, village.grids["WW01"], START)
    assert (result.created, result.moved, result.unchanged) == (6, 0, 0)
    # WHEN two of them, chosen by address, move to WW03 on 1 April
    by_address = [h.id for h in grids.households(village.id, address="一组 2号")]
    result = grids.assign(by_address + first_group[2:3], village.grids["WW03"], dt.date(2026, 4, 1))
    # THEN each household is in exactly one micro-grid, and the old assignment is closed, not lost
    assert (result.created, result.moved) == (0, 2)
    history = grids.household_history(by_address[0])
    assert [(h.grid_code, h.started_on, h.ended_on) for h in history] == [
        ("WW01", START, dt.date(2026, 4, 1)), ("WW03", dt.date(2026, 4, 1), None)]
    current = {h.id: h.grid for h in grids.households(village.id)}
    assert current[by_address[0]].startswith("WW03") and current[first_group[0]].startswith("WW01")
    # AND assigning again changes nothing; a non-micro grid is refused
    assert grids.assign(by_address, village.grids["WW03"], dt.date(2026, 5, 1)).unchanged == 1
    with pytest.raises(DomainError, match="住户只能划入微网格"):
        grids.assign(first_group, village.grids["FZ01"])


def test_every_grid_change_is_audited_and_roles_are_checked_in_the_service(db, grids: GridService,  # noqa: ANN001
                                                                           village: GridVillage) -> None:
    grids.assign(village.households[:2], village.grids["WW01"], START)
    with db.reader() as s:
        entities = {e for e, in s.execute(select(AuditEntry.entity))}
    assert {"grid", "grid_assignment", "grid_change"} <= entities
    with pytest.raises(PermissionDenied):
        GridService(db, Actor("只读", ROLE_READONLY)).assign(village.households[2:3], village.grids["WW01"])
    other_clerk = GridService(db, Actor("别村录入员", ROLE_VILLAGE, village_id=village.id + 100))
    with pytest.raises(PermissionDenied, match="本村"):
        other_clerk.save_grid(GridInput(village.id, "网格", "WG77", "x"))
    own_clerk = GridService(db, Actor("本村录入员", ROLE_VILLAGE, village_id=village.id))
    assert own_clerk.save_grid(GridInput(village.id, "网格", "WG77", "本村新网格"))
