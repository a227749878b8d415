"""The monthly assessment: two-person approval locks the month; unlocking and relocking are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from townapp.core.actor import ROLE_READONLY, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied, ValidationFailed
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.grids.service import GridService

from .conftest import APPROVER, CLERK, MONTH, YEAR, GridVillage, full_marks_less, staff


def test_the_submitter_cannot_approve_their_own_month(db: Database, grids: GridService,
                                                      village: GridVillage) -> None:
    ids = staff(grids, village)
    grids.save_scores(YEAR, MONTH, [full_marks_less(mid) for mid in ids.values()])
    grids.submit_month(YEAR, MONTH)
    with pytest.raises(DomainError, match="另一人"):
        grids.approve_month(YEAR, MONTH)
    with pytest.raises(PermissionDenied):
        GridService(db, Actor("村文书", ROLE_VILLAGE, village_id=village.id)).approve_month(YEAR, MONTH)
    assert not grids.month_state(YEAR, MONTH).locked


def test_a_month_with_unscored_members_cannot_be_submitted(grids: GridService, village: GridVillage) -> None:
    ids = staff(grids, village)
    grids.save_scores(YEAR, MONTH, [full_marks_less(ids["head"])])
    with pytest.raises(DomainError, match="还有未录完得分的成员"):
        grids.submit_month(YEAR, MONTH)


def test_a_locked_month_refuses_edits_with_a_message(grids: GridService, approved: dict[str, int]) -> None:
    # GIVEN an approved (locked) March
    state = grids.month_state(YEAR, MONTH)
    assert (state.status, state.locked, state.submitted_by, state.approved_by) == ("已审批", True, CLERK.username,
                                                                                   APPROVER.username)
    # WHEN the clerk tries to change a score
    with pytest.raises(DomainError) as refused:
        grids.save_scores(YEAR, MONTH, [full_marks_less(approved["head"], 100)])
    # THEN the edit is refused with a message that says why and what to do
    assert "已审批锁定，不能修改" in refused.value.message and "解锁" in refused.value.message
    assert next(r for r in grids.month_sheet(YEAR, MONTH).rows if r.member_id == approved["head"]).total == 1000
    # AND the subsidies were fixed at approval (full marks: 600 元 + 50 元 phone allowance for the 网格长)
    head = next(r for r in grids.subsidy_list(YEAR, MONTH).rows if r.role == "网格长")
    assert (head.performance_fen, head.allowance_fen, head.subsidy_fen) == (60000, 5000, 65000)


def test_unlock_and_relock_are_audited_with_their_reasons(db: Database, grids: GridService,
                                                          approved: dict[str, int]) -> None:
    approver = GridService(db, APPROVER)
    # unlocking needs a reason and a township account
    with pytest.raises(ValidationFailed, match="解锁须填写原因"):
        approver.unlock_month(YEAR, MONTH, " ")
    with pytest.raises(PermissionDenied):
        GridService(db, Actor("只读", ROLE_READONLY)).unlock_month(YEAR, MONTH, "看看")
    # WHEN the approver unlocks to correct a score, the clerk corrects it
    approver.unlock_month(YEAR, MONTH, "走访入户得分录错，更正")
    grids.save_scores(YEAR, MONTH, [full_marks_less(approved["head"], 150)])
    # the one who unlocked may not relock their own correction
    with pytest.raises(DomainError, match="解锁人以外"):
        approver.relock_month(YEAR, MONTH, "已更正")
    grids.relock_month(YEAR, MONTH, "已更正网格长走访入户得分")
    # THEN the month is locked again with the corrected total and subsidy (85.0 → ×0.90)
    assert grids.month_state(YEAR, MONTH).locked
    head = next(r for r in grids.subsidy_list(YEAR, MONTH).rows if r.role == "网格长")
    assert (head.total, head.performance_fen, head.subsidy_fen) == (850, 54000, 59000)
    # AND the audit log has the unlock and the relock, each with who and why
    with db.reader() as s:
        entries = s.execute(select(AuditEntry.username, AuditEntry.old, AuditEntry.new, AuditEntry.reason)
                            .where(AuditEntry.entity == "grid_month", AuditEntry.field == "locked")
                            .order_by(AuditEntry.id)).all()
    assert [tuple(e) for e in entries] == [
        (APPROVER.username, "False", "True", None),
        (APPROVER.username, "True", "False", "走访入户得分录错，更正"),
        (CLERK.username, "False", "True", "已更正网格长走访入户得分")]


def test_the_best_member_is_chosen_by_a_person_from_the_top_scores(db: Database, grids: GridService,
                                                                   approved: dict[str, int]) -> None:
    candidates = grids.star_candidates(YEAR, MONTH)
    assert candidates[0].member_id == approved["head"] and candidates[0].rank == 1
    approver = GridService(db, APPROVER)
    with pytest.raises(ValidationFailed, match="事迹"):
        approver.choose_star(YEAR, MONTH, approved["head"], "好")
    approver.choose_star(YEAR, MONTH, approved["officer"], "雨夜巡查发现险情，及时转移三户群众。")
    stars = grids.stars(YEAR, MONTH)
    assert [(s.name, s.rank, s.chosen_by) for s in stars] == [("村民东2", 2, APPROVER.username)]
