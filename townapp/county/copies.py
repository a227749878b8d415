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

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from townapp.county.models import CountyCopy
from townapp.db.audit import plain_value
from townapp.exchange import spec as s

# a package reports this year and the year before (and whatever is still open); the county keeps earlier
# years as the township's earlier packages reported them (the history builds up package by package)
REPORTED_YEARS = 2


def first_reported_year(today: dt.date | None = None) -> int:
    """The first year a package made ``today`` reports in full."""
    return (today or dt.date.today()).year - REPORTED_YEARS + 1


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
                 keep_in_village: bool = False, by_period: bool = False) -> None:
        self.entity = entity
        self.keep_in_village = keep_in_village  # a village install keeps it too (its results, sent down)
        # a package replaces only the periods it carries: earlier packages' periods stay (the quarters a
        # township reported over the years), so these rows are not county holdings a new package replaces
        self.by_period = by_period
        self._rows = rows
        self._row_key = row_key
        self._period = period or (lambda values: "")

    def export_rows(self, conn: Connection, township_code: str | None) -> Iterator[dict[str, Any]]:
        # whole numbers as text: a sheet of text and dates is written exactly as calamine reads it back, so
        # the package's read-back check need not parse these large sheets again (see exchange/package.py);
        # their integer columns read text digits as the same numbers
        for row in self._rows(conn):
            yield {k: str(v) if v.__class__ is int else v for k, v in row.items()}

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
                row.data["copy_id"] = found[0]
                row.action = "unchanged" if found[1] == data else "updated"
            if not self.by_period:
                row.entity_id = row.data.get("copy_id")

    def apply(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        if not self._keeps(ctx):
            return
        changed = [r for r in rows if not r.failed and r.action == "updated"]
        for row in changed:
            conn.execute(update(CountyCopy).where(CountyCopy.id == row.data["copy_id"]).values(
                data=row.data["json"], period=row.data["period"]))
        for row in (r for r in rows if not r.failed and r.action == "created"):
            copy_id = conn.execute(insert(CountyCopy).values(
                township_code=ctx.township_code, sheet=self.entity, row_key=row.data["key"][:120],
                period=row.data["period"][:40], data=row.data["json"])).inserted_primary_key[0]
            if not self.by_period:
                row.entity_id = copy_id

    def finish(self, conn: Connection, rows: list[s.Row], ctx: s.ImportContext) -> None:
        """By period: what the package's periods no longer have goes; other periods stay as reported."""
        if not self.by_period or not self._keeps(ctx):
            return
        periods = {row.data["period"] for row in rows if "period" in row.data}
        kept = {row.data["key"] for row in rows if "key" in row.data}
        for chunk_start in range(0, len(periods), 500):
            part = sorted(periods)[chunk_start:chunk_start + 500]
            gone = [copy_id for copy_id, key in conn.execute(select(CountyCopy.id, CountyCopy.row_key).where(
                CountyCopy.township_code == ctx.township_code, CountyCopy.sheet == self.entity,
                CountyCopy.period.in_(part))) if key not in kept]
            if gone:
                conn.execute(delete(CountyCopy).where(CountyCopy.id.in_(gone)))

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
