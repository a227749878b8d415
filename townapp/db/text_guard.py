"""The last door for text: no control character and no over-long value reaches a table, whichever
dialog or service wrote it.

``core.text.clean_text`` and ``core.text.length_problem`` are the rules every input applies where the
text is typed or imported (with a message naming the field). This flush hook applies the same rules to
every string column of every object a session writes, so a form that forgot to call them still cannot
store text that would make every .xlsx export and PDF of that record fail later (openpyxl refuses
control characters), nor text longer than its column's String(n): SQLite does not enforce a VARCHAR's
length, and an over-long value would break the fixed-width outputs.

The field's Chinese name comes from the audit viewer's labels (resources/accounts/audit_labels.json);
this layer reads the resource, it does not import the accounts module.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import String, Table, inspect
from sqlalchemy.orm import Mapper, Session

from townapp.core.errors import FieldProblem, ValidationFailed
from townapp.core.resources import load_data
from townapp.core.text import UnsafeText, control_problem, length_problem

FALLBACK_LABEL = "输入的内容"


def refuse_control_characters(session: Session, _flush_context: Any, _instances: Any) -> None:
    """before_flush: control characters (UnsafeText) and text longer than its column (ValidationFailed)."""
    for obj in session.new:
        _check(obj, changed_only=False)
    for obj in session.dirty:
        _check(obj, changed_only=True)


@functools.cache
def field_labels() -> Mapping[str, str]:
    """Column name → Chinese name, as the audit viewer shows it."""
    return load_data("accounts", "audit_labels.json").get("fields", {})


def field_label(key: str) -> str:
    return field_labels().get(key, FALLBACK_LABEL)


@functools.cache
def _limits(mapper: Mapper[Any]) -> dict[str, int]:
    """Attribute key → String(n) length, for the mapper's columns that have one (made once per model)."""
    limits = {}
    for attr in mapper.column_attrs:
        column_type = attr.columns[0].type
        length = getattr(column_type, "length", None)
        if isinstance(column_type, String) and isinstance(length, int):
            limits[attr.key] = length
    return limits


@functools.cache
def _model_limits(model: type) -> dict[str, int]:
    return _limits(inspect(model))


def limit_of(model: type, key: str) -> int | None:
    """The String(n) length of ``model.key`` (Person, "note" → 400), None for a column without one."""
    return _model_limits(model).get(key)


def length_problems(model: type, values: Mapping[str, str | None], labels: Mapping[str, str],
                    prefix: str = "") -> list[FieldProblem]:
    """For the validation rules: each ``values`` field longer than ``model``'s column for it, with the
    message the importer gives (``labels`` are the field names the user sees at that field)."""
    limits = _model_limits(model)  # an import checks every row: no inspection per call
    problems = []
    for key, value in values.items():
        limit = limits.get(key)
        if limit is not None and value.__class__ is str and len(value) > limit:
            problems.append(FieldProblem(prefix + key, length_problem(value, limit, labels.get(key, FALLBACK_LABEL))
                                         or ""))
    return problems


@functools.cache
def _column_limits(table: Table) -> dict[str, int]:
    """Column name → String(n) length, for a table's columns that have one."""
    return {c.name: c.type.length for c in table.columns
            if isinstance(c.type, String) and isinstance(c.type.length, int)}


def refuse_long_values(table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any] | Mapping[str, Any]]) -> None:
    """The flush guard's length rule for Core writes (``executemany`` rows, by position in ``columns`` or by
    name): ValidationFailed with the same message. One ``len`` per value of a limited column, nothing else."""
    if not rows:
        return
    limits = _column_limits(table)
    by_name = isinstance(rows[0], Mapping)
    for index, name in enumerate(columns):
        limit = limits.get(name)
        if limit is None:
            continue
        values = list(map(itemgetter(name if by_name else index), rows))
        try:  # a text column holds text or None: the longest found in C, not value by value
            if max(map(len, filter(None, values)), default=0) <= limit:
                continue
        except TypeError:  # something other than text in a text column: look at each value
            pass
        for value in values:
            if value.__class__ is str and len(value) > limit:
                raise ValidationFailed([FieldProblem(name, length_problem(value, limit, field_label(name)) or "")])


def _check(obj: Any, *, changed_only: bool) -> None:
    state = inspect(obj)
    limits = _limits(state.mapper)
    for attr in state.mapper.column_attrs:
        if changed_only:
            added = state.attrs[attr.key].history.added
            values = added if added else ()
        else:
            values = (getattr(obj, attr.key, None),)
        for value in values:
            if value.__class__ is not str:
                continue
            if (problem := control_problem(value, FALLBACK_LABEL)) is not None:
                raise UnsafeText(problem)
            limit = limits.get(attr.key)
            if limit is not None and len(value) > limit:
                problem = length_problem(value, limit, field_label(attr.key))
                raise ValidationFailed([FieldProblem(attr.key, problem or "")])
