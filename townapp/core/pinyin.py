"""Pinyin initials for search: ``zs`` finds 张三. Cached per character."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=20000)
def _char_initial(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    letters = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore")
    return letters[0][:1].lower() if letters and letters[0] else ""


def initials(text: str) -> str:
    """First letters of each character's pinyin (ASCII kept, punctuation dropped)."""
    return "".join(_char_initial(ch) for ch in text)
