"""What leaves the program: the 公示 list (PDF, xlsx), receipts, 积分明细/积分汇总, village record workbooks
through the exchange pipeline, and the per-village figures for the quarterly returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader

from townapp.core.actor import ROLE_VILLAGE, Actor
from townapp.db import Database
from townapp.points.dto import EntryInput, StoreItemInput
from townapp.points.figures import FIGURES, figure, figure_names, village_figures
from townapp.points.printable import (
    write_detail_workbook,
    write_publicity_pdf,
    write_publicity_xlsx,
    write_receipt_pdf,
    write_summary_workbook,
)
from townapp.points.service import PointsService
from townapp.points.sheets import export_points_sheets, import_records, write_record_template
from townapp.registry.dto import SearchFilter
from townapp.registry.service import RegistryService

from .conftest import YEAR, Village, make_effective, make_village


@pytest.fixture
def published(points: PointsService, village: Village) -> int:
    m = village.members
    ids = points.add_records(EntryInput("ZY01", dt.date(YEAR, 3, 1), [m["张建国"], m["李秀英"]], note="清扫主干道"))
    ids += points.add_records(EntryInput("KF04", dt.date(YEAR, 3, 2), [m["赵敏"]], points="2.5", note="酒后滋事"))
    points.approve(ids)
    return points.publish(village.id, dt.date(YEAR, 3, 10)).id


def test_publicity_pdf_and_xlsx(points: PointsService, published: int, tmp_path: Path) -> None:
    pdf = write_publicity_pdf(points, published, tmp_path / "公示.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    for expected in ("东张村党员积分公示", "张建国", "参加志愿服务活动", "-2.5", "2025年03月10日至2025年03月14日",
                     "以上3名党员的3条积分记录"):
        assert expected in text
    fonts = {str(f) for page in PdfReader(pdf).pages for f in page["/Resources"]["/Font"].values()}
    assert fonts  # embedded fonts only; the table styles never fall back to Helvetica
    xlsx = write_publicity_xlsx(points, published, tmp_path / "公示.xlsx")
    ws = load_workbook(xlsx).active
    names = [ws.cell(row=r, column=2).value for r in range(4, 7)]
    assert sorted(names) == sorted(["张建国", "李秀英", "赵敏"])
    assert [ws.cell(row=r, column=6).value for r in range(4, 7)] == ["+1", "+1", "-2.5"]


def test_receipt_and_workbooks(points: PointsService, village: Village, published: int, tmp_path: Path) -> None:
    points.close_publicity(published, on=dt.date(YEAR, 3, 20))
    member = village.members["李秀英"]
    item = points.save_item(StoreItemInput("毛巾两条装", "1", 5, "村党群服务中心"))
    redemption = points.redeem(member, item)
    receipt = write_receipt_pdf(points, redemption.id, tmp_path / "凭条.pdf")
    text = PdfReader(receipt).pages[0].extract_text()
    assert redemption.number in text and "李秀英" in text and "毛巾两条装" in text
    assert write_detail_workbook(points, YEAR, tmp_path / "明细.xlsx") == 3
    detail = load_workbook(tmp_path / "明细.xlsx").active
    header = [c.value for c in detail[1]]
    assert header[:3] == ["村/社区", "姓名", "发生日期"] and "计入分值" in header
    assert write_summary_workbook(points, YEAR, tmp_path / "汇总.xlsx") == 4  # 免考 member left out
    book = load_workbook(tmp_path / "汇总.xlsx")
    assert book.sheetnames == ["党员积分汇总", "各村汇总", "各支部汇总", "说明"]
    village_row = [c.value for c in book["各村汇总"][2]]
    assert village_row[:2] == ["东张村", 4]


def test_village_records_workbook_imports_once(points: PointsService, village: Village, db: Database,
                                               tmp_path: Path) -> None:
    # GIVEN the template filled by the village: two valid rows
    template = write_record_template(tmp_path / "模板.xlsx")
    assert load_workbook(template).sheetnames[-1] == "积分记录"
    registry = RegistryService(db)
    people = {p.name: p.id_number for p in (registry.get_person(i) for i in registry.person_ids(SearchFilter()))}
    wb = Workbook()
    ws = wb.active
    ws.title = "积分记录"
    ws.append(["身份证号", "姓名", "规则编码", "发生日期", "分值", "事项说明", "佐证材料"])
    ws.append([people["李秀英"], "李秀英", "ZY01", "2025-04-03", None, "义务植树", None])
    ws.append([people["张建国"], "张建国", "SG02", "2025/4/8", "2.5", "修缮村道", "照片3张"])
    for row in ws.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "@"
    wb.save(tmp_path / "东张村积分.xlsx")
    clerk = Actor("村文书", ROLE_VILLAGE, village.id)
    # WHEN checked (dry run) THEN nothing is saved
    dry = import_records(db, tmp_path / "东张村积分.xlsx", clerk, dry_run=True)
    assert dry.accepted and dry.sheets["积分记录"].created == 2
    assert points.queue("村审") == []
    # WHEN imported THEN two records wait for 村审, with the rule snapshot
    import_records(db, tmp_path / "东张村积分.xlsx", clerk)
    rows = {r.name: r for r in points.queue("村审")}
    assert rows["张建国"].points == 25 and rows["李秀英"].rule_name == "参加志愿服务活动"
    # WHEN the same file is sent again THEN nothing changes
    again = import_records(db, tmp_path / "东张村积分.xlsx", clerk)
    assert again.sheets["积分记录"].created == 0 and again.sheets["积分记录"].unchanged == 2
    assert len(points.queue("村审")) == 2
    # AND a bad row rejects the whole file with its row and column
    ws.append([people["王磊"], "王磊", "SG01", "2025-04-09", None, "履职", None])  # 流动: 设岗定责 not for them
    ws.append([people["赵敏"], "赵敏", "SG02", "2025-04-09", "3.25", "任务", "照片"])
    wb.save(tmp_path / "有错.xlsx")
    bad = import_records(db, tmp_path / "有错.xlsx", clerk)
    assert not bad.accepted and {e.row for e in bad.errors} == {4, 5}
    assert any("流动" in e.message for e in bad.errors)
    assert len(points.queue("村审")) == 2
    # AND the four sheets export (IDs masked)
    assert export_points_sheets(db, tmp_path / "全部.xlsx", clerk) >= 2
    book = load_workbook(tmp_path / "全部.xlsx")
    assert book.sheetnames == ["积分规则", "积分记录", "积分超市商品", "积分兑换记录"]
    assert "*" in book["积分记录"]["B2"].value


def test_figures_per_village_as_of_a_date(points: PointsService, village: Village, db: Database) -> None:
    other = make_village(db, "140821100202", "西张村")
    first = points.add_records(EntryInput("ZY01", dt.date(YEAR, 3, 1), [village.members["张建国"]]))
    make_effective(points, village, first, dt.date(YEAR, 3, 10))  # effective 2025-03-15
    later = points.add_records(EntryInput("ZY01", dt.date(YEAR, 5, 1), [village.members["李秀英"]]))
    make_effective(points, village, later, dt.date(YEAR, 6, 1))  # effective 2025-06-06
    points.redeem(village.members["张建国"], points.save_item(StoreItemInput("香皂", "0.5", 9)))
    march = village_figures(db, dt.date(YEAR, 3, 31))
    east = march[village.id]
    assert (east.participants, east.highest, east.lowest, east.average) == (4, Decimal("41"), Decimal("40"),
                                                                            Decimal("40.3"))
    assert east.records == 1 and east.grades["年度未结束"] == 4 and east.grades["不合格"] == 0  # no part-year grade
    assert march[other.id].participants == 4 and march[other.id].records == 0
    june = village_figures(db, dt.date(YEAR, 6, 30), start=dt.date(YEAR, 4, 1))
    assert june[village.id].records == 1 and june[village.id].average == Decimal("40.5")
    today = village_figures(db, dt.date.today(), start=dt.date(2026, 1, 1))
    assert (today[village.id].redemptions, today[village.id].redeemed_points) == (1, Decimal("0.5"))
    assert figure(db, "points.participants", dt.date(YEAR, 3, 31))[village.id] == 4
    assert set(FIGURES) < set(figure_names(db, YEAR)) and "points.grade.优秀" in figure_names(db, YEAR)



def test_the_last_quarter_of_a_whole_year_counts_records_published_in_january(points: PointsService,
                                                                              village: Village, db: Database) -> None:
    """GIVEN a record of 5 November whose 公示 ends on 10 January next year (Q4's records take effect after the year)
    WHEN the Q4 return's points figures are counted as of 31 December, once the year is over
    THEN the record counts in 本季度积分记录数, as it counts in the year's scores (not 0 records with scores
    that include it); part of a year (as of 30 November, still in it) counts only what is effective then."""
    ids = points.add_records(EntryInput("ZY01", dt.date(YEAR, 11, 5), [village.members["张建国"]]))
    make_effective(points, village, ids, dt.date(YEAR + 1, 1, 5))  # effective 2026-01-10
    q4 = village_figures(db, dt.date(YEAR, 12, 31), start=dt.date(YEAR, 10, 1))[village.id]
    assert q4.records == 1 and q4.highest == Decimal("41")
    november = village_figures(db, dt.date(YEAR, 11, 30), start=dt.date(YEAR, 10, 1))[village.id]
    assert november.records == 0 and november.highest == Decimal("40")
