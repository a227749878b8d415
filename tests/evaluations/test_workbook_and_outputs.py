"""The stage workbook refuses bad rows with their row and column; the 公示 list and the chart render."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook

from townapp.db import Database
from townapp.evaluations.dto import EntryInput
from townapp.evaluations.publicity import chinese_date, distribution_figure, write_publicity_pdf
from townapp.evaluations.service import EvaluationService
from townapp.evaluations.sheets import import_stage_workbook, write_stage_workbook

from .conftest import World, new_round
from .test_household_round import stars, target_ids


def test_a_returned_workbook_with_mistakes_changes_nothing(db: Database, evaluations: EvaluationService,
                                                           world: World, tmp_path: Path) -> None:
    # GIVEN the 评星定级 workbook of the current stage, filled with two mistakes
    service = evaluations
    round_id = new_round(service, world, "village_org_star", 2025)
    book = write_stage_workbook(service, round_id, tmp_path / "镇街考核.xlsx")
    wb = load_workbook(book)
    ws = wb.active
    headers = [c.value for c in ws[2]]
    for row in (3, 4):
        for col in range(5, 30):
            ws.cell(row=row, column=col, value=4)
    ws.cell(row=3, column=headers.index("书记能力突出（4分）") + 1, value=5)
    ws.cell(row=4, column=headers.index("集体经济收入增长（4分）") + 1, value="好")
    wb.save(book)
    # WHEN it is imported
    report = import_stage_workbook(service, round_id, book)
    # THEN it is rejected with each error's row and column, and nothing was saved
    assert not report.accepted
    where = {(issue.row, issue.column) for issue in report.errors}
    assert (3, "书记能力突出（4分）") in where and (4, "集体经济收入增长（4分）") in where
    assert any("应在0至4分之间" in issue.message for issue in report.errors)
    assert not any(r.entered for r in service.sheet(round_id))


def test_a_star_workbook_round_trip(evaluations: EvaluationService, world: World, tmp_path: Path) -> None:
    # GIVEN the household workbook at 户自评 where the clerk types 1/0 and ticks a negative item
    service = evaluations
    round_id = new_round(service, world, "civilized_household", 2025, villages=("东张村",))
    book = write_stage_workbook(service, round_id, tmp_path / "户自评.xlsx")
    wb = load_workbook(book)
    ws = wb.active
    headers = [c.value for c in ws[2]]
    for col in range(5, 15):
        ws.cell(row=3, column=col, value="★")
        ws.cell(row=4, column=col, value=1)
        ws.cell(row=5, column=col, value="☆")
    ws.cell(row=4, column=headers.index("涉黄赌毒（否决）") + 1, value="2025年参与赌博被处罚")
    wb.save(book)
    # WHEN it is imported twice
    first = import_stage_workbook(service, round_id, book)
    second = import_stage_workbook(service, round_id, book)
    # THEN levels follow the stars and the veto, with the note kept; the second import changes nothing new
    assert first.accepted and second.accepted
    rows = {r.label: r for r in service.sheet(round_id)}
    assert (rows["张建国"].level, rows["张立新"].level, rows["张春生"].level) == ("五星", "未评星", "未评星")
    assert rows["张立新"].negatives == {"N02": "2025年参与赌博被处罚"}
    assert first.totals().created == 3 and (second.totals().created, second.totals().unchanged) == (0, 3)


def test_the_publicity_pdf_and_chart(evaluations: EvaluationService, world: World, tmp_path: Path) -> None:
    # GIVEN a household round in 公示
    service = evaluations
    round_id = new_round(service, world, "civilized_household", 2025)
    ids = target_ids(service, round_id)
    service.save_entries([EntryInput(ids[n], "self", stars(k)) for n, k in
                          (("张建国", 10), ("张立新", 8), ("王德明", 6), ("王志强", 7))])
    for _ in range(4):
        service.advance_stage(round_id)
        service.copy_previous_stage(round_id)
    service.advance_stage(round_id, publicity_start=dt.date(2025, 12, 1))
    # WHEN the list and the chart are produced
    pdf = write_publicity_pdf(service, round_id, tmp_path / "公示.pdf")
    figure = distribution_figure(service, round_id)
    # THEN the PDF exists with the bundled font and the chart has a bar per village and level
    assert pdf.read_bytes().startswith(b"%PDF-")
    names, per_village = service.distribution(round_id)
    assert names == ["五星", "四星", "三星", "未评星"]
    assert per_village == [("东张村", {"五星": 1, "四星": 1, "三星": 0, "未评星": 1}),
                           ("西王村", {"五星": 0, "四星": 0, "三星": 2, "未评星": 1})]
    assert len(figure.axes[0].patches) == 8
    assert chinese_date(dt.date(2025, 12, 1)) == "二〇二五年十二月一日"
    assert chinese_date(dt.date(2026, 10, 21)) == "二〇二六年十月二十一日"
