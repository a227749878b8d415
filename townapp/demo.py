"""``townapp demo``: a realistic synthetic database, byte-identical for the same seed.

The orchestrator initialises the database root, then runs a short sequence of
builder steps per township, one transaction per township. Each step gets a
``TownshipJob``: the open connection, its own random generator (derived from
the seed, the township code and the step name, so adding a step never changes
what earlier steps produce), fixed dates, a primary-key allocator and a
progress callback (townapp/demokit.py). Each module registers its builder in
townapp/modules.py; ``STEPS`` runs them in that order.

Builders write with SQLAlchemy Core bulk inserts, which bypass the ORM audit
hook on purpose: demo data is not anybody's change, and a million audit rows
would only slow the build and bury real entries.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from townapp.core.actor import DEMO_ACTOR
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn, Reporter, no_progress
from townapp.db import Database
from townapp.db.base import Base
from townapp.demokit import (
    DEMO_DATE,
    DEMO_NOW,
    DemoBuild,
    KeyAllocator,
    Step,
    TownshipJob,
    TownshipPlan,
    demo_resource,
    new_uuid,
)
from townapp.modules import demo_steps
from townapp.registry import models as m
from townapp.registry.service import RegistryService

__all__ = ["DEMO_DATE", "SCALES", "STEPS", "DemoSummary", "TownshipJob", "build_demo"]

log = logging.getLogger(__name__)

# Each module's builder, in module order (townapp/modules.py lists them).
STEPS: tuple[tuple[str, Step], ...] = demo_steps()

SCALES = ("township", "county", "small")
SCALE_LABELS = {"township": "乡镇", "county": "县", "small": "小规模（测试用）"}
# households and villages per scale; "small" keeps tests of other modules fast
_TOWNSHIP_HOUSEHOLDS = {"township": 8_000, "small": 400}
_TOWNSHIP_VILLAGES = {"township": 20, "small": 3}
_COUNTY_HOUSEHOLDS = 150_000
_HOUSEHOLDS_PER_VILLAGE = 400
_PROGRESS_SLICE = 1000  # progress units per (township, step)


@dataclass
class DemoSummary:
    scale: str
    seed: int
    townships: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # rows written, by table name
    elapsed: float = 0.0  # seconds

    @property
    def villages(self) -> int:
        return self.counts.get("village", 0)

    @property
    def households(self) -> int:
        return self.counts.get("household", 0)

    @property
    def people(self) -> int:
        return self.counts.get("person", 0)

    @property
    def party_members(self) -> int:
        return self.counts.get("party_member", 0)

    def describe(self) -> str:
        """One Chinese line for the CLI and the GUI."""
        return (f"{SCALE_LABELS.get(self.scale, self.scale)}规模（种子 {self.seed}）：{self.townships} 个乡镇，"
                f"{self.villages} 个村（社区），{self.households} 户，{self.people} 人，"
                f"{self.party_members} 名党员，用时 {self.elapsed:.1f} 秒")


def build_demo(db: Database, scale: str = "township", seed: int = 1,
               progress: ProgressFn | None = None, cancel: CancelFn | None = None,
               modules: Sequence[str] | None = None) -> DemoSummary:
    """Fill an empty database with demo data; cancelling (or any error) leaves it empty again.

    ``modules`` limits the build to some steps (by name, e.g. ``("registry",)``) for
    tests that need a county's people but not its five years of meetings.
    """
    started = time.perf_counter()
    if scale not in SCALES:
        raise DomainError("演示数据规模应为 township（乡镇）或 county（县）")
    if db.meta("mode") is not None:
        raise DomainError("这个数据库已经初始化过了；演示数据只能生成到新的空数据库中")
    reporter = Reporter(progress, cancel)
    summary = DemoSummary(scale=scale, seed=seed)
    build = DemoBuild(scale=scale, seed=seed)
    try:
        reporter.step(0, 1, "正在初始化演示数据库…")
        townships = _initialise(db, scale, seed)
        steps = [(name, step) for name, step in STEPS if modules is None or name in modules]
        total = len(townships) * len(steps) * _PROGRESS_SLICE
        for index, township in enumerate(townships):
            with db.engine.begin() as conn:
                keys = KeyAllocator(conn)
                facts: dict[str, Any] = {}
                for step_index, (name, step) in enumerate(steps):
                    base = (index * len(steps) + step_index) * _PROGRESS_SLICE

                    def report(fraction: float, text: str, base: int = base) -> None:
                        reporter.step(base + int(min(max(fraction, 0.0), 1.0) * (_PROGRESS_SLICE - 1)), total, text)

                    rng = random.Random(f"townapp-demo:{seed}:{township.code}:{name}")
                    job = TownshipJob(conn, rng, build, township, keys, report, facts)
                    for table, count in step(job).items():
                        summary.counts[table] = summary.counts.get(table, 0) + count
        summary.townships = len(townships)
    except BaseException:
        _wipe(db)
        raise
    summary.elapsed = time.perf_counter() - started
    (progress or no_progress)(1, 1, "演示数据已生成")
    return summary


def _initialise(db: Database, scale: str, seed: int) -> list[TownshipPlan]:
    """Record the database root through the registry service and plan each township's size."""
    places = demo_resource("places.json")
    rng = random.Random(f"townapp-demo:{seed}:root")
    service = RegistryService(db, DEMO_ACTOR)
    plans: list[TownshipPlan] = []
    if scale == "county":
        county = places["county"]
        service.initialise("county", county["name"], county["code"])
        entries = places["townships"]
        weight_sum = sum(e["weight"] for e in entries)
        for entry in entries:
            township_id = service.add_township(entry["code"], entry["name"])
            households = round(_COUNTY_HOUSEHOLDS * entry["weight"] / weight_sum)
            villages = max(8, round(households / _HOUSEHOLDS_PER_VILLAGE * rng.uniform(0.85, 1.15)))
            plans.append(TownshipPlan(township_id, entry["code"], entry["name"], households, villages))
    else:
        entry = places["township_scale"]
        service.initialise("township", entry["name"], entry["code"])
        township_id = next(t.id for t in service.townships() if t.code == entry["code"])
        plans.append(TownshipPlan(township_id, entry["code"], entry["name"], _TOWNSHIP_HOUSEHOLDS[scale],
                                  _TOWNSHIP_VILLAGES[scale]))
    # the service stamped random UUIDs and the wall clock; the demo wants the same bytes every time
    table = m.Township.__table__
    with db.engine.begin() as conn:
        for plan in plans:
            conn.execute(update(table).where(table.c.id == plan.id)
                         .values(uuid=new_uuid(rng), created_at=DEMO_NOW, updated_at=DEMO_NOW))
    return plans


def _wipe(db: Database) -> None:
    """Empty every table again after a cancelled or failed build (the database was empty before)."""
    try:
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    except Exception:
        log.exception("清空未完成的演示数据时出错")
