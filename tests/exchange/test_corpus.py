"""A corpus of malformed (and a few tricky but fine) workbooks, each accepted or rejected exactly as specified.

GIVEN a township database with two villages
WHEN a generated workbook is imported for real
THEN it is accepted, or rejected with the listed codes — and a rejection
changes no business data (the import log records the attempt).
"""

from __future__ import annotations

import datetime as dt
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select

from townapp.core.actor import CLI_ACTOR
from townapp.db import Database
from townapp.exchange.models import ImportBatch
from townapp.exchange.pipeline import run_import
from townapp.registry import models as m
from townapp.sheets import all_sheet_specs

from .conftest import dump_business, pid, write_ods, write_xls, write_xlsx

HEADER = ["身份证号", "姓名", "性别", "出生日期", "民族", "所属村", "联系电话"]
ZHANG = pid(1970, 11)
LI = pid(1980, 22)
ROWS = [[ZHANG, "张三", "男", dt.date(1970, 3, 15), "汉族", "东张村", "13812345678"],
        [LI, "李四", "女", dt.date(1980, 3, 15), "汉族", "西张社区", "13912345678"]]
HOUSEHOLDS = [["所属村", "户编号", "地址"], ["东张村", "0001", "一组1号"], ["东张村", "0002", "一组2号"]]
MEMBERS_HEADER = ["身份证号", "姓名", "所属村", "户编号", "与户主关系"]

Builder = Callable[[Path], Path]


def people(*rows: list[Any], header: list[str] = HEADER, name: str = "人员") -> dict[str, list[list[Any]]]:
    return {name: [header, *rows]}


def xlsx(sheets: dict[str, list[list[Any]]], **kw: Any) -> Builder:
    return lambda tmp: write_xlsx(tmp / "in.xlsx", sheets, **kw)


