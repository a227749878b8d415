"""Schema migrations and the guards around opening a database file.

Stories: the models and the migration scripts never drift apart; a database
written by a newer townapp, or a file of another program, is refused with a
message instead of being "upgraded" into a mess; an older database is backed
up before it is migrated; every connection runs with the pragmas of DESIGN §7.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

import townapp.schema
from townapp import config
from townapp.core.errors import DomainError
from townapp.db import Database, migrate, open_database
from townapp.db.engine import APPLICATION_ID
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService

LATER_REVISION = '''"""a later release adds a table

Revision ID: 9999
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("later_feature", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("later_feature")
'''


def _version(path: Path) -> str | None:
    con = sqlite3.connect(path)
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else row[0]
    finally:
        con.close()


def _tables(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()


def test_models_and_migrated_schema_do_not_differ(tmp_path: Path) -> None:
    # GIVEN a database created from nothing by running every migration
    db = open_database(tmp_path / "fresh.db", create=True)
    try:
        # WHEN alembic compares it with the models' metadata
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    townapp.schema.metadata)
        # THEN there is nothing a new migration would have to do
        assert diff == [], f"models and migrations differ — write a migration: {diff}"
        assert migrate.current_revision(db.engine) == migrate.head_revision()
    finally:
        db.dispose()


def test_an_explicit_upgrade_to_the_head_revision_builds_the_same_schema(tmp_path: Path) -> None:
    # GIVEN an empty file upgraded step by step to the named head revision
    from townapp.db.engine import make_engine

    engine = make_engine(tmp_path / "stepwise.db")
    try:
        migrate.upgrade(engine, migrate.head_revision())
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), townapp.schema.metadata) == []
    finally:
        engine.dispose()


def test_pragmas_on_every_connection(empty_db: Database) -> None:
    # GIVEN an open database WHEN several connections are in use at once (pool, sessions)
    def pragmas(conn: object) -> dict[str, int | str]:
        return {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # type: ignore[attr-defined]
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "application_id")}

    with empty_db.engine.connect() as first, empty_db.engine.connect() as second:
        seen = [pragmas(first), pragmas(second)]
    with empty_db.unit_of_work() as session:
        seen.append(pragmas(session.connection()))
    # THEN each runs with WAL, synchronous=FULL, foreign keys, a busy timeout and our application id
    for values in seen:
        assert values["journal_mode"] == "wal"
        assert values["synchronous"] == 2
        assert values["foreign_keys"] == 1
        assert values["busy_timeout"] > 0
        assert values["application_id"] == APPLICATION_ID


def test_a_database_from_a_newer_townapp_is_refused(empty_db: Database) -> None:
    # GIVEN a database stamped by a newer release with a revision this code does not know
    path = empty_db.path
    with empty_db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    empty_db.dispose()
    # WHEN this release opens it
    with pytest.raises(DomainError) as caught:
        open_database(path)
    # THEN it is refused, telling the user to upgrade, and the file is left as it was
    assert "升级" in caught.value.message
    assert _version(path) == "9999_future"
    assert list(config.backup_dir().iterdir()) == []


@pytest.mark.parametrize("folder", ["", "资料 #2", "50% done?"])
def test_a_database_of_another_program_is_refused(tmp_path: Path, folder: str) -> None:
    # GIVEN a plain SQLite file that some other program wrote (in a folder whose name may hold # ? %)
    (tmp_path / folder).mkdir(exist_ok=True)
    path = tmp_path / folder / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (name TEXT)")
    con.execute("INSERT INTO contacts VALUES ('x')")
    con.commit()
    con.close()
    # WHEN townapp is asked to open it
    with pytest.raises(DomainError) as caught:
        open_database(path)
    # THEN it says this is not a townapp database, and nothing was added to the file
    assert "不是 townapp 的数据库" in caught.value.message
    assert _tables(path) == {"contacts"}


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"PK\x03\x04 this is a spreadsheet, not a database" * 50)
    with pytest.raises(DomainError) as caught:
        open_database(path)
    assert "不是有效的数据库文件" in caught.value.message


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as caught:
        open_database(tmp_path / "nowhere.db")
    assert "不存在" in caught.value.message
    assert not (tmp_path / "nowhere.db").exists()
    with pytest.raises(DomainError) as caught:
        open_database(tmp_path)
    assert "文件夹" in caught.value.message


def test_creating_a_new_database_takes_no_backup(tmp_path: Path) -> None:
    db = open_database(tmp_path / "new" / "townapp.db", create=True)
    db.dispose()
    assert list(config.backup_dir().iterdir()) == []


def test_opening_a_database_at_head_takes_no_backup(empty_db: Database) -> None:
    path = empty_db.path
    empty_db.dispose()
    open_database(path).dispose()
    assert list(config.backup_dir().iterdir()) == []


@pytest.fixture
def later_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    """Switch to the migration scripts of a later release: today's scripts plus a revision 9999.

    Called by the test once its database exists; returns today's head revision.
    """

    def install() -> str:
        current_head = migrate.head_revision()
        scripts = tmp_path / "later_migrations"
        shutil.copytree(migrate.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
        (scripts / "versions" / "9999_later_feature.py").write_text(LATER_REVISION.format(down=current_head),
                                                                      encoding="utf-8")
        monkeypatch.setattr(migrate, "MIGRATIONS_DIR", scripts)
        assert migrate.head_revision() == "9999"
        return current_head

    return install


def test_an_older_database_is_backed_up_then_migrated(db: Database, later_release: Callable[[], str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a township database at today's head revision holding a village
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    path = db.path
    db.dispose()
    # WHEN a later release (one more migration) opens it
    todays_scripts = migrate.MIGRATIONS_DIR
    old_revision = later_release()
    assert _version(path) == old_revision
    upgraded = open_database(path)
    try:
        # THEN the database is migrated to the new head …
        assert migrate.current_revision(upgraded.engine) == "9999"
        assert "later_feature" in _tables(path)
        assert [r.name for r in RegistryService(upgraded).villages()] == ["西关村"]
    finally:
        upgraded.dispose()
    # … AND a backup of the old state was taken first, with the SQLite backup API (complete, self-contained)
    backups = list(config.backup_dir().iterdir())
    assert len(backups) == 1 and "migration" in backups[0].name
    assert backups[0].suffix == ".db"
    assert _version(backups[0]) == old_revision
    assert "later_feature" not in _tables(backups[0])
    con = sqlite3.connect(backups[0])
    try:
        assert con.execute("SELECT name FROM village").fetchall() == [("西关村",)]
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        con.close()

    # AND WHEN today's release (without 9999) meets the migrated file THEN it refuses it
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", todays_scripts)
    with pytest.raises(DomainError) as caught:
        open_database(path)
    assert "升级" in caught.value.message


def test_no_backup_when_the_caller_opts_out(db: Database, later_release: Callable[[], str]) -> None:
    path = db.path
    db.dispose()
    later_release()
    open_database(path, backup_before_migration=False).dispose()
    assert _version(path) == "9999"
    assert list(config.backup_dir().iterdir()) == []
