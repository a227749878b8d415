"""Demo data: a year of records for every taking-part member, consistent with the rules and caps,
with rejections and resubmissions, reversals, a stocked store and redemptions — and ``townapp check`` agrees."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from townapp.checks import run_checks
from townapp.db import Database
from townapp.points import models as p
from townapp.points.figures import village_figures
from townapp.points.rules import default_rule_set
from townapp.points.service import PointsService
from townapp.registry import models as m


@pytest.fixture
def demo(open_demo: Callable[..., Database]) -> Database:
    """This test's own copy of the small demo township (seed 3): a year of points with every kind of record."""
    return open_demo("small", seed=3)


def test_every_member_has_a_consistent_year(demo: Database) -> None:
    rules = default_rule_set()
    with demo.reader() as s:
        taking_part = set(s.scalars(select(m.PartyMember.id).where(m.PartyMember.status == "正常",
                                                                   m.PartyMember.points_category != "免考")))
        records = s.scalars(select(p.PointRecord)).all()
        exempt = set(s.scalars(select(m.PartyMember.id).where(m.PartyMember.points_category == "免考")))
        s.expunge_all()  # plain objects from here on
    with_2025 = {r.party_member_id for r in records if r.year == 2025 and r.status == "生效"}
    # every taking-part member has effective 2025 records; 免考 members have none
    assert taking_part and taking_part <= with_2025
    assert not exempt & {r.party_member_id for r in records}
    statuses = Counter(r.status for r in records)
    assert {"生效", "待村审", "待公示", "驳回"} <= set(statuses)
    assert any(r.resubmissions for r in records) and any(r.reverses_id for r in records)
    by_id = {r.id: r for r in records}
    for r in records:
        rule = rules.rule(r.rule_code)
        assert rule is not None and r.direction == rule.direction
        if r.reverses_id is None:  # every record within its rule's per-occurrence range
            assert rule.min_points <= abs(r.points_tenths) <= rule.max_points
            assert (r.points_tenths > 0) == (rule.direction == "加分")
        else:
            assert by_id[r.reverses_id].status == "生效" and by_id[r.reverses_id].points_tenths == -r.points_tenths
        if r.status == "驳回":
            assert r.reject_reason
    # within each rule's month caps, as entered
    per_month = Counter((r.party_member_id, r.rule_code, r.occurred_on.year, r.occurred_on.month)
                        for r in records if r.reverses_id is None and r.status != "驳回")
    for (_pm, code, _y, _mo), count in per_month.items():
        cap = rules.rule(code).cap("month")
        if cap is not None:
            assert count * rules.rule(code).min_points <= cap


def test_balances_store_and_checks_agree(demo: Database) -> None:
    report, facts = run_checks(demo)
    assert [e for e in report.errors if "积分" in e] == []
    assert facts["point_records"] > 1000
    service = PointsService(demo)
    with demo.reader() as s:
        assert s.scalar(select(func.count()).select_from(p.Redemption).where(p.Redemption.status == "已领取")) > 0
        accounts = s.scalars(select(p.PointAccount)).all()
        s.expunge_all()
    assert all(a.balance_tenths >= 0 for a in accounts) and any(a.spent_tenths for a in accounts)
    assert all(i.stock >= 0 for i in service.items()) and len(service.items()) == 6
    # balances match what the caps engine gives for the effective records, less what was spent
    for account in accounts[:20]:
        earned = sum(service.member_totals(account.party_member_id, year).earning for year in (2025, 2026))
        assert account.earned_tenths == earned
        assert account.balance_tenths == earned - account.spent_tenths


def test_grades_spread_and_figures(demo: Database) -> None:
    names, per_village = PointsService(demo).distribution(2025)
    totals = Counter()
    for _village, counts in per_village:
        totals.update(counts)
    assert all(totals[g] > 0 for g in ("优秀", "合格")) and totals["合格"] > totals["不合格"]
    figures = village_figures(demo, dt.date(2025, 12, 31))
    assert figures and all(f.participants > 0 and f.average is not None for f in figures.values())
    assert all(f.records > 0 for f in figures.values())
