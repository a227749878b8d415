"""以星定酬 for every level, from data (issue 19): the star tables, 晋位奖励, the 连续/累计 count, the 150元
supplement, and the stars and the 书记's 考核等级 taken from 定级 instead of typed again."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.evaluations.conftest import build_world, new_round
from tests.evaluations.test_other_schemes import by_label, finish, monthly_scores
from tests.figures import record
from townapp import config
from townapp.archives.dto import PayData, YearData
from townapp.archives.remuneration import (
    STAR_LEVELS,
    PayInputs,
    compute_pay,
    count_streak,
    load_pay_rules,
    pay_rules,
)
from townapp.archives.service import ArchiveService
from townapp.core.errors import ValidationFailed
from townapp.core.resources import ResourceError
from townapp.db import Database
from townapp.evaluations.dto import EntryInput
from townapp.evaluations.service import EvaluationService
from townapp.registry.service import RegistryService

from .conftest import Village


def _levels(scheme: str) -> int:
    return len(json.loads(config.resource("schemes", f"{scheme}.json").read_text(encoding="utf-8"))["levels"])


def test_every_secretary_and_organisation_level_has_a_rising_star_award_yangzhou() -> None:
    """GIVEN the shipped 以星定酬 table (扬州) and the schemes' own levels (书记 一至九星, 村党组织 一至五星)
    WHEN each level's star award is computed
    THEN every level has an entry, the amounts never fall as the star rises, and no 六星+ 书记 gets 0."""
    rules = pay_rules()
    assert STAR_LEVELS == {"secretary_star": _levels("secretary_star"), "org_star": _levels("village_org_star")}
    assert sorted(rules.secretary_star) == list(range(1, 10)) and sorted(rules.org_star) == list(range(1, 6))
    secretary = [compute_pay(PayInputs("书记", secretary_star=star)).star for star in range(1, 10)]
    organisation = [compute_pay(PayInputs("委员", org_star=star)).star for star in range(1, 6)]
    assert secretary == sorted(secretary) and organisation == sorted(organisation)
    assert all(award > secretary[4] for award in secretary[5:])  # 六星–九星 above 五星, never 0
    assert secretary[2:5] == [300_000, 600_000, 1_000_000]  # 三、四、五星 kept as they were
    record("六星及以上书记星级奖励为0的级数", sum(1 for award in secretary[5:] if award == 0))


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["secretary_star"].pop("7"), "缺少7星的金额"),
    (lambda d: d["org_star"].pop("1"), "缺少1星的金额"),
    (lambda d: d["secretary_star"].update({"8": 100}), "8星的金额（100分）低于7星"),
    (lambda d: d["org_star"].update({"6": 400000}), "最高5星"),
])
def test_the_pay_rules_file_refuses_a_missing_or_falling_level(tmp_path: Path, change, expected: str) -> None:  # noqa: ANN001
    """GIVEN a township's own pay rules with a level left out, or paying less for a higher star
    WHEN the file is loaded
    THEN it is refused at start-up, naming the level, in Chinese."""
    data = json.loads(config.resource("archives", "remuneration.json").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "remuneration.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ResourceError) as caught:
        load_pay_rules(path)
    assert expected in caught.value.message and "村干部报酬规则" in caught.value.message


def test_designated_village_supplement_is_150_yuan_a_month_qixingguan() -> None:
    """GIVEN a 委员 of a 深度贫困村 (重点村) and one of an ordinary village, 12 months each
    WHEN their basic pay is computed
    THEN the supplement is 150元 a month (七星关), 1,800元 a year, and the rule names its source."""
    raw = json.loads(config.resource("archives", "remuneration.json").read_text(encoding="utf-8"))
    extra = compute_pay(PayInputs("委员", designated=True)).basic - compute_pay(PayInputs("委员")).basic
    assert pay_rules().designated_monthly_supplement == 15_000 and extra == 180_000
    assert "七星关" in raw["_designated_来源"] and "深度贫困村" in raw["_designated_来源"]


def test_promotion_award_per_level_gained_over_last_years_archive_star_yangzhou(archives: ArchiveService,
                                                                               village: Village) -> None:
    """GIVEN 2024: 书记 三星, 村党组织 三星; 2025: 书记 六星, 村党组织 四星
    WHEN the 2025 pay table is computed
    THEN the 书记 gets 晋位奖励 for 3 secretary levels and 1 organisation level, a 委员 for the organisation's
    level only, each named in the line's remark; a year with no star last year gains nothing."""
    archives.save_year(YearData(village.id, 2024, {"secretary_star": 3, "org_star": 3}))
    archives.save_year(YearData(village.id, 2025, {"secretary_star": 6, "org_star": 4}))
    p = village.people
    archives.save_pay_inputs(village.id, 2025, [PayData(p["张建国"], "书记", 12, "称职"),
                                                PayData(p["李秀英"], "委员", 12, "称职")])
    per_level = pay_rules().promotion_per_level
    lines = {x.name: x for x in archives.pay_table(village.id, 2025).lines}
    assert lines["张建国"].bonus == 3 * per_level["secretary_star"] + per_level["org_star"]
    assert lines["李秀英"].bonus == per_level["org_star"]
    assert "书记星级晋3级" in lines["张建国"].remark and "村党组织星级晋1级" in lines["李秀英"].remark
    assert lines["张建国"].total == (lines["张建国"].basic + lines["张建国"].assessment + lines["张建国"].star
                                     + lines["张建国"].creation + lines["张建国"].bonus)
    assert compute_pay(PayInputs("书记", secretary_star=6, previous_secretary_star=None)).promotion == 0


