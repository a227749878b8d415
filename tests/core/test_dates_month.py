"""Dates known only to the month: read as rosters write them, never with an invented day.

Stories: 出生年月 1965.03 and 入党时间 1978.02 in every spelling people use are
that month; a number cell 1963.1 is a month (January, with a warning), never
the Excel serial 1963 (a day in 1905); a year alone is refused; a fuller date
is never overwritten by a coarser one.
"""

from __future__ import annotations

import copy
import datetime as dt
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from townapp.core.dates import (
    DateParseError,
    GuessedMonth,
    MonthDate,
    agrees,
    kept_month,
    latest,
    merge_date,
    month_dates_of,
    parse_date,
    show_date,
    with_month_dates,
)

MARCH_1965 = MonthDate(1965, 3)


@pytest.mark.parametrize("raw", ["1965.03", "1965.3", "1965-03", "1965/3", "1965年3月", "1965年03月", "196503",
                                 "１９６５．０３", " 1965.03 ", 196503, 196503.0, 1965.03, 1965.3])
def test_every_roster_spelling_of_march_1965_is_that_month(raw: object) -> None:
    """GIVEN 出生年月 written as a roster writes it (text, or a number typed into the cell)
    WHEN it is parsed THEN it is the month March 1965 — not 1 March 1965, not an Excel serial."""
    parsed = parse_date(raw)
    assert parsed == MARCH_1965 and isinstance(parsed, MonthDate)
    assert parsed != dt.date(1965, 3, 1)
    assert parsed.__class__ is MonthDate  # only the number 1963.1 is a guess


def test_the_number_1963_point_1_is_january_with_a_warning_never_an_excel_serial() -> None:
    """GIVEN the number 1963.1 in a date cell (it was read as Excel serial 1963, a date in 1905)
    WHEN it is parsed THEN it is January 1963, marked as a guess whose warning names October too:
    Excel shows the number 1963.10 as 1963.1, so a person should check."""
    for raw in (1963.1, 1963.10):
        parsed = parse_date(raw)
        assert parsed == MonthDate(1963, 1) and parsed.__class__ is GuessedMonth
        assert parsed.year == 1963
        message = parsed.warning("入党时间")
        assert "入党时间" in message and "1963年1月" in message and "1963.10" in message and "文本" in message


def test_text_1963_point_1_and_1963_point_10_are_not_ambiguous() -> None:
    """GIVEN 1963.1 and 1963.10 as text (what was typed is what is there)
    THEN the first is January and the second October, with no warning."""
    assert parse_date("1963.1").__class__ is MonthDate and parse_date("1963.1") == MonthDate(1963, 1)
    assert parse_date("1963.10") == MonthDate(1963, 10)
    assert parse_date(1963.12) == MonthDate(1963, 12) and parse_date(1963.01) == MonthDate(1963, 1)
    assert parse_date(1963.01).__class__ is MonthDate


@pytest.mark.parametrize("raw", [1963, 1963.0, "1963", "1963年"])
def test_a_year_alone_is_refused_asking_which_month(raw: object) -> None:
    """GIVEN only a year WHEN parsed for a column that takes months THEN it is refused: which month?"""
    with pytest.raises(DateParseError) as caught:
        parse_date(raw)
    assert "只有年份" in str(caught.value) and "哪一月" in str(caught.value)
    with pytest.raises(DateParseError) as caught:
        parse_date(raw, allow_month=False)
    assert "只有年份" in str(caught.value) and "完整日期" in str(caught.value)


@pytest.mark.parametrize("raw", [1963.13, 1963.123, 1963.0001, "1963.13", "1963年13月"])
def test_no_such_month_is_refused(raw: object) -> None:
    with pytest.raises(DateParseError):
        parse_date(raw)


@pytest.mark.parametrize("raw", [1965.03, 1963.1, "1965.03", "1965年3月", MonthDate(1965, 3)])
def test_a_column_that_needs_the_day_refuses_a_month(raw: object) -> None:
    """GIVEN a month WHEN a column needs the day (a meeting's date) THEN it asks for the real day."""
    with pytest.raises(DateParseError) as caught:
        parse_date(raw, allow_month=False)
    assert "缺少日" in str(caught.value)


def test_full_dates_stay_full_dates() -> None:
    assert parse_date("1965-03-17").__class__ is dt.date
    assert parse_date(19650317).__class__ is dt.date
    assert parse_date(44378) == dt.date(2021, 7, 1)  # a real Excel serial still is one


