"""A round's stage workbook: its sheet spec is built from the scheme, so a new scheme needs no new code.

A village fills its stage in the workbook generated for the round and sends
it back; the exchange pipeline reads it (header by name, dry run, errors with
row and column, all or nothing) and this adapter saves the rows through the
same rules as the score sheet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Connection, select

from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError, ValidationFailed
from townapp.db.audit import AuditedSession
from townapp.evaluations import computed as calc
from townapp.evaluations import models as e
from townapp.evaluations import validation as cells
from townapp.evaluations.dto import EntryInput, RoundDTO
from townapp.evaluations.schemes import Scheme
from townapp.evaluations.service import EvaluationService
from townapp.exchange import spec as x
from townapp.exchange.pipeline import run_import
from townapp.exchange.report import ImportReport
from townapp.exchange.writer import save_fitted, set_cell, write_header

_COMPUTED_FILL = PatternFill("solid", fgColor="E8F1FB")  # the score sheet's colour for a computed value


def _negative_header(scheme: Scheme, code: str) -> str:
    item = scheme.negative(code)
    assert item is not None
    kind = "否决" if item.effect == "veto" else f"限{item.cap}"
    return f"{item.name}（{kind}）"


def _indicator_column(scheme: Scheme, code: str) -> x.ColumnSpec:
    indicator = next(i for i in scheme.indicators if i.code == code)
    header = f"{indicator.name}"
    if scheme.measure in cells.CHECKABLE:  # the accepted spellings are the score grid's (evaluations/validation.py)
        yes, no = cells.earned_label(scheme.measure), cells.not_earned_label(scheme.measure)
        note = (f"得星填 {yes}（或 1、是），未得星填 {no}（或 0、否）" if scheme.measure == "stars" else
                f"{indicator.level}级标准：填 {yes} 或 {no}")
        return x.ColumnSpec(f"score:{code}", header, x.ENUM, aliases=(code,), choices=(yes, no),
                            synonyms=cells.score_synonyms(scheme.measure), note=note,
                            width=9 if scheme.measure == "stars" else 12)
    return x.ColumnSpec(f"score:{code}", f"{header}（{indicator.max}分）", x.TEXT, aliases=(header, code),
                        note=f"0至{indicator.max}分，最多一位小数", width=10)


def stage_columns(scheme: Scheme) -> tuple[x.ColumnSpec, ...]:
    """The workbook's columns for a scheme: identity, inputs, indicators, negative items, comment, level."""
    columns = [
        x.ColumnSpec("target_id", "评定编号", x.INT, required=True, signature=True, note="系统生成，请勿修改", width=10),
        x.ColumnSpec("village", "村/社区", x.TEXT, width=12),
        x.ColumnSpec("code", "编号", x.CODE, note="户编号或区划代码，仅供核对", width=14),
        x.ColumnSpec("label", "评定对象", x.TEXT, note="仅供核对", width=14),
    ]
    for spec in scheme.inputs:
        if spec.kind == "choice":
            columns.append(x.ColumnSpec(f"input:{spec.key}", spec.name, x.ENUM, choices=spec.choices, width=12,
                                        note="可填：" + "、".join(spec.choices)))
        else:
            columns.append(x.ColumnSpec(f"input:{spec.key}", spec.name, x.TEXT, width=12, note="填数字"))
    columns += [_indicator_column(scheme, i.code) for i in scheme.indicators]
    columns += [x.ColumnSpec(f"negative:{n.code}", _negative_header(scheme, n.code), x.TEXT, aliases=(n.code,),
                             note="有此情形填“是”或写明情况，没有留空", width=12) for n in scheme.negatives]
    columns += [x.ColumnSpec("comment", "评定意见", x.TEXT, width=24),
                x.ColumnSpec("level", "当前等级", x.TEXT, note="由系统计算，填写无效", width=10)]
    return tuple(columns)


