"""The registry's controlled vocabularies, read from resources/registry/vocabularies.json."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

from townapp import config
from townapp.core.text import remove_spaces, to_halfwidth


@dataclass(frozen=True)
class Vocabulary:
    name: str
    label: str
    values: tuple[str, ...]
    synonyms: dict[str, str]
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


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    data = json.loads(config.resource("registry", "vocabularies.json").read_text(encoding="utf-8"))
    return {
        name: Vocabulary(name, spec["label"], tuple(spec["values"]), dict(spec.get("synonyms", {})))
        for name, spec in data.items()
        if not name.startswith("_")
    }


def vocab(name: str) -> Vocabulary:
    return vocabularies()[name]
