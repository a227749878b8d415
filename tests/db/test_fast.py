"""The fast paths store and read values exactly as SQLAlchemy does.

Story: an import inserts 100,000 people through ``insert_many`` and the quarterly
return reads half a million point records through ``fetch_rows``; the rest of the
program reads and writes the same tables through SQLAlchemy. Both ways must see
the very same stored text and the very same Python values.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from sqlalchemy import insert, select

from townapp.db import Database
from townapp.db.base import new_uuid, new_uuids
from townapp.db.fast import INSERT_CHUNK, fetch_rows, insert_many, larger_page_cache
from townapp.registry import models as m

COLUMNS = ("id", "id_number", "id_number_rev", "name", "name_initials", "sex", "birth_date", "ethnicity", "education",
           "phone", "village_id", "note", "uuid", "created_at", "updated_at")


def _person(number: int, when: dt.datetime) -> tuple:
    id_number = f"1408211970010{number:05d}"[:18]
    return (number, id_number, id_number[::-1], f"人{number}", "r", "男", dt.date(1970, 1, 1) + dt.timedelta(days=number),
            "汉族", None, None, None, None, new_uuid(), when, when)


def _stored(db: Database, ids: list[int]) -> list[tuple]:
    con = sqlite3.connect(db.path)
    try:
        marks = ",".join("?" * len(ids))
        return con.execute(f"SELECT * FROM person WHERE id IN ({marks}) ORDER BY id", ids).fetchall()
    finally:
        con.close()


def test_insert_many_stores_what_sqlalchemy_stores(db: Database) -> None:
    # GIVEN the same kind of person row inserted once through SQLAlchemy and once through insert_many
    when = dt.datetime(2026, 11, 23, 8, 30, 15, 123456)
    through_sqlalchemy, fast = _person(1, when), _person(2, when)
    # WHEN both are written (in the column order the caller chose, not the table's)
    shuffled = tuple(reversed(COLUMNS))
    with db.engine.begin() as conn:
        conn.execute(insert(m.Person.__table__), [dict(zip(COLUMNS, through_sqlalchemy, strict=True))])
        insert_many(conn, m.Person.__table__, shuffled, [tuple(reversed(fast))])
    # THEN the stored text of dates and timestamps is identical, apart from the values that differ on purpose
    first, second = _stored(db, [1, 2])
    differing = {"id", "id_number", "id_number_rev", "name", "birth_date", "uuid"}
    for name, a, b in zip(COLUMNS, first, second, strict=True):
        if name not in differing:
            assert a == b, name
    assert second[COLUMNS.index("birth_date")] == "1970-01-03"
    assert second[COLUMNS.index("created_at")] == first[COLUMNS.index("created_at")] == "2026-11-23 08:30:15.123456"


def test_insert_many_sends_large_batches_in_chunks_inside_one_transaction(db: Database) -> None:
    # GIVEN more rows than one chunk
    when = dt.datetime(2026, 1, 1)
    rows = [_person(n, when) for n in range(1, INSERT_CHUNK + 6)]
    # WHEN they are inserted and the transaction is rolled back
    with db.engine.connect() as conn:
        trans = conn.begin()
        insert_many(conn, m.Person.__table__, COLUMNS, rows)
        assert conn.exec_driver_sql("SELECT count(*) FROM person").scalar() == len(rows)
        trans.rollback()
    # THEN all of them were there inside the transaction and none after the rollback
    assert _stored(db, [1, INSERT_CHUNK + 5]) == []


def test_fetch_rows_reads_what_sqlalchemy_reads(db: Database) -> None:
    # GIVEN people with dates
    when = dt.datetime(2026, 3, 4, 5, 6, 7)
    with db.engine.begin() as conn:
        insert_many(conn, m.Person.__table__, COLUMNS, [_person(n, when) for n in range(1, 6)])
    query = (select(m.Person.id, m.Person.birth_date, m.Person.created_at, m.Person.note)
             .where(m.Person.id.in_([1, 3, 5])).order_by(m.Person.id))
    # WHEN the same query is read both ways
    with db.engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(query)]
        fast = fetch_rows(conn, query)
    # THEN the values are equal, dates as dates (not text)
    assert fast == expected
    assert isinstance(fast[0][1], dt.date) and isinstance(fast[0][2], dt.datetime)


def test_larger_page_cache_is_put_back(db: Database) -> None:
    # GIVEN a pooled connection with SQLite's default page cache
    with db.engine.connect() as conn:
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.rollback()
        # WHEN an import raises it for its transaction
        with larger_page_cache(conn, 64):
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -64 * 1024
            conn.rollback()
        # THEN the connection goes back to the pool with the cache it had
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before


def test_new_uuids_are_distinct_version_4_uuids() -> None:
    import uuid

    # WHEN many are made at once
    made = new_uuids(5000)
    # THEN each is a well-formed random (version 4, RFC 4122) UUID, and none repeats
    assert len(set(made)) == 5000
    for text in made[:500]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
