"""The county's own work on what townships reported: its stages on their rounds, and the return package.

A county database holds each township's rounds as reported (评定轮次, 评定结果,
评定过程 in ``county_copy``). For a round waiting at one of the county's stages
(a stage of level ``county`` in the round's scheme: 县级联审, 县级验收 …) the
county records its result per target — 同意, or 否决 with the scheme's 否定项
and what it found — with who and when (``CountyDecision``). The return package
(county → township) carries those decisions as 县级决定; the township imports
it like any package and its evaluations service records them as entries it
cannot change (``EvaluationService.apply_county_decisions``): the same
package twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from townapp.core import permissions
from townapp.core.actor import Actor
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.core.progress import CancelFn, ProgressFn
from townapp.county.copies import reported_rows
from townapp.county.models import CountyDecision
from townapp.db import Database
from townapp.db.audit import AuditedSession
from townapp.evaluations.dto import CountyDecisionInput
from townapp.evaluations.service import EvaluationService
from townapp.exchange import spec as s
from townapp.exchange.package import PackageResult, write_package

DECISION_SHEET = "county_decision"
VERDICTS = ("同意", "否决")


@dataclass(frozen=True)
class StageChoice:
    key: str
    name: str


@dataclass(frozen=True)
class ReportedRound:
    """A township's round as reported, with the county stages it has and where it stands."""

    township_code: str
    township_name: str
    uuid: str
    name: str
    scheme_name: str
    year: int
    stage: str
    stage_name: str
    status: str
    county_stages: tuple[StageChoice, ...]
    negatives: tuple[StageChoice, ...]

    @property
    def waiting(self) -> StageChoice | None:
        """The county stage the round is at (None: nothing for the county to do now, or the round is 定级)."""
        if self.status == "已定级":
            return None
        return next((c for c in self.county_stages if c.key == self.stage), None)


@dataclass(frozen=True)
class ReportedTarget:
    uuid: str
    village_code: str
    label: str
    code: str
    level: str
    measure: str


@dataclass(frozen=True)
class DecisionInput:
    target_uuid: str
    verdict: str = "同意"
    negative: str | None = None
    note: str | None = None
    comment: str | None = None


def _pairs(text: str | None, parts: int) -> list[list[str]]:
    return [item.split(":", parts - 1) for item in (text or "").split("；") if item.count(":") >= parts - 1 and item]


