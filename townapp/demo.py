"""``townapp demo``: a realistic synthetic database, byte-identical for the same seed.

The orchestrator initialises the database root, then runs a short sequence of
builder steps per township, one transaction per township. Each step gets a
``TownshipJob``: the open connection, its own random generator (derived from
the seed, the township code and the step name, so adding a step never changes
what earlier steps produce), fixed dates, a primary-key allocator and a
progress callback (townapp/demokit.py). Each module registers its builder in
townapp/modules.py; ``STEPS`` runs them in that order.

Dates are relative to the as-of date (today unless ``as_of`` is given, which
tests and byte-identical builds do): last year is complete, this year runs up
to last month, the current month's entries wait in the queues.

Builders write base data and raw entries (people, grids, meetings, point
records as entered) with SQLAlchemy Core bulk inserts, which bypass the ORM
audit hook on purpose: nobody typed them, and a million audit rows would only
slow the build. Every decision — reviews, 公示, 定级 and what it writes into the
archive — is then taken through the module services, as the township's
administrator would, once the township's bulk transaction is committed
(``TownshipJob.then``); last of all the year close of last year. Timestamps and
UUIDs the services stamp from the clock are then replaced by the demo's own, so
the same seed and date still give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, bindparam, case, func, or_, select, update

from townapp.core.actor import DEMO_ACTOR
from townapp.core.errors import DomainError
from townapp.core.progress import CancelFn, ProgressFn, Reporter, no_progress
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.db.base import Base
from townapp.db.server import advance_sequences
from townapp.demokit import (
    DemoBuild,
    KeyAllocator,
    Step,
    TownshipJob,
    TownshipPlan,
    default_as_of,
    demo_resource,
    new_uuid,
)
from townapp.followup.demo import work_follow_ups
from townapp.modules import demo_steps
from townapp.registry import models as m
from townapp.registry.service import RegistryService
from townapp.yearend.service import YearEndService

__all__ = ["SCALES", "STEPS", "DemoSummary", "TownshipJob", "build_demo"]

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
    as_of: dt.date = field(default_factory=default_as_of)
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
               modules: Sequence[str] | None = None, as_of: dt.date | None = None,
               township: tuple[str, str] | None = None) -> DemoSummary:
    """Fill an empty database with demo data; cancelling (or any error) leaves it empty again.

    ``modules`` limits the build to some steps (by name, e.g. ``("registry",)``) for
    tests that need a county's people but not its five years of meetings.
    ``as_of``: the day the demo's records run up to (default today).
    ``township``: (name, code) of a township-scale demo other than the default 临晋镇 (a county's tests
    build several townships, each sending its package).
    """
    started = time.perf_counter()
    wall_start = _wall_clock() - dt.timedelta(seconds=1)
    as_of = as_of or default_as_of()
    if scale not in SCALES:
        raise DomainError("演示数据规模应为 township（乡镇）或 county（县）")
    if db.meta("mode") is not None:
        raise DomainError("这个数据库已经初始化过了；演示数据只能生成到新的空数据库中")
    reporter = Reporter(progress, cancel)
    summary = DemoSummary(scale=scale, seed=seed, as_of=as_of)
    build = DemoBuild(scale=scale, seed=seed, as_of=as_of)
    try:
        reporter.step(0, 1, "正在初始化演示数据库…")
        townships = _initialise(db, build, township)
        steps = [(name, step) for name, step in STEPS if modules is None or name in modules]
        slices = len(steps) + 1  # the last slice: the township's decisions through the services
        total = len(townships) * slices * _PROGRESS_SLICE
        for index, township in enumerate(townships):
            decisions: list = []
            with db.engine.begin() as conn:
                keys = KeyAllocator(conn)
                facts: dict[str, Any] = {}
                for step_index, (name, step) in enumerate(steps):
                    base = (index * slices + step_index) * _PROGRESS_SLICE

                    def report(fraction: float, text: str, base: int = base) -> None:
                        reporter.step(base + int(min(max(fraction, 0.0), 1.0) * (_PROGRESS_SLICE - 1)), total, text)

                    rng = random.Random(f"townapp-demo:{seed}:{township.code}:{name}")
                    job = TownshipJob(conn, rng, build, township, keys, report, facts, decisions)
                    for table, count in step(job).items():
                        summary.counts[table] = summary.counts.get(table, 0) + count
                advance_sequences(conn)  # a server's sequences past the ids handed out here, before the services insert
            base = (index * slices + len(steps)) * _PROGRESS_SLICE
            before, audited = (_last_ids(db), _audit_mark(db)) if decisions else ({}, 0)
            for number, decision in enumerate(decisions):
                reporter.step(base + number * (_PROGRESS_SLICE - 1) // max(len(decisions), 1), total,
                              f"正在办理 {township.name} 的审核、公示和定级…")
                decision(db)
            if decisions:
                _redraw_uuids(db, before, random.Random(f"townapp-demo:{seed}:{township.code}:decisions"))
                _order_audit(db, audited)
        summary.townships = len(townships)
        if modules is None:
            before, audited = _last_ids(db), _audit_mark(db)
            _close_last_year(db, build)
            _redraw_uuids(db, before, random.Random(f"townapp-demo:{seed}:year-close"))
            _order_audit(db, audited)
        _settle_clock(db, build, wall_start)
    except BaseException:
        _wipe(db)
        raise
    summary.elapsed = time.perf_counter() - started
    (progress or no_progress)(1, 1, "演示数据已生成")
    return summary


def _close_last_year(db: Database, build: DemoBuild) -> None:
    """年度结转 of last year, as the township's administrator does it once the last 公示 is over (February),
    then the follow-up items it proposed are worked; before that day (an as-of date in January or
    February) last year stays open."""
    closed_on = dt.date(build.as_of.year, 2, 27)
    if closed_on > build.as_of:
        return
    YearEndService(db, DEMO_ACTOR).close(build.as_of.year - 1, on=closed_on)
    work_follow_ups(db, build.as_of.year - 1, build.as_of)


def _wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _last_ids(db: Database) -> dict[str, int]:
    """The highest id of every table with UUIDs: rows above it were written by the services afterwards."""
    with db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.max(t.c.id))).scalar() or 0
                for t in Base.metadata.sorted_tables if "uuid" in t.c and "id" in t.c}


def _redraw_uuids(db: Database, before: dict[str, int], rng: random.Random) -> None:
    """UUIDs the services drew at random (uuid4), redrawn from the seed in table and id order."""
    with db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name not in before:
                continue
            ids = conn.execute(select(table.c.id).where(table.c.id > before[table.name])
                               .order_by(table.c.id)).scalars().all()
            if ids:
                conn.execute(update(table).where(table.c.id == bindparam("row_id")),
                             [{"row_id": i, "uuid": new_uuid(rng)} for i in ids])


def _settle_clock(db: Database, build: DemoBuild, wall_start: dt.datetime) -> None:
    """Timestamps the services took from the wall clock during the build become the demo's moment.

    All of a table's time columns are set in one statement: setting one alone would stamp ``updated_at``
    with the clock again (its onupdate). With the UUIDs redrawn (``_redraw_uuids``) and the audit log in a
    fixed order (``_order_audit``) the same seed and as-of date give the same bytes.
    """
    wall_end = _wall_clock() + dt.timedelta(seconds=1)
    with db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, DateTime)]
            if not columns:
                continue
            conn.execute(update(table).where(or_(*(c.between(wall_start, wall_end) for c in columns)))
                         .values({c.name: case((c.between(wall_start, wall_end), build.now), else_=c)
                                  for c in columns}))
        # the audit log keeps a created row's values, its clock-stamped times among them
        audit = AuditEntry.__table__
        changed = []
        for row_id, old, new in conn.execute(select(audit.c.id, audit.c.old, audit.c.new).where(
                audit.c.at == build.now, or_(audit.c.new.like("%T__:__:__%"), audit.c.old.like("%T__:__:__%")))):
            values = {"old": _settled_text(old, wall_start, wall_end, build.now),
                      "new": _settled_text(new, wall_start, wall_end, build.now)}
            if (values["old"], values["new"]) != (old, new):
                changed.append({"entry_id": row_id, **values})
        if changed:
            conn.execute(update(audit).where(audit.c.id == bindparam("entry_id")), changed)


_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?")


def _settled_text(text: str | None, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> str | None:
    """``text`` with every ISO timestamp taken from the clock during the build replaced by the demo's moment."""
    if not text:
        return text

    def settle(match: re.Match[str]) -> str:
        return now.isoformat() if start <= dt.datetime.fromisoformat(match.group()) <= end else match.group()

    return _STAMP.sub(settle, text)


