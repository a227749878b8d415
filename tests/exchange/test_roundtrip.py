"""The sync package travels without changing anything: export → import into an empty database → export.

Stories:
- GIVEN the demo township WHEN its package is imported into an empty database of the same township and
  exported again THEN every sheet is identical, cell by cell (not only the package hash).
- GIVEN any free text a person typed (full-width punctuation ，；：。、“”（）, inner double spaces, line
  breaks, emoji) WHEN it goes through a workbook import and then package export → import → export THEN it
  comes out byte for byte as typed (only invisible characters and the white space around it go, at the
  first door), and the second export equals the first.
- GIVEN a workbook WHEN its rows come in any order THEN the export is the same: rows are written in the
  order of their natural keys (a person by ID number), never in the order records were created.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import python_calamine as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.figures import record
from townapp.core.actor import CLI_ACTOR
from townapp.core.text import clean_free_text
from townapp.db import Database
from townapp.exchange.fastwriter import CellWriter
from townapp.exchange.package import MANIFEST_SHEET, write_package
from townapp.exchange.pipeline import run_import
from townapp.sheets import all_sheet_specs

from .conftest import VILLAGE_A, VILLAGE_B, new_database, pid

Sheets = dict[str, list[list[Any]]]


def package_sheets(path: Path) -> Sheets:
    """Every data sheet of a package as the importer's reader (calamine) sees it, trailing blanks dropped."""
    book = pc.CalamineWorkbook.from_path(str(path))
    sheets: Sheets = {}
    for name in book.sheet_names:
        if name == MANIFEST_SHEET:
            continue
        rows = []
        for row in book.get_sheet_by_name(name).to_python():
            row = list(row)
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        sheets[name] = rows
    return sheets


def assert_same_sheets(first: Sheets, second: Sheets) -> None:
    """Sheet by sheet, cell by cell; the message names the sheet, row and column that differ."""
    assert list(second) == list(first), "the packages hold different sheets"
    for name, rows in first.items():
        other = second[name]
        assert len(other) == len(rows), f"工作表“{name}”: {len(rows)} rows, then {len(other)}"
        header = rows[0] if rows else []
        for number, (a, b) in enumerate(zip(rows, other, strict=True), start=1):
            if a != b:
                column = next(i for i, (x, y) in enumerate(itertools.zip_longest(a, b)) if x != y)
                label = header[column] if column < len(header) else column
                raise AssertionError(f"工作表“{name}” row {number}, column {label}: {a[column:column + 1]!r} "
                                     f"became {b[column:column + 1]!r}")


def write_workbook(path: Path, sheets: Sheets) -> Path:
    """A person's workbook as Excel saves it: text as text cells (never formulas, "_x0041_" escaped as
    Excel does), IDs and codes as "@" text (openpyxl would not escape "_x0041_": calamine reads it as "A")."""
    specs = {spec.title: spec for spec in all_sheet_specs()}
    book = CellWriter.open(path)
    for title, rows in sheets.items():
        kinds = {c.header: c.text_format for c in specs[title].columns}
        sheet = book.add_sheet(title, [12] * len(rows[0]), [kinds.get(h, False) for h in rows[0]])
        sheet.append(rows[0], header=True)
        for row in rows[1:]:
            sheet.append([None if v == "" else v for v in row])
    book.close()
    return path


def round_trip(source: Database, template: Path, folder: Path) -> tuple[Sheets, Sheets, Database]:
    """Export ``source`` as a package, import it into an empty database of the same township, export again."""
    specs = all_sheet_specs()
    first = write_package(source, specs, folder / "first.xlsx", actor=CLI_ACTOR)
    target = new_database(template, folder / "target.db", name=source.meta("root_name") or "",
                          code=source.meta("root_code") or "")
    report = run_import(target, first.path, specs, actor=CLI_ACTOR)
    assert report.accepted, report.summary_text()
    second = write_package(target, specs, folder / "second.xlsx", actor=CLI_ACTOR)
    return package_sheets(first.path), package_sheets(second.path), target


def test_demo_township_package_round_trip_is_identical_on_every_sheet(open_demo, migrated_template: Path,
                                                                      tmp_path: Path) -> None:
    demo = open_demo("township", 1)
    first, second, target = round_trip(demo, migrated_template, tmp_path)
    try:
        filled = [name for name, rows in first.items() if len(rows) > 1]
        assert {"人员", "两委班子", "村干部报酬", "会议出席", "网格员月度考核"} <= set(filled)
        assert_same_sheets(first, second)
        record("演示乡镇数据包往返后不同的工作表", 0)
    finally:
        target.dispose()


