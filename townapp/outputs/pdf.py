"""PDF basics every printed output shares: the bundled CJK font, glyph coverage, atomic writing.

The font (resources/fonts/wqy-microhei.ttc, WenQuanYi Micro Hei) is
registered explicitly and embedded as a subset; reportlab's built-in
STSong-Light is never used because it is not embedded and prints as boxes on
machines without CJK fonts, nor is its default Helvetica (canvases start in
the bundled font, tables take ``cjk_table_style``): every font a PDF names is
inside it. Text the font cannot draw is refused, naming the
characters, before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from townapp import config
from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError

FONT_NAME = "WQYMicroHei"
FONT_FILE = ("fonts", "wqy-microhei.ttc")
_IGNORED = set("\n\r\t")


def font_path() -> Path:
    return config.resource(*FONT_FILE)


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the bundled font with reportlab (once); returns its name for styles.

    It also becomes every canvas's initial font: a canvas otherwise starts in
    Helvetica and names it on every page, a font the PDF does not carry.
    """
    path = font_path()
    if not path.is_file():
        raise DomainError(f"缺少内置中文字体文件：{path}，无法生成PDF。请重新安装程序。")
    font = TTFont(FONT_NAME, str(path), subfontIndex=0)
    pdfmetrics.registerFont(font)
    rl_config.canvas_basefontname = FONT_NAME
    return FONT_NAME


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    register_cjk_font()
    font = pdfmetrics.getFont(FONT_NAME)
    return frozenset(font.face.charToGlyph)


@lru_cache(maxsize=1)
def _printable() -> frozenset[str]:
    """The characters that print: a whole text is checked against it in one set operation."""
    return frozenset(map(chr, _covered())) | _IGNORED


def missing_glyphs(texts: Iterable[str]) -> list[str]:
    """Characters in ``texts`` the bundled font has no glyph for, in first-seen order."""
    covered, printable = _covered(), _printable()
    missing: dict[str, None] = {}
    for text in texts:
        if not text or printable.issuperset(text):
            continue
        for char in text:
            if char not in _IGNORED and ord(char) not in covered:
                missing.setdefault(char, None)
    return list(missing)


def require_glyphs(texts: Iterable[str]) -> None:
    """Refuse text that would print as boxes; the message names the characters (生僻字 in names, emoji …)."""
    missing = missing_glyphs(texts)
    if missing:
        shown = "、".join(f"“{c}”(U+{ord(c):04X})" for c in missing[:10])
        more = f"等{len(missing)}个字符" if len(missing) > 10 else ""
        raise DomainError(f"内置字体中没有这些字符的字形，打印出来会是方框，已停止生成PDF：{shown}{more}。"
                          "请把它们改为常用写法（如生僻字可改用同音字并在备注中说明）后再试。")


def cjk_table_style(commands: Sequence[tuple[Any, ...]] = ()) -> Any:
    """A reportlab ``TableStyle`` whose every cell is in the bundled font, then ``commands``.

    A Table sets its own default font (Helvetica, which is never embedded) before
    drawing any cell, even one holding only a Paragraph, an image or nothing, so a
    table without this line puts a non-embedded font into the PDF.
    """
    from reportlab.platypus import TableStyle

    return TableStyle([("FONTNAME", (0, 0), (-1, -1), register_cjk_font()), *commands])


def text_width(text: str, size: float) -> float:
    """How wide ``text`` prints in the bundled font at ``size`` points (its widest line)."""
    font = register_cjk_font()
    return max(pdfmetrics.stringWidth(line, font, size) for line in text.split("\n"))


def fitted_widths(total: float, needs: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """Column widths adding up to ``total``: each at least what it ``needs`` (a figure that must not wrap),
    what is left shared by ``weights`` (equally when none) among the columns that need less.

    When the needs alone exceed ``total`` they are shrunk together (the widest figures then wrap).
    """
    count = len(needs)
    weights = list(weights) if weights else [1.0] * count
    if sum(needs) >= total:
        return [total * need / sum(needs) for need in needs]
    fixed: set[int] = set()
    while True:
        free = total - sum(needs[i] for i in fixed)
        share = sum(weights[i] for i in range(count) if i not in fixed) or 1.0
        widths = [needs[i] if i in fixed else free * weights[i] / share for i in range(count)]
        short = {i for i in range(count) if i not in fixed and widths[i] < needs[i]}
        if not short:
            return widths
        fixed |= short


def _verify_pdf(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(5)
        handle.seek(max(0, path.stat().st_size - 1024))
        tail = handle.read()
    if head != b"%PDF-" or b"%%EOF" not in tail:
        raise DomainError("生成的PDF文件不完整，未保存")


def write_pdf(out: Path | str, build: Callable[[Path], None]) -> Path:
    """Build a PDF into a temporary file beside ``out``, check it, then rename it into place."""
    out = Path(out)
    with atomic_output(out, verify=_verify_pdf) as tmp:
        build(tmp)
    return out
