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
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import cached_property, lru_cache
from operator import attrgetter
from typing import Any, NamedTuple

from townapp import config
from townapp.core.errors import DomainError

KINDS = {"base": "基础分（只扣不加）", "add": "加分类", "deduct": "扣分类"}
DIRECTIONS = ("加分", "扣分")
REVIEW_LEVELS = ("村", "乡镇")
PERIODS = (("month", "月"), ("quarter", "季度"), ("year", "年"))


class PointsError(DomainError):
    """A points value a user typed cannot be used (too many decimals, not a number …)."""


class RuleSetError(DomainError):
    """A rule set file or text has problems; ``problems`` lists each one in Chinese."""

    def __init__(self, source: str, problems: list[str]) -> None:
        shown = "\n".join(f"· {p}" for p in problems[:20])
        more = f"\n……共 {len(problems)} 处问题" if len(problems) > 20 else ""
        super().__init__(f"积分规则“{source}”有问题，未采用：\n{shown}{more}")
        self.problems = problems


# ----- points as integer tenths ------------------------------------------------------------
def parse_points(value: Any, *, allow_negative: bool = False) -> int:
    """'2', '0.5', 2, Decimal('1.5') → tenths; more than one decimal place is refused, never rounded."""
    if isinstance(value, bool) or value is None:
        raise PointsError("请填写分值")
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace("＋", "+").replace("－", "-").replace("．", ".")
    if text.endswith("分"):
        text = text[:-1].strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise PointsError(f"“{value}”不是分值，应填如 2 或 0.5 的数字") from None
    if not number.is_finite():
        raise PointsError(f"“{value}”不是分值")
    tenths = number * 10
    if tenths != tenths.to_integral_value():
        raise PointsError(f"分值“{value}”最多保留一位小数")
    if number < 0 and not allow_negative:
        raise PointsError(f"分值“{value}”不能为负数（加分、扣分由规则决定）")
    if abs(number) > 10000:
        raise PointsError(f"分值“{value}”过大")
    return int(tenths)


def format_points(tenths: int | None, *, signed: bool = False) -> str:
    """125 → '12.5', 120 → '12'; ``signed`` adds + for positive values."""
    if tenths is None:
        return ""
    sign = "-" if tenths < 0 else ("+" if signed and tenths > 0 else "")
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{whole}" + (f".{tenth}" if tenth else "")


def to_decimal(tenths: int) -> Decimal:
    return Decimal(tenths) / 10


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


# ----- parsing with Chinese problems -----------------------------------------------------------
def canonical_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _strip_notes(data: Any) -> Any:
    """Keys starting with _ are comments for the person editing the file."""
    if isinstance(data, dict):
        return {k: _strip_notes(v) for k, v in data.items() if not str(k).startswith("_")}
    if isinstance(data, list):
        return [_strip_notes(v) for v in data]
    return data


def parse_text(text: str, source: str) -> RuleSet:
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise RuleSetError(source, [f"第{exc.lineno}行第{exc.colno}列附近格式有误（JSON）：请检查逗号、引号和括号是否成对"]) from None
    return build_rule_set(data, source)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def bad(self, place: str, message: str) -> None:
        self.items.append(f"{place}：{message}" if place else message)

    def points(self, value: Any, place: str, label: str, *, required: bool = True) -> int | None:
        if value is None or value == "":
            if required:
                self.bad(place, f"缺少{label}")
            return None
        try:
            tenths = parse_points(value)
        except PointsError as exc:
            self.bad(place, f"{label}：{exc.message}")
            return None
        return tenths

    def date(self, value: Any, place: str, label: str) -> dt.date | None:
        if value in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.bad(place, f"{label}“{value}”应写成 2026-01-01 的格式")
            return None


