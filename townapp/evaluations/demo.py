"""Evaluation demo data for one township, with levels computed by the real engine.

Last year's 星级文明户 round finished (about 60% of households rated, shares
of 三/四/五星 as in resources/evaluations/demo.json), this year's running at
组互评; the 书记 monthly evaluations of last year and this half-year, their
quarterly reviews and last year's star rating; one finished 评星定级 round.
Rows go in with Core bulk inserts like every demo step (no audit rows).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from townapp.core.resources import load_data
from townapp.evaluations import models as e
from townapp.evaluations.engine import EntryData, evaluate, roll_up
from townapp.evaluations.schemes import Scheme, load_file, scheme_files, shipped_folder
from townapp.evaluations.service import candidates_in, period_text

if TYPE_CHECKING:
    from townapp.demokit import TownshipJob


@lru_cache(maxsize=1)
def material() -> dict[str, Any]:
    return load_data("evaluations", "demo.json")


def build_township(job: TownshipJob) -> dict[str, int]:
    return _Builder(job).run()


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps({k: str(v) if isinstance(v, Decimal) else v for k, v in sorted(data.items())},
                      ensure_ascii=False, separators=(",", ":"))


class _Builder:
    def __init__(self, job: TownshipJob) -> None:
        self.job = job
        self.rng = job.rng
        self.mat = material()
        self.rows: dict[type, list[dict[str, Any]]] = {}
        self.villages = [v.id for v in job.facts["registry"].villages]
        self.last_year = job.as_of.year - 1
        self.this_year = job.as_of.year

    def add(self, model: type, row: dict[str, Any], synced: bool = False) -> dict[str, Any]:
        if "id" not in row and "id" in model.__table__.c:
            row["id"] = self.job.keys.take(model.__table__)
        if synced:
            row.update(self.job.synced())
        self.rows.setdefault(model, []).append(row)
        return row

    def run(self) -> dict[str, int]:
        self.schemes = self._schemes()
        session = Session(bind=self.job.conn)
        try:  # the service's own rule for who each scheme rates (households, 书记, villages)
            self.candidates = {key: candidates_in(session, scheme, self.villages)
                               for key, (_id, scheme) in self.schemes.items()}
        finally:
            session.close()
        self.job.report(0.1, f"正在生成 {self.job.township.name} 的星级文明户评定…")
        self._households()
        self.job.report(0.6, f"正在生成 {self.job.township.name} 的书记星级评定…")
        self._secretaries()
        self._village_stars()
        counts = {}
        for model in (e.EvalRound, e.EvalRoundVillage, e.EvalTarget, e.EvalEntry, e.EvalEvent):
            rows = self.rows.get(model, [])
            if rows:
                self.job.conn.execute(model.__table__.insert(), rows)
            counts[model.__tablename__] = len(rows)
        self.job.report(1.0, f"{self.job.township.name} 的评定数据已生成")
        return counts

    # ----- schemes (once per database) ---------------------------------------------
    def _schemes(self) -> dict[str, tuple[int, Scheme]]:
        conn = self.job.conn
        known = {r.key: r.id for r in conn.execute(select(e.EvalScheme.key, e.EvalScheme.id)
                                                   .where(e.EvalScheme.version == 1))}
        out = {}
        for path in scheme_files(shipped_folder()):
            scheme = load_file(path)
            if scheme.key not in known:
                row = {"id": self.job.keys.take(e.EvalScheme.__table__), "key": scheme.key, "version": 1,
                       "name": scheme.name, "target": scheme.target, "period": scheme.period,
                       "definition": scheme.definition, "digest": scheme.digest, "source": path.name,
                       "source_digest": scheme.digest, **self.job.synced()}
                conn.execute(e.EvalScheme.__table__.insert(), [row])
                known[scheme.key] = row["id"]
            out[scheme.key] = (known[scheme.key], scheme)
        return out

    # ----- one round -----------------------------------------------------------------
    def _round(self, key: str, year: int, number: int, stage: str, *, locked: bool, finalised: dt.date | None,
               publicity: tuple[dt.date, dt.date] | None = None, bodies: tuple[str, ...] = ()) -> dict[str, Any]:
        scheme_id, scheme = self.schemes[key]
        name = f"{period_text(scheme.period, year, number)}{scheme.name}"
        status = "已定级" if locked else "公示中" if scheme.stage(stage).is_publicity else "进行中"
        row = self.add(e.EvalRound, {
            "scheme_id": scheme_id, "name": name, "year": year, "period_no": number, "stage": stage,
            "status": status, "locked": locked, "bodies": "、".join(bodies) or None,
            "publicity_start": publicity[0] if publicity else None,
            "publicity_end": publicity[1] if publicity else None, "finalised_on": finalised,
            "finalised_by": "演示管理员" if locked else None}, synced=True)
        for village in self.villages:
            self.add(e.EvalRoundVillage, {"round_id": row["id"], "village_id": village})
        at = dt.datetime.combine(dt.date(year, 1, 1) if key != "civilized_household" else dt.date(year, 3, 1),
                                 dt.time(9))
        self.add(e.EvalEvent, {"round_id": row["id"], "at": at, "username": "演示管理员", "action": "新建",
                               "detail": f"新建{name}，范围 {len(self.villages)} 个村/社区"})
        if locked and finalised:
            self.add(e.EvalEvent, {"round_id": row["id"], "at": dt.datetime.combine(finalised, dt.time(16)),
                                   "username": "演示管理员", "action": "定级", "detail": "定级并锁定"})
        return row

    def _target(self, round_row: dict[str, Any], scheme: Scheme, candidate: tuple[int, int, str, str],
                entries: list[tuple[str, EntryData]], *, inputs: dict[str, Any] | None = None,
                rollup: Decimal | None = None) -> dict[str, Any]:
        ref_id, village_id, label, code = candidate
        target = self.add(e.EvalTarget, {
            "round_id": round_row["id"], "village_id": village_id, "ref_id": ref_id, "label": label, "code": code,
            "inputs": _dumps(inputs or {}), "rollup": rollup, "barred": None, "revoked_on": None,
            "revoke_reason": None}, synced=True)
        outcome, decided = None, None
        comments = self.mat["comments"]
        for stage, data in entries:
            outcome = evaluate(scheme, data, rollup=rollup)
            decided = stage
            self.add(e.EvalEntry, {
                "target_id": target["id"], "stage": stage, "scores": _dumps(dict(data.values)),
                "negatives": _dumps(dict.fromkeys(data.negatives, "")), "level": outcome.level,
                "measure": outcome.measure, "entered_by": "演示管理员", "entered_at": self.job.now,
                "comment": self.rng.choice(comments) if scheme.target == "household" and outcome.rank else None})
        if outcome is None:
            outcome = evaluate(scheme, EntryData(inputs=inputs or {}), rollup=rollup)
        target.update(level=outcome.level, rank=outcome.rank, measure=outcome.measure, vetoed=outcome.vetoed,
                      reasons=outcome.summary[:400] or None, flags="、".join(outcome.flags) or None,
                      decided_stage=decided)
        return target

    # ----- 星级文明户 -------------------------------------------------------------------
    def _star_entry(self, scheme: Scheme, stars: int, negatives: frozenset[str] = frozenset()) -> EntryData:
        codes = [i.code for i in scheme.indicators]
        earned = set(self.rng.sample(codes, stars))
        return EntryData({c: Decimal(1 if c in earned else 0) for c in codes}, negatives)

    def _households(self) -> None:
        key = "civilized_household"
        _id, scheme = self.schemes[key]
        households = self.candidates[key]
        shares = self.mat["household_shares"]
        vetoes = [n.code for n in scheme.negatives if n.effect == "veto"]
        thresholds = {lv.name: int(lv.min) for lv in scheme.levels}
        last = self._round(key, self.last_year, 0, scheme.stages[-1].key, locked=True,
                           finalised=dt.date(self.last_year, 12, 15), bodies=scheme.joint_bodies,
                           publicity=(dt.date(self.last_year, 12, 1), dt.date(self.last_year, 12, 7)))
        # of the households that applied, some are vetoed and some fall short, so that about 60% of all are rated
        applied, vetoed = self.mat["household_applied"], self.mat["household_vetoed"]
        short = 1 - self.mat["household_rated"] / (applied * (1 - vetoed))
        for candidate in households:
            if self.rng.random() >= self.mat["household_applied"]:
                continue
            draw = self.rng.random()
            negatives: frozenset[str] = frozenset()
            if draw < self.mat["household_vetoed"]:
                stars, negatives = 10, frozenset({self.rng.choice(vetoes)})
            elif self.rng.random() < short:
                stars = thresholds["三星"] - self.rng.randint(1, 2)
            else:
                pick = self.rng.random()
                level = "五星" if pick < shares["五星"] else "四星" if pick < shares["五星"] + shares["四星"] else "三星"
                top = 10 if level == "五星" else thresholds["五星"] - 1 if level == "四星" else thresholds["四星"] - 1
                stars = self.rng.randint(thresholds[level], top)
            final = self._star_entry(scheme, stars, negatives)
            # a county build keeps only the deciding entry: 150,000 households must stay quick to generate
            earlier = [] if self.job.build.scale == "county" else [("self", self._star_entry(scheme, min(10, stars + 1)))]
            self._target(last, scheme, candidate, [*earlier, ("township", final)])
        running = self._round(key, self.this_year, 0, "group", locked=False, finalised=None,
                              bodies=scheme.joint_bodies)
        for candidate in households:
            if self.rng.random() >= self.mat["running_applied"]:
                continue
            own = self._star_entry(scheme, self.rng.randint(6, 10))
            entries = [("self", own)]
            if self.job.build.scale != "county" and self.rng.random() < self.mat["running_group_done"]:
                entries.append(("group", self._star_entry(scheme, self.rng.randint(5, 10))))
            self._target(running, scheme, candidate, entries)

    # ----- 书记: months → quarters → year -------------------------------------------
    def _monthly_scores(self, scheme: Scheme, mean: float) -> EntryData:
        total = max(50.0, min(100.0, self.rng.gauss(mean, 3.0)))
        ratio = total / 100
        return EntryData({i.code: Decimal(str(round(float(i.max) * min(1.0, ratio * self.rng.uniform(0.97, 1.03)), 1)))
                          for i in scheme.indicators})

    def _secretaries(self) -> None:
        monthly = self.schemes["secretary_monthly"][1]
        quarterly = self.schemes["secretary_quarterly"][1]
        star = self.schemes["secretary_star"][1]
        people = self.candidates["secretary_monthly"]
        means = {c[0]: self.rng.uniform(78, 96) for c in people}
        months = [(self.last_year, m) for m in range(1, 13)] + [(self.this_year, m) for m in range(1, 7)]
        results: dict[tuple[int, int], dict[int, Decimal]] = {}
        for year, month in months:
            end = (dt.date(year, month, 28) + dt.timedelta(days=5))
            rnd = self._round("secretary_monthly", year, month, "township", locked=True, finalised=end)
            for candidate in people:
                target = self._target(rnd, monthly, candidate, [("township", self._monthly_scores(
                    monthly, means[candidate[0]]))])
                results.setdefault((year, month), {})[candidate[0]] = target["measure"]
        quarters: dict[tuple[int, int], dict[int, Decimal]] = {}
        for year, quarter in [(self.last_year, q) for q in range(1, 5)] + [(self.this_year, q) for q in (1, 2)]:
            end = dt.date(year, 3 * quarter, 28) + dt.timedelta(days=8)
            rnd = self._round("secretary_quarterly", year, quarter, "review", locked=True, finalised=end)
            for candidate in people:
                values = [results[(year, m)][candidate[0]] for m in range(3 * quarter - 2, 3 * quarter + 1)]
                summary = roll_up(values, "mean")
                target = self._target(rnd, quarterly, candidate, [], rollup=summary)
                quarters.setdefault((year, quarter), {})[candidate[0]] = target["measure"]
        rnd = self._round("secretary_star", self.last_year, 0, star.stages[-1].key, locked=True,
                          finalised=dt.date(self.this_year, 1, 20),
                          publicity=(dt.date(self.this_year, 1, 10), dt.date(self.this_year, 1, 14)))
        shares = self.mat["secretary_assessment"]
        for candidate in people:
            values = [quarters[(self.last_year, q)][candidate[0]] for q in range(1, 5)]
            pick = self.rng.random()
            assessment = next((k for k, cumulative in _cumulative(shares) if pick < cumulative), "合格")
            inputs = {"assessment": assessment, "years": Decimal(self.rng.randint(1, 15))}
            self._target(rnd, star, candidate, [("township", EntryData(inputs=inputs))], inputs=inputs,
                         rollup=roll_up(values, "mean"))

    # ----- 评星定级 ---------------------------------------------------------------------
    def _village_stars(self) -> None:
        key = "village_org_star"
        scheme = self.schemes[key][1]
        rnd = self._round(key, self.last_year, 0, scheme.stages[-1].key, locked=True,
                          finalised=dt.date(self.this_year, 2, 28),
                          publicity=(dt.date(self.this_year, 2, 10), dt.date(self.this_year, 2, 14)))
        caps = [n.code for n in scheme.negatives]
        for candidate in self.candidates[key]:
            base = self.rng.uniform(0.6, 1.0)
            town = EntryData({i.code: Decimal(str(round(float(i.max) * min(1.0, base * self.rng.uniform(0.9, 1.1)) * 2)
                                                  / 2)) for i in scheme.indicators})
            negatives = frozenset({self.rng.choice(caps)}) if self.rng.random() < 0.15 else frozenset()
            county = EntryData(town.values, negatives)
            self._target(rnd, scheme, candidate, [("town", town), ("mass", town), ("county", county),
                                                  ("city", county)])


def _cumulative(shares: dict[str, float]) -> list[tuple[str, float]]:
    total, out = 0.0, []
    for key, share in shares.items():
        total += share
        out.append((key, total))
    return out
