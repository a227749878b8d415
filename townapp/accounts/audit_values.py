"""Audit log values as a person reads them, not as the database stores them.

The log keeps what was written (a record's snapshot as JSON, a changed field's old and new text); the
viewer and its export show them in Chinese: the people, households, villages and other records an id
points at by their names (found with one query per referenced table for a page of entries), dates as
2026-12-07, times in local time, yes/no as 是/否, money kept in 分 as 元, points kept in tenths as points,
lists joined with 、, and a scheme's English stage and input keys by their Chinese names. Field and
table names come from the one label table (resources/accounts/audit_labels.json, see accounts/audit.py).

What a column holds is read from the schema (foreign keys, column types) and the column naming rules
of the models (``*_fen`` money, ``*_tenths`` points), so a new table needs no entry here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Date, DateTime, Table, select

from townapp.accounts.audit_labels import action_label, entity_label, field_label
from townapp.accounts.dto import AuditRow
from townapp.core.logs import mask_sensitive
from townapp.db.audit import AuditEntry
from townapp.db.base import Base
from townapp.evaluations.schemes import shipped_schemes
from townapp.followup.rules import shipped_rules
from townapp.registry.models import Village

# what a column holds, for showing its value
REFERENCE, BOOLEAN, DATE, DATETIME, MONEY, POINTS, DOCUMENT, PLAIN = (
    "reference", "boolean", "date", "datetime", "money", "points", "document", "plain")

# whole configuration documents (an evaluation scheme, a points rule set, a grid month's scheme): named and
# sized, never spelled out in a table cell
_DOCUMENTS = frozenset({"eval_scheme.definition", "point_rule_set.definition", "grid_month.scheme_json"})
# points kept in tenths under a name without _tenths
_POINTS = frozenset({"point_ledger.balance_after", "grid_assessment.total"})
# BigInteger columns that are not money
_NOT_MONEY = frozenset({"archive_file.size"})
# the columns a referenced record is named by, first found wins
_NAME_COLUMNS = ("name", "title", "label", "topic", "number", "username")
# columns holding a scheme's English keys (an evaluation's stage, a follow-up rule): shown by their names
_WORD_FIELDS = frozenset({"stage", "decided_stage", "scheme_key", "rule_id"})
_YES, _NO = "是", "否"
_TRUE_TEXTS, _FALSE_TEXTS = frozenset({"true", "1"}), frozenset({"false", "0"})


@lru_cache(maxsize=1)
def _tables() -> dict[str, Table]:
    import townapp.schema  # noqa: F401  (every model registered)

    return dict(Base.metadata.tables)


@lru_cache(maxsize=4096)
def column_kind(entity: str, field: str) -> tuple[str, str | None]:
    """(kind, referenced table) of a logged column; a name the schema does not know is plain text."""
    table = _tables().get(entity)
    if table is None or field not in table.c:
        return PLAIN, None
    column = table.c[field]
    qualified = f"{entity}.{field}"
    for fk in column.foreign_keys:
        return REFERENCE, fk.column.table.name
    if qualified in _DOCUMENTS:
        return DOCUMENT, None
    if isinstance(column.type, Boolean):
        return BOOLEAN, None
    if isinstance(column.type, DateTime):
        return DATETIME, None
    if isinstance(column.type, Date):
        return DATE, None
    if field.endswith("_tenths") or qualified in _POINTS:
        return POINTS, None
    if field.endswith("_fen") or (isinstance(column.type, BigInteger) and qualified not in _NOT_MONEY):
        return MONEY, None
    return PLAIN, None


@lru_cache(maxsize=1)
def _shipped_words() -> dict[str, str]:
    """The shipped schemes' keys, stages and inputs by name: a database's own schemes go first."""
    words: dict[str, str] = {}
    for scheme in shipped_schemes():
        words.setdefault(scheme.key, scheme.name)
        for item in (*scheme.stages, *scheme.inputs):
            words.setdefault(item.key, item.name)
    return words


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def money_text(fen: Any) -> str:
    """分 as 元 with two decimals: 5000 → 50.00元."""
    number = _as_int(fen)
    return str(fen) if number is None else f"{Decimal(number) / 100:.2f}元"


def points_text(tenths: Any) -> str:
    """Tenths of a point as points: 65 → 6.5分, 660 → 66分."""
    number = _as_int(tenths)
    if number is None:
        return str(tenths)
    text = f"{Decimal(number) / 10:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "分"


class AuditValues:
    """Shows the values of one page of audit entries; ``load`` first looks up every record they name."""

    def __init__(self, conn: Connection, utc_offset: dt.timedelta) -> None:
        self.conn = conn
        self.offset = utc_offset
        self.names: dict[tuple[str, int], str] = {}
        self.words = self._scheme_words()

    def _scheme_words(self) -> dict[str, str]:
        """English keys the evaluation schemes store (stages, inputs, schemes) → their Chinese names, from
        the schemes this database holds."""
        words: dict[str, str] = {}
        table = _tables()["eval_scheme"]
        for key, name, definition in self.conn.execute(select(table.c.key, table.c.name, table.c.definition)):
            words.setdefault(key, name)
            try:
                data = json.loads(definition)
            except ValueError:
                continue
            for part in ("stages", "inputs", "flags"):
                for item in data.get(part) or ():
                    if isinstance(item, dict) and item.get("key") and item.get("name"):
                        words.setdefault(str(item["key"]), str(item["name"]))
        for key, name in _shipped_words().items():
            words.setdefault(key, name)
        for rule in shipped_rules():
            words.setdefault(rule.id, f"{words.get(rule.scheme, rule.scheme)}·{rule.kind}")
        return words

    # -- looking up the records a page names -------------------------------------------------------------

    def load(self, entries: Iterable[tuple[str, str | None, str | None, str | None]]) -> None:
        """Name every record the (entity, field, old, new) entries point at: one query per table."""
        wanted: dict[str, set[int]] = {}
        for entity, field, old, new in entries:
            for value in (old, new):
                if value is None:
                    continue
                if field is None:  # a record's snapshot
                    record = _json_object(value)
                    for name, item in (record or {}).items():
                        self._want(wanted, entity, name, item)
                else:
                    self._want(wanted, entity, field, value)
        for table_name, ids in wanted.items():
            self._name_records(table_name, sorted(ids))

    @staticmethod
    def _want(wanted: dict[str, set[int]], entity: str, field: str, value: Any) -> None:
        kind, target = column_kind(entity, field)
        number = _as_int(value)
        if kind == REFERENCE and target is not None and number is not None:
            wanted.setdefault(target, set()).add(number)

    def _name_records(self, table_name: str, ids: Sequence[int]) -> None:
        tables = _tables()
        table = tables[table_name]
        named_by = next((table.c[c] for c in _NAME_COLUMNS if c in table.c), None)
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            if table_name == "household":
                query = select(table.c.id, table.c.number).where(table.c.id.in_(part))
                self.names.update({(table_name, i): f"户编号 {n}" for i, n in self.conn.execute(query)})
            elif named_by is not None:
                query = select(table.c.id, named_by).where(table.c.id.in_(part))
                self.names.update({(table_name, i): str(n) for i, n in self.conn.execute(query) if n})
            elif "person_id" in table.c:  # a 党员, a 网格成员: the person's name
                person = tables["person"]
                query = (select(table.c.id, person.c.name).join(person, person.c.id == table.c.person_id)
                         .where(table.c.id.in_(part)))
                self.names.update({(table_name, i): str(n) for i, n in self.conn.execute(query)})

    # -- showing values ------------------------------------------------------------------------------------

    def record_text(self, value: str | None, entity: str) -> str:
        """A record's snapshot as 字段：值；… (its own id and empty values left out); other text as a value."""
        if not value:
            return ""
        record = _json_object(value)
        if record is None:
            return self._value_text(value, entity, "")
        shown = []
        for name, item in record.items():
            if name == "id" or item is None or item == "":
                continue
            shown.append(f"{field_label(name, entity)}：{self.value_text(item, entity, name)}")
        return "；".join(shown)

    def field_text(self, value: str | None, entity: str, field: str) -> str:
        """One changed field's old or new value."""
        return "" if value is None else self.value_text(value, entity, field)

    def value_text(self, value: Any, entity: str, field: str) -> str:
        kind, target = column_kind(entity, field)
        if value is None:
            return ""
        if kind == REFERENCE and target is not None:
            number = _as_int(value)
            if number is not None:
                return self.names.get((target, number)) or f"{entity_label(target)}（编号 {number}）"
        if kind == BOOLEAN:
            text = str(value).lower()
            if text in _TRUE_TEXTS:
                return _YES
            if text in _FALSE_TEXTS:
                return _NO
        if kind == DATETIME:
            return self._datetime_text(value)
        if kind == MONEY:
            return money_text(value)
        if kind == POINTS:
            return points_text(value)
        if kind == DOCUMENT:
            return f"（方案全文，{len(str(value))}字）"
        return self._value_text(value, entity, field)

    def _value_text(self, value: Any, entity: str, field: str) -> str:
        if isinstance(value, bool):
            return _YES if value else _NO
        if isinstance(value, (dict, list)):
            return self._structure_text(value, entity)
        text = str(value)
        if text[:1] in "{[":
            try:
                parsed = json.loads(text)
            except ValueError:
                return text
            if isinstance(parsed, (dict, list)):
                return self._structure_text(parsed, entity) or "（无）"
        if kind_is_date_time(text):
            return self._datetime_text(text)
        return self.words.get(text, text) if field in _WORD_FIELDS else text

    def _structure_text(self, value: Any, entity: str) -> str:
        """JSON a column holds (an entry's scores, a target's inputs): lists joined with 、, mappings as
        名称：值 pairs with their keys in Chinese where known."""
        if isinstance(value, list):
            return "、".join(self._structure_text(item, entity) for item in value)
        if isinstance(value, dict):
            pairs = []
            for key, item in value.items():
                if str(key).startswith("_"):
                    continue  # a resource's own notes (_说明)
                label = field_label(str(key), entity)
                label = self.words.get(label, label)
                pairs.append(f"{label}：{self._structure_text(item, entity)}")
            return "；".join(pairs)
        if isinstance(value, bool):
            return _YES if value else _NO
        return "" if value is None else str(value)

    def _datetime_text(self, value: Any) -> str:
        """A stored time (UTC) as the local time, to the minute."""
        try:
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return (moment + self.offset).strftime("%Y-%m-%d %H:%M")


