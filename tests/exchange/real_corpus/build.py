"""The real-layout corpus: workbooks as villages, counties and other systems really make them.

Every file is generated here from code (nothing binary is committed), with data
for villages of the demo township (``build_demo(scale="township", seed=1)``):
people, households, branches, grids and cadres are read from the demo database
so that "existing" rows really exist, and new people get valid ID numbers that
are not in it. The layouts — header texts, column order, title and band rows,
instruction boxes, value spellings, cell types — follow the public sources named
in manifest.json; only the header lists and quirks are taken from them, never
their code.

``build_all(out_dir, demo_db)`` writes every file of the manifest (and the
mapping files some entries name) and returns their paths. Run as a script to
look at the files: ``python -m tests.exchange.real_corpus.build DEMO.db OUT_DIR``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from townapp.core.idcard import make_id_number

HERE = Path(__file__).parent
MANIFEST = HERE / "manifest.json"

ZHONGWANG = "中王村"  # 村, one 党支部 with 党小组, grids 201-01/201-02
XIEZHUANG = "谢庄村"  # 村, a 党总支 with two 党支部
LINJIN = "临晋社区"  # 社区
TOWNSHIP_COMMITTEE = "临晋镇党委"


# ----- the demo database, read only -------------------------------------------------------------
@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    sex: str
    birth: dt.date
    ethnicity: str | None
    education: str | None
    phone: str | None
    village: str
    household: str | None
    relation: str | None
    member_type: str | None = None
    joined_on: dt.date | None = None
    confirmed_on: dt.date | None = None
    branch: str | None = None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


class Demo:
    """What the corpus needs from the demo township, in a stable order (by ID number)."""

    _PERSON = ("SELECT p.id_number, p.name, p.sex, p.birth_date, p.ethnicity, p.education, p.phone, v.name, "
               "h.number, hm.relation, pm.member_type, pm.joined_on, pm.confirmed_on, b.name "
               "FROM person p JOIN village v ON v.id = p.village_id "
               "LEFT JOIN household_member hm ON hm.person_id = p.id "
               "LEFT JOIN household h ON h.id = hm.household_id "
               "LEFT JOIN party_member pm ON pm.person_id = p.id "
               "LEFT JOIN party_branch b ON b.id = pm.branch_id ")

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.taken = {r[0] for r in self.con.execute("SELECT id_number FROM person")}
        self._seq = 900

    def close(self) -> None:
        self.con.close()

    def _people(self, where: str, params: Sequence[Any]) -> list[Person]:
        rows = self.con.execute(self._PERSON + "WHERE " + where + " ORDER BY p.id_number", params).fetchall()
        return [Person(r[0], r[1], r[2], _date(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10],  # type: ignore[arg-type]
                       _date(r[11]), _date(r[12]), r[13]) for r in rows]

    def members(self, village: str, count: int, offset: int = 0) -> list[Person]:
        """Party members of a village (with their 支部)."""
        found = self._people("v.name = ? AND pm.id IS NOT NULL", (village,))[offset:offset + count]
        assert len(found) == count, f"the demo has too few party members in {village}"
        return found

    def member_born(self, month: int, skip: Sequence[str] = ()) -> Person:
        """A party member of 中王村 born in ``month`` (for month-precision 出生年月)."""
        for person in self._people("v.name = ? AND pm.id IS NOT NULL", (ZHONGWANG,)):
            if person.birth.month == month and person.id_number not in skip and person.confirmed_on:
                return person
        raise AssertionError(f"no member of {ZHONGWANG} born in month {month}")

    def residents(self, village: str, count: int, offset: int = 0, *, with_phone: bool = False) -> list[Person]:
        """People who are not party members, optionally only those with a phone."""
        where = "v.name = ? AND pm.id IS NULL" + (" AND p.phone IS NOT NULL" if with_phone else "")
        found = self._people(where, (village,))[offset:offset + count]
        assert len(found) == count, f"the demo has too few residents in {village}"
        return found

    def household_people(self, village: str, number: str) -> list[Person]:
        return sorted(self._people("v.name = ? AND h.number = ?", (village, number)),
                      key=lambda p: (p.relation != "户主", p.birth))

    def households(self, village: str, numbers: Sequence[str]) -> list[tuple[str, str | None, str | None, str | None]]:
        """(number, group, address, phone) of these households."""
        marks = ",".join("?" * len(numbers))
        rows = self.con.execute(
            "SELECT h.number, g.name, h.address, h.phone FROM household h JOIN village v ON v.id = h.village_id "
            f"LEFT JOIN village_group g ON g.id = h.group_id WHERE v.name = ? AND h.number IN ({marks}) "
            "ORDER BY h.number", (village, *numbers)).fetchall()
        assert len(rows) == len(numbers)
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def village_code(self, name: str) -> tuple[str, str]:
        code, kind = self.con.execute("SELECT code, kind FROM village WHERE name = ?", (name,)).fetchone()
        return code, kind

    def branch(self, name: str) -> tuple[str, str, str | None, str | None]:
        """(name, kind, parent name, village name)."""
        return self.con.execute(
            "SELECT b.name, b.kind, p.name, v.name FROM party_branch b LEFT JOIN party_branch p ON p.id = b.parent_id "
            "LEFT JOIN village v ON v.id = b.village_id WHERE b.name = ?", (name,)).fetchone()

    def grid_members(self, village: str, count: int) -> list[tuple[str, str, str, str, str, str, dt.date, str | None]]:
        """Current posts: (grid code, grid name, person name, id, role, duty, started on, person phone)."""
        rows = self.con.execute(
            "SELECT g.code, g.name, p.name, p.id_number, gm.role, gm.duty, gm.started_on, p.phone "
            "FROM grid_member gm JOIN grid g ON g.id = gm.grid_id JOIN person p ON p.id = gm.person_id "
            "JOIN village v ON v.id = g.village_id WHERE v.name = ? AND gm.ended_on IS NULL "
            "ORDER BY g.code, p.id_number LIMIT ?", (village, count)).fetchall()
        assert len(rows) == count
        return [(*r[:6], _date(r[6]), r[7]) for r in rows]  # type: ignore[misc]

    def vacant_micro_grid(self, village: str) -> tuple[str, str]:
        return self.con.execute(
            "SELECT g.code, g.name FROM grid g JOIN village v ON v.id = g.village_id WHERE v.name = ? "
            "AND g.level = '微网格' AND g.id NOT IN (SELECT grid_id FROM grid_member WHERE ended_on IS NULL) "
            "ORDER BY g.code", (village,)).fetchone()

    def grid(self, village: str, level: str, index: int) -> tuple[str, str]:
        return self.con.execute(
            "SELECT g.code, g.name FROM grid g JOIN village v ON v.id = g.village_id WHERE v.name = ? "
            "AND g.level = ? ORDER BY g.code LIMIT 1 OFFSET ?", (village, level, index)).fetchone()

    def cadres(self, village: str) -> list[tuple[str, str, str, str, bool, dt.date, int | None]]:
        """Current 两委: (name, sex, id, post, one shoulder, started on, term)."""
        rows = self.con.execute(
            "SELECT p.name, p.sex, p.id_number, c.post, c.one_shoulder, c.started_on, c.term_no "
            "FROM archive_cadre c JOIN person p ON p.id = c.person_id JOIN village v ON v.id = c.village_id "
            "WHERE v.name = ? AND c.ended_on IS NULL ORDER BY c.id", (village,)).fetchall()
        return [(r[0], r[1], r[2], r[3], bool(r[4]), _date(r[5]), r[6]) for r in rows]  # type: ignore[misc]

    def pay(self, village: str, year: int) -> list[tuple[str, str, str, int, str]]:
        """村干部报酬 basis: (name, id, post, months, grade)."""
        rows = self.con.execute(
            "SELECT p.name, p.id_number, a.post, a.months, a.grade FROM archive_pay a JOIN person p "
            "ON p.id = a.person_id JOIN village v ON v.id = a.village_id WHERE v.name = ? AND a.year = ? "
            "ORDER BY a.id", (village, year)).fetchall()
        assert rows, f"no 村干部报酬 for {village} {year} in the demo"
        return [tuple(r) for r in rows]  # type: ignore[misc]

    def new_id(self, birth: dt.date, *, female: bool) -> str:
        """A valid 临猗 ID number that no one in the demo has."""
        while True:
            self._seq += 1
            seq = self._seq if (self._seq % 2 == 1) != female else self._seq + 1
            number = make_id_number("140821", birth, seq % 1000)
            if number not in self.taken:
                self.taken.add(number)
                return number


# ----- writing ----------------------------------------------------------------------------------
Rows = Sequence[Sequence[Any]]
TITLE = Font(bold=True, size=16)
BOLD = Font(bold=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def add_sheet(wb: Workbook, name: str, *, header: Sequence[str], rows: Rows, above: Rows = (), below: Rows = (),
              merge_above: bool = True, text_columns: Sequence[str] = (), hidden: bool = False) -> Worksheet:
    """Rows ``above`` the header (titles, 填报单位, instructions: each merged across the table), the header
    (bold), the data, and rows ``below`` (notes, signatures). Cells of ``text_columns`` get the 文本 format
    ("@"), as a careful clerk sets it for ID numbers and codes."""
    ws = wb.create_sheet(name)
    width = len(header)
    for line in above:
        ws.append(list(line))
        r = ws.max_row
        if merge_above and sum(v is not None for v in line) == 1 and width > 1:
            ws.merge_cells(f"A{r}:{_col(width)}{r}")
            ws.cell(r, 1).alignment = CENTER
            if r == 1:
                ws.cell(r, 1).font = TITLE
    ws.append(list(header))
    head_row = ws.max_row
    for c in range(1, width + 1):
        ws.cell(head_row, c).font = BOLD
        ws.cell(head_row, c).alignment = CENTER
    text_idx = [header.index(h) + 1 for h in text_columns]
    for row in rows:
        ws.append(list(row))
        for c in text_idx:
            ws.cell(ws.max_row, c).number_format = "@"
    for line in below:
        ws.append(list(line))
    for c in range(1, width + 1):
        ws.column_dimensions[_col(c)].width = max(8, min(24, len(str(header[c - 1])) * 2 + 4))
    if hidden:
        ws.sheet_state = "hidden"
    return ws


def new_book() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def one_sheet(path: Path, name: str, **kw: Any) -> None:
    """A workbook of one sheet (see ``add_sheet``), saved to ``path``."""
    wb = new_book()
    add_sheet(wb, name, **kw)
    wb.save(path)


def as_wps(path: Path) -> Path:
    """Rewrite docProps/app.xml the way WPS 表格 (Kingsoft) saves it, keeping everything else."""
    data = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            data[info.filename] = archive.read(info.filename)
    app = data.get("docProps/app.xml", b"").decode("utf-8")
    app = re.sub(r"<Application>.*?</Application>", "<Application>WPS 表格</Application>", app)
    if "<AppVersion>" in app:
        app = re.sub(r"<AppVersion>.*?</AppVersion>", "<AppVersion>12.1.0.16120</AppVersion>", app)
    data["docProps/app.xml"] = app.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in data.items():
            archive.writestr(name, content)
    return path


def ym(d: dt.date | None) -> str | None:
    """1965.03: how rosters write 出生年月 and 入党时间."""
    return f"{d.year}.{d.month:02d}" if d else None


def ym_cn(d: dt.date | None) -> str | None:
    return f"{d.year}年{d.month:02d}月" if d else None


_WISDOM_EDU = {"小学及以下": "高中及以下", "初中": "高中及以下", "高中": "高中及以下", "中专": "高中及以下",
               "大专": "专科", "本科": "本科", "研究生": "硕士"}
_CENSUS_EDU = {"小学及以下": "小学", "初中": "初中", "高中": "高中", "中专": "高中", "大专": "大学专科",
               "本科": "大学本科", "研究生": "研究生"}
_RELATION_WORDS = {"子": "儿子", "女": "女儿", "配偶": "配偶", "户主": "户主"}


# ----- the files ----------------------------------------------------------------------------------
Builder = Callable[[Demo, Path], None]
BUILDERS: dict[str, Builder] = {}
MAPPINGS: dict[str, dict[str, Any]] = {}


def corpus(name: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        BUILDERS[name] = fn
        return fn

    return register


@corpus("01_wisdomtown_party_export.xlsx")
def _wisdomtown_party(demo: Demo, path: Path) -> None:
    """An easypoi 党员 export (智慧乡镇 system) opened and re-saved: sheet "Sheet1", 党籍状态 = 正式/预备党员,
    学历 in 高中及以下/专科/本科/硕士, the system's own columns (派出所, 籍贯, 退役 …) that we do not keep."""
    header = ["所属党支部", "姓名", "性别", "出生日期", "民族", "学历", "身份证号码", "联系电话", "入党时间", "党籍状态",
              "户籍所在派出所", "工作/学习单位", "现居住地", "籍贯", "原服役部队", "退役时间", "是否自主择业",
              "组织关系落实时间", "编入党支部"]
    rows = [[p.branch, p.name, p.sex, p.birth, p.ethnicity, _WISDOM_EDU.get(p.education or "", None), p.id_number,
             p.phone, p.joined_on, p.member_type, "临晋派出所", None, f"{p.village}{p.household or ''}号", "山西临猗",
             None, None, None, None, p.branch] for p in demo.members(ZHONGWANG, 6)]
    one_sheet(path, "Sheet1", header=header, rows=rows, text_columns=["身份证号码", "联系电话"])


