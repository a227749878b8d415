"""A round's name tells it apart: a typed name already used by this scheme's rounds of the year is refused,
naming the round that has it; an automatic name gets （第2轮）; and whether 定级 is possible now can be asked
without writing anything."""

from __future__ import annotations

import datetime as dt

import pytest

from townapp.core.errors import ValidationFailed
from townapp.evaluations.dto import RoundInput
from townapp.evaluations.service import EvaluationService

from .conftest import World, new_round, scheme_id


def test_a_typed_name_used_this_year_is_refused_naming_the_round(evaluations: EvaluationService, world: World) -> None:
    # GIVEN a 2025 星级文明户 round named 东张村第一批
    scheme = scheme_id(evaluations, "civilized_household")
    villages = [world.villages["东张村"]]
    evaluations.create_round(RoundInput(scheme, 2025, 0, villages, name="东张村第一批"))
    # WHEN another round of the same scheme and year is given that name (spaces around it change nothing)
    again = RoundInput(scheme, 2025, 0, villages, name=" 东张村第一批 ")
    problems = evaluations.check_round(again)
    with pytest.raises(ValidationFailed) as refused:
        evaluations.create_round(again)
    # THEN the check and the write both refuse it in Chinese, naming the round that has the name
    message = refused.value.problems[0].message
    assert [p.message for p in problems] == [message]
    assert refused.value.problems[0].field == "name"
    assert "2025年已有名为“东张村第一批”的评定" in message and "进行中" in message
    assert [r.name for r in evaluations.rounds()] == ["东张村第一批"]
    # AND the same name is fine for another year
    evaluations.create_round(RoundInput(scheme, 2026, 0, villages, name="东张村第一批"))


def test_an_automatic_name_already_taken_gets_the_next_number(evaluations: EvaluationService, world: World) -> None:
    # GIVEN a 2025 household round named automatically
    first = new_round(evaluations, world, "civilized_household", 2025)
    # WHEN a second one is made without a name
    second = new_round(evaluations, world, "civilized_household", 2025)
    # THEN the two can be told apart
    assert evaluations.round(first).name == "2025年度星级文明户"
    assert evaluations.round(second).name == "2025年度星级文明户（第2轮）"


def test_finalise_refusal_says_why_during_the_publicity_and_writes_nothing(evaluations: EvaluationService,
                                                                          world: World) -> None:
    # GIVEN a household round handed over to its 公示, which runs 1–7 December 2025
    round_id = new_round(evaluations, world, "civilized_household", 2025)
    assert "完成全部环节后才能定级" in (evaluations.finalise_refusal(round_id) or "")
    for _stage in ("group", "joint", "village", "township"):
        evaluations.advance_stage(round_id)
    evaluations.advance_stage(round_id, publicity_start=dt.date(2025, 12, 1), publicity_end=dt.date(2025, 12, 7))
    events = len(evaluations.events(round_id))
    # WHEN asked on 5 December THEN the 公示 is the reason, and nothing was written
    assert evaluations.finalise_refusal(round_id, dt.date(2025, 12, 5)) == "公示期至2025年12月07日，公示结束后才能定级"
    assert len(evaluations.events(round_id)) == events and not evaluations.round(round_id).locked
    # WHEN asked after the 公示 THEN nothing stands in the way, and 定级 does it
    assert evaluations.finalise_refusal(round_id, dt.date(2025, 12, 8)) is None
    evaluations.finalise(round_id, dt.date(2025, 12, 8))
    assert "已定级锁定" in (evaluations.finalise_refusal(round_id) or "")
