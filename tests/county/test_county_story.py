"""The county story: three townships report up, the county decides a stage, the decision comes back down.

GIVEN three township databases (small demos of 猗氏镇, 嵋阳镇, 七级镇 — points, rounds, grids, closed 2025)
and 猗氏镇 holding a 2026 村党组织评星定级 round that waits at 县级联审
WHEN each exports its sync package and the county imports all three
THEN the county's return for each township equals that township's own return cell by cell, for every table
and every reported quarter (village rows and total), and the county's row for each township is that
township's total; the county records 县级联审 for the round (one 否决) and exports the return package;
猗氏镇 imports it: the results are recorded as the county's, the township cannot change them, and
importing the package again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import DEMO_AS_OF
from townapp.core.actor import CLI_ACTOR
from townapp.core.errors import DomainError
from townapp.county.service import CountyService, DecisionInput, return_file_name
from townapp.county.upward import reported_periods
from townapp.db import Database, open_database
from townapp.demo import build_demo
from townapp.evaluations import models as e
from townapp.evaluations.dto import EntryInput, RoundInput
from townapp.evaluations.service import EvaluationService
from townapp.exchange.package import write_package
from townapp.exchange.pipeline import run_import
from townapp.figures import figure_registry, unit_source
from townapp.outputs.quarterly import ReturnService
from townapp.registry.service import RegistryService
from townapp.sheets import package_sheet_specs

TOWNSHIPS = (("猗氏镇", "140821100", 5), ("嵋阳镇", "140821101", 11), ("七级镇", "140821103", 3))


@pytest.fixture(scope="module")
def built(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("three-townships")
    paths = {}
    for name, code, seed in TOWNSHIPS:
        path = folder / f"{code}.db"
        shutil.copyfile(migrated_template, path)
        db = open_database(path)
        build_demo(db, scale="small", seed=seed, as_of=DEMO_AS_OF, township=(name, code))
        db.dispose()
        paths[code] = path
    return paths


@pytest.fixture
def townships(built: dict[str, Path], tmp_path: Path) -> Iterator[dict[str, Database]]:
    opened = {}
    for code, path in built.items():
        shutil.copyfile(path, tmp_path / path.name)
        opened[code] = open_database(tmp_path / path.name)
    yield opened
    for db in opened.values():
        db.dispose()


@pytest.fixture
def county(another_db: Callable[[], Database]) -> Database:
    """临猗县's database on this test's backend: a file, or the county's PostgreSQL server (the townships
    stay files, as on their laptops)."""
    db = another_db()
    RegistryService(db, CLI_ACTOR).initialise("county", "临猗县", "140821")
    return db


def waiting_round(db: Database) -> int:
    """A 2026 评星定级 round over every village, 镇街考核 and 群众测评 entered, handed to 县级联审."""
    service = EvaluationService(db, CLI_ACTOR)
    scheme = next(i.id for i in service.schemes() if i.key == "village_org_star")
    villages = [v.id for v in RegistryService(db).villages()]
    round_id = service.create_round(RoundInput(scheme, 2026, 0, villages))
    codes = [i.code for i in service.round(round_id).scheme.indicators]
    rows = service.sheet(round_id)
    service.save_entries([EntryInput(r.target_id, "town", dict.fromkeys(codes, Decimal(4 - n % 2)))
                          for n, r in enumerate(rows)])
    service.advance_stage(round_id)
    service.copy_previous_stage(round_id)
    service.advance_stage(round_id)
    assert service.round(round_id).stage == "county"
    return round_id


def cells(ret) -> list:  # noqa: ANN001
    return [(t.layout.key, [(r.label, r.code, r.values) for r in t.rows]) for t in ret.tables]


def package(db: Database, path: Path) -> Path:
    return write_package(db, package_sheet_specs(db), path, actor=CLI_ACTOR).path


def test_three_townships_up_and_a_decision_back(townships: dict[str, Database], county: Database,
                                                tmp_path: Path) -> None:
    yishi = townships["140821100"]
    round_id = waiting_round(yishi)
    for code, db in townships.items():
        report = run_import(county, package(db, tmp_path / f"up-{code}.xlsx"), package_sheet_specs(county),
                            actor=CLI_ACTOR)
        assert report.accepted, report.summary_text()

    # every table of the county's return for a township is the township's own, cell by cell
    compared = 0
    for period in reported_periods(dt.date.today()):
        whole = ReturnService(county, figure_registry(county), unit_source()).build(period)
        for code, db in townships.items():
            own = ReturnService(db, figure_registry(db), unit_source()).build(period)
            theirs = ReturnService(county, figure_registry(county), unit_source(code)).build(period)
            assert cells(theirs) == cells(own), (period, code)
            for mine, county_table in zip(own.tables, whole.tables, strict=True):
                row = next(r for r in county_table.body if r.code == code)
                assert row.values == mine.total.values, (period, code, mine.layout.key)
            compared += 1
    assert compared == 3 * len(reported_periods(dt.date.today()))
    points = ReturnService(yishi, figure_registry(yishi), unit_source()).build(
        reported_periods(dt.date(2025, 12, 31))[-1]).table("points")
    assert points.total.values[0] > 0  # 2025 Q4 has participants: the equality is not 0 == 0

    # the county's 县级联审 on 猗氏镇's round
    service = CountyService(county, CLI_ACTOR)
    waiting = [r for r in service.rounds() if r.waiting is not None]
    assert [(r.township_name, r.name, r.waiting.name) for r in waiting] == [
        ("猗氏镇", "2026年度村党组织评星定级", "县级联审")]
    rnd = waiting[0]
    targets = service.targets(rnd.uuid)
    vetoed = next(t for t in targets if t.level == "五星")  # a 否决 caps it: the level must move
    agreed = [t for t in targets if t is not vetoed]
    negative = rnd.negatives[0]
    service.record(rnd.uuid, [DecisionInput(vetoed.uuid, "否决", negative.key, "县纪委通报：换届纪律问题"),
                              *(DecisionInput(t.uuid, comment="同意镇街意见") for t in agreed)])
    back = tmp_path / return_file_name("猗氏镇", "临猗县")
    result = service.export_return("140821100", back)
    assert result.rows == {"县级决定": len(targets)}

    # another township cannot take it
    wrong = run_import(townships["140821101"], back, package_sheet_specs(townships["140821101"]),
                       actor=CLI_ACTOR)
    assert wrong.status == "rejected" and {e.code for e in wrong.errors} == {"wrong_township"}

    # 猗氏镇 imports it: recorded as the county's, locked, the same package twice changes nothing
    first = run_import(yishi, back, package_sheet_specs(yishi), actor=CLI_ACTOR)
    assert first.accepted, first.summary_text()
    assert first.sheets["县级决定"].created == len(targets)
    evaluations = EvaluationService(yishi, CLI_ACTOR)
    by_label = {r.label: r for r in evaluations.sheet(round_id, "county")}
    town = {r.label: r.stage_level for r in evaluations.sheet(round_id, "town")}
    hit = by_label[vetoed.label]
    assert hit.stage_level != town[vetoed.label]  # the county's 否决 changed the level
    assert all(by_label[t.label].stage_level == town[t.label] for t in agreed)  # 同意 kept it
    with yishi.reader() as s:
        entry = s.scalar(select(e.EvalEntry).join(e.EvalTarget).where(
            e.EvalTarget.uuid == vetoed.uuid, e.EvalEntry.stage == "county"))
        assert entry.county_decision.startswith("临猗县 命令行") and "否决" in entry.county_decision
        assert negative.key in entry.negatives
    assert any("县级" in ev.detail for ev in evaluations.events(round_id))
    with pytest.raises(DomainError, match="县级决定"):
        evaluations.save_entries([EntryInput(hit.target_id, "county", {}, comment="乡镇改一改")])
    with yishi.reader() as s:
        before = [(x.target_id, x.stage, x.level, x.scores, x.negatives, x.comment, x.county_decision)
                  for x in s.scalars(select(e.EvalEntry).order_by(e.EvalEntry.id))]
    again = run_import(yishi, back, package_sheet_specs(yishi), actor=CLI_ACTOR)
    assert again.accepted and again.sheets["县级决定"].unchanged == len(targets)
    assert again.sheets["县级决定"].created == again.sheets["县级决定"].updated == 0
    with yishi.reader() as s:
        after = [(x.target_id, x.stage, x.level, x.scores, x.negatives, x.comment, x.county_decision)
                 for x in s.scalars(select(e.EvalEntry).order_by(e.EvalEntry.id))]
    assert after == before

    # the township's next package: the county's copy now shows the county's own result in 评定过程
    again_up = run_import(county, package(yishi, tmp_path / "up-again.xlsx"), package_sheet_specs(county),
                          actor=CLI_ACTOR)
    assert again_up.accepted and again_up.sheets["评定过程"].created == len(targets)


def test_the_county_keeps_the_quarters_earlier_packages_reported(townships: dict[str, Database],
                                                                 county: Database, tmp_path: Path) -> None:
    """GIVEN 嵋阳镇's package of mid-2025 (its 2024 and 2025 quarters) imported at the county
    WHEN its package of today (2025 and 2026) follows
    THEN the county still has the 2024 quarters as the first package reported them, and every quarter
    either package carried equals the township's own return."""
    from townapp.county import upward

    db = townships["140821101"]
    def specs_of(day: dt.date) -> list:
        return [upward.figure_sheet(lambda: figure_registry(db), unit_source(), today=lambda: day)
                if spec.key == upward.FIGURE_SHEET else spec for spec in package_sheet_specs(db)]
    for number, day in enumerate((dt.date(2025, 6, 30), dt.date.today())):
        path = write_package(db, specs_of(day), tmp_path / f"{number}.xlsx", actor=CLI_ACTOR).path
        assert run_import(county, path, package_sheet_specs(county), actor=CLI_ACTOR).accepted
    quarters = sorted({*upward.reported_periods(dt.date(2025, 6, 30)), *upward.reported_periods(dt.date.today())},
                      key=lambda p: (p.year, p.quarter))
    assert quarters[0].year == 2024
    for period in quarters:
        own = ReturnService(db, figure_registry(db), unit_source()).build(period)
        theirs = ReturnService(county, figure_registry(county), unit_source("140821101")).build(period)
        assert cells(theirs) == cells(own), period
