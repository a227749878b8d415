"""A township's year, through the services a user drives, then 年度结转 — and every output agrees.

东张村 and 西王村 (tests/evaluations/conftest.py) run 2025: members earn points (the last of them in
December, effective only after a 公示 in January), the 书记 are evaluated month by month (December is
定级 late, after the fourth quarter's round exists), rolled up to quarters and a star; households and
village organisations are rated; then the year is closed in February 2026. The certificates, the pay
table, the village archive and the Q4 return are compared person by person and village by village.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.evaluations.conftest import World, build_world, new_round
from tests.evaluations.test_other_schemes import by_label, finish, monthly_scores
from tests.points.conftest import rule_set
from townapp.archives.remuneration import pay_rules
from townapp.archives.service import ArchiveService
from townapp.core.actor import ROLE_TOWNSHIP, Actor
from townapp.core.errors import DomainError
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.evaluations.dto import EntryInput
from townapp.evaluations.service import EvaluationService
from townapp.figures import certificate_batch, certificate_choices, figure_registry, unit_source
from townapp.followup.service import FollowUpService
from townapp.outputs.figures import Period
from townapp.outputs.quarterly import ReturnService
from townapp.points.dto import EntryInput as PointEntry
from townapp.points.service import PENDING_GRADE, PointsService
from townapp.registry.dto import PartyInput, PersonInput
from townapp.registry.service import RegistryService
from townapp.sources import PointsYearSource
from townapp.yearend.service import YearEndService

YEAR = 2025
D = dt.date
RULES = rule_set([{"code": "V1", "name": "志愿服务", "category": "A", "direction": "加分", "points": "10"}],
                 categories=[{"code": "A", "name": "加分", "kind": "add"},
                             {"code": "J", "name": "基础分", "kind": "base", "base": "60"}])
# members per village: how many 志愿服务 records in Q1–Q3, and whether one more comes in December
MEMBERS = {"东张村": (("张一", 3, True), ("张二", 2, False), ("张三", 0, False)),
           "西王村": (("王一", 2, True), ("王二", 1, False))}
EXPECTED = {"张一": "优秀", "张二": "合格", "张三": "基本合格", "王一": "优秀", "王二": "合格"}  # 60 + 10 a record
ORG_SCORES = {"东张村": Decimal(4), "西王村": Decimal("2.5")}  # 25 indicators: 100 → 五星, 62.5 → 二星


def _members(db: Database, world: World) -> dict[str, int]:
    registry = RegistryService(db)
    ids: dict[str, int] = {}
    serial = iter(range(301, 999, 2))
    for village, people in MEMBERS.items():
        vid = world.villages[village]
        for name, _n, _december in people:
            registry.save_person(PersonInput(make_id_number("140821", D(1980, 1, 1), next(serial)), name,
                                             village_id=vid, party=PartyInput(points_category="无职")))
    for member in PointsService(db).members():
        ids[member.name] = member.party_member_id
    return ids


def _effective(points: PointsService, village_id: int, ids: list[int], start: dt.date) -> None:
    points.approve(ids, on=start)
    batch = points.publish(village_id, start, start + dt.timedelta(days=4), record_ids=ids)
    points.close_publicity(batch.id, on=start + dt.timedelta(days=5))


def _run_points(db: Database, world: World, members: dict[str, int]) -> list[int]:
    """Q1–Q3 records effective in the year; December's wait for a 公示 that ends in January. Returns the latter."""
    points = PointsService(db)
    points.save_rule_set(YEAR, RULES)
    december: list[int] = []
    for village, people in MEMBERS.items():
        vid = world.villages[village]
        for name, count, late in people:
            for month in range(1, count + 1):
                ids = points.add_records(PointEntry("V1", D(YEAR, 3 * month, 10), [members[name]]))
                _effective(points, vid, ids, D(YEAR, 3 * month, 15))
            if late:
                december += points.add_records(PointEntry("V1", D(YEAR, 12, 20), [members[name]]))
    return december


def _run_secretaries(service: EvaluationService, world: World) -> None:
    """Twelve months (December 定级 only after the fourth quarter's round exists), four quarters, a star."""
    scores = {"张建国": 93, "王德明": 85}
    quarter_rounds = {}
    for month in range(1, 13):
        if month == 12:
            quarter_rounds[4] = new_round(service, world, "secretary_quarterly", YEAR, 4)
        round_id = new_round(service, world, "secretary_monthly", YEAR, month)
        ids = by_label(service, round_id)
        service.save_entries([EntryInput(ids[name], "township", monthly_scores(total if month < 12 else 97))
                              for name, total in scores.items()])
        if month == 12:
            with pytest.raises(DomainError, match="尚未定级"):  # the quarter waits for its last month
                service.finalise(quarter_rounds[4], as_of=D(YEAR, 12, 31))
        service.finalise(round_id, as_of=D(YEAR, month, 28))
    for quarter in range(1, 5):
        round_id = quarter_rounds.get(quarter) or new_round(service, world, "secretary_quarterly", YEAR, quarter)
        service.finalise(round_id, as_of=D(YEAR, 3 * quarter, 28))
    q4 = {r.label: r.measure for r in service.sheet(quarter_rounds[4])}
    assert q4["张建国"] == Decimal("94.3")  # (93 + 93 + 97) / 3: December reached the quarter made before it
    year_round = new_round(service, world, "secretary_star", YEAR)
    ids = by_label(service, year_round)
    service.save_entries([EntryInput(ids["张建国"], "township", inputs={"assessment": "优秀", "years": Decimal(8)}),
                          EntryInput(ids["王德明"], "township", inputs={"assessment": "合格", "years": Decimal(5)})])
    finish(service, year_round, YEAR)


