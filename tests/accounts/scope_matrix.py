"""The read-scope matrix the services' tests share (issue 16): every public read × role × own/other village.

Each service's test names its reads as ``name → call(service, village id, scratch folder)``; a call
returns what the role got to see of that village. 管理员, 乡镇干部 and 只读 read both villages; a 村录入员
reads their own and gets a PermissionDenied in Chinese (or a NotFound that says 无权) for the other —
or, for a listing, simply does not find the other village in it. The figure adds up every service run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.figures import record
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import NotFound, PermissionDenied
from townapp.db import Database
from townapp.registry import models as m

ROLES = (ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_READONLY, ROLE_VILLAGE)
FIGURE = "村录入员读他村数据 泄露/尝试（网格、评定、积分、报表）"
_TOTAL = {"leaks": 0, "tries": 0}

Read = Callable[[Any, int, Path], Any]


def villages(db: Database) -> tuple[int, int]:
    """The clerk's village (first by code) and another one."""
    with db.reader() as s:
        own, other = s.scalars(select(m.Village.id).order_by(m.Village.code).limit(2)).all()
    return own, other


def village_name(db: Database, village_id: int) -> str:
    with db.reader() as s:
        return s.scalar(select(m.Village.name).where(m.Village.id == village_id))


def actor(role: str, own: int) -> Actor:
    return Actor(f"测试{role}", role, own if role == ROLE_VILLAGE else None)


def unlisted(cls: type, reads: dict[str, Read], writes: set[str], not_reads: set[str]) -> set[str]:
    """Public methods of ``cls`` that are neither a read in the matrix, a write, nor a declared non-read."""
    public = {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}
    return public - {k.split("(")[0] for k in reads} - writes - not_reads


def sweep(service_for: Callable[[Actor], Any], reads: dict[str, Read], listings: set[str], own: int, other: int,
          folder: Path) -> tuple[list[str], list[str]]:
    """(leaks, other problems) of every read × role × village; records the running figure."""
    leaks: list[str] = []
    problems: list[str] = []
    tried = 0
    for role in ROLES:
        service = service_for(actor(role, own))
        for name, call in reads.items():
            for side, village in (("own", own), ("other", other)):
                allowed = role != ROLE_VILLAGE or side == "own"
                where = f"{name} × {role} × {side}"
                try:
                    seen = call(service, village, folder)
                except (PermissionDenied, NotFound) as exc:
                    refused = isinstance(exc, PermissionDenied) and "本村" in exc.message or "无权" in exc.message
                    if allowed:
                        problems.append(f"{where}：不该拒绝：{exc.message}")
                    elif not refused:
                        problems.append(f"{where}：拒绝的说明不清楚：{exc.message}")
                    else:
                        tried += 1
                    continue
                if allowed:
                    if role == ROLE_VILLAGE and not seen:
                        problems.append(f"{where}：本村的数据是空的，这一项没有测到什么")
                    continue
                tried += 1
                if name.split("(")[0] in listings and not seen:
                    continue  # the listing quietly left the other village out
                leaks.append(f"{where}：村录入员读到了他村的数据：{seen!r:.100}")
    _TOTAL["leaks"] += len(leaks)
    _TOTAL["tries"] += tried
    record(FIGURE, f"{_TOTAL['leaks']}/{_TOTAL['tries']}")
    return leaks, problems
