"""Results agree across modules: the archive's stars and creation level, and the pay built on them, are 定级's.

A composition file (like townapp/sources.py): it reads the evaluations' finalised
results (EvaluationService.village_results) and the village archive
(ArchiveService.year, ArchiveService.pay_table) and reports, per village and
year, every figure that differs — in ``townapp check`` and in the demo's tests.
A year without a finalised round is not compared: its archive figures were
typed by hand before the township rated with this app.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from townapp.archives import models as a
from townapp.archives.remuneration import PayInputs, compute_pay
from townapp.archives.service import ArchiveService
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import CheckReport
from townapp.db import Database
from townapp.evaluations.service import EvaluationService
from townapp.registry import models as m

# archive field → (scheme key, what a person calls it)
RATED = {"org_star": ("village_org_star", "村党组织星级"), "secretary_star": ("secretary_star", "书记星级"),
         "creation_level": ("village_creation", "创建等级")}
_DIGITS = "一二三四五六七八九"


def _shown(field: str, value: object) -> str:
    if value in (None, ""):
        return "空" if field == "creation_level" else "未评"
    if field != "creation_level" and isinstance(value, int) and 1 <= value <= len(_DIGITS):
        return f"{_DIGITS[value - 1]}星"
    return str(value)


@dataclass(frozen=True)
class Mismatch:
    village_id: int
    village: str
    year: int
    where: str  # 一村一档 or 报酬发放表
    field: str
    found: object
    expected: object

    @property
    def message(self) -> str:
        label = RATED[self.field][1] if self.field in RATED else self.field
        if self.where == "一村一档":
            return (f"{self.village}{self.year}年：一村一档的{label}为“{_shown(self.field, self.found)}”，"
                    f"{self.year}年度定级结果为“{_shown(self.field, self.expected)}”，两者不一致。"
                    f"请以定级结果为准更正一村一档；定级有误的，解锁评定、更正后重新定级")
        return (f"{self.village}{self.year}年：报酬发放表{label}为 {self.found}，按定级结果应为 {self.expected}，"
                f"两者不一致。请核对报酬规则和一村一档后重新生成报酬发放表")


def result_mismatches(db: Database, actor: Actor = SYSTEM_ACTOR) -> list[Mismatch]:
    """Every archive figure and pay amount of a village-year with finalised results that differs from them
    (of the actor's village only, for a 村录入员)."""
    evaluations = EvaluationService(db, actor)
    archives = ArchiveService(db, actor)
    with db.reader() as s:
        names = dict(s.execute(select(m.Village.id, m.Village.name)).all())
        years = sorted(set(s.scalars(select(a.ArchiveYear.year))))
    out: list[Mismatch] = []
    for year in years:
        expected: dict[int, dict[str, object]] = {}
        for field, (key, _label) in RATED.items():
            for village_id, result in evaluations.village_results(key, year).items():
                value = (result.level if result.passed else None) if field == "creation_level" else result.rank
                expected.setdefault(village_id, {})[field] = value or None
        for village_id, wanted in sorted(expected.items()):
            name = names.get(village_id, str(village_id))
            stored = archives.year(village_id, year).values
            for field, value in wanted.items():
                if (stored.get(field) or None) != value:
                    out.append(Mismatch(village_id, name, year, "一村一档", field, stored.get(field), value))
            out.extend(_pay_mismatches(archives, village_id, name, year, wanted))
    return out


def _pay_mismatches(archives: ArchiveService, village_id: int, name: str, year: int,
                    wanted: dict[str, object]) -> list[Mismatch]:
    """The pay table's star and creation awards, line by line, against the pay rule applied to the results."""
    out = []
    for line in archives.pay_table(village_id, year).lines:
        rule = compute_pay(PayInputs(post=line.post, months=line.months,
                                     secretary_star=wanted.get("secretary_star"),  # type: ignore[arg-type]
                                     org_star=wanted.get("org_star"),  # type: ignore[arg-type]
                                     creation_level=wanted.get("creation_level")))  # type: ignore[arg-type]
        for field, found, due in (("星级奖励", line.star, rule.star), ("创建奖励", line.creation, rule.creation)):
            if found != due:
                out.append(Mismatch(village_id, f"{name}{line.name}（{line.post}）", year, "报酬发放表", field,
                                    f"{found / 100:.2f}元", f"{due / 100:.2f}元"))
    return out


def result_checks(db: Database, report: CheckReport, facts: dict) -> None:
    """``townapp check``: archive stars and creation levels equal 定级, and so does the pay built on them."""
    mismatches = result_mismatches(db)
    facts["result_mismatches"] = len(mismatches)
    report.errors.extend(x.message for x in mismatches)
