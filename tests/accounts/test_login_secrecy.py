"""Login tells nobody which accounts exist, and stores passwords at OWASP's scrypt cost (issue 16, hole 5)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select, update

from tests.figures import record
from townapp.accounts import passwords
from townapp.accounts.models import User
from townapp.accounts.passwords import hash_password, needs_rehash, verify_password
from townapp.accounts.service import AccountService
from townapp.core.errors import DomainError
from townapp.core.policy import ScryptParams, security_policy
from townapp.db import Database

PASSWORD = "Zhen#Admin-7731"


def _failure(accounts: AccountService, username: str, password: str) -> str:
    try:
        accounts.login(username, password)
    except DomainError as exc:
        return exc.message
    raise AssertionError("login should have failed")


def test_unknown_user_and_wrong_password_get_the_same_answer_at_the_same_cost(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN an administrator "zhang"
    WHEN someone logs in as "zhang" with a wrong password, and as "nobody"
    THEN both get the very same message (no remaining-tries count), and both cost one scrypt derivation
    at the policy's N (counted, not timed: a busy machine must not make this test flaky)."""
    accounts = AccountService(db)
    accounts.create_first_admin("zhang", PASSWORD, PASSWORD)
    derived: list[int] = []
    real = passwords._derive

    def counting(password: str, salt: bytes, log2_n: int, r: int, p: int, length: int) -> bytes:
        derived.append(log2_n)
        return real(password, salt, log2_n, r, p, length)

    monkeypatch.setattr(passwords, "_derive", counting)
    wrong = _failure(accounts, "zhang", "not-the-password")
    wrong_cost, derived[:] = list(derived), []
    unknown = _failure(accounts, "nobody", "not-the-password")
    assert wrong == unknown
    assert "用户名或密码不正确" in wrong
    assert derived == wrong_cost == [security_policy().scrypt.log2_n]
    record("登录：用户不存在与密码错误的提示相同", "是" if wrong == unknown else "否")


def test_shipped_policy_is_scrypt_n_2_17() -> None:
    """GIVEN the shipped policy THEN scrypt runs at N=2¹⁷, r=8, p=1 (OWASP), and hashlib gets the memory for it."""
    params = security_policy().scrypt
    assert (params.log2_n, params.r, params.p) == (17, 8, 1)
    stored = hash_password("Some-Password-1", params)
    assert stored.startswith("scrypt$17$8$1$")
    assert verify_password("Some-Password-1", stored) and not verify_password("other", stored)
    record("密码摘要 scrypt 成本", f"N=2^{params.log2_n}, r={params.r}, p={params.p}")


def test_older_hashes_are_upgraded_at_the_next_good_login(db: Database) -> None:
    """GIVEN an account whose hash was stored at the old cost N=2¹⁵
    WHEN the user logs in with the right password
    THEN the login works and the stored hash is now at the policy's cost; a wrong password changes nothing."""
    accounts = AccountService(db)
    accounts.create_first_admin("zhang", PASSWORD, PASSWORD)
    old = hash_password(PASSWORD, dataclasses.replace(security_policy().scrypt, log2_n=15))
    with db.unit_of_work() as s:
        s.execute(update(User).where(User.username == "zhang").values(password_hash=old))
    assert needs_rehash(old)
    try:
        accounts.login("zhang", "wrong-password")
    except DomainError:
        pass
    with db.reader() as s:
        assert s.scalar(select(User.password_hash).where(User.username == "zhang")) == old
    accounts.login("zhang", PASSWORD)
    with db.reader() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "zhang"))
    assert stored != old and stored.startswith("scrypt$17$") and not needs_rehash(stored)
    assert accounts.login("zhang", PASSWORD).username == "zhang"


def test_a_tampered_hash_cannot_make_login_allocate_gigabytes() -> None:
    """GIVEN a stored hash that asks for N=2³⁰ THEN it simply does not verify (no 128 GiB allocation)."""
    params = ScryptParams(log2_n=30, r=8, p=1, salt_bytes=16, key_bytes=32)
    forged = "scrypt$30$8$1$" + hash_password("x", dataclasses.replace(params, log2_n=10)).split("$", 4)[4]
    assert verify_password("x", forged) is False
