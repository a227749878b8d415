"""The import and export log as the GUI lists it (newest first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select

from townapp.core.actor import Actor
from townapp.db import Database
from townapp.exchange.models import ExportRecord, ImportBatch
from townapp.exchange.reader import file_sha256

STATUS_LABELS = {"accepted": "已导入", "rejected": "被拒绝", "cancelled": "已取消", "running": "进行中"}
EXPORT_LABELS = {"template": "导入模板", "package": "同步数据包", "sheets": "数据表"}


@dataclass(frozen=True)
class ImportLogRow:
    at: dt.datetime
    username: str
    file_name: str
    status: str
    created: int
    updated: int
    unchanged: int
    errors: int


@dataclass(frozen=True)
class ExportLogRow:
    at: dt.datetime
    username: str
    kind: str
    file_name: str
    rows: int
    full_ids: bool
    reason: str


def import_history(db: Database, limit: int = 500) -> list[ImportLogRow]:
    query = select(ImportBatch).order_by(ImportBatch.at.desc(), ImportBatch.id.desc()).limit(limit)
    with db.reader() as s:
        return [ImportLogRow(b.at, b.username, b.file_name, STATUS_LABELS.get(b.status, b.status), b.created,
                             b.updated, b.unchanged, b.errors) for b in s.scalars(query)]


def export_history(db: Database, limit: int = 500) -> list[ExportLogRow]:
    query = select(ExportRecord).order_by(ExportRecord.at.desc(), ExportRecord.id.desc()).limit(limit)
    with db.reader() as s:
        return [ExportLogRow(r.at, r.username, EXPORT_LABELS.get(r.kind, r.kind), r.file_name, r.rows, r.full_ids,
                             r.reason or "") for r in s.scalars(query)]


def log_template_export(db: Database, actor: Actor, path: Path) -> None:
    """Templates hold no personal data, but every file that leaves is listed in the log."""
    with db.unit_of_work(actor) as s:
        s.execute(insert(ExportRecord), [dict(username=actor.username, kind="template", file_name=path.name,
                                              file_sha256=file_sha256(path), rows=0, full_ids=False)])
