"""The audit log's Chinese names of actions, tables and fields: one table, read by the viewer, its values and export."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from townapp.core.resources import Resource, load


class AuditLabelsFile(Resource):
    """resources/accounts/audit_labels.json: Chinese names of actions, tables and fields in the audit viewer."""

    resource_label: ClassVar[str] = "审计日志名称表"
    actions: dict[str, str]
    entities: dict[str, str]
    fields: dict[str, str]


@lru_cache(maxsize=1)
def audit_labels() -> dict[str, dict[str, str]]:
    return load(AuditLabelsFile, "accounts", "audit_labels.json").model_dump()


def action_label(action: str) -> str:
    return audit_labels()["actions"].get(action, action)


def entity_label(entity: str) -> str:
    return audit_labels()["entities"].get(entity, entity)


def field_label(field: str, entity: str = "") -> str:
    """A column's Chinese name (``表.字段`` first: a person's name is 姓名, a grid's 名称); other text in the
    field column (an imported sheet's name) as it is."""
    labels = audit_labels()["fields"]
    return labels.get(f"{entity}.{field}") or labels.get(field, field)
