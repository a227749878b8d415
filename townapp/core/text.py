"""Text normalisation shared by validation, search and the import pipeline."""

from __future__ import annotations

import re
import unicodedata

from townapp.core.errors import DomainError

_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_PLAIN_CJK = re.compile(r"[\u4e00-\u9fff]+")  # unified ideographs only: NFC leaves them as they are
# Invisible characters that come with text pasted from web pages, WeChat or Word: zero-width spaces and
# joiners, direction marks, embeddings, overrides and isolates (U+2066–2069), word joiner, soft hyphen,
# Arabic letter mark, Mongolian vowel separator, byte-order mark. They cannot be seen, so no one can have
# meant them; they only make equal names differ. Removed.
INVISIBLE_CHARACTERS = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARACTERS}]")
# Control characters (C0 but tab, line feed, carriage return; DEL and C1; the non-characters U+FFFE/FFFF):
# never typed on purpose, they come from damaged or binary sources and make every .xlsx export fail
# (openpyxl refuses them). Refused with a message: removing them silently could hide a damaged value.
CONTROL_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
# for IDs, phone numbers and codes: white space (incl. U+2028/U+2029) and invisible characters all go —
# a direction mark around an ID copied from a web page made 18 visible digits count as 20
_SPACES_AND_INVISIBLE = re.compile(f"[\\s\u3000\u00a0{INVISIBLE_CHARACTERS}]+")


class UnsafeText(DomainError):
    """Text holding a control character; the message says where."""


def control_problem(text: str, label: str = "") -> str | None:
    """A Chinese message if ``text`` holds a control character, else None."""
    if text.isprintable():  # nearly every value: one pass in C (control characters are never printable)
        return None
    found = _CONTROL.search(text)
    if found is None:
        return None
    where = f"{label}中" if label else ""
    return (f"{where}第{found.start() + 1}个字符是看不见的控制字符（U+{ord(found.group()):04X}），"
            "多半是从其他软件复制来的，请删除后重新输入")


def length_problem(text: str | None, limit: int | None, label: str) -> str | None:
    """A Chinese message if ``text`` is longer than ``limit`` characters, else None.

    The one wording of the rule, for the importer (a cell), the dialogs and services (a field) and the
    flush guard (a column): SQLite stores any length, so a VARCHAR(n) is only kept by this check, and
    over-long text would later break the fixed-width outputs."""
    if text is None or limit is None or len(text) <= limit:
        return None
    return f"{label}最多{limit}个字，现在有{len(text)}个，请精简"


def strip_control_characters(text: str) -> str:
    """For writers only: text stored before control characters were refused at the door must not make
    an export fail (openpyxl raises on them); they are invisible, so dropping them changes nothing seen."""
    return _CONTROL.sub("", text)


def clean_text(text: str, label: str = "") -> str:
    """Every text a user enters, at the door (dialogs and imports): invisible characters removed,
    control characters refused (UnsafeText). Nothing else changes: free text keeps its punctuation."""
    problem = control_problem(text, label)
    if problem is not None:
        raise UnsafeText(problem)
    return _INVISIBLE.sub("", text)


def clean_free_text(text: str, label: str = "") -> str:
    """Free text a person wrote (备注, 地址, 事由 …) as it is stored: ``clean_text`` and the white space
    around it gone (no one sees it in a field or a cell, and a key like 合作社名称 must not differ by it).
    Everything else stays byte for byte: punctuation (，；：), full-width letters, inner spaces, line breaks.
    Every door stores free text so; a sync package then brings it back exactly."""
    return clean_text(text, label).strip()


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
    """Drop every kind of white space and every invisible character: for IDs, phone numbers and codes,
    where none of them can belong (what the user sees is what gets checked)."""
    return _SPACES_AND_INVISIBLE.sub("", text)


def clean_name(text: str) -> str:
    """A person's or place's name as stored: NFC, half-width ASCII, no stray spaces.

    Chinese names never contain spaces, so inner spaces typed for alignment
    (张  三) go too; names with Latin letters keep single spaces. Invisible characters
    go, control characters raise UnsafeText (see ``clean_text``).
    """
    if _PLAIN_CJK.fullmatch(text):  # nearly every name: nothing to clean
        return text
    text = squeeze_spaces(to_halfwidth(unicodedata.normalize("NFC", clean_text(text))))
    if all(not ch.isascii() or ch == " " for ch in text):
        text = text.replace(" ", "")
    text = text.replace("•", "·").replace("・", "·")
    return text


def normalize_phone(text: str) -> str:
    """Phone numbers as digits (and a dash for landlines), without spaces."""
    text = remove_spaces(to_halfwidth(text))
    return text.replace("—", "-").replace("－", "-")
