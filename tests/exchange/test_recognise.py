"""Recognising real village sheets: what each sheet was taken as, and never a silent misread.

GIVEN a township with two villages (东张村, 西张社区)
WHEN workbooks laid out as villages make them are imported
THEN the report says per sheet what it was taken as and which columns were used
and ignored; banded headers, instruction rows, placeholders and invisible
characters are read as a person means them; a sheet that only looks like ours
is refused (uncertain_sheet) until a person confirms a mapping.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from townapp.core.actor import CLI_ACTOR, ROLE_VILLAGE, Actor
from townapp.core.errors import PermissionDenied
from townapp.db import Database
from townapp.exchange.commands import import_command
from townapp.exchange.layouts import LayoutService
from townapp.exchange.pipeline import run_import
from townapp.exchange.recognise import SheetMapping
from townapp.registry import models as m
from townapp.sheets import all_sheet_specs, elsewhere_sheet_specs

from .conftest import dump_business, pid, write_xlsx

ZHANG = pid(1970, 11)
LI = pid(1980, 22)


def people_rows() -> list[list[object]]:
    return [[ZHANG, "张三", "男", "东张村", "13812345678"], [LI, "李四", "女", "西张社区", "13912345678"]]


def test_report_says_what_each_sheet_was_taken_as(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN a sheet named Sheet1 whose headers are a person roster with one extra column
    WHEN it is dry-run
    THEN the report names the entity, the columns used (header text → field) and the one ignored."""
    path = write_xlsx(tmp_path / "a.xlsx", {"Sheet1": [["序号", "身份证号码", "姓名", "性别", "所属村", "手机号", "籍贯"],
                                                       *[[i, *r[:5], "山西"] for i, r in enumerate(people_rows(), 1)]]})
    report = run_import(db, path, all_sheet_specs(), dry_run=True, actor=CLI_ACTOR)
    data = report.to_dict()
    assert data["status"] == "ok", data["errors"]
    sheet = data["sheets"]["Sheet1"]
    assert sheet["entity"] == "person" and sheet["created"] == 2
    assert sheet["columns"]["used"] == {"身份证号码": "id_number", "姓名": "name", "性别": "sex", "所属村": "village_name",
                                        "手机号": "phone"}
    assert sheet["columns"]["ignored"] == ["籍贯"]
    assert sheet["layout"] is None and sheet["header_row"] == 1


