"""评定 reads are village-scoped in the service (issue 16).

Every public read of EvaluationService is tried by every role on a clerk's own village and on
another one (tests/accounts/scope_matrix.py). Round-level reads are tried on a round only that
village takes part in, and on the demo's township-wide round (objections, candidates, results),
so a 村录入员 sees neither another village's round nor its targets (``candidates`` used to list
every village's households).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select, update

from tests.accounts.scope_matrix import Read, sweep, unlisted, village_name, villages
from townapp.core.actor import ROLE_VILLAGE, SYSTEM_ACTOR, Actor
from townapp.db import Database
from townapp.evaluations import models as e
from townapp.evaluations.dto import RoundInput
from townapp.evaluations.service import EvaluationService

TOWNSHIP_ROUND = "2025年度星级文明户"  # the demo's round over every village
VILLAGE_ORG = "village_org_star"


def _round_of(s: EvaluationService, v: int) -> int:
    """A round only village ``v`` takes part in (made once per database), in 公示, its targets flagged."""
    name = f"测试专项{v}"
    with s.db.reader() as r:
        found = r.scalar(select(e.EvalRound.id).where(e.EvalRound.name == name))
    if found is not None:
        return found
    township = EvaluationService(s.db)
    scheme = next(i for i in township.schemes() if i.key == "civilized_household")
    rid = township.create_round(RoundInput(scheme.id, 2027, village_ids=[v], name=name))
    with s.db.unit_of_work(SYSTEM_ACTOR) as w:
        w.execute(update(e.EvalTarget).where(e.EvalTarget.round_id == rid).values(flags="建议调整名单"))
        w.execute(update(e.EvalRound).where(e.EvalRound.id == rid).values(stage="publicity"))  # 公示 (corrections)
    return rid


def _township_round(s: EvaluationService) -> int:
    with s.db.reader() as r:
        return r.scalar(select(e.EvalRound.id).where(e.EvalRound.name == TOWNSHIP_ROUND))


def _target(s: EvaluationService, v: int) -> int:
    with s.db.reader() as r:
        return r.scalar(select(e.EvalTarget.id).where(e.EvalTarget.round_id == _township_round(s),
                                                      e.EvalTarget.village_id == v).limit(1))


def _objection_targets(s: EvaluationService, v: int) -> list[int]:
    """An objection about a target of ``v`` in the township round (added once)."""
    target = _target(s, v)
    with s.db.unit_of_work(SYSTEM_ACTOR) as w:
        if not w.scalar(select(e.EvalObjection.id).where(e.EvalObjection.target_id == target)):
            w.add(e.EvalObjection(round_id=_township_round(s), target_id=target, raised_on=dt.date(2026, 1, 5),
                                  raised_by="群众", content="对评定结果有异议"))
    return [target]


READS: dict[str, Read] = {
    "rounds": lambda s, v, _p: [r for r in s.rounds() if r.id == _round_of(s, v)],
    "round": lambda s, v, _p: s.round(_round_of(s, v)),
    "events": lambda s, v, _p: s.events(_round_of(s, v)),
    "candidates": lambda s, v, _p: s.candidates(_round_of(s, v)),
    "candidates(全乡镇轮次)": lambda s, v, _p: [c for c in s.candidates(_township_round(s)) if c[1] == v],
    "sheet": lambda s, v, _p: s.sheet(_round_of(s, v)),
    "sheet(按村)": lambda s, v, _p: s.sheet(_township_round(s), village_id=v),
    "stage_summary": lambda s, v, _p: s.stage_summary(_round_of(s, v)),
    "path": lambda s, v, _p: s.path(_target(s, v)),
    "history": lambda s, v, _p: s.history(_target(s, v)),
    "correction_stage": lambda s, v, _p: s.correction_stage(_round_of(s, v)),
    "objections": lambda s, v, _p: s.objections(_round_of(s, v)) or ["（本轮无异议）"],
    "objections(全乡镇轮次)": lambda s, v, _p: (lambda targets: [o for o in s.objections(_township_round(s))
                                                            if o.target_id in targets])(_objection_targets(s, v)),
    "publicity_rows": lambda s, v, _p: s.publicity_rows(_round_of(s, v), include_unrated=True),
    "distribution": lambda s, v, _p: [n for n, _c in s.distribution(_township_round(s))[1]
                                      if n == village_name(s.db, v)],
    "flagged": lambda s, v, _p: s.flagged(_round_of(s, v), "建议调整名单"),
    "village_results": lambda s, v, _p: [r for k, r in s.village_results(VILLAGE_ORG, 2025).items() if k == v],
    "village_result": lambda s, v, _p: s.village_result(VILLAGE_ORG, v, 2025),
}
LISTINGS = {"rounds", "sheet", "candidates", "objections", "publicity_rows", "distribution", "flagged",
            "village_results"}
WRITES = {"sync_schemes", "refresh_computed", "save_scheme", "create_round", "delete_round", "add_targets", "remove_target",
          "refresh_rollups", "save_entry", "save_entries", "save_in", "copy_previous_stage", "advance_stage",
          "add_objection", "handle_objection", "finalise", "unlock", "revoke",
          "county_decision_state", "apply_county_decisions"}  # the county's decisions: township roles only
# schemes are the township's rules and hold no village's data; check_round is a write's check
NOT_READS = {"schemes", "scheme", "scheme_text", "check_round", "finalise_refusal", "level_standards",
             "current_schemes", "receive_scheme"}  # schemes as a village install receives them


def test_every_public_read_is_in_the_matrix() -> None:
    assert unlisted(EvaluationService, READS, WRITES, NOT_READS) == set()


def test_evaluation_reads_are_scoped_to_the_clerks_village(open_demo: Callable[..., Database],
                                                           tmp_path: Path) -> None:
    """GIVEN the small demo township (rounds over every village, results on file) and a round for each village alone
    WHEN each role calls every public read of EvaluationService on a clerk's own village and on another
    THEN township roles and 只读 read both; the clerk reads their own and never the other (refused in Chinese,
    or absent from the listing)."""
    db = open_demo("small", 5)
    own, other = villages(db)
    leaks, problems = sweep(lambda a: EvaluationService(db, a), READS, LISTINGS, own, other, tmp_path)
    assert leaks == [], "\n".join(leaks)
    assert problems == [], "\n".join(problems)


def test_a_clerk_gets_only_their_villages_candidates(open_demo: Callable[..., Database]) -> None:
    """GIVEN the demo's household round over every village WHEN a clerk asks for its candidates
    THEN only their village's households come back (before: every village's, names and all)."""
    db = open_demo("small", 5)
    own, _other = villages(db)
    service = EvaluationService(db)
    everyone = service.candidates(_township_round(service))
    clerk = EvaluationService(db, Actor("文书", ROLE_VILLAGE, own)).candidates(_township_round(service))
    assert clerk and {c[1] for c in clerk} == {own} and len(everyone) > len(clerk)
