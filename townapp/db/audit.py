"""Audit log written by a session hook, so no service has to remember to.

Every create, update and delete flushed through an ORM session of a model with
``__audited__`` writes AuditEntry rows in the same transaction: one row per
changed field for an update, one row with all values for a create or delete.
Each row also records the village the changed record belongs to (its own
``village_id``, or its parent's through a foreign key) so the audit viewer can
filter by village. Columns named in a model's ``__audit_redacted__`` (password
hashes) are logged as changed, never with their values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import json.encoder
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Alias,
    ColumnElement,
    Connection,
    Index,
    String,
    Table,
    Text,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from townapp.db.base import Base, utcnow
from townapp.db.text_guard import refuse_control_characters

# not logged: time stamps (the entry has its own), the sync identity, and values derived from logged
# ones (the reversed ID for tail searches, the pinyin initials) — a third of a person's snapshot
_SKIPPED = {"created_at", "updated_at", "uuid", "id_number_rev", "name_initials"}


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __audited__ = False
    __table_args__ = (Index("ix_audit_entry_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete | read
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None]
    field: Mapped[str | None] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(400))
    village_id: Mapped[int | None] = mapped_column(index=True)  # no FK: history outlives the village
    batch_id: Mapped[int | None]  # the import_batch a change came with (no FK: history outlives the batch)


REDACTED = "（已隐藏）"


def _redacted(obj: Any) -> frozenset[str]:
    return frozenset(getattr(type(obj), "__audit_redacted__", ()))


def plain_value(value: Any) -> Any:
    """A value as JSON holds it: dates in ISO form, Decimals as their exact text."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(plain_value(value))


def _json_default(value: Any) -> Any:
    plain = plain_value(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return plain


def snapshot_json(values: dict[str, Any]) -> str:
    """A record's values as the audit stores them (dates ISO, Decimals as text, keys sorted, compact: the
    text SQLite's json_object gives for a batch's creates, see db/batch.py)."""
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default)


_encode_text = json.encoder.encode_basestring  # the C encoder json.dumps(..., ensure_ascii=False) uses


def _json_value(value: Any) -> str:
    cls = value.__class__
    if value is None:
        return "null"
    if cls is str:
        return _encode_text(value)
    if cls is int:
        return str(value)
    if cls is dt.date or cls is dt.datetime:
        return _encode_text(value.isoformat())
    if cls is decimal.Decimal:
        return _encode_text(str(value))
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def snapshot_rows(columns: Sequence[str], rows: Iterable[Sequence[Any]], hidden: frozenset[str] = frozenset()
                  ) -> list[str]:
    """``snapshot_json`` of many rows of the same columns, ~5× faster (an import logs 100,000 creates).

    The same text as ``snapshot_json``: keys sorted once,
    values encoded by type with json's own C string encoder.
    """
    order = sorted((name, index) for index, name in enumerate(columns) if name not in _SKIPPED)
    keys = [_encode_text(name) + ":" for name, _ in order]
    redacted = _encode_text(REDACTED)
    picks = [(key, index, name in hidden) for key, (name, index) in zip(keys, order, strict=True)]
    out = []
    for row in rows:
        out.append("{" + ",".join(key + (redacted if secret else _json_value(row[index]))
                                   for key, index, secret in picks) + "}")
    return out


def _snapshot(obj: Any) -> str:
    mapper = inspect(obj).mapper
    hidden = _redacted(obj)
    values = {a.key: REDACTED if a.key in hidden else plain_value(getattr(obj, a.key))
              for a in mapper.column_attrs if a.key not in _SKIPPED}
    return snapshot_json(values)


def _entity_id(obj: Any) -> int | None:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return key[0] if len(key) == 1 and isinstance(key[0], int) else None


VILLAGE_PATH_DEPTH = 3  # a grid score → its member → the grid → the village


def _base(t: Any) -> Table:
    return t.element if isinstance(t, Alias) else t


def _foreign_keys(table: Table) -> list[Any]:
    return [fk for column in table.columns for fk in column.foreign_keys]


def village_sql(t: Table | Alias, depth: int = VILLAGE_PATH_DEPTH) -> ColumnElement[Any] | None:
    """The village a row of ``t`` belongs to, in SQL: itself (a village), its ``village_id``, or its parents'
    through foreign keys (in the table's column order — the owner first: a 党员's person before their
    branch — the first that has one), up to ``depth`` steps.

    The one answer to "which village is this record" for the audit log and for a clerk's batch writes."""
    base = _base(t)
    if base.name == "village":
        return t.c.id
    if "village_id" in t.c:
        return t.c.village_id
    if depth == 0:
        return None
    options: list[Any] = []
    for fk in _foreign_keys(base):
        parent = fk.column.table
        if parent is base:
            continue  # a tree's parent is in the same village
        if parent.name == "village":
            options.append(t.c[fk.parent.name])
            continue
        alias = parent.alias()
        inner = village_sql(alias, depth - 1)
        if inner is not None:
            options.append(select(inner).where(alias.c[fk.column.name] == t.c[fk.parent.name]).scalar_subquery())
    if not options:
        return None
    return options[0] if len(options) == 1 else func.coalesce(*options)


