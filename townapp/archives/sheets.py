"""The archives' sheets for the exchange: one spec per entity, one generic adapter behind them all.

Every archive record belongs to a village (by 区划代码 or name) and is found by
a natural key inside it (年度, 届次, 身份证号 + 职务 …). The adapter matches
rows by those keys with set-based queries, compares only the columns present
in the user's file, applies the archive rules (the same rules.json the GUI
uses) and writes with Core statements. Amounts are typed in 元 and stored in 分.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Date, or_, select

from townapp.archives import models as a
from townapp.archives import validation
from townapp.archives.service import ArchiveBatch, ArchiveService, register_member_ids
from townapp.archives.vocab import vocab
from townapp.core.dates import MonthDate, as_month_date, merge_date, month_dates_of, with_month_dates
from townapp.core.errors import FieldProblem
from townapp.core.money import MoneyError, parse_yuan
from townapp.exchange import spec as s
from townapp.exchange.normalize import CellError, normalize_cell
from townapp.exchange.spec import ColumnSpec, ImportContext, Row, SheetAdapter, SheetSpec
from townapp.registry import models as m
from townapp.registry.sheets import (
    VillageLookup,
    refuse_unknown_person,
    township_id,
    village_reference_columns,
    write_rows,
)

CHUNK = 500
MONEY_PATTERN = r"-?\d+(\.\d{1,2})?"
_BOOL = {"是": True, "否": False}


@dataclass(frozen=True)
class Col:
    """A sheet column and the model attribute it fills; ``kind`` says how values are converted."""

    key: str
    attr: str
    kind: str = "plain"  # plain | money | bool | list | decimal | person | member


def _number(value: Decimal) -> int | Decimal:
    """12.50 → 12.5, 6164.00 → 6164: the spelling a cell reads back as (package digests compare them)."""
    if value == value.to_integral_value():
        return int(value)
    return Decimal(format(value.normalize(), "f"))


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _door(conn: Connection, ctx: ImportContext) -> ArchiveBatch:
    """The archive service's set-based writer for this import: the adapters never write themselves."""
    return ArchiveService(ctx.db, ctx.actor).batch_writer(conn, batch_id=ctx.batch_id, reason=ctx.reason,
                                                          now=ctx.now)


