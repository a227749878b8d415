"""定级 results reach the village archive: 软弱涣散 acceptance, creation level, organisation stars."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from townapp.archives.dto import RectificationData
from townapp.archives.service import ArchiveService
from townapp.archives.vocab import clause_texts
from townapp.evaluations.dto import EntryInput
from townapp.evaluations.service import EvaluationService

from .conftest import World, new_round
from .test_other_schemes import by_label, finish


def test_acceptance_results_are_written_into_the_rectification_record(evaluations: EvaluationService,
                                                                      world: World) -> None:
    # GIVEN both villages were listed as 软弱涣散 in 2025 in their archives
    archives = ArchiveService(evaluations.db)
    clause = next(iter(clause_texts()))
    for name in ("东张村", "西王村"):
        archives.save_rectification(world.villages[name], RectificationData(2025, [clause], measures="整顿"))
    # WHEN the acceptance round is finalised: 东张村 85 points but 60% dissatisfied, 西王村 exactly 70
    service = evaluations
    round_id = new_round(service, world, "weak_org_acceptance", 2025)
    ids = by_label(service, round_id)
    full = {i.code: i.max for i in service.round(round_id).scheme.indicators}
    service.save_entries([
        EntryInput(ids["东张村党组织"], "self", {**full, "W5": Decimal(5)}, inputs={"unsatisfied": Decimal(60)}),
        EntryInput(ids["西王村党组织"], "self", {**full, "W5": Decimal(0), "W6": Decimal(0)},
                   inputs={"unsatisfied": Decimal("50")})])
    finish(service, round_id, 2025)
    # THEN each village's case carries the score, the result and the day of 定级
    east = next(c for c in archives.rectifications(world.villages["东张村"]) if c.year == 2025)
    west = next(c for c in archives.rectifications(world.villages["西王村"]) if c.year == 2025)
    assert (east.score, east.result, east.accepted_on) == (Decimal("85.0"), "未通过", dt.date(2025, 12, 31))
    assert (west.score, west.result, west.stage) == (Decimal("70.0"), "通过", "已验收")
    assert any(ev.action == "写入一村一档" and "未接受" not in ev.detail for ev in service.events(round_id))


def test_creation_level_and_without_a_case_a_note(evaluations: EvaluationService, world: World) -> None:
    # GIVEN a creation round where both villages reach 规范
    service = evaluations
    round_id = new_round(service, world, "village_creation", 2025)
    scheme = service.round(round_id).scheme
    ids = by_label(service, round_id)
    basic_only = {i.code: Decimal(1 if i.level == "规范" else 0) for i in scheme.indicators}
    service.save_entries([EntryInput(ids["东张村党组织"], "apply", basic_only, inputs={"applied": "规范"}),
                          EntryInput(ids["西王村党组织"], "apply", basic_only, inputs={"applied": "规范"})])
    # WHEN it is finalised
    finish(service, round_id, 2025)
    # THEN the archive's year records the level reached (what the cadres' 创建奖励 reads)
    archives = ArchiveService(service.db)
    for name in ("东张村", "西王村"):
        assert archives.year(world.villages[name], 2025).values["creation_level"] == "规范"
    # AND an acceptance round for a village the archive never listed is noted, not invented
    acceptance = new_round(service, world, "weak_org_acceptance", 2025, villages=("东张村",))
    full = {i.code: i.max for i in service.round(acceptance).scheme.indicators}
    service.save_entries([EntryInput(by_label(service, acceptance)["东张村党组织"], "self", full,
                                     inputs={"unsatisfied": Decimal(0)})])
    finish(service, acceptance, 2025)
    assert archives.rectifications(world.villages["东张村"]) == []
    note = next(ev.detail for ev in service.events(acceptance) if ev.action == "写入一村一档")
    assert "没有软弱涣散认定记录" in note
