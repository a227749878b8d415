"""Evaluation schemes as data: read a JSON file, validate it, and give the engine a typed scheme.

A scheme file under ``resources/schemes/`` says everything a round needs —
target, period, indicators by category, the negative list, inputs and their
rules, level thresholds, roll-up and workflow stages — so a new scheme is a
new file, never new code. A broken file is refused with a Chinese message
naming the file, the place in it and the problem, all problems at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from townapp import config
from townapp.core.errors import DomainError
from townapp.core.resources import (
    Place,
    Problems,
    Resource,
    ResourceError,
    Text,
    canonical_json,
    load,
    parse_json,
    read_json,
    show,
    source_name,
    validate,
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
COMPUTED_TARGETS = ("village_org", "party_secretary")  # one target per village: the village's figures are its own


class CellAnswers(Resource):
    """What a yes/no cell of the score sheet or stage workbook may hold (evaluations/validation.py reads it)."""

    yes: list[Text]
    no: list[Text]


class VocabularyFile(Resource):
    """resources/evaluations/vocabulary.json: the names the screens and lists show."""

    resource_label: ClassVar[str] = "评定用语"
    targets: dict[str, str]
    periods: dict[str, str]
    measures: dict[str, str]
    stage_levels: dict[str, str]
    secretary_posts: list[str]
    star_values: dict[str, str]
    check_values: dict[str, str]
    yes_no: dict[str, str]
    objection_outcomes: list[str]
    history_changes: dict[str, str]
    cell_answers: CellAnswers


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    """Labels of targets, periods, stage levels … (resources/evaluations/vocabulary.json)."""
    return load(VocabularyFile, "evaluations", "vocabulary.json").model_dump()


def target_label(kind: str) -> str:
    return vocabulary()["targets"].get(kind, kind)


def period_label(kind: str) -> str:
    return vocabulary()["periods"].get(kind, kind)


class SchemeError(ResourceError):
    """A scheme file (or edited definition) that cannot be used; ``problems`` are (place, problem)."""

    def __init__(self, source: str, problems: list[tuple[str, str]], label: str = "评定方案") -> None:
        super().__init__(source, problems, label)


@dataclass(frozen=True)
class Condition:
    """One comparison of a figure (townapp/figures.py) for the target's village: ≥, ≤ or = a number or a figure."""

    figure: str
    op: str  # min | max | equals
    value: Decimal | str | None  # the number (元 for money figures; per cent with share_of) or text compared with
    than: str | None = None  # another figure compared with instead of a number (op is then min)
    share_of: str | None = None  # compare figure ÷ this figure, as a percentage
    present: str | None = None  # the data counts only when this figure is not 0 or empty (e.g. the year is on file)
    unit: str = ""


@dataclass(frozen=True)
class Computed:
    """Where an indicator's value comes from when the data exists: every condition holds → met."""

    source: str  # what the person reads as the source, e.g. 一村一档
    conditions: tuple[Condition, ...]

    @property
    def figures(self) -> tuple[str, ...]:
        keys = [k for c in self.conditions for k in (c.figure, c.than, c.share_of, c.present) if k]
        return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    category: str
    max: Decimal | None = None  # score schemes: the most points it can give
    stars: int = 1  # star schemes: stars it earns
    level: str | None = None  # check schemes: the level this check belongs to
    note: str = ""
    computed: Computed | None = None  # filled from other modules' data where it exists


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
    level: str  # village | township | county: who may enter it
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


# ----- the file, declared --------------------------------------------------------------------------
def _key(value: str) -> str:
    if not _KEY.match(value):
        raise ValueError(f"应为小写英文字母开头的英文、数字或下划线（如 civilized_household），现为 {show(value)}")
    return value


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("列表中有重复项")
    return values


Key = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_key)]
Texts = Annotated[list[Text], AfterValidator(_distinct)]
Number = Annotated[Decimal, Field(decimal_places=1, allow_inf_nan=False)]
Count = Annotated[StrictInt, Field(ge=0)]


class LevelFile(Resource):
    name: Text
    min: Annotated[Number, Field(ge=0)] | None = None


class ConditionFile(Resource):
    """One comparison: exactly one of min (≥), max (≤), equals (=) or min_figure (≥ another figure)."""

    figure: Text
    min: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    max: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    equals: Annotated[Decimal, Field(allow_inf_nan=False)] | Text | None = None
    min_figure: Text | None = None
    share_of: Text | None = None
    present: Text | None = None
    unit: str = ""

    @model_validator(mode="after")
    def _one_comparison(self) -> ConditionFile:
        if [self.min, self.max, self.equals, self.min_figure].count(None) != 3:
            raise ValueError("应有且只有一个比较：min（不低于）、max（不高于）、equals（等于）或 min_figure（不低于另一个数）")
        return self