class ArchiveAdapter(SheetAdapter):
    """Rows of one archive table, matched by village and ``keys`` (model attributes)."""

    def __init__(self, entity: str, model: type, keys: tuple[str, ...], cols: tuple[Col, ...],
                 validate: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None) -> None:
        self.entity = entity
        self.model = model
        self.keys = keys
        self.cols = cols
        self.validate = validate
        # the date attributes a roster may give as a month only (任职时间 2021.03): marked in ``month_dates``
        table = model.__table__
        self.month_attrs = (tuple(c.name for c in table.c if isinstance(c.type, Date))
                            if "month_dates" in table.c else ())

    # ----- conversion ----------------------------------------------------------
    def _convert(self, col: Col, value: Any, row: Row, ctx: ImportContext, people: dict[str, int]) -> Any:
        if value is None:
            return None
        if col.kind == "money":
            try:
                return parse_yuan(value)
            except MoneyError as exc:
                ctx.error(row, col.key, "bad_number", exc.message)
                return None
        if col.kind == "bool":
            return _BOOL[value]
        if col.kind == "list":
            return "、".join(value)
        if col.kind == "decimal":
            return Decimal(value)
        if col.kind in ("person", "member"):
            found = people.get(value)
            if found is None:
                refuse_unknown_person(ctx, row, col.key, value, "身份证号未在人员信息中登记（或不是党员），请先在“人员”或“党员”表中登记"
                                      if col.kind == "member" else "身份证号未在人员信息中登记，请先在“人员”表中登记")
            return found
        return value

    def _export(self, col: Col, value: Any, numbers: dict[int, str]) -> Any:
        if value is None:
            return None
        if col.kind == "money":
            return _number(Decimal(value) / 100)
        if col.kind == "decimal":
            return _number(Decimal(value))
        if col.kind == "bool":
            return "是" if value else "否"
        if col.kind == "list":
            return tuple(x for x in value.split("、") if x)
        if col.kind in ("person", "member"):
            return numbers.get(value)
        return value

    def _people(self, conn: Connection, rows: list[Row]) -> dict[str, int]:
        """身份证号 → person id (or party member id for ``member`` columns)."""
        result: dict[str, int] = {}
        for col in self.cols:
            if col.kind not in ("person", "member"):
                continue
            numbers = sorted({row.values[col.key] for row in rows if row.values.get(col.key)})
            for part in _chunks(numbers):
                if col.kind == "person":
                    query = select(m.Person.id_number, m.Person.id).where(m.Person.id_number.in_(part))
                else:
                    query = (select(m.Person.id_number, m.PartyMember.id)
                             .join(m.PartyMember, m.PartyMember.person_id == m.Person.id)
                             .where(m.Person.id_number.in_(part)))
                result.update(dict(conn.execute(query).all()))
        return result

    # ----- the scope a row lives in -------------------------------------------------
    def _scope(self, conn: Connection, row: Row, vid: int, attrs: dict[str, Any], ctx: ImportContext) -> dict[str, Any]:
        """Attributes that place the row (the village, for most tables)."""
        return {"village_id": vid}

    def _existing(self, conn: Connection, scope_ids: list[int]) -> dict[tuple, dict[str, Any]]:
        table = self.model.__table__
        attrs = ["id", "village_id", *self.keys, *[c.attr for c in self.cols if c.attr not in self.keys]]
        if self.month_attrs:
            attrs.append("month_dates")
        found: dict[tuple, dict[str, Any]] = {}
        for part in _chunks(scope_ids):
            for rec in conn.execute(select(*[table.c[x] for x in dict.fromkeys(attrs)])
                                    .where(table.c.village_id.in_(part))).mappings():
                stored = with_month_dates(dict(rec), rec.get("month_dates"))
                found[(rec["village_id"], *[stored[k] for k in self.keys])] = stored
        return found

    def _rule_problems(self, merged: dict[str, Any], existing: dict[tuple, dict[str, Any]]) -> list[tuple[str, str]]:
        """The service's rules on the record as it will be stored (``existing``: the village's stored rows)."""
        return self.validate(merged) if self.validate else []

    def _same_month(self, key: tuple, existing: dict[tuple, dict[str, Any]]) -> dict[str, Any] | None:
        """The one stored record whose key differs from ``key`` only by a date's precision (任职日期 2021.03
        in the roster, 2021-03-15 stored, or the other way round), or None."""
        def loose(k: tuple) -> tuple:
            return tuple((v.year, v.month) if isinstance(v, dt.date) else v for v in k)

        def fits(k: tuple) -> bool:  # every differing date is a month on one side
            return all(x == y or (isinstance(x, MonthDate) or isinstance(y, MonthDate)) for x, y in zip(k, key, strict=True))

        if not self.month_attrs or not any(isinstance(v, dt.date) for v in key):
            return None
        hits = [hit for k, hit in existing.items() if loose(k) == loose(key) and fits(k)]
        return hits[0] if len(hits) == 1 else None

    def match(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        villages = VillageLookup(conn, township_id(conn, ctx))
        people = self._people(conn, rows)
        pending: list[tuple[Row, dict[str, Any], dict[str, Any]]] = []
        for row in rows:
            if row.failed:
                continue
            vid = villages.resolve(row, ctx, required=True)
            if vid is None:
                continue
            attrs = {}
            for col in self.cols:
                if row.has(col.key):
                    attrs[col.attr] = self._convert(col, row.values.get(col.key), row, ctx, people)
            if row.failed:
                continue
            scope = self._scope(conn, row, vid, attrs, ctx)
            if row.failed:
                continue
            pending.append((row, attrs, scope))
        existing = self._existing(conn, sorted({scope["village_id"] for _r, _a, scope in pending}))
        seen: dict[tuple, int] = {}
        for row, attrs, scope in pending:
            key = (scope["village_id"], *[attrs.get(k, scope.get(k)) for k in self.keys])
            if key in seen:
                ctx.error(row, self.cols[0].key, "duplicate_in_file", f"与第{seen[key]}行是同一条记录，请合并")
                continue
            seen[key] = row.number
            hit = existing.get(key) or self._same_month(key, existing)
            if hit is not None:  # 2021.03 over a stored 2021-03-15 keeps the day
                attrs.update({k: merge_date(hit.get(k), v) for k, v in attrs.items() if isinstance(v, MonthDate)})
            merged = {**(hit or {}), **scope, **attrs}
            if self.validate:
                for attr, message in self._rule_problems(merged, existing):
                    column = next((c.key for c in self.cols if c.attr == attr), None)
                    ctx.error(row, column, "rule", message)
                if row.failed:
                    continue
            row.data["values"] = {**scope, **attrs}
            if self.month_attrs:
                row.data["values"]["month_dates"] = month_dates_of(merged, self.month_attrs)
            if hit is None:
                row.action = "created"
                continue
            row.entity_id = hit["id"]
            changes = {k: v for k, v in attrs.items() if self._stored_as_read(ctx, k, hit.get(k)) != v}
            if self.month_attrs and row.data["values"]["month_dates"] != hit.get("month_dates"):
                changes["month_dates"] = row.data["values"]["month_dates"]
            row.data["changes"] = changes
            row.action = "updated" if changes else "unchanged"

    def _stored_as_read(self, ctx: ImportContext, attr: str, value: Any) -> Any:
        """A stored text as the import would read it back (an invisible character or a space around it
        typed in a dialog goes), so text typed in the program is not reported as changed by every round trip."""
        if not isinstance(value, str):
            return value
        col = next((c for c in self.cols if c.attr == attr and c.kind == "plain"), None)
        if col is None:
            return value
        try:
            return normalize_cell(ctx.spec.column(col.key), value)
        except (CellError, KeyError):
            return value

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        write_rows(_door(conn, ctx), self.model, rows, ctx)

    village_scoped = True

    def _export_query(self, township_code: str | None, village_id: int | None = None) -> Any:
        table = self.model.__table__
        query = (select(table, m.Village.code.label("_vcode"), m.Village.name.label("_vname"))
                 .join(m.Village, m.Village.id == table.c.village_id))
        if village_id is not None:
            query = query.where(m.Village.id == village_id)
        if township_code is not None:
            query = query.join(m.Township, m.Township.id == m.Village.township_id).where(m.Township.code == township_code)
        # natural keys first, then every other column (records the program let in twice stay in one order);
        # a person by their ID number: ids differ between the databases a package travels between
        order: list[Any] = [m.Village.code]
        attrs = list(dict.fromkeys([*self.keys, *[c.attr for c in self.cols]]))
        for attr in attrs:
            col = next((c for c in self.cols if c.attr == attr), None)
            if col is None or col.kind not in ("person", "member"):
                order.append(table.c[attr])
                continue
            person = m.Person.__table__.alias(f"_order_{attr}")
            if col.kind == "member":
                member = m.PartyMember.__table__.alias(f"_order_member_{attr}")
                query = (query.outerjoin(member, member.c.id == table.c[attr])
                         .outerjoin(person, person.c.id == member.c.person_id))
            else:
                query = query.outerjoin(person, person.c.id == table.c[attr])
            order.append(person.c.id_number)
        return query.order_by(*order, table.c.id)

    def _people_by_id(self, conn: Connection) -> dict[int, tuple[str, str]]:
        """person (or party member) id → (身份证号, 姓名) of those this table names, for the export
        (a county has half a million people; these tables name a few thousand)."""
        kind = next((k for k in ("person", "member") if any(c.kind == k for c in self.cols)), None)
        if kind is None:
            return {}
        table = self.model.__table__
        if kind == "person":
            key = m.Person.id
            query = select(key, m.Person.id_number, m.Person.name)
        else:
            key = m.PartyMember.id
            query = select(key, m.Person.id_number, m.Person.name).join(m.Person, m.Person.id == m.PartyMember.person_id)
        named = or_(*[key.in_(select(table.c[c.attr])) for c in self.cols if c.kind == kind])
        return {pid: (number, name) for pid, number, name in conn.execute(query.where(named))}

    def export_rows(self, conn: Connection, township_code: str | None,
                    village_id: int | None = None) -> Iterator[dict[str, Any]]:
        people = self._people_by_id(conn)
        numbers = {pid: number for pid, (number, _name) in people.items()}
        linked = next((c for c in self.cols if c.kind in ("person", "member")), None)
        result = conn.execute(self._export_query(township_code, village_id))
        # positions, not names: a sync package exports 200,000 attendance rows through here
        at = {key: index for index, key in enumerate(result.keys())}
        vcode, vname, month = at["_vcode"], at["_vname"], at.get("month_dates")
        plain_kinds = ("money", "decimal", "bool", "list", "person", "member")
        cols = [(col, col.key, at[col.attr], col.kind in plain_kinds) for col in self.cols]
        named = at[linked.attr] if linked is not None else None
        extra = type(self)._extra_export is not ArchiveAdapter._extra_export
        for rec in result:
            out = {"village_code": rec[vcode], "village_name": rec[vname]}
            for col, key, index, convert in cols:
                value = rec[index]
                if self.month_attrs:  # a month-only date as the month (exported as the text 2021.03)
                    value = as_month_date(value, rec[month], col.attr)
                out[key] = self._export(col, value, numbers) if convert else value
            if named is not None and "name" not in out and rec[named] in people:
                out["name"] = people[rec[named]][1]
            yield self._extra_export(conn, rec._mapping, out) if extra else out

    def _extra_export(self, conn: Connection, rec: Any, out: dict[str, Any]) -> dict[str, Any]:
        return out

    def delete(self, conn: Connection, ids: list[int], ctx: ImportContext) -> None:
        _door(conn, ctx).remove(self.model, ids)


class YearAdapter(ArchiveAdapter):
    """村级年度数据: also checked against the village's stored previous year (年初债务余额 = 上年年末余额)."""

    def _existing(self, conn: Connection, scope_ids: list[int]) -> dict[tuple, dict[str, Any]]:
        """The stored years with what 定级 wrote into them (``rated``): a workbook cannot change those."""
        found = super()._existing(conn, scope_ids)
        for part in _chunks(scope_ids):
            for vid, year, rated in conn.execute(select(a.ArchiveYear.village_id, a.ArchiveYear.year,
                                                        a.ArchiveYear.rated).where(a.ArchiveYear.village_id.in_(part),
                                                                                   a.ArchiveYear.rated.is_not(None))):
                if (vid, year) in found:
                    found[(vid, year)]["_rated"] = json.loads(rated)
        return found

    def _rule_problems(self, merged: dict[str, Any], existing: dict[tuple, dict[str, Any]]) -> list[tuple[str, str]]:
        year = merged.get("year")
        previous = existing.get((merged.get("village_id"), year - 1)) if isinstance(year, int) else None
        stored = existing.get((merged.get("village_id"), year), {})
        rated = {key: (stored.get(key), source) for key, source in stored.get("_rated", {}).items()}
        return _errors([*validation.check_year(merged, year, previous),
                        *validation.rating_problems(merged, stored, rated)])


class PayAdapter(ArchiveAdapter):
    """村干部报酬: the rated 书记's 考核等级 is the annual result 定级 wrote (``grade_source``)."""

    def _existing(self, conn: Connection, scope_ids: list[int]) -> dict[tuple, dict[str, Any]]:
        found = super()._existing(conn, scope_ids)
        for part in _chunks(scope_ids):
            for vid, year, person_id, source in conn.execute(
                    select(a.ArchivePay.village_id, a.ArchivePay.year, a.ArchivePay.person_id, a.ArchivePay.grade_source)
                    .where(a.ArchivePay.village_id.in_(part), a.ArchivePay.grade_source.is_not(None))):
                if (vid, year, person_id) in found:
                    found[(vid, year, person_id)]["_grade_source"] = source
        return found

    def _rule_problems(self, merged: dict[str, Any], existing: dict[tuple, dict[str, Any]]) -> list[tuple[str, str]]:
        key = (merged.get("village_id"), merged.get("year"), merged.get("person_id"))
        stored = existing.get(key, {})
        rated = validation.rated_grade_problems(merged.get("grade"), stored.get("grade"), stored["_grade_source"]) \
            if "_grade_source" in stored else []
        return [*super()._rule_problems(merged, existing), *_errors(rated)]


class AttendanceAdapter(ArchiveAdapter):
    """Attendance rows name their meeting by village, date and kind (the meeting sheet comes first)."""

    def _scope(self, conn: Connection, row: Row, vid: int, attrs: dict[str, Any], ctx: ImportContext) -> dict[str, Any]:
        meetings = ctx.shared.setdefault("archive_meetings", {})
        if vid not in meetings:  # the village's meetings read once (the meeting sheet came first)
            meetings[vid] = {(held_on, kind): mid for mid, held_on, kind in conn.execute(
                select(a.ArchiveMeeting.id, a.ArchiveMeeting.held_on, a.ArchiveMeeting.kind)
                .where(a.ArchiveMeeting.village_id == vid).order_by(a.ArchiveMeeting.id.desc()))}
        key = (row.values.get("held_on"), row.values.get("kind"))
        meeting = meetings[vid].get(key)
        if meeting is None:
            ctx.error(row, "held_on", "unknown_meeting",
                      f"{key[0]} 的{key[1]}不在会议记录中：请先在“会议记录”表中登记这次会议")
        registers = ctx.shared.setdefault("archive_registers", {})
        if vid not in registers:
            registers[vid] = register_member_ids(conn, vid)
        if attrs.get("party_member_id") is not None:
            for problem in validation.check_attendee(attrs["party_member_id"],
                                                     row.get("name") or row.values.get("id_number"), registers[vid]):
                ctx.error(row, "id_number", "rule", problem.message)
        for problem in validation.check_attendance(attrs.get("status"), attrs.get("reason"), row.get("name")):
            ctx.error(row, problem.field, "required" if problem.field == "reason" else "rule", problem.message)
        return {"village_id": vid, "meeting_id": meeting}

    def _existing(self, conn: Connection, scope_ids: list[int]) -> dict[tuple, dict[str, Any]]:
        found: dict[tuple, dict[str, Any]] = {}
        for part in _chunks(scope_ids):
            for rec in conn.execute(select(a.ArchiveAttendance.id, a.ArchiveAttendance.meeting_id,
                                           a.ArchiveAttendance.party_member_id, a.ArchiveAttendance.status,
                                           a.ArchiveAttendance.reason, a.ArchiveMeeting.village_id)
                                    .join(a.ArchiveMeeting, a.ArchiveMeeting.id == a.ArchiveAttendance.meeting_id)
                                    .where(a.ArchiveMeeting.village_id.in_(part))).mappings():
                found[(rec["village_id"], rec["meeting_id"], rec["party_member_id"])] = dict(rec)
        return found

    def apply(self, conn: Connection, rows: list[Row], ctx: ImportContext) -> None:
        for row in rows:
            if not row.failed and "values" in row.data:
                row.data["values"].pop("village_id", None)
        super().apply(conn, rows, ctx)

    def _export_query(self, township_code: str | None, village_id: int | None = None) -> Any:
        query = (select(a.ArchiveAttendance.party_member_id, a.ArchiveAttendance.status, a.ArchiveAttendance.reason,
                        a.ArchiveMeeting.held_on, a.ArchiveMeeting.kind, m.Village.code.label("_vcode"),
                        m.Village.name.label("_vname"))
                 .join(a.ArchiveMeeting, a.ArchiveMeeting.id == a.ArchiveAttendance.meeting_id)
                 .join(m.Village, m.Village.id == a.ArchiveMeeting.village_id)
                 .join(m.PartyMember, m.PartyMember.id == a.ArchiveAttendance.party_member_id)
                 .join(m.Person, m.Person.id == m.PartyMember.person_id))
        if village_id is not None:
            query = query.where(m.Village.id == village_id)
        if township_code is not None:
            query = query.join(m.Township, m.Township.id == m.Village.township_id).where(m.Township.code == township_code)
        # the attendee by ID number: member ids differ between the databases a package travels between
        return query.order_by(m.Village.code, a.ArchiveMeeting.held_on, a.ArchiveMeeting.kind, m.Person.id_number)

    def _extra_export(self, conn: Connection, rec: Any, out: dict[str, Any]) -> dict[str, Any]:
        out["held_on"], out["kind"] = rec["held_on"], rec["kind"]
        return out


# ----- rules applied on import: the service's own (archives/validation.py) -------------------------
def _errors(problems: list[FieldProblem]) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in problems if p.severity == "error"]


