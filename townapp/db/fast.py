"""Fast paths where SQLAlchemy's per-row machinery is the cost: id lists, bulk inserts.

Going through SQLAlchemy's result machinery costs ~1 µs a row; for a 460,000-person
list that is half a second of the user's wait. The statement is still built
with SQLAlchemy (dialect-neutral); only the rows come straight from the DBAPI cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, insert


def _raw_rows(conn: Connection, query: Select) -> list[tuple]:
    """The query compiled by SQLAlchemy (IN lists expanded), its rows straight from the DBAPI cursor."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    arguments: tuple | dict = (tuple(params[name] for name in compiled.positiontup)
                               if compiled.positiontup is not None else params)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), arguments)
        return cursor.fetchall()
    finally:
        cursor.close()


def fetch_first_column(engine: Engine, query: Select) -> list:
    with engine.connect() as conn:
        return [row[0] for row in _raw_rows(conn, query)]


INSERT_CHUNK = 10_000  # rows converted and sent at a time: the converted copy never holds a whole import


def insert_many(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) in ``conn``'s transaction, as DBAPI executemany calls.

    SQLAlchemy's executemany builds a parameter dict and runs the type's bind
    processor for every value (~10 µs a row for a person); an import of 100,000
    people spends seconds there. The statement is still compiled by SQLAlchemy
    and values are stored exactly as SQLAlchemy stores them (its own bind
    processors; equal values converted once).
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy_rows(conn, table, columns, rows)
        return
    statement = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    order = [columns.index(name) for name in statement.positiontup or []]
    converters = []  # (position in the statement, processor, values already converted)
    for position, index in enumerate(order):
        processor = table.c[columns[index]].type._cached_bind_processor(conn.dialect)
        if processor is not None:
            converters.append((position, processor, {}))
    reorder = order != list(range(len(columns)))
    sql = str(statement)
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        if reorder or converters:
            converted = []
            for row in chunk:
                values = [row[i] for i in order] if reorder else list(row)
                for position, processor, seen in converters:
                    value = values[position]
                    if value is not None:
                        done = seen.get(value)
                        if done is None:
                            done = seen[value] = processor(value)
                        values[position] = done
                converted.append(tuple(values))
            chunk = converted
        # through SQLAlchemy's driver-level call, so its error events (a full disk → Chinese message) still apply
        conn.exec_driver_sql(sql, chunk if isinstance(chunk, list) else list(chunk))


def _copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL: the rows through one ``COPY … FROM STDIN`` (a server round trip per chunk, not per row),
    each value converted by SQLAlchemy's own bind processor for the column, as an INSERT would store it."""
    from sqlalchemy.exc import DBAPIError

    processors = [(i, p) for i, name in enumerate(columns)
                  if (p := table.c[name].type._cached_bind_processor(conn.dialect)) is not None]
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in columns)}) FROM STDIN"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                if processors:
                    values = list(row)
                    for index, processor in processors:
                        if values[index] is not None:
                            values[index] = processor(values[index])
                    row = values
                copy.write_row(row)
    except Exception as exc:  # as SQLAlchemy reports a failed INSERT: IntegrityError, DataError …
        import psycopg

        if isinstance(exc, psycopg.Error):
            raise DBAPIError.instance(sql, None, exc, psycopg.Error) from exc
        raise
    finally:
        cursor.close()


@contextmanager
def larger_page_cache(conn: Connection, megabytes: int) -> Iterator[None]:
    """SQLite's page cache raised to ``megabytes`` for one bulk job on ``conn``, then put back.

    The default 2 MB holds a small part of a county database's indexes; random
    inserts into them then re-read pages all the time. Lowering it again frees
    the pages, so the connection pool does not keep the memory. A server keeps its own cache: nothing to do.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    dbapi = conn.connection.dbapi_connection  # outside SQLAlchemy: a PRAGMA must not start its transaction
    before = int(dbapi.execute("PRAGMA cache_size").fetchone()[0])
    dbapi.execute(f"PRAGMA cache_size=-{int(megabytes) * 1024}")
    try:
        yield
    finally:
        dbapi.execute(f"PRAGMA cache_size={before}")


def fetch_rows(conn: Connection, query: Select) -> list[tuple]:
    """All rows of ``query`` as plain tuples, values converted as SQLAlchemy would (dates from text …).

    For reading a county's year of point records (half a million rows): SQLAlchemy's
    Row objects and per-value result processing cost seconds there. Equal raw values
    are converted once (a year has a few hundred distinct dates).
    """
    processors = []
    for index, column in enumerate(query.selected_columns):
        processor = column.type._cached_result_processor(conn.dialect, None)
        if processor is not None:
            processors.append((index, processor, {}))
    rows = _raw_rows(conn, query)
    if not processors:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for index, processor, seen in processors:
            raw = values[index]
            if raw is not None:
                done = seen.get(raw)
                if done is None:
                    done = seen[raw] = processor(raw)
                values[index] = done
        out.append(tuple(values))
    return out
