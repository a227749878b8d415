"""The source practices' numbers as shipped defaults (issue 19 item 5), each with its note naming the source.

One test per default; its name names the source practice (临猗, 济南/扬州 …).
"""

from __future__ import annotations

import json

import pytest

from tests.grids.conftest import APPROVER, MONTH, YEAR, approved, grids, village  # noqa: F401  (fixtures)
from townapp import config
from townapp.archives.printable import archive_document
from townapp.archives.service import ArchiveService
from townapp.core.errors import DomainError
from townapp.db import Database
from townapp.evaluations.engine import EntryData, evaluate
from townapp.evaluations.schemes import load_file
from townapp.evaluations.service import EvaluationService
from townapp.grids.scheme import current_scheme
from townapp.grids.service import GridService

from .conftest import World, new_round

SEVEN_BODIES = ("村党支部委员会", "村民委员会", "村务监督委员会", "村民议事会", "道德评议会", "红白理事会", "禁毒禁赌会")


def _raw(*parts: str) -> dict:
    return json.loads(config.resource(*parts).read_text(encoding="utf-8"))


def test_seven_bodies_joint_review_linyi(world: World, evaluations: EvaluationService) -> None:
    """GIVEN the shipped 星级文明户 scheme (临猗 七会联评)
    THEN it names all seven bodies, with a note naming the source and that the township may edit them;
    WHEN a round is created without naming bodies THEN the round's 联评 stage has all seven."""
    raw = _raw("schemes", "civilized_household.json")
    assert tuple(raw["joint_bodies"]) == SEVEN_BODIES
    assert "临猗" in raw["_joint_bodies说明"] and "七会联评" in raw["_joint_bodies说明"]
    assert "可按本地实际修改" in raw["_joint_bodies说明"]
    round_id = new_round(evaluations, world, "civilized_household", 2025)
    rnd = evaluations.round(round_id)
    assert rnd.bodies == SEVEN_BODIES
    assert any(st.bodies for st in rnd.scheme.stages)


def test_one_best_grid_member_a_month_linyi(db: Database, approved: dict[str, int]) -> None:  # noqa: F811
    """GIVEN the shipped 网格员 assessment (临猗 网格化管理: one 最美网格员 a month, township-wide)
    WHEN a second member is chosen for the same month THEN it is refused: the month has its one."""
    raw = _raw("grids", "assessment.json")
    assert raw["best_member"]["count"] == 1 and "临猗" in raw["best_member"]["_count说明"]
    scheme = current_scheme()
    assert (scheme.best_count, scheme.best_scope) == (1, "township")
    approver = GridService(db, APPROVER)
    approver.choose_star(YEAR, MONTH, approved["head"], "雨夜巡查发现险情，及时转移三户群众。")
    with pytest.raises(DomainError, match="已评满 1 名"):
        approver.choose_star(YEAR, MONTH, approved["officer"], "走访独居老人，帮助办理低保续保。")


def test_twenty_negatives_rule_out_four_and_five_stars_jinan_yangzhou() -> None:
    """GIVEN the shipped 村党组织评星定级 (济南、扬州: 20 负面情形)
    THEN each of the 20 caps at 三星 or lower, so a village with full marks and any one of them is at most 三星."""
    scheme = load_file(config.resource("schemes", "village_org_star.json"))
    assert "济南" in _raw("schemes", "village_org_star.json")["_negatives说明"]
    assert len(scheme.negatives) == 20
    three = scheme.rank_of("三星")
    full = {i.code: i.max for i in scheme.indicators}
    assert evaluate(scheme, EntryData(full)).level == "五星"
    for negative in scheme.negatives:
        assert negative.effect == "veto" or scheme.rank_of(negative.cap) <= three, negative
        outcome = evaluate(scheme, EntryData(full, frozenset({negative.code})))
        assert outcome.rank <= three, (negative.name, outcome.level)


def test_guifan_needs_three_wan_in_the_creation_scheme_and_the_printed_archive(
        db: Database, world: World, evaluations: EvaluationService) -> None:
    """GIVEN the 规范·示范·典范 creation scheme (规范: 经营性收入 ≥ 3万元) and a 规范 village's archive
    THEN the scheme computes the standard against 3万元 (30,000 元), and the standards the archive prints
    come from the scheme: 3万, never the 5万 the old printed summary said."""
    scheme = load_file(config.resource("schemes", "village_creation.json"))
    k16 = next(i for i in scheme.indicators if i.code == "K16")
    assert k16.level == "规范" and "3万元" in k16.name
    assert k16.computed is not None and k16.computed.conditions[0].value == 30000
    assert "3万元" in _raw("schemes", "village_creation.json")["_来源"]
    assert "集体经济年经营性收入 ≥ 3万元" in evaluations.level_standards("village_creation")["规范"]
    assert not config.resource("archives", "creation_standards.json").exists()  # the number exists once

    archives = ArchiveService(db)
    village_id = world.villages["东张村"]
    data = archives.year(village_id, 2025)
    data.values.update(business_income=4_200_000, creation_level="规范")
    archives.save_year(data)
    document = archive_document(archives, village_id)
    (section,) = [s for s in document.sections if s.heading.startswith("七、创建等级")]
    assert section.note.startswith("规范村基本标准：") and "集体经济年经营性收入 ≥ 3万元" in section.note
    assert "5万" not in section.note