class StageAdapter(x.SheetAdapter):
    """Rows of one round's current stage, saved through the service's rules inside the import's transaction."""

    entity = "evaluation_entry"
    table = "eval_target"  # row.entity_id is the target (the import checks a clerk's rows by its village)

    def __init__(self, service: EvaluationService, round_id: int, stage: str) -> None:
        self.service = service
        self.round_id = round_id
        self.stage = stage

    def _scheme(self) -> Scheme:
        return self.service.round(self.round_id).scheme

    def match(self, conn: Connection, rows: list[x.Row], ctx: x.ImportContext) -> None:
        rnd = self.service.round(self.round_id)
        if rnd.locked:
            ctx.error(None, None, "locked", f"“{rnd.name}”已定级锁定，不能导入评分")
            return
        if rnd.stage != self.stage:
            ctx.error(None, None, "stage", f"这份工作簿是“{rnd.scheme.stage(self.stage).name}”环节的，"
                                           f"本轮评定现在是“{rnd.stage_name}”环节，请重新导出工作簿")
            return
        scheme = rnd.scheme
        known = dict(conn.execute(select(e.EvalTarget.id, e.EvalTarget.label)
                                  .where(e.EvalTarget.round_id == self.round_id)).all())
        entered = {r.target_id: r for r in conn.execute(
            select(e.EvalEntry.target_id, e.EvalEntry.scores, e.EvalEntry.negatives, e.EvalEntry.comment,
                   e.EvalTarget.inputs).join(e.EvalTarget)
            .where(e.EvalTarget.round_id == self.round_id, e.EvalEntry.stage == self.stage))}
        for row in rows:
            target_id = row.get("target_id")
            if target_id not in known:
                ctx.error(row, "target_id", "unknown_target", f"评定编号 {target_id} 不属于本轮评定")
                continue
            data = self._entry(scheme, row, ctx)
            if data is None:
                continue
            row.entity_id = target_id
            before = entered.get(target_id)
            if before is None:
                row.action = "created"
            elif _same(data, before):
                row.action = "unchanged"  # sending the same workbook twice changes nothing
                continue
            else:
                row.action = "updated"
            row.data["entry"] = data

    def _entry(self, scheme: Scheme, row: x.Row, ctx: x.ImportContext) -> EntryInput | None:
        """The row as the score grid would save it: each cell read by evaluations/validation.py."""
        ok = True
        scores: dict[str, Decimal | None] = {}
        for indicator in scheme.indicators:
            key = f"score:{indicator.code}"
            if not row.has(key):
                continue
            try:
                scores[indicator.code] = cells.parse_score(scheme.measure, indicator.name, row.get(key))
            except cells.CellError as exc:
                ctx.error(row, key, "bad_number", exc.message)
                ok = False
        negatives = None
        if any(row.has(f"negative:{n.code}") for n in scheme.negatives):
            negatives = {}
            for item in scheme.negatives:
                note = cells.parse_negative(row.get(f"negative:{item.code}"))
                if note is not None:
                    negatives[item.code] = note
        inputs = {spec.key: row.get(f"input:{spec.key}") for spec in scheme.inputs if row.has(f"input:{spec.key}")}
        return EntryInput(row.get("target_id"), self.stage, scores, negatives,
                          row.get("comment") if row.has("comment") else None, inputs or None) if ok else None

    def apply(self, conn: Connection, rows: list[x.Row], ctx: x.ImportContext) -> None:
        good = [r for r in rows if not r.failed and "entry" in r.data]
        if not good:
            return
        # the pipeline owns the transaction: any error recorded here rolls the whole file back
        session = AuditedSession(bind=conn, join_transaction_mode="rollback_only")
        session.info["actor"] = self.service.actor
        session.info["batch_id"] = ctx.batch_id  # each changed entry is audited with the import batch
        session.info["reason"] = ctx.reason
        try:
            for row in good:  # one by one, so a refused row is reported where it is
                try:
                    self.service.save_in(session, [row.data["entry"]])
                except ValidationFailed as exc:
                    for problem in exc.problems:
                        key = f"score:{problem.field}"
                        ctx.error(row, key if key in ctx.present else None, "invalid", problem.message)
                except DomainError as exc:
                    ctx.error(row, None, "refused", exc.message)
            session.flush()
        finally:
            session.close()

    def export_rows(self, conn: Connection, township_code: str | None) -> Iterator[dict[str, Any]]:
        return iter(sheet_values(self.service, self.round_id, self.stage))

    def delete(self, conn: Connection, ids: list[int], ctx: x.ImportContext) -> None:
        raise DomainError("评分工作簿不参与县级数据包，不能按数据包删除")


def _same(data: EntryInput, before: Any) -> bool:
    """Would saving ``data`` leave the stored entry (and the target's inputs) as they are?

    Computed values count as stored (a workbook sent back with them unchanged changes nothing)."""
    values, overrides = calc.split_scores(json.loads(before.scores or "{}"))
    stored = calc.merged(values, overrides, calc.stored_computed(json.loads(before.inputs or "{}")))
    merged = {**stored, **data.scores}
    if {k: v for k, v in merged.items() if v is not None} != stored:
        return False
    if data.negatives is not None and data.negatives != json.loads(before.negatives or "{}"):
        return False
    if data.comment is not None and (data.comment or None) != before.comment:
        return False
    inputs = json.loads(before.inputs or "{}")
    return all(str(v) == str(inputs.get(k)) if v not in (None, "") else k not in inputs
               for k, v in (data.inputs or {}).items())


