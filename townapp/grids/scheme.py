"""The grids' data files under resources/grids/: vocabularies, tree structure, assessment and subsidy scheme.

Nothing here is a rule in code: item maxima, deduction reasons, score bands,
base amounts, the phone allowance and the 最美网格员 count and scope are read
from assessment.json. An approved month keeps the scheme it was computed
with (``scheme_to_json``), so editing the file never changes a paid month.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, StrictInt, model_validator

from townapp import config
from townapp.core.points import FilePoints, parse_optional_points
from townapp.core.points import PointsError as PointsError  # the grid modules import them from here
from townapp.core.points import format_points as format_points
from townapp.core.resources import (
    Problems,
    Resource,
    Text,
    load,
    parse_json,
    read_json,
    source_name,
    validate,
)
from townapp.registry.vocab import Vocabulary, load_vocabularies

Fen = Annotated[StrictInt, Field(ge=0)]  # money in 分
parse_points = parse_optional_points  # a grid score may be blank (not entered yet): None, not an error


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, Vocabulary]:
    return load_vocabularies("grids", "vocabularies.json")


def vocab(name: str) -> Vocabulary:
    return vocabularies()[name]


class Structure(Resource):
    """resources/grids/structure.json: which level may sit under which, where households go, who heads a grid."""

    resource_label: ClassVar[str] = "网格结构"
    parents: dict[str, tuple[Text, ...]]
    household_level: Text
    head_role: Text
    head_required_levels: tuple[Text, ...]
    roles_by_level: dict[str, tuple[Text, ...]]
    coverage_listed: Annotated[StrictInt, Field(ge=1)]

    @model_validator(mode="after")
    def _levels_are_known(self) -> Structure:
        p = Problems()
        known = set(self.parents)
        for level, parents in self.parents.items():
            for parent in parents:
                if parent not in known:
                    p.add(("parents", level), f"上级层级“{parent}”不在 parents 中")
        if self.household_level not in known:
            p.add(("household_level",), f"层级“{self.household_level}”不在 parents 中")
        for level in self.head_required_levels:
            if level not in known:
                p.add(("head_required_levels",), f"层级“{level}”不在 parents 中")
        for level in self.roles_by_level:
            if level not in known:
                p.add(("roles_by_level", level), f"层级“{level}”不在 parents 中")
        p.raise_if_any()
        return self


@lru_cache(maxsize=1)
def structure() -> Structure:
    return load(Structure, "grids", "structure.json")


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


class ItemEntry(Resource):
    key: Text
    label: Text
    max: FilePoints


class DeductionEntry(Resource):
    reason: Text
    points: FilePoints


class BandEntry(Resource):
    min_score: FilePoints
    factor: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]  # 差额发放: never more than the base
    label: str = ""


class SubsidyEntry(Resource):
    base_fen: Fen
    base_fen_by_role: dict[str, Fen] = {}
    bands: Annotated[list[BandEntry], Field(min_length=1)]
    phone_allowance_fen: Fen = 0
    phone_allowance_min_score: FilePoints = 0


class BestMemberEntry(Resource):
    count: Annotated[StrictInt, Field(ge=0)]
    scope: Literal["township", "village"]
    candidates_from_top: Annotated[StrictInt, Field(ge=0)]


class AssessmentFile(Resource):
    """resources/grids/assessment.json, or the copy an approved month keeps."""

    resource_label: ClassVar[str] = "网格考核方案"
    name: Text
    version: Annotated[str, BeforeValidator(lambda v: v if isinstance(v, str) else str(v))]
    items: Annotated[list[ItemEntry], Field(min_length=1)]
    deduction_reasons: list[DeductionEntry] = []
    assessed_roles: list[Text]
    subsidy: SubsidyEntry
    best_member: BestMemberEntry
    list_title: str = "网格员补助发放表"
    signature_header: str = "领取人签字"

    @model_validator(mode="after")
    def _has_a_zero_band(self) -> AssessmentFile:
        if not any(b.min_score == 0 for b in self.subsidy.bands):
            p = Problems()
            p.add(("subsidy", "bands"), "补助档次必须包含最低分 0 的一档")
            p.raise_if_any()
        return self


def scheme_from_dict(data: dict[str, Any], source: str = "网格考核方案") -> Scheme:
    """Build and check a scheme; a broken one is refused naming the place and what is wrong."""
    f = validate(AssessmentFile, data, source)
    bands = sorted((Band(b.min_score, b.factor, b.label) for b in f.subsidy.bands), key=lambda b: b.min_tenths,
                   reverse=True)
    return Scheme(
        name=f.name, version=f.version, items=tuple(Item(i.key, i.label, i.max) for i in f.items),
        deductions=tuple(Deduction(d.reason, d.points) for d in f.deduction_reasons),
        assessed_roles=tuple(f.assessed_roles), base_fen=f.subsidy.base_fen,
        base_fen_by_role=dict(f.subsidy.base_fen_by_role), bands=tuple(bands),
        phone_allowance_fen=f.subsidy.phone_allowance_fen,
        phone_allowance_min_tenths=f.subsidy.phone_allowance_min_score,
        best_count=f.best_member.count, best_scope=f.best_member.scope,
        best_candidates=f.best_member.candidates_from_top, list_title=f.list_title,
        signature_header=f.signature_header, raw=data,
    )


@lru_cache(maxsize=1)
def current_scheme() -> Scheme:
    """The scheme shipped under resources/grids/assessment.json."""
    path = config.resource("grids", "assessment.json")
    return scheme_from_dict(read_json(path, AssessmentFile), source_name(path))


def scheme_to_json(scheme: Scheme) -> str:
    return json.dumps(scheme.raw, ensure_ascii=False, sort_keys=True, default=str)


def scheme_from_json(text: str | None) -> Scheme:
    return current_scheme() if not text else scheme_from_dict(parse_json(text, "月份保存的考核方案", AssessmentFile),
                                                              "月份保存的考核方案")
