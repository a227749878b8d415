"""Point rule sets as data, and the caps engine as pure functions.

A rule set (resources/points/default_rules.json, then versions stored in the
database) names categories in a tree, rules with fixed or ranged points and
per-period caps, category caps, deduct-only base buckets (扣完为止), grade
thresholds and what earns redeemable balance. Every problem in a rule file is
reported in Chinese with where it is, so a township can edit the file itself.

Points are integer tenths everywhere (12.5 分 is 125): never float.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from functools import cached_property, lru_cache
from operator import attrgetter
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import BeforeValidator, Field, StrictInt, model_validator

from townapp import config
from townapp.core.points import FilePoints, format_points, tenths_in_file
from townapp.core.points import PointsError as PointsError  # the points modules import them from here
from townapp.core.points import parse_points as parse_points
from townapp.core.resources import (
    Place,
    Problems,
    Resource,
    ResourceError,
    Text,
    canonical_json,
    load,
    parse_json,
    read_text,
    strip_notes,
    validate,
)

PERIODS = (("month", "月"), ("quarter", "季度"), ("year", "年"))


class RuleSetError(ResourceError):
    """A rule set file or text has problems; ``problems`` are (place, problem) pairs in Chinese."""

    def __init__(self, source: str, problems: list[tuple[str, str]], label: str = "积分规则") -> None:
        super().__init__(source, problems, label)


# ----- the rule set --------------------------------------------------------------------------
@dataclass(frozen=True)
class Category:
    code: str
    name: str
    kind: str  # base | add | deduct
    parent: str | None = None
    cap: int | None = None  # tenths per year for the category and its children
    base: int = 0  # tenths a base bucket starts the year with
    note: str = ""


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    category: str
    direction: str  # 加分 | 扣分
    min_points: int  # tenths, positive
    max_points: int  # tenths, positive; per-occurrence cap
    caps: tuple[tuple[str, int], ...] = ()  # (month|quarter|year, tenths)
    evidence: bool = False
    review: str = "村"
    applies_to: tuple[str, ...] = ("有职", "无职", "流动")
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    meeting_kinds: tuple[str, ...] = ()
    meeting_attendance: str | None = None  # 出席 | 缺席

    @property
    def sign(self) -> int:
        return 1 if self.direction == "加分" else -1

    @property
    def fixed(self) -> bool:
        return self.min_points == self.max_points

    @property
    def points_text(self) -> str:
        if self.fixed:
            return format_points(self.max_points)
        return f"{format_points(self.min_points)}–{format_points(self.max_points)}"

    @property
    def caps_text(self) -> str:
        names = dict(PERIODS)
        return "，".join(f"每{names[p]}最多{format_points(v)}分" for p, v in self.caps)

    def cap(self, period: str) -> int | None:
        return dict(self.caps).get(period)

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Grade:
    name: str
    min: int | None  # tenths; None: everything below the others


@dataclass(frozen=True)
class RuleSet:
    name: str
    categories: tuple[Category, ...]
    rules: tuple[Rule, ...]
    grades: tuple[Grade, ...]
    balance_categories: tuple[str, ...] = ()
    balance_ratio: Decimal = Decimal(1)
    publicity_days: int = 5
    canonical: str = field(default="", compare=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical.encode("utf-8")).hexdigest()

    def rule(self, code: str) -> Rule | None:
        return self._rules().get(code)

    def category(self, code: str) -> Category | None:
        return self._categories().get(code)

    def _rules(self) -> dict[str, Rule]:
        return self._lookup["rules"]

    def _categories(self) -> dict[str, Category]:
        return self._lookup["categories"]

    @cached_property
    def _lookup(self) -> dict[str, dict]:
        """Indexes built once per rule set (the engine asks for them for every record)."""
        categories = _index(self.categories)
        chains: dict[str, list[Category]] = {}
        for code in categories:
            out: list[Category] = []
            current = categories.get(code)
            while current is not None and current not in out:
                out.append(current)
                current = categories.get(current.parent) if current.parent else None
            chains[code] = out
        earning = {code: any(c.code in self.balance_categories for c in chain) for code, chain in chains.items()}
        # for the caps engine, per category: the capped categories of its chain, and its top category
        capped = {code: tuple((c.code, c.cap) for c in chain if c.cap is not None) for code, chain in chains.items()}
        roots = {code: (chain[-1].code, chain[-1].kind == "base") for code, chain in chains.items() if chain}
        return {"rules": _index(self.rules), "categories": categories, "chains": chains, "earning": earning,
                "capped": capped, "roots": roots}

    def chain(self, code: str) -> list[Category]:
        """The category and its ancestors, nearest first."""
        return self._lookup["chains"].get(code, [])

    def top(self, code: str) -> Category | None:
        chain = self.chain(code)
        return chain[-1] if chain else None

    @cached_property  # asked for once per member when a county's year is totalled
    def top_categories(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c.parent is None)

    @cached_property
    def top_category_names(self) -> dict[str, str]:
        return {c.code: c.name for c in self.top_categories}

    @cached_property
    def base_total(self) -> int:
        return sum(c.base for c in self.categories if c.kind == "base")

    def grade_of(self, total: int) -> str:
        for grade in self.grades:
            if grade.min is None or total >= grade.min:
                return grade.name
        return self.grades[-1].name

    def earns_balance(self, category_code: str) -> bool:
        return self._lookup["earning"].get(category_code, False)

    def meeting_rule(self, kind: str, attendance: str, member_category: str) -> Rule | None:
        """The rule that turns an attendance status at a meeting of ``kind`` into points, if any."""
        for rule in self.rules:
            if (rule.meeting_attendance == attendance and kind in rule.meeting_kinds
                    and member_category in rule.applies_to):
                return rule
        return None


def _index(items: Sequence[Any]) -> dict[str, Any]:
    return {item.code: item for item in items}


# ----- the file, declared ------------------------------------------------------------------------
Points = FilePoints
MEMBER_KINDS = ("有职", "无职", "流动")


class CategoryEntry(Resource):
    code: Text
    name: Text
    kind: Literal["base", "add", "deduct"]
    parent: Text | None = None
    cap: Points | None = None  # per year, for the category and its children
    base: Points | None = None
    note: str = ""


class PointsRange(Resource):
    min: Points
    max: Points


def _as_range(value: Any) -> Any:
    """``"points": "2"`` is a fixed value, ``{"min": "1", "max": "3"}`` a range."""
    if isinstance(value, dict):
        return value
    tenths = tenths_in_file(value)
    return PointsRange.model_construct(min=tenths, max=tenths)


class Caps(Resource):
    month: Points | None = None
    quarter: Points | None = None
    year: Points | None = None


class Meeting(Resource):
    kinds: Annotated[list[Text], Field(min_length=1)]
    attendance: Literal["出席", "缺席"]


class RuleEntry(Resource):
    code: Text
    name: Text
    category: Text
    direction: Literal["加分", "扣分"]
    points: Annotated[PointsRange, BeforeValidator(_as_range)]
    caps: Caps = Caps()
    evidence: bool = False
    review: Literal["村", "乡镇"] = "村"
    applies_to: Annotated[list[Literal["有职", "无职", "流动"]], Field(min_length=1)] = list(MEMBER_KINDS)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    meeting: Meeting | None = None


class GradeEntry(Resource):
    name: Text
    min: Points | None = None


class Balance(Resource):
    categories: list[Text] = []
    ratio: Annotated[Decimal, Field(gt=0, decimal_places=1, allow_inf_nan=False)] = Decimal(1)


class RuleSetFile(Resource):
    """resources/points/default_rules.json, a rule set edited in the program, or one stored in the database."""

    resource_label: ClassVar[str] = "积分规则"
    error: ClassVar[type[ResourceError]] = RuleSetError

    name: Text
    categories: Annotated[list[CategoryEntry], Field(min_length=1)]
    rules: Annotated[list[RuleEntry], Field(min_length=1)]
    grades: Annotated[list[GradeEntry], Field(min_length=2)]
    balance: Balance = Balance()
    publicity_days: Annotated[StrictInt, Field(ge=1, le=30)] = 5

    @model_validator(mode="after")
    def _agrees_with_itself(self) -> RuleSetFile:
        p = Problems()
        known = self._check_categories(p)
        self._check_rules(p, known)
        self._check_grades(p)
        for code in self.balance.categories:
            if code not in known:
                p.add(("balance", "categories"), f"类别编码 {code} 不存在")
            elif known[code].kind != "add":
                p.add(("balance", "categories"), f"类别 {code} 不是加分类，不能转入可兑换积分")
        p.raise_if_any()
        return self

    def _check_categories(self, p: Problems) -> dict[str, CategoryEntry]:
        known: dict[str, CategoryEntry] = {}
        for index, category in enumerate(self.categories):
            place: Place = ("categories", index)
            if category.code in known:
                p.add((*place, "code"), f"编码“{category.code}”重复")
            known.setdefault(category.code, category)
            if category.kind == "base" and category.base is None:
                p.add((*place, "base"), "基础分类别（kind 为 base）缺少基础分")
            if category.kind == "base" and category.parent:
                p.add((*place, "parent"), "基础分类别不能有上级类别")
            if category.kind != "base" and category.base is not None:
                p.add((*place, "base"), "只有基础分类别（kind 为 base）才能设置基础分")
        for index, category in enumerate(self.categories):
            parent = known.get(category.parent) if category.parent else None
            if category.parent and parent is None:
                p.add(("categories", index, "parent"), f"上级类别 {category.parent} 不存在")
            elif parent is not None and parent.kind != category.kind:
                p.add(("categories", index, "parent"), f"与上级类别 {parent.code} 的种类不同")
            seen = {category.code}
            while parent is not None and parent.parent:
                if parent.code in seen:
                    p.add(("categories", index, "parent"), "上级类别形成了循环")
                    break
                seen.add(parent.code)
                parent = known.get(parent.parent)
        return known

    def _check_rules(self, p: Problems, known: dict[str, CategoryEntry]) -> None:
        codes: set[str] = set()
        names = dict(PERIODS)
        for index, rule in enumerate(self.rules):
            place: Place = ("rules", index)
            if rule.code in codes:
                p.add((*place, "code"), f"编码“{rule.code}”重复")
            codes.add(rule.code)
            category = known.get(rule.category)
            if category is None:
                p.add((*place, "category"), f"所属类别“{rule.category}”不存在")
            elif category.kind == "add" and rule.direction != "加分":
                p.add((*place, "direction"), f"类别“{category.name}”是加分类，只能放加分规则")
            elif category.kind in ("deduct", "base") and rule.direction != "扣分":
                which = "只扣不加" if category.kind == "base" else "是扣分类"
                p.add((*place, "direction"), f"类别“{category.name}”{which}，只能放扣分规则")
            low, high = rule.points.min, rule.points.max
            if low > high:
                p.add((*place, "points"), "最低分不能大于最高分")
            if high == 0:
                p.add((*place, "points"), "分值不能为0")
            for period, cap in rule.caps:
                if cap is not None and cap < low:
                    p.add((*place, "caps", period), f"每{names[period]}封顶 {format_points(cap)} 小于一次的最低分")
            if rule.valid_from and rule.valid_to and rule.valid_from > rule.valid_to:
                p.add((*place, "valid_to"), "生效日期晚于失效日期")
            if rule.meeting and (rule.meeting.attendance == "出席") != (rule.direction == "加分"):
                p.add((*place, "meeting", "attendance"), "出席对应加分规则，缺席对应扣分规则")

    def _check_grades(self, p: Problems) -> None:
        mins = [g.min for g in self.grades]
        if mins[-1] is not None or any(m is None for m in mins[:-1]):
            p.add(("grades",), "除最后一个等级外都要写最低分（min），最后一个等级不写")
        given = [m for m in mins if m is not None]
        if given != sorted(given, reverse=True) or len(set(given)) != len(given):
            p.add(("grades",), "等级应按最低分从高到低排列，且最低分不能相同")


def parse_text(text: str, source: str) -> RuleSet:
    return build_rule_set(parse_json(text, source, RuleSetFile), source)


def build_rule_set(data: Any, source: str) -> RuleSet:
    """Check and build a rule set; raise RuleSetError listing every problem found."""
    f = validate(RuleSetFile, data, source)
    categories = tuple(Category(c.code, c.name, c.kind, c.parent, c.cap, c.base or 0, c.note) for c in f.categories)
    rules = tuple(
        Rule(r.code, r.name, r.category, r.direction, r.points.min, r.points.max,
             tuple((period, cap) for period, cap in r.caps if cap is not None), r.evidence, r.review,
             tuple(r.applies_to), r.valid_from, r.valid_to, tuple(r.meeting.kinds) if r.meeting else (),
             r.meeting.attendance if r.meeting else None)
        for r in f.rules)
    grades = tuple(Grade(g.name, g.min) for g in f.grades)
    return RuleSet(f.name, categories, rules, grades, tuple(f.balance.categories), f.balance.ratio, f.publicity_days,
                   canonical=canonical_json(strip_notes(data), decimals_as_text=True))


@lru_cache(maxsize=1)
def default_rule_text() -> str:
    """The shipped file's text, read by the one loader (a file that is not UTF-8 is a Chinese RuleSetError)."""
    return read_text(config.resource("points", "default_rules.json"), RuleSetFile)