@corpus("02_wisdomtown_transfer.xls")
def _wisdomtown_transfer(demo: Demo, path: Path) -> None:
    """The same system's 组织关系转接 export as an Excel 97 .xls: two branch columns (from / to) and
    党籍状态 as 正式/预备 — a transfer list, not a roster to take as 党员."""
    xlwt = _xlwt()
    header = ["原所属党支部", "转出党支部", "姓名", "性别", "出生日期", "民族", "学历", "身份证号码", "联系电话", "入党时间",
              "党籍状态", "户籍所在派出所", "工作/学习单位", "现居住地"]
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("组织关系转接")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, h in enumerate(header):
        ws.write(0, c, h)
    for r, p in enumerate(demo.members(ZHONGWANG, 3, offset=6), start=1):
        values = [p.branch, "谢庄村第一党支部", p.name, p.sex, p.birth, p.ethnicity, _WISDOM_EDU.get(p.education or ""),
                  p.id_number, p.phone, p.joined_on, (p.member_type or "正式党员")[:2], "临晋派出所", None, None]
        for c, v in enumerate(values):
            if v is None:
                continue
            ws.write(r, c, v, date_style) if isinstance(v, dt.date) else ws.write(r, c, v)
    book.save(str(path))


@corpus("03_party_dues_import.xlsx")
def _party_dues(demo: Demo, path: Path) -> None:
    """党费收缴 import sheet (ID, name, the collecting 党组织, amounts): taken as 党员 it would move members."""
    header = ["序号", "姓名", "身份证号", "所属党支部", "核算基数", "应交金额", "实交金额", "备注"]
    rows = [[i, p.name, p.id_number, TOWNSHIP_COMMITTEE, 3000 + 100 * i, 15.0 + i, 15.0 + i, None]
            for i, p in enumerate(demo.members(ZHONGWANG, 6, offset=9), start=1)]
    one_sheet(path, "党费收缴", header=header, rows=rows, text_columns=["身份证号"])


