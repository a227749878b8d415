"""居民身份证号码: normalise, validate, derive sex and birth date, mask.

Checksum and birth date are errors. A region code is checked against the GB/T 2260
history python-stdnum ships (each code with the years it was in force): a code that
cannot have been given to someone born that year, or that the history lacks, is only
a warning, never an error or an exception — codes changed over time (临猗 was 142724
before 2000 and 140821 after) and the history is not complete. A 15-digit
first-generation number is refused with the way to the 18-digit one.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import sys
from operator import mul
from pathlib import Path
from typing import NamedTuple

from townapp import config
from townapp.core.text import remove_spaces, to_halfwidth

log = logging.getLogger(__name__)

ID_LENGTH = 18
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ASCII_ZERO_SUM = ord("0") * sum(_WEIGHTS)  # check_digit sums the weights times the ASCII codes


class IdNumberError(ValueError):
    """An ID number is wrong; ``code`` is the import-report code, ``message`` Chinese."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IdInfo(NamedTuple):
    number: str
    birth_date: dt.date
    sex: str  # "男" | "女"
    region_code: str
    region_known: bool

    @property
    def warnings(self) -> list[str]:
        if self.region_known:
            return []
        warning = region_warning(self.region_code, self.birth_date.year)
        return [warning] if warning else []


def normalize_id_number(raw: str) -> str:
    """One spelling for every way people type an ID: half width, no spaces, upper-case X."""
    return remove_spaces(to_halfwidth(str(raw))).upper().replace("×", "X")


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 ASCII digits (GB 11643-1999, ISO 7064 MOD 11-2).

    Works on the bytes (an import checks every ID of a 100,000-row sheet): the sum of
    weight × ASCII code differs from weight × digit by a constant.
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_digit needs the first 17 ASCII digits")
    return _check_char(first17)


def _check_char(first17: str) -> str:
    return _CHECK_CHARS[(sum(map(mul, _WEIGHTS, first17.encode("ascii"))) - _ASCII_ZERO_SUM) % 11]


# The GB/T 2260 history python-stdnum ships: every county code with the years it was in force.
_REGION_DATA = ("cn", "loc.dat")
_REGION_FORMAT = 2  # the cache's layout; a copy of another layout (or of stdnum's own prefix list) is rebuilt
_IN_FORCE = re.compile(r"\[(\d*)-(\d*)\]")
_OPEN_END = 9999  # a code still in force


def _region_cache_path() -> Path:
    return config.data_dir() / "cache" / "gbt2260-history.json"


def region_history_file() -> Path | None:
    """stdnum's GB/T 2260 history file, found on the import path without importing stdnum (its import
    costs some 25 ms of every import's start); in the frozen app it sits in the bundle, also on sys.path."""
    for folder in sys.path:
        candidate = Path(folder or ".", "stdnum", *_REGION_DATA)
        if candidate.is_file():
            return candidate
    return None


def _region_source() -> str:
    """What the copy was made from: stdnum's data file's size and time. "" when it cannot be told."""
    data = region_history_file()
    try:
        stat = os.stat(data) if data else None
    except OSError:
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}" if stat else ""


def parse_region_history(text: str) -> dict[str, list[tuple[int, int]]]:
    """Each six-digit code of stdnum's loc.dat with the years it was in force ([first, last], both
    inclusive; 0 for "since before the table", 9999 for "still in force")."""
    history: dict[str, list[tuple[int, int]]] = {}
    province = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        prefix, _, rest = line.strip().partition(" ")
        if not line.startswith(" "):
            province = prefix
            continue
        _, _, value = rest.partition('county="')
        if len(province) != 2 or len(prefix) != 4 or not prefix.isdigit() or not value:
            continue  # not a county line this parser knows: it leaves the code unknown (a warning)
        spans = []
        for part in value.rstrip('"').split(","):
            found = _IN_FORCE.match(part)
            if found is None:
                spans.append((0, _OPEN_END))
            else:
                spans.append((int(found[1] or 0), int(found[2] or _OPEN_END)))
        history.setdefault(province + prefix, []).extend(spans)
    return history