def default_rule_set() -> RuleSet:
    return parse_text(default_rule_text(), "resources/points/default_rules.json")


class StoreGood(Resource):
    name: Text
    points: Annotated[str, BeforeValidator(lambda v: format_points(tenths_in_file(v)))]
    stock: Annotated[StrictInt, Field(ge=0)]


class StoreDefaults(Resource):
    pickup_point: Text
    goods: list[StoreGood]


class SettingsFile(Resource):
    """resources/points/settings.json: the module's vocabularies and defaults."""

    resource_label: ClassVar[str] = "积分设置"
    statuses: list[Text]
    directions: list[Literal["加分", "扣分"]]
    review_levels: list[Literal["村", "乡镇"]]
    managed_categories: list[Text]
    excluded_category: Text
    redemption_statuses: list[Text]
    receipt_prefix: Text
    ranking_default: bool
    store_defaults: StoreDefaults


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """Vocabularies and defaults of the module (resources/points/settings.json)."""
    return load(SettingsFile, "points", "settings.json").model_dump()


def from_canonical(text: str) -> RuleSet:
    """A rule set stored in the database (already checked when it was saved)."""
    return _cached_rule_set(text)


@lru_cache(maxsize=32)
def _cached_rule_set(text: str) -> RuleSet:
    return parse_text(text, "数据库中的规则集")


