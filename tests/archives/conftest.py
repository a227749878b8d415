"""Archive fixtures: a village with registered people and party members, and a small demo township."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from townapp.archives.service import ArchiveService
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.registry.dto import PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService


@dataclass
class Village:
    id: int
    code: str
    name: str
    people: dict[str, int]  # name → person id
    members: dict[str, int]  # name → party member id


@pytest.fixture
def village(db: Database, registry: RegistryService) -> Village:
    """东张村 with five registered people, four of them party members."""
    vid = registry.save_village(VillageInput(code="140821100201", name="东张村"))
    people, members = {}, {}
    for index, (name, birth, party) in enumerate((
            ("张建国", dt.date(1970, 3, 1), "正式党员"), ("李秀英", dt.date(1980, 6, 1), "正式党员"),
            ("王磊", dt.date(1995, 9, 9), "预备党员"), ("赵敏", dt.date(1988, 1, 20), "正式党员"),
            ("孙强", dt.date(1975, 5, 5), None))):
        female = name in ("李秀英", "赵敏")  # the sequence's parity is the sex
        number = make_id_number("140821", birth, 12 + index * 2 if female else 11 + index * 2)
        pid = registry.save_person(PersonInput(number, name, village_id=vid,
                                               party=PartyInput(member_type=party) if party else None))
        people[name] = pid
    service = ArchiveService(db)
    for choice in service.party_members(vid):
        members[choice.name] = choice.party_member_id
    return Village(vid, "140821100201", "东张村", people, members)


@pytest.fixture
def archives(db: Database) -> ArchiveService:
    return ArchiveService(db)


@pytest.fixture
def small_demo(built_demo: Callable[..., Path]) -> Path:
    """The small demo township (3 villages, seed 5) as a file; copy it before changing it."""
    return built_demo("small", seed=5)


@pytest.fixture
def demo_db(open_demo: Callable[..., Database]) -> Database:
    """This test's own copy of the small demo township (3 villages, seed 5), open."""
    return open_demo("small", seed=5)
