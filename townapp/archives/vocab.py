"""The archives' vocabularies and field labels, read from resources/archives/ (data, not code)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, RootModel, StrictInt

from townapp.core.resources import Resource, Text, load
from townapp.registry.vocab import Vocabulary, load_vocabularies

_KIND = re.compile(r"^(money|int|decimal|text|date|bool|enum:[a-z_]+)$")


def _kind(value: str) -> str:
    if not _KIND.match(value):
        raise ValueError(f"字段类型“{value}”应为 money、int、decimal、text、date、bool 或 enum:取值表名 之一")
    return value


FieldEntry = tuple[Text, Text, Annotated[str, AfterValidator(_kind)]]


class FieldsFile(RootModel[dict[str, list[FieldEntry]]]):
    """resources/archives/fields.json: group → [key, 中文名, kind] per field."""

    resource_label: ClassVar[str] = "档案字段表"


class Clause(Resource):
    code: Text
    text: Text


class RectificationFile(Resource):
    """resources/archives/rectification.json: the 软弱涣散 clauses and the acceptance pass mark."""

    resource_label: ClassVar[str] = "整顿认定条款"
    pass_mark: Annotated[StrictInt, Field(ge=0, le=100)]
    clauses: Annotated[list[Clause], Field(min_length=1)]


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    return load_vocabularies("archives", "vocabularies.json")


def vocab(name: str) -> Vocabulary:
    return vocabularies()[name]


@dataclass(frozen=True)
class FieldDef:
    """One field of a group in fields.json: key, Chinese label and kind (money/int/decimal/text/date/enum:x/bool)."""

    key: str
    label: str
    kind: str

    @property
    def vocabulary(self) -> str | None:
        return self.kind.split(":", 1)[1] if self.kind.startswith("enum:") else None


@lru_cache(maxsize=1)
def field_groups() -> dict[str, tuple[FieldDef, ...]]:
    groups = load(FieldsFile, "archives", "fields.json").root
    return {group: tuple(FieldDef(*entry) for entry in entries) for group, entries in groups.items()}


def fields(group: str) -> tuple[FieldDef, ...]:
    return field_groups()[group]


def label(key: str) -> str:
    """The Chinese label of any yearly/profile field."""
    for group in field_groups().values():
        for field in group:
            if field.key == key:
                return field.label
    return key


YEAR_GROUPS = ("economy", "debt", "funding", "rating")


def year_fields() -> tuple[FieldDef, ...]:
    """Every field of ``ArchiveYear`` in display order."""
    return tuple(f for group in YEAR_GROUPS for f in fields(group))


@lru_cache(maxsize=1)
def rectification_config() -> RectificationFile:
    return load(RectificationFile, "archives", "rectification.json")


def clause_texts() -> dict[str, str]:
    return {c.code: c.text for c in rectification_config().clauses}


def pass_mark() -> int:
    return rectification_config().pass_mark

