"""Certificates (荣誉证书): layouts as data, numbers from a registry, full design or 套打 overlay.

Each kind has a layout under resources/certificates/ (page size, where each
line of text goes, sizes, the border and title of the full design). Full
design prints everything on blank paper; overlay (套打) prints only the
fields, shifted by the printer's calibrated x/y offsets, onto pre-printed
certificates — a calibration page shows where each field lands.

Every text is checked against the bundled font before anything is written;
numbers are issued in the same transaction that writes the PDF, so a
cancelled or failed batch leaves neither numbers nor a file behind. A
certificate keeps its number; printing it again is logged as 补打.

Only what is chosen goes to paper and into the registry: a batch is narrowed
by village, by name and by the ticks in the page's list (``Selection``), and
a single damaged or lost certificate is printed again alone, with the reason
logged (``reprint``). A 村录入员 prints only their village's certificates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from townapp import config
from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.dates import chinese_date
from townapp.core.errors import DomainError, PermissionDenied
from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.core.resources import load, validate
from townapp.db import Database
from townapp.outputs.layouts import CertificateLayoutFile, TextField
from townapp.outputs.models import Certificate, CertificatePrint
from townapp.outputs.pdf import missing_glyphs, register_cjk_font, require_glyphs, write_pdf

MM = 72 / 25.4
MODE_DESIGN = "完整版式"
MODE_OVERLAY = "套打"
OFFSETS_KEY = "certificate_offsets"  # settings: {printer name: [dx_mm, dy_mm]}
CN_STARS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


# ----- layouts ------------------------------------------------------------------
@dataclass(frozen=True)
class CertificateLayout:
    kind: str
    name: str
    number_prefix: str
    schemes: tuple[str, ...]
    width_mm: float
    height_mm: float
    font: str
    design: dict[str, Any]
    fields: tuple[TextField, ...]


def parse_layout(data: dict[str, Any], source: str = "证书版式") -> CertificateLayout:
    return _layout(validate(CertificateLayoutFile, data, source))


def _layout(f: CertificateLayoutFile) -> CertificateLayout:
    return CertificateLayout(f.kind, f.name, f.number_prefix, f.schemes, f.page.width_mm, f.page.height_mm, f.font,
                             f.design, f.fields)


@lru_cache(maxsize=4)
def _layouts(folder: str) -> dict[str, CertificateLayout]:
    files = sorted((load(CertificateLayoutFile, file) for file in sorted(Path(folder).glob("*.json"))),
                   key=lambda f: (f.order, f.kind))
    return {f.kind: _layout(f) for f in files}


def layouts(folder: Path | None = None) -> dict[str, CertificateLayout]:
    """Kind (CLI name) → layout, from resources/certificates/."""
    return _layouts(str(folder or config.resource("certificates")))


def layout(kind: str) -> CertificateLayout:
    found = layouts().get(kind)
    if found is None:
        raise DomainError(f"没有“{kind}”这种证书，可选：{'、'.join(layouts())}")
    return found


# ----- what is printed ----------------------------------------------------------
@dataclass(frozen=True)
class CertificateItem:
    """One recipient as a source hands it in (a module's round, month or year)."""

    subject_key: str  # stable, e.g. eval_target:12
    recipient: str
    village: str
    honour: str  # 五星 / 最美网格员 …
    period: str = ""  # e.g. 2026年5月 (grid stars)


@dataclass(frozen=True)
class CertificateBatch:
    """Everything one source gives for one kind: a finalised round, a month's selection, a year's grades."""

    kind: str
    source_key: str
    source_label: str
    year: int
    township: str
    items: tuple[CertificateItem, ...]


@dataclass(frozen=True)
class IssuedCertificate:
    id: int
    number: str
    recipient: str
    village: str
    honour: str
    issued_on: dt.date
    print_count: int  # before this print
    values: dict[str, str] = field(default_factory=dict, compare=False)


def stars_of(honour: str) -> str:
    """五星 → ★★★★★ (decoration of star titles; empty for other honours)."""
    for char, count in CN_STARS.items():
        if honour.startswith(char + "星"):
            return "★" * count
    return ""


def field_values(batch: CertificateBatch, item: CertificateItem, number: str, issued_on: dt.date) -> dict[str, str]:
    return {"recipient": item.recipient, "village": item.village, "honour": item.honour,
            "stars": stars_of(item.honour), "year": str(batch.year), "period": item.period or f"{batch.year}年",
            "township": batch.township, "date": chinese_date(issued_on), "number": number}


def _format(text: str, values: dict[str, str]) -> str:
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise DomainError(f"证书版式中的文字“{text}”含有未知的填写项：{exc}") from None


def printed_texts(lay: CertificateLayout, values: dict[str, str], overlay: bool) -> list[str]:
    out = [_format(f.text, values) for f in lay.fields]
    if not overlay:
        d = lay.design
        out += [d.get("title", {}).get("text", ""), d.get("subtitle", {}).get("text", "")]
        out += [_format(x, values) for x in d.get("issuer", {}).get("lines", [])]
    return out


# ----- drawing ------------------------------------------------------------------
@lru_cache(maxsize=64)
def _colour(hex_text: str):  # noqa: ANN202 (reportlab Color)
    """Parsed once per colour: a batch sets the same few colours on every page."""
    from reportlab.lib.colors import HexColor

    return HexColor(hex_text)


@lru_cache(maxsize=256)
def _lines(text: str, font: str, size: float, width: float, indent: int) -> tuple[str, ...]:
    """Break CJK text into lines that fit ``width`` points (first line indented by ``indent`` characters).

    Cached: a batch's body text differs only by honour and year, so it is broken once, not per page.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, current = [], "　" * indent
    for token in re.findall(r"[0-9A-Za-z.%\-]+|.", text):  # a year or a number never splits
        if stringWidth(current + token, font, size) > width and current.strip():
            if token in "，。、；：！？”）》":  # no punctuation at the start of a line
                current += token
                continue
            lines.append(current)
            current = token
        else:
            current += token
    if current.strip():
        lines.append(current)
    return tuple(lines)


def _draw_field(canvas, f: TextField, text: str, font: str, page_h: float, dx: float, dy: float) -> None:  # noqa: ANN001
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = f.size
    width = f.max_width_mm * MM if f.max_width_mm else None
    if f.wrap and width:
        lines = _lines(text, font, size, width, f.indent_chars)
        while len(lines) > f.max_lines and size > (f.min_size or size):
            size -= 0.5
            lines = _lines(text, font, size, width, f.indent_chars)
        if len(lines) > f.max_lines:
            raise DomainError(f"证书文字太长，放不下：{text}")
    else:
        while width and stringWidth(text, font, size) > width and size > (f.min_size or size):
            size -= 0.5
        if width and stringWidth(text, font, size) > width:
            raise DomainError(f"证书文字太长，放不下：{text}")
        lines = (text,)
    leading = (f.leading_mm * MM) if f.leading_mm else size * 1.5
    canvas.setFillColor(_colour(f.color))
    canvas.setFont(font, size)
    x = (f.x_mm + dx) * MM
    for number, line in enumerate(lines):
        y = page_h - (f.y_mm + dy) * MM - number * leading
        if f.align == "center":
            canvas.drawCentredString(x, y, line)
        elif f.align == "right":
            canvas.drawRightString(x, y, line)
        else:
            canvas.drawString(x, y, line)


def _draw_design(canvas, lay: CertificateLayout, values: dict[str, str], font: str) -> None:  # noqa: ANN001
    w, h = lay.width_mm * MM, lay.height_mm * MM
    d = lay.design
    if d.get("background"):
        canvas.setFillColor(_colour(d["background"]))
        canvas.rect(0, 0, w, h, stroke=0, fill=1)
    border = d.get("border")
    if border:
        o = border["outer_inset_mm"] * MM
        canvas.setStrokeColor(_colour(border["outer_color"]))
        canvas.setLineWidth(border["outer_width_pt"])
        canvas.rect(o, o, w - 2 * o, h - 2 * o, stroke=1, fill=0)
        i = border["inner_inset_mm"] * MM
        canvas.setStrokeColor(_colour(border["inner_color"]))
        canvas.setLineWidth(border["inner_width_pt"])
        canvas.rect(i, i, w - 2 * i, h - 2 * i, stroke=1, fill=0)
        c = border.get("corner_mm", 0) * MM
        if c:
            canvas.setFillColor(_colour(border["corner_color"]))
            for cx, cy in ((i, i), (w - i, i), (i, h - i), (w - i, h - i)):
                path = canvas.beginPath()
                path.moveTo(cx, cy - c / 2)
                path.lineTo(cx + c / 2, cy)
                path.lineTo(cx, cy + c / 2)
                path.lineTo(cx - c / 2, cy)
                path.close()
                canvas.drawPath(path, stroke=0, fill=1)
    title = d.get("title")
    if title:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        canvas.saveState()  # character spacing is graphics state: keep it to the title
        canvas.setFillColor(_colour(title.get("color", "#000000")))
        spacing = title.get("spacing_pt", 0)
        text = canvas.beginText()
        text.setFont(font, title["size"])
        text.setCharSpace(spacing)
        width = stringWidth(title["text"], font, title["size"]) + spacing * (len(title["text"]) - 1)
        text.setTextOrigin(w / 2 - width / 2, h - title["y_mm"] * MM)
        text.textOut(title["text"])
        canvas.drawText(text)
        canvas.restoreState()
    subtitle = d.get("subtitle")
    if subtitle and subtitle.get("text"):
        canvas.setFillColor(_colour(subtitle.get("color", "#000000")))
        canvas.setFont(font, subtitle["size"])
        canvas.drawCentredString(w / 2, h - subtitle["y_mm"] * MM, subtitle["text"])
    issuer = d.get("issuer")
    if issuer:
        canvas.setFillColor(_colour(issuer.get("color", "#000000")))
        canvas.setFont(font, issuer["size"])
        for number, line in enumerate(issuer["lines"]):
            y = h - (issuer["y_mm"] + number * issuer.get("leading_mm", 9)) * MM
            canvas.drawCentredString(issuer["x_mm"] * MM, y, _format(line, values))


def _design_key(lay: CertificateLayout, values: dict[str, str]) -> tuple[str, ...]:
    """What of the full design depends on the certificate: only the issuer lines (the township's name)."""
    return tuple(_format(line, values) for line in lay.design.get("issuer", {}).get("lines", []))


def _require_printable(lay: CertificateLayout, pages: Sequence[dict[str, str]], overlay: bool) -> None:
    """Every character of every page is in the font: checked on the layout's texts and the values once.

    The printed texts are made only of the layout's own text and the values, so
    when both are covered every page is; only when something is missing are
    the pages' texts formatted, to name the characters as they would print.
    """
    chars: set[str] = set()
    for values in pages:
        chars.update(*values.values())
    templates = [f.text for f in lay.fields]
    if not overlay:
        d = lay.design
        templates += [d.get("title", {}).get("text", ""), d.get("subtitle", {}).get("text", "")]
        templates += d.get("issuer", {}).get("lines", [])
    if missing_glyphs(["".join(chars), *templates]):
        require_glyphs(t for values in pages for t in printed_texts(lay, values, overlay))


def render_pdf(lay: CertificateLayout, pages: Sequence[dict[str, str]], out: Path | str, *, overlay: bool = False,
               offset_mm: tuple[float, float] = (0.0, 0.0), reporter: Reporter | None = None,
               title: str = "") -> Path:
    """One certificate per page; the font embedded as a subset; written atomically.

    The full design (background, border, title, issuer) is the same on every
    page of a batch: it is drawn once as a PDF form (XObject) that each page
    shows, instead of being drawn, stored and compressed again on every page.
    """
    from reportlab.pdfgen.canvas import Canvas

    font = register_cjk_font()
    if lay.font and lay.font != font:
        raise DomainError(f"证书版式“{lay.name}”指定的字体 {lay.font} 不是内置字体 {font}")
    _require_printable(lay, pages, overlay)
    reporter = reporter or Reporter()
    w, h = lay.width_mm * MM, lay.height_mm * MM
    dx, dy = offset_mm if overlay else (0.0, 0.0)

    def build(tmp: Path) -> None:
        canvas = Canvas(str(tmp), pagesize=(w, h), pageCompression=1, initialFontName=font, initialFontSize=12)
        canvas.setTitle(title or lay.name)
        canvas.setAuthor("townapp")
        canvas.setCreator("townapp")
        designs: dict[tuple[str, ...], str] = {}
        for number, values in enumerate(pages):
            reporter.step(number, len(pages), f"正在生成第 {number + 1}/{len(pages)} 张证书")
            if not overlay:
                key = _design_key(lay, values)
                name = designs.get(key)
                if name is None:  # at the start of a page: nothing of the page is drawn yet
                    name = designs[key] = f"design{len(designs)}"
                    # the form's box reaches past the page so its clip never shaves the page's edge pixels
                    canvas.beginForm(name, -MM, -MM, w + MM, h + MM)
                    _draw_design(canvas, lay, values, font)
                    canvas.endForm()
                canvas.doForm(name)
            for f in lay.fields:
                _draw_field(canvas, f, _format(f.text, values), font, h, dx, dy)
            canvas.showPage()
        reporter.step(len(pages), len(pages), "正在保存")
        canvas.save()

    return write_pdf(out, build)


def write_calibration_page(lay: CertificateLayout, out: Path | str, offset_mm: tuple[float, float] = (0.0, 0.0),
                           printer: str = "") -> Path:
    """A page of millimetre grid and a cross at every field, shifted like an overlay print.

    Laid over a blank pre-printed certificate against the light, it shows how
    far the printer's output sits from where the layout wants it.
    """
    from reportlab.pdfgen.canvas import Canvas

    font = register_cjk_font()
    w, h = lay.width_mm * MM, lay.height_mm * MM
    dx, dy = offset_mm
    note = [f"{lay.name}证书套打校准页　打印机：{printer or '（未指定）'}　当前偏移：水平 {dx:+.1f} 毫米，垂直 {dy:+.1f} 毫米",
            "把本页与一张空白证书叠放、对着光看：十字应落在证书上对应空白处的起点。",
            "若十字整体偏右 2 毫米，把“水平偏移”减少 2；偏下 2 毫米，把“垂直偏移”减少 2，再打一张校准页确认。"]
    labels = {"salutation": "称呼", "body": "正文", "date": "日期", "number": "编号", "stars": "星级"}
    require_glyphs(note + list(labels.values()) + [f.key for f in lay.fields])

    def build(tmp: Path) -> None:
        canvas = Canvas(str(tmp), pagesize=(w, h), initialFontName=font, initialFontSize=10)
        canvas.setTitle(f"{lay.name}套打校准页")
        canvas.setLineWidth(0.2)
        for x in range(0, int(lay.width_mm) + 1, 5):
            canvas.setStrokeGray(0.55 if x % 10 == 0 else 0.85)
            canvas.line(x * MM, 0, x * MM, h)
        for y in range(0, int(lay.height_mm) + 1, 5):
            canvas.setStrokeGray(0.55 if y % 10 == 0 else 0.85)
            canvas.line(0, h - y * MM, w, h - y * MM)
        canvas.setFont(font, 6)
        canvas.setFillGray(0.4)
        for x in range(10, int(lay.width_mm), 10):
            canvas.drawCentredString(x * MM, h - 4 * MM, str(x))
        for y in range(10, int(lay.height_mm), 10):
            canvas.drawString(1.5 * MM, h - y * MM - 2, str(y))
        canvas.setStrokeColorRGB(0.8, 0, 0)
        canvas.setFillColorRGB(0.8, 0, 0)
        canvas.setLineWidth(0.6)
        for f in lay.fields:
            x, y = (f.x_mm + dx) * MM, h - (f.y_mm + dy) * MM
            canvas.line(x - 6 * MM, y, x + 6 * MM, y)
            canvas.line(x, y - 6 * MM, x, y + 6 * MM)
            canvas.setFont(font, 8)
            canvas.drawString(x + 1.5 * MM, y + 1.5 * MM, f"{labels.get(f.key, f.key)}（{f.x_mm:g}, {f.y_mm:g}）")
        canvas.setFillGray(0)
        canvas.setFont(font, 10)
        for number, line in enumerate(note):  # between the body and the signature: no field there
            canvas.drawString(20 * MM, h - (124 + number * 6) * MM, line)
        canvas.showPage()
        canvas.save()

    return write_pdf(out, build)


# ----- choosing what to print --------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    """One line of the page's list: a batch's recipient and what the registry knows of their certificate."""

    subject_key: str
    recipient: str
    village: str
    honour: str
    period: str
    number: str  # "" until a first preview or print issues it
    print_count: int

    @property
    def printed(self) -> bool:
        return self.print_count > 0


@dataclass(frozen=True)
class Selection:
    """Which of a batch's recipients go to paper: one village, a name (or number) typed, the ticked ones.

    Every part narrows the others; an empty part narrows nothing (``subject_keys`` None: every one that matches).
    ``name`` finds a text in the recipient's name, and in the page's list also in the certificate's number,
    so a torn certificate is found by the number printed on it."""

    village: str = ""
    name: str = ""
    subject_keys: frozenset[str] | None = None

    def matches(self, item: CertificateItem | Recipient) -> bool:
        name = self.name.strip()
        number = item.number.upper() if isinstance(item, Recipient) else ""
        return ((not self.village or item.village == self.village)
                and (not name or name in item.recipient or (bool(number) and name.upper() in number))
                and (self.subject_keys is None or item.subject_key in self.subject_keys))


def choose(batch: CertificateBatch, selection: Selection) -> CertificateBatch:
    """The batch with only the chosen recipients, in the batch's order."""
    return replace(batch, items=tuple(i for i in batch.items if selection.matches(i)))


def villages_of(recipients: Sequence[CertificateItem | Recipient]) -> list[str]:
    """The villages of a list, in the order they first appear (the batch's own order)."""
    return list(dict.fromkeys(r.village for r in recipients if r.village))


# ----- the number registry --------------------------------------------------------
@dataclass(frozen=True)
class BatchResult:
    path: Path
    certificates: tuple[IssuedCertificate, ...]
    new_numbers: int
    reprints: int


@dataclass(frozen=True)
class PrintRow:
    number: str
    recipient: str
    village: str
    honour: str
    at: dt.datetime
    username: str
    mode: str
    channel: str
    reprint: bool
    reason: str = ""


class CertificateService:
    """Issues numbers, writes batches and keeps the print log."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR) -> None:
        self.db = db
        self.actor = actor

    def _issue(self, s: Session, lay: CertificateLayout, batch: CertificateBatch,
               today: dt.date) -> list[tuple[Certificate, CertificateItem]]:
        existing = {c.subject_key: c for c in s.scalars(
            select(Certificate).where(Certificate.kind == batch.kind,
                                      Certificate.subject_key.in_([i.subject_key for i in batch.items])))}
        serial = s.scalar(select(func.max(Certificate.serial)).where(Certificate.kind == batch.kind,
                                                                    Certificate.year == batch.year)) or 0
        out = []
        for item in batch.items:
            cert = existing.get(item.subject_key)
            if cert is None:
                serial += 1
                cert = Certificate(number=f"{lay.number_prefix}{batch.year}{serial:04d}", kind=batch.kind,
                                   year=batch.year, serial=serial, subject_key=item.subject_key,
                                   source_key=batch.source_key, source_label=batch.source_label[:100],
                                   recipient=item.recipient, village=item.village, honour=item.honour,
                                   issued_on=today, print_count=0)
                s.add(cert)
                existing[item.subject_key] = cert
            out.append((cert, item))
        s.flush()
        return out

    def write_batch(self, batch: CertificateBatch, out: Path | str, *, overlay: bool = False,
                    offset_mm: tuple[float, float] = (0.0, 0.0), channel: str = "", record: bool = True,
                    today: dt.date | None = None, progress: ProgressFn | None = None,
                    cancel: CancelFn | None = None, selection: Selection | None = None,
                    reason: str = "") -> BatchResult:
        """Issue numbers (once per subject), write the PDF, log each chosen certificate as printed (or 补打).

        Only the recipients ``selection`` keeps are numbered, written and logged. With
        a ``reason`` this is a single 补打: exactly one certificate printed before.
        All in one transaction around the atomic file write: cancelled or failed,
        nothing is numbered, logged or left on disk. ``record`` False is a preview.
        """
        permissions.require_writer(self.actor)  # a preview too issues numbers
        if not batch.items:
            raise DomainError(f"{batch.source_label}中没有可以发证书的对象")
        if selection is not None:
            batch = choose(batch, selection)
            if not batch.items:
                raise DomainError("没有选中要打印的证书：请在列表中勾选，或改变村、姓名的筛选条件")
        reason = reason.strip()
        lay = layout(batch.kind)
        today = today or dt.date.today()
        require_glyphs([batch.township, batch.source_label] +
                       [t for i in batch.items for t in (i.recipient, i.village, i.honour, i.period)])
        reporter = Reporter(progress, cancel)
        mode = MODE_OVERLAY if overlay else MODE_DESIGN
        with self.db.unit_of_work(self.actor, reason=f"补打：{reason}" if reason else None) as s:
            self._require_may_print(s, [i.village for i in batch.items])
            issued = self._issue(s, lay, batch, today)
            if reason:
                self._require_single_reprint([c for c, _i in issued])
            pages = [field_values(batch, item, cert.number, cert.issued_on) for cert, item in issued]
            result = [IssuedCertificate(c.id, c.number, c.recipient, c.village, c.honour, c.issued_on,
                                        c.print_count, values) for (c, _i), values in zip(issued, pages, strict=True)]
            path = render_pdf(lay, pages, out, overlay=overlay, offset_mm=offset_mm, reporter=reporter,
                              title=f"{batch.source_label} {lay.name}证书")
            new = sum(1 for c, _i in issued if c.print_count == 0)
            if record:
                self._log(s, [c for c, _i in issued], mode, channel or str(out), reason)
        return BatchResult(path, tuple(result), new if record else 0, 0 if not record else len(issued) - new)

    def reprint(self, batch: CertificateBatch, subject_key: str, reason: str, out: Path | str, *,
                overlay: bool = False, offset_mm: tuple[float, float] = (0.0, 0.0), channel: str = "",
                record: bool = True, today: dt.date | None = None) -> BatchResult:
        """补打 one certificate (torn, lost …): same number and issue date, logged as 补打 with the reason.

        Only this certificate is written and logged; ``record`` False previews it (the reason is still checked)."""
        if not reason.strip():
            raise DomainError("补打证书必须填写原因，例如：证书破损、证书遗失")
        return self.write_batch(batch, out, overlay=overlay, offset_mm=offset_mm, channel=channel, record=record,
                                today=today, selection=Selection(subject_keys=frozenset({subject_key})),
                                reason=reason)

    @staticmethod
    def _require_single_reprint(certs: Sequence[Certificate]) -> None:
        """A reason is given for one certificate already on paper, never for a batch or a first print."""
        if len(certs) != 1:
            raise DomainError(f"补打（填写原因）一次只能补打一张证书，现在选中了 {len(certs)} 张：请只勾选要补打的那一张")
        if certs[0].print_count == 0:
            raise DomainError(f"证书 {certs[0].number}（{certs[0].recipient}）还没有打印过，不需要补打：直接打印即可")

    def _own_village_name(self, s: Session) -> str | None:
        """The name of the only village the actor may print for (as certificates keep it), None for every village."""
        visible = permissions.visible_village(self.actor)
        if visible is None:
            return None
        village = table("village", column("id"), column("name"))  # the outputs import no feature module
        return s.scalar(select(village.c.name).where(village.c.id == visible)) or ""

    def _require_may_print(self, s: Session, villages: Sequence[str]) -> None:
        """只读 prints nothing; a 村录入员 prints only certificates of their own village."""
        permissions.require_writer(self.actor)
        own = self._own_village_name(s)
        if own is None:
            return
        others = [v for v in dict.fromkeys(villages) if v != own]
        if others:
            raise PermissionDenied(f"村录入员只能打印本村的证书，选中的证书中有{'、'.join(others[:3])}的")

    @staticmethod
    def _log(s: Session, certs: Sequence[Certificate], mode: str, channel: str, reason: str = "") -> None:
        now = dt.datetime.now()
        username = s.info["actor"].username
        for cert in certs:
            again = cert.print_count > 0
            s.add(CertificatePrint(certificate_id=cert.id, at=now, username=username, mode=mode,
                                   channel=channel[:200], reprint=again, reason=reason[:200] if again and reason
                                   else None))
            if cert.print_count == 0:
                cert.first_printed_at = now
            cert.print_count += 1

    def record_printed(self, certificate_ids: Sequence[int], *, overlay: bool, channel: str,
                       reason: str = "") -> int:
        """After a preview went to a printer: log each of these certificates as printed (with a ``reason``: the
        single 补打 it was previewed for); returns how many were 补打."""
        permissions.require_writer(self.actor)
        reason = reason.strip()
        with self.db.unit_of_work(self.actor, reason=f"补打：{reason}" if reason else None) as s:
            certs = list(s.scalars(select(Certificate).where(Certificate.id.in_(list(certificate_ids)))
                                   .order_by(Certificate.id)))
            self._require_may_print(s, [c.village for c in certs])
            if reason:
                self._require_single_reprint(certs)
            reprints = sum(1 for c in certs if c.print_count > 0)
            self._log(s, certs, MODE_OVERLAY if overlay else MODE_DESIGN, channel, reason)
        return reprints

    def recipients(self, batch: CertificateBatch) -> list[Recipient]:
        """The batch's recipients the actor may see, in its order, with their numbers and print counts."""
        with self.db.reader() as s:
            own = self._own_village_name(s)
            items = [i for i in batch.items if own is None or i.village == own]
            keys = [i.subject_key for i in items]
            issued: dict[str, tuple[str, int]] = {}
            for start in range(0, len(keys), 5000):  # a county's batch: more keys than one statement may bind
                issued.update({key: (number, count) for key, number, count in s.execute(
                    select(Certificate.subject_key, Certificate.number, Certificate.print_count)
                    .where(Certificate.kind == batch.kind, Certificate.subject_key.in_(keys[start:start + 5000])))})
        return [Recipient(i.subject_key, i.recipient, i.village, i.honour, i.period,
                          *issued.get(i.subject_key, ("", 0))) for i in items]

    def prints(self, kind: str | None = None, limit: int = 500) -> list[PrintRow]:
        """The print log, newest first."""
        with self.db.reader() as s:
            query = (select(CertificatePrint, Certificate)
                     .join(Certificate, Certificate.id == CertificatePrint.certificate_id)
                     .order_by(CertificatePrint.id.desc()).limit(limit))
            if kind:
                query = query.where(Certificate.kind == kind)
            query = query.where(*self._own_certificates())
            return [PrintRow(c.number, c.recipient, c.village, c.honour, p.at, p.username, p.mode, p.channel,
                             p.reprint, p.reason or "") for p, c in s.execute(query)]

    def numbers(self, kind: str) -> list[tuple[str, str, str, int]]:
        """(number, recipient, honour, print count) of every certificate of a kind, by number."""
        with self.db.reader() as s:
            return [(c.number, c.recipient, c.honour, c.print_count) for c in s.scalars(
                select(Certificate).where(Certificate.kind == kind, *self._own_certificates())
                .order_by(Certificate.year, Certificate.serial))]

    def _own_certificates(self) -> tuple:
        """A clerk sees only certificates issued to their village (a certificate keeps the village's name as printed)."""
        visible = permissions.visible_village(self.actor)
        if visible is None:
            return ()
        village = table("village", column("id"), column("name"))  # the outputs import no feature module
        return (Certificate.village == select(village.c.name).where(village.c.id == visible).scalar_subquery(),)


# ----- sources --------------------------------------------------------------------
class SourceKey(Protocol):
    """Which finalised result a batch is printed from. The composition root (townapp/sources.py) has one
    frozen class per kind (a round, a month's 最美网格员 …); the outputs only keep its text."""

    @property
    def stored(self) -> str:  # as kept in certificate.source_key, e.g. "round:12"
        ...


@dataclass(frozen=True)
class SourceChoice:
    key: SourceKey
    label: str
    year: int


def printer_offset(settings: Any, printer: str) -> tuple[float, float]:
    """The calibrated (dx, dy) in mm for a printer, from the settings file."""
    stored = (settings.get(OFFSETS_KEY) or {}).get(printer or "默认") or [0, 0]
    return float(stored[0]), float(stored[1])


def save_printer_offset(settings: Any, printer: str, offset: tuple[float, float]) -> None:
    offsets = dict(settings.get(OFFSETS_KEY) or {})
    offsets[printer or "默认"] = [round(offset[0], 1), round(offset[1], 1)]
    settings.set(OFFSETS_KEY, offsets)
