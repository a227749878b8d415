"""Role-matrix cases of the exchange between levels (issue 20): the county's decisions and the village installs.

The matrix runs on a township database: the county's service refuses every role there (township roles
by the database's kind, the others by their role), and only a village install receives the township's
rules and schemes (every role gets the same answer: what the township decided is not the person's)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.accounts.service_matrix import Case, World
from townapp.evaluations.dto import CountyDecisionInput


def _decision() -> CountyDecisionInput:
    return CountyDecisionInput("r", "t", "county", "同意", None, None, None, "临猗县", "县委组织部", dt.date(2026, 12, 6))


def _in_session(call):  # noqa: ANN001, ANN202
    def run(s, w: World, side: str):  # noqa: ANN001, ANN202
        with w.db.reader() as session:
            return call(s, session)
    return run


CASES: dict[str, Case | list[Case]] = {
    "EvaluationService.county_decision_state": Case(
        "township", _in_session(lambda s, session: s.county_decision_state(session, _decision()))),
    "EvaluationService.apply_county_decisions": Case(
        "township", _in_session(lambda s, session: s.apply_county_decisions(session, []) == 0)),
    "EvaluationService.current_schemes": Case("open", lambda s, w, side: bool(s.current_schemes())),
    "EvaluationService.receive_scheme": Case(
        "open", _in_session(lambda s, session: s.receive_scheme(session, "{}", "乡镇下发", write=False))),
    "PointsService.current_rule_sets": Case("open", lambda s, w, side: s.current_rule_sets() is not None),
    "PointsService.receive_rule_set": Case(
        "open", _in_session(lambda s, session: s.receive_rule_set(session, 2026, "{}", "乡镇下发", write=False))),
    "CountyService.rounds": Case("township", lambda s, w, side: s.rounds() is not None),
    "CountyService.round": Case("township", lambda s, w, side: s.round("r") is not None),
    "CountyService.targets": Case("township", lambda s, w, side: s.targets("r") is not None),
    "CountyService.decisions": Case("township", lambda s, w, side: s.decisions("r") is not None),
    "CountyService.record": Case("township", lambda s, w, side: s.record("r", []) is not None),
    "CountyService.export_return": Case(
        "township", lambda s, w, side: s.export_return("140821100", Path(w.folder) / "回传.xlsx") is not None),
}
