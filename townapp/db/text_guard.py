"""The last door for text: no control character reaches a table, whichever dialog or service wrote it.

``core.text.clean_text`` is the rule every input applies where the text is typed or imported (with a
message naming the field). This flush hook applies the same rule to every string column of every
object a session writes, so a form that forgot to call it still cannot store text that would make
every .xlsx export and PDF of that record fail later (openpyxl refuses control characters).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from townapp.core.text import UnsafeText, control_problem


def refuse_control_characters(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in session.new:
        _check(obj, changed_only=False)
    for obj in session.dirty:
        _check(obj, changed_only=True)


def _check(obj: Any, *, changed_only: bool) -> None:
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if changed_only:
            added = state.attrs[attr.key].history.added
            values = added if added else ()
        else:
            values = (getattr(obj, attr.key, None),)
        for value in values:
            if value.__class__ is str and (problem := control_problem(value, "输入的内容")) is not None:
                raise UnsafeText(problem)
