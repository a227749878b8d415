"""A year's point rules in words: what the 积分规则 window shows a township clerk first.

The stored rules are JSON with English keys (data the engine reads, hashed and
versioned); a clerk checks a rule's name, points, caps and who reviews it, so
the window shows those in Chinese and keeps the JSON for the one who edits it.
"""

from __future__ import annotations

from townapp.core.points import format_points
from townapp.points.rules import RuleSet

_KINDS = {"base": "基础分", "add": "加分", "deduct": "扣分"}
_PERIODS = {"month": "每月", "quarter": "每季度", "year": "每年"}


def describe_rules(rules: RuleSet) -> str:
    """The rule set as Chinese text: categories with their rules, grades, the store's balance and 公示."""
    lines = [f"【{rules.name}】", ""]
    by_category: dict[str, list] = {}
    for rule in rules.rules:
        by_category.setdefault(rule.category, []).append(rule)
    lines.append("一、积分项目")
    for category in rules.categories:
        kind = _KINDS.get(category.kind, category.kind)
        head = f"　{category.name}（" + (f"{kind}，" if kind != category.name else "")
        head += f"每人 {format_points(category.base)} 分" if category.base else kind
        if category.cap is not None:
            head += f"，全年最多 {format_points(category.cap)} 分"
        lines.append(head + "）" + (f"：{category.note}" if category.note else ""))
        for rule in by_category.get(category.code, []):
            points = (format_points(rule.max_points) if rule.min_points == rule.max_points
                      else f"{format_points(rule.min_points)}～{format_points(rule.max_points)}")
            caps = "，".join(f"{_PERIODS.get(period, period)}最多 {format_points(cap)} 分" for period, cap in rule.caps)
            extra = "；".join(part for part in (caps, "须附佐证材料" if rule.evidence else "", f"{rule.review}审核",
                                                 f"适用于{'、'.join(rule.applies_to)}党员") if part)
            lines.append(f"　　{rule.code} {rule.name}：{rule.direction} {points} 分（{extra}）")
    lines += ["", "二、年度等次"]
    for grade in rules.grades:
        lines.append(f"　{grade.name}" + (f"：{format_points(grade.min)} 分及以上" if grade.min is not None else "：其余"))
    lines += ["", "三、其他"]
    if rules.balance_categories:
        names = "、".join(c.name for c in rules.categories if c.code in rules.balance_categories)
        lines.append(f"　积分超市可用积分：{names}的加分 × {rules.balance_ratio.normalize():f}")
    lines.append(f"　积分公示 {rules.publicity_days} 天")
    return "\n".join(lines)
