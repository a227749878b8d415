"""A scheme in words: what the 评定方案 window shows a township clerk first.

The stored definition is JSON with English keys and codes (it is data the
engine reads, hashed and versioned); a clerk should not have to read it to know
what a scheme does. This renders the parsed scheme in Chinese — object,
period, how it is scored, the indicators, the negative list, the levels and
the steps with who does each — from the same vocabulary the screens use.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from townapp.evaluations.schemes import Scheme, period_label, target_label, vocabulary

_EFFECTS = {"veto": "一票否决", "cap": "最高评为", "raise": "上浮"}
_CONDITIONS = {"in": "为", "below": "低于", "above": "高于"}


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def describe_scheme(scheme: Scheme, figure_label: Callable[[str], str] = str) -> str:
    """The scheme as Chinese text, section by section (``figure_label`` names a computed indicator's figures)."""
    words = vocabulary()
    lines = [f"【{scheme.name}】", scheme.description, "",
             f"评定对象：{target_label(scheme.target)}　周期：{period_label(scheme.period)}　"
             f"计分方式：{words['measures'].get(scheme.measure, scheme.measure)}", ""]
    lines.append("一、评定内容")
    for category, indicators in scheme.categories:
        lines.append(f"　{category}")
        for item in indicators:
            worth = (f"（{_number(item.max)}分）" if item.max is not None
                     else f"（{item.level}）" if item.level else f"（{item.stars}星）" if scheme.measure == "stars" else "")
            lines.append(f"　　{item.code} {item.name}{worth}{'：' + item.note if item.note else ''}")
            if item.computed is not None:
                conditions = "；".join(_condition(c, figure_label) for c in item.computed.conditions)
                lines.append(f"　　　　按{item.computed.source}的数据自动判定：{conditions}")
    if scheme.negatives:
        lines += ["", "二、否定项"]
        for negative in scheme.negatives:
            effect = "一票否决" if negative.effect == "veto" else f"最高评为{negative.cap}"
            lines.append(f"　{negative.code} {negative.name}（{effect}）")
    if scheme.input_rules:
        lines += ["", "三、其他规定"]
        lines += [f"　{rule.reason}" for rule in scheme.input_rules]
    lines += ["", "四、等级"]
    for level in scheme.levels:
        lines.append(f"　{level.name}" + (f"：不低于 {_number(level.min)}" if level.min is not None else ""))
    lines.append(f"　达不到最低等级的：{scheme.unrated}")
    if scheme.ban_years:
        lines.append(f"　称号被撤销的，{scheme.ban_years}年内不得参评")
    lines += ["", "五、评定步骤"]
    for number, stage in enumerate(scheme.stages, start=1):
        extra = f"，公示{stage.days}天" if stage.is_publicity and stage.days else ""
        level = words["stage_levels"].get(stage.level, stage.level)
        lines.append(f"　{number}. {stage.name}（{stage.actor}；{level}{extra}）")
    if scheme.joint_bodies:
        lines.append(f"　联评组织：{'、'.join(scheme.joint_bodies)}")
    return "\n".join(lines)


def _condition(condition: object, figure_label: Callable[[str], str]) -> str:
    c = condition  # a schemes.Condition
    name = figure_label(c.figure)  # type: ignore[attr-defined]
    if c.than:  # type: ignore[attr-defined]
        return f"{name}不低于{figure_label(c.than)}"  # type: ignore[attr-defined]
    value = c.value  # type: ignore[attr-defined]
    shown = _number(value) if isinstance(value, Decimal) else str(value)
    if c.share_of:  # type: ignore[attr-defined]
        name = f"{name}占{figure_label(c.share_of)}的比例（%）"  # type: ignore[attr-defined]
    op = {"min": "不低于", "max": "不高于", "equals": "为"}.get(c.op, c.op)  # type: ignore[attr-defined]
    return f"{name}{op}{shown}{c.unit}"  # type: ignore[attr-defined]
