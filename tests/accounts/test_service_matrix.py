"""Role matrix over every public method of every service × every role (issue 17, item 4).

The services and their public methods are found by introspection (tests/accounts/service_matrix.py);
the table below says, per method, what kind of action it is and how to call it on the clerk's own
village and on another one. A method without an entry fails the suite ("add an entry for
Service.method"), so a new method cannot ship unguarded. Each (method, role) pair runs on its own copy
of a seeded database: the small demo township (every module filled in), or the registry matrix's two
villages for RegistryService. Reads reuse the read-scope tables of each module (tests/*/test_read_scope.py).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from tests.accounts import test_role_matrix as registry_matrix
from tests.accounts.scope_matrix import village_name
from tests.accounts.service_matrix import (
    ROLES,
    SIDES,
    Case,
    World,
    actor_for,
    expected,
    outcome,
    public_methods,
    service_classes,
)
from tests.archives import test_read_scope as archive_reads
from tests.evaluations import test_read_scope as evaluation_reads
from tests.figures import record
from tests.grids import test_read_scope as grid_reads
from tests.outputs import test_read_scope as output_reads
from tests.points import test_read_scope as point_reads
from townapp.accounts.audit import AuditFilter
from townapp.accounts.dto import UserInput
from townapp.archives import models as a
from townapp.archives.dto import (
    AttendanceData,
    CadreData,
    CommitmentData,
    MeetingData,
    RectificationData,
    YearData,
)
from townapp.archives.service import ArchiveService
from townapp.archives.vocab import clause_texts
from townapp.core.actor import ROLE_VILLAGE, SYSTEM_ACTOR
from townapp.db import Database, open_database
from townapp.evaluations import models as e
from townapp.evaluations.dto import EntryInput as EvalEntry
from townapp.evaluations.dto import ObjectionInput, RoundInput
from townapp.evaluations.service import EvaluationService
from townapp.exchange.models import ImportLayout
from townapp.figures import figure_registry, unit_source
from townapp.grids import models as g
from townapp.grids.dto import GridInput, MemberInput, ScoreEntry
from townapp.grids.service import GridService
from townapp.outputs.certificates import CertificateBatch, CertificateItem
from townapp.outputs.models import Certificate
from townapp.outputs.quarterly import ReturnService
from townapp.points import models as p
from townapp.points.dto import EntryInput as PointEntry
from townapp.points.dto import RecordInput, StoreItemInput
from townapp.points.service import PointsService
from townapp.registry import models as m

# ----- how each service is made for an actor --------------------------------------------------------
FACTORIES: dict[str, Callable[[Database, Any], Any]] = {
    "ReturnService": lambda db, actor: ReturnService(db, figure_registry(db), unit_source(), actor),
}


def make(cls: type, db: Database, actor: Any) -> Any:
    factory = FACTORIES.get(cls.__name__)
    return factory(db, actor) if factory else cls(db, actor)


# ----- small look-ups on the seeded database ------------------------------------------------------------
def _one(db: Database, query: Any) -> Any:
    with db.reader() as s:
        return s.scalar(query.limit(1))


def _v(w: World, side: str) -> int:
    return w.village[side]


def _admin(cls: type, w: World) -> Any:
    """The same service as the system, to fetch what an attacker could know (ids) or to prepare data."""
    return make(cls, w.db, SYSTEM_ACTOR)


def _file(w: World, side: str) -> Path:
    path = w.folder / f"附件{side}.txt"
    path.write_text("纪要", encoding="utf-8")
    return path


def _meeting(w: World, side: str) -> int:
    return _one(w.db, select(a.ArchiveMeeting.id).where(a.ArchiveMeeting.village_id == _v(w, side)))


def _rectification(w: World, side: str) -> int:
    return _admin(ArchiveService, w).save_rectification(_v(w, side), RectificationData(2019, [next(iter(clause_texts()))]))


def _attachment(w: World, side: str) -> int:
    return _admin(ArchiveService, w).add_attachment(_v(w, side), _file(w, side)).id


def _commitment(w: World, side: str) -> int:
    found = _one(w.db, select(a.ArchiveCommitment.id).where(a.ArchiveCommitment.village_id == _v(w, side)))
    if found is None:
        _admin(ArchiveService, w).save_commitments(_v(w, side), 2025, [CommitmentData(2025, "修路")])
        return _commitment(w, side)
    return found


def _party_member(w: World, side: str) -> int:
    return _one(w.db, select(m.PartyMember.id).join(m.Person, m.Person.id == m.PartyMember.person_id)
                .where(m.Person.village_id == _v(w, side)))


def _talent_kind(w: World, side: str) -> str:
    return _one(w.db, select(a.ArchiveTalent.kind).where(a.ArchiveTalent.village_id == _v(w, side))) or "后备干部"


def _archive_resave(method: str, read: str, *args: Any) -> Callable[[Any, World, str], bool]:
    """Save what the archive already holds (as read by the system) back, as the role."""
    def call(s: ArchiveService, w: World, side: str) -> bool:
        v = _v(w, side)
        current = getattr(_admin(ArchiveService, w), read)(v, *args)
        getattr(s, method)(v, *args, current)
        return True
    return call


ARCHIVES: dict[str, Case | list[Case]] = {
    "add_attachment": [
        Case("write", lambda s, w, side: s.add_attachment(_v(w, side), _file(w, side)).id > 0),
        Case("write", lambda s, w, side: s.add_attachment(_v(w, "own"), _file(w, side),
                                                          meeting_id=_meeting(w, side)).id > 0,
             label="本村附件挂到他村会议", by_rule=True),
    ],
    "check_cadres": Case("write", lambda s, w, side: s.check_cadres(_v(w, side), []) is not None),
    "check_commitments": Case("open", lambda s, w, side: s.check_commitments(2025, []) is not None),
    "check_rectification": Case("open", lambda s, w, side: s.check_rectification(RectificationData(2025)) != []),
    "check_year": Case("open", lambda s, w, side: s.check_year(YearData(_v(w, side), 2025)) is not None),
    "delete_meeting": Case("write", lambda s, w, side: s.delete_meeting(_meeting(w, side)) is None),
    "delete_rectification": Case("write", lambda s, w, side: s.delete_rectification(_rectification(w, side)) is None),
    "remove_attachment": Case("write", lambda s, w, side: s.remove_attachment(_attachment(w, side)) is None),
    "save_cadres": [
        Case("write", _archive_resave("save_cadres", "cadres")),
        Case("write", lambda s, w, side: s.save_cadres(_v(w, "own"), [CadreData(_person(w, side), "委员")]) is None,
             label="本村两委引用他村的人", by_rule=True),
    ],
    "save_centre": Case("write", _archive_resave("save_centre", "centre")),
    "save_commitments": Case("write", _archive_resave("save_commitments", "commitments", 2025)),
    "save_cooperatives": Case("write", _archive_resave("save_cooperatives", "cooperatives", 2025)),
    "save_first_secretaries": Case("write", _archive_resave("save_first_secretaries", "first_secretaries")),
    "save_meeting": [
        Case("write", lambda s, w, side: s.save_meeting(
            _v(w, side), _admin(ArchiveService, w).meetings(_v(w, side))[0]) > 0),
        Case("write", lambda s, w, side: s.save_meeting(_v(w, "own"), MeetingData(
            dt.date(2025, 5, 1), _admin(ArchiveService, w).meetings(_v(w, "own"))[0].kind, "测试",
            attendance=[AttendanceData(_party_member(w, side), "出席")])) > 0, label="本村会议记他村党员出席", by_rule=True),
    ],
    "save_pay_inputs": Case("write", _archive_resave("save_pay_inputs", "pay_inputs", 2025)),
    "save_profile": Case("write", lambda s, w, side: s.save_profile(
        _admin(ArchiveService, w).profile(_v(w, side), 2025)) is None),
    "save_rectification": Case("write", lambda s, w, side: s.save_rectification(
        _v(w, side), RectificationData(2018, [next(iter(clause_texts()))])) > 0),
    "save_talents": Case("write", lambda s, w, side: s.save_talents(
        _v(w, side), _talent_kind(w, side),
        _admin(ArchiveService, w).talents(_v(w, side), _talent_kind(w, side))) is None),
    "save_terms": Case("write", _archive_resave("save_terms", "terms")),
    "save_year": Case("write", lambda s, w, side: s.save_year(
        _admin(ArchiveService, w).year(_v(w, side), 2025)) is not None),
    "set_commitment_status": Case("write", lambda s, w, side: s.set_commitment_status(
        _commitment(w, side), "进行中") is None),
}


# ----- grids --------------------------------------------------------------------------------------------
def _grid(w: World, side: str) -> int:
    return _one(w.db, select(g.Grid.id).where(g.Grid.village_id == _v(w, side), g.Grid.active.is_(True))
                .order_by(g.Grid.id.desc()))


def _grid_member(w: World, side: str) -> int:
    return _one(w.db, select(g.GridMember.id).join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                .where(g.Grid.village_id == _v(w, side), g.GridMember.ended_on.is_(None)))


def _person(w: World, side: str) -> int:
    return _one(w.db, select(m.Person.id).where(m.Person.village_id == _v(w, side)).order_by(m.Person.id.desc()))


def _household(w: World, side: str) -> int:
    return _one(w.db, select(m.Household.id).where(m.Household.village_id == _v(w, side)))


def _locked(w: World) -> tuple[int, int]:
    return grid_reads._locked(_admin(GridService, w))


def _star_member(w: World) -> int:
    with w.db.reader() as s:
        return s.scalar(select(g.GridStar.member_id).limit(1))


def _star_month(w: World) -> tuple[int, int]:
    with w.db.reader() as s:
        return s.execute(select(g.GridMonth.year, g.GridMonth.month)
                         .join(g.GridStar, g.GridStar.month_id == g.GridMonth.id).limit(1)).one()


GRIDS: dict[str, Case | list[Case]] = {
    "approve_month": Case("township", lambda s, w, side: s.approve_month(2031, 1) is not None),
    "assign": [
        Case("write", lambda s, w, side: s.assign([_household(w, side)], _grid(w, side)) is not None),
        Case("write", lambda s, w, side: s.assign([_household(w, side)], _grid(w, "own")) is not None,
             label="他村的户分到本村网格", by_rule=True),
    ],
    "check_grid": Case("write", lambda s, w, side: s.check_grid(GridInput(_v(w, side), "网格", "T9", "测试网格"))
                       is not None),
    "check_member": Case("write", lambda s, w, side: s.check_member(MemberInput(
        _grid(w, side), _person(w, side), "网格员")) is not None),
    "choose_star": Case("township", lambda s, w, side: s.choose_star(*_star_month(w), _star_member(w), "事迹")
                        is None),
    "delete_grid": Case("write", lambda s, w, side: s.delete_grid(_grid(w, side)) is None),
    "end_member": Case("write", lambda s, w, side: s.end_member(_grid_member(w, side)) is None),
    "month_scheme": Case("open", lambda s, w, side: s.month_scheme(*_locked(w)) is not None),
    "month_state": Case("open", lambda s, w, side: s.month_state(*_locked(w)) is not None),
    "months": Case("open", lambda s, w, side: s.months(_locked(w)[0]) is not None),
    "relock_month": Case("township", lambda s, w, side: s.relock_month(*_locked(w), "测试") is not None),
    "remove_star": Case("township", lambda s, w, side: s.remove_star(*_star_month(w), _star_member(w)) is None),
    "restore_grid": Case("write", lambda s, w, side: s.restore_grid(_grid(w, side), "测试") is None),
    "retire_grid": Case("write", lambda s, w, side: s.retire_grid(_grid(w, side), reason="测试") is None),
    "save_grid": [
        Case("write", lambda s, w, side: s.save_grid(GridInput(_v(w, side), "网格", "T9", "测试网格")) > 0,
             label="新增"),
        Case("write", lambda s, w, side: s.save_grid(_grid_input(w, side)) > 0, label="修改"),
    ],
    "save_member": [
        Case("write", lambda s, w, side: s.save_member(MemberInput(_grid(w, side), _person(w, side), "网格员")) > 0),
        Case("write", lambda s, w, side: s.save_member(MemberInput(_grid(w, "own"), _person(w, side), _micro_role(w),
                                                          started_on=dt.date(2025, 1, 1))) > 0,
             label="本村网格引用他村的人", by_rule=True),
    ],
    "save_scores": Case("write", lambda s, w, side: s.save_scores(2031, 1, [ScoreEntry(_grid_member(w, side), {})])
                        is not None),
    "submit_month": Case("township", lambda s, w, side: s.submit_month(2031, 1) is None),
    "unassign": Case("write", lambda s, w, side: s.unassign([_household(w, side)]) is not None),
    "unlock_month": Case("township", lambda s, w, side: s.unlock_month(*_locked(w), "测试") is None),
}


def _micro_role(w: World) -> str:
    return _one(w.db, select(g.GridMember.role).join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                .where(g.Grid.id == _grid(w, "own")))


def _grid_input(w: World, side: str) -> GridInput:
    node = _admin(GridService, w).grid(_grid(w, side))
    return GridInput(_v(w, side), node.level, node.code, node.name + "改", node.parent_id, id=node.id)


# ----- points -------------------------------------------------------------------------------------------
def _record_in(w: World, side: str, status: str, **where: Any) -> int:
    query = select(p.PointRecord.id).where(p.PointRecord.village_id == _v(w, side), p.PointRecord.status == status)
    for key, value in where.items():
        query = query.where(getattr(p.PointRecord, key) == value)
    found = _one(w.db, query)
    assert found is not None, f"种子数据里{side}村没有“{status}”的积分记录"
    return found


def _village_record(w: World, side: str, status: str) -> int:
    return _record_in(w, side, status, review_level="村")


def _point_member(w: World, side: str) -> int:
    return point_reads._member(_admin(PointsService, w), _v(w, side))


def _entry(w: World, side: str) -> PointEntry:
    rule = _admin(PointsService, w).rules(2025)[0]
    return PointEntry(rule.code, dt.date(2025, 6, 1), [_point_member(w, side)])


def _publicity(w: World, side: str) -> int:
    return _one(w.db, select(p.PointPublicity.id).where(p.PointPublicity.village_id == _v(w, side)))


def _redemption(w: World, side: str) -> int:
    return _one(w.db, select(p.Redemption.id).where(p.Redemption.village_id == _v(w, side)))


def _item(w: World) -> int:
    return _one(w.db, select(p.StoreItem.id))


POINTS: dict[str, Case | list[Case]] = {
    "add_from_meeting": Case("write", lambda s, w, side: s.add_from_meeting(_v(w, side), _meeting(w, side))
                             is not None),
    "add_records": Case("write", lambda s, w, side: s.add_records(_entry(w, side)) is not None),
    "approve": Case("write", lambda s, w, side: s.approve([_record_in(w, side, "待村审")]) == 1),
    "cancel_redemption": Case("write", lambda s, w, side: s.cancel_redemption(_redemption(w, side), "测试") is None),
    "check_entry": Case("write", lambda s, w, side: not [x for x in s.check_entry(_entry(w, side))
                                                         if "本村" in x.message], listing=True),
    "close_publicity": Case("write", lambda s, w, side: s.close_publicity(_publicity(w, side)) is not None),
    "grade_names": Case("open", lambda s, w, side: s.grade_names(2025) is not None),
    "items": Case("open", lambda s, w, side: s.items() is not None),
    "pick_up": Case("write", lambda s, w, side: s.pick_up(_redemption(w, side)) is None),
    "publish": Case("write", lambda s, w, side: s.publish(_v(w, side), dt.date(2026, 1, 1)) is not None),
    "redeem": Case("write", lambda s, w, side: s.redeem(_point_member(w, side), _item(w)) is not None),
    "reject": Case("write", lambda s, w, side: s.reject([_record_in(w, side, "待村审")], "测试") == 1),
    "restock": Case("township", lambda s, w, side: s.restock(_item(w), 1) is not None),
    "resubmit": Case("write", lambda s, w, side: s.resubmit(_resubmittable(w, side),
                                                            RecordInput(dt.date(2025, 6, 1))) is None),
    "reverse": Case("write", lambda s, w, side: s.reverse(_village_record(w, side, "生效"), "测试") > 0),
    "rule_set": Case("open", lambda s, w, side: s.rule_set(2025) is not None),
    "rule_set_text": Case("open", lambda s, w, side: s.rule_set_text(2025) is not None),
    "rule_sets": Case("open", lambda s, w, side: s.rule_sets() is not None),
    "rules": Case("open", lambda s, w, side: s.rules(2025) is not None),
    "save_item": Case("township", lambda s, w, side: s.save_item(StoreItemInput("测试商品", "10", 5)) > 0),
    "save_rule_set": Case("township", lambda s, w, side: s.save_rule_set(
        2025, _admin(PointsService, w).rule_set_text(2025)) is not None),
}


def _resubmittable(w: World, side: str) -> int:
    """A rejected record of the village (rejected by the system first when the demo has none)."""
    with w.db.reader() as s:
        found = s.scalar(select(p.PointRecord.id).where(p.PointRecord.village_id == _v(w, side),
                                                        p.PointRecord.status == "驳回").limit(1))
    if found is None:
        found = _record_in(w, side, "待村审")
        _admin(PointsService, w).reject([found], "测试")
    return found


# ----- evaluations --------------------------------------------------------------------------------------
def _round(w: World, side: str) -> int:
    return evaluation_reads._round_of(_admin(EvaluationService, w), _v(w, side))


def _round_target(w: World, side: str) -> int:
    return _one(w.db, select(e.EvalTarget.id).where(e.EvalTarget.round_id == _round(w, side)))


def _scoring_target(w: World, side: str) -> tuple[int, str]:
    """A target of a round only this village takes part in, at its first stage (the village scores it)."""
    name = f"测试打分{_v(w, side)}"
    rid = _one(w.db, select(e.EvalRound.id).where(e.EvalRound.name == name))
    service = _admin(EvaluationService, w)
    if rid is None:
        scheme = next(i for i in service.schemes() if i.key == "civilized_household")
        rid = service.create_round(RoundInput(scheme.id, 2028, village_ids=[_v(w, side)], name=name))
    return _one(w.db, select(e.EvalTarget.id).where(e.EvalTarget.round_id == rid)), service.round(rid).stage


def _eval_entry(w: World, side: str) -> EvalEntry:
    target, stage = _scoring_target(w, side)
    return EvalEntry(target, stage, {})


def _save_in(s: EvaluationService, w: World, side: str) -> bool:
    with w.db.unit_of_work(s.actor) as session:
        return s.save_in(session, [_eval_entry(w, side)]) > 0


def _scheme_id(w: World) -> int:
    return next(i for i in _admin(EvaluationService, w).schemes() if i.key == "civilized_household").id


def _objection(w: World, side: str) -> int:
    evaluation_reads._objection_targets(_admin(EvaluationService, w), _v(w, side))
    return _one(w.db, select(e.EvalObjection.id))


EVALUATIONS: dict[str, Case | list[Case]] = {
    "add_objection": Case("township", lambda s, w, side: s.add_objection(ObjectionInput(
        _round(w, side), "群众", "有异议", dt.date(2027, 1, 5), _round_target(w, side))) > 0),
    "add_targets": Case("township", lambda s, w, side: s.add_targets(_round(w, side)) is not None),
    "advance_stage": Case("township", lambda s, w, side: s.advance_stage(_round(w, side)) is not None),
    "check_round": Case("township", lambda s, w, side: s.check_round(RoundInput(
        _scheme_id(w), 2029, village_ids=[_v(w, side)])) is not None),
    "copy_previous_stage": Case("write", lambda s, w, side: s.copy_previous_stage(
        _scoring_round(w, side), _v(w, side)) is not None),
    "create_round": Case("township", lambda s, w, side: s.create_round(RoundInput(
        _scheme_id(w), 2029, village_ids=[_v(w, side)], name="测试新轮次")) > 0),
    "delete_round": Case("township", lambda s, w, side: s.delete_round(_round(w, side)) is None),
    "finalise": Case("township", lambda s, w, side: s.finalise(_round(w, side)) is None),
    "finalise_refusal": Case("township", lambda s, w, side: s.finalise_refusal(_round(w, side)) != ""),
    "handle_objection": Case("township", lambda s, w, side: s.handle_objection(
        _objection(w, side), "核实", "维持", dt.date(2026, 1, 6)) is None),
    "refresh_rollups": Case("township", lambda s, w, side: s.refresh_rollups(_round(w, side)) is not None),
    "remove_target": Case("township", lambda s, w, side: s.remove_target(_round_target(w, side)) is None),
    "revoke": Case("township", lambda s, w, side: s.revoke(_round_target(w, side), "测试", dt.date(2027, 2, 1))
                   is None),
    "save_entries": Case("write", lambda s, w, side: s.save_entries([_eval_entry(w, side)]) is not None),
    "save_entry": Case("write", lambda s, w, side: s.save_entry(_eval_entry(w, side)) is not None),
    "save_in": Case("write", _save_in),
    "save_scheme": Case("township", lambda s, w, side: s.save_scheme(
        _admin(EvaluationService, w).scheme_text(_scheme_id(w))) is not None),
    "scheme": Case("open", lambda s, w, side: s.scheme(_scheme_id(w)) is not None),
    "scheme_text": Case("open", lambda s, w, side: bool(s.scheme_text(_scheme_id(w)))),
    "schemes": Case("open", lambda s, w, side: bool(s.schemes())),
    # reads the shipped scheme files into the database as the system, for whoever opens the page first
    "sync_schemes": Case("open", lambda s, w, side: s.sync_schemes() is not None),
    "unlock": Case("township", lambda s, w, side: s.unlock(_round(w, side), "测试") is None),
}


def _scoring_round(w: World, side: str) -> int:
    target, _stage = _scoring_target(w, side)
    return _one(w.db, select(e.EvalTarget.round_id).where(e.EvalTarget.id == target))


# ----- outputs, accounts, audit ---------------------------------------------------------------------------
def _certificates(w: World, side: str) -> list[int]:
    output_reads._issue(w.db, w.folder)
    with w.db.reader() as s:
        return list(s.scalars(select(Certificate.id).where(Certificate.village == village_name(w.db, _v(w, side)))))


def _batch(w: World, side: str) -> CertificateBatch:
    name = village_name(w.db, _v(w, side))
    return CertificateBatch("household-star", "test", "测试批次", 2026, "临晋镇",
                            (CertificateItem("test:x", f"{name}测试户", name, "四星"),))


OUTPUTS: dict[str, Case | list[Case]] = {
    # a village's 村录入员 prints their own village's certificates (issue 21), never another's
    "CertificateService.record_printed": Case("write", lambda s, w, side: s.record_printed(
        _certificates(w, side), overlay=False, channel="测试") > 0),
    "CertificateService.write_batch": Case("write", lambda s, w, side: s.write_batch(
        _batch(w, side), w.folder / f"证书{side}.pdf") is not None),
    "CertificateService.reprint": Case("write", lambda s, w, side: (
        s.write_batch(_batch(w, side), w.folder / f"首次{side}.pdf"),
        s.reprint(_batch(w, side), "test:x", "证书破损", w.folder / f"补打{side}.pdf"))[1] is not None),
    "ReturnService.export": Case("township", lambda s, w, side: s.export(
        s.build(output_reads.PERIOD), w.folder / f"报表{side}.xlsx") is not None),
    # the export log holds file names, users and times, nothing of any village
    "ReturnService.history": Case("open", lambda s, w, side: s.history() is not None),
}


def _user_id(w: World) -> int:
    from townapp.accounts.models import User

    return _one(w.db, select(User.id))


def _new_user(w: World, side: str) -> UserInput:
    return UserInput(f"clerk{side}", ROLE_VILLAGE, "文书", _v(w, side), "Abcdef123456!")


def _layout(w: World, side: str) -> int:
    """A saved 列对应 of ``side``'s village (as that village's clerk saved it with an import)."""
    with w.db.engine.begin() as conn:
        return int(conn.execute(insert(ImportLayout).values(
            name=f"花名册{side}{conn.scalar(select(func.count()).select_from(ImportLayout))}", fingerprint=f"姓名|{side}",
            entity="person", columns="{}", village_id=_v(w, side), username="测试", saved_at=dt.datetime(2026, 1, 1)))
            .inserted_primary_key[0])


LAYOUTS: dict[str, Case | list[Case]] = {
    "LayoutService.layouts": Case("open", lambda s, w, side: isinstance(s.layouts(), list)),
    "LayoutService.delete": Case("write", lambda s, w, side: s.delete(_layout(w, side)) is None),
}


ACCOUNTS: dict[str, Case | list[Case]] = {
    "AccountService.change_own_password": Case("open", lambda s, w, side: s.change_own_password("x", "y", "y")),
    "AccountService.check_user": Case("admin", lambda s, w, side: s.check_user(_new_user(w, side)) is not None),
    "AccountService.create_first_admin": Case("open", lambda s, w, side: s.create_first_admin(
        "admin1", "Abcdef123456!", "Abcdef123456!") is not None),
    "AccountService.login": Case("open", lambda s, w, side: s.login("nobody", "wrong")),
    "AccountService.needs_first_admin": Case("open", lambda s, w, side: s.needs_first_admin() is not None),
    "AccountService.reset_password": Case("admin", lambda s, w, side: s.reset_password(
        _user_id(w), "Abcdef123456!", "Abcdef123456!") is None),
    "AccountService.save_user": Case("admin", lambda s, w, side: s.save_user(_new_user(w, side)) > 0),
    "AccountService.set_active": Case("admin", lambda s, w, side: s.set_active(_user_id(w), True) is None),
    "AccountService.users": Case("admin", lambda s, w, side: s.users() is not None),
    "AccountService.wrong_login_message": Case("open", lambda s, w, side: bool(s.wrong_login_message())),
    "AuditService.actions": Case("admin", lambda s, w, side: bool(s.actions())),
    "AuditService.entities": Case("admin", lambda s, w, side: s.entities() is not None),
    "AuditService.export_xlsx": Case("admin", lambda s, w, side: s.export_xlsx(
        AuditFilter(), w.folder / "审计.xlsx") is not None),
    "AuditService.full_row": Case("admin", lambda s, w, side: s.full_row(_audit_id(w), "核查") is not None),
    "AuditService.ids": Case("admin", lambda s, w, side: s.ids(AuditFilter()) is not None),
    "AuditService.person_records": Case("admin", lambda s, w, side: s.person_records(_id_number(w, side))
                                        is not None),
    "AuditService.rows": Case("admin", lambda s, w, side: s.rows([_audit_id(w)]) is not None),
    "AuditService.usernames": Case("admin", lambda s, w, side: s.usernames() is not None),
}


def _id_number(w: World, side: str) -> str:
    return _one(w.db, select(m.Person.id_number).where(m.Person.village_id == _v(w, side)))


def _audit_id(w: World) -> int:
    from townapp.db.audit import AuditEntry

    return _one(w.db, select(AuditEntry.id))


# ----- reads from each module's read-scope table, and the registry's own matrix -------------------------------
def _reads(service: str, reads: dict[str, Any], listings: set[str]) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for key, read in {**reads, **FASTER.get(service, {})}.items():
        name, _, variant = key.partition("(")
        if not (name.isascii() and name.isidentifier()):
            continue  # a printable built from reads (档案PDF …): not a method of the service
        out.setdefault(f"{service}.{name}", []).append(Case(
            "read", lambda s, w, side, read=read: read(s, w.village[side], w.folder), name in listings,
            variant.rstrip(")")))
    return out


def _people_of(s: GridService, v: int) -> list[Any]:
    people = grid_reads._people(s, v)
    return [x for x in s.find_people(None, "", limit=100000) if x.id in people]


# reads of the read-scope tables that look a set up once per row there; here once per call
FASTER: dict[str, dict[str, Any]] = {"GridService": {"find_people(全部)": lambda s, v, _p: _people_of(s, v)}}


def _registry() -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for key, kind, call in registry_matrix.ACTIONS:
        name, _, variant = key.partition("(")
        out.setdefault(f"RegistryService.{name}", []).append(Case(
            kind, lambda s, w, side, call=call: call(s, w.extra, side), listing=True, label=variant.rstrip(")")))
    return out


# Each module's door for set-based writes (``batch_writer``, what import adapters call): one record of the
# side's village to change through it — (model, its id in the seed, a column, a new value).
BATCH_DOORS: dict[str, tuple[type, Callable[[World, str], int], str, Any]] = {
    "RegistryService": (m.Person, lambda w, side: w.extra.person[side], "name", "批量改名"),
    "ArchiveService": (a.ArchiveCommitment, lambda w, side: _commitment(w, side), "title", "批量改过的事项"),
    "GridService": (g.Grid, lambda w, side: _grid(w, side), "name", "批量改名网格"),
    "PointsService": (p.PointRecord, lambda w, side: _record_in(w, side, "待村审"), "note", "批量改过的说明"),
}


def _batch_door(service: str) -> Case:
    """The door refuses 只读 outright; a record of another village is refused (returned), not written."""
    model, pick, column, value = BATCH_DOORS[service]

    def call(s: Any, w: World, side: str) -> bool:
        with w.db.engine.begin() as conn:
            refused = s.batch_writer(conn).change(model, [{"id": pick(w, side), column: value}])
        return not refused
    return Case("write", call, listing=True)


def _named(service: str, table: dict[str, Case | list[Case]]) -> dict[str, list[Case]]:
    return {(k if "." in k else f"{service}.{k}"): (v if isinstance(v, list) else [v]) for k, v in table.items()}


def _extra_tables() -> list[dict[str, list[Case]]]:
    """Cases kept beside the new services (tests/accounts/matrix_*.py, each a ``CASES`` table keyed
    "Service.method"), so work on different modules never edits this file at the same time."""
    import importlib

    out = []
    for path in sorted(Path(__file__).parent.glob("matrix_*.py")):
        module = importlib.import_module(f"tests.accounts.{path.stem}")
        out.append(_named("", module.CASES))
    return out


TABLE: dict[str, list[Case]] = {}
for _part in (*_extra_tables(),
        _reads("ArchiveService", archive_reads.READS, archive_reads.LISTINGS), _named("ArchiveService", ARCHIVES),
        _reads("GridService", grid_reads.READS, grid_reads.LISTINGS), _named("GridService", GRIDS),
        _reads("PointsService", point_reads.READS, point_reads.LISTINGS), _named("PointsService", POINTS),
        _reads("EvaluationService", evaluation_reads.READS, evaluation_reads.LISTINGS),
        _named("EvaluationService", EVALUATIONS),
        _reads("ReturnService", output_reads.RETURN_READS, output_reads.LISTINGS),
        _reads("CertificateService", output_reads.CERTIFICATE_READS, output_reads.LISTINGS),
        _named("", OUTPUTS), _named("", ACCOUNTS), _named("", LAYOUTS), _registry()):
    for _key, _cases in _part.items():
        TABLE.setdefault(_key, []).extend(_cases)

SERVICES = service_classes()
METHODS = [f"{name}.{method}" for name, cls in sorted(SERVICES.items()) for method in public_methods(cls)]
TABLE.update({f"{name}.batch_writer": [_batch_door(name)] for name in BATCH_DOORS
              if f"{name}.batch_writer" in METHODS})
OUTCOMES: dict[tuple[str, str], tuple[int, int]] = {}  # (method, role) → (clerk's tries on the other village, successes)


# ----- the seeded worlds --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def registry_seed(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("service-matrix") / "registry.db"
    shutil.copyfile(migrated_template, path)
    return path, registry_matrix.seed_registry(path)


def _villages(db: Database) -> dict[str, int]:
    with db.reader() as s:
        own, other = s.scalars(select(m.Village.id).order_by(m.Village.code).limit(2)).all()
    return {"own": own, "other": other}


@pytest.fixture(scope="module")
def prepared_demo(built_demo: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo township plus what the calls would otherwise add on every copy (rounds of one village,
    an objection, printed certificates, commitments), made once."""
    folder = tmp_path_factory.mktemp("service-matrix")
    path = folder / "prepared.db"
    shutil.copyfile(built_demo("small", 5), path)
    db = open_database(path)
    world = World(db, _villages(db), folder)
    for side in SIDES:
        _round(world, side)
        _scoring_target(world, side)
        _commitment(world, side)
        evaluation_reads._objection_targets(_admin(EvaluationService, world), _v(world, side))
    output_reads._issue(db, folder)
    db.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@pytest.fixture(scope="module")
