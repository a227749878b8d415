"""Grid fixtures: a village of twelve one-person households in two 村民小组, and its grid tree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from townapp.core.actor import ROLE_TOWNSHIP, Actor
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.grids.dto import GridInput, MemberInput, ScoreEntry
from townapp.grids.service import GridService
from townapp.registry.dto import HouseholdInput, PersonInput, VillageInput
from townapp.registry.dto import MemberInput as HouseholdMemberInput
from townapp.registry.service import RegistryService

CLERK = Actor("录入员小王", ROLE_TOWNSHIP)
APPROVER = Actor("审批人老李", ROLE_TOWNSHIP)
START = dt.date(2026, 1, 1)


@dataclass
class GridVillage:
    id: int
    households: list[int]  # 0001 … 0012; 一组 0001–0006, 二组 0007–0012
    people: list[int]  # the one person of each household, same order
    groups: dict[str, int]
    grids: dict[str, int] = field(default_factory=dict)  # code → id


def make_village(registry: RegistryService, code: str = "140821100201", name: str = "东张村",
                 count: int = 12, region_seq: int = 0) -> GridVillage:
    vid = registry.save_village(VillageInput(code=code, name=name, groups=["一组", "二组"]))
    groups = dict((n, i) for i, n in registry.village_groups(vid))
    households, people = [], []
    for index in range(count):
        group = "一组" if index < count // 2 else "二组"
        number = make_id_number("140821", dt.date(1960 + index, 1 + region_seq, 1), 11 + 2 * index)
        hid = registry.save_household(HouseholdInput(
            village_id=vid, number=f"{index + 1:04d}", group_id=groups[group], address=f"{name}{group} {index + 1}号",
            members=[HouseholdMemberInput(PersonInput(number, f"村民{name[0]}{index + 1}", village_id=vid,
                                                      phone=f"1390000{index:04d}"), "户主")]))
        households.append(hid)
        people.append(registry.get_household(hid).members[0][0].id)
    return GridVillage(vid, households, people, groups)


def build_tree(service: GridService, village: GridVillage) -> None:
    """网格 WG01 → 辅助网格 FZ01 → 微网格 WW01, WW02; and 微网格 WW03 straight under WG01 (no auxiliary)."""
    def add(code: str, level: str, parent: str | None) -> None:
        village.grids[code] = service.save_grid(GridInput(village.id, level, code, f"{code}名称",
                                                          village.grids.get(parent) if parent else None,
                                                          scope="东至公路，西至河", changed_on=START))
    add("WG01", "网格", None)
    add("FZ01", "辅助网格", "WG01")
    add("WW01", "微网格", "FZ01")
    add("WW02", "微网格", "FZ01")
    add("WW03", "微网格", "WG01")


@pytest.fixture
def grids(db: Database) -> GridService:
    return GridService(db, CLERK)


@pytest.fixture
def village(registry: RegistryService, grids: GridService) -> GridVillage:
    v = make_village(registry)
    build_tree(grids, v)
    return v


def staff(service: GridService, village: GridVillage) -> dict[str, int]:
    """网格长 (person 0) and 网格员 (person 1) of WG01, 网格辅助员 of FZ01 (2), 微网格员 of WW01 (3) and WW02 (1)."""
    def add(grid: str, person: int, role: str, duty: str = "兼职") -> int:
        return service.save_member(MemberInput(village.grids[grid], village.people[person], role, duty, START))
    return {"head": add("WG01", 0, "网格长"), "officer": add("WG01", 1, "网格员", "专职"),
            "aux": add("FZ01", 2, "网格辅助员"), "micro1": add("WW01", 3, "微网格员"),
            "micro2": add("WW02", 1, "微网格员")}


YEAR, MONTH = 2026, 3


def full_marks_less(member_id: int, less: int = 0) -> ScoreEntry:
    """A row of the shipped scheme (max 20/25/25/15/15) with ``less`` tenths taken off 走访入户."""
    return ScoreEntry(member_id, {"collect": 200, "visit": 250 - less, "events": 250, "publicity": 150,
                                  "mediation": 150})


@pytest.fixture
def approved(db: Database, grids: GridService, village: GridVillage) -> dict[str, int]:
    """March scored for all five members, submitted by the clerk and approved by a second person."""
    ids = staff(grids, village)
    grids.save_scores(YEAR, MONTH, [full_marks_less(mid, 10 * i) for i, mid in enumerate(ids.values())])
    grids.submit_month(YEAR, MONTH)
    GridService(db, APPROVER).approve_month(YEAR, MONTH)
    return ids