@functools.cache
def load_region_table() -> dict[str, int]:
    """For every region code of the GB/T 2260 history, the last year it was in force.

    Read once per process and on the import's hot path: the history is parsed from stdnum's data file
    (some 50 ms with stdnum's import) once and kept as JSON in the data folder (2 ms to read back). A
    copy in another layout, damaged or made from another stdnum's file is replaced; a read-only data
    folder only costs the next process the parse again.
    """
    path, source = _region_cache_path(), _region_source()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        last = cached["last"]
        if (cached.get("format") != _REGION_FORMAT or not source or cached.get("source") != source
                or not isinstance(last, dict) or len(last) < 1000
                or not all(year.__class__ is int for year in last.values())):
            raise ValueError("another layout")
        return last
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    data = region_history_file()
    if data is None:  # an incomplete installation: every code gets the "check it" warning, nothing fails
        log.warning("找不到身份证行政区划表（python-stdnum 的 cn/loc.dat），程序安装可能不完整")
        return {}
    text = data.read_text(encoding="utf-8")
    last = {code: max(end for _, end in spans) for code, spans in parse_region_history(text).items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{os.getpid()}.part")
        part.write_text(json.dumps({"format": _REGION_FORMAT, "source": source, "last": last},
                                   separators=(",", ":")), encoding="utf-8")
        os.replace(part, path)
        for older in path.parent.glob("stdnum-*-cn-loc.json"):  # the copies of stdnum's own table
            older.unlink(missing_ok=True)
    except OSError as exc:
        log.info("身份证地区码表缓存未能写入：%s", exc)
    return last


def region_known(region_code: str, birth_year: int) -> bool:
    """Whether the region code can be right for someone born in that year: it is in the GB/T 2260
    history and was still in force in the birth year or came into force later.

    A number is given where a person is first registered, so its code is the one in force then: at
    birth for children, in 1984 or later for everyone born before the first ID cards. A code withdrawn
    before the birth year (临猗's 142729 for a 2005 birth) cannot have been given. Never raises.
    """
    return load_region_table().get(region_code, -1) >= birth_year


def region_warning(region_code: str, birth_year: int) -> str | None:
    """The warning for a region code that cannot be checked against the history, or None."""
    last = load_region_table().get(region_code)
    if last is None:
        return (f"身份证号前六位地区码 {region_code} 不在行政区划代码表中，请与身份证或户口簿核对；一致则可忽略此提示")
    if last < birth_year:
        return (f"身份证号前六位地区码 {region_code} 只使用到 {last} 年，早于出生年份 {birth_year} 年，"
                "请与身份证或户口簿核对；一致则可忽略此提示")
    return None


def fifteen_digit_message(number: str) -> str:
    """What a 15-digit (first-generation) ID is answered with, in dialogs and imports alike: where the
    18-digit number is found, how it is formed, and the likely number, shown but never stored."""
    message = ("这是15位的第一代身份证号，请填写18位号码：18位号码印在本人的第二代身份证和户口簿上。"
               "它一般是在15位号码的第6位后加“19”，末尾再加一位校验码")
    likely = f"{number[:6]}19{number[6:]}"
    try:
        dt.date(int(likely[6:10]), int(likely[10:12]), int(likely[12:14]))
    except ValueError:
        return message + "，请以证件为准"
    return message + f"，对应的18位号码可能是 {likely}{_check_char(likely)}，请以证件为准"


def parse_id_number(raw: str, today: dt.date | None = None) -> IdInfo:
    """Validate an ID number and derive what it encodes; raises IdNumberError."""
    # the usual ID needs no normalising: 17 ASCII digits and a digit or X
    plain = len(raw) == ID_LENGTH and raw.isascii() and raw[:17].isdigit() and (raw[17].isdigit() or raw[17] == "X")
    if plain:  # nearly every ID of an import: the format checks below hold already
        return _parse_plain(raw, today)
    number = normalize_id_number(raw)
    if not number:
        raise IdNumberError("required", "身份证号不能为空")
    if len(number) == 15 and number.isdigit():
        raise IdNumberError("id_length", fifteen_digit_message(number))
    if len(number) != ID_LENGTH:
        raise IdNumberError("id_length", f"身份证号应为18位，现在是{len(number)}位，请核对是否漏填或多填")
    if not number.isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("id_format", "身份证号前17位应为数字，最后一位为数字或X")
    return _parse_plain(number, today)


def _parse_plain(number: str, today: dt.date | None) -> IdInfo:
    """Birth date, check digit, sex and region of 17 ASCII digits and a digit or X."""
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("id_birth_date", f"身份证号中的出生日期 {number[6:14]} 不是有效日期") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1900:
        raise IdNumberError("id_birth_date", f"身份证号中的出生日期 {birth:%Y-%m-%d} 不合理")
    if number[17] != _check_char(number[:17]):
        raise IdNumberError("id_checksum", "身份证号校验位不对，请逐位核对（常见为某一位输错或两位颠倒）")
    region = number[:6]
    return IdInfo(number, birth, "男" if number[16] in "13579" else "女", region, region_known(region, birth.year))


def make_id_number(region_code: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid ID (for demo data and tests); ``sequence`` 0–999, odd = 男."""
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def mask_id_number(number: str | None) -> str:
    """110***********1234: enough to recognise a person, not to reuse the ID."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_phone(phone: str | None) -> str:
    """138****5678."""
    if not phone:
        return ""
    if len(phone) < 7:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
