"""What the grid service takes and gives: plain dataclasses, never ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class GridInput:
    village_id: int
    level: str
    code: str
    name: str
    parent_id: int | None = None
    scope: str | None = None
    party_group_id: int | None = None
    note: str | None = None
    changed_on: dt.date | None = None  # when a move takes effect (today when empty)
    id: int | None = None


@dataclass(frozen=True)
class GridNode:
    """One grid of a village's tree; households and people are derived from current assignments below it."""

    id: int
    village_id: int
    parent_id: int | None
    level: str
    code: str
    name: str
    scope: str | None
    party_group_id: int | None
    party_group: str | None
    active: bool
    retired_on: dt.date | None
    note: str | None
    households: int
    people: int
    members: int
    head: str | None

    def as_input(self) -> GridInput:
        return GridInput(self.village_id, self.level, self.code, self.name, self.parent_id, self.scope,
                         self.party_group_id, self.note, None, self.id)


@dataclass(frozen=True)
class GridChangeRow:
    changed_on: dt.date
    kind: str
    detail: str | None
    username: str


@dataclass
class MemberInput:
    grid_id: int
    person_id: int
    role: str
    duty: str = "兼职"
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    phone: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class MemberRow:
    id: int
    grid_id: int
    grid_code: str
    person_id: int
    name: str
    role: str
    duty: str
    started_on: dt.date
    ended_on: dt.date | None
    phone: str | None

    @property
    def serving(self) -> bool:
        return self.ended_on is None or self.ended_on >= dt.date.today()

    def as_input(self) -> MemberInput:
        return MemberInput(self.grid_id, self.person_id, self.role, self.duty, self.started_on, self.ended_on,
                           self.phone, self.id)


@dataclass(frozen=True)
class PersonChoice:
    id: int
    name: str
    id_masked: str
    phone: str | None
    household_number: str | None


@dataclass(frozen=True)
class HouseholdChoice:
    """A household as the assignment dialog lists it, with the micro-grid it is in now."""

    id: int
    number: str
    head: str
    group_id: int | None
    group: str
    address: str
    people: int
    grid_id: int | None
    grid: str  # "code name" of the current micro-grid, '' when unassigned


@dataclass(frozen=True)
class AssignmentRow:
    household_id: int
    grid_id: int
    grid_code: str
    grid_name: str
    started_on: dt.date
    ended_on: dt.date | None


@dataclass(frozen=True)
class AssignResult:
    created: int
    moved: int
    unchanged: int

    def describe(self) -> str:
        return f"新划入 {self.created} 户，调整 {self.moved} 户，{self.unchanged} 户原已在该微网格"


@dataclass
class Coverage:
    """Coverage of one village (or, with ``village_id`` None, the whole township)."""

    village_id: int | None
    name: str
    households: int = 0
    assigned: int = 0
    grids: dict[str, int] = field(default_factory=dict)  # active grids by level
    grids_without_member: list[str] = field(default_factory=list)  # "code name"
    grids_without_head: list[str] = field(default_factory=list)
    members_by_role: dict[str, int] = field(default_factory=dict)
    unassigned_numbers: list[str] = field(default_factory=list)  # 户编号 of households in no micro-grid

    @property
    def unassigned(self) -> int:
        return self.households - self.assigned

    @property
    def rate_permille(self) -> int:
        """Households covered, in ‰ (integer, exact enough for a chart and a table)."""
        return 1000 if self.households == 0 else self.assigned * 1000 // self.households


@dataclass(frozen=True)
class CoverageReport:
    villages: list[Coverage]
    township: Coverage


@dataclass
class ScoreEntry:
    """What one row of the monthly sheet holds: item scores in tenths (None: not yet entered)."""

    member_id: int
    scores: dict[str, int | None]
    deduction: int = 0
    deduction_reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class SheetRow:
    member_id: int
    village_id: int
    village: str
    grid_code: str
    grid_name: str
    person_id: int
    name: str
    role: str
    duty: str
    scores: dict[str, int | None]
    deduction: int
    deduction_reason: str | None
    note: str | None
    total: int | None
    rank: int | None
    band: str
    performance_fen: int | None
    allowance_fen: int | None
    subsidy_fen: int | None

    def as_entry(self) -> ScoreEntry:
        return ScoreEntry(self.member_id, dict(self.scores), self.deduction, self.deduction_reason, self.note)


@dataclass(frozen=True)
class MonthState:
    year: int
    month: int
    status: str  # 草稿 | 待审批 | 已审批 | 已解锁
    locked: bool
    submitted_by: str | None
    approved_by: str | None
    approved_at: dt.datetime | None
    unlocked_by: str | None

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"


@dataclass(frozen=True)
class MonthSheet:
    state: MonthState
    rows: list[SheetRow]


@dataclass(frozen=True)
class StarRow:
    member_id: int
    village_id: int
    village: str
    name: str
    grid: str
    total: int | None
    rank: int | None
    deeds: str
    chosen_by: str


@dataclass(frozen=True)
class SubsidyRow:
    number: int
    village: str
    grid: str
    name: str
    role: str
    duty: str
    total: int
    band: str
    performance_fen: int
    allowance_fen: int
    subsidy_fen: int


@dataclass(frozen=True)
class SubsidyList:
    """补助发放表 of an approved month: the rows and their sums, all in 分."""

    title: str
    township: str
    year: int
    month: int
    approved_by: str | None
    rows: list[SubsidyRow]
    signature_header: str

    @property
    def total_performance(self) -> int:
        return sum(r.performance_fen for r in self.rows)

    @property
    def total_allowance(self) -> int:
        return sum(r.allowance_fen for r in self.rows)

    @property
    def total(self) -> int:
        return sum(r.subsidy_fen for r in self.rows)
