"""Text as typed into forms and spreadsheets, and pinyin initials for search."""

from __future__ import annotations

import pytest

from townapp.core.pinyin import initials
from townapp.core.text import clean_name, normalize_phone, remove_spaces, squeeze_spaces, to_halfwidth


def test_to_halfwidth() -> None:
    # GIVEN text typed with a Chinese input method in full-width mode
    assert to_halfwidth("１２３ＡＢＣａｂｃ") == "123ABCabc"
    assert to_halfwidth("（１）．－") == "(1).-"
    assert to_halfwidth("甲\u3000乙") == "甲 乙"
    # THEN Chinese characters and ordinary ASCII are untouched
    assert to_halfwidth("张三 abc 123") == "张三 abc 123"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("张  三", "张三"),  # spaces typed to align two-character names
        ("张\u3000三", "张三"),
        (" 王小明 ", "王小明"),
        ("李\u00a0四", "李四"),
        ("赵\u200b六", "赵六"),
        ("ＪＯＨＮ  Ｓｍｉｔｈ", "JOHN Smith"),  # Latin names keep one space
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),
        ("", ""),
    ],
)
def test_clean_name(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


def test_clean_name_composes_unicode() -> None:
    # a decomposed é (e + combining acute) is stored composed
    assert clean_name("Jose\u0301") == "José"


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("138 0013 8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        (" 13800138000\u3000", "13800138000"),
        ("0359－1234567", "0359-1234567"),
        ("0359—1234567", "0359-1234567"),
    ],
)
def test_normalize_phone(raw: str, phone: str) -> None:
    assert normalize_phone(raw) == phone


def test_space_helpers() -> None:
    assert squeeze_spaces("  a \u3000 b\t\nc  ") == "a b c"
    assert remove_spaces(" 1 2\u30003\u00a04 ") == "1234"


@pytest.mark.parametrize(
    ("name", "letters"),
    [
        ("张三", "zs"),
        ("王小明", "wxm"),
        ("临晋镇", "ljz"),
        ("张三1", "zs1"),  # digits kept
        ("A区", "aq"),  # ASCII letters kept, lower-case
        ("李·四", "ls"),  # punctuation dropped
        ("张 三", "zs"),
        ("", ""),
    ],
)
def test_initials(name: str, letters: str) -> None:
    # GIVEN a name WHEN its initials are taken THEN typing them finds the person
    assert initials(name) == letters