def _audit_mark(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.max(AuditEntry.id))).scalar() or 0


def _order_audit(db: Database, mark: int) -> None:
    """The services' audit rows after ``mark`` renumbered by (entity, entity id, id).

    A flush writes its rows in the order of the session's identity set, which differs from run to run;
    each entity's own changes keep their order.
    """
    table = AuditEntry.__table__
    with db.engine.begin() as conn:
        ids = conn.execute(select(table.c.id).where(table.c.id > mark)
                           .order_by(table.c.entity, table.c.entity_id, table.c.id)).scalars().all()
        if not ids:
            return
        conn.execute(update(table).where(table.c.id > mark).values(id=-table.c.id))
        conn.execute(update(table).where(table.c.id == bindparam("prior_id")),
                     [{"prior_id": -prior, "id": mark + number} for number, prior in enumerate(ids, 1)])


def _initialise(db: Database, build: DemoBuild, township: tuple[str, str] | None = None) -> list[TownshipPlan]:
    """Record the database root through the registry service and plan each township's size."""
    scale, seed = build.scale, build.seed
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
        entry = places["township_scale"] if township is None else {"name": township[0], "code": township[1]}
        service.initialise("township", entry["name"], entry["code"])
        township_id = next(t.id for t in service.townships() if t.code == entry["code"])
        plans.append(TownshipPlan(township_id, entry["code"], entry["name"], _TOWNSHIP_HOUSEHOLDS[scale],
                                  _TOWNSHIP_VILLAGES[scale]))
    # the service stamped random UUIDs and the wall clock; the demo wants the same bytes every time
    table = m.Township.__table__
    with db.engine.begin() as conn:
        for plan in plans:
            conn.execute(update(table).where(table.c.id == plan.id)
                         .values(uuid=new_uuid(rng), created_at=build.now, updated_at=build.now))
    return plans


def _wipe(db: Database) -> None:
    """Empty every table again after a cancelled or failed build (the database was empty before)."""
    try:
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    except Exception:
        log.exception("清空未完成的演示数据时出错")
