"""年度结转: what is still open in a year, and the one action that finalises it and starts the next.

A composition service (like townapp/sources.py it may use every module): each
module stays the only writer of its tables, so the close calls their services —
the points grades are written by PointsService.close_year, next year's archive
opening balances by ArchiveService.carry_forward, the follow-up proposals by
FollowUpService.propose — and this module writes only its own record of the
close. Each step is its own transaction and is idempotent, so a close that was
interrupted is finished by running it again.

Stages of ``close``:
  1. the checklist: nothing may be open (records in review or 公示, rounds not
     定级, grid months not locked, archive stars that differ from 定级), and the
     year must be over;
  2. points: final totals and grades, the year's records closed, next year's
     rules started from this year's;
  3. village archives: next year opened with the carried debt balance and the
     重点村 flag;
  4. follow-up: 整顿 / 问题清单 / 调整 proposals from the year's 定级 results;
  5. the record of the close, with what each step did, in Chinese.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from townapp.archives.service import ArchiveService
from townapp.consistency import result_mismatches
from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.db import Database
from townapp.evaluations.service import EvaluationService
from townapp.followup.service import FollowUpService
from townapp.grids.service import GridService
from townapp.points.service import PointsService, year_end
from townapp.registry import models as m
from townapp.yearend import models as y

# the annual results the archive, pay and certificates read: a year without them is said, not refused
ANNUAL_RESULTS = ("village_org_star", "secretary_star", "civilized_household")


@dataclass(frozen=True)
class CheckItem:
    """One line of the year-close checklist: what is still open, how many, and where to finish it."""

    key: str
    title: str
    count: int
    detail: str = ""
    where: str = ""  # the page that finishes it
    blocking: bool = True

    @property
    def clear(self) -> bool:
        return self.count == 0


@dataclass(frozen=True)
class YearCloseDTO:
    year: int
    closed_on: dt.date
    closed_by: str
    summary: tuple[str, ...]


class YearEndService:
    """年度结转 of the township's year: the checklist and the close."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR) -> None:
        self.db = db
        self.actor = actor

    # ----- what is open ---------------------------------------------------------------------
    def checklist(self, year: int, today: dt.date | None = None) -> list[CheckItem]:
        """What still stands between the year and its close (a clerk sees their village's part)."""
        today = today or dt.date.today()
        items: list[CheckItem] = []
        if today <= year_end(year):
            items.append(CheckItem("calendar", f"{year}年度尚未结束", 1,
                                   f"{year + 1}年1月1日起才能结转（第四季度的积分公示也要在那之后结束）"))
        points = PointsService(self.db, self.actor)
        waiting = points.open_records(year)
        items.append(CheckItem("points", "积分记录未完成审核或公示", sum(waiting.values()),
                               "、".join(f"{status}{count}条" for status, count in waiting.items()), "党员积分"))
        evaluations = EvaluationService(self.db, self.actor)
        of_year = [r for r in evaluations.rounds() if r.year == year]
        rounds = [r for r in of_year if not r.locked]
        items.append(CheckItem("rounds", "评定未定级", len(rounds),
                               "、".join(f"{r.name}（{r.stage_name}）" for r in rounds[:8])
                               + ("等" if len(rounds) > 8 else ""), "评星定级"))
        held = {r.scheme_key for r in of_year}
        missing = [info.name for info in evaluations.schemes() if info.key in ANNUAL_RESULTS and info.key not in held]
        items.append(CheckItem("annual_rounds", "年度评定尚未开展（结果写入档案和报酬表）", len(missing),
                               "、".join(missing), "评星定级", blocking=False))
        grids = GridService(self.db, self.actor)  # a month nobody serves in has nothing to approve
        months = [s for s in grids.months(year) if not s.locked and grids.month_sheet(year, s.month).rows]
        items.append(CheckItem("grid_months", "网格员月度考核未审批锁定", len(months),
                               "、".join(f"{s.month}月" for s in months), "网格化管理"))
        differ = [x for x in result_mismatches(self.db, self.actor) if x.year == year]
        items.append(CheckItem("results", "一村一档或报酬表与定级结果不一致", len(differ),
                               "；".join(x.message for x in differ[:3]) + ("等" if len(differ) > 3 else ""),
                               "一村一档"))
        return items

    def blocking(self, year: int, today: dt.date | None = None) -> list[CheckItem]:
        return [item for item in self.checklist(year, today) if item.blocking and not item.clear]

    # ----- the close -----------------------------------------------------------------------
    def closed(self, year: int) -> YearCloseDTO | None:
        """The year's close, if it was done (a township-wide fact: no village's data in it)."""
        with self.db.reader() as s:
            row = s.scalar(select(y.YearClose).where(y.YearClose.year == year))
            return None if row is None else _dto(row)

    def closes(self) -> list[YearCloseDTO]:
        with self.db.reader() as s:
            return [_dto(row) for row in s.scalars(select(y.YearClose).order_by(y.YearClose.year.desc()))]

    def close(self, year: int, on: dt.date | None = None, progress: ProgressFn | None = None,
              cancel: CancelFn | None = None) -> YearCloseDTO:
        """Finalise ``year`` (see the module docstring for the stages); refused while the checklist is not clear.
        Cancelling stops between stages; each is idempotent, so closing again finishes the rest."""
        permissions.require_township(self.actor, "年度结转")
        reporter = Reporter(progress, cancel)
        reporter.step(0, 5, "正在检查年度结转清单…")
        on = on or dt.date.today()
        if self.closed(year) is not None:
            raise DomainError(f"{year}年度已经结转过了")
        open_items = self.blocking(year, on)
        if open_items:
            lines = "；".join(f"{item.title}：{item.detail or item.count}"
                             + (f"（请在“{item.where}”页面处理）" if item.where else "") for item in open_items)
            raise DomainError(f"{year}年度还不能结转：{lines}")
        summary: list[str] = []
        reporter.step(1, 5, "正在确定党员积分年度等次…")
        points = PointsService(self.db, self.actor)
        if points.year_closed(year) is None:
            graded = points.close_year(year, on)
            counts: dict[str, int] = {}
            for row in points.final_grades(year):
                counts[row.grade] = counts.get(row.grade, 0) + 1
            summary.append(f"党员积分：{graded}名党员的年度等次已确定（"
                           + "、".join(f"{grade}{n}人" for grade, n in counts.items()) + "）；"
                           f"{year + 1}年度沿用本年度积分规则")
        reporter.step(2, 5, "正在结转一村一档…")
        archives = ArchiveService(self.db, self.actor)
        carried = 0
        for village_id in self._villages():
            if archives.carry_forward(village_id, year):
                carried += 1
        summary.append(f"一村一档：{carried}个村的{year + 1}年度档案已结转年初债务余额和重点村标记")
        reporter.step(3, 5, "正在按评定结果生成整改跟踪事项…")
        proposed = FollowUpService(self.db, self.actor).propose(year, on)
        reporter.step(4, 5, "正在记录年度结转…")
        summary.append(f"整改跟踪：{proposed.describe()}")
        with self.db.unit_of_work(self.actor) as s:
            if s.scalar(select(y.YearClose.id).where(y.YearClose.year == year)) is not None:
                raise DomainError(f"{year}年度已经结转过了")
            row = y.YearClose(year=year, closed_on=on, closed_by=self.actor.username, summary="\n".join(summary))
            s.add(row)
            s.flush()
            return _dto(row)

    def _villages(self) -> list[int]:
        with self.db.reader() as s:
            return list(s.scalars(select(m.Village.id).order_by(m.Village.code)))


def _dto(row: y.YearClose) -> YearCloseDTO:
    return YearCloseDTO(row.year, row.closed_on, row.closed_by, tuple(line for line in row.summary.splitlines() if line))
