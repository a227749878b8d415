"""一村一档 reads are village-scoped in the service (issue 16, hole 4).

Every public read of ArchiveService is tried by every role on a clerk's own
village and on another one: 管理员, 乡镇干部 and 只读 read every village; a
村录入员 reads only their own and gets a PermissionDenied in Chinese for any
other (the archive PDF, the pay table, cadres, meetings, party members …).
``resolve_person`` answers a clerk the same for an ID registered in another
village as for an ID registered nowhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.figures import record
from townapp.archives.printable import write_archive, write_pay_xlsx
from townapp.archives.service import ArchiveService
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import PermissionDenied, ValidationFailed
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.registry import models as m

Read = Callable[[ArchiveService, int, Path], Any]

# name → call(service, village id, scratch folder); each returns what the role got to see
READS: dict[str, Read] = {
    "village_id_by_code": lambda s, v, _p: s.village_id_by_code(_code(s, v)),
    "village_name": lambda s, v, _p: s.village_name(v),
    "party_counts": lambda s, v, _p: s.party_counts(v),
    "party_members": lambda s, v, _p: s.party_members(v),
    "resolve_person": lambda s, v, _p: s.resolve_person(v, _a_name(s, v)),
    "profile": lambda s, v, _p: s.profile(v, 2025),
    "years": lambda s, v, _p: s.years(v),
    "year": lambda s, v, _p: s.year(v, 2025),
    "chart_points": lambda s, v, _p: s.chart_points(v),
    "cadres": lambda s, v, _p: s.cadres(v),
    "terms": lambda s, v, _p: s.terms(v),
    "first_secretaries": lambda s, v, _p: s.first_secretaries(v),
    "talents": lambda s, v, _p: s.talents(v),
    "pay_inputs": lambda s, v, _p: s.pay_inputs(v, 2025),
    "pay_table": lambda s, v, _p: s.pay_table(v, 2025),
    "centre": lambda s, v, _p: s.centre(v),
    "cooperatives": lambda s, v, _p: s.cooperatives(v, 2025),
    "rectifications": lambda s, v, _p: s.rectifications(v),
    "commitments": lambda s, v, _p: s.commitments(v),
    "meetings": lambda s, v, _p: s.meetings(v),
    "attachments": lambda s, v, _p: s.attachments(v),
    "attachment_path": lambda s, v, p: s.attachment_path(_attachment(s, v, p)),
    "violations": lambda s, v, _p: s.violations(v),
    "overview": lambda s, v, _p: [r for r in s.overview() if r.village_id == v],
    "档案PDF(write_archive)": lambda s, v, p: write_archive(s, v, p / f"档案{v}.pdf").exists(),
    "报酬发放表(write_pay_xlsx)": lambda s, v, p: write_pay_xlsx(s.pay_table(v, 2025), p / f"报酬{v}.xlsx").exists(),
}
LISTINGS = {"overview"}  # lists every visible village: the other one simply is not in it
# pure field checks of data with no village in it; check_cadres is a write's check (refused like the write)
# check_* are a write's checks; batch_writer is the import's write door (tests/archives/test_import_door.py)
NOT_READS = {"check_year", "check_commitments", "check_rectification", "check_cadres", "batch_writer",
             "carry_forward"}  # carry_forward: the year close's write (tests/accounts/matrix_pay.py)


def _code(service: ArchiveService, village_id: int) -> str:
    with service.db.reader() as s:
        return s.scalar(select(m.Village.code).where(m.Village.id == village_id))


def _a_name(service: ArchiveService, village_id: int) -> str:
    with service.db.reader() as s:
        return s.scalar(select(m.Person.id_number).where(m.Person.village_id == village_id).limit(1))


def _attachment(service: ArchiveService, village_id: int, folder: Path) -> int:
    source = folder / f"附件{village_id}.txt"
    source.write_text("会议纪要", encoding="utf-8")
    return ArchiveService(service.db).add_attachment(village_id, source, title="纪要").id


def _villages(db: Database) -> tuple[int, int]:
    with db.reader() as s:
        own, other = s.scalars(select(m.Village.id).order_by(m.Village.code).limit(2)).all()
    return own, other


def _actor(role: str, own: int) -> Actor:
    return Actor(f"测试{role}", role, own if role == ROLE_VILLAGE else None)


def test_every_public_read_is_in_the_matrix() -> None:
    public = {n for n in dir(ArchiveService) if not n.startswith("_") and callable(getattr(ArchiveService, n))}
    reads = {n for n in public if not n.startswith(("save_", "delete_", "remove_", "add_", "set_"))} - NOT_READS
    assert reads - {k.split("(")[0] for k in READS} == set()


def test_archive_reads_are_scoped_to_the_clerks_village(demo_db: Database, tmp_path: Path) -> None:
    """GIVEN the small demo township (archives filled in) and a clerk of its first village
    WHEN each role calls every public read on the clerk's village and on another
    THEN township roles and 只读 read both; the clerk reads their own and is refused the other, in Chinese."""
    own, other = _villages(demo_db)
    tried = leaked = 0
    for role in (ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_READONLY, ROLE_VILLAGE):
        service = ArchiveService(demo_db, _actor(role, own))
        for name, call in READS.items():
            for side, village in (("own", own), ("other", other)):
                allowed = role != ROLE_VILLAGE or side == "own"
                try:
                    seen = call(service, village, tmp_path)
                except PermissionDenied as exc:
                    assert not allowed, f"{name} × {role} × {side}: {exc.message}"
                    assert "本村" in exc.message
                    tried += 1
                    continue
                if not allowed and name in LISTINGS and not seen:  # the listing quietly left it out
                    tried += 1
                    continue
                if not allowed:
                    leaked += 1
                    tried += 1
                    pytest.fail(f"{name} × {role} × {side}: 村录入员读到了他村的档案：{seen!r:.80}")
    record("一村一档：村录入员读他村档案 泄露/尝试", f"{leaked}/{tried}")
    assert tried == len(READS)


def test_a_clerk_cannot_tell_an_id_elsewhere_from_an_unknown_one(demo_db: Database) -> None:
    """GIVEN a clerk of one village, an ID registered in another village and an ID registered nowhere
    WHEN the clerk's archive form resolves each
    THEN both get the very same answer ("本村没有这个人"); a township cadre still finds the registered one."""
    own, other = _villages(demo_db)
    with demo_db.reader() as s:
        elsewhere = s.scalar(select(m.Person.id_number).where(m.Person.village_id == other).limit(1))
        registered = set(s.scalars(select(m.Person.id_number)))
    nowhere = next(make_id_number("140821", dt.date(1990, 1, 1), seq) for seq in range(1, 999)
                   if make_id_number("140821", dt.date(1990, 1, 1), seq) not in registered)
    clerk = ArchiveService(demo_db, _actor(ROLE_VILLAGE, own))
    answers = []
    for number in (elsewhere, nowhere):
        with pytest.raises(ValidationFailed) as caught:
            clerk.resolve_person(own, number)
        answers.append(caught.value.problems[0].message.replace(number, "<ID>"))
    assert answers[0] == answers[1] and "本村没有这个人" in answers[0]
    assert ArchiveService(demo_db, _actor(ROLE_TOWNSHIP, own)).resolve_person(own, elsewhere) > 0
