"""The quarterly return (季度报表): every figure on a hand-made township, totals, invariants, files, history.

Stories: the 组织委员 exports the second quarter of 2026; each number on the
return is the one the fixture was built to give; totals are the sums of the
rows; the workbook reads back (python-calamine) with the same figures, prints
A4 landscape fitted to width with the header rows repeated, and LibreOffice
converts it; cancelling leaves no file; a column added to a layout file needs
no code.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from townapp import cli, config
from townapp.core.errors import Cancelled
from townapp.db import Database
from townapp.figures import figure_registry, unit_source
from townapp.outputs.figures import Period
from townapp.outputs.quarterly import ReturnService
from townapp.outputs.returns import QuarterlyReturn, build_return, load_layouts
from townapp.points.service import PointsService

from .town import Town, build_town

Q2 = Period(2026, 2)
FILLED = dt.date(2026, 7, 3)


@pytest.fixture
def town(db: Database) -> Town:
    return build_town(db)


def _return(db: Database, period: Period = Q2, **kw) -> QuarterlyReturn:  # noqa: ANN003
    return ReturnService(db, figure_registry(db), unit_source()).build(period, filled_on=FILLED, filler="王会计",
                                                                       phone="0359-4011234", **kw)


def _rows(ret: QuarterlyReturn, key: str) -> dict[str, dict[str, object]]:
    table = ret.table(key)
    return {row.label: {c.header: v for c, v in zip(table.layout.columns, row.values, strict=True)}
            for row in table.rows}


def test_every_figure_of_the_return_on_the_hand_made_township(db: Database, town: Town) -> None:
    # GIVEN two villages built so that every figure is known (tests/outputs/town.py says why)
    # WHEN the second quarter of 2026 is computed
    ret = _return(db)
    # THEN the party table counts the roll as it stood on 30 June
    party = _rows(ret, "party_members")
    assert list(party["甲村"].values()) == [3, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 0]
    assert list(party["乙村"].values()) == [2, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1]
    # AND star households come from the round finalised by then, the revoked title left out
    stars = _rows(ret, "star_households")
    assert stars["甲村"] == {"总户数": 3, "参评户数": 3, "三星": 1, "四星": 0, "五星": 1, "星级户占比": Decimal("0.6667")}
    assert stars["乙村"] == {"总户数": 2, "参评户数": 2, "三星": 1, "四星": 0, "五星": 0, "星级户占比": Decimal("0.5000")}
    assert stars["合计"]["星级户占比"] == Decimal("0.6000")
    # AND grids: the retired 网格 and the members not serving on 30 June do not count; only May was approved
    grids = _rows(ret, "grids")
    assert list(grids["甲村"].values()) == [1, 1, 1, 1, 0, 0, 0, 0, 2, 1, Decimal("800.00"), 1]
    assert list(grids["乙村"].values()) == [0, 0, 1, 0, 0, 0, 0, 0, 1, 1, Decimal("0.00"), 0]
    # AND village organisation: the evaluated star wins over the archive's, the archive fills what is missing
    org = _rows(ret, "village_org")
    assert list(org["甲村"].values()) == ["四星", "", "否", "", Decimal("1500000.00"), Decimal("1000000.00"),
                                        Decimal("20000.00"), "是", Decimal("350.50"), 3, 1]
    assert list(org["乙村"].values()) == ["", "四星", "是", "整顿中", Decimal("500000.00"), Decimal("300000.00"),
                                        Decimal("0.00"), "否", Decimal("0.00"), 0, 0]
    assert org["合计"]["是否"] == 1 and org["合计"]["运转经费到位"] == 1
    # AND the points table shows the points module's own summaries (its rules decide who takes part)
    points = _rows(ret, "points")
    summaries = {g.id: g for g in PointsService(db).village_summaries(2026, as_of=Q2.end)}
    for village_id, name in ((town.village_a, "甲村"), (town.village_b, "乙村")):
        mine, theirs = points[name], summaries[village_id]
        assert mine["参与积分人数"] == theirs.participants
        assert mine["平均分"] == theirs.average
        # grades are annual: a Q2 return leaves them blank instead of grading half a year as 不合格
        assert [mine[g] for g in ("优秀", "合格", "基本合格", "不合格")] == [None] * 4
        assert theirs.grades["年度未结束"] == theirs.participants
    assert ret.missing_figures == ()


def test_totals_row_is_the_sum_of_its_rows_in_every_summed_column(db: Database, town: Town) -> None:
    ret = _return(db)
    for table in ret.tables:
        for index, column in enumerate(table.layout.columns):
            if column.total != "sum":
                continue
            cells = [r.values[index] for r in table.body]
            if all(c is None for c in cells):  # a figure not known yet (grades before the year ends): "—" too
                assert table.total.values[index] is None, (table.layout.sheet, column.header)
                continue
            body = sum((Decimal(c) for c in cells), Decimal(0))
            assert Decimal(table.total.values[index]) == body, (table.layout.sheet, column.header)


def test_cross_table_invariants(db: Database, town: Town) -> None:
    ret = _return(db)
    party, stars, grids = _rows(ret, "party_members"), _rows(ret, "star_households"), _rows(ret, "grids")
    for name in party:
        assert party[name]["正式"] + party[name]["预备"] == party[name]["党员总数"]
        assert party[name]["35岁及以下"] + party[name]["36–60岁"] + party[name]["61岁及以上"] == party[name]["党员总数"]
        star_households = stars[name]["三星"] + stars[name]["四星"] + stars[name]["五星"]
        assert star_households <= stars[name]["参评户数"] <= stars[name]["总户数"]
        assert grids[name]["已覆盖户数"] + grids[name]["未覆盖户数"] == stars[name]["总户数"]


def test_same_data_gives_the_same_figures_every_time(db: Database, town: Town) -> None:
    first, second = _return(db), _return(db)
    assert [t.rows for t in first.tables] == [t.rows for t in second.tables]


def test_workbook_reads_back_with_the_same_figures_and_prints_as_a_return(db: Database, town: Town,
                                                                          tmp_path: Path) -> None:
    # GIVEN the computed return
    service = ReturnService(db, figure_registry(db), unit_source())
    ret = _return(db)
    # WHEN it is exported as a workbook
    out = service.export(ret, tmp_path / "季度报表.xlsx").xlsx
    # THEN python-calamine reads back the same figures, sheet by sheet, total row included
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["党员队伍", "党员积分", "星级文明户", "网格化管理", "村级组织建设"]
    for table in ret.tables:
        cells = book.get_sheet_by_name(table.layout.sheet).to_python()
        assert cells[0][0] == table.title
        assert "填报单位：临晋镇" in cells[2][0] and "2026年7月3日" in "".join(map(str, cells[2]))
        for offset, row in enumerate(table.rows):
            line = cells[5 + offset]
            assert line[0] == row.label
            for value, got in zip(row.values, line[1:], strict=False):
                if isinstance(value, str):
                    assert got == value
                elif value is None:
                    assert got == ""
                else:
                    assert Decimal(str(got)) == Decimal(value), (table.layout.sheet, row.label)
        assert "填报人：王会计" in cells[5 + len(table.rows) + 1][0]
    # AND each sheet is set up to print: A4 landscape, fit to width, header rows repeated, borders
    sheet = load_workbook(out)["党员队伍"]
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$4:$5"
    assert sheet["C4"].value == "党员类别" and sheet["C5"].value == "正式" and sheet["B4"].value == "党员总数"
    assert sheet["B6"].border.left.style == "thin"
    # AND the export is in the returns history
    history = service.history()
    assert [(h.year, h.quarter, h.file_kind) for h in history] == [(2026, 2, "xlsx")]
    assert Path(history[0].path) == out.resolve()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice（libreoffice-calc）未安装")
def test_libreoffice_opens_the_workbook(db: Database, town: Town, tmp_path: Path) -> None:
    out = ReturnService(db, figure_registry(db), unit_source()).export(_return(db), tmp_path / "q.xlsx").xlsx
    profile = tmp_path / "lo-profile"
    done = subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                           "pdf", "--outdir", str(tmp_path / "lo"), str(out)], capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr
    converted = tmp_path / "lo" / "q.pdf"
    assert converted.is_file() and converted.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(converted), "-"], capture_output=True, text=True).stdout
    assert "临晋镇党员队伍基本情况统计表" in text and "甲村" in text


def test_pdf_has_every_table_and_the_charts(db: Database, town: Town, tmp_path: Path) -> None:
    from pypdf import PdfReader

    result = ReturnService(db, figure_registry(db), unit_source()).export(_return(db), tmp_path / "q.xlsx",
                                                                          tmp_path / "q.pdf")
    reader = PdfReader(str(result.pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for title in ("党员队伍基本情况统计表", "党员积分管理情况统计表", "星级文明户创建情况统计表", "网格化管理情况统计表",
                  "村级组织建设情况统计表", "2026年第二季度图表"):
        assert title in text
    charts = reader.pages[-1]["/Resources"]["/XObject"]
    assert len([x for x in charts.values() if x.get_object()["/Subtype"] == "/Image"]) == 4


def test_cancelling_an_export_leaves_no_file_and_no_history(db: Database, town: Town, tmp_path: Path) -> None:
    service = ReturnService(db, figure_registry(db), unit_source())
    ret = _return(db)
    calls = [0]

    def cancel() -> bool:
        calls[0] += 1
        return calls[0] > 2  # while the workbook is being written to its temporary file

    out = tmp_path / "U盘"
    with pytest.raises(Cancelled):
        service.export(ret, out / "q.xlsx", out / "q.pdf", cancel=cancel)
    assert calls[0] == 3 and sorted(p.name for p in out.iterdir()) == []  # not even a temporary file
    assert service.history() == []


def test_cancelling_the_computation_stops_it(db: Database, town: Town) -> None:
    with pytest.raises(Cancelled):
        _return(db, cancel=lambda: True)


def test_a_column_added_to_a_layout_file_needs_no_code(db: Database, town: Town, tmp_path: Path) -> None:
    # GIVEN the county's template wants 女党员占比 in the party table
    folder = tmp_path / "returns"
    shutil.copytree(config.resource("returns"), folder)
    path = folder / "01_party_members.json"
    layout = json.loads(path.read_text(encoding="utf-8"))
    layout["columns"].append({"header": "女党员占比", "ratio": ["party.members_female", "party.members_total"],
                              "format": "percent"})
    path.write_text(json.dumps(layout, ensure_ascii=False), encoding="utf-8")
    # WHEN the return is built with those layouts
    with db.reader() as s:
        ret = build_return(s, figure_registry(db), unit_source(), Q2, layouts=load_layouts(folder))
    # THEN the new column is there, total computed from the summed parts
    party = _rows(ret, "party_members")
    assert party["甲村"]["女党员占比"] == Decimal("0.3333") and party["合计"]["女党员占比"] == Decimal("0.4000")


def test_a_figure_nobody_provides_shows_zero_and_is_reported(db: Database, town: Town, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    shutil.copytree(config.resource("returns"), folder)
    path = folder / "03_star_households.json"
    layout = json.loads(path.read_text(encoding="utf-8"))
    layout["columns"].append({"header": "示范户", "figure": "stars.model_households"})
    path.write_text(json.dumps(layout, ensure_ascii=False), encoding="utf-8")
    with db.reader() as s:
        ret = build_return(s, figure_registry(db), unit_source(), Q2, layouts=load_layouts(folder))
    assert ret.missing_figures == ("stars.model_households",)
    assert [r.values[-1] for r in ret.table("star_households").rows] == [0, 0, 0]


def test_cli_exports_the_quarter(db: Database, town: Town, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = db.location
    db.dispose()
    code = cli.main(["export", "quarterly", "--db", path, "--year", "2026", "--quarter", "2",
                     "--out", str(tmp_path / "q.xlsx"), "--pdf", str(tmp_path / "q.pdf")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "q.xlsx").is_file() and (tmp_path / "q.pdf").read_bytes().startswith(b"%PDF-")
    assert "已导出2026年第二季度季度报表" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:  # a fifth quarter is a usage error
        cli.main(["export", "quarterly", "--db", path, "--year", "2026", "--quarter", "5",
                  "--out", str(tmp_path / "x.xlsx")])
    assert exit_info.value.code == 2 and not (tmp_path / "x.xlsx").exists()


def test_a_county_database_has_one_row_per_township_and_a_county_total(empty_db: Database) -> None:
    from townapp.registry import models as m
    from townapp.registry.service import RegistryService

    # GIVEN a county database with two townships, three villages and their households
    registry = RegistryService(empty_db)
    registry.initialise("county", "临猗县", "140821")
    first, second = registry.add_township("140821100", "临晋镇"), registry.add_township("140821101", "猗氏镇")
    with empty_db.unit_of_work() as s:
        for township, code, households in ((first, "140821100201", 3), (first, "140821100202", 2),
                                           (second, "140821101201", 4)):
            village = m.Village(township_id=township, code=code, name=f"村{code[-3:]}")
            s.add(village)
            s.flush()
            s.add_all([m.Household(village_id=village.id, number=str(n)) for n in range(households)])
    # WHEN the return is built
    ret = _return(empty_db)
    # THEN the rows are the townships, the last the county total
    stars = _rows(ret, "star_households")
    assert list(stars) == ["临晋镇", "猗氏镇", "全县合计"]
    assert [row["总户数"] for row in stars.values()] == [5, 4, 9]
    assert ret.table("party_members").row_header == "乡镇"
    assert ret.unit_name == "临猗县" and ret.tables[0].title == "临猗县党员队伍基本情况统计表"
