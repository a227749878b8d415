""""database is locked" becomes DatabaseBusy: a Chinese message that says who holds the database.

Story: 张三 imports a large workbook; meanwhile 李四 saves a person, and a script
runs ``townapp import``. Neither gets SQLite's raw "database is locked" after
10 s (the CLI's exit 3): both are told the database is busy, by whom, and
that nothing was changed. The tests use a short busy timeout (a parameter), never long waits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.db.safety_support import make_import_file
from townapp.cli import main
from townapp.db import Database, open_database
from townapp.db import engine as engine_module
from townapp.db.busy import DatabaseBusy, holding
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService


@pytest.fixture
def held(db: Database) -> Iterator[Path]:
    """The database's write lock held by another writer that announced itself (as an import does)."""
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    with holding(db.path, "正在导入 人员.xlsx", "张三"):
        other = sqlite3.connect(db.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield db.path
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_a_service_write_against_a_held_lock_raises_database_busy(held: Path) -> None:
    """GIVEN an import holding the write lock WHEN a clerk saves a village (busy timeout 50 ms)
    THEN DatabaseBusy (a DomainError) names the import and its user; nothing was saved."""
    db = open_database(held, busy_timeout_ms=50)
    try:
        with pytest.raises(DatabaseBusy) as caught:
            RegistryService(db).save_village(VillageInput(code="140821100202", name="东关村"))
        assert "数据库正忙" in caught.value.message
        assert "正在导入 人员.xlsx" in caught.value.message and "张三" in caught.value.message
        assert [v.name for v in RegistryService(db).villages()] == ["西关村"]
    finally:
        db.dispose()


def test_cli_import_against_a_held_lock_exits_1_with_the_holder(
        held: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN an import holding the write lock WHEN ``townapp import`` runs against the same database
    THEN exit 1 (not 3) with the Chinese message saying who holds it."""
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_MS", 50)
    workbook = make_import_file(tmp_path / "新人员.xlsx", 3, 500)
    code = main(["import", "--db", str(held), str(workbook)])
    output = capsys.readouterr()
    err = output.out + output.err
    assert code == 1, err
    assert "数据库正忙" in err and "正在导入 人员.xlsx" in err and "张三" in err


def test_a_note_left_by_a_dead_process_is_not_believed(db: Database) -> None:
    """GIVEN a holder note left by a process that no longer runs WHEN the lock times out
    THEN the message does not name that long-gone holder."""
    from townapp.db.busy import describe_holder, note_path

    note_path(db.path).write_text('{"what": "正在导入 旧.xlsx", "user": "王五", "pid": 999999999, '
                                  '"started": "2020-01-01 08:00:00"}', encoding="utf-8")
    assert describe_holder(db.path) is None
    assert "王五" not in DatabaseBusy(db.path).message
