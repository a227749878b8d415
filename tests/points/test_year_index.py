"""The year's effective records are read from one covering index (migration 0009).

Stories: a county's points totals and quarterly return read a quarter of a
million of 1.5 million records; SQLite finds them in the index and never
touches the wide table rows. The migration runs on any 0008 database, also
one that has the index already.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from townapp.db import Database, migrate
from townapp.db.engine import make_engine
from townapp.points.service import year_records_query

INDEX = "ix_point_record_year_effective"


def _plan(db: Database, query) -> str:  # noqa: ANN001
    with db.engine.connect() as conn:
        compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        cursor = conn.connection.dbapi_connection.cursor()
        return " ".join(row[-1] for row in cursor.execute(f"EXPLAIN QUERY PLAN {compiled}", params))


@pytest.mark.sqlite_only("SQLite's query planner (EXPLAIN QUERY PLAN)")
@pytest.mark.parametrize("as_of", [None, dt.date(2026, 6, 30)], ids=["whole-year", "as-of-a-day"])
def test_the_years_records_are_searched_in_the_covering_index(empty_db: Database, as_of: dt.date | None) -> None:
    # GIVEN a migrated database WHEN SQLite plans the caps engine's read of a year
    plan = _plan(empty_db, year_records_query(2026, as_of))
    # THEN it searches the covering index: no table scan, no table rows
    assert f"COVERING INDEX {INDEX}" in plan, plan
    assert "SCAN" not in plan, plan


def test_migration_0009_leaves_an_index_that_is_already_there(tmp_path: Path) -> None:
    # GIVEN a database at 0008 on which the index was already made (by hand, or a retried upgrade)
    engine = make_engine(tmp_path / "old.db")
    try:
        migrate.upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.execute(text(f"CREATE INDEX {INDEX} ON point_record (year, status, effective_on)"))
        # WHEN it is upgraded to the head
        migrate.upgrade(engine)
        # THEN the upgrade succeeds and the index is there once
        with engine.connect() as conn:
            names = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))]
            assert names.count(INDEX) == 1
            assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
