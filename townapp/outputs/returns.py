"""The quarterly return (季度报表): fixed tables whose layouts are data, filled from named figures.

Layouts live in resources/returns/ (one JSON file per table: title, column
groups and headers, the figure behind each column, how its total is formed),
so a county's own template is matched by editing JSON. One row per village
and a total (a county database: one row per township and a county total);
every row is the same aggregation over its villages, so the total of a
summed column always equals the sum of its rows.

Written as .xlsx (openpyxl: borders, A4 landscape, fit to width, header rows
repeated) and as PDF (reportlab, the bundled font, the dashboard charts),
both atomically (DESIGN §5.3).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from xml.sax.saxutils import escape

from pydantic import Discriminator, Field, StrictInt, Tag, model_validator
from sqlalchemy.orm import Session

from townapp import config
from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.core.resources import Resource, Text, load, read_json, source_name, validate
from townapp.outputs import pdf
from townapp.outputs.figures import FigureRegistry, FigureValue, Period, Unit, UnitSource, as_number

CellValue = int | Decimal | str | None
NUMBER_FORMATS = {"int": "0", "yuan": "#,##0.00", "decimal1": "0.0", "decimal2": "0.00", "percent": "0.00%"}
_QUANTA = {"yuan": Decimal("0.01"), "decimal1": Decimal("0.1"), "decimal2": Decimal("0.01"),
           "percent": Decimal("0.0001")}


# ----- layouts ------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    header: str
    group: str | None = None
    figure: str | None = None
    ratio: tuple[str, str] | None = None
    total: str = "sum"
    fmt: str = "int"
    count_value: str = "是"

    @property
    def figure_keys(self) -> tuple[str, ...]:
        return self.ratio if self.ratio else ((self.figure,) if self.figure else ())


@dataclass(frozen=True)
class TableLayout:
    key: str
    order: int
    sheet: str
    title: str
    row_header: str
    county_row_header: str
    columns: tuple[Column, ...]

    @property
    def figure_keys(self) -> list[str]:
        return [k for c in self.columns for k in c.figure_keys]

    def header_groups(self) -> list[tuple[str | None, int]]:
        """Consecutive columns under one group title: (title or None, span)."""
        out: list[tuple[str | None, int]] = []
        for column in self.columns:
            if out and column.group is not None and out[-1][0] == column.group:
                out[-1] = (column.group, out[-1][1] + 1)
            else:
                out.append((column.group, 1))
        return out


@dataclass(frozen=True)
class ReturnSettings:
    name: str
    file_name: str
    subtitle: str
    info_line: tuple[str, ...]
    footer_line: tuple[str, ...]
    total_label: str
    county_total_label: str
    charts_in_pdf: bool




class ColumnEntry(Resource):
    header: Text
    figure: Text | None = None
    ratio: tuple[Text, Text] | None = None  # [numerator, denominator]
    total: Literal["sum", "ratio", "max", "min", "count", "none"] | None = None  # default: ratio or sum
    format: Literal["int", "yuan", "decimal1", "decimal2", "percent", "text"] = "int"
    count_value: str = "是"

    @model_validator(mode="after")
    def _has_a_source(self) -> ColumnEntry:
        if self.figure is None and self.ratio is None:
            raise ValueError("列须有 figure（数字名称）或 ratio（[分子, 分母]）")
        return self

    def column(self, group: str | None) -> Column:
        total = self.total or ("ratio" if self.ratio else "sum")
        return Column(self.header, group, self.figure, self.ratio, total, self.format, self.count_value)


class GroupEntry(Resource):
    group: Text
    columns: Annotated[list[ColumnEntry], Field(min_length=1)]


def _column_kind(value: Any) -> str:
    return "column-group" if isinstance(value, dict) and "group" in value else "single-column"


class LayoutFile(Resource):
    """One table of the return: resources/returns/01_….json, or a county's own file in a layout folder."""

    resource_label: ClassVar[str] = "报表版式"
    key: Text
    order: StrictInt = 0
    sheet: Text
    title: Text
    row_header: Text = "村（社区）"
    county_row_header: Text = "乡镇"
    columns: Annotated[list[Annotated[Annotated[GroupEntry, Tag("column-group")]
                                      | Annotated[ColumnEntry, Tag("single-column")],
                                      Discriminator(_column_kind)]], Field(min_length=1)]


