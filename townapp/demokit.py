"""What every module's demo builder is handed: the shared pieces of ``townapp demo``.

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
from typing import Any

from sqlalchemy import Connection, Table, func, select

from townapp.core.resources import load_data

# The demo world stands still on this day: ages, dates and timestamps derive from it, never from now().
DEMO_DATE = dt.date(2026, 7, 1)
DEMO_NOW = dt.datetime(2026, 7, 1, 9, 0, 0)


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
