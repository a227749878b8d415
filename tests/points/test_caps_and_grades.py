"""Caps and grades: the engine applies rule, period and category caps and base floors; grades cut at their thresholds.

Stories: a township rewards each 志愿服务 with 2 points but at most 12 a year, so a
seventh occurrence counts nothing; a base of 20 points is only deducted from and
stops at 0 (扣完为止); a category cap limits several rules together; a member
exactly at a threshold gets the higher grade, a tenth below gets the lower one.
"""

from __future__ import annotations

import datetime as dt

import pytest

from townapp.core.errors import DomainError
from townapp.db import Database
from townapp.points.dto import EntryInput
from townapp.points.rules import (
    Occurrence,
    PointsError,
    RuleSetError,
    default_rule_set,
    format_points,
    parse_points,
    parse_text,
    tally,
)
from townapp.points.service import PointsService

from .conftest import YEAR, Village, make_effective, rule_set

TWO_CAPPED = {"code": "V1", "name": "志愿服务", "category": "A", "direction": "加分", "points": "2", "caps": {"year": "12"}}


def occ(key: int, code: str, day: dt.date, tenths: int, category: str = "A") -> Occurrence:
    return Occurrence(key, code, category, day, tenths)


def test_seven_two_point_occurrences_capped_at_twelve_give_twelve(points: PointsService, village: Village) -> None:
    # GIVEN a rule worth 2 points, capped at 12 a year, and a base of 20
    points.save_rule_set(YEAR, rule_set([TWO_CAPPED]))
    member = village.members["李秀英"]
    # WHEN seven occurrences become effective
    ids = [points.add_records(EntryInput("V1", dt.date(YEAR, month, 10), [member]))[0] for month in range(1, 8)]
    make_effective(points, village, ids, dt.date(YEAR, 8, 1))
    # THEN the year counts 12 of the 14 points: base 20 + 12
    totals = points.member_totals(member, YEAR)
    assert totals.total == 320
    assert dict(totals.by_category)["加分"] == 120
    # AND the card shows the seventh occurrence counted nothing
    card = points.card(member, YEAR)
    assert [r.counted for r in card.records] == [20, 20, 20, 20, 20, 20, 0]
    # AND the redeemable balance follows the capped points, not the raw 14
    assert points.balance(member) == 120


def test_deduct_only_base_of_twenty_never_goes_below_zero() -> None:
    # GIVEN a base bucket of 20 and a 3-point deduction
    rules = parse_text(rule_set([{"code": "D1", "name": "缺席", "category": "J", "direction": "扣分", "points": "3"},
                                 TWO_CAPPED]), "测试")
    deductions = [occ(i, "D1", dt.date(YEAR, 1 + i % 12, 1), -30, "J") for i in range(9)]  # 27 points of deductions
    # WHEN they are tallied with one add-point record
    result = tally(rules, [*deductions, occ(99, "V1", dt.date(YEAR, 12, 1), 20)], YEAR)
    # THEN the base stops at 0 (扣完为止): 6 deductions count 3, the seventh 2, the rest nothing
    assert result.by_category["J"] == 0
    assert sorted(result.counted[i] for i in range(9)) == [-30] * 6 + [-20, 0, 0]
    # AND add-points are untouched by the exhausted base
    assert result.total == 20


def test_category_caps_limit_rules_together_and_nest() -> None:
    # GIVEN 组织生活 capped at 10 with a child 三会一课 capped at 6, and rules in both
    categories = [{"code": "Z", "name": "组织生活", "kind": "add", "cap": "10"},
                  {"code": "Z1", "name": "三会一课", "kind": "add", "parent": "Z", "cap": "6"},
                  {"code": "J", "name": "基础分", "kind": "base", "base": "0"}]
    rules = parse_text(rule_set([
        {"code": "M1", "name": "党员大会", "category": "Z1", "direction": "加分", "points": "2"},
        {"code": "M2", "name": "党课", "category": "Z1", "direction": "加分", "points": "2"},
        {"code": "M3", "name": "主题党日", "category": "Z", "direction": "加分", "points": "1.5"}],
        categories=categories, balance=[]), "测试")
    records = [occ(i, ("M1", "M2")[i % 2], dt.date(YEAR, i + 1, 1), 20, "Z1") for i in range(5)]  # 10 in 三会一课
    records += [occ(10 + i, "M3", dt.date(YEAR, i + 1, 2), 15, "Z") for i in range(4)]  # 6 in 主题党日
    # WHEN tallied
    result = tally(rules, records, YEAR)
    # THEN 三会一课 stops at 6 (its own cap) and 组织生活 at 10 (the parent cap covers both)
    assert sum(result.counted[i] for i in range(5)) == 60
    assert result.by_category["Z"] == 100
    assert result.total == 100
    # AND the last 主题党日 only fills the 1 point left under the parent cap
    assert [result.counted[10 + i] for i in range(4)] == [15, 15, 10, 0]


def test_month_and_quarter_caps() -> None:
    rules = parse_text(rule_set([
        {"code": "M", "name": "学习", "category": "A", "direction": "加分", "points": "1", "caps": {"month": "2"}},
        {"code": "Q", "name": "心得", "category": "A", "direction": "加分", "points": "1", "caps": {"quarter": "1"}}]),
        "测试")
    records = [occ(i, "M", dt.date(YEAR, 1, 1 + i), 10) for i in range(3)]  # three in January
    records += [occ(10, "M", dt.date(YEAR, 2, 1), 10)]
    records += [occ(20 + i, "Q", dt.date(YEAR, 1 + i, 5), 10) for i in range(4)]  # Jan, Feb, Mar, Apr
    result = tally(rules, records, YEAR)
    assert [result.counted[i] for i in (0, 1, 2, 10)] == [10, 10, 0, 10]
    assert [result.counted[20 + i] for i in range(4)] == [10, 0, 0, 10]
    assert result.months[:4] == [30, 10, 0, 10]
    assert result.quarters == [40, 10, 0, 0]


