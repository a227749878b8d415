"""The GUI's start-up and shutdown, in the order that keeps data safe.

The main window comes first: the moment the process has Qt, the real window
is on screen in its opening state (title, menus, navigation, status bar, and a
panel saying what is happening). Then, with the window showing:

1. a live database on a USB drive or network share is refused, a copy offered;
2. one window per database (lock file, stale locks reclaimed);
3. ``quick_check``: a damaged database is reported and the newest good backup offered;
4. open (migrating after a backup) — or, the first time, build the demo database
   (``--demo``) or create a new township database;
5. who acts: first run sets the administrator password, otherwise login —
   ``--demo`` opens as the demo administrator without one;
6. the window builds its pages; once the first one shows its data, a start-up backup is taken
   in the background;
7. while the window is open, a backup every 30 minutes if anything changed; one on exit.

A county or prefecture server (``--db postgresql://…``, issue 22) has no file: steps 1–3, the demo,
the new database and every backup are the file's and are skipped; the server is connected (asking for
its password when it wants one), then login and the pages as above. Its backups are its administrator's
(``pg_dump``).

The slow steps (the location check and the database layer it imports,
``quick_check``, finding a good backup, restoring, migrating, building the
demo) run in the thread pool while the panel names them; every dialog is
parented to the window and runs on the GUI thread. The steps are one generator,
``_session_steps`` (a file's own steps 1–4 in ``_file_steps``), that yields each piece of slow work and is resumed with its
result, so the order above reads top to bottom in one place. Giving up ends the
process with the codes it always had: 0 when the user chose to stop, 1 when the
database cannot be opened, 3 for an unexpected failure (the log has it).
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from townapp import config
from townapp.core.actor import DEMO_ACTOR, SYSTEM_ACTOR, Actor
from townapp.core.errors import Cancelled, DomainError, FieldProblem, ValidationFailed
from townapp.core.progress import CancelFn, ProgressFn
from townapp.ui import startup_timing
from townapp.ui.lock import DatabaseLock
from townapp.ui.main_window import DeferredPages, MainWindow, ModulePages, PageFactory
from townapp.ui.pages.table import PAGE_FACTORIES, preload_context
from townapp.ui.widgets.fields import ErrorLabel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from townapp.db import Database

log = logging.getLogger(__name__)

Yes, No = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
EXIT_OK, EXIT_REFUSED, EXIT_UNEXPECTED = 0, 1, 3  # the codes of townapp.cli
# a write waits this long on the GUI thread for another writer (an import elsewhere); then a save
# goes on waiting in the background with a 正在等待… dialog (ui.jobs.wait_while_busy) instead of freezing
GUI_BUSY_TIMEOUT_MS = 2_000
STARTUP_BACKUP_LATEST_MS = 15_000  # the start-up backup waits for the first page's data, but no longer
SERVER_STARTED = 2  # NewDatabaseDialog's result when the app started again on a server instead


@dataclass(frozen=True)
class Background:
    """One slow step: ``work(progress, cancel)`` runs in the pool while the opening panel shows ``text``."""

    text: str
    work: Callable[[ProgressFn, CancelFn], Any]
    cancellable: bool = False


Steps = Generator[Background, Any, Any]


def run_inline(steps: Steps) -> Any:
    """Drive ``steps`` on the calling thread (no window to keep alive): each Background runs in place."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = steps.send(result) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value
        try:
            result, error = step.work(lambda *_args: None, lambda: False), None
        except Exception as exc:  # handed back to the steps, as the pool does
            result, error = None, exc


# ----- the steps' slow work (runs in the pool; no Qt) -------------------------------------------
def location_problem(path: Path) -> str | None:
    """Why ``path`` must not be opened where it is (USB drive, network share), or None.

    The first step to touch the database layer, so it also pays for importing it — in the pool.
    """
    from townapp.db.safety import UnsafeLocation, check_live_location

    try:
        check_live_location(path)
    except UnsafeLocation as exc:
        return exc.message
    return None


def health_problems(path: Path) -> list[str]:
    from townapp.db.safety import startup_problems

    return startup_problems(path)


Loader = Callable[[], object]  # imports what a page needs (townapp/ui/pages/table.py), off the GUI thread


def _preload(load: Loader) -> None:
    """Run one loader now, off the GUI thread; a module that fails is left for its page to report."""
    try:
        load()
    except Exception:
        log.exception("预先导入 %s 失败", getattr(load, "__name__", load))