def _year_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return _errors(validation.check_year(merged))


def _rectification_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    score = merged.get("score")
    return _errors(validation.check_rectification(
        merged.get("year") or 0, [c for c in (merged.get("clauses") or "").split("、") if c],
        None if score is None else Decimal(score), merged.get("result"), merged.get("accepted_on"),
        merged.get("review_on")))


def _commitment_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return _errors(validation.check_commitment(merged.get("status"), merged.get("completed_on")))


def _profile_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return _errors(validation.check_profile(merged))


def _cooperative_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return _errors(validation.check_cooperative(merged.get("name"), merged.get("members"),
                                                merged.get("income_to_collective")))


def _term_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return _errors(validation.check_term(merged.get("starts_on"), merged.get("ends_on")))


def _cadre_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return _errors(validation.check_cadre(merged.get("person_id"), merged.get("post"), merged.get("started_on"),
                                          merged.get("ended_on")))


def _pay_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return _errors(validation.check_pay(merged.get("person_id"), merged.get("post"), merged.get("months"),
                                        merged.get("grade")))


def _centre_rules(merged: dict[str, Any]) -> list[tuple[str, str]]:
    area = merged.get("area_m2")
    return _errors(validation.check_centre(None if area is None else Decimal(area), merged.get("built_year")))