def test_a_month_behaves_as_a_date_and_shows_as_a_month() -> None:
    """GIVEN the month February 1978 THEN code that orders dates sees its 1st, equality sees a month,
    people see 1978年02月 and exports write 1978.02; copies and pickles keep it a month."""
    month = MonthDate(1978, 2)
    assert month < dt.date(1978, 2, 2) and month >= dt.date(1978, 2, 1)
    assert month != dt.date(1978, 2, 1) and dt.date(1978, 2, 1) != month
    assert not (dt.date(1978, 2, 1) == month)
    assert month == MonthDate(1978, 2) and hash(month) == hash(MonthDate(1978, 2))
    assert month.text() == "1978.02" == str(month) and month.chinese() == "1978年02月"
    assert show_date(month) == "1978年02月" and show_date(dt.date(1978, 2, 2)) == "1978-02-02"
    assert show_date(None) == ""
    assert month.last_day == dt.date(1978, 2, 28) and MonthDate(1980, 12).last_day == dt.date(1980, 12, 31)
    assert latest(month) == dt.date(1978, 2, 28) and latest(dt.date(1978, 2, 2)) == dt.date(1978, 2, 2)
    for clone in (pickle.loads(pickle.dumps(month)), copy.deepcopy(month)):
        assert clone.__class__ is MonthDate and clone == month
    assert month.replace(day=5).__class__ is dt.date and month.replace(month=3) == MonthDate(1978, 3)
    assert (month + dt.timedelta(days=3)) == dt.date(1978, 2, 4) and dt.timedelta(days=28) + month == dt.date(1978, 3, 1)
    assert (month + dt.timedelta(days=28)).__class__ is dt.date and month - dt.date(1978, 1, 31) == dt.timedelta(days=1)
    with pytest.raises(ValueError):
        MonthDate(1978, 2, 2)


def test_a_month_agrees_with_any_day_of_it() -> None:
    """GIVEN 出生年月 1965.03 and an ID born 1965-03-17 THEN they agree; 1965.04 does not."""
    born = dt.date(1965, 3, 17)
    assert agrees(MARCH_1965, born) and agrees(born, born)
    assert not agrees(MonthDate(1965, 4), born) and not agrees(dt.date(1965, 3, 1), born)
    # the number 1963.1 may be October that lost its 0: an ID born in either month agrees
    guessed = parse_date(1963.1)
    assert agrees(guessed, dt.date(1963, 10, 5)) and agrees(guessed, dt.date(1963, 1, 5))
    assert not agrees(guessed, dt.date(1963, 11, 5))


def test_a_coarser_date_never_overwrites_a_fuller_one() -> None:
    """GIVEN a stored 1978-02-02
    WHEN 1978.02 arrives THEN 1978-02-02 stays; WHEN 1978.03 arrives THEN it is the month 1978.03;
    GIVEN a stored month 1978.02 WHEN 1978-02-05 arrives THEN it is the full date."""
    stored = dt.date(1978, 2, 2)
    assert merge_date(stored, MonthDate(1978, 2)).__class__ is dt.date
    assert merge_date(stored, MonthDate(1978, 2)) == stored
    assert merge_date(stored, MonthDate(1978, 3)) == MonthDate(1978, 3)
    assert merge_date(MonthDate(1978, 2), dt.date(1978, 2, 5)) == dt.date(1978, 2, 5)
    assert merge_date(None, MonthDate(1978, 2)) == MonthDate(1978, 2)
    assert merge_date(MonthDate(1978, 2), MonthDate(1978, 4)) == MonthDate(1978, 4)
    # the number 1978.1 agrees with a stored October of 1978 (1978.10 that lost its 0): it stays
    assert merge_date(dt.date(1978, 10, 5), parse_date(1978.1)) == dt.date(1978, 10, 5)
    assert merge_date(MonthDate(1978, 10), parse_date(1978.1)) == MonthDate(1978, 10)
    assert merge_date(dt.date(1978, 11, 5), parse_date(1978.1)) == MonthDate(1978, 1)


def test_a_form_saving_a_month_unchanged_keeps_the_month() -> None:
    """GIVEN a stored month shown in a date picker as its 1st WHEN saved unchanged THEN it stays a month;
    another day is taken as typed."""
    month = MonthDate(1978, 2)
    assert kept_month(month, dt.date(1978, 2, 1)) == month
    assert kept_month(month, dt.date(1978, 2, 9)) == dt.date(1978, 2, 9)
    assert kept_month(month, None) is None and kept_month(None, dt.date(1978, 2, 1)) == dt.date(1978, 2, 1)


def test_the_month_dates_mark_round_trips() -> None:
    values: dict[str, object] = {"joined_on": MonthDate(1978, 2), "confirmed_on": dt.date(1979, 2, 3),
                                 "status_date": None, "mobility_since": MonthDate(2021, 7)}
    mark = month_dates_of(values, values)
    assert mark == "joined_on,mobility_since"
    stored = {key: (dt.date(v.year, v.month, v.day) if isinstance(v, dt.date) else v) for key, v in values.items()}
    assert with_month_dates(stored, mark) == values
    assert month_dates_of({"joined_on": dt.date(1978, 2, 1)}, ["joined_on"]) is None


@given(st.integers(1900, 2100), st.integers(1, 12))
def test_any_month_in_any_spelling_and_its_export_text_read_back_as_that_month(year: int, month: int) -> None:
    expected = MonthDate(year, month)
    for raw in (f"{year}.{month:02d}", f"{year}.{month}", f"{year}-{month:02d}", f"{year}/{month}",
                f"{year}年{month}月", f"{year}{month:02d}", expected.text(), float(f"{year}.{month:02d}")):
        if raw == float(f"{year}.10"):
            assert parse_date(raw) == MonthDate(year, 1)  # the number 1963.10 is 1963.1: January, with a warning
            continue
        assert parse_date(raw) == expected, raw