def check_while_importing(path: Path, modules: Sequence[Loader]) -> list[str]:
    """``quick_check`` (seconds on a county database) in a helper thread — SQLite lets go of the GIL —
    while this thread imports, in order, the modules the pages will need, until the check is done."""
    outcome: dict[str, Any] = {}

    def check() -> None:
        try:
            outcome["problems"] = health_problems(path)
        except BaseException as exc:  # re-raised below, in the step
            outcome["error"] = exc

    checker = threading.Thread(target=check, name="townapp-quick-check", daemon=True)
    checker.start()
    for module in modules:
        if not checker.is_alive():
            break
        _preload(module)
    checker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["problems"]


def open_for_session(path: Path, progress: ProgressFn, preload: Sequence[Loader] = ()) -> Database:
    """Open ``path`` (backing up and migrating an older one), then import what the pages need first.

    First the hidden temporary files that killed backups and exports of earlier runs left in the
    database's folder, the data folder and the backups folder go (our own names only, older than us)."""
    from townapp.core.atomic import clean_leftovers
    from townapp.db import migrate, open_database

    for folder in dict.fromkeys((path.parent, config.data_dir(), config.backup_dir())):
        clean_leftovers(folder)
    if migrate.needs_upgrade(path):
        progress(0, 0, "正在备份并升级数据库……")
    db = open_database(path, busy_timeout_ms=GUI_BUSY_TIMEOUT_MS)
    progress(0, 0, "正在准备页面……")
    for module in preload:
        _preload(module)  # here rather than on the GUI thread, where it would freeze the busy bar
    return db


# ----- a server instead of a file (issue 22) ------------------------------------------------------
def names_a_server(value: object) -> bool:
    """A ``postgresql://`` URL (the CLI hands a server over as a string, a file as a Path). Decided without
    importing the database layer: the window must be on screen before SQLAlchemy is loaded."""
    return isinstance(value, str) and "://" in value


def without_password(url: str) -> str:
    """The URL as the status bar and the error reporter may show it before the database layer is loaded."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}@{host}" if parts.username else host))
    except ValueError:
        return "postgresql://…"  # unreadable: show nothing that might hold a password


def create_township_database(path: Path, name: str, code: str,
                             village: tuple[str, str] | None = None) -> Database:
    """The first run's new township database (runs in the pool): the one creation the CLI's ``init`` uses,
    with its clean-up — on any failure no file is left behind. ``village``: (区划代码, name) of a village install."""
    from townapp.create import create_database

    return create_database(path, "township", name, code, SYSTEM_ACTOR, village)


def build_demo_database(path: Path, progress: ProgressFn, cancel: CancelFn) -> None:
    """First ``--demo`` start: generate the demo township at ``path`` (runs in the pool).

    Built under a temporary name and renamed when complete, so a cancel or a
    crash never leaves a half-built database where the next start would open it.
    """
    from townapp.create import remove_database_files
    from townapp.db import open_database
    from townapp.demo import build_demo

    tmp = path.with_suffix(".building.db")
    remove_database_files(tmp)
    db = open_database(tmp, create=True)
    try:
        build_demo(db, scale="township", seed=1, progress=progress, cancel=cancel)
    except BaseException:
        db.dispose()
        remove_database_files(tmp)
        raise
    db.dispose()
    tmp.replace(path)


# ----- dialogs and the flows that need them (GUI thread) -----------------------------------------
class NewDatabaseDialog(QDialog):
    """First run: what township this database is for."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("新建数据库")
        self.name = QLineEdit()
        self.name.setPlaceholderText("如：临晋镇")
        self.code = QLineEdit()
        self.code.setPlaceholderText("9位或12位区划代码，如 140821100")
        self.error = ErrorLabel()
        self.is_village = QCheckBox("村级安装（村录入员自己的电脑，只录入一个村，数据包交乡镇导入）")
        self.is_village.setObjectName("is_village")
        self.village_name = QLineEdit()
        self.village_name.setPlaceholderText("如：东张村")
        self.village_code = QLineEdit()
        self.village_code.setPlaceholderText("12位村区划代码，如 140821100201")
        form = QFormLayout()
        form.addRow("乡镇名称", self.name)
        form.addRow("区划代码", self.code)
        form.addRow("", self.is_village)
        form.addRow("村名称", self.village_name)
        form.addRow("村区划代码", self.village_code)
        for field in (self.village_name, self.village_code):
            field.setEnabled(False)
            self.is_village.toggled.connect(field.setEnabled)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("新建")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        # a county or prefecture whose data is on a server starts from here too, with no file of its own
        server = buttons.addButton("连接服务器数据库…", QDialogButtonBox.ButtonRole.ActionRole)
        server.setObjectName("connect_server")
        server.clicked.connect(self.connect_server)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(f"还没有数据库。将在数据文件夹中新建：\n{path}")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def connect_server(self) -> None:
        """连接服务器数据库: once the app has started again on the server, this start ends (no file made)."""
        from townapp.ui.server_dialog import ServerDialog

        if ServerDialog(config.Settings(), self).exec() == QDialog.DialogCode.Accepted:
            self.done(SERVER_STARTED)

    def village(self) -> tuple[str, str] | None:
        """(区划代码, name) when this is a village install."""
        if not self.is_village.isChecked():
            return None
        return self.village_code.text(), self.village_name.text()


