"""The printed 一村一档: the bundled font is embedded (subset), the text is real text, missing glyphs stop it."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from townapp.archives.dto import CadreData, YearData
from townapp.archives.printable import archive_document, write_archive
from townapp.archives.service import ArchiveService
from townapp.core.errors import DomainError
from townapp.db import Database
from townapp.outputs.archive_pdf import TableDocument, TableSection, write_table_pdf
from townapp.outputs.charts import figure_png, series_chart
from townapp.outputs.pdf import missing_glyphs

from ..archives.conftest import Village, archives, village  # noqa: F401 (fixtures)

FIGURES = dict(operating_income=30_000_00, contract_income=10_000_00, investment_income=5_000_00,
               subsidy_income=20_000_00, other_income=1_234_56, total_income=66_234_56, business_income=46_234_56,
               debt_opening=50_000_00, debt_new=0, debt_resolved=12_000_00, debt_closing=38_000_00)


def _fonts(reader: PdfReader) -> list[dict]:
    found = []
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            for descendant in ([d.get_object() for d in descendants] if descendants else [font]):
                found.append({"base": str(font.get("/BaseFont")), "descriptor": descendant.get("/FontDescriptor")})
    return found


def _text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_archive_pdf_embeds_the_font_and_holds_the_figures(db: Database, archives: ArchiveService,  # noqa: F811
                                                           village: Village, tmp_path: Path) -> None:  # noqa: F811
    # GIVEN 东张村 with two years of figures and its 书记
    archives.save_year(YearData(village.id, 2024, {**FIGURES, "total_income": 60_000_00, "other_income": 0,
                                                   "operating_income": 25_000_00, "business_income": 40_000_00,
                                                   "debt_opening": 62_000_00, "debt_closing": 50_000_00}))
    archives.save_year(YearData(village.id, 2025, FIGURES))
    archives.save_cadres(village.id, [CadreData(village.people["张建国"], "书记", False, dt.date(2021, 3, 1))])
    # WHEN the archive is printed
    out = write_archive(archives, village.id, tmp_path / "东张村一村一档.pdf")
    reader = PdfReader(out)
    # THEN it is A4 with a cover and several pages
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842) and len(reader.pages) >= 2
    # AND every font is the bundled one, embedded as a subset (a TrueType file inside the PDF)
    fonts = _fonts(reader)
    assert fonts and all("WenQuanYiMicroHei" in f["base"] for f in fonts), fonts
    assert all("+" in f["base"] for f in fonts), "subset fonts carry a six-letter tag"
    assert all(f["descriptor"] is not None and "/FontFile2" in f["descriptor"].get_object() for f in fonts)
    # AND the text is extractable: the village name, the code and the figures exactly as entered
    text = _text(out)
    for expected in ("东张村", "140821100201", "一村一档", "村集体经济", "66,234.56", "1,234.56", "46,234.56",
                     "38,000.00", "张建国", "书记", "2024年", "2025年"):
        assert expected in text, expected


def test_text_the_font_cannot_draw_is_refused_before_writing(tmp_path: Path) -> None:
    # GIVEN a name with a character outside the font (U+2A6A5, an extension-B ideograph) and an emoji
    doc = TableDocument("报酬发放表", sections=[TableSection("名单", ("姓名",), [["王\U0002A6A5"], ["李四😀"]])])
    out = tmp_path / "out.pdf"
    # WHEN it is printed THEN a Chinese error names the characters, and no file (not even a temp file) is left
    with pytest.raises(DomainError) as caught:
        write_table_pdf(doc, out)
    assert "\U0002A6A5" in caught.value.message and "U+2A6A5" in caught.value.message and "😀" in caught.value.message
    assert "方框" in caught.value.message
    assert list(tmp_path.iterdir()) == []


def test_common_print_characters_are_covered() -> None:
    assert missing_glyphs(["一村一档 ㎡ ★☆ 〇 ①②③ 《》“”（）：；、 0123456789 ABC abc ¥ — ……"]) == []


def test_chart_is_a_figure_with_chinese_text() -> None:
    figure = series_chart([2024, 2025], {"总收入": [12, 15]}, {"年末债务": [5, 3]}, title="村集体收入与债务",
                          unit="万元")
    axis = figure.axes[0]
    assert axis.get_title() == "村集体收入与债务"
    assert [t.get_text() for t in axis.get_xticklabels()] == ["2024年", "2025年"]
    assert axis.get_title(loc="center") and axis.title.get_fontproperties().get_file()
    assert figure_png(figure, dpi=50).startswith(b"\x89PNG")


def test_archive_of_the_demo_village_prints(tmp_path: Path, demo_db: Database) -> None:  # noqa: F811
    service = ArchiveService(demo_db)
    row = service.overview()[0]
    doc = archive_document(service, row.village_id)
    assert doc.chart_png and any("三会一课" in s.heading for s in doc.sections)
    out = write_table_pdf(doc, tmp_path / "demo.pdf")
    assert row.name in _text(out)


from ..archives.conftest import demo_db  # noqa: E402, F401 (fixture)