def stage_spec(service: EvaluationService, round_id: int, stage: str | None = None) -> x.SheetSpec:
    rnd = service.round(round_id)
    stage_key = stage or rnd.stage
    title = f"{rnd.scheme.stage(stage_key).name}评分"[:31]
    return x.SheetSpec(f"evaluation_round_{round_id}_{stage_key}", title, stage_columns(rnd.scheme),
                       StageAdapter(service, round_id, stage_key), description=f"{rnd.name}：{title}",
                       key_columns=("target_id",))


def sheet_values(service: EvaluationService, round_id: int, stage: str, village_id: int | None = None
                 ) -> list[dict[str, Any]]:
    rnd = service.round(round_id)
    scheme = rnd.scheme
    out = []
    rows = service.sheet(round_id, stage, village_id)
    earlier = _previous_rows(service, rnd, stage, village_id)
    for row in rows:
        scores = row.scores if row.entered else {  # the computed values too: they need no typing
            **earlier.get(row.target_id, {}), **{c: v for c, v in row.scores.items() if c in row.computed}}
        values: dict[str, Any] = {"target_id": row.target_id, "village": row.village, "code": row.code,
                                  "label": row.label, "comment": row.comment, "level": row.level}
        for key, value in row.inputs.items():
            values[f"input:{key}"] = value if isinstance(value, str) else str(value)
        for indicator in scheme.indicators:
            value = scores.get(indicator.code)
            if value is None:
                continue
            values[f"score:{indicator.code}"] = cells.score_text(scheme.measure, value)
        for code, note in row.negatives.items():
            values[f"negative:{code}"] = cells.negative_text(note)
        out.append(values)
    return out


def _previous_rows(service: EvaluationService, rnd: RoundDTO, stage: str, village_id: int | None
                   ) -> dict[int, dict[str, Decimal]]:
    """The latest earlier stage's scores, so a village starts from what it sent last time."""
    score_keys = [s.key for s in rnd.scheme.score_stages]
    if stage not in score_keys or score_keys.index(stage) == 0:
        return {}
    merged: dict[int, dict[str, Decimal]] = {}
    for key in score_keys[:score_keys.index(stage)]:
        for row in service.sheet(rnd.id, key, village_id):
            if row.entered:
                merged[row.target_id] = row.scores
    return merged


def write_stage_workbook(service: EvaluationService, round_id: int, out: Path | str,
                         village_id: int | None = None) -> Path:
    """The workbook a village fills for the round's current stage (its own rows only when ``village_id`` is given)."""
    rnd = service.round(round_id)
    if rnd.current_stage.is_publicity:
        raise DomainError("公示环节不需要填报工作簿")
    spec = stage_spec(service, round_id)
    wb = Workbook()
    sheet = wb.active
    sheet.title = spec.title
    set_cell(sheet.cell(row=1, column=1), f"{rnd.name} · {rnd.stage_name}（{rnd.current_stage.actor}）")
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    write_header(sheet, spec.columns, row=2)
    sources = {r.target_id: r for r in service.sheet(round_id, rnd.stage, village_id) if r.sources}
    for index, values in enumerate(sheet_values(service, round_id, rnd.stage, village_id), start=3):
        computed = sources.get(values["target_id"])
        for col, column in enumerate(spec.columns, start=1):
            cell = sheet.cell(row=index, column=col)
            set_cell(cell, values.get(column.key), text=column.text_format)
            code = column.key.removeprefix("score:")
            if computed is not None and column.key.startswith("score:") and code in computed.sources:
                cell.fill = _COMPUTED_FILL  # filled from the data: the note says from where
                cell.comment = Comment(computed.note(code), "townapp", width=320, height=80)
    last = max(sheet.max_row, 3)
    for col, column in enumerate(spec.columns, start=1):
        if column.kind == x.ENUM:
            validation = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True)
            sheet.add_data_validation(validation)
            letter = sheet.cell(row=2, column=col).column_letter
            validation.add(f"{letter}3:{letter}{last}")
    sheet.row_dimensions[2].height = 48
    notes = wb.create_sheet("填写说明")
    lines = [f"评定：{rnd.name}（{rnd.scheme.name} 第{rnd.scheme_version}版）", f"环节：{rnd.stage_name}",
             "填好后交回乡镇，由乡镇在“星级评定”页面选择“导入填报工作簿”。", "“评定编号”由系统生成，请勿修改；"
             "“当前等级”由系统按方案自动计算。",
             "浅蓝底的格子由系统按现有数据（一村一档、党员名册等）计算，批注写明来源；如需修改，请在程序的评分表中"
             "修改并填写理由，在工作簿中改动会被拒绝。", "", "各列说明："]
    lines += [f"{c.header}：{c.note}" for c in spec.columns if c.note]
    for number, line in enumerate(lines, start=1):
        set_cell(notes.cell(row=number, column=1), line)
        notes.cell(row=number, column=1).alignment = Alignment(wrap_text=False)
    notes.column_dimensions["A"].width = 90
    out = Path(out)
    with atomic_output(out) as tmp:
        save_fitted(wb, tmp)
    return out