class ReturnsFile(Resource):
    """returns.json: the return's name, file name, header and footer lines."""

    resource_label: ClassVar[str] = "报表设置"
    name: Text
    file_name: Text
    subtitle: str
    info_line: list[str]
    footer_line: list[str]
    total_label: Text
    county_total_label: Text
    paper: Literal["A4"] = "A4"
    orientation: Literal["landscape"] = "landscape"
    charts_in_pdf: bool = True


def parse_layout(data: dict[str, Any], source: str = "") -> TableLayout:
    f = validate(LayoutFile, data, source)
    columns: list[Column] = []
    for item in f.columns:
        if isinstance(item, GroupEntry):
            columns += [c.column(item.group) for c in item.columns]
        else:
            columns.append(item.column(None))
    return TableLayout(f.key, f.order, f.sheet, f.title, f.row_header, f.county_row_header, tuple(columns))


def layouts_folder() -> Path:
    return config.resource("returns")


@lru_cache(maxsize=4)
def _load(folder: str) -> tuple[ReturnSettings, tuple[TableLayout, ...]]:
    path = Path(folder)
    raw = load(ReturnsFile, path / "returns.json")
    settings = ReturnSettings(raw.name, raw.file_name, raw.subtitle, tuple(raw.info_line), tuple(raw.footer_line),
                              raw.total_label, raw.county_total_label, raw.charts_in_pdf)
    tables = []
    for file in sorted(path.glob("*.json")):
        if file.name in ("returns.json", "figures.json"):
            continue
        tables.append(parse_layout(read_json(file, LayoutFile), source_name(file)))
    return settings, tuple(sorted(tables, key=lambda t: (t.order, t.key)))


def load_layouts(folder: Path | None = None) -> tuple[ReturnSettings, tuple[TableLayout, ...]]:
    """The return's settings and its tables in order (read from resources/returns/)."""
    return _load(str(folder or layouts_folder()))


# ----- computing ----------------------------------------------------------------
@dataclass(frozen=True)
class ReturnRow:
    label: str
    code: str
    values: tuple[CellValue, ...]
    is_total: bool = False


@dataclass(frozen=True)
class ReturnTable:
    layout: TableLayout
    title: str
    row_header: str
    rows: tuple[ReturnRow, ...]  # units, then the total

    @property
    def body(self) -> tuple[ReturnRow, ...]:
        return tuple(r for r in self.rows if not r.is_total)

    @property
    def total(self) -> ReturnRow:
        return self.rows[-1]


@dataclass(frozen=True)
class QuarterlyReturn:
    period: Period
    mode: str  # township | county
    unit_name: str
    unit_code: str
    settings: ReturnSettings
    tables: tuple[ReturnTable, ...]
    missing_figures: tuple[str, ...]
    filled_on: dt.date
    filler: str = ""
    phone: str = ""

    def table(self, key: str) -> ReturnTable:
        return next(t for t in self.tables if t.layout.key == key)

    def placeholders(self) -> dict[str, str]:
        return {"unit": self.unit_name, "year": str(self.period.year), "quarter": str(self.period.quarter),
                "period": self.period.text, "end": f"{self.period.end.year}年{self.period.end.month}月"
                f"{self.period.end.day}日", "date": f"{self.filled_on.year}年{self.filled_on.month}月"
                f"{self.filled_on.day}日", "filler": self.filler or "　" * 6, "phone": self.phone or "　" * 8}

    def file_name(self) -> str:
        return self.settings.file_name.format(**self.placeholders())