@corpus("04_party_dues_monthly.xlsx")
def _party_dues_monthly(demo: Demo, path: Path) -> None:
    """Yearly 党费 ledger, one column per month, no ID numbers, a merged title row."""
    header = ["序号", "姓名", "所在党支部", "核算基数（元）", "缴费金额（元）", *[f"{m}月" for m in range(1, 13)]]
    rows = [[i, p.name, p.branch, 2000, 10, *[10] * 6, *[None] * 6]
            for i, p in enumerate(demo.members(ZHONGWANG, 5, offset=15), start=1)]
    one_sheet(path, "2025年党费", header=header, rows=rows, above=[["中王村党支部2025年度党费收缴明细表"]])


@corpus("05_points_quarterly_ledger.xlsx")
def _points_quarterly(demo: Demo, path: Path) -> None:
    """党员积分管理台账: per-quarter totals, not events — nothing of it is a 党员 record or a 积分记录."""
    header = ["序号", "姓名", "身份证号码", "所在支部", "党员类别", "基础分", "第一季度", "第二季度", "第三季度", "第四季度",
              "年度总分", "等次"]
    rows = []
    for i, p in enumerate(demo.members(ZHONGWANG, 6, offset=20), start=1):
        quarters = [20 + i % 3, 22, 18 + i % 4, 21]
        rows.append([i, p.name, p.id_number, p.branch, "无职党员", 60, *quarters, 60 + sum(quarters) - 60,
                     "优秀" if i % 3 == 0 else "合格"])
    one_sheet(path, "党员积分台账", header=header, rows=rows, text_columns=["身份证号码"],
              above=[["中王村党员积分管理台账（2025年度）"], ["支部：中王村党支部", None, None, None, None, None, None, None,
                                                    None, "单位：分"]],
              below=[["备注：1.此表在党员申报的基础上由支部审核认定；2.每季度记录完后上报镇党委。"]])


