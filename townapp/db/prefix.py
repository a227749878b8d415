"""``starts_with``: a prefix search that is right under any collation and fast on each backend.

SQLite compares text byte by byte (BINARY): ``col >= 'abc' AND col < 'abd'`` is exact and uses the index,
where LIKE would not. A server with a Chinese collation orders '11:' before '110', so the same range
finds nothing there; LIKE 'abc%' matches characters, whatever the collation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import Boolean


class StartsWith(ColumnElement[bool]):
    # compiled afresh each time (the prefix is the user's search text): a cached statement must never
    # carry another search's prefix
    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], prefix: str) -> None:
        self.column, self.prefix = column, prefix


def starts_with(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    return StartsWith(column, prefix)


@compiles(StartsWith, "sqlite")
def _as_range(element: StartsWith, compiler: Any, **kw: Any) -> str:
    upper = element.prefix[:-1] + chr(ord(element.prefix[-1]) + 1)
    return compiler.process(and_(element.column >= element.prefix, element.column < upper), **kw)


@compiles(StartsWith)
def _as_like(element: StartsWith, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.startswith(element.prefix, autoescape=True), **kw)
