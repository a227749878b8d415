"""居民身份证号码: every spelling of a valid ID normalises to one form; typing errors are caught.

The stories: a clerk types or pastes an ID in whatever way their input method
gives (full-width digits, lower-case x, spaces for readability); the app must
store one spelling. A clerk mistypes one digit or swaps two neighbours; the app
must refuse it, because a wrong ID silently creates a second person.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from townapp.core.idcard import (
    IdInfo,
    IdNumberError,
    check_digit,
    make_id_number,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    parse_id_number,
)

# 北京东城, 临猗 (after 2000), 上海徐汇, 深圳南山, 成都武侯 — all known to stdnum for births since 1995,
# older births from some of them only get a region warning, never an error.
REGIONS = ["110101", "140821", "310104", "440305", "510107", "142729"]
TODAY = dt.date(2026, 11, 23)
SPACES = [" ", "\u3000", "  ", "\t"]

PROPERTY = settings(max_examples=200, deadline=None)

valid_ids = st.builds(
    make_id_number,
    st.sampled_from(REGIONS),
    st.dates(dt.date(1920, 1, 1), dt.date(2020, 12, 31)),
    st.integers(0, 999),
)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c in "Xx" else c for c in text)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """A valid ID and one way a person might type it."""
    number = draw(valid_ids)
    chars = list(number)
    if draw(st.booleans()):
        chars = [c.lower() for c in chars]
    # full width for any subset of characters
    chars = [fullwidth(c) if draw(st.booleans()) else c for c in chars]
    # spaces (ASCII, ideographic, tabs) inserted anywhere
    for _ in range(draw(st.integers(0, 4))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(SPACES)))
    text = draw(st.sampled_from(["", " ", "\u3000", "\n"])) + "".join(chars) + draw(st.sampled_from(["", " ", "\u3000", "\r\n"]))
    return number, text


@PROPERTY
@given(spellings())
def test_every_spelling_normalises_to_one_form_and_parses_the_same(case: tuple[str, str]) -> None:
    # GIVEN a valid ID and a spelling of it with full-width digits, lower-case x, stray spaces
    number, typed = case
    # WHEN both are normalised and parsed
    canonical = parse_id_number(number, TODAY)
    parsed = parse_id_number(typed, TODAY)
    # THEN they are one and the same ID with the same derived facts
    assert normalize_id_number(typed) == number
    assert parsed == canonical
    assert parsed.number == number
    assert isinstance(parsed, IdInfo)


@PROPERTY
@given(valid_ids)
def test_derived_facts_match_what_was_encoded(number: str) -> None:
    # GIVEN an ID built from a region, a birth date and a sequence
    info = parse_id_number(number, TODAY)
    # THEN the birth date, sex (odd sequence = 男) and region come back out
    assert info.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert info.sex == ("男" if int(number[14:17]) % 2 else "女")
    assert info.region_code == number[:6]
    assert number[17] == check_digit(number[:17])


@PROPERTY
@given(valid_ids, st.integers(0, 16), st.integers(1, 9))
def test_every_single_digit_substitution_is_rejected(number: str, position: int, shift: int) -> None:
    # GIVEN a valid ID in which the clerk mistyped one of the first 17 digits
    wrong_digit = str((int(number[position]) + shift) % 10)
    typo = number[:position] + wrong_digit + number[position + 1:]
    assert typo != number
    # WHEN it is parsed THEN it is refused: the checksum catches it, or the date became impossible
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(typo, TODAY)
    assert caught.value.code in ("id_checksum", "id_birth_date")
    assert caught.value.message


@PROPERTY
@given(valid_ids, st.integers(0, 16))
def test_every_adjacent_transposition_is_rejected(number: str, position: int) -> None:
    # GIVEN a valid ID in which two neighbouring, different characters were swapped
    a, b = number[position], number[position + 1]
    if a == b:
        return  # swapping equal characters changes nothing; not a typing error
    swapped = number[:position] + b + a + number[position + 2:]
    # WHEN it is parsed THEN it is refused (an X moved into the digits is a format error)
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(swapped, TODAY)
    assert caught.value.code in ("id_checksum", "id_birth_date", "id_format")


def test_all_transpositions_of_one_id_exhaustively() -> None:
    # GIVEN one ID whose check character is X (the awkward case)
    number = next(make_id_number("110101", dt.date(1990, 3, 7), s) for s in range(1000)
                  if make_id_number("110101", dt.date(1990, 3, 7), s).endswith("X"))
    # WHEN every adjacent pair of different characters is swapped THEN each result is refused
    for i in range(17):
        if number[i] != number[i + 1]:
            with pytest.raises(IdNumberError):
                parse_id_number(number[:i] + number[i + 1] + number[i] + number[i + 2:], TODAY)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("110101900307123", "id_length"),  # 15-digit first-generation ID
        ("11010119900307123", "id_length"),  # one digit missing
        ("1101011990030712345", "id_length"),  # one digit too many
        ("11010119900307A234", "id_format"),  # a letter among the digits
        ("X10101199003071234", "id_format"),
        ("11010119900307123Y", "id_format"),
        ("110101199013071234", "id_birth_date"),  # month 13
        ("110101199002301234", "id_birth_date"),  # 30 February
        ("110101189912311234", "id_birth_date"),  # before 1900
    ],
)
def test_malformed_ids_are_rejected_with_a_code(raw: str, code: str) -> None:
    # GIVEN a malformed ID WHEN it is parsed THEN the error has the import-report code and a Chinese message
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(raw, TODAY)
    assert caught.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message)


def test_fifteen_digit_id_gets_a_specific_message() -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number("110101900307123", TODAY)
    assert "15位" in caught.value.message


def test_a_future_birth_date_is_rejected() -> None:
    # GIVEN an ID whose checksum is right but which encodes a birth after today
    number = make_id_number("110101", TODAY + dt.timedelta(days=1), 123)
    # WHEN parsed as of today THEN it is refused as an unreasonable birth date
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(number, TODAY)
    assert caught.value.code == "id_birth_date"
    # AND a birth today is fine
    assert parse_id_number(make_id_number("110101", TODAY, 123), TODAY).birth_date == TODAY


def test_a_wrong_check_character_is_a_checksum_error() -> None:
    number = make_id_number("140821", dt.date(1985, 6, 15), 31)
    other = "X" if number[17] != "X" else "0"
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(number[:17] + other, TODAY)
    assert caught.value.code == "id_checksum"


def test_old_region_code_for_a_later_birth_is_a_warning_not_an_error() -> None:
    # GIVEN 临猗's pre-2000 code 142729 for someone born in 2005
    number = make_id_number("142729", dt.date(2005, 5, 20), 42)
    # WHEN parsed
    info = parse_id_number(number, TODAY)
    # THEN it is accepted, flagged as an unknown region, with a warning naming the code and year
    assert info.region_known is False
    assert info.birth_date == dt.date(2005, 5, 20)
    assert len(info.warnings) == 1
    assert "142729" in info.warnings[0] and "2005" in info.warnings[0]
    # AND the same code for a 1980 birth is known and warns of nothing
    assert parse_id_number(make_id_number("142729", dt.date(1980, 1, 1), 42), TODAY).warnings == []


def test_masking() -> None:
    assert mask_id_number("110101199003071234") == "110***********1234"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone(None) == ""


def test_multiplication_sign_typed_for_x_is_accepted() -> None:
    number = next(make_id_number("110101", dt.date(1990, 3, 7), s) for s in range(1000)
                  if make_id_number("110101", dt.date(1990, 3, 7), s).endswith("X"))
    assert normalize_id_number(number[:17] + "×") == number


def _stdnum_regions() -> list[tuple[str, tuple[int, ...]]]:
    """Every county code of python-stdnum's shipped GB/T 2260 table with the years worth trying:
    the edges of its validity ranges and a spread of ordinary years."""
    from tests.core.test_idcard_history import history_in_force

    spread = (1920, 1950, 1985, 1990, 1992, 1995, 2000, 2005, 2010, 2020)
    entries: list[tuple[str, tuple[int, ...]]] = []
    for code, spans in history_in_force().items():
        years = set(spread)
        years.update(y + d for span in spans for y in span for d in (-1, 0, 1))
        entries.append((code, tuple(sorted(y for y in years if 1900 <= y <= 2020))))
    return entries


def test_every_region_code_and_year_of_stdnums_table_gives_no_exception() -> None:
    """GIVEN every (region code, birth year) of python-stdnum's shipped table, plus codes of a known
    province that the table lacks (140883, 133100, 460321, 500181, 140503, 139001 …)
    WHEN an ID with that region and year is checked the way the importer and the dialogs do
    THEN it never raises anything but IdNumberError — an unknown region is only a warning
    (stdnum's own look-up raised KeyError('county') and crashed imports and saves)."""
    from townapp.core.idcard import region_known
    from townapp.registry.dto import PersonInput
    from townapp.registry.validation import check_person

    entries = _stdnum_regions()
    assert len(entries) > 6000
    extra = [(code, tuple(range(1980, 2011))) for code in ("140883", "133100", "460321", "500181", "140503",
                                                          "139001", "139002", "139099")]
    checked = 0
    for code, years in entries + extra:
        for year in years:
            number = make_id_number(code, dt.date(year, 7, 1), 11)
            info = parse_id_number(number, TODAY)
            assert info.region_known == region_known(code, year)
            checked += 1
    for code, _ in extra:
        problems, info = check_person(PersonInput(id_number=make_id_number(code, dt.date(1995, 7, 1), 11),
                                                  name="张三"))
        assert info is not None and not info.region_known
        assert [p.severity for p in problems] == ["warning"]
    assert checked > 60000


def _invisible_characters() -> list[str]:
    """Every character core.text calls invisible (the class expanded), and the line/paragraph separators."""
    import re

    from townapp.core.text import INVISIBLE_CHARACTERS
    pattern = re.compile(f"[{INVISIBLE_CHARACTERS}]")
    found = [chr(c) for c in range(0x10000) if pattern.match(chr(c))]
    assert len(found) >= 25 and "\u200e" in found and "\u202d" in found and "\u2066" in found
    return [*found, "\u2028", "\u2029"]


@pytest.mark.parametrize("mark", _invisible_characters(), ids=lambda ch: f"U+{ord(ch):04X}")
def test_invisible_characters_never_count_in_an_id_phone_or_code(mark: str) -> None:
    """GIVEN an ID, a phone and a code pasted from a web page with an invisible mark around them
    (U+200E, or U+202D … U+202C made the user's 18 digits count as 20: "现在是20位")
    WHEN they are normalised where dialogs and imports both do it
    THEN the mark is gone before any check and the ID parses as the 18 digits the user sees."""
    from townapp.core.text import normalize_phone, remove_spaces

    number = make_id_number("140821", dt.date(1990, 8, 25), 163)
    wrapped = f"{mark}{number[:6]}{mark}{number[6:]}{mark}"
    assert normalize_id_number(wrapped) == number
    assert parse_id_number(wrapped).number == number
    assert normalize_phone(f"{mark}138{mark}1234 5678{mark}") == "13812345678"
    assert remove_spaces(f"{mark}1408211002{mark}03") == "140821100203"