@corpus("06_village_roster_new_people.xlsx")
def _village_roster(demo: Demo, path: Path) -> None:
    """A village's own 党员花名册: merged title and 填报单位 rows, 出生年月/入党时间 as 1965.03 text, 党籍状态
    正式党员/预备党员, 所在村; three members already registered, three people the township has never seen."""
    header = ["序号", "姓名", "性别", "民族", "出生年月", "身份证号码", "文化程度", "入党时间", "转正时间", "党籍状态",
              "所在村", "联系电话", "备注"]
    rows: list[list[Any]] = []
    for p in demo.members(ZHONGWANG, 3, offset=26):
        rows.append([None, p.name, p.sex, p.ethnicity, ym(p.birth), p.id_number, p.education, ym(p.joined_on),
                     ym(p.confirmed_on), p.member_type, p.village, p.phone, None])
    new = [("薛建国", dt.date(1972, 4, 18), False, "高中", "2001.07", "2002.07", "正式党员", "13903590142"),
           ("贾秀琴", dt.date(1985, 9, 3), True, "大专", "2012.06", "2013.06", "正式党员", "15934120786"),
           ("柴宇航", dt.date(1999, 11, 21), False, "本科", "2025.12", None, "预备党员", "18636901275")]
    for name, birth, female, edu, joined, confirmed, kind, phone in new:
        number = demo.new_id(birth, female=female)
        rows.append([None, name, "女" if female else "男", "汉族", ym(birth), number, edu, joined, confirmed, kind,
                     ZHONGWANG, phone, "新发展" if kind == "预备党员" else "新转入"])
    for i, row in enumerate(rows, start=1):
        row[0] = i
    one_sheet(path, "党员花名册", header=header, rows=rows, text_columns=["身份证号码", "联系电话"],
              above=[["临晋镇中王村党员花名册"], ["填报单位：中王村党支部（盖章）　　　　填报日期：2026年3月"]],
              below=[[], ["填表人：李会计", None, None, None, None, None, "审核人：支部书记"]])


@corpus("07_placeholders.xlsx")
def _placeholders(demo: Demo, path: Path) -> None:
    """党员信息采集表 filled as its instructions require: no blank cell, 无 / — / / / 空 / - where nothing applies."""
    header = ["姓名", "性别", "民族", "出生日期", "身份证号码", "学历", "联系电话", "入党时间", "转正时间", "党内职务",
              "是否流动党员", "流动去向", "备注"]
    marks = ["无", "—", "/", "空", "-"]
    rows = []
    for i, p in enumerate(demo.members(ZHONGWANG, 5, offset=32)):
        mark = marks[i % len(marks)]
        rows.append([p.name, p.sex, p.ethnicity, p.birth, p.id_number, p.education or mark, p.phone or "无",
                     p.joined_on, p.confirmed_on or "—", mark, "否", marks[(i + 1) % len(marks)], mark])
    one_sheet(path, "党员信息采集表", header=header, rows=rows, text_columns=["身份证号码", "联系电话"])


@corpus("08_banded_header.xlsx")
def _banded(demo: Demo, path: Path) -> None:
    """Two-row banded header: 基本信息 / 党员信息 / 联系方式 merged above the real column names."""
    header = ["姓名", "性别", "身份证号", "出生年月", "入党时间", "党员类别", "所在党支部", "联系电话", "家庭住址"]
    rows = [[p.name, p.sex, p.id_number, ym(p.birth), p.joined_on, p.member_type, p.branch, p.phone,
             f"{p.village}{p.household or ''}号"] for p in demo.members(XIEZHUANG, 5)]
    wb = new_book()
    ws = add_sheet(wb, "党员名册", header=header, rows=rows, text_columns=["身份证号", "联系电话"],
                   above=[["谢庄村党员名册"], ["基本信息", None, None, None, "党员信息", None, None, "联系方式", None]],
                   merge_above=False)
    ws.merge_cells("A1:I1")
    ws["A1"].font = TITLE
    ws["A1"].alignment = CENTER
    for cells in ("A2:D2", "E2:G2", "H2:I2"):
        ws.merge_cells(cells)
        ws[cells.split(":")[0]].alignment = CENTER
        ws[cells.split(":")[0]].font = BOLD
    wb.save(path)


@corpus("09_instruction_rows.xlsx")
def _instructions(demo: Demo, path: Path) -> None:
    """A county template with a 填写注意事项 box (1、2、3、…) above the header and a note below the data."""
    header = ["序号", "姓名", "身份证号码", "性别", "出生年月", "文化程度", "党籍状态", "入党时间", "转正时间", "所在支部"]
    rows = [[i, p.name, p.id_number, p.sex, ym(p.birth), p.education, p.member_type, p.joined_on, p.confirmed_on,
             p.branch] for i, p in enumerate(demo.members(LINJIN, 4), start=1)]
    one_sheet(path, "党员信息", header=header, rows=rows, text_columns=["身份证号码"],
              above=[["填写注意事项"], ["1、身份证号码请设置为文本格式，填写18位；"],
                     ["2、出生年月填写到月，如1965.03；入党时间、转正时间填写到日；"],
                     ["3、党籍状态填写“正式党员”或“预备党员”；预备党员转正时间不填；"],
                     ["4、本表不得增删列，不得合并单元格。"]],
              below=[["注：本表由党支部填写，报镇党委组织办。"]])


