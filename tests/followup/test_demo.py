"""整改跟踪 on the demo township (issue 19's acceptance): every village rated 二星 or below last year has a 整顿."""

from __future__ import annotations

from collections.abc import Callable

from tests.figures import record
from townapp.core.actor import ROLE_TOWNSHIP, Actor
from townapp.db import Database
from townapp.evaluations.service import EvaluationService
from townapp.followup.service import FollowUpService


def test_every_weak_village_of_the_demo_has_a_rectification_proposal(open_demo: Callable[..., Database]) -> None:
    """GIVEN the demo township (a finalised 评星定级 round last year) WHEN propose(last year) runs (the year close may
    already have run it) THEN the villages with a 整顿 item are exactly those rated 二星 or below, those rated 三星 or
    四星 have a 问题清单, and running it again adds nothing."""
    db = open_demo("township", 1)
    evaluations = EvaluationService(db)
    year = max(r.year for r in evaluations.rounds() if r.scheme_key == "village_org_star" and r.locked)
    results = evaluations.village_results("village_org_star", year)
    service = FollowUpService(db, Actor("组织委员", ROLE_TOWNSHIP))
    service.propose(year)
    weak = {v for v, r in results.items() if r.rank <= 2}
    middle = {v for v, r in results.items() if r.rank in (3, 4)}
    assert {r.village_id for r in service.items(kind="整顿", year=year)} == weak
    assert {r.village_id for r in service.items(kind="问题清单", year=year)} == middle
    assert service.propose(year).total == 0
    record(f"整改跟踪：演示乡镇{year}年整顿拟办（二星及以下村）", len(weak))
    record(f"整改跟踪：演示乡镇{year}年问题清单（三星、四星村）", len(middle))


def test_the_demo_township_worked_its_follow_up_items_after_the_close(open_demo: Callable[..., Database]) -> None:
    """GIVEN the demo township as of 2026-07-01 (2025 closed on 27 February)
    WHEN its follow-up items are read THEN every one was taken on on 10 March (none left 拟办); each accepted 整顿
    has its 软弱涣散 case in the village archive and a midyear progress report; the 问题清单 are signed off with all
    problems struck, except the longest, which is the one item overdue (the count the home page shows)."""
    import datetime as dt

    from townapp.archives.service import ArchiveService

    db = open_demo("township", 1)
    service = FollowUpService(db, Actor("组织委员", ROLE_TOWNSHIP))
    today = dt.date(2026, 7, 1)
    items = service.items(year=2025, as_of=today)
    assert items and {r.status for r in items} <= {"整改中", "已完成"}
    archives = ArchiveService(db)
    for row in service.items(kind="整顿", year=2025, as_of=today):
        detail = service.item(row.id, today)
        assert detail.accepted_on == dt.date(2026, 3, 10) and "包村指导" in detail.progress_note
        assert any(c.id == detail.rectification_id for c in archives.rectifications(row.village_id))
    lists = service.items(kind="问题清单", year=2025, as_of=today)
    open_lists = [r for r in lists if r.status == "整改中"]
    assert len(open_lists) == 1 and open_lists[0].problems_total == max(r.problems_total for r in lists)
    assert all(r.problems_open == 0 for r in lists if r.status == "已完成")
    assert [r.id for r in service.overdue(today)] == [open_lists[0].id] and service.overdue_count(today) == 1