# ----- the caps engine ------------------------------------------------------------------------
class Occurrence(NamedTuple):
    """One effective record as the engine sees it: signed tenths, its rule and category snapshot.

    A named tuple: a county's year is half a million of them, made in a third of a frozen dataclass's time.
    """

    key: int
    rule_code: str
    category: str
    on: dt.date
    points: int


@dataclass
class Tally:
    """A member's year after caps: what each record counted, per category, per month and quarter."""

    year: int
    base: int = 0
    counted: dict[int, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)  # top-level category → signed tenths
    months: list[int] = field(default_factory=lambda: [0] * 12)
    quarters: list[int] = field(default_factory=lambda: [0] * 4)
    earning: int = 0  # capped add-points in the categories that earn redeemable balance

    @property
    def total(self) -> int:
        return self.base + sum(self.counted.values())

    def cumulative(self) -> list[int]:
        """Score at the end of each month (base plus what counted so far): the card's history chart."""
        out, running = [], self.base
        for value in self.months:
            running += value
            out.append(running)
        return out


def _period_key(period: str, on: dt.date) -> int:
    if period == "month":
        return on.month
    if period == "quarter":
        return (on.month - 1) // 3 + 1
    return 0


_in_date_order = attrgetter("on", "key")  # (day, key): made in C for each of a county's records


