"""Accounts: the first administrator, login and lockout, passwords that never appear in plain text."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path

import pytest

from tests.figures import record
from townapp import config
from townapp.accounts import service as account_service
from townapp.accounts.dto import UserInput
from townapp.accounts.service import AccountService
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied, ValidationFailed
from townapp.core.logs import configure_logging
from townapp.core.policy import security_policy
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.db.backup import backup_and_rotate
from townapp.registry.dto import VillageInput
from townapp.registry.service import RegistryService

ADMIN_PASSWORD = "Zhen#Admin-7731"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 8, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(autouse=True)
def cheaper_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about accounts, not hash cost: N=2¹² instead of the shipped 2¹⁷ (≈0.4 s per hash);
    test_login_secrecy.py checks the shipped cost and the upgrade."""
    shipped = security_policy()
    cheap = dataclasses.replace(shipped, scrypt=dataclasses.replace(shipped.scrypt, log2_n=12))
    monkeypatch.setattr(account_service, "security_policy", lambda: cheap)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(db: Database, clock: Clock) -> AccountService:
    return AccountService(db, clock=clock)


@pytest.fixture
def admin(db: Database, accounts: AccountService, clock: Clock) -> AccountService:
    actor = accounts.create_first_admin("zhang", ADMIN_PASSWORD, ADMIN_PASSWORD, "张书记")
    return AccountService(db, actor, clock=clock)


@pytest.fixture
def west(db: Database) -> int:
    return RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))


def test_first_run_needs_an_administrator_and_there_is_no_default_password(accounts: AccountService) -> None:
    # GIVEN a new database: no user exists, so nobody can log in with anything
    assert accounts.needs_first_admin()
    for guess in ("admin", "123456", "", "password"):
        with pytest.raises(DomainError):
            accounts.login("admin", guess)
    # WHEN a weak or mistyped first password is given THEN it is refused with the field named
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_first_admin("zhang", "123", "123")
    assert caught.value.problems[0].field == "password"
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_first_admin("zhang", ADMIN_PASSWORD, ADMIN_PASSWORD + "x")
    assert caught.value.problems[0].field == "confirm"
    # WHEN the administrator sets a proper password THEN they can log in as 管理员, and setup is over
    actor = accounts.create_first_admin("zhang", ADMIN_PASSWORD, ADMIN_PASSWORD)
    assert actor == Actor("zhang", ROLE_ADMIN)
    assert not accounts.needs_first_admin()
    assert accounts.login("zhang", ADMIN_PASSWORD) == Actor("zhang", ROLE_ADMIN)
    with pytest.raises(DomainError, match="已经设置过管理员"):
        accounts.create_first_admin("li", ADMIN_PASSWORD, ADMIN_PASSWORD)


def test_five_wrong_passwords_lock_the_account_for_five_minutes(admin: AccountService, clock: Clock) -> None:
    locked_at = None
    # WHEN the wrong password is typed five times
    for attempt in range(1, 6):
        with pytest.raises(DomainError) as caught:
            admin.login("zhang", "wrong-password")
        if "已锁定" in caught.value.message:
            locked_at = attempt
        elif attempt < 5:
            assert caught.value.message == admin.wrong_login_message()  # no count: it would tell the user exists
    # THEN the fifth locks it, and even the right password is refused while locked
    assert locked_at == 5
    with pytest.raises(DomainError, match="已锁定"):
        admin.login("zhang", ADMIN_PASSWORD)
    clock.now += dt.timedelta(minutes=4, seconds=59)
    with pytest.raises(DomainError, match="已锁定"):
        admin.login("zhang", ADMIN_PASSWORD)
    # WHEN five minutes have passed THEN the right password works and the count starts again
    clock.now += dt.timedelta(seconds=2)
    assert admin.login("zhang", ADMIN_PASSWORD).role == ROLE_ADMIN
    with pytest.raises(DomainError, match="用户名或密码不正确"):
        admin.login("zhang", "wrong-password")
    record("密码：连续输错几次后锁定（锁定分钟数）", f"第 {locked_at} 次（5 分钟）")


def test_a_run_of_wrong_logins_reads_the_same_for_real_disabled_and_unknown_names(
        admin: AccountService, accounts: AccountService, clock: Clock, west: int) -> None:
    """Issue 16 hole 5: after five wrong passwords a real account said 已锁定 while an unknown name went on
    saying 用户名或密码不正确, so five tries told whether a name exists. Now every name answers alike."""
    from townapp.accounts.dto import UserInput

    # GIVEN an active account, a disabled one and a name nobody has
    uid = admin.save_user(UserInput("li", ROLE_TOWNSHIP, "李会计", password="Li#Pass-2026x"))
    admin.set_active(uid, False)

    def answers(name: str) -> list[str]:
        out = []
        for _ in range(7):
            with pytest.raises(DomainError) as caught:
                accounts.login(name, "wrong-password")
            out.append(caught.value.message)
        return out

    # WHEN each gets seven wrong passwords in a row
    real, disabled, unknown = answers("zhang"), answers("li"), answers("nobody")
    # THEN the three runs of messages are identical, locks included
    assert real == disabled == unknown
    assert "已锁定" in real[4] and "已锁定" in real[6]
    record("登录：连续输错时已有/停用/不存在用户名的提示序列相同", "是")


