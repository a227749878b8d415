"""Field rules for people and households, shared by dialogs (inline) and the service."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import operator
import re
from collections.abc import Callable

from townapp.core.dates import age_on, agrees, latest
from townapp.core.errors import FieldProblem
from townapp.core.idcard import IdInfo, IdNumberError, normalize_id_number, parse_id_number
from townapp.core.text import clean_name, control_problem, normalize_phone
from townapp.db.text_guard import length_problems
from townapp.registry.dto import HouseholdInput, PartyInput, PersonInput
from townapp.registry.models import Household, PartyMember, Person
from townapp.registry.vocab import vocab

VILLAGE_CODE = re.compile(r"^\d{12}$")
TOWNSHIP_CODE = re.compile(r"^\d{9}(\d{3})?$")
COUNTY_CODE = re.compile(r"^\d{6}$")
# PartyInput fields that take a value from a vocabulary, and which one
PARTY_VOCABULARIES = {"member_type": "member_type", "status": "party_status", "mobility": "mobility",
                      "points_category": "points_category"}
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}|\d{7,8})$")


_LABELS = {"name": "姓名", "id_number": "身份证号", "sex": "性别", "ethnicity": "民族", "education": "文化程度",
           "phone": "联系电话", "note": "备注", "number": "户编号", "address": "地址", "destination": "流动去向",
           "party_post": "党内职务", "duty_post": "设岗定责岗位", "member_type": "党员类别", "status": "党籍状态",
           "mobility": "流动情况", "points_category": "积分管理类别"}


_PARTY_TEXTS = ("party_post", "destination", "duty_post")  # typed freely (the others are vocabularies)


def _stripped(text: str | None) -> str | None:
    """Free text as it is measured for its length: what is kept once the ends are trimmed."""
    return text.strip() if text else text


def text_problems(data: object, prefix: str = "") -> list[FieldProblem]:
    """Control characters in any text field of an input (the rule of core.text.clean_text, for dialogs):
    they make every later .xlsx export fail, so they are refused where they are typed."""
    names, values = _fields_of(type(data))
    texts = [v for v in values(data) if v.__class__ is str]
    if "".join(texts).isprintable():  # nearly every input: one pass in C for all its fields
        return []
    problems = []
    for name, value in zip(names, values(data), strict=True):
        if value.__class__ is str and (problem := control_problem(value, _LABELS.get(name, ""))) is not None:
            problems.append(FieldProblem(prefix + name, problem))
    return problems


@functools.cache
def _fields_of(kind: type) -> tuple[tuple[str, ...], Callable[[object], tuple[object, ...]]]:
    """An input class's field names and a getter of all their values, made once (imports check
    thousands of rows)."""
    names = tuple(item.name for item in dataclasses.fields(kind))
    getter = operator.attrgetter(*names)
    return names, (getter if len(names) > 1 else lambda data: (getter(data),))


def check_person(data: PersonInput, today: dt.date | None = None) -> tuple[list[FieldProblem], IdInfo | None]:
    """Problems with one person's fields (no database look-ups) and the parsed ID."""
    problems = text_problems(data)
    if problems:
        return problems, None
    name = clean_name(data.name or "")
    if not name:
        problems.append(FieldProblem("name", "姓名不能为空"))
    problems += length_problems(Person, {"name": name, "note": _stripped(data.note)}, _LABELS)
    info: IdInfo | None = None
    try:
        info = parse_id_number(data.id_number or "", today)
    except IdNumberError as exc:
        problems.append(FieldProblem("id_number", exc.message))
    if info is not None:
        problems.extend(FieldProblem("id_number", w, "warning") for w in info.warnings)
        sex = vocab("sex").canonical(data.sex) if data.sex else None
        if data.sex and sex is None:
            problems.append(FieldProblem("sex", f"性别“{data.sex}”无法识别，请填 男 或 女"))
        elif sex and sex != info.sex:
            problems.append(FieldProblem("sex", f"性别与身份证号不符：身份证号显示为{info.sex}"))
        if data.birth_date and not agrees(data.birth_date, info.birth_date):  # 出生年月 1965.03: to the month
            problems.append(FieldProblem("birth_date",
                                         f"出生日期与身份证号不符：身份证号显示为 {info.birth_date:%Y-%m-%d}"))
    for name, value in (("ethnicity", data.ethnicity), ("education", data.education)):
        if value and vocab(name).canonical(value) is None:
            problems.append(FieldProblem(name, f"{vocab(name).label}“{value}”不在取值表中"))
    if data.phone and not PHONE.match(data.phone) and not PHONE.match(normalize_phone(data.phone)):
        problems.append(FieldProblem("phone", "联系电话应为11位手机号或带区号的固定电话"))
    if data.party is not None:
        problems.extend(check_party(data.party, info))
    return problems, info


def check_party(party: PartyInput, info: IdInfo | None) -> list[FieldProblem]:
    problems = text_problems(party, "party.")
    if problems:
        return problems
    problems += length_problems(PartyMember, {k: _stripped(getattr(party, k)) for k in _PARTY_TEXTS}, _LABELS,
                                "party.")
    for name, vocabulary in PARTY_VOCABULARIES.items():
        value = getattr(party, name)
        if vocab(vocabulary).canonical(value) is None:
            problems.append(FieldProblem(f"party.{name}", f"{vocab(vocabulary).label}“{value}”不在取值表中"))
    # a month (入党时间 1978.02) is checked at its latest day: only what is surely wrong is refused
    if party.joined_on and info and age_on(info.birth_date, latest(party.joined_on)) < 18:
        problems.append(FieldProblem("party.joined_on", "入党日期早于年满18周岁，请核对"))
    if party.confirmed_on and party.joined_on and latest(party.confirmed_on) < party.joined_on:
        problems.append(FieldProblem("party.confirmed_on", "转正日期不能早于入党日期"))
    if vocab("member_type").canonical(party.member_type) == "预备党员" and party.confirmed_on:
        problems.append(FieldProblem("party.confirmed_on", "预备党员不应有转正日期"))
    if vocab("mobility").canonical(party.mobility) in ("流动", "失联") and not party.mobility_since:
        problems.append(FieldProblem("party.mobility_since", "流动或失联党员请填写开始日期"))
    return problems


def check_household(data: HouseholdInput) -> list[FieldProblem]:
    """Household-level rules: number, exactly one 户主, no person twice."""
    problems = text_problems(data)
    problems += length_problems(Household, {"address": _stripped(data.address), "note": _stripped(data.note)},
                                _LABELS)
    if not (data.number or "").strip():
        problems.append(FieldProblem("number", "户编号不能为空"))
    relations = [vocab("relation").canonical(m.relation) for m in data.members]
    for index, (member, relation) in enumerate(zip(data.members, relations, strict=True)):
        if relation is None:
            problems.append(FieldProblem(f"members[{index}].relation", f"与户主关系“{member.relation}”无法识别"))
    heads = relations.count("户主")
    if heads != 1:
        problems.append(FieldProblem("members", "每户必须有且只有一位户主" + ("（现在没有户主）" if heads == 0 else f"（现在有{heads}位）")))
    seen: set[str] = set()
    for index, member in enumerate(data.members):
        number = normalize_id_number(member.person.id_number or "")
        if number and number in seen:
            problems.append(FieldProblem(f"members[{index}].id_number", "同一人在本户中出现了两次"))
        seen.add(number)
    return problems
