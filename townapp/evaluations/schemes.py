"""Evaluation schemes as data: read a JSON file, validate it, and give the engine a typed scheme.

A scheme file under ``resources/schemes/`` says everything a round needs —
target, period, indicators by category, the negative list, inputs and their
rules, level thresholds, roll-up and workflow stages — so a new scheme is a
new file, never new code. A broken file is refused with a Chinese message
naming the file, the place in it and the problem, all problems at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from townapp import config
from townapp.core.errors import DomainError

TARGETS = ("household", "party_secretary", "village_org", "party_member", "grid_member")
PERIODS = ("month", "quarter", "half_year", "year")
MEASURES = ("stars", "score", "checks")
EFFECTS = ("veto", "cap")
RULE_EFFECTS = ("veto", "cap", "raise")
INPUT_KINDS = ("choice", "int", "percent", "number")
STAGE_LEVELS = ("village", "township")
STAGE_KINDS = ("score", "publicity")
ROLLUP_METHODS = ("mean", "sum", "min", "max")
_KEY = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
_TOP_KEYS = {"key", "name", "description", "target", "period", "measure", "categories", "negatives", "inputs",
             "input_rules", "levels", "unrated", "stages", "flags", "rollup", "revocation", "joint_bodies", "assess"}


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    """Labels of targets, periods, stage levels … (resources/evaluations/vocabulary.json)."""
    return json.loads(config.resource("evaluations", "vocabulary.json").read_text(encoding="utf-8"))


def target_label(kind: str) -> str:
    return vocabulary()["targets"].get(kind, kind)


def period_label(kind: str) -> str:
    return vocabulary()["periods"].get(kind, kind)


class SchemeError(DomainError):
    """A scheme file (or edited definition) that cannot be used; ``problems`` are (place, problem)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{place}：{problem}" if place else problem for place, problem in problems[:12]]
        more = f"（另有{len(problems) - 12}处问题）" if len(problems) > 12 else ""
        super().__init__(f"评定方案“{source}”有误，未能载入：\n" + "\n".join(lines) + more)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    category: str
    max: Decimal | None = None  # score schemes: the most points it can give
    stars: int = 1  # star schemes: stars it earns
    level: str | None = None  # check schemes: the level this check belongs to
    note: str = ""


@dataclass(frozen=True)
class NegativeItem:
    code: str
    name: str
    effect: str  # veto | cap
    cap: str | None = None


@dataclass(frozen=True)
class InputSpec:
    key: str
    name: str
    kind: str
    choices: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True)
class InputRule:
    input: str
    condition: str  # in | below | above
    values: tuple[str, ...]
    threshold: Decimal | None
    effect: str  # veto | cap | raise
    cap: str | None
    steps: int
    reason: str


@dataclass(frozen=True)
class Level:
    name: str
    min: Decimal | None
    rank: int  # the best level has the highest rank; 0 is "unrated"


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    actor: str
    level: str  # village | township: who may enter it
    kind: str = "score"  # score | publicity
    days: int = 0
    bodies: bool = False  # the joint-review stage: the round names its bodies

    @property
    def is_publicity(self) -> bool:
        return self.kind == "publicity"


@dataclass(frozen=True)
class Flag:
    name: str
    below: Decimal | None
    vetoed: bool


@dataclass(frozen=True)
class Rollup:
    source: str  # the key of the scheme whose finished rounds are summarised
    method: str
    label: str


@dataclass(frozen=True)
class Scheme:
    key: str
    name: str
    description: str
    target: str
    period: str
    measure: str
    categories: tuple[tuple[str, tuple[Indicator, ...]], ...]
    negatives: tuple[NegativeItem, ...]
    inputs: tuple[InputSpec, ...]
    input_rules: tuple[InputRule, ...]
    levels: tuple[Level, ...]  # best first
    unrated: str
    stages: tuple[Stage, ...]
    flags: tuple[Flag, ...]
    rollup: Rollup | None
    ban_years: int
    joint_bodies: tuple[str, ...]
    assess_order: str
    order_stage: str | None
    applied_input: str | None
    definition: str  # canonical JSON: what is stored and hashed

    @cached_property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for _name, items in self.categories for i in items)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.definition.encode("utf-8")).hexdigest()

    def level(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.name == name), None)

    def rank_of(self, name: str | None) -> int:
        level = self.level(name) if name else None
        return level.rank if level else 0

    def level_of_rank(self, rank: int) -> str:
        return next((lv.name for lv in self.levels if lv.rank == rank), self.unrated)

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise DomainError(f"方案“{self.name}”没有“{key}”环节")

    def stage_index(self, key: str) -> int:
        return [s.key for s in self.stages].index(key)

    @property
    def score_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if not s.is_publicity)

    def negative(self, code: str) -> NegativeItem | None:
        return next((n for n in self.negatives if n.code == code), None)

    def input_spec(self, key: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.key == key), None)


