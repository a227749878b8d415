"""村干部报酬 (以星定酬) from the rules in resources/archives/remuneration.json, to the 分.

The expected amounts below were computed by hand from the shipped defaults:
书记 1,650 元/月, 主任 1,485, others 1,155; 重点村（深度贫困村）+150 元/月 (七星关); 考核 优秀 6,000 /
称职 4,000 / 基本称职 2,000 / 不称职 0; 书记星级 5★ 10,000, 4★ 6,000, 3★ 3,000;
组织星级 5★ 3,000, 4★ 2,000, 3★ 1,000 per cadre; 创建 规范/示范/典范 1/2/3 万 per
cadre; annual amounts prorated by months in post, rounded half up to the 分.
"""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from townapp.archives.dto import PayData, PayLine, PayTable, YearData
from townapp.archives.printable import write_pay_pdf, write_pay_xlsx
from townapp.archives.remuneration import PayInputs, compute_pay
from townapp.archives.service import ArchiveService

from .conftest import Village

CASES = [
    # (inputs, basic, assessment, star, creation, total) — all in 分
    (PayInputs("书记", 12, "优秀", True, 5, 4, "示范"), 2_160_000, 600_000, 1_200_000, 2_000_000, 5_960_000),
    (PayInputs("主任", 12, "称职", False, 5, 3, "规范"), 1_782_000, 400_000, 100_000, 1_000_000, 3_282_000),
    (PayInputs("委员", 7, "基本称职", False, None, 5, "典范"), 808_500, 116_667, 175_000, 1_750_000, 2_850_167),
    (PayInputs("监委会主任", 12, "不称职", False, None, None, None), 1_386_000, 0, 0, 0, 1_386_000),
    (PayInputs("书记", 5, "称职", True, 3, None, "规范"), 900_000, 166_667, 125_000, 416_667, 1_608_334),
    (PayInputs("副书记", 12, None, False, 4, 2, None), 1_386_000, 0, 0, 0, 1_386_000),
]


@pytest.mark.parametrize(("inputs", "basic", "assessment", "star", "creation", "total"), CASES)
def test_pay_equals_the_hand_computed_amount(inputs: PayInputs, basic: int, assessment: int, star: int,
                                             creation: int, total: int) -> None:
    amounts = compute_pay(inputs)
    assert (amounts.basic, amounts.assessment, amounts.star, amounts.creation) == (basic, assessment, star, creation)
    assert amounts.total == total


def test_the_pay_table_of_a_village_year(archives: ArchiveService, village: Village, tmp_path) -> None:  # noqa: ANN001
    # GIVEN 2025: a 示范 village, organisation 4★, secretary 5★, designated, and three cadres' inputs
    archives.save_year(YearData(village.id, 2025, {"creation_level": "示范", "org_star": 4, "secretary_star": 5,
                                                  "designated": True}))
    p = village.people
    archives.save_pay_inputs(village.id, 2025, [PayData(p["张建国"], "书记", 12, "优秀"),
                                                PayData(p["李秀英"], "委员", 12, "称职"),
                                                PayData(p["赵敏"], "监委会主任", 6, "基本称职")])
    # WHEN the 报酬发放表 is computed
    table = archives.pay_table(village.id, 2025)
    # THEN each line and the total are exact
    by_name = {line.name: line.total for line in table.lines}
    assert by_name == {
        "张建国": 2_160_000 + 600_000 + 1_200_000 + 2_000_000,
        "李秀英": (115_500 + 15_000) * 12 + 400_000 + 200_000 + 2_000_000,
        "赵敏": (115_500 + 15_000) * 6 + 100_000 + 100_000 + 1_000_000,
    }
    assert table.total == sum(by_name.values()) == 5_960_000 + 4_166_000 + 1_983_000
    assert "示范" in table.basis and "重点村" in table.basis
    # AND both outputs are written: the workbook with amounts in 元 and a signature column, the PDF
    xlsx = write_pay_xlsx(table, tmp_path / "pay.xlsx")
    ws = load_workbook(xlsx).active
    assert ws.cell(row=3, column=13).value == "领取人签名"
    assert float(ws.cell(row=4, column=11).value) == 59_600.00
    assert write_pay_pdf(table, tmp_path / "pay.pdf").read_bytes().startswith(b"%PDF-")


def test_formula_like_text_is_written_as_text(tmp_path) -> None:  # noqa: ANN001
    # GIVEN a line whose name and grade begin with = and @ (pasted from somewhere)
    table = PayTable("140821100201", "东张村", 2025, "=HYPERLINK(\"http://x\")",
                     (PayLine("=1+1", "书记", 12, "@SUM(A1)", 100, 0, 0, 0, 100),))
    ws = load_workbook(write_pay_xlsx(table, tmp_path / "pay.xlsx")).active
    # THEN the cells hold the text, never a formula
    for row, column in ((2, 1), (4, 2), (4, 5)):
        cell = ws.cell(row=row, column=column)
        assert cell.data_type == "s" and isinstance(cell.value, str) and cell.value[0] in "=@"


def test_months_are_bounded(village: Village, archives: ArchiveService) -> None:
    from townapp.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        archives.save_pay_inputs(village.id, 2025, [PayData(village.people["张建国"], "书记", 13, "优秀")])
    assert "任职月数应为0至12" in caught.value.message