def _merged_title(tmp: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "人员"
    ws["A1"] = "临晋镇东张村人口信息登记表"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:G1")
    ws["A2"] = "填报单位：东张村村民委员会"
    ws.merge_cells("A2:D2")
    ws.append([])
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    ws.append([])
    ws.append(["注：身份证号请用文本格式"])
    ws.append(["填表人：王会计    审核人：张书记"])
    path = tmp / "in.xlsx"
    wb.save(path)
    return path


def _encrypted(tmp: Path) -> Path:
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml", reason="msoffcrypto-tool encrypts the test file")
    plain = write_xlsx(tmp / "plain.xlsx", people(*ROWS))
    path = tmp / "in.xlsx"
    with open(plain, "rb") as source, open(path, "wb") as target:
        ooxml.OOXMLFile(source).encrypt("密码123", target)
    return path


def _truncated(tmp: Path) -> Path:
    data = write_xlsx(tmp / "full.xlsx", people(*ROWS)).read_bytes()
    path = tmp / "in.xlsx"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def _zip_bomb(tmp: Path) -> Path:
    path = tmp / "in.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"0" * (1 << 20)
            for _ in range(64):
                member.write(block)
    return path


def _text_file(tmp: Path) -> Path:
    path = tmp / "in.xlsx"
    path.write_text("身份证号,姓名\n140821197003150011,张三\n", encoding="utf-8")
    return path


def _raw(data: bytes) -> Builder:
    def build(tmp: Path) -> Path:
        path = tmp / "in.xlsx"
        path.write_bytes(data)
        return path

    return build


def _docx(tmp: Path) -> Path:
    path = tmp / "in.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return path


def _huge_formatted(tmp: Path) -> Path:
    """A million formatted but empty rows below the data (what “format whole column” leaves behind)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    ws["H1"].fill = PatternFill("solid", fgColor="FFFF00")  # makes style index 1 exist
    base = tmp / "base.xlsx"
    wb.save(base)
    path = tmp / "in.xlsx"
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, data)
                continue
            head, tail = data.decode("utf-8").split("</sheetData>")
            with target.open("xl/worksheets/sheet1.xml", "w") as member:
                member.write(head.encode())
                chunk = []
                for number in range(10, 1_000_010):
                    chunk.append(f'<row r="{number}" s="1" customFormat="1"><c r="A{number}" s="1"/>'
                                 f'<c r="B{number}" s="1"/></row>')
                    if len(chunk) == 20000:
                        member.write("".join(chunk).encode())
                        chunk = []
                member.write("".join(chunk).encode())
                member.write(("</sheetData>" + tail).encode())
    return path


def _sparse_huge(tmp: Path) -> Path:
    path = tmp / "in.xlsx"
    with open(path, "wb") as handle:
        handle.write(b"PK\x03\x04")
        handle.truncate(101 * 1024 * 1024)
    return path


def _households_then(members: list[list[Any]]) -> Builder:
    return xlsx({"住户": HOUSEHOLDS, "人员": [MEMBERS_HEADER, *members]})


def _as_text_cells(tmp: Path) -> Path:
    """IDs typed with a leading apostrophe / text format, in full width and with spaces and a lower-case x."""
    number = pid(1985, 7)
    spaced = " ".join([number[:6], number[6:14], number[14:]])
    full = "".join(chr(ord(c) + 0xFEE0) for c in ZHANG)
    x_id = next(pid(1990, seq) for seq in range(1, 999) if pid(1990, seq).endswith("X"))
    rows = [[full, "张　三", "男", "１９７０年３月１５日", "汉", "东张村", "１３８ １２３４ ５６７８"],
            [spaced, " 王五 ", "1", "1985/3/15", "汉族", "东张村", None],
            [x_id.lower(), "赵六", "1" if int(x_id[16]) % 2 else "2", "19900315", None, "140821100201", None]]
    return write_xlsx(tmp / "in.xlsx", people(*rows))


def _date_spellings(tmp: Path) -> Path:
    spellings = ["1970-03-15", "1970/3/15", "1970.03.15", "19700315", "1970年3月15日", 25642, "1970-3-15 ",
                 dt.datetime(1970, 3, 15), "1970-03-15 00:00:00", "1970/3/15 0:00", 19700315]
    rows = [[pid(1970, 101 + 2 * i), f"测试{i}", None, s, None, "东张村", None] for i, s in enumerate(spellings)]
    return write_xlsx(tmp / "in.xlsx", people(*rows))


def _other_order(tmp: Path) -> Path:
    header = ["联系电话", "所属村", "姓名", "民族", "身份证号"]
    rows = [[r[6], r[5], r[1], r[4], r[0]] for r in ROWS]
    return write_xlsx(tmp / "in.xlsx", {"人口信息": [header, *rows]})


def _renamed(write: Callable[[Path, dict[str, list[list[Any]]]], Path], made_as: str, named: str) -> Builder:
    """A workbook written in one format and saved under another name (users rename files; WPS saves .xls as xlsx)."""
    def build(tmp: Path) -> Path:
        return write(tmp / f"made.{made_as}", people(*ROWS)).rename(tmp / named)
    return build


def _xlsxwriter_formula(name_value: Any) -> Builder:
    """A roster written by another program with XlsxWriter: the 姓名 cells are formulas whose saved
    value is ``name_value`` (XlsxWriter saves 0 unless told; nothing ever calculated them; "" saves
    the right name, as a calculating program would)."""
    def build(tmp: Path) -> Path:
        import xlsxwriter

        path = tmp / "in.xlsx"
        book = xlsxwriter.Workbook(str(path))
        ws = book.add_worksheet("人员")
        ws.write_row(0, 0, HEADER)
        for r, row in enumerate(ROWS, start=1):
            ws.write_row(r, 0, [v.isoformat() if isinstance(v, dt.date) else v for v in row])
            if name_value is None:
                ws.write_formula(r, 1, f'=CONCATENATE("{row[1][0]}","{row[1][1:]}")')
            else:
                ws.write_formula(r, 1, f'=CONCATENATE("{row[1][0]}","{row[1][1:]}")', None,
                                 row[1] if name_value == "" else name_value)
        book.close()
        return path
    return build


def _party_roster(date_cell: Any, column: str = "流动日期") -> Builder:
    """A person and their party record whose 流动日期 (or another date column) holds ``date_cell``."""
    party = ["身份证号", "姓名", "党员类别", "流动情况", column]
    return xlsx({"人员": [HEADER, ROWS[0]], "党员": [party, [ZHANG, "张三", "正式党员", "流动", date_cell]]})


def _joined(date_cell: Any) -> Builder:
    """A person and their party record whose 入党日期 holds ``date_cell``."""
    party = ["身份证号", "姓名", "党员类别", "入党日期"]
    return xlsx({"人员": [HEADER, ROWS[0]], "党员": [party, [ZHANG, "张三", "正式党员", date_cell]]})


def _xls_cells(*cells: tuple[int, Any]) -> Builder:
    """An .xls (xlwt) of ROWS[0] where column ``c`` holds ``value``: an xlwt.Formula (saved without a result,
    like xlwt always does) or an error code set with set_cell_error."""
    def build(tmp: Path) -> Path:
        xlwt = pytest.importorskip("xlwt")
        book = xlwt.Workbook(encoding="utf-8")
        ws = book.add_sheet("人员")
        for c, label in enumerate(HEADER):
            ws.write(0, c, label)
        for c, value in enumerate(ROWS[0]):
            if c not in dict(cells) and value is not None:
                ws.write(1, c, value.isoformat() if isinstance(value, dt.date) else value)
        for c, value in cells:
            if isinstance(value, int):
                ws.row(1).set_cell_error(c, value)
            else:
                ws.write(1, c, xlwt.Formula(value))
        book.save(str(tmp / "in.xls"))
        return tmp / "in.xls"
    return build


def _folder(tmp: Path) -> Path:
    folder = tmp / "人员.xlsx"
    folder.mkdir()
    return folder


def _id_number_cells_xls(tmp: Path) -> Path:
    return write_xls(tmp / "in.xls", people([float(ZHANG), "张三", "男", None, None, "东张村", None]))


CASES: list[Any] = [
    # ---- accepted -------------------------------------------------------------------
    pytest.param(xlsx(people(*ROWS)), None, {"人员": 2}, id="valid"),
    pytest.param(_merged_title, None, {"人员": 2}, id="merged-title-rows-and-notes"),
    pytest.param(_date_spellings, None, {"人员": 11}, id="dates-in-many-spellings"),
    pytest.param(_as_text_cells, None, {"人员": 3}, id="full-width-spaces-lowercase-x"),
    pytest.param(xlsx({**people(*ROWS), "乱码": [["x", "y"], [1, 2]]}, hidden=("乱码",)), None, {"人员": 2},
                 id="hidden-sheet-ignored"),
    pytest.param(_other_order, None, {"人口信息": 2}, id="columns-in-other-order-alias-sheet-name"),
    pytest.param(xlsx(people(*[[*r, "党员", "备用"] for r in ROWS], header=[*HEADER, "政治面貌", "其他"])), None,
                 {"人员": 2}, id="extra-columns-warned"),
    pytest.param(xlsx(people(["示例：140821199001011234", "张三", "男", "1990-01-01", "汉族", "东张村", None], *ROWS)),
                 None, {"人员": 2}, id="example-row-skipped"),
    pytest.param(xlsx({"Sheet1": [["序号", *HEADER], *[[i, *r] for i, r in enumerate(ROWS, 1)]]}), None,
                 {"Sheet1": 2}, id="recognised-by-headers"),
    pytest.param(xlsx({**people(*ROWS), "统计": [["月份", "金额"], ["1月", 3]]}), None, {"人员": 2},
                 id="unrecognised-sheet-warned"),
    pytest.param(xlsx(people(*ROWS, HEADER, [pid(1975, 5), "孙五", None, None, None, "东张村", None])), None,
                 {"人员": 3}, id="header-repeated-on-page-two"),
    pytest.param(lambda tmp: write_xls(tmp / "in.xls", people(*ROWS)), None, {"人员": 2}, id="xls"),
    pytest.param(lambda tmp: write_ods(tmp / "in.ods", people(*ROWS)), None, {"人员": 2}, id="ods"),
    pytest.param(lambda tmp: write_xlsx(tmp / "in.xlsm", people(*ROWS)), None, {"人员": 2}, id="xlsm"),
    pytest.param(_renamed(write_xlsx, "xlsx", "in.xls"), None, {"人员": 2}, id="xlsx-named-xls"),
    pytest.param(_renamed(write_xls, "xls", "in.xlsx"), None, {"人员": 2}, id="xls-named-xlsx"),
    pytest.param(_renamed(write_xlsx, "xlsx", "IN.XLSX"), None, {"人员": 2}, id="upper-case-extension"),
    pytest.param(_renamed(write_xlsx, "xlsx", "in"), None, {"人员": 2}, id="no-extension"),
    pytest.param(_huge_formatted, None, {"人员": 2}, id="million-formatted-empty-rows"),
    pytest.param(_xlsxwriter_formula(""), None, {"人员": 2}, id="formula-with-calculated-value"),
    pytest.param(_party_roster(2021.7), None, {"人员": 1, "党员": 1}, id="year-month-number-in-mobility-date"),
    pytest.param(xlsx(people([ZHANG, "张\u200b三\ufeff", *ROWS[0][2:]])), None, {"人员": 1},
                 id="zero-width-characters-stripped"),
    pytest.param(xlsx(people([f"\u202d{ZHANG}\u202c", "张三", "男", None, None, "东张村", "\u200e13812345678\u200f"],
                             [f"\u200e{LI}\u2028", "李四", None, None, None, "东张村", "\u2066138\u20291234\u20695678"])),
                 None, {"人员": 2}, id="direction-marks-around-id-and-phone-removed"),
    pytest.param(_households_then([[ZHANG, "张三", "东张村", "0001", "户主"], [LI, "李四", "东张村", "0001", "妻"],
                                   [pid(1975, 5), "孙五", "东张村", "0002", "本人"]]), None, {"人员": 3, "住户": 2},
                 id="households-and-members"),
    pytest.param(xlsx({"村社区": [["区划代码", "名称", "类别"], ["140821100203", "南张村", "行政村"]],
                       "党员花名册": [["姓名", "身份证号码", "党员类别", "入党时间"],
                                 ["张三", ZHANG, "中共党员", "1995.7.1"]],
                       "人员": [HEADER, ROWS[0]]}), None, {"村社区": 1, "人员": 1, "党员花名册": 1},
                 id="enum-synonyms-and-sheet-order"),
    # ---- rejected -------------------------------------------------------------------
    pytest.param(xlsx({"人员": [["甲", "乙", "丙"], ["1", "2", "3"]]}), {"missing_column"}, None, id="wrong-columns"),
    pytest.param(xlsx(people(*[[r[0], *r[2:]] for r in ROWS], header=[HEADER[0], *HEADER[2:]])), {"missing_column"},
                 None, id="missing-required-column"),
    pytest.param(xlsx(people([*ROWS[0][:3], "1970-13-45", *ROWS[0][4:]])), {"bad_date"}, None, id="bad-date"),
    pytest.param(xlsx(people([float(ZHANG), *ROWS[0][1:]], ROWS[1])), {"id_number_cell"}, None, id="id-as-number"),
    pytest.param(xlsx(people(["1.40821E+17", *ROWS[0][1:]])), {"id_number_cell"}, None, id="id-scientific-notation"),
    pytest.param(xlsx(people([ZHANG[:15] + "000", *ROWS[0][1:]])), {"id_number_cell"}, None,
                 id="id-last-digits-zeroed"),
    pytest.param(_id_number_cells_xls, {"id_number_cell"}, None, id="xls-id-as-number"),
    pytest.param(xlsx(people(*ROWS, [ZHANG, "张三三", None, None, None, "东张村", None])), {"duplicate_in_file"}, None,
                 id="duplicate-ids"),
    pytest.param(xlsx(people([ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1"), *ROWS[0][1:]])), {"id_checksum"},
                 None, id="bad-checksum"),
    pytest.param(xlsx(people([*ROWS[0][:5], "北张村", None])), {"unknown_village"}, None, id="unknown-village"),
    pytest.param(xlsx(people([ZHANG, '=CONCATENATE("张","三")', *ROWS[0][2:]])), {"formula"}, None,
                 id="formula-without-value"),
    pytest.param(_xlsxwriter_formula(0), {"formula"}, None, id="xlsxwriter-formula-saved-as-0"),
    pytest.param(_xlsxwriter_formula(None), {"formula"}, None, id="xlsxwriter-formula-default-value"),
    pytest.param(xlsx(people([*ROWS[0][:6], "#N/A"], ROWS[1])), {"error_value"}, None, id="error-value-na"),
    pytest.param(xlsx(people([ZHANG, "#REF!", *ROWS[0][2:]])), {"error_value"}, None, id="error-value-ref-required"),
    pytest.param(xlsx(people(*[[*r[:3], e, *r[4:]] for r, e in zip(ROWS, ("#VALUE!", "#DIV/0!"), strict=True)])),
                 {"error_value"}, None, id="error-value-in-date"),
    pytest.param(lambda tmp: write_ods(tmp / "in.ods", people([*ROWS[0][:6], "#NAME?"])), {"error_value"}, None,
                 id="ods-error-value-as-text"),
    pytest.param(xlsx(people([ZHANG, "张_x0001_三", *ROWS[0][2:]])), {"control_char"}, None, id="control-char-in-name"),
    pytest.param(lambda tmp: write_ods(tmp / "in.ods", people([ZHANG, "张\x0b三", *ROWS[0][2:]])), {"control_char"},
                 None, id="vertical-tab-in-name-ods"),
    pytest.param(xlsx(people([ZHANG, True, *ROWS[0][2:]])), {"bad_type"}, None, id="true-in-name"),
    pytest.param(xlsx(people([ZHANG, dt.date(2020, 1, 1), *ROWS[0][2:]])), {"bad_type"}, None, id="date-in-name"),
    pytest.param(xlsx(people([dt.date(2020, 1, 1), *ROWS[0][1:]])), {"bad_type"}, None, id="date-in-id"),
    pytest.param(xlsx(people([*ROWS[0][:6], False])), {"bad_type"}, None, id="false-in-phone"),
    pytest.param(xlsx(people([*ROWS[0][:3], True, *ROWS[0][4:]])), {"bad_type"}, None, id="true-in-date"),
    pytest.param(xlsx(people([*ROWS[0][:5], dt.datetime(2020, 1, 1, 8, 30), None])), {"bad_type"}, None,
                 id="date-in-village-name"),
    pytest.param(lambda tmp: write_xls(tmp / "in.xls", people([ZHANG, True, *ROWS[0][2:]])), {"bad_type"}, None,
                 id="xls-true-in-name"),
    pytest.param(xlsx({"村社区": [["区划代码", "名称"], [dt.date(2014, 8, 21), "南张村"]]}), {"bad_type"}, None,
                 id="date-in-village-code"),
    pytest.param(_folder, {"not_spreadsheet"}, None, id="folder-named-xlsx"),
    pytest.param(_xls_cells((6, "13800000000+1")), {"formula"}, None, id="xls-formula-phone-without-value"),
    pytest.param(_xls_cells((1, '"张"&"三"')), {"formula"}, None, id="xls-formula-name-without-value"),
    pytest.param(_xls_cells((6, "NA()")), {"formula"}, None, id="xls-na-formula"),
    pytest.param(_xls_cells((6, 0x2A)), {"error_value"}, None, id="xls-error-cell-na"),
    pytest.param(_xls_cells((3, 0x07)), {"error_value"}, None, id="xls-error-cell-in-date"),
    # 出生年月 and the party dates take a month alone (core.dates.MonthDate): checked against the ID to the month
    pytest.param(xlsx(people([*ROWS[0][:3], 1970.3, *ROWS[0][4:]])), None, {"人员": 1},
                 id="year-month-number-in-birth-month-column"),
    pytest.param(xlsx(people([*ROWS[0][:3], 1970.4, *ROWS[0][4:]])), {"id_mismatch"}, None,
                 id="year-month-number-disagreeing-with-the-id"),
    pytest.param(_party_roster(2021.1), None, {"党员": 1}, id="year-month-number-january-or-october"),
    pytest.param(_joined(2021.7), None, {"党员": 1}, id="year-month-number-in-joined-on"),
    pytest.param(_joined(2021), {"bad_date"}, None, id="year-alone-in-joined-on"),
    pytest.param(_encrypted, {"encrypted"}, None, id="encrypted"),
    pytest.param(_truncated, {"corrupt"}, None, id="truncated"),
    pytest.param(_zip_bomb, {"too_large"}, None, id="zip-bomb"),
    pytest.param(_sparse_huge, {"too_large"}, None, id="file-too-large"),
    pytest.param(_text_file, {"not_spreadsheet"}, None, id="txt-renamed-xlsx"),
    pytest.param(_docx, {"not_spreadsheet"}, None, id="docx-renamed-xlsx"),
    pytest.param(_raw(b""), {"not_spreadsheet"}, None, id="empty-file"),
    pytest.param(_raw(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), {"not_spreadsheet"}, None, id="pdf-renamed"),
    pytest.param(xlsx(people([ZHANG, "张三", "女", dt.date(1971, 1, 1), "汉族", "东张村", None])), {"id_mismatch"},
                 None, id="sex-and-birth-mismatch"),
    pytest.param(_households_then([[ZHANG, "张三", "东张村", "0001", "户主"], [LI, "李四", "东张村", "0001", "户主"]]),
                 {"household_head"}, None, id="household-with-two-heads"),
    pytest.param(_households_then([[ZHANG, "张三", "东张村", "0001", "子"]]), {"household_head"}, None,
                 id="household-without-head"),
    pytest.param(xlsx({"人员": [MEMBERS_HEADER, [ZHANG, "张三", "东张村", "0099", "户主"]]}), None, {"人员": 1},
                 id="new-household-registered-by-the-roster"),
    pytest.param(xlsx({"人员": [MEMBERS_HEADER, [ZHANG, "张三", "东张村", "0099", "子"]]}), {"household_head"},
                 None, id="new-household-without-head"),
    pytest.param(xlsx(people([*ROWS[0][:4], "火星族", *ROWS[0][5:]])), {"bad_enum"}, None, id="bad-enum"),
    pytest.param(xlsx(people([*ROWS[0][:6], "138123456789"])), {"bad_phone"}, None, id="bad-phone"),
    pytest.param(xlsx(people([*ROWS[0][:1], None, *ROWS[0][2:]])), {"required"}, None, id="required-cell-empty"),
    pytest.param(xlsx({"人员": [[*HEADER, "身份证号码"], [*ROWS[0], ROWS[0][0]]]}), {"duplicate_column"}, None,
                 id="same-column-twice"),
    pytest.param(xlsx({"村社区": [["区划代码", "名称"], ["14082110020", "南张村"]]}), {"bad_code"}, None,
                 id="village-code-11-digits"),
    pytest.param(xlsx({"党员": [["身份证号", "姓名", "党员类别"], [pid(1960, 9), "无名氏", "正式党员"]]}), {"unknown_person"},
                 None, id="party-member-not-registered"),
    pytest.param(xlsx({"人员": [HEADER, ROWS[0]], "党员": [["身份证号", "姓名"], [ZHANG, "张叁"]]}), {"name_mismatch"},
                 None, id="party-member-name-mismatch"),
    pytest.param(xlsx({"人员": [HEADER, ROWS[0]],
                       "党员": [["身份证号", "姓名", "党员类别", "入党日期", "转正日期"],
                              [ZHANG, "张三", "预备党员", "2020-07-01", "2021-07-01"]]}), {"rule"}, None,
                 id="probationary-member-with-confirmation-date"),
    pytest.param(xlsx({"统计": [["月份", "金额"], ["1月", 3]]}), {"no_data"}, None, id="nothing-recognisable"),
]


@pytest.mark.parametrize(("build", "codes", "counts"), CASES)
def test_corpus(db: Database, villages: tuple[int, int], tmp_path: Path, build: Builder,
                codes: set[str] | None, counts: dict[str, int] | None) -> None:
    path = build(tmp_path)
    before = dump_business(db)
    started = time.perf_counter()
    report = run_import(db, path, all_sheet_specs(), actor=CLI_ACTOR)
    elapsed = time.perf_counter() - started
    found = {e.code for e in report.errors}
    if codes is None:
        assert report.status == "ok", report.summary_text()
        for sheet, created in (counts or {}).items():
            assert report.sheets[sheet].created == created, report.summary_text()
        assert dump_business(db) != before
        assert elapsed < 30
    else:
        assert report.status == "rejected"
        assert codes <= found, report.summary_text()
        assert dump_business(db) == before, "a rejected file must change nothing"
        for error in report.errors:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message), error.message
            if error.sheet:
                assert error.row >= 1
    with db.engine.connect() as conn:
        status = conn.execute(select(ImportBatch.status).order_by(ImportBatch.id.desc())).scalar()
    assert status == ("accepted" if codes is None else "rejected")


def test_errors_name_the_excel_row_and_the_users_header(db: Database, villages: tuple[int, int],
                                                        tmp_path: Path) -> None:
    """GIVEN a roster with a title row and the header 身份证号码 WHEN one ID is broken THEN the error points at it."""
    sheets = {"花名册": [["东张村人口"], ["身份证号码", "姓名"], [ZHANG, "张三"], ["1.40821E+17", "李四"]]}
    report = run_import(db, write_xlsx(tmp_path / "in.xlsx", sheets), all_sheet_specs(), dry_run=True)
    assert [(e.sheet, e.row, e.column, e.code) for e in report.errors] == [("花名册", 4, "身份证号码", "id_number_cell")]
    assert "文本" in report.errors[0].message


def test_dates_and_text_are_normalised_when_stored(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    report = run_import(db, _as_text_cells(tmp_path), all_sheet_specs())
    assert report.accepted, report.summary_text()
    with db.engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(m.Person))}
    assert set(rows) == {"张三", "王五", "赵六"}
    assert rows["张三"].id_number == ZHANG and rows["张三"].phone == "13812345678"
    assert rows["赵六"].id_number.endswith("X")
    assert rows["王五"].sex == "男"


def test_encrypted_file_message_is_clear(db: Database, tmp_path: Path) -> None:
    report = run_import(db, _encrypted(tmp_path), all_sheet_specs(), dry_run=True)
    assert report.errors[0].code == "encrypted" and "密码" in report.errors[0].message


def test_huge_formatted_range_is_cheap(db: Database, villages: tuple[int, int], tmp_path: Path) -> None:
    path = _huge_formatted(tmp_path)
    started = time.perf_counter()
    report = run_import(db, path, all_sheet_specs(), dry_run=True)
    assert report.accepted and report.sheets["人员"].created == 2
    assert time.perf_counter() - started < 10


_CSV_ROWS = "身份证号,姓名,所属村\r\n140821197003150011,张三,东张村\r\n"
FOREIGN = [
    pytest.param("<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><head><meta charset=\"utf-8\"></head>"
                 "<body><table><tr><td>身份证号</td><td>姓名</td></tr></table></body></html>".encode(), "网页文件（HTML）",
                 id="html-saved-as-xls"),
    pytest.param((b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"----=_NextPart\"\r\n\r\n"
                  b"------=_NextPart\r\nContent-Type: text/html\r\n\r\n<html></html>"), "MHTML",
                 id="mhtml-saved-as-xls"),
    pytest.param(('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook '
                  'xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="人员"><Table><Row>'
                  '<Cell><Data ss:Type="String">姓名</Data></Cell></Row></Table></Worksheet></Workbook>').encode(),
                 "XML 电子表格 2003", id="spreadsheetml-2003"),
    pytest.param(_CSV_ROWS.encode("gbk"), "CSV，GBK 编码", id="gbk-csv"),
    pytest.param(_CSV_ROWS.replace(",", "\t").encode("utf-16"), "TSV，UTF-16 编码", id="utf16-tsv"),
    pytest.param(_CSV_ROWS.replace(",", "\t").encode("utf-16-le"), "TSV，UTF-16 编码", id="utf16-tsv-without-bom"),
]


@pytest.mark.parametrize(("data", "what"), FOREIGN)
def test_a_file_that_is_no_workbook_is_told_what_it_is(db: Database, tmp_path: Path, data: bytes, what: str) -> None:
    """GIVEN a file another system saved as .xls that is really HTML, MHTML, XML 2003 or a text table
    WHEN it is imported THEN it is refused as not_spreadsheet with a message naming what it really is
    and how to save it as a workbook (they all got the same "不是Excel或WPS表格文件")."""
    path = tmp_path / "导出.xls"
    path.write_bytes(data)
    report = run_import(db, path, all_sheet_specs(), dry_run=True)
    [error] = report.errors
    assert error.code == "not_spreadsheet"
    assert what in error.message and ".xlsx" in error.message, error.message
    if "CSV" in what or "TSV" in what:
        assert "文本" in error.message and "身份证号" in error.message


def test_bytes_are_not_needed_for_a_bomb(tmp_path: Path) -> None:
    """The bomb is refused from the zip directory alone (64 MB declared, never inflated)."""
    from townapp.exchange.reader import FileRejected, detect_format

    with pytest.raises(FileRejected) as exc:
        detect_format(_zip_bomb(tmp_path))
    assert exc.value.code == "too_large"
