"""Indicators computed where the data exists (issue 19 item 4): filled from the figures, shown with their
source, changed only with a reason kept with the entry and in the round's log."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from townapp.archives.dto import CentreData, MeetingData
from townapp.archives.service import ArchiveService
from townapp.core.errors import DomainError, ValidationFailed
from townapp.db import Database
from townapp.evaluations import models as e
from townapp.evaluations.computed import FigureData, compute
from townapp.evaluations.dto import EntryInput
from townapp.evaluations.schemes import SchemeError, parse_text
from townapp.evaluations.service import EvaluationService
from townapp.evaluations.sheets import import_stage_workbook, write_stage_workbook
from townapp.figures import figure_registry
from townapp.outputs.figures import Figure, FigureRegistry

from .conftest import World, new_round

YEAR = 2025


@pytest.fixture
def computing(db: Database) -> EvaluationService:
    """The service as the composition root builds it: every module's figures handed in."""
    service = EvaluationService(db, figures=lambda: figure_registry(db))
    assert not service.sync_schemes().refused
    return service


def _year(archives: ArchiveService, village_id: int, year: int, **values: int) -> None:
    data = archives.year(village_id, year)
    data.values.update(values)
    archives.save_year(data)


def _rows(service: EvaluationService, round_id: int) -> dict[str, object]:
    return {r.label: r for r in service.sheet(round_id)}


def test_creation_checks_are_filled_from_the_archive_with_their_source(db: Database, world: World,
                                                                       computing: EvaluationService) -> None:
    """GIVEN 东张村's 2025 archive: 经营性收入 4.2万元, no new debt, a 260 m² 党群服务中心, every 三会一课 held;
    西王村 has no 2025 figures and no centre on file
    WHEN a 2025 规范·示范·典范 round is created
    THEN 东张村's income, centre and meeting standards are filled and say where they come from,
    the 10万 standard is not met and says why; 西王村's stay empty, to be typed by hand."""
    archives = ArchiveService(db)
    east, west = world.villages["东张村"], world.villages["西王村"]
    _year(archives, east, YEAR - 1, org_star=3)
    _year(archives, east, YEAR, business_income=4_200_000, debt_new=0, org_star=4)
    _year(archives, west, YEAR - 1, business_income=9_000_000)  # an older year is not this year's income
    archives.save_centre(east, CentreData(area_m2=Decimal("260")))
    for month in range(1, 13):
        for kind in ("支委会", "主题党日") + (("支部党员大会", "党课") if month % 3 == 0 else ()):
            archives.save_meeting(east, MeetingData(dt.date(YEAR, month, 10), kind, f"{month}月{kind}"))

    round_id = new_round(computing, world, "village_creation", YEAR)
    rows = _rows(computing, round_id)
    east_row, west_row = rows["东张村党组织"], rows["西王村党组织"]
    assert east_row.scores["K16"] == 1
    assert east_row.sources["K16"] == "一村一档 2025年经营性收入 4.20万元 ≥ 3万元"
    assert east_row.scores["K17"] == 0
    assert east_row.sources["K17"] == "一村一档 2025年：经营性收入 4.20万元 < 10万元；新增村级债务 0.00万元 ≤ 0元"
    assert east_row.scores["K10"] == 1 and "260.00平方米 ≥ 200平方米" in east_row.sources["K10"]
    assert east_row.scores["K07"] == 1 and "支委会次数 12次 ≥ 12次" in east_row.sources["K07"]
    assert east_row.note("K16") == "来源：一村一档 2025年经营性收入 4.20万元 ≥ 3万元"
    assert east_row.scores["K02"] == 1
    assert east_row.sources["K02"] == "一村一档 2025年连续两年中较低的村党组织星级 3星 ≥ 3星"
    assert not {"K02", "K16", "K17", "K18", "K10"} & set(west_row.sources)
    assert "K16" not in west_row.scores  # typed by hand, as before


