"""The other shipped schemes, each as a full round on the hand-made township: roll-ups, caps, vetoes, flags, 短板先考."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from townapp.evaluations.dto import EntryInput
from townapp.evaluations.service import EvaluationService

from .conftest import World, new_round


def by_label(service: EvaluationService, round_id: int) -> dict[str, int]:
    return {r.label: r.target_id for r in service.sheet(round_id)}


def results(service: EvaluationService, round_id: int) -> dict[str, tuple[str, Decimal | None]]:
    return {r.label: (r.level, r.measure) for r in service.sheet(round_id)}


def finish(service: EvaluationService, round_id: int, year: int) -> None:
    """Hand over every remaining stage (公示 for a week) and finalise."""
    rnd = service.round(round_id)
    while rnd.scheme.stage_index(rnd.stage) < len(rnd.scheme.stages) - 1:
        following = rnd.scheme.stages[rnd.scheme.stage_index(rnd.stage) + 1]
        if rnd.current_stage.is_publicity:
            service.advance_stage(round_id, as_of=rnd.publicity_end + dt.timedelta(days=1))
        else:
            service.advance_stage(round_id, publicity_start=dt.date(year, 12, 1))
        rnd = service.round(round_id)
        if not following.is_publicity:
            service.copy_previous_stage(round_id)
    service.finalise(round_id, as_of=dt.date(year, 12, 31))


def monthly_scores(total: int) -> dict[str, Decimal]:
    """Points spread over the seven monthly indicators (maxima 20/20/15/15/10/10/10) to reach ``total``."""
    maxima = [("M1", 20), ("M2", 20), ("M3", 15), ("M4", 15), ("M5", 10), ("M6", 10), ("M7", 10)]
    lost = 100 - total
    scores = {}
    for code, top in maxima:
        take = min(lost, top)
        scores[code] = Decimal(top - take)
        lost -= take
    return scores


def test_secretary_months_roll_up_into_quarters_and_a_star_rating(evaluations: EvaluationService, world: World) -> None:
    # GIVEN twelve finished monthly evaluations of both 书记 in 2025
    service = evaluations
    east = {1: 89, 2: 90, 3: 91, 4: 92, 5: 91, 6: 93, 7: 94, 8: 94, 9: 94, 10: 96, 11: 95, 12: 97}
    for month in range(1, 13):
        round_id = new_round(service, world, "secretary_monthly", 2025, month)
        ids = by_label(service, round_id)
        service.save_entries([EntryInput(ids["张建国"], "township", monthly_scores(east[month])),
                              EntryInput(ids["王德明"], "township", monthly_scores(80))])
        service.finalise(round_id, as_of=dt.date(2025, month, 28))
    # WHEN the four quarterly reviews are created and finalised
    quarters = {}
    for quarter in range(1, 5):
        round_id = new_round(service, world, "secretary_quarterly", 2025, quarter)
        quarters[quarter] = results(service, round_id)
        service.finalise(round_id, as_of=dt.date(2025, 3 * quarter, 28))
    # THEN each quarter is the mean of its months, to one decimal
    assert [quarters[q]["张建国"][1] for q in range(1, 5)] == [Decimal("90.0"), Decimal("92.0"), Decimal("94.0"),
                                                              Decimal("96.0")]
    assert quarters[1]["张建国"][0] == "好" and quarters[1]["王德明"] == ("较好", Decimal("80.0"))
    # WHEN the annual star rating takes the quarters, the annual assessment and the years of service
    year_round = new_round(service, world, "secretary_star", 2025)
    ids = by_label(service, year_round)
    assert results(service, year_round)["张建国"] == ("八星", Decimal("93.0"))  # mean of 90, 92, 94, 96
    rows = service.save_entries([
        EntryInput(ids["张建国"], "township", inputs={"assessment": "优秀", "years": Decimal(2)}),
        EntryInput(ids["王德明"], "township", inputs={"assessment": "基本合格", "years": Decimal(10)})])
    # THEN 优秀 lifts 张建国 one star but two years of service cap him at 六星; 基本合格 gets no star
    shown = {r.label: r for r in rows}
    assert shown["张建国"].level == "六星" and "上浮一星" in shown["张建国"].reasons and "不满3年" in shown["张建国"].reasons
    assert shown["王德明"].level == "不评星" and "基本合格及以下" in shown["王德明"].reasons
    service.save_entry(EntryInput(ids["张建国"], "township", inputs={"assessment": "优秀", "years": Decimal(6)}))
    finish(service, year_round, 2025)
    assert results(service, year_round)["张建国"] == ("九星", Decimal("93.0"))
    # AND the star can be revoked
    service.revoke(ids["张建国"], "年度内受到诫勉谈话，撤销星级", dt.date(2026, 2, 1))
    assert service.history(ids["张建国"])[-1].change == "已撤销"
    # AND the village archive reads each village's 书记 star (a revoked one counts as none)
    stars = service.village_results("secretary_star", 2025)
    assert stars[world.villages["东张村"]].rank == 0 and stars[world.villages["西王村"]].level == "不评星"


def test_a_missing_month_leaves_the_quarter_on_the_months_there_are(evaluations: EvaluationService,
                                                                   world: World) -> None:
    # GIVEN only January and February finished (March still open)
    service = evaluations
    for month, total in ((1, 90), (2, 80), (3, 50)):
        round_id = new_round(service, world, "secretary_monthly", 2025, month, villages=("东张村",))
        service.save_entry(EntryInput(by_label(service, round_id)["张建国"], "township", monthly_scores(total)))
        if month < 3:
            service.finalise(round_id, as_of=dt.date(2025, month, 28))
    # WHEN the first quarter is reviewed
    quarter = new_round(service, world, "secretary_quarterly", 2025, 1, villages=("东张村",))
    # THEN it averages the finished months only
    assert results(service, quarter)["张建国"] == ("较好", Decimal("85.0"))


def test_village_org_star_rating_with_caps_and_the_path(evaluations: EvaluationService, world: World) -> None:
    # GIVEN a 评星定级 round: 东张村 scores full marks, 西王村 three points on every indicator
    service = evaluations
    round_id = new_round(service, world, "village_org_star", 2025)
    ids = by_label(service, round_id)
    codes = [i.code for i in service.round(round_id).scheme.indicators]
    assert len(codes) == 25 and len(service.round(round_id).scheme.negatives) == 20
    service.save_entries([EntryInput(ids["东张村党组织"], "town", dict.fromkeys(codes, Decimal(4))),
                          EntryInput(ids["西王村党组织"], "town", dict.fromkeys(codes, Decimal(3)))])
    assert results(service, round_id) == {"东张村党组织": ("五星", Decimal("100.0")),
                                          "西王村党组织": ("三星", Decimal("75.0"))}
    # WHEN the county's joint review finds 东张村 last in the sanitation ranking (a 负面情形: caps at 三星)
    service.advance_stage(round_id)
    service.copy_previous_stage(round_id)
    service.advance_stage(round_id)
    service.copy_previous_stage(round_id)
    service.save_entry(EntryInput(ids["东张村党组织"], "county", negatives={"F13": "环境整治考核末位"}))
    finish(service, round_id, 2025)
    # THEN the level is capped, and the village's path records every stage
    assert results(service, round_id)["东张村党组织"] == ("三星", Decimal("100.0"))
    path = service.path(ids["东张村党组织"])
    assert [(p.stage_name, p.level) for p in path] == [("镇街考核", "五星"), ("群众测评", "五星"), ("县级联审", "三星"),
                                                        ("市级复核", "三星")]
    assert service.village_results("village_org_star", 2025)[world.villages["西王村"]].level == "三星"


def test_head_goose_index_flags_secretaries_below_the_line(evaluations: EvaluationService, world: World) -> None:
    # GIVEN the first half of 2025: 张建国 full marks, 王德明 65 points
    service = evaluations
    round_id = new_round(service, world, "head_goose_index", 2025, 1)
    scheme = service.round(round_id).scheme
    assert [name for name, _ in scheme.categories] == ["忠诚指数", "能力指数", "担当指数", "口碑指数", "律己指数"]
    assert len(scheme.indicators) == 18 and len(scheme.negatives) == 10
    assert sum(i.max for i in scheme.indicators) == 100
    ids = by_label(service, round_id)
    full = {i.code: i.max for i in scheme.indicators}
    weak = {code: (value * Decimal("0.65")).quantize(Decimal("0.1")) for code, value in full.items()}
    service.save_entries([EntryInput(ids["张建国"], "township", full), EntryInput(ids["王德明"], "township", weak)])
    finish(service, round_id, 2025)
    # THEN 王德明 is 较差 and on the 建议调整名单; 张建国 is 优秀 and not
    assert results(service, round_id)["张建国"][0] == "优秀"
    assert [r.label for r in service.flagged(round_id, "建议调整名单")] == ["王德明"]
    # AND a negative-list item puts even a full score on the list
    second = new_round(service, world, "head_goose_index", 2025, 2, villages=("东张村",))
    row = service.save_entry(EntryInput(by_label(service, second)["张建国"], "township", full, {"G05": "长期在外"}))
    assert row.level == "较差" and row.flags == "建议调整名单"


def test_weak_organisation_acceptance_pass_mark_and_dissatisfaction(evaluations: EvaluationService,
                                                                    world: World) -> None:
    # GIVEN an acceptance round: 东张村 scores 85 but 60% of the people are dissatisfied; 西王村 scores exactly 70
    service = evaluations
    round_id = new_round(service, world, "weak_org_acceptance", 2025)
    ids = by_label(service, round_id)
    scheme = service.round(round_id).scheme
    full = {i.code: i.max for i in scheme.indicators}
    service.save_entries([
        EntryInput(ids["东张村党组织"], "self", {**full, "W5": Decimal(5)}, inputs={"unsatisfied": Decimal(60)}),
        EntryInput(ids["西王村党组织"], "self", {**full, "W5": Decimal(0), "W6": Decimal(0)},
                   inputs={"unsatisfied": Decimal("50")})])
    finish(service, round_id, 2025)
    # THEN 不满意 over 50% fails outright, 70 passes, and the village archive can read both results
    found = service.village_results("weak_org_acceptance", 2025)
    east, west = found[world.villages["东张村"]], found[world.villages["西王村"]]
    assert (east.level, east.measure, east.passed) == ("未通过", Decimal("85.0"), False)
    assert "不满意率超过50%" in east.detail
    assert (west.level, west.measure, west.passed) == ("通过", Decimal("70.0"), True)
    assert service.village_result("weak_org_acceptance", world.villages["西王村"], 2025) == west


def test_creation_assessment_starts_from_the_weakest_standard(evaluations: EvaluationService, world: World) -> None:
    # GIVEN 东张村 applies for 示范 and 西王村 for 规范
    service = evaluations
    round_id = new_round(service, world, "village_creation", 2025)
    scheme = service.round(round_id).scheme
    ids = by_label(service, round_id)
    level_of = {i.code: i.level for i in scheme.indicators}
    up_to_demo = {c: Decimal(1 if level in ("规范", "示范") else 0) for c, level in level_of.items()}
    basic_only = {c: Decimal(1 if level == "规范" else 0) for c, level in level_of.items()}
    service.save_entries([EntryInput(ids["东张村党组织"], "apply", up_to_demo, inputs={"applied": "示范"}),
                          EntryInput(ids["西王村党组织"], "apply", basic_only, inputs={"applied": "规范"})])
    # AND the township's pre-check finds 产业兴 weakest (its 示范 item fails) for 东张村
    service.advance_stage(round_id)
    service.copy_previous_stage(round_id)
    service.save_entry(EntryInput(ids["东张村党组织"], "precheck", {"K14": Decimal(0)}))
    # WHEN the county assesses and finds 产业兴 met, but 环境美's 示范 item (户厕改造) not
    service.advance_stage(round_id)
    service.copy_previous_stage(round_id)
    row = service.save_entry(EntryInput(ids["东张村党组织"], "assess", {"K14": Decimal(1), "K20": Decimal(0)}))
    # THEN the assessment began with 产业兴 (the weakest), went on in order and stopped at 环境美, which it records
    assert row.level == "规范"
    assert row.reasons.startswith("短板先考（申报示范）：产业兴→组织强→班子强→党员强→阵地强→集体富→环境美")
    assert "“环境美”未达到示范标准" in row.reasons
    finish(service, round_id, 2025)
    # AND the levels reached are what the village archive reads
    found = service.village_results("village_creation", 2025)
    assert found[world.villages["东张村"]].level == "规范" and found[world.villages["西王村"]].level == "规范"
    # AND a village whose assessment passes every standard reaches the level it applied for
    second = new_round(service, world, "village_creation", 2026, villages=("东张村",))
    row = service.save_entry(EntryInput(by_label(service, second)["东张村党组织"], "apply", up_to_demo,
                                        inputs={"applied": "示范"}))
    assert row.level == "示范" and "全部达标" in row.reasons
