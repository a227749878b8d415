"""Grid use cases. Each public method is one unit of work and returns DTOs.

People and households are the registry's: a grid member is a registry person,
an assignment points at a registry household; nothing is typed twice. Writes
to a village's grids need write access to that village; the monthly
assessment's submit/approve/unlock are township business. An approved month
is locked: every edit is refused with a message until someone unlocks it
with a reason, which the audit log keeps.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, and_, false, func, or_, select
from sqlalchemy.orm import Session

from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from townapp.core.idcard import mask_id_number
from townapp.core.text import (
    clean_free_text,
    clean_name,
    normalize_phone,
    remove_spaces,
    squeeze_spaces,
    to_halfwidth,
)
from townapp.db import Database
from townapp.db.base import get_or_missing, utcnow
from townapp.db.batch import ModuleBatch
from townapp.grids import models as g
from townapp.grids.dto import (
    AssignmentRow,
    AssignResult,
    Coverage,
    CoverageReport,
    GridChangeRow,
    GridInput,
    GridNode,
    HouseholdChoice,
    MemberInput,
    MemberRow,
    MonthSheet,
    MonthState,
    PersonChoice,
    ScoreEntry,
    SheetRow,
    StarRow,
    SubsidyList,
    SubsidyRow,
)
from townapp.grids.scheme import Scheme, current_scheme, scheme_from_json, scheme_to_json, structure, vocab
from townapp.grids.subsidy import check_scores, competition_ranks, subsidy_for, total_tenths
from townapp.grids.validation import (
    GridFacts,
    check_grid_fields,
    check_household_grid,
    check_level_change,
    check_member,
    check_parent,
    grid_code,
    head_clash,
    locked_month,
    month_bounds,
)
from townapp.registry import models as m

DRAFT, SUBMITTED, APPROVED, UNLOCKED = "草稿", "待审批", "已审批", "已解锁"


def serving_in(start: dt.date, end: dt.date):  # noqa: ANN201 (SQL expression)
    """Members whose term overlaps [start, end]."""
    return and_(g.GridMember.started_on <= end, or_(g.GridMember.ended_on.is_(None), g.GridMember.ended_on >= start))


def load_scores(text: str | None) -> dict[str, int | None]:
    return {k: (None if v is None else int(v)) for k, v in json.loads(text or "{}").items()}


def dump_scores(scores: dict[str, int | None]) -> str:
    return json.dumps({k: v for k, v in scores.items() if v is not None}, sort_keys=True)


class GridService:
    """网格: tree, roster, household assignment, coverage, monthly assessment, subsidy and 最美网格员."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR, scheme: Scheme | None = None) -> None:
        self.db = db
        self.actor = actor
        self._scheme = scheme

    @property
    def scheme(self) -> Scheme:
        """The scheme for months not yet approved (an approved month uses the one saved with it)."""
        return self._scheme or current_scheme()

    # ----- permissions and lookups ------------------------------------------------------------
    def _require_write(self, village_id: int) -> None:
        permissions.require_write(self.actor, village_id, "网格数据")

    def _require_read(self, village_id: int) -> None:
        permissions.require_read(self.actor, village_id, "网格数据")

    def _own_grids(self) -> tuple:
        """Conditions (on g.Grid) that keep a clerk's query to their village's grids; none for other roles."""
        visible = permissions.visible_village(self.actor)
        return () if visible is None else (g.Grid.village_id == visible,)

    @staticmethod
    def _grid(s: Session, grid_id: int) -> g.Grid:
        return get_or_missing(s, g.Grid, grid_id, "这个网格已不存在（可能已被删除）")

    @staticmethod
    def _village(s: Session, village_id: int) -> m.Village:
        return get_or_missing(s, m.Village, village_id, "这个村/社区已不存在（可能已被删除）")

    @staticmethod
    def _township_id(s: Session) -> int:
        tid = s.scalar(select(m.Township.id).order_by(m.Township.id))
        if tid is None:
            raise DomainError("数据库中还没有乡镇，请先初始化数据库")
        return tid

    # ----- the grid tree -------------------------------------------------------------------------
    def tree(self, village_id: int, *, include_retired: bool = True) -> list[GridNode]:
        """The village's grids, parents before children, with households and people rolled up the tree."""
        self._require_read(village_id)
        with self.db.reader() as s:
            query = select(g.Grid).where(g.Grid.village_id == village_id).order_by(g.Grid.code, g.Grid.id)
            grids = list(s.scalars(query))
            ids = [x.id for x in grids]
            today = dt.date.today()
            direct_households: dict[int, int] = defaultdict(int)
            direct_people: dict[int, int] = defaultdict(int)
            people_of = dict(s.execute(select(m.HouseholdMember.household_id, func.count())
                                       .join(m.Household, m.Household.id == m.HouseholdMember.household_id)
                                       .where(m.Household.village_id == village_id)
                                       .group_by(m.HouseholdMember.household_id)).all())
            for grid_id, household_id in s.execute(
                    select(g.GridAssignment.grid_id, g.GridAssignment.household_id)
                    .join(g.Grid, g.Grid.id == g.GridAssignment.grid_id)
                    .where(g.Grid.village_id == village_id, g.GridAssignment.ended_on.is_(None))):
                direct_households[grid_id] += 1
                direct_people[grid_id] += people_of.get(household_id, 0)
            members: dict[int, int] = defaultdict(int)
            heads: dict[int, str] = {}
            head_role = structure().head_role
            for grid_id, role, name in s.execute(
                    select(g.GridMember.grid_id, g.GridMember.role, m.Person.name)
                    .join(m.Person, m.Person.id == g.GridMember.person_id)
                    .where(g.GridMember.grid_id.in_(ids) if ids else false(), serving_in(today, today))):
                members[grid_id] += 1
                if role == head_role:
                    heads[grid_id] = name
            groups = dict(s.execute(select(m.PartyBranch.id, m.PartyBranch.name)
                                    .where(m.PartyBranch.village_id == village_id)).all())
            children: dict[int | None, list[g.Grid]] = defaultdict(list)
            for grid in grids:
                children[grid.parent_id].append(grid)
            households, people = dict(direct_households), dict(direct_people)

            def roll(grid: g.Grid) -> tuple[int, int]:
                h, p = direct_households.get(grid.id, 0), direct_people.get(grid.id, 0)
                for child in children.get(grid.id, []):
                    ch, cp = roll(child)
                    h, p = h + ch, p + cp
                households[grid.id], people[grid.id] = h, p
                return h, p

            ordered: list[g.Grid] = []

            def walk(grid: g.Grid) -> None:
                ordered.append(grid)
                for child in children.get(grid.id, []):
                    walk(child)

            known = {x.id for x in grids}
            for root in [x for x in grids if x.parent_id is None or x.parent_id not in known]:
                roll(root)
                walk(root)
            return [GridNode(x.id, x.village_id, x.parent_id, x.level, x.code, x.name, x.scope, x.party_group_id,
                             groups.get(x.party_group_id) if x.party_group_id else None, x.active, x.retired_on, x.note,
                             households.get(x.id, 0), people.get(x.id, 0), members.get(x.id, 0), heads.get(x.id))
                    for x in ordered if include_retired or x.active]

    def grid(self, grid_id: int) -> GridNode:
        with self.db.reader() as s:
            village_id = self._grid(s, grid_id).village_id
        return next(n for n in self.tree(village_id) if n.id == grid_id)

    def party_groups(self, village_id: int) -> list[tuple[int, str]]:
        """The village's party organisations a grid may be linked to (网格党组织)."""
        self._require_read(village_id)
        with self.db.reader() as s:
            return [(r[0], r[1]) for r in s.execute(
                select(m.PartyBranch.id, m.PartyBranch.name).where(m.PartyBranch.village_id == village_id)
                .order_by(m.PartyBranch.id))]

    def check_grid(self, data: GridInput) -> list[FieldProblem]:
        """The tree's rules (``grids/validation.py``, as an import applies them) against the stored grids."""
        self._require_write(data.village_id)
        code = grid_code(data.code)
        level, problems = check_grid_fields(data.code, data.name, data.level, data.scope, data.note)
        with self.db.reader() as s:
            village = s.get(m.Village, data.village_id)
            if village is None:
                return [FieldProblem("village_id", "所属村/社区不存在")]
            if code:
                other = s.scalar(select(g.Grid).join(m.Village, m.Village.id == g.Grid.village_id)
                                 .where(g.Grid.code == code, m.Village.township_id == village.township_id))
                if other is not None and other.id != data.id:
                    problems.append(FieldProblem("code", f"网格编码 {code} 已被“{other.name}”使用（编码在全乡镇唯一）"))
            current = s.get(g.Grid, data.id) if data.id is not None else None
            if level is not None:
                parent = s.get(g.Grid, data.parent_id) if data.parent_id is not None else None
                facts = None if data.parent_id is None else (
                    GridFacts(parent.id, parent.village_id, parent.level, parent.name, parent.active)
                    if parent is not None else GridFacts(data.parent_id, 0, ""))  # gone: not this village's
                loops = data.id is not None and data.parent_id is not None and self._is_descendant(
                    s, data.parent_id, data.id)
                problems += check_parent(level, data.village_id, facts,
                                         current_parent=current.parent_id if current is not None else None,
                                         loops=loops)
            if current is not None and level is not None and current.level != level:
                in_use = bool(s.scalar(select(func.count()).where(g.Grid.parent_id == data.id))
                              or s.scalar(select(func.count()).where(g.GridAssignment.grid_id == data.id)))
                problems += check_level_change(current.level, level, in_use=in_use)
            if data.party_group_id is not None:
                branch = s.get(m.PartyBranch, data.party_group_id)
                if branch is None or branch.village_id != data.village_id:
                    problems.append(FieldProblem("party_group_id", "网格党组织须是本村的党组织"))
        return problems

    @staticmethod
    def _is_descendant(s: Session, candidate: int, ancestor: int) -> bool:
        seen: set[int] = set()
        current: int | None = candidate
        while current is not None and current not in seen:
            if current == ancestor:
                return True
            seen.add(current)
            current = s.scalar(select(g.Grid.parent_id).where(g.Grid.id == current))
        return False

    def save_grid(self, data: GridInput) -> int:
        """Create or edit a grid; a new parent takes effect on ``changed_on`` and is kept as history."""
        problems = self.check_grid(data)
        if problems:
            raise ValidationFailed(problems)
        on = data.changed_on or dt.date.today()
        with self.db.unit_of_work(self.actor) as s:
            village = self._village(s, data.village_id)
            if data.id is None:
                grid = g.Grid(village_id=data.village_id, township_id=village.township_id, active=True)
                s.add(grid)
                old_parent = None
            else:
                grid = self._grid(s, data.id)
                self._require_write(grid.village_id)
                if grid.village_id != data.village_id:
                    raise DomainError("网格不能移到另一个村")
                old_parent = grid.parent_id
            grid.code = grid_code(data.code)
            grid.name = clean_name(data.name)
            grid.level = vocab("level").canonical(data.level) or data.level
            grid.parent_id = data.parent_id
            grid.scope = clean_free_text(data.scope or "") or None  # as typed, as the exchange stores text
            grid.party_group_id = data.party_group_id
            grid.note = clean_free_text(data.note or "") or None
            s.flush()
            if data.id is None:
                self._change(s, grid.id, on, "新建", f"{grid.level} {grid.code} {grid.name}")
            elif old_parent != grid.parent_id:
                names = dict(s.execute(select(g.Grid.id, g.Grid.name)
                                       .where(g.Grid.id.in_([x for x in (old_parent, grid.parent_id) if x]))).all())
                self._change(s, grid.id, on, "调整上级",
                             f"由“{names.get(old_parent, '无')}”调整到“{names.get(grid.parent_id, '无')}”")
            return grid.id

    def _change(self, s: Session, grid_id: int, on: dt.date, kind: str, detail: str) -> None:
        s.add(g.GridChange(grid_id=grid_id, changed_on=on, kind=kind, detail=detail, username=self.actor.username))

    def retire_grid(self, grid_id: int, on: dt.date | None = None, reason: str = "") -> None:
        """撤销: the grid stays (with its history) but is inactive; its members' terms end that day."""
        on = on or dt.date.today()
        reason = squeeze_spaces(reason or "")
        if not reason:
            raise ValidationFailed([FieldProblem("reason", "撤销网格须填写原因")])
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            grid = self._grid(s, grid_id)
            self._require_write(grid.village_id)
            if not grid.active:
                raise DomainError(f"“{grid.name}”已经撤销")
            children = s.scalar(select(func.count()).where(g.Grid.parent_id == grid_id, g.Grid.active.is_(True)))
            if children:
                raise DomainError(f"“{grid.name}”下还有 {children} 个在用的下级网格，请先撤销或调整它们")
            households = s.scalar(select(func.count()).where(g.GridAssignment.grid_id == grid_id,
                                                              g.GridAssignment.ended_on.is_(None)))
            if households:
                raise DomainError(f"“{grid.name}”还有 {households} 户住户，请先把它们划入其他微网格")
            grid.active, grid.retired_on = False, on
            for member in s.scalars(select(g.GridMember).where(g.GridMember.grid_id == grid_id,
                                                                g.GridMember.ended_on.is_(None))):
                member.ended_on = on
            self._change(s, grid_id, on, "撤销", reason)

    def restore_grid(self, grid_id: int, reason: str = "") -> None:
        reason = squeeze_spaces(reason or "") or "恢复使用"
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            grid = self._grid(s, grid_id)
            self._require_write(grid.village_id)
            if grid.active:
                raise DomainError(f"“{grid.name}”在用，无需恢复")
            if grid.parent_id is not None and not self._grid(s, grid.parent_id).active:
                raise DomainError("上级网格已撤销，请先恢复上级网格")
            grid.active, grid.retired_on = True, None
            self._change(s, grid_id, dt.date.today(), "恢复", reason)

    def delete_grid(self, grid_id: int) -> None:
        """Only a grid that never had members, households or children may be deleted; others are retired."""
        with self.db.unit_of_work(self.actor) as s:
            grid = self._grid(s, grid_id)
            self._require_write(grid.village_id)
            used = (s.scalar(select(func.count()).where(g.Grid.parent_id == grid_id))
                    or s.scalar(select(func.count()).where(g.GridMember.grid_id == grid_id))
                    or s.scalar(select(func.count()).where(g.GridAssignment.grid_id == grid_id)))
            if used:
                raise DomainError(f"“{grid.name}”已有下级网格、成员或住户记录，不能删除；请改用“撤销”，历史会保留")
            for change in s.scalars(select(g.GridChange).where(g.GridChange.grid_id == grid_id)):
                s.delete(change)
            s.delete(grid)

    def history(self, grid_id: int) -> list[GridChangeRow]:
        with self.db.reader() as s:
            self._require_read(self._grid(s, grid_id).village_id)
            return [GridChangeRow(c.changed_on, c.kind, c.detail, c.username)
                    for c in s.scalars(select(g.GridChange).where(g.GridChange.grid_id == grid_id)
                                       .order_by(g.GridChange.changed_on, g.GridChange.id))]

    # ----- roster ---------------------------------------------------------------------------------
    def roster(self, grid_id: int, *, include_past: bool = False) -> list[MemberRow]:
        with self.db.reader() as s:
            grid = self._grid(s, grid_id)
            self._require_read(grid.village_id)
            query = (select(g.GridMember, m.Person.name, m.Person.phone)
                     .join(m.Person, m.Person.id == g.GridMember.person_id).where(g.GridMember.grid_id == grid_id))
            if not include_past:
                today = dt.date.today()
                query = query.where(serving_in(today, today))
            order = {r: i for i, r in enumerate(vocab("role").values)}
            rows = [MemberRow(x.id, x.grid_id, grid.code, x.person_id, name, x.role, x.duty, x.started_on, x.ended_on,
                              x.phone or phone) for x, name, phone in s.execute(query)]
        return sorted(rows, key=lambda r: (r.ended_on is not None, order.get(r.role, 99), r.started_on, r.id))

    def person_grids(self, person_id: int) -> list[MemberRow]:
        """Every grid post a person holds or held (a person may serve more than one grid)."""
        with self.db.reader() as s:
            rows = s.execute(select(g.GridMember, g.Grid.code, m.Person.name)
                             .join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                             .join(m.Person, m.Person.id == g.GridMember.person_id)
                             .where(g.GridMember.person_id == person_id, *self._own_grids())
                             .order_by(g.GridMember.started_on)).all()
            return [MemberRow(x.id, x.grid_id, code, x.person_id, name, x.role, x.duty, x.started_on, x.ended_on,
                              x.phone) for x, code, name in rows]

    def find_people(self, village_id: int | None, text: str, limit: int = 50) -> list[PersonChoice]:
        """Registry people by name, pinyin initials or ID tail, for the member picker."""
        text = remove_spaces(to_halfwidth(text or ""))
        with self.db.reader() as s:
            query = (select(m.Person.id, m.Person.name, m.Person.id_number, m.Person.phone, m.Household.number)
                     .outerjoin(m.HouseholdMember, m.HouseholdMember.person_id == m.Person.id)
                     .outerjoin(m.Household, m.Household.id == m.HouseholdMember.household_id))
            if village_id is not None:
                query = query.where(m.Person.village_id == village_id)
            visible = permissions.visible_village(self.actor)
            if visible is not None:
                query = query.where(m.Person.village_id == visible)
            if text:
                if text.isascii() and text.isalpha():
                    query = query.where(m.Person.name_initials.startswith(text.lower()))
                elif text.isascii():
                    query = query.where(m.Person.id_number.endswith(text.upper()))
                else:
                    query = query.where(m.Person.name.contains(text, autoescape=True))
            rows = s.execute(query.order_by(m.Person.name_initials, m.Person.name, m.Person.id).limit(limit)).all()
        return [PersonChoice(pid, name, mask_id_number(number), phone, household)
                for pid, name, number, phone, household in rows]

    def check_member(self, data: MemberInput) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        role = vocab("role").canonical(data.role)
        duty = vocab("duty").canonical(data.duty)
        if role is None:
            problems.append(FieldProblem("role", f"角色应为 {'、'.join(vocab('role').values)}"))
        if duty is None:
            problems.append(FieldProblem("duty", "专兼职应为 专职 或 兼职"))
        if data.started_on is None:
            problems.append(FieldProblem("started_on", "任职日期不能为空"))
        with self.db.reader() as s:
            grid = s.get(g.Grid, data.grid_id)
            if grid is None:
                return [FieldProblem("grid_id", "网格不存在")]
            self._require_write(grid.village_id)
            if not grid.active and data.id is None:
                problems.append(FieldProblem("grid_id", f"“{grid.name}”已撤销，不能再配备成员"))
            person = s.get(m.Person, data.person_id)
            if person is None:
                problems.append(FieldProblem("person_id", "人员不存在，请先在“人员/党员”中登记"))
            else:  # a clerk's grids are staffed with people the clerk may see: their own village's
                permissions.require_read(self.actor, person.village_id, "人员")
            problems += check_member(role, grid.level, data.started_on, data.ended_on)
            if role is not None and data.started_on is not None and not problems:
                far = dt.date(9999, 12, 31)
                end = data.ended_on or far
                overlapping = [x for x in s.scalars(select(g.GridMember).where(
                    g.GridMember.grid_id == data.grid_id, g.GridMember.started_on <= end,
                    or_(g.GridMember.ended_on.is_(None), g.GridMember.ended_on >= data.started_on)))
                    if x.id != data.id]
                if any(x.person_id == data.person_id and x.role == role for x in overlapping):
                    problems.append(FieldProblem("person_id", f"此人在这段时间已是本网格的{role}"))
                head = structure().head_role
                if role == head:
                    other = next((x for x in overlapping if x.role == head and x.person_id != data.person_id), None)
                    if other is not None:
                        name = s.scalar(select(m.Person.name).where(m.Person.id == other.person_id))
                        problems.append(head_clash(name or "", other.started_on))
        return problems

    def save_member(self, data: MemberInput) -> int:
        problems = self.check_member(data)
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            person = s.get(m.Person, data.person_id)
            if data.id is None:
                member = g.GridMember(grid_id=data.grid_id)
                s.add(member)
            else:
                member = s.get(g.GridMember, data.id)
                if member is None:
                    raise NotFound("这条网格成员记录已不存在")
                if member.grid_id != data.grid_id:
                    raise DomainError("成员记录不能移到另一个网格：请在原网格填写离任日期，再在新网格添加")
            member.person_id = data.person_id
            member.role = vocab("role").canonical(data.role) or data.role
            member.duty = vocab("duty").canonical(data.duty) or data.duty
            member.started_on = data.started_on  # type: ignore[assignment]
            member.ended_on = data.ended_on
            member.phone = normalize_phone(data.phone or "") or (person.phone if person else None)
            s.flush()
            return member.id

    def end_member(self, member_id: int, on: dt.date | None = None) -> None:
        """离任: the term ends, the record stays."""
        with self.db.unit_of_work(self.actor) as s:
            member = s.get(g.GridMember, member_id)
            if member is None:
                raise NotFound("这条网格成员记录已不存在")
            self._require_write(self._grid(s, member.grid_id).village_id)
            on = on or dt.date.today()
            if on < member.started_on:
                raise DomainError("离任日期不能早于任职日期")
            member.ended_on = on

    # ----- household assignment -----------------------------------------------------------------
    def households(self, village_id: int, *, group_id: int | None = None, address: str = "",
                   unassigned_only: bool = False, grid_id: int | None = None) -> list[HouseholdChoice]:
        """Households of a village for the assignment dialog: by 村民小组, address text, or current grid."""
        self._require_read(village_id)
        address = squeeze_spaces(to_halfwidth(address or ""))
        with self.db.reader() as s:
            current = (select(g.GridAssignment.household_id, g.GridAssignment.grid_id)
                       .where(g.GridAssignment.ended_on.is_(None)).subquery())
            head = (select(m.HouseholdMember.household_id, func.min(m.Person.name).label("head"))
                    .join(m.Person, m.Person.id == m.HouseholdMember.person_id)
                    .where(m.HouseholdMember.relation == "户主").group_by(m.HouseholdMember.household_id).subquery())
            size = (select(m.HouseholdMember.household_id, func.count().label("n"))
                    .group_by(m.HouseholdMember.household_id).subquery())
            query = (select(m.Household.id, m.Household.number, head.c.head, m.Household.group_id,
                            m.VillageGroup.name, m.Household.address, size.c.n, current.c.grid_id, g.Grid.code,
                            g.Grid.name)
                     .outerjoin(head, head.c.household_id == m.Household.id)
                     .outerjoin(size, size.c.household_id == m.Household.id)
                     .outerjoin(m.VillageGroup, m.VillageGroup.id == m.Household.group_id)
                     .outerjoin(current, current.c.household_id == m.Household.id)
                     .outerjoin(g.Grid, g.Grid.id == current.c.grid_id)
                     .where(m.Household.village_id == village_id))
            if group_id is not None:
                query = query.where(m.Household.group_id == group_id)
            if address:
                query = query.where(m.Household.address.contains(address, autoescape=True))
            if unassigned_only:
                query = query.where(current.c.grid_id.is_(None))
            if grid_id is not None:
                query = query.where(current.c.grid_id == grid_id)
            rows = s.execute(query.order_by(m.Household.number, m.Household.id)).all()
        return [HouseholdChoice(hid, number, head_name or "", gid, group or "", addr or "", n or 0, grid,
                                f"{code} {name}" if grid else "")
                for hid, number, head_name, gid, group, addr, n, grid, code, name in rows]

    def assign(self, household_ids: Sequence[int], grid_id: int, on: dt.date | None = None) -> AssignResult:
        """Put households into a micro-grid from ``on``: a household in another grid leaves it that day."""
        on = on or dt.date.today()
        wanted = list(dict.fromkeys(household_ids))
        if not wanted:
            raise DomainError("请先选择要划入的住户")
        created = moved = unchanged = 0
        with self.db.unit_of_work(self.actor) as s:
            grid = self._grid(s, grid_id)
            self._require_write(grid.village_id)
            wrong = check_household_grid(grid.level, grid.name)
            if wrong:
                raise DomainError(wrong[0].message)
            if not grid.active:
                raise DomainError(f"“{grid.name}”已撤销，不能再划入住户")
            villages = dict(s.execute(select(m.Household.id, m.Household.village_id)
                                      .where(m.Household.id.in_(wanted))).all())
            missing = [h for h in wanted if h not in villages]
            if missing:
                raise NotFound(f"有 {len(missing)} 户已不存在（可能已被删除），请刷新后重试")
            foreign = [h for h in wanted if villages[h] != grid.village_id]
            if foreign:
                raise DomainError(f"有 {len(foreign)} 户不属于“{grid.name}”所在的村，不能划入")
            open_rows = {a.household_id: a for a in s.scalars(select(g.GridAssignment).where(
                g.GridAssignment.household_id.in_(wanted), g.GridAssignment.ended_on.is_(None)))}
            for household_id in wanted:
                current = open_rows.get(household_id)
                if current is not None and current.grid_id == grid_id:
                    unchanged += 1
                    continue
                if current is not None:
                    if on < current.started_on:
                        raise DomainError(f"调整日期 {on:%Y-%m-%d} 早于该户划入原网格的日期 {current.started_on:%Y-%m-%d}")
                    moved += 1
                    if on == current.started_on:
                        current.grid_id = grid_id  # same day: a correction, not a move
                        continue
                    current.ended_on = on
                else:
                    created += 1
                s.add(g.GridAssignment(household_id=household_id, grid_id=grid_id, started_on=on))
        return AssignResult(created, moved, unchanged)

    def unassign(self, household_ids: Sequence[int], on: dt.date | None = None) -> int:
        """Households leave their micro-grid (e.g. moved away); their history stays."""
        on = on or dt.date.today()
        count = 0
        with self.db.unit_of_work(self.actor) as s:
            for row in s.scalars(select(g.GridAssignment).where(g.GridAssignment.household_id.in_(list(household_ids)),
                                                                 g.GridAssignment.ended_on.is_(None))):
                self._require_write(self._grid(s, row.grid_id).village_id)
                row.ended_on = max(on, row.started_on)
                count += 1
        return count

    def household_history(self, household_id: int) -> list[AssignmentRow]:
        with self.db.reader() as s:
            household = s.get(m.Household, household_id)
            if household is None:
                raise NotFound("这户已不存在")
            self._require_read(household.village_id)
            rows = s.execute(select(g.GridAssignment, g.Grid.code, g.Grid.name)
                             .join(g.Grid, g.Grid.id == g.GridAssignment.grid_id)
                             .where(g.GridAssignment.household_id == household_id)
                             .order_by(g.GridAssignment.started_on, g.GridAssignment.id)).all()
            return [AssignmentRow(a.household_id, a.grid_id, code, name, a.started_on, a.ended_on)
                    for a, code, name in rows]

    # ----- coverage -------------------------------------------------------------------------------
    def coverage(self, on: dt.date | None = None) -> CoverageReport:
        """Households in no micro-grid, grids without members or 网格长, members by role — per village and in total."""
        on = on or dt.date.today()
        st = structure()
        visible = permissions.visible_village(self.actor)
        with self.db.reader() as s:
            villages = s.execute(select(m.Village.id, m.Village.name).order_by(m.Village.code)).all()
            if visible is not None:
                villages = [v for v in villages if v[0] == visible]
            by_id = {vid: Coverage(vid, name) for vid, name in villages}
            for vid, number, assigned in s.execute(
                    select(m.Household.village_id, m.Household.number, g.GridAssignment.id)
                    .outerjoin(g.GridAssignment, and_(g.GridAssignment.household_id == m.Household.id,
                                                      g.GridAssignment.ended_on.is_(None)))
                    .order_by(m.Household.number)):
                cov = by_id.get(vid)
                if cov is None:
                    continue
                cov.households += 1
                if assigned is not None:
                    cov.assigned += 1
                else:
                    cov.unassigned_numbers.append(number)
            grids = s.execute(select(g.Grid.id, g.Grid.village_id, g.Grid.level, g.Grid.code, g.Grid.name)
                              .where(g.Grid.active.is_(True)).order_by(g.Grid.code)).all()
            roles: dict[int, Counter[str]] = defaultdict(Counter)
            for grid_id, role in s.execute(select(g.GridMember.grid_id, g.GridMember.role)
                                           .where(serving_in(on, on))):
                roles[grid_id][role] += 1
        for grid_id, vid, level, code, name in grids:
            cov = by_id.get(vid)
            if cov is None:
                continue
            cov.grids[level] = cov.grids.get(level, 0) + 1
            counts = roles.get(grid_id, Counter())
            for role, n in counts.items():
                cov.members_by_role[role] = cov.members_by_role.get(role, 0) + n
            if not counts:
                cov.grids_without_member.append(f"{code} {name}")
            if level in st.head_required_levels and not counts.get(st.head_role):
                cov.grids_without_head.append(f"{code} {name}")
        total = Coverage(None, "合计")
        for cov in by_id.values():
            total.households += cov.households
            total.assigned += cov.assigned
            for level, n in cov.grids.items():
                total.grids[level] = total.grids.get(level, 0) + n
            for role, n in cov.members_by_role.items():
                total.members_by_role[role] = total.members_by_role.get(role, 0) + n
            total.grids_without_member += cov.grids_without_member
            total.grids_without_head += cov.grids_without_head
            total.unassigned_numbers += [f"{cov.name}{x}" for x in cov.unassigned_numbers]
        return CoverageReport(list(by_id.values()), total)

    def warnings(self) -> list[str]:
        """Coverage gaps as Chinese sentences (for ``townapp check`` and the coverage page)."""
        report = self.coverage()
        out = []
        head = structure().head_role
        for cov in report.villages:
            if cov.households and cov.unassigned:
                shown = "、".join(cov.unassigned_numbers[:5]) + ("等" if cov.unassigned > 5 else "")
                out.append(f"{cov.name}：{cov.unassigned} 户未划入任何微网格（户编号 {shown}）")
            if cov.grids_without_member:
                out.append(f"{cov.name}：{len(cov.grids_without_member)} 个网格没有在任成员（"
                           + "、".join(cov.grids_without_member[:3]) + ("等" if len(cov.grids_without_member) > 3 else "")
                           + "）")
            if cov.grids_without_head:
                out.append(f"{cov.name}：{len(cov.grids_without_head)} 个网格没有{head}（"
                           + "、".join(cov.grids_without_head[:3]) + ("等" if len(cov.grids_without_head) > 3 else "")
                           + "）")
        return out

    # ----- monthly assessment -----------------------------------------------------------------
    def _month(self, s: Session, year: int, month: int, *, create: bool = False) -> g.GridMonth | None:
        month_bounds(year, month)
        township = self._township_id(s)
        row = s.scalar(select(g.GridMonth).where(g.GridMonth.township_id == township, g.GridMonth.year == year,
                                                 g.GridMonth.month == month))
        if row is None and create:
            row = g.GridMonth(township_id=township, year=year, month=month, status=DRAFT, locked=False)
            s.add(row)
            s.flush()
        return row

    @staticmethod
    def _state(year: int, month: int, row: g.GridMonth | None) -> MonthState:
        if row is None:
            return MonthState(year, month, DRAFT, False, None, None, None, None)
        return MonthState(year, month, row.status, row.locked, row.submitted_by, row.approved_by, row.approved_at,
                          row.unlocked_by)

    def month_state(self, year: int, month: int) -> MonthState:
        with self.db.reader() as s:
            return self._state(year, month, self._month(s, year, month))

    def month_scheme(self, year: int, month: int) -> Scheme:
        """The scheme a month is computed with: its own once approved, else the current file."""
        with self.db.reader() as s:
            row = self._month(s, year, month)
            return scheme_from_json(row.scheme_json) if row is not None and row.scheme_json else self.scheme

    def _sheet_rows(self, s: Session, year: int, month: int, row: g.GridMonth | None,
                    scheme: Scheme) -> list[SheetRow]:
        start, end = month_bounds(year, month)
        stored: dict[int, g.GridAssessment] = {}
        if row is not None:
            stored = {a.member_id: a for a in s.scalars(select(g.GridAssessment).where(g.GridAssessment.month_id == row.id))}
        query = (select(g.GridMember, g.Grid.code, g.Grid.name, g.Grid.village_id, m.Village.name, m.Village.code,
                        m.Person.name)
                 .join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                 .join(m.Village, m.Village.id == g.Grid.village_id)
                 .join(m.Person, m.Person.id == g.GridMember.person_id))
        if row is not None and row.locked:
            query = query.where(g.GridMember.id.in_(list(stored)) if stored else false())
        else:
            assessed = and_(serving_in(start, end), g.GridMember.role.in_(scheme.assessed_roles),
                            or_(g.Grid.active.is_(True), g.Grid.retired_on >= start))
            query = query.where(or_(assessed, g.GridMember.id.in_(list(stored))) if stored else assessed)
        visible = permissions.visible_village(self.actor)
        if visible is not None:
            query = query.where(g.Grid.village_id == visible)
        role_order = {r: i for i, r in enumerate(vocab("role").values)}
        members = sorted(s.execute(query).all(),
                         key=lambda r: (r[5], r[1], role_order.get(r[0].role, 99), r[6], r[0].id))
        computed = []
        for member, code, name, vid, vname, _vcode, pname in members:
            a = stored.get(member.id)
            scores = load_scores(a.scores) if a else {}
            scores = {item.key: scores.get(item.key) for item in scheme.items}
            deduction = a.deduction if a else 0
            total = total_tenths(scheme, scores, deduction)
            computed.append((member, code, name, vid, vname, pname, a, scores, deduction, total))
        ranks = competition_ranks({c[0].id: c[9] for c in computed})
        out = []
        for member, code, name, vid, vname, pname, a, scores, deduction, total in computed:
            line = subsidy_for(scheme, total, member.role) if total is not None else None
            out.append(SheetRow(member.id, vid, vname, code, name, member.person_id, pname, member.role, member.duty,
                                scores, deduction, a.deduction_reason if a else None, a.note if a else None, total,
                                ranks.get(member.id), line.band.label if line else "",
                                line.performance_fen if line else None, line.allowance_fen if line else None,
                                line.subsidy_fen if line else None))
        return out

    def month_sheet(self, year: int, month: int, village_id: int | None = None) -> MonthSheet:
        """The month's rows (every assessed member), with live totals, township ranks and subsidies."""
        if village_id is not None:
            self._require_read(village_id)
        with self.db.reader() as s:
            row = self._month(s, year, month)
            scheme = scheme_from_json(row.scheme_json) if row is not None and row.scheme_json else self.scheme
            rows = self._sheet_rows(s, year, month, row, scheme)
            state = self._state(year, month, row)
        if village_id is not None:
            rows = [r for r in rows if r.village_id == village_id]
        return MonthSheet(state, rows)

    @staticmethod
    def _refuse_locked(row: g.GridMonth | None, year: int, month: int) -> None:
        if row is not None and row.locked:
            raise DomainError(locked_month(year, month))

    def save_scores(self, year: int, month: int, entries: Iterable[ScoreEntry]) -> int:
        """Save rows of the month sheet; a locked month refuses, a submitted one goes back to 草稿."""
        entries = list(entries)
        scheme = self.month_scheme(year, month)
        problems: list[FieldProblem] = []
        with self.db.unit_of_work(self.actor) as s:
            row = self._month(s, year, month, create=True)
            assert row is not None
            self._refuse_locked(row, year, month)
            start, end = month_bounds(year, month)
            ids = [e.member_id for e in entries]
            members = {x.id: (x, vid, name) for x, vid, name in s.execute(
                select(g.GridMember, g.Grid.village_id, m.Person.name)
                .join(g.Grid, g.Grid.id == g.GridMember.grid_id).join(m.Person, m.Person.id == g.GridMember.person_id)
                .where(g.GridMember.id.in_(ids)))}
            stored = {a.member_id: a for a in s.scalars(select(g.GridAssessment).where(
                g.GridAssessment.month_id == row.id, g.GridAssessment.member_id.in_(ids)))}
            saved = 0
            for entry in entries:
                found = members.get(entry.member_id)
                if found is None:
                    raise NotFound("有网格成员记录已不存在，请刷新后重试")
                member, village_id, name = found
                self._require_write(village_id)
                if member.started_on > end or (member.ended_on is not None and member.ended_on < start):
                    problems.append(FieldProblem("member_id", f"{name}：{year}年{month}月不在任，不能考核"))
                    continue
                reason = clean_free_text(entry.deduction_reason or "") or None
                for p in check_scores(scheme, entry.scores, entry.deduction, reason):
                    problems.append(FieldProblem(p.field, f"{name}：{p.message}"))
                if problems:
                    continue
                a = stored.get(entry.member_id)
                if a is None:
                    a = g.GridAssessment(month_id=row.id, member_id=entry.member_id)
                    s.add(a)
                a.scores = dump_scores({k: entry.scores.get(k) for k in (i.key for i in scheme.items)})
                a.deduction = entry.deduction
                a.deduction_reason = reason
                a.note = clean_free_text(entry.note or "") or None
                a.total = total_tenths(scheme, entry.scores, entry.deduction)
                a.performance_fen = a.allowance_fen = a.subsidy_fen = None  # fixed at approval
                saved += 1
            if problems:
                raise ValidationFailed(problems)
            if row.status in (SUBMITTED,):
                row.status, row.submitted_by = DRAFT, None
        return saved

    def submit_month(self, year: int, month: int) -> None:
        """提交审批: every assessed member must be fully scored; a different person then approves."""
        permissions.require_township(self.actor, "提交网格员考核审批")
        with self.db.unit_of_work(self.actor) as s:
            row = self._month(s, year, month, create=True)
            assert row is not None
            self._refuse_locked(row, year, month)
            if row.status == SUBMITTED:
                raise DomainError(f"{year}年{month}月的考核已提交，等待审批")
            self._require_complete(s, year, month, row)
            row.status, row.submitted_by = SUBMITTED, self.actor.username

    def _require_complete(self, s: Session, year: int, month: int, row: g.GridMonth) -> list[SheetRow]:
        scheme = scheme_from_json(row.scheme_json) if row.scheme_json else self.scheme
        rows = self._sheet_rows(s, year, month, row, scheme)
        if not rows:
            raise DomainError(f"{year}年{month}月没有需要考核的网格成员")
        missing = [r.name for r in rows if r.total is None]
        if missing:
            shown = "、".join(missing[:8]) + (f"等{len(missing)}人" if len(missing) > 8 else "")
            raise DomainError(f"还有未录完得分的成员：{shown}。请录完全部考核项目后再提交")
        return rows

    def approve_month(self, year: int, month: int) -> int:
        """审批: by a person other than the one who submitted; subsidies are fixed and the month is locked."""
        permissions.require_township(self.actor, "审批网格员考核")
        with self.db.unit_of_work(self.actor) as s:
            row = self._month(s, year, month)
            if row is None or row.status != SUBMITTED:
                raise DomainError(f"{year}年{month}月的考核还没有提交审批")
            if row.submitted_by == self.actor.username:
                raise DomainError("审批须由提交人以外的另一人进行（双人复核）：请换一个账号审批")
            return self._lock(s, year, month, row)

    def _lock(self, s: Session, year: int, month: int, row: g.GridMonth) -> int:
        if not row.scheme_json:
            row.scheme_json = scheme_to_json(self.scheme)
        rows = self._require_complete(s, year, month, row)
        stored = {a.member_id: a for a in s.scalars(select(g.GridAssessment).where(g.GridAssessment.month_id == row.id))}
        for r in rows:
            a = stored[r.member_id]
            a.total, a.performance_fen, a.allowance_fen, a.subsidy_fen = (r.total, r.performance_fen, r.allowance_fen,
                                                                            r.subsidy_fen)
        row.status, row.locked = APPROVED, True
        row.approved_by, row.approved_at = self.actor.username, utcnow()
        return len(rows)

    def unlock_month(self, year: int, month: int, reason: str) -> None:
        """解锁 for a correction; the reason goes into the audit log with the change."""
        permissions.require_township(self.actor, "解锁网格员考核")
        reason = squeeze_spaces(reason or "")
        if not reason:
            raise ValidationFailed([FieldProblem("reason", "解锁须填写原因")])
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            row = self._month(s, year, month)
            if row is None or not row.locked:
                raise DomainError(f"{year}年{month}月的考核没有锁定，无需解锁")
            row.locked, row.status, row.unlocked_by = False, UNLOCKED, self.actor.username

    def relock_month(self, year: int, month: int, reason: str) -> int:
        """重新锁定 after a correction: by someone other than who unlocked it; subsidies are recomputed."""
        permissions.require_township(self.actor, "重新锁定网格员考核")
        reason = squeeze_spaces(reason or "")
        if not reason:
            raise ValidationFailed([FieldProblem("reason", "重新锁定须填写原因（如更正了哪些内容）")])
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            row = self._month(s, year, month)
            if row is None or row.status != UNLOCKED:
                raise DomainError(f"{year}年{month}月的考核不是解锁状态")
            if row.unlocked_by == self.actor.username:
                raise DomainError("重新锁定须由解锁人以外的另一人进行（双人复核）：请换一个账号")
            return self._lock(s, year, month, row)

    def months(self, year: int) -> list[MonthState]:
        with self.db.reader() as s:
            township = self._township_id(s)
            rows = {r.month: r for r in s.scalars(select(g.GridMonth).where(g.GridMonth.township_id == township,
                                                                              g.GridMonth.year == year))}
            return [self._state(year, mo, rows.get(mo)) for mo in range(1, 13)]

    # ----- subsidy list -----------------------------------------------------------------------
    def subsidy_list(self, year: int, month: int, village_id: int | None = None) -> SubsidyList:
        """补助发放表 of an approved month (amounts as fixed at approval)."""
        if village_id is not None:
            self._require_read(village_id)
        with self.db.reader() as s:
            row = self._month(s, year, month)
            if row is None or not row.locked:
                raise DomainError(f"{year}年{month}月的考核尚未审批锁定，不能出补助发放表")
            township = s.scalar(select(m.Township.name).where(m.Township.id == row.township_id)) or ""
            scheme = scheme_from_json(row.scheme_json)
            sheet = self._sheet_rows(s, year, month, row, scheme)
            stored = {a.member_id: a for a in s.scalars(select(g.GridAssessment).where(g.GridAssessment.month_id == row.id))}
            approved_by = row.approved_by
            lines = []
            for r in sheet:
                if village_id is not None and r.village_id != village_id:
                    continue
                a = stored[r.member_id]
                lines.append(SubsidyRow(len(lines) + 1, r.village, f"{r.grid_code} {r.grid_name}", r.name, r.role,
                                        r.duty, a.total or 0, r.band, a.performance_fen or 0, a.allowance_fen or 0,
                                        a.subsidy_fen or 0))
        return SubsidyList(scheme.list_title, township, year, month, approved_by, lines, scheme.signature_header)

    # ----- 最美网格员 -------------------------------------------------------------------------------
    def star_candidates(self, year: int, month: int) -> list[SheetRow]:
        """The month's top scores (per village or township-wide, as the scheme says): a person decides among them."""
        sheet = self.month_sheet(year, month)
        scheme = self.month_scheme(year, month)
        scored = [r for r in sheet.rows if r.total is not None]
        groups: dict[int | None, list[SheetRow]] = defaultdict(list)
        for r in scored:
            groups[r.village_id if scheme.best_scope == "village" else None].append(r)
        out: list[SheetRow] = []
        for rows in groups.values():
            rows.sort(key=lambda r: (-(r.total or 0), r.rank or 0, r.member_id))
            if not rows:
                continue
            cutoff = rows[min(scheme.best_candidates, len(rows)) - 1].total
            out += [r for r in rows if (r.total or 0) >= (cutoff or 0)]  # ties at the cut-off stay in
        return sorted(out, key=lambda r: (-(r.total or 0), r.village, r.member_id))

    def stars(self, year: int, month: int) -> list[StarRow]:
        with self.db.reader() as s:
            row = self._month(s, year, month)
            if row is None:
                return []
            found = s.execute(select(g.GridStar, m.Person.name, g.Grid.code, g.Grid.name, m.Village.name,
                                     g.GridAssessment.total)
                              .join(g.GridMember, g.GridMember.id == g.GridStar.member_id)
                              .join(m.Person, m.Person.id == g.GridMember.person_id)
                              .join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                              .join(m.Village, m.Village.id == g.GridStar.village_id)
                              .outerjoin(g.GridAssessment, and_(g.GridAssessment.month_id == row.id,
                                                                g.GridAssessment.member_id == g.GridStar.member_id))
                              .where(g.GridStar.month_id == row.id, *self._own_grids())
                              .order_by(g.GridStar.id)).all()
            found = [(st.member_id, st.village_id, st.deeds, st.chosen_by, pname, code, gname, vname, total)
                     for st, pname, code, gname, vname, total in found]
        ranks = {r.member_id: r.rank for r in self.month_sheet(year, month).rows}
        return [StarRow(mid, vid, vname, pname, f"{code} {gname}", total, ranks.get(mid), deeds, chosen_by)
                for mid, vid, deeds, chosen_by, pname, code, gname, vname, total in found]

    def choose_star(self, year: int, month: int, member_id: int, deeds: str) -> None:
        """评选最美网格员: only from the approved month's candidates, within the configured count, with 事迹."""
        permissions.require_township(self.actor, "评选最美网格员")
        deeds = squeeze_spaces(deeds or "")
        if len(deeds) < 10:
            raise ValidationFailed([FieldProblem("deeds", "请填写主要事迹（不少于10个字）")])
        state = self.month_state(year, month)
        if not state.locked:
            raise DomainError(f"{state.label}的考核审批锁定后才能评选最美网格员")
        scheme = self.month_scheme(year, month)
        candidates = {r.member_id: r for r in self.star_candidates(year, month)}
        chosen = candidates.get(member_id)
        if chosen is None:
            raise DomainError(f"只能从{state.label}得分前 {scheme.best_candidates} 名中评选")
        existing = self.stars(year, month)
        if any(x.member_id == member_id for x in existing):
            raise DomainError(f"{chosen.name} 已是{state.label}的最美网格员")
        same_scope = [x for x in existing if scheme.best_scope == "township" or x.village_id == chosen.village_id]
        if len(same_scope) >= scheme.best_count:
            where = "全乡镇" if scheme.best_scope == "township" else chosen.village
            raise DomainError(f"{where}{state.label}的最美网格员已评满 {scheme.best_count} 名")
        with self.db.unit_of_work(self.actor) as s:
            row = self._month(s, year, month)
            assert row is not None
            s.add(g.GridStar(month_id=row.id, member_id=member_id, village_id=chosen.village_id, deeds=deeds,
                             chosen_by=self.actor.username))

    def remove_star(self, year: int, month: int, member_id: int) -> None:
        permissions.require_township(self.actor, "撤销最美网格员评选")
        with self.db.unit_of_work(self.actor) as s:
            row = self._month(s, year, month)
            star = None if row is None else s.scalar(select(g.GridStar).where(g.GridStar.month_id == row.id,
                                                                                g.GridStar.member_id == member_id))
            if star is None:
                raise NotFound("没有这条最美网格员记录")
            s.delete(star)

    # ----- set-based writes (imports, packages) --------------------------------------------------
    def batch_writer(self, conn: Connection, *, batch_id: int | None = None, reason: str | None = None,
                     now: dt.datetime | None = None) -> GridBatch:
        """The grids' door for set-based writes (imports, packages): see ``ModuleBatch.open``."""
        return GridBatch.open(conn, self.actor, "网格数据", batch_id=batch_id, reason=reason, now=now)

    # ----- small helpers for the pages -----------------------------------------------------------
    def micro_grids(self, village_id: int) -> list[GridNode]:
        level = structure().household_level
        return [n for n in self.tree(village_id, include_retired=False) if n.level == level]

    def village_groups(self, village_id: int) -> list[tuple[int, str]]:
        self._require_read(village_id)
        with self.db.reader() as s:
            return [(r[0], r[1]) for r in s.execute(select(m.VillageGroup.id, m.VillageGroup.name)
                                                    .where(m.VillageGroup.village_id == village_id)
                                                    .order_by(m.VillageGroup.id))]


