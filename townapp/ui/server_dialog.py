"""文件 → 连接服务器数据库: the app started again on a county or prefecture server (issue 22).

The dialog asks for the server, port, database, user and password, tries them in the background
(the window never freezes while a far server does not answer), and on success starts a new
``townapp --db postgresql://…`` process and lets this window close. The password goes to the new
process only through its environment (``PGPASSWORD``, which libpq reads): never on its command line
(which any user of the machine may list), in a log or in the settings; "记住此连接" keeps the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox, QWidget

from townapp.config import Settings
from townapp.core.errors import Cancelled, DomainError, FieldProblem, ValidationFailed
from townapp.core.progress import CancelFn, ProgressFn
from townapp.ui.jobs import Job
from townapp.ui.login import FormDialog, password_field

if TYPE_CHECKING:
    from townapp.db import Database

SETTINGS_KEY = "server_connection"  # host, port, database, user — never the password
DEFAULT_PORT = 5432
PASSWORD_ENV = "PGPASSWORD"


def server_address(host: str, port: int, database: str, user: str) -> str:
    """``postgresql://user@host:port/database`` (names quoted as URLs need); no password, ever."""
    from sqlalchemy import URL

    url = URL.create("postgresql", username=user or None, host=host, port=port, database=database)
    return url.render_as_string(hide_password=False)


def command_for(url: str) -> list[str]:
    """How this installation starts itself on ``url``: the frozen program, or ``python -m townapp``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--db", url]
    return [sys.executable, "-m", "townapp", "--db", url]


def environment_for(password: str | None) -> dict[str, str]:
    """This process's environment, with the password where libpq (and pg_dump) look for it."""
    env = dict(os.environ)
    if password:
        env[PASSWORD_ENV] = password
    return env


def start_process(argv: Sequence[str], env: dict[str, str]) -> None:
    """The new start, on its own: it outlives this window, which closes next."""
    options: dict[str, Any] = {"stdin": subprocess.DEVNULL, "close_fds": True}
    if os.name == "nt":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    subprocess.Popen(list(argv), env=env, **options)  # noqa: S603 — our own program, no shell


class LoginRefused(DomainError):
    """The server wants a password and refused the one given (or none): the user is asked for it."""


def connect_to_server(url: str, password: str | None, progress: ProgressFn) -> Database:
    """Log in to the server (``password`` is given only if the server asks for one; libpq reads
    ``PGPASSWORD`` and ``.pgpass`` first), then open its townapp database (migrated to head).
    Never prompts on a terminal: a GUI may have been started from one."""
    from townapp.db import open_database, server

    asked: list[str] = []

    def give_password(where: str) -> str | None:
        asked.append(where)
        return password

    try:
        engine = server.connect_engine(server.server_url(url), give_password)
    except DomainError as exc:
        if asked:
            raise LoginRefused(exc.message) from None
        raise
    logged_in = engine.url.render_as_string(hide_password=False)  # stays in memory: never shown or logged
    engine.dispose()
    progress(0, 0, "正在打开服务器数据库……")
    return open_database(logged_in, ask_password=lambda _where: None)


def try_connection(url: str, password: str | None, progress: ProgressFn, cancel: CancelFn) -> None:
    """Log in and open the township's (or county's) database as the new start will (runs in the pool):
    a wrong password, an unreachable server or a database not yet initialised is said here, in Chinese,
    while the user can still correct it."""
    db = connect_to_server(url, password, progress)
    db.dispose()
    if cancel():
        raise Cancelled()


