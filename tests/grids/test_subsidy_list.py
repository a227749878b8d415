"""The 补助发放表: totals equal the sum of the rows, a signature column, PDF with Chinese, opens in LibreOffice."""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from townapp.core.errors import DomainError
from townapp.grids.printable import coverage_chart, read_subsidy_totals, write_subsidy_pdf, write_subsidy_xlsx
from townapp.grids.service import GridService
from townapp.outputs.charts import figure_png

from .conftest import MONTH, YEAR


def test_the_xlsx_has_a_signature_column_and_totals_equal_its_rows(grids: GridService, approved: dict[str, int],
                                                                   tmp_path: Path) -> None:
    # GIVEN the approved March list (five members, totals 100, 99, 98, 97, 96)
    lst = grids.subsidy_list(YEAR, MONTH)
    # WHEN it is exported
    out = write_subsidy_xlsx(lst, tmp_path / "补助发放表.xlsx")
    # THEN the header carries the signature column and the rows are the service's rows, to the 分
    ws = load_workbook(out).worksheets[0]
    assert [c.value for c in ws[3]][-1] == "领取人签字"
    assert "2026年3月网格员补助发放表" in ws["A1"].value
    body = [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert [Decimal(str(r[10])) * 100 for r in body] == [r.subsidy_fen for r in lst.rows]
    # 600 元 × 1.00 + 50 for the 网格长 and 网格员; 400 元 for the 网格辅助员, 200 元 for 微网格员, all ≥ 90 分
    assert sorted(r.subsidy_fen for r in lst.rows) == [25000, 25000, 45000, 65000, 65000]
    rows, total, row_sum = read_subsidy_totals(out)
    assert (rows, total, row_sum) == (5, Decimal("2250.00"), Decimal("2250.00"))
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"


def test_an_unapproved_month_has_no_subsidy_list(grids: GridService, village) -> None:  # noqa: ANN001
    with pytest.raises(DomainError, match="尚未审批锁定"):
        grids.subsidy_list(YEAR, MONTH + 1)


def test_the_pdf_prints_the_list_with_the_embedded_font(grids: GridService, approved: dict[str, int],
                                                        tmp_path: Path) -> None:
    out = write_subsidy_pdf(grids.subsidy_list(YEAR, MONTH), tmp_path / "补助发放表.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
        assert "WenQuanYiMicroHei" in fonts and "Helvetica" not in fonts  # embedded CJK font, no fallback
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "领取人签字" in text and "2,250.00" in text and "村民东1" in text


def test_the_coverage_chart_draws_with_the_cjk_font(grids: GridService, village) -> None:  # noqa: ANN001
    png = figure_png(coverage_chart(grids.coverage()), dpi=60)
    assert png.startswith(b"\x89PNG")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) 未安装")
def test_libreoffice_opens_the_xlsx_and_sees_the_same_totals(grids: GridService, approved: dict[str, int],
                                                              tmp_path: Path) -> None:
    # GIVEN the exported list
    out = write_subsidy_xlsx(grids.subsidy_list(YEAR, MONTH), tmp_path / "list.xlsx")
    profile = tmp_path / "lo-profile"
    base = ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    # WHEN LibreOffice converts it headless to PDF and to CSV
    for target in ("pdf", "csv:Text - txt - csv (StarCalc):44,34,76"):
        done = subprocess.run([*base, "--convert-to", target, "--outdir", str(tmp_path), str(out)],
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
    # THEN the PDF exists and the totals LibreOffice reads equal the sum of its rows
    assert (tmp_path / "list.pdf").read_bytes().startswith(b"%PDF-")
    with open(tmp_path / "list.csv", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    rows = [r for r in lines if r and r[0].isdigit()]
    total = next(r for r in lines if r and r[0] == "合计")

    def money(text: str) -> Decimal:
        return Decimal(text.replace(",", ""))

    assert len(rows) == 5
    assert money(total[10]) == sum(money(r[10]) for r in rows) == Decimal("2250.00")
    assert money(total[8]) + money(total[9]) == money(total[10])
