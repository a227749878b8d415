"""db/batch.py: a batch's audit rows say the same as the session hook's, whichever way they are built."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from townapp.core.actor import CLI_ACTOR
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.db.audit import AuditEntry, snapshot_rows
from townapp.db.batch import BatchWrite
from townapp.registry import models as m
from townapp.registry.dto import PersonInput, VillageInput
from townapp.registry.service import RegistryService

COLUMNS = ("id", "id_number", "id_number_rev", "name", "name_initials", "sex", "birth_date", "ethnicity",
           "education", "phone", "village_id", "note", "uuid", "created_at", "updated_at")


def test_sql_built_snapshots_equal_the_python_ones_and_the_hooks(db: Database) -> None:
    """GIVEN a person saved in a dialog (audited by the session hook)
    WHEN two more are written by a batch (snapshots built by SQLite's json_object)
    THEN each batch snapshot is the text ``snapshot_rows`` gives for the same row, and has the same keys
    and value types as the hook's snapshot of the dialog's person."""
    registry = RegistryService(db)
    village = registry.save_village(VillageInput(code="140821100201", name="西关村"))
    registry.save_person(PersonInput(make_id_number("140821", dt.date(1970, 1, 1), 11), "张三", village_id=village))
    now = dt.datetime(2026, 12, 6, 9, 30)
    rows = []
    for n, (name, note) in enumerate((("李四", None), ('王"五\\', "外出务工")), start=100):
        number = make_id_number("140821", dt.date(1980, 2, 3), n)
        rows.append((n, number, number[::-1], name, "ls", "男", dt.date(1980, 2, 3), "汉族", None, None, village,
                     note, f"uuid-{n}", now, now))
    with db.engine.begin() as conn:
        BatchWrite(conn, CLI_ACTOR, batch_id=5, now=now).insert(m.Person.__table__, COLUMNS, rows)
    with db.engine.connect() as conn:
        logged = dict(conn.execute(select(AuditEntry.entity_id, AuditEntry.new).where(
            AuditEntry.entity == "person", AuditEntry.action == "create")).all())
    assert [logged[100], logged[101]] == snapshot_rows(COLUMNS, rows)
    hook = json.loads(next(v for k, v in logged.items() if k not in (100, 101)))
    batch = json.loads(logged[101])
    assert hook.keys() == batch.keys()
    assert {k: type(v) for k, v in hook.items() if v is not None} == \
        {k: type(v) for k, v in batch.items() if v is not None and hook[k] is not None}
