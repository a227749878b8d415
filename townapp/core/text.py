"""Text normalisation shared by validation, search and the import pipeline."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_PLAIN_CJK = re.compile(r"[\u4e00-\u9fff]+")  # unified ideographs only: NFC leaves them as they are


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (０-９, Ａ-Ｚ, ．…) and the ideographic space to half width."""
    if text.isascii():  # the common case, and imports call this for every cell
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def squeeze_spaces(text: str) -> str:
    """Trim and collapse any run of white space (incl. NBSP, zero-width) to one space."""
    return _SPACES.sub(" ", text).strip()


def remove_spaces(text: str) -> str:
    """Drop every kind of white space: for IDs and phone numbers."""
    return _SPACES.sub("", text)


def clean_name(text: str) -> str:
    """A person's or place's name as stored: NFC, half-width ASCII, no stray spaces.

    Chinese names never contain spaces, so inner spaces typed for alignment
    (张  三) go too; names with Latin letters keep single spaces.
    """
    if _PLAIN_CJK.fullmatch(text):  # nearly every name: nothing to clean
        return text
    text = squeeze_spaces(to_halfwidth(unicodedata.normalize("NFC", text)))
    if all(not ch.isascii() or ch == " " for ch in text):
        text = text.replace(" ", "")
    text = text.replace("•", "·").replace("・", "·")
    return text


def normalize_phone(text: str) -> str:
    """Phone numbers as digits (and a dash for landlines), without spaces."""
    text = remove_spaces(to_halfwidth(text))
    return text.replace("—", "-").replace("－", "-")