@corpus("10_month_dates.xlsx")
def _month_dates(demo: Demo, path: Path) -> None:
    """出生年月 / 入党时间 / 转正时间 at month precision, as text (1965.03) and as numbers Excel made of
    them (1963.1 — typed 1963.10, Excel dropped the zero — and 1958.1 meaning January)."""
    october = demo.member_born(10)
    january = demo.member_born(1)
    chen = demo._people("p.name = ? AND v.name = ? AND pm.id IS NOT NULL", ("陈亮", ZHONGWANG))
    others = [p for p in demo.members(ZHONGWANG, 8, offset=40)
              if p.id_number not in (october.id_number, january.id_number) and p.confirmed_on][:2]
    people = [*chen[:1], october, january, *others]
    rows = []
    for p in people:
        if p.birth.month in (1, 10):
            birth: Any = float(f"{p.birth.year}.1")  # a number cell: 1963.1
        else:
            birth = ym(p.birth)
        rows.append([p.id_number, p.name, birth, ym(p.joined_on), ym(p.confirmed_on)])
    assert len(rows) == 5
    one_sheet(path, "党员基本信息", header=["身份证号", "姓名", "出生年月", "入党时间", "转正时间"], rows=rows,
              text_columns=["身份证号"])


@corpus("11_wps_numbers_as_text.xlsx")
def _wps_pay(demo: Demo, path: Path) -> None:
    """村干部报酬核定表 saved by WPS 表格, every number typed as text (年度 "2021", 任职月数 "12", 序号 "1")."""
    header = ["序号", "村名", "年度", "姓名", "身份证号码", "职务", "任职月数", "考核等级"]
    posts = {"书记": "党支部书记", "主任": "村委会主任", "委员": "两委委员", "监委会主任": "村务监督委员会主任"}
    rows = [[str(i), ZHONGWANG, "2021", name, number, posts.get(post, post), str(months), grade]
            for i, (name, number, post, months, grade) in enumerate(demo.pay(ZHONGWANG, 2021), start=1)]
    one_sheet(path, "村干部报酬", header=header, rows=rows, text_columns=header,
              above=[["中王村2021年度村干部报酬核定表"]])
    as_wps(path)


@corpus("12_hantai_pay_notice.xlsx")
def _pay_notice(demo: Demo, path: Path) -> None:
    """A published 村干部基本补贴发放公示 table: money per person, no ID numbers, no year column."""
    header = ["序号", "镇（街道）", "村（社区）", "姓名", "职务", "基本补贴（元）", "绩效补贴（元）", "合计（元）", "备注"]
    amounts = {"书记": 2160, "主任": 1728, "委员": 1296, "监委会主任": 1296}
    rows = []
    for i, (name, _number, post, _months, _grade) in enumerate(demo.pay(ZHONGWANG, 2021), start=1):
        base = amounts.get(post, 1296)
        rows.append([i, "临晋镇", ZHONGWANG, name, post, base, base * 4, base * 5, None])
    one_sheet(path, "Sheet1", header=header, rows=rows, above=[["临晋镇2024年6月在职村干部基本补贴发放公示表"]])


@corpus("13_household_numbers.xlsx")
def _household_numbers(demo: Demo, path: Path) -> None:
    """户信息 with 户号 typed as 6, 7, 8 (Excel dropped the zeros of 0006 …) and the aliases 村名 / 组别."""
    rows = [[ZHONGWANG, int(number), group, address, phone]
            for number, group, address, phone in demo.households(ZHONGWANG, ["0006", "0007", "0008"])]
    one_sheet(path, "户信息", header=["村名", "户号", "组别", "家庭住址", "联系电话"], rows=rows)


@corpus("14_census_form.xlsx")
def _census(demo: Demo, path: Path) -> None:
    """人口登记表 after the census short form: 户编号, 与户主关系 in words, 公民身份号码, 出生年月 as
    1984年08月, 受教育程度 in the national vocabulary (未上过学 … 大学本科); one new spouse joins 0002."""
    header = ["户编号", "姓名", "与户主关系", "公民身份号码", "性别", "出生年月", "民族", "受教育程度", "所在村"]
    rows = []
    for number in ("0001", "0002"):
        for p in demo.household_people(ZHONGWANG, number):
            edu = _CENSUS_EDU.get(p.education or "") or ("未上过学" if p.birth.year >= 2020 else None)
            rows.append([number, p.name, _RELATION_WORDS.get(p.relation or "", p.relation), p.id_number, p.sex,
                         ym_cn(p.birth), p.ethnicity, edu, ZHONGWANG])
    spouse = demo.new_id(dt.date(1995, 6, 14), female=False)
    rows.append(["0002", "郝文斌", "配偶", spouse, "男", "1995年06月", "汉族", "大学专科", ZHONGWANG])
    one_sheet(path, "人口登记表", header=header, rows=rows, text_columns=["户编号", "公民身份号码"],
              above=[["中王村人口登记表（标准时点：2026年6月30日）"]])


@corpus("15_invisible_chars.xlsx")
def _invisible(demo: Demo, path: Path) -> None:
    """Copied from a web page or a WeChat message: U+200E before IDs, U+202D/U+202C around phones, NBSP
    after names, U+3000 after the village, U+FEFF before a header, U+200B at the end of an ID."""
    rows = []
    for i, p in enumerate(demo.residents(XIEZHUANG, 5, with_phone=True)):
        number = "\u200e" + p.id_number if i % 2 == 0 else p.id_number + "\u200b"
        rows.append([number, p.name + "\u00a0", p.sex, "\u202d" + (p.phone or "") + "\u202c", XIEZHUANG + "\u3000"])
    one_sheet(path, "人员信息", header=["\ufeff身份证号码", "姓名", "性别", "联系电话", "所属村"], rows=rows)


