"""Locked rounds refuse edits; unlocking needs a reason and is audited; editing a used scheme makes a new version."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from townapp.core.actor import ROLE_READONLY, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied, ValidationFailed
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.evaluations.dto import EntryInput, RoundInput
from townapp.evaluations.schemes import shipped_folder
from townapp.evaluations.service import EvaluationService

from .conftest import World, new_round
from .test_household_round import levels, run_household_round, stars, target_ids


def test_a_locked_round_refuses_edits_and_unlocking_is_audited(db: Database, evaluations: EvaluationService,
                                                               world: World) -> None:
    # GIVEN a finished household round
    service = evaluations
    round_id = run_household_round(service, world, 2025, {"张建国": (10, {})})
    target = target_ids(service, round_id)["张建国"]
    # WHEN someone tries to change a score, add targets or hand it on
    with pytest.raises(DomainError, match="已定级锁定"):
        service.save_entry(EntryInput(target, "township", stars(6)))
    with pytest.raises(DomainError, match="已定级锁定"):
        service.add_targets(round_id)
    with pytest.raises(DomainError, match="已定级锁定"):
        service.advance_stage(round_id)
    # THEN nothing changed
    assert levels(service, round_id)["张建国"] == "五星"
    # WHEN unlocking without a reason THEN it is refused
    with pytest.raises(ValidationFailed, match="理由"):
        service.unlock(round_id, "  ")
    # WHEN unlocking with a reason THEN the round opens and the audit log holds the change with the reason
    service.unlock(round_id, "县里要求补录一户的异议处理")
    assert not service.round(round_id).locked
    with db.reader() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "eval_round", AuditEntry.field == "locked",
                                                   AuditEntry.entity_id == round_id)
                          .order_by(AuditEntry.id.desc())).first()
        assert (entry.old, entry.new, entry.reason) == ("True", "False", "县里要求补录一户的异议处理")
    assert service.events(round_id)[-1].detail == "解锁，理由：县里要求补录一户的异议处理"
    # AND it can be finalised again
    service.finalise(round_id, as_of=dt.date(2025, 12, 9))
    assert service.round(round_id).locked


def test_roles_are_checked_in_the_service(db: Database, evaluations: EvaluationService, world: World) -> None:
    # GIVEN a household round at 户自评
    round_id = new_round(evaluations, world, "civilized_household", 2025)
    ids = target_ids(evaluations, round_id)
    east = world.villages["东张村"]
    clerk = EvaluationService(db, Actor("东张文书", ROLE_VILLAGE, east))
    # WHEN a village clerk enters their own village's household THEN it is saved
    assert clerk.save_entry(EntryInput(ids["张建国"], "self", stars(8))).level == "四星"
    # AND they see only their own village
    assert {r.village_id for r in clerk.sheet(round_id)} == {east}
    # BUT another village's household, a hand-over, and read-only users are refused
    with pytest.raises(PermissionDenied):
        clerk.save_entry(EntryInput(ids["王德明"], "self", stars(8)))
    with pytest.raises(PermissionDenied):
        clerk.advance_stage(round_id)
    with pytest.raises(PermissionDenied):
        EvaluationService(db, Actor("查看", ROLE_READONLY)).save_entry(EntryInput(ids["王德明"], "self", stars(8)))
    # AND a township stage is not for a village clerk
    for _ in range(4):
        evaluations.advance_stage(round_id)
    with pytest.raises(PermissionDenied, match="乡镇终审"):
        clerk.save_entry(EntryInput(ids["张建国"], "township", stars(8)))


def test_editing_a_used_scheme_creates_a_new_version(evaluations: EvaluationService, world: World) -> None:
    # GIVEN a finished round under version 1, where nine stars gave 四星
    service = evaluations
    old_round = run_household_round(service, world, 2025, {"张建国": (9, {})})
    assert levels(service, old_round)["张建国"] == "四星"
    version_1 = service.round(old_round).scheme_id
    # WHEN the scheme is edited so that nine stars make 五星
    text = json.loads(service.scheme_text(version_1))
    text["levels"][0]["min"] = 9
    info = service.save_scheme(json.dumps(text, ensure_ascii=False))
    # THEN it is version 2, the finished round keeps version 1 and its level
    assert info.version == 2 and info.id != version_1
    assert service.round(old_round).scheme_id == version_1 and service.round(old_round).scheme_version == 1
    assert levels(service, old_round)["张建国"] == "四星"
    # AND a new round uses version 2
    new_round_id = service.create_round(RoundInput(info.id, 2026, 0, [world.villages["东张村"]]))
    row = service.save_entry(EntryInput(target_ids(service, new_round_id)["张建国"], "self", stars(9)))
    assert row.level == "五星"
    # AND editing a version no round uses yet changes it in place
    text["levels"][1]["min"] = 7
    service.delete_round(new_round_id)
    assert service.save_scheme(json.dumps(text, ensure_ascii=False)).version == 2


def test_a_changed_scheme_file_becomes_a_new_version_on_the_next_start(db: Database, tmp_path: Path,
                                                                       world: World) -> None:
    # GIVEN the schemes read from a folder and a finished round under them
    folder = tmp_path / "schemes"
    shutil.copytree(shipped_folder(), folder)
    service = EvaluationService(db, scheme_folder=folder)
    service.sync_schemes()
    old_round = run_household_round(service, world, 2025, {"张建国": (8, {})})
    # WHEN the file is edited (eight stars now make 五星) and the program starts again
    path = folder / "civilized_household.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["levels"][0]["min"], data["levels"][1]["min"] = 8, 7
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = EvaluationService(db, scheme_folder=folder)
    report = again.sync_schemes()
    # THEN a new version exists, the old round keeps its level, and reading the same file again does nothing
    assert report.new_versions == ["星级文明户（civilized_household.json）"] and not report.refused
    assert levels(again, old_round)["张建国"] == "四星"
    assert [i.version for i in again.schemes(all_versions=True) if i.key == "civilized_household"] == [2, 1]
    assert again.sync_schemes().new_versions == []