# ----- specs -------------------------------------------------------------------------
def _enum(key: str, header: str, vocabulary: str, **kw: Any) -> ColumnSpec:
    return s.enum_column(key, header, vocab(vocabulary), **kw)


def _money(key: str, header: str, **kw: Any) -> ColumnSpec:
    return ColumnSpec(key, header, s.TEXT, pattern=MONEY_PATTERN, example=kw.pop("example", "125000.00"),
                      pattern_message=f"{header}应为金额（元），最多两位小数，如 125000.50", note="单位：元", **kw)


_YEAR = ColumnSpec("year", "年度", s.INT, aliases=("年份", "所属年度"), required=True, example=2025, width=8)
_ID = ColumnSpec("id_number", "身份证号", s.ID_NUMBER, aliases=("身份证号码", "公民身份号码"), required=True,
                 example="140821198506010123", width=20)
_NAME = ColumnSpec("name", "姓名", s.NAME, aliases=("名字",), example="张三", width=10, note="核对用，以身份证号为准")


def _spec(key: str, title: str, adapter: ArchiveAdapter, columns: tuple[ColumnSpec, ...], description: str,
          aliases: tuple[str, ...] = ()) -> SheetSpec:
    return SheetSpec(key=key, title=title, aliases=aliases, description=description, adapter=adapter,
                     columns=(*village_reference_columns(), *columns), required_any=(("village_code", "village_name"),))