def import_stage_workbook(service: EvaluationService, round_id: int, path: Path | str, *, dry_run: bool = False,
                          progress: Any = None, cancel: Any = None) -> ImportReport:
    """Read a returned stage workbook through the exchange pipeline (all or nothing, errors with row and column)."""
    return run_import(service.db, path, [stage_spec(service, round_id)], dry_run=dry_run, actor=service.actor,
                      progress=progress, cancel=cancel)


# ----- what a township reports up (sync package only) ------------------------------------------
ROUND_SHEET, RESULT_SHEET, HISTORY_SHEET = "eval_round", "eval_result", "eval_history"


def _recent_or_open() -> Any:
    """Rounds whose results a package carries: this year's and last year's, and any not yet 定级 (the
    county keeps the results of earlier finished rounds as earlier packages reported them)."""
    from sqlalchemy import or_

    from townapp.county.copies import first_reported_year
    return or_(e.EvalRound.year >= first_reported_year(), e.EvalRound.status != "已定级")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _parsed_schemes(conn: Connection) -> dict[int, tuple[Any, Scheme]]:
    from townapp.evaluations.schemes import parse_text
    return {row.id: (row, parse_text(row.definition, f"{row.name}（第{row.version}版）"))
            for row in conn.execute(select(e.EvalScheme))}


def _round_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    schemes = _parsed_schemes(conn)
    for r in conn.execute(select(e.EvalRound).order_by(e.EvalRound.year, e.EvalRound.name, e.EvalRound.uuid)):
        row, scheme = schemes[r.scheme_id]
        yield {"uuid": r.uuid, "scheme": scheme.key, "scheme_name": scheme.name, "version": row.version,
               "target": scheme.target, "year": r.year, "period_no": r.period_no, "name": r.name,
               "stage": r.stage, "stage_name": scheme.stage(r.stage).name, "status": r.status,
               "publicity_start": r.publicity_start, "publicity_end": r.publicity_end,
               "finalised_on": r.finalised_on,
               "stages": "；".join(f"{st.key}:{st.name}:{st.level}" for st in scheme.stages),
               "levels": "；".join(lv.name for lv in scheme.levels),
               "negatives": "；".join(f"{n.code}:{n.name}" for n in scheme.negatives)}


def _result_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    from townapp.registry import models as m
    query = (select(e.EvalTarget, e.EvalRound.uuid.label("round_uuid"), m.Village.code.label("village_code"))
             .join(e.EvalRound, e.EvalRound.id == e.EvalTarget.round_id)
             .join(m.Village, m.Village.id == e.EvalTarget.village_id)
             .where(_recent_or_open())
             .order_by(e.EvalRound.uuid, m.Village.code, e.EvalTarget.label, e.EvalTarget.uuid))
    for r in conn.execute(query).mappings():
        yield {"round_uuid": r["round_uuid"], "uuid": r["uuid"], "village_code": r["village_code"],
               "label": r["label"], "code": r["code"], "rollup": _text(r["rollup"]), "level": r["level"],
               "rank": r["rank"], "measure": _text(r["measure"]), "vetoed": "是" if r["vetoed"] else "否",
               "reasons": r["reasons"], "decided_stage": r["decided_stage"], "revoked_on": r["revoked_on"],
               "revoke_reason": r["revoke_reason"]}


def _history_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    query = (select(e.EvalEntry, e.EvalTarget.uuid.label("target_uuid"), e.EvalRound.uuid.label("round_uuid"))
             .join(e.EvalTarget, e.EvalTarget.id == e.EvalEntry.target_id)
             .join(e.EvalRound, e.EvalRound.id == e.EvalTarget.round_id)
             .where(_recent_or_open())
             .order_by(e.EvalRound.uuid, e.EvalTarget.uuid, e.EvalEntry.stage))
    for r in conn.execute(query).mappings():
        yield {"round_uuid": r["round_uuid"], "target_uuid": r["target_uuid"], "stage": r["stage"],
               "level": r["level"], "measure": _text(r["measure"]),
               "negatives": None if r["negatives"] in (None, "{}") else r["negatives"],
               "comment": r["comment"], "entered_by": r["entered_by"],
               "entered_at": r["entered_at"].strftime("%Y-%m-%d %H:%M:%S") if r["entered_at"] else None,
               "county_decision": r["county_decision"]}


