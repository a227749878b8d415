"""Stories of the GUI on a county or prefecture server (issue 22): 文件 → 连接服务器数据库 starts the app
again on the server with the password only in the new process's environment; a start on a
``postgresql://`` URL connects, asks for a password the server wants, logs in and shows the pages —
no lock file, no health check of a file, no backups of its own, the URL never shown with its password.

The server stories need the test server (TOWNAPP_TEST_PG_URL) and are skipped without it.
"""

from __future__ import annotations

import shutil
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton
from sqlalchemy import make_url

from tests.conftest import PG_URL
from townapp import config
from townapp.accounts.service import AccountService
from townapp.core.actor import ROLE_ADMIN, Actor
from townapp.core.errors import Cancelled, DomainError
from townapp.db import Database, open_database, server
from townapp.registry.service import RegistryService
from townapp.ui import server_dialog
from townapp.ui.app import open_main_window
from townapp.ui.pages import accounts as accounts_page
from townapp.ui.server_dialog import ServerDialog, ServerPasswordDialog
from townapp.ui.startup import EXIT_REFUSED, StartupSequence

from .conftest import when_dialog_opens

ADMIN_PASSWORD = "Linjin#2026!"
SERVER_PASSWORD = "Geheim#County7"
STEP_TIMEOUT_MS = 60_000
needs_server = pytest.mark.skipif(not PG_URL, reason="没有 PostgreSQL 服务器（TOWNAPP_TEST_PG_URL 未设置）")


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    """Every new start the dialog asked for (argv, environment); no process is really started."""
    started: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(server_dialog, "start_process", lambda argv, env: started.append((list(argv), dict(env))))
    return started


@pytest.fixture
def township_on_server(pg_databases: Any, pg_template: str | None) -> Iterator[str]:
    """A fresh township database (临晋镇) on the test server, with its first administrator; its URL."""
    if pg_databases is None or pg_template is None:
        pytest.skip("没有 PostgreSQL 服务器（TOWNAPP_TEST_PG_URL 未设置）")
    name = pg_databases.create(pg_template)
    url = pg_databases.url_of(name)
    db = open_database(url)
    try:
        RegistryService(db).initialise("township", "临晋镇", "140821100")
        AccountService(db).create_first_admin("县管理员", ADMIN_PASSWORD, ADMIN_PASSWORD)
    finally:
        db.dispose()
    yield url
    pg_databases.drop(name)


def _fill(dialog: ServerDialog, url: str, password: str) -> None:
    parts = server.server_url(url)
    dialog.host.setText(parts.host or "")
    dialog.port.setValue(parts.port or 5432)
    dialog.database.setText(parts.database or "")
    dialog.user.setText(parts.username or "")
    dialog.password.setText(password)


