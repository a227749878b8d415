"""Registry figures for returns and the dashboard: party members and households per village, as of a date.

Party members are counted as the roll stood on the quarter's last day: joined
by then, 党籍 still 正常 then (a member who left later still counts), 正式
only once 转正 by then. Age bands and the education cut come from
resources/returns/figures.json.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townapp.core.dates import age_on
from townapp.db.fast import fetch_rows
from townapp.outputs.figures import Figure, FigureValue, Period, read_once
from townapp.outputs.parameters import figure_parameters
from townapp.registry import models as m


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    return figure_parameters()


@dataclass(frozen=True)
class _Member:
    village_id: int
    formal: bool
    female: bool
    minority: bool
    age: int
    college: bool
    joined_in_period: bool
    mobility: str
    duty_post: bool = False  # 设岗定责: has a post


def _members(s: Session, period: Period) -> list[_Member]:
    """The roll on the period's last day, read once per session and period."""
    return read_once(s, ("registry.members", period), lambda: _read_members(s, period))


def _read_members(s: Session, period: Period) -> list[_Member]:
    end = period.end
    counted = set(parameters()["member_status_counted"])
    college = set(parameters()["college_education"])
    rows = fetch_rows(s.connection(), (  # a county's 30,000 members: straight from the cursor
        select(m.Person.village_id, m.Person.sex, m.Person.ethnicity, m.Person.birth_date, m.Person.education,
               m.PartyMember.member_type, m.PartyMember.joined_on, m.PartyMember.confirmed_on,
               m.PartyMember.status, m.PartyMember.status_date, m.PartyMember.mobility,
               m.PartyMember.mobility_since, m.PartyMember.duty_post)
        .join(m.Person, m.Person.id == m.PartyMember.person_id)
        .where(m.Person.village_id.is_not(None))
        .order_by(m.PartyMember.id)))
    out = []
    for (village_id, sex, ethnicity, birth, education, member_type, joined, confirmed, status, status_date,
         mobility, mobility_since, duty_post) in rows:
        if joined is not None and joined > end:
            continue
        if status not in counted and (status_date is None or status_date <= end):
            continue
        formal = member_type == "正式党员" and (confirmed is None or confirmed <= end)
        moved = mobility if mobility_since is None or mobility_since <= end else "在村"
        out.append(_Member(village_id, formal, sex == "女", (ethnicity or "汉族") != "汉族", age_on(birth, end),
                           (education or "") in college,
                           joined is not None and period.start <= joined <= end, moved, bool((duty_post or "").strip())))
    return out


def _count(test: Callable[[_Member], bool]) -> Callable[[Session, Period, Sequence[int]], dict[int, FigureValue]]:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        wanted = set(village_ids)
        out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
        for member in _members(s, period):
            if member.village_id in wanted and test(member):
                out[member.village_id] += 1  # type: ignore[operator]
        return out
    return compute


def _households(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    """Households on the register (the register keeps no dates, so: as entered now)."""
    out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
    for village_id, count in s.execute(select(m.Household.village_id, func.count())
                                       .group_by(m.Household.village_id)):
        if village_id in out:
            out[village_id] = count
    return out


def figures() -> list[Figure]:
    bands = parameters()["age_bands"]
    young, middle = bands["young_max"], bands["middle_max"]
    return [
        Figure("registry.households", "户数", _households),
        Figure("party.members_total", "党员总数", _count(lambda x: True)),
        Figure("party.members_full", "正式党员", _count(lambda x: x.formal)),
        Figure("party.members_probationary", "预备党员", _count(lambda x: not x.formal)),
        Figure("party.members_female", "女党员", _count(lambda x: x.female)),
        Figure("party.members_minority", "少数民族党员", _count(lambda x: x.minority)),
        Figure("party.age_young", f"{young}岁及以下", _count(lambda x: x.age <= young)),
        Figure("party.age_middle", f"{young + 1}–{middle}岁", _count(lambda x: young < x.age <= middle)),
        Figure("party.age_old", f"{middle + 1}岁及以上", _count(lambda x: x.age > middle)),
        Figure("party.college", "大专及以上", _count(lambda x: x.college)),
        Figure("party.developed_in_quarter", "本季度发展党员", _count(lambda x: x.joined_in_period)),
        Figure("party.mobile", "流动党员", _count(lambda x: x.mobility == "流动")),
        Figure("party.lost", "失联党员", _count(lambda x: x.mobility == "失联")),
        Figure("party.duty_posts", "设岗定责党员", _count(lambda x: x.duty_post)),
    ]