# ----- reading ---------------------------------------------------------------
def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces: two files that say the same thing hash the same."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=lambda d: float(d) if isinstance(d, Decimal) else str(d))


def parse_text(text: str, source: str) -> Scheme:
    """A scheme from JSON text; raises SchemeError naming ``source``, the place and the problem."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise SchemeError(source, [(f"第{exc.lineno}行第{exc.colno}列", f"不是有效的JSON（{_json_problem(exc.msg)}）")]) \
            from None
    return build_scheme(data, source)


def load_file(path: Path) -> Scheme:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SchemeError(path.name, [("", "文件不是UTF-8编码的文本，请用记事本“另存为 UTF-8”后再放入")]) from None
    except OSError as exc:
        raise SchemeError(path.name, [("", f"无法读取文件（{exc.strerror or exc}）")]) from None
    return parse_text(text, path.name)


def scheme_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.is_file() and not p.name.startswith((".", "_")))


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


# ----- validating --------------------------------------------------------------
class _Checker:
    """Walks the definition collecting (place, problem) pairs; places read like 类别第2项 → 指标第1项 → max."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def bad(self, place: str, problem: str) -> None:
        self.problems.append((place, problem))

    def text(self, obj: dict, key: str, place: str, *, required: bool = True, default: str = "") -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.bad(_join(place, key), "缺少此项")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            self.bad(_join(place, key), f"应为非空文字，现为 {_show(value)}")
            return default
        return value.strip()

    def number(self, obj: dict, key: str, place: str, *, required: bool, minimum: Decimal | None = None,
               positive: bool = False) -> Decimal | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.bad(_join(place, key), "缺少此项（应为数字）")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
            self.bad(_join(place, key), f"应为数字，现为 {_show(value)}")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.bad(_join(place, key), f"应为数字，现为 {_show(value)}")
            return None
        if positive and number <= 0:
            self.bad(_join(place, key), f"应大于0，现为 {number}")
        elif minimum is not None and number < minimum:
            self.bad(_join(place, key), f"不能小于{minimum}，现为 {number}")
        if number != number.quantize(Decimal("0.1")):
            self.bad(_join(place, key), f"最多保留一位小数，现为 {number}")
        return number

    def integer(self, obj: dict, key: str, place: str, *, default: int, minimum: int = 0) -> int:
        value = obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.bad(_join(place, key), f"应为不小于{minimum}的整数，现为 {_show(value)}")
            return default
        return value

    def choice(self, obj: dict, key: str, place: str, allowed: tuple[str, ...], *, default: str | None = None) -> str:
        value = obj.get(key, default)
        if value not in allowed:
            shown = "缺少此项" if value is None else f"现为 {_show(value)}"
            self.bad(_join(place, key), f"应为 {' / '.join(allowed)} 之一，{shown}")
            return allowed[0]
        return value

    def items(self, obj: dict, key: str, place: str, *, required: bool = True) -> list[dict]:
        value = obj.get(key)
        if value is None:
            if required:
                self.bad(_join(place, key), "缺少此项（应为列表）")
            return []
        if not isinstance(value, list):
            self.bad(_join(place, key), f"应为列表 [...]，现为 {_show(value)}")
            return []
        good = []
        for index, item in enumerate(value, start=1):
            if isinstance(item, dict):
                good.append(item)
            else:
                self.bad(f"{_join(place, key)} 第{index}项", f"应为对象 {{...}}，现为 {_show(item)}")
        return good

    def strings(self, obj: dict, key: str, place: str) -> tuple[str, ...]:
        value = obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.bad(_join(place, key), f"应为文字列表，如 [\"甲\", \"乙\"]，现为 {_show(value)}")
            return ()
        if len(set(value)) != len(value):
            self.bad(_join(place, key), "列表中有重复项")
        return tuple(v.strip() for v in value)