def _closed_port() -> int:
    """A port on this machine where nothing listens (taken from the system, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_dialog_names_the_server_in_the_url_and_the_password_nowhere_but_the_environment(
        app: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the fields of the dialog filled in
    dialog = ServerDialog(config.Settings())
    dialog.host.setText("10.0.0.5")
    dialog.port.setValue(6543)
    dialog.database.setText("county")
    dialog.user.setText("townapp")
    dialog.password.setText(SERVER_PASSWORD)
    # WHEN the address and the new start are worked out
    url = dialog.address()
    # THEN the URL names server, port, database and user, and has no password
    assert url == "postgresql://townapp@10.0.0.5:6543/county"
    assert server_dialog.command_for(url) == [sys.executable, "-m", "townapp", "--db", url]
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # the installed program starts itself directly
    assert server_dialog.command_for(url) == [sys.executable, "--db", url]
    # AND the password goes only into the new process's environment
    assert server_dialog.environment_for(SERVER_PASSWORD)["PGPASSWORD"] == SERVER_PASSWORD
    # AND the port offered at first is PostgreSQL's own
    assert ServerDialog(config.Settings()).port.value() == 5432


def test_empty_fields_are_named_in_chinese_and_nothing_is_tried(app: QApplication, qtbot, launches) -> None:  # noqa: ANN001
    # GIVEN the dialog with only the server's address
    dialog = ServerDialog(config.Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.host.setText("10.0.0.5")
    # WHEN 连接 is pressed
    dialog.connect_button.click()
    # THEN the missing fields are named, no connection is tried, and nothing starts
    assert dialog.error.isVisible() and dialog.error.text() == "请填写数据库名\n请填写用户名"
    assert dialog.job is None and launches == [] and dialog.isVisible()


def test_a_server_that_does_not_answer_is_said_in_chinese_and_the_dialog_stays_open(
        app: QApplication, qtbot, launches) -> None:  # noqa: ANN001
    # GIVEN the dialog naming a port where no server listens
    dialog = ServerDialog(config.Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    _fill(dialog, f"postgresql://townapp@127.0.0.1:{_closed_port()}/county", SERVER_PASSWORD)
    # WHEN 连接 is pressed
    dialog.connect_button.click()
    # THEN the window does not wait for it: the connection is tried in the background
    assert dialog.job is not None and not dialog.connect_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.job.done, timeout=STEP_TIMEOUT_MS)
    # AND the refusal is said in Chinese in the dialog, which stays open for a correction; nothing starts
    assert dialog.error.isVisible() and dialog.error.text().startswith("无法连接服务器数据库 postgresql://townapp@127.0.0.1")
    assert SERVER_PASSWORD not in dialog.error.text()
    assert dialog.isVisible() and dialog.connect_button.isEnabled() and launches == []


@needs_server
def test_connecting_from_the_file_menu_starts_the_app_on_the_server_and_closes_this_window(
        app: QApplication, qtbot, db: Database, township_on_server: str, launches) -> None:  # noqa: ANN001, ANN001
    # GIVEN the window on a township's database file
    main = open_main_window(db, Actor("李文书", "乡镇干部"))
    qtbot.addWidget(main)
    seen: dict[str, Any] = {}

    def connect(dialog: QDialog) -> None:
        seen["dialog"] = dialog
        assert isinstance(dialog, ServerDialog) and dialog.windowTitle() == "连接服务器数据库"
        _fill(dialog, township_on_server, SERVER_PASSWORD)
        dialog.remember.setChecked(True)
        dialog.connect_button.click()

    # WHEN 文件 → 连接服务器数据库… is chosen, filled in (with a password) and 连接 pressed
    assert main.server_action.text() == "连接服务器数据库(&S)…"
    when_dialog_opens(connect, timeout_ms=STEP_TIMEOUT_MS)
    main.server_action.trigger()
    qtbot.waitUntil(lambda: not main.isVisible(), timeout=STEP_TIMEOUT_MS)
    # THEN the app is started once more, on the server's URL — without the password on its command line
    url = server.shown(server.server_url(township_on_server))
    [(argv, env)] = launches
    assert argv == [sys.executable, "-m", "townapp", "--db", url]
    assert not any(SERVER_PASSWORD in part for part in argv)
    # AND the password reaches the new process only through its environment
    assert env["PGPASSWORD"] == SERVER_PASSWORD
    # AND this window closed; the connection is remembered for next time, without the password
    remembered = config.Settings().get(server_dialog.SETTINGS_KEY)
    assert remembered == {"host": "127.0.0.1", "port": server.server_url(url).port,
                          "database": server.server_url(url).database, "user": "townapp"}
    assert SERVER_PASSWORD not in config.Settings().path.read_text(encoding="utf-8")
    # AND the next time the dialog opens, it offers the same connection, the password left empty
    again = ServerDialog(config.Settings())
    assert (again.host.text(), again.database.text(), again.password.text()) == \
        ("127.0.0.1", server.server_url(url).database, "")


# ----- a start on a server URL --------------------------------------------------------------------
@pytest.fixture
def start_on(qtbot) -> Iterator[Callable[[str], StartupSequence]]:  # noqa: ANN001
    """``start_on(url or file)``: the app starting on it, its window shown; shut down after the test, as
    run_session does (before the fixture that made the database drops it)."""
    sequences: list[StartupSequence] = []

    def start(url: str) -> StartupSequence:
        sequence = StartupSequence(url if "://" in url else Path(url), demo=False)
        sequences.append(sequence)
        qtbot.addWidget(sequence.start())
        return sequence

    yield start
    for sequence in sequences:
        sequence.shut_down()


def _log_in() -> Callable[[QDialog], None]:
    def login(dialog: QDialog) -> None:
        dialog.username.setText("县管理员")
        dialog.password.setText(ADMIN_PASSWORD)
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    return login


def _with_password(url: str, password: str) -> str:
    return server.server_url(url).set(password=password).render_as_string(hide_password=False) \
        .replace("+psycopg", "")


@needs_server
def test_a_start_on_a_server_url_logs_in_and_shows_the_pages_without_file_steps_or_backups(
        app: QApplication, qtbot, township_on_server: str, start_on: Callable[[str], StartupSequence]) -> None:  # noqa: ANN001
    # GIVEN the app started on the server's URL, written with a password (the test server does not ask for one)
    url = _with_password(township_on_server, SERVER_PASSWORD)
    # WHEN the administrator logs in
    when_dialog_opens(_log_in(), timeout_ms=STEP_TIMEOUT_MS)
    sequence = start_on(url)
    window = sequence.window
    # THEN the window shows its pages, the first one with its data
    assert SERVER_PASSWORD not in window.db_label.text()  # not even before the server answered
    with qtbot.waitSignal(window.first_page_loaded, timeout=STEP_TIMEOUT_MS):
        pass
    assert sequence.is_open
    assert window.windowTitle().endswith("— 临晋镇")
    titles = [page.title for page in window.pages]
    assert titles[0] == "首页" and {"村/社区", "住户", "人员/党员", "备份与恢复", "审计日志"} <= set(titles)
    # AND the status bar names the server's database by its URL, never with the password
    assert sequence.db is not None and sequence.db.server
    shown = sequence.db.location
    assert window.db_label.text() == f"数据库：{shown}" and SERVER_PASSWORD not in shown
    server = make_url(url)
    assert shown == f"postgresql://{server.username}@{server.host}:{server.port}/{server.database}"
    assert "当前用户：县管理员" in window.user_label.text()
    # AND nothing of a file's: no lock file, no backup now or later
    assert sequence.lock is None and sequence.keeper is None and sequence.startup_backup is None
    # AND 备份与恢复 says the server's backups are its administrator's; restoring is pg_restore's
    page = window.open_page("备份与恢复")
    assert "服务器管理员" in page.findChild(type(window.db_label), "intro").text()
    assert not page.buttons["backup_now"].isEnabled()
    assert not page.buttons["restore_selected"].isEnabled() and "pg_restore" in page.buttons["restore_selected"].toolTip()
    assert page.buttons["backup_to_folder"].isEnabled()
    # WHEN the window is closed THEN the session ends without an exit backup
    window.close()
    assert sequence.shut_down(0) == 0
    assert not config.backup_dir().exists() or not any(config.backup_dir().iterdir())


@needs_server
def test_a_password_the_server_wants_is_asked_for_and_asked_again_when_wrong(
        app: QApplication, qtbot, township_on_server: str, start_on: Callable[[str], StartupSequence],  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a server that wants a password (the test server trusts everyone: this one asks, as md5/scram would)
    real_connect = server.connect_engine

    def demanding(url: Any, ask_password: Any = None) -> Any:
        if url.password is None:
            given = ask_password(server.shown(url)) if ask_password else None
            if given != SERVER_PASSWORD:
                raise DomainError(f"服务器数据库 {server.shown(url)} 拒绝登录：用户名或密码不对")
            url = url.set(password=given)
        if url.password != SERVER_PASSWORD:
            raise DomainError(f"服务器数据库 {server.shown(url)} 拒绝登录：用户名或密码不对")
        return real_connect(url, ask_password)

    monkeypatch.setattr(server, "connect_engine", demanding)
    asked: list[dict[str, Any]] = []

    def answer(password: str, then: Callable[[QDialog], None]) -> Callable[[QDialog], None]:
        def type_it(dialog: QDialog) -> None:
            assert isinstance(dialog, ServerPasswordDialog)
            asked.append({"problem": dialog.error.text() if dialog.error.isVisible() else "",
                          "parent": dialog.parentWidget()})
            when_dialog_opens(then, timeout_ms=STEP_TIMEOUT_MS)
            dialog.password.setText(password)
            dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
        return type_it

    # WHEN the app starts on the URL without a password, the user types a wrong one, then the right one
    when_dialog_opens(answer("falsch", answer(SERVER_PASSWORD, _log_in())), timeout_ms=STEP_TIMEOUT_MS)
    sequence = start_on(township_on_server)
    window = sequence.window
    with qtbot.waitSignal(window.first_page_loaded, timeout=STEP_TIMEOUT_MS):
        pass
    # THEN the password was asked for over the opening window: first plainly, then with the server's refusal
    assert [a["problem"] for a in asked] == ["", f"服务器数据库 {server.shown(server.server_url(township_on_server))} "
                                                 "拒绝登录：用户名或密码不对"]
    assert all(a["parent"] is window for a in asked)
    # AND with the right one the pages open, and the password is shown nowhere
    assert sequence.is_open and SERVER_PASSWORD not in window.db_label.text()
    window.close()
    assert sequence.shut_down(0) == 0  # before the database is dropped: nothing still reads it


@needs_server
def test_a_server_database_not_initialised_is_refused_in_chinese_with_exit_code_1(
        app: QApplication, qtbot, pg_databases: Any, start_on: Callable[[str], StartupSequence]) -> None:  # noqa: ANN001
    # GIVEN an empty database on the server (townapp init never ran on it)
    name = pg_databases.create()
    try:
        said: list[str] = []

        def read(box: QDialog) -> None:
            said.append(box.text() if isinstance(box, QMessageBox) else "")
            box.accept()

        # WHEN the app starts on it
        when_dialog_opens(read, timeout_ms=STEP_TIMEOUT_MS)
        sequence = start_on(pg_databases.url_of(name))
        qtbot.waitUntil(lambda: sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
        # THEN it says in Chinese what to do, and ends as for a file that cannot be opened
        assert said and "还没有 townapp 的数据表" in said[0] and "townapp init" in said[0]
        assert sequence.exit_code == EXIT_REFUSED and sequence.db is None
    finally:
        pg_databases.drop(name)


@needs_server
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="本机没有 pg_dump")
def test_backing_up_a_server_database_to_a_folder_runs_pg_dump_in_the_background(
        app: QApplication, qtbot, township_on_server: str, tmp_path: Path,  # noqa: ANN001
        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the administrator's window on the server database, and a folder chosen for the backup
    db = open_database(township_on_server)
    main = open_main_window(db, Actor("县管理员", ROLE_ADMIN))
    qtbot.addWidget(main)
    page = main.open_page("备份与恢复")
    monkeypatch.setattr(accounts_page.QFileDialog, "getExistingDirectory", lambda *_args: str(tmp_path))
    try:
        # WHEN 备份到U盘或其他文件夹… is pressed
        page.buttons["backup_to_folder"].click()
        qtbot.waitUntil(lambda: page.job is not None and page.job.done, timeout=STEP_TIMEOUT_MS)
        # THEN a pg_dump of the server database is in that folder, and the box names it
        [dump] = list(tmp_path.glob("*.dump"))
        assert dump.name.startswith(server.server_url(township_on_server).database) and dump.stat().st_size > 0
        box = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "backup_done" and w.isVisible())
        assert dump.name in box.text()
        box.close()
    finally:
        main.close()
        db.dispose()


def test_the_first_start_without_a_database_may_connect_to_a_server_instead_of_making_a_file(
        app: QApplication, qtbot, tmp_path: Path, launches, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
        start_on: Callable[[str], StartupSequence]) -> None:
    # GIVEN no database file yet, and a server that answers (the connection itself is the other stories')
    monkeypatch.setattr(server_dialog, "try_connection", lambda *_args: None)
    path = tmp_path / "township.db"
    seen: list[str] = []

    def connect(dialog: QDialog) -> None:
        seen.append(dialog.windowTitle())
        _fill(dialog, "postgresql://townapp@10.0.0.5:5432/county", SERVER_PASSWORD)
        dialog.connect_button.click()

    def choose_server(dialog: QDialog) -> None:
        seen.append(dialog.windowTitle())
        when_dialog_opens(connect, timeout_ms=STEP_TIMEOUT_MS)
        dialog.findChild(QPushButton, "connect_server").click()

    # WHEN the first start offers 新建数据库 and the user chooses 连接服务器数据库… there instead
    when_dialog_opens(choose_server, timeout_ms=STEP_TIMEOUT_MS)
    sequence = start_on(str(path))
    qtbot.waitUntil(lambda: sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    # THEN the app starts again on the server, and this start ends without making a file
    assert seen == ["新建数据库", "连接服务器数据库"]
    [(argv, env)] = launches
    assert argv[-2:] == ["--db", "postgresql://townapp@10.0.0.5:5432/county"] and env["PGPASSWORD"] == SERVER_PASSWORD
    assert sequence.exit_code == 0 and not path.exists()


def test_cancelling_while_the_server_is_tried_starts_nothing_when_it_answers_later(
        app: QApplication, qtbot, launches, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    # GIVEN a server that answers only when the test lets it
    answer = threading.Event()

    def slow(_url: str, _password: str | None, _progress: object, cancel: Callable[[], bool]) -> None:
        assert answer.wait(30), "the test never let the server answer"
        if cancel():
            raise Cancelled()

    monkeypatch.setattr(server_dialog, "try_connection", slow)
    dialog = ServerDialog(config.Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    _fill(dialog, "postgresql://townapp@10.0.0.5:5432/county", SERVER_PASSWORD)
    # WHEN 连接 is pressed, then 取消 before the server answers
    dialog.connect_button.click()
    dialog.reject()
    answer.set()
    qtbot.waitUntil(lambda: dialog.job.done, timeout=STEP_TIMEOUT_MS)
    # THEN nothing is started and the dialog stays closed
    assert launches == [] and not dialog.isVisible() and dialog.job.was_cancelled


def test_a_server_that_does_not_answer_at_start_up_is_said_in_chinese_with_exit_code_1(
        app: QApplication, qtbot, start_on: Callable[[str], StartupSequence]) -> None:  # noqa: ANN001
    # GIVEN a URL naming a port where no server listens
    url = f"postgresql://townapp:{SERVER_PASSWORD}@127.0.0.1:{_closed_port()}/county"
    said: list[str] = []

    def read(box: QDialog) -> None:
        said.append(box.text() if isinstance(box, QMessageBox) else "")
        box.accept()

    # WHEN the app starts on it
    when_dialog_opens(read, timeout_ms=STEP_TIMEOUT_MS)
    sequence = start_on(url)
    qtbot.waitUntil(lambda: sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    # THEN it says in Chinese that the server could not be reached — never with the password — and ends with 1
    assert said and said[0].startswith("无法连接服务器数据库 postgresql://townapp") and SERVER_PASSWORD not in said[0]
    assert sequence.exit_code == EXIT_REFUSED
