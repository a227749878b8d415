"""Database-level checks: SQLite integrity, foreign keys, schema revision."""

from __future__ import annotations

from sqlalchemy import text

from townapp.core.errors import CheckReport
from townapp.db import migrate
from townapp.db.engine import Database


def database_checks(db: Database, report: CheckReport, facts: dict) -> None:
    with db.engine.connect() as conn:
        integrity = [row[0] for row in conn.execute(text("PRAGMA integrity_check"))]
        violations = conn.execute(text("PRAGMA foreign_key_check")).fetchall()
    facts["integrity"] = "ok" if integrity == ["ok"] else integrity[:20]
    facts["foreign_key_violations"] = len(violations)
    if integrity != ["ok"]:
        report.errors.append("数据库完整性检查未通过：" + "；".join(integrity[:5]))
    for table, rowid, parent, _fk in violations[:20]:
        report.errors.append(f"外键错误：表 {table} 第 {rowid} 行引用的 {parent} 记录不存在")
    if len(violations) > 20:
        report.errors.append(f"……共 {len(violations)} 处外键错误")
    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    facts["schema_revision"], facts["head_revision"] = current, head
    if current != head:
        report.errors.append(f"数据库结构版本为 {current}，程序要求 {head}")
