"""Database-level checks: the file itself (read-only), SQLite integrity, foreign keys, schema revision.

``file_problems`` looks at a database file the way ``townapp check`` must: as
something that may be damaged or foreign, opened read-only (``immutable`` when
no log is beside it) so that the check itself changes no byte and no mtime.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.sql import sqltypes

from townapp.core.errors import CheckReport, DomainError
from townapp.db import migrate
from townapp.db.backup import (
    SQLITE_HEADER,
    _connect_untrusted,
    sqlite_findings,
    unreadable,
    untrusted_problems,
)
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
        return ["数据库已损坏，" + unreadable(exc, path)]
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
    if integrity != ["ok"] and not any("完整性检查发现" in line for line in integrity):
        integrity = [sqlite_findings(integrity)]  # SQLite's English findings go to the log
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


# ----- stored values against the models' column types ------------------------------------
# A byte flipped inside a value no index holds passes integrity_check (the page is well formed),
# and so do values written by other tools: text where a number belongs, a date that is not one,
# bytes that are not UTF-8. SQLAlchemy fails on them later (ValueError, UnicodeDecodeError) in
# the middle of an export. Each table is scanned in SQL for type mismatches (one pass), and its
# text columns are read as bytes and decoded in batches (a second pass) for invalid UTF-8.
_DATETIME_PATTERNS = ("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]",
                      "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
                      ".[0-9][0-9][0-9][0-9][0-9][0-9]")
_UTF8_BATCH = 5000
MAX_VALUE_PROBLEMS = 50


def _kind(column_type: Any) -> str | None:
    """'integer', 'numeric', 'date', 'datetime' or 'text' for a SQLAlchemy type; None: not checked."""
    if isinstance(column_type, (sqltypes.Integer, sqltypes.Boolean)):
        return "integer"
    if isinstance(column_type, sqltypes.Numeric):
        return "numeric"
    if isinstance(column_type, sqltypes.DateTime):
        return "datetime"
    if isinstance(column_type, sqltypes.Date):
        return "date"
    if isinstance(column_type, sqltypes.String):
        return "text"
    return None


def _suspect_sql(name: str, kind: str) -> str | None:
    """An SQL condition true for a value that may not be of ``kind`` (NULL is always fine)."""
    c = f'"{name}"'
    if kind == "integer":
        return f"typeof({c}) NOT IN ('integer', 'null')"
    if kind == "numeric":
        return f"typeof({c}) NOT IN ('integer', 'real', 'null')"
    if kind == "text":
        return f"typeof({c}) = 'blob'"
    if kind == "date":
        return f"({c} IS NOT NULL AND NOT (typeof({c}) = 'text' AND date({c}) IS {c}))"
    if kind == "datetime":  # the strict pattern SQLAlchemy writes, with a real calendar date and time
        shapes = " OR ".join(f"{c} GLOB '{p}'" for p in _DATETIME_PATTERNS)
        return (f"({c} IS NOT NULL AND NOT (typeof({c}) = 'text' AND ({shapes}) "
                f"AND substr(datetime({c}), 1, 19) IS substr({c}, 1, 19)))")
    return None


def _shown(value: Any) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return f"“{text[:30]}”"


def _value_problem(value: Any, stored_type: str, kind: str) -> str | None:
    """What is wrong with one flagged value (None: SQLAlchemy reads it fine after all)."""
    if stored_type == "null":
        return None
    stored = {"blob": "二进制数据", "integer": f"整数 {value}", "real": f"小数 {value}"}.get(stored_type)
    if kind in ("integer", "numeric"):
        return f"应为{'整数' if kind == 'integer' else '数字'}，实际存的是{stored or '文字' + _shown(value)}"
    if kind == "text":
        return "应为文字，实际存的是二进制数据"
    label = "日期" if kind == "date" else "日期时间"
    if stored_type != "text":
        return f"应为{label}，实际存的是{stored}"
    try:  # other ISO spellings SQLAlchemy also reads (the strict SQL pattern only narrows the rows)
        (dt.date.fromisoformat if kind == "date" else dt.datetime.fromisoformat)(value.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return f"不是有效的{label}（{_shown(value)}）"
    return None


def _table_value_problems(con: sqlite3.Connection, table: Table, limit: int) -> list[str]:
    present = {row[1].decode() if isinstance(row[1], bytes) else row[1]
               for row in con.execute(f'PRAGMA table_info("{table.name}")')}
    kinds: dict[str, str] = {}
    for column in table.columns:
        kind = _kind(column.type)
        if kind is None or column.name not in present or _is_rowid(table, column):
            continue
        kinds[column.name] = kind
    problems: list[str] = []
    suspects = {name: sql for name, kind in kinds.items() if (sql := _suspect_sql(name, kind)) is not None}
    if suspects:
        names = list(suspects)
        select_list = ", ".join(f'({sql}), typeof("{n}"), "{n}"' for n, sql in suspects.items())
        where = " OR ".join(suspects.values())
        for row in con.execute(f'SELECT rowid, {select_list} FROM "{table.name}" WHERE {where} LIMIT {limit}'):
            for number, name in enumerate(names):
                flagged, stored_type, value = row[1 + 3 * number:4 + 3 * number]
                what = _value_problem(value, stored_type.decode(), kinds[name]) if flagged else None
                if what:
                    problems.append(f"表 {table.name} 第 {row[0]} 行的 {name} {what}")
    text_columns = [n for n, k in kinds.items() if k == "text"]
    if text_columns and len(problems) < limit:
        problems += _invalid_utf8(con, table.name, text_columns, limit - len(problems))
    return problems[:limit]


def _is_rowid(table: Table, column: Any) -> bool:
    """An INTEGER PRIMARY KEY is SQLite's rowid: always an integer, never worth a scan."""
    return column.primary_key and len(table.primary_key.columns) == 1 and isinstance(column.type, sqltypes.Integer)