def kind_is_date_time(text: str) -> bool:
    """ISO date-times as JSON holds them (2026-07-01T09:00:00): a plain date stays as it is."""
    return len(text) >= 16 and text[4:5] == "-" and text[10:11] == "T" and text[:4].isdigit()


def _json_object(value: str) -> dict[str, Any] | None:
    if not value.startswith("{"):
        return None
    try:
        record = json.loads(value)
    except (ValueError, InvalidOperation):
        return None
    return record if isinstance(record, dict) else None


def readable_rows(conn: Connection, ids: Sequence[int], *, full: bool, utc_offset: dt.timedelta
                  ) -> dict[int, AuditRow]:
    """Audit entries as the viewer and its export show them; ID and phone numbers masked unless ``full``."""
    if not ids:
        return {}
    a = AuditEntry
    query = (select(a.id, a.at, a.username, a.action, a.entity, a.entity_id, Village.name, a.field, a.old,
                    a.new, a.reason, a.batch_id)
             .outerjoin(Village, Village.id == a.village_id).where(a.id.in_(list(ids))))
    raw = conn.execute(query).all()
    values = AuditValues(conn, utc_offset)
    values.load((r[4], r[7], r[8], r[9]) for r in raw)

    def show(value: str | None, entity: str, field: str | None) -> str:
        text = values.record_text(value, entity) if field is None else values.field_text(value, entity, field)
        return text if full else mask_sensitive(text)

    return {r[0]: AuditRow(r[0], r[1] + utc_offset, r[2], action_label(r[3]), entity_label(r[4]), r[5],
                           r[6] or "", field_label(r[7], r[4]) if r[7] else "", show(r[8], r[4], r[7]),
                           show(r[9], r[4], r[7]), r[10] or "", r[11])
            for r in raw}
