"""Every data file under resources/ (and every file a user loads in their place) read one way.

``load(Model, "points", "settings.json")`` reads UTF-8 JSON, drops the ``_说明``
notes, validates against a declared model and returns the model: the typed
object the code then uses. A file that cannot be used raises ``ResourceError``
naming the file, the place inside it (``levels 第3项 → min``) and what is
wrong, in Chinese, every problem at once.

Why pydantic (v2) rather than jsonschema: the models *are* the typed objects
the code reads, so a file is validated and parsed in one pass instead of being
checked against a schema and then walked again by hand; Decimal and date
fields come out as Decimal and date (JSON floats are read as Decimal, never
float); cross-field rules are small validators next to the fields they
concern; and every error carries its location, which is all a Chinese message
needs besides a translation of the error type.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, RootModel, StringConstraints, ValidationError

from townapp import config
from townapp.core.errors import DomainError

M = TypeVar("M", bound=BaseModel)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]  # required, not blank
Place = tuple[str | int, ...]
_MAX_SHOWN = 12


class ResourceError(DomainError):
    """A resource file that cannot be used; ``problems`` are (place, problem) pairs in Chinese."""

    def __init__(self, source: str, problems: list[tuple[str, str]], label: str = "资源文件") -> None:
        self.source = source
        self.problems = problems
        lines = [f"{place}：{problem}" if place else problem for place, problem in problems[:_MAX_SHOWN]]
        more = f"（另有{len(problems) - _MAX_SHOWN}处问题）" if len(problems) > _MAX_SHOWN else ""
        super().__init__(f"{label}“{source}”有误，未能载入：\n" + "\n".join(lines) + more)


class Resource(BaseModel):
    """Base of the models of our own files: unknown keys are refused, instances never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    resource_label: ClassVar[str] = "资源文件"  # how the file is named in a message: 评定方案, 积分规则 …
    error: ClassVar[type[ResourceError]] = ResourceError  # a subclass callers already catch (SchemeError …)


def _refuse(model: type[BaseModel], source: str, problems: list[tuple[str, str]]) -> ResourceError:
    error = getattr(model, "error", ResourceError)
    return error(source, problems, getattr(model, "resource_label", "资源文件"))


class Problems(ValueError):
    """Raised by a model validator to report problems at places below the model (all at once)."""

    def __init__(self) -> None:
        super().__init__("")
        self.items: list[tuple[Place, str]] = []

    def add(self, place: Place, message: str) -> None:
        self.items.append((place, message))

    def raise_if_any(self) -> None:
        if self.items:
            self.args = ("；".join(m for _p, m in self.items),)
            raise self


def decimals_to_floats(value: Any) -> Any:
    """For free-form parts read by float arithmetic (a certificate's design, demo material)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: decimals_to_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decimals_to_floats(v) for v in value]
    return value


class DataFile(RootModel[Annotated[dict[str, Any], BeforeValidator(decimals_to_floats)]]):
    """Free-form material (the demo's names, places, sample data): read the one way, not declared field by field."""

    resource_label: ClassVar[str] = "演示数据"


def load_data(*parts: str) -> dict[str, Any]:
    """``load_data("grids", "demo.json")``: a material file under resources/ as a dict (notes dropped)."""
    return load(DataFile, *parts).root


# ----- reading ----------------------------------------------------------------------------------
def canonical_json(data: Any, *, decimals_as_text: bool = False) -> str:
    """Sorted keys, no spaces: two files that say the same thing hash the same.

    Stored definitions were hashed with Decimals written as numbers (schemes) or as
    text (point rule sets); ``decimals_as_text`` keeps each digest what it was.
    """
    def default(value: Any) -> Any:
        if isinstance(value, Decimal) and not decimals_as_text:
            return float(value)
        return str(value)

    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=default)


def source_name(path: Path) -> str:
    """How a file is named in messages: resources/… for a shipped file, the file name for a user's."""
    try:
        return "resources/" + path.resolve().relative_to(config.resources_dir().resolve()).as_posix()
    except ValueError:
        return path.name