class ComputedFile(Resource):
    source: Text
    all: Annotated[list[ConditionFile], Field(min_length=1)]


class IndicatorFile(Resource):
    code: Text
    name: Text
    note: str = ""
    max: Annotated[Number, Field(gt=0)] | None = None
    stars: Annotated[StrictInt, Field(ge=1)] = 1
    level: Text | None = None
    computed: ComputedFile | None = None


class CategoryFile(Resource):
    name: Text
    indicators: list[IndicatorFile]


class NegativeFile(Resource):
    code: Text
    name: Text
    effect: Literal["veto", "cap"]
    cap: Text | None = None


class InputFile(Resource):
    key: Key
    name: Text
    kind: Literal["choice", "int", "percent", "number"]
    choices: Texts = []
    min: Number | None = None
    max: Number | None = None


class InputRuleFile(Resource):
    model_config = ConfigDict(populate_by_name=True)
    input: Text
    in_: Texts | None = Field(None, alias="in")
    below: Number | None = None
    above: Number | None = None
    effect: Literal["veto", "cap", "raise"]
    cap: Text | None = None
    steps: Annotated[StrictInt, Field(ge=1)] = 1
    reason: str = ""


class StageFile(Resource):
    key: Text
    name: Text
    actor: Text
    # village | township | county (the county's own stage: 县级联审, 县级验收 …, which the county may record on a
    # reported round and send back in a return package)
    level: Literal["village", "township", "county"] = "township"
    kind: Literal["score", "publicity"] = "score"
    days: Count | None = None
    bodies: StrictBool = False


class FlagFile(Resource):
    name: Text
    below: Number | None = None
    vetoed: StrictBool = False


class RollupFile(Resource):
    source: Text = Field(alias="from")
    method: Literal["mean", "sum", "min", "max"] = "mean"
    label: str = ""


class RevocationFile(Resource):
    ban_years: Count = 0


class AssessFile(Resource):
    order: Literal["weakest_first", "listed"] = "listed"
    order_stage: str | None = None
    applied_input: str | None = None


