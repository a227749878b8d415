"""Engine with the pragmas of DESIGN §7 on every connection, and the unit of work.

SQLite specifics (pragmas, application_id, file checks) live here and in
backup.py/checks.py only, so the models stay dialect-neutral.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError
from townapp.db.audit import install_audit_hook

log = logging.getLogger(__name__)

APPLICATION_ID = 0x544F574E  # "TOWN"
BUSY_TIMEOUT_MS = 10_000


def _set_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA trusted_schema=OFF")
    cursor.close()


def make_engine(path: Path) -> Engine:
    from townapp.db.safety import install_error_translation

    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _set_pragmas)
    install_error_translation(engine)  # a full disk reaches the user as a Chinese message
    return engine


class Database:
    """One database file: its engine and its units of work. Passed in, never global."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        install_audit_hook(self._sessions)

    @contextmanager
    def unit_of_work(self, actor: Actor = SYSTEM_ACTOR, reason: str | None = None) -> Iterator[Session]:
        """One transaction per user action: commit on success, roll back on any error."""
        session = self._sessions()
        session.info["actor"] = actor
        if reason:
            session.info["reason"] = reason
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def meta(self, key: str, default: str | None = None) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(text("SELECT value FROM app_meta WHERE key = :k"), {"k": key}).scalar()
        return default if value is None else value

    def dispose(self) -> None:
        self.engine.dispose()


def readonly_uri(path: Path) -> str:
    """A read-only SQLite URI for ``path``, percent-encoded: a '#' or '?' in a folder
    name would otherwise end the path, and SQLite would open (and create) another file."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def read_application_id(path: Path) -> int:
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        return con.execute("PRAGMA application_id").fetchone()[0]
    finally:
        con.close()


def _has_tables(path: Path) -> bool:
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        return con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] > 0
    finally:
        con.close()


def open_database(path: Path | str, *, create: bool = False, backup_before_migration: bool = True) -> Database:
    """Open (or create) a townapp database and bring its schema to the code's head.

    A database of another program is refused; one newer than this code is
    refused; an older one is backed up with the SQLite backup API, then migrated.
    """
    from townapp.db import migrate
    from townapp.db.backup import backup_database

    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise DomainError(f"{path} 是文件夹，不是数据库文件")
        try:
            app_id = read_application_id(path)
            has_tables = _has_tables(path)
        except sqlite3.DatabaseError:
            raise DomainError(f"{path} 不是有效的数据库文件（可能已损坏或不是 townapp 的数据）") from None
        if has_tables and app_id != APPLICATION_ID:
            raise DomainError(f"{path} 不是 townapp 的数据库，不能打开")
    elif not create:
        raise DomainError(f"数据库文件不存在：{path}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        has_tables = False

    engine = make_engine(path)
    try:
        current = migrate.current_revision(engine)
        migrate.refuse_if_newer(current)
        if current != migrate.head_revision():
            if has_tables and backup_before_migration:
                backup_database(path, reason="migration")
            migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
    except BaseException:
        engine.dispose()
        raise
    return Database(path, engine)
