"""Role-matrix cases of the archive's pay, star and debt methods (issue 19, 以星定酬 and 年度结转)."""

from __future__ import annotations

from tests.accounts.service_matrix import Case, World


def _v(w: World, side: str) -> int:
    return w.village[side]


CASES: dict[str, Case | list[Case]] = {
    # the evaluations' feed after 定级: a write of the village's archive (a clerk only their own village)
    "ArchiveService.set_rating_from_evaluation": Case(
        "write", lambda s, w, side: s.set_rating_from_evaluation(_v(w, side), 2025, "org_star", 4, "2025年度村党组织评星定级") is None),
    # the year close starts next year's figures: a write of each village's archive
    "ArchiveService.carry_forward": Case("write", lambda s, w, side: s.carry_forward(_v(w, side), 2025) is not None),
}
