"""Stories about the demo being built by the real workflows, with dates relative to its as-of date."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO_AS_OF
from townapp.archives import models as a
from townapp.db import Database
from townapp.evaluations import models as e
from townapp.grids import models as g
from townapp.points import models as p

LAST_YEAR, THIS_YEAR = DEMO_AS_OF.year - 1, DEMO_AS_OF.year


@pytest.fixture
def demo(open_demo: Callable[..., Database]) -> Database:
    """This test's own copy of the small demo township, built as of DEMO_AS_OF."""
    return open_demo("small", 1)


def test_records_run_up_to_the_as_of_date(demo: Database) -> None:
    # GIVEN the demo built as of a December day
    with demo.reader() as s:
        days = s.execute(select(func.min(p.PointRecord.occurred_on), func.max(p.PointRecord.occurred_on))).one()
        statuses = Counter(s.execute(select(p.PointRecord.status).where(
            p.PointRecord.occurred_on > DEMO_AS_OF - dt.timedelta(days=14))).scalars())
        meetings = s.scalar(select(func.max(a.ArchiveMeeting.held_on)))
        months = set(s.execute(select(g.GridMonth.year, g.GridMonth.month)).all())
    # THEN last year is complete and this year runs up to the day before, never after it
    assert days[0].year == LAST_YEAR
    assert days[1] < DEMO_AS_OF and meetings <= DEMO_AS_OF
    # AND the last fortnight's entries all wait in the village's queue
    assert statuses and set(statuses) <= {"待村审", "驳回"}
    # AND the grid assessments run from January of last year to last month
    assert months == {(LAST_YEAR, m) for m in range(1, 13)} | {(THIS_YEAR, m) for m in range(1, DEMO_AS_OF.month)}


def test_last_years_fourth_quarter_became_effective_through_its_publicity(demo: Database) -> None:
    # GIVEN the demo
    with demo.reader() as s:
        q4 = s.execute(select(p.PointRecord.status, p.PointRecord.effective_on, p.PointPublicity.starts_on,
                              p.PointPublicity.closed_on)
                       .join(p.PointPublicity, p.PointPublicity.id == p.PointRecord.publicity_id)
                       .where(p.PointRecord.year == LAST_YEAR, p.PointRecord.occurred_on >= dt.date(LAST_YEAR, 10, 1),
                              p.PointRecord.reverses_id.is_(None))).all()
        actions = Counter(s.execute(select(p.PointEvent.action).join(
            p.PointRecord, p.PointRecord.id == p.PointEvent.record_id)
            .where(p.PointRecord.occurred_on >= dt.date(LAST_YEAR, 10, 1),
                   p.PointRecord.occurred_on <= dt.date(LAST_YEAR, 12, 31))).scalars())
    # THEN its records were published in January and took effect when the 公示 was over, through the service
    assert q4 and all(status == "生效" for status, *_ in q4)
    assert {(starts.year, starts.month) for _s, _e, starts, _c in q4} == {(THIS_YEAR, 1)}
    assert all(effective == closed and closed.year == THIS_YEAR for _s, effective, _st, closed in q4)
    assert {"村审通过", "公示", "生效"} <= set(actions)


def test_rounds_follow_the_calendar_and_feed_the_archive(demo: Database) -> None:
    # GIVEN the demo's rounds
    with demo.reader() as s:
        rounds = s.execute(select(e.EvalScheme.key, e.EvalRound.year, e.EvalRound.period_no, e.EvalRound.locked,
                                  e.EvalRound.finalised_on)
                           .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)).all()
        fed = s.scalar(select(func.count()).select_from(e.EvalEvent).where(e.EvalEvent.action == "写入一村一档"))
    by_key: dict[str, list] = {}
    for key, year, number, locked, finalised in rounds:
        by_key.setdefault(key, []).append((year, number, locked, finalised))
    # THEN every month of last year and this year whose review (the 5th of the next month) has come is finalised
    months = {(y, n) for y, n, locked, _f in by_key["secretary_monthly"] if locked}
    reviewed = {(THIS_YEAR, m) for m in range(1, DEMO_AS_OF.month) if dt.date(THIS_YEAR, m + 1, 5) <= DEMO_AS_OF}
    assert months == {(LAST_YEAR, m) for m in range(1, 13)} | reviewed
    # AND the month after it has its round, entered and waiting for that day
    assert {(y, n) for y, n, locked, _f in by_key["secretary_monthly"] if not locked} == {
        (THIS_YEAR, m) for m in range(1, DEMO_AS_OF.month)} - reviewed
    # AND last year's annual rounds were finalised after their 公示, in January or February of this year
    for key in ("secretary_star", "village_org_star", "village_creation"):
        (finalised,) = [f for y, _n, locked, f in by_key[key] if y == LAST_YEAR and locked]
        assert finalised.year == THIS_YEAR and finalised.month in (1, 2)
    # AND every finalised village-level round wrote its results into the archive
    assert fed >= 1 + 2 * len({y for y, *_ in by_key["village_org_star"]})
    # AND nothing was finalised after the as-of date
    assert all(f is None or f <= DEMO_AS_OF for *_r, f in rounds)


def test_last_year_is_closed(demo: Database) -> None:
    # GIVEN the demo, and the year close when it is in this checkout
    yearend = pytest.importorskip("townapp.yearend.service")
    # THEN last year was closed by the administrator in February, after its last 公示
    closed = yearend.YearEndService(demo).closed(LAST_YEAR)
    assert closed is not None and closed.closed_on == dt.date(THIS_YEAR, 2, 27)


def test_the_as_of_date_must_be_a_day(tmp_path: Path) -> None:
    # WHEN the demo is asked for a date that is not one THEN it is a usage error, in Chinese, and no file is made
    target = tmp_path / "x.db"
    result = subprocess.run([sys.executable, "-m", "townapp", "demo", "--db", str(target), "--as-of", "2026-13-01"],
                            capture_output=True, text=True, encoding="utf-8")
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr
    assert not target.exists()
