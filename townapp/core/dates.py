"""Dates as Chinese offices write them, and Chinese-style dates for print."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from townapp.core.text import remove_spaces, to_halfwidth

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SEPARATED = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_CN_DIGITS = "〇一二三四五六七八九"
# the time WPS and some exports append to a date written as text: 1995-07-01 00:00:00, 1995/7/1 0:00
_TIME_TAIL = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


class DateParseError(ValueError):
    """Text that is not a date; the message says which spellings work."""


class MonthDate(dt.date):
    """A date known only to its month (入党时间 1978.02, 出生年月 1965.03): the 1st of that month,
    marked as such, so code that handles dates keeps working and nobody invents a day.

    It never equals a full date: ``MonthDate(1978, 2) != date(1978, 2, 1)`` (a month is not
    its first day), while ordering (<, <=) is that of the 1st. Stored as the 1st plus the
    table's ``month_dates`` mark (see ``month_dates_of``), shown as 1978年02月, exported as the
    text 1978.02 (which reads back as this month). Arithmetic and ``replace`` with another day
    give plain dates.
    """

    __slots__ = ()
    precision = "month"

    def __new__(cls, year: int | bytes, month: int | None = None, day: int | None = None) -> MonthDate:
        if month is None:  # pickle and copy hand the packed state
            return dt.date.__new__(cls, year)  # type: ignore[call-overload]
        if day not in (None, 1):
            raise ValueError("MonthDate is the first of its month")
        return dt.date.__new__(cls, year, month, 1)  # type: ignore[arg-type]

    def replace(self, year: int | None = None, month: int | None = None,  # type: ignore[override]
                day: int | None = None) -> dt.date:
        year, month = year or self.year, month or self.month
        return dt.date(year, month, day) if day not in (None, 1) else type(self)(year, month)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dt.datetime) or not isinstance(other, dt.date):
            return NotImplemented
        return isinstance(other, MonthDate) and (self.year, self.month) == (other.year, other.month)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = dt.date.__hash__

    def __add__(self, other: dt.timedelta) -> dt.date:  # type: ignore[override]
        return dt.date(self.year, self.month, 1) + other

    __radd__ = __add__

    def __sub__(self, other: object) -> object:  # type: ignore[override]
        return dt.date(self.year, self.month, 1) - other  # type: ignore[operator]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.year}, {self.month})"

    def text(self) -> str:
        """1978.02: how exports write it (as text, so Excel keeps it and it reads back as this month)."""
        return f"{self.year:04d}.{self.month:02d}"

    def chinese(self) -> str:
        """1978年02月: how lists, forms and the archive show it."""
        return f"{self.year:04d}年{self.month:02d}月"

    __str__ = text

    @property
    def last_day(self) -> dt.date:
        """The month's last day: the latest the real date can be."""
        following = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)


class GuessedMonth(MonthDate):
    """A number cell 1963.1 in a date column, read as January 1963.

    Excel shows the number 1963.10 as 1963.1, so the cell alone cannot tell October from
    January. People type 1963.1 for 一九六三年一月 far more often than they type 1963.10 into a
    cell formatted as a number, so January it is — and the import report warns (``warning``)
    so that a person checks. Text cells (1963.1 / 1963.10) are never ambiguous.
    """

    __slots__ = ()

    def warning(self, header: str) -> str:
        return (f"{header}“{self.year}.1”是数字：Excel 会把 {self.year}.10 也显示成 {self.year}.1，已按 {self.year}年1月 读入。"
                f"若是10月，请把该单元格设为“文本”格式后写 {self.year}.10，再导入")


