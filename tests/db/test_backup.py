"""Backups: a consistent, self-contained copy made with the SQLite backup API.

Story: the app is open and has just saved work (still only in the -wal file);
a backup taken now must contain that work, open on its own without any
sidecar files, and never leave a half-written file behind.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from townapp import config
from townapp.core.errors import DomainError
from townapp.db import Database, open_database
from townapp.db.backup import backup_database
from townapp.db.engine import APPLICATION_ID
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService


def _villages(path: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return con.execute("SELECT code, name FROM village ORDER BY code").fetchall()
    finally:
        con.close()


@pytest.fixture
def busy_db(db: Database) -> Database:
    """A township database, open, with work committed but not yet checkpointed into the main file."""
    service = RegistryService(db)
    service.save_village(VillageInput(code="140821100201", name="西关村", groups=["一组", "二组"]))
    service.save_village(VillageInput(code="140821100202", name="东关村"))
    return db


def test_backup_contains_work_still_in_the_wal(busy_db: Database, tmp_path: Path) -> None:
    # GIVEN committed rows that live only in the -wal file so far (a file copy of the .db would miss them)
    wal = busy_db.path.with_name(busy_db.path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0
    naive_copy = tmp_path / "naive-copy.db"
    shutil.copyfile(busy_db.path, naive_copy)
    assert _villages(naive_copy) == []  # the main file alone does not have them yet
    # WHEN a backup is taken while the app keeps the database open
    target = backup_database(busy_db.path, tmp_path / "backups", reason="manual")
    # THEN the backup holds every committed row
    assert target.parent == tmp_path / "backups"
    assert target.suffix == ".db" and "manual" in target.name
    assert _villages(target) == [("140821100201", "西关村"), ("140821100202", "东关村")]
    # AND it is self-contained: rollback journal mode, no -wal/-shm beside it, no .part left over
    con = sqlite3.connect(target)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        con.close()
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_backup_opens_as_a_townapp_database_with_the_same_rows(busy_db: Database, tmp_path: Path) -> None:
    # GIVEN a backup of a database with villages and groups
    target = backup_database(busy_db.path, tmp_path / "backups")
    # WHEN it is opened by townapp like any database (e.g. after a restore)
    restored = open_database(target)
    try:
        # THEN it holds the same villages with their groups, and opening it needed no migration backup
        rows = [(v.code, v.name, v.groups) for v in RegistryService(restored).villages()]
        original = [(v.code, v.name, v.groups) for v in RegistryService(busy_db).villages()]
        assert rows == original
        assert rows[1] == ("140821100202", "东关村", ())
        assert rows[0][2] == ("一组", "二组")
    finally:
        restored.dispose()
    assert list(config.backup_dir().iterdir()) == []


def test_backup_of_a_closed_database_goes_to_the_data_folder(busy_db: Database) -> None:
    # GIVEN the app has closed the database (no -wal/-shm left)
    path = busy_db.path
    busy_db.dispose()
    # WHEN a backup is taken without naming a folder
    target = backup_database(path, reason="exit")
    # THEN it lands in the data folder's backups, complete
    assert target.parent == config.backup_dir()
    assert _villages(target) == _villages(path)
    assert not list(config.backup_dir().glob("*.part"))


def test_two_backups_in_a_row_do_not_overwrite_each_other(busy_db: Database, tmp_path: Path) -> None:
    first = backup_database(busy_db.path, tmp_path)
    second = backup_database(busy_db.path, tmp_path)
    assert first != second
    assert first.exists() and second.exists()


def test_backup_of_a_database_in_a_folder_with_spaces_and_hash(busy_db: Database, tmp_path: Path) -> None:
    # GIVEN a database kept in a folder whose name has a space and a # (legal on Windows and Linux)
    folder = tmp_path / "台账 #2"
    folder.mkdir()
    target = backup_database(busy_db.path, folder)
    moved = open_database(target)
    moved_path = moved.path
    try:
        RegistryService(moved).save_village(VillageInput(code="140821100203", name="南关村"))
        # WHEN that database is backed up
        copy = backup_database(moved_path, tmp_path / "out")
    finally:
        moved.dispose()
    # THEN the backup is of that database, not of some other file the path was mistaken for
    assert _villages(copy) == [("140821100201", "西关村"), ("140821100202", "东关村"), ("140821100203", "南关村")]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("台账")] == ["台账 #2"]


def test_backup_of_a_missing_file_fails_instead_of_creating_an_empty_copy(tmp_path: Path) -> None:
    # GIVEN a database path that does not exist (a USB stick was pulled, a typo)
    missing = tmp_path / "gone.db"
    # WHEN a backup is asked for THEN it fails, and neither an empty database nor a backup appears
    with pytest.raises((sqlite3.Error, DomainError)):
        backup_database(missing, tmp_path / "out")
    assert not missing.exists()
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_failed_backup_leaves_no_part_file(tmp_path: Path) -> None:
    # GIVEN a "database" that is not one (a damaged file)
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database" * 100)
    out = tmp_path / "out"
    # WHEN a backup of it is attempted THEN it is refused in Chinese, and nothing (no .part file) is left behind
    with pytest.raises(DomainError, match="不是 SQLite 数据库"):
        backup_database(broken, out)
    assert not out.exists() or list(out.iterdir()) == []


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    from townapp.db import backup as backup_module

    calls: list[tuple[str, bool]] = []
    real = backup_module.integrity_problems

    def counting(path: Path, *, quick: bool = False) -> list[str]:
        calls.append((Path(path).name, quick))
        return real(path, quick=quick)

    monkeypatch.setattr(backup_module, "integrity_problems", counting)
    return calls


def test_a_routine_backup_checks_the_new_copy_once_not_twice(busy_db: Database, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the rotation, which verifies the newest backup before deleting any older one
    from townapp.db.backup import backup_and_rotate

    calls = _count_checks(monkeypatch)
    # WHEN the app takes its routine backup (a county database takes 30 s per integrity_check)
    target = backup_and_rotate(busy_db.path, "exit", folder=tmp_path / "backups")
    # THEN the new copy went through integrity_check exactly once, the full check, before any rotation
    checks_of_the_new_copy = [quick for name, quick in calls if target.stem in name]
    assert checks_of_the_new_copy == [False]


def test_the_copy_before_an_import_is_verified_with_quick_check(busy_db: Database, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a backup asked for with quick verification (what the import pipeline asks for)
    calls = _count_checks(monkeypatch)
    # WHEN it is written
    target = backup_database(busy_db.path, tmp_path / "backups", reason="import", quick_verify=True)
    # THEN the copy was checked once, with quick_check, and is a sound database
    assert [quick for _name, quick in calls] == [True]
    con = sqlite3.connect(target)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
