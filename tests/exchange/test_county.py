"""County mode: many township packages in one database, replaced per township, conflicts listed.

GIVEN two township databases (临晋镇, 猗氏镇) and a county database (临猗县)
WHEN their packages are imported, one township re-sends a changed package,
and another sends a person the first township already has
THEN each township's rows are replaced by its latest package only, and the
shared person (or a code with a second name) is a ``conflict``, never merged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from townapp.core.actor import CLI_ACTOR
from townapp.db import Database
from townapp.exchange.models import CountyHolding
from townapp.exchange.package import write_package
from townapp.exchange.pipeline import run_import
from townapp.registry import models as m
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import build_registry, dump_business, initialised, pid, write_xlsx


@pytest.fixture
def county(another_db: Callable[[], Database]) -> Database:
    return initialised(another_db(), mode="county", name="临猗县", code="140821")


@pytest.fixture
def yishi(another_db: Callable[[], Database]) -> Database:
    db = initialised(another_db(), name="猗氏镇", code="140821101")
    service = RegistryService(db)
    village = service.save_village(VillageInput(code="140821101201", name="东张村"))  # same name, other township
    service.save_household(HouseholdInput(village_id=village, number="0001", members=[
        MemberInput(PersonInput(pid(1955, 71), "周八"), "户主"),
        MemberInput(PersonInput(pid(1957, 82), "吴九"), "配偶")]))
    return db


def package(db: Database, path: Path) -> Path:
    return write_package(db, all_sheet_specs(), path, actor=CLI_ACTOR).path


def people_by_township(county: Database) -> dict[str, set[str]]:
    with county.engine.connect() as conn:
        rows = conn.execute(select(m.Township.name, m.Person.name).join(m.Village, m.Village.id == m.Person.village_id)
                            .join(m.Township, m.Township.id == m.Village.township_id)).all()
    result: dict[str, set[str]] = {}
    for township, person in rows:
        result.setdefault(township, set()).add(person)
    return result


def test_packages_replace_their_own_township_only(db: Database, registry: RegistryService, yishi: Database,
                                                  county: Database, tmp_path: Path) -> None:
    built = build_registry(registry)
    first = run_import(county, package(db, tmp_path / "linjin.xlsx"), all_sheet_specs(), actor=CLI_ACTOR)
    assert first.accepted, first.summary_text()
    second = run_import(county, package(yishi, tmp_path / "yishi.xlsx"), all_sheet_specs(), actor=CLI_ACTOR)
    assert second.accepted, second.summary_text()
    assert people_by_township(county) == {"临晋镇": {"张大山", "李秀英", "张小山", "王五", "赵六", "钱七"},
                                          "猗氏镇": {"周八", "吴九"}}

    # 临晋镇 removes 钱七 and renames 王五, then sends a new package
    qian = registry.find_person_by_id_number(built["people"]["wife_c"])
    registry.delete_person(qian.id)
    wang = registry.find_person_by_id_number(built["people"]["head_b"])
    registry.save_person(PersonInput(**{**wang.as_input().__dict__, "name": "王武"}))
    again = run_import(county, package(db, tmp_path / "linjin2.xlsx"), all_sheet_specs(), actor=CLI_ACTOR)
    assert again.accepted, again.summary_text()
    assert again.sheets["人员"].updated == 1 and again.sheets["人员"].created == 0
    assert any("已删除" in w.message for w in again.warnings)
    assert people_by_township(county) == {"临晋镇": {"张大山", "李秀英", "张小山", "王武", "赵六"},
                                          "猗氏镇": {"周八", "吴九"}}

    # the same package once more changes nothing
    same = run_import(county, tmp_path / "linjin2.xlsx", all_sheet_specs(), actor=CLI_ACTOR)
    assert all(c.created == 0 and c.updated == 0 for c in same.sheets.values()), same.summary_text()
    with county.engine.connect() as conn:
        held = dict(conn.execute(select(CountyHolding.township_code, func.count()).group_by(
            CountyHolding.township_code)).all())
    assert held == {"140821100": 2 + 3 + 3 + 5 + 3, "140821101": 1 + 1 + 2}


def test_a_person_in_two_townships_is_a_conflict(db: Database, registry: RegistryService, yishi: Database,
                                                 county: Database, tmp_path: Path) -> None:
    built = build_registry(registry)
    assert run_import(county, package(db, tmp_path / "linjin.xlsx"), all_sheet_specs()).accepted
    # 猗氏镇 registers 张大山 too (same ID)
    service = RegistryService(yishi)
    village = service.villages()[0].id
    service.save_household(HouseholdInput(village_id=village, number="0002", members=[
        MemberInput(PersonInput(built["people"]["head_a"], "张大山"), "户主")]))
    before = dump_business(county)
    report = run_import(county, package(yishi, tmp_path / "yishi.xlsx"), all_sheet_specs(), actor=CLI_ACTOR)
    assert report.status == "rejected"
    conflicts = [e for e in report.errors if e.code == "conflict"]
    assert len(conflicts) == 1 and conflicts[0].sheet == "人员" and "140821100" in conflicts[0].message
    assert dump_business(county) == before


def test_one_code_with_two_names_is_a_conflict(db: Database, registry: RegistryService,
                                               another_db: Callable[[], Database], county: Database,
                                               tmp_path: Path) -> None:
    build_registry(registry)
    assert run_import(county, package(db, tmp_path / "linjin.xlsx"), all_sheet_specs()).accepted
    renamed = initialised(another_db(), name="临晋乡", code="140821100")
    before = dump_business(county)
    report = run_import(county, package(renamed, tmp_path / "renamed.xlsx"), all_sheet_specs())
    assert "conflict" in {e.code for e in report.errors}
    assert any("临晋乡" in e.message and "临晋镇" in e.message for e in report.errors)
    assert dump_business(county) == before


def test_county_accepts_only_packages(county: Database, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", {"人员": [["身份证号", "姓名"], [pid(1970, 11), "张三"]]})
    report = run_import(county, path, all_sheet_specs())
    assert [e.code for e in report.errors] == ["not_package"]
