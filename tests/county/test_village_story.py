"""The village story: two village installs send their villages up, the township sends its decisions down.

GIVEN a township (small demo 临晋镇, three villages, rules and schemes of its own) and two village
installs (``townapp init --village``) for two of its villages, each registering a new household — and
both registering the same person (one ID number)
WHEN both export their village packages and the township imports them
THEN the first is taken (its household and people now in the township, each in its village), the second is
rejected with the shared person listed as a ``conflict`` (never merged), the first again changes nothing;
and the township's package for a village (``export village``) brings the township's rules and schemes
(the village then computes with the rules the township decided) and that village's results, once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.exchange.conftest import pid
from townapp.cli import main
from townapp.core.actor import CLI_ACTOR, ROLE_VILLAGE, Actor
from townapp.county.downward import export_for_village
from townapp.county.upward import reported_rows
from townapp.db import Database, open_database
from townapp.evaluations.service import EvaluationService
from townapp.exchange.package import write_package
from townapp.exchange.pipeline import run_import
from townapp.points.service import PointsService
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput
from townapp.registry.service import RegistryService
from townapp.sheets import package_sheet_specs


def village_install(tmp_path: Path, township: Database, code: str, name: str) -> Database:
    path = tmp_path / f"{name}.db"
    assert main(["init", "--db", str(path), "--township", township.meta("root_name"), "--code",
                 township.meta("root_code"), "--village", code, "--village-name", name]) == 0
    return open_database(path)


def register(db: Database, number: str, people: list[tuple[str, str, str]]) -> None:
    service = RegistryService(db)
    village = service.villages()[0].id
    service.save_household(HouseholdInput(village_id=village, number=number, members=[
        MemberInput(PersonInput(id_number, name), relation) for id_number, name, relation in people]))


def people_of(db: Database) -> dict[str, str]:
    """{ID number: village name} of every person."""
    service = RegistryService(db)
    names = {v.id: v.name for v in service.villages()}
    from sqlalchemy import select

    from townapp.registry import models as m
    with db.reader() as s:
        return {i: names.get(v, "") for i, v in s.execute(select(m.Person.id_number, m.Person.village_id))}


def test_two_villages_up_and_the_township_decisions_down(open_demo, tmp_path: Path) -> None:  # noqa: ANN001
    township = open_demo("small", 5)
    villages = RegistryService(township).villages()
    (a_code, a_name), (b_code, b_name) = [(v.code, v.name) for v in villages[:2]]
    a = village_install(tmp_path, township, a_code, a_name)
    b = village_install(tmp_path, township, b_code, b_name)
    try:
        shared = pid(1970, 901)
        register(a, "9001", [(pid(1968, 903), "李村甲", "户主"), (shared, "王共同", "配偶")])
        register(b, "9001", [(pid(1969, 905), "赵村乙", "户主"), (shared, "王共同", "配偶")])
        clerk = Actor("村录入员", ROLE_VILLAGE, RegistryService(a).villages()[0].id)
        up_a = write_package(a, package_sheet_specs(a), tmp_path / "a.xlsx", actor=clerk).path
        up_b = write_package(b, package_sheet_specs(b), tmp_path / "b.xlsx", actor=CLI_ACTOR).path

        first = run_import(township, up_a, package_sheet_specs(township), actor=CLI_ACTOR)
        assert first.accepted, first.summary_text()
        assert not [w for w in first.warnings if "不认识" in w.message]  # every sheet it carries is known
        assert people_of(township)[shared] == a_name and people_of(township)[pid(1968, 903)] == a_name

        before = people_of(township)
        second = run_import(township, up_b, package_sheet_specs(township), actor=CLI_ACTOR)
        assert second.status == "rejected"
        conflicts = [e for e in second.errors if e.code == "conflict"]
        assert conflicts and all(b_name in e.message for e in conflicts), second.summary_text()
        assert any(e.sheet in ("人员", "住户") for e in conflicts)
        assert people_of(township) == before  # nothing of 乙村's package was taken, nothing merged

        again = run_import(township, up_a, package_sheet_specs(township), actor=CLI_ACTOR)
        assert again.accepted and all(c.created == 0 and c.updated == 0 for c in again.sheets.values()), \
            again.summary_text()

        # the township's decisions go down to 甲村
        points = PointsService(township, CLI_ACTOR)
        rules = {year: digest for year, _v, digest, _d in points.current_rule_sets()}
        schemes = {key: digest for key, _v, digest, _d in EvaluationService(township, CLI_ACTOR).current_schemes()}
        down = export_for_village(township, CLI_ACTOR, a_code, tmp_path / "down-a.xlsx")
        assert "人员" not in down.rows and down.rows["本村评定结果"] > 0
        taken = run_import(a, down.path, package_sheet_specs(a, receiving=True), actor=clerk)
        assert taken.accepted, taken.summary_text()
        village_rules = {year: digest for year, _v, digest, _d in PointsService(a, CLI_ACTOR).current_rule_sets()}
        assert village_rules == rules
        village_schemes = {k: d for k, _v, d, _d in EvaluationService(a, CLI_ACTOR).current_schemes()}
        assert {k: village_schemes.get(k) for k in schemes} == schemes
        with a.engine.connect() as conn:
            results = [row for _code, row in reported_rows(conn, "village_result")]
        assert results and {row["village_code"] for row in results} == {a_code}
        twice = run_import(a, down.path, package_sheet_specs(a, receiving=True), actor=clerk)
        assert twice.accepted and all(c.created == 0 and c.updated == 0 for c in twice.sheets.values())

        # a county never takes a village's package (as the township's whole state it would delete the rest)
        from townapp.create import create_database
        county = create_database(tmp_path / "county.db", "county", "临猗县", "140821", CLI_ACTOR)
        try:
            refused = run_import(county, up_a, package_sheet_specs(county), actor=CLI_ACTOR)
            assert {e.code for e in refused.errors} == {"village_package"}
        finally:
            county.dispose()

        # 乙村 cannot take 甲村's package
        wrong = run_import(b, down.path, package_sheet_specs(b, receiving=True), actor=CLI_ACTOR)
        assert {e.code for e in wrong.errors} == {"wrong_village"}
    finally:
        a.dispose()
        b.dispose()

    # a village unknown to the township is refused with what to do
    c = village_install(tmp_path, township, township.meta("root_code")[:9] + "299", "新设村")
    try:
        register(c, "0001", [(pid(1971, 907), "孙新", "户主")])
        unknown = run_import(township, write_package(c, package_sheet_specs(c), tmp_path / "c.xlsx",
                                                     actor=CLI_ACTOR).path, package_sheet_specs(township),
                             actor=CLI_ACTOR)
        assert {e.code for e in unknown.errors} == {"unknown_village"}
    finally:
        c.dispose()
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)
