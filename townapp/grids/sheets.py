"""The grids' sheets for the exchange: 网格, 网格成员, 住户网格, 网格员月度考核.

One spec per entity drives templates, import and export; the adapters match
rows by natural keys (grid code in the township, 身份证号, 户编号, 年+月),
apply the same rules as the service (tree levels, item maxima, a reason for
every deduction, locked months refused) and write with Core statements.
Assessment item columns come from the scheme file, so a new item needs no code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from townapp.core.errors import DomainError
from townapp.core.money import MoneyError, parse_yuan
from townapp.exchange import spec as s
from townapp.exchange.spec import ColumnSpec, ImportContext, Row, SheetAdapter, SheetSpec
from townapp.grids import models as g
from townapp.grids.scheme import current_scheme, format_points, structure, vocab
from townapp.grids.service import GridBatch, GridService, dump_scores, load_scores
from townapp.grids.subsidy import total_tenths
from townapp.grids.validation import (
    GridFacts,
    check_grid_fields,
    check_household_grid,
    check_level_change,
    check_member,
    check_parent,
    head_clash,
    locked_month,
    month_bounds,
    read_scores,
)
from townapp.registry import models as m
from townapp.registry.sheets import (
    VillageLookup,
    _refuse,
    announce_new_people,
    check_people,
    household_ids,
    id_number_problem,
    refuse_unknown_person,
    register_people,
    township_id,
    village_reference_columns,
    write_rows,
)

CHUNK = 500
POINTS_PATTERN = r"\d{1,3}(\.\d)?"


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _township_filter(query: Any, township_code: str | None, village_id: int | None = None) -> Any:
    """One township's rows (all when None), and only ``village_id``'s when given (a clerk's export)."""
    if village_id is not None:
        query = query.where(m.Village.id == village_id)
    if township_code is None:
        return query
    return query.join(m.Township, m.Township.id == m.Village.township_id).where(m.Township.code == township_code)


def _grid_codes(conn: Connection, township: int | None) -> dict[str, dict[str, Any]]:
    """code → {id, village_id, level, active} of the township's grids."""
    query = select(g.Grid.id, g.Grid.code, g.Grid.village_id, g.Grid.level, g.Grid.active)
    if township is not None:
        query = query.where(g.Grid.township_id == township)
    return {r.code: dict(r._mapping) for r in conn.execute(query)}


# the grid rules' fields (grids/validation.py) as the 网格 sheet's columns
_GRID_COLUMNS = {"parent_id": "parent_code", "party_group_id": "party_group"}


def _facts(record: dict[str, Any]) -> GridFacts:
    return GridFacts(record["id"], record["village_id"], record["level"], record["name"], record["active"])


def _up_from(code: str, existing: dict[str, dict[str, Any]], code_of: dict[int, str]) -> set[str]:
    """``code`` and the codes of its stored ancestors (a grid may not hang below itself)."""
    seen: set[str] = set()
    while code and code not in seen:
        seen.add(code)
        parent = existing.get(code, {}).get("parent_id")
        code = code_of.get(parent, "") if parent is not None else ""
    return seen


def _people(conn: Connection, numbers: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in _chunks(sorted(numbers)):
        found.update(dict(conn.execute(select(m.Person.id_number, m.Person.id).where(m.Person.id_number.in_(part))).all()))
    return found


def _door(conn: Connection, ctx: ImportContext) -> GridBatch:
    """The grid service's set-based writer for this import: the adapters never write themselves."""
    return GridService(ctx.db, ctx.actor).batch_writer(conn, batch_id=ctx.batch_id, reason=ctx.reason, now=ctx.now)


class _Adapter(SheetAdapter):
    """Shared apply: created rows' ``values`` and updated rows' ``changes`` through the service's door."""

    model: type
    village_scoped = True

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        write_rows(_door(conn, ctx), self.model, rows, ctx)

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).remove(self.model, ids)

    @staticmethod
    def _compare(row: Row, hit: dict[str, Any] | None, values: dict[str, Any]) -> None:
        row.data["values"] = values
        if hit is None:
            row.action = "created"
            return
        row.entity_id = hit["id"]
        changes = {k: v for k, v in values.items() if hit.get(k) != v}
        row.data["changes"] = changes
        row.action = "updated" if changes else "unchanged"


# ----- 网格 ---------------------------------------------------------------------------------------
class GridAdapter(_Adapter):
    entity = "grid"
    model = g.Grid

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        township = township_id(conn, ctx)
        if township is None:
            return
        villages = VillageLookup(conn, township)
        existing = {code: dict(r._mapping) for code, r in (
            (r.code, r) for r in conn.execute(select(g.Grid).where(g.Grid.township_id == township)))}
        in_file: dict[str, GridFacts] = {}  # code → the file's grid (its stored id, if any)
        pending = []
        for row in rows:
            if row.failed:
                continue
            vid = villages.resolve(row, ctx, required=True)
            code = str(row.get("code", "")).upper()
            if vid is None:
                continue
            hit = existing.get(code)
            if hit is not None and hit["village_id"] != vid:
                ctx.error(row, "code", "conflict", f"网格编码 {code} 已属于另一个村的网格，编码在全乡镇唯一")
                continue
            stored = hit or {}
            in_file[code] = GridFacts(stored.get("id"), vid, row.get("level") or stored.get("level"),
                                      row.get("name") or stored.get("name", ""),
                                      row.get("state") != "已撤销" if row.has("state") else stored.get("active", True))
            pending.append((row, vid, code, hit))
        code_of = {record["id"]: code for code, record in existing.items()}
        in_use = self._in_use(conn, [hit["id"] for row, _v, code, hit in pending
                                     if hit is not None and in_file[code].level != hit["level"]])
        groups: dict[tuple[int, str], int] = {}
        for bid, vid, name in conn.execute(select(m.PartyBranch.id, m.PartyBranch.village_id, m.PartyBranch.name)
                                           .where(m.PartyBranch.village_id.is_not(None))):
            groups[(vid, name)] = bid
        for row, vid, code, hit in pending:
            stored = hit or {}
            level, problems = check_grid_fields(code, in_file[code].name, in_file[code].level)
            parent_code = (row.get("parent_code") or "").upper() or None
            if parent_code is None and hit is not None and not row.has("parent_code"):
                parent_code = code_of.get(hit["parent_id"])  # an empty cell keeps the stored parent
            parent = None
            if parent_code:
                parent = in_file.get(parent_code) or (_facts(existing[parent_code]) if parent_code in existing else None)
                if parent is None:
                    ctx.error(row, "parent_code", "unknown_grid", f"上级网格编码 {parent_code} 不存在：请先登记上级网格，"
                              "或把它放在本表中")
                    continue
            if level is not None:
                problems += check_parent(level, vid, parent, current_parent=stored.get("parent_id"),
                                         loops=parent_code is not None and code in _up_from(parent_code, existing, code_of))
                if hit is not None:
                    problems += check_level_change(hit["level"], level, in_use=hit["id"] in in_use)
            for problem in problems:
                column = _GRID_COLUMNS.get(problem.field, problem.field)
                missing = ((problem.field == "name" and not in_file[code].name)
                           or (problem.field == "level" and not in_file[code].level)
                           or (problem.field == "parent_id" and parent is None))
                ctx.error(row, column, "required" if missing else "rule", problem.message)
            if row.failed:
                continue
            values: dict[str, Any] = {"village_id": vid, "township_id": township, "code": code}
            for key in ("name", "level", "scope"):
                if row.has(key):
                    values[key] = row.get(key)
            if row.has("state"):
                values["active"] = row.get("state") != "已撤销"
            if row.has("retired_on"):
                values["retired_on"] = row.get("retired_on")
            if row.has("party_group"):
                name = row.get("party_group")
                values["party_group_id"] = groups.get((vid, name)) if name else None
                if name and values["party_group_id"] is None:
                    ctx.error(row, "party_group", "unknown_branch", f"本村没有名为“{name}”的党组织，请先在党组织中登记")
                    continue
            if hit is None:
                values.setdefault("active", True)
            row.data["parent_code"] = parent_code
            if hit is not None and row.has("parent_code"):
                row.data["old_parent"] = hit["parent_id"]
            self._compare(row, hit, values)

    @staticmethod
    def _in_use(conn: Connection, ids: list[int]) -> set[int]:
        """Grids with children or households (their level may not change)."""
        used: set[int] = set()
        for part in _chunks(ids):
            used.update(conn.scalars(select(g.Grid.parent_id).where(g.Grid.parent_id.in_(part))))
            used.update(conn.scalars(select(g.GridAssignment.grid_id).where(g.GridAssignment.grid_id.in_(part))))
        return used

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        super().apply(conn, rows, ctx)
        door = _door(conn, ctx)
        codes = _grid_codes(conn, township_id(conn, ctx))
        # an empty cell keeps the stored parent; a parent the door refused leaves its child refused too
        placed = [row for row in rows if not row.failed and row.has("parent_code")
                  and (not row.data.get("parent_code") or row.data["parent_code"] in codes)]
        wanted = {row.entity_id: codes[row.data["parent_code"]]["id"] if row.data.get("parent_code") else None
                  for row in placed}
        before, refused = door.set_parents(wanted)
        _refuse(placed, {i for i, row in enumerate(placed) if row.entity_id in refused}, ctx)
        changes = []
        for row in placed:
            if row.failed:
                continue
            moved = before.get(row.entity_id) != wanted[row.entity_id]
            if moved and row.action == "unchanged":
                row.action = "updated"
            kind = "新建" if row.action == "created" else "调整上级" if moved else None
            if kind:
                changes.append((row.entity_id, kind, "Excel导入"))
        door.log_changes(changes)

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        parent = g.Grid.__table__.alias("parent")
        query = (select(g.Grid, m.Village.code.label("vcode"), m.Village.name.label("vname"),
                        parent.c.code.label("pcode"), m.PartyBranch.name.label("group"))
                 .join(m.Village, m.Village.id == g.Grid.village_id)
                 .outerjoin(parent, parent.c.id == g.Grid.parent_id)
                 .outerjoin(m.PartyBranch, m.PartyBranch.id == g.Grid.party_group_id))
        for r in conn.execute(_township_filter(query, township_code, village_id).order_by(m.Village.code, g.Grid.code)).mappings():
            yield {"village_code": r["vcode"], "village_name": r["vname"], "code": r["code"], "name": r["name"],
                   "level": r["level"], "parent_code": r["pcode"], "scope": r["scope"], "party_group": r["group"],
                   "state": "在用" if r["active"] else "已撤销", "retired_on": r["retired_on"]}

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).delete_grids(ids)