def _run_villages(service: EvaluationService, world: World) -> None:
    org = new_round(service, world, "village_org_star", YEAR)
    ids = by_label(service, org)
    codes = [i.code for i in service.round(org).scheme.indicators]
    service.save_entries([EntryInput(ids[f"{v}党组织"], "town", dict.fromkeys(codes, score))
                          for v, score in ORG_SCORES.items()])
    finish(service, org, YEAR)
    households = new_round(service, world, "civilized_household", YEAR)
    finish(service, households, YEAR)


def test_a_year_closes_and_every_output_agrees(db: Database, registry: RegistryService) -> None:
    # GIVEN a township that ran 2025 through the services
    world = build_world(registry)
    evaluations = EvaluationService(db)
    evaluations.sync_schemes()
    members = _members(db, world)
    december = _run_points(db, world, members)
    _run_secretaries(evaluations, world)
    _run_villages(evaluations, world)
    archives = ArchiveService(db)
    for village, secretary in world.secretaries.items():  # the star's 定级 opened each 书记's pay row: not typed
        assert [(p.person_id, p.post) for p in archives.pay_inputs(world.villages[village], YEAR)] == [
            (secretary, "书记")]
    points, year_end = PointsService(db), YearEndService(db)

    # WHEN the year is looked at in December, before it ends
    with pytest.raises(DomainError, match="尚未结束"):
        year_end.close(YEAR, on=D(YEAR, 12, 31))
    # THEN the checklist names the December records still waiting, and the part-year grades are not 不合格
    items = {item.key: item for item in year_end.checklist(YEAR, today=D(YEAR, 12, 28))}
    assert items["calendar"].count == 1 and items["points"].count == len(december) and items["rounds"].clear
    assert {r.grade for r in points.totals(YEAR, as_of=D(YEAR, 9, 30))} == {PENDING_GRADE}

    # WHEN December's records pass their 公示 in January and the year is closed in February
    for village in MEMBERS:
        vid = world.villages[village]
        _effective(points, vid, [r.id for r in points.queue("村审", vid) if r.id in december], D(YEAR + 1, 1, 5))
    assert year_end.blocking(YEAR, today=D(YEAR + 1, 2, 1)) == []
    closed = year_end.close(YEAR, on=D(YEAR + 1, 2, 1))

    # THEN the final grades count the records that took effect in January
    final = {r.name: r.grade for r in points.final_grades(YEAR)}
    assert final == {**EXPECTED, **{n: final[n] for n in final if n not in EXPECTED}}
    assert any("党员积分" in line for line in closed.summary)
    # AND the 优秀党员 certificates go to exactly the members graded 优秀
    choice = next(c for c in certificate_choices(db, "excellent-member", YEAR, actor=_township())
                  if c.key == PointsYearSource(YEAR))
    batch = certificate_batch(db, "excellent-member", choice.key, actor=_township())
    assert sorted(item.recipient for item in batch.items) == sorted(n for n, g in final.items() if g == "优秀")
    # AND the archive's stars are the 定级 results, and pay is the rule applied to them
    rules = pay_rules()
    for village, vid in world.villages.items():
        org = evaluations.village_results("village_org_star", YEAR)[vid]
        secretary = evaluations.village_results("secretary_star", YEAR)[vid]
        archived = archives.year(vid, YEAR).values
        assert (archived["org_star"], archived["secretary_star"]) == (org.rank, secretary.rank), village
        line = next(x for x in archives.pay_table(vid, YEAR).lines if x.post == "书记")
        assert line.star == rules.secretary_star[secretary.rank] + rules.org_star[org.rank] > 0, village
        assert line.grade == {"优秀": "优秀", "合格": "称职"}[
            {"东张村": "优秀", "西王村": "合格"}[village]], village
    assert evaluations.village_results("secretary_star", YEAR)[world.villages["东张村"]].level == "九星"
    # AND the Q4 return shows the same grades and stars
    ret = ReturnService(db, figure_registry(db), unit_source()).build(Period(YEAR, 4), filled_on=D(YEAR + 1, 2, 2),
                                                                      filler="王会计", phone="0359-4011234")
    table = ret.table("points")
    for row in table.rows:
        if row.label not in MEMBERS:
            continue
        shown = {c.header: v for c, v in zip(table.layout.columns, row.values, strict=True)}
        graded = points.final_grades(YEAR, world.villages[row.label])
        assert graded and shown["参与积分人数"] == len(graded)
        for grade in ("优秀", "合格", "基本合格", "不合格"):
            assert shown[grade] == sum(1 for r in graded if r.grade == grade), (row.label, grade)
    # AND the 二星 village has a proposed 整顿, the next year starts from this year's rules
    proposals = FollowUpService(db).items(village_id=world.villages["西王村"])
    assert any(item.kind == "整顿" for item in proposals)
    assert points.rule_set(YEAR + 1)[1].digest == points.rule_set(YEAR)[1].digest
    # AND nothing more can be entered for the closed year
    with pytest.raises(DomainError, match="年度结转"):
        points.add_records(PointEntry("V1", D(YEAR, 11, 1), [members["张三"]]))


def _township() -> Actor:
    return Actor("组织委员", ROLE_TOWNSHIP, None)
