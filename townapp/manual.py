"""The user manual: chapters in resources/manual/, shown in the help window and printed as a PDF.

Each chapter is a small Markdown file (``NN-slug.md``, first line ``# 标题``) written for township
staff. A chapter whose title is a navigation page's title is that page's chapter: F1 on the page
opens it, and its screenshot is ``images/<slug>.png`` — taken from the real window by
tests/ui/test_manual_story.py, which also copies it to docs/screenshots/, so the pictures never show
a screen that no longer exists. The Markdown is a small subset (headings, paragraphs, lists,
quotes, pictures, **bold**), parsed here once into blocks that become HTML for Qt's QTextBrowser and
flowables for reportlab, so both read the same.

``python -m townapp.manual 用户手册.pdf`` writes the PDF (the build puts it next to the program).
Qt-free: the PDF can be built where no display exists.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from townapp import APP_TITLE, config, version

MANUAL_DIR = ("manual",)
IMAGES = "images"
PDF_NAME = "用户手册.pdf"
_CHAPTER_FILE = re.compile(r"^\d\d-([a-z0-9_]+)\.md$")
_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]+)\)$")
_NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")  # a command or folder to type: shown as it is, without the backticks


@dataclass(frozen=True)
class Block:
    """One piece of a chapter: ``kind`` is h2, h3, p, quote, ul, ol or image."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chapter:
    slug: str
    title: str
    blocks: tuple[Block, ...] = field(default=())

    @property
    def screenshot(self) -> str:
        """The file name of this chapter's screenshot under images/ (pages' chapters have one)."""
        return f"{self.slug}.png"


def manual_dir() -> Path:
    return config.resource(*MANUAL_DIR)


def parse_chapter(slug: str, text: str) -> Chapter:
    """A chapter file's Markdown subset, as blocks; the first ``# `` line is its title."""
    title = ""
    blocks: list[Block] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_kind = ""

    def flush() -> None:
        nonlocal list_kind
        if paragraph:
            quote = all(line.startswith(">") for line in paragraph)
            joined = "".join(line.lstrip("> ").strip() if quote else line.strip() for line in paragraph)
            blocks.append(Block("quote" if quote else "p", joined))
            paragraph.clear()
        if items:
            blocks.append(Block(list_kind, items=tuple(items)))
            items.clear()
            list_kind = ""

    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        numbered = _NUMBERED.match(stripped)
        image = _IMAGE.match(stripped)
        if stripped.startswith("# ") and not title:
            flush()
            title = stripped[2:].strip()
        elif stripped.startswith("### "):
            flush()
            blocks.append(Block("h3", stripped[4:].strip()))
        elif stripped.startswith("## "):
            flush()
            blocks.append(Block("h2", stripped[3:].strip()))
        elif image:
            flush()
            blocks.append(Block("image", image.group(1), (image.group(2),)))
        elif stripped.startswith("- ") or numbered:
            kind = "ol" if numbered else "ul"
            if paragraph or (items and list_kind != kind):
                flush()
            list_kind = kind
            items.append(numbered.group(2) if numbered else stripped[2:].strip())
        elif items and line.startswith("  "):  # a list item continued on the next line
            items[-1] += stripped
        else:
            if items:
                flush()
            paragraph.append(stripped)
    flush()
    return Chapter(slug, title or slug, tuple(blocks))


@lru_cache(maxsize=4)
def _load(folder: Path) -> tuple[Chapter, ...]:
    chapters = []
    for path in sorted(folder.glob("*.md")):
        match = _CHAPTER_FILE.match(path.name)
        if match:
            chapters.append(parse_chapter(match.group(1), path.read_text(encoding="utf-8")))
    return tuple(chapters)


def chapters(folder: Path | None = None) -> tuple[Chapter, ...]:
    """Every chapter, in file-name order (the order of the contents list)."""
    return _load(folder or manual_dir())


def chapter_for(title: str, folder: Path | None = None) -> Chapter | None:
    """The chapter of the navigation page called ``title`` (None when the manual has none)."""
    return next((chapter for chapter in chapters(folder) if chapter.title == title), None)


# ---- HTML for the help window -------------------------------------------------------------------

def _inline_html(text: str) -> str:
    """**bold** and `typed text` of one line, as HTML (the PDF's Paragraph reads the same markup)."""
    return _CODE.sub(r"<font color='#1f4e79'>\1</font>", _BOLD.sub(r"<b>\1</b>", html.escape(text, quote=False)))


def chapter_html(chapter: Chapter, image_width: int = 640) -> str:
    """The chapter as HTML; pictures by relative path (the help window searches the manual folder)."""
    parts = [f"<h1>{html.escape(chapter.title)}</h1>"]
    for block in chapter.blocks:
        if block.kind in ("h2", "h3"):
            parts.append(f"<{block.kind}>{_inline_html(block.text)}</{block.kind}>")
        elif block.kind == "p":
            parts.append(f"<p>{_inline_html(block.text)}</p>")
        elif block.kind == "quote":
            parts.append("<table width='100%' cellpadding='8' style='background:#fff8e1'><tr><td>"
                         f"{_inline_html(block.text)}</td></tr></table>")
        elif block.kind in ("ul", "ol"):
            items = "".join(f"<li>{_inline_html(item)}</li>" for item in block.items)
            parts.append(f"<{block.kind}>{items}</{block.kind}>")
        elif block.kind == "image":
            parts.append(f"<p align='center'><img src='{html.escape(block.items[0])}' width='{image_width}'><br>"
                         f"<span style='color:#555'>{html.escape(block.text)}</span></p>")
    return "\n".join(parts)


