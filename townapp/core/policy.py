"""Security policy as data (resources/safety/policy.json): lockout, password rules, backup rotation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from townapp import config


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


@lru_cache(maxsize=1)
def security_policy() -> SecurityPolicy:
    data = json.loads(config.resource("safety", "policy.json").read_text(encoding="utf-8"))
    backup = data["backup"]
    return SecurityPolicy(
        min_password_length=int(data["password"]["min_length"]),
        scrypt=ScryptParams(**{k: int(v) for k, v in data["password"]["scrypt"].items()}),
        lockout_failures=int(data["lockout"]["failures"]),
        lockout_minutes=int(data["lockout"]["minutes"]),
        rotation=RotationPolicy(int(backup["daily"]), int(backup["weekly"]), int(backup["monthly"]),
                                int(backup.get("before_change_keep_last", 20)),
                                int(backup.get("before_change_keep_days", 30))),
        backup_interval_minutes=int(backup["interval_minutes"]),
    )