def _join(place: str, key: str) -> str:
    return f"{place} → {key}" if place else key


def _show(value: Any) -> str:
    text = canonical_json(value)
    return f"“{text[:40]}{'…' if len(text) > 40 else ''}”"


def build_scheme(data: Any, source: str) -> Scheme:
    """Validate a parsed definition and build the typed scheme; every problem is reported at once."""
    c = _Checker()
    if not isinstance(data, dict):
        raise SchemeError(source, [("", "文件内容应为一个对象 {...}")])
    for key in data:
        if key not in _TOP_KEYS and not str(key).startswith("_"):
            c.bad(key, f"不认识的项（可用的项：{'、'.join(sorted(_TOP_KEYS))}；说明文字请以“_”开头）")
    key = c.text(data, "key", "")
    if key and not _KEY.match(key):
        c.bad("key", f"应为小写英文字母开头的英文、数字或下划线（如 civilized_household），现为 {_show(key)}")
    name = c.text(data, "name", "")
    description = c.text(data, "description", "", required=False)
    target = c.choice(data, "target", "", TARGETS)
    period = c.choice(data, "period", "", PERIODS)
    measure = c.choice(data, "measure", "", MEASURES)
    unrated = c.text(data, "unrated", "")

    # levels first: caps and check indicators refer to them
    levels: list[Level] = []
    level_items = c.items(data, "levels", "")
    if not level_items and "levels" in data:
        c.bad("levels", "至少要有一个等级")
    previous_min: Decimal | None = None
    for index, item in enumerate(level_items, start=1):
        place = f"levels 第{index}项"
        level_name = c.text(item, "name", place)
        minimum = None
        if measure == "checks":
            if "min" in item:
                c.bad(_join(place, "min"), "按达标项评定的方案不设分数线，请删除此项")
        else:
            minimum = c.number(item, "min", place, required=True, minimum=Decimal(0))
            if minimum is not None and previous_min is not None and minimum >= previous_min:
                c.bad(_join(place, "min"), f"等级应从高到低排列，分数线应逐级降低（上一级为 {previous_min}，此处为 {minimum}）")
            previous_min = minimum if minimum is not None else previous_min
        if level_name and any(lv.name == level_name for lv in levels):
            c.bad(_join(place, "name"), f"等级“{level_name}”重复")
        levels.append(Level(level_name, minimum, len(level_items) - index + 1))
    level_names = tuple(lv.name for lv in levels)
    if unrated and unrated in level_names:
        c.bad("unrated", f"“{unrated}”与某个等级同名，未达到任何等级时的名称应与等级不同")

    codes: set[str] = set()

    def code_of(item: dict, place: str) -> str:
        code = c.text(item, "code", place)
        if code and code in codes:
            c.bad(_join(place, "code"), f"编码“{code}”重复（指标和否定项的编码都不能重复）")
        codes.add(code)
        return code

    categories: list[tuple[str, tuple[Indicator, ...]]] = []
    for ci, category in enumerate(c.items(data, "categories", ""), start=1):
        place = f"categories 第{ci}项"
        category_name = c.text(category, "name", place)
        indicators = []
        for ii, item in enumerate(c.items(category, "indicators", place), start=1):
            iplace = f"{place}（{category_name}） → indicators 第{ii}项"
            code = code_of(item, iplace)
            ind_name = c.text(item, "name", iplace)
            note = c.text(item, "note", iplace, required=False)
            maximum, stars, level = None, 1, None
            if measure == "score":
                maximum = c.number(item, "max", iplace, required=True, positive=True)
            elif measure == "stars":
                stars = c.integer(item, "stars", iplace, default=1, minimum=1)
            else:
                level = c.text(item, "level", iplace)
                if level and level not in level_names:
                    c.bad(_join(iplace, "level"), f"等级“{level}”不在 levels 中（{'、'.join(level_names)}）")
            indicators.append(Indicator(code, ind_name, category_name, maximum, stars, level, note))
        categories.append((category_name, tuple(indicators)))

    negatives = []
    for ni, item in enumerate(c.items(data, "negatives", "", required=False), start=1):
        place = f"negatives 第{ni}项"
        code = code_of(item, place)
        neg_name = c.text(item, "name", place)
        effect = c.choice(item, "effect", place, EFFECTS)
        cap = None
        if effect == "cap":
            cap = c.text(item, "cap", place)
            if cap and cap not in level_names:
                c.bad(_join(place, "cap"), f"限定的等级“{cap}”不在 levels 中（{'、'.join(level_names)}）")
        negatives.append(NegativeItem(code, neg_name, effect, cap))

    inputs = []
    for ii, item in enumerate(c.items(data, "inputs", "", required=False), start=1):
        place = f"inputs 第{ii}项"
        input_key = c.text(item, "key", place)
        if input_key and not _KEY.match(input_key):
            c.bad(_join(place, "key"), f"应为小写英文、数字或下划线，现为 {_show(input_key)}")
        if any(i.key == input_key for i in inputs):
            c.bad(_join(place, "key"), f"输入项“{input_key}”重复")
        kind = c.choice(item, "kind", place, INPUT_KINDS)
        choices = c.strings(item, "choices", place) if kind == "choice" else ()
        if kind == "choice" and not choices:
            c.bad(_join(place, "choices"), "选择类输入项至少要有一个选项")
        low = c.number(item, "min", place, required=False)
        high = c.number(item, "max", place, required=False)
        if kind == "percent":
            low = Decimal(0) if low is None else low
            high = Decimal(100) if high is None else high
        inputs.append(InputSpec(input_key, c.text(item, "name", place), kind, choices, low, high))

    rules = []
    for ri, item in enumerate(c.items(data, "input_rules", "", required=False), start=1):
        place = f"input_rules 第{ri}项"
        ref = c.text(item, "input", place)
        spec = next((i for i in inputs if i.key == ref), None)
        if ref and spec is None:
            c.bad(_join(place, "input"), f"输入项“{ref}”不在 inputs 中")
        conditions = [k for k in ("in", "below", "above") if k in item]
        if len(conditions) != 1:
            c.bad(place, "应有且只有一个条件：in（取值之一）、below（低于）或 above（高于）")
            condition = "in"
        else:
            condition = conditions[0]
        values: tuple[str, ...] = ()
        threshold = None
        if condition == "in":
            values = c.strings(item, "in", place)
            if spec is not None and spec.kind == "choice":
                for v in values:
                    if v not in spec.choices:
                        c.bad(_join(place, "in"), f"“{v}”不是输入项“{spec.name}”的选项")
        else:
            threshold = c.number(item, condition, place, required=True)
        effect = c.choice(item, "effect", place, RULE_EFFECTS)
        cap = None
        steps = 0
        if effect == "cap":
            cap = c.text(item, "cap", place)
            if cap and cap not in level_names:
                c.bad(_join(place, "cap"), f"限定的等级“{cap}”不在 levels 中")
        if effect == "raise":
            steps = c.integer(item, "steps", place, default=1, minimum=1)
        reason = c.text(item, "reason", place, required=False) or f"{spec.name if spec else ref}触发规则"
        rules.append(InputRule(ref, condition, values, threshold, effect, cap, steps, reason))

    stages = []
    for si, item in enumerate(c.items(data, "stages", ""), start=1):
        place = f"stages 第{si}项"
        stage_key = c.text(item, "key", place)
        if any(s.key == stage_key for s in stages):
            c.bad(_join(place, "key"), f"环节“{stage_key}”重复")
        kind = c.choice(item, "kind", place, STAGE_KINDS, default="score")
        days = c.integer(item, "days", place, default=7 if kind == "publicity" else 0, minimum=0)
        if kind == "publicity" and days < 1:
            c.bad(_join(place, "days"), "公示天数至少为1天")
        bodies = item.get("bodies", False)
        if not isinstance(bodies, bool):
            c.bad(_join(place, "bodies"), "应为 true 或 false")
            bodies = False
        stages.append(Stage(stage_key, c.text(item, "name", place), c.text(item, "actor", place),
                            c.choice(item, "level", place, STAGE_LEVELS, default="township"), kind, days, bodies))
    if stages and stages[0].is_publicity:
        c.bad("stages 第1项", "第一个环节不能是公示：公示前应先有评分环节")
    if "stages" in data and not any(not s.is_publicity for s in stages):
        c.bad("stages", "至少要有一个评分环节")

    flags = []
    for fi, item in enumerate(c.items(data, "flags", "", required=False), start=1):
        place = f"flags 第{fi}项"
        below = c.number(item, "below", place, required=False)
        vetoed = item.get("vetoed", False)
        if not isinstance(vetoed, bool):
            c.bad(_join(place, "vetoed"), "应为 true 或 false")
            vetoed = False
        if below is None and not vetoed:
            c.bad(place, "应至少有 below（低于某分数）或 vetoed（被一票否决）之一")
        flags.append(Flag(c.text(item, "name", place), below, vetoed))

    rollup = None
    if data.get("rollup") is not None:
        item = data["rollup"]
        if not isinstance(item, dict):
            c.bad("rollup", f"应为对象 {{...}}，现为 {_show(item)}")
        else:
            source_key = c.text(item, "from", "rollup")
            if source_key and source_key == key:
                c.bad("rollup → from", "不能由本方案自身汇总")
            rollup = Rollup(source_key, c.choice(item, "method", "rollup", ROLLUP_METHODS, default="mean"),
                            c.text(item, "label", "rollup", required=False) or "汇总得分")
            if measure != "score":
                c.bad("rollup", "只有按得分评定（measure 为 score）的方案可以由其他方案汇总")
    if not any(items for _n, items in categories) and rollup is None and "categories" in data:
        c.bad("categories", "至少要有一个指标（或用 rollup 由其他方案汇总）")

    revocation = data.get("revocation") or {}
    ban_years = 0
    if not isinstance(revocation, dict):
        c.bad("revocation", f"应为对象 {{\"ban_years\": 2}}，现为 {_show(revocation)}")
    else:
        ban_years = c.integer(revocation, "ban_years", "revocation", default=0)
    joint_bodies = c.strings(data, "joint_bodies", "")

    assess_order, order_stage, applied_input = "listed", None, None
    if data.get("assess") is not None:
        item = data["assess"]
        if measure != "checks" or not isinstance(item, dict):
            c.bad("assess", "只有按达标项评定（measure 为 checks）的方案可以设置考核顺序，且应为对象")
        else:
            assess_order = c.choice(item, "order", "assess", ("weakest_first", "listed"), default="listed")
            order_stage = item.get("order_stage")
            if order_stage is not None and order_stage not in [s.key for s in stages]:
                c.bad("assess → order_stage", f"环节“{order_stage}”不在 stages 中")
            applied_input = item.get("applied_input")
            spec = next((i for i in inputs if i.key == applied_input), None) if applied_input else None
            if applied_input is not None and (spec is None or spec.kind != "choice"
                                              or not set(spec.choices) <= set(level_names)):
                c.bad("assess → applied_input", "应为 inputs 中的选择类输入项，且选项都是等级名称")

    if c.problems:
        raise SchemeError(source, c.problems)
    return Scheme(key=key, name=name, description=description, target=target, period=period, measure=measure,
                  categories=tuple(categories), negatives=tuple(negatives), inputs=tuple(inputs),
                  input_rules=tuple(rules), levels=tuple(levels), unrated=unrated, stages=tuple(stages),
                  flags=tuple(flags), rollup=rollup, ban_years=ban_years, joint_bodies=joint_bodies,
                  assess_order=assess_order, order_stage=order_stage, applied_input=applied_input,
                  definition=canonical_json(data))


def shipped_folder() -> Path:
    return config.resource("schemes")


def shipped_schemes() -> list[Scheme]:
    """Every valid scheme file of resources/schemes/ (the demo uses them; broken files raise)."""
    return [load_file(path) for path in scheme_files(shipped_folder())]
