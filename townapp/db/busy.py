"""Who holds the database: a note beside it while a long write runs, and the error that names it.

SQLite says only "database is locked". A user waiting on a save wants to know
that 张三 is importing 人员.xlsx since 14:02, and that it is worth waiting. A
long writer (an import, a restore) leaves a small JSON note ``<db>.writer``
for as long as it holds the database; ``DatabaseBusy`` reads it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from townapp.core.errors import DomainError

log = logging.getLogger(__name__)


class DatabaseBusy(DomainError):
    """Another program (or window) holds the database's write lock longer than we waited."""

    def __init__(self, db_path: Path | str | None = None) -> None:
        holder = describe_holder(db_path) if db_path is not None else None
        who = f"{holder}" if holder else "另一个程序或窗口正在写入这个数据库"
        super().__init__(f"数据库正忙：{who}。本次操作没有保存，数据没有改变。请等对方完成后再试。")
        self.holder = holder


def is_locked_error(exc: BaseException) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED from sqlite3 (directly or wrapped by SQLAlchemy)."""
    original = getattr(exc, "orig", exc)
    text = str(original)
    return "database is locked" in text or "database table is locked" in text


def note_path(db_path: Path | str) -> Path:
    return Path(str(db_path) + ".writer")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def describe_holder(db_path: Path | str) -> str | None:
    """"正在导入 人员.xlsx（用户 张三，开始于 …）" from the note of a live writer, else None."""
    try:
        data = json.loads(note_path(db_path).read_text(encoding="utf-8"))
        if not _alive(int(data["pid"])):
            return None
        return f"{data['what']}（用户 {data['user']}，开始于 {data['started']}，进程 {data['pid']}）"
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextmanager
def holding(db_path: Path | str, what: str, user: str) -> Iterator[None]:
    """Leave the note for the duration of a long write; a note that cannot be written is not an error.

    Written before the lock is taken, so a live writer's note is never overwritten by one that waits."""
    path = note_path(db_path)
    note = {"what": what, "user": user, "pid": os.getpid(),
            "started": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")}
    written = False
    if describe_holder(db_path) is None:  # another live writer's note stays: it is the one we will wait for
        try:
            path.write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
            written = True
        except OSError as exc:
            log.warning("无法写入占用说明 %s：%s", path, exc)
    try:
        yield
    finally:
        if written:
            try:
                if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                    path.unlink()
            except (OSError, ValueError):
                pass
