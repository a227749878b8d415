"""居民身份证号码: normalise, validate, derive sex and birth date, mask.

Checksum and birth date are errors. A region code that python-stdnum does not
know for the birth year is only a warning: codes changed over time (临猗 was
142724 before 2000 and 140821 after) and stdnum's table is not complete.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from functools import lru_cache
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
        return [f"身份证号前六位地区码 {self.region_code} 在 {self.birth_date.year} 年的行政区划表中未找到，请核对"]


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


REGION_TABLE = "cn/loc"


def _region_cache_path() -> Path:
    from stdnum import __version__

    return config.data_dir() / "cache" / f"stdnum-{__version__}-cn-loc.json"


def load_region_table() -> None:
    """python-stdnum's region table, parsed once per process: its text parse takes 30–50 ms of every
    import's time, so the parsed table is kept as JSON in the data folder (per stdnum version) and read
    back in about 5 ms. Any trouble with the copy falls back to stdnum's own parse (and rewrites it)."""
    from stdnum import numdb

    if REGION_TABLE in numdb._open_databases:
        return
    path = _region_cache_path()
    try:
        prefixes = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(prefixes, list) and prefixes and all(len(p) == 5 for p in prefixes)):
            raise ValueError("unexpected shape")
        table = numdb.NumDB()
        table.prefixes = prefixes
        numdb._open_databases[REGION_TABLE] = table
        return
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    parsed = numdb.get(REGION_TABLE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{os.getpid()}.part")
        part.write_text(json.dumps(parsed.prefixes, ensure_ascii=False), encoding="utf-8")
        os.replace(part, path)
    except OSError as exc:  # a read-only data folder only costs the next import the parse again
        log.info("身份证地区码表缓存未能写入：%s", exc)


@lru_cache(maxsize=4096)
def region_known(region_code: str, birth_year: int) -> bool:
    """Whether python-stdnum's GB/T 2260 table has the code for that year (cached: imports check
    thousands of people from the same few counties).

    Never raises: stdnum's look-up fails with KeyError('county') for a code its table has only the
    province of (140883, 133100 …), and an unknown region is a warning, not a reason to crash a save.
    """
    from stdnum.cn import ric  # here: the log module imports this file before the window appears
    from stdnum.exceptions import ValidationError

    load_region_table()
    try:
        ric.get_birth_place(f"{region_code}{birth_year:04d}0101000")
    except (ValidationError, KeyError, ValueError, IndexError):
        return False
    return True


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
        raise IdNumberError("id_length", "这是15位旧身份证号，请填写18位身份证号")
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
