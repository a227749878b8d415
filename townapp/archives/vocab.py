"""The archives' vocabularies and field labels, read from resources/archives/ (data, not code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from townapp import config
from townapp.registry.vocab import Vocabulary


def _load(name: str) -> Any:
    return json.loads(config.resource("archives", name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    data = _load("vocabularies.json")
    return {name: Vocabulary(name, spec["label"], tuple(spec["values"]), dict(spec.get("synonyms", {})))
            for name, spec in data.items() if not name.startswith("_")}


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
    data = _load("fields.json")
    return {group: tuple(FieldDef(*entry) for entry in entries)
            for group, entries in data.items() if not group.startswith("_")}


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
def rectification_config() -> dict[str, Any]:
    return _load("rectification.json")


def clause_texts() -> dict[str, str]:
    return {c["code"]: c["text"] for c in rectification_config()["clauses"]}


def pass_mark() -> int:
    return int(rectification_config()["pass_mark"])


@lru_cache(maxsize=1)
def creation_standards() -> dict[str, list[str]]:
    return {k: v for k, v in _load("creation_standards.json").items() if not k.startswith("_")}
