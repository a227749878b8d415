"""What the points service hands out and takes in: plain dataclasses, never ORM objects.

Points are integer tenths (``*_tenths`` / ``points``); ``format_points`` shows them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class RuleSetInfo:
    id: int | None  # None: the shipped default, not yet stored for the year
    year: int
    version: int
    name: str
    digest: str
    source: str | None
    created_at: dt.datetime | None


@dataclass(frozen=True)
class RuleRow:
    code: str
    name: str
    category: str
    category_path: str  # 组织生活 / 三会一课
    direction: str
    points_text: str
    caps_text: str
    category_cap_text: str
    evidence: bool
    review: str
    applies_to: str
    meeting: str  # "主题党日 出席" or ""
    fixed_tenths: int | None  # the points of a fixed rule; None for a range


@dataclass(frozen=True)
class MemberChoice:
    party_member_id: int
    person_id: int
    name: str
    village_id: int | None
    village: str
    category: str  # 积分管理类别
    id_tail: str  # masked ID number: enough to tell two people of one name apart
    branch: str = ""


@dataclass
class EntryInput:
    """One rule for many members at once (the entry screen's bulk form)."""

    rule_code: str
    occurred_on: dt.date | None
    member_ids: list[int]
    points: str | None = None  # required for ranged rules; fixed rules take their points
    note: str | None = None
    evidence: str | None = None
    meeting_id: int | None = None


@dataclass
class RecordInput:
    """Corrections of a rejected record before it is resubmitted."""

    occurred_on: dt.date | None
    points: str | None = None
    note: str | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class Proposal:
    """One attendee (or absentee) of a meeting and the record the meeting would give them."""

    party_member_id: int
    name: str
    attendance: str
    rule_code: str | None
    rule_name: str
    points: int  # signed tenths; 0 when nothing is proposed
    skip_reason: str = ""  # why no record is proposed (免考, 请假, 已录入 …)

    @property
    def proposed(self) -> bool:
        return not self.skip_reason


@dataclass(frozen=True)
class MeetingProposal:
    meeting_id: int
    village_id: int
    held_on: dt.date
    kind: str
    topic: str
    proposals: list[Proposal]

    @property
    def proposed(self) -> list[Proposal]:
        return [p for p in self.proposals if p.proposed]


@dataclass(frozen=True)
class RecordRow:
    id: int
    party_member_id: int
    name: str
    village_id: int | None
    village: str
    occurred_on: dt.date
    year: int
    rule_code: str
    rule_name: str
    category_name: str
    direction: str
    points: int  # signed tenths as entered
    status: str
    review_level: str
    note: str
    evidence: str
    reject_reason: str
    effective_on: dt.date | None
    reverses_id: int | None
    reversed: bool
    resubmissions: int
    rule_set_version: int = 0
    counted: int | None = None  # after caps (effective records on a card)


@dataclass(frozen=True)
class EventRow:
    at: dt.datetime
    username: str
    action: str
    detail: str


@dataclass(frozen=True)
class MemberTotals:
    party_member_id: int
    year: int
    base: int
    total: int
    grade: str
    by_category: list[tuple[str, int]]  # (top category name, signed tenths incl. base)
    months: list[int]
    quarters: list[int]
    cumulative: list[int]
    earning: int


@dataclass(frozen=True)
class TotalRow:
    """One member's year on the summary and ranking views."""

    party_member_id: int
    name: str
    village_id: int | None
    village: str
    branch: str
    category: str
    total: int
    grade: str


@dataclass(frozen=True)
class LedgerRow:
    at: dt.datetime
    kind: str
    amount: int
    balance_after: int
    note: str


@dataclass(frozen=True)
class RedemptionDTO:
    id: int
    number: str
    party_member_id: int
    member_name: str
    village: str
    item_id: int
    item_name: str
    quantity: int
    points: int  # tenths, total
    status: str
    redeemed_at: dt.datetime
    picked_up_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str
    handled_by: str
    pickup_point: str = ""
    balance_after: int | None = None


@dataclass(frozen=True)
class MemberCard:
    member: MemberChoice
    year: int
    totals: MemberTotals
    records: list[RecordRow]
    balance: int
    ledger: list[LedgerRow]
    redemptions: list[RedemptionDTO]
    rule_set_version: int


@dataclass(frozen=True)
class GroupSummary:
    """Per village or per branch: participants, average, highest, lowest, grade counts."""

    id: int | None
    name: str
    participants: int
    average: Decimal | None  # points (not tenths), one decimal, half up
    highest: int | None
    lowest: int | None
    grades: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PublicityDTO:
    id: int
    village_id: int | None
    village: str
    title: str
    starts_on: dt.date
    ends_on: dt.date
    closed_on: dt.date | None
    records: int


@dataclass(frozen=True)
class StoreItemDTO:
    id: int
    name: str
    points: int  # tenths
    stock: int
    pickup_point: str
    active: bool


@dataclass
class StoreItemInput:
    name: str
    points: str
    stock: int = 0
    pickup_point: str | None = None
    active: bool = True
    id: int | None = None
