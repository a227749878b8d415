"""The rules of a points entry and a store item, shared by the entry form, the service and the 积分记录 import.

A village's workbook row is checked exactly as the entry screen checks a typed
record: the rule applies on that day, to that member's 积分管理类别, with points
in the rule's range and evidence where the rule asks for it. Plain functions
over preloaded values (no database look-ups), so an import checks thousands of
rows without a query each.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from townapp.core import permissions
from townapp.core.actor import ROLE_VILLAGE, Actor
from townapp.core.errors import FieldProblem
from townapp.core.points import PointsError, format_points, parse_points
from townapp.core.text import clean_name
from townapp.db.text_guard import length_problems
from townapp.points.models import PointRecord, StoreItem
from townapp.points.rules import Rule, settings

ACTIVE = "正常"  # the 党籍状态 that takes part in points


def excluded_category() -> str:
    """The 积分管理类别 that takes no part (免考), from resources/points/settings.json."""
    return str(settings()["excluded_category"])


def check_points(rule: Rule, raw: Any) -> tuple[int | None, list[FieldProblem]]:
    """The points of one occurrence (unsigned tenths): blank is the rule's fixed value; else within its range."""
    if raw is None or str(raw).strip() == "":
        if rule.fixed:
            return rule.max_points, []
        return None, [FieldProblem("points", f"“{rule.name}”按{rule.points_text}分幅度计分，请填写分值")]
    try:
        tenths = parse_points(raw)
    except PointsError as exc:
        return None, [FieldProblem("points", exc.message)]
    if not rule.min_points <= tenths <= rule.max_points:
        return None, [FieldProblem("points", f"“{rule.name}”每次计{rule.points_text}分，"
                                             f"{format_points(tenths)}分超出范围")]
    return tenths, []


def check_date(rule: Rule, occurred_on: dt.date | None, today: dt.date | None = None) -> list[FieldProblem]:
    """The day it happened: given, within the rule's validity, not later than tomorrow."""
    if occurred_on is None:
        return [FieldProblem("occurred_on", "请填写发生日期")]
    if not rule.valid_on(occurred_on):
        return [FieldProblem("occurred_on", f"“{rule.name}”在 {occurred_on:%Y-%m-%d} 不适用（规则有效期外）")]
    if occurred_on > (today or dt.date.today()) + dt.timedelta(days=1):
        return [FieldProblem("occurred_on", "发生日期不能晚于今天")]
    return []


def check_evidence(rule: Rule, evidence: str | None) -> list[FieldProblem]:
    if rule.evidence and not (evidence or "").strip():
        return [FieldProblem("evidence", f"“{rule.name}”须注明佐证材料（如照片、文件、证明人）")]
    return length_problems(PointRecord, {"evidence": evidence.strip() if evidence else evidence}, {"evidence": "佐证材料"})


def check_occurrence(rule: Rule | None, rule_code: str, occurred_on: dt.date | None, evidence: str | None,
                     points: Any) -> tuple[int | None, list[FieldProblem]]:
    """Everything about one occurrence except who: the rule exists, the date, the evidence, the points."""
    if rule is None:
        return None, [FieldProblem("rule_code", f"本年度积分规则中没有编码为“{rule_code}”的规则")]
    problems = check_date(rule, occurred_on) + check_evidence(rule, evidence)
    tenths, point_problems = check_points(rule, points)
    return tenths, problems + point_problems


def check_member(rule: Rule, name: str, category: str | None, status: str | None) -> list[FieldProblem]:
    """Whether ``rule`` may be recorded for this member: 党籍 正常, not 免考, a category the rule applies to."""
    if status != ACTIVE:
        return [FieldProblem("member_ids", f"{name} 党籍状态为“{status}”，不参加积分")]
    if category == excluded_category():
        return [FieldProblem("member_ids", f"{name} 为免考党员，不参加积分")]
    if category not in rule.applies_to:
        return [FieldProblem("member_ids", f"“{rule.name}”只适用于{'、'.join(rule.applies_to)}党员，"
                                           f"{name} 是{category}党员")]
    return []


def check_member_scope(name: str, village_id: int | None, actor: Actor) -> list[FieldProblem]:
    """Whether ``actor`` may record points for a member of ``village_id`` (a 村录入员: their own village's)."""
    if not permissions.may_read(actor, village_id) or (actor.role == ROLE_VILLAGE and village_id != actor.village_id):
        return [FieldProblem("member_ids", f"村录入员只能录入本村党员的积分（{name} 不是本村党员）")]
    return []


def check_item(name: str | None, points: Any, stock: Any) -> tuple[str, int, list[FieldProblem]]:
    """A store item's name (cleaned), price in tenths (> 0) and stock (an integer ≥ 0)."""
    problems = []
    cleaned = clean_name(name or "")
    if not cleaned:
        problems.append(FieldProblem("name", "请填写商品名称"))
    problems += length_problems(StoreItem, {"name": cleaned}, {"name": "商品名称"})
    tenths = 0
    try:
        tenths = parse_points(points)
        if tenths <= 0:
            problems.append(FieldProblem("points", "兑换所需积分应大于0"))
    except PointsError as exc:
        problems.append(FieldProblem("points", exc.message))
    if not isinstance(stock, int) or isinstance(stock, bool) or stock < 0:
        problems.append(FieldProblem("stock", "库存应为不小于0的整数"))
    return cleaned, tenths, problems
