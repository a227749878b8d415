"""Imports obey roles (issue 16, hole 3): 只读 imports nothing; a 村录入员 changes only their own village.

The check is one generic step of the pipeline (the village of every record a
row creates or changes, before and after, looked up set-based per sheet), so
every sheet of every module is covered without a copy in each adapter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.figures import record
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.exchange import pipeline
from townapp.exchange.pipeline import run_import
from townapp.registry import models as m
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs

from .conftest import VILLAGE_A, VILLAGE_B, build_registry, dump_business, pid, write_xlsx

PEOPLE = ["姓名", "身份证号码", "联系电话"]


@pytest.fixture
def built(registry: RegistryService) -> dict:
    return build_registry(registry)


def clerk_of(built: dict) -> Actor:
    return Actor("东张村文书", ROLE_VILLAGE, built["villages"][0])


def stored(db: Database, number: str) -> tuple | None:
    with db.engine.connect() as conn:
        return conn.execute(select(m.Person.name, m.Person.phone, m.Person.village_id)
                            .where(m.Person.id_number == number)).first()


# (what the clerk tries, the sheets of the workbook) — every one touches 西张社区 or the township
CROSS_VILLAGE: list[tuple[str, dict]] = [
    ("改他村人员姓名", {"人员": [PEOPLE, ["赵六改", "{head_c}", None]]}),
    ("改他村人员电话", {"人员": [PEOPLE, ["赵六", "{head_c}", "13900000000"]]}),
    ("在他村新增人员", {"人员": [["姓名", "身份证号码", "村区划代码"], ["新来的", pid(1999, 71), VILLAGE_B]]}),
    ("把他村人员迁到本村", {"人员": [["姓名", "身份证号码", "村区划代码"], ["赵六", "{head_c}", VILLAGE_A]]}),
    ("混在本村行中改他村", {"人员": [PEOPLE, ["张大山", "{head_a}", "13811112222"], ["钱七改", "{wife_c}", None]]}),
    ("本村两委班子登记他村人员", {"两委班子": [["村区划代码", "身份证号", "职务", "任职日期"],
                                       [VILLAGE_A, "{head_c}", "委员", "2024-01-01"]]}),
    ("新增村", {"村（社区）": [["村区划代码", "村名称"], ["140821100209", "新建村"]]}),
    ("改他村名称", {"村（社区）": [["村区划代码", "村名称"], [VILLAGE_B, "改名社区"]]}),
]


def _fill(sheets: dict, people: dict[str, str]) -> dict:
    return {name: [[str(c).format(**people) if isinstance(c, str) else c for c in row] for row in rows]
            for name, rows in sheets.items()}


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_clerk_cannot_change_another_village_through_an_import(db: Database, built: dict, tmp_path: Path,
                                                                dry_run: bool) -> None:
    """GIVEN 东张村's clerk and workbooks that rename, re-phone, create or move people of 西张社区, or touch villages
    WHEN each is imported (dry run and real)
    THEN each is rejected with not_permitted at the offending row, in Chinese, naming no one, and nothing changed."""
    clerk = clerk_of(built)
    before = dump_business(db)
    succeeded = 0
    for number, (what, sheets) in enumerate(CROSS_VILLAGE):
        path = write_xlsx(tmp_path / f"跨村{number}.xlsx", _fill(sheets, built["people"]))
        report = run_import(db, path, all_sheet_specs(), dry_run=dry_run, actor=clerk)
        succeeded += report.accepted
        codes = {e.code for e in report.errors}
        assert "not_permitted" in codes, f"{what}: {report.summary_text()}"
        refused = [e for e in report.errors if e.code == "not_permitted"]
        assert all(e.row >= 2 and "本村" in e.message for e in refused), what
        assert not any(name in e.message for e in refused for name in ("赵六", "钱七", "西张"))
    assert dump_business(db) == before
    assert stored(db, built["people"]["head_c"])[:2] == ("赵六", None)
    if not dry_run:
        record("村录入员跨村导入成功数", f"{succeeded}（共尝试 {len(CROSS_VILLAGE)} 种）")
    assert succeeded == 0


def test_a_clerk_still_imports_their_own_village(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN 东张村's clerk WHEN they re-phone and rename their own people, add one to their village and
    record one of their own people as a cadre THEN the import is accepted exactly as for a township cadre."""
    clerk = clerk_of(built)
    people = built["people"]
    sheets = {"人员": [["姓名", "身份证号码", "联系电话", "村区划代码"],
                       ["张大山", people["head_a"], "13811112222", VILLAGE_A],
                       ["王五五", people["head_b"], None, VILLAGE_A],
                       ["新来的", pid(1999, 71), None, VILLAGE_A]]}
    report = run_import(db, write_xlsx(tmp_path / "本村.xlsx", sheets), all_sheet_specs(), actor=clerk)
    assert report.accepted, report.summary_text()
    assert report.sheets["人员"].updated == 2 and report.sheets["人员"].created == 1
    assert stored(db, people["head_b"])[0] == "王五五"
    assert stored(db, pid(1999, 71))[2] == built["villages"][0]
    cadre = {"两委班子": [["村区划代码", "身份证号", "职务", "任职日期"], [VILLAGE_A, people["head_a"], "书记", "2024-01-01"]]}
    report = run_import(db, write_xlsx(tmp_path / "两委.xlsx", cadre), all_sheet_specs(), actor=clerk)
    assert report.accepted and report.sheets["两委班子"].created == 1, report.summary_text()


def test_read_only_imports_nothing(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN a 只读 account WHEN it imports (dry run or real) a workbook that would change its own data
    THEN the file is refused at report level in Chinese and nothing changes."""
    reader = Actor("只读查看", ROLE_READONLY)
    sheets = {"人员": [PEOPLE, ["张大山", built["people"]["head_a"], "13811112222"]]}
    path = write_xlsx(tmp_path / "只读.xlsx", sheets)
    before = dump_business(db)
    for dry_run in (True, False):
        report = run_import(db, path, all_sheet_specs(), dry_run=dry_run, actor=reader)
        assert not report.accepted
        assert [(e.code, e.row) for e in report.errors] == [("not_permitted", 0)]
        assert "只读" in report.errors[0].message
        assert json.loads(json.dumps(report.to_dict()))["status"] == "rejected"
    assert dump_business(db) == before


@pytest.mark.parametrize("role", [ROLE_ADMIN, ROLE_TOWNSHIP])
def test_township_roles_pay_nothing_for_the_check(db: Database, built: dict, tmp_path: Path, role: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a township role WHEN it imports another village's rows THEN they are accepted and no village
    lookup runs (a 100,000-row county import does not slow down)."""
    def fail(*_a: object, **_k: object) -> None:
        raise AssertionError("village lookup ran for a township role")

    monkeypatch.setattr(pipeline, "_villages_of", fail)
    sheets = {"人员": [PEOPLE, ["赵六改", built["people"]["head_c"], "13900000000"]]}
    report = run_import(db, write_xlsx(tmp_path / "乡镇.xlsx", sheets), all_sheet_specs(),
                        actor=Actor("乡镇", role))
    assert report.accepted and stored(db, built["people"]["head_c"])[:2] == ("赵六改", "13900000000")
