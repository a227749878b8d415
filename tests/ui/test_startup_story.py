"""Stories of the start-up: the main window is on screen at once, in its opening state, and the
slow, safety-critical steps run with it showing — in the same order, with the same refusals.

Real databases, the real window, offscreen. ``StartupSequence`` is what ``run_session`` runs;
the tests drive it with the event loop pytest-qt turns, and one runs ``run_session`` itself.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from townapp import APP_TITLE, config
from townapp.accounts.service import AccountService
from townapp.core.idcard import make_id_number
from townapp.db import Database, open_database, safety
from townapp.db.backup import backup_database
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService
from townapp.ui.lock import DatabaseLock, lock_path
from townapp.ui.login import LoginDialog
from townapp.ui.startup import StartupSequence, run_session
from townapp.ui.startup_timing import READY_MARKER, SHOWN_MARKER

from .conftest import when_dialog_opens

ADMIN_PASSWORD = "Linjin#2026!"
ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT_MS = 60_000


@pytest.fixture
def township_file(db: Database) -> Path:
    """A closed township database file (临晋镇) with 西关村 and one household in it."""
    service = RegistryService(db)
    village = service.save_village(VillageInput(code="140821100201", name="西关村", groups=["一组"]))
    head = PersonInput(make_id_number("140821", dt.date(1970, 3, 3), 101), "王建国")
    service.save_household(HouseholdInput(village, "001", [MemberInput(head, "户主")]))
    db.dispose()
    return db.path


@pytest.fixture
def quick_check_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file start-up ran ``quick_check`` on (the real check still runs)."""
    calls: list[Path] = []
    real = safety.startup_problems

    def recording(path: Path) -> list[str]:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(safety, "startup_problems", recording)
    return calls


def _villages(window) -> list[str]:  # noqa: ANN001
    page = window.open_page("村/社区")
    return [page.table.item(r, 1).text() for r in range(page.table.rowCount())]


@pytest.fixture
def started() -> Iterator[list[StartupSequence]]:
    """Sequences a test started; shut down after it (as run_session does), whatever the test did."""
    sequences: list[StartupSequence] = []
    yield sequences
    for sequence in sequences:
        sequence.shut_down()


@pytest.fixture
def start(started: list[StartupSequence], qtbot):  # noqa: ANN001, ANN201
    def start_sequence(sequence: StartupSequence) -> None:
        started.append(sequence)
        qtbot.addWidget(sequence.start())
    return start_sequence


def test_the_window_is_on_screen_before_the_database_is_checked_then_shows_its_pages(
        app: QApplication, qtbot, township_file: Path, monkeypatch: pytest.MonkeyPatch, start) -> None:  # noqa: ANN001
    # GIVEN a quick_check that does not finish until the test lets it
    release, checking = threading.Event(), threading.Event()
    real_check = safety.startup_problems

    def held_check(path: Path) -> list[str]:
        checking.set()
        assert release.wait(30), "the test never let quick_check finish"
        return real_check(path)

    monkeypatch.setattr(safety, "startup_problems", held_check)
    sequence = StartupSequence(township_file, demo=True)
    # WHEN the app starts and quick_check is still running
    start(sequence)
    window = sequence.window
    qtbot.waitUntil(checking.is_set, timeout=STEP_TIMEOUT_MS)
    qtbot.wait(50)
    # THEN the real main window is on screen, in its opening state, saying what it is doing
    assert window.isVisible() and window.is_opening
    assert window.windowTitle() == APP_TITLE
    assert [a.text() for a in window.menuBar().actions()] == ["文件(&F)", "视图(&V)", "帮助(&H)"]
    assert window.nav.count() == 0 and not window.nav.isEnabled()
    assert sequence.step_text == "正在检查数据库……"
    assert window.opening.bar.maximum() == 0  # a busy bar: how long a check takes is unknown
    assert not window.opening.cancel.isVisible()
    assert str(township_file) in window.db_label.text()
    # AND the database is neither open nor locked-and-forgotten: only the lock is held
    assert sequence.db is None and not sequence.is_open
    assert not DatabaseLock(township_file).acquire()

    # WHEN the check finishes
    with qtbot.waitSignal(window.first_page_loaded, timeout=STEP_TIMEOUT_MS):
        release.set()
    # THEN the same window shows its pages, and the first one (首页) shows the township's figures
    assert sequence.is_open and not window.is_opening and window.nav.isEnabled()
    assert window.windowTitle() == f"{APP_TITLE} — 临晋镇"
    first = window.stack.currentWidget()
    assert window.nav.currentRow() == 0 and first.title == "首页" and first.overview is not None
    titles = [page.title for page in window.pages]  # the later modules' pages fill in behind the first
    assert titles[0] == "首页" and {"村/社区", "住户", "人员/党员", "审计日志"} <= set(titles)
    assert titles == [window.nav.item(i).text() for i in range(window.nav.count())]
    assert [t.value.text() for t in first.tiles[:1]] == ["1"]  # 户数: the one household
    assert "当前用户：演示管理员" in window.user_label.text() and "住户 1" in window.counts_label.text()
    assert _villages(window) == ["西关村"]
    # AND the start-up backup is taken behind the pages
    qtbot.waitUntil(lambda: any("startup" in p.name for p in config.backup_dir().iterdir()), timeout=STEP_TIMEOUT_MS)
    # WHEN the user closes the window THEN one is taken on exit, and the database is released
    window.close()
    assert sequence.shut_down(0) == 0
    assert any("exit" in p.name for p in config.backup_dir().iterdir())
    assert DatabaseLock(township_file).acquire()


