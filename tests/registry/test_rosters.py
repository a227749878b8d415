"""A roster registers what it describes, and reads values as people write them (issue 18, items 3–4).

GIVEN a township with two villages, a 党委 with branches, three households and six people
WHEN a village sends its own 党员花名册 or 人口花名册 — people not registered yet, 户号 typed as numbers,
     正式党员 in the 党籍状态 column, 学历 as rosters spell it, village columns headed 村名 or 社区名称
THEN the people, their households and memberships are registered in one all-or-nothing import,
     a second import of the same file changes nothing, and a 村录入员 still changes only their own village.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.exchange.conftest import VILLAGE_A, build_registry, dump_business, pid, write_xlsx
from townapp.core.actor import ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.exchange.normalize import norm_label
from townapp.exchange.pipeline import run_import
from townapp.registry import models as m
from townapp.registry.service import RegistryService
from townapp.registry.sheets import PARTY_MEMBER_SHEET
from townapp.sheets import all_sheet_specs

ROSTER_HEADER = ["序号", "姓名", "身份证号码", "性别", "出生日期", "民族", "学历", "村名", "户号", "与户主关系",
                 "党员类别", "入党时间", "所在党支部", "联系电话"]
NEW_HEAD, NEW_SON = pid(1970, 71), pid(1996, 73)


@pytest.fixture
def built(registry: RegistryService) -> dict:
    return build_registry(registry)


def roster(*rows: list[Any], header: list[str] = ROSTER_HEADER) -> dict[str, list[list[Any]]]:
    """东张村's own 党员花名册: a title row above the header, as villages keep it."""
    return {"党员花名册": [["东张村党员花名册（2026年）"], header, *rows]}


def new_members() -> list[list[Any]]:
    """A new household 0010 (户主 and son) and a member of the stored household 0002 typed as the number 2."""
    return [[1, "孙建国", NEW_HEAD, "男", "1970-03-15", "汉", "高中及以下", "东张村", "0010", "户主", "正式党员",
             "1995-07-01", "中共东张村支部委员会", "13800001111"],
            [2, "孙小军", NEW_SON, "男", None, None, "本科", "东张村", "0010", "子", "预备党员", "2025-07-01",
             "中共东张村支部委员会", None],
            [3, "周红", pid(1988, 82), "女", None, "汉族", "大专", "东张村", 2, "儿媳", "正式党员", "2012-07-01",
             "中共东张村支部委员会", None]]


def facts(db: Database, number: str) -> dict[str, Any] | None:
    """The person, their village, household and membership as stored."""
    with db.engine.connect() as conn:
        row = conn.execute(
            select(m.Person.name, m.Person.phone, m.Person.education, m.Village.code.label("village"),
                   m.Household.number.label("household"), m.HouseholdMember.relation, m.PartyMember.member_type,
                   m.PartyMember.status, m.PartyMember.branch_id)
            .outerjoin(m.Village, m.Village.id == m.Person.village_id)
            .outerjoin(m.HouseholdMember, m.HouseholdMember.person_id == m.Person.id)
            .outerjoin(m.Household, m.Household.id == m.HouseholdMember.household_id)
            .outerjoin(m.PartyMember, m.PartyMember.person_id == m.Person.id)
            .where(m.Person.id_number == number)).first()
    return None if row is None else dict(row._mapping)


def household_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return len(conn.execute(select(m.Household.id)).all())


def test_a_party_roster_registers_its_people_households_and_members(db: Database, built: dict,
                                                                     tmp_path: Path) -> None:
    """GIVEN a 党员花名册 of three people not registered yet (two in a new household 0010, one joining 0002 typed as 2)
    WHEN it is checked (dry run), imported, and imported again
    THEN the dry run says whom and which household it would register and writes nothing; the import registers
    each person in 东张村 with their household link and membership; the second import changes nothing."""
    path = write_xlsx(tmp_path / "花名册.xlsx", roster(*new_members()))
    before = dump_business(db)
    dry = run_import(db, path, all_sheet_specs(), dry_run=True)
    assert dry.accepted, dry.summary_text()
    assert dump_business(db) == before
    assert dry.sheets["党员花名册"].created == 3
    said = " ".join(w.message for w in dry.warnings)
    assert "3 人尚未登记为人员" in said and "孙建国" in said and "东张村0010" in said

    real = run_import(db, path, all_sheet_specs())
    assert real.accepted and real.to_dict()["sheets"] == dry.to_dict()["sheets"], real.summary_text()
    head = facts(db, NEW_HEAD)
    assert head is not None
    assert (head["village"], head["household"], head["relation"], head["member_type"], head["phone"],
            head["education"]) == (VILLAGE_A, "0010", "户主", "正式党员", "13800001111", None)
    son = facts(db, NEW_SON)
    assert son is not None and (son["household"], son["relation"], son["member_type"]) == ("0010", "子", "预备党员")
    daughter_in_law = facts(db, pid(1988, 82))
    assert daughter_in_law is not None and daughter_in_law["household"] == "0002"
    assert household_count(db) == 4  # 0010 added; 2 found the stored 0002

    again = run_import(db, path, all_sheet_specs())
    counts = again.sheets["党员花名册"]
    assert (counts.created, counts.updated, counts.unchanged, counts.errors) == (0, 0, 3, 0), again.summary_text()
    assert not any("尚未登记" in w.message for w in again.warnings)