def test_dues_ledger_is_not_taken_for_party_members(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN a 党费收缴 sheet: 身份证号, 姓名, 所属党支部 and amounts
    WHEN it is imported for real
    THEN it is refused as uncertain_sheet (nothing changes), and the report still says what it looked like."""
    path = write_xlsx(tmp_path / "dues.xlsx", {"党费收缴": [
        ["身份证号", "姓名", "所属党支部", "月工资", "缴纳比例", "应缴金额", "实缴金额"],
        [ZHANG, "张三", "东张村党支部", 3000, "0.5%", 15, 15]]})
    before = dump_business(db)
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert [e.code for e in report.errors] == ["uncertain_sheet"]
    assert "应缴金额" in report.errors[0].message and "--mapping" in report.errors[0].message
    assert report.to_dict()["sheets"]["党费收缴"]["entity"] == "party_member"
    assert dump_business(db) == before


def test_quarterly_points_ledger_is_not_taken_for_party_members(db: Database, villages: tuple[int, int],
                                                               tmp_path: Path) -> None:
    """GIVEN a 党员积分台账 with a column per quarter
    WHEN it is dry-run
    THEN it is refused as uncertain, never reported as a success that imports no points."""
    path = write_xlsx(tmp_path / "q.xlsx", {"党员积分台账": [
        ["序号", "姓名", "身份证号", "所在支部", "第一季度", "第二季度", "第三季度", "第四季度", "年度积分"],
        [1, "张三", ZHANG, "东张村党支部", 25, 30, 28, 27, 110]]})
    report = run_import(db, path, all_sheet_specs(), dry_run=True, actor=CLI_ACTOR)
    assert not report.accepted and {e.code for e in report.errors} == {"uncertain_sheet"}


def test_a_confirmed_mapping_imports_the_sheet_and_names_it(db: Database, villages: tuple[int, int],
                                                           tmp_path: Path) -> None:
    """GIVEN an unknown layout whose 居民姓名 / 证件号码 columns nothing recognises
    WHEN a person maps them (and leaves 家庭住址 out)
    THEN the sheet imports as persons and the report lists exactly that mapping."""
    path = write_xlsx(tmp_path / "u.xlsx", {"登记": [["证件号码", "居民姓名", "所属村", "家庭住址"],
                                                    [ZHANG, "张三", "东张村", "一组1号"]]})
    mapping = SheetMapping("person", {"证件号码": "id_number", "居民姓名": "姓名", "家庭住址": None})
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR, mappings={"登记": mapping})
    assert report.accepted, report.errors
    sheet = report.to_dict()["sheets"]["登记"]
    assert sheet["columns"] == {"used": {"证件号码": "id_number", "居民姓名": "name", "所属村": "village_name"},
                                "ignored": ["家庭住址"]}
    with db.engine.connect() as conn:
        assert conn.scalar(select(m.Person.name).where(m.Person.id_number == ZHANG)) == "张三"


def test_banded_two_row_header(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN a header in two rows: 基本信息 / 联系方式 bands above the real names, 姓名 and 身份证号 merged down
    WHEN it is imported
    THEN the band label is not taken for a column and the sub-header row is not taken for data."""
    wb = Workbook()
    ws = wb.active
    ws.title = "人口登记表"
    ws.append(["东张村人口登记表"])
    ws.merge_cells("A1:F1")
    ws.append(["姓名", "身份证号", "基本信息", None, "联系方式", None])
    ws.append([None, None, "性别", "所属村", "手机", "固定电话"])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:D2")
    ws.merge_cells("E2:F2")
    for number, name, sex, village, phone in people_rows():
        ws.append([name, number, sex, village, phone, None])
    path = tmp_path / "band.xlsx"
    wb.save(path)
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, report.errors
    sheet = report.to_dict()["sheets"]["人口登记表"]
    assert sheet["created"] == 2 and sheet["header_row"] == 3
    assert sheet["columns"]["used"]["手机"] == "phone" and "联系方式" not in sheet["columns"]["used"]
    with db.engine.connect() as conn:
        assert conn.scalar(select(m.Person.phone).where(m.Person.id_number == ZHANG)) == "13812345678"


def test_instructions_placeholders_and_invisible_characters(db: Database, villages: tuple[int, int],
                                                           tmp_path: Path) -> None:
    """GIVEN an instruction box under the header, 无 and / in optional cells, U+200E before an ID and
    U+202D/U+202C around a phone
    WHEN it is imported
    THEN the notes are skipped, the placeholders read as empty, and the invisible characters are gone."""
    path = write_xlsx(tmp_path / "i.xlsx", {"人员": [
        ["身份证号", "姓名", "性别", "所属村", "联系电话", "文化程度", "备注"],
        ["填写注意事项：1、身份证号须为18位；2、所属村填全称"],
        ["\u200e" + ZHANG, "张三", "男", "东张村", "\u202d13812345678\u202c", "无", "/"],
        [LI, "李四", "女", "西张社区", "—", "/", "无"],
        ["1、本表由村委会填写，一式两份。"],
        ["注：联系电话填手机号"]]})
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted, [(e.row, e.message) for e in report.errors]
    assert report.sheets["人员"].created == 2
    with db.engine.connect() as conn:
        stored = dict(conn.execute(select(m.Person.id_number, m.Person.phone)).all())
    assert stored == {ZHANG: "13812345678", LI: None}


def test_a_placeholder_never_erases_a_stored_value(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN a person with a phone number
    WHEN a roster with 无 in the phone column is imported
    THEN the stored number stays."""
    first = write_xlsx(tmp_path / "1.xlsx", {"人员": [["身份证号", "姓名", "所属村", "联系电话"],
                                                    [ZHANG, "张三", "东张村", "13812345678"]]})
    assert run_import(db, first, all_sheet_specs(), actor=CLI_ACTOR).accepted
    second = write_xlsx(tmp_path / "2.xlsx", {"人员": [["身份证号", "姓名", "所属村", "联系电话"],
                                                     [ZHANG, "张三", "东张村", "无"]]})
    report = run_import(db, second, all_sheet_specs(), actor=CLI_ACTOR)
    assert report.accepted and report.sheets["人员"].unchanged == 1
    with db.engine.connect() as conn:
        assert conn.scalar(select(m.Person.phone)) == "13812345678"


def test_our_own_template_needs_no_confirmation(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN our template's 人员 header with every column
    WHEN it is dry-run
    THEN it is recognised by its name with no warning about recognition."""
    from townapp.registry.sheets import PERSON_SHEET

    header = [c.header for c in PERSON_SHEET.columns]
    row = {"id_number": ZHANG, "name": "张三", "village_name": "东张村", "birth_date": dt.date(1970, 3, 15)}
    path = write_xlsx(tmp_path / "t.xlsx", {"人员": [header, [row.get(c.key) for c in PERSON_SHEET.columns]]})
    report = run_import(db, path, all_sheet_specs(), dry_run=True, actor=CLI_ACTOR)
    assert report.accepted, report.errors
    assert report.to_dict()["sheets"]["人员"]["recognised_by"] == "name" and not report.warnings


def _unknown_layout(path: Path, rows: list[list[object]]) -> Path:
    return write_xlsx(path, {"东关村花名册": [["证件号码", "居民姓名", "所属村", "家庭住址"], *rows]})


def test_cli_mapping_file_confirms_and_saves_a_layout(db: Database, villages: tuple[int, int], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a village's own roster whose name columns nothing recognises
    WHEN it is imported with --mapping naming the columns and save_as, then a second file of the same layout
    is imported with no mapping
    THEN the first is imported by the mapping and saved; the second imports by itself and its report
    names the saved layout."""
    first = _unknown_layout(tmp_path / "1.xlsx", [[ZHANG, "张三", "东张村", "一组1号"]])
    plain = _cli(_args(db, first, tmp_path / "r0.json"))
    assert plain == 1 and json.loads((tmp_path / "r0.json").read_text("utf-8"))["errors"][0]["code"] in (
        "uncertain_sheet", "no_data", "missing_column")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"sheets": {"东关村花名册": {"entity": "person", "columns": {
        "证件号码": "身份证号", "居民姓名": "name", "家庭住址": None}}}, "save_as": "东关村人口花名册"},
        ensure_ascii=False), encoding="utf-8")
    assert _cli(_args(db, first, tmp_path / "r1.json", mapping=mapping)) == 0
    second = _unknown_layout(tmp_path / "2.xlsx", [[LI, "李四", "西张社区", "二组2号"]])
    assert _cli(_args(db, second, tmp_path / "r2.json")) == 0
    sheet = json.loads((tmp_path / "r2.json").read_text("utf-8"))["sheets"]["东关村花名册"]
    assert sheet["layout"] == "东关村人口花名册" and sheet["created"] == 1 and sheet["entity"] == "person"
    assert [x.name for x in LayoutService(db, CLI_ACTOR).layouts()] == ["东关村人口花名册"]


def test_a_bad_mapping_file_is_a_usage_error(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN a mapping file that is not JSON, or names no entity WHEN imported with it THEN exit 2, nothing read."""
    first = _unknown_layout(tmp_path / "1.xlsx", [[ZHANG, "张三", "东张村", "一组1号"]])
    bad = tmp_path / "bad.json"
    bad.write_text("{sheets:", encoding="utf-8")
    assert _cli(_args(db, first, None, mapping=bad)) == 2
    bad.write_text(json.dumps({"sheets": {"东关村花名册": {"columns": {}}}}), encoding="utf-8")
    assert _cli(_args(db, first, None, mapping=bad)) == 2


def test_a_clerks_layout_serves_only_their_village(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    """GIVEN a layout a 村录入员 of 东张村 saved with an import
    WHEN a township user and the clerk of 西张社区 import the same layout
    THEN neither gets it applied (it is refused as unrecognised for them), the clerk's own next file does."""
    own, other = villages
    clerk = Actor("东张录入", ROLE_VILLAGE, own)
    first = _unknown_layout(tmp_path / "1.xlsx", [[ZHANG, "张三", "东张村", "一组1号"]])
    mapping = SheetMapping("person", {"证件号码": "id_number", "居民姓名": "name", "家庭住址": None})
    assert run_import(db, first, all_sheet_specs(), actor=clerk, mappings={"东关村花名册": mapping},
                      save_as="东张村花名册").accepted
    again = _unknown_layout(tmp_path / "2.xlsx", [[ZHANG, "张三", "东张村", "一组1号"]])
    assert run_import(db, again, all_sheet_specs(), dry_run=True, actor=clerk).taken["东关村花名册"].layout == "东张村花名册"
    for actor in (CLI_ACTOR, Actor("西张录入", ROLE_VILLAGE, other)):
        report = run_import(db, again, all_sheet_specs(), dry_run=True, actor=actor)
        assert not report.accepted and all(t.layout is None for t in report.taken.values())
    assert LayoutService(db, Actor("西张录入", ROLE_VILLAGE, other)).layouts() == []
    with pytest.raises(PermissionDenied):
        LayoutService(db, Actor("西张录入", ROLE_VILLAGE, other)).delete(LayoutService(db, clerk).layouts()[0].id)


def _cli(args: argparse.Namespace) -> int:
    return import_command(args, sheet_specs=all_sheet_specs, elsewhere=elsewhere_sheet_specs)


def _args(db: Database, path: Path, report: Path | None, mapping: Path | None = None) -> argparse.Namespace:
    return argparse.Namespace(db=db.location, file=str(path), dry_run=False, report=str(report) if report else None,
                              mapping=str(mapping) if mapping else None)


@pytest.mark.parametrize(("entry", "says"), [
    ({"entity": "salary", "columns": {}}, "表类型“salary”不存在"),
    ({"entity": "person", "columns": {"证件号码": "salary"}}, "“salary”不是“人员”的字段"),
    ({"entity": "person", "columns": {"证件号码": "身份证号", "居民姓名": "id_number"}}, "都对应“身份证号”"),
])
def test_a_mapping_naming_what_does_not_exist_is_a_usage_error(db: Database, villages: tuple[int, int],
                                                              tmp_path: Path, entry: dict, says: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN a mapping file naming an entity or a field that does not exist, or two columns for one field
    WHEN imported with it THEN exit 2 and the message names what is wrong and what may be written."""
    path = _unknown_layout(tmp_path / "1.xlsx", [[ZHANG, "张三", "东张村", "一组1号"]])
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"sheets": {"东关村花名册": entry}}, ensure_ascii=False), encoding="utf-8")
    assert _cli(_args(db, path, None, mapping=mapping)) == 2
    assert says in capsys.readouterr().out


@pytest.mark.parametrize(("sheets", "says"), [
    ({"花名册二": {"entity": "person", "columns": {}}}, "列对应中的工作表“花名册二”不在这个文件中"),
    ({"东关村花名册": {"entity": "person", "columns": {"证件号码": "身份证号", "居民姓名": "姓名", "不存在的列": "phone"}}},
     "列对应中的列“不存在的列”在表头（第1行）中找不到"),
])
def test_a_mapping_that_does_not_fit_the_file_is_refused_at_that_sheet(db: Database, villages: tuple[int, int],
                                                                     tmp_path: Path, sheets: dict,
                                                                     says: str) -> None:
    """GIVEN a mapping for a sheet the file does not have, or naming a column its header does not have (a typo)
    WHEN imported with it THEN bad_mapping at that sheet (exit 1), never silently ignored, and the message does
    not tell the user to give a mapping they already gave."""
    path = _unknown_layout(tmp_path / "1.xlsx", [[ZHANG, "张三", "东张村", "一组1号"]])
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"sheets": sheets}, ensure_ascii=False), encoding="utf-8")
    assert _cli(_args(db, path, tmp_path / "r.json", mapping=mapping)) == 1
    errors = json.loads((tmp_path / "r.json").read_text("utf-8"))["errors"]
    assert any(e["code"] == "bad_mapping" and says in e["message"] and "--mapping" not in e["message"] for e in errors)


def test_a_people_sheet_with_party_columns_never_makes_everyone_a_member(db: Database, villages: tuple[int, int],
                                                                        tmp_path: Path) -> None:
    """GIVEN a sheet named 人员 whose header also has 入党时间 and 所在党支部 (filled for one of two people)
    WHEN it is imported
    THEN it is asked about (uncertain_sheet, suggested as 党员) — taken as 党员 every row would become a member,
    taken as 人员 its party columns would be dropped — and nobody is written."""
    path = write_xlsx(tmp_path / "p.xlsx", {"人员": [
        ["姓名", "身份证号", "所属村", "入党时间", "所在党支部", "党内职务"],
        ["张三", ZHANG, "东张村", "1995-07-01", "东张村党支部", None],
        ["李四", LI, "西张社区", None, None, None]]})
    before = dump_business(db)
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    assert [e.code for e in report.errors] == ["uncertain_sheet"]
    assert report.to_dict()["sheets"]["人员"]["entity"] == "party_member"
    assert dump_business(db) == before


def test_a_people_list_with_a_joined_column_filled_for_a_few_is_asked_about(db: Database, villages: tuple[int, int],
                                                                           tmp_path: Path) -> None:
    """GIVEN a sheet named Sheet1 with person columns and an 入党时间 column filled for one of two people
    WHEN it is imported
    THEN it is asked about, not taken as a 党员 roster that would make both members."""
    path = write_xlsx(tmp_path / "s.xlsx", {"Sheet1": [
        ["姓名", "身份证号", "性别", "民族", "所属村", "入党时间"],
        ["张三", ZHANG, "男", "汉族", "东张村", "1995-07-01"],
        ["李四", LI, "女", "汉族", "西张社区", None]]})
    report = run_import(db, path, all_sheet_specs(), dry_run=True, actor=CLI_ACTOR)
    assert [e.code for e in report.errors] == ["uncertain_sheet"] and "入党时间" in report.errors[0].message
