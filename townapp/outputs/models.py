"""Output tables: the certificate number registry with its print log, and the returns history.

A certificate is issued once per kind and subject (a round's target, a
month's 最美网格员 …) and keeps its number for ever; printing it again is a
reprint (补打), logged with who, when, how and where, and for a single 补打
why. Subjects are referred to by a key string (``eval_target:12``), not a
foreign key: outputs never point at a module's tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, SyncedMixin, utcnow


class Certificate(SyncedMixin, Base):
    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("kind", "subject_key"), UniqueConstraint("kind", "year", "serial"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    subject_key: Mapped[str] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(64), index=True)
    source_label: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(64), default="")
    honour: Mapped[str] = mapped_column(String(100))  # 五星 / 最美网格员 … as printed
    issued_on: Mapped[dt.date]
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    first_printed_at: Mapped[dt.datetime | None]


class CertificatePrint(Base):
    """One certificate printed once: first print or 补打."""

    __tablename__ = "certificate_print"
    __audited__ = False  # itself a log

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))  # 完整版式 / 套打
    channel: Mapped[str] = mapped_column(String(200))  # 打印机名称 or the PDF file
    reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(200))  # why a single 补打 was needed (证书破损 …)


class ReturnExport(Base):
    """One exported quarterly return file (the returns history)."""

    __tablename__ = "return_export"
    __audited__ = False  # itself a log

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    file_kind: Mapped[str] = mapped_column(String(8))  # xlsx / pdf
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    exported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    tables: Mapped[int] = mapped_column(Integer)
    missing_figures: Mapped[str] = mapped_column(String(1000), default="")
