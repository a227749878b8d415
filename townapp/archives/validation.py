"""The archive's record rules, written once: the service (behind the dialogs) and the importer call these.

Plain functions over a record's values, in the manner of ``registry/validation.py``;
the cross-field rules that are data (rules.json) stay in ``rules.py`` and are applied
here. Each returns ``FieldProblem``s (errors block a save or an import row, warnings
do not) with Chinese messages; field names are the model's attributes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

from townapp.archives import rules as r
from townapp.archives.models import ArchiveCommitment, ArchiveMeeting
from townapp.archives.remuneration import STAR_LABELS, STAR_LEVELS
from townapp.archives.vocab import clause_texts, fields, label, pass_mark, vocab, year_fields
from townapp.core.dates import latest
from townapp.core.errors import FieldProblem
from townapp.db.text_guard import length_problems

DONE = "已完成"
LEAVE = "请假"


def shown_rating(key: str, value: Any) -> str:
    """A star or creation level in words (三星, 未评星, 未达标)."""
    if key in STAR_LABELS:
        return f"{value}星" if value else "未评星"
    return value or "未达标"


def rating_problems(values: Mapping[str, Any], stored: Mapping[str, Any],
                    rated: Mapping[str, tuple[Any, str]]) -> list[FieldProblem]:
    """A field 定级 wrote (``rated``: key → (value, 来自评星定级（…）)) keeps what 定级 said: a dialog's
    edit and an imported cell alike are refused unless they say the same (or leave the stored value)."""
    problems = []
    for key, (rated_value, source) in rated.items():
        value = values.get(key)
        if key == "creation_level" and value:
            value = vocab("creation_level").canonical(value) or value
        if (value or None) in ((rated_value or None), (stored.get(key) or None)):
            continue
        problems.append(FieldProblem(key, f"{label(key)}{source}，不能手工改为“{shown_rating(key, value)}”："
                                          "请按定级结果填写；如定级有误，请在评星定级中解锁该轮、改正后重新定级"))
    return problems


def check_year(values: Mapping[str, Any], year: int | None = None,
               previous: Mapping[str, Any] | None = None) -> list[FieldProblem]:
    """A village-year's figures: vocabularies, star ratings and the rules of rules.json; with ``previous``
    (the year before's figures) also the carry-over rules (年初债务余额 = 上年年末余额)."""
    problems: list[FieldProblem] = []
    for f in year_fields():
        value = values.get(f.key)
        if f.vocabulary and value and vocab(f.vocabulary).canonical(value) is None:
            problems.append(FieldProblem(f.key, f"{f.label}“{value}”不在取值表中"))
        # 村党组织评星定级 一至五星, 书记星级化管理 一至九星 (0: 未评星)
        if f.key in STAR_LEVELS and value is not None and not 0 <= value <= STAR_LEVELS[f.key]:
            problems.append(FieldProblem(f.key, f"{f.label}应为0至{STAR_LEVELS[f.key]}星"))
    found = r.check_year({f.key: values.get(f.key) for f in year_fields()})
    if year is not None and previous is not None:
        found += r.check_carry_over(year, values, previous)
    for violation in found:
        for key in violation.fields or ("",):
            problems.append(FieldProblem(key, violation.message, violation.severity))
    return problems


def check_rectification(year: int, clauses: Sequence[str], score: Decimal | None, result: str | None,
                        accepted_on: dt.date | None, review_on: dt.date | None) -> list[FieldProblem]:
    """A 软弱涣散 case: known clauses, a score and result that agree with the pass mark, dates in order."""
    problems: list[FieldProblem] = []
    known = clause_texts()
    if not clauses:
        problems.append(FieldProblem("clauses", "请至少选择一条认定条款"))
    problems += [FieldProblem("clauses", f"认定条款“{c}”不在条款清单中（可填：{'、'.join(known)}）")
                 for c in clauses if c not in known]
    if score is not None and not Decimal(0) <= score <= Decimal(100):
        problems.append(FieldProblem("score", "验收得分应在0至100之间"))
    if result and vocab("rectification_result").canonical(result) is None:
        problems.append(FieldProblem("result", f"验收结果“{result}”不在取值表中"))
    if (score is not None or result) and not accepted_on:
        problems.append(FieldProblem("accepted_on", "填写验收得分或结果时请填写验收日期"))
    if review_on and result != "通过":
        problems.append(FieldProblem("review_on", "验收通过后才能进行回头看"))
    if accepted_on and accepted_on.year < year:
        problems.append(FieldProblem("accepted_on", "验收日期早于认定年度"))
    if score is not None and result:
        problems += [FieldProblem(f, v.message, v.severity)
                     for v in r.check_rectification(year, Decimal(score), result, pass_mark()) for f in v.fields]
    return problems


def check_commitment(status: str | None, completed_on: dt.date | None) -> list[FieldProblem]:
    """A commitment's state: a known status, a completion date exactly when it is done."""
    canonical = vocab("commitment_status").canonical(status)
    if canonical is None:
        return [FieldProblem("status", f"状态“{status}”不在取值表中")]
    if canonical == DONE and not completed_on:
        return [FieldProblem("completed_on", "已完成的事项请填写完成日期")]
    if canonical != DONE and completed_on:
        return [FieldProblem("completed_on", "未完成的事项不应有完成日期")]
    return []


def check_commitment_text(title: str | None, owner: str | None) -> list[FieldProblem]:
    """承诺事项 and 责任人 fit their columns, with the commitment sheet's names for them."""
    return length_problems(ArchiveCommitment, {"title": _stripped(title), "owner": _stripped(owner)},
                           {"title": "承诺事项", "owner": "责任人"})


def check_meeting_text(topic: str | None, host: str | None) -> list[FieldProblem]:
    """会议主题 and 主持人 fit their columns, with the meeting sheet's names for them."""
    return length_problems(ArchiveMeeting, {"topic": _stripped(topic), "host": _stripped(host)},
                           {"topic": "会议主题", "host": "主持人"})


def _stripped(text: str | None) -> str | None:
    return text.strip() if text else text


def check_attendance(status: str | None, reason: str | None, name: str | None = None) -> list[FieldProblem]:
    """One party member at a meeting: 出席, 请假 with a reason, or 缺席."""
    canonical = vocab("attendance").canonical(status)
    who = f"{name} " if name else ""
    if canonical is None:
        return [FieldProblem("status", f"{who}出席情况“{status}”应为 出席、请假 或 缺席")]
    if canonical == LEAVE and not (reason or "").strip():
        return [FieldProblem("reason", f"{who}请假，请填写请假原因")]
    return []


def check_attendee(party_member_id: int | None, name: str | None,
                   village_members: Collection[int]) -> list[FieldProblem]:
    """Who may be on a meeting's list: a party member in the register (正常) of the meeting's own village.

    ``village_members`` are those ids, preloaded once per village by the caller (the dialog's service,
    the importer); a member of another village would otherwise earn that village's meeting points.
    """
    if party_member_id not in village_members:
        return [FieldProblem("party_member_id", f"{name or party_member_id} 不是本村在册党员")]
    return []


def check_profile(values: Mapping[str, Any]) -> list[FieldProblem]:
    """A village-year's profile: no negative counts or areas, vocabularies as listed."""
    problems: list[FieldProblem] = []
    for f in fields("profile"):
        value = values.get(f.key)
        if f.kind in ("int", "decimal") and value is not None and value < 0:
            problems.append(FieldProblem(f.key, f"{f.label}不能为负数"))
        if f.vocabulary and value and vocab(f.vocabulary).canonical(value) is None:
            problems.append(FieldProblem(f.key, f"{f.label}“{value}”不在取值表中"))
    return problems


def check_centre(area_m2: Decimal | None, built_year: int | None) -> list[FieldProblem]:
    """The 党群服务中心: a real area and a plausible year."""
    problems: list[FieldProblem] = []
    if area_m2 is not None and area_m2 < 0:
        problems.append(FieldProblem("area_m2", "面积不能为负数"))
    if built_year is not None and not 1949 <= built_year <= dt.date.today().year + 1:
        problems.append(FieldProblem("built_year", "建成年份不合理"))
    return problems


def check_cooperative(name: str | None, members: int | None, income: int | None) -> list[FieldProblem]:
    """A 领办合作社: named, no negative members or income."""
    problems: list[FieldProblem] = []
    if not (name or "").strip():
        problems.append(FieldProblem("name", "合作社名称不能为空"))
    if (members or 0) < 0 or (income or 0) < 0:
        problems.append(FieldProblem("members" if (members or 0) < 0 else "income_to_collective",
                                     "成员数和收入不能为负数"))
    return problems


def check_pay(person_id: int | None, post: str | None, months: int | None, grade: str | None) -> list[FieldProblem]:
    """One cadre's pay basis: a person, a listed post and grade, 0 to 12 months."""
    problems: list[FieldProblem] = []
    if person_id is None:
        problems.append(FieldProblem("person_id", "请选择人员"))
    if vocab("cadre_post").canonical(post) is None:
        problems.append(FieldProblem("post", f"职务“{post}”不在取值表中"))
    if not 0 <= (months or 0) <= 12:
        problems.append(FieldProblem("months", "任职月数应为0至12"))
    if grade and vocab("pay_grade").canonical(grade) is None:
        problems.append(FieldProblem("grade", f"考核等级“{grade}”不在取值表中"))
    return problems


def rated_grade_problems(grade: str | None, rated_grade: str | None, source: str) -> list[FieldProblem]:
    """The rated 书记's 考核等级 is the annual result 定级 wrote (``source``): a dialog's edit and an
    imported cell alike must say the same."""
    if rated_grade is None or (vocab("pay_grade").canonical(grade) if grade else None) == rated_grade:
        return []
    return [FieldProblem("grade", f"书记的考核等级{source}，不能手工改为“{grade or '空'}”，应为“{rated_grade}”")]


def check_term(starts_on: dt.date | None, ends_on: dt.date | None) -> list[FieldProblem]:
    """A 换届 term ends after it starts."""
    if starts_on and ends_on and latest(ends_on) < starts_on:  # a month (2021.03) ends at its last day
        return [FieldProblem("ends_on", "届满日期早于开始日期")]
    return []


def check_cadre(person_id: int | None, post: str | None, started_on: dt.date | None,
                ended_on: dt.date | None) -> list[FieldProblem]:
    """One 两委 post: a person, a listed post, a term that ends after it starts."""
    problems: list[FieldProblem] = []
    if person_id is None:
        problems.append(FieldProblem("person_id", "请选择任职人员"))
    if vocab("cadre_post").canonical(post) is None:
        problems.append(FieldProblem("post", f"职务“{post}”不在取值表中"))
    if started_on and ended_on and latest(ended_on) < started_on:  # a month (2021.03) ends at its last day
        problems.append(FieldProblem("ended_on", "离任日期早于任职日期"))
    return problems
