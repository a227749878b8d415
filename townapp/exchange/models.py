"""The exchange's own tables: the import log, what each import changed, exports, county holdings.

They point at module rows only by (entity, id) — no foreign keys into module
tables and no columns added to them — so exchange stays independent of modules.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from townapp.db.base import Base, utcnow


class ImportBatch(Base):
    """One real import attempt, accepted or rejected: who, when, which file, what it did."""

    __tablename__ = "import_batch"
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(260))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="workbook")  # workbook | package
    status: Mapped[str] = mapped_column(String(16))  # running | accepted | rejected | cancelled
    township_code: Mapped[str | None] = mapped_column(String(12))  # the package's township (county mode)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    report: Mapped[str | None] = mapped_column(Text)  # the JSON report (errors capped)


class ImportChange(Base):
    """A record an accepted import created, updated or (county mode) deleted."""

    __tablename__ = "import_change"
    __audited__ = False
    __table_args__ = (Index("ix_import_change_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(8))  # created | updated | deleted


class ExportRecord(Base):
    """A file that left the program: templates, packages, sheet exports (full IDs with the reason)."""

    __tablename__ = "export_record"
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # template | package | sheets
    file_name: Mapped[str] = mapped_column(String(260))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(default=0)
    full_ids: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(String(400))


class CountyHolding(Base):
    """County mode: which township's package brought a record, so its next package replaces it."""

    __tablename__ = "county_holding"
    __audited__ = False

    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[int] = mapped_column(primary_key=True)
    township_code: Mapped[str] = mapped_column(String(12), index=True)
    batch_id: Mapped[int | None]


class ImportLayout(Base):
    """A column mapping a person confirmed for a village's own workbook (e.g. 东关村党员花名册).

    Saved under the header's shape (``fingerprint``: its cells' labels in order), it is applied by
    itself the next time a sheet with the same header arrives, and the import report names it.
    One per header shape and village.
    """

    __tablename__ = "import_layout"
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(String(64))
    columns: Mapped[str] = mapped_column(Text)  # JSON {header text as in the file: field key or null}
    # a 村录入员's layout serves that village's imports only; a township user's (None) serves everyone's
    village_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    used_at: Mapped[dt.datetime | None]