class GridBatch(ModuleBatch):
    """Set-based writes of the grids' tables, each audited per record (see ``db/batch.py``).

    Only ``GridService.batch_writer`` makes one, after its role check; the import
    adapters turn rows into records and hand them here, with the module's compound
    writes below (parents and their history, households leaving their old micro-grid).
    """

    models = (g.Grid, g.GridChange, g.GridMember, g.GridAssignment, g.GridMonth, g.GridAssessment, g.GridStar)

    @property
    def _conn(self) -> Connection:
        return self.writer.conn

    def _unchecked(self) -> GridBatch:
        """The same writes without the writer's one-hop village check, for what this class checked itself."""
        return GridBatch(replace(self.writer, only_village=None))

    # ----- the tree ---------------------------------------------------------------------------
    def set_parents(self, parents: Mapping[int, int | None]) -> tuple[dict[int, int | None], set[int]]:
        """Hang grids under new parents; returns each grid's parent before and the ids refused."""
        before: dict[int, int | None] = {}
        for part in self.parts(sorted(parents)):
            before.update(self._conn.execute(select(g.Grid.id, g.Grid.parent_id).where(g.Grid.id.in_(part))).all())
        moved = [{"id": i, "parent_id": p} for i, p in parents.items() if i in before and before[i] != p]
        return before, self.update(g.Grid, moved)

    def log_changes(self, changes: Sequence[tuple[int, str, str]]) -> set[int]:
        """The grids' history (新建, 调整上级 …) on the batch's day, by its user: ``(grid id, kind, detail)``."""
        now, username = self.writer.now, self.writer.actor.username
        return self.create(g.GridChange, [dict(grid_id=i, changed_on=now.date(), kind=kind, detail=detail,
                                               username=username, at=now) for i, kind, detail in changes])[1]

    def delete_grids(self, ids: Sequence[int]) -> None:
        """County mode: grids a township's new package no longer has (children unhooked, history gone)."""
        for part in self.parts(ids):
            self.change_where(g.Grid, g.Grid.parent_id.in_(part), {"parent_id": None})
            self.remove_where(g.GridChange, g.GridChange.grid_id.in_(part))
            self.remove(g.Grid, part)

    # ----- households ---------------------------------------------------------------------------
    def close_assignments(self, arrivals: Sequence[tuple[int, dt.date]]) -> set[int]:
        """Households arriving in a micro-grid on a day leave the one they were in since earlier, that day.

        ``arrivals`` are (household id, day) in the order given; returns the households refused.
        """
        open_rows: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
        for part in self.parts(sorted({h for h, _ in arrivals})):
            for rid, hid, started in self._conn.execute(
                    select(g.GridAssignment.id, g.GridAssignment.household_id, g.GridAssignment.started_on)
                    .where(g.GridAssignment.household_id.in_(part), g.GridAssignment.ended_on.is_(None))):
                open_rows[hid].append((rid, started))
        ended: dict[int, dt.date] = {}
        household_of: dict[int, int] = {}
        for hid, day in arrivals:
            left = [(rid, started) for rid, started in open_rows[hid] if started < day]
            for rid, _started in left:
                ended[rid], household_of[rid] = day, hid
            open_rows[hid] = [x for x in open_rows[hid] if x not in left]
        refused = self.update(g.GridAssignment, [{"id": rid, "ended_on": day} for rid, day in ended.items()])
        return {household_of[rid] for rid in refused}

    # ----- the monthly assessment ------------------------------------------------------------------
    def ensure_months(self, township: int, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
        """Draft months for (year, month) keys that have none yet; returns their ids.

        A month belongs to the township, not to a village: a clerk's scores open it as their
        month sheet does (``GridService.save_scores``).
        """
        wanted = list(dict.fromkeys(keys))
        ids, _refused = self._unchecked().create(g.GridMonth, [dict(township_id=township, year=y, month=mo,
                                                                    status=DRAFT, locked=False) for y, mo in wanted])
        return {key: i for key, i in zip(wanted, ids, strict=True) if i is not None}

    def _members_outside(self, member_ids: Iterable[int]) -> set[int]:
        """Members whose grid is not in the one village this writer may change (none for township roles)."""
        village = self.writer.only_village
        if village is None:
            return set()
        outside: set[int] = set()
        for part in self.parts(sorted(set(member_ids))):
            outside.update(self._conn.scalars(select(g.GridMember.id).join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                                              .where(g.GridMember.id.in_(part), g.Grid.village_id != village)))
        return outside

    def create(self, model: type, records: Sequence[Mapping[str, Any]]) -> tuple[list[int | None], set[int]]:
        """``ModuleBatch.create``; an assessment's village is its member's grid's, two steps away."""
        if model is not g.GridAssessment or self.writer.only_village is None:
            return super().create(model, records)
        outside = self._members_outside(r["member_id"] for r in records)
        refused = {i for i, r in enumerate(records) if r["member_id"] in outside}
        kept = [r for i, r in enumerate(records) if i not in refused]
        made = iter(ModuleBatch.create(self._unchecked(), model, kept)[0])
        return [None if i in refused else next(made) for i in range(len(records))], refused

    def update(self, model: type, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """``ModuleBatch.update``; an assessment is checked by its member's grid, before and after."""
        if model is not g.GridAssessment or self.writer.only_village is None:
            return super().update(model, rows)
        stored: dict[int, int] = {}
        for part in self.parts([r["id"] for r in rows]):
            stored.update(self._conn.execute(select(g.GridAssessment.id, g.GridAssessment.member_id)
                                             .where(g.GridAssessment.id.in_(part))).all())
        outside = self._members_outside([*stored.values(), *(r["member_id"] for r in rows if "member_id" in r)])
        refused = {r["id"] for r in rows if stored.get(r["id"]) in outside or r.get("member_id") in outside
                   or r["id"] not in stored}
        ModuleBatch.update(self._unchecked(), model, [r for r in rows if r["id"] not in refused])
        return refused