def test_points_are_exact_tenths_never_rounded() -> None:
    assert parse_points("0.5") == 5 and parse_points("12") == 120 and parse_points(" 2.0分") == 20
    for bad in ("0.55", "abc", "-1", "1e400"):
        with pytest.raises(PointsError):
            parse_points(bad)
    assert format_points(125) == "12.5" and format_points(-20, signed=True) == "-2" and format_points(5, signed=True) == "+0.5"


@pytest.mark.parametrize(("tenths", "grade"), [
    (850, "优秀"), (849, "合格"), (700, "合格"), (699, "基本合格"), (600, "基本合格"), (599, "不合格"), (0, "不合格"),
])
def test_default_grades_at_each_threshold_edge(tenths: int, grade: str) -> None:
    # GIVEN the shipped thresholds 优秀 ≥ 85, 合格 ≥ 70, 基本合格 ≥ 60
    # THEN exactly at a threshold is the higher grade, a tenth below the lower
    assert default_rule_set().grade_of(tenths) == grade


def test_grade_thresholds_are_configurable_and_apply_to_real_totals(points: PointsService, village: Village) -> None:
    # GIVEN thresholds changed to 优秀 ≥ 24, 合格 ≥ 22, 基本合格 ≥ 21 over a base of 20
    points.save_rule_set(YEAR, rule_set([TWO_CAPPED, {"code": "H", "name": "半分", "category": "A", "direction": "加分",
                                                      "points": "0.5"}],
                                        grades=[{"name": "优秀", "min": "24"}, {"name": "合格", "min": "22"},
                                                {"name": "基本合格", "min": "21"}, {"name": "不合格"}]))
    member = village.members["赵敏"]
    # WHEN the member reaches exactly 22 (base 20 + 2) THEN 合格; 21.5 would be 基本合格
    first = points.add_records(EntryInput("V1", dt.date(YEAR, 2, 1), [member]))
    make_effective(points, village, first, dt.date(YEAR, 3, 1))
    assert (points.member_totals(member, YEAR).total, points.member_totals(member, YEAR).grade) == (220, "合格")
    # AND four half points later (24) the grade is 优秀
    more = [points.add_records(EntryInput("H", dt.date(YEAR, 4, d), [member]))[0] for d in (1, 2, 3, 4)]
    make_effective(points, village, more, dt.date(YEAR, 5, 1))
    assert (points.member_totals(member, YEAR).total, points.member_totals(member, YEAR).grade) == (240, "优秀")


def test_rule_set_problems_are_listed_in_chinese(points: PointsService) -> None:
    text = rule_set([{"code": "X", "name": "错误", "category": "A", "direction": "扣分", "points": "1.25"},
                     {"code": "Y", "name": "", "category": "无此类别", "direction": "加分", "points": "1",
                      "caps": {"week": "2"}}],
                    grades=[{"name": "优秀", "min": "60"}, {"name": "合格", "min": "80"}, {"name": "不合格"}])
    with pytest.raises(RuleSetError) as caught:
        points.save_rule_set(YEAR, text)
    message = caught.value.message
    for expected in ("rules 第1项 → points：分值“1.25”最多保留一位小数", "rules 第2项 → name：不能为空",
                     "rules 第2项 → caps → week：不认识的字段"):
        assert expected in message
    # AND once each entry is well-formed, how the entries fit together is checked (every such problem at once)
    text = rule_set([{"code": "X", "name": "错误", "category": "A", "direction": "扣分", "points": "1.5"},
                     {"code": "Y", "name": "无类别", "category": "无此类别", "direction": "加分", "points": "1"}],
                    grades=[{"name": "优秀", "min": "60"}, {"name": "合格", "min": "80"}, {"name": "不合格"}])
    with pytest.raises(RuleSetError) as caught:
        points.save_rule_set(YEAR, text)
    message = caught.value.message
    for expected in ("rules 第1项 → direction：类别“加分”是加分类，只能放加分规则",
                     "rules 第2项 → category：所属类别“无此类别”不存在", "grades：等级应按最低分从高到低排列"):
        assert expected in message
    # AND nothing was stored
    assert points.rule_sets() == []


def test_shipped_default_rules_load_and_are_stored_on_first_use(points: PointsService, village: Village,
                                                                db: Database) -> None:
    rules = default_rule_set()
    assert rules.base_total == 400 and rules.rule("ZZ05").cap("month") == 10
    assert rules.meeting_rule("主题党日", "出席", "流动").code == "ZZ05"
    assert rules.meeting_rule("支委会", "出席", "无职") is None  # 支委会 counts for 有职 members only
    assert points.rule_sets() == []
    points.add_records(EntryInput("ZY01", dt.date(YEAR, 5, 1), [village.members["李秀英"]]))
    (info,) = points.rule_sets()
    assert (info.year, info.version, info.name) == (YEAR, 1, rules.name)
    with pytest.raises(DomainError):
        PointsService(db).save_rule_set(YEAR, "{ 不是JSON")
