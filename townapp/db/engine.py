"""Engine with the pragmas of DESIGN §7 on every connection, and the unit of work.

SQLite specifics (pragmas, application_id, file checks) live here and in
backup.py/checks.py only, so the models stay dialect-neutral.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError
from townapp.db import migrate, server
from townapp.db.audit import AuditedSession
from townapp.db.backup import backup_database
from townapp.db.busy import DatabaseBusy, is_locked_error
from townapp.db.safety import install_error_translation
from townapp.db.sqlitefile import APPLICATION_ID, read_application_id, readonly_uri, snapshot_uri

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")


def _pragmas(busy_timeout_ms: int) -> Callable[[sqlite3.Connection, Any], None]:
    def set_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA trusted_schema=OFF")
        cursor.close()

    return set_pragmas


def make_engine(path: Path, busy_timeout_ms: int | None = None) -> Engine:
    """``busy_timeout_ms``: how long a write waits for another writer before DatabaseBusy
    (default BUSY_TIMEOUT_MS, read when called)."""
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _pragmas(BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms))
    install_error_translation(engine)  # a full disk or a held lock reaches the user as a Chinese message
    return engine


class Database:
    """One database — a file, or a server's database (``path`` None): its engine and its units of work.
    Passed in, never global."""

    def __init__(self, path: Path | None, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.server = engine.dialect.name != "sqlite"
        # what the user is shown and what names this database in settings: the file, or the URL without password
        self.location = str(path) if path is not None else server.shown(engine.url)
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False, class_=AuditedSession)
        self._shared = threading.local()

    @contextmanager
    def shared_reads(self) -> Iterator[None]:
        """While open, ``read_once`` keeps what it read, in this thread only: a package's sheets share
        their larger reads (a year's points totals feed both 报表数据 and 党员年度积分) instead of each
        reading it again. Only for work that writes nothing until the block ends."""
        outer = getattr(self._shared, "memo", None)
        if outer is None:
            self._shared.memo = {}
        try:
            yield
        finally:
            if outer is None:
                self._shared.memo = None

    def read_once(self, key: Hashable, read: Callable[[], T]) -> T:
        """What ``read`` returns; read once per key inside ``shared_reads``, every time outside it."""
        memo = getattr(self._shared, "memo", None)
        if memo is None:
            return read()
        if key not in memo:
            memo[key] = read()
        return memo[key]

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
        except BaseException as exc:
            session.rollback()
            if isinstance(exc, (sqlite3.OperationalError, OperationalError)) and is_locked_error(exc):
                raise DatabaseBusy(self.path) from exc  # in case SQLAlchemy's error event was bypassed
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


def _has_tables(path: Path) -> bool:
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        return con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] > 0
    finally:
        con.close()


def _schema_objects(path: Path) -> dict[str, str]:
    """Name → type of everything in the file's schema (tables, indexes, triggers, views)."""
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        return {name: kind for kind, name in con.execute("SELECT type, name FROM sqlite_master")}
    finally:
        con.close()


def _missing_tables(objects: dict[str, str]) -> list[str]:
    """Tables of the code's schema absent from a file at the head revision."""
    from townapp.schema import metadata  # the composition root (alembic's env.py reads it too)

    return sorted(name for name in metadata.tables if objects.get(name) != "table")


DAMAGED_MESSAGE = "{path} 已损坏，无法读取（{detail}）。请运行 townapp check 查看，或从备份恢复。"


def open_readonly(path: Path | str) -> Database:
    """A Database that can only read ``path``: for ``townapp check``, which must change nothing.

    No journal-mode switch, no application_id, no migration; ``query_only`` on every connection.
    """
    path = Path(path)
    uri = snapshot_uri(path)

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        con.text_factory = lambda raw: raw.decode("utf-8", "replace")  # a damaged value must not crash a check
        con.execute("PRAGMA query_only=ON")
        con.execute("PRAGMA trusted_schema=OFF")
        con.execute("PRAGMA cell_size_check=ON")
        return con

    engine = create_engine("sqlite://", creator=connect, future=True)
    return Database(path, engine)


def open_database(path: Path | str, *, create: bool = False, backup_before_migration: bool = True,
                  busy_timeout_ms: int | None = None,
                  ask_password: server.PasswordPrompt | None = None) -> Database:
    """Open (or create) a townapp database and bring its schema to the code's head.

    ``path``: a file, or a ``postgresql://`` URL (a county server, ``open_server_database``).
    A database of another program is refused; one newer than this code is
    refused; an older one is backed up with the SQLite backup API, then migrated.
    """
    if server.is_server_url(path):
        return open_server_database(str(path), create=create,
                                    ask_password=ask_password or server.terminal_prompt())
    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise DomainError(f"{path} 是文件夹，不是数据库文件")
        if path.stat().st_size == 0:  # SQLite would silently make it a new, empty database
            raise DomainError(f"{path} 文件是空的（0字节），不是数据库。请从备份恢复，或换一个文件。")
        try:
            app_id = read_application_id(path)
            has_tables = _has_tables(path)
            objects = _schema_objects(path)
        except sqlite3.DatabaseError:
            raise DomainError(f"{path} 不是有效的数据库文件（可能已损坏或不是 townapp 的数据）") from None
        if has_tables and app_id != APPLICATION_ID:
            raise DomainError(f"{path} 不是 townapp 的数据库，不能打开")
        if has_tables and "alembic_version" not in objects:  # our id, but not our schema: never migrate it
            raise DomainError(f"{path} 没有 townapp 的数据库结构版本记录（可能是别的程序的文件，或已损坏），不能打开。"
                              "请运行 townapp check 查看，或从备份恢复。")
        odd = sorted(name for name, kind in objects.items() if kind in ("trigger", "view"))
        if odd:  # townapp creates none: one that, say, deletes audit entries must never run
            raise DomainError(f"{path} 中含有 townapp 不会建立的触发器或视图（{'、'.join(odd[:5])}），"
                              "数据库可能被改动过，不能打开。请运行 townapp check 查看，或从备份恢复。")
        if has_tables:  # before the engine, whose first connection switches the file to WAL (a write)
            revision = migrate.stored_revision(path)
            if revision is None:  # tables but no revision: migrating "from scratch" would collide with them
                raise DomainError(f"{path} 的数据库结构版本记录是空的（数据库已损坏或被改动过），不能打开。"
                                  "请运行 townapp check 查看，或从备份恢复。")
            migrate.refuse_if_newer(revision)
            missing = _missing_tables(objects) if revision == migrate.head_revision() else []
            if missing:  # one look at sqlite_master, instead of a "no such table" in the middle of an export
                raise DomainError(f"{path} 缺少 townapp 的数据表：{'、'.join(missing[:10])}（数据库不完整或被改动过），"
                                  "不能打开。请运行 townapp check 查看，或从备份恢复。")
    elif not create:
        raise DomainError(f"数据库文件不存在：{path}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        has_tables, app_id = False, 0

    engine = make_engine(path, busy_timeout_ms)
    try:
        current = migrate.current_revision(engine)
        migrate.refuse_if_newer(current)
        if current != migrate.head_revision():
            if has_tables and backup_before_migration:
                backup_database(path, reason="migration")
            migrate.upgrade(engine)
        if app_id != APPLICATION_ID:  # a write: only once, so opening never waits for another writer
            with engine.begin() as conn:
                conn.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")
    except (sqlite3.DatabaseError, SADatabaseError) as exc:
        engine.dispose()
        if is_locked_error(exc):
            raise DatabaseBusy(path) from exc
        detail = str(getattr(exc, "orig", exc)).splitlines()[0]
        raise DomainError(DAMAGED_MESSAGE.format(path=path, detail=detail)) from exc
    except BaseException:
        engine.dispose()
        raise
    # the models' relationships are worked out once, here (about 30 ms), rather than by whichever
    # query happens to come first — an import's set-based reads would pay it inside their timing
    configure_mappers()
    return Database(path, engine)


def open_server_database(url: str, *, create: bool = False,
                         ask_password: server.PasswordPrompt | None = None) -> Database:
    """A PostgreSQL database: connected, checked to be townapp's (or empty, with ``create``), migrated to head.

    Backing up before a migration is the server administrator's (``pg_dump``); the migration itself runs in
    one transaction, as PostgreSQL's DDL is transactional.
    """
    engine = server.connect_engine(server.server_url(url), ask_password)
    install_error_translation(engine)
    try:
        current = migrate.current_revision(engine)
        if current is None:
            foreign = server.has_foreign_tables(engine)
            if foreign:
                raise DomainError(f"服务器数据库 {server.shown(engine.url)} 中有别的程序的数据表"
                                  f"（{'、'.join(foreign[:5])}），不是 townapp 的数据库，不能打开")
            if not create:
                raise DomainError(f"服务器数据库 {server.shown(engine.url)} 还没有 townapp 的数据表："
                                  "请先用 townapp init --db 该地址 --county 县名称 --code 区划代码 初始化")
        migrate.refuse_if_newer(current)
        if current != migrate.head_revision():
            migrate.upgrade(engine)
    except SADatabaseError as exc:
        engine.dispose()
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DomainError(f"服务器数据库 {server.shown(engine.url)} 无法使用（{detail}）。"
                          "请联系服务器管理员（townapp 的账号需要建表和读写这些表的权限，见说明书）") from exc
    except BaseException:
        engine.dispose()
        raise
    configure_mappers()
    return Database(None, engine)