def excel_serial_to_date(serial: float) -> dt.date:
    """Excel's 1900 date system (serial 60 is the phantom 1900-02-29)."""
    if serial < 1 or serial > 2958465:
        raise DateParseError(f"{serial} 不是有效的Excel日期")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(value: object, *, allow_month: bool = True) -> dt.date:
    """Accept date/datetime, Excel serials and 2021-07-01, 2021/7/1, 2021.07.01, 20210701,
    2021年7月1日; and, where ``allow_month``, a month without a day as a ``MonthDate``:
    1965.03, 1965.3, 1965-03, 1965/3, 1965年3月, 196503 (and numbers, see ``number_as_date``).
    A year alone (1963, 1963年) is refused: which month is not known."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        if isinstance(value, MonthDate) and not allow_month:
            raise _needs_day(str(value), value.year, value.month)
        return value
    if isinstance(value, bool):
        raise DateParseError("不是日期")
    if isinstance(value, (int, float)):
        return number_as_date(value, allow_month=allow_month)
    text = to_halfwidth(str(value)).strip()
    text = remove_spaces(_TIME_TAIL.sub("", text) if ":" in text else text)
    if not text:
        raise DateParseError("日期为空")
    text = text.rstrip("号")
    match = _SEPARATED.match(text) or _COMPACT.match(text)
    if match is None:
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            return excel_serial_to_date(float(text))
        if re.fullmatch(r"\d{4}年?", text):
            raise _year_only(text.rstrip("年"), allow_month)
        raise DateParseError(f"“{value}”不是可识别的日期，请写成 2021-07-01 或 2021年7月1日")
    year, month, day = match.group(1), match.group(2), match.group(3)
    if day is None and not allow_month:
        raise _needs_day(str(value), int(year), int(month))
    try:
        if day is None:
            return MonthDate(int(year), int(month))
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise DateParseError(f"“{value}”不是有效日期（月或日超出范围）") from None


def _needs_day(raw: str, year: int, month: int) -> DateParseError:
    return DateParseError(f"“{raw}”缺少日，请填写完整日期，如 {year}-{month:02d}-15（写实际的日）")


def _year_only(year: str, allow_month: bool) -> DateParseError:
    if allow_month:
        return DateParseError(f"“{year}”只有年份，是哪一月？请写成年月，如 {year}.03 或 {year}年3月")
    return DateParseError(f"“{year}”只有年份，请写完整日期，如 {year}-07-01")


def number_as_date(value: float, *, allow_month: bool = True) -> dt.date:
    """A number in a date cell. Cells formatted as dates reach us as dates, so a number is what
    someone typed: 1965.03 or 1965.3 (year.month, as the text reads: a ``MonthDate``),
    20210701 and 202107 (compact), and only otherwise an Excel serial (44378) — a number whose
    whole part is a year 1900..2100 is never a serial (that would be a day in 1905).
    1963.1 is January 1963 as a ``GuessedMonth``: the number 1963.10 looks the same, so the
    report asks a person to check. A whole year (1963) is refused: which month?"""
    whole = int(value)
    if 1900 <= whole <= 2100:
        if value == whole:
            raise _year_only(str(whole), allow_month)
        fraction = repr(float(value)).partition(".")[2]
        if len(fraction) > 2 or not 1 <= int(fraction) <= 12:
            raise DateParseError(f"“{value}”不是可识别的日期，请写成 {whole}-07-01 或 {whole}年7月1日")
        if not allow_month:
            raise _needs_day(repr(float(value)), whole, int(fraction))
        return GuessedMonth(whole, 1) if fraction == "1" else MonthDate(whole, int(fraction))
    if value == whole and (100000 <= whole <= 999999 or 10000000 <= whole <= 99999999):
        return parse_date(str(whole), allow_month=allow_month)
    if value != whole and value >= 100000:
        raise DateParseError(f"“{value}”不是可识别的日期，请写成 2021-07-01 或 2021年7月1日")
    return excel_serial_to_date(float(value))


def agrees(value: dt.date, full: dt.date) -> bool:
    """Whether ``value`` (a date or a month) can be the full date ``full``: 1965.03 agrees with
    1965-03-17 (an ID's birth date), 1965-03-16 does not."""
    if isinstance(value, GuessedMonth):  # the number 2001.1: January, or October that lost its 0
        return value.year == full.year and full.month in (1, 10)
    if isinstance(value, MonthDate):
        return (value.year, value.month) == (full.year, full.month)
    return value == full


def latest(value: dt.date) -> dt.date:
    """The latest day ``value`` can be: a month's last day, a date itself (for "not before" rules)."""
    return value.last_day if isinstance(value, MonthDate) else value


def merge_date(stored: dt.date | None, new: dt.date | None) -> dt.date | None:
    """What to keep when an import brings ``new`` for a stored date: never a coarser value over a
    fuller one. 1978.02 over a stored 1978-02-02 keeps 1978-02-02; 1978.03 over it is the month
    1978.03 (the roster says another month); 1978-02-05 over a stored 1978.02 is 1978-02-05. The
    number 1978.1 (January, or October that lost its 0) keeps a stored date in either month."""
    if isinstance(new, MonthDate) and stored is not None and agrees(new, stored):
        return stored
    return new


def kept_month(stored: dt.date | None, new: dt.date | None) -> dt.date | None:
    """A form's date over a stored date: a date picker cannot say "month only", so a month shown
    as its 1st and saved unchanged (``new`` is that 1st) stays the month; any other value is ``new``."""
    if (isinstance(stored, MonthDate) and new is not None and not isinstance(new, MonthDate)
            and new == dt.date(stored.year, stored.month, 1)):
        return stored
    return new


# a table that can hold month-only dates has a column ``month_dates``: the names of the row's date
# columns that hold only a month (comma-separated, sorted), NULL when all its dates are full
MONTH_DATES = "month_dates"


def month_dates_of(values: Mapping[str, object], keys: Iterable[str]) -> str | None:
    """The ``month_dates`` mark for a row's ``values``: which of ``keys`` hold a ``MonthDate``."""
    marked = sorted(key for key in keys if isinstance(values.get(key), MonthDate))
    return ",".join(marked) or None


def with_month_dates(values: dict[str, object], marked: str | None) -> dict[str, object]:
    """``values`` read from a table with the dates its ``month_dates`` mark names as ``MonthDate``."""
    if marked:
        for key in marked.split(","):
            value = values.get(key)
            if isinstance(value, dt.date):
                values[key] = MonthDate(value.year, value.month)
    return values


def as_month_date(value: dt.date | None, marked: str | None, key: str) -> dt.date | None:
    """One date read from a table: a ``MonthDate`` when the row's ``month_dates`` names ``key``."""
    if value is not None and marked and key in marked.split(","):
        return MonthDate(value.year, value.month)
    return value


def show_date(value: dt.date | None, pattern: str = "%Y-%m-%d") -> str:
    """A date for people to read: a month as 1978年02月, a full date by ``pattern``."""
    if value is None:
        return ""
    if isinstance(value, MonthDate):
        return value.chinese()
    return value.strftime(pattern)


def chinese_date(value: dt.date, *, with_day: bool = False) -> str:
    """二〇二六年十一月 (certificates), or 二〇二六年十一月二十三日 with the day."""
    year = "".join(_CN_DIGITS[int(d)] for d in str(value.year))
    text = f"{year}年{_cn_number(value.month)}月"
    if with_day:
        text += f"{_cn_number(value.day)}日"
    return text


def _cn_number(n: int) -> str:
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
