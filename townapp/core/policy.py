"""Security policy as data (resources/safety/policy.json): lockout, password rules, backup rotation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, ClassVar

from pydantic import Field, StrictInt

from townapp.core.resources import Resource, load

Count = Annotated[StrictInt, Field(ge=1)]


@dataclass(frozen=True)
class ScryptParams:
    log2_n: int
    r: int
    p: int
    salt_bytes: int
    key_bytes: int


@dataclass(frozen=True)
class RotationPolicy:
    """How many backups to keep: the newest of each of the last N days, ISO weeks and months.

    Backups taken just before a change (an import, a restore, a migration) are how a bad
    change is undone, so they have their own rule: the last ``before_change_keep_last`` of
    them, and every one of the last ``before_change_keep_days`` days.
    """

    daily: int
    weekly: int
    monthly: int
    before_change_keep_last: int = 20
    before_change_keep_days: int = 30


@dataclass(frozen=True)
class SecurityPolicy:
    min_password_length: int
    scrypt: ScryptParams
    lockout_failures: int
    lockout_minutes: int
    rotation: RotationPolicy
    backup_interval_minutes: int


class _Scrypt(Resource):
    log2_n: Count
    r: Count
    p: Count
    salt_bytes: Annotated[StrictInt, Field(ge=16)]
    key_bytes: Annotated[StrictInt, Field(ge=16)]


class _Password(Resource):
    min_length: Annotated[StrictInt, Field(ge=6)]
    scrypt: _Scrypt


class _Lockout(Resource):
    failures: Annotated[StrictInt, Field(ge=1)]
    minutes: Annotated[StrictInt, Field(ge=1)]


class _Backup(Resource):
    daily: Count
    weekly: Count
    monthly: Count
    before_change_keep_last: Count = 20
    before_change_keep_days: Count = 30
    interval_minutes: Annotated[StrictInt, Field(ge=1)]


class PolicyFile(Resource):
    """resources/safety/policy.json."""

    resource_label: ClassVar[str] = "安全策略"
    password: _Password
    lockout: _Lockout
    backup: _Backup


@lru_cache(maxsize=1)
def security_policy() -> SecurityPolicy:
    data = load(PolicyFile, "safety", "policy.json")
    return SecurityPolicy(
        min_password_length=data.password.min_length,
        scrypt=ScryptParams(**data.password.scrypt.model_dump()),
        lockout_failures=data.lockout.failures,
        lockout_minutes=data.lockout.minutes,
        rotation=RotationPolicy(**data.backup.model_dump(exclude={"interval_minutes"})),
        backup_interval_minutes=data.backup.interval_minutes,
    )
