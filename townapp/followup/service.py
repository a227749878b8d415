"""整改跟踪 use cases: 定级 results become follow-up work, tracked to closure.

``propose(year)`` reads the year's finalised rounds through the evaluation
service and creates a 拟办 item for what the rules (resources/followup/rules.json)
say; an item is found again by its rule, village, year and period, so
proposing twice adds nothing and a closed or rejected item stays so. Accepting
a 整顿 item opens the 软弱涣散 case in the village archive through the archive's
own service (the archive stays the only writer of its table). Each public
method is one unit of work, checks the actor's role and village, and returns DTOs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.core.text import squeeze_spaces
from townapp.db import Database
from townapp.db.base import get_or_missing
from townapp.followup import models as f
from townapp.followup.dto import (
    AdjustRow,
    EventRow,
    ItemDetail,
    ItemInput,
    ItemRow,
    ProblemData,
    ProposeReport,
    RoundChoice,
)
from townapp.followup.rules import (
    DONE,
    IN_PROGRESS,
    KIND_ADJUST,
    KIND_LIST,
    KIND_RECTIFY,
    KINDS,
    OPEN_STATUSES,
    PROBLEM_DONE,
    PROBLEM_OPEN,
    PROPOSED,
    REJECTED,
    STATUSES,
    FollowUpRule,
    shipped_rules,
)
from townapp.registry import models as m

WHAT = "整改跟踪事项"
MANUAL = "手工"
MIN_REASON = 4


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


WITHDRAWN = "定级结果已改为"  # how a 拟办 withdrawn by a re-rating begins its note


class FollowUpService:
    """整改跟踪: 整顿, 问题清单 and 调整建议 from 定级 results."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR,
                 rules: Sequence[FollowUpRule] | None = None) -> None:
        self.db = db
        self.actor = actor
        self.rules = tuple(shipped_rules() if rules is None else rules)

    def _evaluations(self):  # noqa: ANN202 (an EvaluationService; imported late: the page opens fast)
        from townapp.evaluations.service import EvaluationService

        return EvaluationService(self.db, self.actor)

    # ----- proposing ----------------------------------------------------------------------------------
    def propose(self, year: int, as_of: dt.date | None = None, *, dry_run: bool = False) -> ProposeReport:
        """Create the 拟办 items the rules ask for from the year's finalised rounds; never twice.

        ``dry_run`` only says what it would create (``townapp check`` asks so)."""
        permissions.require_township(self.actor, "生成整改跟踪事项")
        today = as_of or dt.date.today()
        evaluations = self._evaluations()
        keys = {r.scheme for r in self.rules}
        rounds = sorted((r for r in evaluations.rounds() if r.year == year and r.locked and r.scheme_key in keys),
                        key=lambda r: r.id)
        report = ProposeReport(year, dict.fromkeys(KINDS, 0), 0, [r.name for r in rounds])
        # per (rule, village, period) the latest round's result wins (a round re-run in the same year)
        wanted: dict[tuple[str, int, int], tuple[f.FollowUpItem, list[ProblemData]]] = {}
        no_longer: dict[tuple[str, int, int], str] = {}  # rated again and the rule no longer applies: the new result
        villages: dict[int, str] = {}
        for info in rounds:
            rnd = evaluations.round(info.id)
            scheme = rnd.scheme
            rules = [r for r in self.rules if r.scheme == info.scheme_key]
            start = rnd.finalised_on or today
            for row in evaluations.sheet(info.id):
                rank = 0 if row.revoked else row.rank
                villages[row.village_id] = row.village
                for rule in rules:
                    key = (rule.id, row.village_id, rnd.period_no)
                    if not rule.applies(rank, "" if row.revoked else row.flags):
                        wanted.pop(key, None)
                        no_longer[key] = f"{rnd.name}：{row.level}"
                        continue
                    no_longer.pop(key, None)
                    title = rule.make_title(year=year, level=row.level, period=rnd.period_text,
                                            measure=_number(row.measure))
                    item = f.FollowUpItem(
                        village_id=row.village_id, year=year, period_no=rnd.period_no, rule_id=rule.id,
                        kind=rule.kind, scheme_key=info.scheme_key, round_id=info.id, level=row.level, ref_id=0,
                        subject=row.label, title=title[:200], source=f"{rnd.name}：{row.level}"[:200],
                        content=self._content(rnd.name, row)[:4000], proposed_on=today,
                        deadline=rule.deadline.after(start), status=PROPOSED)
                    wanted[key] = (item, self._problems(scheme, row, item.deadline, rule.problem_share)
                                   if rule.kind == KIND_LIST else [])
        with self.db.reader() if dry_run else self.db.unit_of_work(self.actor) as s:
            report.withdrawn = self._withdraw(s, year, no_longer, today, villages, dry_run=dry_run)
            present, withdrawn = set(), {}
            for found in s.scalars(select(f.FollowUpItem).where(f.FollowUpItem.year == year,
                                                                 f.FollowUpItem.ref_id == 0)):
                key = (found.rule_id, found.village_id, found.period_no)
                if found.status == REJECTED and (found.result_note or "").startswith(WITHDRAWN):
                    withdrawn[key] = found  # rated back into the rule: proposed again, in the same record
                else:
                    present.add(key)
            for key, (item, problems) in sorted(wanted.items(), key=lambda kv: (kv[1][0].village_id, kv[0])):
                if key in present:
                    report.existing += 1
                    continue
                report.created[item.kind] += 1
                report.new_items.append(f"{villages[item.village_id]}：{item.title}")
                if dry_run:
                    continue
                again = withdrawn.get(key)
                if again is not None:
                    for column in ("round_id", "level", "subject", "title", "source", "content", "proposed_on",
                                   "deadline", "status"):
                        setattr(again, column, getattr(item, column))
                    again.closed_on = again.result_note = None
                    for old in s.scalars(select(f.FollowUpProblem).where(f.FollowUpProblem.item_id == again.id)):
                        s.delete(old)
                    s.flush()
                    item = again
                else:
                    s.add(item)
                    s.flush()
                s.add_all(f.FollowUpProblem(item_id=item.id, seq=n, content=p.content[:400], deadline=p.deadline,
                                            status=PROBLEM_OPEN) for n, p in enumerate(problems, start=1))
                self._event(s, item.id, REJECTED if again is not None else None, PROPOSED,
                            f"{'重新定级后再次' if again is not None else ''}由“{item.source}”生成")
        return report

    def _withdraw(self, s: Session, year: int, no_longer: dict[tuple[str, int, int], str], today: dt.date,
                  villages: dict[int, str], *, dry_run: bool) -> list[str]:
        """A 拟办 whose round was unlocked and rated again with a result the rule no longer applies to (二星 → 三星)
        is withdrawn (不予采纳, the new result as the reason); an item already taken on is left to a person.
        Returns 村：事项 of each (``dry_run``: would be) withdrawn."""
        out = []
        for item in s.scalars(select(f.FollowUpItem).where(f.FollowUpItem.year == year, f.FollowUpItem.ref_id == 0,
                                                            f.FollowUpItem.status == PROPOSED)
                              .order_by(f.FollowUpItem.village_id, f.FollowUpItem.id)):
            result = no_longer.get((item.rule_id, item.village_id, item.period_no))
            if result is None:
                continue
            out.append(f"{villages.get(item.village_id, '')}：{item.title}")
            if dry_run:
                continue
            note = f"{WITHDRAWN}“{result}”，不再适用，拟办事项自动撤回"
            item.status, item.closed_on, item.result_note = REJECTED, today, note[:400]
            self._event(s, item.id, PROPOSED, REJECTED, note)
        return out

    @staticmethod
    def _content(round_name: str, row) -> str:  # noqa: ANN001 (an evaluations SheetRow)
        parts = [f"依据：{round_name}，{row.label}评定为{row.level}"
                 + (f"（{_number(row.measure)}分）" if row.measure is not None else "") + "。"]
        if row.reasons:
            parts.append(f"说明：{row.reasons}")
        return "".join(parts)

    @staticmethod
    def _problems(scheme, row, deadline: dt.date | None, share: Decimal) -> list[ProblemData]:  # noqa: ANN001
        """A 问题清单 from the result itself: each indicator scoring below ``share`` of its maximum (1: any lost
        point), each negative item touched."""
        out = []
        for indicator in scheme.indicators:
            score = row.scores.get(indicator.code)
            if indicator.max is not None and score is not None and Decimal(score) < indicator.max * share:
                out.append(ProblemData(f"{indicator.category}·{indicator.name}：得{_number(Decimal(score))}分"
                                       f"（满分{_number(Decimal(indicator.max))}分）", deadline))
        for code, note in sorted(row.negatives.items()):
            item = scheme.negative(code)
            name = item.name if item is not None else code
            out.append(ProblemData(f"触及负面情形：{name}" + (f"（{note}）" if note else ""), deadline))
        return out or [ProblemData(f"对照五星标准查找差距，制定整改措施（{row.level}）", deadline)]

    def add(self, data: ItemInput, as_of: dt.date | None = None) -> int:
        """A follow-up item added by hand (an inspection's findings): it starts as 整改中."""
        permissions.require_township(self.actor, "新增整改跟踪事项")
        problems = []
        if data.kind not in KINDS:
            problems.append(FieldProblem("kind", f"类别应为{'、'.join(KINDS)}之一"))
        if not squeeze_spaces(data.title or ""):
            problems.append(FieldProblem("title", "请填写事项名称"))
        if data.deadline is None:
            problems.append(FieldProblem("deadline", "请填写整改期限"))
        for problem in data.problems:  # a problem without its own deadline has the item's
            problem.deadline = problem.deadline or data.deadline
        problems += self._check_problems(data.problems) if data.deadline else []
        if problems:
            raise ValidationFailed(problems)
        today = as_of or dt.date.today()
        with self.db.unit_of_work(self.actor) as s:
            get_or_missing(s, m.Village, data.village_id, "村/社区不存在（可能已被删除）")
            last = s.scalar(select(func.max(f.FollowUpItem.ref_id)).where(
                f.FollowUpItem.rule_id == MANUAL, f.FollowUpItem.village_id == data.village_id,
                f.FollowUpItem.year == data.year)) or 0
            item = f.FollowUpItem(village_id=data.village_id, year=data.year, period_no=0, rule_id=MANUAL,
                                  kind=data.kind, ref_id=last + 1, subject=self._village_name(s, data.village_id),
                                  title=squeeze_spaces(data.title)[:200], content=(data.content or "")[:4000],
                                  source="手工登记", proposed_on=today, accepted_on=today, deadline=data.deadline,
                                  status=IN_PROGRESS)
            s.add(item)
            s.flush()
            s.add_all(f.FollowUpProblem(item_id=item.id, seq=n, content=squeeze_spaces(p.content)[:400],
                                        deadline=p.deadline or data.deadline, status=PROBLEM_OPEN)
                      for n, p in enumerate(data.problems, start=1))
            self._event(s, item.id, None, IN_PROGRESS, "手工登记")
            return item.id

    # ----- reading -------------------------------------------------------------------------------------
    def items(self, *, village_id: int | None = None, kind: str | None = None, status: str | None = None,
              year: int | None = None, overdue: bool | None = None, as_of: dt.date | None = None) -> list[ItemRow]:
        """The list, filtered; a clerk sees their own village only. ``overdue`` compares with ``as_of`` (today)."""
        if village_id is not None:
            permissions.require_read(self.actor, village_id, WHAT)
        visible = permissions.visible_village(self.actor)
        today = as_of or dt.date.today()
        with self.db.reader() as s:
            query = (select(f.FollowUpItem, m.Village.name).join(m.Village, m.Village.id == f.FollowUpItem.village_id)
                     .order_by(f.FollowUpItem.year.desc(), m.Village.code, f.FollowUpItem.kind, f.FollowUpItem.id))
            for column, value in ((f.FollowUpItem.village_id, village_id), (f.FollowUpItem.village_id, visible),
                                  (f.FollowUpItem.kind, kind), (f.FollowUpItem.status, status),
                                  (f.FollowUpItem.year, year)):
                if value is not None:
                    query = query.where(column == value)
            found = s.execute(query).all()
            problems = self._problem_counts(s, [item.id for item, _ in found], today)
            rows = [self._row(item, village, problems.get(item.id, (0, 0, False)), today) for item, village in found]
        return [r for r in rows if overdue is None or r.overdue == overdue]

    @staticmethod
    def _problem_counts(s: Session, ids: list[int], today: dt.date) -> dict[int, tuple[int, int, bool]]:
        """Per item: (open problems, all problems, an open problem is past its deadline)."""
        out: dict[int, tuple[int, int, bool]] = {}
        for start in range(0, len(ids), 900):
            for item_id, status, deadline in s.execute(
                    select(f.FollowUpProblem.item_id, f.FollowUpProblem.status, f.FollowUpProblem.deadline)
                    .where(f.FollowUpProblem.item_id.in_(ids[start:start + 900]))):
                opened, total, late = out.get(item_id, (0, 0, False))
                is_open = status != PROBLEM_DONE
                out[item_id] = (opened + is_open, total + 1,
                                late or (is_open and deadline is not None and deadline < today))
        return out

    @staticmethod
    def _row(item: f.FollowUpItem, village: str, problems: tuple[int, int, bool], today: dt.date) -> ItemRow:
        opened, total, late = problems
        overdue = item.status in OPEN_STATUSES and (
            (item.deadline is not None and item.deadline < today) or late)
        return ItemRow(item.id, item.village_id, village, item.year, item.kind, item.subject, item.title,
                       item.source or "", item.deadline, item.status, overdue, opened, total, item.closed_on)

    def overdue(self, as_of: dt.date | None = None, village_id: int | None = None) -> list[ItemRow]:
        """Open items past their deadline (or with an open problem past its own), as of a day."""
        return self.items(overdue=True, as_of=as_of, village_id=village_id)

    def overdue_count(self, as_of: dt.date | None = None, village_id: int | None = None) -> int:
        """What the home page shows (a clerk: their own village's)."""
        return len(self.overdue(as_of, village_id))

    def item(self, item_id: int, as_of: dt.date | None = None) -> ItemDetail:
        today = as_of or dt.date.today()
        with self.db.reader() as s:
            item = self._item(s, item_id)
            permissions.require_read(self.actor, item.village_id, WHAT)
            village = self._village_name(s, item.village_id)
            problems = [ProblemData(p.content, p.deadline, p.status, p.closed_on, p.note, p.id) for p in s.scalars(
                select(f.FollowUpProblem).where(f.FollowUpProblem.item_id == item_id).order_by(f.FollowUpProblem.seq))]
            history = [EventRow(x.at, x.username, x.from_status, x.to_status, x.note or "") for x in s.scalars(
                select(f.FollowUpEvent).where(f.FollowUpEvent.item_id == item_id).order_by(f.FollowUpEvent.id))]
            counts = self._problem_counts(s, [item_id], today).get(item_id, (0, 0, False))
            return ItemDetail(self._row(item, village, counts, today), item.content or "", item.round_id,
                              item.level or "", item.proposed_on, item.accepted_on, item.progress_note or "",
                              item.result_note or "", item.rectification_id, problems, history)

    # ----- the workflow --------------------------------------------------------------------------------
    def accept(self, item_id: int, *, deadline: dt.date | None = None, note: str = "",
               on: dt.date | None = None) -> None:
        """拟办 → 整改中; a 整顿 item opens (or finds) the village's 软弱涣散 case in the archive."""
        permissions.require_township(self.actor, "采纳整改跟踪事项")
        today = on or dt.date.today()
        with self.db.reader() as s:
            item = self._item(s, item_id)
            self._expect(item, PROPOSED, "采纳")
            kind, village_id = item.kind, item.village_id
            rule = next((r for r in self.rules if r.id == item.rule_id), None)
            year, level, source, title = item.year, item.level or "", item.source or "", item.title
            round_id = item.round_id
            final_deadline = deadline or item.deadline
        case_id = None
        case_note = ""
        if kind == KIND_RECTIFY:
            clauses = self._clauses(rule, round_id, village_id)
            case_id, case_note = self._open_case(village_id, year, level, source, title, final_deadline, rule,
                                                 clauses)
        with self.db.unit_of_work(self.actor) as s:
            item = self._item(s, item_id)
            self._expect(item, PROPOSED, "采纳")
            item.status, item.accepted_on, item.deadline = IN_PROGRESS, today, final_deadline
            item.rectification_id = case_id or item.rectification_id
            text = "；".join(t for t in (squeeze_spaces(note or ""), case_note) if t)
            self._event(s, item_id, PROPOSED, IN_PROGRESS, text or "采纳")

    def _clauses(self, rule: FollowUpRule | None, round_id: int | None, village_id: int) -> list[str]:
        """The 软弱涣散 clauses matching why the village was rated low (the negative items of its result)."""
        if rule is None:
            return ["3"]
        negatives: list[str] = []
        if round_id is not None:
            try:
                negatives = [code for row in self._evaluations().sheet(round_id, village_id=village_id)
                             for code in row.negatives]
            except DomainError:  # the round is gone: the rule's own clause
                negatives = []
        return rule.clauses_for(negatives) or ["3"]

    def _open_case(self, village_id: int, year: int, level: str, source: str, title: str,
                   deadline: dt.date | None, rule: FollowUpRule | None, clauses: list[str]) -> tuple[int, str]:
        from townapp.archives.dto import RectificationData
        from townapp.archives.service import ArchiveService

        archives = ArchiveService(self.db, self.actor)
        case_year = year + (rule.archive_year_offset if rule else 0)
        found = next((c for c in archives.rectifications(village_id) if c.year == case_year), None)
        if found is not None and found.id is not None:
            return found.id, f"一村一档已有{case_year}年软弱涣散认定记录，已关联"
        until = f"，整改期限至{deadline:%Y年%m月%d日}" if deadline else ""
        measures = f"来源：{year}年评星定级 {level}（{source}）。{title}{until}。"
        case_id = archives.save_rectification(village_id, RectificationData(case_year, clauses, measures=measures))
        return case_id, f"已在一村一档建立{case_year}年软弱涣散认定记录"

    def reject(self, item_id: int, reason: str, on: dt.date | None = None) -> None:
        """拟办 → 不予采纳, with the reason (audited)."""
        permissions.require_township(self.actor, "不予采纳整改跟踪事项")
        reason = squeeze_spaces(reason or "")
        if len(reason) < MIN_REASON:
            raise ValidationFailed([FieldProblem("reason", f"不予采纳必须填写理由（至少{MIN_REASON}个字）")])
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            item = self._item(s, item_id)
            self._expect(item, PROPOSED, "不予采纳")
            item.status, item.closed_on, item.result_note = REJECTED, on or dt.date.today(), reason[:400]
            self._event(s, item_id, PROPOSED, REJECTED, reason)

    def update_progress(self, item_id: int, note: str, problems: Sequence[ProblemData] = (),
                        on: dt.date | None = None) -> None:
        """整改进展: a note, and problems marked 已销号 (or reopened); a clerk may do it for their own village."""
        today = on or dt.date.today()
        note = squeeze_spaces(note or "")
        with self.db.unit_of_work(self.actor) as s:
            item = self._item(s, item_id)
            permissions.require_write(self.actor, item.village_id, WHAT)
            self._expect(item, IN_PROGRESS, "填报整改进展")
            if not note and not problems:
                raise ValidationFailed([FieldProblem("note", "请填写整改进展")])
            rows = {p.id: p for p in s.scalars(select(f.FollowUpProblem)
                                               .where(f.FollowUpProblem.item_id == item_id))}
            closed = []
            for data in problems:
                row = rows.get(data.id)
                if row is None:
                    raise DomainError("问题清单已变更，请刷新后重试")
                done = data.status == PROBLEM_DONE
                if done and row.status != PROBLEM_DONE:
                    closed.append(row.content[:30])
                row.status = PROBLEM_DONE if done else PROBLEM_OPEN
                row.closed_on = (data.closed_on or today) if done else None
                row.note = squeeze_spaces(data.note or "")[:400] or None
            if note:
                item.progress_note = note[:400]
            text = "；".join(t for t in (note, f"销号 {len(closed)} 条" if closed else "") if t)
            self._event(s, item_id, IN_PROGRESS, IN_PROGRESS, text)

    def save_problems(self, item_id: int, problems: Sequence[ProblemData]) -> None:
        """Edit a 问题清单 (content and each problem's deadline): the township sets what is to be fixed by when."""
        permissions.require_township(self.actor, "修改问题清单")
        found = self._check_problems(problems)
        if found:
            raise ValidationFailed(found)
        with self.db.unit_of_work(self.actor) as s:
            item = self._item(s, item_id)
            if item.status not in OPEN_STATUSES:
                raise DomainError(f"事项已{item.status}，问题清单不能再修改")
            rows = {p.id: p for p in s.scalars(select(f.FollowUpProblem)
                                               .where(f.FollowUpProblem.item_id == item_id))}
            kept = {p.id for p in problems if p.id is not None}
            for pid, row in rows.items():
                if pid not in kept:
                    s.delete(row)
            for seq, data in enumerate(problems, start=1):
                row = rows.get(data.id) if data.id is not None else None
                if row is None:
                    row = f.FollowUpProblem(item_id=item_id, status=PROBLEM_OPEN)
                    s.add(row)
                row.seq, row.content, row.deadline = seq, squeeze_spaces(data.content)[:400], data.deadline
            self._event(s, item_id, item.status, item.status, f"修改问题清单（共 {len(problems)} 条）")

    @staticmethod
    def _check_problems(problems: Sequence[ProblemData]) -> list[FieldProblem]:
        out = []
        for n, p in enumerate(problems, start=1):
            if not squeeze_spaces(p.content or ""):
                out.append(FieldProblem("problems", f"第{n}条问题：内容不能为空"))
            if p.deadline is None:
                out.append(FieldProblem("problems", f"第{n}条问题：请填写整改期限"))
        return out

    def close(self, item_id: int, result: str, on: dt.date | None = None) -> None:
        """整改中 → 已完成 (the township checks the result); every problem of the list must be 已销号 first."""
        permissions.require_township(self.actor, "整改事项验收销号")
        result = squeeze_spaces(result or "")
        if not result:
            raise ValidationFailed([FieldProblem("result", "请填写整改结果")])
        with self.db.unit_of_work(self.actor) as s:
            item = self._item(s, item_id)
            self._expect(item, IN_PROGRESS, "办结")
            still = list(s.scalars(select(f.FollowUpProblem.content).where(
                f.FollowUpProblem.item_id == item_id, f.FollowUpProblem.status != PROBLEM_DONE)
                .order_by(f.FollowUpProblem.seq)))
            if still:
                raise DomainError(f"还有 {len(still)} 条问题未销号（{'；'.join(c[:20] for c in still[:3])}"
                                  f"{'等' if len(still) > 3 else ''}），请逐条销号后再办结")
            item.status, item.closed_on, item.result_note = DONE, on or dt.date.today(), result[:400]
            self._event(s, item_id, IN_PROGRESS, DONE, result)

    # ----- 头雁 建议调整名单 ----------------------------------------------------------------------------
    def adjust_rounds(self) -> list[RoundChoice]:
        """The rounds of schemes with a flag rule (头雁指数), newest first, with how many are flagged."""
        evaluations = self._evaluations()
        flagged = {r.scheme: r.flag for r in self.rules if r.flag}
        return [RoundChoice(r.id, r.name, r.locked, len(evaluations.flagged(r.id, flagged[r.scheme_key])))
                for r in evaluations.rounds() if r.scheme_key in flagged]

    def adjust_list(self, round_id: int) -> list[AdjustRow]:
        """The round's 建议调整名单 with each secretary's follow-up state; a clerk sees their village's only."""
        evaluations = self._evaluations()
        rnd = evaluations.round(round_id)
        rule = next((r for r in self.rules if r.flag and r.scheme == rnd.scheme.key), None)
        if rule is None:
            raise DomainError(f"“{rnd.scheme.name}”没有建议调整名单")
        with self.db.reader() as s:
            states = dict(s.execute(select(f.FollowUpItem.village_id, f.FollowUpItem.status).where(
                f.FollowUpItem.rule_id == rule.id, f.FollowUpItem.year == rnd.year,
                f.FollowUpItem.period_no == rnd.period_no)).all())
        return [AdjustRow(r.target_id, r.village_id, r.village, r.label, r.level, r.measure, r.reasons,
                          states.get(r.village_id, "未转整改跟踪"))
                for r in evaluations.flagged(round_id, rule.flag or "")]

    # ----- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _item(s: Session, item_id: int) -> f.FollowUpItem:
        return get_or_missing(s, f.FollowUpItem, item_id, "整改跟踪事项不存在（可能已被删除）")

    @staticmethod
    def _village_name(s: Session, village_id: int) -> str:
        return s.scalar(select(m.Village.name).where(m.Village.id == village_id)) or ""

    @staticmethod
    def _expect(item: f.FollowUpItem, status: str, action: str) -> None:
        if item.status != status:
            raise DomainError(f"事项当前为“{item.status}”，只有“{status}”的事项可以{action}")

    def _event(self, s: Session, item_id: int, before: str | None, after: str, note: str) -> None:
        s.add(f.FollowUpEvent(item_id=item_id, username=self.actor.username, from_status=before, to_status=after,
                              note=note[:400] or None))


__all__ = ["FollowUpService", "KIND_ADJUST", "KIND_LIST", "KIND_RECTIFY", "STATUSES"]
