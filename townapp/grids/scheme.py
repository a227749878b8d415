"""The grids' data files under resources/grids/: vocabularies, tree structure, assessment and subsidy scheme.

Nothing here is a rule in code: item maxima, deduction reasons, score bands,
base amounts, the phone allowance and the 最美网格员 count and scope are read
from assessment.json. An approved month keeps the scheme it was computed
with (``scheme_to_json``), so editing the file never changes a paid month.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from townapp import config
from townapp.core.errors import DomainError
from townapp.core.text import remove_spaces, to_halfwidth
from townapp.registry.vocab import Vocabulary

_POINTS = re.compile(r"^\d{1,3}(\.\d)?$")


def _load(name: str) -> Any:
    return json.loads(config.resource("grids", name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    data = _load("vocabularies.json")
    return {name: Vocabulary(name, spec["label"], tuple(spec["values"]), dict(spec.get("synonyms", {})))
            for name, spec in data.items() if not name.startswith("_")}


def vocab(name: str) -> Vocabulary:
    return vocabularies()[name]


@dataclass(frozen=True)
class Structure:
    """Which level may sit under which, where households go, which role heads a grid."""

    parents: dict[str, tuple[str, ...]]
    household_level: str
    head_role: str
    head_required_levels: tuple[str, ...]
    roles_by_level: dict[str, tuple[str, ...]]
    coverage_listed: int


@lru_cache(maxsize=1)
def structure() -> Structure:
    data = _load("structure.json")
    return Structure(parents={k: tuple(v) for k, v in data["parents"].items()},
                     household_level=data["household_level"], head_role=data["head_role"],
                     head_required_levels=tuple(data["head_required_levels"]),
                     roles_by_level={k: tuple(v) for k, v in data["roles_by_level"].items()},
                     coverage_listed=int(data["coverage_listed"]))


# ----- points: integer tenths ------------------------------------------------------------
class PointsError(DomainError):
    """Text that is not a score with at most one decimal."""


def parse_points(value: object) -> int | None:
    """'87.5' → 875 (tenths); empty → None; more than one decimal or a negative number is refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise PointsError("分数应为数字")
    if isinstance(value, int):
        return value * 10
    if isinstance(value, (float, Decimal)):
        value = format(Decimal(repr(value) if isinstance(value, float) else value).normalize(), "f")
    text = remove_spaces(to_halfwidth(str(value))).removesuffix("分")
    if not text:
        return None
    if text.endswith(".0"):
        text = text[:-2]
    if not _POINTS.match(text):
        raise PointsError(f"“{value}”不是有效分数：请填写不小于0的数字，最多一位小数，如 18.5")
    return int((Decimal(text) * 10).to_integral_exact())


def format_points(tenths: int | None) -> str:
    """875 → '87.5', 900 → '90'; None → ''."""
    if tenths is None:
        return ""
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}" if tenth else str(whole)


def _tenths(text: str) -> int:
    try:
        return int((Decimal(str(text)) * 10).to_integral_exact())
    except InvalidOperation:
        raise DomainError(f"考核方案中的分值“{text}”不是数字") from None


# ----- the assessment scheme -------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    key: str
    label: str
    max_tenths: int


@dataclass(frozen=True)
class Deduction:
    reason: str
    points_tenths: int


@dataclass(frozen=True)
class Band:
    """Totals from ``min_tenths`` up (to the next band) earn ``factor`` × base."""

    min_tenths: int
    factor: Decimal
    label: str


@dataclass(frozen=True)
class Scheme:
    name: str
    version: str
    items: tuple[Item, ...]
    deductions: tuple[Deduction, ...]
    assessed_roles: tuple[str, ...]
    base_fen: int
    base_fen_by_role: dict[str, int]
    bands: tuple[Band, ...]  # highest minimum first
    phone_allowance_fen: int
    phone_allowance_min_tenths: int
    best_count: int
    best_scope: str  # township | village
    best_candidates: int
    list_title: str
    signature_header: str
    raw: dict[str, Any]

    @property
    def max_total(self) -> int:
        return sum(i.max_tenths for i in self.items)

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)

    def base_for(self, role: str) -> int:
        return self.base_fen_by_role.get(role, self.base_fen)


def scheme_from_dict(data: dict[str, Any]) -> Scheme:
    """Build and check a scheme; a broken file is refused with a message naming what is wrong."""
    try:
        subsidy = data["subsidy"]
        best = data["best_member"]
        bands = sorted((Band(_tenths(b["min_score"]), Decimal(str(b["factor"])), b.get("label", ""))
                        for b in subsidy["bands"]), key=lambda b: b.min_tenths, reverse=True)
        scheme = Scheme(
            name=data["name"], version=str(data["version"]),
            items=tuple(Item(i["key"], i["label"], _tenths(i["max"])) for i in data["items"]),
            deductions=tuple(Deduction(d["reason"], _tenths(d["points"])) for d in data.get("deduction_reasons", [])),
            assessed_roles=tuple(data["assessed_roles"]),
            base_fen=int(subsidy["base_fen"]),
            base_fen_by_role={k: int(v) for k, v in subsidy.get("base_fen_by_role", {}).items()},
            bands=tuple(bands),
            phone_allowance_fen=int(subsidy.get("phone_allowance_fen", 0)),
            phone_allowance_min_tenths=_tenths(subsidy.get("phone_allowance_min_score", "0")),
            best_count=int(best["count"]), best_scope=best["scope"], best_candidates=int(best["candidates_from_top"]),
            list_title=data.get("list_title", "网格员补助发放表"),
            signature_header=data.get("signature_header", "领取人签字"),
            raw=data,
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise DomainError(f"网格考核方案文件格式有误：{exc}") from None
    if not scheme.items or not scheme.bands or scheme.bands[-1].min_tenths != 0:
        raise DomainError("网格考核方案有误：至少要有一个考核项目，且补助档次必须包含最低分 0 的一档")
    if scheme.best_scope not in ("township", "village"):
        raise DomainError("网格考核方案有误：最美网格员的评选范围应为 township 或 village")
    if any(b.factor < 0 or b.factor > 1 for b in scheme.bands):
        raise DomainError("网格考核方案有误：绩效系数应在 0 与 1 之间（差额发放）")
    return scheme


@lru_cache(maxsize=1)
def current_scheme() -> Scheme:
    """The scheme shipped under resources/grids/assessment.json."""
    return scheme_from_dict(_load("assessment.json"))


def scheme_to_json(scheme: Scheme) -> str:
    return json.dumps(scheme.raw, ensure_ascii=False, sort_keys=True)


def scheme_from_json(text: str | None) -> Scheme:
    return current_scheme() if not text else scheme_from_dict(json.loads(text))
