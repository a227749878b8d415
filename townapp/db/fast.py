"""Fetching one integer column fast: id lists for the table models.

Going through SQLAlchemy's result machinery costs ~1 µs a row; for a 460,000-person
list that is half a second of the user's wait. The statement is still built
with SQLAlchemy (dialect-neutral); only the rows come straight from the DBAPI cursor.
"""

from __future__ import annotations

from sqlalchemy import Engine, Select


def fetch_first_column(engine: Engine, query: Select) -> list:
    compiled = query.compile(dialect=engine.dialect)
    params = compiled.params
    if compiled.positiontup is not None:
        arguments: tuple | dict = tuple(params[name] for name in compiled.positiontup)
    else:
        arguments = params
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(str(compiled), arguments)
            return [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()
