"""What a township reports up that the county keeps as reported (``CountyCopy``), and the sheets that carry it.

A module that reports something up gives a :class:`ReportedSheet`: its
columns, how a row is named (``row_key``) and looked up (``period``), and the
rows of its own database (``rows``). In a sync package such a sheet is written
like any other; a county imports it into ``county_copy`` (one row per reported
row, compared as JSON, so the same package twice changes nothing, and rows the
township's next package no longer has are removed); a township importing its
own package leaves its tables alone (the sheet only reports them).

Why copies and not the modules' tables: a township decides its points grades,
evaluation levels and certificates with its own rules and versions; the county
needs them as decided, not recomputed with one county-wide set of rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from townapp.county.models import CountyCopy
from townapp.db.audit import plain_value
from townapp.exchange import spec as s

RowsFn = Callable[[Connection], Iterator[dict[str, Any]]]
KeyFn = Callable[[dict[str, Any]], str]


def as_json(values: dict[str, Any]) -> str:
    """A row's cells as the county stores them (one spelling, so equal rows compare equal)."""
    return json.dumps({k: plain_value(v) for k, v in sorted(values.items()) if v not in (None, "")},
                      ensure_ascii=False, sort_keys=True)


class ReportedAdapter(s.SheetAdapter):
    """Writes a reported sheet's rows into the county's copies; reports, never writes, in a township."""

    village_scoped = False

    def __init__(self, entity: str, rows: RowsFn, row_key: KeyFn, period: KeyFn | None = None, *,
                 keep_in_village: bool = False) -> None:
        self.entity = entity
        self.keep_in_village = keep_in_village  # a village install keeps it too (its results, sent down)
        self._rows = rows
        self._row_key = row_key
        self._period = period or (lambda values: "")

    def export_rows(self, conn: Connection, township_code: str | None) -> Iterator[dict[str, Any]]:
        return self._rows(conn)

    def _keeps(self, ctx: s.ImportContext) -> bool:
        if not ctx.package:
            return False
        return ctx.mode == "county" or (self.keep_in_village and ctx.db.meta("village_code") is not None)

    def match(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        if not self._keeps(ctx):
            for row in rows:  # the township's own figures and results: its tables are the truth
                if not row.failed:
                    row.action, row.entity_id = "unchanged", 0
            return
        stored = {key: (copy_id, data) for copy_id, key, data in conn.execute(
            select(CountyCopy.id, CountyCopy.row_key, CountyCopy.data).where(
                CountyCopy.township_code == ctx.township_code, CountyCopy.sheet == self.entity))}
        for row in rows:
            if row.failed:
                continue
            key = self._row_key(row.values)
            data = as_json(row.values)
            row.data.update(key=key, json=data, period=self._period(row.values))
            found = stored.get(key)
            if found is None:
                row.action = "created"
            else:
                row.entity_id = found[0]
                row.action = "unchanged" if found[1] == data else "updated"

    def apply(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        if not self._keeps(ctx):
            return
        changed = [r for r in rows if not r.failed and r.action == "updated"]
        for row in changed:
            conn.execute(update(CountyCopy).where(CountyCopy.id == row.entity_id).values(
                data=row.data["json"], period=row.data["period"]))
        for row in (r for r in rows if not r.failed and r.action == "created"):
            row.entity_id = conn.execute(insert(CountyCopy).values(
                township_code=ctx.township_code, sheet=self.entity, row_key=row.data["key"][:120],
                period=row.data["period"][:40], data=row.data["json"])).inserted_primary_key[0]

    def delete(self, conn: Connection, ids: list[int], ctx: s.ImportContext) -> None:
        conn.execute(delete(CountyCopy).where(CountyCopy.id.in_(ids)))


def reported_rows(conn: Connection, sheet: str, *, township_code: str | None = None,
                  period: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """The county's copies of one reported sheet: (township code, the row as reported)."""
    query = select(CountyCopy.township_code, CountyCopy.data).where(CountyCopy.sheet == sheet)
    if township_code is not None:
        query = query.where(CountyCopy.township_code == township_code)
    if period is not None:
        query = query.where(CountyCopy.period == period)
    for code, data in conn.execute(query.order_by(CountyCopy.township_code, CountyCopy.row_key)):
        yield code, json.loads(data)