def read_text(path: Path, model: type[BaseModel] = Resource) -> str:
    """The file's text (UTF-8, a BOM is fine); a missing or non-UTF-8 file is a Chinese ResourceError."""
    source = source_name(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _refuse(model, source, [("", f"找不到文件（{path}），请确认文件在原处")]) from None
    except UnicodeDecodeError:
        raise _refuse(model, source, [("", "文件不是UTF-8编码的文本，请用记事本“另存为 UTF-8”后再放入")]) from None
    except OSError as exc:
        raise _refuse(model, source, [("", f"无法读取文件（{exc.strerror or exc}）")]) from None


def parse_json(text: str, source: str, model: type[BaseModel] = Resource) -> Any:
    """JSON text → data (floats as Decimal); broken JSON names the line and column."""
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        problem = f"不是有效的JSON（{_json_problem(exc.msg)}）"
        raise _refuse(model, source, [(f"第{exc.lineno}行第{exc.colno}列", problem)]) from None


def read_json(path: Path, model: type[BaseModel] = Resource) -> Any:
    """The file's data as parsed, notes included (what a stored definition is hashed from)."""
    return parse_json(read_text(path, model), source_name(path), model)


def strip_notes(data: Any) -> Any:
    """Keys starting with _ are notes for the person editing the file, not data."""
    if isinstance(data, dict):
        return {k: strip_notes(v) for k, v in data.items() if not str(k).startswith("_")}
    if isinstance(data, list):
        return [strip_notes(v) for v in data]
    return data


def validate(model: type[M], data: Any, source: str) -> M:
    """Validate parsed data (notes dropped) against ``model``; problems → ResourceError naming ``source``."""
    try:
        return model.model_validate(strip_notes(data))
    except ValidationError as exc:
        raise _refuse(model, source, list(_problems(model, exc, strip_notes(data)))) from None


def load(model: type[M], *parts: str | Path) -> M:
    """``load(Model, "grids", "structure.json")`` for a shipped file, ``load(Model, path)`` for any file."""
    path = parts[0] if len(parts) == 1 and isinstance(parts[0], Path) else config.resource(*map(str, parts))
    return validate(model, read_json(path, model), source_name(path))


def load_text(model: type[M], text: str, source: str) -> M:
    """The same for text that is not a file (a definition stored in the database, an edited one)."""
    return validate(model, parse_json(text, source, model), source)


# ----- messages ---------------------------------------------------------------------------------
def _json_problem(message: str) -> str:
    known = {
        "Expecting ',' delimiter": "缺少逗号",
        "Expecting ':' delimiter": "缺少冒号",
        "Expecting value": "此处应有一个值",
        "Expecting property name enclosed in double quotes": "键名应使用英文双引号，或多了一个逗号",
        "Unterminated string starting at": "引号没有闭合",
        "Extra data": "文件末尾有多余内容",
        "Invalid control character at": "字符串中有换行等控制字符",
    }
    return next((v for k, v in known.items() if message.startswith(k)), message)


def show(value: Any) -> str:
    """A value as it stood in the file, short enough for a message."""
    text = value if isinstance(value, str) else canonical_json(value)
    return f"“{text[:40]}{'…' if len(text) > 40 else ''}”"


def place_text(place: Place, data: Any = None) -> str:
    """('categories', 1, 'indicators', 0, 'max') → 'categories 第2项（班子队伍） → indicators 第1项 → max'.

    A list entry the path goes through on its way into a deeper list is named by its
    ``name`` or ``group`` (a category, a column group) so a person finds it without counting.
    """
    parts: list[str] = []
    node = data
    for index, part in enumerate(place):
        if isinstance(part, int):
            text = f"第{part + 1}项"
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            deeper = any(isinstance(p, int) for p in place[index + 1:])
            name = next((item[k] for k in ("name", "group") if isinstance(item, dict) and k in item), None)
            if deeper and isinstance(name, str):
                text += f"（{name}）"
            if parts:
                parts[-1] += " " + text
            else:
                parts.append(text)
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return " → ".join(parts)


def _problems(model: type[BaseModel], exc: ValidationError, data: Any) -> Iterable[tuple[str, str]]:
    for error in exc.errors(include_url=False):
        place = _in_file(error["loc"], data)
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, Problems):
            for sub, message in cause.items:
                yield place_text(place + sub, data), message
            continue
        yield place_text(place, data), _translate(model, error, place)


