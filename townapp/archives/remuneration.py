"""村干部报酬 (以星定酬) computed from rules in resources/archives/remuneration.json, in integer 分.

Basic pay is monthly by post (一肩挑 is paid as 书记) plus a monthly supplement
in designated villages; 考核报酬 follows the cadre's annual grade; 星级奖励 the
secretary's star (for 书记) and the organisation's star (for every cadre);
创建奖励 the village's creation level. Annual awards are prorated by months
in post and rounded half up to the 分.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field, StrictInt

from townapp import config
from townapp.core.resources import Resource, load

Fen = Annotated[StrictInt, Field(ge=0)]  # money in 分, never float
Star = Annotated[int, Field(ge=1, le=9)]


class PayRules(Resource):
    """resources/archives/remuneration.json (or a township's own file): the pay table in 分."""

    resource_label: ClassVar[str] = "村干部报酬规则"

    basic_monthly: dict[str, Fen]
    basic_monthly_default: Fen
    designated_monthly_supplement: Fen = 0
    assessment: dict[str, Fen]
    secretary_star: dict[Star, Fen]
    secretary_star_posts: tuple[str, ...] = ("书记",)
    org_star: dict[Star, Fen]
    creation: dict[str, Fen]


def load_pay_rules(path: Path | None = None) -> PayRules:
    return load(PayRules, path or config.resource("archives", "remuneration.json"))


@lru_cache(maxsize=1)
def pay_rules() -> PayRules:
    return load_pay_rules()


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


@dataclass(frozen=True)
class PayAmounts:
    basic: int
    assessment: int
    star: int
    creation: int

    @property
    def total(self) -> int:
        return self.basic + self.assessment + self.star + self.creation


def _prorate(annual: int, months: int) -> int:
    if months >= 12:
        return annual
    return int((Decimal(annual) * months / 12).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def compute_pay(inputs: PayInputs, rules: PayRules | None = None) -> PayAmounts:
    rules = rules or pay_rules()
    months = max(0, min(12, inputs.months))
    monthly = rules.basic_monthly.get(inputs.post, rules.basic_monthly_default)
    if inputs.designated:
        monthly += rules.designated_monthly_supplement
    basic = monthly * months
    assessment = _prorate(rules.assessment.get(inputs.grade or "", 0), months)
    star = 0
    if inputs.post in rules.secretary_star_posts and inputs.secretary_star:
        star += rules.secretary_star.get(inputs.secretary_star, 0)
    if inputs.org_star:
        star += rules.org_star.get(inputs.org_star, 0)
    star = _prorate(star, months)
    creation = _prorate(rules.creation.get(inputs.creation_level or "", 0), months)
    return PayAmounts(basic, assessment, star, creation)