# ----- 网格成员 ------------------------------------------------------------------------------------
class MemberAdapter(_Adapter):
    entity = "grid_member"
    model = g.GridMember

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        township = township_id(conn, ctx)
        if township is None:
            return
        grids = _grid_codes(conn, township)
        people = _people(conn, {r.get("id_number") for r in rows if r.get("id_number")})
        ids = [x["id"] for x in grids.values()]
        existing: dict[tuple, dict[str, Any]] = {}
        for part in _chunks(ids):
            for r in conn.execute(select(g.GridMember).where(g.GridMember.grid_id.in_(part))).mappings():
                existing[(r["grid_id"], r["person_id"], r["role"], r["started_on"])] = dict(r)
        head = structure().head_role
        heads: dict[int, list[tuple[dt.date, dt.date, int, int]]] = defaultdict(list)  # grid → (start, end, person, row)
        for r in existing.values():
            if r["role"] == head:
                heads[r["grid_id"]].append((r["started_on"], r["ended_on"] or dt.date.max, r["person_id"], 0))
        newcomers = self._newcomers(rows, grids, people, ctx)
        for row in rows:
            if row.failed:
                continue
            grid = grids.get(str(row.get("grid_code", "")).upper())
            person: Any = people.get(row.get("id_number"))
            if grid is None:
                ctx.error(row, "grid_code", "unknown_grid", f"网格编码 {row.get('grid_code')} 不存在，请先在“网格”表中登记")
                continue
            if person is None:  # registered with this roster: a stand-in until apply gives the new id
                person = ("new", row.get("id_number"))
                row.data["new_person"] = row.get("id_number")
            role, start, end = row.get("role"), row.get("started_on"), row.get("ended_on")
            problems = check_member(role, grid["level"], start, end)
            for problem in problems:
                ctx.error(row, problem.field, "rule", problem.message)
            if problems:
                continue
            key = (grid["id"], person, role, start)
            hit = existing.get(key)
            if role == head:
                clash = next((h for h in heads[grid["id"]] if h[2] != person and h[0] <= (end or dt.date.max)
                              and h[1] >= start), None)
                if clash is not None:
                    holder = f"第{clash[3]}行" if clash[3] else conn.scalar(
                        select(m.Person.name).where(m.Person.id == clash[2])) or ""
                    ctx.error(row, "role", "rule", head_clash(holder, clash[0]).message)
                    continue
                heads[grid["id"]].append((start, end or dt.date.max, person, row.number))
            values = {"grid_id": grid["id"], "person_id": person, "role": role, "started_on": start}
            for key_name in ("duty", "ended_on", "phone"):
                if row.has(key_name):
                    values[key_name] = row.get(key_name)
            if hit is None:
                values.setdefault("duty", "兼职")
            self._compare(row, hit, values)
        announce_new_people([plan[1]["name"] for plan in newcomers.values()], ctx)

    @staticmethod
    def _newcomers(rows: list[Row], grids: dict[str, dict[str, Any]], people: dict[str, int],
                   ctx: ImportContext) -> dict[str, tuple[Any, dict[str, Any]]]:
        """The people a 网格员花名册 names who are not registered yet: checked by the registry's person rules
        and registered in their grid's village (ID number → (IdInfo, the person's fields))."""
        waiting = [row for row in rows if not row.failed and row.get("id_number") not in people
                   and str(row.get("grid_code", "")).upper() in grids]
        for row in waiting:
            if not row.get("name"):
                refuse_unknown_person(ctx, row, "id_number", row.get("id_number"), "身份证号未在人员信息中登记：要随本表登记此人，"
                                                                                    "请填写姓名；也可先在“人员”表中登记")
        check_people([row for row in waiting if not row.failed], ctx)
        newcomers: dict[str, tuple[Any, dict[str, Any]]] = {}
        for row in waiting:
            if row.failed:
                continue
            village = grids[str(row.get("grid_code")).upper()]["village_id"]
            plan = newcomers.setdefault(row.values["id_number"], (row.data["info"], {
                "name": row.values["name"], "phone": row.get("phone"), "village_id": village}))
            row.data["newcomer"] = plan  # one person for every row that names them
        return newcomers

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """New people first (through the registry's door), then the memberships that name them."""
        waiting = [row for row in rows if not row.failed and row.data.get("new_person")]
        if waiting:
            newcomers = {row.data["new_person"]: row.data["newcomer"] for row in waiting}
            numbers = list(newcomers)
            ids, refused = register_people(conn, ctx, [newcomers[number] for number in numbers])
            new_ids = dict(zip(numbers, ids, strict=True))
            gone = {numbers[i] for i in refused}
            _refuse(waiting, {i for i, row in enumerate(waiting) if row.data["new_person"] in gone}, ctx)
            for row in waiting:
                if not row.failed:
                    row.data["values"]["person_id"] = new_ids[row.data["new_person"]]
        super().apply(conn, rows, ctx)

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        query = (select(g.GridMember, g.Grid.code.label("gcode"), m.Person.id_number, m.Person.name)
                 .join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                 .join(m.Village, m.Village.id == g.Grid.village_id)
                 .join(m.Person, m.Person.id == g.GridMember.person_id))
        # natural keys only (a grid code is unique in its township, a village code everywhere)
        query = _township_filter(query, township_code, village_id).order_by(
            m.Village.code, g.Grid.code, g.GridMember.role, m.Person.id_number, g.GridMember.started_on,
            g.GridMember.ended_on)
        for r in conn.execute(query).mappings():
            yield {"grid_code": r["gcode"], "id_number": r["id_number"], "name": r["name"], "role": r["role"],
                   "duty": r["duty"], "started_on": r["started_on"], "ended_on": r["ended_on"], "phone": r["phone"]}