class CountyService:
    """What the county's 乡镇上报 page and the CLI call."""

    def __init__(self, db: Database, actor: Actor) -> None:
        self.db = db
        self.actor = actor

    def _require_county(self, action: str) -> None:
        permissions.require_township(self.actor, action)
        if self.db.meta("mode") != "county":
            raise DomainError(f"{action}只能在县级数据库中进行")

    def _township_names(self, conn: Connection) -> dict[str, str]:
        from townapp.registry import models as m
        return dict(conn.execute(select(m.Township.code, m.Township.name)).all())

    def rounds(self, township_code: str | None = None) -> list[ReportedRound]:
        """Every reported round (of one township, or all), the ones waiting for the county first."""
        self._require_county("查看乡镇上报的评定")
        out = []
        with self.db.engine.connect() as conn:
            names = self._township_names(conn)
            for code, row in reported_rows(conn, "eval_round", township_code=township_code):
                stages = tuple(StageChoice(k, n) for k, n, level in _pairs(row.get("stages"), 3) if level == "county")
                negatives = tuple(StageChoice(k, n) for k, n in _pairs(row.get("negatives"), 2))
                out.append(ReportedRound(code, names.get(code, code), row["uuid"], row.get("name", ""),
                                         row.get("scheme_name", ""), int(row.get("year", 0)), row.get("stage", ""),
                                         row.get("stage_name", ""), row.get("status", ""), stages, negatives))
        return sorted(out, key=lambda r: (r.waiting is None, r.township_code, -r.year, r.name))

    def round(self, round_uuid: str) -> ReportedRound:
        found = next((r for r in self.rounds() if r.uuid == round_uuid), None)
        if found is None:
            raise DomainError("县级数据库中没有这一轮评定（请先导入报送它的乡镇数据包）")
        return found

    def targets(self, round_uuid: str) -> list[ReportedTarget]:
        self._require_county("查看乡镇上报的评定")
        with self.db.engine.connect() as conn:
            return [ReportedTarget(row["uuid"], row.get("village_code", ""), row.get("label", ""),
                                   row.get("code", ""), row.get("level", ""), row.get("measure", ""))
                    for _code, row in reported_rows(conn, "eval_result", period=round_uuid)]

    def decisions(self, round_uuid: str) -> dict[str, CountyDecision]:
        """The county's decisions on a round, by target uuid (detached rows)."""
        self._require_county("查看县级结果")
        with self.db.reader() as session:
            rows = list(session.scalars(select(CountyDecision).where(CountyDecision.round_uuid == round_uuid)))
            session.expunge_all()
        return {r.target_uuid: r for r in rows}

    def record(self, round_uuid: str, items: Sequence[DecisionInput], *, on: dt.date | None = None) -> int:
        """Record the county's result at the round's current county stage for these targets; returns how many."""
        self._require_county("录入县级结果")
        rnd = self.round(round_uuid)
        stage = rnd.waiting
        if stage is None:
            raise DomainError(f"“{rnd.name}”当前环节是“{rnd.stage_name}”，不是县级环节，县级无需录入结果")
        targets = {t.uuid: t for t in self.targets(round_uuid)}
        negatives = {n.key for n in rnd.negatives}
        problems = []
        for item in items:
            label = targets[item.target_uuid].label if item.target_uuid in targets else item.target_uuid
            if item.target_uuid not in targets:
                problems.append(FieldProblem("target", f"{label}：不是这一轮评定的对象"))
            elif item.verdict not in VERDICTS:
                problems.append(FieldProblem("verdict", f"{label}：结论应为“同意”或“否决”"))
            elif item.verdict == "否决" and item.negative not in negatives:
                problems.append(FieldProblem("negative", f"{label}：否决须选择方案中的否定项"))
        if problems:
            raise ValidationFailed(problems)
        now = dt.datetime.combine(on, dt.time(12)) if on else dt.datetime.now()
        with self.db.unit_of_work(self.actor, reason=f"县级{stage.name}") as session:
            existing = {d.target_uuid: d for d in session.scalars(select(CountyDecision).where(
                CountyDecision.round_uuid == round_uuid, CountyDecision.stage == stage.key))}
            for item in items:
                row = existing.get(item.target_uuid)
                if row is None:
                    row = CountyDecision(township_code=rnd.township_code, round_uuid=round_uuid,
                                         target_uuid=item.target_uuid, stage=stage.key)
                    session.add(row)
                row.verdict = item.verdict
                row.negative = item.negative if item.verdict == "否决" else None
                row.note = (item.note or None) if item.verdict == "否决" else None
                row.comment = item.comment or None
                row.decided_by = self.actor.username
                row.decided_at = now
        return len(items)

    def export_return(self, township_code: str, out: Path | str, *, password: str | None = None,
                      progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> PackageResult:
        """The return package (县级回传数据包) for one township: the county's decisions on its rounds."""
        self._require_county("导出回传数据包")
        with self.db.engine.connect() as conn:
            name = self._township_names(conn).get(township_code)
        if name is None:
            raise DomainError(f"县级数据库中没有区划代码为 {township_code} 的乡镇")
        return write_package(self.db, [decision_sheet(self.db)], out, actor=self.actor, password=password,
                             progress=progress, cancel=cancel, unit=(name, township_code))


def return_file_name(township: str, county: str, on: dt.date | None = None) -> str:
    """临晋镇_临猗县回传_20261206.xlsx."""
    on = on or dt.date.today()
    return f"{township}_{county}回传_{on:%Y%m%d}.xlsx"


# ----- the 县级决定 sheet ------------------------------------------------------------------
class DecisionAdapter(s.SheetAdapter):
    """County: writes its decisions for one township; township: records them through the evaluations service."""

    entity = DECISION_SHEET

    def __init__(self, db: Database | None = None) -> None:
        self.db = db

    def export_rows(self, conn: Connection, township_code: str | None) -> Iterator[dict[str, Any]]:
        query = select(CountyDecision.__table__).order_by(CountyDecision.round_uuid, CountyDecision.target_uuid,
                                                          CountyDecision.stage)
        if township_code is not None:
            query = query.where(CountyDecision.township_code == township_code)
        county = self.db.meta("root_name") if self.db is not None else ""
        for d in conn.execute(query).mappings():
            yield {"round_uuid": d["round_uuid"], "target_uuid": d["target_uuid"], "stage": d["stage"],
                   "verdict": d["verdict"], "negative": d["negative"], "note": d["note"], "comment": d["comment"],
                   "county": county, "decided_by": d["decided_by"], "decided_on": d["decided_at"].date()}

    @staticmethod
    def _item(row: s.Row) -> CountyDecisionInput:
        v = row.values
        return CountyDecisionInput(v["round_uuid"], v["target_uuid"], v["stage"], v.get("verdict") or "同意",
                                   v.get("negative"), v.get("note"), v.get("comment"), v.get("county") or "县级",
                                   v.get("decided_by") or "", v.get("decided_on") or dt.date.today())

    def _service(self, ctx: s.ImportContext) -> EvaluationService:
        return EvaluationService(ctx.db, ctx.actor)

    def match(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        if ctx.mode == "county":
            for row in rows:
                if not row.failed:
                    ctx.error(row, None, "refused", "县级决定是县级回传给乡镇的数据，不能导入县级数据库")
            return
        if not permissions.is_township_level(ctx.actor):
            for row in rows:
                if not row.failed:
                    ctx.error(row, None, "not_permitted", "县级回传的结果须由乡镇干部导入")
            return
        service = self._service(ctx)
        with Session(bind=conn) as session:
            for row in rows:
                if row.failed:
                    continue
                state, why = service.county_decision_state(session, self._item(row))
                if state == "refused":
                    ctx.error(row, "target_uuid", "refused", why or "")
                else:
                    row.action, row.entity_id = state, 0

    def apply(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        good = [r for r in rows if not r.failed and r.action in ("created", "updated")]
        if ctx.mode == "county" or not good:
            return
        session = AuditedSession(bind=conn, join_transaction_mode="rollback_only")
        session.info.update(actor=ctx.actor, batch_id=ctx.batch_id, reason=ctx.reason)
        try:
            self._service(ctx).apply_county_decisions(session, [self._item(r) for r in good])
            session.flush()
        except DomainError as exc:
            ctx.error(good[0], None, "refused", exc.message)
        finally:
            session.close()

    def delete(self, conn: Connection, ids: list[int], ctx: s.ImportContext) -> None:
        return None


def decision_sheet(db: Database | None = None) -> s.SheetSpec:
    """县级决定: the county's results at its stages of a township's rounds."""
    c = s.ColumnSpec
    return s.SheetSpec(
        key=DECISION_SHEET, title="县级决定", package_only=True, adapter=DecisionAdapter(db),
        description="县级在乡镇上报的评定轮次中作出的结果（县级联审、县级验收等），乡镇导入后不能修改。",
        columns=(c("round_uuid", "轮次标识", s.CODE, required=True, width=38),
                 c("target_uuid", "对象标识", s.CODE, required=True, width=38),
                 c("stage", "环节编码", s.TEXT, required=True, width=10),
                 c("verdict", "结论", s.TEXT, required=True, width=8),
                 c("negative", "否定项编码", s.TEXT, width=10), c("note", "否决依据", s.TEXT, width=30),
                 c("comment", "意见", s.TEXT, width=30), c("county", "县级单位", s.TEXT, width=12),
                 c("decided_by", "决定人", s.TEXT, width=12), c("decided_on", "决定日期", s.DATE, width=12)),
        key_columns=("target_uuid", "stage"))
