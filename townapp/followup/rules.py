"""Which results become which follow-up work: the rules are data (resources/followup/rules.json).

Code knows the three kinds of follow-up (整顿, 问题清单, 调整建议) and the
status workflow; which scheme, which levels or flag, which deadline, which
软弱涣散 clause and which title are read from the file, so a township whose
county says "三星 also 整顿" edits a number, not the program.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from townapp import config
from townapp.core.resources import Resource, Text, load

KIND_RECTIFY, KIND_LIST, KIND_ADJUST = "整顿", "问题清单", "调整建议"
KINDS = (KIND_RECTIFY, KIND_LIST, KIND_ADJUST)
PROPOSED, IN_PROGRESS, DONE, REJECTED = "拟办", "整改中", "已完成", "不予采纳"
STATUSES = (PROPOSED, IN_PROGRESS, DONE, REJECTED)
OPEN_STATUSES = (PROPOSED, IN_PROGRESS)
PROBLEM_OPEN, PROBLEM_DONE = "整改中", "已销号"


class Deadline(Resource):
    months: int | None = Field(default=None, ge=1, le=60)
    days: int | None = Field(default=None, ge=1, le=1800)

    @model_validator(mode="after")
    def _one(self) -> Deadline:
        if (self.months is None) == (self.days is None):
            raise ValueError("期限应写 months（月数）或 days（天数）其中之一")
        return self

    def after(self, start: dt.date) -> dt.date:
        return add_months(start, self.months) if self.months else start + dt.timedelta(days=self.days or 0)

    def text(self) -> str:
        return f"{self.months}个月" if self.months else f"{self.days}天"


class FollowUpRule(Resource):
    id: Text
    scheme: Text
    ranks: list[int] | None = None
    flag: str | None = None
    kind: Literal["整顿", "问题清单", "调整建议"]
    title: Text
    deadline: Deadline
    clause: str | None = None  # 整顿: the 软弱涣散 认定条款 the archive record gets
    clauses_by_negative: dict[str, str] = Field(default_factory=dict)  # a negative item touched → its clause
    archive_year_offset: int = Field(default=0, ge=0, le=1)
    problem_share: Decimal = Field(default=Decimal(1), gt=0, le=1)  # 问题清单: indicators scoring below this share

    @model_validator(mode="after")
    def _trigger(self) -> FollowUpRule:
        if (self.ranks is None) == (self.flag is None):
            raise ValueError("每条规则应写 ranks（等级序号）或 flag（标记名单）其中之一")
        if self.kind == KIND_RECTIFY and not self.clause:
            raise ValueError("整顿规则须写 clause（软弱涣散认定条款编号）")
        return self

    def applies(self, rank: int, flags: str) -> bool:
        if self.flag is not None:
            return self.flag in [f for f in flags.split("、") if f]
        return rank in (self.ranks or [])

    def clauses_for(self, negatives: Iterable[str]) -> list[str]:
        """The 认定条款 matching the cause: those of the negative items touched, else the rule's own."""
        found = sorted({self.clauses_by_negative[c] for c in negatives if c in self.clauses_by_negative}, key=int)
        return found or ([self.clause] if self.clause else [])

    def make_title(self, *, year: int, level: str, period: str, measure: str) -> str:
        return self.title.format(year=year, level=level, period=period, measure=measure)


class RulesFile(Resource):
    resource_label: ClassVar[str] = "整改跟踪规则"
    rules: list[FollowUpRule]

    @model_validator(mode="after")
    def _unique(self) -> RulesFile:
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("规则 id 不能重复")
        return self


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has fewer days): 限期3个月 from 11-30 → 02-28."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def load_rules(path: Path | None = None) -> tuple[FollowUpRule, ...]:
    return tuple(load(RulesFile, path or config.resource("followup", "rules.json")).rules)


@lru_cache(maxsize=1)
def shipped_rules() -> tuple[FollowUpRule, ...]:
    return load_rules()
