"""Role-matrix cases of FollowUpService (read by tests/accounts/test_service_matrix.py).

Township roles propose, add, accept, reject, edit problem lists and close; a 村录入员 reads and reports
progress for their own village only; 只读 reads. Items are seeded per call on the side's village.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert

from tests.accounts.service_matrix import Case, World
from townapp.evaluations.dto import RoundInput
from townapp.evaluations.service import EvaluationService
from townapp.followup import models as f
from townapp.followup.dto import ItemInput, ProblemData

PAST = dt.date(2020, 1, 1)
LATER = dt.date(2030, 1, 1)


def _v(w: World, side: str) -> int:
    return w.village[side]


_numbers = iter(range(1, 10**6))  # each seeded item its own key (rule, village, year, period, ref)


def _seed(w: World, side: str, status: str = "拟办") -> int:
    """A follow-up item of the side's village in ``status``, due in the past (so it is overdue)."""
    number = next(_numbers)
    with w.db.engine.begin() as conn:
        return conn.execute(insert(f.FollowUpItem).values(
            village_id=_v(w, side), year=2025, period_no=0, rule_id="矩阵", kind="问题清单", ref_id=number,
            subject="测试", title="矩阵测试事项", proposed_on=PAST, deadline=PAST, status=status,
            uuid=f"matrix-{number}", created_at=dt.datetime(2020, 1, 1),
            updated_at=dt.datetime(2020, 1, 1))).inserted_primary_key[0]


def _goose_round(w: World, side: str) -> int:
    """A 头雁指数 round over the side's village only (made by the system)."""
    evaluations = EvaluationService(w.db)
    scheme = next(i for i in evaluations.schemes() if i.key == "head_goose_index").id
    return evaluations.create_round(RoundInput(scheme, 2026, 1, [_v(w, side)]))


def _mine(rows: list[Any], w: World, side: str) -> list[Any]:
    return [r for r in rows if r.village_id == _v(w, side)]


CASES: dict[str, Case | list[Case]] = {
    "FollowUpService.propose": Case("township", lambda s, w, side: s.propose(2025) is not None),
    "FollowUpService.add": Case("township", lambda s, w, side: s.add(ItemInput(
        _v(w, side), 2026, "问题清单", "巡察反馈问题", deadline=LATER)) > 0),
    "FollowUpService.items": [
        Case("read", lambda s, w, side: s.items(village_id=_v(w, side)) is not None),
        Case("read", lambda s, w, side: _seed(w, side) and _mine(s.items(), w, side), listing=True, label="全部列表"),
    ],
    "FollowUpService.overdue": [
        Case("read", lambda s, w, side: s.overdue(LATER, village_id=_v(w, side)) is not None),
        Case("read", lambda s, w, side: _seed(w, side) and _mine(s.overdue(LATER), w, side), listing=True,
             label="全部逾期"),
    ],
    "FollowUpService.overdue_count": [
        Case("read", lambda s, w, side: s.overdue_count(LATER, village_id=_v(w, side)) is not None),
    ],
    "FollowUpService.item": Case("read", lambda s, w, side: s.item(_seed(w, side)) is not None),
    "FollowUpService.accept": Case("township", lambda s, w, side: s.accept(_seed(w, side)) is None),
    "FollowUpService.reject": Case("township", lambda s, w, side: s.reject(_seed(w, side), "已另行处理") is None),
    "FollowUpService.update_progress": Case("write", lambda s, w, side: s.update_progress(
        _seed(w, side, "整改中"), "召开支委会研究整改") is None),
    "FollowUpService.save_problems": Case("township", lambda s, w, side: s.save_problems(
        _seed(w, side, "整改中"), [ProblemData("台账不全", LATER)]) is None),
    "FollowUpService.close": Case("township", lambda s, w, side: s.close(_seed(w, side, "整改中"), "整改到位") is None),
    "FollowUpService.adjust_rounds": Case("read", lambda s, w, side: [
        c for c in s.adjust_rounds() if c.id == _goose_round(w, side)], listing=True),
    "FollowUpService.adjust_list": Case("read", lambda s, w, side: s.adjust_list(_goose_round(w, side)) is not None),
}