def _in_file(loc: tuple[str | int, ...], data: Any) -> Place:
    """The error's location as it stands in the file: drop the tags pydantic adds for a union's member."""
    place: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, str) and isinstance(node, dict) and part not in node and not last:
            continue  # "formula", "function-after[…]": which member of a union, not a key of the file
        if isinstance(part, int) and not isinstance(node, list) and not last or part == "[key]":
            continue  # "[key]": the error is in a mapping's key, which the place already names
        place.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(place)


_TYPES = {
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "decimal_type": "应为数字", "decimal_parsing": "应为数字", "float_type": "应为数字", "float_parsing": "应为数字",
    "decimal_max_digits": "数字位数过多", "finite_number": "应为数字",
    "string_type": "应为文字", "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表 [...]", "tuple_type": "应为列表 [...]", "set_type": "应为列表 [...]",
    "dict_type": "应为对象 {...}", "model_type": "应为对象 {...}", "model_attributes_type": "应为对象 {...}",
    "date_type": "应为日期，如 2026-01-01", "date_parsing": "应为日期，如 2026-01-01",
    "date_from_datetime_parsing": "应为日期，如 2026-01-01", "date_from_datetime_inexact": "应为日期，如 2026-01-01",
}


def _translate(model: type[BaseModel], error: Any, place: Place) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing":
        return "缺少必填项"
    if kind == "extra_forbidden":
        allowed = _fields_at(model, place[:-1])
        hint = f"（可用的字段：{'、'.join(allowed)}；说明文字请以“_”开头）" if allowed else ""
        return f"不认识的字段{hint}"
    if kind in _TYPES:
        return f"{_TYPES[kind]}，现为 {show(value)}"
    if kind in ("literal_error", "enum"):
        expected = _choices(str(ctx.get("expected", "")))
        return f"应为以下之一：{' / '.join(expected)}，现为 {show(value)}"
    if kind == "decimal_max_places":
        places = ctx.get("decimal_places")
        return f"最多保留{'一' if places == 1 else places}位小数，现为 {value}"
    bounds = {"greater_than": "应大于{}", "greater_than_equal": "不能小于{}", "less_than": "应小于{}",
              "less_than_equal": "不能大于{}"}
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return bounds[kind].format(limit) + f"，现为 {show(value)}"
    if kind == "too_short":
        return f"至少要有{ctx.get('min_length', 1)}项"
    if kind == "too_long":
        return f"最多{ctx.get('max_length')}项"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_too_long":
        return f"最多{ctx.get('max_length')}个字"
    if kind == "string_pattern_mismatch":
        return f"格式不对，现为 {show(value)}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    return f"有误（{error['msg']}）"


def _choices(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected) or [expected]


def _fields_at(model: type[BaseModel], place: Place) -> list[str]:
    """The keys allowed at ``place`` (for "不认识的字段"), found by walking the model's annotations."""
    current: Any = model
    for part in place:
        current = _inner(current)
        if isinstance(part, str) and _is_model(current):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        else:
            current = _element(current)
    current = _inner(current)
    if _is_model(current):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _inner(annotation: Any) -> Any:
    """Unwrap Optional[X] / Annotated[X, …] to X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _element(annotation: Any) -> Any:
    """The element type of list[X], tuple[X, ...] or dict[str, X]."""
    args = typing.get_args(_inner(annotation))
    return _inner(args[-1] if typing.get_origin(_inner(annotation)) is dict else (args[0] if args else Any))
