"""Set-based writes with a per-record audit: how a service writes many records at once.

A dialog's change goes through an ORM session and the audit hook of
``db/audit.py`` logs it. An import sheet or a county package writes thousands
of rows with Core statements instead (the ORM costs ~10× more), and used to be
logged only as one summary per sheet, so "who changed this person's 党籍状态,
and from which file" had no answer. A service's batch method hands its rows to
a ``BatchWrite`` inside the caller's transaction: each created, updated or
deleted record gets the same audit rows the hook writes (a snapshot for a
create or delete, one row per changed field for an update, the record's
village), plus the import batch it came with — all in one executemany.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    true,
    update,
)

from townapp.core import permissions
from townapp.core.actor import Actor
from townapp.db.audit import (
    _SKIPPED,
    REDACTED,
    AuditEntry,
    _text,
    snapshot_json,
    snapshot_rows,
    village_sql,
    villages_of,
)
from townapp.db.base import Base, new_uuid, utcnow
from townapp.db.fast import insert_many
from townapp.db.text_guard import refuse_long_values

CHUNK = 500
DoorT = TypeVar("DoorT", bound="ModuleBatch")
AUDIT_COLUMNS = ("at", "username", "action", "entity", "entity_id", "field", "old", "new", "reason",
                 "village_id", "batch_id")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _village_or_null(table: Table) -> Any:
    found = village_sql(table)
    return literal(None, Integer) if found is None else found


def _model_of(table: Table) -> Any:
    for mapper in Base.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return None


def _audit_settings(table: Table) -> tuple[bool, frozenset[str]]:
    model = _model_of(table)
    if model is None:
        return False, frozenset()
    return bool(getattr(model, "__audited__", False)), frozenset(getattr(model, "__audit_redacted__", ()))


@dataclass
class BatchWrite:
    """The writes of one action (an import, a package) in ``conn``'s transaction, audited per record."""

    conn: Connection
    actor: Actor
    batch_id: int | None = None
    reason: str | None = None
    now: dt.datetime = field(default_factory=utcnow)
    # the one village the actor may change (a 村录入员's), or None when every record may be written;
    # a record of another village is not written and its position/id is returned as refused
    only_village: int | None = None

    @classmethod
    def for_actor(cls, conn: Connection, actor: Actor, *, batch_id: int | None = None, reason: str | None = None,
                  now: dt.datetime | None = None, what: str = "数据") -> BatchWrite:
        """The writes ``actor`` may make: 只读 none at all (refused here), a 村录入员 their own village's only."""
        permissions.require_write(actor, permissions.visible_village(actor), what)
        only = None if permissions.is_township_level(actor) else permissions.visible_village(actor)
        return cls(conn, actor, batch_id, reason, now or utcnow(), only)

    # ----- audit -------------------------------------------------------
    def _log(self, entries: list[tuple[Any, ...]]) -> None:
        if entries:
            insert_many(self.conn, AuditEntry.__table__, AUDIT_COLUMNS, entries)

    def _entry(self, action: str, entity: str, entity_id: Any, village_id: Any, name: str | None,
               old: str | None, new: str | None) -> tuple[Any, ...]:
        return (self.now, self.actor.username, action, entity, entity_id if isinstance(entity_id, int) else None,
                name, old, new, self.reason, village_id if isinstance(village_id, int) else None, self.batch_id)

    def _villages(self, table: Table, records: Sequence[Mapping[str, Any]]) -> list[int | None]:
        return villages_of(self.conn, table, records)

    def _pointing_elsewhere(self, table: Table, records: Sequence[Mapping[str, Any]]) -> set[int]:
        """Positions of records that point (by a foreign key they set) at a record of another village than
        ``only_village`` — e.g. one's own 党员 moved into another village's 党支部. Records of no village
        (the township's 党委, a month) may be pointed at."""
        refused: set[int] = set()
        for column in table.columns:
            for fk in column.foreign_keys:
                target = fk.column.table
                if target.name == "village":
                    continue  # the record's own village: checked above
                village = village_sql(target)
                if village is None:
                    continue
                values = {r[column.name] for r in records if r.get(column.name) is not None}
                if not values:
                    continue
                found: dict[Any, Any] = {}
                key = target.c[fk.column.name]
                ordered = sorted(values)
                for start in range(0, len(ordered), CHUNK):
                    found.update(self.conn.execute(select(key, village).where(
                        key.in_(ordered[start:start + CHUNK]))).all())
                refused |= {i for i, r in enumerate(records) if r.get(column.name) is not None
                            and found.get(r[column.name]) not in (None, self.only_village)}
        return refused

    def _village_columns(self, table: Table) -> list[str]:
        if table.name == "village" or "village_id" in table.c:
            return ["village_id"] if "village_id" in table.c else []
        return sorted(fk.parent.name for fk in table.foreign_keys)

    # ----- writes --------------------------------------------------------
    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> set[int]:
        """INSERT ``rows`` (tuples in ``columns`` order, ids included) and log each as created.

        Returns the positions of rows refused because they belong to another village than ``only_village``.
        """
        if not rows:
            return set()
        refuse_long_values(table, columns, rows)
        audited, hidden = _audit_settings(table)
        refused: set[int] = set()
        villages: list[int | None] = []
        if self.only_village is not None:
            if "village_id" in table.c and "village_id" in columns:
                at = columns.index("village_id")
                villages = [row[at] for row in rows]
            else:
                villages = self._villages(table, [dict(zip(columns, row, strict=True)) for row in rows])
            refused = {i for i, v in enumerate(villages) if v != self.only_village}
            refused |= self._pointing_elsewhere(table, [dict(zip(columns, row, strict=True)) for row in rows])
            if refused:
                rows = [r for i, r in enumerate(rows) if i not in refused]
                villages = [v for i, v in enumerate(villages) if i not in refused]
        if not rows:
            return refused
        insert_many(self.conn, table, columns, rows)
        if not audited:
            return refused
        key = columns.index("id") if "id" in columns else None
        if key is not None and not hidden and self._snapshots_in_sql(table):
            self._log_created_in_sql(table, [row[key] for row in rows])
            return refused
        if not villages:
            villages = self._villages(table, [dict(zip(columns, row, strict=True)) for row in rows])
        snapshots = snapshot_rows(columns, rows, hidden)
        entries = [self._entry("create", table.name, row[key] if key is not None else None, village, None, None, text)
                   for row, village, text in zip(rows, villages, snapshots, strict=True)]
        self._log(entries)
        return refused

    def _snapshots_in_sql(self, table: Table) -> bool:
        """SQLite's json_object takes any number of values; PostgreSQL's json_build_object at most 100."""
        name = self.conn.dialect.name
        return name == "sqlite" or (name == "postgresql" and 2 * len(table.c) <= 100)

    def _log_created_in_sql(self, table: Table, ids: Sequence[int]) -> None:
        """The create rows of records just inserted, their snapshots built by the database (SQLite's json_object,
        PostgreSQL's json_build_object) from the stored rows: no Python encoding or binding per value, a third
        of the cost for 100,000 people. The same values as ``snapshot_rows`` (a server spaces its JSON
        differently; the audit log reads either)."""
        logged = sorted(c.name for c in table.c if c.name not in _SKIPPED)
        server = self.conn.dialect.name != "sqlite"
        values = []
        for name in logged:
            column = table.c[name]
            if isinstance(column.type, LargeBinary):  # JSON cannot hold bytes: their size, as text
                size = func.octet_length(column) if server else func.length(column)
                values += [literal(name), (func.format("%s 字节", size) if server else func.printf("%d 字节", size))]
            elif isinstance(column.type, Boolean):
                values += [literal(name), column if server else
                           case((column.is_(None), None), (column == true(), func.json("true")), else_=func.json("false"))]
            elif server and isinstance(column.type, Numeric) and not isinstance(column.type, Integer):
                values += [literal(name), cast(column, String)]  # a Decimal is text in the audit, as snapshot_rows writes it
            else:
                values += [literal(name), column]
        snapshot = cast(func.json_build_object(*values), String) if server else func.json_object(*values)
        source = select(literal(self.now, AuditEntry.__table__.c.at.type), literal(self.actor.username),
                        literal("create"), literal(table.name), table.c.id, literal(None, String),
                        literal(None, String), snapshot, literal(self.reason, String),
                        _village_or_null(table), literal(self.batch_id, Integer))
        first, last = min(ids), max(ids)
        contiguous = last - first + 1 == len(ids)
        parts = [None] if contiguous else [list(part) for part in _chunks(list(ids))]
        for part in parts:
            where = table.c.id.between(first, last) if part is None else table.c.id.in_(part)
            self.conn.execute(AuditEntry.__table__.insert().from_select(list(AUDIT_COLUMNS), source.where(where)))

    def insert_dicts(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """``insert`` for rows given as dicts (all with the same keys)."""
        if not rows:
            return set()
        columns = list(rows[0])
        return self.insert(table, columns, [tuple(r[c] for c in columns) for r in rows])

    def update(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """UPDATE each ``{"id": …, column: new value …}``; log every field whose stored value changes.

        The stored values are read set-based first, so the log holds what was
        really replaced, whatever the caller believed. Rows may name different
        columns. Returns the ids refused: records of another village than
        ``only_village``, before or after the change.
        """
        if not rows:
            return set()
        audited, hidden = _audit_settings(table)
        refused: set[int] = set()
        groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(k for k in row if k != "id"), []).append(row)
        for columns, members in groups.items():
            refuse_long_values(table, columns, members)
            if audited or self.only_village is not None:
                entries, refused_here = self._update_entries(table, columns, members, hidden)
                if refused_here:
                    refused |= refused_here
                    members = [r for r in members if r["id"] not in refused_here]
                if audited:
                    self._log([e for e in entries if e[4] not in refused_here])
            if not members:
                continue
            statement = (update(table).where(table.c.id == bindparam("b_id"))
                         .values({c: bindparam(f"b_{c}") for c in columns}))
            self.conn.execute(statement, [{f"b_{k}": v for k, v in r.items()} for r in members])
        return refused

    def _update_entries(self, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]],
                        hidden: frozenset[str]) -> tuple[list[tuple[Any, ...]], set[int]]:
        logged = [c for c in columns if c not in _SKIPPED]
        extra = [c for c in self._village_columns(table) if c not in logged]
        read = logged + extra
        stored: dict[int, dict[str, Any]] = {}
        ids = [r["id"] for r in rows]
        for part in _chunks(ids):
            query = select(table.c.id, *[table.c[c] for c in read]).where(table.c.id.in_(part))
            for record in self.conn.execute(query):
                stored[record[0]] = dict(zip(read, record[1:], strict=True))
        olds = [stored.get(r["id"], {}) for r in rows]
        villages = self._villages(table, [{**old, "id": r["id"]} for r, old in zip(rows, olds, strict=True)])
        refused: set[int] = set()
        if self.only_village is not None:
            after = self._villages(table, [{**old, **r} for r, old in zip(rows, olds, strict=True)])
            refused = {r["id"] for r, v, w in zip(rows, villages, after, strict=True)
                       if v != self.only_village or w != self.only_village}
            refused |= {rows[i]["id"] for i in self._pointing_elsewhere(table, rows)}
        entries = []
        for row, old, village in zip(rows, olds, villages, strict=True):
            for name in logged:
                before, after_value = old.get(name), row[name]
                if before == after_value or _text(before) == _text(after_value):
                    continue
                if name in hidden:
                    entries.append(self._entry("update", table.name, row["id"], village, name, REDACTED, REDACTED))
                else:
                    entries.append(self._entry("update", table.name, row["id"], village, name,
                                               _text(before), _text(after_value)))
        return entries, refused

    def delete(self, table: Table, ids: Sequence[int]) -> set[int]:
        """DELETE the records with these ids; log each with its last values. Returns the ids refused."""
        audited, hidden = _audit_settings(table)
        refused: set[int] = set()
        for part in _chunks(list(ids)):
            if audited or self.only_village is not None:
                records = [dict(r._mapping) for r in self.conn.execute(select(table).where(table.c.id.in_(part)))]
                villages = self._villages(table, records)
                if self.only_village is not None:
                    gone = {r["id"] for r, v in zip(records, villages, strict=True) if v != self.only_village}
                    if gone:
                        refused |= gone
                        kept = [(r, v) for r, v in zip(records, villages, strict=True) if r["id"] not in gone]
                        records, villages = [r for r, _ in kept], [v for _, v in kept]
                        part = [i for i in part if i not in gone]
            if audited:
                self._log([self._entry("delete", table.name, r["id"], v, None,
                                       snapshot_json({k: REDACTED if k in hidden else x for k, x in r.items()
                                                      if k not in _SKIPPED}), None)
                           for r, v in zip(records, villages, strict=True)])
            if part:
                self.conn.execute(delete(table).where(table.c.id.in_(part)))
        return refused

    def update_where(self, table: Table, condition: Any, values: Mapping[str, Any]) -> set[int]:
        """``update`` of every record matching ``condition`` (e.g. links cleared before a delete)."""
        ids = [row[0] for row in self.conn.execute(select(table.c.id).where(condition))]
        return self.update(table, [{"id": i, **values} for i in ids])

    def delete_where(self, table: Table, condition: Any) -> set[int]:
        """``delete`` of every record matching ``condition``."""
        return self.delete(table, [row[0] for row in self.conn.execute(select(table.c.id).where(condition))])