class SchemeFile(Resource):
    """resources/schemes/*.json, and any scheme file a township adds."""

    resource_label: ClassVar[str] = "评定方案"
    error: ClassVar[type[ResourceError]] = SchemeError

    key: Key
    name: Text
    description: str = ""
    target: Literal["household", "party_secretary", "village_org", "party_member", "grid_member"]
    period: Literal["month", "quarter", "half_year", "year"]
    measure: Literal["stars", "score", "checks"]
    categories: list[CategoryFile]
    negatives: list[NegativeFile] = []
    inputs: list[InputFile] = []
    input_rules: list[InputRuleFile] = []
    levels: Annotated[list[LevelFile], Field(min_length=1)]
    unrated: Text
    stages: list[StageFile]
    flags: list[FlagFile] = []
    rollup: RollupFile | None = None
    revocation: RevocationFile | None = None
    joint_bodies: Texts = []
    assess: AssessFile | None = None

    @model_validator(mode="after")
    def _agrees_with_itself(self) -> SchemeFile:
        """What one part says about another: levels named by caps, codes unique, stages in order …"""
        p = Problems()
        level_names = self._check_levels(p)
        self._check_indicators(p, level_names)
        inputs = self._check_inputs(p)
        self._check_rules(p, inputs, level_names)
        self._check_stages(p)
        self._check_rest(p, inputs, level_names)
        p.raise_if_any()
        return self

    def _check_levels(self, p: Problems) -> list[str]:
        previous: Decimal | None = None
        names: list[str] = []
        for index, level in enumerate(self.levels):
            if self.measure == "checks":
                if level.min is not None:
                    p.add(("levels", index, "min"), "按达标项评定的方案不设分数线，请删除此项")
            elif level.min is None:
                p.add(("levels", index, "min"), "缺少必填项（应为数字）")
            else:
                if previous is not None and level.min >= previous:
                    p.add(("levels", index, "min"),
                          f"等级应从高到低排列，分数线应逐级降低（上一级为 {previous}，此处为 {level.min}）")
                previous = level.min
            if level.name in names:
                p.add(("levels", index, "name"), f"等级“{level.name}”重复")
            names.append(level.name)
        if self.unrated in names:
            p.add(("unrated",), f"“{self.unrated}”与某个等级同名，未达到任何等级时的名称应与等级不同")
        return names

    def _check_indicators(self, p: Problems, level_names: list[str]) -> None:
        codes: set[str] = set()

        def unique(code: str, place: Place) -> None:
            if code in codes:
                p.add(place, f"编码“{code}”重复（指标和否定项的编码都不能重复）")
            codes.add(code)

        shown = "、".join(level_names)
        for ci, category in enumerate(self.categories):
            for ii, item in enumerate(category.indicators):
                place: Place = ("categories", ci, "indicators", ii)
                unique(item.code, (*place, "code"))
                if self.measure == "score" and item.max is None:
                    p.add((*place, "max"), "缺少必填项（应为数字）")
                if self.measure == "checks" and item.level is None:
                    p.add((*place, "level"), "缺少必填项")
                elif self.measure == "checks" and item.level not in level_names:
                    p.add((*place, "level"), f"等级“{item.level}”不在 levels 中（{shown}）")
                if item.computed is not None and self.target not in COMPUTED_TARGETS:
                    p.add((*place, "computed"), "只有以村为对象的方案（村党组织、村党组织书记）可以由数据计算指标")
        for ni, negative in enumerate(self.negatives):
            unique(negative.code, ("negatives", ni, "code"))
            if negative.effect == "cap" and negative.cap is None:
                p.add(("negatives", ni, "cap"), "缺少必填项")
            elif negative.effect == "cap" and negative.cap not in level_names:
                p.add(("negatives", ni, "cap"), f"限定的等级“{negative.cap}”不在 levels 中（{shown}）")
        if not any(c.indicators for c in self.categories) and self.rollup is None:
            p.add(("categories",), "至少要有一个指标（或用 rollup 由其他方案汇总）")

    def _check_inputs(self, p: Problems) -> dict[str, InputFile]:
        inputs: dict[str, InputFile] = {}
        for index, item in enumerate(self.inputs):
            if item.key in inputs:
                p.add(("inputs", index, "key"), f"输入项“{item.key}”重复")
            if item.kind == "choice" and not item.choices:
                p.add(("inputs", index, "choices"), "选择类输入项至少要有一个选项")
            inputs.setdefault(item.key, item)
        return inputs

    def _check_rules(self, p: Problems, inputs: dict[str, InputFile], level_names: list[str]) -> None:
        for index, rule in enumerate(self.input_rules):
            place: Place = ("input_rules", index)
            spec = inputs.get(rule.input)
            if spec is None:
                p.add((*place, "input"), f"输入项“{rule.input}”不在 inputs 中")
            if [rule.in_, rule.below, rule.above].count(None) != 2:
                p.add(place, "应有且只有一个条件：in（取值之一）、below（低于）或 above（高于）")
            if spec is not None and spec.kind == "choice":
                for value in rule.in_ or ():
                    if value not in spec.choices:
                        p.add((*place, "in"), f"“{value}”不是输入项“{spec.name}”的选项")
            if rule.effect == "cap" and rule.cap not in level_names:
                p.add((*place, "cap"), f"限定的等级“{rule.cap}”不在 levels 中" if rule.cap else "缺少必填项")

    def _check_stages(self, p: Problems) -> None:
        keys: set[str] = set()
        for index, stage in enumerate(self.stages):
            if stage.key in keys:
                p.add(("stages", index, "key"), f"环节“{stage.key}”重复")
            keys.add(stage.key)
            if stage.kind == "publicity" and stage.days is not None and stage.days < 1:
                p.add(("stages", index, "days"), "公示天数至少为1天")
        if self.stages and self.stages[0].kind == "publicity":
            p.add(("stages", 0), "第一个环节不能是公示：公示前应先有评分环节")
        if not any(s.kind == "score" for s in self.stages):
            p.add(("stages",), "至少要有一个评分环节")

    def _check_rest(self, p: Problems, inputs: dict[str, InputFile], level_names: list[str]) -> None:
        for index, flag in enumerate(self.flags):
            if flag.below is None and not flag.vetoed:
                p.add(("flags", index), "应至少有 below（低于某分数）或 vetoed（被一票否决）之一")
        if self.rollup is not None:
            if self.rollup.source == self.key:
                p.add(("rollup", "from"), "不能由本方案自身汇总")
            if self.measure != "score":
                p.add(("rollup",), "只有按得分评定（measure 为 score）的方案可以由其他方案汇总")
        if self.assess is None:
            return
        if self.measure != "checks":
            p.add(("assess",), "只有按达标项评定（measure 为 checks）的方案可以设置考核顺序")
        if self.assess.order_stage is not None and self.assess.order_stage not in {s.key for s in self.stages}:
            p.add(("assess", "order_stage"), f"环节“{self.assess.order_stage}”不在 stages 中")
        applied = self.assess.applied_input
        spec = inputs.get(applied) if applied else None
        if applied is not None and (spec is None or spec.kind != "choice" or not set(spec.choices) <= set(level_names)):
            p.add(("assess", "applied_input"), "应为 inputs 中的选择类输入项，且选项都是等级名称")


