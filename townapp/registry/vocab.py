"""The registry's controlled vocabularies, read from resources/registry/vocabularies.json."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, ClassVar

from pydantic import Field, RootModel

from townapp.core.resources import Resource, Text, load
from townapp.core.text import remove_spaces, to_halfwidth


@dataclass(frozen=True)
class Vocabulary:
    name: str
    label: str
    values: tuple[str, ...]
    synonyms: dict[str, str]
    ranges: tuple[str, ...] = ()  # spellings that name several values (高中及以下): never read as one
    _known: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_known", frozenset(self.values))  # imports look up every row's values

    def canonical(self, raw: str | None) -> str | None:
        """The standard spelling for ``raw``, or None if it is not a known value."""
        if raw is None:
            return None
        if raw in self._known:
            return raw  # type: ignore[return-value]
        text = remove_spaces(to_halfwidth(str(raw)))
        if text in self._known:
            return text
        return self.synonyms.get(text) or self.synonyms.get(text.upper())




class VocabularySpec(Resource):
    label: Text
    values: Annotated[list[Text], Field(min_length=1)]
    synonyms: dict[str, Text] = {}
    ranges: list[Text] = []


class VocabularyFile(RootModel[dict[str, VocabularySpec]]):
    """A vocabularies.json (registry, archives, grids): name → label, standard values, accepted synonyms."""

    resource_label: ClassVar[str] = "取值表"


def load_vocabularies(*parts: str) -> dict[str, Vocabulary]:
    """The vocabularies of one file under resources/, e.g. ``load_vocabularies("grids", "vocabularies.json")``."""
    specs = load(VocabularyFile, *parts).root
    return {name: Vocabulary(name, spec.label, tuple(spec.values), dict(spec.synonyms), tuple(spec.ranges))
            for name, spec in specs.items()}


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    return load_vocabularies("registry", "vocabularies.json")


def vocab(name: str) -> Vocabulary:
    return vocabularies()[name]
