"""Accounts: first administrator, login with lockout, passwords, user management.

No default password exists anywhere: a database without an active
administrator asks for one (``needs_first_admin``). Passwords are checked
against scrypt hashes; five wrong passwords in a row lock the account for five
minutes (both figures in resources/safety/policy.json).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import NoReturn

from sqlalchemy import func, select

from townapp.accounts.dto import UserDTO, UserInput
from townapp.accounts.models import User
from townapp.accounts.passwords import hash_password, needs_rehash, verify_password
from townapp.core import permissions
from townapp.core.actor import ROLE_ADMIN, ROLE_VILLAGE, ROLES, SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError, FieldProblem, NotFound, ValidationFailed
from townapp.core.policy import SecurityPolicy, security_policy
from townapp.core.text import clean_name, squeeze_spaces
from townapp.db import Database
from townapp.db.audit import AuditEntry
from townapp.db.base import utcnow
from townapp.registry.models import Village

log = logging.getLogger(__name__)

WRONG_LOGIN = "用户名或密码不正确"
# (database, name) -> (wrong logins in a row, locked until) for names no account has
_UNKNOWN_FAILURES: dict[tuple[str, str], tuple[int, dt.datetime | None]] = {}
RESERVED_NAMES = ("命令行", "演示管理员", "系统")


class AccountService:
    """Every method is one unit of work; ``clock`` is injectable so lockout can be tested."""

    def __init__(self, db: Database, actor: Actor = SYSTEM_ACTOR,
                 clock: Callable[[], dt.datetime] = utcnow, policy: SecurityPolicy | None = None) -> None:
        self.db = db
        self.actor = actor
        self.clock = clock
        self.policy = policy or security_policy()

    # ----- first run ------------------------------------------------------------
    def needs_first_admin(self) -> bool:
        with self.db.reader() as s:
            admins = s.scalar(select(func.count()).select_from(User)
                              .where(User.role == ROLE_ADMIN, User.active.is_(True)))
            return not admins

    def create_first_admin(self, username: str, password: str, confirm: str, display_name: str = "") -> Actor:
        """The first run's administrator; refused once any active administrator exists."""
        if not self.needs_first_admin():
            raise DomainError("已经设置过管理员，请用管理员账号登录")
        problems = self._check_username(username, None) + self._check_password(password, confirm, username)
        if problems:
            raise ValidationFailed(problems)
        name = squeeze_spaces(username)
        actor = Actor(name, ROLE_ADMIN)
        with self.db.unit_of_work(actor) as s:
            s.add(User(username=name, display_name=clean_name(display_name or ""), role=ROLE_ADMIN,
                       password_hash=hash_password(password, self.policy.scrypt), failed_logins=0, active=True))
        log.info("已设置管理员账号 %s", name)
        return actor

    # ----- login ------------------------------------------------------------------
    def login(self, username: str, password: str) -> Actor:
        """The acting user for this session, or DomainError (wrong, locked, disabled).

        An unknown user and a wrong password get the same message and cost the
        same scrypt derivation, so a login attempt never tells whether an
        account exists. A good login stores the hash again at the policy's cost
        when it was made at an older one.
        """
        name = squeeze_spaces(username or "")
        now = self.clock()
        cost = self.policy.scrypt
        with self.db.unit_of_work(Actor(name or "（空）")) as s:
            user = s.scalar(select(User).where(User.username == name))
            if user is None:
                verify_password(password, None, cost)
                log.info("登录失败：用户名不存在")
                self._fail_unknown(name, now)
            actor = Actor(user.username, user.role, user.village_id)
            s.info["actor"] = actor
            if user.locked_until is not None and user.locked_until > now:
                verify_password(password, None, cost)  # a locked account answers no faster than any other
                raise DomainError(self._locked_message(user.locked_until, now))
            if not verify_password(password, user.password_hash, cost):
                # a disabled account counts and locks like any other: it is only named to someone who
                # knows its password
                user.failed_logins = (user.failed_logins or 0) + 1
                s.add(AuditEntry(username=user.username, action="login", entity="user_account",
                                 entity_id=user.id, field="失败", village_id=user.village_id))
                log.info("登录失败：%s 第 %d 次输错密码", user.username, user.failed_logins)
                if user.failed_logins >= self.policy.lockout_failures:
                    user.locked_until = now + dt.timedelta(minutes=self.policy.lockout_minutes)
                    user.failed_logins = 0
                    s.commit()
                    raise DomainError(self._just_locked_message())
                s.commit()
                raise DomainError(self.wrong_login_message())
            if not user.active:
                raise DomainError("该账号已停用，请联系管理员")
            if needs_rehash(user.password_hash, cost):
                user.password_hash = hash_password(password, cost)
                log.info("已按当前安全规则重新保存 %s 的密码摘要", user.username)
            user.failed_logins = 0
            user.locked_until = None
            s.add(AuditEntry(username=user.username, action="login", entity="user_account",
                             entity_id=user.id, field="成功", village_id=user.village_id))
        log.info("登录成功：%s（%s）", actor.username, actor.role)
        return actor

    def _fail_unknown(self, name: str, now: dt.datetime) -> NoReturn:
        """An unknown name fails, and locks, exactly as a known one would: the messages a run of wrong
        logins gets never tell whether the account exists. Counted in memory: a name that exists
        nowhere has no row to count in, and forgetting the count at restart only helps the clerk."""
        key = (self.db.location, name)
        failures, locked_until = _UNKNOWN_FAILURES.get(key, (0, None))
        if locked_until is not None and locked_until > now:
            raise DomainError(self._locked_message(locked_until, now))
        failures += 1
        if failures >= self.policy.lockout_failures:
            _UNKNOWN_FAILURES[key] = (0, now + dt.timedelta(minutes=self.policy.lockout_minutes))
            raise DomainError(self._just_locked_message())
        _UNKNOWN_FAILURES[key] = (failures, None)
        raise DomainError(self.wrong_login_message())

    def _locked_message(self, locked_until: dt.datetime, now: dt.datetime) -> str:
        minutes = max(1, -(-int((locked_until - now).total_seconds()) // 60))
        return f"连续输错密码次数过多，账号已锁定，请 {minutes} 分钟后再试，或请管理员重置密码"

    def _just_locked_message(self) -> str:
        return f"连续 {self.policy.lockout_failures} 次输错密码，账号已锁定 {self.policy.lockout_minutes} 分钟"

    def wrong_login_message(self) -> str:
        """The one answer for an unknown user and a wrong password (it names no remaining count)."""
        return (f"{WRONG_LOGIN}。连续输错 {self.policy.lockout_failures} 次，账号将锁定 "
                f"{self.policy.lockout_minutes} 分钟")

    # ----- passwords ----------------------------------------------------------------
    def change_own_password(self, old: str, new: str, confirm: str) -> None:
        with self.db.unit_of_work(self.actor) as s:
            user = s.scalar(select(User).where(User.username == self.actor.username))
            if user is None:
                raise DomainError("当前账号不是登记的用户，不能修改密码")
            if not verify_password(old, user.password_hash, self.policy.scrypt):
                raise ValidationFailed([FieldProblem("old", "原密码不正确")])
            problems = self._check_password(new, confirm, user.username)
            if new == old:
                problems.append(FieldProblem("new", "新密码不能与原密码相同"))
            if problems:
                raise ValidationFailed(problems)
            user.password_hash = hash_password(new, self.policy.scrypt)

    def reset_password(self, user_id: int, new: str, confirm: str) -> None:
        """The administrator sets a new password for someone (also unlocks the account)."""
        permissions.require_admin(self.actor, "重置他人密码")
        with self.db.unit_of_work(self.actor) as s:
            user = self._get(s, user_id)
            problems = self._check_password(new, confirm, user.username)
            if problems:
                raise ValidationFailed(problems)
            user.password_hash = hash_password(new, self.policy.scrypt)
            user.failed_logins = 0
            user.locked_until = None

    # ----- user management -----------------------------------------------------------
    def users(self) -> list[UserDTO]:
        permissions.require_admin(self.actor, "查看账号列表")
        with self.db.reader() as s:
            rows = s.execute(select(User, Village.name).outerjoin(Village, Village.id == User.village_id)
                             .order_by(User.id))
            return [self._dto(u, village) for u, village in rows]

    def check_user(self, data: UserInput) -> list[FieldProblem]:
        permissions.require_admin(self.actor, "管理账号")
        problems = self._check_username(data.username, data.id)
        if data.role not in ROLES:
            problems.append(FieldProblem("role", "请选择角色：" + "、".join(ROLES)))
        if data.role == ROLE_VILLAGE:
            if data.village_id is None:
                problems.append(FieldProblem("village_id", "村录入员必须指定所属的村/社区"))
            else:
                with self.db.reader() as s:
                    if s.get(Village, data.village_id) is None:
                        problems.append(FieldProblem("village_id", "所选村/社区不存在"))
        if data.id is None:
            problems.extend(self._check_password(data.password, data.password, data.username))
        return problems

    def save_user(self, data: UserInput) -> int:
        problems = self.check_user(data)
        if problems:
            raise ValidationFailed(problems)
        with self.db.unit_of_work(self.actor) as s:
            if data.id is None:
                user = User(password_hash=hash_password(data.password, self.policy.scrypt), failed_logins=0)
                s.add(user)
            else:
                user = self._get(s, data.id)
                if user.username == self.actor.username and (data.role != ROLE_ADMIN or not data.active):
                    raise DomainError("不能取消自己的管理员角色或停用自己的账号")
                if user.role == ROLE_ADMIN and (data.role != ROLE_ADMIN or not data.active):
                    self._keep_one_admin(s, user.id)
            user.username = squeeze_spaces(data.username)
            user.display_name = clean_name(data.display_name or "")
            user.role = data.role
            user.village_id = data.village_id if data.role == ROLE_VILLAGE else None
            user.active = data.active
            s.flush()
            return user.id

    def set_active(self, user_id: int, active: bool) -> None:
        permissions.require_admin(self.actor, "停用或启用账号")
        with self.db.unit_of_work(self.actor) as s:
            user = self._get(s, user_id)
            if not active and user.username == self.actor.username:
                raise DomainError("不能停用自己的账号")
            if not active and user.role == ROLE_ADMIN:
                self._keep_one_admin(s, user.id)
            user.active = active

    # ----- helpers --------------------------------------------------------------------
    def _keep_one_admin(self, s, user_id: int) -> None:  # noqa: ANN001
        others = s.scalar(select(func.count()).select_from(User).where(
            User.role == ROLE_ADMIN, User.active.is_(True), User.id != user_id))
        if not others:
            raise DomainError("至少要保留一个可用的管理员账号")

    def _check_username(self, username: str, own_id: int | None) -> list[FieldProblem]:
        name = squeeze_spaces(username or "")
        if not name:
            return [FieldProblem("username", "用户名不能为空")]
        if len(name) > 32:
            return [FieldProblem("username", "用户名不能超过32个字")]
        if name in RESERVED_NAMES:
            return [FieldProblem("username", f"“{name}”是系统保留的名称，请换一个")]
        with self.db.reader() as s:
            other = s.scalar(select(User.id).where(User.username == name))
        if other is not None and other != own_id:
            return [FieldProblem("username", f"用户名“{name}”已被使用")]
        return []

    def _check_password(self, password: str, confirm: str, username: str) -> list[FieldProblem]:
        problems = []
        minimum = self.policy.min_password_length
        if len(password or "") < minimum:
            problems.append(FieldProblem("password", f"密码至少 {minimum} 位"))
        elif squeeze_spaces(password) == squeeze_spaces(username or ""):
            problems.append(FieldProblem("password", "密码不能与用户名相同"))
        elif password != confirm:
            problems.append(FieldProblem("confirm", "两次输入的密码不一致"))
        return problems

    @staticmethod
    def _get(s, user_id: int) -> User:  # noqa: ANN001
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(f"账号不存在（编号 {user_id}）")
        return user

    @staticmethod
    def _dto(u: User, village: str | None) -> UserDTO:
        return UserDTO(u.id, u.username, u.display_name or "", u.role, u.village_id, village or "", bool(u.active),
                       u.locked_until, u.failed_logins or 0)
