"""Printable outputs fit: no column shows ###, no PDF asks the reader's machine for a font.

Stories: the 组织委员 opens the quarterly return, a 公示名单, the person
export, the import template and the sync package in Excel or LibreOffice —
every column is at least as wide as the widest value it shows (money with
its thousands separators and two decimals, dates, 18-digit IDs), text too
long for any sensible column wraps in it; and every PDF the app writes (the
return, the 一村一档, a 公示 table, certificates in both designs, the
calibration page) carries its only font, the bundled one, inside the file.

The widths are read back with openpyxl and measured here on their own
terms (a CJK character two units, anything else one, plus a unit of padding),
not with the writer's own arithmetic.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader

from townapp.archives.dto import YearData
from townapp.archives.printable import write_archive
from townapp.archives.service import ArchiveService
from townapp.core.actor import CLI_ACTOR, SYSTEM_ACTOR
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.exchange.package import write_package
from townapp.exchange.template import write_template
from townapp.exchange.writer import export_sheets
from townapp.figures import certificate_batch, figure_registry, unit_source
from townapp.outputs.archive_pdf import TableDocument, TableSection, write_table_pdf
from townapp.outputs.certificates import CertificateService, layout, write_calibration_page
from townapp.outputs.figures import Period
from townapp.outputs.pdf import register_cjk_font, write_pdf
from townapp.outputs.quarterly import ReturnService
from townapp.outputs.table_xlsx import write_table_xlsx
from townapp.registry.dto import PersonInput
from townapp.registry.service import RegistryService
from townapp.sheets import all_sheet_specs, package_sheet_specs
from townapp.sources import RoundSource

from ..archives.conftest import Village, village  # noqa: F401 (fixture)
from .town import Town, build_town

CAP = 60  # the widest a column gets; longer text wraps
LONG_NOTE = ("该户常年在外务工，户籍仍在本村；2025年3月起由其姐代为联系，逢年过节回村居住，"
             "已于村民小组会议上说明情况并登记在册，联系人电话见户籍登记表。")


# ----- measuring what a cell shows ----------------------------------------------------
def _shown(cell: Cell) -> str:
    value, fmt = cell.value, cell.number_format
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d}" if "h" not in fmt else f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    if fmt.endswith("%"):
        return f"{value * 100:.{fmt.count('0') - 1}f}%"
    if "." in fmt:
        return f"{value:{',' if ',' in fmt else ''}.{len(fmt.split('.')[1])}f}"
    return str(int(value)) if float(value).is_integer() else repr(value)


def _units(text: str) -> float:
    """Excel width units: a Chinese (wide) character two, anything else one; a unit of padding."""
    widest = max(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line) for line in text.split("\n"))
    return widest + 1


def _column_widths(ws: Worksheet) -> dict[int, float]:
    widths: dict[int, float] = {}
    for dimension in ws.column_dimensions.values():
        if dimension.width and dimension.min:
            for column in range(dimension.min, (dimension.max or dimension.min) + 1):
                widths[column] = dimension.width
    return widths


def _cells(ws: Worksheet) -> Iterator[Cell]:
    for row in ws.iter_rows():
        yield from (cell for cell in row if cell.value not in (None, ""))


def _misfits(path: Path, *, wrapping: bool = True) -> list[str]:
    """Every cell whose value the column cannot show: too narrow (a number would print ###), or text
    wider than ``CAP`` that does not wrap (``wrapping``; a streamed package lets it run on)."""
    problems: list[str] = []
    book = load_workbook(path)
    for ws in book.worksheets:
        widths = _column_widths(ws)
        default = ws.sheet_format.defaultColWidth or 8.43
        merged = {(r.min_row, r.min_col): r for r in ws.merged_cells.ranges}
        hidden = {(row, col) for r in ws.merged_cells.ranges for row in range(r.min_row, r.max_row + 1)
                  for col in range(r.min_col, r.max_col + 1)} - set(merged)
        for cell in _cells(ws):
            if (cell.row, cell.column) in hidden:
                continue
            span = merged.get((cell.row, cell.column))
            columns = range(span.min_col, span.max_col + 1) if span else [cell.column]
            width = sum(widths.get(c, default) for c in columns)
            size = (cell.font.sz or 11) / 11 if cell.font else 1
            need = _units(_shown(cell)) * size
            wraps = bool(cell.alignment and cell.alignment.wrap_text)
            where = f"{path.name}/{ws.title}!{cell.coordinate}"
            if isinstance(cell.value, str) and wraps:  # shown over as many lines as it needs, but a code
                word = max((len(w) for w in re.findall(r"[!-~]+", cell.value)), default=0)  # is never split
                if word and width < min(word + 1, CAP):
                    problems.append(f"{where}: {cell.value!r} would split inside a code in {width:.1f}")
                continue
            if isinstance(cell.value, str) and need > CAP * len(columns):
                if wrapping:
                    problems.append(f"{where}: {need:.0f} units of text in a column capped at {CAP}, not wrapped")
                elif width < CAP * len(columns) - 1:
                    problems.append(f"{where}: long text in a {width:.1f} column, not the widest")
                continue
            if width < need:
                problems.append(f"{where} shows {_shown(cell)!r} ({need:.1f} units) in {width:.1f}")
    return problems


# ----- the workbooks ----------------------------------------------------------------
@pytest.fixture
def town(db: Database) -> Town:
    return build_town(db)


def test_quarterly_return_money_fits_its_columns(db: Database, town: Town, tmp_path: Path) -> None:
    # GIVEN a township whose 集体经济 runs to millions of yuan (1,500,000.00 in 甲村)
    service = ReturnService(db, figure_registry(db), unit_source())
    ret = service.build(Period(2026, 2), filled_on=dt.date(2026, 7, 3), filler="王会计", phone="0359-4011234")
    # WHEN the return is exported as a workbook
    out = service.export(ret, tmp_path / "季度报表.xlsx").xlsx
    # THEN every figure fits its column as shown (总收入, 经营性收入: separators and two decimals)
    assert _misfits(out) == []
    sheet = load_workbook(out)["村级组织建设"]
    money = [c for c in sheet[6] if c.number_format == "#,##0.00"]
    assert money and all(_column_widths(sheet)[c.column] >= len(f"{c.value:,.2f}") + 1 for c in money)


def test_a_posted_table_fits_and_long_text_wraps(tmp_path: Path) -> None:
    # GIVEN a 公示名单 with codes, points with decimals, a sum of money and a remark longer than any column
    rows = [[1, "140821100201", "张建国", 1234567.5, dt.date(2026, 6, 30), LONG_NOTE],
            [2, "140821100202", "欧阳秀英", 12.25, dt.date(2026, 7, 1), "无"]]
    headers = ["序号", "村区划代码", "姓名", "积分", "日期", "备注"]
    # WHEN it is written plain and as a wrapping table
    plain = write_table_xlsx(tmp_path / "公示.xlsx", sheet="公示名单", title="2026年党员积分公示名单",
                             subtitle="东张村　公示期：2026年07月01日至2026年07月07日", headers=headers, rows=rows,
                             widths=(6, 14, 10, 8, 12, 30), text_columns=(False, True))
    wrapped = write_table_xlsx(tmp_path / "整改.xlsx", sheet="整改跟踪", title="整改跟踪台账", subtitle="共 2 项",
                               headers=headers, rows=rows, widths=(6, 14, 10, 8, 12, 30), wrap=True)
    # THEN every column is wide enough for its widest value, and the long remark wraps in its column
    assert _misfits(plain) == [] and _misfits(wrapped) == []
    for path, cap in ((plain, CAP), (wrapped, 30)):
        ws = load_workbook(path).active
        assert ws["F4"].alignment.wrap_text and _column_widths(ws)[6] <= cap
        # AND a column fits its content, not a guess: 序号 is narrow, the ID-like code is not
        assert _column_widths(ws)[1] < _column_widths(ws)[2]


def test_person_export_fits(db: Database, village: Village, tmp_path: Path) -> None:  # noqa: F811
    # GIVEN people with 18-digit IDs, dates, a long remark
    registry = RegistryService(db)
    number = make_id_number("140821", dt.date(1985, 6, 6), 31)
    registry.save_person(PersonInput(number, "欧阳娜", village_id=village.id, phone="13912345678",
                                     note=LONG_NOTE))
    # WHEN every sheet is exported, with full IDs and masked
    for name, reason in (("masked.xlsx", None), ("full.xlsx", "测试列宽")):
        export_sheets(db, all_sheet_specs(), tmp_path / name, CLI_ACTOR, reason=reason)
        # THEN nothing is too narrow, and the long remark wraps
        assert _misfits(tmp_path / name) == []
    people = load_workbook(tmp_path / "full.xlsx")["人员"]
    id_column = _column_widths(people)[1]
    assert people["A1"].value == "身份证号" and 19 <= id_column <= 24


def test_template_columns_fit_and_keep_room_to_type(tmp_path: Path) -> None:
    # WHEN the import template is written
    path = write_template(all_sheet_specs(), tmp_path / "模板.xlsx")
    # THEN every header and example fits, and the rules on 填写说明 wrap over its four columns
    assert _misfits(path) == []
    book = load_workbook(path)
    rules = book["填写说明"]
    longest = max(range(3, 11), key=lambda row: len(rules.cell(row, 1).value))
    assert rules.cell(longest, 1).alignment.wrap_text and (rules.row_dimensions[longest].height or 0) >= 30
    assert sum(_column_widths(rules).get(c, 0) for c in range(1, 5)) >= 80


def test_package_columns_fit_what_was_streamed(db: Database, town: Town, tmp_path: Path) -> None:
    # GIVEN a township with a long remark and a large 村级年度数据 sum
    archives = ArchiveService(db)
    archives.save_year(YearData(town.village_a, 2025, {"total_income": 123_456_789_12, "operating_income": 5}))
    # WHEN the sync package is streamed (xlsxwriter, constant memory)
    out = write_package(db, package_sheet_specs(db), tmp_path / "数据包.xlsx", actor=CLI_ACTOR).path
    # THEN the widths set after the rows were written hold, and fit every value (long text runs on at the cap)
    assert _misfits(out, wrapping=False) == []
    people = load_workbook(out)["人员"]
    assert 19 <= _column_widths(people)[1] <= 24  # 18-digit IDs, not the spec's guess


# ----- the PDFs ---------------------------------------------------------------------------
def _fonts(path: Path) -> list[tuple[str, bool]]:
    """(base font name, embedded) for every font any page or form of the PDF uses."""
    found: dict[int | str, tuple[str, bool]] = {}

    def visit(resources: object, seen: set[int]) -> None:
        resources = resources.get_object() if hasattr(resources, "get_object") else resources
        if not resources:
            return
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            key = getattr(ref, "idnum", str(font.get("/BaseFont")))
            if font.get("/Subtype") == "/Type3":
                found[key] = (str(font.get("/Name", "Type3")), True)
                continue
            descendants = font.get("/DescendantFonts")
            inner = descendants[0].get_object() if descendants else font
            descriptor = inner.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[key] = (str(font.get("/BaseFont")), embedded)
        for ref in (resources.get("/XObject") or {}).values():
            number = getattr(ref, "idnum", None)
            if number in seen:
                continue
            seen.add(number)
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form":
                visit(xobject.get("/Resources"), seen)

    for page in PdfReader(str(path)).pages:
        visit(page.get("/Resources"), set())
    return list(found.values())


def _assert_only_the_bundled_font(path: Path) -> None:
    fonts = _fonts(path)
    assert fonts, f"{path.name}: no font at all"
    assert all(embedded for _, embedded in fonts), f"{path.name}: not embedded: {fonts}"
    assert all("WenQuanYiMicroHei" in name for name, _ in fonts), f"{path.name}: {fonts}"
    if shutil.which("pdffonts"):  # poppler's own reading agrees (the emb column)
        listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows and all(" yes " in row for row in rows), listing


def test_every_pdf_kind_carries_only_the_bundled_font_embedded(db: Database, town: Town,
                                                               tmp_path: Path) -> None:
    # GIVEN the hand-made township: its return with charts, 甲村's archive, last year's certificates
    service = ReturnService(db, figure_registry(db), unit_source())
    ret = service.build(Period(2026, 2), filled_on=dt.date(2026, 7, 3))
    archives = ArchiveService(db)
    archives.save_year(YearData(town.village_a, 2025, {"total_income": 66_234_56, "business_income": 46_234_56}))
    batch = certificate_batch(db, "household-star", RoundSource(town.household_round), actor=SYSTEM_ACTOR)
    certificates = CertificateService(db)
    table = TableDocument("2026年党员积分公示名单", subtitle="东张村", landscape=True, footer="东张村",
                          signature_lines=("制表人：", "审核人："),
                          sections=[TableSection("公示名单", ("序号", "姓名", "积分"), [("1", "张建国", "1,234.50")],
                                                 numeric=(False, False, True)), TableSection("附件")])
    # WHEN every kind of PDF is written
    written = [
        service.export(ret, tmp_path / "q.xlsx", tmp_path / "季度报表.pdf").pdf,
        write_archive(archives, town.village_a, tmp_path / "一村一档.pdf"),
        write_table_pdf(table, tmp_path / "公示.pdf"),
        certificates.write_batch(batch, tmp_path / "证书.pdf", record=False).path,
        certificates.write_batch(batch, tmp_path / "套打.pdf", overlay=True, record=False).path,
        write_calibration_page(layout("household-star"), tmp_path / "校准页.pdf", (1.0, -1.0), "办公室打印机"),
    ]
    # THEN each names only the bundled font, embedded (no Helvetica the reader's machine must supply)
    for path in written:
        assert path is not None
        _assert_only_the_bundled_font(Path(path))


def test_a_plain_canvas_starts_in_the_bundled_font(tmp_path: Path) -> None:
    # GIVEN a page drawn straight on a canvas, as the 积分超市 receipt is (no initial font named)
    from reportlab.pdfgen.canvas import Canvas

    font = register_cjk_font()

    def build(tmp: Path) -> None:
        canvas = Canvas(str(tmp), pagesize=(420, 297))
        canvas.setFont(font, 12)
        canvas.drawString(30, 250, "党员积分超市兑换凭条")
        canvas.showPage()
        canvas.save()

    # WHEN it is written
    out = write_pdf(tmp_path / "凭条.pdf", build)
    # THEN the canvas's starting font is the bundled one too: no Helvetica named on its page
    _assert_only_the_bundled_font(out)