def test_a_computed_value_changes_only_with_a_reason_kept_with_the_entry_and_in_the_log(
        db: Database, world: World, computing: EvaluationService) -> None:
    """GIVEN a round where 东张村's 经营性收入 standard was computed as met
    WHEN the township marks it not met without a reason THEN it is refused, naming the source;
    WHEN with a reason THEN it is kept in the entry's JSON and the round's log, and the sheet says 已人工调整（理由）;
    WHEN the row is saved again unchanged THEN the reason stands; WHEN the cell is cleared THEN the computed value
    is back and the reason gone."""
    _year(ArchiveService(db), world.villages["东张村"], YEAR, business_income=4_200_000)
    round_id = new_round(computing, world, "village_creation", YEAR)
    target = _rows(computing, round_id)["东张村党组织"].target_id

    with pytest.raises(ValidationFailed) as refused:
        computing.save_entry(EntryInput(target, "apply", {"K16": Decimal(0)}, reasons={"K16": "有误"}))
    assert "由数据计算得出（一村一档 2025年经营性收入 4.20万元 ≥ 3万元），修改须在评分表中填写理由（至少4个字）" in refused.value.message

    row = computing.save_entry(EntryInput(target, "apply", {"K16": Decimal(0)},
                                          reasons={"K16": "收入含一次性补助，核减后不足"}))
    assert row.scores["K16"] == 0 and row.overrides == {"K16": "收入含一次性补助，核减后不足"}
    assert row.note("K16").endswith("；已人工调整（收入含一次性补助，核减后不足）")
    with db.reader() as s:
        stored = json.loads(s.scalar(select(e.EvalEntry.scores).where(e.EvalEntry.target_id == target)))
    assert stored["_overrides"] == {"K16": "收入含一次性补助，核减后不足"} and stored["K16"] == "0"
    (event,) = [x for x in computing.events(round_id) if x.action == "人工调整"]
    assert event.detail == "东张村党组织“集体经济年经营性收入 ≥ 3万元”：计算值达标改为未达标，理由：收入含一次性补助，核减后不足"

    again = computing.save_entry(EntryInput(target, "apply", dict(row.scores), comment="补充说明"))
    assert again.scores["K16"] == 0 and again.overrides == {"K16": "收入含一次性补助，核减后不足"}

    back = computing.save_entry(EntryInput(target, "apply", {"K16": None}))
    assert back.scores["K16"] == 1 and back.overrides == {}


def test_refresh_reads_figures_entered_after_the_round_began(db: Database, world: World,
                                                             computing: EvaluationService) -> None:
    """GIVEN a round created before 东张村's 2025 accounts were entered (the standard is typed by hand)
    WHEN the accounts are entered and the round recomputed THEN the standard is filled, the level follows,
    and the log says how many values changed; a second refresh changes nothing."""
    round_id = new_round(computing, world, "village_creation", YEAR)
    assert "K16" not in _rows(computing, round_id)["东张村党组织"].sources
    _year(ArchiveService(db), world.villages["东张村"], YEAR, business_income=35_000_000, debt_new=0)
    changed = computing.refresh_computed(round_id)
    row = _rows(computing, round_id)["东张村党组织"]
    assert changed == 3 and (row.scores["K16"], row.scores["K17"], row.scores["K18"]) == (1, 1, 1)
    assert any(x.action == "计算" and "3 项" in x.detail for x in computing.events(round_id))
    assert computing.refresh_computed(round_id) == 0


def test_a_figure_changed_after_the_publicity_stops_the_finalising_until_recomputed(
        db: Database, world: World, computing: EvaluationService) -> None:
    """GIVEN a 2025 评星定级 round whose 公示 is over, its debt indicator computed from the archive (no new debt)
    WHEN 东张村's new debt is entered afterwards and the township tries 定级
    THEN it is refused, naming the village (the 公示 showed another result); after 重新计算 it goes through."""
    from .test_other_schemes import finish

    archives = ArchiveService(db)
    _year(archives, world.villages["东张村"], YEAR, debt_new=0)
    round_id = new_round(computing, world, "village_org_star", YEAR)
    assert "C5" in _rows(computing, round_id)["东张村党组织"].sources
    _year(archives, world.villages["东张村"], YEAR, debt_new=5_000_000)
    with pytest.raises(DomainError, match="东张村党组织.*重新计算"):
        finish(computing, round_id, YEAR)
    computing.refresh_computed(round_id)
    computing.finalise(round_id, as_of=dt.date(YEAR, 12, 31))
    assert computing.round(round_id).locked


