"""Grid demo data for one township, shaped like the seed county (832 网格 : 3,091 辅助网格 : 8,075 微网格).

Per village: 网格 → 辅助网格 → 微网格 (some villages have no auxiliary level),
every household in a micro-grid in 户编号 order except a few deliberate gaps,
a handful of households that moved (dated history), a roster with the five
roles (a few replaced members, one grid left without a 网格长 and one
micro-grid without a member so coverage has something to show), and the
monthly assessments from January of last year to last month, scored in bulk
as the 综治办 types them; each month but the latest is then submitted,
approved by another person (which fixes the subsidies and locks it) and its
最美网格员 chosen through GridService; the latest month is still a draft.
GridService works on the database's first township, so a county's other
townships get their months written as approved, for speed and because the
service cannot reach them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from townapp.core.actor import DEMO_ACTOR, ROLE_TOWNSHIP, Actor
from townapp.core.resources import load_data
from townapp.grids import models as g
from townapp.grids.scheme import current_scheme, scheme_to_json
from townapp.grids.service import GridService
from townapp.grids.subsidy import competition_ranks, subsidy_for, total_tenths
from townapp.registry import models as m

if TYPE_CHECKING:
    from townapp.db import Database
    from townapp.demokit import TownshipJob

CLERK = Actor("综治办录入员", ROLE_TOWNSHIP)  # submits; the administrator approves (two people, as the service asks)

_CN = "一二三四五六七八九十"


@lru_cache(maxsize=1)
def material() -> dict[str, Any]:
    return load_data("grids", "demo.json")


def build_township(job: TownshipJob) -> dict[str, int]:
    return _Builder(job).run()


def _ordinal(n: int) -> str:
    return _CN[n - 1] if n <= 10 else str(n)


class _Builder:
    def __init__(self, job: TownshipJob) -> None:
        self.job = job
        self.rng = job.rng
        self.mat = material()
        self.scheme = current_scheme()
        self.set_up = dt.date.fromisoformat(self.mat["set_up_on"])
        self.rows: dict[type, list[dict[str, Any]]] = {}
        self.members: list[tuple[int, int, str, float]] = []  # (member id, village id, role, quality)
        self.serving: dict[int, tuple[dt.date, dt.date | None]] = {}

    def add(self, model: type, row: dict[str, Any], synced: bool = True) -> dict[str, Any]:
        row.setdefault("id", self.job.keys.take(model.__table__))
        if synced:
            row.update(self.job.synced())
        self.rows.setdefault(model, []).append(row)
        return row

    def run(self) -> dict[str, int]:
        villages = self.job.facts["registry"].villages
        gaps = set(v.id for v in self.rng.sample(villages, min(self.mat["villages_with_gaps"], len(villages))))
        for index, village in enumerate(villages):
            self.job.report(index / (len(villages) + 1), f"正在生成 {village.name} 的网格…")
            self._village(village, village.id in gaps)
        self.job.report(len(villages) / (len(villages) + 1), f"正在生成 {self.job.township.name} 的网格员月度考核…")
        self._assessments()
        counts = {}
        for model in (g.Grid, g.GridChange, g.GridMember, g.GridAssignment, g.GridMonth, g.GridAssessment, g.GridStar):
            rows = self.rows.get(model, [])
            for start in range(0, len(rows), 5000):
                self.job.conn.execute(insert(model), rows[start:start + 5000])
            counts[model.__tablename__] = len(rows)
        self.job.report(1.0, f"{self.job.township.name} 的网格已生成")
        return counts

    # ----- the tree, the roster and the households of one village -------------------------------------
    def _village(self, village: Any, with_gaps: bool) -> None:
        rng, mat = self.rng, self.mat
        households = list(village.household_ids)
        micro_count = max(1, round(len(households) / mat["households_per_micro"] * rng.uniform(0.85, 1.15)))
        skip_aux = rng.random() < mat["villages_without_auxiliary"] or micro_count < 3
        aux_count = 0 if skip_aux else max(1, round(micro_count / mat["micro_per_auxiliary"]))
        grid_count = max(1, round((aux_count or micro_count / mat["micro_per_auxiliary"]) / mat["auxiliary_per_grid"]))
        adults = self._adults(village)
        cadres = [pid for pid, _post in village.cadres]
        prefix = village.code[-3:]
        grid_rows = []
        for i in range(1, grid_count + 1):
            grid_rows.append(self._grid(village, "网格", f"{prefix}-{i:02d}", f"{village.name}第{_ordinal(i)}网格", None))
        parents = grid_rows
        if aux_count:
            parents = []
            for j in range(aux_count):
                top = grid_rows[j * grid_count // aux_count]
                parents.append(self._grid(village, "辅助网格", f"{top['code']}-{j + 1}",
                                          f"{village.name}第{_ordinal(j + 1)}辅助网格", top["id"]))
        micro_rows = []
        for k in range(micro_count):
            parent = parents[k * len(parents) // micro_count]
            micro_rows.append(self._grid(village, "微网格", f"{parent['code']}-{k + 1:02d}",
                                         f"{village.name}第{k + 1}微网格", parent["id"]))
        # households in 户编号 order, contiguous runs per micro-grid (neighbours share a micro-grid)
        if with_gaps:
            households = households[:-rng.randint(1, 4)]
        for k, micro in enumerate(micro_rows):
            start, end = k * len(households) // micro_count, (k + 1) * len(households) // micro_count
            for hid in households[start:end]:
                self.add(g.GridAssignment, {"household_id": hid, "grid_id": micro["id"], "started_on": self.set_up,
                                            "ended_on": None})
        self._moves(micro_rows)
        # the roster: 网格长 from the village cadres first, 专职网格员, sometimes a 副网格长, then helpers
        used: set[int] = set()

        def person(preferred: list[int] | None = None) -> int:
            pool = [p for p in (preferred or []) if p not in used] or [a for a in adults if a not in used] or adults
            chosen = pool[0] if preferred and pool[0] in preferred else rng.choice(pool)
            used.add(chosen)
            return chosen

        headless = rng.randrange(grid_count) if with_gaps and grid_count > 1 else None
        for index, grid in enumerate(grid_rows):
            if index != headless:
                self._member(village.id, grid["id"], person(cadres), "网格长", "兼职", adults)
            self._member(village.id, grid["id"], person(), "网格员", "专职", adults)
            if rng.random() < mat["deputy_share"]:
                self._member(village.id, grid["id"], person(cadres), "副网格长", "兼职", adults)
        if aux_count:
            for aux in parents:
                self._member(village.id, aux["id"], person(), "网格辅助员", "兼职", adults)
        empty = rng.randrange(micro_count) if with_gaps else None
        for index, micro in enumerate(micro_rows):
            if index != empty:
                self._member(village.id, micro["id"], person(), "微网格员", "兼职", adults)

    def _adults(self, village: Any) -> list[int]:
        today = self.job.as_of
        young, old = today.replace(year=today.year - 23), today.replace(year=today.year - 66)
        return list(self.job.conn.execute(
            select(m.Person.id).where(m.Person.village_id == village.id, m.Person.birth_date <= young,
                                      m.Person.birth_date > old).order_by(m.Person.id)).scalars())

    def _grid(self, village: Any, level: str, code: str, name: str, parent: int | None) -> dict[str, Any]:
        row = self.add(g.Grid, {"township_id": self.job.township.id, "village_id": village.id, "parent_id": parent,
                                "level": level, "code": code, "name": name,
                                "scope": f"{village.name}{name[len(village.name):]}所辖片区", "party_group_id": None,
                                "active": True, "retired_on": None, "note": None})
        self.add(g.GridChange, {"grid_id": row["id"], "changed_on": self.set_up, "kind": "新建",
                                "detail": f"{level} {code} {name}", "username": "演示管理员", "at": self.job.now},
                 synced=False)
        return row

    def _moves(self, micro_rows: list[dict[str, Any]]) -> None:
        """A few households moved to a neighbouring micro-grid: the old assignment ends, a new one starts."""
        if len(micro_rows) < 2:
            return
        assignments = [a for a in self.rows[g.GridAssignment] if a["grid_id"] in {x["id"] for x in micro_rows}]
        for old in assignments:
            if self.rng.random() >= self.mat["moved_share"]:
                continue
            moved_on = self.set_up + dt.timedelta(days=self.rng.randint(200, 1000))
            target = self.rng.choice([x for x in micro_rows if x["id"] != old["grid_id"]])
            old["ended_on"] = moved_on
            self.add(g.GridAssignment, {"household_id": old["household_id"], "grid_id": target["id"],
                                        "started_on": moved_on, "ended_on": None})

    def _member(self, village_id: int, grid_id: int, person_id: int, role: str, duty: str,
                predecessors: list[int]) -> None:
        started = self.set_up
        if self.rng.random() < self.mat["replaced_share"] and predecessors:  # someone held the post until the handover
            handover = self.set_up + dt.timedelta(days=self.rng.randint(120, 900))
            before = self.add(g.GridMember, {"grid_id": grid_id, "person_id": self.rng.choice(predecessors),
                                             "role": role, "duty": duty, "started_on": self.set_up,
                                             "ended_on": handover - dt.timedelta(days=1), "phone": None})
            self.members.append((before["id"], village_id, role, self.mat["quality_mean"]))
            self.serving[before["id"]] = (self.set_up, before["ended_on"])
            started = handover
        row = self.add(g.GridMember, {"grid_id": grid_id, "person_id": person_id, "role": role, "duty": duty,
                                      "started_on": started, "ended_on": None, "phone": None})
        quality = min(0.99, max(0.55, self.rng.gauss(self.mat["quality_mean"], self.mat["quality_spread"])))
        self.members.append((row["id"], village_id, role, quality))
        self.serving[row["id"]] = (started, None)

    # ----- twelve months of assessments ---------------------------------------------------------------
    def _assessments(self) -> None:
        rng, scheme = self.rng, self.scheme
        last = self.job.as_of.replace(day=1) - dt.timedelta(days=1)
        months = [(self.job.as_of.year - 1, m) for m in range(1, 13)] + [
            (self.job.as_of.year, m) for m in range(1, last.month + 1) if last.year == self.job.as_of.year]
        snapshot = scheme_to_json(scheme)
        assessed = [x for x in self.members if x[2] in scheme.assessed_roles]
        # the service reaches the database's first township only (GridService._township_id)
        served = self.job.conn.execute(select(g.GridMonth.id).limit(1)).first() is None
        review: list[tuple[int, int]] = []
        for index, (year, month) in enumerate(months):
            draft = index == len(months) - 1 or served
            if served and index < len(months) - 1:
                review.append((year, month))
            first = dt.date(year, month, 1)
            month_row = self.add(g.GridMonth, {
                "township_id": self.job.township.id, "year": year, "month": month,
                "status": "草稿" if draft else "已审批", "locked": not draft,
                "submitted_by": None if draft else "综治办录入员", "approved_by": None if draft else "综治办主任",
                "approved_at": None if draft else dt.datetime(year, month, 28, 10, 0) + dt.timedelta(days=5),
                "unlocked_by": None, "scheme_json": None if draft else snapshot})
            totals: dict[int, int] = {}
            villages: dict[int, int] = {}
            last_day = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            for member_id, village_id, role, quality in assessed:
                started, ended = self.serving[member_id]
                if started > last_day or (ended is not None and ended < first):
                    continue  # assessed in every month they served a day of
                scores = {}
                for item in scheme.items:
                    share = min(1.0, max(0.3, rng.gauss(quality, 0.05)))
                    scores[item.key] = int(item.max_tenths * share / 5) * 5  # half points, as people score
                deduction, reason = 0, None
                if rng.random() < self.mat["deduction_share"]:
                    chosen = rng.choice(scheme.deductions)
                    deduction, reason = chosen.points_tenths, chosen.reason
                total = total_tenths(scheme, scores, deduction)
                assert total is not None
                line = subsidy_for(scheme, total, role)
                self.add(g.GridAssessment, {
                    "month_id": month_row["id"], "member_id": member_id, "scores": json.dumps(scores, sort_keys=True),
                    "deduction": deduction, "deduction_reason": reason, "total": total,
                    "performance_fen": None if draft else line.performance_fen,
                    "allowance_fen": None if draft else line.allowance_fen,
                    "subsidy_fen": None if draft else line.subsidy_fen, "note": None})
                totals[member_id], villages[member_id] = total, village_id
            if not draft:
                self._stars(month_row["id"], totals, villages)
        if review:
            self.job.then(lambda db: _review(db, review, random.Random(self.rng.random()), self.mat["deeds"]))

    def _stars(self, month_id: int, totals: dict[int, int], villages: dict[int, int]) -> None:
        scopes: dict[int | None, dict[int, int]] = {}
        for member_id, total in totals.items():
            scope = villages[member_id] if self.scheme.best_scope == "village" else None
            scopes.setdefault(scope, {})[member_id] = total
        for scoped in scopes.values():
            ranks = competition_ranks(scoped)
            top = sorted(scoped, key=lambda k: (ranks[k], k))[: self.scheme.best_candidates]
            for member_id in self.rng.sample(top, min(self.scheme.best_count, len(top))):
                self._star(month_id, member_id, villages[member_id])

    def _star(self, month_id: int, member_id: int, village_id: int) -> None:
        self.add(g.GridStar, {"month_id": month_id, "member_id": member_id, "village_id": village_id,
                              "deeds": self.rng.choice(self.mat["deeds"]), "chosen_by": "综治办主任"})


def _review(db: Database, months: list[tuple[int, int]], rng: random.Random, deeds: list[str]) -> None:
    """Each finished month: the clerk submits, the administrator approves (subsidies fixed, month locked),
    then chooses the month's 最美网格员 from the top scores."""
    clerk, head = GridService(db, CLERK), GridService(db, DEMO_ACTOR)
    for year, month in months:
        clerk.submit_month(year, month)
        head.approve_month(year, month)
        scheme = head.month_scheme(year, month)
        candidates = head.star_candidates(year, month)
        chosen: dict[int | None, int] = {}
        for row in rng.sample(candidates, len(candidates)):
            scope = row.village_id if scheme.best_scope == "village" else None
            if chosen.get(scope, 0) < scheme.best_count:
                head.choose_star(year, month, row.member_id, rng.choice(deeds))
                chosen[scope] = chosen.get(scope, 0) + 1