def test_a_damaged_database_still_offers_the_newest_good_backup(app: QApplication, qtbot,  # noqa: ANN001
                                                                  township_file: Path, start) -> None:
    # GIVEN a good backup, then damage to the live file
    backup_database(township_file, config.backup_dir(), "startup")
    data = bytearray(township_file.read_bytes())
    data[4096 * 2:4096 * 3] = bytes(b ^ 0xFF for b in data[4096 * 2:4096 * 3])
    township_file.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(str(township_file) + suffix).unlink(missing_ok=True)
    sequence = StartupSequence(township_file, demo=True)
    asked: dict[str, object] = {}

    def accept(box: QMessageBox) -> None:
        asked.update(question=box.text(), parent=box.parentWidget(), opening=sequence.window.is_opening)
        when_dialog_opens(lambda info: (asked.update(info=info.text()), info.accept()))  # then "已恢复"
        box.button(QMessageBox.StandardButton.Yes).click()

    # WHEN the app starts on it and the user accepts the offered backup
    when_dialog_opens(accept, timeout_ms=STEP_TIMEOUT_MS)
    start(sequence)
    qtbot.waitUntil(lambda: sequence.is_open or sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    # THEN the question named the newest good backup, over the main window still in its opening state
    assert "最新的完好备份" in str(asked["question"]) and "已恢复" not in str(asked["question"])
    assert asked["parent"] is sequence.window and asked["opening"] is True
    assert "恢复" in str(asked["info"])
    # AND the restored database opened: its data is on the pages, the damaged file set aside
    assert sequence.is_open and _villages(sequence.window) == ["西关村"]
    assert any(p.name.endswith(".damaged") for p in config.backup_dir().iterdir())
    sequence.window.close()
    sequence.shut_down()


def test_declining_the_backup_of_a_damaged_database_exits_without_opening_it(
        app: QApplication, qtbot, township_file: Path, start) -> None:  # noqa: ANN001
    backup_database(township_file, config.backup_dir(), "startup")
    data = bytearray(township_file.read_bytes())
    data[4096 * 2:4096 * 3] = bytes(b ^ 0xFF for b in data[4096 * 2:4096 * 3])
    township_file.write_bytes(bytes(data))
    sequence = StartupSequence(township_file, demo=True)
    when_dialog_opens(lambda box: box.button(QMessageBox.StandardButton.No).click(), timeout_ms=STEP_TIMEOUT_MS)
    start(sequence)
    qtbot.waitUntil(lambda: sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    assert sequence.exit_code == 0 and not sequence.is_open and not sequence.window.isVisible()
    assert township_file.read_bytes() == bytes(data)  # untouched


def test_a_database_on_a_usb_drive_is_opened_only_as_a_copy_in_the_data_folder(
        app: QApplication, qtbot, township_file: Path, monkeypatch: pytest.MonkeyPatch, start) -> None:  # noqa: ANN001
    # GIVEN the database file sits on a removable drive
    real_kind = safety.location_kind
    monkeypatch.setattr(safety, "location_kind", lambda path, **probe: (
        safety.REMOVABLE if Path(path) == township_file else real_kind(path, **probe)))
    original = township_file.read_bytes()
    sequence = StartupSequence(township_file, demo=True)
    seen: dict[str, object] = {}

    def copy_it(box: QMessageBox) -> None:
        seen.update(text=box.text(), parent=box.parentWidget(), opening=sequence.window.is_opening)
        when_dialog_opens(lambda info: (seen.update(info=info.text()), info.accept()))  # then "已复制"
        next(b for b in box.buttons() if b.text() == "复制到数据文件夹并打开").click()

    # WHEN the app starts on it and the user agrees to a copy
    when_dialog_opens(copy_it, timeout_ms=STEP_TIMEOUT_MS)
    start(sequence)
    qtbot.waitUntil(lambda: sequence.is_open or sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    # THEN the refusal came over the opening window, and the copy in the data folder is what opened
    assert "U盘" in str(seen["text"]) and seen["parent"] is sequence.window and seen["opening"] is True
    copy = config.data_dir() / township_file.name
    assert str(copy) in str(seen["info"]) and sequence.path == copy and sequence.is_open
    assert str(copy) in sequence.window.db_label.text() and _villages(sequence.window) == ["西关村"]
    # AND the file on the drive was not touched (not even locked)
    assert township_file.read_bytes() == original and not lock_path(township_file).exists()


@pytest.fixture
def held_elsewhere(township_file: Path) -> Iterator[subprocess.Popen]:
    """Another townapp process holds the database's lock (as a second window would)."""
    code = ("import sys, time\nfrom PySide6.QtCore import QLockFile\n"
            f"lock = QLockFile({str(lock_path(township_file))!r})\nassert lock.tryLock(0)\n"
            "print('LOCKED', flush=True)\ntime.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
    yield holder
    holder.kill()
    holder.wait(10)


def test_a_locked_database_is_still_refused_with_exit_code_1(app: QApplication, qtbot,  # noqa: ANN001
                                                             township_file: Path, held_elsewhere,  # noqa: ANN001
                                                             quick_check_calls: list[Path]) -> None:
    seen: dict[str, object] = {}

    def read_and_close(box: QMessageBox) -> None:
        seen.update(text=box.text(), parent=box.parentWidget(), visible=box.parentWidget().isVisible())
        box.accept()

    # WHEN the app is started on a database another window has open (run_session: the real event loop)
    when_dialog_opens(read_and_close, timeout_ms=STEP_TIMEOUT_MS)
    code = run_session(app, township_file, demo=True)
    # THEN it is refused over its own (opening) main window, exit code 1, and the file was never checked or opened
    assert code == 1
    assert "已经在另一个窗口中打开" in str(seen["text"]) and str(held_elsewhere.pid) in str(seen["text"])
    assert seen["visible"] is True and type(seen["parent"]).__name__ == "MainWindow"
    assert quick_check_calls == []


def test_login_is_still_required_without_demo(app: QApplication, qtbot, township_file: Path, start) -> None:  # noqa: ANN001
    database = open_database(township_file)
    AccountService(database).create_first_admin("张组织委员", ADMIN_PASSWORD, ADMIN_PASSWORD)
    database.dispose()
    sequence = StartupSequence(township_file, demo=False)
    seen: dict[str, object] = {}

    def login(dialog: QDialog) -> None:
        seen.update(kind=type(dialog), parent=dialog.parentWidget(), opening=sequence.window.is_opening,
                    step=sequence.step_text, pages=sequence.window.nav.count())
        dialog.username.setText("张组织委员")
        dialog.password.setText(ADMIN_PASSWORD)
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()

    # WHEN the app starts without --demo
    when_dialog_opens(login, timeout_ms=STEP_TIMEOUT_MS)
    start(sequence)
    qtbot.waitUntil(lambda: sequence.is_open or sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    # THEN the login dialog came over the opening window, before any page existed
    assert seen["kind"] is LoginDialog and seen["parent"] is sequence.window
    assert seen["opening"] is True and seen["pages"] == 0 and seen["step"] == "请登录……"
    # AND the pages open for the user who logged in
    assert sequence.window.ctx.actor.username == "张组织委员"
    assert "当前用户：张组织委员" in sequence.window.user_label.text()
    sequence.window.close()
    sequence.shut_down()


def test_cancelling_the_login_exits_with_code_0_and_releases_the_database(
        app: QApplication, qtbot, township_file: Path, start) -> None:  # noqa: ANN001
    database = open_database(township_file)
    AccountService(database).create_first_admin("张组织委员", ADMIN_PASSWORD, ADMIN_PASSWORD)
    database.dispose()
    sequence = StartupSequence(township_file, demo=False)
    when_dialog_opens(lambda dialog: dialog.reject(), timeout_ms=STEP_TIMEOUT_MS)
    start(sequence)
    qtbot.waitUntil(lambda: sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    assert sequence.exit_code == 0 and sequence.db is None and not sequence.window.isVisible()
    assert sequence.shut_down() == 0
    assert DatabaseLock(township_file).acquire()
    assert not any("exit" in p.name for p in config.backup_dir().iterdir())  # no session, no exit backup


def test_the_first_demo_start_builds_on_the_opening_panel_and_cancel_leaves_nothing(
        app: QApplication, qtbot, tmp_path: Path, start) -> None:  # noqa: ANN001
    # GIVEN no demo database yet
    path = tmp_path / "demo.db"
    sequence = StartupSequence(path, demo=True)
    # WHEN the app starts with --demo
    start(sequence)
    window = sequence.window
    qtbot.waitUntil(lambda: window.opening.bar.maximum() > 0, timeout=STEP_TIMEOUT_MS)
    # THEN the opening panel shows the build's progress, with a cancel button
    assert window.is_opening and window.opening.cancel.isVisible()
    assert window.opening.step.text()
    # WHEN the user cancels THEN start-up ends with code 0 and no half-built database is left
    window.opening.cancel.click()
    assert sequence.step_text == "正在取消……" and not window.opening.cancel.isEnabled()
    qtbot.waitUntil(lambda: sequence.exit_code is not None, timeout=STEP_TIMEOUT_MS)
    assert sequence.exit_code == 0 and not sequence.is_open
    assert sequence.shut_down() == 0
    assert sorted(p.name for p in tmp_path.iterdir() if "demo" in p.name and not p.name.endswith(".lock")) == []


PROBE = r"""
import json, sys
from townapp.ui import startup_timing

HEAVY = ("sqlalchemy", "alembic", "pypinyin", "matplotlib", "reportlab", "openpyxl")
real_report_shown = startup_timing.report_shown


def report_shown(window):
    loaded = sorted(m for m in sys.modules
                    if m.split(".")[0] in HEAVY or m == "townapp.db" or m.startswith("townapp.db."))
    print("loaded-before-shown " + json.dumps(loaded), flush=True)
    real_report_shown(window)


startup_timing.report_shown = report_shown
from townapp.cli import main

sys.exit(main(sys.argv[1:]))
"""


def test_the_process_prints_shown_then_ready_and_nothing_heavy_is_imported_before_the_window(
        township_file: Path, tmp_path: Path) -> None:
    # GIVEN the real process, asked to report its timing and quit (as townapp bench runs it)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TOWNAPP_QUIT_AFTER_SHOWN": "1",
           "TOWNAPP_DATA_DIR": str(tmp_path / "data"), "PYTHONIOENCODING": "utf-8",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-c", PROBE, "--demo", "--db", str(township_file)], cwd=ROOT,
                            capture_output=True, text=True, encoding="utf-8", env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    # THEN by the time the window was shown no database layer, ORM, migration tool, pinyin table,
    # chart, PDF or Excel library had been imported
    loaded = next(json.loads(" ".join(parts[1:])) for parts in lines if parts[0] == "loaded-before-shown")
    assert loaded == []
    # AND it printed "shown" (the window visible), then "ready" (the first page's data), in that order
    markers = [parts for parts in lines if parts[0] in (SHOWN_MARKER, READY_MARKER)]
    assert [m[0] for m in markers] == [SHOWN_MARKER, READY_MARKER]
    assert markers[0][2] == "visible=True"
    shown, ready = float(markers[0][1]), float(markers[1][1])
    assert 0 < ready - shown < 300


# the damaged-database corpus of townapp check, at start-up (the variants a start-up must refuse)
from tests.db.test_damaged_databases import VARIANTS  # noqa: E402

# opened at start-up: an extra table harms nothing; the next two pass quick_check (see the unclean-shutdown test);
# damaged stored values are found by `townapp check`, which reads every value (minutes on a county database:
# too long for every start; the README says so)
STORED_VALUE_DAMAGE = ("姓名中的无效 UTF-8", "时间戳中翻转的字节", "整数列中的文字", "文字列中的二进制数据")
REFUSED_AT_STARTUP = [name for name in VARIANTS
                      if name not in ("多出的数据表", "有索引的值中翻转了一个字节", "日期值被改坏", *STORED_VALUE_DAMAGE)]


@pytest.mark.parametrize("variant", REFUSED_AT_STARTUP)
def test_a_damaged_or_foreign_database_is_reported_in_chinese_at_start_up(
        app: QApplication, qtbot, township_file: Path, start, variant: str) -> None:  # noqa: ANN001
    """GIVEN the database file damaged or foreign in one way (no backup to offer)
    WHEN the app starts on it
    THEN a Chinese message says what is wrong (never "发生意外错误", exit 3), the app does not open it,
    and the file is left exactly as it was."""
    damage, _expected = VARIANTS[variant]
    damage(township_file)
    before = township_file.read_bytes()
    told: list[str] = []

    def answer(box: QMessageBox) -> None:
        told.append(box.text())
        no = box.button(QMessageBox.StandardButton.No)
        (no.click() if no is not None else box.accept())

    when_dialog_opens(answer, timeout_ms=STEP_TIMEOUT_MS)
    sequence = StartupSequence(township_file, demo=True)
    start(sequence)
    qtbot.waitUntil(lambda: sequence.exit_code is not None or sequence.is_open, timeout=STEP_TIMEOUT_MS)
    assert not sequence.is_open and sequence.exit_code in (0, 1), told
    assert told and "意外" not in told[0] and any("\u4e00" <= ch <= "\u9fff" for ch in told[0])
    assert township_file.read_bytes() == before


def test_after_an_unclean_shutdown_start_up_runs_the_full_check_and_finds_a_flipped_indexed_value(
        app: QApplication, qtbot, township_file: Path, start) -> None:  # noqa: ANN001
    """GIVEN a byte flipped inside an indexed value (a person's name), which quick_check cannot see,
    and the -wal file a crash leaves behind WHEN the app starts
    THEN the full integrity_check runs and the damage is reported (no backup: a Chinese message), not opened."""
    _flipped_indexed_value_of(township_file, "王建国")
    Path(str(township_file) + "-wal").write_bytes(b"")  # what a killed session leaves (an empty log is valid)
    told: list[str] = []
    when_dialog_opens(lambda box: (told.append(box.text()), box.accept()), timeout_ms=STEP_TIMEOUT_MS)
    sequence = StartupSequence(township_file, demo=True)
    start(sequence)
    qtbot.waitUntil(lambda: sequence.exit_code is not None or sequence.is_open, timeout=STEP_TIMEOUT_MS)
    assert not sequence.is_open and told and "数据库检查未通过" in told[0]


def _flipped_indexed_value_of(path: Path, name: str) -> None:
    """Flip the last byte of ``name`` inside the person-name index's page (the table row keeps it)."""
    import sqlite3

    con = sqlite3.connect(path)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name='ix_person_name'").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    start = 4096 * (root - 1)
    at = data.find(name.encode(), start, start + 4096)
    assert at > 0
    data[at + len(name.encode()) - 1] ^= 0x01
    path.write_bytes(bytes(data))
