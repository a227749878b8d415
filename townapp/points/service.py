"""Party-member points use cases. Each public method is one unit of work and returns DTOs.

Workflow of a record: 待村审 → (待乡镇审 where the rule asks) → 待公示 → 公示中
→ 生效; or 驳回 with a reason at any step before 生效, after which it can be
corrected and resubmitted. An effective record is never edited or deleted: a
reversing record (冲正) cancels it, and totals are computed as if neither existed.

The redeemable balance is separate from the annual score: when records
become effective (or are reversed) the member's capped add-points in the
earning categories are recomputed and the difference is credited (or taken
back). Redemptions take stock and balance with conditional UPDATEs inside the
transaction, so two redemptions of the last item cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Select, func, select, update
from sqlalchemy.orm import Session

from townapp.archives import validation as archive_rules
from townapp.archives.models import ArchiveMeeting
from townapp.archives.service import ArchiveService, register_member_ids
from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.collector import collector_paused
from townapp.core.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from townapp.core.idcard import mask_id_number
from townapp.db import Database
from townapp.db.base import utcnow
from townapp.db.batch import ModuleBatch
from townapp.db.fast import fetch_rows
from townapp.points import models as p
from townapp.points import validation as rules_check
from townapp.points.dto import (
    EntryInput,
    EventRow,
    GroupSummary,
    LedgerRow,
    MeetingProposal,
    MemberCard,
    MemberChoice,
    MemberTotals,
    Proposal,
    PublicityDTO,
    RecordInput,
    RecordRow,
    RedemptionDTO,
    RuleRow,
    RuleSetInfo,
    StoreItemDTO,
    StoreItemInput,
    TotalRow,
)
from townapp.points.rules import (
    Occurrence,
    Rule,
    RuleSet,
    Tally,
    balance_credit,
    default_rule_set,
    default_rule_text,
    format_points,
    from_canonical,
    parse_text,
    settings,
    tally,
)
from townapp.points.validation import excluded_category
from townapp.registry import models as m
from townapp.registry.service import search_condition

EFFECTIVE = "生效"
REJECTED = "驳回"
WAITING_VILLAGE = "待村审"
WAITING_TOWNSHIP = "待乡镇审"
WAITING_PUBLICITY = "待公示"
IN_PUBLICITY = "公示中"
QUEUES = {"村审": WAITING_VILLAGE, "乡镇审": WAITING_TOWNSHIP, "公示": WAITING_PUBLICITY}
ENTERED = "录入"  # the first event of every record
DEFAULT_SOURCE = "resources/points/default_rules.json"
DEFAULT_NOTE = "首次使用时由默认规则生成"
PENDING_GRADE = "年度未结束"  # a part-year total is not graded against the full-year cut-offs (see close_year)


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def full_year(year: int, as_of: dt.date | None) -> bool:
    """Whether totals "as of" a day cover the whole year: grades are annual, a part-year total has none.
    A day still to come counts as today (a Q4 return made in December is not a whole year yet)."""
    today = dt.date.today()
    return min(as_of or today, today) >= year_end(year)


def counted_until(year: int, as_of: dt.date | None) -> dt.date | None:
    """Records counted "as of" a day: a whole year counts every effective record of it, even one whose
    公示 ended in January (Q4's records take effect after the year); part of a year, those effective then
    (None: no limit)."""
    return None if as_of is None or full_year(year, as_of) else as_of


# ----- a stored rule set and a new record, as the service and its batch door both write them -----------------
def rule_set_values(year: int, version: int, rules: RuleSet, source: str, note: str) -> dict[str, Any]:
    return dict(year=year, version=version, name=rules.name, definition=rules.canonical, digest=rules.digest,
                source=source, note=note)


def rule_values(rule_set_id: int, rules: RuleSet) -> list[dict[str, Any]]:
    """The queryable copy of a rule set's rules."""
    return [dict(rule_set_id=rule_set_id, code=r.code, name=r.name, category=r.category, direction=r.direction,
                 min_tenths=r.min_points, max_tenths=r.max_points, review=r.review, evidence=r.evidence)
            for r in rules.rules]


def record_values(rules: RuleSet, rule: Rule, rule_set_id: int, rule_id: int | None, member_id: int,
                  village_id: int | None, occurred_on: dt.date, signed: int, note: str | None, evidence: str | None,
                  meeting_id: int | None, entered_by: str) -> dict[str, Any]:
    """A new 待村审 record with its rule snapshot (``signed``: tenths, negative for a deduction)."""
    category = rules.category(rule.category)
    return dict(party_member_id=member_id, village_id=village_id, year=occurred_on.year, occurred_on=occurred_on,
                rule_set_id=rule_set_id, rule_id=rule_id, rule_code=rule.code, rule_name=rule.name,
                category=rule.category, category_name=category.name if category else "", direction=rule.direction,
                rule_points=rule.points_text, review_level=rule.review, points_tenths=signed,
                note=(note or "").strip() or None, evidence=(evidence or "").strip() or None, meeting_id=meeting_id,
                status=WAITING_VILLAGE, entered_by=entered_by, resubmissions=0)




def year_records_query(year: int, as_of: dt.date | None = None, village_id: int | None = None) -> Select:
    """The year's effective records as the caps engine reads them (ix_point_record_year_effective covers it)."""
    query = select(p.PointRecord.id, p.PointRecord.party_member_id, p.PointRecord.rule_code,
                   p.PointRecord.category, p.PointRecord.occurred_on, p.PointRecord.points_tenths,
                   p.PointRecord.reverses_id).where(p.PointRecord.year == year, p.PointRecord.status == EFFECTIVE)
    if as_of is not None:
        query = query.where(p.PointRecord.effective_on <= as_of)
    if village_id is not None:
        query = query.where(p.PointRecord.village_id == village_id)
    return query


class PointsService:
    """党员积分: rule sets, entry, review, 公示, totals and grades, balances and the 积分超市."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR) -> None:
        self.db = db
        self.actor = actor

    # ----- permissions ----------------------------------------------------------------
    def _visible(self) -> int | None:
        return permissions.visible_village(self.actor)

    def _require_write(self, village_id: int | None) -> None:
        permissions.require_write(self.actor, village_id, "党员积分")

    # ----- rule sets --------------------------------------------------------------------
    def _current_row(self, s: Session, year: int) -> p.PointRuleSet | None:
        return s.scalar(select(p.PointRuleSet).where(p.PointRuleSet.year == year)
                        .order_by(p.PointRuleSet.version.desc()).limit(1))

    def _rule_set(self, s: Session, year: int, *, create: bool) -> tuple[p.PointRuleSet | None, RuleSet]:
        """The year's current version. A year without one starts from the township's latest earlier rules
        (their edits carry on), or from the shipped default if there are none; stored as version 1 the first
        time it is used."""
        row = self._current_row(s, year)
        if row is not None:
            return row, from_canonical(row.definition)
        earlier = s.scalar(select(p.PointRuleSet).where(p.PointRuleSet.year < year)
                           .order_by(p.PointRuleSet.year.desc(), p.PointRuleSet.version.desc()).limit(1))
        rules = default_rule_set() if earlier is None else from_canonical(earlier.definition)
        if not create:
            return None, rules
        if earlier is None:
            return self._store(s, year, 1, rules, DEFAULT_SOURCE, DEFAULT_NOTE), rules
        return self._store(s, year, 1, rules, f"沿用{earlier.year}年度规则（第{earlier.version}版）",
                           f"由{earlier.year}年度规则延续"), rules

    def _store(self, s: Session, year: int, version: int, rules: RuleSet, source: str, note: str) -> p.PointRuleSet:
        row = p.PointRuleSet(**rule_set_values(year, version, rules, source, note))
        s.add(row)
        s.flush()
        s.add_all(p.PointRule(**values) for values in rule_values(row.id, rules))
        s.flush()
        return row

    def rule_set(self, year: int) -> tuple[RuleSetInfo, RuleSet]:
        with self.db.reader() as s:
            row, rules = self._rule_set(s, year, create=False)
            return self._info(row, year, rules), rules

    def _info(self, row: p.PointRuleSet | None, year: int, rules: RuleSet) -> RuleSetInfo:
        if row is None:
            with self.db.reader() as s:
                earlier = s.scalar(select(p.PointRuleSet.year).where(p.PointRuleSet.year < year)
                                   .order_by(p.PointRuleSet.year.desc()).limit(1))
            origin = "默认规则" if earlier is None else f"沿用{earlier}年度规则"
            return RuleSetInfo(None, year, 0, rules.name, rules.digest, f"{origin}（尚未用于本年度）", None)
        return RuleSetInfo(row.id, row.year, row.version, row.name, row.digest, row.source, row.created_at)

    def rule_sets(self) -> list[RuleSetInfo]:
        with self.db.reader() as s:
            rows = s.scalars(select(p.PointRuleSet).order_by(p.PointRuleSet.year.desc(), p.PointRuleSet.version.desc()))
            return [self._info(r, r.year, from_canonical(r.definition)) for r in rows]

    def rule_set_text(self, year: int) -> str:
        """The year's current rules as editable JSON (the shipped file when none is stored yet)."""
        with self.db.reader() as s:
            row = self._current_row(s, year)
            if row is None:
                return default_rule_text()
            return json.dumps(json.loads(row.definition), ensure_ascii=False, indent=2)

    def save_rule_set(self, year: int, text: str, source: str = "界面编辑") -> RuleSetInfo:
        """A new version for ``year`` (unchanged text keeps the current one); records keep their version."""
        permissions.require_township(self.actor, "修改积分规则")
        rules = parse_text(text, source)
        with self.db.unit_of_work(self.actor) as s:
            self._require_open_year(s, year)
            row = self._current_row(s, year)
            if row is not None and row.digest == rules.digest:
                return self._info(row, year, rules)
            version = (row.version + 1) if row is not None else 1
            stored = self._store(s, year, version, rules, source, f"第{version}版")
            return self._info(stored, year, rules)

    def current_rule_sets(self) -> list[tuple[int, int, str, str]]:
        """(year, version, digest, canonical definition) of each year's current rules: what a township sends
        its village installs. Rules hold no one's data."""
        with self.db.reader() as s:
            rows = {}
            for row in s.scalars(select(p.PointRuleSet).order_by(p.PointRuleSet.year, p.PointRuleSet.version)):
                rows[row.year] = (row.year, row.version, row.digest, row.definition)
            return list(rows.values())

    def receive_rule_set(self, s: Session, year: int, definition: str, source: str, *, write: bool) -> str:
        """Village install: the township's rules for ``year`` as it decided them ("unchanged" | "created").

        A new version when they differ from the village's current ones (records keep theirs); only a
        village install receives rules this way — a township decides its own."""
        if self.db.meta("village_code") is None:
            raise DomainError("只有村级安装接收乡镇下发的积分规则；乡镇的积分规则在“积分规则”中修改")
        rules = from_canonical(definition)
        row = self._current_row(s, year)
        if row is not None and row.digest == rules.digest:
            return "unchanged"
        if write:
            version = (row.version + 1) if row is not None else 1
            self._store(s, year, version, rules, source[:200], f"第{version}版（乡镇下发）")
        return "created"

    def rules(self, year: int) -> list[RuleRow]:
        _info, rules = self.rule_set(year)
        return rule_rows(rules)

    # ----- members ------------------------------------------------------------------------
    def _member_query(self):  # noqa: ANN202
        branch = m.PartyBranch
        return (select(m.PartyMember.id, m.Person.id, m.Person.name, m.Person.village_id, m.Village.name,
                       m.PartyMember.points_category, m.Person.id_number, branch.name)
                .join(m.Person, m.Person.id == m.PartyMember.person_id)
                .outerjoin(m.Village, m.Village.id == m.Person.village_id)
                .outerjoin(branch, branch.id == m.PartyMember.branch_id)
                .where(m.PartyMember.status == "正常"))

    @staticmethod
    def _choice(r: Sequence) -> MemberChoice:
        return MemberChoice(r[0], r[1], r[2], r[3], r[4] or "", r[5] or "", mask_id_number(r[6]), r[7] or "")

    def members(self, village_id: int | None = None, text: str = "", *, include_exempt: bool = False,
                limit: int | None = None) -> list[MemberChoice]:
        """Party members in good standing (党籍正常) a user may see, found by name, initials or ID tail."""
        visible = self._visible()
        if visible is not None and village_id not in (None, visible):
            return []
        query = self._member_query()
        village = village_id or visible
        if village is not None:
            query = query.where(m.Person.village_id == village)
        if not include_exempt:
            query = query.where(m.PartyMember.points_category != excluded_category())
        condition = search_condition(text, m.Person.name, m.Person.name_initials, m.Person.id_number_rev)
        if condition is not None:
            query = query.where(condition)
        query = query.order_by(m.Village.code, m.Person.name_initials, m.Person.name, m.PartyMember.id)
        if limit:
            query = query.limit(limit)
        with self.db.reader() as s:
            return [self._choice(r) for r in fetch_rows(s.connection(), query)]  # a county: 30,000 members

    def member(self, party_member_id: int) -> MemberChoice:
        with self.db.reader() as s:
            row = s.execute(self._member_query().where(m.PartyMember.id == party_member_id)).first()
            if row is None:
                raise NotFound("这名党员不存在、已删除或党籍状态不是“正常”")
            permissions.require_read(self.actor, row[3], "党员积分")
            return self._choice(row)

    def find_member(self, text: str) -> MemberChoice | None:
        """Scanning an ID card (the scanner types the 18 digits) or typing a unique name finds one member."""
        found = self.members(text=text.strip(), include_exempt=True, limit=2)
        return found[0] if len(found) == 1 else None

    # ----- entry ---------------------------------------------------------------------------
    def _members_for(self, s: Session, ids: Iterable[int]) -> dict[int, tuple]:
        ids = list(dict.fromkeys(ids))
        out: dict[int, tuple] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            for r in s.execute(select(m.PartyMember.id, m.Person.name, m.Person.village_id, m.PartyMember.points_category,
                                      m.PartyMember.status)
                               .join(m.Person, m.Person.id == m.PartyMember.person_id)
                               .where(m.PartyMember.id.in_(part))):
                out[r[0]] = tuple(r)
        return out

    def _check_member(self, rule: Rule, member: tuple | None, member_id: int) -> list[FieldProblem]:
        if member is None:
            return [FieldProblem("member_ids", f"党员（编号 {member_id}）不存在或已删除")]
        _id, name, village_id, category, status = member
        return (rules_check.check_member(rule, name, category, status)
                or rules_check.check_member_scope(name, village_id, self.actor))

    def check_entry(self, data: EntryInput) -> list[FieldProblem]:
        """Every problem of a bulk entry, for the form to show before saving."""
        permissions.require_writer(self.actor)
        with self.db.reader() as s:
            return self._check_entry(s, data)[1]

    def _check_entry(self, s: Session, data: EntryInput) -> tuple[int | None, list[FieldProblem]]:
        year = data.occurred_on.year if data.occurred_on else dt.date.today().year
        _row, rules = self._rule_set(s, year, create=False)
        rule = rules.rule((data.rule_code or "").strip().upper())
        tenths, problems = rules_check.check_occurrence(rule, data.rule_code, data.occurred_on, data.evidence,
                                                        data.points)
        if not data.member_ids:
            problems.append(FieldProblem("member_ids", "请至少选择一名党员"))
        if rule is not None:
            members = self._members_for(s, data.member_ids)
            for member_id in data.member_ids:
                problems.extend(self._check_member(rule, members.get(member_id), member_id))
            if data.meeting_id is not None:
                problems.extend(self._meeting_problems(s, data.meeting_id, data.member_ids, members))
                done = self._meeting_done(s, data.meeting_id)
                for member_id in data.member_ids:
                    if (member_id, rule.code) in done:
                        name = members.get(member_id, (0, str(member_id)))[1]
                        problems.append(FieldProblem("member_ids", f"{name} 已有这次会议的“{rule.name}”记录"))
        if data.member_ids and len(set(data.member_ids)) != len(data.member_ids):
            problems.append(FieldProblem("member_ids", "同一名党员选了两次"))
        return tenths, problems

    def add_records(self, data: EntryInput) -> list[int]:
        """One rule for many members in one step; all records wait for 村审. All or nothing."""
        with self.db.unit_of_work(self.actor) as s:
            tenths, problems = self._check_entry(s, data)
            errors = [x for x in problems if x.severity == "error"]
            if errors:
                raise ValidationFailed(errors)
            assert tenths is not None and data.occurred_on is not None
            members = self._members_for(s, data.member_ids)
            for member_id in data.member_ids:
                self._require_write(members[member_id][2])
            self._require_open_year(s, data.occurred_on.year)
            row, rules = self._rule_set(s, data.occurred_on.year, create=True)
            assert row is not None
            rule = rules.rule(data.rule_code.strip().upper())
            assert rule is not None
            ids = []
            for member_id in data.member_ids:
                village_id = members[member_id][2]
                record = self._new_record(s, row, rules, rule, member_id, village_id, data.occurred_on,
                                          rule.sign * tenths, data.note, data.evidence, data.meeting_id)
                ids.append(record.id)
            return ids

    def _new_record(self, s: Session, row: p.PointRuleSet, rules: RuleSet, rule: Rule, member_id: int,
                    village_id: int | None, occurred_on: dt.date, signed: int, note: str | None,
                    evidence: str | None, meeting_id: int | None) -> p.PointRecord:
        rule_id = s.scalar(select(p.PointRule.id).where(p.PointRule.rule_set_id == row.id,
                                                        p.PointRule.code == rule.code))
        record = p.PointRecord(**record_values(rules, rule, row.id, rule_id, member_id, village_id, occurred_on,
                                               signed, note, evidence, meeting_id, self.actor.username))
        s.add(record)
        s.flush()
        self._event(s, record.id, ENTERED, f"{rule.code} {rule.name} {format_points(signed, signed=True)}分")
        return record

    def _event(self, s: Session, record_id: int, action: str, detail: str | None = None) -> None:
        s.add(p.PointEvent(record_id=record_id, username=self.actor.username, action=action, detail=detail))

    # ----- from a meeting in the archives' ledger ------------------------------------------
    def _meeting_problems(self, s: Session, meeting_id: int, member_ids: Iterable[int],
                          members: Mapping[int, tuple]) -> list[FieldProblem]:
        """A meeting's points go only to party members in its own village's register, whoever enters them:
        the archives' attendance rule (``check_attendee``), so no other village's member earns them."""
        village_id = s.scalar(select(ArchiveMeeting.village_id).where(ArchiveMeeting.id == meeting_id))
        if village_id is None:
            return [FieldProblem("meeting_id", "这次会议记录不存在或已删除")]
        register = register_member_ids(s, village_id)
        return [FieldProblem("member_ids", x.message) for member_id in member_ids
                for x in archive_rules.check_attendee(member_id, (members.get(member_id) or (0, None))[1], register)]

    def _require_meeting_members(self, meeting_id: int, member_ids: Sequence[int]) -> None:
        """Refuse, before anything is written, members a 村录入员 may not enter (another village's: refused
        as not permitted) and members not in the meeting village's register (for every role)."""
        with self.db.reader() as s:
            members = self._members_for(s, member_ids)
            for member in members.values():
                self._require_write(member[2])
            problems = self._meeting_problems(s, meeting_id, member_ids, members)
        if problems:
            raise ValidationFailed(problems)

    def _meeting_done(self, s: Session, meeting_id: int) -> set[tuple[int, str]]:
        """(member, rule) pairs a meeting already gave: rejected and reversed records do not count."""
        rows = s.execute(select(p.PointRecord.id, p.PointRecord.party_member_id, p.PointRecord.rule_code,
                                p.PointRecord.status, p.PointRecord.reverses_id)
                         .where(p.PointRecord.meeting_id == meeting_id)).all()
        cancelled = {r[4] for r in rows if r[4] is not None}
        return {(r[1], r[2]) for r in rows if r[3] != REJECTED and r[4] is None and r[0] not in cancelled}

    def meeting_proposals(self, village_id: int, meeting_id: int) -> MeetingProposal:
        """Attendees (出席) and absentees without leave (缺席) of a meeting, and the record each would get."""
        permissions.require_read(self.actor, village_id, "会议记录")
        meeting = next((x for x in ArchiveService(self.db, self.actor).meetings(village_id) if x.id == meeting_id), None)
        if meeting is None:
            raise NotFound("这次会议记录不存在或已删除")
        with self.db.reader() as s:
            _row, rules = self._rule_set(s, meeting.held_on.year, create=False)
            members = self._members_for(s, [a.party_member_id for a in meeting.attendance])
            done = self._meeting_done(s, meeting_id)
        proposals = []
        for item in meeting.attendance:
            member = members.get(item.party_member_id)
            name = item.name or (member[1] if member else str(item.party_member_id))
            category = member[3] if member else ""
            rule = rules.meeting_rule(meeting.kind, item.status, category) if item.status in ("出席", "缺席") else None
            reason = ""
            if member is None or member[4] != "正常":
                reason = "党籍状态不是正常"
            elif member[2] != village_id:
                reason = "不是本村在册党员"
            elif category == excluded_category():
                reason = "免考党员不参加积分"
            elif item.status == "请假":
                reason = f"请假（{item.reason or '已请假'}），不计分"
            elif rule is None:
                reason = f"规则中没有“{meeting.kind}”{item.status}的计分项"
            elif (item.party_member_id, rule.code) in done:
                reason = "已录入过"
            elif not rule.valid_on(meeting.held_on):
                reason = "规则在会议日期不适用"
            points = rule.sign * rule.max_points if rule is not None and not reason else 0
            proposals.append(Proposal(item.party_member_id, name, item.status, rule.code if rule else None,
                                      rule.name if rule else "", points, reason))
        return MeetingProposal(meeting_id, village_id, meeting.held_on, meeting.kind, meeting.topic, proposals)

    def add_from_meeting(self, village_id: int, meeting_id: int, member_ids: Iterable[int] | None = None) -> list[int]:
        """The proposed records of a meeting (or the chosen members' among them) in one step."""
        self._require_write(village_id)
        proposal = self.meeting_proposals(village_id, meeting_id)
        wanted = list(dict.fromkeys(member_ids)) if member_ids is not None else None
        chosen = [x for x in proposal.proposed if wanted is None or x.party_member_id in wanted]
        self._require_meeting_members(meeting_id, wanted if wanted is not None else
                                      [x.party_member_id for x in chosen])
        if not chosen:
            raise DomainError("这次会议没有可生成的积分记录（可能都已录入，或出席者均为免考/请假）")
        by_rule: dict[str, list[int]] = defaultdict(list)
        for item in chosen:
            assert item.rule_code is not None
            by_rule[item.rule_code].append(item.party_member_id)
        note = f"{proposal.kind}：{proposal.topic}"
        with self.db.unit_of_work(self.actor) as s:
            row, rules = self._rule_set(s, proposal.held_on.year, create=True)
            assert row is not None
            members = self._members_for(s, [x.party_member_id for x in chosen])
            ids = []
            for code, member_list in by_rule.items():
                rule = rules.rule(code)
                assert rule is not None
                for member_id in member_list:
                    ids.append(self._new_record(s, row, rules, rule, member_id, members[member_id][2],
                                                proposal.held_on, rule.sign * rule.max_points, note,
                                                None, meeting_id).id)
            return ids

    # ----- review -----------------------------------------------------------------------------
    def queue(self, stage: str, village_id: int | None = None, year: int | None = None) -> list[RecordRow]:
        """Records waiting at 村审, 乡镇审 or 公示 (the review screens)."""
        status = QUEUES.get(stage, stage)
        with self.db.reader() as s:
            return self._rows(s, p.PointRecord.status == status, village_id=village_id, year=year)

    def _records(self, s: Session, ids: Sequence[int]) -> list[p.PointRecord]:
        records = list(s.scalars(select(p.PointRecord).where(p.PointRecord.id.in_(list(ids)))
                                 .order_by(p.PointRecord.id)))
        if len(records) != len(set(ids)):
            raise NotFound("有记录不存在或已删除，请刷新后再试")
        return records

    def approve(self, ids: Sequence[int], on: dt.date | None = None) -> int:
        """村审 or 乡镇审 passes: 村审 → 乡镇审 where the rule asks, otherwise → 待公示."""
        if not ids:
            raise DomainError("请先选择要审核通过的记录")
        on = on or dt.date.today()
        with self.db.unit_of_work(self.actor) as s:
            for record in self._records(s, ids):
                if record.status == WAITING_VILLAGE:
                    self._require_write(record.village_id)
                    record.village_reviewed_by, record.village_reviewed_on = self.actor.username, on
                    record.status = WAITING_TOWNSHIP if record.review_level == "乡镇" else WAITING_PUBLICITY
                    self._event(s, record.id, "村审通过")
                elif record.status == WAITING_TOWNSHIP:
                    permissions.require_township(self.actor, "乡镇审核")
                    record.township_reviewed_by, record.township_reviewed_on = self.actor.username, on
                    record.status = WAITING_PUBLICITY
                    self._event(s, record.id, "乡镇审通过")
                else:
                    raise DomainError(f"{record.rule_name}（编号 {record.id}）当前为“{record.status}”，不在审核环节")
            return len(ids)

    def reject(self, ids: Sequence[int], reason: str) -> int:
        """驳回 needs a reason the entrant will read; the record can then be corrected and resubmitted."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed([FieldProblem("reason", "驳回须填写理由，录入人要据此修改")])
        if not ids:
            raise DomainError("请先选择要驳回的记录")
        with self.db.unit_of_work(self.actor) as s:
            for record in self._records(s, ids):
                if record.status == WAITING_TOWNSHIP:
                    permissions.require_township(self.actor, "乡镇审核")
                elif record.status in (WAITING_VILLAGE, WAITING_PUBLICITY, IN_PUBLICITY):
                    self._require_write(record.village_id)
                else:
                    raise DomainError(f"{record.rule_name}（编号 {record.id}）当前为“{record.status}”，不能驳回"
                                      + ("；已生效的记录请用冲正更正" if record.status == EFFECTIVE else ""))
                self._event(s, record.id, "驳回", f"{record.status}环节驳回：{reason}")
                record.status, record.reject_reason, record.publicity_id = REJECTED, reason, None
            return len(ids)

    def resubmit(self, record_id: int, data: RecordInput) -> None:
        """A rejected record, corrected, goes back to 村审 under the year's current rule version."""
        with self.db.unit_of_work(self.actor) as s:
            record = self._records(s, [record_id])[0]
            self._require_write(record.village_id)
            if record.status != REJECTED:
                raise DomainError(f"只有被驳回的记录才能修改后重新提交，这条记录当前为“{record.status}”")
            self._require_open_year(s, record.year)
            self._require_open_year(s, (data.occurred_on or record.occurred_on).year)
            row, rules = self._rule_set(s, (data.occurred_on or record.occurred_on).year, create=True)
            assert row is not None
            rule = rules.rule(record.rule_code)
            tenths, problems = rules_check.check_occurrence(rule, record.rule_code, data.occurred_on, data.evidence,
                                                            data.points)
            if problems:
                raise ValidationFailed(problems)
            assert rule is not None and tenths is not None and data.occurred_on is not None
            category = rules.category(rule.category)
            record.occurred_on, record.year = data.occurred_on, data.occurred_on.year
            record.points_tenths = rule.sign * tenths
            record.note = (data.note or "").strip() or None
            record.evidence = (data.evidence or "").strip() or None
            record.rule_set_id = row.id
            record.rule_id = s.scalar(select(p.PointRule.id).where(p.PointRule.rule_set_id == row.id,
                                                                   p.PointRule.code == rule.code))
            record.rule_name, record.rule_points, record.review_level = rule.name, rule.points_text, rule.review
            record.category, record.category_name = rule.category, category.name if category else ""
            record.status, record.resubmissions = WAITING_VILLAGE, record.resubmissions + 1
            record.village_reviewed_by = record.village_reviewed_on = None
            record.township_reviewed_by = record.township_reviewed_on = None
            self._event(s, record.id, "重新提交", f"修改后重新提交：{format_points(record.points_tenths, signed=True)}分，"
                                               f"{record.occurred_on:%Y-%m-%d}（原驳回理由：{record.reject_reason}）")

    # ----- 公示 and 生效 ------------------------------------------------------------------------
    def publish(self, village_id: int, starts_on: dt.date, ends_on: dt.date | None = None,
                record_ids: Sequence[int] | None = None) -> PublicityDTO:
        """Post the village's approved records (待公示) for 公示 from ``starts_on`` to ``ends_on``."""
        self._require_write(village_id)
        with self.db.unit_of_work(self.actor) as s:
            query = select(p.PointRecord).where(p.PointRecord.village_id == village_id,
                                                p.PointRecord.status == WAITING_PUBLICITY)
            if record_ids is not None:
                query = query.where(p.PointRecord.id.in_(list(record_ids)))
            records = list(s.scalars(query))
            if not records:
                raise DomainError("没有待公示的记录：记录须先通过村审（和需要的乡镇审）")
            if ends_on is None:
                _row, rules = self._rule_set(s, starts_on.year, create=False)
                ends_on = starts_on + dt.timedelta(days=rules.publicity_days - 1)
            if ends_on < starts_on:
                raise ValidationFailed([FieldProblem("ends_on", "公示结束日期不能早于开始日期")])
            village = s.get(m.Village, village_id)
            title = f"{village.name if village else ''}党员积分公示（{starts_on:%Y年%m月%d日}起）"
            batch = p.PointPublicity(village_id=village_id, title=title, starts_on=starts_on, ends_on=ends_on,
                                     created_by=self.actor.username)
            s.add(batch)
            s.flush()
            for record in records:
                record.status, record.publicity_id = IN_PUBLICITY, batch.id
                self._event(s, record.id, "公示", f"{starts_on:%Y-%m-%d}至{ends_on:%Y-%m-%d}")
            return self._publicity_dto(s, batch)

    def close_publicity(self, publicity_id: int, on: dt.date | None = None) -> int:
        """After the 公示 period its records become effective and earn redeemable balance."""
        on = on or dt.date.today()
        with self.db.unit_of_work(self.actor) as s:
            batch = s.get(p.PointPublicity, publicity_id)
            if batch is None:
                raise NotFound("这批公示不存在")
            self._require_write(batch.village_id)
            if batch.closed_on is not None:
                raise DomainError(f"这批公示已于 {batch.closed_on:%Y-%m-%d} 生效")
            if on <= batch.ends_on:
                raise DomainError(f"公示期至 {batch.ends_on:%Y年%m月%d日}，期满后才能生效")
            records = list(s.scalars(select(p.PointRecord).where(p.PointRecord.publicity_id == publicity_id,
                                                                 p.PointRecord.status == IN_PUBLICITY)))
            keys = {(r.party_member_id, r.year) for r in records}
            before = self._earnings(s, keys)
            for record in records:
                record.status, record.effective_on = EFFECTIVE, on
                self._event(s, record.id, "生效", f"公示期满（{batch.ends_on:%Y-%m-%d}）")
            batch.closed_on = on
            s.flush()
            after = self._earnings(s, keys)
            for key in sorted(keys):
                self._move_balance(s, key[0], key[1], before[key], after[key], "积分转入",
                                   f"{key[1]}年积分生效（{batch.title}）", None)
            return len(records)

    def publicities(self, village_id: int | None = None) -> list[PublicityDTO]:
        visible = self._visible()
        with self.db.reader() as s:
            query = select(p.PointPublicity).order_by(p.PointPublicity.starts_on.desc(), p.PointPublicity.id.desc())
            village = village_id or visible
            if visible is not None and village_id not in (None, visible):
                return []
            if village is not None:
                query = query.where(p.PointPublicity.village_id == village)
            return [self._publicity_dto(s, b) for b in s.scalars(query)]

    def publicity(self, publicity_id: int) -> PublicityDTO:
        with self.db.reader() as s:
            batch = s.get(p.PointPublicity, publicity_id)
            if batch is None:
                raise NotFound("这批公示不存在")
            permissions.require_read(self.actor, batch.village_id, "公示")
            return self._publicity_dto(s, batch)

    def publicity_records(self, publicity_id: int) -> list[RecordRow]:
        self.publicity(publicity_id)
        with self.db.reader() as s:
            return self._rows(s, p.PointRecord.publicity_id == publicity_id)

    def _publicity_dto(self, s: Session, b: p.PointPublicity) -> PublicityDTO:
        village = s.get(m.Village, b.village_id) if b.village_id else None
        count = s.scalar(select(func.count()).select_from(p.PointRecord).where(p.PointRecord.publicity_id == b.id))
        return PublicityDTO(b.id, b.village_id, village.name if village else "", b.title, b.starts_on, b.ends_on,
                            b.closed_on, count or 0)

    # ----- reversal ----------------------------------------------------------------------------
    def reverse(self, record_id: int, reason: str, on: dt.date | None = None) -> int:
        """冲正: a reversing record cancels an effective one; totals and balance return to what they were."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed([FieldProblem("reason", "冲正须填写原因")])
        on = on or dt.date.today()
        with self.db.unit_of_work(self.actor) as s:
            record = self._records(s, [record_id])[0]
            if record.review_level == "乡镇":
                permissions.require_township(self.actor, "冲正乡镇审核的记录")
            else:
                self._require_write(record.village_id)
            if record.status != EFFECTIVE:
                raise DomainError(f"只有已生效的记录才需要冲正；当前为“{record.status}”，可直接驳回修改")
            self._require_open_year(s, record.year)
            if record.reverses_id is not None:
                raise DomainError("这条记录本身是冲正记录，不能再冲正")
            if s.scalar(select(p.PointRecord.id).where(p.PointRecord.reverses_id == record.id)) is not None:
                raise DomainError("这条记录已经冲正过了")
            key = (record.party_member_id, record.year)
            before = self._earnings(s, {key})
            reversal = p.PointRecord(
                party_member_id=record.party_member_id, village_id=record.village_id, year=record.year,
                occurred_on=record.occurred_on, rule_set_id=record.rule_set_id, rule_id=record.rule_id,
                rule_code=record.rule_code, rule_name=record.rule_name, category=record.category,
                category_name=record.category_name, direction=record.direction, rule_points=record.rule_points,
                review_level=record.review_level, points_tenths=-record.points_tenths,
                note=f"冲正：{reason}", evidence=None, meeting_id=record.meeting_id, status=EFFECTIVE,
                entered_by=self.actor.username, effective_on=on, reverses_id=record.id, resubmissions=0)
            s.add(reversal)
            s.flush()
            self._event(s, reversal.id, "冲正", f"冲正记录 {record.id}：{reason}")
            self._event(s, record.id, "被冲正", f"由记录 {reversal.id} 冲正：{reason}")
            after = self._earnings(s, {key})
            self._move_balance(s, key[0], key[1], before[key], after[key], "冲正扣回", f"冲正：{record.rule_name}",
                               reversal.id)
            return reversal.id

    # ----- totals -------------------------------------------------------------------------------
    def _occurrences(self, s: Session, member_ids: Iterable[int] | None, year: int,
                     as_of: dt.date | None = None, village_id: int | None = None) -> dict[int, list[Occurrence]]:
        """Effective records of the year (as of a day), without reversed ones and their reversals."""
        query = year_records_query(year, as_of, village_id)
        rows: list = []
        conn = s.connection()
        if member_ids is None:
            rows = fetch_rows(conn, query)  # a county's year: half a million records
        else:
            ids = list(member_ids)
            for start in range(0, len(ids), 500):
                rows.extend(fetch_rows(conn, query.where(p.PointRecord.party_member_id.in_(ids[start:start + 500]))))
        cancelled = {r[6] for r in rows if r[6] is not None}
        out: dict[int, list[Occurrence]] = defaultdict(list)
        for rid, member, code, category, on, tenths, reverses in rows:
            if reverses is not None or rid in cancelled:
                continue
            out[member].append(Occurrence(rid, code, category, on, tenths))
        return out

    def _rules_of_year(self, s: Session, year: int) -> RuleSet:
        return self._rule_set(s, year, create=False)[1]

    def _earnings(self, s: Session, keys: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        by_year: dict[int, list[int]] = defaultdict(list)
        for member, year in keys:
            by_year[year].append(member)
        for year, members in by_year.items():
            rules = self._rules_of_year(s, year)
            occurrences = self._occurrences(s, members, year)
            for member in members:
                out[(member, year)] = tally(rules, occurrences.get(member, []), year).earning
        return out

    @staticmethod
    def _member_totals(rules: RuleSet, member_id: int, year: int, result: Tally, grade: str) -> MemberTotals:
        names = rules.top_category_names
        by_category = [(names.get(code, code), value) for code, value in result.by_category.items()]
        return MemberTotals(member_id, year, result.base, result.total, grade, by_category,
                            list(result.months), list(result.quarters), result.cumulative(), result.earning)

    def _grader(self, s: Session, rules: RuleSet, year: int, as_of: dt.date | None) -> Callable[[int, int], str]:
        """How a member's total becomes a grade: the final grade of a closed year; 年度未结束 for part of a
        year (the cut-offs are for a whole year: graded pro rata, a member active in the autumn would read
        不合格 all spring); after the year, the rules' grade until the close makes it final."""
        if self._closed(s, year) is not None:
            final = {member: grade for member, grade in s.execute(
                select(p.PointYearGrade.party_member_id, p.PointYearGrade.grade).where(p.PointYearGrade.year == year))}
            return lambda member, total: final.get(member) or rules.grade_of(total)
        if not full_year(year, as_of):
            return lambda _member, _total: PENDING_GRADE
        return lambda _member, total: rules.grade_of(total)

    def member_totals(self, member_id: int, year: int, as_of: dt.date | None = None) -> MemberTotals:
        """Month/quarter/year totals after caps, and the annual grade."""
        self.member(member_id)
        with self.db.reader() as s:
            rules = self._rules_of_year(s, year)
            occurrences = self._occurrences(s, [member_id], year, counted_until(year, as_of))
            result = tally(rules, occurrences.get(member_id, []), year)
            grade = self._grader(s, rules, year, as_of)(member_id, result.total)
            return self._member_totals(rules, member_id, year, result, grade)

    def _tallies(self, year: int, village_id: int | None, as_of: dt.date | None
                 ) -> tuple[RuleSet, Callable[[int, int], str], Iterator[tuple[MemberChoice, Tally]]]:
        """The year's rules, its grader and, member by member, every member who takes part (not 免考) with
        their tally."""
        members = self.members(village_id)
        with self.db.reader() as s:
            rules = self._rules_of_year(s, year)
            grader = self._grader(s, rules, year, as_of)
            visible = village_id or self._visible()
            occurrences = self._occurrences(s, None, year, counted_until(year, as_of), visible)
        return rules, grader, ((member, tally(rules, occurrences.get(member.party_member_id, []), year))
                               for member in members)

    def member_summaries(self, year: int, village_id: int | None = None, as_of: dt.date | None = None
                         ) -> list[tuple[TotalRow, MemberTotals, dict[int, int]]]:
        """Every member who takes part (not 免考): total row, totals by period and category, counted per record."""
        with collector_paused():  # a county's year: a quarter of a million records, as many tuples
            rules, grader, tallies = self._tallies(year, village_id, as_of)
            out = []
            for member, result in tallies:
                grade = grader(member.party_member_id, result.total)
                totals = self._member_totals(rules, member.party_member_id, year, result, grade)
                out.append((self._total_row(member, totals.total, grade), totals, result.counted))
            return out

    def totals(self, year: int, village_id: int | None = None, as_of: dt.date | None = None) -> list[TotalRow]:
        """Every member who takes part (not 免考) with their year total and grade (see ``_grader``).

        Read once per export (``Database.shared_reads``): the same day-limit and whole-year test give
        the same totals, whichever ``as_of`` named them."""
        def read() -> list[TotalRow]:
            with collector_paused():
                _rules, grader, tallies = self._tallies(year, village_id, as_of)
                return [self._total_row(member, result.total, grader(member.party_member_id, result.total))
                        for member, result in tallies]
        key = ("points.totals", self.actor, year, village_id, counted_until(year, as_of), full_year(year, as_of))
        return self.db.read_once(key, read)

    # ----- the year close (年度结转) ---------------------------------------------------------------
    @staticmethod
    def _closed(s: Session, year: int) -> p.PointYearClose | None:
        return s.scalar(select(p.PointYearClose).where(p.PointYearClose.year == year))

    def _require_open_year(self, s: Session, year: int) -> None:
        closed = self._closed(s, year)
        if closed is not None:
            raise DomainError(f"{year}年度的党员积分已于{closed.closed_on:%Y-%m-%d}年度结转，等次已确定；"
                              f"不能再录入、修改或冲正该年度的积分，请记入{closed.year + 1}年度")

    def year_closed(self, year: int) -> dt.date | None:
        """The day the year's points were closed (None while open). Nothing of any village in it."""
        with self.db.reader() as s:
            closed = self._closed(s, year)
            return None if closed is None else closed.closed_on

    def open_records(self, year: int) -> dict[str, int]:
        """Records of the year still on their way (by status): the year close waits for them."""
        waiting = (WAITING_VILLAGE, WAITING_TOWNSHIP, WAITING_PUBLICITY, IN_PUBLICITY)
        query = (select(p.PointRecord.status, func.count()).where(p.PointRecord.year == year,
                                                                  p.PointRecord.status.in_(waiting))
                 .group_by(p.PointRecord.status))
        visible = self._visible()
        if visible is not None:
            query = query.where(p.PointRecord.village_id == visible)
        with self.db.reader() as s:
            return {status: count for status, count in s.execute(query).all()}

    def close_year(self, year: int, on: dt.date | None = None) -> int:
        """年度结转 of the points: every taking-part member's final total and grade is written once, the year's
        records and rules are closed, and next year starts from this year's rules. Returns members graded."""
        permissions.require_township(self.actor, "党员积分年度结转")
        on = on or dt.date.today()
        if on <= year_end(year):
            raise DomainError(f"{year}年度尚未结束，{year + 1}年1月1日起才能结转")
        waiting = self.open_records(year)
        if waiting:
            counts = "、".join(f"{status}{count}条" for status, count in waiting.items())
            raise DomainError(f"{year}年度还有未完成审核或公示的积分记录（{counts}），请处理完后再结转")
        rows = self.totals(year)  # a whole year: graded by the rules (not closed yet)
        with self.db.unit_of_work(self.actor) as s:
            if self._closed(s, year) is not None:
                raise DomainError(f"{year}年度的党员积分已经结转过了")
            row, _rules = self._rule_set(s, year, create=True)
            s.add_all(p.PointYearGrade(year=year, party_member_id=r.party_member_id, village_id=r.village_id,
                                       total_tenths=r.total, grade=r.grade) for r in rows)
            s.add(p.PointYearClose(year=year, closed_on=on, closed_by=self.actor.username,
                                   rule_set_id=row.id if row is not None else None))
            self._rule_set(s, year + 1, create=True)  # next year starts from these rules
        return len(rows)

    def final_grades(self, year: int, village_id: int | None = None) -> list[TotalRow]:
        """The final grades written at the year close (empty while the year is open), village-scoped."""
        with self.db.reader() as s:
            if self._closed(s, year) is None:
                return []
            final = {member: (total, grade) for member, total, grade in s.execute(
                select(p.PointYearGrade.party_member_id, p.PointYearGrade.total_tenths, p.PointYearGrade.grade)
                .where(p.PointYearGrade.year == year))}
        return [self._total_row(member, *final[member.party_member_id])
                for member in self.members(village_id, include_exempt=True) if member.party_member_id in final]

    @staticmethod
    def _total_row(member: MemberChoice, total: int, grade: str) -> TotalRow:
        return TotalRow(member.party_member_id, member.name, member.village_id, member.village, member.branch,
                        member.category, total, grade)

    def detail(self, year: int, village_id: int | None = None) -> list[RecordRow]:
        """Every record of the year (any status) with what it counted after caps: the 积分明细."""
        counted: dict[int, int] = {}
        for _row, _totals, per_record in self.member_summaries(year, village_id):
            counted.update(per_record)
        with self.db.reader() as s:
            rows = self._rows(s, p.PointRecord.year == year, village_id=village_id)
        return [replace_counted(r, counted.get(r.id)) for r in rows]

    def grade_names(self, year: int) -> list[str]:
        """The rules' grades, and 年度未结束 while the year runs."""
        names = [g.name for g in self.rule_set(year)[1].grades]
        return names if full_year(year, None) else [*names, PENDING_GRADE]

    def village_summaries(self, year: int, as_of: dt.date | None = None,
                          totals: list[TotalRow] | None = None) -> list[GroupSummary]:
        """Per village; ``totals`` of the same year and day, when the caller has them already (a county's
        year of records takes seconds to total)."""
        return self._summaries(self.totals(year, as_of=as_of) if totals is None else totals, year, by="village")

    def branch_summaries(self, year: int, as_of: dt.date | None = None) -> list[GroupSummary]:
        return self._summaries(self.totals(year, as_of=as_of), year, by="branch")

    def _summaries(self, rows: list[TotalRow], year: int, by: str) -> list[GroupSummary]:
        grades = self.grade_names(year)
        groups: dict[tuple, list[TotalRow]] = defaultdict(list)
        for row in rows:
            key = (row.village_id, row.village) if by == "village" else (None, row.branch or "（未分支部）")
            groups[key].append(row)
        out = []
        for (gid, name), members in groups.items():
            totals = [r.total for r in members]
            counts = dict.fromkeys(grades, 0)
            for r in members:
                counts[r.grade] = counts.get(r.grade, 0) + 1
            out.append(GroupSummary(gid, name, len(members), average_points(totals), max(totals), min(totals), counts))
        return out

    def ranking(self, year: int, village_id: int | None = None) -> list[tuple[int, TotalRow]]:
        """Members by total, highest first, with competition ranks (ties share a rank). Shown only on request."""
        rows = sorted(self.totals(year, village_id), key=lambda r: (-r.total, r.village, r.name))
        out, rank = [], 0
        for index, row in enumerate(rows, start=1):
            if index == 1 or row.total != rows[index - 2].total:
                rank = index
            out.append((rank, row))
        return out

    def distribution(self, year: int, as_of: dt.date | None = None) -> tuple[list[str], list[tuple[str, dict[str, int]]]]:
        """Per village, how many members reached each grade (for the chart)."""
        summaries = sorted(self.village_summaries(year, as_of), key=lambda g: g.name)
        return self.grade_names(year), [(g.name, g.grades) for g in summaries]

    # ----- the member card -------------------------------------------------------------------------
    def _rows(self, s: Session, condition, *, village_id: int | None = None, year: int | None = None,  # noqa: ANN001
              member_id: int | None = None) -> list[RecordRow]:
        query = (select(p.PointRecord, m.Person.name, m.Village.name, p.PointRuleSet.version)
                 .join(m.PartyMember, m.PartyMember.id == p.PointRecord.party_member_id)
                 .join(m.Person, m.Person.id == m.PartyMember.person_id)
                 .outerjoin(m.Village, m.Village.id == p.PointRecord.village_id)
                 .join(p.PointRuleSet, p.PointRuleSet.id == p.PointRecord.rule_set_id)
                 .where(condition))
        visible = self._visible()
        if visible is not None:
            if village_id not in (None, visible):
                return []
            village_id = visible
        if village_id is not None:
            query = query.where(p.PointRecord.village_id == village_id)
        if year is not None:
            query = query.where(p.PointRecord.year == year)
        if member_id is not None:
            query = query.where(p.PointRecord.party_member_id == member_id)
        query = query.order_by(p.PointRecord.occurred_on, p.PointRecord.id)
        rows = s.execute(query).all()
        ids = [r[0].id for r in rows]
        reversed_ids: set[int] = set()
        for start in range(0, len(ids), 500):
            reversed_ids.update(s.scalars(select(p.PointRecord.reverses_id)
                                          .where(p.PointRecord.reverses_id.in_(ids[start:start + 500]))))
        return [record_row(r, name, village, version, r.id in reversed_ids) for r, name, village, version in rows]

    def records(self, member_id: int, year: int | None = None) -> list[RecordRow]:
        self.member(member_id)
        with self.db.reader() as s:
            return self._rows(s, p.PointRecord.party_member_id == member_id, year=year)

    def record(self, record_id: int) -> RecordRow:
        with self.db.reader() as s:
            rows = self._rows(s, p.PointRecord.id == record_id)
        if not rows:
            raise NotFound("这条积分记录不存在或无权查看")
        return rows[0]

    def events(self, record_id: int) -> list[EventRow]:
        self.record(record_id)
        with self.db.reader() as s:
            rows = s.scalars(select(p.PointEvent).where(p.PointEvent.record_id == record_id).order_by(p.PointEvent.id))
            return [EventRow(e.at, e.username, e.action, e.detail or "") for e in rows]

    def card(self, member_id: int, year: int) -> MemberCard:
        """Everything the member's points card shows: records, totals after caps, grade, balance, history."""
        member = self.member(member_id)
        with self.db.reader() as s:
            row, rules = self._rule_set(s, year, create=False)
            version = row.version if row is not None else 0
            occurrences = self._occurrences(s, [member_id], year).get(member_id, [])
            result = tally(rules, occurrences, year)
            totals = self._member_totals(rules, member_id, year, result,
                                         self._grader(s, rules, year, None)(member_id, result.total))
            records = [replace_counted(r, result.counted.get(r.id))
                       for r in self._rows(s, p.PointRecord.party_member_id == member_id, year=year)]
            account = s.get(p.PointAccount, member_id)
            balance = account.balance_tenths if account else 0
            ledger = [LedgerRow(x.at, x.kind, x.amount_tenths, x.balance_after, x.note or "")
                      for x in s.scalars(select(p.PointLedger).where(p.PointLedger.party_member_id == member_id)
                                         .order_by(p.PointLedger.id.desc()).limit(200))]
            redemptions = self._redemption_rows(s, p.Redemption.party_member_id == member_id)
        return MemberCard(member, year, totals, records, balance, ledger,
                          redemptions, version)

    # ----- balance ------------------------------------------------------------------------------------
    def _account(self, s: Session, member_id: int) -> p.PointAccount:
        account = s.get(p.PointAccount, member_id)
        if account is None:
            account = p.PointAccount(party_member_id=member_id, balance_tenths=0, earned_tenths=0, spent_tenths=0)
            s.add(account)
            s.flush()
        return account

    def _move_balance(self, s: Session, member_id: int, year: int, before: int, after: int, kind: str, note: str,
                      record_id: int | None) -> None:
        rules = self._rules_of_year(s, year)
        delta = balance_credit(rules, after) - balance_credit(rules, before)
        if delta == 0:
            return
        account = self._account(s, member_id)
        if delta < 0:
            # what was already spent cannot be taken back; the balance stops at 0 and the ledger says so
            taken = min(-delta, account.balance_tenths)
            if taken != -delta:
                note += f"（应扣回{format_points(-delta)}，余额仅{format_points(account.balance_tenths)}）"
            delta = -taken
            if delta == 0:
                s.add(p.PointLedger(party_member_id=member_id, kind=kind, amount_tenths=0,
                                    balance_after=account.balance_tenths, year=year, record_id=record_id,
                                    username=self.actor.username, note=note))
                return
        s.execute(update(p.PointAccount).where(p.PointAccount.party_member_id == member_id)
                  .values(balance_tenths=p.PointAccount.balance_tenths + delta,
                          earned_tenths=p.PointAccount.earned_tenths + delta))
        s.refresh(account)
        s.add(p.PointLedger(party_member_id=member_id, kind=kind, amount_tenths=delta,
                            balance_after=account.balance_tenths, year=year, record_id=record_id,
                            username=self.actor.username, note=note))

    def balance(self, member_id: int) -> int:
        self.member(member_id)
        with self.db.reader() as s:
            account = s.get(p.PointAccount, member_id)
            return account.balance_tenths if account else 0

    # ----- set-based writes (imports) -------------------------------------------------------------------
    def batch_writer(self, conn: Connection, *, batch_id: int | None = None, reason: str | None = None,
                     now: dt.datetime | None = None) -> PointsBatch:
        """The points module's door for set-based writes (积分记录, 商品 sheets): see ``ModuleBatch.open``."""
        return PointsBatch.open(conn, self.actor, "党员积分", batch_id=batch_id, reason=reason, now=now)

    # ----- the points store --------------------------------------------------------------------------
    def items(self, *, active_only: bool = False) -> list[StoreItemDTO]:
        with self.db.reader() as s:
            query = select(p.StoreItem).order_by(p.StoreItem.points_tenths, p.StoreItem.name)
            if active_only:
                query = query.where(p.StoreItem.active.is_(True))
            return [StoreItemDTO(i.id, i.name, i.points_tenths, i.stock, i.pickup_point or "", i.active)
                    for i in s.scalars(query)]

    def save_item(self, data: StoreItemInput) -> int:
        permissions.require_township(self.actor, "维护积分超市商品")
        name, tenths, problems = rules_check.check_item(data.name, data.points, data.stock)
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            other = s.scalar(select(p.StoreItem.id).where(p.StoreItem.name == name))
            if other is not None and other != data.id:
                raise ValidationFailed([FieldProblem("name", f"已有名为“{name}”的商品")])
            item = s.get(p.StoreItem, data.id) if data.id else p.StoreItem()
            if item is None:
                raise NotFound("商品不存在或已删除")
            item.name, item.points_tenths, item.stock = name, tenths, data.stock
            item.pickup_point = (data.pickup_point or "").strip() or None
            item.active = data.active
            s.add(item)
            s.flush()
            return item.id

    def restock(self, item_id: int, added: int) -> int:
        """入库 (or a correction with a negative number that never takes stock below 0); returns the new stock."""
        permissions.require_township(self.actor, "维护积分超市商品")
        with self.db.unit_of_work(self.actor) as s:
            result = s.execute(update(p.StoreItem).where(p.StoreItem.id == item_id, p.StoreItem.stock + added >= 0)
                               .values(stock=p.StoreItem.stock + added))
            if result.rowcount != 1:
                raise DomainError("库存不能减到0以下（或商品已删除）")
            return s.scalar(select(p.StoreItem.stock).where(p.StoreItem.id == item_id))

    def redeem(self, member_id: int, item_id: int, quantity: int = 1, *,
               expected_points: int | None = None) -> RedemptionDTO:
        """Take stock and balance with conditional UPDATEs: the last item goes to exactly one redemption.

        ``expected_points``: the price (tenths) the clerk saw; a different price now is refused as such.
        A refusal names its real cause, checked in turn: 下架, price changed, stock short (how many are
        left), balance too low; never a list of guesses."""
        member = self.member(member_id)
        self._require_write(member.village_id)
        if not isinstance(quantity, int) or quantity < 1:
            raise ValidationFailed([FieldProblem("quantity", "兑换数量应为正整数")])
        with self.db.unit_of_work(self.actor) as s:
            item = s.get(p.StoreItem, item_id)
            refusal = self._redeem_refusal(s, member, item, quantity, expected_points)
            if refusal:
                raise DomainError(refusal)
            assert item is not None
            price, name, pickup = item.points_tenths, item.name, item.pickup_point or ""
            cost = price * quantity
            taken = s.execute(update(p.StoreItem)
                              .where(p.StoreItem.id == item_id, p.StoreItem.active.is_(True),
                                     p.StoreItem.stock >= quantity, p.StoreItem.points_tenths == price)
                              .values(stock=p.StoreItem.stock - quantity, updated_at=utcnow()))
            if taken.rowcount != 1:  # another clerk was quicker: read what is committed now for the cause
                with self.db.reader() as fresh:
                    why = self._redeem_refusal(fresh, member, fresh.get(p.StoreItem, item_id), quantity, price)
                raise DomainError(why or f"“{name}”刚被他人修改，请刷新商品列表后再试")
            paid = s.execute(update(p.PointAccount)
                             .where(p.PointAccount.party_member_id == member_id, p.PointAccount.balance_tenths >= cost)
                             .values(balance_tenths=p.PointAccount.balance_tenths - cost,
                                     spent_tenths=p.PointAccount.spent_tenths + cost))
            if paid.rowcount != 1:
                have = s.scalar(select(p.PointAccount.balance_tenths).where(p.PointAccount.party_member_id == member_id))
                raise DomainError(f"{member.name} 的可兑换积分余额为 {format_points(have or 0)} 分，"
                                  f"兑换“{name}”×{quantity} 需要 {format_points(cost)} 分，余额不足")
            now = utcnow()
            redemption = p.Redemption(number=f"tmp-{uuid.uuid4().hex[:28]}",  # until the id is known; fits String(32)
                                      party_member_id=member_id,
                                      village_id=member.village_id, item_id=item_id, item_name=name,
                                      quantity=quantity, points_tenths=cost, status="待领取", redeemed_at=now,
                                      handled_by=self.actor.username)
            s.add(redemption)
            s.flush()
            redemption.number = f"{settings()['receipt_prefix']}{now:%Y}-{redemption.id:06d}"
            balance = s.scalar(select(p.PointAccount.balance_tenths).where(p.PointAccount.party_member_id == member_id))
            s.add(p.PointLedger(party_member_id=member_id, kind="兑换", amount_tenths=-cost, balance_after=balance,
                                redemption_id=redemption.id, username=self.actor.username,
                                note=f"兑换 {name}×{quantity}（{redemption.number}）"))
            s.flush()
            return redemption_dto(redemption, member.name, member.village, pickup, balance)

    def _redeem_refusal(self, s: Session, member: MemberChoice, item: p.StoreItem | None, quantity: int,
                        expected_points: int | None) -> str | None:
        """Why this redemption cannot be made now, the first real cause (None: it can)."""
        if item is None or not item.active:
            return "这件商品已下架或已删除，请刷新商品列表后另选"
        if expected_points is not None and item.points_tenths != expected_points:
            return (f"“{item.name}”的所需积分已调整为 {format_points(item.points_tenths)} 分（页面上是 "
                    f"{format_points(expected_points)} 分），请刷新后按新价格确认")
        if item.stock <= 0:
            return f"“{item.name}”库存不足：库存为0，暂不能兑换，请先入库"
        if item.stock < quantity:
            return f"“{item.name}”库存不足：仅剩 {item.stock} 件，要兑换 {quantity} 件，请减少数量或先入库"
        cost = item.points_tenths * quantity
        have = s.scalar(select(p.PointAccount.balance_tenths)
                        .where(p.PointAccount.party_member_id == member.party_member_id)) or 0
        if have < cost:
            return (f"{member.name} 的可兑换积分余额为 {format_points(have)} 分，兑换“{item.name}”×{quantity} "
                    f"需要 {format_points(cost)} 分，余额不足")
        return None

    def pick_up(self, redemption_id: int) -> None:
        with self.db.unit_of_work(self.actor) as s:
            row = self._redemption(s, redemption_id)
            done = s.execute(update(p.Redemption).where(p.Redemption.id == redemption_id, p.Redemption.status == "待领取")
                             .values(status="已领取", picked_up_at=utcnow(), updated_at=utcnow()))
            if done.rowcount != 1:
                raise DomainError(f"兑换单 {row.number} 当前为“{row.status}”，不能领取")

    def cancel_redemption(self, redemption_id: int, reason: str) -> None:
        """已取消 returns exactly the points paid and the stock taken."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed([FieldProblem("reason", "取消兑换须填写原因")])
        with self.db.unit_of_work(self.actor) as s:
            row = self._redemption(s, redemption_id)
            number, member_id, cost, quantity, item_id = (row.number, row.party_member_id, row.points_tenths,
                                                          row.quantity, row.item_id)
            done = s.execute(update(p.Redemption).where(p.Redemption.id == redemption_id, p.Redemption.status == "待领取")
                             .values(status="已取消", cancelled_at=utcnow(), cancel_reason=reason, updated_at=utcnow()))
            if done.rowcount != 1:
                raise DomainError(f"兑换单 {number} 当前为“{row.status}”，只有待领取的兑换可以取消")
            s.execute(update(p.StoreItem).where(p.StoreItem.id == item_id).values(stock=p.StoreItem.stock + quantity))
            s.execute(update(p.PointAccount).where(p.PointAccount.party_member_id == member_id)
                      .values(balance_tenths=p.PointAccount.balance_tenths + cost,
                              spent_tenths=p.PointAccount.spent_tenths - cost))
            balance = s.scalar(select(p.PointAccount.balance_tenths).where(p.PointAccount.party_member_id == member_id))
            s.add(p.PointLedger(party_member_id=member_id, kind="取消退回", amount_tenths=cost, balance_after=balance,
                                redemption_id=redemption_id, username=self.actor.username,
                                note=f"取消兑换 {number}：{reason}"))

    def _redemption(self, s: Session, redemption_id: int) -> p.Redemption:
        row = s.get(p.Redemption, redemption_id)
        if row is None:
            raise NotFound("兑换单不存在")
        self._require_write(row.village_id)
        return row

    def redemptions(self, village_id: int | None = None, status: str | None = None,
                    member_id: int | None = None) -> list[RedemptionDTO]:
        visible = self._visible()
        if visible is not None and village_id not in (None, visible):
            return []
        conditions = []
        village = village_id or visible
        if village is not None:
            conditions.append(p.Redemption.village_id == village)
        if status:
            conditions.append(p.Redemption.status == status)
        if member_id is not None:
            conditions.append(p.Redemption.party_member_id == member_id)
        with self.db.reader() as s:
            return self._redemption_rows(s, *conditions)

    def redemption(self, redemption_id: int) -> RedemptionDTO:
        with self.db.reader() as s:
            rows = self._redemption_rows(s, p.Redemption.id == redemption_id)
        if not rows:
            raise NotFound("兑换单不存在")
        permissions.require_read(self.actor, self._village_of_redemption(redemption_id), "兑换记录")
        return rows[0]

    def _village_of_redemption(self, redemption_id: int) -> int | None:
        with self.db.reader() as s:
            return s.scalar(select(p.Redemption.village_id).where(p.Redemption.id == redemption_id))

    def _redemption_rows(self, s: Session, *conditions) -> list[RedemptionDTO]:  # noqa: ANN002
        query = (select(p.Redemption, m.Person.name, m.Village.name, p.StoreItem.pickup_point)
                 .join(m.PartyMember, m.PartyMember.id == p.Redemption.party_member_id)
                 .join(m.Person, m.Person.id == m.PartyMember.person_id)
                 .outerjoin(m.Village, m.Village.id == p.Redemption.village_id)
                 .join(p.StoreItem, p.StoreItem.id == p.Redemption.item_id)
                 .where(*conditions).order_by(p.Redemption.redeemed_at.desc(), p.Redemption.id.desc()))
        return [redemption_dto(r, name, village or "", pickup or "") for r, name, village, pickup in s.execute(query)]


# ----- helpers shared with sheets, figures and the UI ---------------------------------------------
def average_points(totals: Sequence[int]) -> Decimal | None:
    """Mean of tenths as points with one decimal, rounded half up (exact, no float)."""
    if not totals:
        return None
    return (Decimal(sum(totals)) / 10 / len(totals)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def record_row(r: p.PointRecord, name: str, village: str | None, version: int, reversed_: bool) -> RecordRow:
    return RecordRow(r.id, r.party_member_id, name, r.village_id, village or "", r.occurred_on, r.year, r.rule_code,
                     r.rule_name, r.category_name, r.direction, r.points_tenths, r.status, r.review_level,
                     r.note or "", r.evidence or "", r.reject_reason or "", r.effective_on, r.reverses_id, reversed_,
                     r.resubmissions, version)


def replace_counted(row: RecordRow, counted: int | None) -> RecordRow:
    from dataclasses import replace

    return replace(row, counted=counted)


def redemption_dto(r: p.Redemption, name: str, village: str, pickup: str, balance: int | None = None) -> RedemptionDTO:
    return RedemptionDTO(r.id, r.number, r.party_member_id, name, village, r.item_id, r.item_name, r.quantity,
                         r.points_tenths, r.status, r.redeemed_at, r.picked_up_at, r.cancelled_at,
                         r.cancel_reason or "", r.handled_by, pickup, balance)


def rule_rows(rules: RuleSet) -> list[RuleRow]:
    out = []
    for rule in rules.rules:
        chain = rules.chain(rule.category)
        path = " / ".join(c.name for c in reversed(chain))
        caps = [f"{c.name}每年最多{format_points(c.cap)}分" for c in chain if c.cap is not None]
        base = next((c for c in chain if c.kind == "base"), None)
        if base is not None:
            caps.append(f"基础分{format_points(base.base)}分扣完为止")
        meeting = f"{'、'.join(rule.meeting_kinds)} {rule.meeting_attendance}" if rule.meeting_kinds else ""
        out.append(RuleRow(rule.code, rule.name, rule.category, path, rule.direction, rule.points_text, rule.caps_text,
                           "；".join(caps), rule.evidence, rule.review, "、".join(rule.applies_to), meeting,
                           rule.max_points if rule.fixed else None))
    return out


class PointsBatch(ModuleBatch):
    """Set-based writes of the points tables, each audited per record (see ``db/batch.py``).

    Only ``PointsService.batch_writer`` makes one, after its role check; the import adapters of
    points/sheets.py check rows with points/validation.py and hand the records here.
    """

    models = (p.PointRuleSet, p.PointRule, p.PointRecord, p.PointEvent, p.StoreItem)

    def store_default_rule_set(self, year: int, note: str = DEFAULT_NOTE) -> int:
        """Version 1 of ``year``: the shipped default, stored the first time the year is used, as the entry
        form does, also when a 村录入员's file is the first (it is the township's default, not a change to it).

        It writes past a clerk's village limit, so it takes no rules from the caller: only the shipped
        file's, and only for a year that has none yet (a change of rules is ``save_rule_set``, township only).
        """
        if self.writer.conn.scalar(select(p.PointRuleSet.id).where(p.PointRuleSet.year == year).limit(1)):
            raise DomainError(f"{year}年已有积分规则，默认规则只在该年首次使用时生成")
        rules = default_rule_set()
        township = PointsBatch(replace(self.writer, only_village=None))
        ids, _ = township.create(p.PointRuleSet, [rule_set_values(year, 1, rules, DEFAULT_SOURCE, note)])
        rule_set_id = ids[0]
        assert rule_set_id is not None
        township.create(p.PointRule, rule_values(rule_set_id, rules))
        return rule_set_id

    def add_records(self, records: Sequence[Mapping[str, Any]], detail: str) -> tuple[list[int | None], set[int]]:
        """New 待村审 records (``record_values``), each with its 录入 event; returns ids and refused positions."""
        ids, refused = self.create(p.PointRecord, records)
        self.create(p.PointEvent, [dict(record_id=i, at=self.writer.now, username=self.writer.actor.username,
                                      action=ENTERED, detail=detail) for i in ids if i is not None])
        return ids, refused

    def add_items(self, items: Sequence[Mapping[str, Any]]) -> tuple[list[int | None], set[int]]:
        """New 积分超市 goods (name, points_tenths, stock, pickup_point, active)."""
        return self.create(p.StoreItem, items)

    def change_items(self, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """``{"id": …, column: value}`` changes of goods; returns the ids refused."""
        return self.update(p.StoreItem, rows)
