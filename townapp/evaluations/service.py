"""Evaluation use cases: scheme versions, rounds and their stages, 公示 and objections, lock/unlock, history.

Each public method is one unit of work and returns DTOs. Levels come from the
engine only; the service gathers its inputs (the entry of the latest stage,
roll-ups of finished shorter rounds, a title revoked within its ban) and
stores what it said, so a locked round never changes when a scheme is edited:
editing a scheme that a round uses creates a new version.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from townapp.core.idcard import mask_id_number
from townapp.core.text import squeeze_spaces
from townapp.db import Database
from townapp.db.base import get_or_missing
from townapp.evaluations import computed as calc
from townapp.evaluations import models as e
from townapp.evaluations import validation as cells
from townapp.evaluations.dto import (
    CountyDecisionInput,
    EntryInput,
    EventRow,
    HistoryRow,
    ObjectionDTO,
    ObjectionInput,
    PathStep,
    PublicityRow,
    RoundDTO,
    RoundInput,
    RoundRow,
    SchemeInfo,
    SheetRow,
    StageSummary,
    SyncReport,
    VillageResult,
)
from townapp.evaluations.engine import EntryData, Outcome, evaluate, roll_up
from townapp.evaluations.schemes import (
    Scheme,
    SchemeError,
    level_standards,
    load_file,
    parse_text,
    period_label,
    scheme_files,
    shipped_folder,
    vocabulary,
)
from townapp.outputs.figures import Period
from townapp.registry import models as m

if TYPE_CHECKING:
    from townapp.outputs.figures import FigureRegistry

PERIOD_COUNT = {"month": 12, "quarter": 4, "half_year": 2, "year": 0}
UI_SOURCE = "界面编辑"


def period_text(period: str, year: int, number: int) -> str:
    if period == "month":
        return f"{year}年{number}月"
    if period == "quarter":
        return f"{year}年第{number}季度"
    if period == "half_year":
        return f"{year}年{'上' if number == 1 else '下'}半年"
    return f"{year}年度"


def period_months(period: str, number: int) -> tuple[int, int]:
    """First and last month a period covers: what a roll-up may gather."""
    if period == "month":
        return number, number
    if period == "quarter":
        return 3 * number - 2, 3 * number
    if period == "half_year":
        return 6 * number - 5, 6 * number
    return 1, 12


def period_start(period: str, year: int, number: int) -> dt.date:
    return dt.date(year, period_months(period, number)[0], 1)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _loads(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps({k: _plain(v) for k, v in sorted(data.items())}, ensure_ascii=False, separators=(",", ":"))


def decode_inputs(scheme: Scheme, raw: dict[str, Any]) -> dict[str, str | Decimal]:
    out: dict[str, str | Decimal] = {}
    for spec in scheme.inputs:
        value = raw.get(spec.key)
        if value is None or value == "":
            continue
        out[spec.key] = str(value) if spec.kind == "choice" else Decimal(str(value))
    return out


def candidates_in(s: Session, scheme: Scheme, village_ids: Sequence[int]) -> list[tuple[int, int, str, str]]:
    """(ref id, village id, label, code) of everyone the scheme can rate in these villages."""
    if scheme.target == "household":
        head = (select(m.HouseholdMember.household_id, m.Person.name)
                .join(m.Person, m.Person.id == m.HouseholdMember.person_id)
                .where(m.HouseholdMember.relation == "户主").subquery())
        rows = s.execute(select(m.Household.id, m.Household.village_id, head.c.name, m.Household.number)
                         .outerjoin(head, head.c.household_id == m.Household.id)
                         .where(m.Household.village_id.in_(village_ids)).order_by(m.Household.village_id,
                                                                                  m.Household.number))
        return [(r[0], r[1], r[2] or f"{r[3]}号户", r[3]) for r in rows]
    if scheme.target == "village_org":
        rows = s.execute(select(m.Village.id, m.Village.name, m.Village.code)
                         .where(m.Village.id.in_(village_ids)).order_by(m.Village.code))
        return [(r[0], r[0], f"{r[1]}党组织", r[2]) for r in rows]
    if scheme.target == "party_secretary":
        # the village's top post: a 党总支书记, else the 书记 of a 党支部 directly under the township
        posts = list(vocabulary()["secretary_posts"])
        parent = aliased(m.PartyBranch)
        rows = s.execute(
            select(m.Person.id, m.PartyBranch.village_id, m.Person.name, m.Village.code, m.PartyMember.party_post,
                   parent.village_id.is_(None))
            .join(m.PartyMember, m.PartyMember.person_id == m.Person.id)
            .join(m.PartyBranch, m.PartyBranch.id == m.PartyMember.branch_id)
            .outerjoin(parent, parent.id == m.PartyBranch.parent_id)
            .join(m.Village, m.Village.id == m.PartyBranch.village_id)
            .where(m.PartyMember.party_post.in_(posts), m.PartyBranch.village_id.in_(village_ids))
            .order_by(m.Village.code, m.Person.id))
        best: dict[int, tuple[tuple[int, int], tuple[int, int, str, str]]] = {}
        for person_id, village_id, name, code, post, top in rows:
            rank = (posts.index(post), 0 if top else 1)
            if rank[0] == len(posts) - 1 and not top:
                continue  # a 下设党支部's 书记 is not the village's
            if village_id not in best or rank < best[village_id][0]:
                best[village_id] = (rank, (person_id, village_id, name, code))
        return [item for _rank, item in sorted(best.values(), key=lambda x: x[1][3])]
    if scheme.target in ("party_member", "grid_member"):
        query = (select(m.Person.id, m.Person.village_id, m.Person.name, m.Person.id_number)
                 .where(m.Person.village_id.in_(village_ids)).order_by(m.Person.village_id, m.Person.id))
        if scheme.target == "party_member":
            query = query.join(m.PartyMember, m.PartyMember.person_id == m.Person.id)
        return [(r[0], r[1], r[2], mask_id_number(r[3])) for r in s.execute(query)]
    raise DomainError(f"不支持的评定对象：{scheme.target}")


# scheme key → what the village archive records from its 定级 results
ARCHIVE_FEEDS = {"weak_org_acceptance": "rectification", "village_creation": "creation_level",
                 "village_org_star": "org_star", "secretary_star": "secretary_star"}


class EvaluationService:
    """星级评定: one engine, many schemes."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR, scheme_folder: Path | None = None,
                 figures: Callable[[], FigureRegistry] | None = None) -> None:
        self.db = db
        self.actor = actor
        self.scheme_folder = scheme_folder
        self._parsed: dict[int, Scheme] = {}
        # the figures computed indicators read: the composition root passes townapp.figures.figure_registry
        # (evaluations never imports it: it names every module); without it every indicator is typed by hand
        self._figures = figures
        self._registry: FigureRegistry | None = None

    # ----- permissions -------------------------------------------------------
    def _require_township(self, action: str) -> None:
        permissions.require_township(self.actor, action)

    def _require_stage_write(self, scheme: Scheme, stage_key: str, village_id: int) -> None:
        stage = scheme.stage(stage_key)
        if stage.level == "village":
            permissions.require_write(self.actor, village_id, "评定")
        else:
            permissions.require_township(self.actor, f"“{stage.name}”环节的评分")

    # ----- schemes -----------------------------------------------------------
    def sync_schemes(self) -> SyncReport:
        """Read resources/schemes/: new files become schemes, changed files new versions (old rounds keep theirs).

        A file whose exact content was already read (into any version) is skipped, so an
        edit made in the program is not overwritten by the unchanged shipped file.
        """
        report = SyncReport()
        folder = self.scheme_folder or shipped_folder()
        loaded: list[tuple[Scheme, str]] = []
        for path in scheme_files(folder) if folder.is_dir() else []:
            try:
                loaded.append((load_file(path), path.name))
            except SchemeError as exc:
                report.refused.append(exc)
        with self.db.unit_of_work(SYSTEM_ACTOR) as s:
            for scheme, source in loaded:
                seen = s.scalar(select(func.count()).select_from(e.EvalScheme).where(
                    e.EvalScheme.key == scheme.key, e.EvalScheme.source_digest == scheme.digest))
                if seen:
                    continue
                outcome = self._store(s, scheme, source, scheme.digest)
                getattr(report, outcome).append(f"{scheme.name}（{source}）")
        return report

    def _store(self, s: Session, scheme: Scheme, source: str, source_digest: str | None) -> str:
        latest = s.scalar(select(e.EvalScheme).where(e.EvalScheme.key == scheme.key)
                          .order_by(e.EvalScheme.version.desc()).limit(1))
        if latest is not None and latest.digest == scheme.digest:
            latest.source_digest = source_digest or latest.source_digest
            return "updated"
        if latest is not None:
            used = s.scalar(select(func.count()).select_from(e.EvalRound).where(e.EvalRound.scheme_id == latest.id))
            if not used:
                latest.name, latest.target, latest.period = scheme.name, scheme.target, scheme.period
                latest.definition, latest.digest = scheme.definition, scheme.digest
                latest.source, latest.source_digest = source, source_digest
                self._parsed.pop(latest.id, None)
                return "updated"
        version = 1 if latest is None else latest.version + 1
        s.add(e.EvalScheme(key=scheme.key, version=version, name=scheme.name, target=scheme.target,
                           period=scheme.period, definition=scheme.definition, digest=scheme.digest, source=source,
                           source_digest=source_digest))
        return "added" if latest is None else "new_versions"

    def current_schemes(self) -> list[tuple[str, int, str, str]]:
        """(key, version, digest, canonical definition) of each scheme's newest version: what a township
        sends its village installs."""
        with self.db.reader() as s:
            rows = {}
            for row in s.scalars(select(e.EvalScheme).order_by(e.EvalScheme.key, e.EvalScheme.version)):
                rows[row.key] = (row.key, row.version, row.digest, row.definition)
            return list(rows.values())

    def receive_scheme(self, s: Session, definition: str, source: str, *, write: bool) -> str:
        """Village install: a scheme as the township decided it ("unchanged" | "created"): a new version
        when it differs from the village's newest."""
        if self.db.meta("village_code") is None:
            raise DomainError("只有村级安装接收乡镇下发的评定方案；乡镇的方案在“评定方案”中修改")
        scheme = parse_text(definition, source)
        latest = s.scalar(select(e.EvalScheme).where(e.EvalScheme.key == scheme.key)
                          .order_by(e.EvalScheme.version.desc()).limit(1))
        if latest is not None and latest.digest == scheme.digest:
            return "unchanged"
        if write:
            self._store(s, scheme, source[:200], None)
        return "created"

    def save_scheme(self, text: str) -> SchemeInfo:
        """An edited definition: a new version when a round uses the current one, else the current one updated."""
        self._require_township("修改评定方案")
        scheme = parse_text(text, UI_SOURCE)
        with self.db.unit_of_work(self.actor) as s:
            self._store(s, scheme, UI_SOURCE, None)
        return next(i for i in self.schemes() if i.key == scheme.key)

    def schemes(self, *, all_versions: bool = False) -> list[SchemeInfo]:
        """The newest version of each scheme (or every version), with how many rounds use it."""
        with self.db.reader() as s:
            used = dict(s.execute(select(e.EvalRound.scheme_id, func.count()).group_by(e.EvalRound.scheme_id)).all())
            rows = s.scalars(select(e.EvalScheme).order_by(e.EvalScheme.key, e.EvalScheme.version.desc())).all()
            infos = [SchemeInfo(r.id, r.key, r.version, r.name, r.target, r.period, r.source, used.get(r.id, 0))
                     for r in rows]
        if all_versions:
            return infos
        latest: dict[str, SchemeInfo] = {}
        for info in infos:
            latest.setdefault(info.key, info)
        return sorted(latest.values(), key=lambda i: i.name)

    def scheme(self, scheme_id: int) -> Scheme:
        if scheme_id not in self._parsed:
            with self.db.reader() as s:
                row = s.get(e.EvalScheme, scheme_id)
                if row is None:
                    raise NotFound("评定方案不存在")
                self._parsed[scheme_id] = parse_text(row.definition, f"{row.name}（第{row.version}版）")
        return self._parsed[scheme_id]

    def level_standards(self, scheme_key: str) -> dict[str, list[str]]:
        """A check scheme's standards per level, from its newest stored version (else the shipped file).

        What the village archive prints as 规范村基本标准 …: each threshold is written once, in the scheme."""
        with self.db.reader() as s:
            row = s.scalar(select(e.EvalScheme).where(e.EvalScheme.key == scheme_key)
                           .order_by(e.EvalScheme.version.desc()).limit(1))
            scheme = self._parsed.get(row.id) if row is not None else None
            if row is not None and scheme is None:
                scheme = self._parsed[row.id] = parse_text(row.definition, f"{row.name}（第{row.version}版）")
        if scheme is None:
            path = (self.scheme_folder or shipped_folder()) / f"{scheme_key}.json"
            if not path.is_file():
                return {}
            scheme = load_file(path)
        return level_standards(scheme) if scheme.measure == "checks" else {}

    def scheme_text(self, scheme_id: int) -> str:
        """The definition, indented, for the editor."""
        return json.dumps(json.loads(self.scheme(scheme_id).definition), ensure_ascii=False, indent=2)

    def _scheme_of(self, s: Session, rnd: e.EvalRound) -> Scheme:
        if rnd.scheme_id not in self._parsed:
            row = s.get(e.EvalScheme, rnd.scheme_id)
            self._parsed[rnd.scheme_id] = parse_text(row.definition, f"{row.name}（第{row.version}版）")
        return self._parsed[rnd.scheme_id]

    # ----- rounds ------------------------------------------------------------
    def check_round(self, data: RoundInput) -> list[FieldProblem]:
        self._require_township("新建评定")
        problems = []
        try:
            scheme = self.scheme(data.scheme_id)
        except NotFound:
            return [FieldProblem("scheme_id", "请选择评定方案")]
        if not 2000 <= data.year <= 2100:
            problems.append(FieldProblem("year", "年度应在2000至2100之间"))
        count = PERIOD_COUNT[scheme.period]
        if count and not 1 <= data.period_no <= count:
            problems.append(FieldProblem("period_no", f"“{scheme.name}”按{period_label(scheme.period)}评定，"
                                                      f"期次应为1至{count}"))
        if not data.village_ids:
            problems.append(FieldProblem("village_ids", "请至少选择一个村/社区"))
        if any(st.bodies for st in scheme.stages) and not (data.bodies or scheme.joint_bodies):
            problems.append(FieldProblem("bodies", "请填写参加联评的组织"))
        typed = squeeze_spaces(data.name)
        if not problems and typed:
            with self.db.reader() as s:
                taken = self._same_name(s, typed, data.year, scheme.key)
            if taken is not None:
                problems.append(FieldProblem("name", taken))
        return problems

    def _round_name(self, s: Session, scheme: Scheme, data: RoundInput) -> str:
        """The name the round gets: the one typed (refused when this scheme and year have it already), or
        2026年度星级文明户 made from the period and scheme, with （第2轮） added when that one is taken."""
        typed = squeeze_spaces(data.name)
        if typed:
            taken = self._same_name(s, typed, data.year, scheme.key)
            if taken is not None:
                raise ValidationFailed([FieldProblem("name", taken)])
            return typed
        number = data.period_no if PERIOD_COUNT[scheme.period] else 0
        made = f"{period_text(scheme.period, data.year, number)}{scheme.name}"
        name, count = made, 1
        while self._same_name(s, name, data.year, scheme.key) is not None:
            count += 1
            name = f"{made}（第{count}轮）"
        return name

    @staticmethod
    def _same_name(s: Session, name: str, year: int, scheme_key: str) -> str | None:
        """Why ``name`` cannot be used for another round of this scheme and year (None: it can): two rounds
        of one name could not be told apart in the round list, the logs or the county's copy."""
        found = s.execute(select(e.EvalRound.name, e.EvalRound.status, e.EvalRound.period_no, e.EvalScheme.period)
                          .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
                          .where(e.EvalRound.year == year, e.EvalScheme.key == scheme_key,
                                 e.EvalRound.name == name)).first()
        if found is None:
            return None
        return (f"{year}年已有名为“{name}”的评定（{period_text(found.period, year, found.period_no)}，"
                f"{found.status}），请换一个名称，或在评定列表中选择已有的那一轮继续")

    def create_round(self, data: RoundInput) -> int:
        """A round runs one scheme version for a period over the chosen villages."""
        self._require_township("新建评定")
        problems = self.check_round(data)
        if problems:
            raise ValidationFailed(problems)
        scheme = self.scheme(data.scheme_id)
        number = data.period_no if PERIOD_COUNT[scheme.period] else 0
        with self.db.unit_of_work(self.actor) as s:
            name = self._round_name(s, scheme, data)
            known = set(s.scalars(select(m.Village.id).where(m.Village.id.in_(data.village_ids))))
            if known != set(data.village_ids):
                raise ValidationFailed([FieldProblem("village_ids", "所选村/社区有的已不存在，请刷新后重选")])
            bodies = data.bodies or list(scheme.joint_bodies) if any(st.bodies for st in scheme.stages) else []
            rnd = e.EvalRound(scheme_id=data.scheme_id, name=name,
                              year=data.year, period_no=number, stage=scheme.stages[0].key, status="进行中",
                              locked=False, bodies="、".join(bodies) or None)
            s.add(rnd)
            s.flush()
            s.add_all(e.EvalRoundVillage(round_id=rnd.id, village_id=v) for v in sorted(known))
            self._event(s, rnd.id, "新建", f"新建{rnd.name}，范围 {len(known)} 个村/社区")
            if data.add_all_targets:
                self._add_targets(s, rnd, scheme, None)
            return rnd.id

    def delete_round(self, round_id: int) -> None:
        self._require_township("删除评定")
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, round_id)
            if rnd.locked:
                raise DomainError("已定级的评定不能删除")
            s.delete(rnd)

    def rounds(self) -> list[RoundRow]:
        visible = permissions.visible_village(self.actor)
        with self.db.reader() as s:
            counts = select(e.EvalTarget.round_id, func.count().label("n"),
                            func.sum(case((e.EvalTarget.rank > 0, 1), else_=0)).label("rated"))
            if visible is not None:
                counts = counts.where(e.EvalTarget.village_id == visible)
            totals = {r.round_id: (r.n, r.rated or 0) for r in s.execute(counts.group_by(e.EvalTarget.round_id))}
            query = (select(e.EvalRound, e.EvalScheme).join(e.EvalScheme, e.EvalRound.scheme_id == e.EvalScheme.id)
                     .order_by(e.EvalRound.year.desc(), e.EvalRound.period_no.desc(), e.EvalRound.id.desc()))
            if visible is not None:
                query = query.where(e.EvalRound.id.in_(select(e.EvalRoundVillage.round_id)
                                                       .where(e.EvalRoundVillage.village_id == visible)))
            rows = []
            for rnd, row in s.execute(query):
                scheme = self._scheme_of(s, rnd)
                n, rated = totals.get(rnd.id, (0, 0))
                rows.append(RoundRow(rnd.id, rnd.name, row.name, row.key, row.version, rnd.year, rnd.period_no,
                                     period_text(row.period, rnd.year, rnd.period_no), scheme.stage(rnd.stage).name,
                                     rnd.status, rnd.locked, n, rated))
            return rows

    def round(self, round_id: int) -> RoundDTO:
        with self.db.reader() as s:
            rnd = self._round(s, round_id)
            scheme = self._scheme_of(s, rnd)
            version = s.scalar(select(e.EvalScheme.version).where(e.EvalScheme.id == rnd.scheme_id))
            villages = tuple(s.scalars(select(e.EvalRoundVillage.village_id)
                                       .where(e.EvalRoundVillage.round_id == round_id)))
            visible = permissions.visible_village(self.actor)
            if visible is not None and visible not in villages:
                raise permissions.PermissionDenied("村录入员只能查看本村参加的评定")
            return RoundDTO(rnd.id, rnd.name, rnd.scheme_id, scheme, version, rnd.year, rnd.period_no,
                            period_text(scheme.period, rnd.year, rnd.period_no), rnd.stage, rnd.status, rnd.locked,
                            tuple(b for b in (rnd.bodies or "").split("、") if b), villages, rnd.publicity_start,
                            rnd.publicity_end, rnd.finalised_on, rnd.finalised_by)

    @staticmethod
    def _round(s: Session, round_id: int) -> e.EvalRound:
        return get_or_missing(s, e.EvalRound, round_id, "这一轮评定不存在（可能已被删除）")

    @staticmethod
    def _unlocked(rnd: e.EvalRound) -> None:
        if rnd.locked:
            raise DomainError(f"“{rnd.name}”已定级锁定，不能修改。如确需修改，请由乡镇干部填写理由后解锁。")

    def _event(self, s: Session, round_id: int, action: str, detail: str) -> None:
        s.add(e.EvalEvent(round_id=round_id, username=self.actor.username, action=action, detail=detail[:400]))

    def _require_round(self, s: Session, round_id: int) -> list[int]:
        """The round's villages a user may see: a clerk only their own, and only in a round it takes part in."""
        self._round(s, round_id)
        villages = list(s.scalars(select(e.EvalRoundVillage.village_id).where(e.EvalRoundVillage.round_id == round_id)))
        visible = permissions.visible_village(self.actor)
        if visible is None:
            return villages
        if visible not in villages:
            raise permissions.PermissionDenied("村录入员只能查看本村参加的评定")
        return [visible]

    def events(self, round_id: int) -> list[EventRow]:
        """The round's log; a clerk sees it only for a round their village takes part in."""
        with self.db.reader() as s:
            self._require_round(s, round_id)
            return [EventRow(x.at, x.username, x.action, x.detail) for x in s.scalars(
                select(e.EvalEvent).where(e.EvalEvent.round_id == round_id).order_by(e.EvalEvent.id))]

    # ----- targets -----------------------------------------------------------
    def candidates(self, round_id: int) -> list[tuple[int, int, str, str]]:
        with self.db.reader() as s:
            villages = self._require_round(s, round_id)
            return candidates_in(s, self._scheme_of(s, self._round(s, round_id)), villages)

    def add_targets(self, round_id: int, ref_ids: Iterable[int] | None = None) -> int:
        """Add the scheme's targets of the round's villages (all, or the given ids); returns how many were new."""
        self._require_township("调整评定对象")
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, round_id)
            self._unlocked(rnd)
            return self._add_targets(s, rnd, self._scheme_of(s, rnd), None if ref_ids is None else set(ref_ids))

    def _add_targets(self, s: Session, rnd: e.EvalRound, scheme: Scheme, wanted: set[int] | None) -> int:
        villages = list(s.scalars(select(e.EvalRoundVillage.village_id).where(e.EvalRoundVillage.round_id == rnd.id)))
        present = set(s.scalars(select(e.EvalTarget.ref_id).where(e.EvalTarget.round_id == rnd.id)))
        fresh = [c for c in candidates_in(s, scheme, villages)
                 if c[0] not in present and (wanted is None or c[0] in wanted)]
        if wanted is not None and len(fresh) < len(wanted - present):
            raise DomainError("有的对象不在本轮评定的范围内（村/社区或对象类型不符）")
        refs = [c[0] for c in fresh]
        rollups = self._rollups(s, scheme, rnd, refs)
        barred = self._barred(s, scheme, rnd, refs)
        computed = self._computed(s, scheme, rnd, {c[1] for c in fresh})
        for ref_id, village_id, label, code in fresh:
            inputs = {calc.COMPUTED_KEY: computed[village_id]} if village_id in computed else {}
            target = e.EvalTarget(round_id=rnd.id, village_id=village_id, ref_id=ref_id, label=label, code=code,
                                  inputs=_dumps(inputs), rollup=rollups.get(ref_id), barred=barred.get(ref_id))
            s.add(target)
            self._apply(target, scheme, evaluate(scheme, self._entry_data(scheme, None, inputs),
                                                 rollup=target.rollup, barred=target.barred), None)
        if fresh:
            self._event(s, rnd.id, "对象", f"加入 {len(fresh)} 个评定对象")
        return len(fresh)

    def remove_target(self, target_id: int) -> None:
        self._require_township("调整评定对象")
        with self.db.unit_of_work(self.actor) as s:
            target = s.get(e.EvalTarget, target_id)
            if target is None:
                return
            rnd = self._round(s, target.round_id)
            self._unlocked(rnd)
            self._event(s, rnd.id, "对象", f"移出评定对象 {target.label}")
            s.delete(target)

    def _rollups(self, s: Session, scheme: Scheme, rnd: e.EvalRound, refs: Sequence[int]) -> dict[int, Decimal]:
        """Each target's summary of the source scheme's finished rounds inside this round's period."""
        if scheme.rollup is None or not refs:
            return {}
        first, last = period_months(scheme.period, rnd.period_no)
        sources = s.execute(select(e.EvalRound.id, e.EvalRound.period_no, e.EvalScheme.period)
                            .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
                            .where(e.EvalScheme.key == scheme.rollup.source, e.EvalRound.year == rnd.year,
                                   e.EvalRound.locked.is_(True))).all()
        inside = [r.id for r in sources if first <= period_months(r.period, r.period_no)[0]
                  and period_months(r.period, r.period_no)[1] <= last]
        if not inside:
            return {}
        values: dict[int, list[Decimal]] = {}
        for ref_id, measure in s.execute(select(e.EvalTarget.ref_id, e.EvalTarget.measure)
                                         .where(e.EvalTarget.round_id.in_(inside), e.EvalTarget.ref_id.in_(refs),
                                                e.EvalTarget.measure.is_not(None),
                                                e.EvalTarget.revoked_on.is_(None))
                                         .order_by(e.EvalTarget.round_id)):
            values.setdefault(ref_id, []).append(Decimal(measure))
        result = {}
        for ref_id, items in values.items():
            summary = roll_up(items, scheme.rollup.method)
            if summary is not None:
                result[ref_id] = summary
        return result

    def _barred(self, s: Session, scheme: Scheme, rnd: e.EvalRound, refs: Sequence[int]) -> dict[int, str]:
        """Targets whose title of this scheme was revoked less than ``ban_years`` before the period starts."""
        if scheme.ban_years <= 0 or not refs:
            return {}
        start = period_start(scheme.period, rnd.year, rnd.period_no)
        rows = s.execute(select(e.EvalTarget.ref_id, e.EvalTarget.revoked_on)
                         .join(e.EvalRound, e.EvalRound.id == e.EvalTarget.round_id)
                         .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
                         .where(e.EvalScheme.key == scheme.key, e.EvalTarget.revoked_on.is_not(None),
                                e.EvalTarget.ref_id.in_(refs), e.EvalRound.id != rnd.id))
        barred = {}
        for ref_id, revoked_on in rows:
            try:
                until = revoked_on.replace(year=revoked_on.year + scheme.ban_years)
            except ValueError:  # 29 February
                until = revoked_on.replace(year=revoked_on.year + scheme.ban_years, day=28)
            if start < until:
                barred[ref_id] = (f"{scheme.name}称号于{revoked_on:%Y年%m月%d日}被撤销，"
                                  f"{scheme.ban_years}年内（至{until:%Y年%m月%d日}）不得参评")
        return barred

    def refresh_rollups(self, round_id: int) -> int:
        """Re-gather the roll-ups (e.g. after a month was finalised); returns how many targets changed."""
        self._require_township("重新汇总")
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, round_id)
            self._unlocked(rnd)
            return self._refresh_rollups_in(s, rnd, self._scheme_of(s, rnd))

    def _refresh_rollups_in(self, s: Session, rnd: e.EvalRound, scheme: Scheme) -> int:
        targets = list(s.scalars(select(e.EvalTarget).where(e.EvalTarget.round_id == rnd.id)))
        rollups = self._rollups(s, scheme, rnd, [t.ref_id for t in targets])
        changed = 0
        for target in targets:
            value = rollups.get(target.ref_id)
            if (None if target.rollup is None else Decimal(target.rollup)) != value:
                target.rollup = value
                changed += 1
                self._recompute(s, scheme, target)
        return changed

    def _open_sources(self, s: Session, scheme: Scheme, rnd: e.EvalRound) -> list[str]:
        """Rounds of the roll-up's source scheme inside this round's period that are not 定级 yet."""
        if scheme.rollup is None:
            return []
        first, last = period_months(scheme.period, rnd.period_no)
        rows = s.execute(select(e.EvalRound.name, e.EvalRound.period_no, e.EvalScheme.period)
                         .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
                         .where(e.EvalScheme.key == scheme.rollup.source, e.EvalRound.year == rnd.year,
                                e.EvalRound.locked.is_(False))).all()
        return [r.name for r in rows if first <= period_months(r.period, r.period_no)[0]
                and period_months(r.period, r.period_no)[1] <= last]

    def _follow_rollups(self, s: Session, key: str, year: int) -> list[str]:
        """After a round of ``key`` is 定级: the open rounds that roll it up are re-gathered (a late month
        reaches its quarter, the quarter its year); a round already 定级 is only told, in its log."""
        notes: list[str] = []
        keys, seen = [key], set()
        while keys:
            source = keys.pop()
            seen.add(source)
            for rnd in s.scalars(select(e.EvalRound).join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
                                 .where(e.EvalRound.year == year)):
                scheme = self._scheme_of(s, rnd)
                if scheme.rollup is None or scheme.rollup.source != source:
                    continue
                if scheme.key not in seen:
                    keys.append(scheme.key)
                if rnd.locked:
                    targets = list(s.scalars(select(e.EvalTarget).where(e.EvalTarget.round_id == rnd.id)))
                    now = self._rollups(s, scheme, rnd, [x.ref_id for x in targets])
                    if any((None if x.rollup is None else Decimal(x.rollup)) != now.get(x.ref_id) for x in targets):
                        self._event(s, rnd.id, "汇总过期", f"本轮定级后，所汇总的评定又有定级，{scheme.rollup.label}"
                                                        "已与定级时不同；如需更新请解锁后重新汇总")
                        notes.append(rnd.name)
                    continue
                changed = self._refresh_rollups_in(s, rnd, scheme)
                if changed:
                    self._event(s, rnd.id, "重新汇总", f"上游评定定级后自动重新汇总：{changed} 个对象的"
                                                     f"{scheme.rollup.label}有变化")
        return notes

    # ----- computed indicators ----------------------------------------------
    def _figure_registry(self) -> FigureRegistry | None:
        """The figures computed indicators read, built once per service (None: the caller gave none)."""
        if self._registry is None and self._figures is not None:
            self._registry = self._figures()
        return self._registry

    def _computed(self, s: Session, scheme: Scheme, rnd: e.EvalRound,
                  village_ids: set[int]) -> dict[int, dict[str, dict[str, str]]]:
        """Per village, what its data gives the scheme's computed indicators (none where the data is missing)."""
        wanted = [i for i in scheme.indicators if i.computed is not None]
        registry = self._figure_registry() if wanted and village_ids else None
        if registry is None:
            return {}
        keys = list(dict.fromkeys(k for i in wanted for k in i.computed.figures))  # type: ignore[union-attr]
        last = period_months(scheme.period, rnd.period_no)[1]
        values, _unknown = registry.compute(s, keys, Period(rnd.year, (last - 1) // 3 + 1), sorted(village_ids))
        figures = {k: calc.FigureData(registry.label(k), registry.figures[k].kind, values[k])
                   for k in keys if k in registry}
        when = f"{rnd.year}年" if scheme.period == "year" else period_text(scheme.period, rnd.year, rnd.period_no)
        out: dict[int, dict[str, dict[str, str]]] = {}
        for village_id in sorted(village_ids):
            found = {i.code: value for i in wanted
                     if (value := calc.compute(i, scheme.measure, village_id, figures, when)) is not None}
            if found:
                out[village_id] = calc.as_stored(found)
        return out

    def _stale_computed(self, s: Session, scheme: Scheme, rnd: e.EvalRound,
                        targets: Sequence[e.EvalTarget]) -> list[str]:
        """Targets whose computed indicators the data now gives otherwise (a figure typed after the 公示):
        定级 must not lock what the 公示 did not show, nor silently change it."""
        if self._figures is None:
            return []
        computed = self._computed(s, scheme, rnd, {t.village_id for t in targets})
        return [t.label for t in targets
                if (_loads(t.inputs).get(calc.COMPUTED_KEY) or {}) != computed.get(t.village_id, {})]

    def refresh_computed(self, round_id: int) -> int:
        """Read the computed indicators again from the data (e.g. after the archive's year was entered).

        Returns how many values or sources changed; a value a person changed with a reason stays theirs,
        with the new source shown beside it."""
        self._require_township("重新计算指标")
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, round_id)
            self._unlocked(rnd)
            scheme = self._scheme_of(s, rnd)
            targets = list(s.scalars(select(e.EvalTarget).where(e.EvalTarget.round_id == round_id)))
            computed = self._computed(s, scheme, rnd, {t.village_id for t in targets})
            entries = self._entries(s, [t.id for t in targets])
            changed = 0
            for target in targets:
                inputs = _loads(target.inputs)
                before, after = inputs.get(calc.COMPUTED_KEY) or {}, computed.get(target.village_id, {})
                if before == after:
                    continue
                changed += sum(1 for code in set(before) | set(after) if before.get(code) != after.get(code))
                inputs.pop(calc.COMPUTED_KEY, None)
                target.inputs = _dumps({**inputs, **({calc.COMPUTED_KEY: after} if after else {})})
                self._recompute(s, scheme, target, entries[target.id])
            if changed:
                self._event(s, round_id, "计算", f"按现有数据重新计算指标：{changed} 项有变化")
            return changed

    def _against_computed(self, s: Session, rnd: e.EvalRound, scheme: Scheme, target: e.EvalTarget,
                          data: EntryInput, scores: dict[str, Decimal | None], stored: dict[str, Any],
                          overrides: dict[str, str]) -> dict[str, Decimal | None]:
        """A computed value may be changed only with a reason (kept in ``overrides`` and in the round's log);
        typing the computed value again, or clearing the cell, goes back to the computed value."""
        computed = calc.stored_computed(_loads(target.inputs))
        names = {i.code: i.name for i in scheme.indicators}
        problems: list[FieldProblem] = []
        out = dict(scores)
        for code, value in scores.items():
            if code not in computed:
                continue
            auto, source = computed[code]
            reason = squeeze_spaces((data.reasons or {}).get(code) or "")
            if value is None or value == auto:
                out[code] = None
                overrides.pop(code, None)
                continue
            if not reason and code in overrides and stored.get(code) is not None \
                    and Decimal(str(stored[code])) == value:
                continue  # unchanged: the earlier reason stands
            if len(reason) < calc.MIN_REASON:
                problems.append(FieldProblem(code, f"{target.label}：“{names[code]}”由数据计算得出（{source}），"
                                                   f"修改须在评分表中填写理由（至少{calc.MIN_REASON}个字）"))
                continue
            overrides[code] = reason[:200]
            self._event(s, rnd.id, "人工调整",
                        f"{target.label}“{names[code]}”：计算值{calc.show_value(scheme.measure, auto)}改为"
                        f"{calc.show_value(scheme.measure, value)}，理由：{reason}")
        if problems:
            raise ValidationFailed(problems)
        return out

    # ----- entries and levels ------------------------------------------------
    @staticmethod
    def _entry_data(scheme: Scheme, entry: e.EvalEntry | None, inputs: dict[str, Any]) -> EntryData:
        """What the engine reads: the entry's values, with the computed ones where nobody changed them."""
        computed = calc.stored_computed(inputs)
        if entry is None:
            return EntryData(calc.merged({}, {}, computed), inputs=decode_inputs(scheme, inputs))
        values, overrides = calc.split_scores(_loads(entry.scores))
        return EntryData(calc.merged(values, overrides, computed), frozenset(_loads(entry.negatives)),
                         decode_inputs(scheme, inputs))

    def _outcome(self, scheme: Scheme, target: e.EvalTarget, entries: dict[str, e.EvalEntry],
                 upto: str | None = None) -> tuple[Outcome, str | None]:
        """The result from the latest score stage that has an entry (optionally only up to ``upto``)."""
        inputs = _loads(target.inputs)
        decided = None
        for stage in scheme.score_stages:
            if stage.key in entries:
                decided = stage.key
            if stage.key == upto:
                break
        prior = None
        if scheme.order_stage and scheme.order_stage in entries and scheme.order_stage != decided:
            prior = self._entry_data(scheme, entries[scheme.order_stage], inputs)
        rollup = None if target.rollup is None else Decimal(target.rollup)
        entry = self._entry_data(scheme, entries.get(decided) if decided else None, inputs)
        return evaluate(scheme, entry, rollup=rollup, barred=target.barred, prior=prior), decided

    @staticmethod
    def _apply(target: e.EvalTarget, scheme: Scheme, outcome: Outcome, decided: str | None) -> None:
        target.level, target.rank, target.measure = outcome.level, outcome.rank, outcome.measure
        target.vetoed = outcome.vetoed
        target.reasons = outcome.summary[:400] or None
        target.flags = "、".join(outcome.flags) or None
        target.decided_stage = decided

    def _entries(self, s: Session, target_ids: Sequence[int]) -> dict[int, dict[str, e.EvalEntry]]:
        out: dict[int, dict[str, e.EvalEntry]] = {t: {} for t in target_ids}
        for chunk_start in range(0, len(target_ids), 900):
            chunk = target_ids[chunk_start:chunk_start + 900]
            for entry in s.scalars(select(e.EvalEntry).where(e.EvalEntry.target_id.in_(chunk))):
                out[entry.target_id][entry.stage] = entry
        return out

    def _recompute(self, s: Session, scheme: Scheme, target: e.EvalTarget,
                   entries: dict[str, e.EvalEntry] | None = None) -> None:
        if entries is None:
            entries = self._entries(s, [target.id])[target.id]
        for stage_key, entry in entries.items():
            own, _ = self._outcome(scheme, target, entries, upto=stage_key)
            entry.level, entry.measure = own.level, own.measure
        outcome, decided = self._outcome(scheme, target, entries)
        self._apply(target, scheme, outcome, decided)

    def _clean_entry(self, scheme: Scheme, data: EntryInput, label: str) -> tuple[dict, dict, dict | None]:
        """The entry's values as stored, through the cell rules of evaluations/validation.py."""
        problems: list[FieldProblem] = []
        scores: dict[str, Decimal | None] = {}
        indicators = {i.code: i for i in scheme.indicators}
        for code, raw in data.scores.items():
            indicator = indicators.get(code)
            if indicator is None:
                problems.append(FieldProblem(code, f"{label}：方案中没有编码为“{code}”的指标"))
                continue
            try:
                scores[code] = cells.check_score(scheme, indicator, raw)
            except cells.CellError as exc:
                problems.append(FieldProblem(code, f"{label}：{exc.message}"))
        negatives: dict[str, str] | None = None if data.negatives is None else {}
        for code, note in (data.negatives or {}).items():
            if scheme.negative(code) is None:
                problems.append(FieldProblem(code, f"{label}：方案中没有编码为“{code}”的否定项"))
            elif negatives is not None:
                negatives[code] = cells.clean_note(note)
        inputs = None
        if data.inputs is not None:
            inputs = {}
            for key, raw in data.inputs.items():
                spec = scheme.input_spec(key)
                if spec is None:
                    problems.append(FieldProblem(key, f"{label}：方案中没有“{key}”这一输入项"))
                    continue
                try:
                    inputs[key] = cells.check_input(spec, raw)
                except cells.CellError as exc:
                    problems.append(FieldProblem(key, f"{label}：{exc.message}"))
        if problems:
            raise ValidationFailed(problems)
        return scores, negatives, inputs

    def save_entry(self, data: EntryInput) -> SheetRow:
        return self.save_entries([data])[0]

    def save_entries(self, items: Sequence[EntryInput], *, publicity_change: bool = False) -> list[SheetRow]:
        """Save score-sheet rows of the current stage (one unit of work); returns the rows with their new levels."""
        if not items:
            return []
        with self.db.unit_of_work(self.actor) as s:
            round_id = self.save_in(s, items, publicity_change=publicity_change)
        return self.sheet(round_id, items[0].stage, target_ids=[i.target_id for i in items])

    def save_in(self, s: Session, items: Sequence[EntryInput], *, publicity_change: bool = False) -> int:
        """The rows saved inside the caller's session (the score sheet's, or a workbook import's); the round id."""
        targets = {t.id: t for t in s.scalars(select(e.EvalTarget).where(
            e.EvalTarget.id.in_([i.target_id for i in items])))}
        if any(i.target_id not in targets for i in items):
            raise NotFound("有的评定对象已不在本轮评定中，请刷新")
        rnd = self._round(s, targets[items[0].target_id].round_id)
        self._unlocked(rnd)
        scheme = self._scheme_of(s, rnd)
        entries = self._entries(s, list(targets))
        for data in items:
            target = targets[data.target_id]
            if target.round_id != rnd.id:
                raise DomainError("一次只能保存同一轮评定的评分")
            stage = scheme.stage(data.stage)
            if stage.is_publicity:
                raise DomainError("公示环节不打分；公示期间的更正请通过登记并处理异议完成")
            if data.stage != rnd.stage and not publicity_change:
                raise DomainError(f"当前环节是“{scheme.stage(rnd.stage).name}”，不能修改“{stage.name}”环节的评分")
            if scheme.stage(rnd.stage).is_publicity and not publicity_change:
                raise DomainError("公示期间不能直接修改评分，请登记异议并在处理时调整")
            if publicity_change and not s.scalar(select(func.count()).select_from(e.EvalObjection).where(
                    e.EvalObjection.target_id == target.id, e.EvalObjection.handled_on.is_(None))):
                raise DomainError(f"{target.label}没有待处理的异议，公示期间不能更正评分")
            self._require_stage_write(scheme, data.stage, target.village_id)
            scores, negatives, inputs = self._clean_entry(scheme, data, target.label)
            entry = entries[target.id].get(data.stage)
            if entry is not None and entry.county_decision:
                raise DomainError(f"{target.label}“{stage.name}”环节的结果由县级决定（{entry.county_decision}），"
                                  "经回传数据包导入，乡镇不能修改")
            if entry is None:
                entry = e.EvalEntry(target_id=target.id, stage=data.stage, scores="{}", negatives="{}")
                s.add(entry)
                entries[target.id][data.stage] = entry
            stored = _loads(entry.scores)
            overrides = calc.split_scores(stored)[1]
            scores = self._against_computed(s, rnd, scheme, target, data, scores, stored, overrides)
            merged = {**{k: v for k, v in stored.items() if k != calc.OVERRIDES_KEY}, **scores}
            entry.scores = _dumps({**{k: v for k, v in merged.items() if v is not None},
                                   **({calc.OVERRIDES_KEY: overrides} if overrides else {})})
            if negatives is not None:
                entry.negatives = _dumps(negatives)
            if data.comment is not None:
                entry.comment = cells.clean_comment(data.comment)
            entry.entered_by = self.actor.username
            if inputs is not None:
                current = {**_loads(target.inputs), **inputs}
                target.inputs = _dumps({k: v for k, v in current.items() if v is not None})
            self._recompute(s, scheme, target, entries[target.id])
        s.flush()
        return rnd.id

    # ----- the county's stages, brought back by its return package ---------------------------------
    def county_decision_state(self, s: Session, item: CountyDecisionInput) -> tuple[str, str | None]:
        """What applying ``item`` would do: ("created" | "updated" | "unchanged", None) or ("refused", why)."""
        self._require_township("导入县级回传结果")
        target = s.scalar(select(e.EvalTarget).where(e.EvalTarget.uuid == item.target_uuid))
        rnd = s.scalar(select(e.EvalRound).where(e.EvalRound.uuid == item.round_uuid))
        if target is None or rnd is None or target.round_id != rnd.id:
            return "refused", "本数据库中没有这一轮评定或这一评定对象（回传数据包应导入报送它的乡镇）"
        scheme = self._scheme_of(s, rnd)
        try:
            stage = scheme.stage(item.stage)
        except DomainError as exc:
            return "refused", exc.message
        if stage.level != "county":
            return "refused", f"“{stage.name}”不是县级环节，县级不能回传它的结果"
        if item.verdict == "否决" and (item.negative is None or scheme.negative(item.negative) is None):
            return "refused", f"否决应注明方案“{scheme.name}”中的否定项编码（现为“{item.negative or ''}”）"
        entry = self._entries(s, [target.id])[target.id].get(item.stage)
        if entry is not None and entry.county_decision == item.marker and (entry.comment or None) == item.comment:
            return "unchanged", None
        if rnd.stage != item.stage:
            return "refused", (f"“{rnd.name}”当前环节是“{scheme.stage(rnd.stage).name}”，不在“{stage.name}”，"
                               "不能导入县级结果。请与县级核对本轮评定的进度")
        if rnd.locked:
            return "refused", f"“{rnd.name}”已定级锁定，不能导入县级结果"
        return ("created" if entry is None or not entry.county_decision else "updated"), None

    def apply_county_decisions(self, s: Session, items: Sequence[CountyDecisionInput]) -> int:
        """Record the county's results (in the caller's session: the return package's import).

        Each becomes the target's entry at the county stage: the scores of the stage before it, with
        the county's 否定项 when it vetoed, its comment, and who decided — an entry the township cannot
        change afterwards. The round stays at the stage: the township hands it on (公示 dates are its own)."""
        self._require_township("导入县级回传结果")
        done = 0
        rounds: dict[int, list[CountyDecisionInput]] = {}
        for item in items:
            state, why = self.county_decision_state(s, item)
            if state == "refused":
                raise DomainError(why or "")
            if state == "unchanged":
                continue
            target = s.scalar(select(e.EvalTarget).where(e.EvalTarget.uuid == item.target_uuid))
            rnd = self._round(s, target.round_id)
            scheme = self._scheme_of(s, rnd)
            entries = self._entries(s, [target.id])[target.id]
            index = scheme.stage_index(item.stage)
            earlier = next((entries[st.key] for st in reversed(scheme.stages[:index])
                            if not st.is_publicity and st.key in entries), None)
            entry = entries.get(item.stage)
            if entry is None:
                entry = e.EvalEntry(target_id=target.id, stage=item.stage)
                s.add(entry)
                entries[item.stage] = entry
            entry.scores = earlier.scores if earlier is not None else "{}"
            negatives = _loads(earlier.negatives) if earlier is not None else {}
            if item.verdict == "否决" and item.negative:
                negatives[item.negative] = item.note or "县级否决"
            entry.negatives = _dumps(negatives)
            entry.comment = item.comment
            entry.entered_by = f"县级：{item.decided_by}"[:64]
            entry.county_decision = item.marker
            self._recompute(s, scheme, target, entries)
            rounds.setdefault(rnd.id, []).append(item)
            done += 1
        for round_id, decided in rounds.items():
            first = decided[0]
            name = self._scheme_of(s, self._round(s, round_id)).stage(first.stage).name
            vetoed = sum(1 for d in decided if d.verdict == "否决")
            self._event(s, round_id, "县级结果", f"{first.county}{first.decided_by}于{first.decided_on:%Y-%m-%d}"
                        f"作出的“{name}”环节结果已由回传数据包导入：{len(decided)} 个对象，否决 {vetoed} 个")
        s.flush()
        return done

    def copy_previous_stage(self, round_id: int, village_id: int | None = None) -> int:
        """Start the current stage from the previous stage's entries, for targets not yet entered here."""
        permissions.require_write(self.actor, village_id if village_id is not None
                                  else permissions.visible_village(self.actor), "评定")
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, round_id)
            self._unlocked(rnd)
            scheme = self._scheme_of(s, rnd)
            stage = scheme.stage(rnd.stage)
            if stage.is_publicity:
                raise DomainError("公示环节不打分")
            earlier = [st.key for st in scheme.score_stages[:scheme.score_stages.index(stage)]]
            if not earlier:
                raise DomainError("这是第一个评分环节，没有上一环节可以沿用")
            query = select(e.EvalTarget).where(e.EvalTarget.round_id == round_id)
            if village_id is not None:
                query = query.where(e.EvalTarget.village_id == village_id)
            targets = list(s.scalars(query))
            entries = self._entries(s, [t.id for t in targets])
            copied = 0
            for target in targets:
                own = entries[target.id]
                source = next((own[k] for k in reversed(earlier) if k in own), None)
                if stage.key in own or source is None:
                    continue
                self._require_stage_write(scheme, stage.key, target.village_id)
                entry = e.EvalEntry(target_id=target.id, stage=stage.key, scores=source.scores,
                                    negatives=source.negatives, comment=None, entered_by=self.actor.username)
                s.add(entry)
                own[stage.key] = entry
                self._recompute(s, scheme, target, own)
                copied += 1
            if copied:
                self._event(s, round_id, "沿用", f"“{stage.name}”沿用上一环节的评分：{copied} 个对象")
            return copied

    # ----- reading the sheet -------------------------------------------------
    def sheet(self, round_id: int, stage: str | None = None, village_id: int | None = None,
              target_ids: Sequence[int] | None = None) -> list[SheetRow]:
        """Rows of the score sheet for a stage (default: the current one), by village and code."""
        if village_id is not None:
            permissions.require_read(self.actor, village_id, "评定")
        visible = permissions.visible_village(self.actor)
        with self.db.reader() as s:
            rnd = self._round(s, round_id)
            scheme = self._scheme_of(s, rnd)
            stage_key = stage or rnd.stage
            query = (select(e.EvalTarget, m.Village.name).join(m.Village, m.Village.id == e.EvalTarget.village_id)
                     .where(e.EvalTarget.round_id == round_id).order_by(m.Village.code, e.EvalTarget.code,
                                                                        e.EvalTarget.id))
            if village_id is not None:
                query = query.where(e.EvalTarget.village_id == village_id)
            if visible is not None:
                query = query.where(e.EvalTarget.village_id == visible)
            if target_ids is not None:
                query = query.where(e.EvalTarget.id.in_(list(target_ids)))
            rows = s.execute(query).all()
            entries: dict[int, e.EvalEntry] = {}
            ids = [t.id for t, _ in rows]
            for start in range(0, len(ids), 900):
                for entry in s.scalars(select(e.EvalEntry).where(e.EvalEntry.target_id.in_(ids[start:start + 900]),
                                                                 e.EvalEntry.stage == stage_key)):
                    entries[entry.target_id] = entry
            out = []
            for target, village in rows:
                entry = entries.get(target.id)
                inputs = decode_inputs(scheme, _loads(target.inputs))
                computed = calc.stored_computed(_loads(target.inputs))
                overrides = calc.split_scores(_loads(entry.scores))[1] if entry else {}
                data = self._entry_data(scheme, entry, _loads(target.inputs))
                missing = evaluate(scheme, data, rollup=None if target.rollup is None else Decimal(target.rollup)
                                   ).missing if entry is not None else ()
                out.append(SheetRow(
                    target.id, target.village_id, village, target.code or "", target.label,
                    dict(data.values), _loads(entry.negatives) if entry else {}, (entry.comment or "") if entry else "",
                    inputs, None if target.rollup is None else Decimal(target.rollup), entry is not None,
                    entry.level if entry else None, "已撤销" if target.revoked_on else (target.level or scheme.unrated),
                    target.rank, None if target.measure is None else Decimal(target.measure), target.reasons or "",
                    target.flags or "", missing, target.barred, target.revoked_on is not None,
                    sources={code: text for code, (_v, text) in computed.items()}, overrides=overrides,
                    computed={code: value for code, (value, _t) in computed.items()}))
            return out

    def stage_summary(self, round_id: int) -> StageSummary:
        rnd = self.round(round_id)
        scheme = rnd.scheme
        index = scheme.stage_index(rnd.stage)
        following = scheme.stages[index + 1].name if index + 1 < len(scheme.stages) else None
        rows = self.sheet(round_id)
        if rnd.current_stage.is_publicity:
            open_items = [o for o in self.objections(round_id) if o.open]
            return StageSummary(rnd.stage, rnd.stage_name, following, len(rows), len(rows), (),
                                tuple(f"未处理的异议：{o.target_label or '整体'}（{o.content[:20]}）" for o in open_items))
        missing = tuple(f"{r.village}{r.label}" for r in rows if not r.entered)
        incomplete = tuple(f"{r.village}{r.label}（缺{'、'.join(r.missing[:3])}）" for r in rows
                           if r.entered and r.missing)
        return StageSummary(rnd.stage, rnd.stage_name, following, len(rows), sum(1 for r in rows if r.entered),
                            missing, incomplete)

    def path(self, target_id: int) -> list[PathStep]:
        """The target's path through the stages (e.g. 镇街考核 → … → 市级复核), what each stage gave."""
        with self.db.reader() as s:
            target = s.get(e.EvalTarget, target_id)
            if target is None:
                raise NotFound("评定对象不存在")
            permissions.require_read(self.actor, target.village_id, "评定")
            scheme = self._scheme_of(s, self._round(s, target.round_id))
            entries = self._entries(s, [target_id])[target_id]
            return [PathStep(st.key, st.name, entries[st.key].level, None if entries[st.key].measure is None
                             else Decimal(entries[st.key].measure), entries[st.key].comment or "",
                             entries[st.key].entered_by)
                    for st in scheme.score_stages if st.key in entries]

    # ----- stages, 公示, objections, lock ----------------------------------------
    def advance_stage(self, round_id: int, *, publicity_start: dt.date | None = None,
                      publicity_end: dt.date | None = None, as_of: dt.date | None = None) -> str:
        """Hand the round to its next stage; entering 公示 needs its dates, leaving it needs it over and settled."""
        self._require_township("环节移交")
        today = as_of or dt.date.today()
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, round_id)
            self._unlocked(rnd)
            scheme = self._scheme_of(s, rnd)
            index = scheme.stage_index(rnd.stage)
            if index + 1 >= len(scheme.stages):
                raise DomainError("已是最后一个环节，请“定级”完成本轮评定")
            current, following = scheme.stages[index], scheme.stages[index + 1]
            if current.is_publicity:
                self._require_publicity_over(s, rnd, today)
            if following.is_publicity:
                start = publicity_start or today
                end = publicity_end or start + dt.timedelta(days=following.days - 1)
                if end < start:
                    raise ValidationFailed([FieldProblem("publicity_end", "公示结束日期不能早于开始日期")])
                rnd.publicity_start, rnd.publicity_end, rnd.status = start, end, "公示中"
                detail = f"“{current.name}”移交“{following.name}”，公示期 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}"
            else:
                rnd.status = "进行中"
                detail = f"“{current.name}”移交“{following.name}”"
            rnd.stage = following.key
            self._event(s, round_id, "移交", detail)
            return following.key

    def _require_publicity_over(self, s: Session, rnd: e.EvalRound, today: dt.date, action: str = "进行下一步") -> None:
        problem = self._publicity_not_over(s, rnd, today, action)
        if problem:
            raise DomainError(problem)

    @staticmethod
    def _publicity_not_over(s: Session, rnd: e.EvalRound, today: dt.date, action: str) -> str | None:
        """Why the 公示 still holds ``action`` back (its period runs, objections wait), None when it does not."""
        if rnd.publicity_end is not None and today <= rnd.publicity_end:
            return f"公示期至{rnd.publicity_end:%Y年%m月%d日}，公示结束后才能{action}"
        pending = s.scalar(select(func.count()).select_from(e.EvalObjection).where(
            e.EvalObjection.round_id == rnd.id, e.EvalObjection.handled_on.is_(None)))
        if pending:
            return f"还有 {pending} 条异议未处理，处理后才能{action}"
        return None

    def add_objection(self, data: ObjectionInput) -> int:
        self._require_township("登记异议")
        problems = []
        if not squeeze_spaces(data.raised_by or ""):
            problems.append(FieldProblem("raised_by", "请填写异议人"))
        if not squeeze_spaces(data.content or ""):
            problems.append(FieldProblem("content", "请填写异议内容"))
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, data.round_id)
            self._unlocked(rnd)
            scheme = self._scheme_of(s, rnd)
            if not scheme.stage(rnd.stage).is_publicity:
                raise DomainError("只能在公示期间登记异议")
            if rnd.publicity_start and rnd.publicity_end and not rnd.publicity_start <= data.raised_on <= rnd.publicity_end:
                raise ValidationFailed([FieldProblem("raised_on", f"异议应在公示期内（{rnd.publicity_start:%Y-%m-%d} 至 "
                                                                  f"{rnd.publicity_end:%Y-%m-%d}）提出")])
            if data.target_id is not None:
                target = s.get(e.EvalTarget, data.target_id)
                if target is None or target.round_id != rnd.id:
                    raise NotFound("异议所涉对象不在本轮评定中")
            row = e.EvalObjection(round_id=rnd.id, target_id=data.target_id, raised_on=data.raised_on,
                                  raised_by=squeeze_spaces(data.raised_by), content=squeeze_spaces(data.content)[:400])
            s.add(row)
            s.flush()
            self._event(s, rnd.id, "异议", f"登记异议：{row.raised_by}：{row.content[:60]}")
            return row.id

    def handle_objection(self, objection_id: int, handling: str, outcome: str, handled_on: dt.date,
                         correction: EntryInput | None = None) -> None:
        """Record how an objection was handled; 调整评定 saves the corrected entry of the last score stage."""
        self._require_township("处理异议")
        outcomes = vocabulary()["objection_outcomes"]
        if outcome not in outcomes:
            raise ValidationFailed([FieldProblem("outcome", f"处理结果应为{'、'.join(outcomes)}之一")])
        if not squeeze_spaces(handling or ""):
            raise ValidationFailed([FieldProblem("handling", "请填写处理情况")])
        with self.db.reader() as s:
            row = s.get(e.EvalObjection, objection_id)
            if row is None:
                raise NotFound("异议记录不存在")
            round_id, target_id = row.round_id, row.target_id
        if outcome == outcomes[1]:
            if target_id is None:
                raise ValidationFailed([FieldProblem("outcome", "调整评定需要针对具体对象")])
            if correction is not None:
                correction.target_id, correction.stage = target_id, self.correction_stage(round_id)
                self.save_entries([correction], publicity_change=True)
        with self.db.unit_of_work(self.actor) as s:
            row = s.get(e.EvalObjection, objection_id)
            row.handling, row.outcome, row.handled_on = squeeze_spaces(handling)[:400], outcome, handled_on
            self._event(s, round_id, "异议", f"处理异议（{outcome}）：{row.handling[:60]}")

    def correction_stage(self, round_id: int) -> str:
        """During 公示, corrections go to the last score stage before it."""
        rnd = self.round(round_id)
        index = rnd.scheme.stage_index(rnd.stage)
        return next(st.key for st in reversed(rnd.scheme.stages[:index]) if not st.is_publicity)

    def objections(self, round_id: int) -> list[ObjectionDTO]:
        """The round's objections; a clerk sees those about their village's targets and about the round as a whole."""
        with self.db.reader() as s:
            self._require_round(s, round_id)
            query = (select(e.EvalObjection, e.EvalTarget.label)
                     .outerjoin(e.EvalTarget, e.EvalTarget.id == e.EvalObjection.target_id)
                     .where(e.EvalObjection.round_id == round_id).order_by(e.EvalObjection.id))
            visible = permissions.visible_village(self.actor)
            if visible is not None:
                query = query.where(or_(e.EvalObjection.target_id.is_(None), e.EvalTarget.village_id == visible))
            rows = s.execute(query).all()
            return [ObjectionDTO(o.id, o.target_id, label or "", o.raised_on, o.raised_by, o.content, o.handled_on,
                                 o.handling, o.outcome) for o, label in rows]

    def finalise_refusal(self, round_id: int, as_of: dt.date | None = None) -> str | None:
        """Why 定级 cannot be done now (None: it can), read only, so the page says so before asking
        “确定定级吗？”: a locked round, a stage still to do, the 公示 still running or
        objections waiting, source rounds not 定级, computed values the data now gives otherwise. A role that
        may not 定级 is refused (PermissionDenied) as by ``finalise`` itself."""
        self._require_township("定级")
        today = as_of or dt.date.today()
        with self.db.reader() as s:
            rnd = self._round(s, round_id)
            scheme = self._scheme_of(s, rnd)
            targets = list(s.scalars(select(e.EvalTarget).where(e.EvalTarget.round_id == round_id)))
            return self._finalise_problem(s, rnd, scheme, today, targets)

    def _finalise_problem(self, s: Session, rnd: e.EvalRound, scheme: Scheme, today: dt.date,
                          targets: Sequence[e.EvalTarget]) -> str | None:
        """The first reason 定级 must wait, checked in the order a user would put it right."""
        if rnd.locked:
            return f"“{rnd.name}”已定级锁定，无需再定级。如确需修改，请由乡镇干部填写理由后解锁。"
        if scheme.stage_index(rnd.stage) != len(scheme.stages) - 1:
            return f"当前环节是“{scheme.stage(rnd.stage).name}”，完成全部环节后才能定级"
        if any(st.is_publicity for st in scheme.stages):
            problem = self._publicity_not_over(s, rnd, today, "定级")
            if problem:
                return problem
        waiting = self._open_sources(s, scheme, rnd)
        if waiting:
            return (f"本轮的{scheme.rollup.label if scheme.rollup else '汇总'}来自尚未定级的评定："
                    f"{'、'.join(waiting)}；请先将它们定级")
        stale = self._stale_computed(s, scheme, rnd, targets)
        if stale:
            return (f"{len(stale)}个对象由数据计算的指标与现有数据已不一致（{'、'.join(stale[:3])}"
                    f"{'等' if len(stale) > 3 else ''}）：请先点“重新计算”核对结果，必要时重新公示，再定级")
        return None

    def finalise(self, round_id: int, as_of: dt.date | None = None) -> None:
        """定级: the last stage done (and its 公示 over, objections handled) — the round is locked."""
        self._require_township("定级")
        today = as_of or dt.date.today()
        with self.db.unit_of_work(self.actor) as s:
            rnd = self._round(s, round_id)
            self._unlocked(rnd)
            scheme = self._scheme_of(s, rnd)
            targets = list(s.scalars(select(e.EvalTarget).where(e.EvalTarget.round_id == round_id)))
            problem = self._finalise_problem(s, rnd, scheme, today, targets)
            if problem:
                raise DomainError(problem)
            self._refresh_rollups_in(s, rnd, scheme)  # the final roll-up reads every month 定级 by now
            entries = self._entries(s, [t.id for t in targets])
            for target in targets:  # the stored results are exactly what the engine says now
                self._recompute(s, scheme, target, entries[target.id])
            rnd.locked, rnd.status, rnd.finalised_on, rnd.finalised_by = True, "已定级", today, self.actor.username
            rated = sum(1 for t in targets if t.rank > 0)
            self._event(s, round_id, "定级", f"定级并锁定：{len(targets)} 个对象，{rated} 个评定了等级")
            key, year = scheme.key, rnd.year
            villages = {t.village_id for t in targets}
            self._follow_rollups(s, key, year)
        if key in ARCHIVE_FEEDS:
            self._feed_archives(round_id, key, year, villages)

    def _feed_archives(self, round_id: int, key: str, year: int, villages: set[int]) -> None:
        """定级 results the village archive keeps: 软弱涣散 acceptance, creation level, organisation stars.

        Each village's archive is its own record, so each is written in its own
        transaction; one the archive refuses (its own rules) is noted in the round's log.
        """
        from townapp.archives.service import ArchiveService

        archives = ArchiveService(self.db, self.actor)
        with self.db.reader() as s:
            names = dict(s.execute(select(m.Village.id, m.Village.name).where(m.Village.id.in_(villages))).all())
        notes: list[str] = []
        for village_id, result in sorted(self.village_results(key, year).items()):
            if village_id not in villages:
                continue
            name = names.get(village_id, str(village_id))
            try:
                if ARCHIVE_FEEDS[key] == "rectification":
                    case = next((c for c in archives.rectifications(village_id) if c.year == year), None)
                    if case is None:
                        notes.append(f"{name}：{year}年一村一档中没有软弱涣散认定记录，未写入验收结果")
                        continue
                    case.score, case.accepted_on = result.measure, result.decided_on
                    case.result = "通过" if result.passed else "未通过"
                    archives.save_rectification(village_id, case)
                else:  # with where it came from; for 书记星级 also the 书记 and the round's inputs (年度考核结果)
                    field = ARCHIVE_FEEDS[key]
                    value = (result.level if result.passed else None) if field == "creation_level" else result.rank
                    archives.set_rating_from_evaluation(village_id, year, field, value,
                                                        f"{year}年{result.round_name}", person_id=result.ref_id,
                                                        inputs=result.inputs)
            except ValidationFailed as exc:
                notes.append(f"{name}：一村一档未接受（{exc.message}）")
        with self.db.unit_of_work(self.actor) as s:
            detail = "定级结果已写入一村一档" + ("；" + "；".join(notes) if notes else "")
            self._event(s, round_id, "写入一村一档", detail)

    def unlock(self, round_id: int, reason: str) -> None:
        """Unlocking needs a reason; it is written to the audit log with the change."""
        self._require_township("解锁评定")
        reason = squeeze_spaces(reason or "")
        if len(reason) < 4:
            raise ValidationFailed([FieldProblem("reason", "解锁必须填写理由（至少4个字）")])
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            rnd = self._round(s, round_id)
            if not rnd.locked:
                raise DomainError("这一轮评定没有锁定")
            scheme = self._scheme_of(s, rnd)
            rnd.locked = False
            rnd.status = "公示中" if scheme.stage(rnd.stage).is_publicity else "进行中"
            self._event(s, round_id, "解锁", f"解锁，理由：{reason}")

    def revoke(self, target_id: int, reason: str, on: dt.date) -> None:
        """Revoke a title of a finalised round (audited with the reason); it may bar the target for some years."""
        self._require_township("撤销称号")
        reason = squeeze_spaces(reason or "")
        if len(reason) < 4:
            raise ValidationFailed([FieldProblem("reason", "撤销必须填写理由（至少4个字）")])
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            target = s.get(e.EvalTarget, target_id)
            if target is None:
                raise NotFound("评定对象不存在")
            rnd = self._round(s, target.round_id)
            if not rnd.locked:
                raise DomainError("定级后才能撤销称号；评定进行中请直接修改评分")
            if target.rank <= 0:
                raise DomainError(f"{target.label}没有评定等级，无需撤销")
            if target.revoked_on is not None:
                raise DomainError(f"{target.label}的称号已于{target.revoked_on:%Y-%m-%d}撤销")
            target.revoked_on, target.revoke_reason = on, reason
            self._event(s, rnd.id, "撤销", f"撤销 {target.label} 的“{target.level}”，理由：{reason}")

    # ----- results -------------------------------------------------------------
    def history(self, target_id: int) -> list[HistoryRow]:
        """Every round of the same scheme for the same target, oldest first, with 晋级/降级 between them."""
        changes = vocabulary()["history_changes"]
        with self.db.reader() as s:
            target = s.get(e.EvalTarget, target_id)
            if target is None:
                raise NotFound("评定对象不存在")
            permissions.require_read(self.actor, target.village_id, "评定")
            key = s.scalar(select(e.EvalScheme.key).join(e.EvalRound, e.EvalRound.scheme_id == e.EvalScheme.id)
                           .where(e.EvalRound.id == target.round_id))
            rows = s.execute(select(e.EvalTarget, e.EvalRound, e.EvalScheme)
                             .join(e.EvalRound, e.EvalRound.id == e.EvalTarget.round_id)
                             .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
                             .where(e.EvalTarget.ref_id == target.ref_id, e.EvalScheme.key == key)
                             .order_by(e.EvalRound.year, e.EvalRound.period_no, e.EvalRound.id)).all()
            out: list[HistoryRow] = []
            previous: int | None = None
            for t, rnd, scheme_row in rows:
                if t.revoked_on is not None:
                    change, level, rank = changes["revoked"], f"{t.level}（已撤销）", 0
                else:
                    rank, level = t.rank, t.level or ""
                    change = (changes["first"] if previous is None else changes["up"] if rank > previous
                              else changes["down"] if rank < previous else changes["same"])
                out.append(HistoryRow(rnd.id, rnd.name, scheme_row.name, rnd.year,
                                      period_text(scheme_row.period, rnd.year, rnd.period_no), level, rank,
                                      None if t.measure is None else Decimal(t.measure), change, rnd.locked))
                previous = rank
            return out

    def publicity_rows(self, round_id: int, *, include_unrated: bool = False) -> list[PublicityRow]:
        """The 公示 list: targets with a level, by village, best first."""
        rows = [r for r in self.sheet(round_id) if include_unrated or (r.rank > 0 and not r.revoked)]
        villages = {r.village_id: i for i, r in enumerate(rows)}
        rows.sort(key=lambda r: (villages[r.village_id], -r.rank, r.code, r.label))
        return [PublicityRow(r.village, r.code, r.label, r.level, r.measure) for r in rows]

    def distribution(self, round_id: int) -> tuple[list[str], list[tuple[str, dict[str, int]]]]:
        """Level names (best first, then unrated) and per village the count of targets at each level."""
        rnd = self.round(round_id)
        names = [lv.name for lv in rnd.scheme.levels] + [rnd.scheme.unrated]
        per: dict[str, dict[str, int]] = {}
        for row in self.sheet(round_id):
            level = rnd.scheme.unrated if row.revoked else row.level
            bucket = per.setdefault(row.village, dict.fromkeys(names, 0))
            bucket[level] = bucket.get(level, 0) + 1
        return names, list(per.items())

    def flagged(self, round_id: int, flag: str) -> list[SheetRow]:
        """E.g. the 建议调整名单 of a 头雁指数 round."""
        return [r for r in self.sheet(round_id) if flag in r.flags.split("、")]

    def village_results(self, scheme_key: str, year: int, *, final_only: bool = True) -> dict[int, VillageResult]:
        """Per village, the year's result of a village-level scheme (软弱涣散 acceptance, 规范·示范·典范
        creation, 评星定级) or of the village's 书记 (书记星级): what the village archive records."""
        with self.db.reader() as s:
            query = (select(e.EvalTarget, e.EvalRound)
                     .join(e.EvalRound, e.EvalRound.id == e.EvalTarget.round_id)
                     .join(e.EvalScheme, e.EvalScheme.id == e.EvalRound.scheme_id)
                     .where(e.EvalScheme.key == scheme_key,
                            e.EvalScheme.target.in_(("village_org", "party_secretary")), e.EvalRound.year == year)
                     .order_by(e.EvalRound.id))
            if final_only:
                query = query.where(e.EvalRound.locked.is_(True))
            visible = permissions.visible_village(self.actor)
            if visible is not None:
                query = query.where(e.EvalTarget.village_id == visible)
            out: dict[int, VillageResult] = {}
            for target, rnd in s.execute(query):
                rank = 0 if target.revoked_on else target.rank
                out[target.village_id] = VillageResult(
                    target.village_id, year, scheme_key, target.level or "", rank,
                    None if target.measure is None else Decimal(target.measure), rank > 0, rnd.locked,
                    rnd.finalised_on, target.reasons or "", target.ref_id, _loads(target.inputs), rnd.name)
            return out

    def village_result(self, scheme_key: str, village_id: int, year: int) -> VillageResult | None:
        permissions.require_read(self.actor, village_id, "评定结果")
        return self.village_results(scheme_key, year).get(village_id)
