"""What every module's demo builder is handed: the shared pieces of ``townapp demo``.

Dates are relative to the build's as-of date (today unless given), so last year is
complete and this year runs up to last month. A builder writes base data and raw
entries in bulk, then registers its decisions (``TownshipJob.then``) — reviews, 公示,
定级 — which the orchestrator takes through the module services once the bulk rows
are committed, as a user would.

A leaf: the module demos (``townapp/<module>/demo.py``) import these, and
``townapp/demo.py`` — the composition root that runs the builders in order —
imports the module demos through ``townapp/modules.py``; never the other way round.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, func, select

from townapp.core.resources import load_data

if TYPE_CHECKING:
    from townapp.db import Database


def default_as_of() -> dt.date:
    """The demo's as-of date unless one is given: today, so its records run up to the user's calendar."""
    return dt.date.today()


def demo_now(as_of: dt.date) -> dt.datetime:
    """The moment the demo world stands still: ages, dates and timestamps derive from it, never from now()."""
    return dt.datetime.combine(as_of, dt.time(9))


@lru_cache(maxsize=8)
def demo_resource(name: str) -> dict[str, Any]:
    """One JSON file of resources/demo/ (names, places, population), read once."""
    return load_data("demo", name)


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
    as_of: dt.date = field(default_factory=default_as_of)
    used: dict[str, set[str]] = field(default_factory=dict)

    @property
    def now(self) -> dt.datetime:
        return demo_now(self.as_of)

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


# A decision: a callable run with the open database after the bulk transaction (a service works in its own sessions).
Decision = Callable[["Database"], None]


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
    # decisions taken through the module services once the township's bulk transaction is committed
    decisions: list[Decision] = field(default_factory=list)

    @property
    def as_of(self) -> dt.date:
        return self.build.as_of

    @property
    def now(self) -> dt.datetime:
        return self.build.now

    def then(self, decision: Decision) -> None:
        """Take ``decision(db)`` after the bulk rows are committed: reviews, 公示, 定级 through the services."""
        self.decisions.append(decision)

    def synced(self) -> dict[str, Any]:
        """The SyncedMixin columns a bulk insert must set itself."""
        return {"uuid": new_uuid(self.rng), "created_at": self.now, "updated_at": self.now}


# A step fills its tables for one township and returns row counts by table name.
Step = Callable[[TownshipJob], dict[str, int]]