def test_org_star_points_come_from_the_meeting_ledger_and_the_debt(db: Database, world: World,
                                                                   computing: EvaluationService) -> None:
    """GIVEN 东张村 held only 3 of 12 支委会 in 2025 and took on no new debt
    WHEN a 2025 评星定级 round is created THEN 组织生活正常 scores 0 and 无新增债务 its full 4 points, with sources."""
    archives = ArchiveService(db)
    east = world.villages["东张村"]
    _year(archives, east, YEAR, business_income=4_200_000, debt_new=0)
    for month in (3, 6, 9):
        archives.save_meeting(east, MeetingData(dt.date(YEAR, month, 5), "支委会", "支委会"))
    round_id = new_round(computing, world, "village_org_star", YEAR)
    row = _rows(computing, round_id)["东张村党组织"]
    assert row.scores["A3"] == 0 and "支委会次数 3次 < 12次" in row.sources["A3"]
    assert row.scores["C5"] == 4 and row.sources["C5"] == "一村一档 2025年新增村级债务 0.00万元 ≤ 0元"
    assert row.measure == 4  # the rest is still to be typed


def test_without_figures_every_indicator_is_typed_by_hand(db: Database, world: World,
                                                          evaluations: EvaluationService) -> None:
    """GIVEN a service built without figures (a read-only caller) WHEN a round is created THEN nothing is filled."""
    _year(ArchiveService(db), world.villages["东张村"], YEAR, business_income=4_200_000)
    round_id = new_round(evaluations, world, "village_creation", YEAR)
    assert all(not r.sources and not r.scores for r in evaluations.sheet(round_id))


def _figures(**values: tuple[str, str, object]) -> dict[str, FigureData]:
    return {key: FigureData(label, kind, {1: value}) for key, (label, kind, value) in values.items()}


def test_shares_other_figures_and_text_levels_read_as_a_person_would() -> None:
    """GIVEN conditions on a share, on another figure and on a star level
    THEN each reads as a sentence with its numbers; missing data gives no value (typed by hand)."""
    scheme = parse_text(json.dumps({
        "key": "computed_demo", "name": "试算", "target": "village_org", "period": "year", "measure": "checks",
        "categories": [{"name": "甲", "indicators": [
            {"code": "X1", "name": "星级户占60%", "level": "合格", "computed": {"source": "星级文明户评定", "all": [
                {"figure": "stars", "share_of": "households", "min": 60}]}},
            {"code": "X2", "name": "设岗定责全覆盖", "level": "合格", "computed": {"source": "党员名册", "all": [
                {"figure": "posts", "min_figure": "members", "unit": "人"}]}},
            {"code": "X3", "name": "书记五星以上", "level": "合格", "computed": {"source": "书记星级评定", "all": [
                {"figure": "secretary", "min": 5, "unit": "星"}]}},
            {"code": "X4", "name": "党组织五星", "level": "合格", "computed": {"source": "评星定级", "all": [
                {"figure": "org", "equals": "五星"}]}}]}],
        "levels": [{"name": "合格"}], "unrated": "不合格",
        "stages": [{"key": "s", "name": "评", "actor": "乡镇"}]}, ensure_ascii=False), "试算")
    figures = _figures(stars=("星级户数", "count", 62), households=("户数", "count", 100),
                       posts=("设岗定责党员", "count", 20), members=("党员总数", "count", 21),
                       secretary=("书记星级", "text", "六星"), org=("评星定级星级", "text", ""))
    by_code = {i.code: i for i in scheme.indicators}
    x1, x2, x3 = (compute(by_code[c], "checks", 1, figures, "2025年") for c in ("X1", "X2", "X3"))
    assert (x1.value, x1.source) == (1, "星级文明户评定 2025年星级户数占户数 62% ≥ 60%")
    assert (x2.value, x2.source) == (0, "党员名册 2025年设岗定责党员 20人 < 党员总数 21人")
    assert (x3.value, x3.source) == (1, "书记星级评定 2025年书记星级 6星 ≥ 5星")
    assert compute(by_code["X4"], "checks", 1, figures, "2025年") is None  # no 评星定级 yet: typed by hand


def _scheme_with(target: str, condition: dict) -> str:
    return json.dumps({
        "key": "bad_computed", "name": "试算", "target": target, "period": "year", "measure": "stars",
        "categories": [{"name": "甲", "indicators": [{"code": "S1", "name": "一", "computed": {
            "source": "一村一档", "all": [condition]}}]}],
        "levels": [{"name": "一星", "min": 1}], "unrated": "无",
        "stages": [{"key": "s", "name": "评", "actor": "乡镇"}]}, ensure_ascii=False)