def reading_worlds(prepared_demo: Path, registry_seed: tuple[Path, Any],
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, World]]:
    """One copy per seed that methods which only read share (their calls may add a record to read, never
    change one), so the 4 MB demo is not copied for every read."""
    folder = tmp_path_factory.mktemp("reading-worlds")
    worlds: dict[str, World] = {}
    for name, source in (("RegistryService", registry_seed[0]), ("demo", prepared_demo)):
        shutil.copyfile(source, folder / f"{name}.db")
        db = open_database(folder / f"{name}.db")
        worlds[name] = World(db, dict(registry_seed[1].village) if name == "RegistryService" else _villages(db),
                             folder, registry_seed[1] if name == "RegistryService" else None)
    yield worlds
    for world in worlds.values():
        world.db.dispose()


@pytest.fixture
def world_for(prepared_demo: Path, registry_seed: tuple[Path, Any], reading_worlds: dict[str, World],
              tmp_path: Path) -> Iterator[Callable[..., World]]:
    """``world_for(service name, reads_only)``: a new copy of the database that service's calls expect on each
    call, or the shared one for a method that only reads."""
    opened: list[Database] = []

    def build(service: str, reads_only: bool = False) -> World:
        if reads_only:
            return reading_worlds["RegistryService" if service == "RegistryService" else "demo"]
        path = tmp_path / f"world{len(opened)}.db"
        shutil.copyfile(registry_seed[0] if service == "RegistryService" else prepared_demo, path)
        opened.append(open_database(path))
        if service == "RegistryService":
            seed = registry_seed[1]
            return World(opened[-1], dict(seed.village), tmp_path, seed)
        return World(opened[-1], _villages(opened[-1]), tmp_path)

    yield build
    for db in opened:
        db.dispose()


