"""Restore from a backup (GUI and ``townapp restore``), and database files from outside treated as untrusted.

Story: a clerk deleted a village by mistake; the administrator restores this
morning's backup. Another day a file arrives on a USB stick: it is checked
before anything is copied from it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from townapp import config
from townapp.cli import main
from townapp.core.errors import DomainError
from townapp.db import Database, open_database
from townapp.db.backup import backup_database, list_backups, restore_database, untrusted_problems
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService


def _names(path: Path) -> list[str]:
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT name FROM village ORDER BY code")]
    finally:
        con.close()


@pytest.fixture
def morning(db: Database, tmp_path: Path) -> Path:
    """A database with two villages and this morning's backup of it on a USB stick."""
    service = RegistryService(db)
    service.save_village(VillageInput(code="140821100201", name="西关村"))
    service.save_village(VillageInput(code="140821100202", name="东关村"))
    return backup_database(db.path, tmp_path / "U盘 备份")


def test_restore_brings_back_the_backup_and_keeps_the_state_before(db: Database, morning: Path) -> None:
    # GIVEN a village deleted by mistake after the backup, while the app still has the database open
    service = RegistryService(db)
    service.delete_village(service.villages()[1].id)
    service.save_village(VillageInput(code="140821100203", name="南关村"))
    # WHEN the backup is restored
    result = restore_database(db.path, morning)
    # THEN the open database reads the restored villages at once
    assert [v.name for v in RegistryService(db).villages()] == ["西关村", "东关村"]
    # AND the state just before the restore was backed up first, and the restored file checks out
    assert result.previous_state is not None and result.previous_state.parent == config.backup_dir()
    assert _names(result.previous_state) == ["西关村", "南关村"]
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_restore_over_a_damaged_database_sets_the_damaged_file_aside(db: Database, morning: Path) -> None:
    path = db.path
    db.dispose()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\x00" * (4096 - 100)  # the schema page is gone
    path.write_bytes(bytes(data))
    result = restore_database(path, morning)
    assert _names(path) == ["西关村", "东关村"]
    assert result.previous_state is not None and result.previous_state.name.endswith(".damaged")
    assert result.previous_state.read_bytes()[:4096] == bytes(data[:4096])


