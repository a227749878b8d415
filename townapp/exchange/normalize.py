"""The one place where cell values are normalised and checked by type.

calamine returns integers as floats, dates as ``date``/``datetime``, text as
``str`` and empty cells as ``""``; people type full-width digits, spaces
inside IDs, 2021.7.1 and 男/1. Every column kind is turned into one clean
Python value here, or into a CellError with an import-report code and a
Chinese message that says what to fix.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from townapp.core.dates import DateParseError, MonthDate, parse_date
from townapp.core.idcard import check_digit, fifteen_digit_message, normalize_id_number
from townapp.core.text import (
    CONTROL_CHARACTERS,
    INVISIBLE_CHARACTERS,
    UnsafeText,
    clean_free_text,
    clean_name,
    length_problem,
    normalize_phone,
    remove_spaces,
    to_halfwidth,
)
from townapp.exchange import spec as s
from townapp.exchange.reader import EXCEL_ERRORS, CellFault

# full width, spaces, odd dots, invisible and control characters: the cells that need more than strip()
_NEEDS_WORK = re.compile(f"[\\uff01-\\uff5e\\u3000\\s\\u00a0•・{INVISIBLE_CHARACTERS}{CONTROL_CHARACTERS}]")
_INVISIBLE_OR_CONTROL = re.compile(f"[{INVISIBLE_CHARACTERS}{CONTROL_CHARACTERS}]")
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARACTERS}]")
_PLAIN_NAME = re.compile(r"^[\u4e00-\u9fff]+$")
_LABEL_NOISE = re.compile(r"[（(][^）)]*[）)]|[*＊:：\s\u3000]")
_SCIENTIFIC = re.compile(r"^\d+(\.\d*)?E\+?\d+$", re.IGNORECASE)
_FLOAT_TEXT = re.compile(r"^\d+\.\d+$")
_WHOLE_NUMBER_TEXT = re.compile(r"\d+\.0+")
# dates up to the end of the year the program started in are always within "today + 366 days"
_LATEST_DATE = dt.date(dt.date.today().year, 12, 31)
_LIST_SPLIT = re.compile(r"[、,，;；/\s]+")
_ID_AS_NUMBER = (
    "身份证号被存成了数字，Excel只保留15位有效数字，后几位已经丢失，无法还原。"
    "请把该列设为“文本”格式后重新输入完整号码（或在号码前加英文单引号 '）"
)


class CellError(ValueError):
    """A cell that cannot be used; ``code`` goes into the report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def norm_label(value: Any) -> str:
    """A header or sheet name reduced for matching: half width, no spaces, no (说明) or * marks."""
    if value is None:
        return ""
    text = _INVISIBLE.sub("", to_halfwidth(str(value)).replace("\n", ""))
    return _LABEL_NOISE.sub("", text).lower()


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any) -> str:
    """A cell as the text the user sees (integers without .0, dates as 2021-07-01)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def canonical_choice(raw: Any, choices: tuple[str, ...], synonyms: dict[str, str] | Any) -> str | None:
    """The standard spelling of an enum value, like registry vocabularies do it."""
    text = as_text(raw)
    if text in choices:
        return text
    text = remove_spaces(to_halfwidth(text))
    if text in choices:
        return text
    return synonyms.get(text) or synonyms.get(text.upper())


def normalize_cell(column: s.ColumnSpec, value: Any) -> Any:
    """Clean one cell for ``column``; None for empty; raises CellError."""
    return cell_normaliser(column)(value)


def cell_normaliser(column: s.ColumnSpec) -> Callable[[Any], Any]:
    """The function that cleans cells of ``column`` (built once per column: the pipeline calls it per cell)."""
    filled = filled_cell_normaliser(column)

    def normalise(value: Any) -> Any:
        if value is None or value == "" or (value.__class__ is str and value.isspace()):
            return None
        return filled(value)

    return normalise


def filled_cell_normaliser(column: s.ColumnSpec) -> Callable[[Any], Any]:
    """Like ``cell_normaliser`` for cells already known not to be blank (the pipeline tells them apart first)."""
    kind_fn = _NORMALISERS[column.kind]
    if column.kind == s.ENUM:  # most cells already hold a standard spelling: a set look-up instead of a scan
        known = frozenset(column.choices)

        def kind_fn(column: s.ColumnSpec, value: Any, general: Callable[..., Any] = kind_fn) -> Any:
            return value if value in known else general(column, value)
    pattern = re.compile(column.pattern) if column.pattern else None
    max_length = column.max_length
    code = "bad_phone" if column.kind == s.PHONE else "bad_code" if column.kind == s.CODE else "bad_format"
    zero_ok = column.kind == s.INT  # a formula's saved 0 is a plausible count; as a name or date it is not
    refused = refused_types(column)

    def normalise(value: Any) -> Any:
        cls = value.__class__
        if cls is str:
            if not value.isascii() and _INVISIBLE.search(value):  # U+200E before an ID, U+202D around a phone
                value = _INVISIBLE.sub("", value)
                if not value.strip():
                    return None
            if value in EXCEL_ERRORS:
                raise CellError("error_value", f"{column.header}是Excel错误值“{value}”（公式出错或引用失效），"
                                               "请改成正确的值或清空")
        elif cls is CellFault:
            if zero_ok and value.kind == "formula_zero":
                return 0
            raise fault_error(column, value)
        elif cls in refused:
            raise type_error(column, value)
        try:
            result = kind_fn(column, value)
        except UnsafeText as exc:
            raise CellError("control_char", f"{column.header}：{exc.message}") from None
        if result is None or result == "" or result == ():
            return None
        if result.__class__ is str:
            if pattern is not None and not pattern.fullmatch(result):
                raise CellError(code, column.pattern_message or f"{column.header}“{result}”格式不对")
            if max_length and (too_long := length_problem(result, max_length, column.header)) is not None:
                raise CellError("too_long", too_long)
        return result

    return normalise


_TEMPORAL = frozenset({dt.date, dt.datetime, dt.time, dt.timedelta})
_BOOL_AND_TEMPORAL = _TEMPORAL | {bool}
# cell types (as calamine returns them) a column of each kind can never hold: Excel turned what was
# typed into a true/false value or a date, so the text the user meant is gone; converting it back
# ("是", "2020-01-01") would store something nobody typed. Numbers are judged by each kind's function.
_REFUSED_TYPES: dict[str, frozenset[type]] = {
    s.TEXT: _BOOL_AND_TEMPORAL,
    s.NAME: _BOOL_AND_TEMPORAL,
    s.CODE: _BOOL_AND_TEMPORAL,
    s.ID_NUMBER: _BOOL_AND_TEMPORAL,
    s.PHONE: _BOOL_AND_TEMPORAL,
    s.LIST: _BOOL_AND_TEMPORAL,
    s.INT: _BOOL_AND_TEMPORAL,
    s.DATE: frozenset({bool, dt.time, dt.timedelta}),
    s.ENUM: _BOOL_AND_TEMPORAL,
}
_HOLDS = {s.TEXT: "文字", s.NAME: "姓名或名称", s.CODE: "编码", s.ID_NUMBER: "身份证号", s.PHONE: "电话号码",
          s.LIST: "名称", s.INT: "整数", s.DATE: "日期", s.ENUM: "规定的选项"}


def refused_types(column: s.ColumnSpec) -> frozenset[type]:
    """The cell types ``column`` refuses (one set look-up per cell). An enum of 是/否 takes TRUE/FALSE."""
    refused = _REFUSED_TYPES[column.kind]
    if column.kind == s.ENUM and "是" in column.choices and "否" in column.choices:
        refused = refused - {bool}
    return refused


def type_error(column: s.ColumnSpec, value: Any) -> CellError:
    """A cell whose type the column can never hold: say what Excel made of it and how to type it."""
    if isinstance(value, bool):
        found = f"逻辑值 {'TRUE' if value else 'FALSE'}（Excel把输入的内容当成了“真/假”）"
    elif isinstance(value, (dt.time, dt.timedelta)):
        found = f"时间 {as_text(value)}（Excel把输入的内容当成了时刻或时长）"
    else:
        found = f"日期 {as_text(value)}（Excel把输入的内容自动转成了日期）"
    return CellError("bad_type", f"“{column.header}”列应填{_HOLDS[column.kind]}，这一格却是{found}，"
                                 "无法知道原来输入的是什么。请把该单元格设为“文本”格式后重新输入正确内容")


def fault_error(column: s.ColumnSpec, fault: CellFault) -> CellError:
    """The error for a cell whose value cannot be trusted (it names the cell: the report's row and
    column are the user's, the address is Excel's)."""
    where = f"单元格 {fault.ref}（{column.header}）"
    if fault.kind == "error":
        return CellError("error_value", f"{where}是Excel错误值“{fault.text}”（公式出错或引用失效），请改成正确的值或清空")
    saved = "没有保存计算结果" if fault.kind == "formula" else "保存的结果是 0，可能从未计算过"
    formula = f"公式“={fault.text[:60]}”" if fault.text else "公式"  # .xls keeps no formula text
    return CellError("formula", f"{where}是{formula}，{saved}，无法知道它的值。请在Excel/WPS中打开、"
                                "按 F9 重新计算后保存，或把这一列复制后“选择性粘贴 → 数值”，再导入")


def _compact(text: str) -> str:
    """Half width without any spaces; skips the per-character work for text that needs none (most cells)."""
    return remove_spaces(to_halfwidth(text)) if _NEEDS_WORK.search(text) else text


def _text(column: s.ColumnSpec, value: Any) -> str:
    """Free text as a person typed it: punctuation (，；：), full-width letters and inner spaces and line
    breaks stay byte for byte; only invisible characters go (control characters are refused) and the
    white space around the text, which no one can see in a cell (core.text.clean_free_text)."""
    text = as_text(value)
    return clean_free_text(text) if _INVISIBLE_OR_CONTROL.search(text) else text.strip()


def _name(column: s.ColumnSpec, value: Any) -> str:
    text = as_text(value)
    return text if _PLAIN_NAME.match(text) else clean_name(text)


def _code(column: s.ColumnSpec, value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        raise CellError("bad_code", f"{column.header}“{as_text(value)}”不是有效的编号")
    text = _compact(as_text(value))
    if "." in text and _WHOLE_NUMBER_TEXT.fullmatch(text):
        text = text.split(".")[0]
    return text


def _id_number(column: s.ColumnSpec, value: Any) -> str:
    """Never guess digits that Excel threw away: numbers and 1.4E+17 are errors."""
    if (value.__class__ is str and len(value) == 18 and value.isascii() and value[:17].isdigit()
            and (value[17].isdigit() or value[17] == "X") and len(value.rstrip("0")) > 15):
        return value  # the usual cell: 18 characters as they should be, not a number Excel rounded
    if isinstance(value, bool):
        raise CellError("id_format", "身份证号应为18位号码")
    if isinstance(value, (int, float)):
        if 10**14 <= value < 10**15 and value == int(value):  # a 15-digit first-generation ID: kept whole
            raise CellError("id_length", fifteen_digit_message(str(int(value))))
        raise CellError("id_number_cell", _ID_AS_NUMBER)
    text = as_text(value)
    text = normalize_id_number(text) if _NEEDS_WORK.search(text) or "x" in text or "×" in text else text
    if _SCIENTIFIC.match(text) or _FLOAT_TEXT.match(text):
        raise CellError("id_number_cell", _ID_AS_NUMBER)
    if text.isascii() and text.isdigit() and 16 <= len(text) <= 18 and len(text.rstrip("0")) <= 15:
        # what Excel shows for a number it rounded: 15 significant digits, then zeros
        if len(text) != 18 or check_digit(text[:17]) != text[17]:
            raise CellError("id_number_cell", _ID_AS_NUMBER)
    if len(text) == 15 and text.isdigit():
        raise CellError("id_length", fifteen_digit_message(text))
    if len(text) != 18:
        raise CellError("id_length", f"身份证号应为18位，现在是{len(text)}位，请核对是否漏填或多填")
    if not text.isascii() or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise CellError("id_format", "身份证号前17位应为数字，最后一位为数字或X")
    return text


def _phone(column: s.ColumnSpec, value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        raise CellError("bad_phone", f"联系电话“{as_text(value)}”不是电话号码")
    text = as_text(value)
    return normalize_phone(text) if _NEEDS_WORK.search(text) or "—" in text else text


def _date(column: s.ColumnSpec, value: Any) -> dt.date:
    if value.__class__ is str and len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii():
        try:  # 2021-07-01, the usual spelling: parsed in C
            result = dt.date.fromisoformat(value)
        except ValueError:
            pass  # the general path below says what is wrong
        else:
            if result.year >= 1900 and result <= _LATEST_DATE:
                return result
    if isinstance(value, (dt.time, dt.timedelta)):
        raise CellError("bad_date", f"{column.header}“{as_text(value)}”不是日期")
    try:  # a number is what someone typed (calamine gives date cells as dates): see number_as_date
        # a month without a day (1965.03) is a MonthDate where the column allows it, an error elsewhere
        result = parse_date(value, allow_month=column.month_precision)
    except DateParseError as exc:
        raise CellError("bad_date", f"{column.header}：{exc}") from None
    except (OverflowError, ValueError):
        raise CellError("bad_date", f"{column.header}“{as_text(value)}”不是可识别的日期") from None
    if result.year < 1900 or result > dt.date.today() + dt.timedelta(days=366):
        shown = str(result) if isinstance(result, MonthDate) else f"{result:%Y-%m-%d}"
        raise CellError("bad_date", f"{column.header} {shown} 不合理，请核对年份")
    return result


def _enum(column: s.ColumnSpec, value: Any) -> str:
    result = canonical_choice(value, column.choices, column.synonyms)
    if result is None:
        raise CellError("bad_enum", f"{column.header}“{as_text(value)}”无法识别，可填：{'、'.join(column.choices)}")
    return result


def _int(column: s.ColumnSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("bad_number", f"{column.header}应为整数")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError("bad_number", f"{column.header}“{as_text(value)}”应为整数")
    text = remove_spaces(to_halfwidth(as_text(value)))
    if re.fullmatch(r"-?\d+(\.0+)?", text):
        return int(text.split(".")[0])
    raise CellError("bad_number", f"{column.header}“{value}”应为整数")


def _list(column: s.ColumnSpec, value: Any) -> tuple[str, ...]:
    items: list[str] = []
    for part in _LIST_SPLIT.split(to_halfwidth(as_text(value))):
        name = clean_name(part)
        if name and name not in items:
            items.append(name)
    return tuple(items)


_NORMALISERS = {
    s.TEXT: _text,
    s.NAME: _name,
    s.CODE: _code,
    s.ID_NUMBER: _id_number,
    s.PHONE: _phone,
    s.DATE: _date,
    s.ENUM: _enum,
    s.INT: _int,
    s.LIST: _list,
}