def _invalid_utf8(con: sqlite3.Connection, table: str, columns: list[str], limit: int) -> list[str]:
    """Rows whose text is not valid UTF-8: each row's text columns joined in SQL, decoded per batch."""
    joined = " || char(0) || ".join(f"""ifnull(CASE WHEN typeof("{c}") = 'text' THEN "{c}" END, '')"""
                                    for c in columns)
    cursor = con.execute(f'SELECT rowid, {joined} FROM "{table}"')
    problems: list[str] = []
    while len(problems) < limit:
        batch = cursor.fetchmany(_UTF8_BATCH)
        if not batch:
            break
        try:
            b"\x00".join(row[1] for row in batch).decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        for rowid, data in batch:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                values = data.split(b"\x00")
                bad = [c for c, v in zip(columns, values, strict=False) if not _decodes(v)]
                problems.append(f"表 {table} 第 {rowid} 行的 {'、'.join(bad) or columns[0]} "
                                "含有无效的文字编码（不是 UTF-8，数据已损坏）")
    cursor.close()
    return problems[:limit]


def _decodes(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def stored_value_problems(con: sqlite3.Connection, tables: Iterable[Table],
                          limit: int = MAX_VALUE_PROBLEMS) -> list[str]:
    """Stored values the models' column types cannot hold, in Chinese (table, row id, column, what).

    ``con`` is read with a bytes text factory for the scan (restored after). Read-only.
    """
    previous = con.text_factory
    con.text_factory = bytes
    try:
        problems: list[str] = []
        for table in tables:
            if len(problems) >= limit:
                break
            problems += _table_value_problems(con, table, limit - len(problems))
        return problems
    finally:
        con.text_factory = previous


def refuse_damaged_for_export(db: Database, what: str) -> None:
    """Before an export that must hold every row (the sync package): ``quick_check`` (damaged pages or
    indexes) and ``foreign_key_check`` (a person whose village is gone would silently drop out of the joins).

    Raises DomainError naming the tables and counts; SQLite's own findings go to the log.
    """
    if db.server:  # PostgreSQL enforces every foreign key and checksums its pages itself (townapp check looks further)
        return
    advice = "请运行 townapp check 查看详情，或从备份恢复（townapp restore）。"
    try:
        with db.engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check")]
            if rows != ["ok"]:
                raise DomainError(f"数据库已损坏，没有导出{what}：{sqlite_findings(rows, 'SQLite 快速检查')}。{advice}")
            broken = conn.exec_driver_sql('SELECT "table", "parent", count(*) FROM pragma_foreign_key_check '
                                          'GROUP BY 1, 2 ORDER BY 1, 2').all()
    except SADatabaseError as exc:
        raise DomainError(f"数据库已损坏，没有导出{what}：{unreadable(exc.orig or exc, db.location)}。{advice}") from exc
    if broken:
        where = "；".join(f"表 {table} 有 {count} 行引用的 {parent} 记录不存在" for table, parent, count in broken[:10])
        raise DomainError(f"数据库的引用关系已损坏，没有导出{what}（这些行会从{what}中漏掉）：{where}。{advice}")