@corpus("16_id_15_digits.xlsx")
def _id15(demo: Demo, path: Path) -> None:
    """An old register still holding a first-generation 15-digit ID."""
    people = demo.residents(LINJIN, 3)
    rows = [[p.name, p.id_number, p.sex, LINJIN] for p in people]
    rows[1][1] = people[1].id_number[:6] + people[1].id_number[8:17]
    one_sheet(path, "人员名册", header=["姓名", "身份证号码", "性别", "所属村"], rows=rows, text_columns=["身份证号码"])


@corpus("17_id_as_number.xlsx")
def _id_number_cells(demo: Demo, path: Path) -> None:
    """A 党员花名册 whose ID column was a number column: Excel kept 15 significant digits."""
    people = [p for p in demo.members(XIEZHUANG, 8, offset=5) if p.id_number[-1] != "X"][:4]
    rows = [[i, p.name, int(p.id_number), p.member_type, p.joined_on] for i, p in enumerate(people, start=1)]
    one_sheet(path, "党员花名册", header=["序号", "姓名", "身份证号码", "党员类别", "入党时间"], rows=rows)


@corpus("18_encrypted.xlsx")
def _encrypted(demo: Demo, path: Path) -> None:
    """A 党员花名册 the village protected with a password before sending it."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = path.with_name(path.stem + ".plain.xlsx")
    rows = [[p.name, p.id_number, p.member_type] for p in demo.members(ZHONGWANG, 3)]
    one_sheet(plain, "党员花名册", header=["姓名", "身份证号码", "党员类别"], rows=rows)
    with open(plain, "rb") as source, open(path, "wb") as target:
        OOXMLFile(source).encrypt("123456", target)
    plain.unlink()


@corpus("19_renamed_docx.xlsx")
def _renamed_docx(demo: Demo, path: Path) -> None:
    """党员基本信息采集表 is a Word form; a clerk renamed the .docx to .xlsx."""
    p = demo.members(ZHONGWANG, 1)[0]
    body = (f"<w:p><w:r><w:t>党员基本信息采集表</w:t></w:r></w:p><w:p><w:r><w:t>姓名：{p.name}　"
            f"身份证号码：{p.id_number}</w:t></w:r></w:p>")
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document '
                'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body>{body}</w:body></w:document>")
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
             'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'wordprocessingml.document.main+xml"/></Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("word/document.xml", document)


@corpus("20_grid_roster.xlsx")
def _grid_roster(demo: Demo, path: Path) -> None:
    """网格员花名册: 网格名称 beside the code, 职务 spelled 专职网格员 / 网格辅助员, 任职时间, 联系电话."""
    header = ["序号", "网格编码", "网格名称", "姓名", "身份证号码", "职务", "专兼职", "任职时间", "联系电话"]
    rows = []
    for i, (code, grid, name, number, role, duty, started, phone) in enumerate(demo.grid_members(ZHONGWANG, 6),
                                                                              start=1):
        title = f"{duty}{role}" if role == "网格员" else role
        rows.append([i, code, grid, name, number, title, duty, started, phone])
    one_sheet(path, "网格员花名册", header=header, rows=rows, text_columns=["网格编码", "身份证号码", "联系电话"],
              above=[["中王村网格员花名册"]])


@corpus("21_grid_roster_new_people.xlsx")
def _grid_new(demo: Demo, path: Path) -> None:
    """The same roster naming two people who are not registered yet (a new 微网格员 and a 兼职网格员)."""
    header = ["序号", "网格编码", "网格名称", "姓名", "性别", "身份证号码", "所在村", "职务", "专兼职", "任职时间",
              "联系电话"]
    micro, micro_name = demo.vacant_micro_grid(ZHONGWANG)
    grid, grid_name = demo.grid(ZHONGWANG, "网格", 1)
    rows = [[1, micro, micro_name, "卫晓东", "男", demo.new_id(dt.date(1988, 2, 9), female=False), ZHONGWANG, "微网格员",
             "兼职", dt.date(2026, 3, 1), "13835912406"],
            [2, grid, grid_name, "畅丽娟", "女", demo.new_id(dt.date(1990, 12, 30), female=True), ZHONGWANG,
             "兼职网格员", "兼职", dt.date(2026, 3, 1), "15803598821"]]
    one_sheet(path, "网格员花名册", header=header, rows=rows, text_columns=["网格编码", "身份证号码", "联系电话"],
              above=[["中王村网格员花名册（2026年3月调整）"]])


@corpus("22_aliases.ods")
def _aliases(demo: Demo, path: Path) -> None:
    """Saved by LibreOffice/WPS as .ods, every village column under another name: 社区名称, 村（居）委会,
    所在村, 组别, 统计用区划代码."""
    from tests.exchange.conftest import write_ods

    villages = []
    for name in (LINJIN, ZHONGWANG, XIEZHUANG):
        code, kind = demo.village_code(name)
        villages.append([code, name, kind])
    people = [[p.id_number, p.name, p.village] for p in demo.residents(XIEZHUANG, 3, offset=10)]
    households = [[XIEZHUANG, number, group, address]
                  for number, group, address, _phone in demo.households(XIEZHUANG, ["0010", "0011", "0012"])]
    write_ods(path, {"村居信息": [["统计用区划代码", "社区名称", "类型"], *villages],
                     "人员名册": [["身份证号码", "姓名", "村（居）委会"], *people],
                     "户信息": [["所在村", "户号", "组别", "家庭住址"], *households]})


@corpus("23_merged_title.xls")
def _merged_xls(demo: Demo, path: Path) -> None:
    """人口花名册 from an older county system as .xls: merged title and 制表单位 rows, a blank row, then the header."""
    xlwt = _xlwt()
    header = ["序号", "姓名", "性别", "身份证号码", "民族", "文化程度", "联系电话", "所属村（社区）"]
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("人口花名册")
    ws.write_merge(0, 0, 0, len(header) - 1, "临晋社区人口花名册", xlwt.easyxf("font: bold on, height 320; align: horiz center"))
    ws.write_merge(1, 1, 0, len(header) - 1, "制表单位：临晋社区居委会　　制表时间：2026年5月")
    for c, h in enumerate(header):
        ws.write(3, c, h, xlwt.easyxf("font: bold on"))
    for r, p in enumerate(demo.residents(LINJIN, 5, offset=5), start=4):
        for c, v in enumerate([r - 3, p.name, p.sex, p.id_number, p.ethnicity, p.education, p.phone, LINJIN]):
            if v is not None:
                ws.write(r, c, v)
    book.save(str(path))


@corpus("24_wps_hidden_sheets.xlsx")
def _wps_hidden(demo: Demo, path: Path) -> None:
    """A WPS workbook with a 填写说明 sheet, the roster, and a hidden 字典 sheet feeding its drop-downs."""
    wb = new_book()
    ws = wb.create_sheet("填写说明")
    for line in ("党员花名册填写说明", "一、身份证号码填写18位，设置为文本格式。", "二、党员类别从下拉列表选择。",
                 "三、入党日期格式：2001-07-01。"):
        ws.append([line])
    rows = [[i, p.name, p.id_number, p.member_type, p.joined_on, p.branch]
            for i, p in enumerate(demo.members(XIEZHUANG, 4, offset=12), start=1)]
    add_sheet(wb, "党员花名册", header=["序号", "姓名", "身份证号码", "党员类别", "入党日期", "所在党组织"], rows=rows,
              text_columns=["身份证号码"])
    add_sheet(wb, "字典", header=["党员类别", "性别", "文化程度"],
              rows=[["正式党员", "男", "初中"], ["预备党员", "女", "高中"], [None, None, "大专"]], hidden=True)
    wb.save(path)
    as_wps(path)


@corpus("25_two_committees.xlsx")
def _two_committees(demo: Demo, path: Path) -> None:
    """村“两委”成员名册: 职务 as 党支部书记 / 村委会主任, 是否一肩挑, 任职时间, 届次."""
    header = ["序号", "村名", "姓名", "性别", "身份证号码", "职务", "是否一肩挑", "任职时间", "届次"]
    posts = {"书记": "党支部书记", "主任": "村委会主任", "监委会主任": "村务监督委员会主任"}
    rows = [[i, ZHONGWANG, name, sex, number, posts.get(post, post), "是" if one else "否", started, term]
            for i, (name, sex, number, post, one, started, term) in enumerate(demo.cadres(ZHONGWANG), start=1)]
    one_sheet(path, "两委成员", header=header, rows=rows, text_columns=["身份证号码"],
              above=[["中王村“两委”成员名册"]])


@corpus("26_credit_union_roster.xlsx")
def _credit_union(demo: Demo, path: Path) -> None:
    """A rural credit union's 客户花名册 (jeecg-boot): 客户名称 for the name, 户号编码, 村/组/镇 columns."""
    header = ["所属网点", "镇", "村", "组", "户号编码", "与户主关系", "客户名称", "证件号码", "联系方式", "地址", "性别", "年龄"]
    rows = []
    for number in ("0003", "0004"):
        for p in demo.household_people(XIEZHUANG, number):
            rows.append(["临晋信用社", "临晋镇", XIEZHUANG, None, number, p.relation, p.name, p.id_number, p.phone, None,
                         p.sex, 2026 - p.birth.year])
    one_sheet(path, "客户花名册", header=header, rows=rows, text_columns=["户号编码", "证件号码", "联系方式"])