def test_three_in_a_row_or_five_in_total_at_four_stars_pays_the_streak_award_yangzhou(
        archives: ArchiveService, village: Village) -> None:
    """GIVEN the organisation rated 四星 2019, 2020, 2022, 2024 and 五星 2025 (5 times, never 3 in a row)
    WHEN the 2025 pay table is computed
    THEN the count is shown (连续2年、累计5次，已达到), the 书记 gets the yearly streak award, a 委员 does not
    (both also get the organisation's 晋位奖励 for 四星 → 五星);
    AND 3 in a row (2023–2025) alone is enough, 2 in a row and 4 in total are not."""
    for year, star in ((2019, 4), (2020, 4), (2021, 2), (2022, 4), (2023, 3), (2024, 4), (2025, 5)):
        archives.save_year(YearData(village.id, year, {"org_star": star}))
    p = village.people
    archives.save_pay_inputs(village.id, 2025, [PayData(p["张建国"], "书记", 12, "称职"),
                                                PayData(p["李秀英"], "委员", 12, "称职")])
    table = archives.pay_table(village.id, 2025)
    lines = {x.name: x for x in table.lines}
    assert "连续2年、累计5次" in table.streak and "已达到" in table.streak and table.streak in table.basis
    streak = pay_rules().streak
    promotion = pay_rules().promotion_per_level["org_star"]
    assert streak is not None and lines["张建国"].bonus == streak.amount + promotion
    assert "连续/累计奖励" in lines["张建国"].remark and "连续/累计奖励" not in lines["李秀英"].remark
    assert lines["李秀英"].bonus == promotion
    assert count_streak({2023: 4, 2024: 5, 2025: 4}, 2025, 4).reached(streak)
    assert not count_streak({2022: 4, 2024: 5, 2025: 4}, 2025, 4).reached(streak)  # 2 in a row, 3 in total
    assert not count_streak({2019: 4, 2020: 4, 2022: 4, 2024: 4, 2025: 3}, 2025, 4).reached(streak)  # 0 in a row, 4


# ----- 定级 → archive → pay --------------------------------------------------------------------------
@pytest.fixture
def rated(db: Database, registry: RegistryService) -> tuple[EvaluationService, ArchiveService, int, int]:
    """东张村's 书记 张建国 rated for 2025 through the real workflow: twelve months, four quarters, the year
    round with 年度考核 合格 and 任职10年, 公示 and 定级 (mean 93 → 八星)."""
    world = build_world(registry)
    service = EvaluationService(db)
    assert not service.sync_schemes().refused
    for month in range(1, 13):
        round_id = new_round(service, world, "secretary_monthly", 2025, month, villages=("东张村",))
        service.save_entry(EntryInput(by_label(service, round_id)["张建国"], "township", monthly_scores(93)))
        service.finalise(round_id, as_of=dt.date(2025, month, 28))
    for quarter in range(1, 5):
        service.finalise(new_round(service, world, "secretary_quarterly", 2025, quarter, villages=("东张村",)),
                         as_of=dt.date(2025, 3 * quarter, 28))
    year_round = new_round(service, world, "secretary_star", 2025, villages=("东张村",))
    service.save_entry(EntryInput(by_label(service, year_round)["张建国"], "township",
                                  inputs={"assessment": "合格", "years": Decimal(10)}))
    finish(service, year_round, 2025)
    return service, ArchiveService(db), world.villages["东张村"], world.secretaries["东张村"]