def safe_location_steps(path: Path, parent: QWidget | None) -> Generator[Background, Any, Path | None]:
    """The path to open: ``path`` itself, a copy in the data folder the user agreed to, or None."""
    problem = yield Background("正在检查数据库位置……", lambda _p, _c: location_problem(path))
    if problem is None:
        return path
    box = QMessageBox(QMessageBox.Icon.Warning, "不能在这里打开数据库", problem, parent=parent)
    copy = box.addButton("复制到数据文件夹并打开", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("退出", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not copy:
        return None
    from townapp.db.safety import copy_into_data_folder

    target = yield Background("正在把数据库复制到数据文件夹……", lambda _p, _c: copy_into_data_folder(path))
    QMessageBox.information(parent, "已复制", f"已复制到：\n{target}\n以后请打开这个文件；原文件未改动。")
    return target


def recovery_steps(path: Path, problems: list[str], parent: QWidget | None) -> Generator[Background, Any, bool]:
    """A damaged database: offer the newest backup that passes ``integrity_check``; True once restored."""
    from townapp.db.backup import newest_good_backup, restore_database

    log.error("启动检查发现数据库损坏：%s：%s", path, "；".join(problems[:5]))
    details = "；".join(problems[:3])
    backup = yield Background("数据库检查未通过，正在查找完好的备份……", lambda _p, _c: newest_good_backup(path))
    if backup is None:
        QMessageBox.critical(parent, "数据库已损坏", f"数据库检查未通过（{details}），也没有找到可用的备份：\n{path}\n"
                             "请不要再向这个文件写入数据，并联系技术人员。")
        return False
    answer = QMessageBox.question(
        parent, "数据库已损坏",
        f"数据库检查未通过（{details}）：\n{path}\n\n最新的完好备份是：\n{backup.name}\n\n"
        "要用这份备份恢复吗？损坏的文件会另存一份，不会删除。", Yes | No, Yes)
    if answer != Yes:
        return False
    try:
        yield Background("正在用备份恢复数据库……", lambda _p, _c: restore_database(path, backup))
    except DomainError as exc:
        QMessageBox.critical(parent, "恢复失败", exc.message)
        return False
    QMessageBox.information(parent, "已恢复", f"已用 {backup.name} 恢复。备份之后录入的数据需要重新录入。")
    return True


def ensure_healthy(path: Path, parent: QWidget | None = None) -> bool:
    """``quick_check`` at start-up; a damaged database may be replaced by the newest good backup."""
    problems = health_problems(path)
    return not problems or bool(run_inline(recovery_steps(path, problems, parent)))


def new_database_steps(path: Path, parent: QWidget | None) -> Generator[Background, Any, Database | None]:
    """First run without ``--demo``: ask which township, then create and migrate the database."""
    dialog = NewDatabaseDialog(path, parent)
    while dialog.exec() == QDialog.DialogCode.Accepted:
        name, code, village = dialog.name.text(), dialog.code.text(), dialog.village()
        try:
            return (yield Background("正在新建数据库……", lambda _p, _c, name=name, code=code, village=village:
                                     create_township_database(path, name, code, village)))
        except ValidationFailed as exc:
            dialog.error.show_problems(exc.problems)
        except DomainError as exc:
            dialog.error.show_problems([FieldProblem("", exc.message)])
    return None


def server_steps(url: str, parent: QWidget | None,
                 preload: Sequence[Loader]) -> Generator[Background, Any, Database | None]:
    """Connect to the server database; when it wants a password libpq did not have, ask for it (again,
    with the server's answer, until it is right or the user gives up: None)."""
    from townapp.ui.server_dialog import LoginRefused, ask_server_password

    password: str | None = None
    problem = ""
    while True:
        try:
            return (yield Background("正在连接服务器数据库……", lambda p, _c, password=password:
                                     _connected_and_loaded(url, password, p, preload)))
        except LoginRefused as exc:
            problem = exc.message if password is not None else ""

        password = ask_server_password(without_password(url), problem, parent)
        if password is None:
            return None


def _connected_and_loaded(url: str, password: str | None, progress: ProgressFn,
                          preload: Sequence[Loader]) -> Database:
    """The server database open (ui/server_dialog.connect_to_server), then what the pages need imported."""
    from townapp.ui.server_dialog import connect_to_server

    db = connect_to_server(url, password, progress)
    progress(0, 0, "正在准备页面……")
    for module in preload:
        _preload(module)
    return db


def demo_database_steps(path: Path, parent: QWidget | None) -> Generator[Background, Any, bool]:
    """First ``--demo`` start: generate the demo township, with progress and a cancel button."""
    try:
        yield Background("正在生成演示数据……", lambda p, c: build_demo_database(path, p, c), cancellable=True)
    except Cancelled:
        return False
    except DomainError as exc:
        QMessageBox.critical(parent, "演示数据生成失败", exc.message)
        return False
    except Exception:  # as before: the failure is shown and the app ends normally
        log.exception("演示数据生成失败")
        QMessageBox.critical(parent, "演示数据生成失败", f"发生意外错误，详细信息已写入日志文件：\n{config.log_path()}")
        return False
    return True


def authenticate(db: Database, demo: bool, parent: QWidget | None = None) -> Actor | None:
    """Who acts in this session: the demo administrator, a new first administrator, or a login."""
    if demo:
        return DEMO_ACTOR
    from townapp.accounts.service import AccountService
    from townapp.ui.login import ask_first_admin, ask_login

    accounts = AccountService(db)
    if accounts.needs_first_admin():
        return ask_first_admin(accounts, parent)
    return ask_login(accounts, db.meta("root_name") or "", parent)


# ----- while the window is open ------------------------------------------------------------------
class BackupKeeper(QObject):
    """Every ``interval`` minutes, a backup — only if the audit log grew (something changed) since the last one."""

    def __init__(self, db: Database, minutes: int | None = None) -> None:
        from townapp.core.policy import security_policy

        super().__init__()
        self.db = db
        self.last_seen = self._marker()
        self.timer = QTimer(self)
        self.timer.setInterval(int((minutes or security_policy().backup_interval_minutes) * 60_000))
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.backups: list[Path] = []

    def _marker(self) -> int:
        from townapp.db.audit import AuditEntry

        with self.db.reader() as s:
            return s.query(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1).scalar() or 0

    def tick(self) -> Path | None:
        from townapp.db.backup import backup_and_rotate

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


class StartupBackup(QObject):
    """The start-up backup, taken in the background once the first page shows its data.

    A county database is over a GB; copying and checking it before the window
    appeared made users wait seconds for nothing, and copying it while the first
    page counts its figures made them wait twice as long for those. WAL lets
    the backup API read while the user works. ``start`` runs once.
    """

    failed = Signal(str)

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__()
        self.path = path
        self.started = False
        self.failed.connect(lambda message: QMessageBox.warning(parent, "备份失败", message))

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        QThreadPool.globalInstance().start(self._run)

    def _run(self) -> None:
        from townapp.db.backup import backup_and_rotate

        try:
            backup_and_rotate(self.path, "startup")
        except DomainError as exc:
            log.error("启动时备份失败：%s", exc.message)
            self.failed.emit(exc.message)


def _backup_quietly(path: Path, reason: str) -> None:
    from townapp.db.backup import backup_and_rotate

    try:
        backup_and_rotate(path, reason)
    except DomainError as exc:
        log.error("备份失败（%s）：%s", reason, exc.message)
        QMessageBox.warning(None, "备份失败", exc.message)


# ----- the sequence ------------------------------------------------------------------------------
class _Relay(QObject):
    """Carries a step's progress and outcome from the pool back to the GUI thread."""

    progressed = Signal(int, int, str)
    finished = Signal(object, object)  # result, exception (one of them is None)


class _StepTask(QRunnable):
    def __init__(self, work: Callable[[ProgressFn, CancelFn], Any], relay: _Relay, stop: threading.Event) -> None:
        super().__init__()
        self._work, self._relay, self._stop = work, relay, stop

    def run(self) -> None:
        try:
            result = self._work(self._relay.progressed.emit, self._stop.is_set)
        except Exception as exc:  # handed to the steps on the GUI thread, which decide what the user sees
            self._relay.finished.emit(None, exc)
        else:
            self._relay.finished.emit(result, None)


class StartupSequence(QObject):
    """Shows the window in its opening state, then runs the start-up steps with it on screen."""

    opened = Signal()  # the database is open, the user known, the pages built
    abandoned = Signal(int)  # start-up stopped (refused, cancelled, failed): the exit code

    def __init__(self, db_path: Path | str | None, demo: bool,
                 factories: Sequence[PageFactory] = PAGE_FACTORIES) -> None:
        super().__init__()
        self.server = names_a_server(db_path)
        # a server's URL as given (it may hold a password: kept here, never shown), else the database file
        self.path: Path | str = db_path if self.server else \
            Path(db_path) if db_path else (config.demo_db_path() if demo else config.default_db_path())
        self.demo = demo and not self.server  # a server is never opened without a login
        self.factories = tuple(factories)
        self.window: MainWindow | None = None
        self.lock: DatabaseLock | None = None
        self.db: Database | None = None
        self.actor: Actor | None = None
        self.exit_code: int | None = None
        self.is_open = False
        self.keeper: BackupKeeper | None = None
        self.startup_backup: StartupBackup | None = None
        self._stop = threading.Event()
        self._shut_down = False
        self._steps: Steps | None = None
        self._current: Background | None = None
        self._relay = _Relay()
        self._relay.progressed.connect(self._on_progress)
        self._relay.finished.connect(self._advance)

    @property
    def step_text(self) -> str:
        """What the opening panel says now (empty once the pages are shown)."""
        return self.window.opening.step.text() if self.window is not None and self.window.is_opening else ""

    @property
    def location(self) -> str:
        """What the status bar and the error reporter name: the file, or the server's URL without password."""
        return without_password(str(self.path)) if self.server else str(self.path)

    def start(self) -> MainWindow:
        self.window = MainWindow(None, self.factories, db_path=self.location)
        self.window.opening.cancelled.connect(self._stop.set)
        self.window.first_page_loaded.connect(startup_timing.report_ready)
        self.window.show()
        QTimer.singleShot(0, self, self._after_first_paint)
        return self.window

    def _after_first_paint(self) -> None:
        QApplication.processEvents()  # the first paint happens before any work competes with it
        if self.window is None:
            return
        startup_timing.report_shown(self.window)
        self._steps = self._session_steps(self.window)
        self._advance(None, None)

    def _session_steps(self, window: MainWindow) -> Steps:
        """The start-up steps in their safe order (see the module docstring); returns None once open,
        else the exit code."""
        first: list[Loader] = [preload_context, *(f.load for f in self.factories
                                                  if isinstance(f, ModulePages) and not isinstance(f, DeferredPages))]
        if self.server:  # no file: no location, lock, health check or backups — the server's administrator's
            self.db = yield from server_steps(str(self.path), window, first)
            if self.db is None:
                return EXIT_OK
        else:
            code = yield from self._file_steps(window, first)
            if code is not None:
                return code
        assert self.db is not None
        # 5. who acts
        window.show_step("请登录……" if not self.demo else "正在打开……")
        self.actor = authenticate(self.db, self.demo, window)
        if self.actor is None:
            return EXIT_OK
        # 6. the pages, then the start-up backup behind them
        window.show_step("正在打开页面……")
        from townapp.ui.context import AppContext

        window.attach(AppContext.create(self.db, self.actor, window.settings))
        if self.server:
            return None
        self.startup_backup = StartupBackup(Path(self.path), window)
        window.first_page_loaded.connect(self.startup_backup.start)
        QTimer.singleShot(STARTUP_BACKUP_LATEST_MS, self.startup_backup, self.startup_backup.start)
        # 7. backups while open (and one on exit, in shut_down)
        self.keeper = BackupKeeper(self.db)
        return None

    def _file_steps(self, window: MainWindow, first: list[Loader]) -> Generator[Background, Any, int | None]:
        """Steps 1–4 for a database file: ``self.db`` open, or the exit code."""
        # 1. where the file lives
        assert isinstance(self.path, Path)
        safe = yield from safe_location_steps(self.path, window)
        if safe is None:
            return EXIT_OK
        self.path = path = safe
        window.db_label.setText(f"数据库：{path}")
        # 2. one window per database
        self.lock = DatabaseLock(path)
        if not self.lock.acquire():
            QMessageBox.warning(window, "数据库已打开", self.lock.message)
            return EXIT_REFUSED
        # 3–4. healthy, then open; or made for the first time
        later: list[Loader] = [f.load for f in self.factories if isinstance(f, DeferredPages)]
        if path.exists():
            problems = yield Background("正在检查数据库……", lambda _p, _c: check_while_importing(path, first + later))
            if problems and not (yield from recovery_steps(path, problems, window)):
                return EXIT_OK
        elif self.demo:
            if not (yield from demo_database_steps(path, window)):
                return EXIT_OK
        else:
            self.db = yield from new_database_steps(path, window)
            if self.db is None:
                return EXIT_OK
        if self.db is None:
            self.db = yield Background("正在打开数据库……", lambda p, _c: open_for_session(path, p, first))
        return None

    def _advance(self, result: Any, error: BaseException | None) -> None:
        """Resume the steps with a finished step's outcome; start the next slow step or conclude."""
        steps = self._steps
        if steps is None:
            return
        try:
            step = steps.send(result) if error is None else steps.throw(error)
        except StopIteration as done:
            self._conclude(done.value)
            return
        except DomainError as exc:
            QMessageBox.critical(self.window, "无法打开数据库", exc.message)
            self._conclude(EXIT_REFUSED)
            return
        except Exception:
            log.exception("启动失败")
            QMessageBox.critical(self.window, "启动失败", f"发生意外错误，详细信息已写入日志文件：\n{config.log_path()}")
            self._conclude(EXIT_UNEXPECTED)
            return
        self._current = step
        if self.window is not None:
            self.window.show_step(step.text, cancellable=step.cancellable)
        QThreadPool.globalInstance().start(_StepTask(step.work, self._relay, self._stop))

    def _on_progress(self, done: int, total: int, text: str) -> None:
        step = self._current
        if step is not None and self.window is not None and self.window.is_opening:
            self.window.show_step(text or step.text, done, total, cancellable=step.cancellable)

    def _conclude(self, code: int | None) -> None:
        self._steps = None
        self._current = None
        if code is None:
            self.is_open = True
            self.opened.emit()
            return
        self.exit_code = code
        self._release()
        if self.window is not None:
            # hidden, not closed: closing the last window would post a quit of its own, exit code 0
            self.window.hide()
        self.abandoned.emit(code)

    def _release(self) -> None:
        if self.db is not None:
            self.db.dispose()
            self.db = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def shut_down(self, code: int = 0) -> int:
        """After the event loop: stop the steps, let running work finish, back up on exit; the exit code.

        Idempotent: the second call only returns the code."""
        if self._shut_down:
            return self.exit_code if self.exit_code is not None else code
        self._shut_down = True
        self._stop.set()
        if self._steps is not None:
            self._steps.close()
            self._steps = None
        if self.keeper is not None:
            self.keeper.timer.stop()
        QThreadPool.globalInstance().waitForDone()  # a start-up backup or a step still running finishes first
        self.window = None  # the pages go before their database
        if self.db is not None:
            self.db.dispose()
            self.db = None
            if self.is_open and isinstance(self.path, Path):  # a server's backups are its administrator's
                _backup_quietly(self.path, "exit")  # still holding the lock
        self._release()
        return self.exit_code if self.exit_code is not None else code


def run_session(app: QApplication, db_path: Path | str | None, demo: bool,
                database_known: Callable[[Path | str], None] | None = None) -> int:
    sequence = StartupSequence(db_path, demo)
    if database_known is not None:  # the safety net looks at this file when an unexpected error happens
        database_known(sequence.path if isinstance(sequence.path, Path) else sequence.location)
    sequence.abandoned.connect(app.exit)
    sequence.start()
    return sequence.shut_down(app.exec())