# ----- free text ------------------------------------------------------------------------------------
# control characters are refused by design (core.text.CONTROL_CHARACTERS); tab and line breaks come below
typed = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
punctuation = st.sampled_from(["，", "；", "：", "。", "、", "“", "”", "（", "）", "！", "？", "《", "》", "——",
                               "  ", "\u3000", "\n", "\r\n", "\t", "😀", "👨‍👩‍👧", "Ａ１", "=", "'", "_x0041_", "\u200b", " "])
free_text = st.lists(st.one_of(st.text(typed, max_size=6), punctuation), max_size=12).map("".join)


def _text_workbook(address: str, household_note: str, person_note: str) -> Sheets:
    return {
        "村社区": [["区划代码", "名称"], [VILLAGE_A, "东张村"]],
        "住户": [["村区划代码", "户编号", "地址", "备注"], [VILLAGE_A, "0001", address, household_note]],
        "人员": [["身份证号", "姓名", "村区划代码", "户编号", "与户主关系", "备注"],
                 [pid(1970, 11), "张三", VILLAGE_A, "0001", "户主", person_note]],
    }


def _cell(sheets: Sheets, title: str, header: str) -> Any:
    rows = sheets[title]
    column = rows[0].index(header)
    return rows[1][column] if column < len(rows[1]) else ""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(address=free_text, household_note=free_text, person_note=free_text)
def test_free_text_round_trips_byte_exact(migrated_template: Path, address: str, household_note: str,
                                          person_note: str) -> None:
    typed_cells = {("住户", "地址"): address, ("住户", "备注"): household_note, ("人员", "备注"): person_note}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = new_database(migrated_template, folder / "source.db")
        target = None
        try:
            path = write_workbook(folder / "typed.xlsx", _text_workbook(address, household_note, person_note))
            report = run_import(source, path, all_sheet_specs(), actor=CLI_ACTOR)
            assert report.accepted, report.summary_text()
            (folder / "rt").mkdir()
            first, second, target = round_trip(source, migrated_template, folder / "rt")
            for (title, header), text in typed_cells.items():
                stored = clean_free_text(text)  # what the first door keeps: all but invisible and outer space
                assert _cell(first, title, header) == stored, f"{title}·{header}: {text!r}"
            assert_same_sheets(first, second)
        finally:
            source.dispose()
            if target is not None:
                target.dispose()


# ----- row order ------------------------------------------------------------------------------------
_PEOPLE = [(pid(1965, 11), "张大山", VILLAGE_A, "0001", "户主"), (pid(1967, 22), "李秀英", VILLAGE_A, "0001", "配偶"),
           (pid(1990, 33), "张小山", VILLAGE_A, "0001", "子"), (pid(1970, 41), "王五", VILLAGE_A, "0002", "户主"),
           (pid(1980, 51), "赵六", VILLAGE_B, "0001", "户主"), (pid(1982, 62), "钱七", VILLAGE_B, "0001", "配偶")]


def _ordered_workbook() -> Sheets:
    """Two villages, three households, six people, three party members, two-committee posts and their pay."""
    joined = dt.date(1995, 7, 1)
    return {
        "村社区": [["区划代码", "名称", "类别", "村民小组"], [VILLAGE_A, "东张村", "村", "一组、二组"],
                   [VILLAGE_B, "西张社区", "社区", "一组"]],
        "住户": [["村区划代码", "户编号", "村民小组", "地址", "备注"],
                 [VILLAGE_A, "0001", "一组", "东张村一组1号", "低保户，2021年起"], [VILLAGE_A, "0002", "二组", None, None],
                 [VILLAGE_B, "0001", "一组", "西张社区3号楼", None]],
        "人员": [["身份证号", "姓名", "村区划代码", "户编号", "与户主关系", "备注"],
                 *[[*person, None] for person in _PEOPLE]],
        "党员": [["身份证号", "姓名", "党员类别", "入党日期", "转正日期"],
                 [_PEOPLE[0][0], "张大山", "正式党员", joined, dt.date(1996, 7, 1)],
                 [_PEOPLE[3][0], "王五", "正式党员", dt.date(2001, 7, 1), dt.date(2002, 7, 1)],
                 [_PEOPLE[4][0], "赵六", "正式党员", dt.date(2005, 7, 1), dt.date(2006, 7, 1)]],
        "两委班子": [["村区划代码", "身份证号", "姓名", "职务", "任职日期"],
                     [VILLAGE_A, _PEOPLE[3][0], "王五", "书记", dt.date(2021, 1, 5)],
                     [VILLAGE_A, _PEOPLE[3][0], "王五", "主任", dt.date(2021, 1, 5)],
                     [VILLAGE_A, _PEOPLE[0][0], "张大山", "委员", dt.date(2021, 1, 5)],
                     [VILLAGE_A, _PEOPLE[1][0], "李秀英", "委员", dt.date(2018, 1, 5)],
                     [VILLAGE_B, _PEOPLE[4][0], "赵六", "书记", dt.date(2021, 1, 5)]],
        "村干部报酬": [["村区划代码", "年度", "身份证号", "姓名", "职务", "任职月数", "考核等级"],
                       [VILLAGE_A, 2024, _PEOPLE[3][0], "王五", "书记", 12, "称职"],
                       [VILLAGE_A, 2024, _PEOPLE[0][0], "张大山", "委员", 12, "称职"],
                       [VILLAGE_A, 2024, _PEOPLE[1][0], "李秀英", "委员", 6, "基本称职"],
                       [VILLAGE_B, 2024, _PEOPLE[4][0], "赵六", "书记", 12, "称职"]],
    }


