"""村干部报酬 (以星定酬) computed from rules in resources/archives/remuneration.json, in integer 分.

Basic pay is monthly by post (一肩挑 is paid as 书记) plus a monthly supplement
in designated villages (深度贫困村); 考核报酬 follows the cadre's annual grade;
星级奖励 the secretary's star (for 书记) and the organisation's star (for every
cadre), keyed by every level of the scheme (一至九星, 一至五星); 晋位奖励 each
level gained over last year's archive star; the streak award the organisation's
run at 四星/五星 (连续3年或累计5次, 扬州); 创建奖励 the village's creation level.
Annual awards are prorated by months in post and rounded half up to the 分.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field, StrictInt, model_validator

from townapp import config
from townapp.core.resources import Problems, Resource, Text, load

Fen = Annotated[StrictInt, Field(ge=0)]  # money in 分, never float
Star = Annotated[int, Field(ge=1, le=9)]
# the levels of the schemes whose results the archive keeps: 书记星级化管理 一至九星, 村党组织评星定级 一至五星
STAR_LEVELS = {"secretary_star": 9, "org_star": 5}
STAR_LABELS = {"secretary_star": "书记星级", "org_star": "村党组织星级"}


class StreakRule(Resource):
    """扬州: an organisation rated ``min_star`` or above ``consecutive`` years in a row or ``total`` times."""

    field: Text = "org_star"
    min_star: Annotated[StrictInt, Field(ge=1, le=9)]
    consecutive: Annotated[StrictInt, Field(ge=1)]
    total: Annotated[StrictInt, Field(ge=1)]
    amount: Fen
    posts: tuple[Text, ...] = ("书记",)


class SecretaryAssessment(Resource):
    """Where the 书记's 考核等级 comes from: the annual result entered in the star scheme's round."""

    scheme: Text
    input: Text
    grades: dict[str, Text]  # the scheme's choice → the pay table's 考核等级


class PayRules(Resource):
    """resources/archives/remuneration.json (or a township's own file): the pay table in 分."""

    resource_label: ClassVar[str] = "村干部报酬规则"

    basic_monthly: dict[str, Fen]
    basic_monthly_default: Fen
    designated_monthly_supplement: Fen = 0
    assessment: dict[str, Fen]
    secretary_assessment: SecretaryAssessment | None = None
    secretary_star: dict[Star, Fen]
    secretary_star_posts: tuple[str, ...] = ("书记",)
    org_star: dict[Star, Fen]
    promotion_per_level: dict[str, Fen] = {}
    streak: StreakRule | None = None
    creation: dict[str, Fen]
    village_activity_fund: dict[str, Fen] = {}

    @model_validator(mode="after")
    def _every_level_rising(self) -> PayRules:
        """Every level of each scheme has an amount (0 is an amount), never less than the level below."""
        p = Problems()
        for key, top in STAR_LEVELS.items():
            table: dict[int, int] = getattr(self, key)
            for level in range(1, top + 1):
                if level not in table:
                    p.add((key,), f"缺少{level}星的金额（{STAR_LABELS[key]}一至{top}星每级都要有金额，不奖的写0）")
            for level in sorted(table):
                if level > top:
                    p.add((key, str(level)), f"{STAR_LABELS[key]}最高{top}星，没有{level}星")
                elif level - 1 in table and table[level] < table[level - 1]:
                    p.add((key, str(level)), f"{level}星的金额（{table[level]}分）低于{level - 1}星"
                                             f"（{table[level - 1]}分）：星级越高报酬不能越少")
        for key in self.promotion_per_level:
            if key not in STAR_LEVELS:
                p.add(("promotion_per_level", key), "晋位奖励只能按 secretary_star 或 org_star 计")
        if self.streak is not None and self.streak.field not in STAR_LEVELS:
            p.add(("streak", "field"), "连续/累计奖励只能按 secretary_star 或 org_star 计")
        for level in (self.secretary_assessment.grades.values() if self.secretary_assessment else ()):
            if level not in self.assessment:
                p.add(("secretary_assessment", "grades"), f"考核等级“{level}”不在 assessment 中")
        p.raise_if_any()
        return self


def load_pay_rules(path: Path | None = None) -> PayRules:
    return load(PayRules, path or config.resource("archives", "remuneration.json"))


@lru_cache(maxsize=1)
def pay_rules() -> PayRules:
    return load_pay_rules()


@dataclass(frozen=True)
class Streak:
    """How often the organisation reached the streak's star up to this year (this year included)."""

    consecutive: int = 0
    total: int = 0

    def reached(self, rule: StreakRule | None) -> bool:
        return rule is not None and (self.consecutive >= rule.consecutive or self.total >= rule.total)


def count_streak(stars: Mapping[int, int | None], year: int, min_star: int) -> Streak:
    """``stars`` by year (the archive's rows): the run ending at ``year`` and the count of years at ``min_star``+."""
    reached = {y for y, star in stars.items() if y <= year and (star or 0) >= min_star}
    run = 0
    while year - run in reached:
        run += 1
    return Streak(run, len(reached))


@dataclass(frozen=True)
class PayInputs:
    """What one cadre's pay depends on."""

    post: str
    months: int = 12
    grade: str | None = None
    designated: bool = False
    secretary_star: int | None = None
    org_star: int | None = None
    creation_level: str | None = None
    previous_secretary_star: int | None = None  # last year's archive stars: 晋位奖励
    previous_org_star: int | None = None
    streak: Streak = Streak()


@dataclass(frozen=True)
class PayAmounts:
    basic: int
    assessment: int
    star: int
    creation: int
    promotion: int = 0
    streak: int = 0

    @property
    def bonus(self) -> int:
        """晋位奖励 and the streak award together: one column of the pay table."""
        return self.promotion + self.streak

    @property
    def total(self) -> int:
        return self.basic + self.assessment + self.star + self.creation + self.promotion + self.streak


def _prorate(annual: int, months: int) -> int:
    if months >= 12:
        return annual
    return int((Decimal(annual) * months / 12).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def levels_gained(star: int | None, previous: int | None) -> int:
    """晋位: levels above last year's star; none when either year is unrated."""
    if not star or not previous:
        return 0
    return max(0, star - previous)


def compute_pay(inputs: PayInputs, rules: PayRules | None = None) -> PayAmounts:
    rules = rules or pay_rules()
    months = max(0, min(12, inputs.months))
    monthly = monthly_basic(inputs.post, inputs.designated, rules)
    basic = monthly * months
    assessment = _prorate(rules.assessment.get(inputs.grade or "", 0), months)
    secretary = inputs.post in rules.secretary_star_posts
    star = 0
    if secretary and inputs.secretary_star:
        star += rules.secretary_star.get(inputs.secretary_star, 0)
    if inputs.org_star:
        star += rules.org_star.get(inputs.org_star, 0)
    promotion = rules.promotion_per_level.get("org_star", 0) * levels_gained(inputs.org_star, inputs.previous_org_star)
    if secretary:
        promotion += rules.promotion_per_level.get("secretary_star", 0) * levels_gained(
            inputs.secretary_star, inputs.previous_secretary_star)
    streak = rules.streak.amount if inputs.streak.reached(rules.streak) and rules.streak \
        and inputs.post in rules.streak.posts else 0
    creation = _prorate(rules.creation.get(inputs.creation_level or "", 0), months)
    return PayAmounts(basic, assessment, _prorate(star, months), creation, _prorate(promotion, months),
                      _prorate(streak, months))


def monthly_basic(post: str, designated: bool, rules: PayRules | None = None) -> int:
    """One month's basic pay (分): the post's rate plus the designated village's supplement."""
    rules = rules or pay_rules()
    monthly = rules.basic_monthly.get(post, rules.basic_monthly_default)
    return monthly + (rules.designated_monthly_supplement if designated else 0)


def activity_fund(creation_level: str | None, rules: PayRules | None = None) -> int:
    """村级活动经费 a village receives for its creation level (分), besides its cadres' awards."""
    rules = rules or pay_rules()
    return rules.village_activity_fund.get(creation_level or "", 0)
