"""Coverage on a small hand-made fixture: every figure counted by hand."""

from __future__ import annotations

import datetime as dt

from townapp.checks import run_checks
from townapp.db import Database
from townapp.grids.dto import GridInput, MemberInput
from townapp.grids.service import GridService
from townapp.registry.service import RegistryService

from .conftest import START, GridVillage, make_village


def test_coverage_per_village_and_for_the_township(db: Database, registry: RegistryService, grids: GridService,
                                                   village: GridVillage) -> None:
    # GIVEN 东张村 (12 households): 0001–0005 in WW01, 0006–0008 in WW02, 0009–0010 in WW03, 0011–0012 in none;
    # a 网格长 for WG01 and a 微网格员 for WW01 only (FZ01, WW02, WW03 have nobody)
    grids.assign(village.households[0:5], village.grids["WW01"], START)
    grids.assign(village.households[5:8], village.grids["WW02"], START)
    grids.assign(village.households[8:10], village.grids["WW03"], START)
    grids.save_member(MemberInput(village.grids["WG01"], village.people[0], "网格长", "专职", START))
    grids.save_member(MemberInput(village.grids["WW01"], village.people[1], "微网格员", "兼职", START))
    # a household that moved stays counted once
    grids.assign(village.households[0:1], village.grids["WW02"], dt.date(2026, 2, 1))
    # AND 西李村 (4 households) with one 网格 WG02, nobody in it, no household assigned
    west = make_village(registry, "140821100202", "西李村", count=4, region_seq=1)
    grids.save_grid(GridInput(west.id, "网格", "WG02", "西李村网格"))
    # WHEN coverage is computed
    report = grids.coverage()
    east, west_cov = report.villages
    total = report.township
    # THEN 东张村
    assert (east.households, east.assigned, east.unassigned) == (12, 10, 2)
    assert east.unassigned_numbers == ["0011", "0012"]
    assert east.grids == {"网格": 1, "辅助网格": 1, "微网格": 3}
    assert east.grids_without_member == ["FZ01 FZ01名称", "WW02 WW02名称", "WW03 WW03名称"]
    assert east.grids_without_head == []
    assert east.members_by_role == {"网格长": 1, "微网格员": 1}
    assert east.rate_permille == 833
    # AND 西李村
    assert (west_cov.households, west_cov.assigned, west_cov.grids_without_head) == (4, 0, ["WG02 西李村网格"])
    # AND the township adds them up
    assert (total.households, total.assigned, total.unassigned) == (16, 10, 6)
    assert total.grids == {"网格": 2, "辅助网格": 1, "微网格": 3}
    assert len(total.grids_without_member) == 4 and total.grids_without_head == ["WG02 西李村网格"]
    # AND `townapp check` lists the same gaps as warnings, not errors
    check, facts = run_checks(db)
    assert check.ok
    assert "东张村：2 户未划入任何微网格（户编号 0011、0012）" in check.warnings
    assert "西李村：1 个网格没有网格长（WG02 西李村网格）" in check.warnings
    assert (facts["grid_households_unassigned"], facts["grids_without_member"], facts["grids_without_head"]) == (6, 4, 1)


def test_a_member_whose_term_ended_no_longer_covers_the_grid(grids: GridService, village: GridVillage) -> None:
    member = grids.save_member(MemberInput(village.grids["WG01"], village.people[0], "网格长", "专职", START))
    assert "WG01 WG01名称" not in grids.coverage().township.grids_without_head
    grids.end_member(member, dt.date(2026, 2, 28))
    assert "WG01 WG01名称" in grids.coverage().township.grids_without_head


def test_without_any_grid_check_gives_one_line(db: Database, registry: RegistryService) -> None:
    make_village(registry, count=3)
    check, _facts = run_checks(db)
    assert [w for w in check.warnings if "网格" in w] == ["尚未建立网格：全部 3 户都未划入微网格"]
