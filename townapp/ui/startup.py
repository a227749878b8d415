"""The GUI's start-up and shutdown, in the order that keeps data safe.

1. one window per database (lock file, stale locks reclaimed);
2. a live database on a USB drive or network share is refused, a copy offered;
3. ``quick_check``: a damaged database is reported and the newest good backup offered;
4. open (migrating after a backup), then a start-up backup;
5. who acts: first run sets the administrator password, otherwise login —
   ``--demo`` opens as the demo administrator without one;
6. while the window is open, a backup every 30 minutes if anything changed; one on exit.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from townapp import config
from townapp.accounts.service import AccountService
from townapp.core.actor import DEMO_ACTOR, Actor
from townapp.core.errors import DomainError
from townapp.core.policy import security_policy
from townapp.db import Database, open_database
from townapp.db.audit import AuditEntry
from townapp.db.backup import backup_and_rotate, newest_good_backup, restore_database
from townapp.db.safety import UnsafeLocation, check_live_location, copy_into_data_folder, startup_problems
from townapp.ui.lock import DatabaseLock
from townapp.ui.login import ask_first_admin, ask_login

log = logging.getLogger(__name__)

Yes, No = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def ensure_safe_location(path: Path) -> Path | None:
    """The path to open: ``path`` itself, a copy in the data folder the user agreed to, or None."""
    try:
        check_live_location(path)
        return path
    except UnsafeLocation as exc:
        box = QMessageBox(QMessageBox.Icon.Warning, "不能在这里打开数据库", exc.message)
        copy = box.addButton("复制到数据文件夹并打开", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is not copy:
            return None
        target = copy_into_data_folder(path)
        QMessageBox.information(None, "已复制", f"已复制到：\n{target}\n以后请打开这个文件；原文件未改动。")
        return target


def ensure_healthy(path: Path) -> bool:
    """``quick_check`` at start-up; a damaged database may be replaced by the newest good backup."""
    problems = startup_problems(path)
    if not problems:
        return True
    log.error("启动检查发现数据库损坏：%s：%s", path, "；".join(problems[:5]))
    backup = newest_good_backup(path)
    details = "；".join(problems[:3])
    if backup is None:
        QMessageBox.critical(None, "数据库已损坏", f"数据库检查未通过（{details}），也没有找到可用的备份：\n{path}\n"
                             "请不要再向这个文件写入数据，并联系技术人员。")
        return False
    answer = QMessageBox.question(
        None, "数据库已损坏",
        f"数据库检查未通过（{details}）：\n{path}\n\n最新的完好备份是：\n{backup.name}\n\n"
        "要用这份备份恢复吗？损坏的文件会另存一份，不会删除。", Yes | No, Yes)
    if answer != Yes:
        return False
    try:
        restore_database(path, backup)
    except DomainError as exc:
        QMessageBox.critical(None, "恢复失败", exc.message)
        return False
    QMessageBox.information(None, "已恢复", f"已用 {backup.name} 恢复。备份之后录入的数据需要重新录入。")
    return True


def authenticate(db: Database, demo: bool) -> Actor | None:
    """Who acts in this session: the demo administrator, a new first administrator, or a login."""
    if demo:
        return DEMO_ACTOR
    accounts = AccountService(db)
    if accounts.needs_first_admin():
        return ask_first_admin(accounts)
    return ask_login(accounts, db.meta("root_name") or "")


class BackupKeeper(QObject):
    """Every ``interval`` minutes, a backup — only if the audit log grew (something changed) since the last one."""

    def __init__(self, db: Database, minutes: int | None = None) -> None:
        super().__init__()
        self.db = db
        self.last_seen = self._marker()
        self.timer = QTimer(self)
        self.timer.setInterval(int((minutes or security_policy().backup_interval_minutes) * 60_000))
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.backups: list[Path] = []

    def _marker(self) -> int:
        with self.db.reader() as s:
            return s.query(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1).scalar() or 0

    def tick(self) -> Path | None:
        marker = self._marker()
        if marker == self.last_seen:
            return None
        try:
            target = backup_and_rotate(self.db.path, "periodic")
        except DomainError as exc:
            log.error("定时备份失败：%s", exc.message)
            return None
        self.last_seen = marker
        self.backups.append(target)
        return target


STARTUP_BACKUP_DELAY_MS = 200


class StartupBackup(QObject):
    """The start-up backup, taken in the background once the window is on screen.

    A county database is hundreds of MB; copying and checking it before the
    window appeared made users wait seconds for nothing. WAL lets the backup
    API read while the user works.
    """

    failed = Signal(str)

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.failed.connect(lambda message: QMessageBox.warning(None, "备份失败", message))

    def start(self) -> None:
        QThreadPool.globalInstance().start(self._run)

    def _run(self) -> None:
        try:
            backup_and_rotate(self.path, "startup")
        except DomainError as exc:
            log.error("启动时备份失败：%s", exc.message)
            self.failed.emit(exc.message)


def _backup_quietly(path: Path, reason: str) -> None:
    try:
        backup_and_rotate(path, reason)
    except DomainError as exc:
        log.error("备份失败（%s）：%s", reason, exc.message)
        QMessageBox.warning(None, "备份失败", exc.message)


def open_database_for_session(path: Path, demo: bool) -> Database | None:
    from townapp.ui.app import build_demo_with_progress, create_database_interactively

    if path.exists():
        if not ensure_healthy(path):
            return None
        return open_database(path)
    return build_demo_with_progress(path) if demo else create_database_interactively(path)


def run_session(app: QApplication, db_path: Path | None, demo: bool) -> int:
    from townapp.ui.app import open_main_window

    path = db_path or (config.demo_db_path() if demo else config.default_db_path())
    try:
        safe = ensure_safe_location(path)
    except DomainError as exc:
        QMessageBox.critical(None, "无法打开数据库", exc.message)
        return 1
    if safe is None:
        return 0
    path = safe
    lock = DatabaseLock(path)
    if not lock.acquire():
        QMessageBox.warning(None, "数据库已打开", lock.message)
        return 1
    try:
        try:
            db = open_database_for_session(path, demo)
        except DomainError as exc:
            QMessageBox.critical(None, "无法打开数据库", exc.message)
            return 1
        if db is None:
            return 0
        actor = authenticate(db, demo)
        if actor is None:
            db.dispose()
            return 0
        window = open_main_window(db, actor)
        startup_backup = StartupBackup(path)
        QTimer.singleShot(STARTUP_BACKUP_DELAY_MS, startup_backup.start)  # the window first, then the copy
        keeper = BackupKeeper(db)
        code = app.exec()
        keeper.timer.stop()
        QThreadPool.globalInstance().waitForDone()  # a start-up backup still running finishes first
        del window
        db.dispose()
        _backup_quietly(path, "exit")
        return code
    finally:
        lock.release()
