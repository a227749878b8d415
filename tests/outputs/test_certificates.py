"""Certificates: the font embedded as a subset, exact text, unique numbers, reprints, 套打 offsets, safety.

Stories: the 文明办 prints last year's 星级文明户 certificates; every page
carries the household's name and level exactly as rated, a number nobody
else has, the bundled font embedded; printing them again keeps the numbers
and logs 补打; on pre-printed blanks the text moves by the printer's
calibrated offsets; a name the font cannot draw stops the batch before
anything is numbered or written; a 1,000-certificate batch reports progress
and, cancelled, leaves neither a file nor numbers; the border, title and
issuer are stored once per batch, however many pages draw them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from townapp import cli
from townapp.core.actor import SYSTEM_ACTOR
from townapp.core.errors import Cancelled, DomainError
from townapp.db import Database
from townapp.figures import certificate_batch, certificate_choices
from townapp.outputs.certificates import (
    MM,
    CertificateBatch,
    CertificateItem,
    CertificateService,
    field_values,
    layout,
    layouts,
    render_pdf,
    write_calibration_page,
)
from townapp.outputs.models import Certificate, CertificatePrint
from townapp.sources import GridMonthSource, GridYearSource, RoundSource

from .town import Town, build_town

ISSUED = dt.date(2026, 11, 20)


@pytest.fixture
def town(db: Database) -> Town:
    return build_town(db)


def _household_batch(db: Database, town: Town) -> CertificateBatch:
    return certificate_batch(db, "household-star", RoundSource(town.household_round), actor=SYSTEM_ACTOR)


def _fonts(reader: PdfReader) -> list[dict]:
    out = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            out.append(font.get_object())
    return out


def _text_positions(path: Path, wanted: str) -> list[tuple[float, float]]:
    """Where (x, y in points) each text run containing ``wanted`` starts on the first page."""
    found: list[tuple[float, float]] = []

    def visit(text: str, cm, tm, font_dict, font_size) -> None:  # noqa: ANN001
        if wanted in text:
            found.append((round(tm[4], 2), round(tm[5], 2)))

    PdfReader(str(path)).pages[0].extract_text(visitor_text=visit)
    return found


def test_sources_are_finalised_rounds_and_months(db: Database, town: Town) -> None:
    choices = certificate_choices(db, "household-star", actor=SYSTEM_ACTOR)
    assert [c.key for c in choices] == [RoundSource(town.household_round)]
    grid_keys = [c.key for c in certificate_choices(db, "grid-star", 2026, actor=SYSTEM_ACTOR)]
    assert grid_keys == [GridYearSource(2026), GridMonthSource(2026, 5)]
    # AND each typed key keeps the text the certificate table always stored
    assert [k.stored for k in [choices[0].key, *grid_keys]] == [
        f"round:{town.household_round}", "grid_year:2026", "grid_month:2026-05"]
    batch = _household_batch(db, town)
    # the unrated household and the revoked title get no certificate
    assert [(i.recipient, i.village, i.honour) for i in batch.items] == [
        ("李秀英", "甲村", "五星"), ("马福", "甲村", "三星"), ("孙强", "乙村", "三星")]


def test_font_is_embedded_as_a_subset_and_the_text_is_exact(db: Database, town: Town, tmp_path: Path) -> None:
    # GIVEN last year's finalised 星级文明户 round
    batch = _household_batch(db, town)
    # WHEN its certificates are written in the full design
    result = CertificateService(db).write_batch(batch, tmp_path / "证书.pdf", today=ISSUED)
    reader = PdfReader(str(result.path))
    # THEN every font in the PDF is the bundled one, embedded (FontFile2) as a subset (XXXXXX+ name)
    fonts = _fonts(reader)
    assert fonts and all(f["/BaseFont"].startswith("/AAAAAA+") or f["/BaseFont"][7] == "+" for f in fonts)
    assert all("WenQuanYi" in f["/BaseFont"] and "/FontFile2" in f["/FontDescriptor"] for f in fonts)
    # AND each page's text carries the name, the village and the level exactly, the Chinese date and its number
    assert len(reader.pages) == 3
    for page, item, issued in zip(reader.pages, batch.items, result.certificates, strict=True):
        text = page.extract_text()
        assert f"{item.village}　{item.recipient} 家庭：" in text
        assert f"“{item.honour}文明户”" in text.replace("\n", "")
        assert "荣誉证书" in text and "二〇二六年十一月" in text and f"编号：{issued.number}" in text
        assert "★" * {"三星": 3, "五星": 5}[item.honour] in text


def test_numbers_are_unique_kept_on_reprint_and_reprints_are_logged(db: Database, town: Town,
                                                                    tmp_path: Path) -> None:
    service = CertificateService(db)
    batch = _household_batch(db, town)
    first = service.write_batch(batch, tmp_path / "a.pdf", today=ISSUED)
    numbers = [c.number for c in first.certificates]
    assert numbers == ["WMH20250001", "WMH20250002", "WMH20250003"] and first.new_numbers == 3
    # WHEN the same round is printed again (a torn certificate), in overlay mode this time
    again = service.write_batch(batch, tmp_path / "b.pdf", overlay=True, today=dt.date(2027, 1, 5))
    # THEN the numbers and the issue date stay; the log says 补打
    assert [c.number for c in again.certificates] == numbers and again.reprints == 3 and again.new_numbers == 0
    assert "二〇二六年十一月" in PdfReader(str(again.path)).pages[0].extract_text()
    log = service.prints("household-star")
    assert [(p.number, p.reprint, p.mode) for p in log[:3]] == [(n, True, "套打") for n in reversed(numbers)]
    assert [(p.reprint, p.mode) for p in log[3:]] == [(False, "完整版式")] * 3
    # AND another kind has its own series; every number in the registry is unique
    grid = certificate_batch(db, "grid-star", GridMonthSource(2026, 5), actor=SYSTEM_ACTOR)
    assert [c.number for c in service.write_batch(grid, tmp_path / "g.pdf").certificates] == ["WGY20260001"]
    with db.reader() as s:
        assert s.scalar(select(func.count(func.distinct(Certificate.number)))) == s.scalar(
            select(func.count()).select_from(Certificate)) == 4
    # AND a preview numbers certificates but logs no print
    preview = service.write_batch(certificate_batch(db, "organization-star", certificate_choices(
        db, "organization-star", actor=SYSTEM_ACTOR)[0].key, actor=SYSTEM_ACTOR), tmp_path / "p.pdf", record=False)
    assert [c.number for c in preview.certificates] == ["DZZ20250001"]
    assert service.prints("organization-star") == []


def test_overlay_prints_only_the_text_shifted_by_the_calibrated_offsets(db: Database, town: Town,
                                                                        tmp_path: Path) -> None:
    service = CertificateService(db)
    batch = replace(_household_batch(db, town), items=_household_batch(db, town).items[:1])
    design = service.write_batch(batch, tmp_path / "design.pdf", record=False)
    plain = service.write_batch(batch, tmp_path / "overlay0.pdf", overlay=True, record=False)
    shifted = service.write_batch(batch, tmp_path / "overlay.pdf", overlay=True, offset_mm=(4.0, -2.5),
                                  record=False)
    # THEN overlay leaves out the border, title and issuer the blank certificate already has
    assert "荣誉证书" in PdfReader(str(design.path)).pages[0].extract_text()
    overlay_text = PdfReader(str(plain.path)).pages[0].extract_text()
    assert "荣誉证书" not in overlay_text and "人民政府" not in overlay_text and "李秀英" in overlay_text
    # AND the design and the un-shifted overlay put the name at the same place
    at_design, at_plain = _text_positions(design.path, "李秀英"), _text_positions(plain.path, "李秀英")
    lay = layout("household-star")
    salutation = next(f for f in lay.fields if f.key == "salutation")
    assert at_design == at_plain == [(round(salutation.x_mm * MM, 2), round((lay.height_mm - salutation.y_mm) * MM, 2))]
    # AND the calibrated offsets move it right by 4 mm and up by 2.5 mm (y is measured from the top)
    (x0, y0), (x1, y1) = at_plain[0], _text_positions(shifted.path, "李秀英")[0]
    assert x1 - x0 == pytest.approx(4.0 * MM, abs=0.02) and y1 - y0 == pytest.approx(2.5 * MM, abs=0.02)
    # AND the calibration page shows the offsets it was printed with
    page = write_calibration_page(lay, tmp_path / "calib.pdf", (4.0, -2.5), "办公室打印机")
    text = PdfReader(str(page)).pages[0].extract_text()
    assert "水平 +4.0 毫米，垂直 -2.5 毫米" in text and "办公室打印机" in text


def test_a_missing_glyph_stops_the_batch_before_anything_is_written(db: Database, town: Town,
                                                                   tmp_path: Path) -> None:
    batch = _household_batch(db, town)
    odd = replace(batch, items=batch.items + (CertificateItem("eval_target:999", "王𪚥", "乙村", "三星"),))
    with pytest.raises(DomainError, match="U\\+2A6A5"):
        CertificateService(db).write_batch(odd, tmp_path / "x.pdf")
    assert not list(tmp_path.glob("x*"))
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0


def test_a_thousand_certificates_show_progress_and_cancel_leaves_nothing(db: Database, town: Town,
                                                                         tmp_path: Path) -> None:
    items = tuple(CertificateItem(f"test:{n}", f"测试户{n:04d}", "甲村", "四星") for n in range(1000))
    batch = CertificateBatch("household-star", "test", "测试批次", 2026, "临晋镇", items)
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int, text: str) -> None:
        seen.append((done, total))

    def cancel() -> bool:
        return len(seen) >= 400

    out = tmp_path / "U盘"
    with pytest.raises(Cancelled):
        CertificateService(db).write_batch(batch, out / "千张.pdf", progress=progress, cancel=cancel)
    assert seen[:2] == [(0, 1000), (1, 1000)] and len(seen) == 400
    assert list(out.iterdir()) == []
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0
        assert s.scalar(select(func.count()).select_from(CertificatePrint)) == 0
    # WHEN it runs to the end THEN it has 1,000 pages with 1,000 distinct numbers
    result = CertificateService(db).write_batch(batch, out / "千张.pdf")
    assert len(PdfReader(str(result.path)).pages) == 1000
    assert len({c.number for c in result.certificates}) == 1000


def test_the_design_is_stored_once_and_every_page_shows_it(db: Database, tmp_path: Path) -> None:
    # GIVEN a batch of three 星级文明户 certificates in the full design
    items = tuple(CertificateItem(f"test:{n}", f"测试户{n}", "甲村", "四星") for n in range(3))
    batch = CertificateBatch("household-star", "test", "测试批次", 2026, "临晋镇", items)
    # WHEN it is written
    result = CertificateService(db).write_batch(batch, tmp_path / "c.pdf", record=False)
    reader = PdfReader(str(result.path))
    # THEN the background, border, title and issuer are one form in the file that every page draws
    forms = [{name: page["/Resources"]["/XObject"].raw_get(name).idnum for name in page["/Resources"]["/XObject"]}
             for page in reader.pages]
    assert len(forms) == 3 and forms[0] == forms[1] == forms[2] and len(forms[0]) == 1
    # AND each page still reads as a whole certificate: title, its own name, the issuer
    for page, item in zip(reader.pages, items, strict=True):
        text = page.extract_text()
        assert "荣誉证书" in text and f"甲村　{item.recipient} 家庭：" in text and "中共临晋镇委员会" in text
    # AND overlay prints draw no design at all
    overlay = CertificateService(db).write_batch(batch, tmp_path / "o.pdf", overlay=True, record=False)
    assert all("/XObject" not in page["/Resources"] for page in PdfReader(str(overlay.path)).pages)


def test_a_value_the_font_cannot_draw_stops_rendering(tmp_path: Path) -> None:
    # GIVEN a page whose certificate number holds a character the bundled font lacks
    lay = layout("household-star")
    batch = CertificateBatch("household-star", "test", "测试", 2026, "临晋镇", ())
    item = CertificateItem("test:1", "张三", "甲村", "五星")
    good = field_values(batch, item, "WMH20260001", dt.date(2026, 11, 20))
    # WHEN it is rendered THEN nothing is written and the message names the character
    with pytest.raises(DomainError, match="U\\+2A6A5"):
        render_pdf(lay, [good, {**good, "number": "WMH𪚥"}], tmp_path / "x.pdf")
    assert not list(tmp_path.iterdir())


def test_every_kind_has_a_layout_that_renders(db: Database, tmp_path: Path) -> None:
    assert list(layouts()) == ["household-star", "secretary-star", "organization-star", "excellent-member",
                               "grid-star"]
    service = CertificateService(db)
    for kind in layouts():
        item = CertificateItem(f"{kind}:1", "欧阳建华", "临晋社区", "五星" if "star" in kind else "优秀共产党员",
                               "2026年5月")
        result = service.write_batch(CertificateBatch(kind, "test", "测试", 2026, "临晋镇", (item,)),
                                     tmp_path / f"{kind}.pdf", record=False)
        assert "欧阳建华" in PdfReader(str(result.path)).pages[0].extract_text()


def test_cli_prints_a_years_certificates(db: Database, town: Town, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    path = db.location
    db.dispose()
    out = tmp_path / "certs.pdf"
    assert cli.main(["certificates", "--db", path, "--kind", "household-star", "--year", "2025",
                     "--out", str(out), "--overlay"]) == 0, capsys.readouterr().err
    assert len(PdfReader(str(out)).pages) == 3
    assert "编号 WMH20250001 至 WMH20250003" in capsys.readouterr().out
    capsys.readouterr()
    assert cli.main(["certificates", "--db", path, "--kind", "excellent-member", "--year", "2025",
                     "--out", str(tmp_path / "none.pdf")]) == 1
    assert not (tmp_path / "none.pdf").exists()
    assert "2025年度尚未结转" in capsys.readouterr().err  # says why: the grades are final only after the close


def test_a_clerk_sees_only_their_villages_recipients(db: Database, town: Town) -> None:
    """GIVEN last year's 星级文明户 round, rated in 甲村 and 乙村
    WHEN 甲村's clerk lists the sources and the recipients of that round (the certificates page's preview)
    THEN the round is offered, but its batch names only 甲村's households — read as the clerk, not as the system."""
    from townapp.core.actor import ROLE_VILLAGE, Actor

    clerk = Actor("甲村文书", ROLE_VILLAGE, town.village_a)
    everyone = certificate_batch(db, "household-star", RoundSource(town.household_round), actor=SYSTEM_ACTOR)
    assert {item.village for item in everyone.items} == {"甲村", "乙村"}

    choices = certificate_choices(db, "household-star", actor=clerk)
    mine = certificate_batch(db, "household-star", choices[0].key, actor=clerk)

    assert [c.key for c in choices] == [RoundSource(town.household_round)]
    assert mine.items and {item.village for item in mine.items} == {"甲村"}