def build_rule_set(data: Any, source: str) -> RuleSet:
    """Check and build a rule set; raise RuleSetError listing every problem found."""
    p = _Problems()
    if not isinstance(data, dict):
        raise RuleSetError(source, ["文件内容应是一个对象（以 { 开头）"])
    clean = _strip_notes(data)
    name = str(clean.get("name") or "").strip()
    if not name:
        p.bad("", "缺少规则集名称（name）")
    categories = _categories(clean.get("categories"), p)
    known = {c.code: c for c in categories}
    rules = _rules(clean.get("rules"), known, p)
    grades = _grades(clean.get("grades"), p)
    balance = clean.get("balance") or {}
    balance_categories = tuple(str(c) for c in balance.get("categories", []))
    for code in balance_categories:
        if code not in known:
            p.bad("可兑换积分（balance）", f"类别编码 {code} 不存在")
        elif known[code].kind != "add":
            p.bad("可兑换积分（balance）", f"类别 {code} 不是加分类，不能转入可兑换积分")
    ratio = Decimal(1)
    try:
        ratio = Decimal(str(balance.get("ratio", "1")))
        if ratio <= 0 or (ratio * 10) != (ratio * 10).to_integral_value():
            p.bad("可兑换积分（balance）", "比例（ratio）应为大于0、最多一位小数的数")
    except InvalidOperation:
        p.bad("可兑换积分（balance）", "比例（ratio）不是数字")
    days = clean.get("publicity_days", 5)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 30:
        p.bad("", "公示天数（publicity_days）应为1至30的整数")
        days = 5
    if p.items:
        raise RuleSetError(source, p.items)
    return RuleSet(name, tuple(categories), tuple(rules), tuple(grades), balance_categories, ratio, days,
                   canonical=canonical_json(clean))


def _coded(raw: Any, p: _Problems, *, missing: str, nth: str, label: str) -> Iterator[tuple[str, str, str, dict]]:
    """The entries of a list of coded objects (categories, rules) as (place, code, name, entry).

    Shape, code (present, unique) and name are checked here, once for both lists; an entry without
    an object or a code is reported and skipped. ``nth`` names an entry by position ("第{}个类别").
    """
    if not isinstance(raw, list) or not raw:
        p.bad("", missing)
        return
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            p.bad(nth.format(index), "应是一个对象")
            continue
        code = str(item.get("code") or "").strip()
        place = f"{label} {code or index}"
        if not code:
            p.bad(place, "缺少编码（code）")
            continue
        if code in seen:
            p.bad(place, "编码重复")
        seen.add(code)
        name = str(item.get("name") or "").strip()
        if not name:
            p.bad(place, "缺少名称（name）")
        yield place, code, name, item


def _categories(raw: Any, p: _Problems) -> list[Category]:
    out: list[Category] = []
    for place, code, name, item in _coded(raw, p, missing="缺少积分类别（categories）", nth="第{}个类别", label="类别"):
        kind = item.get("kind")
        if kind not in KINDS:
            p.bad(place, f"种类（kind）应为 {'、'.join(KINDS)}（{'、'.join(KINDS.values())}）")
            kind = "add"
        cap = p.points(item.get("cap"), place, "类别封顶（cap）", required=False)
        base = 0
        if kind == "base":
            base = p.points(item.get("base"), place, "基础分（base）") or 0
            if item.get("parent"):
                p.bad(place, "基础分类别不能有上级类别")
        elif item.get("base") not in (None, ""):
            p.bad(place, "只有基础分类别（kind 为 base）才能设置基础分")
        parent = str(item["parent"]).strip() if item.get("parent") else None
        out.append(Category(code, name, kind, parent, cap, base, str(item.get("note") or "")))
    codes = {c.code: c for c in out}
    for category in out:
        if category.parent is None:
            continue
        parent = codes.get(category.parent)
        if parent is None:
            p.bad(f"类别 {category.code}", f"上级类别 {category.parent} 不存在")
        elif parent.kind != category.kind:
            p.bad(f"类别 {category.code}", f"与上级类别 {parent.code} 的种类不同")
        seen_chain = {category.code}
        current = parent
        while current is not None and current.parent:
            if current.code in seen_chain:
                p.bad(f"类别 {category.code}", "上级类别形成了循环")
                break
            seen_chain.add(current.code)
            current = codes.get(current.parent)
    return out


