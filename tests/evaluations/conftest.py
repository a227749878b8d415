"""Evaluation fixtures: two villages with households, party members and a 书记 each, and the shipped schemes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.evaluations.dto import RoundInput
from townapp.evaluations.service import EvaluationService
from townapp.registry.dto import HouseholdInput, MemberInput, PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService


@dataclass
class World:
    villages: dict[str, int] = field(default_factory=dict)  # name → village id
    households: dict[str, int] = field(default_factory=dict)  # head's name → household id
    secretaries: dict[str, int] = field(default_factory=dict)  # village name → person id


@pytest.fixture
def world(db: Database, registry: RegistryService) -> World:
    return build_world(registry)


def build_world(registry: RegistryService) -> World:
    """东张村 and 西王村: three households each; a 党支部 with its 书记 under the township 党委."""
    w = World()
    township_branch = registry.save_branch("临晋镇党委", "党委")
    sequence = iter(range(11, 999, 2))  # odd sequences: men
    for village_index, (code, name, heads) in enumerate((
            ("140821100201", "东张村", ("张建国", "张立新", "张春生")),
            ("140821100202", "西王村", ("王德明", "王志强", "王海涛")))):
        vid = registry.save_village(VillageInput(code=code, name=name, groups=["一组", "二组"]))
        w.villages[name] = vid
        branch = registry.save_branch(f"{name}党支部", "党支部", township_branch, vid)
        for index, head in enumerate(heads):
            number = make_id_number("140821", dt.date(1965 + index, 3, 1), next(sequence))
            party = PartyInput(branch_id=branch, party_post="党支部书记") if index == 0 else None
            hid = registry.save_household(HouseholdInput(
                village_id=vid, number=f"{village_index + 1}{index + 1:03d}",
                members=[MemberInput(PersonInput(number, head, village_id=vid, party=party), "户主")]))
            w.households[head] = hid
            if index == 0:
                w.secretaries[name] = registry.get_household(hid).members[0][0].id
    return w


@pytest.fixture
def evaluations(db: Database) -> EvaluationService:
    service = EvaluationService(db)
    report = service.sync_schemes()
    assert not report.refused, [str(x) for x in report.refused]
    return service


def scheme_id(service: EvaluationService, key: str) -> int:
    return next(i.id for i in service.schemes() if i.key == key)


def new_round(service: EvaluationService, world: World, key: str, year: int = 2025, period_no: int = 0,
              villages: tuple[str, ...] = ("东张村", "西王村")) -> int:
    return service.create_round(RoundInput(scheme_id(service, key), year, period_no,
                                           [world.villages[v] for v in villages]))
