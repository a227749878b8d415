"""Worker process for the SIGKILL stories: writes, imports or backs up until it is killed.

The tests fork a child that runs ``main`` (no interpreter start-up per run);
``python -m tests.db.crash_worker MODE DB [FILE]`` runs the same by hand. It
prints ``READY`` once the database is open, then ``ACK <n>`` after each commit
(or backup) returns — an acknowledged commit is one the user was told is saved.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from tests.db.safety_support import person_id_number
from townapp.core.actor import Actor
from townapp.db import open_database
from townapp.db.backup import backup_and_rotate
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput
from townapp.registry.service import RegistryService

ACTOR = Actor("崩溃测试")


def _household(service: RegistryService, village_id: int, n: int) -> None:
    members = [MemberInput(PersonInput(person_id_number(500_000 + 3 * n + k), f"户{n}成员{k}"),
                           ("户主", "配偶", "子")[k]) for k in range(3)]
    service.save_household(HouseholdInput(village_id, f"K{n:05d}", members, address=f"崩溃测试 {n} 号"))


def main(mode: str, db_path: str, extra: str = "", out: TextIO = sys.stdout) -> None:
    db = open_database(Path(db_path))
    service = RegistryService(db, ACTOR)
    village_id = service.villages()[0].id
    print("READY", file=out, flush=True)
    if mode == "import":
        from townapp.exchange.pipeline import run_import
        from townapp.sheets import all_sheet_specs

        report = run_import(db, Path(extra), all_sheet_specs(), actor=ACTOR)
        print(f"ACK import {'ok' if report.accepted else 'rejected'}", file=out, flush=True)
        return
    n = 0
    while True:
        _household(service, village_id, n)
        print(f"ACK {n}", file=out, flush=True)
        if mode == "backup":
            target = backup_and_rotate(db.path, "manual", folder=Path(extra))
            print(f"BACKUP {target.name}", file=out, flush=True)
        n += 1


if __name__ == "__main__":
    main(*sys.argv[1:])
