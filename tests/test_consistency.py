"""Stories about results agreeing across modules: the archive's stars and the pay built on them are 定级's."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from tests.conftest import DEMO_AS_OF
from tests.figures import record
from townapp.archives.service import ArchiveService
from townapp.checks import run_checks
from townapp.consistency import result_mismatches
from townapp.db import Database
from townapp.evaluations.service import EvaluationService

LAST_YEAR = DEMO_AS_OF.year - 1


@pytest.fixture
def demo(open_demo: Callable[..., Database]) -> Database:
    """This test's own copy of the small demo township: its rounds were rated through the service."""
    return open_demo("small", 1)


def _set(db: Database, sql: str, *args: object) -> None:
    con = sqlite3.connect(db.path)
    try:
        con.execute(sql, args)
        con.commit()
    finally:
        con.close()


def test_the_demo_archive_and_pay_agree_with_the_rating(demo: Database) -> None:
    # GIVEN the demo, whose stars and creation levels reached the archive only through 定级
    evaluations, archives = EvaluationService(demo), ArchiveService(demo)
    org = evaluations.village_results("village_org_star", LAST_YEAR)
    secretary = evaluations.village_results("secretary_star", LAST_YEAR)
    assert org and secretary and all(r.final for r in org.values())
    # WHEN the archive and the checks are read
    # THEN every village's archive holds exactly last year's 定级 results
    for village_id, result in org.items():
        values = archives.year(village_id, LAST_YEAR).values
        assert values["org_star"] == result.rank
        assert (values["secretary_star"] or None) == (secretary[village_id].rank or None)  # 不评星: no star
    # AND no archive figure or pay amount differs from them, in any year, and townapp check says so
    assert result_mismatches(demo) == []
    report, facts = run_checks(demo)
    assert facts["result_mismatches"] == 0
    assert not [e for e in report.errors if "定级" in e]
    record("演示：一村一档星级与定级结果不一致的村", facts["result_mismatches"])


def test_an_archive_star_changed_behind_its_back_is_reported(demo: Database) -> None:
    # GIVEN the demo and one village whose archive says its organisation has a star 定级 did not give it
    result = next(iter(sorted(EvaluationService(demo).village_results("village_org_star", LAST_YEAR).items())))
    village_id, rated = result
    changed = 1 if rated.rank != 1 else 2
    _set(demo, "UPDATE archive_year SET org_star = ? WHERE village_id = ? AND year = ?", changed, village_id,
         LAST_YEAR)
    name = ArchiveService(demo).village_name(village_id)[1]
    # WHEN the checks run
    report, facts = run_checks(demo)
    # THEN they fail, in Chinese, naming the village, the year and both values
    digits = "一二三四五六七八九"
    found = [e for e in report.errors if name in e and "一村一档的村党组织星级" in e]
    assert len(found) == 1 and facts["result_mismatches"] >= 1
    assert f"{LAST_YEAR}年" in found[0]
    assert f"“{digits[changed - 1]}星”" in found[0] and f"“{digits[rated.rank - 1]}星”" in found[0]
    assert "定级" in found[0] and "更正" in found[0]


def test_a_secretary_star_typed_over_is_reported_in_the_pay_too(demo: Database) -> None:
    # GIVEN a village whose archive secretary star was typed over (and a 书记 with a star award in its pay)
    rated = EvaluationService(demo).village_results("secretary_star", LAST_YEAR)
    village_id, result = next((v, r) for v, r in sorted(rated.items()) if r.rank >= 2)
    _set(demo, "UPDATE archive_year SET secretary_star = ? WHERE village_id = ? AND year = ?", result.rank - 1,
         village_id, LAST_YEAR)
    # WHEN the mismatches are listed THEN the archive's figure is named with both values
    mismatches = [m for m in result_mismatches(demo) if m.village_id == village_id]
    archive = [m for m in mismatches if m.where == "一村一档"]
    assert [(m.field, m.found, m.expected) for m in archive] == [("secretary_star", result.rank - 1, result.rank)]
    assert "书记星级" in archive[0].message
