"""The audit log viewer's queries and export.

Values in the log can hold ID and phone numbers (a person's create snapshot
has them all); they are masked unless the viewer gives a reason, and every
full view or full export is itself written to the log as a read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import ColumnElement, and_, or_, select

from townapp.accounts.audit_labels import AuditLabelsFile, audit_labels, entity_label  # noqa: F401 (the table's home)
from townapp.accounts.audit_values import readable_rows
from townapp.accounts.dto import AuditFilter, AuditRow
from townapp.core import permissions
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.core.idcard import normalize_id_number
from townapp.db import Database
from townapp.db.audit import AuditEntry, record_read
from townapp.db.fast import fetch_first_column
from townapp.exchange.writer import safe_row
from townapp.registry.models import HouseholdMember, PartyMember, Person

EXPORT_HEADERS = ("时间", "用户", "操作", "对象", "编号", "村/社区", "字段", "原值", "新值", "原因", "导入批次")
EXPORT_LIMIT = 1_000_000


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationFailed([FieldProblem("reason", "查看或导出完整身份证号、手机号必须填写原因")])
    return reason


class AuditService:
    """Read the audit log (管理员 only); the filters run in SQL."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR) -> None:
        self.db = db
        self.actor = actor

    def _condition(self, f: AuditFilter) -> ColumnElement[bool]:
        a = AuditEntry
        parts: list[ColumnElement[bool]] = []
        if f.username:
            parts.append(a.username == f.username)
        if f.entity:
            parts.append(a.entity == f.entity)
        if f.village_id is not None:
            parts.append(a.village_id == f.village_id)
        if f.action:
            parts.append(a.action == f.action)
        if f.date_from:
            parts.append(a.at >= dt.datetime.combine(f.date_from, dt.time()) - self._utc_offset())
        if f.date_to:
            parts.append(a.at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time()) - self._utc_offset())
        if f.entity_id is not None:
            parts.append(a.entity_id == f.entity_id)
        if f.batch_id is not None:
            parts.append(a.batch_id == f.batch_id)
        if f.records:
            by_entity: dict[str, list[int]] = {}
            for entity, entity_id in f.records:
                by_entity.setdefault(entity, []).append(entity_id)
            parts.append(or_(*[and_(a.entity == e, a.entity_id.in_(ids)) for e, ids in by_entity.items()]))
        return and_(True, *parts)

    def person_records(self, id_number: str) -> tuple[tuple[str, int], ...]:
        """A person's records whose changes make up their history: the person, their 党员 record and
        household link — found by 身份证号 (empty when no one has it)."""
        permissions.require_admin(self.actor, "查看审计日志")
        number = normalize_id_number(id_number)
        with self.db.engine.connect() as conn:
            person = conn.execute(select(Person.id).where(Person.id_number == number)).scalar()
            if person is None:
                return ()
            records = [("person", person)]
            records += [("party_member", i) for i in
                        conn.execute(select(PartyMember.id).where(PartyMember.person_id == person)).scalars()]
            records += [("household_member", i) for i in
                        conn.execute(select(HouseholdMember.id).where(HouseholdMember.person_id == person)).scalars()]
        return tuple(records)

    @staticmethod
    def _utc_offset() -> dt.timedelta:
        """Entries are stored in UTC; the user filters by local dates."""
        return dt.datetime.now().astimezone().utcoffset() or dt.timedelta()

    def ids(self, f: AuditFilter) -> list[int]:
        permissions.require_admin(self.actor, "查看审计日志")
        query = select(AuditEntry.id).where(self._condition(f)).order_by(AuditEntry.id.desc())
        return fetch_first_column(self.db.engine, query)

    def rows(self, ids: Sequence[int]) -> dict[int, AuditRow]:
        """Rows for the table, ID and phone numbers masked."""
        permissions.require_admin(self.actor, "查看审计日志")
        return self._rows(ids, full=False)

    def full_row(self, entry_id: int, reason: str) -> AuditRow:
        """One entry unmasked; the view itself is logged with its reason."""
        permissions.require_admin(self.actor, "查看审计日志")
        reason = _require_reason(reason)
        row = self._rows([entry_id], full=True).get(entry_id)
        if row is None:
            raise DomainError(f"审计记录不存在（编号 {entry_id}）")
        with self.db.unit_of_work(self.actor, reason=reason) as s:
            record_read(s, "audit_entry", entry_id, reason, "查看审计记录的完整内容")
        return row

    def _rows(self, ids: Sequence[int], full: bool) -> dict[int, AuditRow]:
        """The entries as the viewer and the export show them: Chinese names, readable values (audit_values)."""
        with self.db.engine.connect() as conn:
            return readable_rows(conn, ids, full=full, utc_offset=self._utc_offset())

    def usernames(self) -> list[str]:
        permissions.require_admin(self.actor, "查看审计日志")
        with self.db.engine.connect() as conn:
            return list(conn.execute(select(AuditEntry.username).distinct().order_by(AuditEntry.username)).scalars())

    def entities(self) -> list[tuple[str, str]]:
        """(table name, Chinese label) of every entity that has entries."""
        permissions.require_admin(self.actor, "查看审计日志")
        with self.db.engine.connect() as conn:
            names = conn.execute(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)).scalars()
            return [(n, entity_label(n)) for n in names]

    def actions(self) -> list[tuple[str, str]]:
        permissions.require_admin(self.actor, "查看审计日志")
        return list(audit_labels()["actions"].items())

    def export_xlsx(self, f: AuditFilter, out: Path | str, *, reason: str | None = None) -> int:
        """Write the filtered log to an xlsx file (atomically); masked unless a reason is given."""
        permissions.require_admin(self.actor, "导出审计日志")
        full = reason is not None
        if full:
            reason = _require_reason(reason)
        out = Path(out)
        ids = self.ids(f)[:EXPORT_LIMIT]
        workbook = Workbook(write_only=True)
        ws = workbook.create_sheet("审计日志")
        for letter, width in zip("ABCDEFGHIJK", (20, 12, 12, 12, 8, 14, 16, 40, 40, 20, 10), strict=True):
            ws.column_dimensions[letter].width = width
        ws.append(safe_row(ws, list(EXPORT_HEADERS)))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = self._rows(chunk, full=full)
            for entry_id in chunk:
                r = rows[entry_id]
                ws.append(safe_row(ws, [r.at.replace(microsecond=0), r.username, r.action, r.entity, r.entity_id,
                                        r.village_name, r.field, r.old, r.new, r.reason, r.batch_id],
                                   [False, True, True, True, False, True, True, True, True, True, False]))
        with atomic_output(out) as tmp:
            workbook.save(tmp)
        if full:
            with self.db.unit_of_work(self.actor, reason=reason) as s:
                record_read(s, "audit_entry", None, reason or "", f"导出含完整信息的审计日志 {out.name}")
        return len(ids)