def test_a_computed_source_is_refused_where_it_cannot_hold() -> None:
    """GIVEN a household scheme naming a village figure, or a condition with two comparisons
    THEN each is refused in Chinese at its place."""
    with pytest.raises(SchemeError) as refused:
        parse_text(_scheme_with("household", {"figure": "org.business_income_fen", "min": 1}), "试算")
    assert "只有以村为对象的方案（村党组织、村党组织书记）可以由数据计算指标" in refused.value.message
    with pytest.raises(SchemeError) as refused:
        parse_text(_scheme_with("village_org", {"figure": "org.business_income_fen", "min": 1, "max": 2}), "试算")
    assert "应有且只有一个比较" in refused.value.message


def test_a_figure_registry_can_be_handed_in(db: Database, world: World) -> None:
    """GIVEN a registry with one hand-made figure (the composition point is the caller's)
    WHEN a round is created THEN that figure fills the standard that names it."""
    def income(_s, _period, village_ids):  # noqa: ANN001, ANN202
        return dict.fromkeys(village_ids, 31_000 * 100)

    registry = FigureRegistry.of([Figure("org.business_income_fen", "经营性收入", income, "fen"),
                                  Figure("org.year_on_file", "本年有数据", lambda _s, _p, v: dict.fromkeys(v, 1))])
    service = EvaluationService(db, figures=lambda: registry)
    service.sync_schemes()
    round_id = new_round(service, world, "village_creation", YEAR)
    row = _rows(service, round_id)["东张村党组织"]
    assert row.sources["K16"] == "一村一档 2025年经营性收入 3.10万元 ≥ 3万元" and row.scores["K18"] == 0


def test_a_returned_workbook_keeps_computed_values_and_cannot_change_them_without_a_reason(
        db: Database, world: World, computing: EvaluationService, tmp_path: Path) -> None:
    """GIVEN 东张村's 规范 income standard computed as met and the village's workbook for 村申报
    WHEN it comes back with the computed cell as exported THEN it is accepted and the value stays computed;
    a second time it changes nothing; WHEN the cell is changed THEN the import is refused at that cell,
    saying the value comes from the data and is changed on the score sheet with a reason."""
    _year(ArchiveService(db), world.villages["东张村"], YEAR, business_income=4_200_000)
    round_id = new_round(computing, world, "village_creation", YEAR, villages=("东张村",))
    book = write_stage_workbook(computing, round_id, tmp_path / "村申报.xlsx")
    wb = load_workbook(book)
    ws = wb.active
    headers = [c.value for c in ws[2]]
    column = next(i for i, h in enumerate(headers) if h and str(h).startswith("集体经济年经营性收入 ≥ 3万元")) + 1
    assert ws.cell(row=3, column=column).value in (1, "1", "√", "✓", "达标")
    assert ws.cell(row=3, column=column).comment.text == "来源：一村一档 2025年经营性收入 4.20万元 ≥ 3万元"
    ws.cell(row=3, column=headers.index("申报等级") + 1, value="规范")
    wb.save(book)
    first = import_stage_workbook(computing, round_id, book)
    second = import_stage_workbook(computing, round_id, book)
    assert first.accepted and second.accepted and second.totals().unchanged == 1
    (row,) = computing.sheet(round_id)
    assert row.scores["K16"] == 1 and "K16" in row.sources and row.overrides == {}

    ws.cell(row=3, column=column, value=0)
    wb.save(book)
    refused = import_stage_workbook(computing, round_id, book)
    assert not refused.accepted
    assert any("由数据计算得出" in issue.message and "在评分表中填写理由" in issue.message for issue in refused.errors)


def test_the_printed_standards_follow_the_townships_edited_scheme(evaluations: EvaluationService) -> None:
    """GIVEN the township edits the creation scheme in the program (规范 income raised to 4万)
    THEN the standards the archive prints come from the edited version: the number is written once."""
    info = next(i for i in evaluations.schemes() if i.key == "village_creation")
    text = evaluations.scheme_text(info.id).replace("集体经济年经营性收入 ≥ 3万元", "集体经济年经营性收入 ≥ 4万元")
    evaluations.save_scheme(text.replace('"min": 30000', '"min": 40000'))
    standards = evaluations.level_standards("village_creation")
    assert "集体经济年经营性收入 ≥ 4万元" in standards["规范"] and standards["示范"][0] == "达到规范村全部标准"
    assert evaluations.level_standards("civilized_household") == {}  # not a check scheme: nothing to print