def sheet_specs() -> list[SheetSpec]:
    year_money = [(f, h) for f, h in (
        ("operating_income", "经营收入"), ("contract_income", "发包及上交收入"), ("investment_income", "投资收益"),
        ("subsidy_income", "补助收入"), ("other_income", "其他收入"), ("total_income", "总收入"),
        ("business_income", "经营性收入"), ("total_expense", "总支出"), ("net_income", "本年收益"),
        ("total_assets", "资产总额"), ("income_target", "年度目标"), ("debt_opening", "年初债务余额"),
        ("debt_new", "本年新增债务"), ("debt_resolved", "本年化解债务"), ("debt_closing", "年末债务余额"),
        ("funding_standard", "运转经费标准"), ("funding_received", "运转经费到位"))]
    profile_ints = (("group_count", "村民小组数"), ("natural_villages", "自然村数"), ("registered_households", "户籍户数"),
                    ("registered_population", "户籍人口"), ("resident_households", "常住户数"),
                    ("resident_population", "常住人口"))
    return [
        _spec("archive_profile", "村情概况", ArchiveAdapter("archive_profile", a.ArchiveProfile, ("year",), (
            Col("year", "year"), *[Col(k, k) for k, _h in profile_ints], Col("farmland_mu", "farmland_mu", "decimal"),
            Col("party_org_name", "party_org_name"), Col("party_org_kind", "party_org_kind")), _profile_rules),
            (_YEAR, *[ColumnSpec(k, h, s.INT, example=5) for k, h in profile_ints],
             ColumnSpec("farmland_mu", "耕地面积（亩）", s.TEXT, aliases=("耕地面积",), pattern=r"\d+(\.\d{1,2})?",
                        pattern_message="耕地面积应为数字（亩）", example="3200.5"),
             ColumnSpec("party_org_name", "党组织名称", s.TEXT, max_length=100, example="中共东张村支部委员会", width=24),
             _enum("party_org_kind", "党组织类型", "party_org_kind", example="党支部")),
            "每村每年一行。党员人数由人员信息自动统计，不在此填写。", ("村情", "村基本情况")),
        _spec("archive_year", "村级年度数据", YearAdapter("archive_year", a.ArchiveYear, ("year",), (
            Col("year", "year"), *[Col(k, k, "money") for k, _h in year_money], Col("debt_causes", "debt_causes"),
            Col("debt_plan", "debt_plan"), Col("creation_level", "creation_level"), Col("org_star", "org_star"),
            Col("secretary_star", "secretary_star"), Col("designated", "designated", "bool")), _year_rules),
            (_YEAR, *[_money(k, h) for k, h in year_money],
             ColumnSpec("debt_causes", "债务成因", s.TEXT, max_length=400, width=20),
             ColumnSpec("debt_plan", "化解计划", s.TEXT, max_length=400, width=20),
             _enum("creation_level", "创建等级", "creation_level", example="规范"),
             ColumnSpec("org_star", "村党组织星级", s.INT, example=4), ColumnSpec("secretary_star", "书记星级", s.INT, example=4),
             _enum("designated", "重点村", "yes_no", example="否")),
            "集体经济、村级债务、运转经费、创建等级与星级，每村每年一行。导入时按规则检查（如总收入等于各项收入之和）。",
            ("集体经济", "村级债务", "年度数据")),
        _spec("archive_cooperative", "领办合作社", ArchiveAdapter("archive_cooperative", a.ArchiveCooperative,
                                                               ("year", "name"), (
            Col("year", "year"), Col("name", "name"), Col("members", "members"),
            Col("income", "income_to_collective", "money")), _cooperative_rules),
            (_YEAR, ColumnSpec("name", "合作社名称", s.TEXT, required=True, max_length=100, width=26),
             ColumnSpec("members", "成员数", s.INT, example=60), _money("income", "为集体增收")),
            "村党组织领办合作社，每年每社一行。", ("村党组织领办合作社",)),
        _spec("archive_term", "换届", ArchiveAdapter("archive_term", a.ArchiveTerm, ("term_no",), (
            Col("term_no", "term_no"), Col("starts_on", "starts_on"), Col("ends_on", "ends_on"),
            Col("completed", "completed", "bool"), Col("note", "note")), _term_rules),
            (ColumnSpec("term_no", "届次", s.INT, required=True, example=11),
             ColumnSpec("starts_on", "本届开始", s.DATE, month_precision=True),
             ColumnSpec("ends_on", "本届届满", s.DATE, month_precision=True), _enum("completed", "是否完成", "yes_no", example="是"),
             ColumnSpec("note", "备注", s.TEXT, max_length=200)),
            "村“两委”换届，每届一行。", ("换届情况",)),
        _spec("archive_cadre", "两委班子", ArchiveAdapter("archive_cadre", a.ArchiveCadre, ("person_id", "post", "started_on"), (
            Col("id_number", "person_id", "person"), Col("post", "post"), Col("one_shoulder", "one_shoulder", "bool"),
            Col("started_on", "started_on"), Col("ended_on", "ended_on"), Col("term_no", "term_no")), _cadre_rules),
            (_ID, _NAME, _enum("post", "职务", "cadre_post", required=True, example="书记"),
             _enum("one_shoulder", "一肩挑", "yes_no", example="是"),
             ColumnSpec("started_on", "任职日期", s.DATE, month_precision=True),
             ColumnSpec("ended_on", "离任日期", s.DATE, note="现任不填", month_precision=True), ColumnSpec("term_no", "届次", s.INT)),
            "村“两委”成员任职，一人一职一行（一肩挑的书记、主任各一行）。人员须已在人员信息中登记。", ("两委成员", "村两委")),
        _spec("archive_first_secretary", "第一书记", ArchiveAdapter("archive_first_secretary", a.ArchiveFirstSecretary,
                                                               ("name", "started_on"), (
            Col("name", "name"), Col("unit", "unit"), Col("started_on", "started_on"), Col("ended_on", "ended_on"),
            Col("phone", "phone"))),
            (ColumnSpec("name", "姓名", s.NAME, required=True), ColumnSpec("unit", "派出单位", s.TEXT, width=20),
             ColumnSpec("started_on", "任期开始", s.DATE, month_precision=True),
             ColumnSpec("ended_on", "任期结束", s.DATE, month_precision=True),
             ColumnSpec("phone", "联系电话", s.PHONE)),
            "驻村第一书记，每任一行。", ("驻村第一书记",)),
        _spec("archive_talent", "人才库", ArchiveAdapter("archive_talent", a.ArchiveTalent, ("kind", "name"), (
            Col("kind", "kind"), Col("name", "name"), Col("id_number", "person_id", "person"),
            Col("birth_date", "birth_date"), Col("education", "education"), Col("measures", "measures"),
            Col("arrived_on", "arrived_on"), Col("workplace", "workplace"), Col("industry", "industry"),
            Col("contact", "contact"), Col("return_intent", "return_intent"), Col("returned", "returned", "bool"),
            Col("phone", "phone"))),
            (_enum("kind", "类别", "talent_kind", required=True, example="后备干部"),
             ColumnSpec("name", "姓名", s.NAME, required=True),
             ColumnSpec("id_number", "身份证号", s.ID_NUMBER, aliases=("身份证号码",), width=20, note="本村人员可填，用于关联"),
             ColumnSpec("birth_date", "出生日期", s.DATE, month_precision=True),
             ColumnSpec("education", "学历", s.TEXT, max_length=16),
             ColumnSpec("measures", "培养措施", s.TEXT, max_length=400),
             ColumnSpec("arrived_on", "到岗日期", s.DATE, month_precision=True),
             ColumnSpec("workplace", "外出地", s.TEXT, max_length=100), ColumnSpec("industry", "行业", s.TEXT, max_length=64),
             ColumnSpec("contact", "联系人", s.TEXT, max_length=64), _enum("return_intent", "回引意向", "return_intent"),
             _enum("returned", "回村任职", "yes_no"), ColumnSpec("phone", "联系电话", s.PHONE)),
            "后备干部、乡村振兴专员、在外优秀人才，每人一行。", ("人才", "后备干部", "在外人才")),
        _spec("archive_pay", "村干部报酬", PayAdapter("archive_pay", a.ArchivePay, ("year", "person_id"), (
            Col("year", "year"), Col("id_number", "person_id", "person"), Col("post", "post"), Col("months", "months"),
            Col("grade", "grade")), _pay_rules),
            (_YEAR, _ID, _NAME, _enum("post", "职务", "cadre_post", required=True, example="书记"),
             ColumnSpec("months", "任职月数", s.INT, example=12), _enum("grade", "考核等级", "pay_grade", example="称职")),
            "村干部报酬的计算依据（职务、月数、考核等级），金额按报酬规则自动计算。", ("报酬", "报酬发放")),
        _spec("archive_centre", "党群服务中心", ArchiveAdapter("archive_centre", a.ArchiveCentre, (), (
            Col("address", "address"), Col("area", "area_m2", "decimal"), Col("built_year", "built_year"),
            Col("rooms", "rooms", "list")), _centre_rules),
            (ColumnSpec("address", "地址", s.TEXT, max_length=200, width=24),
             ColumnSpec("area", "面积（㎡）", s.TEXT, aliases=("面积", "建筑面积"), pattern=r"\d+(\.\d{1,2})?",
                        pattern_message="面积应为数字（平方米）", example="320"),
             ColumnSpec("built_year", "建成年份", s.INT, example=2018),
             ColumnSpec("rooms", "功能室", s.LIST, width=30, note="多个用顿号隔开")),
            "每村一行。", ("党群服务中心情况",)),
        _spec("archive_rectification", "软弱涣散整顿", ArchiveAdapter("archive_rectification", a.ArchiveRectification,
                                                                 ("year",), (
            Col("year", "year"), Col("clauses", "clauses", "list"), Col("measures", "measures"), Col("leader", "leader"),
            Col("accepted_on", "accepted_on"), Col("score", "score", "decimal"), Col("result", "result"),
            Col("review_on", "review_on"), Col("review_note", "review_note")), _rectification_rules),
            (ColumnSpec("year", "认定年度", s.INT, aliases=("年度",), required=True, example=2023),
             ColumnSpec("clauses", "认定条款", s.LIST, required=True, example="1、3", note="条款编号，多个用顿号隔开"),
             ColumnSpec("measures", "整顿措施", s.TEXT, width=30), ColumnSpec("leader", "包联领导", s.TEXT, max_length=64),
             ColumnSpec("accepted_on", "验收日期", s.DATE),
             ColumnSpec("score", "验收得分", s.TEXT, pattern=r"\d{1,3}(\.\d)?", pattern_message="验收得分应为0至100的数字"),
             _enum("result", "验收结果", "rectification_result"), ColumnSpec("review_on", "回头看日期", s.DATE),
             ColumnSpec("review_note", "回头看情况", s.TEXT, max_length=400)),
            "软弱涣散村党组织的认定、整顿、验收和回头看，每村每个认定年度一行。", ("软弱涣散", "软弱涣散村")),
        _spec("archive_commitment", "承诺事项", ArchiveAdapter("archive_commitment", a.ArchiveCommitment, ("year", "title"), (
            Col("year", "year"), Col("title", "title"), Col("owner", "owner"), Col("deadline", "deadline"),
            Col("status", "status"), Col("completed_on", "completed_on")), _commitment_rules),
            (_YEAR, ColumnSpec("title", "承诺事项", s.TEXT, required=True, max_length=200, width=30),
             ColumnSpec("owner", "责任人", s.TEXT, max_length=64), ColumnSpec("deadline", "完成时限", s.DATE),
             _enum("status", "状态", "commitment_status", example="推进中"), ColumnSpec("completed_on", "完成日期", s.DATE)),
            "为民办实事公开承诺，每年3至5项。", ("为民办实事", "公开承诺")),
        _spec("archive_meeting", "会议记录", ArchiveAdapter("archive_meeting", a.ArchiveMeeting, ("held_on", "kind"), (
            Col("held_on", "held_on"), Col("kind", "kind"), Col("topic", "topic"), Col("host", "host"))),
            (ColumnSpec("held_on", "会议日期", s.DATE, aliases=("日期",), required=True),
             _enum("kind", "会议类型", "meeting_kind", required=True, example="主题党日"),
             ColumnSpec("topic", "会议主题", s.TEXT, required=True, max_length=200, width=30),
             ColumnSpec("host", "主持人", s.TEXT, max_length=64)),
            "三会一课和主题党日，每次会议一行。", ("三会一课", "会议台账")),
        _spec("archive_attendance", "会议出席", AttendanceAdapter("archive_attendance", a.ArchiveAttendance,
                                                              ("meeting_id", "party_member_id"), (
            Col("id_number", "party_member_id", "member"), Col("status", "status"), Col("reason", "reason"))),
            (ColumnSpec("held_on", "会议日期", s.DATE, aliases=("日期",), required=True),
             _enum("kind", "会议类型", "meeting_kind", required=True, example="主题党日"),
             _ID, _NAME, _enum("status", "出席情况", "attendance", required=True, example="出席"),
             ColumnSpec("reason", "请假原因", s.TEXT, max_length=200)),
            "每次会议每名党员一行：出席、请假（写原因）或缺席。会议须已在“会议记录”中。", ("出席情况", "参会情况")),
    ]

