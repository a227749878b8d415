"""Evaluation demo data for one township: raw entries in bulk, every round's course and 定级 through the service.

星级文明户: last year's round and this year's (at 组互评) are written in bulk —
150,000 households' self-assessments are entries, not decisions — and last
year's is then handed to 公示 and finalised through EvaluationService. The
书记 months of last year and this year up to last month, their quarterly
reviews, last year's 书记星级, five years of 评星定级 and 规范·示范·典范 creation,
and the 软弱涣散 验收 are driven through EvaluationService as the township does
it: create_round, add_targets, save_entries stage by stage, advance_stage with
the 公示 dates, finalise on the day after it — which writes the results into
the village archive (org_star, secretary_star, creation_level, 验收). A step
whose day is after the as-of date is not taken: that round is still running.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from townapp.core.actor import DEMO_ACTOR
from townapp.core.resources import load_data
from townapp.evaluations import models as e
from townapp.evaluations.dto import EntryInput, RoundInput
from townapp.evaluations.engine import EntryData, evaluate
from townapp.evaluations.schemes import Scheme, load_file, scheme_files, shipped_folder
from townapp.evaluations.service import EvaluationService, candidates_in, period_text

if TYPE_CHECKING:
    from townapp.db import Database
    from townapp.demokit import TownshipJob

CREATION_LEVELS = ("规范", "示范", "典范")


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
        archives = self.job.facts.get("archives", {})
        self.job.then(_Course(self.job.as_of, random.Random(self.rng.random()), self.schemes, self.villages,
                              self.candidates, self.last_household_round, archives.get("years", []),
                              archives.get("weak_years", {})).run)
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
        # entered up to 乡镇终审; its 公示 and 定级 are the course's (EvaluationService)
        last = self._round(key, self.last_year, 0, "township", locked=False, finalised=None,
                           bodies=scheme.joint_bodies)
        self.last_household_round = last["id"]
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


def _cumulative(shares: dict[str, float]) -> list[tuple[str, float]]:
    total, out = 0.0, []
    for key, share in shares.items():
        total += share
        out.append((key, total))
    return out


def _month_after(year: int, month: int, day: int) -> dt.date:
    """``day`` of the month after ``year``-``month``: when a month's or quarter's review is finished."""
    return dt.date(year + (month == 12), month % 12 + 1, day)


class _Course:
    """The township's evaluation year through EvaluationService, in calendar order, up to the as-of date."""

    def __init__(self, as_of: dt.date, rng: random.Random, schemes: dict[str, tuple[int, Scheme]],
                 villages: list[int], candidates: dict[str, list[tuple[int, int, str, str]]],
                 household_round: int, years: list[int], weak_years: dict[int, int]) -> None:
        self.as_of, self.rng, self.schemes, self.villages = as_of, rng, schemes, villages
        self.candidates, self.household_round = candidates, household_round
        self.last_year, self.this_year = as_of.year - 1, as_of.year
        self.years = years or [self.last_year]
        self.weak_years = weak_years
        self.mat = material()
        self.creation_seed = rng.random()

    def run(self, db: Database) -> None:
        self.service = EvaluationService(db, DEMO_ACTOR)
        self._households()
        self._secretaries()
        for year in self.years:
            self._village_stars(year)
            self._creation(year)
        for year in sorted(set(self.weak_years.values())):
            self._acceptance(year, sorted(v for v, y in self.weak_years.items() if y == year and v in self.villages))
        self._head_goose()  # last: the rounds above draw the same numbers as before it was added

    # ----- one round: entries stage by stage, 公示, 定级 ----------------------------------------------
    def _create(self, key: str, year: int, number: int = 0, villages: list[int] | None = None) -> int:
        return self.service.create_round(RoundInput(self.schemes[key][0], year, number, villages or self.villages))

    def _targets(self, round_id: int) -> dict[int, int]:
        """village id → target id (one target per village in the village-level and 书记 schemes)."""
        return {row.village_id: row.target_id for row in self.service.sheet(round_id)}

    def _course(self, round_id: int, key: str, entries: dict[str, dict[int, EntryInput]],
                publicity: tuple[dt.date, dt.date] | None, finalised: dt.date) -> None:
        """Enter each score stage and hand the round on; 公示 with its dates; 定级 on ``finalised``."""
        scheme = self.schemes[key][1]
        for index, stage in enumerate(scheme.stages):
            if stage.is_publicity:
                assert publicity is not None
                if publicity[0] > self.as_of:
                    return
            elif entries.get(stage.key):
                self.service.save_entries(list(entries[stage.key].values()))
            if index + 1 == len(scheme.stages):
                break
            following = scheme.stages[index + 1]
            if following.is_publicity:
                assert publicity is not None
                if publicity[0] > self.as_of:
                    return
                self.service.advance_stage(round_id, publicity_start=publicity[0], publicity_end=publicity[1],
                                           as_of=publicity[0])
            else:
                after = publicity[1] + dt.timedelta(days=1) if stage.is_publicity and publicity else None
                if after is not None and after > self.as_of:
                    return
                self.service.advance_stage(round_id, as_of=after)
        if finalised <= self.as_of:
            self.service.finalise(round_id, as_of=finalised)

    # ----- 星级文明户: last year's round to 公示 and 定级 ------------------------------------------------
    def _households(self) -> None:
        publicity = (dt.date(self.last_year, 12, 1), dt.date(self.last_year, 12, 7))
        self.service.advance_stage(self.household_round, publicity_start=publicity[0], publicity_end=publicity[1],
                                   as_of=publicity[0])
        self.service.finalise(self.household_round, as_of=dt.date(self.last_year, 12, 15))

    # ----- 书记: months → quarters → year -----------------------------------------------------------
    def _secretaries(self) -> None:
        monthly = self.schemes["secretary_monthly"][1]
        means = {village: self.rng.uniform(78, 96) for village in self.villages}
        months = [(self.last_year, m) for m in range(1, 13)] + [(self.this_year, m) for m in range(1, self.as_of.month)]
        for year, month in months:
            if _month_after(year, month, 1) > self.as_of:
                break
            round_id = self._create("secretary_monthly", year, month)
            sheet = [EntryInput(target, "township", scores=self._monthly_scores(monthly, means[village]))
                     for village, target in self._targets(round_id).items()]
            self.service.save_entries(sheet)
            self._course(round_id, "secretary_monthly", {}, None, _month_after(year, month, 5))
        for year, quarter in [(self.last_year, q) for q in range(1, 5)] + [(self.this_year, q) for q in range(1, 5)]:
            reviewed = _month_after(year, 3 * quarter, 8)
            if reviewed > self.as_of:
                break
            round_id = self._create("secretary_quarterly", year, quarter)  # the months' mean, gathered on creation
            self._course(round_id, "secretary_quarterly", {}, None, reviewed)
        self._secretary_star()

    def _monthly_scores(self, scheme: Scheme, mean: float) -> dict[str, Decimal | None]:
        total = max(50.0, min(100.0, self.rng.gauss(mean, 3.0)))
        ratio = total / 100
        return {i.code: Decimal(str(round(float(i.max) * min(1.0, ratio * self.rng.uniform(0.97, 1.03)), 1)))
                for i in scheme.indicators}

    def _secretary_star(self) -> None:
        """Last year's 书记星级 from the four quarters, 公示 in January, 定级 on 20 January (→ archive)."""
        if dt.date(self.this_year, 1, 9) > self.as_of:
            return
        round_id = self._create("secretary_star", self.last_year)
        shares = self.mat["secretary_assessment"]
        sheet = {}
        for village, target in self._targets(round_id).items():
            pick, total, assessment = self.rng.random(), 0.0, "合格"
            for name, share in shares.items():
                total += share
                if pick < total:
                    assessment = name
                    break
            sheet[village] = EntryInput(target, "township", inputs={"assessment": assessment,
                                                                    "years": Decimal(self.rng.randint(1, 15))})
        self._course(round_id, "secretary_star", {"township": sheet},
                     (dt.date(self.this_year, 1, 10), dt.date(self.this_year, 1, 14)), dt.date(self.this_year, 1, 20))

    # ----- 头雁指数: each half year, 公示 and 定级 in the month after ------------------------------------
    def _head_goose(self) -> None:
        """Last year's two halves and this year's first: now and then a secretary falls below the 调整线
        (the 建议调整名单 the township follows up)."""
        scheme = self.schemes["head_goose_index"][1]
        for year, half in ((self.last_year, 1), (self.last_year, 2), (self.this_year, 1)):
            start = dt.date(year, 7, 10) if half == 1 else dt.date(year + 1, 1, 10)
            if start > self.as_of:
                return
            round_id = self._create("head_goose_index", year, half)
            sheet = {}
            for village, target in self._targets(round_id).items():
                low = self.rng.random() < 0.1
                base = self.rng.uniform(0.6, 0.69) if low else self.rng.uniform(0.72, 0.97)
                sheet[village] = EntryInput(target, "township", scores={
                    i.code: Decimal(str(round(float(i.max) * min(1.0, base * self.rng.uniform(0.95, 1.05)) * 2) / 2))
                    for i in scheme.indicators})
            self._course(round_id, "head_goose_index", {"township": sheet},
                         (start, start + dt.timedelta(days=4)), start + dt.timedelta(days=10))

    # ----- 评星定级, creation and 软弱涣散 验收: the village's own results ---------------------------------
    def _village_stars(self, year: int) -> None:
        """镇街考核 → 群众测评 → 县级联审 → 公开公示 (February) → 市级复核 → 定级 (→ archive org_star)."""
        if dt.date(year + 1, 1, 10) > self.as_of:
            return
        scheme = self.schemes["village_org_star"][1]
        round_id = self._create("village_org_star", year)
        caps = [n.code for n in scheme.negatives]
        town: dict[int, EntryInput] = {}
        county: dict[int, EntryInput] = {}
        for village, target in self._targets(round_id).items():
            weak = self.weak_years.get(village) == year
            base = self.rng.uniform(0.61, 0.68) if weak else self.rng.uniform(0.6, 1.0)
            scores = {i.code: Decimal(str(round(float(i.max) * min(1.0, base * self.rng.uniform(0.9, 1.1)) * 2) / 2))
                      for i in scheme.indicators}
            negatives = {self.rng.choice(caps): "经核实"} if self.rng.random() < 0.15 else {}
            town[village] = EntryInput(target, "town", scores=scores)
            county[village] = EntryInput(target, "county", scores=scores, negatives=negatives)
        mass = {v: EntryInput(x.target_id, "mass", scores=x.scores) for v, x in town.items()}
        city = {v: EntryInput(x.target_id, "city", scores=x.scores, negatives=x.negatives) for v, x in county.items()}
        self._course(round_id, "village_org_star", {"town": town, "mass": mass, "county": county, "city": city},
                     (dt.date(year + 1, 2, 10), dt.date(year + 1, 2, 14)), dt.date(year + 1, 2, 25))

    def _creation(self, year: int) -> None:
        """规范·示范·典范: the village applies, the township prechecks, the county assesses; 公示; 定级 (→ archive)."""
        if dt.date(year + 1, 1, 10) > self.as_of:
            return
        scheme = self.schemes["village_creation"][1]
        round_id = self._create("village_creation", year)
        entries: dict[str, dict[int, EntryInput]] = {"apply": {}, "precheck": {}, "assess": {}}
        for village, target in self._targets(round_id).items():
            level = self._creation_level(village, year)
            weak = self.weak_years.get(village) == year
            if level is None and not weak:
                continue  # not applying this year
            applied = level or CREATION_LEVELS[0]
            rank = CREATION_LEVELS.index(applied)
            scores = {i.code: Decimal(1 if CREATION_LEVELS.index(i.level) <= rank else 0) for i in scheme.indicators}
            negatives = {"Z1": "当年被认定为软弱涣散村党组织"} if weak else {}
            for stage in entries:
                entries[stage][village] = EntryInput(target, stage, scores=scores, negatives=negatives,
                                                     inputs={"applied": applied} if stage == "apply" else None)
        self._course(round_id, "village_creation", entries,
                     (dt.date(year + 1, 2, 12), dt.date(year + 1, 2, 16)), dt.date(year + 1, 2, 26))

    def _creation_level(self, village: int, year: int) -> str | None:
        """The level a village applies for: from where it started, rising now and then, held back after 整顿."""
        levels = getattr(self, "_levels", None)
        if levels is None:
            levels = self._levels = {}
        if village not in levels:
            rises = random.Random(f"{self.creation_seed}:{village}")
            start = rises.choice((0, 0, 1, 1, 2))
            index, path = start, {}
            weak = self.weak_years.get(village)
            for y in self.years:
                if weak is None or y < weak or y > weak + 1:
                    index = min(index + (1 if rises.random() < 0.3 else 0), 3)
                path[y] = index
            levels[village] = path
        index = levels[village].get(year, 0)
        return CREATION_LEVELS[index - 1] if index else None

    def _acceptance(self, year: int, villages: list[int]) -> None:
        """软弱涣散 整顿验收 of the villages found weak in ``year``: scored, 公示 in January, 定级 (→ archive)."""
        if not villages or dt.date(year + 1, 1, 5) > self.as_of:
            return
        scheme = self.schemes["weak_org_acceptance"][1]
        round_id = self._create("weak_org_acceptance", year, villages=villages)
        entries: dict[str, dict[int, EntryInput]] = {"self": {}, "township": {}, "county": {}}
        for village, target in self._targets(round_id).items():
            share = self.rng.uniform(0.76, 0.92)
            scores = {i.code: Decimal(str(round(float(i.max) * share * 2) / 2)) for i in scheme.indicators}
            for stage in entries:
                entries[stage][village] = EntryInput(target, stage, scores=scores, inputs={
                    "unsatisfied": Decimal(self.rng.randint(5, 30))} if stage == "self" else None)
        self._course(round_id, "weak_org_acceptance", entries,
                     (dt.date(year + 1, 1, 5), dt.date(year + 1, 1, 9)),
                     dt.date(year + 1, 1, self.rng.randint(12, 28)))
