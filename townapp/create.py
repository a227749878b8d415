"""One way to make a new database: the file, migrated to the head revision, its root unit recorded.

``townapp init`` and the GUI's first run both call :func:`create_database`,
so both refuse an existing file and both clean up alike: whatever fails —
a refused name or code, a full disk, a cancel — the half-made file and its
-wal/-shm companions are removed, and the next try starts from nothing.
"""

from __future__ import annotations

from pathlib import Path

from townapp.core.actor import Actor
from townapp.core.errors import DomainError
from townapp.db import Database, open_database
from townapp.registry.service import RegistryService

SIDE_FILES = ("", "-wal", "-shm", "-journal")


def remove_database_files(path: Path) -> None:
    """The database file and the files SQLite keeps beside it."""
    for suffix in SIDE_FILES:
        Path(str(path) + suffix).unlink(missing_ok=True)


def create_database(path: Path | str, mode: str, name: str, code: str, actor: Actor,
                    village: tuple[str, str] | None = None) -> Database:
    """A new, migrated database for a township (``mode`` "township") or a county, open and ready.

    ``village``: (区划代码, name) makes it a village install of the township (see RegistryService.initialise).

    An existing file is refused, never touched; on any failure after the file was
    made, nothing is left behind. ``path`` may be a server URL: its database must be empty or
    townapp's not yet initialised (the schema is made in one transaction; initialising refuses a second root)."""
    from townapp.db.server import is_server_url

    if is_server_url(path):
        db = open_database(str(path), create=True)
        try:
            if db.meta("mode"):
                raise DomainError(f"服务器数据库 {db.location} 已经初始化为{db.meta('root_name')}，不能再初始化")
            RegistryService(db, actor).initialise(mode, name, code, village)
        except BaseException:
            db.dispose()
            raise
        return db
    path = Path(path)
    if path.exists():
        raise DomainError(f"文件已存在：{path}。为免覆盖数据，请换一个文件名。")
    db: Database | None = None
    try:
        db = open_database(path, create=True)
        RegistryService(db, actor).initialise(mode, name, code, village)
    except BaseException:
        if db is not None:
            db.dispose()
        remove_database_files(path)
        raise
    return db