# ---- PDF ----------------------------------------------------------------------------------------

def all_text(chapter_list: Sequence[Chapter]) -> list[str]:
    """Every string the PDF prints (checked against the bundled font before anything is written)."""
    texts = [APP_TITLE, "用户手册", "目录", f"版本 {version()}"]
    for chapter in chapter_list:
        texts.append(chapter.title)
        for block in chapter.blocks:
            texts.append(block.text)
            if block.kind != "image":
                texts.extend(block.items)
    return texts


def write_manual_pdf(out: Path | str, folder: Path | None = None) -> Path:
    """The whole manual as one A4 PDF in the bundled (embedded) CJK font, pictures included."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from townapp.outputs.pdf import register_cjk_font, require_glyphs, write_pdf

    folder = folder or manual_dir()
    chapter_list = chapters(folder)
    require_glyphs(all_text(chapter_list))
    font = register_cjk_font()
    base = {"fontName": font, "wordWrap": "CJK"}
    styles = {
        "cover": ParagraphStyle("cover", fontSize=24, leading=34, alignment=1, **base),
        "subtitle": ParagraphStyle("subtitle", fontSize=13, leading=20, alignment=1, **base),
        "h1": ParagraphStyle("h1", fontSize=18, leading=26, spaceAfter=8, textColor=colors.HexColor("#1f4e79"),
                             **base),
        "h2": ParagraphStyle("h2", fontSize=14, leading=20, spaceBefore=10, spaceAfter=4, **base),
        "h3": ParagraphStyle("h3", fontSize=12, leading=18, spaceBefore=6, spaceAfter=2, **base),
        "p": ParagraphStyle("p", fontSize=10.5, leading=17, spaceAfter=5, **base),
        "toc": ParagraphStyle("toc", fontSize=11, leading=20, **base),
        "caption": ParagraphStyle("caption", fontSize=9, leading=13, alignment=1, textColor=colors.grey, **base),
    }
    width = A4[0] - 40 * mm

    story: list = [Spacer(1, 60 * mm), Paragraph(APP_TITLE, styles["cover"]), Spacer(1, 8 * mm),
                   Paragraph("用户手册", styles["cover"]), Spacer(1, 10 * mm),
                   Paragraph(f"版本 {version()}", styles["subtitle"]), PageBreak(),
                   Paragraph("目录", styles["h1"])]
    story += [Paragraph(f"{number}．{html.escape(chapter.title)}", styles["toc"])
              for number, chapter in enumerate(chapter_list, 1)]
    for number, chapter in enumerate(chapter_list, 1):
        story += [PageBreak(), Paragraph(f"{number}．{html.escape(chapter.title)}", styles["h1"])]
        for block in chapter.blocks:
            if block.kind in ("h2", "h3", "p"):
                story.append(Paragraph(_inline_html(block.text), styles[block.kind]))
            elif block.kind == "quote":
                box = Table([[Paragraph(_inline_html(block.text), styles["p"])]], colWidths=[width])
                box.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font),  # else the table's Helvetica
                                         ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff8e1")),
                                         ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#e0c070"))]))
                story += [box, Spacer(1, 4)]
            elif block.kind in ("ul", "ol"):
                story.append(ListFlowable(
                    [ListItem(Paragraph(_inline_html(item), styles["p"])) for item in block.items],
                    bulletType="1" if block.kind == "ol" else "bullet", bulletFontName=font,
                    bulletFontSize=10, leftIndent=14, start=1 if block.kind == "ol" else "•"))
            elif block.kind == "image":
                picture = folder / block.items[0]
                if picture.is_file():
                    image = Image(str(picture))
                    scale = min(1.0, width / image.imageWidth)
                    image.drawWidth, image.drawHeight = image.imageWidth * scale, image.imageHeight * scale
                    story.append(KeepTogether([image, Paragraph(html.escape(block.text), styles["caption"])]))

    def footer(canvas, doc) -> None:  # noqa: ANN001
        canvas.saveState()
        canvas.setFont(font, 9)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{APP_TITLE} 用户手册　第 {doc.page} 页")
        canvas.restoreState()

    def build(tmp: Path) -> None:
        doc = SimpleDocTemplate(str(tmp), pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                                topMargin=18 * mm, bottomMargin=18 * mm, title=f"{APP_TITLE} 用户手册",
                                author=APP_TITLE, initialFontName=font, initialFontSize=10)  # no stray Helvetica
        doc.build(story, onFirstPage=footer, onLaterPages=footer)

    return write_pdf(out, build)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m townapp.manual [输出文件.pdf]``: the manual as a PDF (default 用户手册.pdf here)."""
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0]) if args else Path(PDF_NAME)
    from townapp.core.errors import DomainError

    try:
        written = write_manual_pdf(out)
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return 1
    written.chmod(0o644)  # placed next to the installed program: every user of the machine reads it
    print(f"已生成用户手册：{written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