def test_one_bad_row_rejects_the_whole_roster(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN the same roster with one more row whose 所属村 is not a village of the township
    WHEN it is imported THEN the file is rejected at that row and no person, household or member was written."""
    rows = [*new_members(), [4, "吴六", pid(1975, 91), None, None, None, None, "火星村", None, None, "正式党员",
                             "2000-07-01", "中共东张村支部委员会", None]]
    before = dump_business(db)
    report = run_import(db, write_xlsx(tmp_path / "bad.xlsx", roster(*rows)), all_sheet_specs())
    assert not report.accepted
    assert [(e.row, e.code, e.column) for e in report.errors] == [(6, "unknown_village", "村名")]
    assert dump_business(db) == before


def test_a_new_person_needs_a_village_column(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN a 党员 roster with 性别 and 联系电话 but no village column WHEN a row names someone not registered
    THEN it is refused with a message that says to add the 所属村 column (a person always has a village)."""
    header = ["姓名", "身份证号码", "性别", "联系电话", "党员类别"]
    report = run_import(db, write_xlsx(tmp_path / "r.xlsx", roster(["孙建国", NEW_HEAD, "男", None, "正式党员"],
                                                                   header=header)),
                        all_sheet_specs(), dry_run=True)
    assert [e.code for e in report.errors] == ["unknown_person"]
    assert "所属村" in report.errors[0].message


def test_a_roster_checks_names_and_updates_registered_people(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN a roster naming a registered member with a new phone, and another with a misspelt name
    WHEN it is imported THEN the misspelt name is refused (a roster of members never renames a person);
    without it the phone is updated and the row counts as 更新."""
    people = built["people"]
    header = ["姓名", "身份证号码", "联系电话"]
    wrong = roster(["张大山", people["head_a"], "13811112222"], ["张晓山", people["son_a"], None], header=header)
    report = run_import(db, write_xlsx(tmp_path / "wrong.xlsx", wrong), all_sheet_specs())
    assert [e.code for e in report.errors] == ["name_mismatch"]
    right = roster(["张大山", people["head_a"], "13811112222"], header=header)
    report = run_import(db, write_xlsx(tmp_path / "right.xlsx", right), all_sheet_specs())
    assert report.accepted and report.sheets["党员花名册"].updated == 1, report.summary_text()
    assert facts(db, people["head_a"])["phone"] == "13811112222"  # type: ignore[index]


def test_a_clerk_cannot_register_another_villages_people_by_roster(db: Database, built: dict,
                                                                   tmp_path: Path) -> None:
    """GIVEN 东张村's 村录入员 WHEN their 党员花名册 registers a new member of 西张社区
    THEN the row is refused (not_permitted), naming no one of the other village, and nothing is written."""
    clerk = Actor("东张村文书", ROLE_VILLAGE, built["villages"][0])
    header = ["姓名", "身份证号码", "所属村", "党员类别"]
    sheets = roster(["孙建国", NEW_HEAD, "东张村", "正式党员"], ["吴六", pid(1975, 91), "西张社区", "正式党员"],
                    header=header)
    before = dump_business(db)
    for dry_run in (True, False):
        report = run_import(db, write_xlsx(tmp_path / "跨村.xlsx", sheets), all_sheet_specs(), dry_run=dry_run,
                            actor=clerk)
        assert "not_permitted" in {e.code for e in report.errors}, report.summary_text()
        assert all(e.row == 4 for e in report.errors if e.code == "not_permitted")
    assert dump_business(db) == before
    own = roster(["孙建国", NEW_HEAD, "东张村", "正式党员"], header=header)
    report = run_import(db, write_xlsx(tmp_path / "本村.xlsx", own), all_sheet_specs(), actor=clerk)
    assert report.accepted, report.summary_text()


def test_a_household_number_typed_as_a_number_finds_the_stored_one(db: Database, built: dict,
                                                                   tmp_path: Path) -> None:
    """GIVEN 东张村's households 0001 and 0002 WHEN a 人口 roster gives 户号 as the numbers 1 and 2 (Excel dropped the
    zeros) and a 住户 sheet gives 2 with a new address THEN they are 0001 and 0002: no empty household is added."""
    people = built["people"]
    sheets = {"住户": [["所属村", "户号", "地址"], ["东张村", 2, "东张村二组2号"]],
              "人口": [["姓名", "身份证号码", "所属村", "户号", "与户主关系"],
                      ["张小山", people["son_a"], "东张村", 1, "子"],
                      ["郑八", pid(2001, 93), "东张村", 2.0, "孙子"]]}
    report = run_import(db, write_xlsx(tmp_path / "户号.xlsx", sheets), all_sheet_specs())
    assert report.accepted, report.summary_text()
    assert (report.sheets["住户"].updated, report.sheets["住户"].created) == (1, 0)
    assert household_count(db) == 3
    assert facts(db, pid(2001, 93))["household"] == "0002"  # type: ignore[index]
    assert facts(db, people["son_a"])["household"] == "0001"  # type: ignore[index]


def test_a_number_that_fits_two_stored_households_is_refused(db: Database, built: dict, registry: RegistryService,
                                                             tmp_path: Path) -> None:
    """GIVEN 东张村 with households 0002 and 02 WHEN a roster gives 户号 2 THEN it is refused, naming both."""
    from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput

    registry.save_household(HouseholdInput(village_id=built["villages"][0], number="02", members=[
        MemberInput(PersonInput(pid(1950, 95), "冯九"), "户主")]))
    sheets = {"人口": [["姓名", "身份证号码", "所属村", "户号", "与户主关系"], ["郑八", pid(2001, 93), "东张村", 2, "孙子"]]}
    report = run_import(db, write_xlsx(tmp_path / "二义.xlsx", sheets), all_sheet_specs(), dry_run=True)
    assert [e.code for e in report.errors] == ["unknown_household"]
    assert "02、0002" in report.errors[0].message


def test_party_status_holding_member_types_is_read_as_member_type(db: Database, built: dict, tmp_path: Path) -> None:
    """GIVEN a roster whose 党籍状态 column holds 正式党员 and 预备党员 (as the national template uses it)
    WHEN it is imported THEN they are the 党员类别, the 党籍状态 stays 正常, and the report says so."""
    people = built["people"]
    header = ["姓名", "身份证号码", "党籍状态"]
    for written, member_type in (("正式党员", "正式党员"), ("预备", "预备党员")):
        sheets = roster(["张小山", people["son_a"], written], header=header)
        report = run_import(db, write_xlsx(tmp_path / "党籍.xlsx", sheets), all_sheet_specs())
        assert report.accepted, report.summary_text()
        son = facts(db, people["son_a"])
        assert son is not None and (son["member_type"], son["status"]) == (member_type, "正常")
        assert any("按“党员类别”导入" in w.message for w in report.warnings)
    clash = roster(["张小山", people["son_a"], "正式党员", "预备党员"], header=[*header, "党员类别"])
    report = run_import(db, write_xlsx(tmp_path / "矛盾.xlsx", clash), all_sheet_specs(), dry_run=True)
    assert [e.code for e in report.errors] == ["rule"]


@pytest.mark.parametrize(("written", "stored"), [
    ("专科", "大专"), ("大专", "大专"), ("本科", "本科"), ("大学本科", "本科"),
    ("研究生", "研究生"), ("硕士", "研究生"), ("博士", "研究生"), ("中专", "中专"), ("中技", "中专"),
    ("技校", "中专"), ("职高", "中专"), ("小学及以下", "小学及以下"), ("文盲", "小学及以下"),
    ("半文盲", "小学及以下"), ("不识字", "小学及以下"), ("大学专科", "大专"), ("研究生（硕士）", "研究生"),
])
def test_education_as_rosters_spell_it(db: Database, built: dict, tmp_path: Path, written: str, stored: str) -> None:
    """GIVEN a 人口 roster whose 学历 is spelt as rosters and the national vocabulary spell it
    WHEN it is imported THEN the standard 文化程度 is stored."""
    sheets = {"人口": [["姓名", "身份证号码", "学历"], ["张大山", built["people"]["head_a"], written]]}
    report = run_import(db, write_xlsx(tmp_path / "学历.xlsx", sheets), all_sheet_specs())
    assert report.accepted, report.summary_text()
    assert facts(db, built["people"]["head_a"])["education"] == stored  # type: ignore[index]


@pytest.mark.parametrize("written", ["高中及以下", "初中及以下", "高中/中专", "大专及以上"])
def test_a_range_of_education_never_overwrites_or_guesses(db: Database, built: dict, tmp_path: Path,
                                                          written: str) -> None:
    """GIVEN a person registered with 文化程度 初中, and a roster (a town system's export) whose 学历 says 高中及以下
    WHEN it is imported
    THEN the stored 初中 stays (a range is none of its values), the import is accepted, and the report says
    once that the range was not imported."""
    number = built["people"]["head_a"]
    first = {"人口": [["姓名", "身份证号码", "学历"], ["张大山", number, "初中"]]}
    assert run_import(db, write_xlsx(tmp_path / "1.xlsx", first), all_sheet_specs()).accepted
    sheets = {"人口": [["姓名", "身份证号码", "学历"], ["张大山", number, written]]}
    report = run_import(db, write_xlsx(tmp_path / "学历.xlsx", sheets), all_sheet_specs())
    assert report.accepted, report.summary_text()
    assert report.sheets["人口"].unchanged == 1
    assert facts(db, number)["education"] == "初中"  # type: ignore[index]
    assert [w.message for w in report.warnings if "范围" in w.message] == [
        f"1 行的文化程度写作“{written}”，这是一个范围，不是具体的文化程度，没有导入（已登记的文化程度保持不变）；请核实后在程序中填写"]


@pytest.mark.parametrize("header", ["村名", "社区名称", "村（居）委会", "所在村", "村(居)委会"])
def test_village_columns_as_rosters_head_them(db: Database, built: dict, tmp_path: Path, header: str) -> None:
    """GIVEN a 人口 roster whose village column is headed 村名, 社区名称, 村（居）委会 or 所在村, and a 住户 sheet
    with 组别 WHEN it is imported THEN the column is the person's village and the household's group."""
    sheets = {"住户": [[header, "户编号", "组别"], ["西张社区", "0009", "一组"]],
              "人口": [["姓名", "身份证号码", header, "户编号", "与户主关系"], ["郑八", pid(2001, 93), "西张社区", "0009",
                                                                         "户主"]]}
    report = run_import(db, write_xlsx(tmp_path / "别名.xlsx", sheets), all_sheet_specs())
    assert report.accepted, report.summary_text()
    stored = facts(db, pid(2001, 93))
    assert stored is not None and (stored["household"], stored["relation"]) == ("0009", "户主")
    with db.engine.connect() as conn:
        group = conn.execute(select(m.VillageGroup.name).join(m.Household, m.Household.group_id == m.VillageGroup.id)
                             .where(m.Household.number == "0009")).scalar()
    assert group == "一组"


def test_no_header_names_two_columns_of_one_sheet() -> None:
    """GIVEN every sheet of every module WHEN the headers and aliases are reduced as the importer reads them
    THEN no label names two different columns of the same sheet (an alias may never steal another column)."""
    clashes = []
    for spec in all_sheet_specs():
        seen: dict[str, str] = {}
        for column in spec.columns:
            for label in {norm_label(text) for text in column.labels}:
                if seen.setdefault(label, column.key) != column.key:
                    clashes.append((spec.title, label, seen[label], column.key))
    assert clashes == []


def test_the_roster_columns_stay_out_of_exports() -> None:
    """GIVEN the 党员 sheet with the person's columns a roster may carry
    WHEN its exported columns are listed THEN they are the 党员 columns only (the 人员 sheet carries the person)."""
    exported = {column.key for column in PARTY_MEMBER_SHEET.exported_columns}
    assert {"id_number", "name", "member_type", "status"} <= exported
    assert not exported & {"village_name", "village_code", "sex", "household", "relation", "phone"}


def test_group_and_household_codes_typed_as_numbers_are_the_stored_ones(db: Database, registry: RegistryService,
                                                                       tmp_path: Path) -> None:
    """GIVEN a village whose 村民小组 are coded 01 and 02 WHEN a 住户 sheet gives 组别 1 (Excel dropped the zero)
    THEN the household joins group 01 and no group 1 is added; the same household as 6 and 0006 is one household."""
    from townapp.registry.dto import VillageInput

    vid = registry.save_village(VillageInput(code=VILLAGE_A, name="东张村", groups=["01", "02"]))
    sheets = {"住户": [["所属村", "户号", "组别"], ["东张村", "0006", 1]]}
    report = run_import(db, write_xlsx(tmp_path / "组别.xlsx", sheets), all_sheet_specs())
    assert report.accepted, report.summary_text()
    assert [name for _gid, name in registry.village_groups(vid)] == ["01", "02"]
    with db.engine.connect() as conn:
        group = conn.execute(select(m.VillageGroup.name).join(m.Household, m.Household.group_id == m.VillageGroup.id)
                             .where(m.Household.number == "0006")).scalar()
    assert group == "01"
    twice = {"住户": [["所属村", "户号", "组别"], ["东张村", "0006", "01"], ["东张村", 6, "02"]]}
    report = run_import(db, write_xlsx(tmp_path / "两次.xlsx", twice), all_sheet_specs(), dry_run=True)
    assert [(e.row, e.code) for e in report.errors] == [(3, "duplicate_in_file")]
