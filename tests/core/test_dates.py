"""Dates as offices write them in Excel and forms, and Chinese-style dates on certificates."""

from __future__ import annotations

import datetime as dt

import pytest

from townapp.core.dates import DateParseError, MonthDate, age_on, chinese_date, parse_date

JULY_1 = dt.date(2021, 7, 1)


@pytest.mark.parametrize(
    "raw",
    [
        "2021-07-01",
        "2021/7/1",
        "2021.07.01",
        "20210701",
        "2021年7月1日",
        "2021年07月01日",
        "2021年7月1号",
        " 2021-07-01 ",
        "２０２１－０７－０１",  # full-width digits and dash
        "２０２１年７月１日",
        "２０２１．７．１",
        44378,  # Excel serial as calamine gives it
        44378.0,
        "44378",
        "44378.0",
        dt.datetime(2021, 7, 1, 15, 30),
        JULY_1,
    ],
)
def test_every_office_spelling_of_1_july_2021(raw: object) -> None:
    # GIVEN a cell or field holding 1 July 2021 in one of the spellings offices use
    # WHEN it is parsed THEN it is that date
    assert parse_date(raw) == JULY_1


@pytest.mark.parametrize("raw", ["2021.07", "2021年7月", "202107", "2021-7", "２０２１年７月"])
def test_month_precision_is_a_month_never_an_invented_day(raw: str) -> None:
    # GIVEN a month without a day (入党日期 are often recorded that way)
    # THEN it is that month (a MonthDate at the 1st, which is not the full date 1 July), unless the caller needs a day
    parsed = parse_date(raw)
    assert parsed == MonthDate(2021, 7) and parsed != JULY_1 and (parsed.year, parsed.month, parsed.day) == (2021, 7, 1)
    with pytest.raises(DateParseError) as caught:
        parse_date(raw, allow_month=False)
    assert "日" in str(caught.value)


def test_excel_serial_of_a_datetime_keeps_the_day() -> None:
    # 44378.75 is 2021-07-01 18:00 in Excel
    assert parse_date(44378.75) == JULY_1


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "明天", "2021-13-01", "2021-02-30", "2021/7/32", "21-7-1", "2021-07-01-01", "abc", 0, -5, True,
     None, "1234", "2021年13月"],
)
def test_bad_inputs_raise_with_a_chinese_message(raw: object) -> None:
    # GIVEN something that is not a date WHEN parsed THEN DateParseError says so in Chinese
    with pytest.raises(DateParseError) as caught:
        parse_date(raw)
    message = str(caught.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_date_parse_error_is_a_value_error() -> None:
    # callers that guard with ValueError still catch it
    with pytest.raises(ValueError):
        parse_date("不是日期")


def test_chinese_dates_for_certificates() -> None:
    assert chinese_date(dt.date(2026, 11, 23)) == "二〇二六年十一月"
    assert chinese_date(dt.date(2026, 11, 23), with_day=True) == "二〇二六年十一月二十三日"
    assert chinese_date(dt.date(2026, 10, 10), with_day=True) == "二〇二六年十月十日"
    assert chinese_date(dt.date(2026, 1, 20), with_day=True) == "二〇二六年一月二十日"
    assert chinese_date(dt.date(2026, 12, 31), with_day=True) == "二〇二六年十二月三十一日"
    assert chinese_date(dt.date(2000, 2, 1), with_day=True) == "二〇〇〇年二月一日"
    assert chinese_date(dt.date(2019, 7, 15), with_day=True) == "二〇一九年七月十五日"


def test_age_on() -> None:
    birth = dt.date(2000, 7, 1)
    assert age_on(birth, dt.date(2018, 6, 30)) == 17
    assert age_on(birth, dt.date(2018, 7, 1)) == 18
