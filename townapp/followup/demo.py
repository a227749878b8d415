"""The demo township works its follow-up items after the year close, through the service as a user does.

Dated from the close: the township takes every 拟办 on in March; the villages strike their 问题清单
off in two rounds before the deadline and the township signs each off — all but the longest list,
which is still open past its deadline (the home page's one overdue item); the 整顿 villages report
progress at midyear and in late autumn; each 头雁指数 建议调整名单 secretary is talked with and the item
signed off (this year's first half proposed right after its 定级). Nothing dated after the demo's
as-of day is done.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.followup.dto import ItemDetail
from townapp.followup.rules import KIND_ADJUST, KIND_LIST, KIND_RECTIFY, PROBLEM_DONE, PROPOSED
from townapp.followup.service import FollowUpService

RECTIFY_PROGRESS = (
    (6, 30, "已制定整顿方案，乡镇党委班子成员包村指导，选派第一书记驻村；“三会一课”台账已补齐"),
    (11, 30, "村“两委”班子调整到位，整改问题清单已完成大部分，待年底考核验收"),
)


def work_follow_ups(db: Database, year: int, as_of: dt.date) -> None:
    """Take on, work and close last year's follow-up items (``year``: the closed year) up to ``as_of``."""
    service = FollowUpService(db, DEMO_ACTOR)
    this_year = year + 1

    def due(month: int, day: int) -> dt.date | None:
        on = dt.date(this_year, month, day)
        return on if on <= as_of else None

    items = [row for row in service.items(year=year) if row.status == PROPOSED]
    accepted_on = due(3, 10)
    if accepted_on is None:
        return
    for row in items:
        if row.kind != KIND_ADJUST:
            service.accept(row.id, note="乡镇党委会研究同意", on=accepted_on)
    lists = [service.item(row.id) for row in items if row.kind == KIND_LIST]
    still_open = max(lists, key=lambda d: (len(d.problems), d.row.village), default=None)
    for detail in lists:
        deadline = detail.row.deadline or dt.date(this_year, 5, 31)
        half = len(detail.problems) // 2
        first = deadline - dt.timedelta(days=35)
        if first <= as_of:
            _strike(service, detail, detail.problems[:half], first, "已对照问题清单整改，部分问题已销号")
        if detail is still_open:
            continue  # the longest list: its second half is still being worked on past the deadline
        second = deadline - dt.timedelta(days=6)
        if second <= as_of:
            _strike(service, service.item(detail.row.id), service.item(detail.row.id).problems[half:], second,
                    "问题清单全部整改到位，申请销号")
            service.close(detail.row.id, "经乡镇党委验收，问题清单全部销号", on=deadline - dt.timedelta(days=3))
    for row in items:
        if row.kind != KIND_RECTIFY:
            continue
        for month, day, note in RECTIFY_PROGRESS:
            on = due(month, day)
            if on is not None:
                service.update_progress(row.id, note, on=on)
    _adjust(service, [row.id for row in items if row.kind == KIND_ADJUST], accepted_on, as_of)
    # this year's first 头雁指数 half (定级 on 20 July): proposed at once, not left for next year's close
    proposed_on = due(7, 22)
    if proposed_on is not None:
        service.propose(this_year, as_of=proposed_on)
        fresh = [row.id for row in service.items(year=this_year, kind=KIND_ADJUST) if row.status == PROPOSED]
        _adjust(service, fresh, proposed_on + dt.timedelta(days=3), as_of)


def _adjust(service: FollowUpService, item_ids: list[int], accepted_on: dt.date, as_of: dt.date) -> None:
    """建议调整名单: the 乡镇党委 studies each secretary, talks with them and signs the item off in three weeks."""
    for item_id in item_ids:
        if accepted_on > as_of:
            return
        service.accept(item_id, deadline=accepted_on + dt.timedelta(days=30), note="乡镇党委会研究，约谈该书记",
                       on=accepted_on)
        closed_on = accepted_on + dt.timedelta(days=21)
        if closed_on <= as_of:
            service.close(item_id, "已进行诫勉谈话，书记作出书面整改承诺，下一次头雁指数评价时复核", on=closed_on)


def _strike(service: FollowUpService, detail: ItemDetail, problems: list, on: dt.date, note: str) -> None:
    done = [dataclasses.replace(p, status=PROBLEM_DONE, closed_on=on) for p in problems]
    service.update_progress(detail.row.id, note, done, on=on)
