"""What the accounts service hands out and takes in (never ORM objects, never hashes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class UserDTO:
    id: int
    username: str
    display_name: str
    role: str
    village_id: int | None
    village_name: str
    active: bool
    locked_until: dt.datetime | None
    failed_logins: int


@dataclass
class UserInput:
    username: str
    role: str
    display_name: str = ""
    village_id: int | None = None
    password: str = ""  # only for a new user; existing users change it through the password calls
    id: int | None = None
    active: bool = True


@dataclass(frozen=True)
class AuditFilter:
    """What the audit viewer asks for; every field optional."""

    username: str | None = None
    entity: str | None = None
    village_id: int | None = None
    action: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    entity_id: int | None = None  # with ``entity``: one record's history
    batch_id: int | None = None  # what one import brought
    records: tuple[tuple[str, int], ...] = ()  # (entity, id) pairs, any of them: a person's whole history


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime
    username: str
    action: str
    entity: str
    entity_id: int | None
    village_name: str
    field: str
    old: str
    new: str
    reason: str
    batch_id: int | None = None  # the import batch the change came with