@pytest.mark.parametrize("damage, message", [
    ("not_sqlite", "不是 SQLite"),
    ("other_program", "不是 townapp"),
    ("trigger", "触发器或视图"),
    ("view", "触发器或视图"),
    ("newer", "更新版本"),
    ("foreign_key", "外键"),
    ("corrupt", "完整性检查未通过"),
])
def test_untrusted_files_are_checked_before_use(db: Database, morning: Path, tmp_path: Path, damage: str,
                                                message: str) -> None:
    # GIVEN a file from outside with one thing wrong with it
    bad = tmp_path / f"{damage}.db"
    shutil.copyfile(morning, bad)
    if damage == "not_sqlite":
        bad.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 50)
    elif damage == "corrupt":
        data = bytearray(bad.read_bytes())
        page = 4096 * (len(data) // 4096 // 2)
        data[page:page + 4096] = bytes(b ^ 0xFF for b in data[page:page + 4096])
        bad.write_bytes(bytes(data))
    else:
        con = sqlite3.connect(bad)
        statements = {
            "other_program": "PRAGMA application_id=0",
            "trigger": "CREATE TRIGGER steal AFTER INSERT ON person BEGIN DELETE FROM village; END",
            "view": "CREATE VIEW person_view AS SELECT * FROM person",
            "newer": "UPDATE alembic_version SET version_num='9999'",
            "foreign_key": "INSERT INTO household (village_id, number, uuid, created_at, updated_at) "
                           "VALUES (999, '001', 'x', '2026-01-01', '2026-01-01')",
        }
        con.execute(statements[damage])
        con.commit()
        con.close()
    before = _names(db.path)
    # WHEN it is checked, or offered for a restore THEN it is refused with the reason, and nothing changes
    problems = untrusted_problems(bad)
    assert problems and message in problems[0]
    with pytest.raises(DomainError, match=message):
        restore_database(db.path, bad)
    assert _names(db.path) == before
    assert list_backups(config.backup_dir(), db.path.stem) == []  # refused before even backing up


def test_cli_restore(db: Database, morning: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = db.path
    RegistryService(db).save_village(VillageInput(code="140821100203", name="南关村"))
    db.dispose()
    # WHEN restoring from a file that is not a database THEN exit 1 with the reason
    junk = tmp_path / "junk.db"
    junk.write_text("x" * 100)
    assert main(["restore", "--db", str(path), "--from", str(junk)]) == 1
    assert "不能用这个文件恢复" in capsys.readouterr().err
    # WHEN restoring from this morning's backup THEN exit 0, the villages are the backup's
    assert main(["restore", "--db", str(path), "--from", str(morning)]) == 0
    out = capsys.readouterr().out
    assert "已恢复" in out and "恢复前的数据已备份到" in out
    assert _names(path) == ["西关村", "东关村"]
    reopened = open_database(path)
    reopened.dispose()


def test_a_write_during_a_restore_lands_in_the_safety_backup_or_the_restored_database(
        db: Database, morning: Path) -> None:
    """GIVEN a database open in the app, and a second writer (another program) working on it
    WHEN a restore runs, and the other writer tries to save the moment the restore holds the lock
    THEN that save is refused as DatabaseBusy (Chinese message) instead of slipping in between the
    safety backup and the restore; a save committed just before the restore is in the safety backup;
    the same save tried again after the restore lands in the restored database. Nothing is lost."""
    from townapp.db.busy import DatabaseBusy

    other = open_database(db.path, busy_timeout_ms=0)  # another writer that does not wait
    try:
        RegistryService(other).save_village(VillageInput(code="140821100204", name="北关村"))  # before the restore
        attempts: list[str] = []

        def save_while_locked() -> None:  # called by restore once it holds the write lock
            try:
                RegistryService(other).save_village(VillageInput(code="140821100205", name="中关村"))
            except DatabaseBusy as exc:
                attempts.append(exc.message)
            else:
                attempts.append("saved")

        result = restore_database(db.path, morning, locked=save_while_locked)
        assert len(attempts) == 1 and attempts[0] != "saved" and "数据库正忙" in attempts[0]
        assert "恢复数据库" in attempts[0]  # the note says who holds it
        # the save before the restore is in the safety backup; the restored file is the morning's
        assert result.previous_state is not None and "北关村" in _names(result.previous_state)
        assert _names(db.path) == ["西关村", "东关村"]
        # the refused save, tried again, lands in the restored database
        RegistryService(other).save_village(VillageInput(code="140821100205", name="中关村"))
        assert _names(db.path) == ["西关村", "东关村", "中关村"]
    finally:
        other.dispose()


def test_cli_restore_refuses_while_a_window_has_the_database_open(
        db: Database, morning: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GIVEN the database open in a window (the app's single-instance lock held by another process)
    WHEN ``townapp restore`` runs THEN exit 1 with a Chinese message, nothing restored."""
    import subprocess
    import sys

    from townapp.ui.lock import lock_path

    code = ("import sys\nfrom PySide6.QtCore import QLockFile\n"
            f"lock = QLockFile({str(lock_path(db.path))!r}); lock.setStaleLockTime(0)\n"
            "assert lock.tryLock(0); print('held', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        RegistryService(db).save_village(VillageInput(code="140821100203", name="南关村"))
        assert main(["restore", "--db", str(db.path), "--from", str(morning)]) == 1
        assert "另一个窗口" in capsys.readouterr().err
        assert "南关村" in _names(db.path)
    finally:
        holder.communicate("", timeout=30)
