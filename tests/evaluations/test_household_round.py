"""星级文明户: a full round on a hand-made township, from creation through every stage, 公示 and objections to lock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from townapp.core.errors import DomainError, ValidationFailed
from townapp.evaluations.dto import EntryInput, ObjectionInput
from townapp.evaluations.service import EvaluationService

from .conftest import World, new_round

STARS = [f"S{i:02d}" for i in range(1, 11)]


def stars(n: int) -> dict[str, Decimal]:
    return {code: Decimal(1 if i < n else 0) for i, code in enumerate(STARS)}


def target_ids(service: EvaluationService, round_id: int) -> dict[str, int]:
    return {r.label: r.target_id for r in service.sheet(round_id)}


def levels(service: EvaluationService, round_id: int) -> dict[str, str]:
    return {r.label: r.level for r in service.sheet(round_id)}


def run_household_round(service: EvaluationService, world: World, year: int, plan: dict[str, tuple[int, dict]]) -> int:
    """Create, fill 户自评 from ``plan`` (stars, negatives), hand over through every stage, publish, finalise."""
    round_id = new_round(service, world, "civilized_household", year)
    ids = target_ids(service, round_id)
    service.save_entries([EntryInput(ids[name], "self", stars(n), negatives) for name, (n, negatives) in plan.items()])
    for _stage in ("group", "joint", "village", "township"):
        service.advance_stage(round_id)
        service.copy_previous_stage(round_id)
    service.advance_stage(round_id, publicity_start=dt.date(year, 12, 1), publicity_end=dt.date(year, 12, 7))
    service.finalise(round_id, as_of=dt.date(year, 12, 8))
    return round_id


def test_a_household_round_from_creation_to_lock(evaluations: EvaluationService, world: World) -> None:
    # GIVEN a 2025 round over both villages: every household is a target, nobody rated yet
    service = evaluations
    round_id = new_round(service, world, "civilized_household", 2025)
    ids = target_ids(service, round_id)
    assert set(ids) == set(world.households) and set(levels(service, round_id).values()) == {"未评星"}
    assert service.round(round_id).bodies == ("村党支部委员会", "村民委员会", "村务监督委员会", "村民议事会", "道德评议会",
                                              "红白理事会", "禁毒禁赌会")  # 七会联评
    # WHEN the households assess themselves (户自评)
    rows = service.save_entries([
        EntryInput(ids["张建国"], "self", stars(10)),
        EntryInput(ids["张立新"], "self", stars(8)),
        EntryInput(ids["张春生"], "self", stars(6)),
        EntryInput(ids["王德明"], "self", stars(10), {"N01": "2025年3月因盗窃被判刑"}),
        EntryInput(ids["王志强"], "self", stars(10), {"N08": "女儿出嫁高价彩礼"}),
    ])
    # THEN the live levels follow the stars, the veto and the cap
    assert {r.label: r.level for r in rows} == {"张建国": "五星", "张立新": "四星", "张春生": "三星",
                                                "王德明": "未评星", "王志强": "三星"}
    vetoed = next(r for r in rows if r.label == "王德明")
    assert "一票否决" in vetoed.reasons and "家庭成员有违法犯罪行为" in vetoed.reasons
    # AND the hand-over summary names the household that has not entered anything
    summary = service.stage_summary(round_id)
    assert summary.entered == 5 and summary.missing == ("西王村王海涛",) and "王海涛" in summary.describe()
    # WHEN the round moves through 组互评 → 联评 → 村两委初审 → 乡镇终审, each stage starting from the last
    for expected in ("group", "joint", "village", "township"):
        assert service.advance_stage(round_id) == expected
        assert service.copy_previous_stage(round_id) == 5
    # AND the township's final review lowers 张立新 to seven stars and rates 王海涛
    service.save_entries([EntryInput(ids["张立新"], "township", {"S08": Decimal(0)}),
                          EntryInput(ids["王海涛"], "township", stars(9))])
    assert levels(service, round_id)["张立新"] == "三星"
    # AND editing a stage that is not current is refused
    with pytest.raises(DomainError, match="当前环节"):
        service.save_entry(EntryInput(ids["张建国"], "self", stars(1)))
    # WHEN the list is published for seven days
    service.advance_stage(round_id, publicity_start=dt.date(2025, 12, 1))
    rnd = service.round(round_id)
    assert (rnd.status, rnd.publicity_end) == ("公示中", dt.date(2025, 12, 7))
    assert [(r.label, r.level) for r in service.publicity_rows(round_id)] == [
        ("张建国", "五星"), ("张立新", "三星"), ("张春生", "三星"), ("王海涛", "四星"), ("王志强", "三星")]
    # AND two objections arrive: one upheld after checking, one corrects a household's stars
    first = service.add_objection(ObjectionInput(round_id, "村民李某", "张建国家庭院卫生差", dt.date(2025, 12, 3),
                                                 ids["张建国"]))
    second = service.add_objection(ObjectionInput(round_id, "张立新", "本户勤俭节约应得星", dt.date(2025, 12, 4),
                                                  ids["张立新"]))
    with pytest.raises(ValidationFailed, match="公示期内"):
        service.add_objection(ObjectionInput(round_id, "某人", "过期异议", dt.date(2025, 12, 9)))
    with pytest.raises(DomainError, match="公示期至"):
        service.finalise(round_id, as_of=dt.date(2025, 12, 7))
    with pytest.raises(DomainError, match="未处理"):
        service.finalise(round_id, as_of=dt.date(2025, 12, 8))
    service.handle_objection(first, "经核实庭院整洁，维持", "维持原评定", dt.date(2025, 12, 5))
    service.handle_objection(second, "经联评组织复核，勤俭节约达标", "调整评定", dt.date(2025, 12, 6),
                             EntryInput(0, "", {"S08": Decimal(1)}))
    # AND the round is finalised after 公示
    service.finalise(round_id, as_of=dt.date(2025, 12, 8))
    # THEN it is locked with the expected levels
    rnd = service.round(round_id)
    assert rnd.locked and rnd.status == "已定级" and rnd.finalised_on == dt.date(2025, 12, 8)
    assert levels(service, round_id) == {"张建国": "五星", "张立新": "四星", "张春生": "三星",
                                         "王德明": "未评星", "王志强": "三星", "王海涛": "四星"}
    # AND the target's path shows what every stage gave
    path = service.path(ids["张立新"])
    assert [(p.stage_name, p.level) for p in path] == [("户自评", "四星"), ("组互评", "四星"), ("联评", "四星"),
                                                        ("村两委初审", "四星"), ("乡镇终审", "四星")]
    assert [o.outcome for o in service.objections(round_id)] == ["维持原评定", "调整评定"]
    assert [e.action for e in service.events(round_id)][-2:] == ["异议", "定级"]


def test_levels_move_up_and_down_between_rounds(evaluations: EvaluationService, world: World) -> None:
    # GIVEN a finished 2024 round
    service = evaluations
    first = run_household_round(service, world, 2024, {"张建国": (8, {}), "张立新": (6, {}), "张春生": (10, {})})
    # WHEN the 2025 round rates them differently
    second = run_household_round(service, world, 2025, {"张建国": (10, {}), "张立新": (6, {}), "张春生": (3, {})})
    # THEN each household's history shows 晋级 / 持平 / 降级
    ids = target_ids(service, second)
    change = {name: [(h.year, h.level, h.change) for h in service.history(ids[name])] for name in ("张建国", "张立新", "张春生")}
    assert change["张建国"] == [(2024, "四星", "首次评定"), (2025, "五星", "晋级")]
    assert change["张立新"] == [(2024, "三星", "首次评定"), (2025, "三星", "持平")]
    assert change["张春生"] == [(2024, "五星", "首次评定"), (2025, "未评星", "降级")]
    assert first != second


def test_a_revoked_title_bars_the_household_for_two_years(evaluations: EvaluationService, world: World) -> None:
    # GIVEN 张建国 rated 五星 in 2025, whose title is revoked in March 2026
    service = evaluations
    round_id = run_household_round(service, world, 2025, {"张建国": (10, {})})
    target = target_ids(service, round_id)["张建国"]
    with pytest.raises(ValidationFailed, match="理由"):
        service.revoke(target, "", dt.date(2026, 3, 1))
    service.revoke(target, "家庭成员因赌博被行政拘留", dt.date(2026, 3, 1))
    assert service.history(target)[-1].change == "已撤销"
    # WHEN the household earns ten stars again in 2026, 2027 and 2028
    later = {year: run_household_round(service, world, year, {"张建国": (10, {})}) for year in (2026, 2027, 2028)}
    # THEN it stays unrated while barred (the ban ends 2028-03-01, after the 2028 period starts) …
    for year in (2026, 2027, 2028):
        row = next(r for r in service.sheet(later[year]) if r.label == "张建国")
        assert row.level == "未评星" and "2年内" in row.reasons, year
    # … and is rated again in 2029
    free = run_household_round(service, world, 2029, {"张建国": (10, {})})
    assert levels(service, free)["张建国"] == "五星"