def test_users_change_their_own_password_and_the_administrator_resets_others(
        admin: AccountService, db: Database, west: int, clock: Clock) -> None:
    # GIVEN a village clerk created by the administrator
    clerk_id = admin.save_user(UserInput("wangwen", ROLE_VILLAGE, "王文书", village_id=west, password="Xiguan-2026"))
    clerk = AccountService(db, admin.login("wangwen", "Xiguan-2026"), clock=clock)
    assert clerk.actor == Actor("wangwen", ROLE_VILLAGE, west)
    # WHEN the clerk changes their own password THEN only the new one works
    with pytest.raises(ValidationFailed, match="原密码不正确"):
        clerk.change_own_password("not-it", "Xiguan-2027", "Xiguan-2027")
    clerk.change_own_password("Xiguan-2026", "Xiguan-2027", "Xiguan-2027")
    with pytest.raises(DomainError):
        clerk.login("wangwen", "Xiguan-2026")
    assert clerk.login("wangwen", "Xiguan-2027").username == "wangwen"
    # AND the clerk cannot reset anyone's password or list users
    with pytest.raises(PermissionDenied):
        clerk.reset_password(clerk_id, "Hacked-0001", "Hacked-0001")
    with pytest.raises(PermissionDenied):
        clerk.users()
    # WHEN the clerk locks themselves out and the administrator resets the password THEN it works at once
    for _ in range(5):
        with pytest.raises(DomainError):
            clerk.login("wangwen", "forgotten!")
    admin.reset_password(clerk_id, "Reset-2026x", "Reset-2026x")
    assert clerk.login("wangwen", "Reset-2026x").role == ROLE_VILLAGE


def test_user_management_rules(admin: AccountService, db: Database, west: int) -> None:
    # a village clerk must belong to a village; usernames are unique; the last administrator stays
    with pytest.raises(ValidationFailed, match="必须指定所属的村"):
        admin.save_user(UserInput("li", ROLE_VILLAGE, password="Password-1"))
    admin.save_user(UserInput("li", ROLE_TOWNSHIP, password="Password-1"))
    with pytest.raises(ValidationFailed, match="已被使用"):
        admin.save_user(UserInput("li", ROLE_READONLY, password="Password-2"))
    me = next(u for u in admin.users() if u.username == "zhang")
    with pytest.raises(DomainError, match="不能停用自己"):
        admin.set_active(me.id, False)
    li = next(u for u in admin.users() if u.username == "li")
    admin.set_active(li.id, False)
    with pytest.raises(DomainError, match="已停用"):
        admin.login("li", "Password-1")
    assert [(u.username, u.role, u.active) for u in admin.users()] == [
        ("zhang", ROLE_ADMIN, True), ("li", ROLE_TOWNSHIP, False)]
    # a township cadre cannot manage accounts
    cadre = AccountService(db, Actor("li", ROLE_TOWNSHIP))
    with pytest.raises(PermissionDenied):
        cadre.save_user(UserInput("zhao", ROLE_READONLY, password="Password-3"))


@pytest.mark.sqlite_only("the database file, its -wal and the file backups are read for the password")
def test_no_plaintext_password_in_the_database_logs_or_backups(admin: AccountService, db: Database, west: int,
                                                                clock: Clock) -> None:
    # GIVEN logging to the data folder's log file, as the app does
    configure_logging(config.log_path(), logging.DEBUG)
    passwords = [ADMIN_PASSWORD, "Clerk#Pw-5531", "Clerk#Pw-New-9", "Reset#Pw-0042", "Typo#Wrong-1"]
    try:
        # WHEN accounts are created, used, mistyped, changed and reset, and backups are taken
        clerk_id = admin.save_user(UserInput("wangwen", ROLE_VILLAGE, village_id=west, password=passwords[1]))
        clerk = AccountService(db, admin.login("wangwen", passwords[1]), clock=clock)
        with pytest.raises(DomainError):
            admin.login("wangwen", passwords[4])
        clerk.change_own_password(passwords[1], passwords[2], passwords[2])
        admin.reset_password(clerk_id, passwords[3], passwords[3])
        admin.login("wangwen", passwords[3])
        backup = backup_and_rotate(db.path, "manual")
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_townapp", False):
                logging.getLogger().removeHandler(handler)
                handler.close()
    # THEN no password appears, in any encoding, in the database, its -wal, the backup or the log
    files = [db.path, Path(db.location + "-wal"), backup, config.log_path()]
    files = [f for f in files if f.exists()]
    blob = b"".join(f.read_bytes() for f in files)
    found = sum(blob.count(p.encode(enc)) for p in passwords for enc in ("utf-8", "utf-16-le", "utf-16-be"))
    assert found == 0
    assert b"scrypt$" in db.path.read_bytes() + Path(db.location + "-wal").read_bytes()
    # AND the audit log records that passwords changed without their hashes
    with db.reader() as s:
        changes = s.query(AuditEntry).filter(AuditEntry.field == "password_hash").all()
        assert len(changes) == 2
        assert {c.old for c in changes} == {c.new for c in changes} == {"（已隐藏）"}
        creates = [e.new for e in s.query(AuditEntry).filter(AuditEntry.entity == "user_account",
                                                                AuditEntry.action == "create")]
        assert creates and all("scrypt" not in c and "（已隐藏）" in c for c in creates)
    record("密码：明文出现次数（数据库、WAL、备份、日志）", f"{found}（检查 {len(files)} 个文件，{len(passwords)} 个密码）")