MAPPINGS["26_credit_union_roster.mapping.json"] = {
    "sheets": {"客户花名册": {"entity": "person", "header_row": 1, "columns": {
        "所属网点": None, "镇": None, "村": "village_name", "组": None, "户号编码": "household", "与户主关系": "relation",
        "客户名称": "姓名", "证件号码": "id_number", "联系方式": "phone", "地址": None, "性别": "sex", "年龄": None}}},
    "save_as": "信用社客户花名册"}


@corpus("27_branch_own_headers.xlsx")
def _own_headers(demo: Demo, path: Path) -> None:
    """A 支部's own list with its own words for the columns (同志姓名, 身份号码, 现所在支部 …)."""
    rows = [[p.name, p.id_number, (p.member_type or "")[:2], p.joined_on, p.branch, f"{p.household or ''}号"]
            for p in demo.members(ZHONGWANG, 4, offset=50)]
    one_sheet(path, "党员名单", header=["同志姓名", "身份号码", "党员身份", "入党年月", "现所在支部", "家住"], rows=rows,
              text_columns=["身份号码"])


MAPPINGS["27_branch_own_headers.mapping.json"] = {
    "sheets": {"党员名单": {"entity": "party_member", "columns": {
        "同志姓名": "name", "身份号码": "身份证号", "党员身份": "member_type", "入党年月": "joined_on",
        "现所在支部": "branch", "家住": None}}},
    "save_as": "中王村党员名单"}


@corpus("28_points_detail.xlsx")
def _points_detail(demo: Demo, path: Path) -> None:
    """积分明细 as a village enters it: one event per row with the rule code, date and a short note."""
    events = [("ZZ05", "参加主题党日活动", dt.date(2026, 6, 5), "6月主题党日：重温入党誓词"),
              ("XX01", "参加集中学习培训", dt.date(2026, 6, 12), "镇党校集中培训"),
              ("ZZ02", "参加党课", dt.date(2026, 6, 20), "七一专题党课")]
    rows = [[ZHONGWANG, p.id_number, p.name, code, item, day, None, note]
            for p, (code, item, day, note) in zip(demo.members(ZHONGWANG, 3, offset=44), events, strict=True)]
    one_sheet(path, "积分明细", header=["所属村", "身份证号", "姓名", "规则编码", "积分事项", "发生日期", "分值", "事项说明"],
              rows=rows, text_columns=["身份证号"])