def _quantize(value: Decimal, fmt: str) -> Decimal:
    quantum = _QUANTA.get(fmt)
    return value.quantize(quantum, rounding=ROUND_HALF_UP) if quantum else value


def aggregate(column: Column, values: dict[str, dict[int, FigureValue]], village_ids: Sequence[int],
              single: bool) -> CellValue:
    """One cell: the column's figure over ``village_ids`` (one village's own value when ``single``)."""
    if column.ratio:
        num = sum((as_number(values[column.ratio[0]].get(v)) for v in village_ids), Decimal(0))
        den = sum((as_number(values[column.ratio[1]].get(v)) for v in village_ids), Decimal(0))
        return _quantize(num / den if den else Decimal(0), column.fmt)
    assert column.figure is not None
    found = [values[column.figure].get(v) for v in village_ids]
    if column.fmt == "text" or column.total in ("none", "count"):
        if single:
            first = found[0] if found else None
            return "" if first is None else str(first)
        if column.total == "count":
            return sum(1 for x in found if x == column.count_value)
        return ""
    if column.total in ("max", "min"):
        present = [as_number(x) for x in found if x is not None and not isinstance(x, str)]
        if not present:
            return None
        picked = max(present) if column.total == "max" else min(present)
    elif found and all(x is None for x in found):
        return None  # nothing to add up (e.g. grades before the year ends): "—", not 0
    else:
        picked = sum((as_number(x) for x in found), Decimal(0))
    if column.fmt == "yuan":
        return _quantize(picked / 100, "yuan")
    if column.fmt == "int":
        return int(picked)
    return _quantize(picked, column.fmt)


