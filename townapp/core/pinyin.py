"""Pinyin initials for search: ``zs`` finds 张三. Cached per character.

Initials need one thing per character: the first letter of its first reading.
pypinyin's single-character table (``pinyin_dict.json``, shipped inside the
package) holds exactly that; importing ``pypinyin`` itself also loads the
2.5 MB phrase dictionary (0.2 s at start-up) that single characters never
use. So the table is read directly, on the first call, and ``lazy_pinyin``
is only the fallback if a pypinyin release ever moves the file.
tests/core/test_pinyin.py proves both give the same letter for every character.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

_SINGLE_CHARACTER_TABLE = "pinyin_dict.json"
_lookup: Callable[[str], str] | None = None
_loading = threading.Lock()


def _table_path() -> Path | None:
    spec = find_spec("pypinyin")  # finds the package without running its __init__ (which loads phrases)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _SINGLE_CHARACTER_TABLE
    return path if path.is_file() else None


def _first_letter_from_table(table: dict[str, str]) -> Callable[[str], str]:
    def letter(ch: str) -> str:
        readings = table.get(str(ord(ch)))
        if not readings:
            return ""
        # the first reading's first letter without its tone mark: ā → a, ň → n, ḿ → m
        return unicodedata.normalize("NFD", readings.split(",", 1)[0])[:1].lower()
    return letter


def _first_letter_from_pypinyin() -> Callable[[str], str]:
    from pypinyin import Style, lazy_pinyin

    def letter(ch: str) -> str:
        letters = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore")
        return letters[0][:1].lower() if letters and letters[0] else ""
    return letter


def first_letter_source() -> Callable[[str], str]:
    """The per-character first-letter function, loaded once (thread-safe: searches may run in the pool)."""
    global _lookup
    with _loading:
        if _lookup is None:
            path = _table_path()
            _lookup = (_first_letter_from_table(json.loads(path.read_text(encoding="utf-8"))) if path
                       else _first_letter_from_pypinyin())
        return _lookup


@lru_cache(maxsize=20000)
def _char_initial(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    return first_letter_source()(ch)


def initials(text: str) -> str:
    """First letters of each character's pinyin (ASCII kept, punctuation dropped)."""
    return "".join(map(_char_initial, text))