# ----- reading ---------------------------------------------------------------
def parse_text(text: str, source: str) -> Scheme:
    """A scheme from JSON text; raises SchemeError naming ``source``, the place and the problem."""
    return build_scheme(parse_json(text, source, SchemeFile), source)


def load_file(path: Path) -> Scheme:
    return build_scheme(read_json(path, SchemeFile), source_name(path))


def scheme_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.is_file() and not p.name.startswith((".", "_")))


def build_scheme(data: Any, source: str) -> Scheme:
    """Validate a parsed definition and build the typed scheme the engine uses; every problem at once."""
    f = validate(SchemeFile, data, source)
    levels = tuple(Level(lv.name, lv.min, len(f.levels) - i) for i, lv in enumerate(f.levels))
    categories = tuple(
        (c.name, tuple(Indicator(i.code, i.name, c.name, i.max if f.measure == "score" else None,
                                 i.stars if f.measure == "stars" else 1, i.level if f.measure == "checks" else None,
                                 i.note.strip(), _computed(i.computed)) for i in c.indicators))
        for c in f.categories)
    inputs = tuple(InputSpec(i.key, i.name, i.kind, tuple(i.choices) if i.kind == "choice" else (),
                             Decimal(0) if i.min is None and i.kind == "percent" else i.min,
                             Decimal(100) if i.max is None and i.kind == "percent" else i.max) for i in f.inputs)
    names = {i.key: i.name for i in f.inputs}
    rules = tuple(InputRule(r.input, _condition(r), tuple(r.in_ or ()), r.below if r.below is not None else r.above,
                            r.effect, r.cap if r.effect == "cap" else None, r.steps if r.effect == "raise" else 0,
                            r.reason.strip() or f"{names.get(r.input, r.input)}触发规则") for r in f.input_rules)
    stages = tuple(Stage(s.key, s.name, s.actor, s.level, s.kind,
                         s.days if s.days is not None else (7 if s.kind == "publicity" else 0), s.bodies)
                   for s in f.stages)
    rollup = Rollup(f.rollup.source, f.rollup.method, f.rollup.label.strip() or "汇总得分") if f.rollup else None
    assess = f.assess or AssessFile()
    return Scheme(key=f.key, name=f.name, description=f.description.strip(), target=f.target, period=f.period,
                  measure=f.measure, categories=categories,
                  negatives=tuple(NegativeItem(n.code, n.name, n.effect, n.cap if n.effect == "cap" else None)
                                  for n in f.negatives),
                  inputs=inputs, input_rules=rules, levels=levels, unrated=f.unrated, stages=stages,
                  flags=tuple(Flag(x.name, x.below, x.vetoed) for x in f.flags), rollup=rollup,
                  ban_years=f.revocation.ban_years if f.revocation else 0, joint_bodies=tuple(f.joint_bodies),
                  assess_order=assess.order, order_stage=assess.order_stage, applied_input=assess.applied_input,
                  definition=canonical_json(data))


def _computed(f: ComputedFile | None) -> Computed | None:
    if f is None:
        return None
    conditions = []
    for c in f.all:
        op, value = next(((op, v) for op, v in (("min", c.min), ("max", c.max), ("equals", c.equals))
                          if v is not None), ("min", None))  # min_figure: ≥ another figure
        conditions.append(Condition(c.figure, op, value, c.min_figure, c.share_of, c.present, c.unit.strip()))
    return Computed(f.source, tuple(conditions))


def level_standards(scheme: Scheme) -> dict[str, list[str]]:
    """A check scheme's standards per level, as the archive prints them (规范村基本标准：…)."""
    out: dict[str, list[str]] = {}
    for level in reversed(scheme.levels):  # the lowest first
        below = scheme.level_of_rank(level.rank - 1) if level.rank > 1 else None
        own = [i.name for i in scheme.indicators if i.level == level.name]
        out[level.name] = ([f"达到{below}村全部标准"] if below else []) + own
    return out


def _condition(rule: InputRuleFile) -> str:
    return "in" if rule.in_ is not None else ("below" if rule.below is not None else "above")


def shipped_folder() -> Path:
    return config.resource("schemes")


def shipped_schemes() -> list[Scheme]:
    """Every valid scheme file of resources/schemes/ (the demo uses them; broken files raise)."""
    return [load_file(path) for path in scheme_files(shipped_folder())]