def _rules(raw: Any, categories: dict[str, Category], p: _Problems) -> list[Rule]:
    out: list[Rule] = []
    for place, code, name, item in _coded(raw, p, missing="缺少积分规则（rules）", nth="第{}条规则", label="规则"):
        category = categories.get(str(item.get("category") or ""))
        if category is None:
            p.bad(place, f"所属类别“{item.get('category')}”不存在")
        direction = item.get("direction")
        if direction not in DIRECTIONS:
            p.bad(place, "方向（direction）应为 加分 或 扣分")
            direction = "加分"
        if category is not None:
            if category.kind == "add" and direction != "加分":
                p.bad(place, f"类别“{category.name}”是加分类，只能放加分规则")
            if category.kind in ("deduct", "base") and direction != "扣分":
                p.bad(place, f"类别“{category.name}”{'只扣不加' if category.kind == 'base' else '是扣分类'}，只能放扣分规则")
        points = item.get("points")
        if isinstance(points, dict):
            low = p.points(points.get("min"), place, "最低分（points.min）")
            high = p.points(points.get("max"), place, "最高分（points.max）")
            if low is not None and high is not None and low > high:
                p.bad(place, "最低分不能大于最高分")
        else:
            low = high = p.points(points, place, "分值（points）")
        if high == 0:
            p.bad(place, "分值不能为0")
        caps = []
        raw_caps = item.get("caps") or {}
        if not isinstance(raw_caps, dict):
            p.bad(place, "封顶（caps）应写成 {\"year\": \"12\"} 的形式")
            raw_caps = {}
        names = dict(PERIODS)
        for key in raw_caps:
            if key not in names:
                p.bad(place, f"封顶周期“{key}”应为 month（月）、quarter（季度）或 year（年）")
        for period, label in PERIODS:
            if period in raw_caps:
                value = p.points(raw_caps[period], place, f"每{label}封顶")
                if value is not None:
                    if high is not None and value < (low or 0):
                        p.bad(place, f"每{label}封顶 {format_points(value)} 小于一次的最低分")
                    caps.append((period, value))
        review = item.get("review", "村")
        if review not in REVIEW_LEVELS:
            p.bad(place, "审核层级（review）应为 村 或 乡镇")
            review = "村"
        applies = item.get("applies_to", ["有职", "无职", "流动"])
        if not isinstance(applies, list) or not applies or any(a not in ("有职", "无职", "流动") for a in applies):
            p.bad(place, "适用类别（applies_to）应从 有职、无职、流动 中选择（免考党员不参加积分）")
            applies = ["有职", "无职", "流动"]
        valid_from = p.date(item.get("valid_from"), place, "生效日期")
        valid_to = p.date(item.get("valid_to"), place, "失效日期")
        if valid_from and valid_to and valid_from > valid_to:
            p.bad(place, "生效日期晚于失效日期")
        meeting = item.get("meeting") or {}
        kinds: tuple[str, ...] = ()
        attendance = None
        if meeting:
            kinds = tuple(str(k) for k in meeting.get("kinds", []))
            attendance = meeting.get("attendance")
            if not kinds:
                p.bad(place, "会议（meeting）须列出会议类型（kinds）")
            if attendance not in ("出席", "缺席"):
                p.bad(place, "会议（meeting）的出席情况（attendance）应为 出席 或 缺席")
            elif (attendance == "出席") != (direction == "加分"):
                p.bad(place, "出席对应加分规则，缺席对应扣分规则")
        out.append(Rule(code, name, category.code if category else "", direction, low or 0, high or 0, tuple(caps),
                        bool(item.get("evidence", False)), review, tuple(applies), valid_from, valid_to, kinds,
                        attendance))
    return out


def _grades(raw: Any, p: _Problems) -> list[Grade]:
    if not isinstance(raw, list) or len(raw) < 2:
        p.bad("", "缺少等级（grades），至少两个等级")
        return [Grade("合格", None)]
    out: list[Grade] = []
    for index, item in enumerate(raw, start=1):
        place = f"第{index}个等级"
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            p.bad(place, "缺少等级名称（name）")
            continue
        minimum = p.points(item.get("min"), f"等级 {item['name']}", "最低分（min）", required=False)
        out.append(Grade(str(item["name"]).strip(), minimum))
    mins = [g.min for g in out]
    if mins and (mins[-1] is not None or any(m is None for m in mins[:-1])):
        p.bad("等级（grades）", "除最后一个等级外都要写最低分（min），最后一个等级不写")
    given = [m for m in mins if m is not None]
    if given != sorted(given, reverse=True) or len(set(given)) != len(given):
        p.bad("等级（grades）", "等级应按最低分从高到低排列，且最低分不能相同")
    return out


@lru_cache(maxsize=1)
def default_rule_text() -> str:
    return config.resource("points", "default_rules.json").read_text(encoding="utf-8")


def default_rule_set() -> RuleSet:
    return parse_text(default_rule_text(), "resources/points/default_rules.json")


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """Vocabularies and defaults of the module (resources/points/settings.json)."""
    return json.loads(config.resource("points", "settings.json").read_text(encoding="utf-8"), parse_float=Decimal)


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
