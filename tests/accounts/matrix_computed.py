"""Role-matrix cases of the evaluations' computed indicators and level standards (issue 19, items 4 and 5)."""

from __future__ import annotations

from tests.accounts.service_matrix import Case, World
from tests.evaluations import test_read_scope as evaluation_reads
from townapp.core.actor import SYSTEM_ACTOR
from townapp.evaluations.service import EvaluationService


def _round(w: World, side: str) -> int:
    return evaluation_reads._round_of(EvaluationService(w.db, SYSTEM_ACTOR), w.village[side])


CASES: dict[str, Case | list[Case]] = {
    # reads the figures again and rewrites the round's computed values: a township-wide change, like 重新汇总
    "EvaluationService.refresh_computed": Case(
        "township", lambda s, w, side: s.refresh_computed(_round(w, side)) is not None),
    # the creation scheme's standards per level, as the archive prints them: nothing of any village in it
    "EvaluationService.level_standards": Case("open", lambda s, w, side: bool(s.level_standards("village_creation"))),
}
