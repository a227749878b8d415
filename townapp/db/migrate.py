"""Alembic, configured in code: the scripts ship inside the package.

Almost every start opens a database that is already at the head revision, and
importing Alembic costs a tenth of a second. So the head is read from the
migration file names (``versions/0008_outputs.py`` is revision ``0008``; the
numbering is the house rule for migrations, and tests/db/test_migrations.py
proves the derived head equals Alembic's) and the stored revision from the
``alembic_version`` table with plain SQL; Alembic is imported only when there
is something to migrate or a revision to look up.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from townapp.core.errors import DomainError
from townapp.db.sqlitefile import readonly_uri

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
_SCRIPT_NAME = re.compile(r"^(\d+)_\w+\.py$")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def revisions_on_disk() -> list[str]:
    """Every migration's revision, oldest first, from the numbered file names in ``versions/``."""
    numbered = [m.group(1) for p in (MIGRATIONS_DIR / "versions").iterdir() if (m := _SCRIPT_NAME.match(p.name))]
    return sorted(numbered, key=int)


def head_revision() -> str:
    """The newest revision: the highest numbered migration file (the same as Alembic's head)."""
    revisions = revisions_on_disk()
    if not revisions:
        raise DomainError(f"程序文件不完整：找不到数据库升级脚本（{MIGRATIONS_DIR}）")
    return revisions[-1]


def known_revisions() -> set[str]:
    return {rev.revision for rev in _scripts().walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision stored in the database (None for a database no migration has run on)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalars().all()
    if len(rows) > 1:
        raise DomainError(f"数据库版本记录异常（{', '.join(rows)}），请联系技术人员")
    return rows[0] if rows else None


def stored_revision(path: Path) -> str | None:
    """The revision in a database file, read with sqlite3 alone (read-only), before anything opens it."""
    con = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        exists = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (VERSION_TABLE,)).fetchone()
        row = con.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone() if exists else None
    finally:
        con.close()
    return None if row is None else row[0]


def needs_upgrade(path: Path) -> bool:
    """True if opening ``path`` will migrate it (start-up says so while it backs up and migrates)."""
    try:
        return stored_revision(path) != head_revision()
    except sqlite3.DatabaseError:
        return False  # not a database at all: opening it reports that


def refuse_if_newer(current: str | None) -> None:
    if current is None or current == head_revision():
        return
    if current not in known_revisions():
        raise DomainError(
            f"这个数据库由更新版本的 townapp 建立（数据库版本 {current}），"
            "本程序无法安全打开。请先升级 townapp 再打开它。"
        )


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
