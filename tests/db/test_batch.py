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


def test_a_record_two_steps_from_its_village_is_logged_with_that_village(open_demo) -> None:  # noqa: ANN001
    """GIVEN the demo township's grid scores (a score → its grid member → the grid → the village)
    WHEN the audit's one village rule looks them up, as values (a batch) and in SQL (the creates it logs)
    THEN both give each score its grid's village, and a 党员 record is its person's village, not its branch's."""
    from townapp.db.audit import village_sql, villages_of
    from townapp.grids import models as g

    db = open_demo("township", 1)
    score = g.GridAssessment.__table__
    with db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(score).order_by(score.c.id).limit(50))]
        expected = dict(conn.execute(
            select(score.c.id, g.Grid.village_id).join(g.GridMember, g.GridMember.id == score.c.member_id)
            .join(g.Grid, g.Grid.id == g.GridMember.grid_id).where(score.c.id.in_([r["id"] for r in rows]))).all())
        by_values = villages_of(conn, score, rows)
        by_sql = dict(conn.execute(select(score.c.id, village_sql(score)).where(
            score.c.id.in_([r["id"] for r in rows]))).all())
        party = m.PartyMember.__table__
        member = dict(conn.execute(select(party).limit(1)).one()._mapping)
        person_village = conn.execute(select(m.Person.village_id).where(m.Person.id == member["person_id"])).scalar()
        assert villages_of(conn, party, [member]) == [person_village]
    assert rows and None not in expected.values()
    assert by_values == [expected[r["id"]] for r in rows]
    assert by_sql == expected
