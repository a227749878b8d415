"""Single instance per database: a QLockFile beside it, reclaimed when its owner crashed.

Two windows writing the same file would each believe their view is current;
the second one is refused with a message saying which process holds it. A lock
left by a crash (its process no longer runs) is detected by Qt as stale and
taken over.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLockFile


def lock_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".lock")


class DatabaseLock:
    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self._lock = QLockFile(str(lock_path(self.db_path)))
        self._lock.setStaleLockTime(0)  # stale only when the owning process is gone, never by age
        self.message = ""

    def acquire(self) -> bool:
        """True if this process now owns the database; otherwise ``message`` says why not."""
        lock_path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        if self._lock.tryLock(0):
            return True
        error = self._lock.error()
        if error == QLockFile.LockError.LockFailedError:
            pid, host, _app = self._lock.getLockInfo()[-3:]  # PySide6 returns (pid, host, app)
            self.message = (f"这个数据库已经在另一个窗口中打开（进程 {pid}，计算机 {host}）：\n{self.db_path}\n\n"
                            "同一个数据库只能打开一个窗口，请切换到已打开的窗口。")
        else:
            self.message = f"无法在数据库所在的文件夹中建立锁文件（没有写入权限？）：\n{lock_path(self.db_path)}"
        return False

    def release(self) -> None:
        if self._lock.isLocked():
            self._lock.unlock()