def test_a_finalised_secretary_star_round_feeds_the_archive_and_the_secretarys_pay_row(rated) -> None:  # noqa: ANN001
    """GIVEN 张建国 rated 八星 with 年度考核 合格 in a finalised 2025 round, and no pay row for him yet
    WHEN the archive and the pay table are read
    THEN the archive's 书记星级 is 8 (来自评星定级), his pay row exists with 考核等级 称职 read from the round
    (来源 shown), and the pay table pays the 八星 award and the 称职 amount from those."""
    _service, archives, village_id, secretary = rated
    year = archives.year(village_id, 2025)
    assert year.values["secretary_star"] == 8 and "来自评星定级" in year.sources["secretary_star"]
    (row,) = archives.pay_inputs(village_id, 2025)
    assert (row.person_id, row.post, row.months, row.grade) == (secretary, "书记", 12, "称职")
    assert "年度考核结果：合格" in row.grade_source
    (line,) = archives.pay_table(village_id, 2025).lines
    rules = pay_rules()
    assert line.star == rules.secretary_star[8] and line.assessment == rules.assessment["称职"]
    assert "考核等级来自书记星级化管理年度考核" in line.remark
    assert "书记星级：8（来自评星定级）" in archives.pay_table(village_id, 2025).basis


def test_a_hand_edit_differing_from_the_rated_star_or_grade_is_refused(rated) -> None:  # noqa: ANN001
    """GIVEN the finalised 八星 / 合格 of 东张村's 书记
    WHEN someone types 书记星级 5 into the archive, or 优秀 as his 考核等级
    THEN both are refused with a Chinese message naming 评星定级 and the rated value; saving the rated
    value (or other figures unchanged) still works."""
    _service, archives, village_id, secretary = rated
    with pytest.raises(ValidationFailed) as caught:
        archives.save_year(YearData(village_id, 2025, {"secretary_star": 5}))
    message = caught.value.message
    assert "书记星级" in message and "来自评星定级" in message and "8星" in message and "不能手工改为“5星”" in message
    archives.save_year(YearData(village_id, 2025, {"secretary_star": 8, "total_income": 100}))
    with pytest.raises(ValidationFailed) as caught:
        archives.save_pay_inputs(village_id, 2025, [PayData(secretary, "书记", 12, "优秀")])
    assert "书记的考核等级" in caught.value.message and "应为“称职”" in caught.value.message
    archives.save_pay_inputs(village_id, 2025, archives.pay_inputs(village_id, 2025))


def test_townapp_check_lists_an_archive_star_that_differs_from_its_rating(rated) -> None:  # noqa: ANN001
    """GIVEN 东张村's 书记 rated 八星, and the archive's 书记星级 overwritten with 5 behind the service's back
    (as the old demo and old imports did)
    WHEN the results are compared (townapp check: townapp/consistency.py, the one place that compares them)
    THEN the difference is an error naming both values; with the rated value back there is none."""
    from townapp.archives import models as a
    from townapp.consistency import result_mismatches

    service, archives, village_id, _secretary = rated
    with archives.db.unit_of_work(archives.actor) as s:
        s.query(a.ArchiveYear).filter_by(village_id=village_id, year=2025).update({"secretary_star": 5})
    found = [x for x in result_mismatches(archives.db) if x.where == "一村一档" and x.village_id == village_id]
    assert [x.field for x in found] == ["secretary_star"]
    assert "“五星”" in found[0].message and "“八星”" in found[0].message
    result = service.village_results("secretary_star", 2025)[village_id]
    archives.set_rating_from_evaluation(village_id, 2025, "secretary_star", result.rank, "2025年书记星级",
                                        person_id=result.ref_id, inputs=result.inputs)
    assert not [x for x in result_mismatches(archives.db) if x.where == "一村一档" and x.village_id == village_id]
