"""整改跟踪 stories: 定级 results become 整顿, 问题清单 and 调整建议, tracked to closure (issue 19, item 3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.evaluations.conftest import World, new_round
from tests.figures import record
from townapp.archives.service import ArchiveService
from townapp.core.actor import ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied, ValidationFailed
from townapp.db import Database
from townapp.evaluations.dto import EntryInput
from townapp.evaluations.service import EvaluationService
from townapp.followup.dto import ItemInput, ProblemData
from townapp.followup.rules import add_months, load_rules, shipped_rules
from townapp.followup.service import FollowUpService
from townapp.followup.sheets import write_adjust_list, write_items

from .conftest import FINALISED, finish, star_round

TOWNSHIP = Actor("组织委员", ROLE_TOWNSHIP)


@pytest.fixture
def rated(evaluations: EvaluationService, world: World) -> int:
    """2025 评星定级 finalised on 31 December: 东张村 二星 (62.5 points), 西王村 三星 (75 points)."""
    return star_round(evaluations, world, {"东张村": Decimal("2.5"), "西王村": Decimal(3)})


def by_village(service: FollowUpService, world: World, **filters: object) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in service.items(**filters):
        out.setdefault(row.village, []).append(row.kind)
    return out


def test_the_shipped_rules_say_where_they_come_from() -> None:
    """GIVEN resources/followup/rules.json WHEN read THEN 二星及以下 → 整顿 (clause 3), 三/四星 → 问题清单 in 3 months,
    头雁 建议调整名单 → 调整建议, and the file names its source practices (扬州, 济南)."""
    rules = {r.id: r for r in shipped_rules()}
    assert rules["org_star_weak"].ranks == [0, 1, 2] and rules["org_star_weak"].clause == "3"
    assert rules["org_star_list"].ranks == [3, 4] and rules["org_star_list"].deadline.months == 3
    assert rules["head_goose_adjust"].flag == "建议调整名单"
    text = Path(__file__).parents[2].joinpath("resources", "followup", "rules.json").read_text(encoding="utf-8")
    assert "扬州" in text and "济南" in text and "_来源" in text
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)


def test_a_broken_rules_file_is_refused_in_chinese(tmp_path: Path) -> None:
    """GIVEN a rule with neither ranks nor flag WHEN loaded THEN a Chinese message names the problem."""
    bad = tmp_path / "rules.json"
    bad.write_text('{"rules": [{"id": "x", "scheme": "village_org_star", "kind": "整顿", "title": "t", '
                   '"clause": "3", "deadline": {"months": 3}}]}', encoding="utf-8")
    with pytest.raises(DomainError, match="ranks"):
        load_rules(bad)


def test_a_two_star_village_gets_one_rectification_proposal_and_again_nothing_new(db: Database, world: World,
                                                                                 rated: int) -> None:
    """GIVEN a finalised 2025 评星定级 round with 东张村 二星 and 西王村 三星
    WHEN propose(2025) runs twice THEN 东张村 has one 整顿 proposal and 西王村 one 问题清单, and the second run adds nothing."""
    service = FollowUpService(db, TOWNSHIP)
    first = service.propose(2025, as_of=dt.date(2026, 1, 5))
    assert first.created == {"整顿": 1, "问题清单": 1, "调整建议": 0}
    assert by_village(service, world) == {"东张村": ["整顿"], "西王村": ["问题清单"]}
    rectify = service.items(kind="整顿")[0]
    assert rectify.status == "拟办" and rectify.source == "2025年度村党组织评星定级：二星"
    assert rectify.deadline == add_months(FINALISED, 12)
    again = service.propose(2025, as_of=dt.date(2026, 1, 6))
    assert again.total == 0 and again.existing == 2
    assert len(service.items()) == 2
    assert "新增拟办整顿1项" in first.describe()
    record("整改跟踪：二星村整顿拟办（两村样例）", first.created["整顿"])


def test_accepting_a_rectification_opens_the_archive_case(db: Database, world: World, rated: int) -> None:
    """GIVEN 东张村's 整顿 proposal WHEN the township accepts it THEN the village archive holds a 软弱涣散 case for 2026
    (整顿 the year after the rating) with clause 3 (组织软弱) and the source in its measures; the item is 整改中 and
    linked; accepting again is refused; proposing again leaves it as it is."""
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    item = service.items(kind="整顿")[0]
    service.accept(item.id, note="包村领导牵头", on=dt.date(2026, 1, 10))
    cases = ArchiveService(db).rectifications(world.villages["东张村"])
    assert [(c.year, c.clauses) for c in cases] == [(2026, ["3"])]
    assert "来源：2025年评星定级 二星" in cases[0].measures
    detail = service.item(item.id)
    assert detail.row.status == "整改中" and detail.rectification_id == cases[0].id
    assert [(h.from_status, h.to_status) for h in detail.history] == [(None, "拟办"), ("拟办", "整改中")]
    assert "一村一档" in detail.history[-1].note
    with pytest.raises(DomainError, match="只有“拟办”"):
        service.accept(item.id)
    service.propose(2025)
    assert service.item(item.id).row.status == "整改中"
    assert len(ArchiveService(db).rectifications(world.villages["东张村"])) == 1


def test_a_rejected_proposal_needs_a_reason_and_stays_rejected(db: Database, world: World, rated: int) -> None:
    """GIVEN the 整顿 proposal WHEN rejected without a reason THEN refused; with one THEN 不予采纳 and proposing again
    does not bring it back."""
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    item = service.items(kind="整顿")[0]
    with pytest.raises(ValidationFailed, match="理由"):
        service.reject(item.id, "不")
    service.reject(item.id, "已列入县级整顿名单统一整顿")
    service.propose(2025)
    assert [(r.kind, r.status) for r in service.items(village_id=world.villages["东张村"])] == [("整顿", "不予采纳")]
    assert ArchiveService(db).rectifications(world.villages["东张村"]) == []


def test_three_star_village_gets_a_problem_list_tracked_to_closure(db: Database, world: World, rated: int) -> None:
    """GIVEN 西王村 rated 三星 with one point lost on each of the 25 indicators
    WHEN proposed and accepted THEN its 问题清单 lists the 25 lost indicators, each due three months after 定级;
    办结 is refused while a problem is open, allowed once every problem is 已销号."""
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    row = service.items(kind="问题清单")[0]
    detail = service.item(row.id)
    assert len(detail.problems) == 25 and row.problems_total == 25
    assert all(p.deadline == dt.date(2026, 3, 31) for p in detail.problems)
    assert detail.problems[0].content.endswith("得3分（满分4分）")
    service.accept(row.id)
    clerk = FollowUpService(db, Actor("西王村文书", ROLE_VILLAGE, world.villages["西王村"]))
    first, *rest = service.item(row.id).problems
    first.status = "已销号"
    clerk.update_progress(row.id, "召开支委会研究整改", [first], on=dt.date(2026, 2, 1))
    assert service.item(row.id).row.problems_open == 24
    with pytest.raises(DomainError, match="24 条问题未销号"):
        service.close(row.id, "整改完成")
    for problem in rest:
        problem.status = "已销号"
    clerk.update_progress(row.id, "全部整改到位", rest, on=dt.date(2026, 3, 20))
    service.close(row.id, "经乡镇党委验收，整改到位", on=dt.date(2026, 3, 25))
    closed = service.item(row.id)
    assert closed.row.status == "已完成" and closed.row.closed_on == dt.date(2026, 3, 25)
    assert closed.result_note == "经乡镇党委验收，整改到位"


def test_overdue_is_counted_by_date(db: Database, world: World, rated: int) -> None:
    """GIVEN both proposals accepted (问题清单 due 2026-03-31, 整顿 due 2026-12-31)
    WHEN counted as of 31 March, 1 April and the next January THEN 0, 1 and 2 are overdue; a closed or rejected
    item is never overdue; one open problem past its own earlier deadline makes its item overdue."""
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    for row in service.items():
        service.accept(row.id)
    assert service.overdue_count(dt.date(2026, 3, 31)) == 0
    assert [r.village for r in service.overdue(dt.date(2026, 4, 1))] == ["西王村"]
    assert service.overdue_count(dt.date(2027, 1, 1)) == 2
    listing = service.items(kind="问题清单")[0]
    problems = service.item(listing.id).problems
    problems[0].deadline = dt.date(2026, 2, 1)
    service.save_problems(listing.id, problems)
    assert [r.village for r in service.items(overdue=True, as_of=dt.date(2026, 2, 2))] == ["西王村"]
    rectify = service.items(kind="整顿")[0]
    service.update_progress(rectify.id, "整顿完成")
    service.close(rectify.id, "验收通过", on=dt.date(2026, 11, 1))
    assert [r.kind for r in service.overdue(dt.date(2027, 1, 1))] == ["问题清单"]
    record("整改跟踪：逾期事项（样例，2027-01-01）", service.overdue_count(dt.date(2027, 1, 1)))


def test_head_goose_flagged_secretary_is_on_the_adjust_list_and_its_export(db: Database, world: World,
                                                                         evaluations: EvaluationService,
                                                                         tmp_path: Path) -> None:
    """GIVEN the first half of 2025's 头雁指数: 张建国 full marks, 王德明 65 points (below the line 70)
    WHEN the round is finalised and proposed THEN 王德明 alone is on the 建议调整名单 shown by the follow-up
    service, a 调整建议 item exists for 西王村, and the exported workbook lists him with that state."""
    round_id = new_round(evaluations, world, "head_goose_index", 2025, 1)
    scheme = evaluations.round(round_id).scheme
    ids = {r.label: r.target_id for r in evaluations.sheet(round_id)}
    full = {i.code: i.max for i in scheme.indicators}
    weak = {code: (value * Decimal("0.65")).quantize(Decimal("0.1")) for code, value in full.items()}
    evaluations.save_entries([EntryInput(ids["张建国"], "township", full),
                              EntryInput(ids["王德明"], "township", weak)])
    service = FollowUpService(db, TOWNSHIP)
    assert [(r.name, r.follow_up) for r in service.adjust_list(round_id)] == [("王德明", "未转整改跟踪")]
    finish(evaluations, round_id, 2025)
    report = service.propose(2025)
    assert report.created["调整建议"] == 1
    item = service.items(kind="调整建议")[0]
    assert (item.village, item.subject, item.status) == ("西王村", "王德明", "拟办")
    assert item.title.startswith("2025年上半年头雁指数较差")
    assert [(r.name, r.follow_up) for r in service.adjust_list(round_id)] == [("王德明", "拟办")]
    choices = service.adjust_rounds()
    assert [(c.id, c.final, c.flagged) for c in choices] == [(round_id, True, 1)]
    out = write_adjust_list(service, round_id, tmp_path / "调整名单.xlsx")
    sheet = load_workbook(out).active
    assert sheet.title == "建议调整名单" and "建议调整名单" in sheet["A1"].value
    assert [c.value for c in sheet[4]][1:3] == ["西王村", "王德明"] and sheet.cell(4, 7).value == "拟办"
    listing = write_items(service.items(), tmp_path / "台账.xlsx", as_of=dt.date(2026, 1, 1))
    assert load_workbook(listing).active.cell(4, 4).value == "调整建议"


def test_a_clerk_sees_and_updates_only_their_own_village(db: Database, world: World, rated: int) -> None:
    """GIVEN proposals for both villages, accepted WHEN 东张村's clerk reads and writes THEN they list only 东张村,
    update its progress, and are refused on 西王村 and for proposing, accepting and closing; 只读 changes nothing."""
    FollowUpService(db, TOWNSHIP).propose(2025)
    for row in FollowUpService(db, TOWNSHIP).items():
        FollowUpService(db, TOWNSHIP).accept(row.id)
    own, other = world.villages["东张村"], world.villages["西王村"]
    clerk = FollowUpService(db, Actor("东张村文书", ROLE_VILLAGE, own))
    assert {r.village for r in clerk.items()} == {"东张村"}
    mine = clerk.items()[0].id
    theirs = FollowUpService(db, TOWNSHIP).items(village_id=other)[0].id
    clerk.update_progress(mine, "制定整顿方案")
    assert clerk.item(mine).progress_note == "制定整顿方案"
    for call in (lambda: clerk.item(theirs), lambda: clerk.items(village_id=other),
                 lambda: clerk.update_progress(theirs, "越权"), lambda: clerk.propose(2025),
                 lambda: clerk.close(mine, "完成"), lambda: clerk.reject(mine, "理由理由"),
                 lambda: clerk.add(ItemInput(own, 2026, "问题清单", "自查", deadline=dt.date(2026, 6, 1)))):
        with pytest.raises(PermissionDenied):
            call()
    reader = FollowUpService(db, Actor("只读", ROLE_READONLY))
    assert len(reader.items()) == 2
    with pytest.raises(PermissionDenied):
        reader.update_progress(mine, "只读")


def test_an_item_added_by_hand_is_tracked_like_the_others(db: Database, world: World) -> None:
    """GIVEN no rating WHEN the township adds an inspection's 问题清单 by hand THEN it is 整改中 with its problems,
    and a second one in the same village and year is a new item, not a clash."""
    service = FollowUpService(db, TOWNSHIP)
    village = world.villages["东张村"]
    first = service.add(ItemInput(village, 2026, "问题清单", "巡察反馈问题", deadline=dt.date(2026, 6, 30),
                                  problems=[ProblemData("三会一课记录不全"), ProblemData("村务公开栏未更新",
                                                                                         dt.date(2026, 5, 1))]))
    second = service.add(ItemInput(village, 2026, "问题清单", "审计反馈问题", deadline=dt.date(2026, 9, 30)))
    assert first != second
    detail = service.item(first)
    assert detail.row.status == "整改中" and [p.deadline for p in detail.problems] == [dt.date(2026, 6, 30),
                                                                                    dt.date(2026, 5, 1)]
    with pytest.raises(ValidationFailed, match="整改期限"):
        service.add(ItemInput(village, 2026, "问题清单", "无期限"))


def test_townapp_check_names_results_not_yet_followed_up(db: Database, world: World, rated: int) -> None:
    """GIVEN the finalised 2025 round and nothing proposed WHEN the follow-up checks run THEN each village the
    rules name is a warning (propose dry-run writes nothing); after propose(2025) none is, and overdue items are
    counted as a fact."""
    from townapp.core.errors import CheckReport
    from townapp.followup.checks import followup_checks

    report, facts = CheckReport(), {}
    followup_checks(db, report, facts, as_of=dt.date(2026, 1, 5))
    assert facts["followup_unproposed"] == 2 and FollowUpService(db).items() == []
    assert any("东张村：2025年评星定级二星" in w for w in report.warnings)
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    for row in service.items():
        service.accept(row.id)
    report, facts = CheckReport(), {}
    followup_checks(db, report, facts, as_of=dt.date(2026, 4, 1))
    assert facts == {"followup_unproposed": 0, "followup_withdrawable": 0, "followup_overdue": 1}
    assert report.warnings == ["整改跟踪：1 项已过整改期限（见“整改跟踪”页，红色）"]


def test_the_clause_matches_why_the_village_was_rated_low(db: Database, world: World,
                                                          evaluations: EvaluationService) -> None:
    """GIVEN 东张村 with full marks but its 书记 punished (F01, capped at 二星)
    WHEN its 整顿 is accepted THEN the archive case names clause 1 (书记不胜任), not the default 3 (组织软弱)."""
    star_round(evaluations, world, {"东张村": Decimal(4), "西王村": Decimal(4)},
               negatives={"东张村": {"F01": "书记受党内警告处分"}})
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    item = service.items(kind="整顿")[0]
    assert (item.village, item.source) == ("东张村", "2025年度村党组织评星定级：二星")
    service.accept(item.id)
    assert ArchiveService(db).rectifications(world.villages["东张村"])[0].clauses == ["1"]


def test_a_problem_list_names_only_indicators_that_lost_more_than_a_fifth(db: Database, world: World,
                                                                           evaluations: EvaluationService) -> None:
    """GIVEN 西王村 with 3.5 of 4 on every indicator (87.5%, above the shipped share 0.8) capped at 三星 by one
    negative item WHEN proposed THEN its 问题清单 lists the negative item only, not 25 half-point losses."""
    star_round(evaluations, world, {"东张村": Decimal(4), "西王村": Decimal("3.5")},
               negatives={"西王村": {"F12": "村务公开栏未按季度更新"}})
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025)
    item = service.items(kind="问题清单")[0]
    assert [p.content for p in service.item(item.id).problems] == [
        "触及负面情形：村务财务公开不规范（村务公开栏未按季度更新）"]


def test_a_proposal_is_withdrawn_when_the_village_is_rated_again_out_of_the_rule(db: Database, world: World,
                                                                                rated: int) -> None:
    """GIVEN 东张村's 整顿 proposal from its 二星 and 西王村's 问题清单 from its 三星
    WHEN the round is unlocked, 东张村 is rated again to 三星 and the round is 定级 again
    THEN `townapp check`'s dry run names the proposal that no longer applies; proposing withdraws it
    (不予采纳, the new result as the reason, in its history) and proposes a 问题清单 for its 三星 instead;
    西王村's item is untouched; AND when 东张村 falls back to 二星 a new 整顿 proposal is made."""
    service = FollowUpService(db, TOWNSHIP)
    service.propose(2025, as_of=dt.date(2026, 1, 5))
    evaluations = EvaluationService(db)
    codes = [i.code for i in evaluations.round(rated).scheme.indicators]

    def rate_again(score: Decimal) -> None:
        evaluations.unlock(rated, "县级联审后更正得分")
        stage = evaluations.round(rated).stage
        target = next(r.target_id for r in evaluations.sheet(rated) if r.village == "东张村")
        evaluations.save_entries([EntryInput(target, stage, dict.fromkeys(codes, score))])
        evaluations.finalise(rated, as_of=dt.date(2026, 1, 10))

    rate_again(Decimal(3))
    dry = service.propose(2025, as_of=dt.date(2026, 1, 11), dry_run=True)
    assert dry.withdrawn == ["东张村：" + service.items(kind="整顿")[0].title]
    assert service.items(kind="整顿")[0].status == "拟办"  # a dry run changes nothing
    done = service.propose(2025, as_of=dt.date(2026, 1, 11))
    assert len(done.withdrawn) == 1 and done.created["问题清单"] == 1 and "已撤回" in done.describe()
    (rectify,) = service.items(kind="整顿")
    assert rectify.status == "不予采纳"
    detail = service.item(rectify.id)
    assert "定级结果已改为“2025年度村党组织评星定级：三星”" in detail.result_note
    assert by_village(service, world, status="拟办") == {"东张村": ["问题清单"], "西王村": ["问题清单"]}
    rate_again(Decimal("2.5"))
    again = service.propose(2025, as_of=dt.date(2026, 1, 12))
    assert again.created["整顿"] == 1 and len(again.withdrawn) == 1  # the 三星's 问题清单 goes in turn
    assert by_village(service, world, status="拟办") == {"东张村": ["整顿"], "西王村": ["问题清单"]}
