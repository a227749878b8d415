"""Evaluation figures for returns and the dashboard: star households and the stars of villages and secretaries.

Only finalised (定级, locked) rounds count, and only those finalised by the
quarter's last day; per village the latest such round of the scheme is used.
A title revoked by that day no longer counts. Scheme keys and level names
come from resources/returns/figures.json.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from townapp.db.fast import fetch_rows
from townapp.evaluations import models as e
from townapp.outputs.figures import Figure, FigureValue, Period, read_once
from townapp.outputs.parameters import figure_parameters


@lru_cache(maxsize=1)
def parameters() -> dict[str, Any]:
    return figure_parameters()


def _final_rounds(s: Session, scheme_key: str, end: dt.date) -> dict[int, int]:
    """Per village, the id of the latest round of the scheme finalised by ``end``."""
    return read_once(s, ("evaluations.rounds", scheme_key, end), lambda: _read_final_rounds(s, scheme_key, end))


def _read_final_rounds(s: Session, scheme_key: str, end: dt.date) -> dict[int, int]:
    query = (select(e.EvalRoundVillage.village_id, e.EvalRound.id)
             .join(e.EvalRound, e.EvalRound.id == e.EvalRoundVillage.round_id)
             .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
             .where(e.EvalScheme.key == scheme_key, e.EvalRound.locked.is_(True),
                    or_(e.EvalRound.finalised_on <= end,
                        and_(e.EvalRound.finalised_on.is_(None), e.EvalRound.year <= end.year)))
             .order_by(e.EvalRound.year, e.EvalRound.period_no, e.EvalRound.id))
    latest: dict[int, int] = {}
    for village_id, round_id in s.execute(query):
        latest[village_id] = round_id  # ordered oldest first: the last one wins
    return latest


def _targets(s: Session, scheme_key: str, end: dt.date) -> list[tuple[int, str | None, int]]:
    """(village id, level, rank) of every target in each village's latest final round; revoked → no level."""
    return read_once(s, ("evaluations.targets", scheme_key, end), lambda: _read_targets(s, scheme_key, end))


def _read_targets(s: Session, scheme_key: str, end: dt.date) -> list[tuple[int, str | None, int]]:
    latest = _final_rounds(s, scheme_key, end)
    out: list[tuple[int, str | None, int]] = []
    round_ids = sorted(set(latest.values()))
    for start in range(0, len(round_ids), 500):
        # a county's ~90,000 rated households: straight from the cursor
        rows = fetch_rows(s.connection(), select(e.EvalTarget.village_id, e.EvalTarget.round_id, e.EvalTarget.level,
                                                 e.EvalTarget.rank, e.EvalTarget.revoked_on)
                          .where(e.EvalTarget.round_id.in_(round_ids[start:start + 500]))
                          .order_by(e.EvalTarget.id))
        for village_id, round_id, level, rank, revoked_on in rows:
            if latest.get(village_id) != round_id:
                continue
            if revoked_on is not None and revoked_on <= end:
                level, rank = None, 0
            out.append((village_id, level if rank > 0 else None, rank))
    return out


def _household_count(test: Callable[[str | None], bool]) -> Callable[..., dict[int, FigureValue]]:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
        for village_id, level, _rank in _targets(s, parameters()["household_star_scheme"], period.end):
            if village_id in out and test(level):
                out[village_id] += 1  # type: ignore[operator]
        return out
    return compute


def _village_level(scheme_param: str) -> Callable[..., dict[int, FigureValue]]:
    def compute(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
        out: dict[int, FigureValue] = dict.fromkeys(village_ids, "")
        best: dict[int, int] = {}
        for village_id, level, rank in _targets(s, parameters()[scheme_param], period.end):
            if village_id in out and level and rank > best.get(village_id, 0):
                out[village_id], best[village_id] = level, rank
        return out
    return compute


def _open_targets(s: Session, period: Period, village_ids: Sequence[int]) -> dict[int, FigureValue]:
    """Targets in rounds not yet finalised: the evaluation work still waiting (for the 首页)."""
    out: dict[int, FigureValue] = dict.fromkeys(village_ids, 0)
    for village_id, count in s.execute(select(e.EvalTarget.village_id, func.count())
                                       .join(e.EvalRound, e.EvalRound.id == e.EvalTarget.round_id)
                                       .where(e.EvalRound.locked.is_(False))
                                       .group_by(e.EvalTarget.village_id)):
        if village_id in out:
            out[village_id] = count
    return out


def figures() -> list[Figure]:
    levels: dict[str, str] = parameters()["household_star_levels"]
    stars = set(levels)
    out = [
        Figure("stars.rated", "参评户数", _household_count(lambda level: True)),
        Figure("stars.star_households", "星级户数", _household_count(lambda level: level in stars)),
    ]
    for name, key in levels.items():
        out.append(Figure(key, f"{name}户", _household_count(lambda level, name=name: level == name)))
    out += [
        Figure("org.star_level_evaluated", "评星定级星级", _village_level("org_star_scheme"), "text"),
        Figure("org.secretary_star_evaluated", "书记星级", _village_level("secretary_star_scheme"), "text"),
        Figure("evaluations.open_targets", "评定中的对象", _open_targets),
    ]
    return [dataclasses.replace(figure, reported=True) for figure in out]  # rounds travel as results only