def villages_of(conn: Connection, table: Table, records: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """``village_sql`` for rows given as values (new or changed records, before or after the write)."""
    if table.name == "village":
        return [r.get("id") for r in records]
    if "village_id" in table.c:
        return [r.get("village_id") for r in records]
    result: list[int | None] = [None] * len(records)
    for fk in _foreign_keys(table):
        parent = fk.column.table
        if parent is table:
            continue
        waiting = [i for i, v in enumerate(result) if v is None and records[i].get(fk.parent.name) is not None]
        if not waiting:
            continue
        if parent.name == "village":
            for i in waiting:
                result[i] = records[i][fk.parent.name]
            continue
        alias = parent.alias()
        inner = village_sql(alias, VILLAGE_PATH_DEPTH - 1)
        if inner is None:
            continue
        key = alias.c[fk.column.name]
        wanted = sorted({records[i][fk.parent.name] for i in waiting})
        known: dict[Any, Any] = {}
        for start in range(0, len(wanted), 500):
            known.update(conn.execute(select(key, inner).where(key.in_(wanted[start:start + 500]))).all())
        for i in waiting:
            result[i] = known.get(records[i][fk.parent.name])
    return result


def _values(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {column.name: getattr(obj, mapper.get_property_by_column(column).key, None)
            for column in type(obj).__table__.columns}


def _after_flush(session: Session, flush_context: Any) -> None:
    actor = session.info.get("actor")
    username = getattr(actor, "username", None) or "系统"
    reason = session.info.get("reason")
    batch_id = session.info.get("batch_id")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    owners: list[Any] = []  # the object of each row: its village is looked up per table, set-based

    def add(action: str, obj: Any, field: str | None, old: str | None, new: str | None) -> None:
        rows.append(dict(at=now, username=username, action=action, entity=type(obj).__tablename__,
                         entity_id=_entity_id(obj), field=field, old=old, new=new, reason=reason,
                         village_id=None, batch_id=batch_id))
        owners.append(obj)

    for obj in session.new:
        if getattr(obj, "__audited__", False):
            add("create", obj, None, None, _snapshot(obj))
    for obj in session.dirty:
        if not getattr(obj, "__audited__", False) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            if attr.key in _SKIPPED:
                continue
            hist = state.attrs[attr.key].history
            if hist.has_changes() and hist.deleted != hist.added:
                old = hist.deleted[0] if hist.deleted else None
                new = hist.added[0] if hist.added else None
                if old != new:
                    if attr.key in _redacted(obj):
                        add("update", obj, attr.key, REDACTED, REDACTED)
                    else:
                        add("update", obj, attr.key, _text(old), _text(new))
    # session.deleted holds only explicit deletes; the flush also deletes orphans (a group
    # removed from its village, a member removed from a household) and cascaded children
    deleted = [state.obj() for state, (isdelete, listonly) in flush_context.states.items()
               if isdelete and not listonly]
    for obj in deleted:
        if obj is not None and getattr(obj, "__audited__", False):
            add("delete", obj, None, _snapshot(obj), None)
    if rows:
        conn = session.connection()
        by_table: dict[Any, list[int]] = {}
        for index, obj in enumerate(owners):
            by_table.setdefault(type(obj).__table__, []).append(index)
        for table, indexes in by_table.items():
            found = villages_of(conn, table, [_values(owners[i]) for i in indexes])
            for i, village in zip(indexes, found, strict=True):
                rows[i]["village_id"] = village if isinstance(village, int) else None
        conn.execute(AuditEntry.__table__.insert(), rows)


class AuditedSession(Session):
    """The one session class of the app: the audit hook (and the control-character guard of
    db/text_guard.py) are attached to this class once, at import.

    Attaching it per sessionmaker (or per session) went wrong now and then: SQLAlchemy's event
    registry remembers targets by ``id()``, and a new sessionmaker's class can reuse the address of
    one already collected, so ``event.contains`` answered "already installed" and a database was
    opened with no audit at all."""


event.listen(AuditedSession, "after_flush", _after_flush)
event.listen(AuditedSession, "before_flush", refuse_control_characters)


def record_read(session: Session, entity: str, entity_id: int | None, reason: str, what: str,
                village_id: int | None = None) -> None:
    """Full-ID views and exports are logged as reads, with the reason given."""
    actor = session.info.get("actor")
    session.add(AuditEntry(username=getattr(actor, "username", "系统"), action="read", entity=entity,
                           entity_id=entity_id, field=what, reason=reason, village_id=village_id))
