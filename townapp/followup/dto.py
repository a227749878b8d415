"""What the follow-up service takes and gives: plain dataclasses, never ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class ItemRow:
    """One line of the 整改跟踪 list."""

    id: int
    village_id: int
    village: str
    year: int
    kind: str
    subject: str
    title: str
    source: str  # 2025年度村党组织评星定级 二星
    deadline: dt.date | None
    status: str
    overdue: bool  # the item or one of its open problems is past its deadline
    problems_open: int
    problems_total: int
    closed_on: dt.date | None


@dataclass
class ProblemData:
    """One problem of a 问题清单 (id None: a new one)."""

    content: str
    deadline: dt.date | None = None
    status: str = "整改中"
    closed_on: dt.date | None = None
    note: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class EventRow:
    at: dt.datetime
    username: str
    from_status: str | None
    to_status: str
    note: str


@dataclass(frozen=True)
class ItemDetail:
    row: ItemRow
    content: str
    round_id: int | None
    level: str
    proposed_on: dt.date
    accepted_on: dt.date | None
    progress_note: str
    result_note: str
    rectification_id: int | None
    problems: list[ProblemData]
    history: list[EventRow]


@dataclass
class ItemInput:
    """A follow-up item added by hand (e.g. a problem found in an inspection)."""

    village_id: int
    year: int
    kind: str
    title: str
    content: str = ""
    deadline: dt.date | None = None
    problems: list[ProblemData] = field(default_factory=list)


@dataclass
class ProposeReport:
    """What ``propose(year)`` did: new items per kind, and what it found already there."""

    year: int
    created: dict[str, int] = field(default_factory=dict)
    existing: int = 0
    rounds: list[str] = field(default_factory=list)
    new_items: list[str] = field(default_factory=list)  # 村：事项 of each item created (or, dry, to create)
    withdrawn: list[str] = field(default_factory=list)  # 村：事项 of 拟办 rated again out of the rule's reach

    @property
    def total(self) -> int:
        return sum(self.created.values())

    def describe(self) -> str:
        if not self.rounds:
            return f"{self.year}年还没有已定级的评星定级或头雁指数评定，没有可转为整改跟踪的结果。"
        made = "、".join(f"{kind}{n}项" for kind, n in self.created.items() if n)
        return (f"读取{self.year}年已定级评定{len(self.rounds)}轮（{'、'.join(self.rounds)}）："
                f"{'新增拟办' + made if made else '没有新增事项'}；已有事项{self.existing}项保持不变"
                + (f"；{len(self.withdrawn)}项拟办因重新定级不再适用，已撤回" if self.withdrawn else "") + "。")


@dataclass(frozen=True)
class AdjustRow:
    """A secretary on a 头雁指数 round's 建议调整名单."""

    target_id: int
    village_id: int
    village: str
    name: str
    level: str
    measure: Decimal | None
    reasons: str
    follow_up: str  # the follow-up item's status, or 未转整改跟踪


@dataclass(frozen=True)
class RoundChoice:
    """A 头雁指数 round the 调整名单 tab can show."""

    id: int
    name: str
    final: bool
    flagged: int
