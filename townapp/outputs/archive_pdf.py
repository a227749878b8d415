"""Table documents in PDF: the 一村一档 archive (cover, one table per part, a chart) and single-table forms.

Modules hand in plain data (``TableDocument``): this package never imports
a module. Every cell is a wrapping Paragraph in the bundled CJK font, so long
text wraps inside its cell instead of running over the border.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)

from townapp.outputs.pdf import (
    cjk_table_style,
    fitted_widths,
    register_cjk_font,
    require_glyphs,
    text_width,
    write_pdf,
)


@dataclass
class TableSection:
    """A heading, then a table (``columns`` × ``rows`` of text) or key/value pairs, then a note."""

    heading: str
    columns: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    widths: Sequence[float] = ()  # relative column widths; equal when empty
    numeric: Sequence[bool] = ()  # right-aligned columns
    note: str = ""
    empty_text: str = "（无记录）"
    row_height: float | None = None  # e.g. room for a signature


@dataclass
class TableDocument:
    title: str
    cover_lines: Sequence[tuple[str, str]] = ()  # (label, value) on the cover page; no cover when empty
    subtitle: str = ""
    sections: list[TableSection] = field(default_factory=list)
    chart_png: bytes | None = None
    chart_caption: str = ""
    footer: str = ""
    landscape: bool = False
    signature_lines: Sequence[str] = ()  # 制表人：____ 审核人：____ under the last table

    def texts(self) -> list[str]:
        """Every string that will be printed (for the glyph check)."""
        out = [self.title, self.subtitle, self.chart_caption, self.footer, *self.signature_lines]
        for label, value in self.cover_lines:
            out += [label, value]
        for section in self.sections:
            out += [section.heading, section.note, section.empty_text, *section.columns]
            for row in section.rows:
                out += [str(c) for c in row]
        return out


def _styles(font: str) -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=26, leading=36, alignment=TA_CENTER),
        "doc_title": ParagraphStyle("doc_title", fontName=font, fontSize=16, leading=22, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", fontName=font, fontSize=11, leading=16, alignment=TA_CENTER),
        "cover": ParagraphStyle("cover", fontName=font, fontSize=14, leading=24),
        "heading": ParagraphStyle("heading", fontName=font, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=9, leading=12),
        "cell_right": ParagraphStyle("cell_right", fontName=font, fontSize=9, leading=12, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", fontName=font, fontSize=9, leading=12, alignment=TA_CENTER),
        "note": ParagraphStyle("note", fontName=font, fontSize=8.5, leading=12, textColor=colors.HexColor("#444444")),
        "footer": ParagraphStyle("footer", fontName=font, fontSize=8, leading=10),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _cell_text(row: Sequence[object], index: int) -> str:
    value = row[index] if index < len(row) else None
    return "" if value is None else str(value)


def _table(section: TableSection, width: float, st: dict[str, ParagraphStyle]) -> list:
    flow: list = [_p(section.heading, st["heading"])]
    if not section.rows:
        flow.append(_p(section.empty_text, st["note"]))
    else:
        count = len(section.columns)
        numeric = list(section.numeric) + [False] * count
        # a figure never wraps: its column is at least as wide as its widest figure; the rest go by weight
        needs = [max(text_width(_cell_text(row, i), 9) for row in section.rows) + 8 if numeric[i] else 0.0
                 for i in range(count)]
        widths = fitted_widths(width, needs, list(section.widths) or None)
        data = [[_p(c, st["head"]) for c in section.columns]]
        for row in section.rows:
            data.append([_p(v, st["cell_right"] if numeric[i] else st["cell"]) for i, v in enumerate(row)])
        heights = None
        if section.row_height:
            heights = [None] + [section.row_height] * len(section.rows)
        table = Table(data, colWidths=widths, rowHeights=heights, repeatRows=1)
        table.setStyle(cjk_table_style([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#555555")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        flow.append(table)
    if section.note:
        flow += [Spacer(1, 2 * mm), _p(section.note, st["note"])]
    return flow


def write_table_pdf(doc: TableDocument, out: Path | str) -> Path:
    """Write ``doc`` as an A4 PDF (portrait or landscape) with the font embedded; glyphs are checked first."""
    require_glyphs(doc.texts())
    font = register_cjk_font()
    st = _styles(font)
    pagesize = landscape(A4) if doc.landscape else A4
    margin = 15 * mm
    width = pagesize[0] - 2 * margin
    story: list = []
    if doc.cover_lines:
        story += [Spacer(1, 60 * mm), _p(doc.title, st["title"]), Spacer(1, 8 * mm)]
        if doc.subtitle:
            story += [_p(doc.subtitle, st["subtitle"]), Spacer(1, 30 * mm)]
        cover = Table([[_p(label, st["cover"]), _p(value, st["cover"])] for label, value in doc.cover_lines],
                      colWidths=[45 * mm, 90 * mm])
        cover.setStyle(cjk_table_style([("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black),
                                        ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        story += [cover, PageBreak()]
    else:
        story += [_p(doc.title, st["doc_title"])]
        if doc.subtitle:
            story += [Spacer(1, 2 * mm), _p(doc.subtitle, st["subtitle"])]
        story.append(Spacer(1, 4 * mm))
    for section in doc.sections:
        story += _table(section, width, st)
        story.append(Spacer(1, 3 * mm))
    if doc.chart_png:
        image = Image(io.BytesIO(doc.chart_png))
        scale = width / image.imageWidth
        image.drawWidth, image.drawHeight = width, image.imageHeight * scale
        story.append(KeepTogether([_p(doc.chart_caption or "图表", st["heading"]), image]))
    if doc.signature_lines:
        story += [Spacer(1, 8 * mm), _p("　　　　".join(doc.signature_lines), st["cover"])]

    def decorate(canvas, document) -> None:  # noqa: ANN001 (reportlab callback)
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(margin, 8 * mm, doc.footer)
        canvas.drawRightString(pagesize[0] - margin, 8 * mm, f"第 {document.page} 页")
        canvas.restoreState()

    def build(tmp: Path) -> None:
        template = SimpleDocTemplate(str(tmp), pagesize=pagesize, leftMargin=margin, rightMargin=margin,
                                     topMargin=margin, bottomMargin=margin + 4 * mm, title=doc.title,
                                     author="townapp", creator="townapp", initialFontName=font,
                                     initialFontSize=9)  # no stray Helvetica in any page
        template.build(story, onFirstPage=decorate, onLaterPages=decorate)

    return write_pdf(out, build)
