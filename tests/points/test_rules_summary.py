"""Story: a clerk opens 积分规则 and reads the rules in Chinese, not the JSON the engine stores."""

from __future__ import annotations

import re

from townapp.points.rules import default_rule_set
from townapp.points.rules_summary import describe_rules


def test_every_rule_is_named_with_its_points_caps_and_reviewer_in_chinese() -> None:
    # GIVEN the shipped rules
    rules = default_rule_set()
    # WHEN they are described
    text = describe_rules(rules)
    # THEN every rule and grade is there by name, and no English word is
    for rule in rules.rules:
        assert f"{rule.code} {rule.name}：{rule.direction}" in text
    for grade in rules.grades:
        assert grade.name in text
    assert f"积分公示 {rules.publicity_days} 天" in text
    assert not re.findall(r"[A-Za-z]{4,}", text)