def tally(rule_set: RuleSet, occurrences: Iterable[Occurrence], year: int) -> Tally:
    """Apply per-period (month/quarter/year) and category caps and base floors of the year's current rules.

    The per-occurrence cap (a rule's fixed points or range) is checked when a
    record is entered, under the version it is made under; its snapshot counts.
    Records count in date order (then by key), so an early record is never
    pushed out by a later one. Deductions from a base bucket stop at 0
    (扣完为止); a category cap limits the sum of its records and its children's.
    """
    result = Tally(year=year, base=rule_set.base_total)
    for category in rule_set.top_categories:
        result.by_category[category.code] = category.base
    rule_used: dict[tuple[str, str, int], int] = defaultdict(int)
    category_used: dict[str, int] = defaultdict(int)
    base_left = {c.code: c.base for c in rule_set.categories if c.kind == "base"}
    # the rule set's indexes, looked up once: a county's year is a quarter of a million records
    lookup = rule_set._lookup
    rules, capped, roots, earning = lookup["rules"], lookup["capped"], lookup["roots"], lookup["earning"]
    counted_by_key, by_category, months, quarters = result.counted, result.by_category, result.months, result.quarters
    no_root = (None, False)
    for occ in sorted(occurrences, key=_in_date_order):
        on = occ.on
        if on.year != year:
            continue
        points = occ.points
        sign = 1 if points >= 0 else -1
        limit = points * sign
        rule = rules.get(occ.rule_code)
        category_code = rule.category if rule is not None else occ.category
        used_keys: list[tuple[tuple[str, str, int], int]] = []
        if rule is not None and rule.caps:
            # the per-occurrence cap was enforced at entry under the record's own version (its snapshot counts)
            used_keys = [((rule.code, period, _period_key(period, on)), cap) for period, cap in rule.caps]
            for key, cap in used_keys:
                limit = min(limit, cap - rule_used[key])
        category_caps = capped.get(category_code, ())
        for code, cap in category_caps:  # the category's and its ancestors' caps
            limit = min(limit, cap - category_used[code])
        root, root_is_base = roots.get(category_code, no_root)
        deducts_base = root_is_base and sign < 0
        if deducts_base:
            limit = min(limit, base_left[root])
        if limit < 0:
            limit = 0
        for key, _cap in used_keys:
            rule_used[key] += limit
        for code, _cap in category_caps:
            category_used[code] += limit
        if deducts_base:
            base_left[root] -= limit
        counted = sign * limit
        counted_by_key[occ.key] = counted
        if root is not None:
            by_category[root] = by_category.get(root, 0) + counted
        month = on.month - 1
        months[month] += counted
        quarters[month // 3] += counted
        if counted > 0 and earning.get(category_code, False):
            result.earning += counted
    return result


def balance_credit(rule_set: RuleSet, earning_tenths: int) -> int:
    """Redeemable tenths for ``earning_tenths`` of capped add-points (ratio applied, rounded down)."""
    value = (Decimal(earning_tenths) * rule_set.balance_ratio).to_integral_value(rounding=ROUND_DOWN)
    return int(value)
