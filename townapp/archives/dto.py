"""What the archive service takes and gives: plain dataclasses, never ORM objects.

Yearly figures travel as a ``dict`` keyed by the field names of
resources/archives/fields.json (money in 分), so the GUI, the printable
archive and the rules share one list of fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class PartyCounts:
    """Derived from the registry, never typed: 正式, 预备, 女, 35岁及以下, 流动."""

    total: int = 0
    formal: int = 0
    probationary: int = 0
    female: int = 0
    young: int = 0
    mobile: int = 0


@dataclass
class ProfileData:
    village_id: int
    year: int
    values: dict[str, Any] = field(default_factory=dict)
    party: PartyCounts = PartyCounts()


@dataclass
class YearData:
    village_id: int
    year: int
    values: dict[str, Any] = field(default_factory=dict)
    # fields a finalised 定级 wrote (org_star, secretary_star, creation_level) → where from, in words;
    # shown read-only (来自评星定级) and a hand edit that differs is refused
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class CadreData:
    person_id: int | None
    post: str
    one_shoulder: bool = False
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    term_no: int | None = None
    name: str = ""
    id: int | None = None


@dataclass
class TermData:
    term_no: int
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    completed: bool = False
    note: str | None = None
    id: int | None = None


@dataclass
class FirstSecretaryData:
    name: str
    unit: str | None = None
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    phone: str | None = None
    id: int | None = None


@dataclass
class TalentData:
    kind: str
    name: str
    person_id: int | None = None
    birth_date: dt.date | None = None
    education: str | None = None
    measures: str | None = None
    arrived_on: dt.date | None = None
    workplace: str | None = None
    industry: str | None = None
    contact: str | None = None
    return_intent: str | None = None
    returned: bool = False
    phone: str | None = None
    id: int | None = None


@dataclass
class PayData:
    person_id: int | None
    post: str
    months: int = 12
    grade: str | None = None
    name: str = ""
    id: int | None = None
    grade_source: str = ""  # the 书记's 考核等级 taken from the annual 星级化管理 result, in words (read-only)


@dataclass(frozen=True)
class PayLine:
    name: str
    post: str
    months: int
    grade: str
    basic: int
    assessment: int
    star: int
    creation: int
    total: int
    bonus: int = 0  # 晋位奖励 and the 连续/累计 award (扬州), included in total
    remark: str = ""  # why a bonus is paid, where the grade came from
    monthly: int = 0  # the monthly basic pay (分) paid in each month in post: the monthly payroll's cells


@dataclass(frozen=True)
class PayTable:
    """报酬发放表 of one village and year (amounts in 分)."""

    village_code: str
    village_name: str
    year: int
    basis: str  # the year's inputs in words: 创建等级, 星级, 重点村
    lines: tuple[PayLine, ...]
    activity_fund: int = 0  # 村级活动经费 for the creation level (to the village, not in any cadre's total)
    streak: str = ""  # the organisation's 四星/五星 count in words: 连续N年、累计M次
    creation_level: str = ""

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)


@dataclass
class CentreData:
    address: str | None = None
    area_m2: Decimal | None = None
    built_year: int | None = None
    rooms: list[str] = field(default_factory=list)


@dataclass
class CooperativeData:
    name: str
    members: int | None = None
    income_to_collective: int | None = None
    id: int | None = None


@dataclass
class RectificationData:
    year: int
    clauses: list[str] = field(default_factory=list)  # clause codes of rectification.json
    measures: str | None = None
    leader: str | None = None
    accepted_on: dt.date | None = None
    score: Decimal | None = None
    result: str | None = None
    review_on: dt.date | None = None
    review_note: str | None = None
    id: int | None = None

    @property
    def stage(self) -> str:
        """Where the case stands: 整顿中 → 已验收/验收未通过 → 已回头看."""
        if self.review_on:
            return "已回头看"
        if self.result == "通过":
            return "已验收"
        if self.result == "未通过":
            return "验收未通过"
        return "整顿中"


@dataclass
class CommitmentData:
    year: int
    title: str
    owner: str | None = None
    deadline: dt.date | None = None
    status: str = "未开始"
    completed_on: dt.date | None = None
    id: int | None = None


@dataclass
class AttendanceData:
    party_member_id: int
    status: str  # 出席 / 请假 / 缺席
    reason: str | None = None
    name: str = ""


@dataclass
class MeetingData:
    held_on: dt.date
    kind: str
    topic: str
    host: str | None = None
    attendance: list[AttendanceData] = field(default_factory=list)
    id: int | None = None

    def count(self, status: str) -> int:
        return sum(1 for a in self.attendance if a.status == status)


@dataclass(frozen=True)
class AttachmentData:
    id: int
    title: str
    sha256: str
    size: int
    suffix: str
    year: int | None
    meeting_id: int | None
    rectification_id: int | None


@dataclass(frozen=True)
class RuleViolation:
    """A broken rule with where it is: what ``townapp check`` and the overview list."""

    village_code: str
    village_name: str
    year: int | None
    rule_id: str
    severity: str
    message: str
    fields: tuple[str, ...] = ()

    def describe(self) -> str:
        year = f"{self.year}年" if self.year else ""
        return f"{self.village_name}（{self.village_code}）{year}：{self.message}［规则 {self.rule_id}］"


@dataclass(frozen=True)
class OverviewRow:
    village_id: int
    code: str
    name: str
    latest_year: int | None
    total_income: int | None
    business_income: int | None
    debt_closing: int | None
    creation_level: str | None
    rectifying: bool
    errors: int
    warnings: int


@dataclass(frozen=True)
class YearPoint:
    """One year on the village chart (分)."""

    year: int
    total_income: int | None
    business_income: int | None
    debt_closing: int | None


@dataclass(frozen=True)
class PartyMemberChoice:
    party_member_id: int
    person_id: int
    name: str
