"""Stories: the first run sets the administrator password, the administrator creates a village clerk,
the clerk logs in and sees only their village. Plus the audit page and the start-up safety pieces."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton

from townapp import config
from townapp.core.actor import ROLE_ADMIN, ROLE_VILLAGE, Actor
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.db.backup import backup_database, list_backups
from townapp.registry.dto import HouseholdInput, MemberInput, PersonInput, SearchFilter, VillageInput
from townapp.registry.service import RegistryService
from townapp.ui.app import open_main_window
from townapp.ui.forms.accounts import ReasonDialog, UserDialog
from townapp.ui.lock import DatabaseLock, lock_path
from townapp.ui.login import FirstAdminDialog, LoginDialog
from townapp.ui.startup import BackupKeeper, authenticate, ensure_healthy

from .conftest import when_dialog_opens

ADMIN_PASSWORD = "Linjin#2026!"
CLERK_PASSWORD = "Xiguan@1234"


@pytest.fixture
def township(db: Database) -> dict[str, int]:
    """西关村 and 东关村, each with one household."""
    service = RegistryService(db)
    ids = {}
    for n, (code, name) in enumerate((("140821100201", "西关村"), ("140821100202", "东关村"))):
        vid = service.save_village(VillageInput(code=code, name=name, groups=["一组"]))
        head = PersonInput(make_id_number("140821", dt.date(1970 + n, 3, 3), 101), f"{name}户主")
        service.save_household(HouseholdInput(vid, "001", [MemberInput(head, "户主")]))
        ids[name] = vid
    return ids


def _click_ok(dialog: QDialog) -> None:
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()


def test_first_run_admin_creates_a_clerk_who_sees_only_their_village(app, qtbot, db: Database,  # noqa: ANN001
                                                                      township: dict[str, int]) -> None:
    seen: dict[str, object] = {}

    def set_admin(dialog: QDialog) -> None:
        assert isinstance(dialog, FirstAdminDialog)
        dialog.username.setText("张组织委员")
        dialog.password.setText(ADMIN_PASSWORD)
        dialog.confirm.setText(ADMIN_PASSWORD + "x")  # a typo first: the dialog says so and stays open
        _click_ok(dialog)
        seen["typo"] = dialog.error.text()
        seen["still_open"] = dialog.isVisible()
        dialog.confirm.setText(ADMIN_PASSWORD)
        _click_ok(dialog)

    # GIVEN a database nobody has logged into WHEN the app starts THEN it asks for the administrator password
    when_dialog_opens(set_admin)
    admin = authenticate(db, demo=False)
    assert seen["typo"] == "两次输入的密码不一致" and seen["still_open"] is True
    assert admin == Actor("张组织委员", ROLE_ADMIN)

    # WHEN the administrator creates a village clerk for 西关村 on the accounts page
    window = open_main_window(db, admin)
    qtbot.addWidget(window)
    assert {"账号管理", "备份与恢复", "审计日志"} <= {p.title for p in window.pages}
    page = window.open_page("账号管理")

    def fill_user(dialog: QDialog) -> None:
        assert isinstance(dialog, UserDialog)
        dialog.username.setText("王文书")
        dialog.role.setCurrentIndex(dialog.role.findData(ROLE_VILLAGE))
        dialog.village.setCurrentIndex(dialog.village.findData(township["西关村"]))
        dialog.password.setText(CLERK_PASSWORD)
        dialog.confirm.setText(CLERK_PASSWORD)
        _click_ok(dialog)

    when_dialog_opens(fill_user)
    qtbot.mouseClick(page.findChild(QPushButton, "add_user"), Qt.MouseButton.LeftButton)
    assert [page.table.item(r, 0).text() for r in range(page.table.rowCount())] == ["张组织委员", "王文书"]
    assert page.table.item(1, 3).text() == "西关村"
    window.close()

    # WHEN the clerk logs in (mistyping once)
    def login(dialog: QDialog) -> None:
        assert isinstance(dialog, LoginDialog)
        dialog.username.setText("王文书")
        dialog.password.setText("wrong-one")
        _click_ok(dialog)
        seen["wrong"] = dialog.error.text()
        dialog.password.setText(CLERK_PASSWORD)
        _click_ok(dialog)

    when_dialog_opens(login)
    clerk = authenticate(db, demo=False)
    assert "用户名或密码不正确" in str(seen["wrong"])
    assert clerk == Actor("王文书", ROLE_VILLAGE, township["西关村"])

    # THEN the clerk's window shows only 西关村: villages, households, people, counts; no admin pages
    window = open_main_window(db, clerk)
    qtbot.addWidget(window)
    titles = {p.title for p in window.pages}
    assert "审计日志" not in titles and "备份与恢复" not in titles and "账号管理" in titles
    villages = window.open_page("村/社区")
    assert [villages.table.item(r, 1).text() for r in range(villages.table.rowCount())] == ["西关村"]
    households = window.open_page("住户")
    assert [households.village.itemText(i) for i in range(households.village.count())] == ["全部", "西关村"]
    assert {households.model.record_at(r).village for r in range(households.model.rowCount())} == {"西关村"}
    people = window.open_page("人员/党员")
    assert people.model.rowCount() == 1 and people.model.record_at(0).name == "西关村户主"
    assert "村/社区 1" in window.counts_label.text()
    # AND asking the service for the other village directly gets nothing
    assert window.ctx.registry.person_ids(SearchFilter(village_id=township["东关村"])) == []
    window.close()


def test_demo_opens_as_the_demo_administrator_without_login(db: Database) -> None:
    assert authenticate(db, demo=True).username == "演示管理员"


def test_audit_page_filters_and_needs_a_reason_for_full_content(app, qtbot, db: Database,  # noqa: ANN001
                                                                 township: dict[str, int]) -> None:
    window = open_main_window(db, Actor("张组织委员", ROLE_ADMIN))
    qtbot.addWidget(window)
    page = window.open_page("审计日志")
    everything = page.model.rowCount()
    page.village.setCurrentIndex(page.village.findData(township["东关村"]))
    page.reload()
    rows = [page.model.record_at(r) for r in range(page.model.rowCount())]
    assert 0 < len(rows) < everything and {r.village_name for r in rows} == {"东关村"}
    person_row = next(r for r in range(page.model.rowCount()) if page.model.record_at(r).entity == "人员")
    shown = page.model.data(page.model.index(person_row, 8))
    assert "140***" in shown  # the ID number in the new value is masked
    page.view.selectRow(person_row)

    def give_reason(dialog: QDialog) -> None:
        assert isinstance(dialog, ReasonDialog)
        dialog.reason.setText("核对户籍")
        _click_ok(dialog)
        when_dialog_opens(lambda box: box.accept())  # the message box with the full content

    when_dialog_opens(give_reason)
    qtbot.mouseClick(page.findChild(QPushButton, "show_full"), Qt.MouseButton.LeftButton)
    page.action.setCurrentIndex(page.action.findData("read"))
    page.village.setCurrentIndex(0)
    page.reload()
    assert page.model.rowCount() == 1 and page.model.record_at(0).reason == "核对户籍"
    # one person's history by 身份证号: the person and their household link, nothing of anyone else
    page.action.setCurrentIndex(0)
    page.person.setText(make_id_number("140821", dt.date(1971, 3, 3), 101))
    page.reload()
    entities = {page.model.record_at(r).entity for r in range(page.model.rowCount())}
    assert page.model.rowCount() >= 2 and entities <= {"人员", "住户成员"} and "人员" in entities
    page.person.setText("140821199901010000")  # no one has it
    page.reload()
    assert page.model.rowCount() == 0
    window.close()


def test_a_second_window_on_the_same_database_is_refused_and_a_crashed_lock_is_reclaimed(
        app, db: Database, tmp_path: Path) -> None:  # noqa: ANN001
    # GIVEN another townapp process holds the database's lock
    code = ("import sys, time\nfrom PySide6.QtCore import QLockFile\n"
            f"lock = QLockFile({str(lock_path(db.path))!r})\nassert lock.tryLock(0)\n"
            "print('LOCKED', flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
        # WHEN this window tries to open it THEN it is refused, naming the other process
        second = DatabaseLock(db.path)
        assert not second.acquire()
        assert "已经在另一个窗口中打开" in second.message and str(holder.pid) in second.message
        # WHEN the other process dies without unlocking (a crash)
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert lock_path(db.path).exists()
        # THEN its lock is stale and taken over
        started = time.monotonic()
        assert second.acquire()
        assert time.monotonic() - started < 5
        second.release()
    finally:
        if holder.poll() is None:
            holder.kill()


def test_periodic_backup_only_when_something_changed(app, db: Database, township: dict[str, int]) -> None:  # noqa: ANN001
    keeper = BackupKeeper(db, minutes=30)
    assert keeper.timer.interval() == 30 * 60_000
    assert keeper.tick() is None  # nothing changed since start-up
    RegistryService(db).save_village(VillageInput(code="140821100203", name="南关村"))
    made = keeper.tick()
    assert made is not None and made.parent == config.backup_dir() and "periodic" in made.name
    assert keeper.tick() is None
    keeper.timer.stop()


def test_start_up_offers_the_newest_good_backup_for_a_damaged_database(app, db: Database,  # noqa: ANN001
                                                                       township: dict[str, int]) -> None:
    backup_database(db.path, config.backup_dir(), "startup")
    path = db.path
    db.dispose()
    data = bytearray(path.read_bytes())
    data[4096 * 2:4096 * 3] = bytes(b ^ 0xFF for b in data[4096 * 2:4096 * 3])
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    asked: dict[str, str] = {}

    def accept(box: QMessageBox) -> None:
        asked["question"] = box.text()
        when_dialog_opens(lambda info: info.accept())  # then "已恢复"
        box.button(QMessageBox.StandardButton.Yes).click()

    when_dialog_opens(accept)
    assert ensure_healthy(path) is True
    assert "最新的完好备份" in asked["question"]
    assert RegistryService(_reopen(path)).villages()[0].name == "西关村"
    assert any(p.name.endswith(".damaged") for p in config.backup_dir().iterdir())
    assert list_backups(config.backup_dir(), path.stem)


def _reopen(path: Path) -> Database:
    from townapp.db import open_database

    return open_database(path)