# ----- 住户网格 ------------------------------------------------------------------------------------
class AssignmentAdapter(_Adapter):
    entity = "grid_assignment"
    model = g.GridAssignment

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        township = township_id(conn, ctx)
        if township is None:
            return
        villages = VillageLookup(conn, township)
        grids = _grid_codes(conn, township)
        wanted: set[tuple[int, str]] = set()
        resolved = []
        for row in rows:
            if row.failed:
                continue
            vid = villages.resolve(row, ctx, required=True)
            if vid is not None:
                resolved.append((row, vid))
                wanted.add((vid, str(row.get("household_number"))))
        by_village: dict[int, set[str]] = defaultdict(set)
        for vid, number in wanted:
            by_village[vid].add(number)
        households, ambiguous = household_ids(conn, by_village)  # 6 typed as a number finds 0006
        existing: dict[tuple[int, dt.date], dict[str, Any]] = {}
        for part in _chunks(sorted(set(households.values()))):
            for r in conn.execute(select(g.GridAssignment).where(g.GridAssignment.household_id.in_(part))).mappings():
                existing[(r["household_id"], r["started_on"])] = dict(r)
        for row, vid in resolved:
            hid = households.get((vid, str(row.get("household_number"))))
            grid = grids.get(str(row.get("grid_code", "")).upper())
            if hid is None:
                number = str(row.get("household_number"))
                ctx.error(row, "household_number", "unknown_household",
                          f"户编号 {number} 可能是本村的 {'、'.join(ambiguous[(vid, number)])} 中的任何一户，请填写完整的户编号"
                          if (vid, number) in ambiguous else
                          f"本村没有户编号为 {number} 的住户，请先在“住户”表中登记")
                continue
            if grid is None or grid["village_id"] != vid:
                ctx.error(row, "grid_code", "unknown_grid", f"本村没有编码为 {row.get('grid_code')} 的网格")
                continue
            wrong = check_household_grid(grid["level"], str(row.get("grid_code")))
            if wrong:
                ctx.error(row, "grid_code", "rule", wrong[0].message)
                continue
            start, end = row.get("started_on"), row.get("ended_on")
            if end is not None and end < start:
                ctx.error(row, "ended_on", "rule", "迁出日期不能早于划入日期")
                continue
            values = {"household_id": hid, "grid_id": grid["id"], "started_on": start}
            if row.has("ended_on"):
                values["ended_on"] = end
            self._compare(row, existing.get((hid, start)), values)

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        # a household moving to a new micro-grid leaves its current one on the day it arrives
        arriving = [row for row in rows if not row.failed and row.action == "created"
                    and row.data["values"].get("ended_on") is None]
        refused = _door(conn, ctx).close_assignments([(row.data["values"]["household_id"],
                                                       row.data["values"]["started_on"]) for row in arriving])
        _refuse(arriving, {i for i, row in enumerate(arriving) if row.data["values"]["household_id"] in refused}, ctx)
        super().apply(conn, rows, ctx)

    def finish(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        """At most one open assignment per household, whatever the file said."""
        by_household = {r.data["values"]["household_id"]: r for r in rows if not r.failed and "values" in r.data}
        for part in _chunks(sorted(by_household)):
            counts = conn.execute(select(g.GridAssignment.household_id)
                                  .where(g.GridAssignment.household_id.in_(part), g.GridAssignment.ended_on.is_(None))
                                  .group_by(g.GridAssignment.household_id).having(func.count() > 1)).scalars()
            for hid in counts:
                ctx.error(by_household[hid], "ended_on", "rule", "同一户同一时间只能在一个微网格：请为较早的一行填写迁出日期")

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        query = (select(g.GridAssignment, m.Village.code.label("vcode"), m.Village.name.label("vname"),
                        m.Household.number, g.Grid.code.label("gcode"))
                 .join(m.Household, m.Household.id == g.GridAssignment.household_id)
                 .join(m.Village, m.Village.id == m.Household.village_id)
                 .join(g.Grid, g.Grid.id == g.GridAssignment.grid_id))
        query = _township_filter(query, township_code, village_id).order_by(m.Village.code, m.Household.number,
                                                                 g.GridAssignment.started_on, g.Grid.code)
        for r in conn.execute(query).mappings():
            yield {"village_code": r["vcode"], "village_name": r["vname"], "household_number": r["number"],
                   "grid_code": r["gcode"], "started_on": r["started_on"], "ended_on": r["ended_on"]}


# ----- 网格员月度考核 -----------------------------------------------------------------------------
class AssessmentAdapter(_Adapter):
    entity = "grid_assessment"
    model = g.GridAssessment

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        township = township_id(conn, ctx)
        if township is None:
            return
        scheme = current_scheme()
        grids = _grid_codes(conn, township)
        people = _people(conn, {r.get("id_number") for r in rows if r.get("id_number")})
        months = {(r.year, r.month): dict(r._mapping) for r in conn.execute(
            select(g.GridMonth.id, g.GridMonth.year, g.GridMonth.month, g.GridMonth.locked)
            .where(g.GridMonth.township_id == township))}
        ctx.shared["grid_months"] = months
        ctx.shared["grid_township"] = township
        # every membership of the people named, read once (a row each would be a server round trip each)
        memberships: dict[tuple[int, int], list[Any]] = {}
        for part in _chunks(sorted(set(people.values()))):
            for member in conn.execute(select(g.GridMember.id, g.GridMember.role, g.GridMember.grid_id,
                                              g.GridMember.person_id, g.GridMember.started_on, g.GridMember.ended_on)
                                       .where(g.GridMember.person_id.in_(part))):
                memberships.setdefault((member.grid_id, member.person_id), []).append(member)
        for row in rows:
            if row.failed:
                continue
            year, month = row.get("year"), row.get("month")
            try:
                start, end = month_bounds(year, month)
            except DomainError as exc:
                ctx.error(row, "month", "bad_date", exc.message)
                continue
            known = months.get((year, month))
            if known is not None and known["locked"]:
                ctx.error(row, "month", "locked", locked_month(year, month))
                continue
            grid = grids.get(str(row.get("grid_code", "")).upper())
            person = people.get(row.get("id_number"))
            if grid is None:
                ctx.error(row, "grid_code", "unknown_member",
                          f"网格编码“{row.get('grid_code', '')}”未登记：请核对编码，或先在“网格”表中登记此网格")
                continue
            if person is None:  # the cause first: a mistyped number, or a person not yet on the grid roster
                number = row.get("id_number")
                problem = id_number_problem(number)
                if problem is not None:
                    ctx.error(row, "id_number", *problem)
                else:
                    ctx.error(row, "id_number", "unknown_member",
                              "此身份证号未登记为网格成员：请先在“网格成员”表中登记此人")
                continue
            members = [x for x in memberships.get((grid["id"], person), ())
                       if x.started_on <= end and (x.ended_on is None or x.ended_on >= start)]
            if row.get("role"):
                members = [x for x in members if x.role == row.get("role")]
            if len(members) != 1:
                ctx.error(row, "id_number", "unknown_member",
                          f"此人{year}年{month}月不是该网格的在任成员" if not members else "此人在该网格有多个角色，请填写“角色”列")
                continue
            found = None
            if known is not None:
                found = conn.execute(select(g.GridAssessment).where(g.GridAssessment.month_id == known["id"],
                                                                    g.GridAssessment.member_id == members[0].id)
                                     ).mappings().first()
            # an empty cell keeps the stored score (a new record has none)
            stored = load_scores(found["scores"]) if found is not None else {}
            cells = {item.key: row.get(f"item_{item.key}") for item in scheme.items if row.has(f"item_{item.key}")}
            if row.has("deduction"):
                cells["deduction"] = row.get("deduction")
            reason = (row.get("deduction_reason") if row.has("deduction_reason") or found is None
                      else found["deduction_reason"])
            scores, deduction, problems = read_scores(scheme, cells, reason, stored,
                                                      found["deduction"] if found is not None else 0)
            for problem in problems:  # the score grid's rules, cell by cell (grids/validation.py)
                key = f"item_{problem.field}" if problem.field in {i.key for i in scheme.items} else problem.field
                ctx.error(row, key if key in ctx.present else None, "rule", problem.message)
            if row.failed:
                continue
            row.data["month_key"] = (year, month)
            values = {"member_id": members[0].id, "scores": dump_scores(scores), "deduction": deduction,
                      "deduction_reason": reason, "total": total_tenths(scheme, scores, deduction)}
            # a workbook's 补助金额 is only shown for reference (approval computes it); a package's is the
            # sender's approved figure and must arrive, or the sheet changes on its way
            if row.has("subsidy") and ctx.package:
                try:
                    values["subsidy_fen"] = parse_yuan(row.get("subsidy"))
                except MoneyError:
                    ctx.error(row, "subsidy", "bad_number", f"补助金额“{row.get('subsidy')}”不是金额（元，最多两位小数）")
                    continue
            hit = None
            if found is not None:
                hit = dict(found)
                hit["scores"] = dump_scores(load_scores(hit["scores"]))
                values["month_id"] = known["id"]
            self._compare(row, hit, values)

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        months = ctx.shared.get("grid_months", {})
        created = [row for row in rows if not row.failed and row.action == "created"]
        new = [row.data["month_key"] for row in created if row.data["month_key"] not in months]
        if new:
            opened = _door(conn, ctx).ensure_months(ctx.shared["grid_township"], new)
            months.update({key: {"id": month_id, "locked": False} for key, month_id in opened.items()})
        for row in created:
            row.data["values"]["month_id"] = months[row.data["month_key"]]["id"]
        super().apply(conn, rows, ctx)

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        scheme = current_scheme()
        query = (select(g.GridAssessment, g.GridMonth.year, g.GridMonth.month, g.Grid.code.label("gcode"),
                        g.GridMember.role, m.Person.id_number, m.Person.name)
                 .join(g.GridMonth, g.GridMonth.id == g.GridAssessment.month_id)
                 .join(g.GridMember, g.GridMember.id == g.GridAssessment.member_id)
                 .join(g.Grid, g.Grid.id == g.GridMember.grid_id)
                 .join(m.Village, m.Village.id == g.Grid.village_id)
                 .join(m.Person, m.Person.id == g.GridMember.person_id))
        query = _township_filter(query, township_code, village_id).order_by(
            g.GridMonth.year, g.GridMonth.month, m.Village.code, g.Grid.code, m.Person.id_number, g.GridMember.role)
        for r in conn.execute(query).mappings():
            scores = json.loads(r["scores"] or "{}")
            out = {"year": r["year"], "month": r["month"], "grid_code": r["gcode"], "id_number": r["id_number"],
                   "name": r["name"], "role": r["role"], "deduction": _points(r["deduction"]) if r["deduction"] else None,
                   "deduction_reason": r["deduction_reason"], "total": _points(r["total"]),
                   "subsidy": None if r["subsidy_fen"] is None else Decimal(r["subsidy_fen"]) / 100}
            for item in scheme.items:
                out[f"item_{item.key}"] = _points(scores.get(item.key))
            yield out


def _points(tenths: int | None) -> str | None:
    """Points as the text a cell reads back as (the package digest compares them)."""
    return None if tenths is None else format_points(tenths)


# ----- specs -----------------------------------------------------------------------------------
def _enum(key: str, header: str, vocabulary: str, **kw: Any) -> ColumnSpec:
    return s.enum_column(key, header, vocab(vocabulary), **kw)


_GRID_CODE = ColumnSpec("grid_code", "网格编码", s.CODE, aliases=("网格代码", "所属网格编码"), required=True,
                        example="DZ-WG01-FZ1-W01", width=18, max_length=32)
_ID = ColumnSpec("id_number", "身份证号", s.ID_NUMBER, aliases=("身份证号码", "公民身份号码"), required=True,
                 example="140821198506010123", width=20)
_NAME = ColumnSpec("name", "姓名", s.NAME, aliases=("名字",), example="张三", width=10, note="核对用，以身份证号为准")


def sheet_specs() -> list[SheetSpec]:
    scheme = current_scheme()
    items = tuple(ColumnSpec(f"item_{i.key}", i.label, s.TEXT, aliases=(f"{i.label}得分",), pattern=POINTS_PATTERN,
                             pattern_message=f"{i.label}应为 0 至 {format_points(i.max_tenths)} 的分数，最多一位小数",
                             example=format_points(i.max_tenths), width=10,
                             note=f"满分 {format_points(i.max_tenths)}") for i in scheme.items)
    return [
        SheetSpec(
            key="grid", title="网格", aliases=("网格信息", "网格划分"), adapter=GridAdapter(),
            description="网格、辅助网格、微网格，每个一行；上级网格先于下级登记或写在同一张表里。编码在全乡镇唯一。",
            columns=(*village_reference_columns(),
                     ColumnSpec("code", "网格编码", s.CODE, aliases=("网格代码",), required=True, example="DZ-WG01",
                                width=18, max_length=32, signature=True),
                     ColumnSpec("name", "网格名称", s.TEXT, aliases=("名称",), example="东张村第一网格", width=18,
                                max_length=64),
                     _enum("level", "层级", "level", aliases=("网格层级",), example="网格", signature=True),
                     ColumnSpec("parent_code", "上级网格编码", s.CODE, aliases=("上级编码",), width=18, max_length=32,
                                note="网格不填；辅助网格填所属网格；微网格填所属辅助网格（无辅助网格时填网格）"),
                     ColumnSpec("scope", "四至范围", s.TEXT, aliases=("范围", "四至"), max_length=400, width=30),
                     ColumnSpec("party_group", "网格党组织", s.TEXT, aliases=("网格党小组", "党组织"), max_length=100,
                                width=20, note="须是本村已登记的党组织名称"),
                     _enum("state", "状态", "grid_state", example="在用"),
                     ColumnSpec("retired_on", "撤销日期", s.DATE)),
            required_any=(("village_code", "village_name"),), key_columns=("code",)),
        SheetSpec(
            key="grid_member", title="网格成员", aliases=("网格员", "网格员花名册", "网格人员"), adapter=MemberAdapter(),
            description="网格长、副网格长、网格员、网格辅助员、微网格员的任职，一人一岗一行；一人可在多个网格任职。",
            columns=(_GRID_CODE, _ID, _NAME,
                     _enum("role", "网格角色", "role", aliases=("角色", "职务"), required=True, example="网格员",
                           signature=True),
                     _enum("duty", "专兼职", "duty", aliases=("专职/兼职",), example="专职"),
                     ColumnSpec("started_on", "任职日期", s.DATE, aliases=("任职起始日期", "任职时间"), required=True),
                     ColumnSpec("ended_on", "离任日期", s.DATE, aliases=("任职截止日期",), note="在任不填"),
                     ColumnSpec("phone", "联系电话", s.PHONE, aliases=("手机号", "电话"))),
            key_columns=("grid_code", "id_number", "role", "started_on")),
        SheetSpec(
            key="grid_assignment", title="住户网格", aliases=("住户划分", "网格住户"), adapter=AssignmentAdapter(),
            description="住户划入微网格的记录，每户每段一行；同一户同一时间只能在一个微网格。新的一行会结束该户原来所在的微网格。",
            columns=(*village_reference_columns(),
                     ColumnSpec("household_number", "户编号", s.CODE, aliases=("户号",), required=True, example="0001",
                                width=10, signature=True),
                     ColumnSpec("grid_code", "微网格编码", s.CODE, aliases=("网格编码",), required=True,
                                example="DZ-WG01-FZ1-W01", width=18, max_length=32, signature=True),
                     ColumnSpec("started_on", "划入日期", s.DATE, required=True),
                     ColumnSpec("ended_on", "迁出日期", s.DATE, note="仍在该微网格不填")),
            required_any=(("village_code", "village_name"),), key_columns=("village_code", "household_number",
                                                                           "started_on")),
        SheetSpec(
            key="grid_assessment", title="网格员月度考核", aliases=("月度考核", "网格员考核"),
            adapter=AssessmentAdapter(),
            description="每名网格成员每月一行：各项得分、扣分及原因。已审批锁定的月份不能导入修改；总分和补助由程序计算。",
            columns=(ColumnSpec("year", "年度", s.INT, aliases=("年份",), required=True, example=2026, width=8),
                     ColumnSpec("month", "月份", s.INT, aliases=("月",), required=True, example=5, width=6,
                                signature=True),
                     _GRID_CODE, _ID, _NAME, _enum("role", "网格角色", "role", aliases=("角色",)),
                     *items,
                     ColumnSpec("deduction", "扣分", s.TEXT, pattern=POINTS_PATTERN,
                                pattern_message="扣分应为不小于0的分数，最多一位小数", width=8),
                     ColumnSpec("deduction_reason", "扣分原因", s.TEXT, max_length=200, width=24,
                                note="有扣分时必填", signature=True),
                     ColumnSpec("total", "总分", s.TEXT, width=8, note="导出用；导入时由程序按各项得分重新计算"),
                     ColumnSpec("subsidy", "补助金额（元）", s.TEXT, aliases=("补助金额",), width=12,
                                note="导出用；审批时由程序计算")),
            key_columns=("year", "month", "grid_code", "id_number", "role")),
    ]
