"""Dates as Chinese offices write them, and Chinese-style dates for print."""

from __future__ import annotations

import datetime as dt
import re

from townapp.core.text import remove_spaces, to_halfwidth

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SEPARATED = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
_CN_DIGITS = "〇一二三四五六七八九"
# the time WPS and some exports append to a date written as text: 1995-07-01 00:00:00, 1995/7/1 0:00
_TIME_TAIL = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


class DateParseError(ValueError):
    """Text that is not a date; the message says which spellings work."""


def excel_serial_to_date(serial: float) -> dt.date:
    """Excel's 1900 date system (serial 60 is the phantom 1900-02-29)."""
    if serial < 1 or serial > 2958465:
        raise DateParseError(f"{serial} 不是有效的Excel日期")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(value: object, *, allow_month: bool = True) -> dt.date:
    """Accept date/datetime, Excel serials and 2021-07-01, 2021/7/1, 2021.07.01,
    20210701, 2021年7月1日, and (month precision, day 1) 2021.07, 2021年7月."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
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
        raise DateParseError(f"“{value}”不是可识别的日期，请写成 2021-07-01 或 2021年7月1日")
    year, month, day = match.group(1), match.group(2), match.group(3)
    if day is None and not allow_month:
        raise DateParseError(f"“{value}”缺少日，请填写完整日期，如 {int(year)}-{int(month):02d}-15（写实际的日）")
    try:
        return dt.date(int(year), int(month), int(day or 1))
    except ValueError:
        raise DateParseError(f"“{value}”不是有效日期（月或日超出范围）") from None


def number_as_date(value: float, *, allow_month: bool = True) -> dt.date:
    """A number in a date cell. Cells formatted as dates reach us as dates, so a number is what
    someone typed: 2021.7 or 2021.07 (year.month, as the text 2021.07 reads), 20210701 and
    202107 (compact), and only otherwise an Excel serial (44378). 2021.1 is refused: a number
    cannot tell January from October (2021.10 loses its 0)."""
    whole = int(value)
    if 1900 <= whole <= 2100:
        if value == whole:
            raise DateParseError(f"“{whole}”只有年份，请写完整日期，如 {whole}-07-01")
        fraction = repr(float(value)).partition(".")[2]
        if fraction == "1":
            raise DateParseError(f"“{whole}.1”是{whole}年1月还是10月？数字会丢掉末尾的0，"
                                 f"请写成 {whole}-01-01 或 {whole}-10-01（或先把单元格设为文本格式）")
        if len(fraction) > 2:
            raise DateParseError(f"“{value}”不是可识别的日期，请写成 {whole}-07-01 或 {whole}年7月1日")
        return parse_date(f"{whole}.{fraction}", allow_month=allow_month)
    if value == whole and (100000 <= whole <= 999999 or 10000000 <= whole <= 99999999):
        return parse_date(str(whole), allow_month=allow_month)
    if value != whole and value >= 100000:
        raise DateParseError(f"“{value}”不是可识别的日期，请写成 2021-07-01 或 2021年7月1日")
    return excel_serial_to_date(float(value))


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