def build_return(session: Session, figures: FigureRegistry, units: UnitSource, period: Period, *,
                 filled_on: dt.date | None = None, filler: str = "", phone: str = "",
                 layouts: tuple[ReturnSettings, tuple[TableLayout, ...]] | None = None,
                 progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> QuarterlyReturn:
    """Compute every table of the return in one read session (one consistent snapshot)."""
    settings, tables = layouts or load_layouts()
    reporter = Reporter(progress, cancel)
    mode, root_name, root_code = units.root(session)
    unit_rows: list[Unit] = units.units(session)
    village_ids = [u.id for u in unit_rows]
    keys = list(dict.fromkeys(k for t in tables for k in t.figure_keys))
    values: dict[str, dict[int, FigureValue]] = {}
    missing: list[str] = []
    for done, key in enumerate(keys):
        reporter.step(done, len(keys) + len(tables), f"正在计算：{figures.label(key)}")
        got, lacking = figures.compute(session, [key], period, village_ids)
        values.update(got)
        if lacking:
            missing += lacking
            values[key] = dict.fromkeys(village_ids, 0)
    if mode == "county":
        groups: dict[int, tuple[str, str, list[int]]] = {}
        for u in unit_rows:
            groups.setdefault(u.township_id, (u.township_name, u.township_code, []))[2].append(u.id)
        row_units = [(name, code, ids, False) for name, code, ids in groups.values()]
        total_label = settings.county_total_label
    else:
        row_units = [(u.name, u.code, [u.id], True) for u in unit_rows]
        total_label = settings.total_label
    built = []
    for number, layout in enumerate(tables):
        reporter.step(len(keys) + number, len(keys) + len(tables), f"正在汇总：{layout.sheet}")
        rows = [ReturnRow(name, code, tuple(aggregate(c, values, ids, single) for c in layout.columns))
                for name, code, ids, single in row_units]
        rows.append(ReturnRow(total_label, "", tuple(aggregate(c, values, village_ids, False)
                                                     for c in layout.columns), True))
        built.append(ReturnTable(layout, "", layout.county_row_header if mode == "county" else layout.row_header,
                                 tuple(rows)))
    result = QuarterlyReturn(period, mode, root_name, root_code, settings, (), tuple(missing),
                             filled_on or dt.date.today(), filler, phone)
    fields = result.placeholders()
    titled = tuple(ReturnTable(t.layout, t.layout.title.format(**fields), t.row_header, t.rows) for t in built)
    reporter.step(len(keys) + len(tables), len(keys) + len(tables), "计算完成")
    return QuarterlyReturn(period, mode, root_name, root_code, settings, titled, tuple(missing),
                           result.filled_on, filler, phone)


def display(column: Column, value: CellValue) -> str:
    """How a cell reads on screen and on paper."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if column.fmt == "percent":
        return f"{(Decimal(value) * 100).quantize(Decimal('0.01'))}%"
    if column.fmt == "yuan":
        return f"{Decimal(value):,.2f}"
    return str(value)


def texts(ret: QuarterlyReturn) -> list[str]:
    """Every string the return prints (for the glyph check)."""
    fields = ret.placeholders()
    out = [ret.settings.subtitle.format(**fields)]
    out += [x.format(**fields) for x in (*ret.settings.info_line, *ret.settings.footer_line)]
    for table in ret.tables:
        out += [table.title, table.row_header, table.layout.sheet]
        out += [c.header for c in table.layout.columns] + [c.group or "" for c in table.layout.columns]
        for row in table.rows:
            out += [row.label] + [display(c, v) for c, v in zip(table.layout.columns, row.values, strict=True)]
    return out


# ----- xlsx ---------------------------------------------------------------------
def write_return_xlsx(ret: QuarterlyReturn, out: Path | str, *, cancel: CancelFn | None = None) -> Path:
    """The workbook, one sheet per table, written to a temp file, read back, then renamed into place."""
    out = Path(out)
    with atomic_output(out, verify=xlsx_verifier(ret)) as tmp:
        save_xlsx(ret, tmp, cancel=cancel)
    return out


def xlsx_verifier(ret: QuarterlyReturn) -> Callable[[Path], None]:
    """Reads the written workbook back (python-calamine) before it may take the final name."""
    expected = [t.layout.sheet for t in ret.tables]

    def verify(tmp: Path) -> None:
        from python_calamine import CalamineWorkbook

        try:
            names = CalamineWorkbook.from_path(str(tmp)).sheet_names
        except Exception:  # any reader failure means the file is not good
            raise DomainError("生成的报表文件无法读回，未保存") from None
        if names != expected:
            raise DomainError("生成的报表文件内容不完整，未保存")
    return verify


def save_xlsx(ret: QuarterlyReturn, path: Path, *, cancel: CancelFn | None = None) -> None:
    """Build the workbook into ``path`` (callers wrap it in an atomic output)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from townapp.exchange.writer import fit_columns

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    fields = ret.placeholders()
    reporter = Reporter(None, cancel)
    book = Workbook()
    book.remove(book.active)
    for table in ret.tables:
        reporter.step(0, 0)
        sheet = book.create_sheet(table.layout.sheet)
        columns = table.layout.columns
        width = len(columns) + 1
        last = get_column_letter(width)

        def merged(row: int, first: int, last_col: int, value: str, *, font: Font | None = None,
                   align: Alignment = centre, sheet=sheet) -> None:  # noqa: ANN001
            cell = sheet.cell(row=row, column=first, value=value)
            cell.data_type = "s"
            cell.alignment = align
            if font:
                cell.font = font
            if last_col > first:
                sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last_col)

        merged(1, 1, width, table.title, font=Font(size=16, bold=True))
        sheet.row_dimensions[1].height = 30
        merged(2, 1, width, ret.settings.subtitle.format(**fields))
        half = max(1, width // 2)
        left, right = (ret.settings.info_line + ("", ""))[:2]
        merged(3, 1, half, left.format(**fields), align=Alignment(horizontal="left", vertical="center"))
        merged(3, half + 1, width, right.format(**fields), align=Alignment(horizontal="right", vertical="center"))
        head = Font(bold=True)
        fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.cell(row=4, column=1, value=table.row_header)
        sheet.merge_cells(start_row=4, start_column=1, end_row=5, end_column=1)
        col = 2
        for group, span in table.layout.header_groups():
            if group is None:
                sheet.cell(row=4, column=col, value=columns[col - 2].header)
                sheet.merge_cells(start_row=4, start_column=col, end_row=5, end_column=col)
            else:
                sheet.cell(row=4, column=col, value=group)
                if span > 1:
                    sheet.merge_cells(start_row=4, start_column=col, end_row=4, end_column=col + span - 1)
                for offset in range(span):
                    sheet.cell(row=5, column=col + offset, value=columns[col - 2 + offset].header)
            col += span
        for r in (4, 5):
            sheet.row_dimensions[r].height = 32
            for c in range(1, width + 1):
                cell = sheet.cell(row=r, column=c)
                cell.font, cell.fill, cell.alignment, cell.border = head, fill, centre, border
        row_no = 6
        for row in table.rows:
            label = sheet.cell(row=row_no, column=1, value=row.label)
            label.data_type = "s"
            label.border = border
            label.alignment = Alignment(horizontal="center" if row.is_total else "left", vertical="center")
            for offset, (column, value) in enumerate(zip(columns, row.values, strict=True)):
                cell = sheet.cell(row=row_no, column=offset + 2)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever a name starts with
                    cell.alignment = Alignment(horizontal="center", vertical="center")
                else:
                    cell.number_format = NUMBER_FORMATS.get(column.fmt, "General")
                    cell.alignment = Alignment(horizontal="right", vertical="center")
                cell.border = border
            if row.is_total:
                for c in range(1, width + 1):
                    sheet.cell(row=row_no, column=c).font = Font(bold=True)
            row_no += 1
        foot = "　　　　".join(x.format(**fields) for x in ret.settings.footer_line)
        merged(row_no + 1, 1, width, foot, align=Alignment(horizontal="left", vertical="center"))
        # as wide as each column's longest figure as shown (money with separators); headers wrap in their rows
        fit_columns(sheet, floors={1: 12, **dict.fromkeys(range(2, width + 1), 8)})
        sheet.freeze_panes = "B6"
        sheet.print_title_rows = "4:5"
        sheet.print_area = f"A1:{last}{row_no + 1}"
        setup = sheet.page_setup
        setup.paperSize = sheet.PAPERSIZE_A4
        setup.orientation = "landscape"
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_options.horizontalCentered = True
        sheet.page_margins.left = sheet.page_margins.right = 0.4
    book.save(path)


# ----- PDF ----------------------------------------------------------------------
@dataclass(frozen=True)
class ChartImage:
    caption: str
    png: bytes


def write_return_pdf(ret: QuarterlyReturn, out: Path | str, charts: Sequence[ChartImage] = (), *,
                     cancel: CancelFn | None = None) -> Path:
    """Each table on its own A4 landscape page (header rows repeated), then the charts."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
    )

    pdf.require_glyphs(texts(ret))
    font = pdf.register_cjk_font()
    reporter = Reporter(None, cancel)
    fields = ret.placeholders()
    pagesize = landscape(A4)
    margin = 12 * mm
    usable = pagesize[0] - 2 * margin

    def style(name: str, size: float, align: int = TA_LEFT) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.35, alignment=align)

    title_st, sub_st = style("t", 16, TA_CENTER), style("s", 10, TA_CENTER)
    info_l, info_r = style("il", 9.5), style("ir", 9.5, TA_RIGHT)
    head_st, cell_st, num_st = style("h", 8, TA_CENTER), style("c", 8.5), style("n", 8.5, TA_RIGHT)
    centre_st = style("cc", 8.5, TA_CENTER)

    def p(text: str, st: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text), st)

    story: list = []
    for index, table in enumerate(ret.tables):
        reporter.step(index, len(ret.tables))
        columns = table.layout.columns
        # every figure on one line (a sum of money never wraps); the room left is shared equally
        padding = 4 + 2  # the cell's padding, and a little air
        needs = [max(max(pdf.text_width(row.label, 8.5) for row in table.rows) + padding, 20 * mm)]
        needs += [max(pdf.text_width(display(column, row.values[k]), 8.5) for row in table.rows) + padding
                  for k, column in enumerate(columns)]
        widths = pdf.fitted_widths(usable, needs)
        row4: list = [p(table.row_header, head_st)]
        row5: list = [""]
        spans: list[tuple] = [("SPAN", (0, 0), (0, 1))]
        col = 1
        for group, span in table.layout.header_groups():
            if group is None:
                row4.append(p(columns[col - 1].header, head_st))
                row5.append("")
                spans.append(("SPAN", (col, 0), (col, 1)))
            else:
                row4 += [p(group, head_st)] + [""] * (span - 1)
                row5 += [p(columns[col - 1 + k].header, head_st) for k in range(span)]
                if span > 1:
                    spans.append(("SPAN", (col, 0), (col + span - 1, 0)))
            col += span
        data = [row4, row5]
        for row in table.rows:
            cells = [p(row.label, centre_st if row.is_total else cell_st)]
            for column, value in zip(columns, row.values, strict=True):
                cells.append(p(display(column, value), centre_st if isinstance(value, str) else num_st))
            data.append(cells)
        grid = Table(data, colWidths=widths, repeatRows=2)
        grid.setStyle(pdf.cjk_table_style([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#DDEBF7")),
            ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F2F2F2")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            *spans,
        ]))
        left, right = (ret.settings.info_line + ("", ""))[:2]
        info = Table([[p(left.format(**fields), info_l), p(right.format(**fields), info_r)]],
                     colWidths=[usable / 2, usable / 2])
        info.setStyle(pdf.cjk_table_style([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        foot = "　　　　".join(x.format(**fields) for x in ret.settings.footer_line)
        if index:
            story.append(PageBreak())
        story += [p(table.title, title_st), Spacer(1, 1 * mm), p(ret.settings.subtitle.format(**fields), sub_st),
                  Spacer(1, 3 * mm), info, Spacer(1, 2 * mm), grid, Spacer(1, 4 * mm), p(foot, info_l)]
    if charts and ret.settings.charts_in_pdf:
        story.append(PageBreak())
        story.append(p(f"{ret.unit_name}{ret.period.text}图表", title_st))
        half = (usable - 6 * mm) / 2
        cells: list[list] = []
        for start in range(0, len(charts), 2):
            pair = list(charts[start:start + 2])
            images = []
            for chart in pair:
                pdf.require_glyphs([chart.caption])
                image = Image(io.BytesIO(chart.png))
                scale = half / image.imageWidth
                image.drawWidth, image.drawHeight = half, image.imageHeight * scale
                images.append(image)
            cells.append(images + [""] * (2 - len(images)))
            cells.append([p(c.caption, sub_st) for c in pair] + [""] * (2 - len(pair)))
        board = Table(cells, colWidths=[half + 3 * mm, half + 3 * mm])
        board.setStyle(pdf.cjk_table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER")]))
        story += [Spacer(1, 3 * mm), board]

    def decorate(canvas, document) -> None:  # noqa: ANN001 (reportlab callback)
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(margin, 7 * mm, f"{ret.unit_name}　{ret.settings.name}（{ret.period.text}）")
        canvas.drawRightString(pagesize[0] - margin, 7 * mm, f"第 {document.page} 页")
        canvas.restoreState()

    def build(tmp: Path) -> None:
        template = SimpleDocTemplate(str(tmp), pagesize=pagesize, leftMargin=margin, rightMargin=margin,
                                     topMargin=margin, bottomMargin=margin + 2 * mm,
                                     title=ret.file_name(), author="townapp", creator="townapp",
                                     initialFontName=font, initialFontSize=9)
        template.build(story, onFirstPage=decorate, onLaterPages=decorate)

    return pdf.write_pdf(out, build)