def reported_specs() -> list[x.SheetSpec]:
    """评定轮次, 评定结果, 评定过程: every round with its stages, each target's result, each stage's entry."""
    from townapp.county.copies import ReportedAdapter
    c = x.ColumnSpec
    return [
        x.SheetSpec(
            key=ROUND_SHEET, title="评定轮次", package_only=True,
            adapter=ReportedAdapter(ROUND_SHEET, _round_rows, lambda v: str(v["uuid"])),
            description="各轮评定：方案及版本、当前环节、状态、公示和定级日期；环节、等级和否定项照方案列出。",
            columns=(c("uuid", "轮次标识", x.CODE, required=True, width=38), c("scheme", "方案编码", x.TEXT, width=20),
                     c("scheme_name", "方案", x.TEXT, width=20), c("version", "方案版本", x.INT, width=8),
                     c("target", "对象类型", x.TEXT, width=14), c("year", "年度", x.INT, width=8),
                     c("period_no", "期次", x.INT, width=6), c("name", "轮次名称", x.TEXT, width=30),
                     c("stage", "当前环节编码", x.TEXT, width=12), c("stage_name", "当前环节", x.TEXT, width=12),
                     c("status", "状态", x.TEXT, width=8), c("publicity_start", "公示开始", x.DATE, width=12),
                     c("publicity_end", "公示结束", x.DATE, width=12), c("finalised_on", "定级日期", x.DATE, width=12),
                     c("stages", "环节", x.TEXT, width=60), c("levels", "等级", x.TEXT, width=30),
                     c("negatives", "否定项", x.TEXT, width=60)),
            key_columns=("uuid",)),
        x.SheetSpec(
            key=RESULT_SHEET, title="评定结果", package_only=True,
            adapter=ReportedAdapter(RESULT_SHEET, _result_rows, lambda v: str(v["uuid"]),
                                    lambda v: str(v["round_uuid"]), by_period=True),
            description="每轮评定中每个对象的结果：等级、名次、得分、否决及原因、撤销。",
            columns=(c("round_uuid", "轮次标识", x.CODE, required=True, width=38),
                     c("uuid", "对象标识", x.CODE, required=True, width=38),
                     c("village_code", "村区划代码", x.CODE, width=16), c("label", "对象", x.TEXT, width=20),
                     c("code", "编号", x.TEXT, width=14), c("rollup", "汇总分", x.TEXT, width=8),
                     c("level", "等级", x.TEXT, width=10), c("rank", "等级序号", x.INT, width=8),
                     c("measure", "得分", x.TEXT, width=8), c("vetoed", "否决", x.TEXT, width=6),
                     c("reasons", "原因", x.TEXT, width=30), c("decided_stage", "定级环节", x.TEXT, width=10),
                     c("revoked_on", "撤销日期", x.DATE, width=12), c("revoke_reason", "撤销原因", x.TEXT, width=20)),
            key_columns=("uuid",)),
        x.SheetSpec(
            key=HISTORY_SHEET, title="评定过程", package_only=True,
            adapter=ReportedAdapter(HISTORY_SHEET, _history_rows, lambda v: f"{v['target_uuid']}/{v['stage']}",
                                    lambda v: str(v["round_uuid"]), by_period=True),
            description="每个对象在每个环节的记录：等级、得分、否定项、意见、录入人和时间（各项指标分数留在乡镇）。",
            columns=(c("round_uuid", "轮次标识", x.CODE, required=True, width=38),
                     c("target_uuid", "对象标识", x.CODE, required=True, width=38),
                     c("stage", "环节编码", x.TEXT, required=True, width=12), c("level", "本环节等级", x.TEXT, width=10),
                     c("measure", "本环节得分", x.TEXT, width=8), c("negatives", "否定项", x.TEXT, width=20), c("comment", "意见", x.TEXT, width=30),
                     c("entered_by", "录入人", x.TEXT, width=12), c("entered_at", "录入时间", x.TEXT, width=20),
                     c("county_decision", "县级决定", x.TEXT, width=30)),
            key_columns=("target_uuid", "stage")),
    ]
