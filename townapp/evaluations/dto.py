"""What the evaluation service takes and gives: plain dataclasses, never ORM objects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from townapp.evaluations.schemes import Scheme, SchemeError


@dataclass(frozen=True)
class SchemeInfo:
    id: int
    key: str
    version: int
    name: str
    target: str
    period: str
    source: str | None
    rounds: int  # rounds using this version


@dataclass
class SyncReport:
    """What reading resources/schemes/ did: new schemes, new versions, refused files."""

    added: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: list[SchemeError] = field(default_factory=list)


@dataclass
class RoundInput:
    scheme_id: int
    year: int
    period_no: int = 0
    village_ids: list[int] = field(default_factory=list)
    name: str = ""
    bodies: list[str] = field(default_factory=list)  # 联评 bodies (schemes with a joint-review stage)
    add_all_targets: bool = True


@dataclass(frozen=True)
class RoundRow:
    id: int
    name: str
    scheme_name: str
    scheme_key: str
    scheme_version: int
    year: int
    period_no: int
    period_text: str
    stage_name: str
    status: str
    locked: bool
    targets: int
    rated: int


@dataclass(frozen=True)
class RoundDTO:
    id: int
    name: str
    scheme_id: int
    scheme: Scheme
    scheme_version: int
    year: int
    period_no: int
    period_text: str
    stage: str
    status: str
    locked: bool
    bodies: tuple[str, ...]
    village_ids: tuple[int, ...]
    publicity_start: dt.date | None
    publicity_end: dt.date | None
    finalised_on: dt.date | None
    finalised_by: str | None

    @property
    def stage_name(self) -> str:
        return self.scheme.stage(self.stage).name

    @property
    def current_stage(self):  # noqa: ANN201 (a schemes.Stage)
        return self.scheme.stage(self.stage)


@dataclass(frozen=True)
class CountyDecisionInput:
    """The county's result for one target at one of its stages, as its return package brings it."""

    round_uuid: str
    target_uuid: str
    stage: str
    verdict: str  # 同意 | 否决
    negative: str | None  # the scheme's 否定项 code when 否决
    note: str | None  # what the county found
    comment: str | None
    county: str  # the county's name
    decided_by: str
    decided_on: dt.date

    @property
    def marker(self) -> str:
        """What the entry keeps: who decided, where and when (the township cannot change such an entry)."""
        return f"{self.county} {self.decided_by} {self.decided_on:%Y-%m-%d} {self.verdict}"[:200]


@dataclass
class EntryInput:
    """One target's entry at one stage, as typed in the score sheet or read from a workbook."""

    target_id: int
    stage: str
    scores: dict[str, Decimal | None] = field(default_factory=dict)  # indicator code → value (None clears)
    negatives: dict[str, str] | None = None  # ticked negative codes → note; None leaves them as they are
    comment: str | None = None  # None leaves it as it is
    inputs: dict[str, str | Decimal | None] | None = None  # target inputs; None leaves them as they are
    reasons: dict[str, str] | None = None  # indicator code → why a computed value was changed (≥ 4 characters)


@dataclass(frozen=True)
class SheetRow:
    """One row of the score sheet: the target, this stage's entry and the current result."""

    target_id: int
    village_id: int
    village: str
    code: str
    label: str
    scores: dict[str, Decimal]
    negatives: dict[str, str]
    comment: str
    inputs: dict[str, str | Decimal]
    rollup: Decimal | None
    entered: bool  # this stage has an entry
    stage_level: str | None  # the level this stage's entry gives
    level: str  # the round's current result for the target
    rank: int
    measure: Decimal | None
    reasons: str
    flags: str
    missing: tuple[str, ...]
    barred: str | None
    revoked: bool
    sources: dict[str, str] = field(default_factory=dict)  # computed indicators: code → 来源 text
    computed: dict[str, Decimal] = field(default_factory=dict)  # computed indicators: code → the computed value
    overrides: dict[str, str] = field(default_factory=dict)  # computed values a person changed: code → 理由

    def note(self, code: str) -> str:
        """来源 of a computed value, and 已人工调整（理由） when a person changed it."""
        if code not in self.sources:
            return ""
        changed = f"；已人工调整（{self.overrides[code]}）" if code in self.overrides else ""
        return f"来源：{self.sources[code]}{changed}"


@dataclass(frozen=True)
class StageSummary:
    """What a hand-over shows: how many entered this stage, who is missing, what is incomplete."""

    stage: str
    stage_name: str
    next_stage_name: str | None
    targets: int
    entered: int
    missing: tuple[str, ...]  # labels (village, name) without an entry
    incomplete: tuple[str, ...]  # labels with empty indicators or inputs

    @property
    def complete(self) -> bool:
        return not self.missing and not self.incomplete

    def describe(self) -> str:
        lines = [f"环节“{self.stage_name}”：共 {self.targets} 个对象，已填 {self.entered} 个。"]
        if self.missing:
            shown = "、".join(self.missing[:20])
            lines.append(f"未填写 {len(self.missing)} 个：{shown}{'等' if len(self.missing) > 20 else ''}")
        if self.incomplete:
            shown = "、".join(self.incomplete[:20])
            lines.append(f"填写不全 {len(self.incomplete)} 个：{shown}{'等' if len(self.incomplete) > 20 else ''}")
        if self.complete:
            lines.append("全部填写完整。")
        return "\n".join(lines)


@dataclass
class ObjectionInput:
    round_id: int
    raised_by: str
    content: str
    raised_on: dt.date
    target_id: int | None = None


@dataclass(frozen=True)
class ObjectionDTO:
    id: int
    target_id: int | None
    target_label: str
    raised_on: dt.date
    raised_by: str
    content: str
    handled_on: dt.date | None
    handling: str | None
    outcome: str | None

    @property
    def open(self) -> bool:
        return self.handled_on is None


@dataclass(frozen=True)
class PathStep:
    """A target's path through the stages: what each stage gave."""

    stage: str
    stage_name: str
    level: str | None
    measure: Decimal | None
    comment: str
    entered_by: str | None


@dataclass(frozen=True)
class HistoryRow:
    round_id: int
    round_name: str
    scheme_name: str
    year: int
    period_text: str
    level: str
    rank: int
    measure: Decimal | None
    change: str  # 晋级 / 降级 / 持平 / 首次评定 / 已撤销
    final: bool


@dataclass(frozen=True)
class PublicityRow:
    village: str
    code: str
    label: str
    level: str
    measure: Decimal | None


@dataclass(frozen=True)
class EventRow:
    at: dt.datetime
    username: str
    action: str
    detail: str


@dataclass(frozen=True)
class VillageResult:
    """What the village archive takes from a round (软弱涣散 acceptance, creation level, stars)."""

    village_id: int
    year: int
    scheme_key: str
    level: str
    rank: int
    measure: Decimal | None
    passed: bool  # reached any level
    final: bool  # the round is locked (定级)
    decided_on: dt.date | None
    detail: str
    ref_id: int | None = None  # the rated target (the 书记's person id for 书记星级)
    inputs: dict[str, Any] = field(default_factory=dict)  # the target's inputs (年度考核结果 …)
    round_name: str = ""