class IdSource:
    """New ids for one table's records written with their ids (set-based inserts).

    SQLite: from the largest id on (one writer at a time holds the database). A server: from the table's
    own sequence, reserved a block at a time — unique however many imports run at once, and the
    sequence stays ahead of every id, so an ordinary insert afterwards never collides.
    """

    def __init__(self, conn: Connection, table: Table, expected: int = 1) -> None:
        self._conn, self._table = conn, table
        self._server = conn.dialect.name != "sqlite"
        self._ready: list[int] = []
        if self._server:
            self._reserve(max(expected, 1))
        else:
            self._next = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1

    def _reserve(self, count: int) -> None:
        from townapp.db.server import reserve_ids

        self._ready.extend(reversed(reserve_ids(self._conn, self._table.name, count)))

    def __iter__(self) -> IdSource:
        return self

    def __next__(self) -> int:
        if not self._server:
            self._next += 1
            return self._next - 1
        if not self._ready:
            self._reserve(256)
        return self._ready.pop()

    def take(self, count: int) -> list[int]:
        if self._server and len(self._ready) < count:
            self._reserve(count - len(self._ready))
        return [next(self) for _ in range(count)]


class ModuleBatch:
    """A module's door for set-based writes: only the tables of ``models`` (the module's own).

    A service's ``batch_writer`` makes one after its role check; import adapters turn
    rows into records and hand them here. Subclasses add the module's compound writes
    (links cleared before a delete …).
    """

    models: tuple[type, ...] = ()

    def __init__(self, writer: BatchWrite) -> None:
        self.writer = writer

    @classmethod
    def open(cls: type[DoorT], conn: Connection, actor: Actor, what: str, *, batch_id: int | None = None,
             reason: str | None = None, now: dt.datetime | None = None) -> DoorT:
        """The door for ``actor`` in ``conn``'s transaction: refused for 只读; a 村录入员's records of
        other villages are not written (each write returns what it refused); every record is audited
        with the import batch it came with."""
        return cls(BatchWrite.for_actor(conn, actor, batch_id=batch_id, reason=reason, now=now, what=what))

    def _table(self, model: type) -> Table:
        if model not in self.models:
            raise TypeError(f"{type(self).__name__} does not write {model.__name__}: its module's service does")
        return model.__table__  # type: ignore[attr-defined]

    def ids(self, model: type, expected: int = 1) -> IdSource:
        """New ids for ``model``'s records, ``expected`` of them reserved at once (more on demand)."""
        return IdSource(self.writer.conn, self._table(model), expected)

    def add(self, model: type, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """New records (dicts with their ids); returns the positions refused."""
        return self.writer.insert_dicts(self._table(model), rows)

    def add_rows(self, model: type, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> set[int]:
        """New records as tuples in ``columns`` order (the fast path for 100,000 rows)."""
        return self.writer.insert(self._table(model), columns, rows)

    def add_one(self, model: type, values: Mapping[str, Any]) -> int | None:
        """One new record, its id the next free one; None when refused."""
        values = {"id": next(self.ids(model)), **values}
        return None if self.writer.insert_dicts(self._table(model), [values]) else values["id"]

    def change(self, model: type, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """``{"id": …, column: value}`` updates; returns the ids refused."""
        return self.writer.update(self._table(model), rows)

    def change_where(self, model: type, condition: Any, values: Mapping[str, Any]) -> set[int]:
        return self.writer.update_where(self._table(model), condition, values)

    def remove(self, model: type, ids: Sequence[int]) -> set[int]:
        """Delete records by id (chunked); returns the ids refused."""
        return self.writer.delete(self._table(model), ids)

    def remove_where(self, model: type, condition: Any) -> set[int]:
        return self.writer.delete_where(self._table(model), condition)

    @staticmethod
    def parts(ids: Sequence[int], size: int = CHUNK) -> list[list[int]]:
        """``ids`` in chunks small enough for one IN list."""
        ids = list(ids)
        return [ids[start:start + size] for start in range(0, len(ids), size)]

    def update(self, model: type, rows: Sequence[Mapping[str, Any]]) -> set[int]:
        """``change``, stamped with the batch's time where the table keeps an ``updated_at``."""
        if "updated_at" in self._table(model).c:
            rows = [{**row, "updated_at": self.writer.now} for row in rows]
        return self.change(model, rows)

    def create(self, model: type, records: Sequence[Mapping[str, Any]]) -> tuple[list[int | None], set[int]]:
        """New records that each name only some columns: the next free ids, a uuid and the batch's time
        where the table keeps them, the model's defaults for the rest, all in one insert.

        Returns each record's id (None where refused) and the refused positions.
        """
        table = self._table(model)
        if not records:
            return [], set()
        new_ids = self.ids(model, len(records)).take(len(records))
        stamps = {"created_at": self.writer.now, "updated_at": self.writer.now}
        columns = [c for c in table.columns if c.name != "id"]
        rows = []
        for offset, record in enumerate(records):
            values: dict[str, Any] = {"id": new_ids[offset]}
            for column in columns:
                if column.name in record:
                    values[column.name] = record[column.name]
                elif column.name == "uuid":
                    values["uuid"] = new_uuid()
                elif column.name in stamps:
                    values[column.name] = stamps[column.name]
                elif column.default is not None and getattr(column.default, "is_scalar", False):
                    values[column.name] = column.default.arg
                elif column.default is not None and callable(column.default.arg):
                    values[column.name] = column.default.arg(None)
                else:
                    values[column.name] = None
            rows.append(values)
        refused = self.writer.insert_dicts(table, rows)
        return [None if i in refused else row["id"] for i, row in enumerate(rows)], refused