def _shuffled(sheets: Sheets, orders: Sequence[Sequence[int]]) -> Sheets:
    return {title: [rows[0], *[rows[1:][i] for i in order]]
            for (title, rows), order in zip(sheets.items(), orders, strict=True)}


def _export_of(template: Path, folder: Path, sheets: Sheets) -> Sheets:
    db = new_database(template, folder / "db.db")
    try:
        report = run_import(db, write_workbook(folder / "in.xlsx", sheets), all_sheet_specs(), actor=CLI_ACTOR)
        assert report.accepted, report.summary_text()
        return package_sheets(write_package(db, all_sheet_specs(), folder / "out.xlsx", actor=CLI_ACTOR).path)
    finally:
        db.dispose()


_REFERENCE: dict[str, Sheets] = {}
_ORDERS = st.tuples(*[st.permutations(range(len(rows) - 1)) for rows in _ordered_workbook().values()])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=_ORDERS)
def test_any_row_order_gives_the_same_export(migrated_template: Path, orders: tuple[list[int], ...]) -> None:
    sheets = _ordered_workbook()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if "export" not in _REFERENCE:
            (folder / "reference").mkdir()
            _REFERENCE["export"] = _export_of(migrated_template, folder / "reference", sheets)
        (folder / "shuffled").mkdir()
        shuffled = _export_of(migrated_template, folder / "shuffled", _shuffled(sheets, orders))
    reference = _REFERENCE["export"]
    assert len(reference["两委班子"]) == 6 and len(reference["村干部报酬"]) == 5
    assert_same_sheets(reference, shuffled)


def test_grid_dialog_keeps_free_text_as_typed_and_the_package_brings_it_back(db: Database, migrated_template: Path,
                                                                               tmp_path: Path) -> None:
    """GIVEN a grid whose 四至范围 and 备注 are typed in the dialog with full-width punctuation and two spaces
    WHEN it is saved and its township's package travels THEN both are stored as typed (only the invisible
    character and the spaces around go) and the package brings 四至范围 back byte for byte."""
    from townapp.grids.dto import GridInput
    from townapp.grids.service import GridService
    from townapp.registry.dto import VillageInput
    from townapp.registry.service import RegistryService

    village = RegistryService(db).save_village(VillageInput(code=VILLAGE_A, name="东张村"))
    scope, note = "东至：河堤；西至：公路，南北以渠为界", "（试点）两  户待核实。"
    GridService(db, CLI_ACTOR).save_grid(GridInput(village, "网格", "DZ-WG01", "东张村第一网格",
                                                  scope=f" {scope}\u200b ", note=note))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT scope, note FROM grid")).one() == (scope, note)
    first, second, target = round_trip(db, migrated_template, tmp_path)
    try:
        assert _cell(first, "网格", "四至范围") == scope
        assert_same_sheets(first, second)
    finally:
        target.dispose()


FREE_TEXT_WORDS = ("地址", "住址", "备注", "去向", "事由", "原因", "说明", "情况", "措施", "范围", "意见", "主题",
                   "成因", "计划", "事项", "单位", "外出地")


def test_no_free_text_column_is_cleaned_like_a_name() -> None:
    """GIVEN every sheet of every module WHEN a column holds what a person writes (地址, 备注, 去向, 原因 …)
    THEN it is TEXT, never NAME or LIST, whose cleaning turns ，；： into ASCII and drops spaces."""
    from townapp.sheets import elsewhere_sheet_specs

    specs = [*all_sheet_specs(), *(spec for spec, _page in elsewhere_sheet_specs())]
    free = [(f"{spec.title}·{column.header}", column.kind) for spec in specs for column in spec.columns
            if any(word in column.header for word in FREE_TEXT_WORDS)]
    assert len(free) >= 20  # the words do find the free-text columns
    assert [label for label, kind in free if kind in ("name", "list")] == []
