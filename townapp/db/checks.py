"""Database-level checks: the file itself (read-only), SQLite integrity, foreign keys, schema revision.

``file_problems`` looks at a database file the way ``townapp check`` must: as
something that may be damaged or foreign, opened read-only (``immutable`` when
no log is beside it) so that the check itself changes no byte and no mtime.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import text

from townapp.core.errors import CheckReport
from townapp.db import migrate
from townapp.db.backup import SQLITE_HEADER, _connect_untrusted, untrusted_problems
from townapp.db.engine import Database

# SQLite's own tables, which no schema of ours declares
_SQLITE_INTERNAL = ("sqlite_",)


def _describe_foreign_bytes(head: bytes) -> str:
    """What a file that is not an SQLite database probably is, for the message."""
    if head.startswith(b"PK\x03\x04"):
        return "这是一个压缩包（或 xlsx/docx 文件），不是数据库"
    sample = head.rstrip(b"\x00")
    for encoding in ("utf-8", "gbk"):
        try:
            decoded = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        if all(ch.isprintable() or ch in "\r\n\t" for ch in decoded):
            return "这是一个文本文件（只是扩展名为 .db），不是数据库"
    return "不是 SQLite 数据库文件（内容无法识别：可能已损坏，或是别的文件改了扩展名）"


def _truncation(path: Path, head: bytes) -> str | None:
    """A file shorter than its header says (copy cut short, pulled USB stick)."""
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    size = path.stat().st_size
    if page_size < 512 or page_size & (page_size - 1):
        return "文件头已损坏（页大小无效）"
    if size % page_size:
        return f"文件不完整（大小 {size} 字节不是页大小 {page_size} 的整数倍，可能复制时被截断）"
    change_counter, valid_for = head[24:28], head[92:96]
    pages = int.from_bytes(head[28:32], "big")
    if change_counter == valid_for and pages and pages * page_size > size:
        return f"文件不完整（应有 {pages * page_size} 字节，只有 {size} 字节，可能复制时被截断）"
    return None


def file_problems(path: Path | str, expected_tables: Iterable[str] = ()) -> list[str]:
    """Everything wrong with the file at ``path`` as a townapp database; empty if it may be checked further.

    Never writes. ``expected_tables``: the tables our schema creates (the composition
    root knows them); compared with the file when it is at the code's revision.
    """
    path = Path(path)
    if not path.exists():
        return [f"数据库文件不存在：{path}"]
    if path.is_dir():
        return [f"{path} 是文件夹，不是数据库文件"]
    if path.stat().st_size == 0:
        return ["文件是空的（0字节），不是数据库"]
    try:
        with open(path, "rb") as handle:
            head = handle.read(100)
    except OSError as exc:
        return [f"无法读取文件：{exc.strerror or exc}"]
    if head[:16] != SQLITE_HEADER:
        return [_describe_foreign_bytes(head)]
    if len(head) < 100:
        return ["文件不完整（连文件头都不全），不是可用的数据库"]
    cut = _truncation(path, head)
    if cut:
        return [cut]
    # integrity, application_id, triggers/views, revision (foreign keys: database_checks names each one)
    problems = untrusted_problems(path, foreign_keys=False)
    if problems:
        return ["数据库已损坏，" + p if p.startswith(("无法读取", "完整性检查未通过")) else p for p in problems]
    return _schema_problems(path, set(expected_tables))


def _schema_problems(path: Path, expected: set[str]) -> list[str]:
    """Tables missing from, or foreign to, the schema of this revision (only at the head revision)."""
    if not expected:
        return []
    try:
        con = _connect_untrusted(path)
        try:
            revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return [f"数据库已损坏，无法读取：{exc}"]
    if revision is None or revision[0] != migrate.head_revision():
        return []  # an older revision: database_checks says it needs upgrading
    tables = {t for t in tables if not t.startswith(_SQLITE_INTERNAL)} - {migrate.VERSION_TABLE}
    missing, extra = sorted(expected - tables), sorted(tables - expected)
    problems = []
    if missing:
        problems.append("缺少 townapp 的数据表：" + "、".join(missing[:10]) + "（数据库不完整或被改动过）")
    if extra:
        problems.append("含有 townapp 不会建立的数据表：" + "、".join(extra[:10]) + "（可能是别的程序的文件或被改动过）")
    return problems


def database_checks(db: Database, report: CheckReport, facts: dict) -> None:
    with db.engine.connect() as conn:
        if "integrity" in facts:  # file_problems ran integrity_check on this very file a moment ago
            integrity = ["ok"] if facts["integrity"] == "ok" else list(facts["integrity"])
        else:
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