@corpus("29_household_and_members.xlsx")
def _household_members(demo: Demo, path: Path) -> None:
    """A new household: 户信息 writes 户号 "0301" as text, 家庭成员 types it as the number 301."""
    head = demo.new_id(dt.date(1978, 8, 2), female=False)
    wife = demo.new_id(dt.date(1980, 3, 27), female=True)
    son = demo.new_id(dt.date(2006, 5, 11), female=False)
    wb = new_book()
    add_sheet(wb, "户信息", header=["村名", "户号", "组别", "家庭住址", "联系电话"],
              rows=[[ZHONGWANG, "0301", "三组", "中王村三组 41号", "13593420917"]], text_columns=["户号"])
    add_sheet(wb, "家庭成员", header=["身份证号码", "姓名", "村名", "户号", "与户主关系"],
              rows=[[head, "原志刚", ZHONGWANG, 301, "户主"], [wife, "范美玲", ZHONGWANG, 301, "妻子"],
                    [son, "原浩然", ZHONGWANG, 301, "儿子"]], text_columns=["身份证号码"])
    wb.save(path)


@corpus("30_branch_info.xlsx")
def _branches(demo: Demo, path: Path) -> None:
    """党组织基本信息采集表: name, 组织类别, 上级党组织 plus 书记 / 联系人 columns we do not keep."""
    rows = []
    for name in ("中王村党支部", "谢庄村党总支", "谢庄村第一党支部"):
        branch, kind, parent, village = demo.branch(name)
        rows.append([branch, kind, parent, "（空缺）" if kind == "党小组" else "见两委名册", "0359-4012345", village])
    one_sheet(path, "党组织信息", header=["党组织名称", "组织类别", "上级党组织", "党组织书记", "联系电话", "所属村"], rows=rows)


@corpus("31_goods_handout.xlsx")
def _goods_handout(demo: Demo, path: Path) -> None:
    """物资领取登记簿 (published 物资发放登记): 姓名, 身份证号 and 备注 are ours, the rest is a handout list —
    taken as 人员 it would overwrite people's 备注 with “代领：邻居” (found by a blind test)."""
    rows = [[i, p.name, p.id_number, "米面油", 1, None, "代领：邻居"]
            for i, p in enumerate(demo.residents(XIEZHUANG, 4), start=1)]
    one_sheet(path, "物资领取登记", header=["序号", "姓名", "身份证号", "物资类别", "物资数量", "签字", "备注"],
              rows=rows, text_columns=["身份证号"])


@corpus("32_volunteers.xlsx")
def _volunteers(demo: Demo, path: Path) -> None:
    """志愿者名册 as volunteer-service systems export it: half its columns (紧急联系人, 专业能力, 服务时长) are
    not ours — taken as 人员 it overwrote phones and notes (found by a blind test)."""
    rows = [[p.name, p.id_number, "13700000000", p.sex, "临晋镇", "张某", "13600000000", "医疗", 12, "优秀志愿者"]
            for p in demo.residents(ZHONGWANG, 4)]
    one_sheet(path, "志愿者名册", header=["姓名", "身份证号", "联系方式", "性别", "所在地区", "紧急联系人姓名",
                                         "紧急联系人手机号", "专业能力", "志愿服务时长（小时）", "备注"],
              rows=rows, text_columns=["身份证号", "联系方式", "紧急联系人手机号"])


@corpus("33_roster_named_generally.xlsx")
def _roster_named_generally(demo: Demo, path: Path) -> None:
    """A sheet named only 花名册 whose headers are a 党员 roster's (入党时间, 转正时间, 所在党支部, 党内职务):
    taken as 人员 by its name, the party columns were dropped with a warning (found by a blind test)."""
    rows = [[p.name, p.id_number, p.sex, p.joined_on, p.confirmed_on, p.branch, None]
            for p in demo.members(XIEZHUANG, 4)]
    one_sheet(path, "花名册", header=["姓名", "公民身份号码", "性别", "入党时间", "转正时间", "所在党支部", "党内职务"],
              rows=rows, text_columns=["公民身份号码"])


@corpus("34_education_ranges.xlsx")
def _education_ranges(demo: Demo, path: Path) -> None:
    """A town system's 人口 export whose 学历 says 高中及以下 / 初中及以下 for everyone: a range, never read as
    高中 over a stored 初中 (found by a blind test)."""
    rows = [[p.name, p.id_number, "高中及以下" if i % 2 else "初中及以下"]
            for i, p in enumerate(demo.residents(XIEZHUANG, 4, offset=4))]
    one_sheet(path, "人口信息", header=["姓名", "身份证号码", "学历"], rows=rows, text_columns=["身份证号码"])


def _xlwt() -> Any:
    import xlwt

    return xlwt


# ----- entry points -------------------------------------------------------------------------------
def manifest() -> list[dict[str, Any]]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]


def build_all(out_dir: Path, demo_db: Path) -> dict[str, Path]:
    """Every corpus file and mapping file, by name, written into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    demo = Demo(demo_db)
    try:
        paths: dict[str, Path] = {}
        for name, builder in BUILDERS.items():
            path = out_dir / name
            builder(demo, path)
            paths[name] = path
        for name, mapping in MAPPINGS.items():
            path = out_dir / name
            path.write_text(json.dumps(mapping, ensure_ascii=False, indent=1), encoding="utf-8")
            paths[name] = path
        return paths
    finally:
        demo.close()


if __name__ == "__main__":
    for built in build_all(Path(sys.argv[2]), Path(sys.argv[1])).values():
        print(built)
