"""``townapp demo``: a realistic synthetic database, byte-identical for the same seed.

The orchestrator initialises the database root, then runs a short sequence of
builder steps per township, one transaction per township. Each step gets a
``TownshipJob``: the open connection, its own random generator (derived from
the seed, the township code and the step name, so adding a step never changes
what earlier steps produce), fixed dates, a primary-key allocator and a
progress callback. Later modules (archives, grids, points …) append their
builders to ``STEPS``.

Builders write with SQLAlchemy Core bulk inserts, which bypass the ORM audit
hook on purpose: demo data is not anybody's change, and a million audit rows
would only slow the build and bury real entries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, func, select, update

from townapp import config
from townapp.archives import demo as archives_demo
from townapp.core.actor import DEMO_ACTOR
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn, Reporter, no_progress
from townapp.db import Database
from townapp.db.base import Base
from townapp.evaluations import demo as evaluations_demo
from townapp.grids import demo as grids_demo
from townapp.points import demo as points_demo
from townapp.registry import demo as registry_demo
from townapp.registry import models as m
from townapp.registry.service import RegistryService

log = logging.getLogger(__name__)

# The demo world stands still on this day: ages, dates and timestamps derive from it, never from now().
DEMO_DATE = dt.date(2026, 7, 1)
DEMO_NOW = dt.datetime(2026, 7, 1, 9, 0, 0)

SCALES = ("township", "county", "small")
SCALE_LABELS = {"township": "乡镇", "county": "县", "small": "小规模（测试用）"}
# households and villages per scale; "small" keeps tests of other modules fast
_TOWNSHIP_HOUSEHOLDS = {"township": 8_000, "small": 400}
_TOWNSHIP_VILLAGES = {"township": 20, "small": 3}
_COUNTY_HOUSEHOLDS = 150_000
_HOUSEHOLDS_PER_VILLAGE = 400
_PROGRESS_SLICE = 1000  # progress units per (township, step)


@lru_cache(maxsize=8)
def demo_resource(name: str) -> dict[str, Any]:
    """One JSON file of resources/demo/ (names, places, population), read once."""
    return json.loads(config.resource("demo", name).read_text(encoding="utf-8"))


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng`` (uuid4() would break same seed → same data)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class KeyAllocator:
    """Integer primary keys handed out in advance, so rows can reference each other without round trips."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._next: dict[str, int] = {}

    def take(self, table: Table, count: int = 1) -> int:
        """The first of ``count`` consecutive fresh ids of ``table``."""
        if table.name not in self._next:
            self._next[table.name] = (self._conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        first = self._next[table.name]
        self._next[table.name] = first + count
        return first


@dataclass
class DemoBuild:
    """Build-wide state: what must stay unique across townships (ID numbers, village names)."""

    scale: str
    seed: int
    used: dict[str, set[str]] = field(default_factory=dict)

    def claim(self, namespace: str, value: str) -> bool:
        """Reserve ``value``; False if another township (or row) already has it."""
        taken = self.used.setdefault(namespace, set())
        if value in taken:
            return False
        taken.add(value)
        return True


@dataclass
class TownshipPlan:
    id: int
    code: str
    name: str
    households: int
    villages: int


@dataclass
class TownshipJob:
    """What one builder step gets for one township."""

    conn: Connection
    rng: random.Random
    build: DemoBuild
    township: TownshipPlan
    keys: KeyAllocator
    report: Callable[[float, str], None]  # (fraction of this step done, Chinese text); raises Cancelled
    facts: dict[str, Any]  # what earlier steps of this township learned, by step name
    as_of: dt.date = DEMO_DATE
    now: dt.datetime = DEMO_NOW

    def synced(self) -> dict[str, Any]:
        """The SyncedMixin columns a bulk insert must set itself."""
        return {"uuid": new_uuid(self.rng), "created_at": self.now, "updated_at": self.now}


# A step fills its tables for one township and returns row counts by table name.
Step = Callable[[TownshipJob], dict[str, int]]
STEPS: tuple[tuple[str, Step], ...] = (
    ("registry", registry_demo.build_township),
    ("archives", archives_demo.build_township),
    ("evaluations", evaluations_demo.build_township),
    ("grids", grids_demo.build_township),
    ("points", points_demo.build_township),
)


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