# ----- the matrix ------------------------------------------------------------------------------------------------
def test_every_service_is_found() -> None:
    """GIVEN the townapp package WHEN services are collected by introspection
    THEN the known ones are among them (so the collector itself is not quietly broken)."""
    assert {"ArchiveService", "GridService", "PointsService", "EvaluationService", "RegistryService",
            "AccountService", "AuditService", "CertificateService", "ReturnService"} <= set(SERVICES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", METHODS)
def test_service_matrix(method: str, role: str, world_for: Callable[..., World]) -> None:
    """GIVEN a seeded database and a role (a clerk tied to the first village)
    WHEN the role calls the public service method on its own village and on another one
    THEN it succeeds exactly where the role allows it: 只读 changes nothing, a 村录入员 reaches only their own
    village, township and admin actions refuse the other roles — always in the service, with a Chinese reason."""
    service_name = method.split(".")[0]
    cases = TABLE.get(method)
    assert cases, f"角色矩阵缺少 {method}：add an entry for {method} in tests/accounts/test_service_matrix.py"
    reads_only = all(case.kind == "read" for case in cases)
    world = world_for(service_name, reads_only)
    service = make(SERVICES[service_name], world.db, actor_for(role, world.village["own"]))
    problems: list[str] = []
    tries = successes = 0
    for case in cases:
        for side in SIDES if case.kind in ("read", "write", "township") else SIDES[:1]:
            if service_name == "RegistryService" and not reads_only:  # its calls expect the seed as it was (as in its own matrix)
                world = world_for(service_name)
                service = make(SERVICES[service_name], world.db, actor_for(role, world.village["own"]))
            allowed = expected(case.kind, role, side)
            reached, problem = outcome(case, service, world, side, allowed)
            if role == ROLE_VILLAGE and side == "other" and case.kind != "open":
                tries += 1
                successes += bool(reached)
            if problem:
                problems.append(f"{method}{f'({case.label})' if case.label else ''} × {role} × {side}：{problem}")
    OUTCOMES[(method, role)] = (tries, successes)
    record("角色矩阵（方法×角色）", len(OUTCOMES))
    record("角色矩阵：村录入员对他村的读写 成功/尝试",
           f"{sum(s for _t, s in OUTCOMES.values())}/{sum(t for t, _s in OUTCOMES.values())}")
    assert problems == [], "\n".join(problems)


def test_the_table_names_no_method_that_is_gone() -> None:
    """GIVEN the call table WHEN compared with the services' public methods THEN every entry still names one
    (a renamed method must not leave a stale entry that tests nothing)."""
    assert set(TABLE) - set(METHODS) == set()