class ServerDialog(FormDialog):
    """服务器地址, 端口, 数据库名, 用户名, 密码; 连接 tries them, then starts the app on the server."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__("连接服务器数据库",
                         "县、市集中使用的服务器数据库。连接成功后，程序会在服务器数据库上重新打开，"
                         "本窗口随即关闭。", "连接", parent)
        self.setMinimumWidth(460)
        self.settings = settings
        remembered = settings.get(SETTINGS_KEY)
        remembered = remembered if isinstance(remembered, dict) else {}
        self.host = self._line("host", "服务器的IP地址或名称，如：10.0.0.5", remembered.get("host"))
        self.port = QSpinBox()
        self.port.setObjectName("port")
        self.port.setRange(1, 65535)
        port = remembered.get("port")
        self.port.setValue(port if isinstance(port, int) and 0 < port < 65536 else DEFAULT_PORT)
        self.database = self._line("database", "由服务器管理员告知", remembered.get("database"))
        self.user = self._line("user", "由服务器管理员告知", remembered.get("user"))
        self.password = password_field("password")
        self.password.setPlaceholderText("服务器不要求密码时可不填")
        self.remember = QCheckBox("记住此连接（不保存密码）")
        self.remember.setObjectName("remember")
        self.remember.setChecked(bool(remembered))
        for label, field in (("服务器地址", self.host), ("端口", self.port), ("数据库名", self.database),
                             ("用户名", self.user), ("密码", self.password), ("", self.remember)):
            self.form.addRow(label, field)
        self.connect_button = self.buttons.button(self.buttons.StandardButton.Ok)
        self.connect_button.setObjectName("connect")
        self.job: Job | None = None
        self.given_up = False
        self.started: list[str] | None = None  # the command line of the new start (tests read it)

    @staticmethod
    def _line(name: str, hint: str, value: object) -> QLineEdit:
        field = QLineEdit(value if isinstance(value, str) else "")
        field.setObjectName(name)
        field.setPlaceholderText(hint)
        return field

    def address(self) -> str:
        """The server database the fields name, as ``--db`` takes it (without the password)."""
        problems = [FieldProblem(name, f"请填写{label}") for name, label, field in
                    (("host", "服务器地址", self.host), ("database", "数据库名", self.database),
                     ("user", "用户名", self.user)) if not field.text().strip()]
        if problems:
            raise ValidationFailed(problems)
        return server_address(self.host.text().strip(), self.port.value(), self.database.text().strip(),
                              self.user.text().strip())

    def submit(self) -> None:
        """连接: the fields checked, then the connection tried in the background; the dialog stays open."""
        try:
            url = self.address()
        except DomainError as exc:
            self.error.show_problems(exc.problems if isinstance(exc, ValidationFailed)
                                     else [FieldProblem("", exc.message)])
            return
        password = self.password.text() or None
        self.error.show_hint("正在连接……")
        self.connect_button.setEnabled(False)
        self.job = Job(self, "正在连接服务器数据库",
                       lambda progress, cancel: try_connection(url, password, progress, cancel),
                       on_success=lambda _result: self._connected(url, password),
                       on_failure=self._failed)
        self.job.finished.connect(lambda: self.connect_button.setEnabled(True))
        self.job.finished.connect(lambda: self.job is not None and self.job.was_cancelled
                                  and self.error.show_problems([]))
        self.job.start()

    def reject(self) -> None:
        """取消 (or Esc) while the connection is still being tried: nothing starts when it answers later."""
        self.given_up = True
        if self.job is not None and not self.job.done:
            self.job.cancel()
        super().reject()

    def _failed(self, message: str) -> None:
        self.error.show_problems([FieldProblem("", message)])

    def _connected(self, url: str, password: str | None) -> None:
        """The server answered and its database is townapp's: remember (no password), start again there."""
        if self.given_up:
            return
        if self.remember.isChecked():
            self.settings.set(SETTINGS_KEY, {"host": self.host.text().strip(), "port": self.port.value(),
                                             "database": self.database.text().strip(),
                                             "user": self.user.text().strip()})
        elif self.settings.get(SETTINGS_KEY) is not None:
            self.settings.set(SETTINGS_KEY, None)
        self.started = command_for(url)
        try:
            start_process(self.started, environment_for(password))
        except OSError as exc:
            self.error.show_problems([FieldProblem("", f"无法启动程序：{exc.strerror or exc}")])
            return
        self.accept()


class ServerPasswordDialog(FormDialog):
    """The server wants a password that libpq did not find (``PGPASSWORD``, ``.pgpass``)."""

    def __init__(self, where: str, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__("服务器数据库密码", f"服务器数据库要求输入密码：\n{where}", "连接", parent)
        self.password = password_field("password")
        self.form.addRow("密码", self.password)
        if problem:
            self.error.show_problems([FieldProblem("", problem)])

    def attempt(self) -> None:
        if not self.password.text():
            raise ValidationFailed([FieldProblem("password", "请输入密码")])


def ask_server_password(where: str, problem: str, parent: QWidget | None) -> str | None:
    """The password the user typed, or None when they gave up (取消)."""
    dialog = ServerPasswordDialog(where, problem, parent)
    if dialog.exec() != ServerPasswordDialog.DialogCode.Accepted:
        return None
    return dialog.password.text()
